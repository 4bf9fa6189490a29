"""The specification suite has teeth: each known bug class, planted in a copy of our
own adapter (`spec_mutants.py`), fails the requirement that describes it.

Each mutant runs in its own pytest process (`--impl tests/spec_mutants.py:Name`), on
the test that must catch it, two processes at a time (each keeps about one core busy).
The mutants are about the suite, not about a backend, so they run under one backend
unless PIX2PIX_MUTANTS_ALL_BACKENDS=1.
"""

import os
import pathlib
import re
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from concurrent.futures import ThreadPoolExecutor

import keras
import pytest
from spec_mutants import EXPECTED

ROOT = pathlib.Path(__file__).resolve().parents[1]
MUTANT_BACKEND = "tensorflow"
PROCESSES = 2

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != MUTANT_BACKEND
    and not os.environ.get("PIX2PIX_MUTANTS_ALL_BACKENDS"),
    reason=f"the mutants run under {MUTANT_BACKEND} (PIX2PIX_MUTANTS_ALL_BACKENDS=1: all)",
)


def run_spec(impl, test, tmp_path):
    """{test id: failure message or None} of one specification test run against `impl`."""
    report = tmp_path / "report.xml"
    command = [
        sys.executable, "-m", "pytest", f"tests/spec/{test}", "--impl", impl,
        "-p", "no:cacheprovider", "-q", f"--junitxml={report}",
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert report.is_file(), f"the suite did not run:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
    results = {}
    for case in ElementTree.parse(report).iter("testcase"):
        failure = case.find("failure")
        results[case.get("name")] = None if failure is None else failure.get("message", "")
    return results, done.stdout


@pytest.fixture(scope="module")
def spec_runs(request, tmp_path_factory):
    """{mutant: run_spec's answer} for the mutants selected in this session."""
    selected = sorted(
        {
            item.callspec.params["mutant"]
            for item in request.session.items
            if item.module is request.module and hasattr(item, "callspec")
        }
    )

    def run(mutant):
        test = EXPECTED[mutant][1]
        return run_spec(f"tests/spec_mutants.py:{mutant}", test, tmp_path_factory.mktemp(mutant))

    with ThreadPoolExecutor(max_workers=PROCESSES) as pool:
        return dict(zip(selected, pool.map(run, selected), strict=True))


@pytest.mark.parametrize("mutant", sorted(EXPECTED))
def test_each_planted_bug_fails_its_requirement(mutant, spec_runs):
    requirement, test = EXPECTED[mutant]
    results, output = spec_runs[mutant]
    name = test.split("::")[1]
    assert name in results, f"{test} did not run against {mutant}:\n{output[-3000:]}"
    message = results[name]
    assert message is not None, f"{mutant} passed {test}: the suite cannot see this bug"
    assert f"{requirement}:" in message, (
        f"{mutant} failed {test} but not as {requirement}: {message}"
    )
    table_row = re.search(rf"^{requirement}\s+FAIL\b", output, flags=re.MULTILINE)
    assert table_row, (
        f"the requirement table does not show {requirement} failing:\n{output[-2000:]}"
    )
