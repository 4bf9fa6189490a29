"""One train step on two simulated CPU devices beside the same step on one device.

Run by `test_data_parallel.py` in a fresh process, because XLA's device count is fixed
when JAX starts. Prints one JSON line: the largest weight difference between the two
updated models (BatchNorm's moving statistics included), the largest change the step
made, and how many devices the weights live on.
"""

import json
import os
import sys

os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
os.environ["KERAS_BACKEND"] = "jax"

import keras  # noqa: E402
import numpy as np  # noqa: E402

from pix2pix_k3 import build_pix2pix  # noqa: E402


def one_step(distribution, x, y):
    """(weights before, weights after, logs) of one step under `distribution`."""
    keras.distribution.set_distribution(distribution)
    keras.utils.set_random_seed(0)  # same weights and dropout seeds in both models
    model = build_pix2pix(32, ngf=8, ndf=8, receptive_field=16)
    model.compile()
    before = [np.asarray(w) for w in model.get_weights()]
    logs = model.train_on_batch(x, y, return_dict=True)
    devices = len(model.generator.trainable_variables[0].value.sharding.device_set)
    return before, model.get_weights(), logs, devices


def main():
    rng = np.random.default_rng(0)
    x, y = (rng.uniform(-1, 1, (4, 32, 32, 3)).astype("float32") for _ in "xy")
    before, single, single_logs, _ = one_step(None, x, y)
    _, parallel, parallel_logs, devices = one_step(keras.distribution.DataParallel(), x, y)
    print(
        json.dumps(
            {
                "devices": len(keras.distribution.list_devices()),
                "weight_devices": devices,
                "max_difference": max(
                    float(np.abs(a - b).max()) for a, b in zip(single, parallel, strict=True)
                ),
                "max_step": max(
                    float(np.abs(a - b).max()) for a, b in zip(single, before, strict=True)
                ),
                "g_loss": [float(single_logs["g_loss"]), float(parallel_logs["g_loss"])],
            }
        )
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
