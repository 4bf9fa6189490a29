"""Speed paths, apart from the paper's code: the same computations in faster forms.

Each form computes exactly what Keras' own layer or optimizer computes (the tests hold
them equal), and runs only on the backend and device where a benchmark showed it faster
(or, for `norm` and `activation`, leaner):

- `conv`: Keras' `Conv2D` and `Conv2DTranspose` as matrix products (im2col, products
  first, sub-pixel) on JAX on a CPU, and on torch on a CPU as torch's own convolutions
  on Keras' layouts (`torch_conv`), or as matrix products on layers of few pixels.
  About six times faster on JAX, nearly three times on torch, at 256 px on a 2-core CPU
  (docs/benchmarks.md). On TensorFlow, and on any GPU or
  TPU, nothing was measured faster than the framework's own convolutions (cuDNN and
  XLA's GPU kernels are very likely faster, and im2col's patch matrix holds 16 times an
  activation), so there they are Keras' layers' own.
- `norm` and `activation`: Keras' `BatchNormalization` normalizing with torch's
  `batch_norm` in training, and Keras' `LeakyReLU` keeping its output rather than its
  input for the gradient, on torch on a CPU: the same step keeps less memory for the
  backward pass (docs/benchmarks.md: peak RSS at batch 4, torch-only install).
- `adam`: Keras' Adam applied by torch's fused kernel, on torch on a CPU.

`PIX2PIX_K3_FORMS` chooses, and `use(...)` within a process (tests and benchmarks):
`auto` (the default: as above), `keras` (Keras' own everywhere), `fast` (the fast forms
wherever the backend has them, whatever the device: to measure them on a new device), or
one family by name: `matmul` (written in `keras.ops`, so any backend computes it) or
`torch` (the torch backend only).
"""

import contextlib
import os

import keras

from pix2pix_k3.devices import device

VARIABLE = "PIX2PIX_K3_FORMS"
CHOICES = ("auto", "keras", "fast", "matmul", "torch")
FAST_FORMS = {"jax": "matmul", "torch": "torch"}  # backend -> its convolution forms
MEASURED_DEVICES = {"jax": ("cpu",), "torch": ("cpu",)}  # where they were measured faster
_chosen = []  # use()'s stack; empty: the environment decides


def choice():
    """`auto`, `keras` or `fast`: `use`'s innermost choice, else `PIX2PIX_K3_FORMS`."""
    chosen = _chosen[-1] if _chosen else os.environ.get(VARIABLE, "auto")
    if chosen not in CHOICES:
        raise ValueError(f"{VARIABLE}={chosen!r} is not one of {', '.join(CHOICES)}.")
    return chosen


@contextlib.contextmanager
def use(chosen):
    """While inside, the layers compute the forms `chosen` (as `PIX2PIX_K3_FORMS` says).

    A layer decides when it is called, so on JAX a function traced inside keeps its
    forms afterwards.
    """
    if chosen not in CHOICES:
        raise ValueError(f"forms={chosen!r} is not one of {', '.join(CHOICES)}.")
    _chosen.append(chosen)
    try:
        yield
    finally:
        _chosen.pop()


def form(tensor=None):
    """`matmul`, `torch` or `keras`: what the convolutions compute for `tensor` here."""
    backend, chosen = keras.backend.backend(), choice()
    if chosen == "torch" and backend != "torch":
        raise ValueError(f"{VARIABLE}=torch: the torch forms need the torch backend.")
    if chosen in ("keras", "matmul", "torch"):
        return chosen
    if backend not in FAST_FORMS:
        return "keras"
    if chosen == "auto" and device(tensor) not in MEASURED_DEVICES[backend]:
        return "keras"
    return FAST_FORMS[backend]


def describe():
    """One line for benchmarks and logs: the backend, the device and the forms that run."""
    where = device()
    return f"{keras.backend.backend()} on {where}: {form()} forms ({VARIABLE}={choice()})"
