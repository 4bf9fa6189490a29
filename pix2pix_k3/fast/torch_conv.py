"""Keras' convolutions on the torch backend, without copying data into torch's layouts.

Keras stores a convolution kernel as (rows, cols, in, out) and feeds images as
(batch, height, width, channels). torch wants (out, in, rows, cols) kernels and
(batch, channels, height, width) images, so Keras' torch backend permutes and copies
both at every call, and the gradients come back through the same copies. On a 2-core
CPU those copies took a third of a 256x256 train step: element-by-element permutes
run at about 0.7 GB/s, and a kernel of 1024 x 512 x 4 x 4 is 32 MB.

Here the images are not copied at all: a (batch, height, width, channels) tensor *is*
torch's `channels_last` memory format, seen through a permuted view. The kernel is
copied once each way by one blocked 2-D transpose, (rows * cols * in, out) to
(out, rows * cols * in), which is what torch's `channels_last` kernel layout stores.
Only `pix2pix_k3.fast.conv` calls these, in its `torch` forms, with Keras' own kernels.
"""

import torch
import torch.nn.functional as F


class TransposedCopy(torch.autograd.Function):
    """A 2-D matrix's transpose, copied contiguous; its gradient is copied back alike.

    torch copies a whole transposed matrix in cache-sized blocks, about twice as fast
    as the element-wise copies of a 4-D permute.
    """

    @staticmethod
    def forward(ctx, matrix):
        return matrix.t().contiguous()

    @staticmethod
    def backward(ctx, grad):
        return grad.t().contiguous()


def kernel_for_torch(kernel):
    """(rows, cols, a, b) Keras kernel as torch's (b, a, rows, cols), stored channels-last.

    For `conv2d` (a, b) = (in, out), torch's (out, in, rows, cols). For
    `conv_transpose2d` Keras' kernel is (rows, cols, out, in) and torch's (in, out,
    rows, cols): the same transpose serves both.
    """
    rows, cols, a, b = kernel.shape
    flat = TransposedCopy.apply(kernel.reshape(rows * cols * a, b))
    return flat.view(b, rows, cols, a).permute(0, 3, 1, 2)


def images_for_torch(images):
    """(batch, height, width, channels) as torch's (batch, channels, height, width) view."""
    return images.permute(0, 3, 1, 2)


def images_from_torch(images):
    return images.permute(0, 2, 3, 1)


def conv2d(images, kernel, strides, pads):
    """Keras' `Conv2D` (no dilation or groups) on channels-last images.

    `pads` is ((top, bottom), (left, right)), Keras' padding already worked out.
    """
    x = images_for_torch(images)
    (top, bottom), (left, right) = pads
    if top == bottom and left == right:
        padding = (top, left)
    else:
        x, padding = F.pad(x, (left, right, top, bottom)), 0
    y = F.conv2d(x, kernel_for_torch(kernel), stride=tuple(strides), padding=padding)
    return images_from_torch(y)


def tap_products(images, taps):
    """(batch, height, width, in) images times a (taps, in) matrix: (..., taps).

    `linear` computes the matrix's gradient as grad^T @ images, in the matrix's own
    layout. `einsum`'s came out as (in, taps) and was copied back element by element: for
    the decoder's 1024 x 8192 kernels at 2x2 to 8x8 pixels, several times slower forward
    and backward (docs/benchmarks.md).
    """
    return F.linear(images, taps)


def conv2d_transpose_4x4_stride2_same(images, kernel):
    """Keras' 4x4, stride-2, `"same"` `Conv2DTranspose` on channels-last images.

    That shape crops one pixel from each side of the full transposed convolution,
    which is torch's `padding=1`.
    """
    y = F.conv_transpose2d(images_for_torch(images), kernel_for_torch(kernel), stride=2, padding=1)
    return images_from_torch(y)
