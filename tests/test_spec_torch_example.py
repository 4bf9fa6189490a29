"""The adapter protocol works for another framework: the plain-PyTorch pix2pix in
`examples/torch_pix2pix/` meets every requirement, with no Keras imported.

Runs in the torch backend's pass only: it is about the example, not about a backend.
"""

import importlib.util
import subprocess
import sys

import keras
import pytest
from spec_runs import ROOT, run_suite

IMPL = "examples/torch_pix2pix/adapter.py:TorchPix2Pix"


@pytest.mark.skipif(keras.backend.backend() != "torch", reason="runs in the torch pass")
@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch is not installed")
def test_the_pytorch_example_meets_every_requirement():
    arguments = ["--impl", IMPL, "-q", "--color=no"]
    code = (
        "import sys; from pix2pix_spec.__main__ import main; "
        f"code = main({arguments!r}); "
        "print('keras imported:', 'keras' in sys.modules); sys.exit(code)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    table = done.stdout.split("pix2pix requirements", 1)[1]
    assert "FAIL" not in table and "skipped" not in table, table
    assert table.count(" pass ") >= 27, table
    assert "keras imported: False" in done.stdout


REVERSED = """
import sys
sys.path.insert(0, {folder!r})
from adapter import Trainer, TorchPix2Pix, to_numpy


class ReversedTrainer(Trainer):
    def note_call(self, module, inputs, output):
        condition, image = inputs
        self.calls.append((to_numpy(image), to_numpy(condition), to_numpy(output)))


class ReversedRecord(TorchPix2Pix):
    def trainer(self, image_size):
        return ReversedTrainer(type(super().trainer(image_size).model)(image_size))
"""


@pytest.mark.skipif(keras.backend.backend() != "torch", reason="runs in the torch pass")
@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch is not installed")
def test_pairs_recorded_as_image_then_condition_are_named_not_failed(tmp_path):
    """Was a false conditioning FAIL: a D taking (image, condition) everywhere is read
    swapped, with a note, and only a mixed order fails."""
    folder = ROOT / "examples" / "torch_pix2pix"
    (tmp_path / "reversed.py").write_text(REVERSED.format(folder=str(folder)))
    run = run_suite(f"{tmp_path / 'reversed.py'}:ReversedRecord", tmp_path, "--only",
                    "OBJ-1,OBJ-2,OBJ-3,OBJ-4")  # fmt: skip
    assert set(run.verdicts().values()) == {"pass"}, run.tail
    assert "recorded as (image, condition)" in run.detail("OBJ-3")
