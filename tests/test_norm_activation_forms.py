"""BatchNorm and LeakyReLU in their torch forms: the same functions as Keras' layers.

`pix2pix_k3.fast.norm.BatchNormalization` normalizes with torch's `batch_norm` in
training mode, and `pix2pix_k3.fast.activation.LeakyReLU` keeps its output, not its
input, for the gradient, in the torch forms (torch on a CPU). These tests hold them to
batch normalization's formula (outputs, gradients and Keras' moving averages, in
float64), to Keras' layers alone and inside a block through a training update, and to
keeping what they say they keep.
"""

import functools

import keras
import numpy as np
import pytest
from helpers import to_numpy
from hypothesis import given
from hypothesis import strategies as st

from pix2pix_k3 import fast
from pix2pix_k3.blocks import Ck
from pix2pix_k3.fast.activation import LeakyReLU
from pix2pix_k3.fast.norm import BatchNormalization

torch_only = pytest.mark.skipif(keras.backend.backend() != "torch", reason="torch forms")
EPSILON, MOMENTUM = 1e-5, 0.9  # the blocks' BatchNorm


def batch_norm(rng, channels):
    """Our BatchNormalization, built, with random scale, offset and moving statistics."""
    layer = BatchNormalization(momentum=MOMENTUM, epsilon=EPSILON)
    layer.build((None, None, None, channels))
    gamma, beta, mean = (rng.normal(m, 0.5, channels) for m in (1, 0, 0))
    variance = rng.uniform(0.5, 2, channels)
    layer.set_weights([v.astype("float32") for v in (gamma, beta, mean, variance)])
    return layer


@torch_only
@given(
    shape=st.tuples(st.integers(1, 3), st.integers(1, 5), st.integers(1, 5), st.integers(1, 4)),
    seed=st.integers(0, 2**16),
)
def test_batch_norm_torch_form_is_the_formula(shape, seed):
    import torch

    rng = np.random.default_rng(seed)
    layer = batch_norm(rng, shape[-1])
    gamma, beta, moving_mean, moving_variance = (to_numpy(w) for w in layer.weights)
    x = rng.normal(rng.normal(), rng.uniform(0.1, 3), shape).astype("float32")
    weights = rng.normal(size=shape)  # the loss is sum(weights * output)

    inputs = torch.tensor(x, requires_grad=True)
    with fast.use("torch"):
        outputs = layer(inputs, training=True)
    (outputs * torch.tensor(weights, dtype=torch.float32)).sum().backward()

    xd, gd, bd = (
        torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (x, gamma, beta)
    )
    mean, variance = xd.mean(dim=(0, 1, 2)), xd.var(dim=(0, 1, 2), correction=0)
    want = (xd - mean) / torch.sqrt(variance + EPSILON) * gd + bd
    (want * torch.tensor(weights)).sum().backward()

    def close(got, expected):
        expected = expected.detach().numpy() if torch.is_tensor(expected) else expected
        np.testing.assert_allclose(to_numpy(got), expected, rtol=1e-4, atol=1e-4)

    close(outputs, want)
    close(inputs.grad, xd.grad)
    close(layer.gamma.value.grad, gd.grad)
    close(layer.beta.value.grad, bd.grad)
    mean, variance = mean.detach().numpy(), variance.detach().numpy()
    close(layer.moving_mean, moving_mean * MOMENTUM + mean * (1 - MOMENTUM))
    close(layer.moving_variance, moving_variance * MOMENTUM + variance * (1 - MOMENTUM))


