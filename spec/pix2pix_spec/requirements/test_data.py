"""The data pipeline (section 6.2 and the reference code): an A|B file the suite writes
goes through the implementation's own loading, jitter and normalisation."""

import hashlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pix2pix_spec.reference import CROP_SIZE, LOAD_SIZE, array, ramp, write_png

requirement = pytest.mark.requirement

SEEDS = st.integers(0, 2**31 - 1)
DRAWS = 40  # seeds per statistical check
SOURCE = 256  # the size of each half of a stored pair: the paper's 256x256 facades
MARGIN = (LOAD_SIZE - CROP_SIZE) / LOAD_SIZE  # how far a crop can move, in ramp brightness


class Pipeline:
    """The adapter's load_pair on files the suite writes, with its values mapped to [0, 1]."""

    def __init__(self, impl, folder):
        self.impl, self.folder, self.files = impl, folder, {}
        self.direction = impl.directions[0]
        self.low, self.high = self.value_map()

    def write(self, a, b):
        """The A|B file of this pair, written once however many draws read it."""
        pair = np.concatenate([a, b], 1)
        key = hashlib.sha1(pair.tobytes()).hexdigest()
        if key not in self.files:
            path = self.folder / f"pair_{len(self.files) + 1}.png"
            self.files[key] = str(write_png(path, pair))
        return self.files[key]

    def load(self, a, b, seed, direction=None):
        """(input, target) from a file holding A | B, as the networks receive them."""
        path = self.write(a, b)
        pair = self.impl.load_pair(path, seed, direction or self.direction)
        return tuple(array(image) for image in pair)

    def value_map(self):
        """The values pixels of 0 and of 255 become, whichever half is the input."""
        values = []
        for level in (0, 255):
            plain = np.full((SOURCE, SOURCE, 3), level, np.uint8)
            first, second = self.load(plain, plain.copy(), 0)
            values.append(float(np.median(np.concatenate([first.ravel(), second.ravel()]))))
        return tuple(values)

    def unit(self, a, b, seed, direction=None):
        """load(), with pixel values mapped back to [0, 1] through the value map, so that the
        geometry checks do not depend on the pipeline's value range."""
        scale = self.high - self.low
        if abs(scale) < 1e-9:
            raise AssertionError("the pipeline maps black and white pixels to the same value")
        return tuple((image - self.low) / scale for image in self.load(a, b, seed, direction))


@pytest.fixture(scope="module")
def pipeline(impl, requires, tmp_path_factory):
    requires("data")
    return Pipeline(impl, tmp_path_factory.mktemp("pairs"))


def random_image(seed):
    return np.random.default_rng(seed).integers(0, 256, (SOURCE, SOURCE, 3), dtype=np.uint8)


def load_scale(image):
    """The size the image was resized to before its crop, from the ramp's slope: a crop of
    C columns out of a ramp resized to L spans (C - 1) / (L - 1) of its brightness."""
    spans = (
        abs(image[:, -1, 0].mean() - image[:, 0, 0].mean()),  # horizontal (mirror-proof)
        abs(image[-1, :, 2].mean() - image[0, :, 2].mean()),  # vertical
    )
    return tuple((image.shape[0] - 1) / max(span, 1e-9) + 1 for span in spans)


@requirement("DAT-1")
def test_the_jitter_resizes_to_286_and_crops_256(pipeline):
    image = ramp(SOURCE)
    first, second = pipeline.unit(image, image.copy(), 0)
    crop = (CROP_SIZE, CROP_SIZE, 3)
    shapes = (first.shape, second.shape)
    assert shapes == (crop, crop), f"DAT-1: both training images must be {crop}; measured {shapes}"
    loads = load_scale(first)
    assert all(abs(load - LOAD_SIZE) <= 0.03 * LOAD_SIZE for load in loads), (
        f"DAT-1: the paper resizes the 256x256 images to {LOAD_SIZE}x{LOAD_SIZE} before the "
        f"random {CROP_SIZE} crop; the crop's brightness slope says the image was resized to "
        f"{loads[0]:.0f} wide and {loads[1]:.0f} high"
    )


