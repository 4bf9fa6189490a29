"""The generator: section 3.2.1 (U-Net with skips), 3.1 (dropout as noise), appendix 6.1.1."""

import numpy as np
import pytest
from adapter_protocol import array, working_size

requirement = pytest.mark.requirement

ENCODER = [64, 128, 256, 512, 512, 512, 512, 512]  # C64-C128-C256-C512-C512-C512-C512-C512
DECODER = [512, 512, 512, 512, 256, 128, 64]  # output widths of CD512-CD1024-CD1024-C1024-...
LOCAL_WINDOW = 1 / 8  # side of the window around a poked pixel, as a fraction of the image
CONCENTRATION = 5  # a U-Net puts >= this many times the window's area share of the change in it


def sizes_up_to(impl, largest=256):
    return [size for size in impl.image_sizes if size <= largest] or [min(impl.image_sizes)]


def images(size, count=1, channels=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (count, size, size, channels)).astype("float32")


@requirement("G1", "6.1.1", "output shape equals input shape, at every size the generator takes")
def test_output_shape_equals_input_shape(impl, requires):
    requires("generator")
    for size in sizes_up_to(impl):
        generator = impl.generator(size, 3, 3)
        out = array(impl.run_generator(generator, images(size, 2), training=False))
        assert out.shape == (2, size, size, 3), (
            f"G1: a (2, {size}, {size}, 3) batch must give (2, {size}, {size}, 3); "
            f"measured {out.shape}"
        )


@requirement("G2", "6.1.1", "outputs lie in [-1, 1] (a tanh on the last layer)")
def test_outputs_lie_in_the_image_range(impl, requires):
    requires("generator")
    size = working_size(impl, 32)
    generator = impl.generator(size, 3, 3)
    for scale in (1.0, 50.0):  # large inputs drive an unbounded last layer outside
        out = array(impl.run_generator(generator, scale * images(size, 2), training=True))
        assert out.min() >= -1 and out.max() <= 1, (
            f"G2: outputs must lie in [-1, 1] (the paper ends the generator with tanh); "
            f"measured [{out.min():.3f}, {out.max():.3f}] for inputs scaled by {scale}"
        )


def two_passes(impl, training):
    """Max difference between two passes of one input through one small generator."""
    size = working_size(impl, 32)
    generator = impl.generator(size, 3, 3)
    x = images(size, 1)
    first, second = (array(impl.run_generator(generator, x, training)) for _ in range(2))
    return float(np.abs(first - second).max())


@requirement("G3", "3.1", "train mode is stochastic: dropout is the noise z")
def test_train_mode_is_stochastic(impl, requires):
    requires("generator")
    difference = two_passes(impl, training=True)
    assert difference > 1e-6, (
        "G3: two train-mode passes of the same input must differ (the paper's only noise "
        f"is dropout, 50% on the first decoder layers); measured max difference {difference:.2e}"
    )


@requirement("G4", "3.1", "inference mode is deterministic")
def test_inference_mode_is_deterministic(impl, requires):
    requires("generator")
    difference = two_passes(impl, training=False)
    assert difference <= 1e-6, (
        "G4: two inference-mode passes of the same input must agree (no dropout, fixed "
        f"statistics); measured max difference {difference:.2e}"
    )


@requirement("G5", "3.2.1", "skip connections: a one-pixel change acts near that pixel")
def test_a_one_pixel_change_stays_local(impl, requires):
    requires("generator")
    size = working_size(impl, 128)
    generator = impl.generator(size, 3, 3)
    x = images(size, 1, seed=1)
    row, column = size // 2, size // 4
    poked = x.copy()
    poked[0, row, column] = -poked[0, row, column]
    change = np.abs(
        array(impl.run_generator(generator, poked, training=False))
        - array(impl.run_generator(generator, x, training=False))
    ).sum(axis=-1)[0]
    assert change.sum() > 0, "G5: the output does not depend on the input pixel at all"
    half = max(1, int(size * LOCAL_WINDOW) // 2)
    near = change[row - half : row + half + 1, column - half : column + half + 1].sum()
    share = near / change.sum()
    area = (2 * half + 1) ** 2 / size**2
    assert share >= CONCENTRATION * area, (
        f"G5: a U-Net's skips carry a one-pixel change straight to the output near it; "
        f"expected >= {CONCENTRATION * area:.1%} of the output change within {half} px of the "
        f"pixel (the window is {area:.1%} of the image), measured {share:.1%}. An "
        "encoder-decoder without skips spreads it over the whole image."
    )


@requirement("G6", "6.1.1", "encoder C64-C128-C256-C512-C512-C512-C512-C512, norm as specified")
def test_the_encoder_is_the_appendix_one(impl, requires):
    requires("generator_layers")
    encoder = _layers(impl, "encoder")
    filters = [layer["filters"] for layer in encoder]
    assert filters == ENCODER, f"G6: encoder widths must be {ENCODER}; measured {filters}"
    norms = [bool(layer["norm"]) for layer in encoder]
    expected = [False] + [True] * 6 + [False]
    assert norms == expected, (
        "G6: BatchNorm on every encoder layer except the first (appendix 6.1.1) and the "
        "innermost (the v3 errata: on a 1x1 map with batch 1 it zeroes the bottleneck); "
        f"expected norm flags {expected}, measured {norms}"
    )


@requirement("G7", "6.1.1", "decoder CD512-CD1024-CD1024-C1024-C1024-C512-C256-C128, dropout 0.5")
def test_the_decoder_is_the_appendix_one(impl, requires):
    requires("generator_layers")
    decoder = _layers(impl, "decoder")
    filters = [layer["filters"] for layer in decoder]
    assert filters == DECODER, (
        f"G7: decoder layers must output {DECODER} channels (before each skip doubles "
        f"them: CD512-CD1024-CD1024-C1024-C1024-C512-C256-C128); measured {filters}"
    )
    rates = [float(layer["dropout"]) for layer in decoder]
    expected = [0.5, 0.5, 0.5, 0.0, 0.0, 0.0, 0.0]
    assert rates == expected, (
        f"G7: dropout rates must be {expected} (CD on the first three decoder layers); "
        f"measured {rates}. The authors' PyTorch code puts them one layer deeper, "
        "[0, 0.5, 0.5, 0.5, 0, 0, 0]: that follows the code, not the paper."
    )
    norms = [bool(layer["norm"]) for layer in decoder]
    assert all(norms), f"G7: every decoder layer has BatchNorm; measured {norms}"


def _layers(impl, part):
    """The 256x256 generator's layers of one part (the appendix describes that size)."""
    if 256 not in impl.image_sizes:
        pytest.skip(f"{impl.name} does not build a 256x256 generator")
    layers = impl.generator_layers(impl.generator(256, 3, 3))
    return [layer for layer in layers if layer.get("part") == part]
