"""Backend and device facts, in one place: which backends train, what computes, how many.

Asked by `fit` (which backends it runs on, the note for paper-sized runs on a CPU, the
device count for `--data-parallel`) and by `fast` (whose forms run only on the devices
where a benchmark showed them faster). The answer follows Keras' own choice of device:
Keras' torch backend computes on CUDA, else Apple's MPS, else the CPU.
"""

import keras

BACKENDS = ("jax", "tensorflow", "torch")  # the backends with a step module (`steps`)


def device(tensor=None):
    """The platform that computes: `cpu`, or `gpu`/`tpu` (JAX, TensorFlow), `cuda`/`mps`
    (torch; where `tensor` lives, for a torch tensor)."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return jax.default_backend()
    if backend == "torch":
        import torch

        if isinstance(tensor, torch.Tensor):  # a NumPy array's .device is the string "cpu"
            return tensor.device.type
        if torch.cuda.is_available():
            return "cuda"
        mps = getattr(torch.backends, "mps", None)
        return "mps" if mps and mps.is_available() else "cpu"
    import tensorflow as tf

    return "gpu" if tf.config.list_physical_devices("GPU") else "cpu"


def on_accelerator():
    """Whether a GPU, TPU or other accelerator computes here."""
    return device() != "cpu"


def device_count():
    """The devices a `keras.distribution` splits batches across in this process."""
    return len(keras.distribution.list_devices())
