"""The paper's building blocks, `Ck` and `CDk`, as Keras layers.

Appendix 6.1.1 of Isola et al. (2017): "Let Ck denote a Convolution-BatchNorm-ReLU
layer with k filters. CDk denotes a Convolution-BatchNorm-Dropout-ReLU layer with a
dropout rate of 50%. All convolutions are 4x4 spatial filters applied with stride 2.
Convolutions in the encoder, and in the discriminator, downsample by a factor of 2,
whereas in the decoder they upsample by a factor of 2."

Both generator and discriminator are written with these two layers, so the
networks read like the appendix: `Ck(64)`, `Ck(128)`, ... `CDk(512)`.
"""

import functools

import keras
from keras import ops

from pix2pix_k3.paper import DROPOUT, KERNEL_SIZE, LEAKY_SLOPE, NORMS, STRIDE, WEIGHT_STDDEV

PACKAGE = "pix2pix_k3"
LAYER_NORMS = (*NORMS, "none")  # "none": the layers the appendix leaves unnormalised
ACTIVATIONS = ("leaky_relu", "relu", "none")
PHASE_TAPS = ((3, 1), (2, 0))  # kernel rows (or columns) that an even / odd output phase reads


def weight_init():
    """N(0, 0.02), the paper's initialisation for every convolution kernel."""
    return keras.initializers.RandomNormal(mean=0.0, stddev=WEIGHT_STDDEV)


def gamma_init():
    """N(1, 0.02) for BatchNorm's scale, as in the reference implementations."""
    return keras.initializers.RandomNormal(mean=1.0, stddev=WEIGHT_STDDEV)


def check_choice(name, value, choices):
    """Raise a ValueError naming the argument, the bad value and the valid ones."""
    if value not in choices:
        raise ValueError(
            f"{name}={value!r} is not supported; choose one of {', '.join(map(repr, choices))}."
        )


def make_norm(norm, name, dtype=None):
    """The normalisation layer for `norm`, or None for `"none"`.

    `instance` is InstanceNorm without affine parameters (GroupNormalization with one
    group per channel), as the PyTorch reference's `InstanceNorm2d(affine=False)`.
    """
    check_choice("norm", norm, LAYER_NORMS)
    if norm == "batch":
        # momentum 0.9 is PyTorch's default 0.1 in Keras' convention; epsilon as PyTorch.
        return keras.layers.BatchNormalization(
            momentum=0.9, epsilon=1e-5, gamma_initializer=gamma_init(), name=name, dtype=dtype
        )
    if norm == "instance":
        return keras.layers.GroupNormalization(
            groups=-1, epsilon=1e-5, center=False, scale=False, name=name, dtype=dtype
        )
    return None


def make_activation(activation, name, dtype=None):
    """LeakyReLU(0.2), ReLU, or None; the slope is explicit because Keras' default is 0.3."""
    check_choice("activation", activation, ACTIVATIONS)
    if activation == "leaky_relu":
        return keras.layers.LeakyReLU(negative_slope=LEAKY_SLOPE, name=name, dtype=dtype)
    if activation == "relu":
        return keras.layers.ReLU(name=name, dtype=dtype)
    return None


