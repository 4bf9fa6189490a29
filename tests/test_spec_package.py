"""pix2pix-spec installs as a light distribution of its own: numpy, pytest and hypothesis,
no Keras and no deep-learning framework; `python -m pix2pix_spec` refuses to run blind."""

import importlib.metadata
import os
import re
import subprocess
import sys

import pix2pix_spec
from spec_runs import ROOT


def names(requirements):
    return {
        re.split(r"[<>=!~ ;\[]", requirement, maxsplit=1)[0].lower() for requirement in requirements
    }


def test_the_suite_depends_on_numpy_pytest_and_hypothesis_only():
    """...and its self-test, an extra, on torch and pillow (the reference pix2pix)."""
    requirements = importlib.metadata.requires("pix2pix-spec") or []
    core = [requirement for requirement in requirements if "extra ==" not in requirement]
    extra = [requirement for requirement in requirements if "extra ==" in requirement]
    assert names(core) == {"numpy", "pytest", "hypothesis"}, requirements
    assert names(extra) == {"torch", "pillow"}, requirements
    assert all('extra == "self-test"' in requirement for requirement in extra), requirements


def test_the_suite_registers_its_pytest_plugin():
    entry_points = importlib.metadata.entry_points(group="pytest11")
    assert "pix2pix_spec.plugin" in {entry.value for entry in entry_points}


def test_the_version_of_the_requirement_set_is_stated():
    assert pix2pix_spec.REQUIREMENTS_VERSION and pix2pix_spec.__version__


def test_without_an_adapter_it_says_what_to_pass():
    done = subprocess.run(
        [sys.executable, "-m", "pix2pix_spec"], cwd=ROOT, capture_output=True, text=True,
        env={k: v for k, v in os.environ.items() if k != "PIX2PIX_IMPL"}, timeout=120,
    )  # fmt: skip
    assert done.returncode == 4 and "--impl" in done.stdout, done.stdout + done.stderr


def test_a_broken_adapter_is_refused_with_its_reason(tmp_path):
    (tmp_path / "bad.py").write_text("class Bad:\n    capabilities = {'generator'}\n")
    done = subprocess.run(
        [sys.executable, "-m", "pix2pix_spec", "--impl", f"{tmp_path / 'bad.py'}:Bad", "-q"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 4, done.stdout + done.stderr
    assert "declares 'generator' but has no image_sizes" in done.stdout + done.stderr
