"""The PyTorch train and test steps: eager autograd, as Keras' torch trainer runs them."""

import keras
import torch

from pix2pix_k3.fast import adam


def gradients(variables):
    return [variable.value.grad for variable in variables]


def zero_grad(variables):
    for variable in variables:
        variable.value.grad = None


def apply_gradients(optimizer, variables):
    """The optimizer's update from the gradients autograd left on `variables`."""
    grads = gradients(variables)
    if adam.fused_applies(optimizer, grads, variables):
        adam.fused_apply(optimizer, grads, variables)
    else:
        optimizer.apply(grads, variables)


def generator_forward(model, inputs):
    """G(x) with dropout on; autograd keeps its graph for the generator step."""
    return model.generator(inputs, training=True)


def discriminator_step(model, inputs, targets, fake):
    """One D update on real pairs (label 1) and generated pairs (label 0)."""
    d = model.discriminator
    real_logits = d(model.discriminator_inputs(inputs, targets), training=True)
    fake_logits = d(model.discriminator_inputs(inputs, fake.detach()), training=True)
    terms = model.discriminator_terms(real_logits, fake_logits)
    zero_grad(d.trainable_variables)
    model.d_optimizer.scale_loss(terms["d_loss"]).backward()  # scaled under mixed_float16
    with torch.no_grad():
        apply_gradients(model.d_optimizer, d.trainable_variables)
    return {name: value.detach() for name, value in terms.items()}


def generator_step(model, inputs, targets, fake):
    """One G update through the (already updated) D, frozen so it gets no gradients."""
    g, d = model.generator, model.discriminator
    logits = None
    if model.loss_terms.uses_gan:
        for variable in d.trainable_variables:
            variable.value.requires_grad_(False)
        try:
            logits = d(model.discriminator_inputs(inputs, fake), training=True)
        finally:
            for variable in d.trainable_variables:
                variable.value.requires_grad_(True)
    terms = model.generator_terms(logits, fake, targets)
    zero_grad(g.trainable_variables)
    model.g_optimizer.scale_loss(terms["g_loss"]).backward()
    with torch.no_grad():
        apply_gradients(model.g_optimizer, g.trainable_variables)
    return {name: value.detach() for name, value in terms.items()}


def tensors(data):
    """(inputs, targets) as torch tensors: `fit` converts NumPy batches, `train_on_batch`
    and `test_on_batch` on this backend do not."""
    inputs, targets, _ = keras.utils.unpack_x_y_sample_weight(data)
    return keras.ops.convert_to_tensor(inputs), keras.ops.convert_to_tensor(targets)


def train_step(model, data):
    inputs, targets = tensors(data)
    fake = generator_forward(model, inputs)
    terms = discriminator_step(model, inputs, targets, fake) if model.loss_terms.uses_gan else {}
    terms.update(generator_step(model, inputs, targets, fake))
    return model.record(terms)


def test_step(model, data):
    inputs, targets = tensors(data)
    with torch.no_grad():
        return model.record(model.evaluation_terms(inputs, targets))


def minimize(loss_fn, network, optimizer, state):
    """One eager update of `network` on the gradient of `loss_fn()`; returns the loss.
    `torch.autograd.grad` differentiates for `network`'s weights alone, so the other
    network's `.grad` stays untouched; eager torch updates `state` as the closure runs."""
    loss = loss_fn()
    weights = network.trainable_variables
    grads = torch.autograd.grad(loss, [variable.value for variable in weights])
    with torch.no_grad():
        optimizer.apply(list(grads), weights)
    return loss.detach()


def observe(store, values):
    """`store(*arrays)` now: eager torch has the values."""
    store(*(keras.ops.convert_to_numpy(value) for value in values))


def observed():
    """Nothing to wait for: `observe` stored the values as it was called."""


def global_random_state():
    """torch's global generators: Keras' unseeded dropout draws its masks from them."""
    state = {"torch_cpu": torch.get_rng_state().numpy()}
    if torch.cuda.is_available():
        for i, cuda in enumerate(torch.cuda.get_rng_state_all()):
            state[f"torch_cuda{i:02d}"] = cuda.numpy()
    return state


def set_global_random_state(state):
    """Put back what `global_random_state` returned."""
    torch.set_rng_state(torch.from_numpy(state["torch_cpu"]))
    cuda = [torch.from_numpy(state[key]) for key in sorted(state) if "cuda" in key]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda)


def load_model(path):
    """`keras.saving.load_model(path, compile=False)`: initializers cost nothing to run here."""
    return keras.saving.load_model(path, compile=False)
