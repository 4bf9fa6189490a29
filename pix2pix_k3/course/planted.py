"""A pix2pix with planted bugs, for exercise 7: find them with the specification suite.

It is written the way many Keras 3 pix2pix implementations are: the data pipeline, the
networks, the losses and the train step, each one short function. Some of them depart
from the paper. Nothing here says which: run the suite on `Planted()`, read its FAILs,
then find the function each FAIL comes from.
"""

from keras import ops

from pix2pix_k3.discriminator import patchgan_discriminator
from pix2pix_k3.generator import unet_generator
from pix2pix_k3.losses import gan_loss, l1_loss
from pix2pix_k3.paper import IMAGE_SIZE

from .adapters import (
    DiscriminatorAdapter,
    GeneratorAdapter,
    JitterAdapter,
    LossAdapter,
    StepAdapter,
)
from .models import SIZE


def jitter(a, b, rng):
    """Resize both images to 286x286, crop 256x256 at random, mirror half of the time."""
    a, b = (ops.image.resize(image, (286, 286)) for image in (a, b))
    top, left = rng.integers(0, 31, 2)
    a = a[top : top + 256, left : left + 256]
    top, left = rng.integers(0, 31, 2)
    b = b[top : top + 256, left : left + 256]
    if rng.random() < 0.5:
        a, b = ops.flip(a, axis=1), ops.flip(b, axis=1)
    return a, b


def generator(image_size):
    return unet_generator(image_size)


def discriminator(n_layers, image_size):
    return patchgan_discriminator(n_layers=n_layers, image_size=image_size)


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


class Planted(JitterAdapter, GeneratorAdapter, DiscriminatorAdapter, LossAdapter, StepAdapter):
    """The implementation above, through the suite's adapter protocol: the course's
    adapters, each handed the function above that it runs."""

    name = "the planted implementation"
    capabilities = {"generator", "discriminator", "data", "losses", "training", "recording"}
    image_sizes = (SIZE, IMAGE_SIZE)  # G's architecture at 256, training at 32
    discriminator_sizes = (IMAGE_SIZE,)

    def __init__(self):
        self.pair_jitter, self.unet_generator, self.patchgan = jitter, generator, discriminator
        self.d_loss, self.g_loss, self.train_step = discriminator_loss, generator_loss, train_step
