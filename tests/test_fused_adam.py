"""The torch step's fused Adam is Keras' Adam: same variables, same updates, same state.

The torch step applies Keras' Adam with torch's fused kernel (`pix2pix_k3.fast.adam`,
one pass over the weights instead of ten) where the fast forms run. These tests hold it
to Keras' own `optimizer.apply`, step by step, and check that any option the kernel does
not share falls back to Keras.
"""

import keras
import numpy as np
import pytest

pytestmark = pytest.mark.skipif(keras.backend.backend() != "torch", reason="the torch step")

TOLERANCE = 1e-6  # float32 arithmetic in another order


SHAPES = [(4, 4, 3, 8), (8,)]  # a kernel and a bias


def variables(seed):
    rng = np.random.default_rng(seed)
    return [keras.Variable(rng.normal(size=s).astype("float32")) for s in SHAPES]


def gradient_steps(seed, steps):
    rng = np.random.default_rng(seed)
    return [[rng.normal(size=s).astype("float32") for s in SHAPES] for _ in range(steps)]


def run(apply, optimizer, seed=0, steps=6):
    import torch

    weights = variables(seed)
    for grads in gradient_steps(seed + 1, steps):
        apply(optimizer, [torch.tensor(g) for g in grads], weights)
    return [w.numpy() for w in weights], [v.numpy() for v in optimizer.variables]


def keras_apply(optimizer, grads, weights):
    optimizer.apply(grads, weights)


def step_apply(optimizer, grads, weights):
    """As the torch step applies gradients: Keras on the first call (it builds), fused after."""
    from pix2pix_k3.steps import torch as step

    for weight, grad in zip(weights, grads, strict=True):
        weight.value.grad = grad
    step.apply_gradients(optimizer, weights)


@pytest.mark.parametrize("schedule", [False, True])
def test_fused_adam_updates_as_keras_adam(schedule):
    def adam():
        rate = keras.optimizers.schedules.ExponentialDecay(1e-2, 2, 0.5) if schedule else 1e-2
        return keras.optimizers.Adam(learning_rate=rate, beta_1=0.5, epsilon=1e-3)

    want_weights, want_state = run(keras_apply, adam())
    start = [w.numpy() for w in variables(0)]
    got_weights, got_state = run(step_apply, adam())
    for got, want, before in zip(got_weights, want_weights, start, strict=True):
        assert np.abs(want - before).max() > 1e-2  # the steps moved the weights
        np.testing.assert_allclose(got, want, atol=TOLERANCE)
    for got, want in zip(got_state, want_state, strict=True):  # iterations, momenta, velocities
        np.testing.assert_allclose(got, want, atol=TOLERANCE, rtol=1e-5)


@pytest.mark.parametrize(
    "optimizer",
    [
        lambda: keras.optimizers.Adam(clipnorm=0.1),
        lambda: keras.optimizers.Adam(amsgrad=True),
        lambda: keras.optimizers.Adam(weight_decay=0.1),
        lambda: keras.optimizers.AdamW(),
        lambda: keras.optimizers.SGD(),
    ],
    ids=["clipnorm", "amsgrad", "weight_decay", "AdamW", "SGD"],
)
def test_other_optimizers_are_applied_by_keras(optimizer):
    want_weights, _ = run(keras_apply, optimizer())
    got_weights, _ = run(step_apply, optimizer())
    for got, want in zip(got_weights, want_weights, strict=True):
        np.testing.assert_allclose(got, want, atol=TOLERANCE)
    assert not fused_applies(optimizer())


def test_keras_adam_is_fused_unless_the_fast_forms_are_off():
    from pix2pix_k3 import fast

    assert fused_applies(keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5))
    with fast.use("keras"):
        assert not fused_applies(keras.optimizers.Adam(learning_rate=2e-4, beta_1=0.5))


def fused_applies(optimizer):
    from pix2pix_k3.fast import adam

    weights = variables(0)
    optimizer.build(weights)
    return adam.fused_applies(optimizer, [w.value for w in weights], weights)
