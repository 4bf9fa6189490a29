"""`fit --data-parallel`: Keras' DataParallel on JAX, checked on two simulated CPU devices."""

import json
import os
import pathlib
import subprocess
import sys

import keras
import pytest

from pix2pix_k3.fit import main

SUPPORT = pathlib.Path(__file__).resolve().parent / "support"
TWO_DEVICES = {
    **os.environ,
    "KERAS_BACKEND": "jax",
    "XLA_FLAGS": "--xla_force_host_platform_device_count=2",
    "TF_CPP_MIN_LOG_LEVEL": "3",
}
TINY_RUN = "--image-size 32 --pairs 8 --ngf 8 --ndf 8 --patch 16 --epochs 1 --verbose 0".split()
jax_only = pytest.mark.skipif(
    keras.backend.backend() != "jax", reason="runs in the jax pass (DataParallel is JAX's)"
)


def run(command):
    return subprocess.run(command, env=TWO_DEVICES, capture_output=True, text=True, timeout=600)


@jax_only
def test_one_step_on_two_devices_updates_the_weights_as_one_device_does():
    done = run([sys.executable, str(SUPPORT / "data_parallel_step.py")])
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["devices"] == 2 and result["weight_devices"] == 2  # replicated weights
    # Under DataParallel XLA computes the same global-batch step, BatchNorm statistics
    # included (it all-reduces the batch moments), so only summation order differs:
    # float32 rounding, far below the step's own size.
    assert result["max_step"] > 1e-4
    assert result["max_difference"] < 1e-5, result
    assert result["g_loss"][0] == pytest.approx(result["g_loss"][1], rel=1e-5)


@jax_only
def test_fit_data_parallel_trains_and_refuses_a_batch_that_does_not_split(tmp_path):
    fit = [sys.executable, "-m", "pix2pix_k3.fit", *TINY_RUN, "--data-parallel"]
    done = run([*fit, "--batch-size", "4", "--out", str(tmp_path / "run")])
    assert done.returncode == 0, done.stderr[-3000:]
    assert "on 2 devices" in done.stdout
    assert (tmp_path / "run" / "checkpoints" / "latest.keras").is_file()

    refused = run([*fit, "--batch-size", "3", "--out", str(tmp_path / "odd")])
    assert refused.returncode != 0
    assert "--batch-size 3 must be a multiple of 2" in refused.stderr
    assert "Traceback" not in refused.stderr and not (tmp_path / "odd").exists()


@pytest.mark.skipif(keras.backend.backend() == "jax", reason="the other backends refuse it")
def test_data_parallel_is_refused_with_advice_on_other_backends(tmp_path):
    with pytest.raises(SystemExit, match="jax backend only.*tf.distribute and torch DDP"):
        main([*TINY_RUN, "--data-parallel", "--out", str(tmp_path / "run")])
    assert not (tmp_path / "run").exists()
