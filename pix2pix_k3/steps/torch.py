"""The PyTorch train and test steps: eager autograd, as Keras' torch trainer runs them."""

import math

import keras
import torch


def gradients(variables):
    return [variable.value.grad for variable in variables]


def zero_grad(variables):
    for variable in variables:
        variable.value.grad = None


def fused_adam_applies(optimizer, grads, variables):
    """Whether `fused_adam` computes exactly what `optimizer.apply` would.

    That is Keras' own Adam, built, with none of the options the fused kernel does not
    share with it (clipping, weight decay, AMSGrad, EMA, accumulation, loss scaling,
    constraints), float32 variables and a gradient for each.
    """
    return (
        hasattr(torch, "_fused_adam_")
        and type(optimizer).__name__ == "Adam"
        and isinstance(optimizer, keras.optimizers.Adam)
        and optimizer.built
        and not optimizer.amsgrad
        and not optimizer.use_ema
        and optimizer.weight_decay is None
        and optimizer.clipnorm is None
        and optimizer.clipvalue is None
        and optimizer.global_clipnorm is None
        and optimizer.gradient_accumulation_steps is None
        and optimizer.loss_scale_factor is None
        and all(g is not None for g in grads)
        and all(
            v.dtype == "float32" and v.constraint is None and not v.overwrite_with_gradient
            for v in variables
        )
    )


def fused_adam(optimizer, grads, variables):
    """Keras' Adam update of `variables` in one pass of torch's fused kernel.

    Keras' own torch Adam makes ten passes over every variable (five of them into
    fresh temporaries), about a quarter of a 256x256 step on a CPU. The update is the
    same: Keras divides by sqrt(v) + eps after scaling the step by sqrt(1 - beta_2^t),
    torch divides by sqrt(v) / sqrt(1 - beta_2^t) + eps, so torch's eps is Keras' eps
    over sqrt(1 - beta_2^t). Momenta, velocities and the step count stay Keras'
    variables, so checkpoints do not change.
    """
    step = int(optimizer.iterations.value) + 1
    index = optimizer._get_variable_index
    torch._fused_adam_(
        [v.value for v in variables],
        list(grads),
        [optimizer._momentums[index(v)].value for v in variables],
        [optimizer._velocities[index(v)].value for v in variables],
        [],
        [torch.tensor(float(step), device=variables[0].value.device)] * len(variables),
        amsgrad=False,
        lr=float(optimizer.learning_rate),
        beta1=float(optimizer.beta_1),
        beta2=float(optimizer.beta_2),
        weight_decay=0.0,
        eps=float(optimizer.epsilon) / math.sqrt(1 - float(optimizer.beta_2) ** step),
        maximize=False,
    )
    optimizer.iterations.assign_add(1)


def apply_gradients(optimizer, variables):
    """The optimizer's update from the gradients autograd left on `variables`."""
    grads = gradients(variables)
    if fused_adam_applies(optimizer, grads, variables):
        fused_adam(optimizer, grads, variables)
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


def on_accelerator():
    """Whether torch has CUDA (or Apple's MPS) here."""
    mps = getattr(torch.backends, "mps", None)
    return torch.cuda.is_available() or bool(mps and mps.is_available())


def load_model(path):
    """`keras.saving.load_model(path, compile=False)`: initializers cost nothing to run here."""
    return keras.saving.load_model(path, compile=False)