@given(content=SEEDS, seed=SEEDS)
@requirement("DAT-2")
def test_both_images_get_the_same_crop_and_mirror(pipeline, content, seed):
    image = random_image(content)
    swapped = np.ascontiguousarray(image[..., ::-1])  # the same picture, channels reversed
    first, second = pipeline.unit(image, swapped, seed)
    difference = float(np.abs(first - second[..., ::-1]).max())
    assert difference < 1.5 / 255, (
        f"DAT-2: with seed {seed}, the input and the target (the same picture, channels "
        f"reversed) came out different by up to {difference:.3f}: the two images of a pair "
        "were cropped or mirrored independently, which misaligns every training pair"
    )


@requirement("DAT-3")
def test_crop_offsets_cover_the_margin(pipeline):
    image = ramp(SOURCE)
    lefts, tops = [], []
    for seed in range(DRAWS):
        first, _ = pipeline.unit(image, image.copy(), seed)
        lefts.append(min(first[:, 0, 0].mean(), first[:, -1, 0].mean()))  # mirror-proof
        tops.append(first[0, :, 2].mean())
    spread = (max(lefts) - min(lefts), max(tops) - min(tops))
    none = max(spread) < 1e-3
    assert min(spread) >= MARGIN / 3, (
        f"DAT-3: over {DRAWS} seeds the crop window should move over the whole margin "
        f"({LOAD_SIZE} - {CROP_SIZE} px), horizontally and vertically; the crop's brightness "
        f"moved by {spread[0]:.3f} and {spread[1]:.3f}, expected about {MARGIN:.3f} each."
        + (" The window never moved: there is no random crop." if none else "")
    )


@requirement("DAT-4")
def test_about_half_of_the_draws_mirror(pipeline):
    image = ramp(SOURCE)
    mirrored = 0
    for seed in range(DRAWS):
        first, _ = pipeline.unit(image, image.copy(), seed)
        mirrored += first[:, 0, 0].mean() > first[:, -1, 0].mean()
    assert 0.2 * DRAWS <= mirrored <= 0.8 * DRAWS, (
        f"DAT-4: the paper's jitter mirrors at random (p = 0.5); {mirrored} of {DRAWS} draws "
        "were mirrored"
    )


@requirement("DAT-5")
def test_images_reach_the_networks_in_minus_one_to_one(pipeline):
    low, high = pipeline.low, pipeline.high
    assert abs(low + 1) <= 0.01 and abs(high - 1) <= 0.01, (
        f"DAT-5: pixels of 0 and 255 must reach the networks as -1 and 1 (G's tanh outputs "
        f"[-1, 1], and its L1 term compares them with the targets); measured {low:.3f} and "
        f"{high:.3f}."
        + (" That is [0, 1]." if abs(low) <= 0.01 and abs(high - 1) <= 0.01 else "")
        + (" That is [0, 255]: raw pixel values." if abs(high - 255) <= 1 else "")
    )


@requirement("DAT-6")
def test_the_direction_picks_the_input_half(pipeline, impl):
    bright = np.full((SOURCE, SOURCE, 3), 230, np.uint8)
    dark = np.full((SOURCE, SOURCE, 3), 20, np.uint8)
    for direction in impl.directions:
        first, second = pipeline.unit(bright, dark, 0, direction)  # A bright | B dark
        input_is_a = first.mean() > second.mean()
        assert input_is_a == (direction == "AtoB"), (
            f"DAT-6: with direction {direction!r} the input must be the "
            f"{'left (A)' if direction == 'AtoB' else 'right (B)'} half of an A|B file; the "
            f"{'left' if input_is_a else 'right'} half became the input"
        )
