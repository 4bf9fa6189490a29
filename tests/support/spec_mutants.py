"""Deliberately broken variants of pix2pix_k3's adapter, one known deviation each.

`test_spec_mutants.py` runs the specification suite against each of them and checks that
the expected requirement fails: proof that the suite has teeth. Every deviation met in
real code belongs here. Every mutant really has its deviation (a network built or
changed that way, a step written that way): the suite derives the layer lists from the
networks, so a description could not plant one. `DeclaredTransposed` is the one that
declares by hand, and what it declares contradicts its network.
"""

import pathlib
import sys

import keras
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "examples" / "adapters"))

from pix2pix_k3_adapter import Pix2PixK3, Trainer, numpy  # noqa: E402

from pix2pix_k3 import Ck, build_pix2pix, patchgan_discriminator, unet_generator  # noqa: E402
from pix2pix_k3.data.dataset import PairDataset  # noqa: E402
from pix2pix_k3.data.images import read_pair, to_model_range  # noqa: E402
from pix2pix_k3.data.jitter import apply_draw, jitter_draw  # noqa: E402
from pix2pix_k3.losses import sigmoid_cross_entropy  # noqa: E402


class PlantedJitter(Pix2PixK3):
    """Reads the pair as pix2pix_k3 does, then jitters it with `jitter` (a planted bug)."""

    def load_pair(self, path, seed, direction):
        x, y = read_pair([path], direction)
        return tuple(to_model_range(image) for image in self.jitter(x, y, seed))


class IndependentCrop(PlantedJitter):
    """Input and target each draw their own crop window (the classic data-loader bug)."""

    def jitter(self, x, y, seed):
        top, left, mirrored = jitter_draw(seed)
        other_top, other_left, _ = jitter_draw(seed + 1)
        return apply_draw(x, (top, left, mirrored)), apply_draw(
            y, (other_top, other_left, mirrored)
        )


class IndependentFlip(PlantedJitter):
    """One crop window, but each image flips its own coin."""

    def jitter(self, x, y, seed):
        top, left, mirrored = jitter_draw(seed)
        other = bool(np.random.default_rng([seed, 1]).integers(0, 2))
        return apply_draw(x, (top, left, mirrored)), apply_draw(y, (top, left, other))


class NoMirror(PlantedJitter):
    """Random crops, never mirrored."""

    def jitter(self, x, y, seed):
        top, left, _ = jitter_draw(seed)
        return tuple(apply_draw(image, (top, left, False)) for image in (x, y))


class CentreCrop(PlantedJitter):
    """Resize and mirror, but always crop the centre: no translation jitter."""

    def jitter(self, x, y, seed):
        _, _, mirrored = jitter_draw(seed)
        return tuple(apply_draw(image, (15, 15, mirrored)) for image in (x, y))


class NoCrop(Pix2PixK3):
    """load_size = crop_size: mirrored at random, never cropped."""

    def load_pair(self, path, seed, direction):
        return PairDataset([(path,)], direction=direction, seed=seed, load_size=256).pair(0)


class ZeroToOneRange(Pix2PixK3):
    """Images normalised to [0, 1], as many image pipelines do, not to G's [-1, 1]."""

    def load_pair(self, path, seed, direction):
        return tuple((image + 1) / 2 for image in super().load_pair(path, seed, direction))


class DirectionIgnored(Pix2PixK3):
    """Always takes the left half as the input, whatever the direction says."""

    def load_pair(self, path, seed, direction):
        return super().load_pair(path, seed, "AtoB")


class NoSkips(Pix2PixK3):
    """The encoder-decoder ablation passed off as the U-Net."""

    def generator(self, image_size, in_channels=3, out_channels=3):
        return unet_generator(image_size, in_channels, out_channels, skips=False)


class NoDropout(Pix2PixK3):
    """Dropout left out: the generator has no noise at all."""

    def generator(self, image_size, in_channels=3, out_channels=3):
        return unet_generator(image_size, in_channels, out_channels, dropout=0.0)


def changed_blocks(model, change):
    """A clone of `model` in which every Ck block is replaced by `change(block)`."""

    def clone(layer):
        if isinstance(layer, Ck):
            return change(layer)
        return layer.__class__.from_config(layer.get_config())

    return keras.models.clone_model(model, clone_function=clone)


def rebuilt(block, **changes):
    """A fresh Ck like `block`, with some of its settings changed."""
    return block.__class__.from_config({**block.get_config(), **changes})


