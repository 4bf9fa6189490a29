"""The networks a student's train step updates, and the one call that updates them.

Keras 3 has no backend-neutral "gradient of this value": TensorFlow records a tape, torch
keeps a graph, JAX differentiates a function. `Models.update(name, loss_fn)` is that
call for a step written outside Keras' trainer: it differentiates `loss_fn()`, a closure
of plain Keras calls, for one network's weights and applies that network's optimizer,
through the running backend's step module (`pix2pix_k3.steps.<backend>.minimize`).
"""

import keras

from pix2pix_k3.discriminator import patchgan_discriminator
from pix2pix_k3.generator import unet_generator
from pix2pix_k3.model import default_optimizer
from pix2pix_k3.paper import DROPOUT
from pix2pix_k3.steps import step_module

NETWORKS = ("generator", "discriminator")
SIZE = 32  # the exercises' training images: the paper's networks, 1/64 of the pixels


class Models:
    """G, D and one Adam each, with the paper's settings (section 3.3)."""

    def __init__(self, generator, discriminator):
        self.generator, self.discriminator = generator, discriminator
        self.optimizers = {name: default_optimizer() for name in NETWORKS}

    @classmethod
    def build(cls, image_size=SIZE, dropout=DROPOUT, seed=0):
        """The paper's U-Net and 70x70 PatchGAN for `image_size` (default 32x32, where a
        few steps take seconds on a laptop CPU), freshly initialised from `seed`."""
        keras.utils.set_random_seed(seed)
        generator = unet_generator(image_size, dropout=dropout)
        discriminator = patchgan_discriminator(image_size=image_size)
        return cls(generator, discriminator)

    @property
    def variables(self):
        return [*self.generator.variables, *self.discriminator.variables]

    def update(self, name, loss_fn):
        """One optimizer step of network `name` ("generator" or "discriminator") on the
        gradient of `loss_fn()` for that network's weights alone; returns the loss."""
        if name not in NETWORKS:
            raise ValueError(f"update({name!r}, ...): name one of {', '.join(NETWORKS)}.")
        network = getattr(self, name)
        return step_module().minimize(loss_fn, network, self.optimizers[name], self.variables)
