"""The TensorFlow train and test steps: GradientTape, run inside Keras' tf.function."""

import keras
import tensorflow as tf

# Grappler's remapper gives up on this train step ("remapper failed: INVALID_ARGUMENT:
# Mutation::Apply error", logged as an error at every trace) and leaves it unfused; with
# the remapper off there is no such line and the step is no slower (docs/benchmarks.md). For
# this process.
tf.config.optimizer.set_experimental_options({"remapping": False})


def generator_forward(model, inputs, g_tape):
    """G(x) with dropout on, recorded on `g_tape` for the generator step."""
    with g_tape:
        return model.generator(inputs, training=True)


def discriminator_step(model, inputs, targets, fake):
    """One D update on real pairs (label 1) and generated pairs (label 0)."""
    d = model.discriminator
    with tf.GradientTape() as tape:
        real_logits = d(model.discriminator_inputs(inputs, targets), training=True)
        fake_pair = model.discriminator_inputs(inputs, tf.stop_gradient(fake))
        fake_logits = d(fake_pair, training=True)
        terms = model.discriminator_terms(real_logits, fake_logits)
        scaled = model.d_optimizer.scale_loss(terms["d_loss"])  # mixed_float16; else as is
    grads = tape.gradient(scaled, d.trainable_variables)
    model.d_optimizer.apply(grads, d.trainable_variables)
    return terms


def generator_step(model, g_tape, inputs, targets, fake):
    """One G update through the (already updated) D, on the tape holding G(x)."""
    g = model.generator
    with g_tape:
        logits = None
        if model.loss_terms.uses_gan:
            logits = model.discriminator(model.discriminator_inputs(inputs, fake), training=True)
        terms = model.generator_terms(logits, fake, targets)
        scaled = model.g_optimizer.scale_loss(terms["g_loss"])
    grads = g_tape.gradient(scaled, g.trainable_variables)
    model.g_optimizer.apply(grads, g.trainable_variables)
    return terms


def train_step(model, data):
    inputs, targets, _ = keras.utils.unpack_x_y_sample_weight(data)
    g_tape = tf.GradientTape()
    fake = generator_forward(model, inputs, g_tape)
    terms = discriminator_step(model, inputs, targets, fake) if model.loss_terms.uses_gan else {}
    terms.update(generator_step(model, g_tape, inputs, targets, fake))
    return model.record(terms)


def test_step(model, data):
    inputs, targets, _ = keras.utils.unpack_x_y_sample_weight(data)
    return model.record(model.evaluation_terms(inputs, targets))


def minimize(loss_fn, network, optimizer, state):
    """One eager update of `network` on the gradient of `loss_fn()`; returns the loss.
    Eager TensorFlow updates `state` (statistics, seed states) as the closure runs."""
    with tf.GradientTape() as tape:
        loss = loss_fn()
    optimizer.apply(tape.gradient(loss, network.trainable_variables), network.trainable_variables)
    return loss


def observe(store, values):
    """`store(*arrays)` now: eager TensorFlow has the values."""
    store(*(keras.ops.convert_to_numpy(value) for value in values))


def observed():
    """Nothing to wait for: `observe` stored the values as it was called."""


def global_random_state():
    """Arrays of the backend's global random state that a step draws from: none here,
    every draw comes from the model's seed generators."""
    return {}


def set_global_random_state(state):
    """Put back what `global_random_state` returned (nothing to do here)."""


def load_model(path):
    """`keras.saving.load_model(path, compile=False)`: initializers cost nothing to run here."""
    return keras.saving.load_model(path, compile=False)
