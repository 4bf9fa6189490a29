"""One train/test step module per Keras backend, all of the same shape.

Every loss and metric comes from `Pix2Pix` in `keras.ops`; a step module holds only the
mechanics of gradients and updates. Each defines the same functions, in this order (the
arguments in brackets are the backend's own carriers of state and gradients):

- `generator_forward(model-or-G [, carrier], inputs)`: `fake = G(inputs)` with dropout
  on, kept differentiable for the generator step. JAX also returns the VJP that carries
  a gradient back through this pass; TensorFlow records it on the tape it is given;
  torch keeps autograd's graph on `fake`.
- `discriminator_step(model [, D's state], inputs, targets, fake)`: one update of D and
  its optimizer on the real pair (label 1) and the generated one (label 0), with the
  gradient stopped at `fake`. Returns D's terms: `d_loss`, `d_real_acc`, `d_fake_acc`.
- `generator_step(model [, carriers], inputs, targets, fake)`: one update of G and its
  optimizer on the GAN loss of the *updated* D plus lambda * L1, back-propagated through
  `generator_forward`'s pass; D's weights do not move. Returns `g_loss`, `g_gan`, `g_l1`.
- `train_step(model, data)` (`(model, state, data)` on JAX, whose Keras trainer is
  stateless, returning `(logs, new state)`): the three above in the paper's order, the
  D step skipped for an L1-only objective; returns the logs of `model.record`.
- `test_step(model, data)` (JAX: `(model, state, data)`): every term on a batch with
  the networks in inference mode, nothing updated.
- `minimize(loss_fn, network, optimizer, state)`: one eager update of `network` by
  `optimizer` on the gradient of `loss_fn()`, a closure that calls the networks as plain
  Keras calls; `state` lists every variable the closure may change besides the weights
  (BatchNorm's statistics, dropout's seed state). For a train step written on top of
  the backend rather than inside Keras' trainer: the course's exercise on the
  alternating step (`pix2pix_k3.course.update`).
- `observe(store, values)` and `observed()`: hand tensors computed inside a step, traced
  or not, to `store` as NumPy arrays, in order; `observed()` returns once every one has
  arrived. What records a step for the specification suite (the course's checks).

and the backend's hooks for a run: `global_random_state()` and
`set_global_random_state(state)` (what `--resume` restores) and `load_model(path)` (a
`.keras` file for inference, uncompiled, as fast as the backend allows: `translate`,
`evaluate` and `export` load through it). Which device computes is `devices`' to say.
`tests/test_paper.py` holds the three modules to this list.
"""

import functools
import importlib

import keras

CONTRACT = (
    "generator_forward",
    "discriminator_step",
    "generator_step",
    "train_step",
    "test_step",
    "minimize",
    "observe",
    "observed",
    "global_random_state",
    "set_global_random_state",
    "load_model",
)


@functools.cache
def step_module():
    """The running Keras backend's step module (`pix2pix_k3.steps.jax`, ...), found once."""
    return importlib.import_module(f"pix2pix_k3.steps.{keras.backend.backend()}")
