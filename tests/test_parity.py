"""Same initial weights, same batch: the same losses and updated weights on jax,
tensorflow and torch after one train step (dropout off), within 1e-4 relative."""

import importlib.util
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from pix2pix_k3.parity import one_step

BACKENDS = ("jax", "tensorflow", "torch")
RTOL = 1e-4
# Adam's first step moves a weight by lr * g / (|g| + eps), lr = 2e-4: for a gradient
# near eps, float32 rounding of g becomes a visible difference. Measured: 3 to 5 of
# 69,368 weights exceed 1e-4 relative, by at most 8.2e-7 absolute (0.4% of a step).
ATOL = 2e-6  # 1% of the step
MAX_OUTSIDE_RTOL = 1 / 2000  # fraction of weights allowed to need ATOL


@pytest.fixture(scope="module")
def current():
    return one_step()


def run_elsewhere(backend, tmp_path):
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"the {backend} backend is not installed")
    out = tmp_path / f"{backend}.npz"
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run(
        [sys.executable, "-m", "pix2pix_k3.parity", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"{backend} step failed:\n{done.stderr[-3000:]}"
    with np.load(out) as data:
        return dict(data)


def test_the_step_moves_every_weight(current):
    """Guards the comparison below from passing on a step that did nothing."""
    trainable_moved = [
        key
        for key in current
        if not key.startswith(("initial:", "loss:"))
        and not np.array_equal(current[key], current[f"initial:{key}"])
    ]
    assert len(trainable_moved) > 0.9 * sum(1 for key in current if key.startswith("initial:"))


@pytest.mark.parametrize("other", BACKENDS)
def test_one_step_matches_the_other_backends(current, other, tmp_path):
    if other == keras.backend.backend():
        pytest.skip("same backend")
    theirs = run_elsewhere(other, tmp_path)
    assert set(theirs) == set(current)
    pair = f"{keras.backend.backend()} vs {other}"
    losses = sorted(key for key in current if key.startswith("loss:"))
    for key in losses:
        assert current[key] == pytest.approx(theirs[key], rel=1e-5), f"{key}: {pair}"
    weights = sorted(key for key in current if key[0].isdigit())
    outside = total = 0
    for key in weights:
        ours, other_values = current[key], theirs[key]
        np.testing.assert_allclose(
            ours, other_values, rtol=RTOL, atol=ATOL, err_msg=f"{key}: {pair}"
        )
        outside += int(np.sum(np.abs(ours - other_values) > RTOL * np.abs(other_values)))
        total += ours.size
    assert outside <= MAX_OUTSIDE_RTOL * total, (
        f"{outside} of {total} weights beyond {RTOL}: {pair}"
    )