def changed_where(prefix, **changes):
    """change(block) for `changed_blocks`: the blocks named `prefix...` get `changes`."""
    return lambda block: rebuilt(block, **(changes if block.name.startswith(prefix) else {}))


class InnermostBatchNorm(Pix2PixK3):
    """BatchNorm on the 1x1 bottleneck (the paper's v1/v2 appendix, fixed in its errata)."""

    def generator(self, image_size, in_channels=3, out_channels=3):
        generator = unet_generator(image_size, in_channels, out_channels)
        innermost = [layer for layer in generator.layers if layer.name.startswith("encoder")][-1]
        with_batchnorm = changed_where(innermost.name, norm="batch", use_bias=False)
        return changed_blocks(generator, with_batchnorm)


class EncoderDropout(Pix2PixK3):
    """Dropout 0.5 in the third encoder block."""

    def generator(self, image_size, in_channels=3, out_channels=3):
        generator = unet_generator(image_size, in_channels, out_channels)
        return changed_blocks(generator, changed_where("encoder3", dropout=0.5))


class EncoderReLU(Pix2PixK3):
    """Plain ReLUs in the encoder (slope 0): the paper's are leaky."""

    def generator(self, image_size, in_channels=3, out_channels=3):
        generator = unet_generator(image_size, in_channels, out_channels)
        return changed_blocks(generator, changed_where("encoder", activation="relu"))


class DiscriminatorReLU(Pix2PixK3):
    """Plain ReLUs in the PatchGAN: the paper's are leaky."""

    def discriminator(self, receptive_field, image_size, in_channels=3, out_channels=3):
        patchgan = patchgan_discriminator(receptive_field, in_channels, out_channels)
        return changed_blocks(patchgan, changed_where("", activation="relu"))


def resize_convolution(block):
    """A decoder block as upsampling by 2, then a stride-1 convolution block."""
    if not block.transpose:
        return rebuilt(block)
    config = {**block.get_config(), "transpose": False, "strides": 1, "activation": "relu"}
    if "rate" in config:  # a CDk's
        config["dropout"] = config.pop("rate")
    name = config.pop("name")
    return keras.Sequential(
        [keras.layers.UpSampling2D(2), Ck.from_config({**config, "name": f"{name}_conv"})],
        name=name,
    )


class ResizeUpsampling(Pix2PixK3):
    """A decoder of resize + convolution blocks."""

    def generator(self, image_size, in_channels=3, out_channels=3):
        generator = unet_generator(image_size, in_channels, out_channels)
        return changed_blocks(generator, resize_convolution)


class DeclaredTransposed(ResizeUpsampling):
    """The resize + convolution decoder, declared by hand as transposed convolutions:
    the declaration contradicts the network."""

    capabilities = Pix2PixK3.capabilities | {"generator_layers"}

    def generator_layers(self, generator):
        encoder = [64, 128, 256, 512, 512, 512, 512, 512]
        decoder = [512, 512, 512, 512, 256, 128, 64]
        return [{"part": "encoder", "filters": width} for width in encoder] + [
            {"part": "decoder", "filters": width, "upsampling": "transposed"} for width in decoder
        ]


class NoNorm(Pix2PixK3):
    """A generator without any normalisation."""

    def generator(self, image_size, in_channels=3, out_channels=3):
        return unet_generator(image_size, in_channels, out_channels, norm="none")


class KerasDefaultSlope(Pix2PixK3):
    """keras.layers.LeakyReLU() left at Keras' default slope, 0.3."""

    def generator(self, image_size, in_channels=3, out_channels=3):
        generator = unet_generator(image_size, in_channels, out_channels)
        for layer in generator.layers:
            activation = getattr(layer, "activation_layer", None)
            if isinstance(activation, keras.layers.LeakyReLU):
                activation.negative_slope = 0.3
        return generator


class NoTanh(Pix2PixK3):
    """A linear last layer: outputs are not confined to the image range."""

    def generator(self, image_size, in_channels=3, out_channels=3):
        generator = unet_generator(image_size, in_channels, out_channels)
        generator.get_layer("output_tanh").activation = keras.activations.linear
        return generator


class UnconditionalD(Pix2PixK3):
    """D sees only the output image, never the input it should match."""

    def discriminator(self, receptive_field, image_size, in_channels=3, out_channels=3):
        return patchgan_discriminator(receptive_field, in_channels, out_channels, conditional=False)

    def run_discriminator(self, discriminator, inputs, images, training=False):
        return numpy(discriminator(keras.ops.convert_to_tensor(images), training=training))


