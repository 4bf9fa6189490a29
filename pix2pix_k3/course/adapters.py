"""The specification suite's adapters around a student's functions.

Each adapter hands the suite what the student wrote and nothing typed by hand: the
layer lists of a student's networks are derived by the suite from the Keras models
themselves (`pix2pix_spec.introspect`), the step's record is observed while the
student's step runs. The student never sees or writes an adapter.
"""

import keras
import numpy as np

from pix2pix_k3.data.images import read_pair, to_model_range
from pix2pix_k3.paper import N_LAYERS
from pix2pix_k3.steps import step_module

from .models import SIZE, Models


def numpy(value):
    return np.asarray(keras.ops.convert_to_numpy(value), "float32")


def tensor(value):
    return keras.ops.convert_to_tensor(np.asarray(value, "float32"))


class JitterAdapter:
    """The student's `pair_jitter(input_image, target_image, rng)` as the data pipeline:
    pix2pix_k3 reads and splits the pair file, the student's code jitters it."""

    name = "your pair_jitter"
    capabilities = {"data"}
    directions = ("AtoB", "BtoA")

    def __init__(self, pair_jitter):
        self.pair_jitter = pair_jitter

    def load_pair(self, path, seed, direction):
        a, b = (to_model_range(side) for side in read_pair((path,), direction))
        x, y = self.pair_jitter(a, b, np.random.default_rng(seed))
        return numpy(x), numpy(y)


class GeneratorAdapter:
    """The student's `unet_generator(image_size)` at the paper's 256x256."""

    name = "your unet_generator"
    capabilities = {"generator"}
    image_sizes = (256,)

    def __init__(self, unet_generator):
        self.unet_generator = unet_generator

    def generator(self, image_size, in_channels=3, out_channels=3):
        return self.unet_generator(image_size)

    def run_generator(self, generator, images, training):
        return numpy(generator(tensor(images), training=training))


class DiscriminatorAdapter:
    """The student's `patchgan(n_layers, image_size)`, a model of [x, y]; the paper's
    70x70 (n_layers=3) at 256x256."""

    name = "your patchgan"
    capabilities = {"discriminator"}
    image_sizes = (256,)
    receptive_fields = (70,)
    discriminator_outputs = "logits"
    discriminator_norm = "batch"

    def __init__(self, patchgan):
        self.patchgan = patchgan

    def discriminator(self, receptive_field, image_size, in_channels=3, out_channels=3):
        return self.patchgan(N_LAYERS[receptive_field], image_size)

    def run_discriminator(self, discriminator, inputs, images, training=False):
        return numpy(discriminator([tensor(inputs), tensor(images)], training=training))


class LossAdapter:
    """The student's `discriminator_loss` and `generator_loss`, on the suite's logits."""

    name = "your losses"
    capabilities = {"losses"}
    discriminator_outputs = "logits"

    def __init__(self, discriminator_loss, generator_loss):
        self.d_loss, self.g_loss = discriminator_loss, generator_loss

    def discriminator_loss(self, real_outputs, fake_outputs):
        return float(numpy(self.d_loss(tensor(real_outputs), tensor(fake_outputs))))

    def generator_loss(self, fake_outputs, generated, targets):
        return float(numpy(self.g_loss(*map(tensor, (fake_outputs, generated, targets)))))


class StepAdapter:
    """The student's `train_step(models, x, y)` on the paper's networks at 32x32
    (`Models.build`), recorded: every call of G and D in the step, and the losses its
    updates used."""

    name = "your train_step"
    capabilities = {"training", "recording"}
    image_sizes = (SIZE,)
    discriminator_outputs = "logits"
    run_generator = GeneratorAdapter.run_generator
    run_discriminator = DiscriminatorAdapter.run_discriminator

    def __init__(self, train_step):
        self.train_step = train_step

    def trainer(self, image_size):
        return StepTrainer(self.train_step, Models.build(image_size))


class Watched:
    """A network that notes each call's inputs and outputs, and is otherwise the network
    (its weights, its optimizer's update). The calls inside an update may be traced (on
    JAX), so the values are noted through the step module's `observe`."""

    def __init__(self, network, calls):
        self.network, self.calls = network, calls

    def __getattr__(self, name):
        return getattr(self.network, name)

    def __call__(self, inputs, training=False, **kwargs):
        outputs = self.network(inputs, training=training, **kwargs)
        arguments = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        step_module().observe(
            lambda *arrays: self.calls.append(list(arrays)), [*arguments, outputs]
        )
        return outputs


class StepTrainer:
    """The suite's Trainer: one `Models` and the student's step, recorded."""

    def __init__(self, train_step, models):
        self.train_step, self.models = train_step, models
        self.generator, self.discriminator = models.generator, models.discriminator
        self.g_calls, self.d_calls = [], []
        models.generator = Watched(self.generator, self.g_calls)
        models.discriminator = Watched(self.discriminator, self.d_calls)

    def step(self, inputs, targets):
        self.g_calls.clear()
        self.d_calls.clear()
        losses = self.train_step(self.models, tensor(inputs), tensor(targets))
        step_module().observed()
        losses = losses if isinstance(losses, dict) else {}
        return {
            "fake": [outputs for _, outputs in self.g_calls],
            "d_calls": [tuple(call) for call in self.d_calls],
            "d_loss": float(numpy(losses.get("d_loss", np.nan))),
            "g_loss": float(numpy(losses.get("g_loss", np.nan))),
        }
