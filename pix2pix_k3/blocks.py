"""The paper's building blocks, `Ck` and `CDk`, as Keras layers.

Appendix 6.1.1 of Isola et al. (2017): "Let Ck denote a Convolution-BatchNorm-ReLU
layer with k filters. CDk denotes a Convolution-BatchNorm-Dropout-ReLU layer with a
dropout rate of 50%. All convolutions are 4x4 spatial filters applied with stride 2.
Convolutions in the encoder, and in the discriminator, downsample by a factor of 2,
whereas in the decoder they upsample by a factor of 2."

Both generator and discriminator are written with these two layers, so the
networks read like the appendix: `Ck(64)`, `Ck(128)`, ... `CDk(512)`.
"""

import keras

# The paper's convolutions, BatchNorm and activations are Keras' layers of those names;
# these are those layers, computed in a faster form where one was measured faster
# (pix2pix_k3.fast says where).
from pix2pix_k3.fast.activation import LeakyReLU
from pix2pix_k3.fast.conv import PACKAGE, Conv2D, Conv2DTranspose
from pix2pix_k3.fast.norm import BatchNormalization
from pix2pix_k3.paper import DROPOUT, KERNEL_SIZE, LEAKY_SLOPE, NORMS, STRIDE, WEIGHT_STDDEV

LAYER_NORMS = (*NORMS, "none")  # "none": the layers the appendix leaves unnormalised
ACTIVATIONS = ("leaky_relu", "relu", "none")


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
        return BatchNormalization(
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
        return LeakyReLU(negative_slope=LEAKY_SLOPE, name=name, dtype=dtype)
    if activation == "relu":
        return keras.layers.ReLU(name=name, dtype=dtype)
    return None


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
        >>> keras.ops.shape(Ck(64)(keras.ops.zeros((1, 32, 32, 3))))
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
        >>> keras.ops.shape(CDk(512)(keras.ops.zeros((1, 2, 2, 512))))
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
