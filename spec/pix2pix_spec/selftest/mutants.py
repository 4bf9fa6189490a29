"""Deliberately broken copies of the reference adapter, one known deviation each.

`python -m pix2pix_spec --self-test` runs each against the requirement that describes it
(`EXPECTED`): the suite must FAIL it, with a message that names the deviation. Every
mutant really has its deviation (a network built or changed that way, a pipeline or a
step written that way): the suite derives layer lists from the networks, so a
description could not plant one. `DeclaredTransposed` alone declares by hand, and what it
declares contradicts its network.

`BENIGN` lists variants that record a paper-conforming step differently (G run twice,
losses computed again for a log, pairs recorded image first): they must pass.

The statistical requirements (DAT-3, DAT-4, GEN-3, DIS-6, TRN-1, TRN-2) each get the
family of wrong pipelines the paper's sentence excludes, not only the degenerate one:
docs/check.md lists them.
"""

import numpy as np
import torch
from torch import nn
from torch.nn import functional

from pix2pix_spec.selftest import torch_pix2pix as pix2pix
from pix2pix_spec.selftest.adapter import TorchPix2Pix, Trainer, to_numpy, to_torch

LOAD, CROP = 286, 256
MARGIN = LOAD - CROP


def replaced(module, kind, make):
    """`module` with every submodule of type `kind` replaced by `make(submodule)`."""
    for name, child in module.named_children():
        if isinstance(child, kind):
            setattr(module, name, make(child))
        else:
            replaced(child, kind, make)
    return module


# --- the data pipeline -------------------------------------------------------------------


class Jittered(TorchPix2Pix):
    """Reads the pair as the reference does, then jitters it with `jitter` (the bug)."""

    def load_pair(self, path, seed, direction):
        x, y = self.jitter(*pix2pix.read_pair(path, direction), seed)
        return pix2pix.to_model_range(x), pix2pix.to_model_range(y)

    def draw(self, seed):
        return pix2pix.jitter_draw(seed)

    def jitter(self, x, y, seed):
        draw = self.draw(seed)
        return pix2pix.apply_draw(x, draw), pix2pix.apply_draw(y, draw)


class IndependentCrop(Jittered):
    """Input and target each draw their own crop window (the classic data-loader bug)."""

    def jitter(self, x, y, seed):
        top, left, mirror = pix2pix.jitter_draw(seed)
        other_top, other_left, _ = pix2pix.jitter_draw(seed + 1)
        return (
            pix2pix.apply_draw(x, (top, left, mirror)),
            pix2pix.apply_draw(y, (other_top, other_left, mirror)),
        )


class IndependentFlip(Jittered):
    """One crop window, but each image flips its own coin."""

    def jitter(self, x, y, seed):
        top, left, mirror = pix2pix.jitter_draw(seed)
        other = bool(np.random.default_rng([seed, 1]).integers(0, 2))
        return pix2pix.apply_draw(x, (top, left, mirror)), pix2pix.apply_draw(y, (top, left, other))


class CentreCrop(Jittered):
    """DAT-3: resized and mirrored, but always cropped at the centre."""

    def draw(self, seed):
        return MARGIN // 2, MARGIN // 2, pix2pix.jitter_draw(seed)[2]


class NoCrop(Jittered):
    """DAT-3: never resized beyond 256, so there is nothing to crop (load size = crop size)."""

    def jitter(self, x, y, seed):
        mirror = pix2pix.jitter_draw(seed)[2]
        return tuple(pix2pix.apply_draw(i, (0, 0, mirror), load_size=CROP) for i in (x, y))


class HorizontalCropOnly(Jittered):
    """DAT-3: the window moves left and right, never up and down."""

    def draw(self, seed):
        _, left, mirror = pix2pix.jitter_draw(seed)
        return MARGIN // 2, left, mirror


class HalfMarginCrop(Jittered):
    """DAT-3: offsets drawn from half the margin (0-15 of 0-30 px)."""

    def draw(self, seed):
        top, left, mirror = pix2pix.jitter_draw(seed)
        return top // 2, left // 2, mirror


