"""The suite's self-test travels with the package: `python -m pix2pix_spec --self-test`,
run from a wheel built from `spec/` and installed apart from the repository, with Keras
made unimportable, passes its reference on every requirement, passes the benign variants
of its step (G run twice, losses logged again, pairs recorded image first) and catches
every mutant.

Runs in the torch backend's pass only: it is about the suite, not about a backend.
"""

import importlib.util
import os
import subprocess
import sys

import keras
import pytest
from pix2pix_spec.catalogue import REQUIREMENTS
from spec_runs import ROOT

pytestmark = [
    pytest.mark.skipif(keras.backend.backend() != "torch", reason="runs in the torch pass"),
    pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch not installed"),
]

NO_KERAS = """import pathlib
pathlib.Path({marker!r}).write_text("imported")
raise ImportError("the self-test imported keras")
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A folder holding pix2pix_spec installed from a freshly built wheel, and a folder
    whose `keras` notes any import of it."""
    folder = tmp_path_factory.mktemp("wheel")
    build = [sys.executable, "-m", "pip", "wheel", str(ROOT / "spec"), "--no-deps",
             "--no-build-isolation", "-q", "-w", str(folder / "dist")]  # fmt: skip
    subprocess.run(build, check=True, capture_output=True, timeout=300, cwd=folder)
    (wheel,) = (folder / "dist").glob("pix2pix_spec-*.whl")
    install = [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
               str(folder / "site"), str(wheel)]  # fmt: skip
    subprocess.run(install, check=True, capture_output=True, timeout=300)
    (folder / "poison" / "keras").mkdir(parents=True)
    marker = folder / "keras-imported"
    (folder / "poison" / "keras" / "__init__.py").write_text(NO_KERAS.format(marker=str(marker)))
    return folder, marker


def self_test(folder, *arguments):
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(folder / "site"), str(folder / "poison")]),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2"),
    }
    where = "import pix2pix_spec; print('from', pix2pix_spec.__file__)"
    done = subprocess.run([sys.executable, "-c", where], env=environment, cwd=folder,
                          capture_output=True, text=True, check=True)  # fmt: skip
    command = [sys.executable, "-m", "pix2pix_spec", "--self-test", *arguments]
    run = subprocess.run(
        command, env=environment, cwd=folder, capture_output=True, text=True, timeout=1800
    )
    return done.stdout + run.stdout + run.stderr, run.returncode


def test_the_installed_self_test_passes_its_reference_and_catches_every_mutant(installed):
    from pix2pix_spec.selftest.mutants import BENIGN, EXPECTED  # imports torch

    folder, marker = installed
    output, code = self_test(folder)
    assert f"from {folder / 'site'}" in output, f"not the installed copy:\n{output}"
    assert code == 0, output[-6000:]
    assert f"the reference passes all {len(REQUIREMENTS)} requirements" in output, output
    assert f"{len(EXPECTED)} of {len(EXPECTED)} mutants caught" in output, output
    assert f"{len(BENIGN)} of {len(BENIGN)} benign variants pass" in output, output
    for name, (requirement, _) in EXPECTED.items():
        assert f"{name} " in output and f"{requirement} FAIL" in output
    assert not marker.exists(), "the self-test imported keras"


def test_a_mutant_the_suite_misses_fails_the_self_test(installed, monkeypatch):
    """The self-test is not a formality: a mutant whose deviation is no deviation (its
    expected requirement passes) makes it exit non-zero and say so."""
    folder, _ = installed
    mutants = folder / "site" / "pix2pix_spec" / "selftest" / "mutants.py"
    text = mutants.read_text()
    harmless = text.replace(
        "        return 2 * super().discriminator_loss(real_outputs, fake_outputs)",
        "        return super().discriminator_loss(real_outputs, fake_outputs)",
    )
    assert harmless != text
    mutants.write_text(harmless)
    try:
        output, code = self_test(folder, "DNotHalved", "NoMirror")
    finally:
        mutants.write_text(text)
    assert code == 1, output
    assert "DNotHalved" in output and "OBJ-1 is pass: the suite cannot see" in output, output
    assert "1 of 2 mutants caught" in output, output


def test_without_torch_the_self_test_says_what_to_install(tmp_path):
    """Was an ImportError from the mutants module: the reference's framework is checked
    first, and its absence named with the install command."""
    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "__init__.py").write_text("raise ImportError('no torch here')\n")
    environment = {**os.environ, "PYTHONPATH": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "pix2pix_spec", "--self-test"], cwd=tmp_path,
                          env=environment, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 4, done.stdout + done.stderr
    assert "(torch missing): pip install 'pix2pix-spec[self-test]'" in done.stdout, done.stdout


INTERRUPTIBLE = """import signal, sys
signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal
from pix2pix_spec.__main__ import main
sys.exit(main(["--self-test", "NoMirror", "AlwaysMirror", "RareMirror", "CentreCrop"]))
"""


def test_ctrl_c_stops_the_self_test_and_its_suite_processes(tmp_path):
    """Was a traceback from the thread pool, and the queued suite runs went on."""
    import signal
    import time

    process = subprocess.Popen(
        [sys.executable, "-c", INTERRUPTIBLE],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    time.sleep(4)  # the first suite processes are running
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 130, output
    assert "interrupted after" in output and "Traceback" not in output, output
    pattern = "selftest.mutants:(NoMirror|AlwaysMirror|RareMirror|CentreCrop)"
    left = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True)
    assert not left.stdout.strip(), f"suite processes left running: {left.stdout}"
