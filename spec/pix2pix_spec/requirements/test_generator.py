"""The generator: sections 3.1 (dropout as noise), 3.2.1 (U-Net), appendix 6.1.1, and the
activations of appendix 6.1 (ACT-1, which also reads D's layers)."""

import numpy as np
import pytest

from pix2pix_spec.protocol import NORMS, UPSAMPLINGS
from pix2pix_spec.reference import LEAKY_SLOPE, array, random_images

requirement = pytest.mark.requirement

ENCODER = [64, 128, 256, 512, 512, 512, 512, 512]  # C64-C128-C256-C512-C512-C512-C512-C512
DECODER = [512, 512, 512, 512, 256, 128, 64]  # output widths of CD512-CD1024-CD1024-C1024-...
LOCAL_WINDOW = 1 / 8  # side of the window around a poked pixel, as a fraction of the image
# A U-Net puts >= this many times the window's area share of the output change's energy
# in it. Measured at the default seed and 11 others: U-Nets 22-60 (the authors' with
# instance norm lowest), an encoder-decoder without skips 1.3-1.7.
CONCENTRATION = 6
DEFAULT_SLOPES = {0.3: "Keras' default LeakyReLU slope", 0.01: "PyTorch's default negative_slope"}


def sizes_up_to(impl, largest=256):
    """The smallest and the largest declared size up to `largest`."""
    sizes = sorted(size for size in impl.image_sizes if size <= largest)
    return sorted({sizes[0], sizes[-1]}) if sizes else [min(impl.image_sizes)]


def working_size(impl, at_least=64):
    """The smallest declared size >= `at_least` (else the largest): fast tests."""
    fitting = [size for size in impl.image_sizes if size >= at_least]
    return min(fitting) if fitting else max(impl.image_sizes)


@requirement("GEN-1")
def test_output_shape_equals_input_shape(impl, requires):
    requires("generator")
    for size in sizes_up_to(impl):
        generator = impl.generator(size, 3, 3)
        out = array(impl.run_generator(generator, random_images(size, 2), training=False))
        assert out.shape == (2, size, size, 3), (
            f"GEN-1: a (2, {size}, {size}, 3) batch must give (2, {size}, {size}, 3); "
            f"measured {out.shape}"
        )


@requirement("GEN-2")
def test_outputs_lie_in_the_image_range(impl, requires):
    requires("generator")
    size = working_size(impl, 32)
    generator = impl.generator(size, 3, 3)
    for scale in (1.0, 50.0):  # large inputs drive an unbounded last layer outside
        out = array(impl.run_generator(generator, scale * random_images(size, 2), training=True))
        assert out.min() >= -1 and out.max() <= 1, (
            f"GEN-2: outputs must lie in [-1, 1] (the paper ends the generator with tanh); "
            f"measured [{out.min():.3f}, {out.max():.3f}] for inputs scaled by {scale}"
        )


def two_passes(impl, training):
    """Max difference between two passes of one input through one small generator."""
    size = working_size(impl, 32)
    generator = impl.generator(size, 3, 3)
    x = random_images(size, 1)
    first, second = (array(impl.run_generator(generator, x, training)) for _ in range(2))
    return float(np.abs(first - second).max())


@requirement("GEN-3")
def test_training_mode_is_stochastic(impl, requires):
    requires("generator")
    difference = two_passes(impl, training=True)
    assert difference > 1e-6, (
        "GEN-3: two training-mode passes of the same input must differ (the paper's only "
        "noise is dropout, 50% on the first decoder layers); measured max difference "
        f"{difference:.2e}"
    )


@requirement("GEN-4")
def test_inference_mode_is_deterministic(impl, requires):
    requires("generator")
    difference = two_passes(impl, training=False)
    assert difference <= 1e-6, (
        "GEN-4 (a convention of this suite, not the paper's: the paper keeps dropout on at "
        "test time): two inference-mode passes of the same input must agree, so that "
        f"inference mode is reproducible; measured max difference {difference:.2e}"
    )


