"""Deliberately broken variants of pix2pix_k3's adapter, one known bug class each.

`test_spec_mutants.py` runs the specification tests against each of them and checks
that the expected requirement fails: proof that the suite has teeth. Every bug class
met in the wild belongs here.
"""

import pathlib
import sys

import keras
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent / "spec"))

from keras_adapter import Pix2PixK3, Trainer, numpy  # noqa: E402

from pix2pix_k3 import Pix2Pix, build_pix2pix, patchgan_discriminator, unet_generator  # noqa: E402
from pix2pix_k3.data.jitter import apply_draw, jitter_draw  # noqa: E402
from pix2pix_k3.losses import sigmoid_cross_entropy  # noqa: E402


class IndependentCrop(Pix2PixK3):
    """Input and target each draw their own crop window (the classic data-loader bug)."""

    def jitter(self, input_image, target_image, seed):
        sizes = (self.load_size, self.crop_size)
        top, left, mirrored = jitter_draw(seed, *sizes)
        other_top, other_left, _ = jitter_draw(seed + 1, *sizes)
        return (
            apply_draw(input_image, (top, left, mirrored), *sizes),
            apply_draw(target_image, (other_top, other_left, mirrored), *sizes),
        )


class IndependentFlip(Pix2PixK3):
    """One crop window, but each image flips its own coin."""

    def jitter(self, input_image, target_image, seed):
        sizes = (self.load_size, self.crop_size)
        top, left, mirrored = jitter_draw(seed, *sizes)
        other = bool(np.random.default_rng([seed, 1]).integers(0, 2))
        return (
            apply_draw(input_image, (top, left, mirrored), *sizes),
            apply_draw(target_image, (top, left, other), *sizes),
        )


class NoMirror(Pix2PixK3):
    """Random crops, never mirrored."""

    def jitter(self, input_image, target_image, seed):
        sizes = (self.load_size, self.crop_size)
        top, left, _ = jitter_draw(seed, *sizes)
        return tuple(
            apply_draw(image, (top, left, False), *sizes) for image in (input_image, target_image)
        )


class CentreCrop(Pix2PixK3):
    """Resize and mirror, but always crop the centre: no translation jitter."""

    def jitter(self, input_image, target_image, seed):
        sizes = (self.load_size, self.crop_size)
        _, _, mirrored = jitter_draw(seed, *sizes)
        middle = (self.load_size - self.crop_size) // 2
        return tuple(
            apply_draw(image, (middle, middle, mirrored), *sizes)
            for image in (input_image, target_image)
        )


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
        return unet_generator(image_size, in_channels, out_channels, innermost_norm=True)


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

    def run_discriminator(self, discriminator, inputs, images):
        return numpy(discriminator(keras.ops.convert_to_tensor(images), training=False))


class WrongReceptiveField(Pix2PixK3):
    """One stride-2 layer short: asked for 70x70, it builds 34x34."""

    def discriminator(self, receptive_field, image_size, in_channels=3, out_channels=3):
        smaller = {16: 1, 70: 34, 286: 142}.get(receptive_field, receptive_field)
        return patchgan_discriminator(smaller, in_channels, out_channels)


class L2InsteadOfL1(Pix2PixK3):
    """Mean squared error as the regression term (the paper chose L1: less blur)."""

    def generator_loss(self, fake_outputs, generated, targets):
        gan = np.mean(numpy(sigmoid_cross_entropy(fake_outputs, 1.0)))
        return float(gan + self.lambda_l1 * np.mean((np.asarray(targets) - generated) ** 2))


class MissingLambda(Pix2PixK3):
    """Declares lambda = 100 but adds the L1 term with weight 1."""

    def generator_loss(self, fake_outputs, generated, targets):
        return super().generator_loss(fake_outputs, generated, targets) - 99 * float(
            np.mean(np.abs(np.asarray(targets) - generated))
        )


