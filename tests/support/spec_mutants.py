"""Deliberately broken variants of pix2pix_k3's adapter, one known deviation each.

`test_spec_mutants.py` runs the specification suite against each of them and checks that
the expected requirement fails: proof that the suite has teeth. Every deviation met in
real code belongs here. Where the deviation is a property of a network or of the
training code, the mutant really has it (a network built or changed that way, a step
written that way) and the adapter describes it truthfully; only GEN-9 and the encoder's
dropout, which pix2pix_k3 cannot build, are planted in the layer description.
"""

import pathlib
import sys

import keras
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "examples" / "adapters"))

from pix2pix_k3_adapter import Pix2PixK3, Trainer, numpy  # noqa: E402

from pix2pix_k3 import build_pix2pix, patchgan_discriminator, unet_generator  # noqa: E402
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


class InnermostBatchNorm(Pix2PixK3):
    """BatchNorm on the 1x1 bottleneck (the paper's v1/v2 appendix, fixed in its errata)."""

    def generator(self, image_size, in_channels=3, out_channels=3):
        generator = unet_generator(image_size, in_channels, out_channels)
        innermost = [layer for layer in generator.layers if layer.name.startswith("encoder")][-1]

        def with_batchnorm(layer):
            config = layer.get_config()
            if layer is innermost:
                config.update(norm="batch", use_bias=False)
            return layer.__class__.from_config(config)

        return keras.models.clone_model(generator, clone_function=with_batchnorm)


class EncoderDropout(Pix2PixK3):
    """Dropout in an encoder block (described: pix2pix_k3's encoder cannot have it)."""

    def generator_layers(self, generator):
        layers = super().generator_layers(generator)
        layers[2]["dropout"] = 0.5
        return layers


class NoNorm(Pix2PixK3):
    """A generator without any normalisation."""

    def generator(self, image_size, in_channels=3, out_channels=3):
        return unet_generator(image_size, in_channels, out_channels, norm="none")


class ResizeUpsampling(Pix2PixK3):
    """A decoder of resize + convolution blocks (described: pix2pix_k3 cannot build one)."""

    def generator_layers(self, generator):
        layers = super().generator_layers(generator)
        for layer in layers:
            if layer["part"] == "decoder":
                layer["upsampling"] = "resize"
        return layers


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
    "SimultaneousUpdate": ("OBJ-4", "simultaneously"),
    "FrozenGenerator": ("TRN-1", None),
    "FrozenDiscriminator": ("TRN-2", None),
}