def change_concentration(change, row, column):
    """How many times its area share of a one-pixel change's energy an output window
    around the pixel holds. `change` (H, W, C) is the output difference. Each channel's
    median change is taken out first, and the energy (squares) is what is shared: instance
    statistics spread a one-pixel change over the whole image as a small near-uniform
    shift, which summed absolute changes would read as non-locality."""
    size = change.shape[0]
    centred = change - np.median(change, axis=(0, 1), keepdims=True)
    energy = (centred**2).sum(axis=-1)
    half = max(1, int(size * LOCAL_WINDOW) // 2)
    near = energy[row - half : row + half + 1, column - half : column + half + 1].sum()
    area = (2 * half + 1) ** 2 / size**2
    return float(near / energy.sum() / area), half, area


def one_pixel_change(impl, generator, size):
    """(output change, row, column) when one input pixel of a random image flips sign."""
    x = random_images(size, 1, seed=1)
    row, column = size // 2, size // 4
    poked = x.copy()
    poked[0, row, column] = -poked[0, row, column]
    change = array(impl.run_generator(generator, poked, training=False)) - array(
        impl.run_generator(generator, x, training=False)
    )
    return change[0], row, column


@requirement("GEN-5")
def test_a_one_pixel_change_stays_local(impl, requires, note):
    requires("generator")
    size = working_size(impl, 128)
    change, row, column = one_pixel_change(impl, impl.generator(size, 3, 3), size)
    assert np.abs(change).sum() > 0, "GEN-5: the output does not depend on the input pixel at all"
    concentration, half, area = change_concentration(change, row, column)
    note(f"{concentration:.1f}x its area share of the change's energy near the pixel")
    assert concentration >= CONCENTRATION, (
        f"GEN-5: a U-Net's skips carry a one-pixel change straight to the output near it; "
        f"expected >= {CONCENTRATION} times the window's area share ({area:.1%} of the image, "
        f"within {half} px of the pixel) of the output change's energy there, measured "
        f"{concentration:.1f} times. An encoder-decoder without skips spreads it over the "
        "whole image."
    )


def parts(layers, part):
    return [layer for layer in layers if layer.get("part") == part]


def checked_norms(layers):
    for layer in layers:
        norm = layer.get("norm")
        if norm not in NORMS:
            raise AssertionError(
                f"adapter error: generator_layers gives norm {norm!r}; the protocol asks for "
                f"one of {NORMS} (a bool does not say which normalisation)"
            )
    return layers


@requirement("GEN-6")
def test_the_encoder_is_the_appendix_one(generator_layers, note):
    layers = generator_layers.graded("GEN-6", ("part", "filters", "norm", "dropout"), note)
    encoder = parts(checked_norms(layers), "encoder")
    filters = [layer["filters"] for layer in encoder]
    assert filters == ENCODER, f"GEN-6: encoder widths must be {ENCODER}; measured {filters}"
    normed = [layer["norm"] != "none" for layer in encoder]
    expected = [False] + [True] * 6 + [False]
    assert normed == expected, (
        "GEN-6: normalisation on every encoder layer except the first (appendix 6.1.1) and "
        "the innermost (the paper's v3 errata: on a 1x1 map with batch 1 BatchNorm zeroes the "
        f"bottleneck); expected norm on {expected}, measured {normed}"
        + (
            ". The innermost (1x1) layer is normalised."
            if normed[:-1] == expected[:-1] and normed[-1]
            else ""
        )
    )
    rates = [float(layer.get("dropout", 0.0)) for layer in encoder]
    assert not any(rates), f"GEN-6: the encoder has no dropout (Ck blocks); measured {rates}"


@requirement("GEN-7")
def test_the_decoder_is_the_appendix_one(generator_layers, note):
    layers = generator_layers.graded("GEN-7", ("part", "filters", "norm", "dropout"), note)
    decoder = parts(checked_norms(layers), "decoder")
    filters = [layer["filters"] for layer in decoder]
    assert filters == DECODER, (
        f"GEN-7: decoder layers must output {DECODER} channels (before each skip doubles "
        f"them: CD512-CD1024-CD1024-C1024-C1024-C512-C256-C128); measured {filters}"
    )
    rates = [float(layer.get("dropout", 0.0)) for layer in decoder]
    expected = [0.5, 0.5, 0.5, 0.0, 0.0, 0.0, 0.0]
    shifted = [0.0, 0.5, 0.5, 0.5, 0.0, 0.0, 0.0]
    assert rates == expected, (
        f"GEN-7: dropout rates must be {expected} (CD on the first three decoder layers); "
        f"measured {rates}."
        + (
            " That is the authors' PyTorch code (dropout on decoder layers 2-4), which "
            "follows the code, not the paper's CD512-CD1024-CD1024."
            if rates == shifted
            else ""
        )
    )
    normed = [layer["norm"] != "none" for layer in decoder]
    assert all(normed), f"GEN-7: every decoder layer is normalised; measured {normed}"


@requirement("GEN-8")
def test_the_normalisation_is_batchnorm(generator_layers, note):
    layers = checked_norms(generator_layers.graded("GEN-8", ("norm",), note))
    kinds = sorted({layer["norm"] for layer in layers} - {"none"})
    assert kinds, (
        "GEN-8: the generator has no normalisation at all; the paper's Ck is Conv-BatchNorm-ReLU"
    )
    assert set(kinds) <= {"batch", "instance"}, f"GEN-8: unexpected normalisation {kinds}"
    assert len(kinds) == 1, (
        f"GEN-8: one kind of normalisation throughout the generator; measured {kinds}"
    )


@requirement("GEN-9")
def test_the_decoder_upsamples_by_transposed_convolution(generator_layers, note):
    layers = generator_layers.graded("GEN-9", ("part", "upsampling"), note)
    kinds = [layer.get("upsampling") for layer in parts(layers, "decoder")]
    unknown = [kind for kind in kinds if kind not in UPSAMPLINGS]
    if unknown:
        raise AssertionError(
            f"adapter error: decoder layers must declare upsampling as one of {UPSAMPLINGS}; "
            f"measured {kinds}"
        )
    assert set(kinds) == {"transposed"}, (
        "GEN-9: the paper's decoder convolutions upsample by 2 themselves (4x4 transposed "
        f"convolutions, stride 2); measured {kinds}: resize + convolution is another network"
    )


def slope_text(slope):
    return {None: "no activation", 0.0: "a plain ReLU (slope 0)"}.get(slope, f"slope {slope:g}")


def wrong_slopes(generator, discriminator):
    """[(where, slope, expected)] for every block whose activation is not the paper's:
    LeakyReLU(0.2) after the encoder's and D's blocks, a plain ReLU after the decoder's.
    After the innermost encoder block either is the paper's: its output is where the
    decoder's ReLUs begin, and the authors' code (pre-activation) puts a ReLU there."""
    wrong = []
    encoder = parts(generator, "encoder")
    for number, layer in enumerate(encoder, 1):
        slope, allowed = layer.get("slope"), [LEAKY_SLOPE]
        if number == len(encoder):
            allowed.append(0.0)
        if slope is None or all(abs(slope - a) > 1e-6 for a in allowed):
            wrong.append((f"G's encoder block {number}", slope, "LeakyReLU(0.2)"))
    for number, layer in enumerate(parts(generator, "decoder"), 1):
        if layer.get("slope") is None or abs(layer["slope"]) > 1e-6:
            wrong.append((f"G's decoder block {number}", layer.get("slope"), "ReLU"))
    for number, layer in enumerate(discriminator, 1):
        slope = layer.get("slope")
        if slope is None or abs(slope - LEAKY_SLOPE) > 1e-6:
            wrong.append((f"D's block {number}", slope, "LeakyReLU(0.2)"))
    return wrong


def grouped(wrong):
    """'G's encoder blocks 1, 2, 3: slope 0.3, expected LeakyReLU(0.2)' lines, one for
    each network part, slope and expectation."""
    groups = {}
    for where, slope, expected in wrong:
        part, number = where.rsplit(" block ", 1)
        groups.setdefault((part, slope, expected), []).append(number)
    return [
        f"{part} block{'s' if len(numbers) > 1 else ''} {', '.join(numbers)}: "
        f"{slope_text(slope)}, expected {expected}"
        for (part, slope, expected), numbers in groups.items()
    ]


@requirement("ACT-1")
def test_leaky_relus_have_the_paper_slope(request, impl, note):
    found = {}
    for role in ("generator", "discriminator"):
        if role in impl.capabilities:
            layers = request.getfixturevalue(f"{role}_layers")
            found[role] = layers.graded("ACT-1", ("part", "slope"), note)
    if not found:
        pytest.skip(f"{impl.name} declares neither generator nor discriminator")
    wrong = wrong_slopes(found.get("generator", []), found.get("discriminator", []))
    slopes = sorted({round(slope, 6) for _, slope, _ in wrong if slope is not None})
    assert not wrong, (
        f"ACT-1: 'All ReLUs in the encoder are leaky, with slope {LEAKY_SLOPE}, while ReLUs in "
        "the decoder are not leaky' (appendix 6.1.1), and D's are leaky likewise (6.1.2); "
        + "; ".join(grouped(wrong))
        + "".join(
            f" ({slope:g} is {DEFAULT_SLOPES[slope]})"
            for slope in slopes
            if slope in DEFAULT_SLOPES
        )
        + "."
    )
    generator = found.get("generator", [])
    encoder = parts(generator, "encoder")
    if encoder and encoder[-1].get("slope") == 0.0:
        note(
            "a plain ReLU after the innermost encoder block: the decoder's first ReLU, where "
            "pre-activation code (the authors') applies it; the paper's lists allow either"
        )
