"""Why `Pix2Pix` keeps its own `OptimizerPair`, checked against the installed Keras.

Keras' `MultiOptimizer` would be the idiom, and these tests fail the day it can carry
pix2pix: an update of one network's variables alone (D, then G, each step), and a loss
scale of each network's own under `mixed_float16`. When one fails, read the docstring of
`pix2pix_k3.model.OptimizerPair` and replace the class.
"""

import keras
import pytest
from helpers import random_images, to_numpy

from pix2pix_k3 import build_pix2pix
from pix2pix_k3.model import OptimizerPair

LIFTED = "Keras' MultiOptimizer now {}: OptimizerPair may give way to it (see its docstring)."


def two_networks():
    g = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)], name="g")
    d = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)], name="d")
    return g, d


def test_multi_optimizer_still_cannot_update_one_network_alone():
    g, d = two_networks()
    g_adam, d_adam = keras.optimizers.Adam(), keras.optimizers.Adam()
    in_g = {id(v) for v in g.trainable_variables}
    multi = keras.optimizers.MultiOptimizer(lambda v: g_adam if id(v) in in_g else d_adam)
    multi.build(g.trainable_variables + d.trainable_variables)
    grads = [keras.ops.ones(v.shape) for v in d.trainable_variables]
    try:
        multi.apply(grads, d.trainable_variables)
    except ValueError as error:
        assert "one-to-one" in str(error)
    else:
        pytest.fail(LIFTED.format("applies one network's gradients alone"))


def test_multi_optimizer_still_refuses_a_loss_scale_per_network():
    g, _ = two_networks()
    scaled = keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam())
    multi = keras.optimizers.MultiOptimizer(lambda v: scaled)
    with pytest.raises(ValueError, match="LossScaleOptimizer"):
        multi.build(g.trainable_variables)


def test_the_pair_lists_both_optimizers_and_sets_both_learning_rates():
    """What Keras sees as `model.optimizer`: each network's Adam state, one rate."""
    model = build_pix2pix(32, ngf=4, ndf=4, receptive_field=16)
    model.compile()
    pair = model.optimizer
    assert isinstance(pair, OptimizerPair) and pair.built
    ids = [id(v) for v in pair.variables]
    assert ids == [id(v) for v in (*model.g_optimizer.variables, *model.d_optimizer.variables)]
    pair.learning_rate = 1e-5
    rates = [float(to_numpy(o.learning_rate)) for o in (model.g_optimizer, model.d_optimizer)]
    assert rates == pytest.approx([1e-5, 1e-5])
    x, y = random_images(1, 2, 32, 3), random_images(2, 2, 32, 3)
    model.fit(x, y, batch_size=2, epochs=1, verbose=0)
    assert int(to_numpy(pair.iterations)) == 1  # one train step, whatever each optimizer did
    assert int(to_numpy(model.d_optimizer.iterations)) == 1
