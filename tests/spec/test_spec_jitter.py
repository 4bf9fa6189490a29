"""Random jitter (section 6.2 and the reference code): resize, random crop, random mirror,
the same draw for both images of a pair."""

import numpy as np
import pytest
from adapter_protocol import unit_range
from hypothesis import given
from hypothesis import strategies as st

requirement = pytest.mark.requirement

SEEDS = st.integers(0, 2**31 - 1)
DRAWS = 40  # seeds per statistical check


def source_size(impl):
    """The size of a stored image: the crop size (the paper's 256x256 facades)."""
    return impl.crop_size


def random_image(size, seed):
    return np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)


def ramp(size):
    """Brightness rising left to right, top to bottom: reveals the crop offset and mirroring."""
    columns = np.linspace(0, 255, size)[None, :, None]
    rows = np.linspace(0, 255, size)[:, None, None]
    image = np.concatenate(
        [np.broadcast_to(columns, (size, size, 1))] * 2 + [np.broadcast_to(rows, (size, size, 1))],
        axis=-1,
    )
    return image.round().astype(np.uint8)


@requirement("J1", "6.2", "jitter resizes to 286 and crops 256x256, as declared")
def test_the_jitter_sizes_are_the_paper_ones(impl, requires):
    requires("jitter")
    declared = (impl.load_size, impl.crop_size)
    assert declared == (286, 256), (
        f"J1: the paper resizes 256x256 images to 286x286 and crops back to 256x256; "
        f"{impl.name} declares load {declared[0]}, crop {declared[1]}"
    )
    a, b = impl.jitter(random_image(source_size(impl), 0), random_image(source_size(impl), 1), 0)
    shapes = (np.shape(a), np.shape(b))
    crop = (impl.crop_size, impl.crop_size, 3)
    assert shapes == (crop, crop), f"J1: both jittered images must be {crop}; measured {shapes}"


@given(content=SEEDS, seed=SEEDS)
@requirement("J2", "6.2", "pair-consistent jitter: one crop window and one mirror for both images")
def test_both_images_get_the_same_crop_and_mirror(impl, requires, content, seed):
    requires("jitter")
    image = random_image(source_size(impl), content)
    swapped = image[..., ::-1]  # the same picture with its channels reversed
    a, b = impl.jitter(image, swapped.copy(), seed)
    a, b = unit_range(a), unit_range(b)
    difference = float(np.abs(a - b[..., ::-1]).max())
    assert difference < 1e-6, (
        f"J2: with seed {seed}, the input and the target (the same picture, channels "
        f"reversed) came out different by up to {difference:.3f}: the two images of a pair "
        "were cropped or mirrored independently, which misaligns every training pair"
    )


@requirement("J3", "6.2", "the crop window is drawn at random over the whole margin")
def test_crop_offsets_cover_the_margin(impl, requires):
    requires("jitter")
    image = ramp(source_size(impl))
    lefts, tops = [], []
    for seed in range(DRAWS):
        a, _ = impl.jitter(image, image.copy(), seed)
        a = unit_range(a)
        lefts.append(min(a[:, 0, 0].mean(), a[:, -1, 0].mean()))  # mirror-proof
        tops.append(a[0, :, 2].mean())
    margin = (impl.load_size - impl.crop_size) / impl.load_size  # in units of brightness
    spread = (max(lefts) - min(lefts), max(tops) - min(tops))
    assert min(spread) >= margin / 3, (
        f"J3: over {DRAWS} seeds the crop window should move over the whole margin "
        f"({impl.load_size} - {impl.crop_size} px), horizontally and vertically; the crop's "
        "brightness moved by "
        f"{spread[0]:.3f} and {spread[1]:.3f}, expected about {margin:.3f} each"
    )


@requirement("J4", "6.2", "mirroring: about half of the draws flip the pair left to right")
def test_about_half_of_the_draws_mirror(impl, requires):
    requires("jitter")
    image = ramp(source_size(impl))
    mirrored = 0
    for seed in range(DRAWS):
        a, _ = impl.jitter(image, image.copy(), seed)
        a = unit_range(a)
        mirrored += a[:, 0, 0].mean() > a[:, -1, 0].mean()
    assert 0.2 * DRAWS <= mirrored <= 0.8 * DRAWS, (
        f"J4: the paper's jitter mirrors at random (p = 0.5); {mirrored} of {DRAWS} draws "
        "were mirrored"
    )
