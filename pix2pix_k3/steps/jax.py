"""The JAX train and test steps: pure functions of the state Keras threads through jit.

Keras' JAX trainer passes `(trainable, non_trainable, optimizer, metrics)` value lists
in the order of `model.trainable_variables`, `model.non_trainable_variables`,
`model.optimizer.variables` and `model.metrics_variables`, and writes the returned
lists back into those variables. Each network's and each optimizer's slice is found
by variable identity (never by position), so both optimizers' state, BatchNorm's
moving statistics and dropout's seed state all advance across steps and `fit` calls.
"""

import jax
import keras
import numpy as np
from keras import ops

from pix2pix_k3 import keras_private


def positions(variables, subset):
    """Indices in `variables` of each variable of `subset`, matched by identity."""
    index = {id(variable): i for i, variable in enumerate(variables)}
    return [index[id(variable)] for variable in subset]


def take(values, where):
    return [values[i] for i in where]


def put(values, where, new_values):
    values = list(values)
    for i, value in zip(where, new_values, strict=True):
        values[i] = value
    return values


class NetworkState:
    """One network's slice of the model state: weights, statistics, optimizer state."""

    def __init__(self, model, network, optimizer, state):
        trainable, non_trainable, optimizer_values = state
        self.network, self.optimizer = network, optimizer
        self.where = (
            positions(model.trainable_variables, network.trainable_variables),
            positions(model.non_trainable_variables, network.non_trainable_variables),
            positions(model.optimizer.variables, optimizer.variables),
        )
        self.trainable, self.non_trainable, self.optimizer_values = (
            take(values, where) for values, where in zip(state, self.where, strict=True)
        )

    def forward(self, trainable, non_trainable, inputs):
        """Train-mode forward pass: (outputs, new non-trainable values). Pure."""
        return self.network.stateless_call(trainable, non_trainable, inputs, training=True)

    def scale_loss(self, loss):
        """The loss times the optimizer's current loss scale (1 unless mixed_float16)."""
        mapping = list(zip(self.optimizer.variables, self.optimizer_values, strict=True))
        with keras.StatelessScope(state_mapping=mapping):
            return self.optimizer.scale_loss(loss)

    def apply(self, grads):
        self.trainable, self.optimizer_values = self.optimizer.stateless_apply(
            self.optimizer_values, grads, self.trainable
        )

    def merge_into(self, state):
        mine = (self.trainable, self.non_trainable, self.optimizer_values)
        return tuple(
            put(values, where, new)
            for values, where, new in zip(state, self.where, mine, strict=True)
        )


def record(model, metrics_values, terms):
    """Stateless metric updates: (logs, new metrics values)."""
    logs = {}
    for tracker in model.metrics:
        where = positions(model.metrics_variables, tracker.variables)
        updated = tracker.stateless_update_state(take(metrics_values, where), terms[tracker.name])
        metrics_values = put(metrics_values, where, updated)
        logs[tracker.name] = tracker.stateless_result(updated)
    return logs, metrics_values


def generator_forward(g, inputs):
    """G(x) with dropout on, and the VJP that carries a loss gradient back through it."""
    fake, g_vjp, g.non_trainable = jax.vjp(
        lambda weights: g.forward(weights, g.non_trainable, inputs), g.trainable, has_aux=True
    )
    return fake, g_vjp


def discriminator_step(model, d, inputs, targets, fake):
    """One D update on real pairs (label 1) and generated pairs (label 0)."""
    real_pair = model.discriminator_inputs(inputs, targets)
    fake_pair = model.discriminator_inputs(inputs, ops.stop_gradient(fake))

    def loss_fn(trainable, non_trainable):
        real_logits, non_trainable = d.forward(trainable, non_trainable, real_pair)
        fake_logits, non_trainable = d.forward(trainable, non_trainable, fake_pair)
        terms = model.discriminator_terms(real_logits, fake_logits)
        return d.scale_loss(terms["d_loss"]), (terms, non_trainable)

    (_, (terms, d.non_trainable)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
        d.trainable, d.non_trainable
    )
    d.apply(grads)
    return terms


def generator_step(model, g, g_vjp, d, inputs, targets, fake):
    """One G update through the (already updated) D; `d` is None for L1 alone."""

    def loss_fn(image, d_non_trainable):
        logits = None
        if d:
            pair = model.discriminator_inputs(inputs, image)
            logits, d_non_trainable = d.forward(d.trainable, d_non_trainable, pair)
        terms = model.generator_terms(logits, image, targets)
        return g.scale_loss(terms["g_loss"]), (terms, d_non_trainable)

    (_, (terms, d_non_trainable)), fake_grad = jax.value_and_grad(loss_fn, has_aux=True)(
        fake, d.non_trainable if d else None
    )
    if d:
        d.non_trainable = d_non_trainable
    (g_grads,) = g_vjp(fake_grad)
    g.apply(g_grads)
    return terms


