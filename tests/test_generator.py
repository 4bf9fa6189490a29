"""The U-Net generator (appendix 6.1.1): shapes, range, exact layout, ablation, errors."""

import keras
import numpy as np
import pytest
from helpers import random_images, to_numpy, trainable_count, weight_count
from hypothesis import given
from hypothesis import strategies as st

from pix2pix_k3 import CDk, Ck, unet_generator


@given(
    k=st.integers(5, 8),
    in_channels=st.integers(1, 4),
    out_channels=st.integers(1, 4),
    skips=st.booleans(),
)
def test_output_has_the_input_size_and_lies_in_minus_one_one(k, in_channels, out_channels, skips):
    size = 2**k
    generator = unet_generator(size, in_channels, out_channels, ngf=2, skips=skips)
    x = 4.0 * random_images(k, 2, size, in_channels)  # large inputs push tanh to its ends
    for training in (False, True):
        y = to_numpy(generator(x, training=training))
        assert y.shape == (2, size, size, out_channels)
        assert np.all(np.abs(y) <= 1.0)


def test_default_256_has_the_reference_parameter_count():
    generator = unet_generator()
    assert trainable_count(generator) == 54_413_955
    assert weight_count(generator) == 54_423_811  # + BatchNorm's moving mean and variance


def test_layout_is_the_papers_lists():
    generator = unet_generator(ngf=1)  # same layout as ngf=64, 64x fewer channels
    blocks = [layer for layer in generator.layers if isinstance(layer, Ck)]
    encoder = [(b.filters, type(b).__name__, b.norm) for b in blocks if not b.transpose]
    decoder = [(b.filters, type(b).__name__) for b in blocks if b.transpose]
    assert [f for f, _, _ in encoder] == [1, 2, 4, 8, 8, 8, 8, 8]  # C64-C128-C256-C512 x5
    assert [norm for _, _, norm in encoder] == ["none"] + ["batch"] * 6 + ["none"]
    assert decoder == [(8, "CDk")] * 3 + [(8, "Ck"), (4, "Ck"), (2, "Ck"), (1, "Ck")]


def test_with_batchnorm_only_the_final_convolution_has_a_bias():
    generator = unet_generator(64, ngf=2)
    biased = [v.path for v in generator.trainable_variables if v.path.endswith("bias")]
    assert biased == ["output_tanh/bias"]


def test_skips_concatenate_encoder_i_onto_decoder_n_minus_i():
    generator = unet_generator(32, ngf=2)
    skips = {layer.name: layer for layer in generator.layers if "skip" in layer.name}
    assert sorted(skips) == ["skip1", "skip2", "skip3", "skip4"]
    encoder_names = [node.operation.name for node in skips["skip4"]._inbound_nodes[0].parent_nodes]
    assert encoder_names[1] == "encoder4_C16"


def test_encoder_decoder_ablation_has_no_skips_and_fewer_weights():
    unet = unet_generator(64, ngf=4)
    plain = unet_generator(64, ngf=4, skips=False)
    assert not [layer for layer in plain.layers if isinstance(layer, keras.layers.Concatenate)]
    assert trainable_count(plain) < trainable_count(unet)


def test_dropout_makes_training_mode_stochastic_and_eval_mode_deterministic():
    generator = unet_generator(32, ngf=4)
    x = random_images(0, 1, 32, 3)
    first, second = generator(x, training=True), generator(x, training=True)
    assert not np.allclose(to_numpy(first), to_numpy(second))
    np.testing.assert_array_equal(to_numpy(generator(x)), to_numpy(generator(x)))


@pytest.mark.parametrize(("size", "depth"), [(32, 5), (64, 6), (128, 7)])
def test_smaller_generators_keep_dropout_on_their_full_width_layers(size, depth):
    generator = unet_generator(size, ngf=1)
    widths = [layer.filters for layer in generator.layers if isinstance(layer, CDk)]
    assert widths == [8] * min(3, depth - 4)


def test_depth_follows_the_image_size():
    for size, depth in [(256, 8), (128, 7), (32, 5)]:
        encoder = [layer for layer in unet_generator(size, ngf=1).layers if "encoder" in layer.name]
        assert len(encoder) == depth


@pytest.mark.parametrize(
    ("size", "depth", "suggested"),
    [(300, None, "256 or 512"), (100, 5, "96 or 128"), (48, 6, "64")],
)
def test_a_size_the_depth_cannot_halve_is_refused_naming_valid_ones(size, depth, suggested):
    with pytest.raises(ValueError, match=f"image_size={size}.*{suggested}"):
        unet_generator(size, depth=depth)


def test_explicit_depth_accepts_multiples_of_its_power_of_two():
    generator = unet_generator(96, ngf=2, depth=5)  # 96 = 3 * 2**5: 3x3 bottleneck
    assert generator.output_shape == (None, 96, 96, 3)
