"""Ctrl-C at any moment of a program's start-up ends it: status 130, one line, no
traceback. It once landed in a garbage-collection callback while JAX was imported
("Exception ignored in: _xla_gc_callback"), and the run trained on to its end, exit 0."""

import concurrent.futures
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest
from helpers import once

ROOT = pathlib.Path(__file__).resolve().parents[1]
FIT = "--image-size 32 --pairs 8 --batch-size 2 --ngf 4 --ndf 4 --patch 16 --epochs 200"
BACKENDS = ("jax", "tensorflow", "torch")
TRIES = 20
# From the interpreter's start through the imports (Keras, then the backend: 1 to 6 s
# here), the run folder's set-up, and the first compilation.
DELAYS = [0.15 + i * 0.3 for i in range(TRIES)]


def interrupted_at(delay, out, backend):
    """(status, stderr) of a fit sent SIGINT `delay` seconds after it was started."""
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "pix2pix_k3.fit", *FIT.split(), "--out", str(out)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(delay)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    return process.returncode, stderr


def tries(backend, folder):
    """What went wrong in `TRIES` interrupted starts on `backend` (empty: nothing)."""
    wrong = []
    for i, delay in enumerate(DELAYS):
        status, stderr = interrupted_at(delay, folder / f"{backend}{i}", backend)
        lines = [line for line in stderr.splitlines() if line.strip()]
        last = lines[-1] if lines else ""
        if status != 130 or not last.startswith("interrupted: ") or "Traceback" in stderr:
            wrong.append(f"{backend} at {delay:.2f} s: status {status}, stderr {stderr[-600:]!r}")
        elif "Exception ignored" in stderr:
            wrong.append(f"{backend} at {delay:.2f} s: {stderr[-600:]!r}")
    return wrong


@once
@pytest.mark.slow
def test_ctrl_c_anywhere_in_start_up_ends_fit_with_130_and_one_line(tmp_path):
    """20 starts per backend, the three backends side by side (the load moves the
    moments around, which is the point)."""
    with concurrent.futures.ThreadPoolExecutor(len(BACKENDS)) as pool:
        wrong = sum(pool.map(tries, BACKENDS, [tmp_path] * len(BACKENDS)), [])
    assert not wrong, "\n".join(wrong)
