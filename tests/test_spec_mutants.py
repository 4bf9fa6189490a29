"""The specification suite reads Keras code as well as torch code: each deviation whose
detection goes through a Keras network or a Keras/TensorFlow step, planted in a copy of
our own adapter (`spec_mutants.py`), fails the requirement that describes it, with a
message that names it. (Every known deviation is planted in the suite's PyTorch
reference by its self-test: `test_spec_selftest.py`.)

Each mutant runs in its own suite process (`--impl tests/support/spec_mutants.py:Name --only ID`),
three processes at a time. The mutants are about the suite, not about a backend, so they
run under one backend unless PIX2PIX_MUTANTS_ALL_BACKENDS=1.
"""

import os
from concurrent.futures import ThreadPoolExecutor

import keras
import pytest
from spec_mutants import EXPECTED
from spec_runs import run_suite

MUTANT_BACKEND = "tensorflow"  # SimultaneousUpdate's step is written with tf.GradientTape
PROCESSES = 3  # each is mostly imports on one core; a third fills the gaps

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != MUTANT_BACKEND
    and not os.environ.get("PIX2PIX_MUTANTS_ALL_BACKENDS"),
    reason=f"the mutants run under {MUTANT_BACKEND} (PIX2PIX_MUTANTS_ALL_BACKENDS=1: all)",
)


@pytest.fixture(scope="module")
def suite_runs(request, tmp_path_factory):
    """{mutant: SuiteRun} for the mutants selected in this session, each run on the one
    requirement that must catch it."""
    selected = sorted(
        {
            item.callspec.params["mutant"]
            for item in request.session.items
            if item.module is request.module and hasattr(item, "callspec")
        }
    )

    folders = {mutant: tmp_path_factory.mktemp(mutant) for mutant in selected}

    def run(mutant):
        requirement = EXPECTED[mutant][0]
        impl = f"tests/support/spec_mutants.py:{mutant}"
        return run_suite(impl, folders[mutant], "--only", requirement)

    with ThreadPoolExecutor(max_workers=PROCESSES) as pool:
        return dict(zip(selected, pool.map(run, selected), strict=True))


@pytest.mark.parametrize("mutant", sorted(EXPECTED))
def test_each_planted_deviation_fails_its_requirement(mutant, suite_runs):
    requirement, phrase = EXPECTED[mutant]
    run = suite_runs[mutant]
    assert requirement in run.rows, f"{requirement} did not run against {mutant}:\n{run.tail}"
    verdict, detail = run.rows[requirement]["verdict"], run.detail(requirement)
    assert verdict == "FAIL", f"{mutant}: {requirement} is {verdict}, the suite cannot see it"
    assert detail.startswith(f"{requirement}:"), (
        f"{mutant} failed, but not as {requirement}: {detail}"
    )
    if phrase:
        assert phrase in detail, f"{mutant}: the message does not say {phrase!r}: {detail}"
    assert f"{requirement} FAIL" in " ".join(run.output.split()), (
        f"the printed requirement table does not show {requirement} failing:\n{run.tail}"
    )
