"""A small, self-contained pix2pix in plain PyTorch: the suite's reference implementation.

`python -m pix2pix_spec --self-test` checks it against every requirement (it must pass
them all) and plants each known deviation in a copy of it (`mutants.py`: each must fail
its requirement). It imports neither Keras nor pix2pix_k3, and follows the paper the way
a careful course assignment would: U-Net generator, PatchGAN discriminator,
pair-consistent jitter, cGAN + lambda * L1 with the non-saturating generator loss.
`adapter.py` shows it to the suite. Tensors are NCHW, images in [-1, 1].
"""

import math

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.nn import functional


def down(in_channels, out_channels, norm=True):
    """Ck of the encoder: 4x4 stride-2 convolution, BatchNorm, LeakyReLU(0.2)."""
    layers = [nn.Conv2d(in_channels, out_channels, 4, 2, 1, bias=not norm)]
    if norm:
        layers.append(nn.BatchNorm2d(out_channels))
    layers.append(nn.LeakyReLU(0.2))
    return nn.Sequential(*layers)


def up(in_channels, out_channels, dropout):
    """Ck / CDk of the decoder: 4x4 stride-2 transposed convolution, BatchNorm, (Dropout), ReLU."""
    layers = [nn.ConvTranspose2d(in_channels, out_channels, 4, 2, 1, bias=False)]
    layers.append(nn.BatchNorm2d(out_channels))
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class UNet(nn.Module):
    """Encoder C64-C128-C256-C512-...-C512 down to 1x1, decoder mirrored, with skips
    (skips=False: the paper's encoder-decoder ablation, section 4.3)."""

    def __init__(self, image_size=256, in_channels=3, out_channels=3, ngf=64, skips=True):
        super().__init__()
        self.skips = skips
        depth = int(math.log2(image_size))
        widths = [ngf * min(2**i, 8) for i in range(depth)]
        self.downs = nn.ModuleList()
        previous = in_channels
        for i, width in enumerate(widths):
            self.downs.append(down(previous, width, norm=0 < i < depth - 1))
            previous = width
        self.ups = nn.ModuleList()
        for j, width in enumerate(reversed(widths[:-1])):
            dropout = 0.5 if j < 3 and width == 8 * ngf else 0.0
            incoming = 2 * previous if skips and j > 0 else previous
            self.ups.append(up(incoming, width, dropout))
            previous = width
        self.last = nn.ConvTranspose2d((1 + skips) * previous, out_channels, 4, 2, 1)
        self.output = nn.Tanh()  # the image range, [-1, 1]
        self.apply(init_weights)

    def forward(self, x):
        skips = []
        for layer in self.downs:
            x = layer(x)
            skips.append(x)
        for layer, skip in zip(self.ups, reversed(skips[:-1]), strict=True):
            x = torch.cat([layer(x), skip], dim=1) if self.skips else layer(x)
        return self.output(self.last(x))


class PatchGAN(nn.Module):
    """C64-C128-C256-C512 (for 70x70) on the concatenated (input, image) pair -> logits."""

    DEPTH = {1: 0, 16: 1, 34: 2, 70: 3, 142: 4, 286: 5}

    def __init__(self, receptive_field=70, in_channels=3, out_channels=3, ndf=64):
        super().__init__()
        n_layers = self.DEPTH[receptive_field]
        channels = in_channels + out_channels
        if n_layers == 0:  # the PixelGAN: 1x1 convolutions
            layers = [nn.Conv2d(channels, ndf, 1), nn.LeakyReLU(0.2)]
            layers += [nn.Conv2d(ndf, 2 * ndf, 1, bias=False), nn.BatchNorm2d(2 * ndf)]
            layers += [nn.LeakyReLU(0.2), nn.Conv2d(2 * ndf, 1, 1, bias=False)]
        else:
            layers = [nn.Conv2d(channels, ndf, 4, 2, 1), nn.LeakyReLU(0.2)]
            width = ndf
            for n in range(1, n_layers + 1):
                previous, width = width, ndf * min(2**n, 8)
                stride = 2 if n < n_layers else 1
                layers += [nn.Conv2d(previous, width, 4, stride, 1, bias=False)]
                layers += [nn.BatchNorm2d(width), nn.LeakyReLU(0.2)]
            layers.append(nn.Conv2d(width, 1, 4, 1, 1))
        self.net = nn.Sequential(*layers)
        self.apply(init_weights)

    def forward(self, condition, image):
        return self.net(torch.cat([condition, image], dim=1))


