"""A training run's configuration: one frozen `RunConfig`, its defaults, presets and rules.

`fit`'s flags are `RunConfig`'s fields with dashes, and `config.json` in a run folder is
the same fields as JSON, so a run can be rebuilt, resumed or compared from its folder
alone. A `RunConfig` is read in two places only, `from_args` (the command line) and
`from_json` (a run folder), and is checked as it is made: a resumed run's settings pass
the same rules as a new one's. Every other module reads its attributes, and takes its
part through `model_kwargs()` and `optimizer_kwargs()`. `PAPER` holds the paper's value
where it differs from the CPU-sized default, for the `--help` text.

Like `paper`, this module imports no Keras: the command lines build their `--help` from
it before any backend loads.
"""

import argparse
import dataclasses
import functools
import json
import math

from pix2pix_k3 import paper
from pix2pix_k3.paper import DIRECTIONS, GAN_MODES, N_LAYERS, NORMS, OBJECTIVES

GENERATORS = ("unet", "encoder-decoder")
VERBOSITY = (0, 1, 2)  # Keras' fit: silent, progress bar, one line per epoch
DTYPE_POLICIES = ("float32", "mixed_bfloat16", "mixed_float16")
CHANNELS = (1, 3, 4)  # grayscale, RGB, RGBA images

# config.json's layout. 0: written before the number existed (the same fields as 1);
# 2 added in_channels, out_channels, no_flip and steps_per_epoch.
FORMAT = 2
ADDED_IN_FORMAT_2 = {"in_channels": 3, "out_channels": 3, "no_flip": False, "steps_per_epoch": None}
# Settings that may change on resume: none of them changes what is trained.
RESUMABLE = frozenset({"workers", "verbose", "data_parallel", "save_every", "tensorboard"})


@dataclasses.dataclass(frozen=True)
class RunConfig:
    """Everything that defines a training run; the defaults train in minutes on a CPU.

    Made through `from_args` or `from_json` (or directly, in code); invalid settings
    raise `ConfigError` at construction. `load_size` defaults to the paper's 286/256 of
    `image_size`, and `pairs` (the embedded dataset's size) is None when `data` is set.
    """

    data: str | None = None
    direction: str | None = None
    image_size: int | tuple = 64
    load_size: int | tuple | None = None
    no_flip: bool = False
    in_channels: int = 3
    out_channels: int = 3
    pairs: int | None = 256
    epochs: int = 10
    epochs_decay: int = 0
    steps_per_epoch: int | None = None
    batch_size: int = 4
    lr: float = paper.ADAM_LEARNING_RATE
    beta1: float = paper.ADAM_BETA_1
    lambda_l1: float = paper.LAMBDA_L1
    loss: str = "l1+cgan"
    generator: str = "unet"
    patch: int = paper.PATCH
    gan_mode: str = "vanilla"
    norm: str = "batch"
    ngf: int = 32
    ndf: int = 32
    seed: int = 0
    save_every: int = 10
    samples: int = 4
    workers: int = 1
    verbose: int = 1
    dtype_policy: str = "float32"
    data_parallel: bool = False
    tensorboard: bool = False
    preset: str | None = None

    def __post_init__(self):
        _check_types(self)
        derived = {
            "image_size": paper.normal_size(self.image_size),
            "load_size": paper.normal_size(
                paper.load_size_for(self.image_size) if self.load_size is None else self.load_size
            ),
            "pairs": None if self.data is not None else self.pairs,
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)
        check(self)

    @classmethod
    def from_args(cls, chosen):
        """The configuration of a new run from the flags given (`{field: value}`): the
        preset's values, overridden by the flags, the defaults for the rest.

        Flags that the chosen objective ignores are refused (a default never is)."""
        _check_names(chosen)
        config = cls(**{**PRESETS.get(chosen.get("preset"), {}), **chosen})
        _check_given(config, set(chosen))
        return config

    @classmethod
    def from_json(cls, path):
        """The configuration saved in a run folder's `config.json` (any format up to ours)."""
        try:
            values = json.loads(path.read_text())
        except FileNotFoundError:
            raise ConfigError(f"{path} does not exist: the folder holds no run.") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ConfigError(f"{path} cannot be read as JSON ({error}).") from None
        if not isinstance(values, dict):
            raise ConfigError(f"{path} holds no settings (a JSON object was expected).")
        try:
            return cls(**_migrate(values))
        except ConfigError as error:
            raise ConfigError(f"{path}: {error}") from None

    def to_json(self):
        """The fields as JSON values, stamped with the format number."""
        return {"format": FORMAT, **dataclasses.asdict(self)}

    def replace(self, **changes):
        """This configuration with the settings that may change on resume changed.

        Repeating a saved value is accepted; any other setting is refused, naming it.
        """
        _check_names(changes)
        fixed = sorted(
            name
            for name, value in changes.items()
            if name not in RESUMABLE and value != getattr(self, name)
        )
        if fixed:
            saved = ", ".join(f"--{_flag(name)} {getattr(self, name)}" for name in fixed)
            flags = ", ".join(f"--{_flag(name)}" for name in fixed)
            raise ConfigError(
                f"--resume continues the run as saved ({saved}); drop {flags}, or start a "
                "new run in another --out."
            )
        return dataclasses.replace(self, **changes)

    @functools.cached_property
    def objective(self):
        """The parsed objective (`paper.Objective`): which terms train."""
        return paper.objective(self.loss)

    @property
    def total_epochs(self):
        """Epochs at the full learning rate plus the decaying ones."""
        return self.epochs + self.epochs_decay

    def data_kwargs(self):
        """What the training pairs' `PairDataset` takes of this configuration (the
        validation pairs take the channels only: they are not jittered)."""
        return dict(
            in_channels=self.in_channels,
            out_channels=self.out_channels,
            flip=not self.no_flip,
            steps_per_epoch=self.steps_per_epoch,
        )

    def keeps_checkpoint(self, epoch):
        """Whether the checkpoint of `epoch` (1-based) stays: every `save_every`-th, and
        the last."""
        every = self.save_every
        return epoch == self.total_epochs or (every > 0 and epoch % every == 0)

    def model_kwargs(self):
        """`model.build_pix2pix`'s arguments: the flags' names in the paper's words."""
        return dict(
            image_size=self.image_size,
            in_channels=self.in_channels,
            out_channels=self.out_channels,
            objective=self.objective,
            receptive_field=self.patch,
            ngf=self.ngf,
            ndf=self.ndf,
            norm=self.norm,
            skips=self.generator == "unet",
            lambda_l1=self.lambda_l1,
            gan_mode=self.gan_mode,
        )

    def optimizer_kwargs(self):
        """`model.default_optimizer`'s arguments (each of G and D has its own Adam)."""
        return dict(learning_rate=self.lr, beta_1=self.beta1)


