"""Convert the authors' PyTorch generators: `python -m pix2pix_k3.convert NAME|FILE.pth`.

The pix2pix authors publish generators trained with their PyTorch code
(junyanz/pytorch-CycleGAN-and-pix2pix) as state dicts: `facades_label2photo`,
`sat2map`, ... (`PRETRAINED`), and their `train.py` writes the same kind of file,
`checkpoints/<name>/latest_net_G.pth`. This turns one into a `.keras` generator that
`translate`, `evaluate` and `export` take, on any backend. A name is downloaded once from
the authors' server into the Keras cache (`~/.keras/models/pix2pix/`); the file is read
without PyTorch (`pix2pix_k3.torch_file`).

The converted model is their U-Net as their code builds it, in our layers, so that it
computes what theirs computes. It differs from `pix2pix_k3.generator.unet_generator`
(the paper's) in two ways, neither visible in the weights:

- activation before convolution: each of their blocks is LeakyReLU-Conv-Norm going down
  and ReLU-ConvTranspose-Norm coming up, so a skip carries a block's output before its
  activation, and the decoder's ReLU then clips it (ours carries the LeakyReLU output);
  likewise the innermost code goes up through a ReLU, ours through a LeakyReLU;
- dropout on decoder layers 2-4 (ours, as the paper lists them: 1-3).

Sizes, channels and norm are read from the file: `unet_256` (8 downsamplings) or
`unet_128` (7), any `--ngf`, `--input_nc`/`--output_nc`, batch or instance norm.
"""

import math
import pathlib
import sys
from dataclasses import dataclass

import keras
import numpy as np

from pix2pix_k3 import cli, compile_cache
from pix2pix_k3._backend import keep_tensorflow_out
from pix2pix_k3.blocks import Ck, Conv2DTranspose, make_activation
from pix2pix_k3.data import DataError
from pix2pix_k3.data.download import fetch
from pix2pix_k3.files import RunError, check_writable, replace_atomically
from pix2pix_k3.generator import check_image_size
from pix2pix_k3.paper import DROPOUT, KERNEL_SIZE, PRETRAINED, STRIDE, height_width
from pix2pix_k3.torch_file import TorchFileError, read_state_dict

BASE_URL = "http://efrosgans.eecs.berkeley.edu/pix2pix/models-pytorch"


class ConvertError(RunError):
    """A file that is not one of the authors' U-Net generators, with what it holds."""


@dataclass
class Level:
    """One of their `UnetSkipConnectionBlock`s, outermost first: its tensors by role."""

    down: dict  # the downsampling convolution: weight (and bias)
    up: dict  # the upsampling transposed convolution: weight (and bias)
    down_norm: dict | None = None  # BatchNorm's weight, bias, running_mean, running_var
    up_norm: dict | None = None

    @property
    def outer_channels(self):
        return self.up["weight"].shape[1]

    @property
    def inner_channels(self):
        return self.down["weight"].shape[0]


def download(name, base_url=BASE_URL, cache_dir=None):
    """The path of pretrained generator `name`, downloaded on first use."""
    if name not in PRETRAINED:
        raise ConvertError(
            f"no pretrained generator named {name!r}; the authors publish: "
            f"{', '.join(PRETRAINED)}. A .pth file of your own is converted by its path."
        )
    return fetch(
        f"{base_url.rstrip('/')}/{name}.pth",
        "models/pix2pix",
        cache_dir,
        advice=f"fetch {name}.pth elsewhere and pass its path.",
    )


