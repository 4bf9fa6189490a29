"""Ck and CDk, the paper's blocks (appendix 6.1): shapes, activations, init, config."""

import keras
import numpy as np
import pytest
from helpers import random_images, to_numpy

from pix2pix_k3 import CDk, Ck


def identity_block(**kwargs):
    """A Ck whose convolution is the identity, so the block shows its activation."""
    block = Ck(1, norm="none", use_bias=False, kernel_size=1, strides=1, padding=0, **kwargs)
    block.build((None, 4, 4, 1))
    block.conv.kernel.assign(np.ones((1, 1, 1, 1), "float32"))
    return block


def test_encoder_form_downsamples_by_two():
    assert Ck(16)(random_images(0, 2, 32, 3)).shape == (2, 16, 16, 16)


def test_decoder_forms_upsample_by_two():
    x = random_images(0, 2, 8, 5)
    assert Ck(16, transpose=True)(x).shape == (2, 16, 16, 16)
    assert CDk(16)(x).shape == (2, 16, 16, 16)


def test_encoder_activation_is_leaky_relu_with_slope_0_2():
    x = np.linspace(-3, 3, 16, dtype="float32").reshape(1, 4, 4, 1)
    np.testing.assert_allclose(
        to_numpy(identity_block()(x)), np.where(x > 0, x, 0.2 * x), rtol=1e-6
    )


def test_decoder_activation_is_relu():
    block = Ck(1, transpose=True, norm="none", use_bias=False, kernel_size=1, strides=1)
    block.build((None, 4, 4, 1))
    block.conv.kernel.assign(np.ones((1, 1, 1, 1), "float32"))
    x = np.linspace(-3, 3, 16, dtype="float32").reshape(1, 4, 4, 1)
    np.testing.assert_allclose(to_numpy(block(x)), np.maximum(x, 0), rtol=1e-6)


def test_cdk_drops_half_at_train_time_and_nothing_at_test_time():
    block = CDk(64, norm="none")
    x = np.ones((4, 8, 8, 64), "float32")
    train = to_numpy(block(x, training=True))
    test = to_numpy(block(x, training=False))
    dropped = np.mean(train[test > 0] == 0)
    assert 0.4 < dropped < 0.6, f"CDk dropped {dropped:.2f} of activations at train time, want 0.5"
    np.testing.assert_allclose(train[train > 0], 2 * test[train > 0], rtol=1e-5)


def test_bias_only_without_batchnorm():
    assert not Ck(8, norm="batch").use_bias
    assert Ck(8, norm="instance").use_bias
    assert Ck(8, norm="none").use_bias


def test_weights_are_drawn_from_the_papers_gaussians():
    block = Ck(256, norm="batch")
    block.build((None, 8, 8, 256))
    kernel = to_numpy(block.conv.kernel)
    gamma = to_numpy(block.norm_layer.gamma)
    assert abs(kernel.mean()) < 1e-3 and abs(kernel.std() - 0.02) < 5e-4
    assert abs(gamma.mean() - 1.0) < 6e-3 and abs(gamma.std() - 0.02) < 6e-3


def test_instance_norm_normalises_each_channel_of_each_image():
    block = Ck(8, norm="instance")
    out = to_numpy(block.norm_layer(3.0 + 2.0 * random_images(1, 2, 8, 8)))
    np.testing.assert_allclose(out.mean(axis=(1, 2)), 0.0, atol=1e-4)
    np.testing.assert_allclose(out.std(axis=(1, 2)), 1.0, atol=1e-2)


@pytest.mark.parametrize(
    "layer",
    [
        Ck(32, norm="instance", strides=1, padding=1),
        Ck(8, transpose=True, dropout=0.25, activation="none"),
        CDk(16, norm="none", rate=0.3),
    ],
    ids=["Ck", "Ck-transpose", "CDk"],
)
def test_config_round_trip(layer):
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(restored) is type(layer) and restored.get_config() == layer.get_config()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"norm": "layer"}, "norm='layer'"),
        ({"activation": "gelu"}, "activation='gelu'"),
        ({"padding": "valid"}, "padding must be"),
    ],
)
def test_bad_options_are_named_in_the_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Ck(8, **kwargs)
