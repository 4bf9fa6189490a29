"""pix2pix_spec.introspect derives a network's layer list from the network as it runs:
Keras 3 models on this pass's backend, tf.keras (the tensorflow pass), torch modules (the
torch pass); it measures what it reads, and refuses to guess where it cannot read."""

import importlib.util
import subprocess
import sys

import keras
import numpy as np
import pytest
from pix2pix_spec.introspect import CannotDerive, derive

from pix2pix_k3 import patchgan_discriminator, unet_generator

BACKEND = keras.backend.backend()


def images(size, channels=3, count=1):
    return np.random.default_rng(0).uniform(-1, 1, (count, size, size, channels)).astype("float32")


def keras_layers(model, *inputs):
    return derive(model, lambda: model(*inputs, training=False))


def summary(layers, *fields):
    return [tuple(layer.get(name) for name in fields) for layer in layers]


def test_the_u_net_is_read_as_the_appendix_writes_it():
    layers = keras_layers(unet_generator(32), images(32))  # depth 5: C64-C128-C256-C512-C512
    assert summary(layers, "part", "filters", "norm", "dropout", "slope") == [
        ("encoder", 64, "none", 0.0, 0.2),
        ("encoder", 128, "batch", 0.0, 0.2),
        ("encoder", 256, "batch", 0.0, 0.2),
        ("encoder", 512, "batch", 0.0, 0.2),
        ("encoder", 512, "none", 0.0, 0.2),
        ("decoder", 512, "batch", 0.5, 0.0),
        ("decoder", 256, "batch", 0.0, 0.0),
        ("decoder", 128, "batch", 0.0, 0.0),
        ("decoder", 64, "batch", 0.0, 0.0),
    ]
    assert {layer["upsampling"] for layer in layers if layer["part"] == "decoder"} == {"transposed"}
    assert {(layer["kernel"], layer["stride"]) for layer in layers} == {(4, 2)}
    assert all(layer["source"] == "derived" and "disagreements" not in layer for layer in layers)


def test_the_patchgan_and_instance_normalisation():
    patchgan = patchgan_discriminator(70, norm="instance")
    layers = derive(patchgan, lambda: patchgan([images(64), images(64)], training=False))
    assert summary(layers, "filters", "norm", "stride", "slope") == [
        (64, "none", 2, 0.2),
        (128, "instance", 2, 0.2),
        (256, "instance", 2, 0.2),
        (512, "instance", 1, 0.2),
    ]


def resize_decoder():
    """Sequential, resize + convolution, an activation given as Conv2D(activation=...)."""
    return keras.Sequential(
        [
            keras.Input((16, 16, 3)),
            keras.layers.Conv2D(8, 4, strides=2, padding="same"),
            keras.layers.LeakyReLU(0.2),
            keras.layers.UpSampling2D(2),
            keras.layers.Conv2D(8, 3, padding="same", activation="relu"),
            keras.layers.Dropout(0.25),
            keras.layers.Conv2D(3, 1, activation="tanh"),
        ]
    )


def test_resize_and_convolution_is_not_a_transposed_convolution():
    model = resize_decoder()
    layers = keras_layers(model, images(16))
    assert summary(layers, "part", "filters", "slope", "dropout", "upsampling") == [
        ("encoder", 8, 0.2, 0.0, None),
        ("decoder", 8, 0.0, 0.25, "resize"),
    ]


@keras.saving.register_keras_serializable(package="test_spec_introspect")
class SlopeSaysOneThing(keras.layers.LeakyReLU):
    """A LeakyReLU whose attribute says 0.2 and whose computation uses 0.3."""

    def call(self, inputs):
        return keras.ops.leaky_relu(inputs, negative_slope=0.3)


@keras.saving.register_keras_serializable(package="test_spec_introspect")
class HandMadeActivation(keras.layers.Layer):
    """max(x, 0.2 x), written with ops: an activation the derivation cannot read."""

    def call(self, inputs):
        return keras.ops.maximum(inputs, 0.2 * inputs)


def small(activation):
    return keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            keras.layers.Conv2D(4, 4, strides=2, padding="same"),
            activation,
            keras.layers.Conv2D(1, 4, padding="same"),
        ]
    )


def test_an_activation_is_measured_and_a_contradiction_kept():
    (layer,) = keras_layers(small(SlopeSaysOneThing(negative_slope=0.2)), images(8))
    assert layer["slope"] == pytest.approx(0.3)
    assert layer["disagreements"]["slope"] == "SlopeSaysOneThing says slope 0.2 but computes 0.3"


