"""The generator: sections 3.1 (dropout as noise), 3.2.1 (U-Net), appendix 6.1.1, and the
activations of appendix 6.1 (ACT-1, which also reads D's layers)."""

import numpy as np
import pytest

from pix2pix_spec.protocol import NORMS, UPSAMPLINGS, paper_field
from pix2pix_spec.reference import LEAKY_SLOPE, array, random_images

requirement = pytest.mark.requirement

ENCODER = [64, 128, 256, 512, 512, 512, 512, 512]  # C64-C128-C256-C512-C512-C512-C512-C512
DECODER = [512, 512, 512, 512, 256, 128, 64]  # output widths of CD512-CD1024-CD1024-C1024-...
LOCAL_WINDOW = 1 / 8  # side of the window around a poked pixel, as a fraction of the image
CONCENTRATION = 5  # a U-Net puts >= this many times the window's area share of the change in it


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


@requirement("GEN-5")
def test_a_one_pixel_change_stays_local(impl, requires):
    requires("generator")
    size = working_size(impl, 128)
    generator = impl.generator(size, 3, 3)
    x = random_images(size, 1, seed=1)
    row, column = size // 2, size // 4
    poked = x.copy()
    poked[0, row, column] = -poked[0, row, column]
    change = np.abs(
        array(impl.run_generator(generator, poked, training=False))
        - array(impl.run_generator(generator, x, training=False))
    ).sum(axis=-1)[0]
    assert change.sum() > 0, "GEN-5: the output does not depend on the input pixel at all"
    half = max(1, int(size * LOCAL_WINDOW) // 2)
    near = change[row - half : row + half + 1, column - half : column + half + 1].sum()
    share = near / change.sum()
    area = (2 * half + 1) ** 2 / size**2
    assert share >= CONCENTRATION * area, (
        f"GEN-5: a U-Net's skips carry a one-pixel change straight to the output near it; "
        f"expected >= {CONCENTRATION * area:.1%} of the output change within {half} px of "
        f"the pixel (the window is {area:.1%} of the image), measured {share:.1%}. An "
        "encoder-decoder without skips spreads it over the whole image."
    )


def generator_layers(impl, part=None):
    """The 256x256 generator's declared layers (of one part), checked for form."""
    if 256 not in impl.image_sizes:
        pytest.skip(f"{impl.name} does not build a 256x256 generator (the appendix's)")
    layers = list(impl.generator_layers(impl.generator(256, 3, 3)))
    for layer in layers:
        norm = layer.get("norm")
        if norm not in NORMS:
            raise AssertionError(
                f"adapter error: generator_layers gives norm {norm!r}; the protocol asks for "
                f"one of {NORMS} (a bool does not say which normalisation)"
            )
    return [layer for layer in layers if part is None or layer.get("part") == part]


@requirement("GEN-6")
def test_the_encoder_is_the_appendix_one(impl, requires):
    requires("generator_layers")
    encoder = generator_layers(impl, "encoder")
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
def test_the_decoder_is_the_appendix_one(impl, requires):
    requires("generator_layers")
    decoder = generator_layers(impl, "decoder")
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
def test_the_normalisation_is_batchnorm(impl, requires):
    requires("generator_layers")
    kinds = sorted({layer["norm"] for layer in generator_layers(impl)} - {"none"})
    assert kinds, (
        "GEN-8: the generator has no normalisation at all; the paper's Ck is Conv-BatchNorm-ReLU"
    )
    assert set(kinds) <= {"batch", "instance"}, f"GEN-8: unexpected normalisation {kinds}"
    assert len(kinds) == 1, (
        f"GEN-8: one kind of normalisation throughout the generator; measured {kinds}"
    )


@requirement("GEN-9")
def test_the_decoder_upsamples_by_transposed_convolution(impl, requires):
    requires("generator_layers")
    kinds = [layer.get("upsampling") for layer in generator_layers(impl, "decoder")]
    unknown = [kind for kind in kinds if kind not in UPSAMPLINGS]
    if unknown:
        raise AssertionError(
            f"adapter error: decoder layers must declare upsampling as one of {UPSAMPLINGS}; "
            f"measured {kinds}"
        )
    assert set(kinds) == {"transposed"}, (
        "GEN-9: the paper's decoder convolutions upsample by 2 themselves (4x4 transposed "
        f"convolutions, stride 2); declared {kinds}: resize + convolution is another network"
    )


@requirement("ACT-1")
def test_leaky_relus_have_the_paper_slope(impl, requires):
    checked = []
    if "generator_layers" in impl.capabilities:
        for layer in generator_layers(impl):
            checked.append((f"G's {layer['part']}", layer.get("slope")))
    if "discriminator_layers" in impl.capabilities:
        field = paper_field(impl)
        for layer in impl.discriminator_layers(impl.discriminator(field, 256, 3, 3)):
            checked.append(("D", layer.get("slope")))
    if not checked:
        requires("generator_layers", "discriminator_layers")
    leaky = {(where, slope) for where, slope in checked if slope not in (None, 0.0)}
    wrong = sorted((w, s) for w, s in leaky if w != "G's decoder" and abs(s - LEAKY_SLOPE) > 1e-6)
    assert not wrong, (
        f"ACT-1: every LeakyReLU has slope {LEAKY_SLOPE} (appendix 6.1: 'All ReLUs in the "
        f"encoder are leaky, with slope 0.2', and D's likewise); measured {wrong}."
        + (
            " 0.3 is Keras' default LeakyReLU slope."
            if any(abs(s - 0.3) < 1e-6 for _, s in wrong)
            else ""
        )
    )
    decoder_leaky = sorted({s for w, s in leaky if w == "G's decoder"})
    assert not decoder_leaky, (
        f"ACT-1: 'ReLUs in the decoder are not leaky'; measured slopes {decoder_leaky}"
    )