def train_step(model, state, data):
    trainable, non_trainable, optimizer_values, metrics_values = state
    inputs, targets, _ = keras.utils.unpack_x_y_sample_weight(data)
    model_state = (trainable, non_trainable, optimizer_values)
    g = NetworkState(model, model.generator, model.g_optimizer, model_state)
    d = None
    if model.loss_terms.uses_gan:
        d = NetworkState(model, model.discriminator, model.d_optimizer, model_state)

    fake, g_vjp = generator_forward(g, inputs)
    terms = discriminator_step(model, d, inputs, targets, fake) if d else {}
    terms.update(generator_step(model, g, g_vjp, d, inputs, targets, fake))

    for network in (g, d) if d else (g,):
        model_state = network.merge_into(model_state)
    logs, metrics_values = record(model, metrics_values, terms)
    return logs, (*model_state, metrics_values)


def test_step(model, state, data):
    trainable, non_trainable, metrics_values = state
    inputs, targets, _ = keras.utils.unpack_x_y_sample_weight(data)
    mapping = list(zip(model.trainable_variables, trainable, strict=True))
    mapping += list(zip(model.non_trainable_variables, non_trainable, strict=True))
    with keras.StatelessScope(state_mapping=mapping):
        terms = model.evaluation_terms(inputs, targets)
    logs, metrics_values = record(model, metrics_values, terms)
    return logs, (trainable, non_trainable, metrics_values)


def minimize(loss_fn, network, optimizer, state):
    """One eager update of `network` on the gradient of `loss_fn()`; returns the loss.

    `jax.value_and_grad` needs the weights as arguments: inside a `keras.StatelessScope`
    that maps `network`'s weights to the traced values, the closure's plain Keras calls
    read them, and every assignment it makes (BatchNorm's statistics, dropout's seed
    state) is held in the scope; those of `state` are written back after the update.
    """
    weights = network.trainable_variables
    mine = {id(variable) for variable in weights}
    others = [variable for variable in state if id(variable) not in mine]

    def loss_of(values):
        with keras.StatelessScope(state_mapping=list(zip(weights, values, strict=True))) as scope:
            loss = loss_fn()
        return loss, [scope.get_current_value(variable) for variable in others]

    (loss, updates), grads = jax.value_and_grad(loss_of, has_aux=True)(
        [variable.value for variable in weights]
    )
    optimizer.apply(grads, weights)
    for variable, value in zip(others, updates, strict=True):
        if value is not None:
            variable.assign(value)
    return loss


def observe(store, values):
    """`store(*arrays)` when the values are computed: under `jax.value_and_grad` or jit
    they are traced, so a `jax.debug.callback` hands them over, in call order."""
    jax.debug.callback(lambda *arrays: store(*map(np.asarray, arrays)), *values, ordered=True)


def observed():
    """Wait for every pending `observe`."""
    jax.effects_barrier()


def global_random_state():
    """Arrays of the backend's global random state that a step draws from: none here,
    every draw comes from the model's seed generators."""
    return {}


def set_global_random_state(state):
    """Put back what `global_random_state` returned (nothing to do here)."""


def load_model(path):
    """`keras.saving.load_model(path, compile=False)`, without running the initializers.

    On JAX each initializer of a new shape is an XLA compilation: loading the default
    run's generator compiled 69 of them, most of a `translate` with an empty compilation
    cache (docs/benchmarks.md). Inside `keras.StatelessScope(initialize_variables=
    False)` Keras makes the variables without values and records the file's weights
    instead of assigning them; they are assigned after the scope. A variable the file does
    not hold (a Dropout's seed state) is initialized as usual. Keras lists the variables it
    made without values and initializes them when the next stateless scope closes, raising
    for one that has a value by then: the assigned ones leave that list first
    (`keras_private.forget_assigned_variables`).
    """
    with keras.StatelessScope(initialize_variables=False) as scope:
        model = keras.saving.load_model(path, compile=False)
    for variable in model.variables:
        value = scope.get_current_value(variable)
        if value is not None:
            variable.assign(value)
    keras_private.forget_assigned_variables()
    return model