@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_computes_what_keras_computes(training):
    """With the default forms of each backend (torch's on torch, Keras' elsewhere)."""
    rng = np.random.default_rng(1)
    ours = batch_norm(rng, 3)
    keras_layer = keras.layers.BatchNormalization(momentum=MOMENTUM, epsilon=EPSILON)
    keras_layer.build((None, None, None, 3))
    keras_layer.set_weights(ours.get_weights())
    x = rng.normal(2, 3, (2, 4, 5, 3)).astype("float32")
    np.testing.assert_allclose(
        to_numpy(ours(x, training=training)), to_numpy(keras_layer(x, training=training)),
        atol=1e-5,
    )  # fmt: skip
    for got, want in zip(ours.get_weights(), keras_layer.get_weights(), strict=True):
        np.testing.assert_allclose(got, want, atol=1e-6)


def one_update(block, x, y):
    """The block's weights after one SGD step on the squared error."""
    model = keras.Sequential([keras.Input(x.shape[1:]), block])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    model.train_on_batch(x, y)
    return [to_numpy(w) for w in block.weights]


@torch_only
@pytest.mark.parametrize(
    "options",
    [
        {"filters": 6},  # conv, BatchNorm, LeakyReLU
        {"filters": 6, "norm": "none"},  # conv (+ bias), LeakyReLU
        {"filters": 6, "transpose": True},  # transposed conv, BatchNorm, ReLU
    ],
    ids=["encoder", "no_norm", "decoder"],
)
def test_a_block_in_torch_forms_trains_as_with_keras_layers(options):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 8, 8, 4)).astype("float32")
    blocks = [Ck(**options), Ck(**options)]
    for block in blocks:
        block.build(x.shape)
    blocks[1].set_weights(blocks[0].get_weights())
    y = rng.normal(size=blocks[0].compute_output_shape(x.shape)).astype("float32")
    before = blocks[0].get_weights()
    with fast.use("torch"):
        updated = one_update(blocks[0], x, y)
    with fast.use("keras"):
        expected = one_update(blocks[1], x, y)
    assert any(np.abs(w - b).max() > 1e-3 for w, b in zip(expected, before, strict=True))
    for got, want in zip(updated, expected, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-5)


def keep(kept, tensor):
    """A saved-tensor hook that records what autograd keeps."""
    kept.append(tensor)
    return tensor


@torch_only
@pytest.mark.parametrize("slope", [0.2, 0.0])  # Keras refuses negative slopes
def test_leaky_relu_torch_form_keeps_only_its_output(slope):
    """Same values and gradients as Keras' layer; with a positive slope, what autograd
    keeps for the gradient is the output (which the next layer keeps anyway)."""
    import torch

    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 3, 3, 2)).astype("float32")
    x[0, 0, 0, 0] = 0.0  # the kink: both take the slope's side
    weights = torch.tensor(rng.normal(size=x.shape).astype("float32"))
    results = {}
    for name, layer in (("keras", keras.layers.LeakyReLU(slope)), ("ours", LeakyReLU(slope))):
        inputs = torch.tensor(x, requires_grad=True)
        kept = []
        with (
            fast.use("torch"),
            torch.autograd.graph.saved_tensors_hooks(functools.partial(keep, kept), lambda t: t),
        ):
            outputs = layer(inputs)
        (outputs * weights).sum().backward()
        results[name] = (to_numpy(outputs), to_numpy(inputs.grad), outputs, inputs, kept)
    for got, want in zip(results["ours"][:2], results["keras"][:2], strict=True):
        np.testing.assert_array_equal(got, want)
    outputs, inputs, kept = results["ours"][2:]
    if slope > 0:
        assert [t.data_ptr() for t in kept] == [outputs.data_ptr()]
    assert all(t.data_ptr() != inputs.data_ptr() for t in kept) is (slope > 0)


@pytest.mark.parametrize(
    "layer",
    [
        lambda: BatchNormalization(momentum=MOMENTUM, epsilon=EPSILON),
        lambda: LeakyReLU(negative_slope=0.2),
    ],
    ids=["BatchNormalization", "LeakyReLU"],
)
def test_config_round_trip_keeps_the_class(layer):
    layer = layer()
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(restored) is type(layer)
    assert restored.get_config() == layer.get_config()
