"""The U-Net generator of appendix 6.1.1, written as the paper's two lists.

    encoder: C64-C128-C256-C512-C512-C512-C512-C512
    decoder: CD512-CD512-CD512-C512-C256-C128-C64

followed by a final transposed convolution to the output channels and tanh. The
U-Net concatenates encoder layer i onto decoder layer n-i, so each decoder block after
the first sees twice its width (the paper's CD1024-... listing of the U-Net decoder).
"""

import math

import keras

from pix2pix_k3.blocks import LAYER_NORMS, CDk, Ck, Conv2DTranspose, check_choice, weight_init
from pix2pix_k3.paper import (
    BASE_WIDTH,
    DROPOUT,
    DROPOUT_LAYERS,
    IMAGE_SIZE,
    KERNEL_SIZE,
    MAX_WIDTH_FACTOR,
    STRIDE,
    height_width,
    width,
)


def default_depth(image_size):
    """Downsamplings that take `image_size` (its shorter side) to 1: a 1x1 bottleneck for
    square images (256 -> 8, 128 -> 7), 1x2 for 256x512."""
    return max(int(math.floor(math.log2(min(height_width(image_size))))), 1)


def check_image_size(image_size, depth):
    """Raise a ValueError unless each side of `image_size` halves cleanly `depth` times."""
    if depth < 2:
        raise ValueError(f"The U-Net needs depth >= 2 (got depth={depth}).")
    step = 2**depth
    sides = image_size if isinstance(image_size, (tuple, list)) else (image_size,)
    for side in sides:
        if not isinstance(side, int) or side < step or side % step:
            lower = (int(side) // step) * step
            nearest = [size for size in (lower, lower + step) if size >= step]
            which = f" for the side {side}" if len(sides) > 1 else ""
            raise ValueError(
                f"image_size={image_size} does not fit a U-Net of depth {depth}: each side "
                f"must be a multiple of 2**{depth} = {step}. Nearest valid sizes{which}: "
                f"{' or '.join(map(str, nearest))} (or choose another depth)."
            )


def encoder_widths(depth, ngf=BASE_WIDTH):
    """Channel widths of the encoder's C-blocks: ngf * (1, 2, 4, 8, 8, ...)."""
    return [width(ngf, i) for i in range(depth)]


def unet_generator(
    image_size=IMAGE_SIZE,
    in_channels=3,
    out_channels=3,
    ngf=BASE_WIDTH,
    norm="batch",
    skips=True,
    dropout=DROPOUT,
    depth=None,
    name=None,
):
    """Build the pix2pix generator as a functional `keras.Model`.

    Args:
        image_size: side of the square input, or its (height, width); each side a
            multiple of 2**depth.
        in_channels: channels of the input image (3 for RGB, 1 for grayscale).
        out_channels: channels of the generated image.
        ngf: width of the first encoder layer (64 in the paper).
        norm: `"batch"` (paper), `"instance"` or `"none"`.
        skips: True for the U-Net; False for the paper's encoder-decoder ablation.
        dropout: rate of the CD-blocks (0.5 in the paper; 0 turns them into C-blocks).
        depth: number of downsamplings; default takes the shorter side to 1 (256 -> 8).

    Returns:
        A `keras.Model` mapping `(N, H, W, in_channels)` in [-1, 1] to
        `(N, H, W, out_channels)` in [-1, 1].

    Layout choices, each matching the widely used PyTorch reference (so the default
    256 model has exactly 54,413,955 trainable parameters):

    - No norm on the first encoder layer (C64, as the appendix says) and none on the
      innermost encoder layer: BatchNorm on a 1x1 map with batch 1 outputs its beta
      and kills the signal (the paper's v3 errata).
    - With BatchNorm no convolution has a bias (BatchNorm's beta does that job), except
      the final transposed convolution. With `instance`/`none` every conv has a bias.
    - Dropout sits on the first three decoder layers, as the paper lists them
      (CD512-CD512-CD512-C512-...); the PyTorch reference puts them one layer deeper.
      Smaller generators keep dropout on those of the first three decoder layers that
      have the full 8*ngf width, so every size stays stochastic at train time.
    - Blocks are post-activation (Conv-Norm-ReLU, as the paper writes them and the
      TensorFlow tutorial builds them): skips carry LeakyReLU outputs. The PyTorch
      reference applies each activation before the next convolution instead, so its
      skips carry pre-activation maps that the decoder's ReLU then clips. The weights
      and their count are the same.
    """
    check_choice("norm", norm, LAYER_NORMS)
    depth = default_depth(image_size) if depth is None else int(depth)
    check_image_size(image_size, depth)
    widths = encoder_widths(depth, ngf)

    inputs = keras.Input((*height_width(image_size), in_channels), name="input_image")
    x = inputs
    encoded = []
    for i, filters in enumerate(widths):
        unnormed = i in (0, depth - 1)
        x = Ck(
            filters,
            norm="none" if unnormed else norm,
            use_bias=norm != "batch",
            name=f"encoder{i + 1}_C{filters}",
        )(x)
        encoded.append(x)

    for j, filters in enumerate(reversed(widths[:-1])):
        with_dropout = dropout and j < DROPOUT_LAYERS and filters == ngf * MAX_WIDTH_FACTOR
        if with_dropout:
            x = CDk(filters, norm=norm, rate=dropout, name=f"decoder{j + 1}_CD{filters}")(x)
        else:
            x = Ck(filters, transpose=True, norm=norm, name=f"decoder{j + 1}_C{filters}")(x)
        if skips:
            x = keras.layers.Concatenate(name=f"skip{depth - 1 - j}")([x, encoded[depth - 2 - j]])

    outputs = Conv2DTranspose(
        out_channels,
        KERNEL_SIZE,
        strides=STRIDE,
        padding="same",
        activation="tanh",
        kernel_initializer=weight_init(),
        name="output_tanh",
    )(x)
    model_name = name or ("unet_generator" if skips else "encoder_decoder_generator")
    return keras.Model(inputs, outputs, name=model_name)