class CornerCrop(Jittered):
    """DAT-3: the window at one of the four corners (a five-crop without its centre)."""

    def draw(self, seed):
        rng = np.random.default_rng(seed)
        top, left = (int(corner) * MARGIN for corner in rng.integers(0, 2, size=2))
        return top, left, bool(rng.random() < 0.5)


class NoMirror(Jittered):
    """DAT-4: random crops, never mirrored."""

    def draw(self, seed):
        top, left, _ = pix2pix.jitter_draw(seed)
        return top, left, False


class AlwaysMirror(Jittered):
    """DAT-4: every pair mirrored (a flip that is not random)."""

    def draw(self, seed):
        top, left, _ = pix2pix.jitter_draw(seed)
        return top, left, True


class RareMirror(Jittered):
    """DAT-4: mirrored with probability 0.2 instead of 0.5."""

    def draw(self, seed):
        top, left, _ = pix2pix.jitter_draw(seed)
        return top, left, bool(np.random.default_rng([seed, 2]).random() < 0.2)


class VerticalFlip(Jittered):
    """DAT-4: half the pairs flipped top to bottom instead of left to right."""

    def jitter(self, x, y, seed):
        top, left, flip = pix2pix.jitter_draw(seed)
        out = (pix2pix.apply_draw(image, (top, left, False)) for image in (x, y))
        return tuple(image[::-1] if flip else image for image in out)


class ZeroToOneRange(TorchPix2Pix):
    """Images normalised to [0, 1], as many image pipelines do, not to G's [-1, 1]."""

    def load_pair(self, path, seed, direction):
        return tuple((image + 1) / 2 for image in super().load_pair(path, seed, direction))


class DirectionIgnored(TorchPix2Pix):
    """Always takes the left half as the input, whatever the direction says."""

    def load_pair(self, path, seed, direction):
        return super().load_pair(path, seed, "AtoB")


# --- the generator -------------------------------------------------------------------------


class NoSkips(TorchPix2Pix):
    """GEN-5: the encoder-decoder ablation passed off as the U-Net."""

    def generator(self, image_size, in_channels=3, out_channels=3):
        return pix2pix.UNet(image_size, in_channels, out_channels, skips=False)


class NoDropout(TorchPix2Pix):
    """GEN-3: dropout left out: the generator has no noise at all."""

    def generator(self, image_size, in_channels=3, out_channels=3):
        unet = super().generator(image_size, in_channels, out_channels)
        return replaced(unet, nn.Dropout, lambda _: nn.Identity())


class FixedMaskDropout(nn.Dropout):
    """Dropout whose mask is drawn from the same seed at every call."""

    def forward(self, x):
        generator = torch.Generator().manual_seed(0)
        if not self.training:
            return x
        keep = torch.rand(x.shape, generator=generator) >= self.p
        return x * keep / (1 - self.p)


class FixedDropoutMask(TorchPix2Pix):
    """GEN-3: dropout with one fixed mask (a stateless dropout given a constant seed)."""

    def generator(self, image_size, in_channels=3, out_channels=3):
        unet = super().generator(image_size, in_channels, out_channels)
        return replaced(unet, nn.Dropout, lambda layer: FixedMaskDropout(layer.p))


class InvertedDropout(nn.Dropout):
    """Dropout on in inference mode and off in training mode: a flag read the wrong way."""

    def forward(self, x):
        return functional.dropout(x, self.p, training=not self.training)


class DropoutModesSwapped(TorchPix2Pix):
    """GEN-3: dropout active at inference, off in training."""

    def generator(self, image_size, in_channels=3, out_channels=3):
        unet = super().generator(image_size, in_channels, out_channels)
        return replaced(unet, nn.Dropout, lambda layer: InvertedDropout(layer.p))


