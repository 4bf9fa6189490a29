"""`pix2pix_spec.check(adapter)` runs the suite in the calling process on an adapter
object (a notebook's, a course's), and a second call starts from nothing but its own
adapter. Run in a fresh process, as a notebook kernel would; the torch pass (the
adapters are the suite's PyTorch reference and one of its mutants)."""

import importlib.util
import subprocess
import sys

import keras
import pytest

pytestmark = [
    pytest.mark.skipif(keras.backend.backend() != "torch", reason="runs in the torch pass"),
    pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch not installed"),
]

SCRIPT = """
import pix2pix_spec
from pix2pix_spec.selftest.adapter import TorchPix2Pix
from pix2pix_spec.selftest.mutants import NoMirror

def verdicts(rows):
    return {row["id"]: row["verdict"] for row in rows}

rows = pix2pix_spec.check(TorchPix2Pix(), only=["DAT-4", "OBJ-1"], quiet=True)
print("reference", verdicts(rows))
rows = pix2pix_spec.check(NoMirror, only=["DAT-4"], quiet=True)
print("mutant", verdicts(rows), rows[0]["detail"])

class Broken:
    capabilities = {"flying"}

try:
    pix2pix_spec.check(Broken())
except pix2pix_spec.AdapterError as error:
    print("refused:", error)
"""


def test_two_in_process_checks_each_read_their_own_adapter(tmp_path):
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600)  # fmt: skip
    out = done.stdout
    assert done.returncode == 0, out + done.stderr[-3000:]
    assert "reference {'DAT-4': 'pass', 'OBJ-1': 'pass'}" in out, out
    assert "mutant {'DAT-4': 'FAIL'} DAT-4:" in out and "0 of 100 draws were mirrored" in out, out
    assert "refused:" in out and "unknown capabilities ['flying']" in out, out