def test_a_custom_layer_it_cannot_read_is_refused_not_guessed():
    model = small(HandMadeActivation())
    with pytest.raises(CannotDerive, match="HandMadeActivation.*does not interpret"):
        keras_layers(model, images(8))


def test_objects_of_no_known_framework_and_idle_runs_are_refused():
    with pytest.raises(CannotDerive, match="neither a Keras 3 model nor a torch.nn.Module"):
        derive(object(), lambda: None)
    with pytest.raises(CannotDerive, match="no convolution executed"):
        derive(unet_generator(32), lambda: None)


@pytest.mark.skipif(BACKEND != "tensorflow", reason="tf.keras: the tensorflow pass")
def test_tf_keras_models_are_read():
    import tensorflow as tf

    model = tf.keras.Sequential(
        [
            tf.keras.Input((16, 16, 3)),
            tf.keras.layers.Conv2D(8, 4, strides=2, padding="same"),
            tf.keras.layers.BatchNormalization(),
            tf.keras.layers.LeakyReLU(),  # Keras' default slope: 0.3
            tf.keras.layers.Conv2DTranspose(3, 4, strides=2, padding="same"),
        ]
    )
    (layer,) = derive(model, lambda: model(images(16), training=False))
    assert (layer["filters"], layer["norm"], layer["slope"]) == (8, "batch", 0.3)


# --- torch -------------------------------------------------------------------------------

torch_only = pytest.mark.skipif(
    BACKEND != "torch" or importlib.util.find_spec("torch") is None,
    reason="torch modules: the torch pass",
)


def torch_run(module, size=16, channels=3):
    import torch

    x = torch.from_numpy(images(size, channels).transpose(0, 3, 1, 2).copy())

    def run():
        with torch.no_grad():
            module.eval()
            module(x)

    return run


@torch_only
def test_torch_pre_activation_blocks_nested_as_the_authors_write_them():
    """Each inner block opens with the activation of the block before it (the authors'
    UnetSkipConnectionBlock): the activation still belongs to the convolution it follows."""
    from torch import nn

    innermost = nn.Sequential(nn.LeakyReLU(0.2), nn.Conv2d(8, 8, 4, 2, 1), nn.ReLU(),
                              nn.ConvTranspose2d(8, 8, 4, 2, 1), nn.BatchNorm2d(8))  # fmt: skip
    middle = nn.Sequential(nn.LeakyReLU(0.2), nn.Conv2d(4, 8, 4, 2, 1), nn.BatchNorm2d(8),
                           innermost, nn.ReLU(), nn.ConvTranspose2d(8, 4, 4, 2, 1),
                           nn.InstanceNorm2d(4), nn.Dropout(0.5))  # fmt: skip
    outer = nn.Sequential(nn.Conv2d(3, 4, 4, 2, 1), middle, nn.ReLU(),
                          nn.ConvTranspose2d(4, 3, 4, 2, 1), nn.Tanh())  # fmt: skip
    layers = derive(outer, torch_run(outer))
    assert summary(layers, "part", "filters", "norm", "dropout", "slope") == [
        ("encoder", 4, "none", 0.0, 0.2),
        ("encoder", 8, "batch", 0.0, 0.2),
        ("encoder", 8, "none", 0.0, 0.0),
        ("decoder", 8, "batch", 0.0, 0.0),
        ("decoder", 4, "instance", 0.5, 0.0),
    ]


@torch_only
def test_torch_functional_code_is_read_and_hand_made_activations_refused():
    import torch
    from torch import nn
    from torch.nn import functional

    class Functional(nn.Module):
        def __init__(self, hand_made):
            super().__init__()
            self.first, self.last = nn.Conv2d(3, 4, 4, 2, 1), nn.Conv2d(4, 1, 4, 1, 1)
            self.hand_made = hand_made

        def forward(self, x):
            x = self.first(x)
            x = torch.where(x > 0, x, 0.2 * x) if self.hand_made else functional.leaky_relu(x, 0.1)
            x = functional.dropout(x, 0.3, self.training)
            return self.last(x)

    read = Functional(hand_made=False)
    (layer,) = derive(read, torch_run(read))
    assert (layer["filters"], layer["slope"], layer["dropout"]) == (4, 0.1, 0.3)
    refused = Functional(hand_made=True)
    with pytest.raises(CannotDerive, match=r"torch\.where"):
        derive(refused, torch_run(refused))


def test_importing_the_introspection_imports_no_framework():
    code = (
        "import sys, pix2pix_spec.introspect, pix2pix_spec.graded; "
        "print(sorted(m for m in ('torch', 'keras', 'tensorflow', 'jax') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
