"""One train/test step module per Keras backend, all of the same shape.

Each module defines `train_step(model, ...)` and `test_step(model, ...)` with the
signature its backend's Keras trainer calls (`(model, state, data)` on JAX, whose
trainer is stateless; `(model, data)` elsewhere). They hold only the mechanics of
gradients and updates: every loss and metric comes from `Pix2Pix` in `keras.ops`.
Besides the steps, each has the backend's hooks for a run: `global_random_state()` and
`set_global_random_state(state)` (what `--resume` restores), and `on_accelerator()`
(whether a GPU or other accelerator computes, for `fit`'s note on CPU-sized runs), and
`load_model(path)` (a `.keras` file for inference, uncompiled, as fast as the backend
allows: `translate`, `evaluate` and `export` load through it).
"""

import functools
import importlib

import keras


@functools.cache
def step_module():
    """The running Keras backend's step module (`pix2pix_k3.steps.jax`, ...), found once."""
    return importlib.import_module(f"pix2pix_k3.steps.{keras.backend.backend()}")
