"""A training run's configuration: defaults, the paper's values, presets, and the rules.

A configuration is a plain dict of JSON values (what `fit` writes to `config.json`), so a
run can be rebuilt, resumed or compared from its folder alone. `fit`'s flags are these
keys with dashes; `PAPER` holds the paper's value where it differs from the CPU-sized
default, for the `--help` text. Like `paper`, it imports no Keras (the command lines
build their `--help` from it); `check` loads the paper's modules for their size rules.
"""

import argparse

from pix2pix_k3 import paper
from pix2pix_k3.paper import DIRECTIONS, GAN_MODES, N_LAYERS, NORMS, OBJECTIVES

GENERATORS = ("unet", "encoder-decoder")
VERBOSITY = (0, 1, 2)  # Keras' fit: silent, progress bar, one line per epoch
DTYPE_POLICIES = ("float32", "mixed_bfloat16", "mixed_float16")

DEFAULTS = {
    "data": None,
    "direction": None,
    "image_size": 64,
    "load_size": None,
    "pairs": 256,
    "epochs": 10,
    "epochs_decay": 0,
    "batch_size": 4,
    "lr": paper.ADAM_LEARNING_RATE,
    "beta1": paper.ADAM_BETA_1,
    "lambda_l1": paper.LAMBDA_L1,
    "loss": "l1+cgan",
    "generator": "unet",
    "patch": paper.PATCH,
    "gan_mode": "vanilla",
    "norm": "batch",
    "ngf": 32,
    "ndf": 32,
    "seed": 0,
    "save_every": 10,
    "samples": 4,
    "workers": 1,
    "verbose": 1,
    "dtype_policy": "float32",
    "data_parallel": False,
    "tensorboard": False,
}

# Section 4 and the appendix of the paper (and the PyTorch reference where it is silent).
PAPER = {
    "image_size": paper.IMAGE_SIZE,
    "load_size": paper.LOAD_SIZE,
    "epochs": paper.FACADES_EPOCHS // 2,
    "epochs_decay": paper.FACADES_EPOCHS // 2,
    "batch_size": paper.BATCH_SIZE,
    "ngf": paper.BASE_WIDTH,
    "ndf": paper.BASE_WIDTH,
}

PRESETS = {
    # Facades: 400 training pairs, 200 epochs (100 constant + 100 decaying), batch 1,
    # jitter 286 -> 256 with mirroring, label map -> photo (BtoA).
    "facades": {**PAPER, "data": "facades", "direction": "BtoA", "save_every": 50},
}


class ConfigError(ValueError):
    """A setting, or a combination of settings, that cannot work; the message says why."""


def size_text(size):
    """A size as the command line spells it: `256`, or `256x512` (height x width)."""
    height, width = paper.height_width(size)
    return str(height) if height == width else f"{height}x{width}"


def resolve(config):
    """`config` with derived values filled in (the load size from the image size), and
    no embedded-pairs count when the pairs come from `data`."""
    config = {**DEFAULTS, **config}
    config["image_size"] = paper.normal_size(config["image_size"])
    if config["load_size"] is None:
        config["load_size"] = paper.load_size_for(config["image_size"])
    config["load_size"] = paper.normal_size(config["load_size"])
    if config["data"] is not None:
        config["pairs"] = None
    return config


def total_epochs(config):
    """Epochs at the full learning rate plus the decaying ones."""
    return config["epochs"] + config["epochs_decay"]


def keeps_checkpoint(config, epoch):
    """Whether the checkpoint of `epoch` (1-based) stays: every `save_every`-th, and the last."""
    every = config["save_every"]
    return epoch == total_epochs(config) or (every > 0 and epoch % every == 0)