class InnermostBatchNorm(TorchPix2Pix):
    """BatchNorm on the 1x1 bottleneck (the paper's v1/v2 appendix, fixed in its errata)."""

    def generator(self, image_size, in_channels=3, out_channels=3):
        unet = super().generator(image_size, in_channels, out_channels)
        conv, activation = unet.downs[-1]
        unet.downs[-1] = nn.Sequential(conv, nn.BatchNorm2d(conv.out_channels), activation)
        return unet


class EncoderDropout(TorchPix2Pix):
    """Dropout 0.5 in the third encoder block."""

    def generator(self, image_size, in_channels=3, out_channels=3):
        unet = super().generator(image_size, in_channels, out_channels)
        unet.downs[2].append(nn.Dropout(0.5))
        return unet


class EncoderReLU(TorchPix2Pix):
    """Plain ReLUs in the encoder (slope 0): the paper's are leaky."""

    def generator(self, image_size, in_channels=3, out_channels=3):
        unet = super().generator(image_size, in_channels, out_channels)
        replaced(unet.downs, nn.LeakyReLU, lambda _: nn.ReLU())
        return unet


class DefaultSlope(TorchPix2Pix):
    """nn.LeakyReLU() left at PyTorch's default slope, 0.01."""

    def generator(self, image_size, in_channels=3, out_channels=3):
        unet = super().generator(image_size, in_channels, out_channels)
        return replaced(unet, nn.LeakyReLU, lambda _: nn.LeakyReLU())


def resize_convolution(up):
    """A transposed-convolution block of the decoder as resize by 2, then a convolution."""
    transposed = up[0]
    conv = nn.Conv2d(transposed.in_channels, transposed.out_channels, 3, 1, 1, bias=False)
    return nn.Sequential(nn.Upsample(scale_factor=2), conv, *up[1:])


class ResizeUpsampling(TorchPix2Pix):
    """A decoder of resize + convolution blocks."""

    def generator(self, image_size, in_channels=3, out_channels=3):
        unet = super().generator(image_size, in_channels, out_channels)
        unet.ups = nn.ModuleList(resize_convolution(up) for up in unet.ups)
        return unet


class DeclaredTransposed(ResizeUpsampling):
    """The resize + convolution decoder, declared by hand as transposed convolutions:
    the declaration contradicts the network."""

    capabilities = TorchPix2Pix.capabilities | {"generator_layers"}

    def generator_layers(self, generator):
        encoder = [64, 128, 256, 512, 512, 512, 512, 512]
        decoder = [512, 512, 512, 512, 256, 128, 64]
        return [{"part": "encoder", "filters": width} for width in encoder] + [
            {"part": "decoder", "filters": width, "upsampling": "transposed"} for width in decoder
        ]


class NoNorm(TorchPix2Pix):
    """A generator without any normalisation."""

    def generator(self, image_size, in_channels=3, out_channels=3):
        unet = super().generator(image_size, in_channels, out_channels)
        return replaced(unet, nn.BatchNorm2d, lambda _: nn.Identity())


class NoTanh(TorchPix2Pix):
    """A linear last layer: outputs are not confined to the image range."""

    def generator(self, image_size, in_channels=3, out_channels=3):
        unet = super().generator(image_size, in_channels, out_channels)
        unet.output = nn.Identity()
        return unet


# --- the discriminator ---------------------------------------------------------------------


class ImageOnlyPatchGAN(pix2pix.PatchGAN):
    def __init__(self, receptive_field, out_channels=3):
        super().__init__(receptive_field, 0, out_channels)

    def forward(self, condition, image):
        return self.net(image)


class UnconditionalD(TorchPix2Pix):
    """D sees only the output image, never the input it should match."""

    def discriminator(self, receptive_field, image_size, in_channels=3, out_channels=3):
        return ImageOnlyPatchGAN(receptive_field, out_channels)


class UnnormalisedD(TorchPix2Pix):
    """D without BatchNorm, still declared as discriminator_norm = "batch"."""

    def discriminator(self, receptive_field, image_size, in_channels=3, out_channels=3):
        patchgan = super().discriminator(receptive_field, image_size, in_channels, out_channels)
        return replaced(patchgan, nn.BatchNorm2d, lambda _: nn.Identity())


