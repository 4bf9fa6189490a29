"""Keras' `LeakyReLU`, whose torch form keeps its output, not its input, for the gradient.

torch's `leaky_relu` keeps its input for the backward pass, and the next convolution
keeps the activation's output: two activation-sized tensors per block. The gradient of a
leaky ReLU with a positive slope can be read from its output as well (the output is
positive exactly where the input is), so this form keeps the output alone, which the next
layer keeps anyway. The PyTorch reference reaches the same by computing its activations
in place (`nn.LeakyReLU(0.2, True)`). torch's `relu` already keeps its output, so `ReLU`
needs no form of its own.

In a 256x256 train step on a 2-core CPU, with `pix2pix_k3.fast.norm`, this is most of
what our step kept beyond the authors' at batch 4 (docs/benchmarks.md). It runs in the
`torch` forms (torch on a CPU) with a positive slope; elsewhere it is Keras' own.
"""

import keras

from pix2pix_k3 import fast
from pix2pix_k3.fast.conv import PACKAGE


@keras.saving.register_keras_serializable(package=PACKAGE)
class LeakyReLU(keras.layers.LeakyReLU):
    """Keras' `LeakyReLU`; in the `torch` forms its gradient comes from its output."""

    def call(self, inputs):
        if self.negative_slope > 0 and fast.form(inputs) == "torch":
            from pix2pix_k3.fast import torch_activation

            x = keras.ops.convert_to_tensor(inputs)
            return torch_activation.LeakyReLUKeepingOutput.apply(x, float(self.negative_slope))
        return super().call(inputs)