def positive_int(text):
    """argparse type of a count that must be 1 or more (a batch size of 0 splits nothing)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def image_size(text):
    """argparse type of `--image-size`/`--load-size`: `256` (square) or `HEIGHTxWIDTH`
    (`256x512` for cityscapes' 2:1); the square form stays one number."""
    try:
        sides = [int(part) for part in str(text).lower().split("x")]
    except ValueError:
        sides = []
    if len(sides) not in (1, 2):
        raise argparse.ArgumentTypeError(
            f"expected one number (square) or HEIGHTxWIDTH such as 256x512, got {text!r}"
        )
    return paper.normal_size(sides if len(sides) == 2 else sides[0])


def check(config, given=()):
    """Raise `ConfigError` for the first setting that cannot work.

    `given` names the settings the user chose explicitly: settings that the chosen
    objective ignores are refused only then (a default is never an error).
    """
    for key in ("image_size", "load_size"):
        if min(paper.height_width(config[key])) <= 0:
            raise ConfigError(f"--{_flag(key)} must be positive (got {size_text(config[key])}).")
    for key in ("batch_size", "lr", "ngf", "ndf", "samples"):
        if config[key] <= 0:
            raise ConfigError(f"--{_flag(key)} must be positive (got {config[key]}).")
    for key in ("epochs", "epochs_decay", "lambda_l1", "save_every", "pairs", "workers"):
        if config[key] is not None and config[key] < 0:
            raise ConfigError(f"--{_flag(key)} must not be negative (got {config[key]}).")
    if config["verbose"] not in VERBOSITY:
        raise ConfigError(f"--verbose must be one of {_listed(VERBOSITY)}.")
    if total_epochs(config) == 0:
        raise ConfigError("--epochs and --epochs-decay are both 0: there is nothing to train.")
    if not 0 <= config["beta1"] < 1:
        raise ConfigError(f"--beta1 must be in [0, 1) (got {config['beta1']}).")
    load, crop = (paper.height_width(config[key]) for key in ("load_size", "image_size"))
    if load[0] < crop[0] or load[1] < crop[1]:
        raise ConfigError(
            f"--load-size {size_text(config['load_size'])} is smaller than --image-size "
            f"{size_text(config['image_size'])}: the random crop must fit inside the resized "
            "image."
        )
    choices = {
        "loss": OBJECTIVES,
        "gan_mode": GAN_MODES,
        "generator": GENERATORS,
        "norm": NORMS,
        "patch": tuple(N_LAYERS),
        "dtype_policy": DTYPE_POLICIES,
    }
    for key, allowed in choices.items():
        if config[key] not in allowed:
            raise ConfigError(f"--{_flag(key)} must be one of {_listed(allowed)}.")
    if config["direction"] not in (None, *DIRECTIONS):
        raise ConfigError(f"--direction must be one of {_listed(DIRECTIONS)}.")
    _check_sizes(config)
    _check_objective(config, set(given))
    if config["data"] is not None and "pairs" in given:
        raise ConfigError("--pairs sets the size of the embedded dataset; drop it with --data.")


def _check_sizes(config):
    from pix2pix_k3.discriminator import patch_grid
    from pix2pix_k3.generator import check_image_size, default_depth
    from pix2pix_k3.losses import objective

    size = config["image_size"]
    try:
        check_image_size(size, default_depth(size))
    except ValueError as error:
        raise ConfigError(f"--image-size: {error}") from None
    shorter = min(paper.height_width(size))
    if objective(config["loss"]).uses_gan and patch_grid(shorter, config["patch"]) < 1:
        smallest = next(s for s in range(1, 1024) if patch_grid(s, config["patch"]) >= 1)
        raise ConfigError(
            f"--patch {config['patch']} needs images of at least {smallest}x{smallest} "
            f"pixels; --image-size {size_text(size)} leaves no patch. Use a smaller --patch."
        )


def _check_objective(config, given):
    from pix2pix_k3.losses import objective

    terms = objective(config["loss"])
    if not terms.uses_gan:
        ignored = sorted(given & {"patch", "gan_mode", "ndf"})
        if ignored:
            raise ConfigError(
                f"--loss {config['loss']} trains no discriminator, so "
                f"{', '.join('--' + _flag(key) for key in ignored)} would do nothing."
            )
    if not terms.uses_l1 and "lambda_l1" in given:
        raise ConfigError(
            f"--loss {config['loss']} has no L1 term, so --lambda-l1 would do nothing."
        )


def _flag(key):
    return key.replace("_", "-")


def _listed(values):
    return ", ".join(str(value) for value in values)
