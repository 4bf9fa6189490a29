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
DRAWS = 100  # seeds per statistical check
COVERED = 0.7  # of the margin each axis' offsets must span: 100 uniform draws miss it ~1e-13
POSITIONS = 8  # distinct offsets per axis at least: 100 uniform draws over 31 give ~30
MIRRORED = (30, 70)  # mirrored draws of 100: a fair coin falls outside 3e-5 of the time
SOURCE = 256  # the size of each half of a stored pair: the paper's 256x256 facades


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


@pytest.fixture(scope="module")
def ramp_draws(pipeline):
    """[(left, top, mirrored, flipped)] for DRAWS seeds of the ramp pair: the crop's offsets
    in pixels of the resized image, whether it was mirrored left to right, and whether it
    was flipped top to bottom."""
    image, draws = ramp(SOURCE), []
    for seed in range(DRAWS):
        first, _ = pipeline.unit(image, image.copy(), seed)
        left_edge, right_edge = first[:, 0, 0].mean(), first[:, -1, 0].mean()
        top_edge, bottom_edge = first[0, :, 2].mean(), first[-1, :, 2].mean()
        draws.append(
            (
                round(min(left_edge, right_edge) * (LOAD_SIZE - 1)),
                round(min(top_edge, bottom_edge) * (LOAD_SIZE - 1)),
                bool(left_edge > right_edge),
                bool(top_edge > bottom_edge),
            )
        )
    return draws


@requirement("DAT-3")
def test_crop_offsets_cover_the_margin(ramp_draws, note):
    """Excluded: no crop (or a centre crop), a window that moves along one axis only, one
    drawn from part of the margin, one confined to a few positions (corners)."""
    margin = LOAD_SIZE - CROP_SIZE
    found = []
    for axis, offsets in (("horizontally", [d[0] for d in ramp_draws]),
                          ("vertically", [d[1] for d in ramp_draws])):  # fmt: skip
        spread, positions = max(offsets) - min(offsets), len(set(offsets))
        note(f"{axis}: offsets {min(offsets)}-{max(offsets)} px, {positions} distinct")
        if spread == 0:
            found.append(f"it never moved {axis}")
        elif spread < COVERED * margin:
            found.append(f"it moved over only {spread} of the margin's {margin} px {axis}")
        elif positions < POSITIONS:
            found.append(f"it took only {positions} positions {axis}")
    assert not found, (
        f"DAT-3: the crop window is drawn at random anywhere in the margin ({LOAD_SIZE} - "
        f"{CROP_SIZE} = {margin} px, each axis); over {DRAWS} seeds " + "; ".join(found) + "."
        + (" The window never moved: there is no random crop." if len(found) == 2
           and all("never" in text for text in found) else "")
    )  # fmt: skip


@requirement("DAT-4")
def test_about_half_of_the_draws_mirror(ramp_draws, note):
    """Excluded: never mirrored, always mirrored, mirrored far from half the time,
    flipped top to bottom instead of (or as well as) left to right."""
    flipped = sum(d[3] for d in ramp_draws)
    assert not flipped, (
        f"DAT-4: the paper's jitter mirrors left to right; {flipped} of {DRAWS} draws were "
        "flipped top to bottom, which turns a facade's sky into its ground"
    )
    mirrored = sum(d[2] for d in ramp_draws)
    note(f"{mirrored} of {DRAWS} draws mirrored")
    low, high = MIRRORED
    assert low <= mirrored <= high, (
        f"DAT-4: the paper's jitter mirrors at random (p = 0.5); {mirrored} of {DRAWS} draws "
        f"were mirrored (a fair coin gives {low}-{high} in all but 3 of 100,000 runs)"
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