def field_names():
    """The settings, in `RunConfig`'s order (and the flags', with dashes)."""
    return [field.name for field in dataclasses.fields(RunConfig)]


def _check_names(settings):
    unknown = set(settings) - set(field_names())
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}.")


def default_of(name):
    """The default value of one setting."""
    return RunConfig.__dataclass_fields__[name].default


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


def check(config):
    """Raise `ConfigError` for the first setting of a `RunConfig` that cannot work."""
    for name in ("image_size", "load_size"):
        if min(paper.height_width(getattr(config, name))) <= 0:
            raise ConfigError(
                f"--{_flag(name)} must be positive (got {size_text(getattr(config, name))})."
            )
    for name in ("lr", "beta1", "lambda_l1"):
        if not math.isfinite(getattr(config, name)):
            raise ConfigError(
                f"--{_flag(name)} must be a finite number (got {getattr(config, name)})."
            )
    for name in ("batch_size", "lr", "ngf", "ndf", "samples"):
        if getattr(config, name) <= 0:
            raise ConfigError(f"--{_flag(name)} must be positive (got {getattr(config, name)}).")
    if config.steps_per_epoch is not None and config.steps_per_epoch < 1:
        raise ConfigError(
            f"--steps-per-epoch must be 1 or more (got {config.steps_per_epoch}); leave it "
            "out for one pass over the pairs per epoch."
        )
    if config.pairs is not None and config.pairs < 1:
        raise ConfigError(
            f"--pairs must be 1 or more (got {config.pairs}): the embedded dataset needs pairs "
            "to train on."
        )
    for name in ("epochs", "epochs_decay", "lambda_l1", "save_every", "workers"):
        if getattr(config, name) < 0:
            raise ConfigError(
                f"--{_flag(name)} must not be negative (got {getattr(config, name)})."
            )
    if config.verbose not in VERBOSITY:
        raise ConfigError(f"--verbose must be one of {_listed(VERBOSITY)}.")
    if config.total_epochs == 0:
        raise ConfigError("--epochs and --epochs-decay are both 0: there is nothing to train.")
    if not 0 <= config.beta1 < 1:
        raise ConfigError(f"--beta1 must be in [0, 1) (got {config.beta1}).")
    load, crop = paper.height_width(config.load_size), paper.height_width(config.image_size)
    if load[0] < crop[0] or load[1] < crop[1]:
        raise ConfigError(
            f"--load-size {size_text(config.load_size)} is smaller than --image-size "
            f"{size_text(config.image_size)}: the random crop must fit inside the resized "
            "image."
        )
    choices = {
        "loss": OBJECTIVES,
        "gan_mode": GAN_MODES,
        "generator": GENERATORS,
        "norm": NORMS,
        "patch": tuple(N_LAYERS),
        "dtype_policy": DTYPE_POLICIES,
        "in_channels": CHANNELS,
        "out_channels": CHANNELS,
        "preset": (None, *PRESETS),
    }
    for name, allowed in choices.items():
        if getattr(config, name) not in allowed:
            shown = [value for value in allowed if value is not None]
            raise ConfigError(f"--{_flag(name)} must be one of {_listed(shown)}.")
    if config.direction not in (None, *DIRECTIONS):
        raise ConfigError(f"--direction must be one of {_listed(DIRECTIONS)}.")
    _check_sizes(config)


