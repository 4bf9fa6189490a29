"""Keras' `BatchNormalization`, normalized by torch's own kernel where the torch forms run.

Keras' layer normalizes in `keras.ops`: on the torch backend a mean, a mean of squares,
then `(x - mean) * rsqrt(var + eps) * gamma + beta`, and autograd keeps activation-sized
tensors of these for the backward pass (x for the squares' gradient, and the centred x
for the scale's). torch's `batch_norm` keeps x alone and runs forward and backward as one
kernel each. In a 256x256 train step on a 2-core CPU that is most of the gap between our
step's own memory and the authors' PyTorch step's at batch 4 (docs/benchmarks.md).

Only the training-mode normalization changes form. The moving averages are updated as
Keras updates them (the biased batch variance, Keras' momentum), from the statistics
torch's kernel computes. Inference, renorm, masks, an axis other than the last, a batch
of one value per channel (which torch refuses to normalize), and every other backend and
device keep Keras' own computation.
"""

import math

import keras

from pix2pix_k3 import fast
from pix2pix_k3.fast.conv import PACKAGE


@keras.saving.register_keras_serializable(package=PACKAGE)
class BatchNormalization(keras.layers.BatchNormalization):
    """Keras' `BatchNormalization` (same variables, config and updates); in training mode
    in the `torch` forms (torch on a CPU) it normalizes with torch's `batch_norm`."""

    def forms_apply(self, inputs, training, mask):
        return (
            bool(training)
            and self.trainable
            and mask is None
            and not self.renorm
            and self.axis in (-1, len(inputs.shape) - 1)
            and math.prod(inputs.shape[:-1]) > 1  # torch refuses one value per channel
        )

    def call(self, inputs, training=None, mask=None):
        if fast.form(inputs) == "torch" and self.forms_apply(inputs, training, mask):
            return self.torch_call(inputs)
        return super().call(inputs, training=training, mask=mask)

    def torch_call(self, inputs):
        """Normalize by the batch's statistics with torch's kernel; update Keras' averages."""
        from pix2pix_k3.fast import torch_norm

        outputs, mean, variance = torch_norm.batch_norm_channels_last(
            keras.ops.convert_to_tensor(inputs).float(),  # statistics in float32, as Keras
            self.gamma.value if self.scale else None,
            self.beta.value if self.center else None,
            self.epsilon,
        )
        self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1 - self.momentum))
        self.moving_variance.assign(
            self.moving_variance * self.momentum + variance * (1 - self.momentum)
        )
        return keras.ops.cast(outputs, self.compute_dtype)
