"""The adapter that shows `pix2pix.py` (plain PyTorch) to the specification tests:

    pytest tests/spec --impl examples/torch_pix2pix/adapter.py:TorchPix2Pix

Everything crosses as NumPy: NHWC float32 in [-1, 1] one way, NCHW tensors the other.
"""

import pathlib
import sys

import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import pix2pix  # noqa: E402


def to_torch(images):
    return torch.from_numpy(
        np.ascontiguousarray(np.asarray(images, "float32").transpose(0, 3, 1, 2))
    )


def to_numpy(tensor):
    return tensor.detach().numpy().transpose(0, 2, 3, 1)


class TorchPix2Pix:
    name = "examples/torch_pix2pix"
    capabilities = {
        "generator",
        "generator_layers",
        "discriminator",
        "jitter",
        "losses",
        "objectives",
        "training",
    }
    image_sizes = (32, 64, 128, 256, 512)
    receptive_fields = (1, 16, 34, 70, 142, 286)
    discriminator_outputs = "logits"
    load_size, crop_size = 286, 256
    lambda_l1 = 100.0
    d_loss_scale = 0.5

    def generator(self, image_size, in_channels=3, out_channels=3):
        return pix2pix.UNet(image_size, in_channels, out_channels)

    def run_generator(self, generator, images, training):
        generator.train(training)
        with torch.no_grad():
            return to_numpy(generator(to_torch(images)))

    def generator_layers(self, generator):
        layers = []
        for part, blocks in (("encoder", generator.downs), ("decoder", generator.ups)):
            for block in blocks:
                conv = block[0]
                dropout = [m.p for m in block if isinstance(m, torch.nn.Dropout)]
                layers.append(
                    {
                        "part": part,
                        "filters": conv.out_channels,
                        "norm": any(isinstance(m, torch.nn.BatchNorm2d) for m in block),
                        "dropout": dropout[0] if dropout else 0.0,
                    }
                )
        return layers

    def discriminator(self, receptive_field, image_size, in_channels=3, out_channels=3):
        return pix2pix.PatchGAN(receptive_field, in_channels, out_channels)

    def run_discriminator(self, discriminator, inputs, images):
        discriminator.eval()
        with torch.no_grad():
            return to_numpy(discriminator(to_torch(inputs), to_torch(images)))

    def jitter(self, input_image, target_image, seed):
        return pix2pix.jitter(input_image, target_image, seed, self.load_size, self.crop_size)

    def discriminator_loss(self, real_outputs, fake_outputs):
        return float(pix2pix.discriminator_loss(to_torch(real_outputs), to_torch(fake_outputs)))

    def generator_loss(self, fake_outputs, generated, targets):
        loss = pix2pix.generator_loss(
            to_torch(fake_outputs), to_torch(generated), to_torch(targets), self.lambda_l1
        )
        return float(loss)

    def objectives(self, generator, discriminator, inputs, targets):
        generator.eval()
        discriminator.eval()
        with torch.no_grad():
            x, y = to_torch(inputs), to_torch(targets)
            d_loss, g_loss = pix2pix.losses(discriminator, x, y, generator(x), self.lambda_l1)
        return {"g_loss": float(g_loss), "d_loss": float(d_loss)}

    def trainer(self, image_size):
        return Trainer(pix2pix.Pix2Pix(image_size))


class Trainer:
    def __init__(self, model):
        torch.manual_seed(0)
        self.model = model

    def step(self, inputs, targets):
        return self.model.step(to_torch(inputs), to_torch(targets))

    def generate(self, inputs):
        self.model.generator.eval()
        with torch.no_grad():
            return to_numpy(self.model.generator(to_torch(inputs)))

    def discriminate(self, inputs, images):
        self.model.discriminator.eval()
        with torch.no_grad():
            return to_numpy(self.model.discriminator(to_torch(inputs), to_torch(images)))
