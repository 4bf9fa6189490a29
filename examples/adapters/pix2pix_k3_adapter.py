"""pix2pix_k3 seen through the specification suite's adapter protocol.

    python -m pix2pix_spec --impl examples/adapters/pix2pix_k3_adapter.py:Pix2PixK3

It runs on whichever Keras backend is selected (KERAS_BACKEND), and it is the worked
example of an adapter for a Keras 3 implementation: the train step is pix2pix_k3's own
(`train_on_batch`), recorded by wrapping the three methods every backend's step calls
(`discriminator_inputs`, `discriminator_terms`, `generator_terms`). It declares no layer
lists: the suite derives them from the Keras models it builds.
"""

import keras
import numpy as np

from pix2pix_k3 import build_pix2pix, patchgan_discriminator, unet_generator
from pix2pix_k3.data.dataset import PairDataset
from pix2pix_k3.losses import discriminator_loss, generator_loss


def numpy(tensor):
    return keras.ops.convert_to_numpy(tensor)


class Pix2PixK3:
    name = "pix2pix_k3"
    capabilities = {
        "generator",
        "discriminator",
        "data",
        "losses",
        "training",
        "recording",
    }
    image_sizes = (32, 64, 128, 256, 512)
    discriminator_sizes = (32, 64, 128, 256)  # the 286 field is then measured clipped
    receptive_fields = (1, 16, 34, 70, 142, 286)
    discriminator_outputs = "logits"
    discriminator_norm = "batch"
    directions = ("AtoB", "BtoA")

    def generator(self, image_size, in_channels=3, out_channels=3):
        return unet_generator(image_size, in_channels, out_channels)

    def run_generator(self, generator, images, training):
        return numpy(generator(keras.ops.convert_to_tensor(images), training=training))

    def discriminator(self, receptive_field, image_size, in_channels=3, out_channels=3):
        return patchgan_discriminator(receptive_field, in_channels, out_channels)

    def run_discriminator(self, discriminator, inputs, images, training=False):
        pair = [keras.ops.convert_to_tensor(inputs), keras.ops.convert_to_tensor(images)]
        return numpy(discriminator(pair, training=training))

    def load_pair(self, path, seed, direction):
        return PairDataset([(path,)], direction=direction, seed=seed).pair(0)

    def discriminator_loss(self, real_outputs, fake_outputs):
        total, _, _ = discriminator_loss(real_outputs, fake_outputs)
        return float(numpy(total))

    def generator_loss(self, fake_outputs, generated, targets):
        total, _, _ = generator_loss(fake_outputs, generated, targets)
        return float(numpy(total))

    def trainer(self, image_size):
        return Trainer(build_pix2pix(image_size))


class Recorder:
    """Copies of the values a train step passes through the model's objective methods.

    Under JAX the step is traced, so the copies are taken by `jax.debug.callback` when
    the compiled step runs; on TensorFlow (run eagerly) and torch they are taken directly.
    """

    def __init__(self, model):
        self.entries = []
        methods = ("discriminator_inputs", "discriminator_terms", "generator_terms")
        for name in methods:
            setattr(model, name, self.wrap(name, getattr(model, name)))

    def wrap(self, name, method):
        def recorded(*args):
            result = method(*args)
            if name == "discriminator_inputs":  # the pair D is given, as it is given
                values = list(result) if isinstance(result, (list, tuple)) else [result]
            else:
                loss = result["d_loss" if name == "discriminator_terms" else "g_loss"]
                values = [v for v in args if v is not None] + [loss]
            self.capture(name, values)
            return result

        return recorded

    def capture(self, name, values):
        if keras.backend.backend() == "jax":
            import jax

            def store(*arrays):
                self.entries.append((name, [np.asarray(a) for a in arrays]))

            jax.debug.callback(store, *values, ordered=True)
        else:
            self.entries.append((name, [numpy(v) for v in values]))

    def record(self, order=("real", "fake", "generator")):
        """The protocol's step record from this step's entries; `order` is the order of
        the step's calls of D: D's step on the real and the fake pair, then G's."""
        pairs = [values for name, values in self.entries if name == "discriminator_inputs"]
        ((real, fake, d_loss),) = [v for n, v in self.entries if n == "discriminator_terms"]
        ((g_logits, generated, _, g_loss),) = [v for n, v in self.entries if n == "generator_terms"]
        # Fewer pairs than calls: a step that reuses D's outputs on the fake pair for G (a
        # simultaneous update, as a mutant does).
        named = {"real": real, "fake": fake, "generator": g_logits}
        outputs = [named[call] for call in order][: len(pairs)]
        pairs = [pair if len(pair) == 2 else [None, *pair] for pair in pairs]
        calls = [(x, image, out) for (x, image), out in zip(pairs, outputs, strict=True)]
        return {"fake": generated, "d_calls": calls, "d_loss": d_loss, "g_loss": g_loss}


class Trainer:
    """One pix2pix_k3 model and its own train step (`train_on_batch`), recorded."""

    def __init__(self, model, g_optimizer=None, d_optimizer=None):
        self.model = model
        self.generator, self.discriminator = model.generator, model.discriminator
        self.recorder = Recorder(model)
        # TensorFlow's graph mode cannot hand values to Python; the step is the same code.
        eager = keras.backend.backend() == "tensorflow"
        model.compile(g_optimizer=g_optimizer, d_optimizer=d_optimizer, run_eagerly=eager)

    def step(self, inputs, targets):
        self.recorder.entries.clear()
        batch = (keras.ops.convert_to_tensor(np.asarray(a, "float32")) for a in (inputs, targets))
        self.model.train_on_batch(*batch)
        if keras.backend.backend() == "jax":
            import jax

            jax.effects_barrier()
        return self.recorder.record()
