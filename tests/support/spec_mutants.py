"""Deliberately broken variants of pix2pix_k3's adapter: the deviations whose detection
goes through reading a Keras network or a Keras train step.

Every known deviation is planted in the suite's own PyTorch reference
(`pix2pix_spec/selftest/mutants.py`, run by `python -m pix2pix_spec --self-test`). These
plant again, in pix2pix_k3's Keras networks and steps, the ones the suite finds by
deriving layer lists from Keras layers (`introspect.py`'s Keras path) or by recording a
Keras/TensorFlow step: `test_spec_mutants.py` checks that each fails its requirement.
Every mutant really has its deviation, built in the network or the step.
"""

import pathlib
import sys

import keras
import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "examples" / "adapters"))

from pix2pix_k3_adapter import Pix2PixK3, Trainer  # noqa: E402

from pix2pix_k3 import Ck, build_pix2pix, patchgan_discriminator, unet_generator  # noqa: E402


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


# mutant -> (the requirement that must FAIL, a phrase its message must hold, or None)
EXPECTED = {
    "InnermostBatchNorm": ("GEN-6", "innermost (1x1) layer is normalised"),
    "EncoderDropout": ("GEN-6", "no dropout"),
    "EncoderReLU": ("ACT-1", "G's encoder blocks 1, 2, 3, 4, 5, 6, 7: a plain ReLU"),
    "DiscriminatorReLU": ("ACT-1", "D's blocks 1, 2, 3, 4: a plain ReLU (slope 0)"),
    "NoNorm": ("GEN-8", "no normalisation"),
    "ResizeUpsampling": ("GEN-9", "resize"),
    "KerasDefaultSlope": ("ACT-1", "Keras' default"),
    "GanTermOnTarget": ("OBJ-3", "the target y as the condition"),
    "SimultaneousUpdate": ("OBJ-4", "updated simultaneously from one forward pass"),
    "GBeforeD": ("OBJ-4", "in the wrong order (G, then D)"),
    "StaleDOutputs": ("OBJ-4", "G is stepped against the D of before its update"),
}
