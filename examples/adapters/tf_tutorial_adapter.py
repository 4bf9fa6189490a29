"""The TensorFlow pix2pix tutorial's own code, seen through the specification suite.

    PIX2PIX_PEERS=path/to/peers KERAS_BACKEND=tensorflow \\
        python -m pix2pix_spec --impl examples/adapters/tf_tutorial_adapter.py:TFTutorial

`PIX2PIX_PEERS` names a folder holding `tf_tutorial.py`: the tutorial's code cells
(tensorflow/docs, site/en/tutorials/generative/pix2pix.ipynb) that define the data
pipeline, the networks, the losses and `train_step`, with the objects `train_step` reads
as globals left for the caller to set. This adapter imports that file unmodified; it only
builds the networks, sets those globals, and watches `train_step` run.

The suite derives the layer lists from the tutorial's Keras models itself. The tutorial
builds its networks for 256x256 only, reads A|B files with the right half
as the input (BtoA, as for facades), and logs with `tf.summary` (needs `tensorboard`).
"""

import importlib.util
import os
import pathlib

import numpy as np
import tensorflow as tf


def tutorial():
    """The tutorial's module, imported from PIX2PIX_PEERS/tf_tutorial.py."""
    folder = os.environ.get("PIX2PIX_PEERS")
    path = pathlib.Path(folder or ".") / "tf_tutorial.py"
    if not folder or not path.is_file():
        raise RuntimeError(
            f"set PIX2PIX_PEERS to the folder holding tf_tutorial.py (looked for {path})"
        )
    spec = importlib.util.spec_from_file_location("tf_tutorial", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


T = tutorial()


class TFTutorial:
    name = "TensorFlow tutorial (pix2pix.ipynb)"
    capabilities = {
        "generator",
        "discriminator",
        "data",
        "losses",
        "training",
        "recording",
    }
    image_sizes = (256,)
    receptive_fields = (70,)
    discriminator_outputs = "logits"
    discriminator_norm = "batch"
    directions = ("BtoA",)  # load() takes the right half as the input image

    def generator(self, image_size, in_channels=3, out_channels=3):
        return T.Generator()

    def run_generator(self, generator, images, training):
        return generator(np.asarray(images, "float32"), training=training).numpy()

    def discriminator(self, receptive_field, image_size, in_channels=3, out_channels=3):
        return T.Discriminator()

    def run_discriminator(self, discriminator, inputs, images, training=False):
        pair = [np.asarray(inputs, "float32"), np.asarray(images, "float32")]
        return discriminator(pair, training=training).numpy()

    def load_pair(self, path, seed, direction):
        # random_jitter is a tf.function drawing from TensorFlow's global random state;
        # re-seeding before each call would replay one draw for every seed, so the seed is
        # set once and the state left to advance, as in the tutorial's own input pipeline.
        if not getattr(TFTutorial, "seeded", False):
            tf.random.set_seed(seed)
            TFTutorial.seeded = True
        input_image, real_image = T.load_image_train(path)
        return input_image.numpy(), real_image.numpy()

    def discriminator_loss(self, real_outputs, fake_outputs):
        return float(T.discriminator_loss(real_outputs, fake_outputs))

    def generator_loss(self, fake_outputs, generated, targets):
        total, _, _ = T.generator_loss(fake_outputs, generated, targets)
        return float(total)

    def trainer(self, image_size):
        return Trainer()


class Watched:
    """A network or a loss function that notes each call's arguments and result."""

    def __init__(self, target, log, kind):
        self.target, self.log, self.kind = target, log, kind

    def __call__(self, *args, **kwargs):
        result = self.target(*args, **kwargs)
        self.log.append((self.kind, args, result))
        return result

    def __getattr__(self, name):  # trainable_variables and the like
        return getattr(self.target, name)


class Trainer:
    """The tutorial's G, D, optimizers and `train_step`, compiled as the tutorial does
    (tf.function). The step's calls of D and its losses, noted while tracing, are returned
    by the compiled step as outputs, so each run hands back its own values."""

    def __init__(self):
        self.generator, self.discriminator = T.Generator(), T.Discriminator()
        self.optimizers = T.make_optimizers()
        self.log, self.kinds, self.count = [], [], 0
        self.compiled = tf.function(self.traced)

    def traced(self, inputs, targets, step):
        self.log.clear()
        originals = T.generator_loss, T.discriminator_loss
        T.generator, T.discriminator = self.generator, Watched(self.discriminator, self.log, "D")
        T.generator_optimizer, T.discriminator_optimizer = self.optimizers
        T.summary_writer = tf.summary.create_noop_writer()
        T.generator_loss = Watched(originals[0], self.log, "g_loss")
        T.discriminator_loss = Watched(originals[1], self.log, "d_loss")
        try:
            T.train_step.python_function(inputs, targets, step)
        finally:
            T.generator_loss, T.discriminator_loss = originals
        self.kinds = [kind for kind, _, _ in self.log]
        return [self.values(kind, args, result) for kind, args, result in self.log]

    @staticmethod
    def values(kind, args, result):
        if kind == "D":
            return (*args[0], result)  # (condition, image, outputs)
        if kind == "g_loss":
            return (result[0], args[1])  # (total, G(x))
        return (result,)

    def step(self, inputs, targets):
        x, y = (tf.constant(np.asarray(a, "float32")) for a in (inputs, targets))
        outputs = self.compiled(x, y, tf.constant(self.count, tf.int64))
        self.count += 1
        values = [[value.numpy() for value in entry] for entry in outputs]
        entries = list(zip(self.kinds, values, strict=True))
        calls = [tuple(values) for kind, values in entries if kind == "D"]
        ((g_loss, fake),) = [values for kind, values in entries if kind == "g_loss"]
        ((d_loss,),) = [values for kind, values in entries if kind == "d_loss"]
        return {"fake": fake, "d_calls": calls, "d_loss": d_loss, "g_loss": g_loss}