# Backends on which the matrix-product forms below (`Conv2D`, `Conv2DTranspose`) are
# faster than the backend's own convolutions (full model, 256x256, 2-core CPU): JAX 3.6 s
# -> 0.6 s a step at batch 1. TensorFlow's and torch's own kernels are faster there
# (0.63 s vs 1.28 s, 1.28 s vs 1.46 s with the transposed form).
MATMUL_BACKENDS = ("jax",)
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
    """Keras' `Conv2D`, computed in the form that is fastest on the backend.

    On `MATMUL_BACKENDS` (JAX) it is one matrix product (im2col): the input's
    kernel-sized windows are laid side by side along the channels (one strided slice
    per kernel tap), and one product with the kernel, reshaped from (rows, cols, in,
    out) to (rows * cols * in, out) without moving any element, gives every output
    pixel. Its gradients are matrix products too. On XLA:CPU this is 1.4 to 2.8x
    faster than its convolution at batch 4, whose kernel gradient grows about 10x
    from batch 1 to batch 4. Not for inputs of fewer than `IM2COL_MIN_CHANNELS`
    channels (the images entering G and D): with a patch matrix 48 columns wide, XLA
    transposes the output gradient for the kernel gradient at a crawl (87 ms of a
    0.9 s step for G's first layer), and its own convolution is faster. Where the
    stride is 1 and the layer has fewer filters than input channels (the PatchGAN's
    one-filter output), the products with every tap come first and are then added at
    their offsets (`products_first_call`): a 33x33x16 product instead of a 30x30x8192
    patch matrix.

    On torch it is torch's own convolution without Keras' per-call layout copies
    (`pix2pix_k3.torch_conv`). TensorFlow's own kernels are fastest there: Keras'.

    Like `Conv2DTranspose` below it is Keras' layer with the same variables, config and
    class name, and always computed by the parent for dilations, groups or
    `channels_first`.
    """

    def matmul_applies(self):
        return (
            tuple(self.dilation_rate) == (1, 1)
            and self.groups == 1
            and self.data_format == "channels_last"
        )

    def call(self, inputs):
        if self.matmul_applies():
            if keras.backend.backend() in MATMUL_BACKENDS:
                if tuple(self.strides) == (1, 1) and self.filters < inputs.shape[-1]:
                    return self.products_first_call(inputs)
                if inputs.shape[-1] >= IM2COL_MIN_CHANNELS:
                    return self.matmul_call(inputs)
            if keras.backend.backend() == "torch":
                return self.torch_call(inputs)
        return super().call(inputs)

    def pads(self, input_shape):
        """((top, bottom), (left, right)) zero padding, Keras' "same" or none."""
        if self.padding != "same":
            return (0, 0), (0, 0)
        return tuple(
            same_padding(input_shape[1 + i], k, s)
            for i, (k, s) in enumerate(zip(self.kernel_size, self.strides, strict=True))
        )

    def matmul_call(self, inputs):
        """The convolution as im2col and one product (any backend; tests compare it)."""
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
        return finish(self, ops.einsum("nhwk,ko->nhwo", patches, kernel))

    def products_first_call(self, inputs):
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
        return finish(self, functools.reduce(ops.add, shifted))

    def torch_call(self, inputs):
        """torch's convolution on Keras' layouts, without copying the images (torch only)."""
        from pix2pix_k3 import torch_conv

        inputs, kernel = ops.convert_to_tensor(inputs), ops.convert_to_tensor(self.kernel)
        pads = self.pads(inputs.shape)
        return finish(self, torch_conv.conv2d(inputs, kernel, self.strides, pads))


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
    a transposed convolution is about 15x slower than this, and kernel transposes fused
    into the optimizer update cost as much again. Same multiply-adds. Taking the
    product before slicing (rather than sixteen products of sliced inputs) made the
    decoder's forward and backward passes 2.7x faster on JAX (320 -> 118 ms at batch 1).

    It computes the sub-pixel form on `MATMUL_BACKENDS` (JAX). On torch it computes it
    where the input has no more pixels than the layer has filters, that is where
    copying the kernel into torch's layout costs more than slicing the input (the
    decoder's small, wide layers: 4x faster there on a CPU), and torch's own
    transposed convolution on Keras' layouts elsewhere (`pix2pix_k3.torch_conv`). On
    TensorFlow it is Keras' layer.

    It *is* a `keras.layers.Conv2DTranspose`, with the same variables, config and class
    name, so weight files (whose paths Keras derives from class names) and checkpoints
    move freely between the two. It is always the parent's computation for other
    kernel sizes, strides, dilations or `channels_first`.
    """

    def subpixel_applies(self):
        """Whether this layer's shape is the 4x4, stride-2, `"same"` one of the paper."""
        return (
            tuple(self.kernel_size) == (4, 4)
            and tuple(self.strides) == (2, 2)
            and self.padding == "same"
            and tuple(self.dilation_rate) == (1, 1)
            and self.data_format == "channels_last"
        )

    def call(self, inputs):
        if self.subpixel_applies():
            if keras.backend.backend() in MATMUL_BACKENDS:
                return self.subpixel_call(inputs)
            if keras.backend.backend() == "torch":
                pixels = inputs.shape[0] * inputs.shape[1] * inputs.shape[2]
                small = pixels <= self.filters
                return self.subpixel_call(inputs) if small else self.torch_call(inputs)
        return super().call(inputs)

    def subpixel_call(self, inputs):
        """The transposed convolution in sub-pixel form (any backend; tests compare it).

        Products first: one matrix product multiplies every input pixel by all sixteen
        taps (the kernel read as a (16 * filters, in) matrix, no element moved), and
        each output phase adds four of those sixteen planes, each shifted by its place
        in the phase's 2x2 window. The big input is read once, and what is sliced and
        added is the product, with `filters` channels per tap.
        """
        height, width, filters = inputs.shape[1], inputs.shape[2], self.filters
        products = ops.einsum("nhwi,ti->nhwt", inputs, ops.reshape(self.kernel, (16 * filters, -1)))
        # split (not slicing) so that the gradient is one concatenation, not 16 pads; each
        # plane padded after the split (padding the whole product first: 8% slower steps).
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
        outputs = ops.reshape(ops.stack(rows, axis=2), (-1, 2 * height, 2 * width, filters))
        return finish(self, outputs)

    def torch_call(self, inputs):
        """torch's transposed convolution on Keras' layouts, without copying the images."""
        from pix2pix_k3 import torch_conv

        inputs, kernel = ops.convert_to_tensor(inputs), ops.convert_to_tensor(self.kernel)
        return finish(self, torch_conv.conv2d_transpose_4x4_stride2_same(inputs, kernel))