class WrongReceptiveField(TorchPix2Pix):
    """One stride-2 layer short: asked for 70x70, it builds 34x34."""

    def discriminator(self, receptive_field, image_size, in_channels=3, out_channels=3):
        smaller = {16: 1, 70: 34, 286: 142}.get(receptive_field, receptive_field)
        return pix2pix.PatchGAN(smaller, in_channels, out_channels)


class DiscriminatorReLU(TorchPix2Pix):
    """Plain ReLUs in the PatchGAN: the paper's are leaky."""

    def discriminator(self, receptive_field, image_size, in_channels=3, out_channels=3):
        patchgan = super().discriminator(receptive_field, image_size, in_channels, out_channels)
        return replaced(patchgan, nn.LeakyReLU, lambda _: nn.ReLU())


class DiscriminatorDropout(TorchPix2Pix):
    """DIS-6: dropout on D's patch outputs."""

    def discriminator(self, receptive_field, image_size, in_channels=3, out_channels=3):
        patchgan = super().discriminator(receptive_field, image_size, in_channels, out_channels)
        patchgan.net.append(nn.Dropout(0.5))
        return patchgan


class DiscriminatorBlockDropout(TorchPix2Pix):
    """DIS-6: dropout 0.5 after each LeakyReLU of D, as in a classifier."""

    def discriminator(self, receptive_field, image_size, in_channels=3, out_channels=3):
        patchgan = super().discriminator(receptive_field, image_size, in_channels, out_channels)
        return replaced(patchgan, nn.LeakyReLU, lambda relu: nn.Sequential(relu, nn.Dropout(0.5)))


class NoisyInputs(nn.Module):
    """Gaussian "instance noise" on D's inputs in training mode."""

    def forward(self, x):
        return x + 0.1 * torch.randn_like(x) if self.training else x


class InstanceNoise(TorchPix2Pix):
    """DIS-6: noise added to the pairs D sees in training (instance noise)."""

    def discriminator(self, receptive_field, image_size, in_channels=3, out_channels=3):
        patchgan = super().discriminator(receptive_field, image_size, in_channels, out_channels)
        patchgan.net.insert(0, NoisyInputs())
        return patchgan


# --- the losses ----------------------------------------------------------------------------


def l1(generated, targets):
    return float(np.mean(np.abs(np.asarray(targets) - np.asarray(generated))))


def gan(fake_outputs, label):
    logits = to_torch(fake_outputs)
    return float(pix2pix.bce(logits, label))


class L2InsteadOfL1(TorchPix2Pix):
    """Mean squared error as the regression term (the paper chose L1: less blur)."""

    def generator_loss(self, fake_outputs, generated, targets):
        l2 = float(np.mean((np.asarray(targets) - np.asarray(generated)) ** 2))
        return gan(fake_outputs, True) + 100 * l2


class MissingLambda(TorchPix2Pix):
    """The L1 term added with weight 1 instead of 100."""

    def generator_loss(self, fake_outputs, generated, targets):
        return gan(fake_outputs, True) + l1(generated, targets)


class SaturatingG(TorchPix2Pix):
    """G minimises log(1 - D(x, G(x))), the minimax form the paper replaces."""

    def generator_loss(self, fake_outputs, generated, targets):
        return -gan(fake_outputs, False) + 100 * l1(generated, targets)


class InvertedLabels(TorchPix2Pix):
    """D trained to call real pairs fake and generated pairs real."""

    def discriminator_loss(self, real_outputs, fake_outputs):
        return super().discriminator_loss(fake_outputs, real_outputs)


class DNotHalved(TorchPix2Pix):
    """D's objective not divided by 2."""

    def discriminator_loss(self, real_outputs, fake_outputs):
        return 2 * super().discriminator_loss(real_outputs, fake_outputs)


# --- the train step ------------------------------------------------------------------------


def stepped(optimizer, loss):
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()