class SaturatingG(Pix2PixK3):
    """G minimises log(1 - D(x, G(x))), the minimax form the paper replaces."""

    def generator_loss(self, fake_outputs, generated, targets):
        minimax = -np.mean(numpy(sigmoid_cross_entropy(fake_outputs, 0.0)))
        l1 = np.mean(np.abs(np.asarray(targets) - generated))
        return float(minimax + self.lambda_l1 * l1)


class InvertedLabels(Pix2PixK3):
    """D trained to call real pairs fake and generated pairs real."""

    def discriminator_loss(self, real_outputs, fake_outputs):
        return super().discriminator_loss(fake_outputs, real_outputs)


class DNotHalved(Pix2PixK3):
    """Declares the paper's halving of D's objective but does not do it."""

    def discriminator_loss(self, real_outputs, fake_outputs):
        return 2 * super().discriminator_loss(real_outputs, fake_outputs)


class GanTermOnTarget(Pix2PixK3):
    """G's GAN term asks D about (target, G(x)) instead of (input, G(x))."""

    def objectives(self, generator, discriminator, inputs, targets):
        model = Pix2Pix(generator, discriminator, lambda_l1=self.lambda_l1)
        inputs, targets = (keras.ops.convert_to_tensor(a) for a in (inputs, targets))
        right = model.evaluation_terms(inputs, targets)
        fake = generator(inputs, training=False)
        wrong = model.generator_terms(discriminator([targets, fake], training=False), fake, targets)
        return {"g_loss": float(numpy(wrong["g_loss"])), "d_loss": float(numpy(right["d_loss"]))}


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


# mutant -> (requirement, the specification test that must catch it)
EXPECTED = {
    "IndependentCrop": ("J2", "test_spec_jitter.py::test_both_images_get_the_same_crop_and_mirror"),
    "IndependentFlip": ("J2", "test_spec_jitter.py::test_both_images_get_the_same_crop_and_mirror"),
    "NoMirror": ("J4", "test_spec_jitter.py::test_about_half_of_the_draws_mirror"),
    "CentreCrop": ("J3", "test_spec_jitter.py::test_crop_offsets_cover_the_margin"),
    "NoSkips": ("G5", "test_spec_generator.py::test_a_one_pixel_change_stays_local"),
    "NoDropout": ("G3", "test_spec_generator.py::test_train_mode_is_stochastic"),
    "InnermostBatchNorm": ("G6", "test_spec_generator.py::test_the_encoder_is_the_appendix_one"),
    "NoTanh": ("G2", "test_spec_generator.py::test_outputs_lie_in_the_image_range"),
    "UnconditionalD": (
        "D3",
        "test_spec_discriminator.py::test_the_discriminator_sees_the_input_image",
    ),
    "WrongReceptiveField": (
        "D2",
        "test_spec_discriminator.py::test_the_receptive_field_measured_is_the_declared_one[70]",
    ),
    "L2InsteadOfL1": ("L2", "test_spec_losses.py::test_the_generator_loss_is_the_paper_one"),
    "MissingLambda": ("L2", "test_spec_losses.py::test_the_generator_loss_is_the_paper_one"),
    "SaturatingG": ("L2", "test_spec_losses.py::test_the_generator_loss_is_the_paper_one"),
    "InvertedLabels": ("L1", "test_spec_losses.py::test_the_discriminator_loss_is_the_paper_one"),
    "DNotHalved": ("L1", "test_spec_losses.py::test_the_discriminator_loss_is_the_paper_one"),
    "GanTermOnTarget": (
        "L4",
        "test_spec_losses.py::test_the_training_objectives_condition_on_the_input",
    ),
    "FrozenGenerator": ("T1", "test_spec_training.py::test_training_reduces_the_l1_distance"),
    "FrozenDiscriminator": (
        "T2",
        "test_spec_training.py::test_the_discriminator_separates_real_from_generated",
    ),
}
