"""The adapter that shows the reference pix2pix (`torch_pix2pix.py`, plain PyTorch) to the
specification suite, and a worked example of an adapter for your own code:

    python -m pix2pix_spec --impl pix2pix_spec.selftest.adapter:TorchPix2Pix

Everything crosses as NumPy: NHWC float32 in [-1, 1] one way, NCHW tensors the other.
The train step is the example's own `Pix2Pix.step`, watched with forward hooks. The layer
lists are not written here: the suite derives them from the modules as they run.
"""

import numpy as np
import torch

from pix2pix_spec.selftest import torch_pix2pix as pix2pix


def to_torch(images):
    return torch.from_numpy(
        np.ascontiguousarray(np.asarray(images, "float32").transpose(0, 3, 1, 2))
    )


def to_numpy(tensor):
    return tensor.detach().numpy().transpose(0, 2, 3, 1)


class TorchPix2Pix:
    name = "pix2pix_spec reference (PyTorch)"
    capabilities = {
        "generator",
        "discriminator",
        "data",
        "losses",
        "training",
        "recording",
    }
    image_sizes = (32, 64, 128, 256, 512)
    receptive_fields = (1, 16, 34, 70, 142, 286)
    discriminator_outputs = "logits"
    discriminator_norm = "batch"
    directions = ("AtoB", "BtoA")

    def generator(self, image_size, in_channels=3, out_channels=3):
        return pix2pix.UNet(image_size, in_channels, out_channels)

    def run_generator(self, generator, images, training):
        generator.train(training)
        with torch.no_grad():
            return to_numpy(generator(to_torch(images)))

    def discriminator(self, receptive_field, image_size, in_channels=3, out_channels=3):
        return pix2pix.PatchGAN(receptive_field, in_channels, out_channels)

    def run_discriminator(self, discriminator, inputs, images, training=False):
        discriminator.train(training)
        with torch.no_grad():
            return to_numpy(discriminator(to_torch(inputs), to_torch(images)))

    def load_pair(self, path, seed, direction):
        return pix2pix.load_pair(path, seed, direction)

    def discriminator_loss(self, real_outputs, fake_outputs):
        return float(pix2pix.discriminator_loss(to_torch(real_outputs), to_torch(fake_outputs)))

    def generator_loss(self, fake_outputs, generated, targets):
        loss = pix2pix.generator_loss(
            to_torch(fake_outputs), to_torch(generated), to_torch(targets)
        )
        return float(loss)

    def trainer(self, image_size):
        return Trainer(pix2pix.Pix2Pix(image_size))


class Trainer:
    """The reference's model and its own step; hooks note G's output and D's calls. It
    sets no seed of its own: the suite seeds torch before each requirement (--seed)."""

    def __init__(self, model):
        self.model = model
        self.generator, self.discriminator = model.generator, model.discriminator
        self.generator.register_forward_hook(self.note_fake)
        self.discriminator.register_forward_hook(self.note_call)
        self.fakes, self.calls = [], []

    def note_fake(self, module, inputs, output):
        self.fakes.append(to_numpy(output))

    def note_call(self, module, inputs, output):
        condition, image = inputs
        self.calls.append((to_numpy(condition), to_numpy(image), to_numpy(output)))

    def step(self, inputs, targets):
        self.fakes, self.calls = [], []
        losses = self.model.step(to_torch(inputs), to_torch(targets))
        return {"fake": list(self.fakes), "d_calls": list(self.calls), **losses}