class TargetAsCondition(pix2pix.Pix2Pix):
    def step(self, x, y):
        self.generator.train(), self.discriminator.train()
        fake = self.generator(x)
        real_logits, fake_logits = self.discriminator(x, y), self.discriminator(x, fake.detach())
        d_loss = pix2pix.discriminator_loss(real_logits, fake_logits)
        stepped(self.d_optimizer, d_loss)
        g_loss = pix2pix.generator_loss(self.discriminator(y, fake), fake, y, self.lambda_l1)
        stepped(self.g_optimizer, g_loss)
        return {"d_loss": d_loss.item(), "g_loss": g_loss.item()}


class GanTermOnTarget(TorchPix2Pix):
    """G's GAN term asks D about (y, G(x)) instead of (x, G(x))."""

    def trainer(self, image_size):
        return Trainer(TargetAsCondition(image_size))


class Simultaneous(pix2pix.Pix2Pix):
    def step(self, x, y):
        self.generator.train(), self.discriminator.train()
        fake = self.generator(x)
        real_logits, fake_logits = self.discriminator(x, y), self.discriminator(x, fake)
        d_loss = pix2pix.discriminator_loss(real_logits, fake_logits)
        g_loss = pix2pix.generator_loss(fake_logits, fake, y, self.lambda_l1)
        g_grads = torch.autograd.grad(g_loss, list(self.generator.parameters()), retain_graph=True)
        d_grads = torch.autograd.grad(d_loss, list(self.discriminator.parameters()))
        for network, grads, optimizer in (
            (self.generator, g_grads, self.g_optimizer),
            (self.discriminator, d_grads, self.d_optimizer),
        ):
            for parameter, grad in zip(network.parameters(), grads, strict=True):
                parameter.grad = grad
            optimizer.step()
        return {"d_loss": d_loss.item(), "g_loss": g_loss.item()}


class SimultaneousUpdate(TorchPix2Pix):
    """G and D updated at once from one forward pass (the TensorFlow tutorial's step)."""

    def trainer(self, image_size):
        return Trainer(Simultaneous(image_size))


class GeneratorFirst(pix2pix.Pix2Pix):
    def step(self, x, y):
        self.generator.train(), self.discriminator.train()
        fake = self.generator(x)
        g_loss = pix2pix.generator_loss(self.discriminator(x, fake), fake, y, self.lambda_l1)
        stepped(self.g_optimizer, g_loss)
        real_logits, fake_logits = self.discriminator(x, y), self.discriminator(x, fake.detach())
        d_loss = pix2pix.discriminator_loss(real_logits, fake_logits)
        stepped(self.d_optimizer, d_loss)
        return {"d_loss": d_loss.item(), "g_loss": g_loss.item()}


class GBeforeD(TorchPix2Pix):
    """Alternating, in the wrong order: G's step, then D's."""

    def trainer(self, image_size):
        return Trainer(GeneratorFirst(image_size))


class StaleOutputs(pix2pix.Pix2Pix):
    def step(self, x, y):
        self.generator.train(), self.discriminator.train()
        fake = self.generator(x)
        real_logits, fake_logits = self.discriminator(x, y), self.discriminator(x, fake.detach())
        g_logits = self.discriminator(x, fake)  # before D's update
        d_loss = pix2pix.discriminator_loss(real_logits, fake_logits)
        g_loss = pix2pix.generator_loss(g_logits, fake, y, self.lambda_l1)
        g_grads = torch.autograd.grad(g_loss, list(self.generator.parameters()))
        stepped(self.d_optimizer, d_loss)
        for parameter, grad in zip(self.generator.parameters(), g_grads, strict=True):
            parameter.grad = grad
        self.g_optimizer.step()
        return {"d_loss": d_loss.item(), "g_loss": g_loss.item()}


class StaleDOutputs(TorchPix2Pix):
    """D stepped first, but G's GAN term comes from a call of D made before D's update."""

    def trainer(self, image_size):
        return Trainer(StaleOutputs(image_size))


