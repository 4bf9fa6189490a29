"""pix2pix_k3 seen through the adapter protocol (see `adapter_protocol.py`).

The specification tests run against this adapter by default, on whichever Keras
backend is running, so they are part of pix2pix_k3's own suite. It is also the worked
example of an adapter for a Keras implementation.
"""

import keras
import numpy as np

from pix2pix_k3 import Ck, Pix2Pix, build_pix2pix, patchgan_discriminator, unet_generator
from pix2pix_k3.data.jitter import pair_jitter
from pix2pix_k3.losses import discriminator_loss, generator_loss


def numpy(tensor):
    return keras.ops.convert_to_numpy(tensor)


class Pix2PixK3:
    name = "pix2pix_k3"
    capabilities = {
        "generator",
        "generator_layers",
        "discriminator",
        "jitter",
        "losses",
        "objectives",
        "training",
    }
    image_sizes = (32, 64, 128, 256, 512)
    receptive_fields = (1, 16, 34, 70, 142, 286)
    discriminator_outputs = "logits"
    load_size, crop_size = 286, 256
    lambda_l1 = 100.0
    d_loss_scale = 0.5

    def generator(self, image_size, in_channels=3, out_channels=3):
        return unet_generator(image_size, in_channels, out_channels)

    def run_generator(self, generator, images, training):
        return numpy(generator(keras.ops.convert_to_tensor(images), training=training))

    def generator_layers(self, generator):
        layers = []
        for layer in generator.layers:
            if isinstance(layer, Ck):
                layers.append(
                    {
                        "part": "decoder" if layer.transpose else "encoder",
                        "filters": layer.filters,
                        "norm": layer.norm != "none",
                        "dropout": layer.dropout,
                    }
                )
        return layers

    def discriminator(self, receptive_field, image_size, in_channels=3, out_channels=3):
        return patchgan_discriminator(receptive_field, in_channels, out_channels)

    def run_discriminator(self, discriminator, inputs, images):
        pair = [keras.ops.convert_to_tensor(inputs), keras.ops.convert_to_tensor(images)]
        return numpy(discriminator(pair, training=False))

    def jitter(self, input_image, target_image, seed):
        return pair_jitter(input_image, target_image, seed, self.load_size, self.crop_size)

    def discriminator_loss(self, real_outputs, fake_outputs):
        total, _, _ = discriminator_loss(real_outputs, fake_outputs, halve=self.d_loss_scale == 0.5)
        return float(numpy(total))

    def generator_loss(self, fake_outputs, generated, targets):
        total, _, _ = generator_loss(fake_outputs, generated, targets, lambda_l1=self.lambda_l1)
        return float(numpy(total))

    def objectives(self, generator, discriminator, inputs, targets):
        model = Pix2Pix(generator, discriminator, lambda_l1=self.lambda_l1)
        inputs, targets = (keras.ops.convert_to_tensor(a) for a in (inputs, targets))
        terms = model.evaluation_terms(inputs, targets)
        return {name: float(numpy(terms[name])) for name in ("g_loss", "d_loss")}

    def trainer(self, image_size):
        return Trainer(build_pix2pix(image_size, lambda_l1=self.lambda_l1))


class Trainer:
    """One pix2pix_k3 model and its train step, for the "training" capability."""

    def __init__(self, model, g_optimizer=None, d_optimizer=None):
        self.model = model
        model.compile(g_optimizer=g_optimizer, d_optimizer=d_optimizer)

    def step(self, inputs, targets):
        return self.model.train_on_batch(
            np.asarray(inputs, "float32"), np.asarray(targets, "float32"), return_dict=True
        )

    def generate(self, inputs):
        return numpy(self.model.translate(keras.ops.convert_to_tensor(inputs), mode="eval"))

    def discriminate(self, inputs, images):
        pair = [keras.ops.convert_to_tensor(inputs), keras.ops.convert_to_tensor(images)]
        return numpy(self.model.discriminator(pair, training=False))