def _check_sizes(config):
    from pix2pix_k3.discriminator import patch_grid
    from pix2pix_k3.generator import check_image_size, default_depth

    size = config.image_size
    try:
        check_image_size(size, default_depth(size))
    except ValueError as error:
        raise ConfigError(f"--image-size: {error}") from None
    shorter = min(paper.height_width(size))
    if config.objective.uses_gan and patch_grid(shorter, config.patch) < 1:
        smallest = next(s for s in range(1, 1024) if patch_grid(s, config.patch) >= 1)
        raise ConfigError(
            f"--patch {config.patch} needs images of at least {smallest}x{smallest} "
            f"pixels; --image-size {size_text(size)} leaves no patch. Use a smaller --patch."
        )


def _check_given(config, given):
    """Refuse flags given on the command line that would do nothing."""
    if not config.objective.uses_gan:
        ignored = sorted(given & {"patch", "gan_mode", "ndf"})
        if ignored:
            raise ConfigError(
                f"--loss {config.loss} trains no discriminator, so "
                f"{', '.join('--' + _flag(name) for name in ignored)} would do nothing."
            )
    if not config.objective.uses_l1 and "lambda_l1" in given:
        raise ConfigError(f"--loss {config.loss} has no L1 term, so --lambda-l1 would do nothing.")
    if config.data is not None and "pairs" in given:
        raise ConfigError("--pairs sets the size of the embedded dataset; drop it with --data.")


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_size(value):
    sides = value if isinstance(value, (list, tuple)) else [value]
    return len(sides) in (1, 2) and all(_is_int(side) for side in sides)


# What each setting holds (in JSON terms), and how to tell.
_KINDS = {
    "a string": lambda value: isinstance(value, str),
    "a string or null": lambda value: value is None or isinstance(value, str),
    "a number": lambda value: isinstance(value, (int, float)) and not isinstance(value, bool),
    "true or false": lambda value: isinstance(value, bool),
    "a whole number": _is_int,
    "a whole number or null": lambda value: value is None or _is_int(value),
    "one whole number or [height, width]": _is_size,
    "one whole number, [height, width] or null": lambda value: value is None or _is_size(value),
}
_KIND_OF = {
    **dict.fromkeys(("data", "direction", "preset"), "a string or null"),
    **dict.fromkeys(("loss", "generator", "gan_mode", "norm", "dtype_policy"), "a string"),
    **dict.fromkeys(("lr", "beta1", "lambda_l1"), "a number"),
    **dict.fromkeys(("data_parallel", "tensorboard", "no_flip"), "true or false"),
    "image_size": "one whole number or [height, width]",
    "load_size": "one whole number, [height, width] or null",
    **dict.fromkeys(("pairs", "steps_per_epoch"), "a whole number or null"),
}


def _check_types(config):
    """Refuse a value of the wrong kind (from a config.json edited by hand, or code)."""
    for name in field_names():
        kind = _KIND_OF.get(name, "a whole number")
        value = getattr(config, name)
        if not _KINDS[kind](value):
            raise ConfigError(f"{name} must be {kind} (got {value!r}).")


def _migrate(values):
    """The fields of `RunConfig` from a config.json of any format up to `FORMAT`."""
    values = dict(values)
    written = values.pop("format", 0)
    if not _is_int(written) or written > FORMAT:
        raise ConfigError(
            f"format {written!r} is newer than this pix2pix_k3 reads (up to {FORMAT}); "
            "upgrade pix2pix_k3 to use this run."
        )
    # Format 0 (no number) holds the same fields as 1; 2 added some, with these values
    # before.
    if written < 2:
        values = {**ADDED_IN_FORMAT_2, **values}
    unknown = sorted(set(values) - set(field_names()))
    missing = sorted(set(field_names()) - set(values))
    if unknown or missing:
        raise ConfigError(
            "not a pix2pix_k3 run configuration: "
            + "; ".join(
                part
                for part in (
                    unknown and f"unknown setting(s) {', '.join(unknown)}",
                    missing and f"missing {', '.join(missing)}",
                )
                if part
            )
            + "."
        )
    return values


def _flag(key):
    return key.replace("_", "-")


def _listed(values):
    return ", ".join(str(value) for value in values)