@keras.saving.register_keras_serializable(package=PACKAGE)
class Ck(keras.layers.Layer):
    """Convolution -> Norm -> (Dropout) -> activation, with k = `filters`.

    The encoder (and discriminator) form is a strided 4x4 convolution followed by
    LeakyReLU(0.2); the decoder form (`transpose=True`) is a 4x4 transposed
    convolution followed by ReLU.

    Args:
        filters: k, the number of output channels.
        transpose: False for the downsampling (encoder/discriminator) form, True for
            the upsampling (decoder) form.
        norm: `"batch"`, `"instance"` or `"none"`.
        activation: `"leaky_relu"`, `"relu"` or `"none"`; `None` picks the paper's:
            leaky for the encoder form, plain ReLU for the decoder form.
        dropout: dropout rate between norm and activation (0 disables; `CDk` uses 0.5).
        use_bias: whether the convolution has a bias; `None` means "only when there is
            no BatchNorm after it" (BatchNorm's beta makes a bias redundant).
        kernel_size: 4 in the paper; 1 for the PixelGAN discriminator.
        strides: 2 in the paper; the last two discriminator convolutions use 1.
        padding: `"same"`, or an int for explicit symmetric zero padding followed by a
            `"valid"` convolution (the PatchGAN's `padding=1`, which keeps its output
            sizes and receptive fields equal to the reference's).

    Input shape: `(batch, height, width, channels)`.
    Output shape: `(batch, height', width', filters)`, height' = height / strides for
    the encoder form with `"same"` padding, height * strides for the decoder form.

    Example:
        >>> Ck(64)(keras.ops.zeros((1, 32, 32, 3))).shape
        (1, 16, 16, 64)
    """

    def __init__(
        self,
        filters,
        transpose=False,
        norm="batch",
        activation=None,
        dropout=0.0,
        use_bias=None,
        kernel_size=KERNEL_SIZE,
        strides=STRIDE,
        padding="same",
        **kwargs,
    ):
        super().__init__(**kwargs)
        if activation is None:
            activation = "relu" if transpose else "leaky_relu"
        if use_bias is None:
            use_bias = norm != "batch"
        if not (padding == "same" or (isinstance(padding, int) and padding >= 0)):
            raise ValueError(f"padding must be 'same' or an int >= 0, got {padding!r}.")
        self.filters = int(filters)
        self.transpose = bool(transpose)
        self.norm = norm
        self.activation = activation
        self.dropout = float(dropout)
        self.use_bias = bool(use_bias)
        self.kernel_size = int(kernel_size)
        self.strides = int(strides)
        self.padding = padding

        conv_class = Conv2DTranspose if transpose else Conv2D
        policy = self.dtype_policy  # the block's, also when it is loaded under another
        self.pad = None
        if isinstance(padding, int) and padding > 0:
            self.pad = keras.layers.ZeroPadding2D(padding, name="pad", dtype=policy)
        self.conv = conv_class(
            self.filters,
            self.kernel_size,
            strides=self.strides,
            padding="same" if padding == "same" else "valid",
            use_bias=self.use_bias,
            kernel_initializer=weight_init(),
            name="conv",
            dtype=policy,
        )
        self.norm_layer = make_norm(norm, "norm", policy)
        self.dropout_layer = (
            keras.layers.Dropout(self.dropout, name="dropout", dtype=policy)
            if self.dropout
            else None
        )
        self.activation_layer = make_activation(activation, "act", policy)

    def _stages(self):
        stages = [self.pad, self.conv, self.norm_layer, self.dropout_layer, self.activation_layer]
        return [stage for stage in stages if stage is not None]

    def build(self, input_shape):
        shape = input_shape
        for stage in self._stages():
            stage.build(shape)
            shape = stage.compute_output_shape(shape)

    def call(self, inputs, training=None):
        x = inputs
        for stage in self._stages():
            if stage is self.dropout_layer or stage is self.norm_layer:
                x = stage(x, training=training)
            else:
                x = stage(x)
        return x

    def compute_output_shape(self, input_shape):
        shape = input_shape
        for stage in self._stages():
            shape = stage.compute_output_shape(shape)
        return shape

    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters,
            transpose=self.transpose,
            norm=self.norm,
            activation=self.activation,
            dropout=self.dropout,
            use_bias=self.use_bias,
            kernel_size=self.kernel_size,
            strides=self.strides,
            padding=self.padding,
        )
        return config


@keras.saving.register_keras_serializable(package=PACKAGE)
class CDk(Ck):
    """The decoder's Convolution-BatchNorm-Dropout-ReLU block: `Ck` with dropout 0.5.

    A transposed 4x4 convolution with stride 2, norm, Dropout(`rate`), ReLU. Dropout is
    the generator's only source of noise: the paper found that z-noise was ignored.

    Example:
        >>> CDk(512)(keras.ops.zeros((1, 2, 2, 512))).shape
        (1, 4, 4, 512)
    """

    def __init__(self, filters, norm="batch", rate=DROPOUT, **kwargs):
        for fixed in ("transpose", "dropout"):
            kwargs.pop(fixed, None)
        super().__init__(filters, transpose=True, norm=norm, dropout=rate, **kwargs)
        self.rate = float(rate)

    def get_config(self):
        config = super().get_config()
        config.pop("transpose")
        config["rate"] = config.pop("dropout")
        return config