def read_levels(state, source):
    """The U-Net's levels, outermost first, from the state dict of their `UnetGenerator`.

    Their blocks nest: block k's submodule is `model.model.<...>`, at index 1 in the
    outermost block (`[conv, submodule, ReLU, convT, Tanh]`), 3 in the middle ones
    (`[LeakyReLU, conv, norm, submodule, ReLU, convT, norm(, Dropout)]`); the innermost
    is `[LeakyReLU, conv, ReLU, convT, norm]`.
    """
    state = {name.removeprefix("module."): value for name, value in state.items()}
    used = set()

    def take(prefix, names):
        found = {name: state[prefix + name] for name in names if prefix + name in state}
        used.update(prefix + name for name in found)
        return found

    def conv(prefix):
        found = take(prefix, ("weight", "bias"))
        if "weight" not in found or found["weight"].ndim != 4:
            raise ConvertError(f"{source}: {_not_a_unet(state)} (no 4-D {prefix}weight).")
        return found

    def norm(prefix):
        found = take(prefix, ("weight", "bias", "running_mean", "running_var"))
        take(prefix, ("num_batches_tracked",))
        return found or None

    prefix = "model.model."
    levels = [Level(down=conv(prefix + "0."), up=conv(prefix + "3."))]
    prefix += "1.model."
    while f"{prefix}3.model.1.weight" in state:
        levels.append(
            Level(
                down=conv(prefix + "1."),
                down_norm=norm(prefix + "2."),
                up=conv(prefix + "5."),
                up_norm=norm(prefix + "6."),
            )
        )
        prefix += "3.model."
    levels.append(
        Level(down=conv(prefix + "1."), up=conv(prefix + "3."), up_norm=norm(prefix + "4."))
    )
    left = sorted(set(state) - used)
    if left:
        raise ConvertError(f"{source}: {_not_a_unet(state)} (unexpected {', '.join(left[:3])}).")
    return levels


def _not_a_unet(state):
    """What a state dict that is not their U-Net generator seems to hold."""
    if any(name.startswith("model.model.") for name in state):
        return "not one of the authors' U-Net generators (netG unet_128 or unet_256)"
    kernels = [
        value for name, value in state.items() if name.endswith("weight") and value.ndim == 4
    ]
    if kernels and kernels[-1].shape[0] == 1:
        return "not a U-Net generator: a discriminator (its last layer has one output channel)"
    return "not a U-Net generator (a ResNet generator, as CycleGAN's, or another network?)"


def norm_of(levels, source):
    """'batch' or 'instance', as their `--norm` was: BatchNorm has parameters and
    convolutions without bias; their InstanceNorm has none and convolutions with bias."""
    middle = levels[1]
    if middle.down_norm and {"weight", "running_mean"} <= set(middle.down_norm):
        return "batch"
    if middle.down_norm is None and "bias" in middle.down:
        return "instance"
    raise ConvertError(
        f"{source}: a norm this cannot place (parameters {sorted(middle.down_norm or [])}); "
        "pix2pix_k3 converts --norm batch and --norm instance generators."
    )


def authors_unet(levels, norm, image_size=None, dropout=DROPOUT, name="authors_unet"):
    """Their `UnetGenerator` for these levels, as a functional `keras.Model` of `Ck`s.

    `image_size` defaults to the smallest their U-Net takes (256 for unet_256); any
    multiple of it on each side works, as in their fully convolutional code.
    """
    depth = len(levels)
    image_size = image_size or 2**depth
    check_image_size(image_size, depth)
    in_channels = levels[0].down["weight"].shape[1]

    def down(x, i, level, normed):
        if i > 0:
            x = make_activation("leaky_relu", f"encoder{i + 1}_leaky")(x)
        return Ck(
            level.inner_channels,
            norm=norm if normed else "none",
            activation="none",
            use_bias="bias" in level.down,
            name=f"encoder{i + 1}_C{level.inner_channels}",
        )(x)

    inputs = keras.Input((*height_width(image_size), in_channels), name="input_image")
    x, skips = inputs, []
    for i, level in enumerate(levels):
        skips.append(x)
        x = down(x, i, level, normed=0 < i < depth - 1)
    for j, level in enumerate(reversed(levels[1:])):
        outer = level.outer_channels
        # their use_dropout blocks: those as wide inside as outside (ngf*8), but the innermost
        with_dropout = dropout and 0 < j and outer == level.inner_channels
        x = make_activation("relu", f"decoder{j + 1}_relu")(x)
        x = Ck(
            outer,
            transpose=True,
            norm=norm,
            activation="none",
            dropout=dropout if with_dropout else 0.0,
            use_bias="bias" in level.up,
            name=f"decoder{j + 1}_{'CD' if with_dropout else 'C'}{outer}",
        )(x)
        x = keras.layers.Concatenate(name=f"skip{depth - 1 - j}")([skips[depth - 1 - j], x])
    x = make_activation("relu", "output_relu")(x)
    outputs = Conv2DTranspose(
        levels[0].outer_channels,
        KERNEL_SIZE,
        strides=STRIDE,
        padding="same",
        activation="tanh",
        name="output_tanh",
    )(x)
    return keras.Model(inputs, outputs, name=name)


