"""FLOPs of a pix2pix train step, computed from the networks' layer shapes.

Convention (the usual one for reporting training FLOPs): only convolutions count,
one multiply-add is 2 FLOPs, and a backward pass costs twice its forward pass (input
and weight gradients). Normalisation, activations and the optimizer are left out:
they are memory-bound and small in FLOPs.
"""

import math


def conv_macs(network):
    """Multiply-adds of one forward pass of a functional `network`, batch 1."""
    import keras

    from pix2pix_k3.blocks import Ck

    total = 0
    for layer in network.layers:
        conv = layer.conv if isinstance(layer, Ck) else layer
        if not isinstance(conv, (keras.layers.Conv2D, keras.layers.Conv2DTranspose)):
            continue
        transposed = isinstance(conv, keras.layers.Conv2DTranspose)
        # A convolution does kernel-size multiply-adds per output pixel; a transposed
        # one per input pixel.
        pixels = (layer.input if transposed else layer.output).shape[1:3]
        total += math.prod(pixels) * math.prod(conv.kernel.shape)
    return total


def forward_flops(model):
    """(G, D) forward FLOPs per image pair."""
    return 2 * conv_macs(model.generator), 2 * conv_macs(model.discriminator)


def step_flops(g_forward, d_forward, batch_size, step="alternating"):
    """FLOPs of one train step on `batch_size` pairs.

    `alternating` (pix2pix_k3, the PyTorch reference): G forward and backward; D step on
    the real and the fake pair (two forwards, two backwards); G step through the
    updated D (one forward, one backward): 3 G + 9 D.
    `tutorial` (the TensorFlow tutorial's step): one G forward, two D forwards, and
    three backward passes through D (D's tape through both pairs, G's tape through the
    fake pair): 3 G + 8 D.
    """
    d_units = {"alternating": 9, "tutorial": 8}[step]
    return batch_size * (3 * g_forward + d_units * d_forward)
