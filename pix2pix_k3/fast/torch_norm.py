"""torch's batch norm on Keras' channels-last tensors (see `fast.norm`)."""

import math

import torch
import torch.nn.functional as F


def batch_norm_channels_last(x, gamma, beta, epsilon):
    """(normalized x, the batch's mean, its biased variance), over all axes but the last.

    torch's kernel also returns the batch's mean and unbiased variance in buffers given
    with momentum 1; Keras' moving averages take the biased variance.
    """
    count = math.prod(x.shape[:-1])
    mean, variance = (torch.zeros(x.shape[-1], device=x.device) for _ in range(2))
    outputs = F.batch_norm(
        x.movedim(-1, 1),  # a view: the same memory in torch's channels_last layout
        mean,
        variance,
        gamma,
        beta,
        training=True,
        momentum=1.0,
        eps=epsilon,
    ).movedim(1, -1)
    return outputs, mean, variance * ((count - 1) / count)