# --- training (TRN-1: G learns; TRN-2: D learns) -----------------------------------------


class Retrained(TorchPix2Pix):
    """The reference's step, with its model changed by `change(model)`."""

    def trainer(self, image_size):
        model = pix2pix.Pix2Pix(image_size)
        self.change(model)
        return Trainer(model)


def adam(parameters, **changes):
    """The reference's Adam (`torch_pix2pix.ADAM`) with some settings changed."""
    return torch.optim.Adam(parameters, **{**pix2pix.ADAM, **changes})


class FrozenGenerator(Retrained):
    """TRN-1: G's optimizer never moves G (a learning rate of 0)."""

    def change(self, model):
        model.g_optimizer = adam(model.generator.parameters(), lr=0.0)


class GOptimizerOnD(Retrained):
    """TRN-1: G's optimizer was handed D's parameters (G never moves; D steps twice)."""

    def change(self, model):
        model.g_optimizer = adam(model.discriminator.parameters())


class GeneratorAscent(Retrained):
    """TRN-1: G's optimizer climbs its loss (a sign flipped, or maximize=True)."""

    def change(self, model):
        model.g_optimizer = adam(model.generator.parameters(), maximize=True)


class FrozenDiscriminator(Retrained):
    """TRN-2: D never learns: its optimizer's learning rate is 0."""

    def change(self, model):
        model.d_optimizer = adam(model.discriminator.parameters(), lr=0.0)


class DOptimizerOnG(Retrained):
    """TRN-2: D's optimizer was handed G's parameters."""

    def change(self, model):
        model.d_optimizer = adam(model.generator.parameters())


class DiscriminatorAscent(Retrained):
    """TRN-2: D's optimizer climbs its loss."""

    def change(self, model):
        model.d_optimizer = adam(model.discriminator.parameters(), maximize=True)


# --- benign variants: recorded differently, the paper all the same ------------------------


class GeneratorRunTwice(pix2pix.Pix2Pix):
    def step(self, x, y):
        self.generator.train(), self.discriminator.train()
        fake = self.generator(x).detach()  # for D's step only
        d_loss = pix2pix.discriminator_loss(self.discriminator(x, y), self.discriminator(x, fake))
        stepped(self.d_optimizer, d_loss)
        fake = self.generator(x)  # again, for G's step: another dropout mask
        g_loss = pix2pix.generator_loss(self.discriminator(x, fake), fake, y, self.lambda_l1)
        stepped(self.g_optimizer, g_loss)
        return {"d_loss": d_loss.item(), "g_loss": g_loss.item()}


class TwoGenerations(TorchPix2Pix):
    """G run once for D's step and again for G's: two different G(x) in one step."""

    def trainer(self, image_size):
        return Trainer(GeneratorRunTwice(image_size))


class LoggingAgain(pix2pix.Pix2Pix):
    def step(self, x, y):
        losses = super().step(x, y)
        with torch.no_grad():  # both losses again, after both updates, for a log
            fake = self.generator(x)
            pix2pix.losses(self.discriminator, x, y, fake, self.lambda_l1)
        return losses


class LossesLoggedAgain(TorchPix2Pix):
    """Both losses computed a second time after the updates, for logging: more calls of
    D (and of G) than the updates need."""

    def trainer(self, image_size):
        return Trainer(LoggingAgain(image_size))


class ImageFirstTrainer(Trainer):
    def note_call(self, module, inputs, output):
        condition, image = inputs
        self.calls.append((to_numpy(image), to_numpy(condition), to_numpy(output)))


class ImageThenCondition(TorchPix2Pix):
    """Every call of D recorded as (image, condition), the protocol's order reversed."""

    def trainer(self, image_size):
        return ImageFirstTrainer(pix2pix.Pix2Pix(image_size))