class UnnormalisedD(Pix2PixK3):
    """D without BatchNorm, still declared as discriminator_norm = "batch"."""

    def discriminator(self, receptive_field, image_size, in_channels=3, out_channels=3):
        return patchgan_discriminator(receptive_field, in_channels, out_channels, norm="none")


class DiscriminatorDropout(Pix2PixK3):
    """Dropout on D's patch outputs: D is noisy in training mode."""

    def discriminator(self, receptive_field, image_size, in_channels=3, out_channels=3):
        patchgan = patchgan_discriminator(receptive_field, in_channels, out_channels)
        noisy = keras.layers.Dropout(0.5)(patchgan.outputs[0])
        return keras.Model(patchgan.inputs, noisy)


class WrongReceptiveField(Pix2PixK3):
    """One stride-2 layer short: asked for 70x70, it builds 34x34."""

    def discriminator(self, receptive_field, image_size, in_channels=3, out_channels=3):
        smaller = {16: 1, 70: 34, 286: 142}.get(receptive_field, receptive_field)
        return patchgan_discriminator(smaller, in_channels, out_channels)


class L2InsteadOfL1(Pix2PixK3):
    """Mean squared error as the regression term (the paper chose L1: less blur)."""

    def generator_loss(self, fake_outputs, generated, targets):
        gan = np.mean(numpy(sigmoid_cross_entropy(fake_outputs, 1.0)))
        return float(gan + 100 * np.mean((np.asarray(targets) - generated) ** 2))


class MissingLambda(Pix2PixK3):
    """The L1 term added with weight 1 instead of 100."""

    def generator_loss(self, fake_outputs, generated, targets):
        return super().generator_loss(fake_outputs, generated, targets) - 99 * float(
            np.mean(np.abs(np.asarray(targets) - generated))
        )


class SaturatingG(Pix2PixK3):
    """G minimises log(1 - D(x, G(x))), the minimax form the paper replaces."""

    def generator_loss(self, fake_outputs, generated, targets):
        minimax = -np.mean(numpy(sigmoid_cross_entropy(fake_outputs, 0.0)))
        l1 = np.mean(np.abs(np.asarray(targets) - generated))
        return float(minimax + 100 * l1)


class InvertedLabels(Pix2PixK3):
    """D trained to call real pairs fake and generated pairs real."""

    def discriminator_loss(self, real_outputs, fake_outputs):
        return super().discriminator_loss(fake_outputs, real_outputs)


class DNotHalved(Pix2PixK3):
    """D's objective not divided by 2."""

    def discriminator_loss(self, real_outputs, fake_outputs):
        return 2 * super().discriminator_loss(real_outputs, fake_outputs)


class GanTermOnTarget(Pix2PixK3):
    """G's GAN term asks D about (y, G(x)) instead of (x, G(x)), in the real train step."""

    def trainer(self, image_size):
        model = build_pix2pix(image_size)
        pair, calls = model.discriminator_inputs, []

        def target_as_condition(inputs, images):
            calls.append(images)
            if len(calls) % 3 == 0:  # the G step's call: condition on the real target
                return pair(calls[-3], images)
            return pair(inputs, images)

        model.discriminator_inputs = target_as_condition
        return Trainer(model)


class SimultaneousTrainer(Trainer):
    """The TensorFlow tutorial's step on pix2pix_k3's networks: one forward pass, both
    networks' gradients from it, both updated together (TensorFlow only)."""

    def step(self, inputs, targets):
        import tensorflow as tf

        model = self.model
        self.recorder.entries.clear()
        x, y = (tf.constant(np.asarray(a, "float32")) for a in (inputs, targets))
        with tf.GradientTape(persistent=True) as tape:
            fake = model.generator(x, training=True)
            real_logits = model.discriminator(model.discriminator_inputs(x, y), training=True)
            fake_logits = model.discriminator(model.discriminator_inputs(x, fake), training=True)
            d_loss = model.discriminator_terms(real_logits, fake_logits)["d_loss"]
            g_loss = model.generator_terms(fake_logits, fake, y)["g_loss"]
        for loss, network, optimizer in (
            (g_loss, model.generator, model.g_optimizer),
            (d_loss, model.discriminator, model.d_optimizer),
        ):
            variables = network.trainable_variables
            optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        return self.recorder.record()


class SimultaneousUpdate(Pix2PixK3):
    """G and D updated at once from one forward pass (the TensorFlow tutorial's step)."""

    def trainer(self, image_size):
        return SimultaneousTrainer(build_pix2pix(image_size))


