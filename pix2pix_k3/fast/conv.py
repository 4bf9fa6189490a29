"""Keras' `Conv2D` and `Conv2DTranspose`, computed in the form `pix2pix_k3.fast` chooses.

Each class *is* Keras' layer (a subclass with the same variables, config and class name,
so weight files and checkpoints move freely between the two) with other forms of the
same product: matrix products for JAX on a CPU; for torch on a CPU, torch's own
convolutions on Keras' layouts (`torch_conv`) and, on layers of few pixels, matrix
products again (their kernel gradients need no layout copy); Keras' own computation
everywhere else and
always for dilations, groups or `channels_first`. `call_form(inputs, name)` computes a
named form whatever the device, for the tests that hold each equal to Keras'.
"""

import functools

import keras
from keras import ops

from pix2pix_k3 import fast

PACKAGE = "pix2pix_k3"  # the package name .keras files record for every layer of ours
PHASE_TAPS = ((3, 1), (2, 0))  # kernel rows (or columns) that an even / odd output phase reads
IM2COL_MIN_CHANNELS = 8  # below, XLA's convolution is faster (a thin patch matrix)


def same_padding(size, kernel, stride):
    """(before, after) zero padding of Keras' `"same"` along one axis."""
    total = max((-(-size // stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def finish(layer, outputs):
    """A convolution layer's bias and activation, after its product."""
    if layer.use_bias:
        outputs = ops.add(outputs, layer.bias)
    if layer.activation is not None:
        outputs = layer.activation(outputs)
    return outputs


@keras.saving.register_keras_serializable(package=PACKAGE)
class Conv2D(keras.layers.Conv2D):
    """Keras' `Conv2D`, its product computed in the form `fast.form` names.

    Through Keras' own hook `convolution_op`, so Keras adds the bias and activation.

    The `matmul` forms (JAX on a CPU): one matrix product (im2col): the input's
    kernel-sized windows are laid side by side along the channels (one strided slice
    per kernel tap), and one product with the kernel, reshaped from (rows, cols, in,
    out) to (rows * cols * in, out) without moving any element, gives every output
    pixel. Its gradients are matrix products too. On XLA:CPU this is faster than its
    convolution, whose kernel gradient grows about tenfold from batch 1 to batch 4. Not
    for inputs of fewer than `IM2COL_MIN_CHANNELS`
    channels (the images entering G and D): with a patch matrix 48 columns wide, XLA
    transposes the output gradient for the kernel gradient at a crawl (a tenth of a
    step for G's first layer), and its own convolution is faster. Where the
    stride is 1 and the layer has fewer filters than input channels (the PatchGAN's
    one-filter output), the products with every tap come first and are then added at
    their offsets (`products_first_product`): a 33x33x16 product instead of a 30x30x8192
    patch matrix.

    The `torch` forms (torch on a CPU): where the batch's output has no more pixels than
    the layer has filters (the encoder's deep layers, 16x16 inputs and smaller at 256
    px), im2col as above, whose kernel gradient comes out in the kernel's own layout;
    there torch's convolution spends its time copying a 512 x 512 x 4 x 4 kernel into
    its layout and back (at 1x1 to 8x8 outputs, several times im2col's time). Elsewhere
    torch's own convolution without Keras' per-call layout copies (`torch_conv`), which
    is faster than im2col there (docs/benchmarks.md).
    """

    def forms_apply(self):
        return (
            tuple(self.dilation_rate) == (1, 1)
            and self.groups == 1
            and self.data_format == "channels_last"
        )

    def convolution_op(self, inputs, kernel):
        chosen = fast.form(inputs) if self.forms_apply() else "keras"
        if chosen == "matmul":
            if tuple(self.strides) == (1, 1) and self.filters < inputs.shape[-1]:
                return self.products_first_product(inputs)
            if inputs.shape[-1] >= IM2COL_MIN_CHANNELS:
                return self.matmul_product(inputs)
        if chosen == "torch":
            (sh, sw), (n, height, width) = self.strides, inputs.shape[:3]
            if (
                n * height * width <= self.filters * sh * sw
                and inputs.shape[-1] >= IM2COL_MIN_CHANNELS
            ):
                return self.matmul_product(inputs)
            return self.torch_product(inputs)
        return super().convolution_op(inputs, kernel)

    def call_form(self, inputs, name):
        """The layer's output with form `name` (`matmul`, `products_first`, `torch`)."""
        return finish(self, getattr(self, f"{name}_product")(inputs))

    def pads(self, input_shape):
        """((top, bottom), (left, right)) zero padding, Keras' "same" or none."""
        if self.padding != "same":
            return (0, 0), (0, 0)
        return tuple(
            same_padding(input_shape[1 + i], k, s)
            for i, (k, s) in enumerate(zip(self.kernel_size, self.strides, strict=True))
        )

    def matmul_product(self, inputs):
        """The convolution as im2col and one product (any backend)."""
        (kh, kw), (sh, sw) = self.kernel_size, self.strides
        inputs = ops.pad(inputs, ((0, 0), *self.pads(inputs.shape), (0, 0)))
        height = (inputs.shape[1] - kh) // sh + 1
        width = (inputs.shape[2] - kw) // sw + 1
        windows = [
            inputs[:, ky : ky + sh * (height - 1) + 1 : sh, kx : kx + sw * (width - 1) + 1 : sw]
            for ky in range(kh)
            for kx in range(kw)
        ]
        patches = windows[0] if len(windows) == 1 else ops.concatenate(windows, axis=-1)
        kernel = ops.reshape(self.kernel, (-1, self.filters))
        return ops.einsum("nhwk,ko->nhwo", patches, kernel)

    def products_first_product(self, inputs):
        """The convolution as products with every tap first, then shifted sums (any backend).

        One matrix product multiplies every input pixel by all kh * kw taps, and each
        output pixel adds the kh * kw planes at its window's offsets. Where the stride
        is 1 and the layer has fewer filters than input channels (the PatchGAN's
        one-filter output), that product is smaller than im2col's patch matrix.
        """
        (kh, kw), (sh, sw) = self.kernel_size, self.strides
        inputs = ops.pad(inputs, ((0, 0), *self.pads(inputs.shape), (0, 0)))
        height = (inputs.shape[1] - kh) // sh + 1
        width = (inputs.shape[2] - kw) // sw + 1
        kernel = ops.reshape(self.kernel, (kh * kw, -1, self.filters))
        # unstack (not indexing) so that the gradient is one stack, not kh * kw pads.
        planes = ops.unstack(ops.einsum("nhwi,tio->nhwto", inputs, kernel), axis=3)
        shifted = [
            planes[kw * ky + kx][
                :, ky : ky + sh * (height - 1) + 1 : sh, kx : kx + sw * (width - 1) + 1 : sw
            ]
            for ky in range(kh)
            for kx in range(kw)
        ]
        return functools.reduce(ops.add, shifted)

    def torch_product(self, inputs):
        """torch's convolution on Keras' layouts, without copying the images (torch only)."""
        from pix2pix_k3.fast import torch_conv

        inputs, kernel = ops.convert_to_tensor(inputs), ops.convert_to_tensor(self.kernel)
        return torch_conv.conv2d(inputs, kernel, self.strides, self.pads(inputs.shape))


@keras.saving.register_keras_serializable(package=PACKAGE)
class Conv2DTranspose(keras.layers.Conv2DTranspose):
    """Keras' `Conv2DTranspose`, computed in sub-pixel form where that is faster.

    A 4x4 transposed convolution with stride 2 and `"same"` padding writes output pixel
    (2m + py, 2n + px) from the 2x2 input window at (m - 1 + py .. m + py) through four of
    the kernel's sixteen taps: rows (3, 1) for even py, (2, 0) for odd, columns alike. So
    each of the four output phases is a 2x2 convolution, and the phases interleave into
    the output (the sub-pixel, or depth-to-space, form). All sixteen taps are one
    matrix product with the kernel as it is stored, so that neither the forward nor the
    backward pass transposes or scatters the kernel: on XLA:CPU the kernel gradient of
    a transposed convolution is an order of magnitude slower than this, and kernel
    transposes fused into the optimizer update cost as much again. Same multiply-adds.
    Taking the product before slicing (rather than sixteen products of sliced inputs)
    made the decoder's passes nearly three times faster on JAX (docs/benchmarks.md).

    Keras' `Conv2DTranspose.call` has no hook for its product (keras/src/layers/
    convolutional/base_conv_transpose.py computes `ops.conv_transpose` in `call`), so
    `call` is overridden and adds the bias and activation itself (`finish`).

    It computes the sub-pixel form in the `matmul` forms (JAX on a CPU). In the `torch`
    forms (torch on a CPU) it computes it where the batch holds no more than four pixels
    per filter, that is where copying the kernel into torch's layout costs more than
    slicing the products (the decoder's small, wide layers), and torch's own transposed
    convolution on Keras' layouts elsewhere (`torch_conv`), as measured (docs/benchmarks.md).
    It is always the
    parent's computation for other kernel sizes, strides, dilations or `channels_first`.
    """

    def forms_apply(self):
        """Whether this layer's shape is the 4x4, stride-2, `"same"` one of the paper."""
        return (
            tuple(self.kernel_size) == (4, 4)
            and tuple(self.strides) == (2, 2)
            and self.padding == "same"
            and tuple(self.dilation_rate) == (1, 1)
            and self.data_format == "channels_last"
        )

    def call(self, inputs):
        chosen = fast.form(inputs) if self.forms_apply() else "keras"
        if chosen == "matmul":
            return self.call_form(inputs, "subpixel")
        if chosen == "torch":
            small = inputs.shape[0] * inputs.shape[1] * inputs.shape[2] <= 4 * self.filters
            return self.call_form(inputs, "subpixel" if small else "torch")
        return super().call(inputs)

    def call_form(self, inputs, name):
        """The layer's output with form `name` (`subpixel`, `torch`)."""
        return finish(self, getattr(self, f"{name}_product")(inputs))

    def subpixel_product(self, inputs):
        """The transposed convolution in sub-pixel form (any backend).

        Products first: one matrix product multiplies every input pixel by all sixteen
        taps (the kernel read as a (16 * filters, in) matrix, no element moved), and
        each output phase adds four of those sixteen planes, each shifted by its place
        in the phase's 2x2 window. The big input is read once, and what is sliced and
        added is the product, with `filters` channels per tap.
        """
        height, width, filters = inputs.shape[1], inputs.shape[2], self.filters
        products = self.tap_products(inputs)
        # split (not slicing) so that the gradient is one concatenation, not 16 pads; each
        # plane padded after the split (padding the whole product first made steps slower).
        planes = [
            ops.pad(plane, ((0, 0), (1, 1), (1, 1), (0, 0)))
            for plane in ops.split(products, 16, axis=-1)
        ]

        def shifted(py, a, px, b):
            """Tap (ky, kx)'s products, placed for output phase (py, px)."""
            plane = planes[4 * PHASE_TAPS[py][a] + PHASE_TAPS[px][b]]
            return plane[:, py + a : py + a + height, px + b : px + b + width]

        rows = []
        for py in (0, 1):
            phases = [
                functools.reduce(ops.add, [shifted(py, a, px, b) for a in (0, 1) for b in (0, 1)])
                for px in (0, 1)
            ]
            row = ops.stack(phases, axis=3)  # (n, h, w, px, o): columns interleave
            rows.append(ops.reshape(row, (-1, height, 2 * width, filters)))
        return ops.reshape(ops.stack(rows, axis=2), (-1, 2 * height, 2 * width, filters))

    def tap_products(self, inputs):
        """Every input pixel times each of the sixteen taps: (n, h, w, 16 * filters)."""
        kernel = ops.reshape(self.kernel, (16 * self.filters, -1))
        if fast.form(inputs) == "torch":
            from pix2pix_k3.fast import torch_conv

            inputs, kernel = ops.convert_to_tensor(inputs), ops.convert_to_tensor(kernel)
            return torch_conv.tap_products(inputs, kernel)
        return ops.einsum("nhwi,ti->nhwt", inputs, kernel)

    def torch_product(self, inputs):
        """torch's transposed convolution on Keras' layouts, without copying the images."""
        from pix2pix_k3.fast import torch_conv

        inputs, kernel = ops.convert_to_tensor(inputs), ops.convert_to_tensor(self.kernel)
        return torch_conv.conv2d_transpose_4x4_stride2_same(inputs, kernel)
