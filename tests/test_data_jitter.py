"""Pair-consistent jitter (section 6.2): properties on hypothesis-drawn pairs and seeds."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from pix2pix_k3.data.images import to_model_range, to_uint8
from pix2pix_k3.data.jitter import jitter_draw, pair_jitter, resize

seeds = st.integers(0, 2**32 - 1)


@st.composite
def jitter_cases(draw):
    """An image (H, W, C) with load/crop sizes that make a real jitter."""
    crop = draw(st.integers(4, 24))
    load = draw(st.integers(crop, crop + 8))
    height, width = draw(st.integers(4, 40)), draw(st.integers(4, 40))
    channels = draw(st.sampled_from([1, 3, 4]))
    image = draw(hnp.arrays(np.uint8, (height, width, channels)))
    return image, load, crop


@given(jitter_cases(), seeds, st.sampled_from(["nearest", "bilinear", "bicubic"]))
def test_jittering_a_pair_of_identical_images_gives_identical_images(case, seed, interpolation):
    image, load, crop = case
    a, b = pair_jitter(image, image.copy(), seed, load, crop, interpolation=interpolation)
    np.testing.assert_array_equal(a, b)


@given(jitter_cases(), seeds)
def test_a_pixelwise_map_commutes_with_the_jitter(case, seed):
    """jitter(a, 255 - a) == (c, 255 - c): input and target were cropped and flipped alike."""
    image, load, crop = case
    c, d = pair_jitter(image, 255 - image, seed, load, crop, interpolation="nearest")
    np.testing.assert_array_equal(d, 255 - c)


@given(jitter_cases(), seeds)
def test_bicubic_jitter_is_pair_consistent_up_to_rounding(case, seed):
    image, load, crop = case
    c, d = pair_jitter(image, 255 - image, seed, load, crop, interpolation="bicubic")
    assert np.abs(d.astype(int) - (255 - c.astype(int))).max() <= 1


@given(jitter_cases(), seeds)
def test_the_output_is_a_window_of_the_resized_image_or_its_mirror(case, seed):
    image, load, crop = case
    out, _ = pair_jitter(image, image, seed, load, crop, interpolation="nearest")
    resized = resize(image, load, "nearest")
    windows = [
        candidate[top : top + crop, left : left + crop]
        for candidate in (resized, resized[:, ::-1])
        for top in range(load - crop + 1)
        for left in range(load - crop + 1)
    ]
    assert out.shape == (crop, crop, image.shape[-1])
    assert any(np.array_equal(out, window) for window in windows)


@given(jitter_cases(), seeds)
def test_the_same_seed_gives_the_same_result(case, seed):
    image, load, crop = case
    first = pair_jitter(image, 255 - image, seed, load, crop)
    second = pair_jitter(image, 255 - image, seed, load, crop)
    for x, y in zip(first, second, strict=True):
        np.testing.assert_array_equal(x, y)


def test_both_flip_outcomes_and_many_crops_occur_over_seeds():
    draws = [jitter_draw(seed, 286, 256) for seed in range(200)]
    assert {mirrored for _, _, mirrored in draws} == {True, False}
    assert len({(top, left) for top, left, _ in draws}) > 150
    assert all(0 <= top <= 30 and 0 <= left <= 30 for top, left, _ in draws)


def test_without_flip_nothing_is_mirrored():
    assert not any(jitter_draw(seed, 286, 256, flip=False)[2] for seed in range(50))


@given(hnp.arrays(np.uint8, hnp.array_shapes(min_dims=3, max_dims=3, max_side=8)))
def test_scaling_to_minus_one_one_and_back_is_lossless(image):
    scaled = to_model_range(image)
    assert scaled.dtype == np.float32 and scaled.min() >= -1 and scaled.max() <= 1
    np.testing.assert_array_equal(to_uint8(scaled), image)


def test_a_crop_larger_than_the_load_size_is_refused():
    with pytest.raises(ValueError, match="crop_size=300 must not exceed load_size=286"):
        jitter_draw(0, 286, 300)