class OrderedTrainer(Trainer):
    """A step written with tf.GradientTape whose updates come in another order than the
    paper's (TensorFlow only): "g_first" steps G, then D; "stale" steps D, then G from a
    second call of D made before D's update."""

    order = "g_first"

    def step(self, inputs, targets):
        import tensorflow as tf

        model = self.model
        self.recorder.entries.clear()
        x, y = (tf.constant(np.asarray(a, "float32")) for a in (inputs, targets))
        pair, discriminator = model.discriminator_inputs, model.discriminator
        with tf.GradientTape(persistent=True) as tape:
            fake = model.generator(x, training=True)
            if self.order == "g_first":
                g_logits = discriminator(pair(x, fake), training=True)
            real_logits = discriminator(pair(x, y), training=True)
            fake_logits = discriminator(pair(x, fake), training=True)
            if self.order == "stale":
                g_logits = discriminator(pair(x, fake), training=True)
            d_loss = model.discriminator_terms(real_logits, fake_logits)["d_loss"]
            g_loss = model.generator_terms(g_logits, fake, y)["g_loss"]
        updates = [
            (d_loss, discriminator, model.d_optimizer),
            (g_loss, model.generator, model.g_optimizer),
        ]
        for loss, network, optimizer in updates[:: -1 if self.order == "g_first" else 1]:
            variables = network.trainable_variables
            optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
        g_first = self.order == "g_first"
        return self.recorder.record(
            ("generator", "real", "fake") if g_first else ("real", "fake", "generator")
        )


class GBeforeD(Pix2PixK3):
    """Alternating, in the wrong order: G's step, then D's (TensorFlow only)."""

    def trainer(self, image_size):
        return OrderedTrainer(build_pix2pix(image_size))


class StaleTrainer(OrderedTrainer):
    order = "stale"


class StaleDOutputs(Pix2PixK3):
    """D stepped first, but G's GAN term comes from a call of D made before D's update
    (TensorFlow only)."""

    def trainer(self, image_size):
        return StaleTrainer(build_pix2pix(image_size))


class FrozenGenerator(Pix2PixK3):
    """G's optimizer never moves G (a learning rate of 0, or the wrong variables)."""

    def trainer(self, image_size):
        frozen = keras.optimizers.Adam(0.0, beta_1=0.5)
        return Trainer(build_pix2pix(image_size), g_optimizer=frozen)


class FrozenDiscriminator(Pix2PixK3):
    """D never learns: its optimizer's learning rate is 0."""

    def trainer(self, image_size):
        frozen = keras.optimizers.Adam(0.0, beta_1=0.5)
        return Trainer(build_pix2pix(image_size), d_optimizer=frozen)


# mutant -> (the requirement that must FAIL, a phrase its message must hold, or None)
EXPECTED = {
    "IndependentCrop": ("DAT-2", "cropped or mirrored independently"),
    "IndependentFlip": ("DAT-2", "cropped or mirrored independently"),
    "NoMirror": ("DAT-4", None),
    "CentreCrop": ("DAT-3", None),
    "NoCrop": ("DAT-3", "there is no random crop"),
    "ZeroToOneRange": ("DAT-5", "That is [0, 1]"),
    "DirectionIgnored": ("DAT-6", "'BtoA'"),
    "NoSkips": ("GEN-5", None),
    "NoDropout": ("GEN-3", None),
    "InnermostBatchNorm": ("GEN-6", "innermost (1x1) layer is normalised"),
    "EncoderDropout": ("GEN-6", "no dropout"),
    "EncoderReLU": ("ACT-1", "G's encoder blocks 1, 2, 3, 4, 5, 6, 7: a plain ReLU"),
    "DiscriminatorReLU": ("ACT-1", "D's blocks 1, 2, 3, 4: a plain ReLU (slope 0)"),
    "DeclaredTransposed": ("GEN-9", "the adapter declares upsampling 'transposed'"),
    "NoNorm": ("GEN-8", "no normalisation"),
    "ResizeUpsampling": ("GEN-9", "resize"),
    "KerasDefaultSlope": ("ACT-1", "Keras' default"),
    "NoTanh": ("GEN-2", None),
    "UnconditionalD": ("DIS-3", None),
    "UnnormalisedD": ("DIS-4", "behaves as 'none'"),
    "WrongReceptiveField": ("DIS-2", None),
    "DiscriminatorDropout": ("DIS-6", "D has dropout"),
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
    "FrozenDiscriminator": ("TRN-2", None),
}
