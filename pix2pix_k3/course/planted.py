"""A pix2pix with planted bugs, for exercise 7: find them with the specification suite.

It is written the way many Keras 3 pix2pix implementations are: the data pipeline, the
networks, the losses and the train step, each one short function. Some of them depart
from the paper. Nothing here says which: run the suite on `Planted()`, read its FAILs,
then find the function each FAIL comes from.
"""

import numpy as np
from keras import ops

from pix2pix_k3.data.images import read_pair, to_model_range
from pix2pix_k3.discriminator import patchgan_discriminator
from pix2pix_k3.generator import unet_generator
from pix2pix_k3.losses import gan_loss, l1_loss

from .adapters import StepTrainer, numpy, tensor
from .models import Models


def jitter(a, b, rng):
    """Resize both images to 286x286, crop 256x256 at random, mirror half of the time."""
    a, b = (ops.image.resize(image, (286, 286)) for image in (a, b))
    top, left = rng.integers(0, 31, 2)
    a = a[top : top + 256, left : left + 256]
    top, left = rng.integers(0, 31, 2)
    b = b[top : top + 256, left : left + 256]
    if rng.random() < 0.5:
        a, b = a[:, ::-1], b[:, ::-1]
    return a, b


def generator(image_size):
    return unet_generator(image_size)


def discriminator(image_size):
    return patchgan_discriminator(70, image_size=image_size)


def discriminator_loss(real_logits, fake_logits):
    return gan_loss(real_logits, True) + gan_loss(fake_logits, False)


def generator_loss(fake_logits, generated, targets, lambda_l1=100.0):
    return gan_loss(fake_logits, True) + lambda_l1 * l1_loss(generated, targets)


def train_step(models, x, y):
    G, D = models.generator, models.discriminator

    def g_loss():
        fake = G(x, training=True)
        return generator_loss(D([x, fake], training=True), fake, y)

    g = models.update("generator", g_loss)
    fake = ops.stop_gradient(G(x, training=True))
    d = models.update(
        "discriminator",
        lambda: discriminator_loss(D([x, y], training=True), D([x, fake], training=True)),
    )
    return {"d_loss": d, "g_loss": g}


class Planted:
    """The implementation above, through the suite's adapter protocol."""

    name = "the planted implementation"
    capabilities = {"generator", "discriminator", "data", "losses", "training", "recording"}
    image_sizes = (32, 256)
    receptive_fields = (70,)
    discriminator_sizes = (256,)
    discriminator_outputs = "logits"
    discriminator_norm = "batch"
    directions = ("AtoB", "BtoA")

    def generator(self, image_size, in_channels=3, out_channels=3):
        return generator(image_size)

    def run_generator(self, network, images, training):
        return numpy(network(tensor(images), training=training))

    def discriminator(self, receptive_field, image_size, in_channels=3, out_channels=3):
        return discriminator(image_size)

    def run_discriminator(self, network, inputs, images, training=False):
        return numpy(network([tensor(inputs), tensor(images)], training=training))

    def load_pair(self, path, seed, direction):
        a, b = (to_model_range(side) for side in read_pair((path,), direction))
        return tuple(numpy(side) for side in jitter(a, b, np.random.default_rng(seed)))

    def discriminator_loss(self, real_outputs, fake_outputs):
        return float(numpy(discriminator_loss(tensor(real_outputs), tensor(fake_outputs))))

    def generator_loss(self, fake_outputs, generated, targets):
        return float(numpy(generator_loss(*map(tensor, (fake_outputs, generated, targets)))))

    def trainer(self, image_size):
        return StepTrainer(train_step, Models.build(image_size))
