"""The PatchGAN discriminator of appendix 6.1.2, and its receptive field.

The 70x70 discriminator is C64-C128-C256-C512, then a convolution to one channel: it
classifies every 70x70 patch of the (input, image) pair as real or fake and returns
one logit per patch. Other depths give the paper's 1x1 (PixelGAN), 16x16 and 286x286
variants (Table 3), and 34x34 / 142x142 between them.
"""

import keras

from pix2pix_k3.blocks import LAYER_NORMS, Ck, Conv2D, check_choice, weight_init
from pix2pix_k3.paper import BASE_WIDTH, KERNEL_SIZE, N_LAYERS, PATCH, STRIDE, height_width, width


def n_layers_for(receptive_field):
    """The reference's `n_layers` for a receptive field in {1, 16, 34, 70, 142, 286}."""
    if receptive_field not in N_LAYERS:
        valid = ", ".join(str(field) for field in N_LAYERS)
        raise ValueError(
            f"receptive_field={receptive_field!r} is not a PatchGAN size; choose one of {valid} "
            "(or pass n_layers=0..5 directly)."
        )
    return N_LAYERS[receptive_field]


def conv_stack(model):
    """(kernel size, stride) of each convolution of `model`, input to output."""
    stack = []
    for layer in model.layers:
        if isinstance(layer, Ck):
            stack.append((layer.kernel_size, layer.strides))
        elif isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv2DTranspose)):
            stack.append((layer.kernel_size[0], layer.strides[0]))
    return stack


def receptive_field(model):
    """Side of the input square that one output cell of `model` sees.

    Computed analytically from the model's convolution stack, output to input:
    one cell of a layer with kernel k and stride s covers `r * s + (k - s)` cells of
    the layer below when r cells of its own output are wanted.

    Example:
        >>> receptive_field(patchgan_discriminator(70))
        70
    """
    field = 1
    for kernel, stride in reversed(conv_stack(model)):
        field = field * stride + (kernel - stride)
    return field


def patch_grid(image_size, receptive_field=PATCH):
    """Side of D's grid of patch logits for a side of the image (256 -> 30 for 70x70).

    Each of the n strided 4x4 convolutions (padding 1) halves the side; the last two
    4x4 convolutions have stride 1 and take one cell off each. The PixelGAN keeps it.
    """
    n_layers = n_layers_for(receptive_field)
    if n_layers == 0:
        return image_size
    side = image_size
    for _ in range(n_layers):
        side = (side + 2 - KERNEL_SIZE) // STRIDE + 1
    return side - 2


def _patch_layers(n_layers, ndf, norm):
    """C64-C128-...: the first without norm, the last two with stride 1, then 1 channel."""
    layers = [Ck(ndf, norm="none", use_bias=True, padding=1, name=f"C{ndf}")]
    for n in range(1, n_layers + 1):
        filters = width(ndf, n)
        stride = STRIDE if n < n_layers else 1
        layers.append(Ck(filters, norm=norm, strides=stride, padding=1, name=f"C{filters}_{n}"))
    layers.append(keras.layers.ZeroPadding2D(1, name="pad_logits"))
    layers.append(Conv2D(1, KERNEL_SIZE, kernel_initializer=weight_init(), name="patch_logits"))
    return layers


def _pixel_layers(ndf, norm):
    """The PixelGAN (1x1): C64-C128 with 1x1 kernels, then 1 channel."""
    use_bias = norm != "batch"
    return [
        Ck(ndf, norm="none", use_bias=True, kernel_size=1, strides=1, padding=0, name=f"C{ndf}"),
        Ck(2 * ndf, norm=norm, kernel_size=1, strides=1, padding=0, name=f"C{2 * ndf}"),
        Conv2D(1, 1, use_bias=use_bias, kernel_initializer=weight_init(), name="pixel_logits"),
    ]


def patchgan_discriminator(
    receptive_field=PATCH,
    in_channels=3,
    out_channels=3,
    ndf=BASE_WIDTH,
    norm="batch",
    conditional=True,
    image_size=None,
    n_layers=None,
    name=None,
):
    """Build the PatchGAN discriminator as a functional `keras.Model`.

    Args:
        receptive_field: 1 (PixelGAN), 16, 34, 70 (paper default), 142 or 286.
        in_channels: channels of the generator's input image (the condition).
        out_channels: channels of the real/generated image.
        ndf: width of the first layer (64 in the paper).
        norm: `"batch"` (paper), `"instance"` or `"none"`.
        conditional: True for the paper's cGAN, whose D sees `[input, image]`
            concatenated on channels; False for the unconditional-GAN ablation, whose D
            sees only the image.
        image_size: fixes the spatial input size (one side, or (height, width)); None
            accepts any size.
        n_layers: the reference's depth parameter (0 = PixelGAN, 3 = 70x70); overrides
            `receptive_field` when given.

    Returns:
        A `keras.Model` taking `[input, image]` (or `image` alone when unconditional)
        and returning logits (no sigmoid) of shape `(N, h, w, 1)`; 30x30 for 256x256
        input and the 70x70 discriminator.

    As in the PyTorch reference (2,768,705 trainable parameters for 70x70): convolutions
    of 4x4 with explicit zero padding 1; the first layer has no norm and a bias; with
    BatchNorm only the first and the final convolution have biases. The PixelGAN's final
    1x1 convolution has a bias only without BatchNorm, as in the reference.
    """
    check_choice("norm", norm, LAYER_NORMS)
    if n_layers is None:
        n_layers = n_layers_for(receptive_field)
    elif not 0 <= int(n_layers) <= 5:
        raise ValueError(f"n_layers={n_layers!r} must be in 0..5 (0 is the PixelGAN).")
    layers = _pixel_layers(ndf, norm) if n_layers == 0 else _patch_layers(n_layers, ndf, norm)

    spatial = (None, None) if image_size is None else height_width(image_size)
    image = keras.Input((*spatial, out_channels), name="image")
    if conditional:
        condition = keras.Input((*spatial, in_channels), name="input_image")
        inputs = [condition, image]
        x = keras.layers.Concatenate(name="pair")(inputs)
    else:
        inputs = image
        x = image
    for layer in layers:
        x = layer(x)
    field = {layers: field for field, layers in N_LAYERS.items()}[int(n_layers)]
    kind = "conditional" if conditional else "unconditional"
    return keras.Model(inputs, x, name=name or f"patchgan{field}_{kind}")