# benign variant -> the requirements it must pass, and a phrase a note must hold (or None)
BENIGN = {
    "TwoGenerations": ("OBJ-1,OBJ-2,OBJ-3,OBJ-4,TRN-2", "a G(x) of its own"),
    "LossesLoggedAgain": ("OBJ-1,OBJ-2,OBJ-3,OBJ-4,TRN-2", None),
    "ImageThenCondition": ("OBJ-1,OBJ-2,OBJ-3,OBJ-4,TRN-2", "recorded as (image, condition)"),
}


# mutant -> (the requirement that must FAIL, a phrase its message must hold, or None)
EXPECTED = {
    "IndependentCrop": ("DAT-2", "cropped or mirrored independently"),
    "IndependentFlip": ("DAT-2", "cropped or mirrored independently"),
    "CentreCrop": ("DAT-3", "there is no random crop"),
    "NoCrop": ("DAT-3", "there is no random crop"),
    "HorizontalCropOnly": ("DAT-3", "it never moved vertically"),
    "HalfMarginCrop": ("DAT-3", "moved over only 15 of the margin's 30 px"),
    "CornerCrop": ("DAT-3", "took only 2 positions"),
    "NoMirror": ("DAT-4", "; 0 of 100 draws were mirrored"),
    "AlwaysMirror": ("DAT-4", "100 of 100 draws were mirrored"),
    "RareMirror": ("DAT-4", "draws were mirrored (a fair coin"),
    "VerticalFlip": ("DAT-4", "top to bottom"),
    "ZeroToOneRange": ("DAT-5", "That is [0, 1]"),
    "DirectionIgnored": ("DAT-6", "'BtoA'"),
    "NoSkips": ("GEN-5", None),
    "NoDropout": ("GEN-3", None),
    "FixedDropoutMask": ("GEN-3", None),
    "DropoutModesSwapped": ("GEN-3", None),
    "InnermostBatchNorm": ("GEN-6", "innermost (1x1) layer is normalised"),
    "EncoderDropout": ("GEN-6", "no dropout"),
    "EncoderReLU": ("ACT-1", "G's encoder blocks 1, 2, 3, 4, 5, 6, 7: a plain ReLU"),
    "DefaultSlope": ("ACT-1", "PyTorch's default"),
    "ResizeUpsampling": ("GEN-9", "resize"),
    "DeclaredTransposed": ("GEN-9", "the adapter declares upsampling 'transposed'"),
    "NoNorm": ("GEN-8", "no normalisation"),
    "NoTanh": ("GEN-2", None),
    "UnconditionalD": ("DIS-3", None),
    "UnnormalisedD": ("DIS-4", "behaves as 'none'"),
    "WrongReceptiveField": ("DIS-2", None),
    "DiscriminatorReLU": ("ACT-1", "D's blocks 1, 2, 3, 4: a plain ReLU (slope 0)"),
    "DiscriminatorDropout": ("DIS-6", "D has dropout"),
    "DiscriminatorBlockDropout": ("DIS-6", "D has dropout"),
    "InstanceNoise": ("DIS-6", "another source of noise"),
    "L2InsteadOfL1": ("OBJ-2", "L2 instead of L1"),
    "MissingLambda": ("OBJ-2", "lambda = 1 instead of 100"),
    "SaturatingG": ("OBJ-2", "saturating"),
    "InvertedLabels": ("OBJ-1", "swapped labels"),
    "DNotHalved": ("OBJ-1", "without the paper's 1/2"),
    "GanTermOnTarget": ("OBJ-3", "the target y as the condition"),
    "SimultaneousUpdate": ("OBJ-4", "updated simultaneously from one forward pass"),
    "GBeforeD": ("OBJ-4", "in the wrong order (G, then D)"),
    "StaleDOutputs": ("OBJ-4", "G is stepped against the D of before its update"),
    "FrozenGenerator": ("TRN-1", None),
    "GOptimizerOnD": ("TRN-1", None),
    "GeneratorAscent": ("TRN-1", None),
    "FrozenDiscriminator": ("TRN-2", None),
    "DOptimizerOnG": ("TRN-2", None),
    "DiscriminatorAscent": ("TRN-2", None),
}
