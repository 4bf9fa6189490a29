"""The tutorials' ablations (`pix2pix_k3.course.ablations`): what each measure means, and
an ablation that trains its arms once per seed and reports mean ± spread over them."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from pix2pix_k3.course import ablations  # noqa: E402
from pix2pix_k3.course.ablations import Ablation, sharpness, variety  # noqa: E402

images = st.integers(0, 2**32 - 1).map(
    lambda seed: np.random.default_rng(seed).uniform(-1, 1, (4, 8, 8, 3))
)


@settings(max_examples=25, deadline=None)
@given(images, st.floats(0.1, 10))
def test_variety_is_zero_for_one_picture_and_scales_with_the_differences(pictures, factor):
    assert variety(np.repeat(pictures[:1], 4, axis=0)) == 0
    assert variety(pictures * factor) == pytest.approx(factor * variety(pictures))


def test_variety_is_the_mean_distance_between_two_different_pictures():
    pictures = np.stack([np.zeros((2, 2, 1)), np.ones((2, 2, 1)), np.full((2, 2, 1), 3.0)])
    assert variety(pictures) == pytest.approx((1 + 3 + 2) / 3)


@settings(max_examples=25, deadline=None)
@given(images)
def test_blurring_lowers_sharpness_and_a_flat_picture_has_none(pictures):
    blurred = (pictures + np.roll(pictures, 1, axis=1) + np.roll(pictures, 1, axis=2)) / 3
    assert sharpness(blurred) < sharpness(pictures)
    assert sharpness(np.full_like(pictures, 0.3)) == 0


def test_a_scale_that_does_not_exist_is_named(monkeypatch):
    monkeypatch.setenv("PIX2PIX_TUTORIAL_SCALE", "huge")
    with pytest.raises(ValueError, match="PIX2PIX_TUTORIAL_SCALE=huge: use one of tutorial"):
        Ablation({"l1": ["--loss", "l1"]})


def test_each_run_is_a_fit_command_with_the_arms_flags_and_its_seed(monkeypatch, tmp_path):
    monkeypatch.setenv("PIX2PIX_TUTORIAL_SCALE", "tutorial")
    ablation = Ablation({"U-Net, L1": ["--loss", "l1"]}, folder=tmp_path)
    assert ablation.seeds == (0, 1, 2)
    assert ablation.command("U-Net, L1", 2) == [
        *ablations.SCALES["tutorial"], "--loss", "l1", "--seed", "2",
        "--out", str(tmp_path / "U-Net_L1_seed2"),
    ]  # fmt: skip


def test_an_ablation_trains_every_arm_per_seed_and_reports_mean_and_spread_over_seeds(
    monkeypatch, tmp_path, capsys
):
    monkeypatch.setenv("PIX2PIX_TUTORIAL_SCALE", "smoke")
    small = ["--pairs", "8", "--image-size", "32", "--patch", "16"]
    ablation = Ablation({"gan": ["--loss", "gan", *small]}, seeds=(0, 1), folder=tmp_path)
    ablation.train()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["gan_seed0", "gan_seed1"]
    l1 = ablation.values("gan", "l1")
    assert l1.shape == (2,) and l1[0] != l1[1]  # two seeds, two models
    assert all(0 < ablation.values("gan", name).min() < 10 for name in ablations.MEASURES)
    capsys.readouterr()
    ablation.table(("l1",))
    row = capsys.readouterr().out.splitlines()[1]
    assert row.split()[1:] == [f"{l1.mean():.3f}", "±", f"{np.std(l1, ddof=1):.3f}"]
    assert len(ablation.plot(("l1", "variety")).axes) == 2
    assert len(ablation.compare(count=2).axes) == 2 * 3  # input, target, one arm
    own, another = ablations.judged_real(tmp_path / "gan_seed0")
    # an unconditional D never sees the input: equal but for the order of summation
    assert 0 < own < 1 and own == pytest.approx(another, rel=1e-12, abs=0)