def set_weights(model, levels):
    """Copy their tensors into `model` (built by `authors_unet` for these levels)."""
    for i, level in enumerate(levels):
        block = model.get_layer(f"encoder{i + 1}_C{level.inner_channels}")
        _set_conv(block.conv, level.down)
        _set_norm(block.norm_layer, level.down_norm)
    for j, level in enumerate(reversed(levels[1:])):
        block = next(layer for layer in model.layers if layer.name.startswith(f"decoder{j + 1}_C"))
        _set_conv(block.conv, level.up)
        _set_norm(block.norm_layer, level.up_norm)
    _set_conv(model.get_layer("output_tanh"), levels[0].up)


def _set_conv(layer, tensors):
    # torch: (out, in, h, w) for Conv2d, (in, out, h, w) for ConvTranspose2d; Keras:
    # (h, w, in, out) and (h, w, out, in). The same transposition serves both.
    layer.kernel.assign(tensors["weight"].transpose(2, 3, 1, 0))
    if layer.use_bias:
        layer.bias.assign(tensors["bias"])


def _set_norm(layer, tensors):
    if layer is None or not tensors:
        return
    if isinstance(layer, keras.layers.BatchNormalization):
        layer.gamma.assign(tensors["weight"])
        layer.beta.assign(tensors["bias"])
        layer.moving_mean.assign(tensors["running_mean"])
        layer.moving_variance.assign(tensors["running_var"])


def convert(path, image_size=None, dropout=DROPOUT):
    """The generator in the authors' state dict file `path`, as a Keras model."""
    try:
        state = read_state_dict(path)
    except TorchFileError as error:
        raise ConvertError(str(error)) from None
    state = {name: np.asarray(value, "float32") for name, value in state.items()}
    levels = read_levels(state, path)
    name = f"authors_unet_{2 ** len(levels)}"
    model = authors_unet(levels, norm_of(levels, path), image_size, dropout, name=name)
    set_weights(model, levels)
    return model


def main(argv=None):
    args = cli.convert_parser().parse_args(argv)
    source = args.source
    try:
        if source in PRETRAINED and not pathlib.Path(source).exists():
            path = download(source, args.base_url or BASE_URL)
        else:
            path = pathlib.Path(source)
            if not path.is_file():
                raise ConvertError(
                    f"{source}: no such file, and not a pretrained name ({', '.join(PRETRAINED)})."
                )
        out = args.out or pathlib.Path(f"{pathlib.Path(source).stem}.keras")
        if out.suffix != ".keras":
            raise ConvertError(f"--out {out}: a Keras model file's name ends in .keras.")
        check_writable(out.parent, "--out", out)
        model = convert(path, args.image_size, 0.0 if args.no_dropout else DROPOUT)
        replace_atomically(out, model.save)
    except (DataError, RunError, ValueError) as error:
        raise SystemExit(f"error: {error}") from None
    print(summary(model, path, out, PRETRAINED.get(source)))


def summary(model, path, out, pretrained=None):
    """What was written and how to use it, in a few lines."""
    _, height, across, channels = model.input_shape
    lines = [
        f"wrote {out}: the authors' U-Net from {path}, {height}x{across}, "
        f"{channels} -> {model.output_shape[-1]} channels, "
        f"{sum(math.prod(v.shape) for v in model.trainable_weights):,} parameters.",
        f"translate with: python3 -m pix2pix_k3.translate {out} INPUT --out DIR",
    ]
    if pretrained:
        lines.append(
            f"it was trained on {pretrained.dataset} ({pretrained.description}): for that "
            f"set's A|B pairs add --direction {pretrained.direction}."
        )
    return "\n".join(lines)


if __name__ == "__main__":
    compile_cache.enable()
    keep_tensorflow_out()
    main(sys.argv[1:])