def init_weights(module):
    """N(0, 0.02) weights, as the paper's Gaussian initialisation."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def jitter_draw(seed, load_size=286, crop_size=256):
    """(top, left, mirror): one crop window anywhere in the margin, a mirror half the time."""
    rng = np.random.default_rng(seed)
    top, left = rng.integers(0, load_size - crop_size + 1, size=2)
    return int(top), int(left), bool(rng.random() < 0.5)


def apply_draw(image, draw, load_size=286, crop_size=256):
    """A uint8 image resized to load_size, cropped at (top, left), mirrored if drawn so."""
    top, left, mirror = draw
    image = np.asarray(Image.fromarray(image).resize((load_size, load_size), Image.BICUBIC))
    image = image[top : top + crop_size, left : left + crop_size]
    return image[:, ::-1] if mirror else image


def jitter(a, b, seed, load_size=286, crop_size=256):
    """Resize both uint8 images, crop one window, mirror both or neither."""
    draw = jitter_draw(seed, load_size, crop_size)
    return tuple(apply_draw(image, draw, load_size, crop_size) for image in (a, b))


def read_pair(path, direction="AtoB"):
    """(input, target) uint8 HWC from an A|B file: A is the left half, B the right."""
    ab = np.asarray(Image.open(path).convert("RGB"))
    half = ab.shape[1] // 2
    a, b = np.ascontiguousarray(ab[:, :half]), np.ascontiguousarray(ab[:, half:])
    return (a, b) if direction == "AtoB" else (b, a)


def to_model_range(image):
    """uint8 pixels as float32 in [-1, 1], the range of G's tanh."""
    return image.astype("float32") / 127.5 - 1


def load_pair(path, seed, direction="AtoB", load_size=286, crop_size=256):
    """A training pair from an A|B file: (input, target) float32 HWC in [-1, 1], jittered."""
    x, y = jitter(*read_pair(path, direction), seed, load_size, crop_size)
    return to_model_range(x), to_model_range(y)


def bce(logits, real):
    target = torch.ones_like(logits) if real else torch.zeros_like(logits)
    return functional.binary_cross_entropy_with_logits(logits, target)


def discriminator_loss(real_logits, fake_logits):
    return 0.5 * (bce(real_logits, True) + bce(fake_logits, False))


def generator_loss(fake_logits, fake, target, lambda_l1=100.0):
    return bce(fake_logits, True) + lambda_l1 * functional.l1_loss(fake, target)


def losses(discriminator, x, y, fake, lambda_l1=100.0):
    """(D's loss, G's loss) for a batch and G's output on it, as one train step scores them."""
    d_loss = discriminator_loss(discriminator(x, y), discriminator(x, fake.detach()))
    g_loss = generator_loss(discriminator(x, fake), fake, y, lambda_l1)
    return d_loss, g_loss


ADAM = {"lr": 2e-4, "betas": (0.5, 0.999)}  # section 3.3: lr 0.0002, momentum 0.5, 0.999


class Pix2Pix:
    """G, D, their Adam optimizers (2e-4, betas 0.5 / 0.999) and the alternating step."""

    def __init__(self, image_size=256, receptive_field=70, lambda_l1=100.0):
        self.generator = UNet(image_size)
        self.discriminator = PatchGAN(receptive_field)
        self.lambda_l1 = lambda_l1
        self.g_optimizer = torch.optim.Adam(self.generator.parameters(), **ADAM)
        self.d_optimizer = torch.optim.Adam(self.discriminator.parameters(), **ADAM)

    def step(self, x, y):
        """One D step, then one G step through the updated D."""
        self.generator.train()
        self.discriminator.train()
        fake = self.generator(x)
        d_loss = discriminator_loss(self.discriminator(x, y), self.discriminator(x, fake.detach()))
        self.d_optimizer.zero_grad()
        d_loss.backward()
        self.d_optimizer.step()
        g_loss = generator_loss(self.discriminator(x, fake), fake, y, self.lambda_l1)
        self.g_optimizer.zero_grad()
        g_loss.backward()
        self.g_optimizer.step()
        return {"d_loss": d_loss.item(), "g_loss": g_loss.item()}
