"""`fit --dtype-policy`: mixed precision trains like float32, with float32 losses."""

import csv
import math

import keras
import pytest

from pix2pix_k3.fit import main

TINY_RUN = "--image-size 32 --pairs 16 --batch-size 4 --ngf 8 --ndf 8 --epochs 2".split()
TINY_RUN += ["--samples", "2", "--verbose", "0"]
LOGGED = ("g_loss", "g_l1", "g_gan", "d_loss", "val_g_l1")


def last_logs(out):
    with open(out / "history.csv") as file:
        return {key: float(value) for key, value in list(csv.DictReader(file))[-1].items()}


@pytest.fixture(scope="module")
def float32_logs(tmp_path_factory):
    out = tmp_path_factory.mktemp("float32") / "run"
    main([*TINY_RUN, "--out", str(out)])
    return last_logs(out)


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_a_mixed_precision_fit_is_finite_and_close_to_float32(tmp_path, policy, float32_logs):
    main([*TINY_RUN, "--dtype-policy", policy, "--out", str(tmp_path / policy)])
    runs = {"float32": float32_logs, policy: last_logs(tmp_path / policy)}
    assert keras.config.dtype_policy().name == "float32"  # the caller's policy is back

    # Same seed, so same initial weights and data: only rounding separates the runs.
    # 8 steps in 16-bit arithmetic move the losses by up to ~1% (float16) and ~0.1%
    # (bfloat16) here; a step that forgot to scale or unscale moves them by far more.
    for key in LOGGED:
        mixed, full = runs[policy][key], runs["float32"][key]
        assert math.isfinite(mixed), f"{key} is {mixed} under {policy}"
        assert abs(mixed - full) <= 0.02 * abs(full), (
            f"{key}: {mixed:.4f} under {policy}, {full:.4f} in float32"
        )

    model = keras.saving.load_model(tmp_path / policy / "checkpoints" / "latest.keras")
    conv = model.generator.get_layer("encoder2_C16").conv
    assert conv.dtype_policy.name == policy
    assert conv.kernel.dtype == "float32"  # weights stay in float32
    scaled = isinstance(model.g_optimizer, keras.optimizers.LossScaleOptimizer)
    assert scaled == (policy == "mixed_float16")
