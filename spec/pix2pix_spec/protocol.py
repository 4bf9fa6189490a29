"""The adapter protocol: how the specification suite sees any pix2pix implementation.

The suite never imports your framework. It talks to your code through an *adapter*, an
object that builds your networks, runs them and your training step, and hands back
NumPy-convertible arrays. Subclass `Adapter` (or copy it: the suite only looks for the
attributes), declare what you can do in `capabilities`, and fill in the methods those
capabilities need. The requirements of a capability you do not declare are skipped,
with that reason, never failed.

Conventions, everywhere:

- images are float32 NHWC arrays, values in [-1, 1]; a single image is (H, W, C);
- D's outputs are one value per patch, (N, h, w) or (N, h, w, 1);
- "training mode" means dropout on and batch statistics, as in a train step; "inference
  mode" means dropout off and BatchNorm's running statistics;
- anything returned may be a NumPy array, a framework tensor already on the CPU, or a
  Python float.

Layer lists are not declared: the suite derives them from the networks your adapter
builds, by running one batch through `run_generator` / `run_discriminator` and reading
what executes (`pix2pix_spec.introspect`: Keras 3 on any backend, tf.keras, torch). Only
for a network it cannot read (another framework, or an operation it refuses to guess
about) do `generator_layers` / `discriminator_layers` declare them by hand; the report
then marks every requirement graded from them "declared, not derived", and where both
exist a declaration the network contradicts FAILs. What remains declared is
`discriminator_norm` and `discriminator_outputs`, each checked against a probe.

Seeds: before each requirement the suite seeds NumPy, Python, and torch, TensorFlow and
Keras where they are imported (`--seed`, default 0), and calls the adapter's optional
`seed(value)`, for generators it cannot reach. A verdict must not depend on the seed.
"""

import importlib
import importlib.util
import pathlib
import sys
from typing import Any, Literal, TypedDict

from numpy.typing import ArrayLike

CAPABILITIES = {
    "generator": ("image_sizes", "generator", "run_generator"),
    "generator_layers": ("generator", "generator_layers"),  # by hand: see generator_layers
    "discriminator": ("receptive_fields", "discriminator", "run_discriminator"),
    "discriminator_layers": ("discriminator", "discriminator_layers"),
    "data": ("directions", "load_pair"),
    "losses": ("discriminator_loss", "generator_loss"),
    "training": ("trainer", "run_generator", "run_discriminator"),
    "recording": ("trainer",),
}
OUTPUT_KINDS = ("logits", "probabilities", "lsgan")
NORMS = ("batch", "instance", "none")
UPSAMPLINGS = ("transposed", "resize")
DIRECTIONS = ("AtoB", "BtoA")


Norm = Literal["batch", "instance", "none"]


class Layer(TypedDict, total=False):
    """One convolution block, as `generator_layers` and `discriminator_layers` list it."""

    part: Literal["encoder", "decoder"]
    filters: int
    norm: Norm
    dropout: float
    slope: float | None
    upsampling: Literal["transposed", "resize"]
    activation_probe: Any  # f(x) -> y: measured, see generator_layers
    dropout_probe: Any  # f(x, training) -> y
    norm_probe: Any  # f(x, training) -> y


class StepRecord(TypedDict):
    """What one recorded train step computed (see `Trainer.step`)."""

    fake: ArrayLike | list[ArrayLike]
    d_calls: list[tuple[ArrayLike | None, ArrayLike, ArrayLike]]
    d_loss: float
    g_loss: float


class AdapterError(Exception):
    """An adapter that cannot be loaded or does not follow the protocol."""


class Trainer:
    """One fresh model (G, D, both optimizers) and the implementation's own train step.

    `generator` and `discriminator` are the networks the step trains, in whatever form
    the adapter's `run_generator` / `run_discriminator` accept.
    """

    generator: Any = None
    discriminator: Any = None

    def step(self, inputs: ArrayLike, targets: ArrayLike) -> StepRecord | None:
        """Run one train step of the implementation's own training code on this batch.

        With the "recording" capability, return what the step computed, observed while it
        ran (e.g. with forward hooks, or by wrapping the networks and loss functions):

            {"fake":    G(x) as computed in this step (N, H, W, C), or a list of every
                        G(x) it computed, in order, where G ran more than once,
             "d_calls": [(condition, image, outputs), ...]  every call of D in the step,
                        in call order: the pair D was given, as (condition, image),
                        and its outputs, (N, h, w) or (N, h, w, 1),
             "d_loss":  D's loss as the step computed it for D's update (a float),
             "g_loss":  G's total loss as the step computed it for G's update (a float)}

        Without it, return None. The step must update the networks as training does: the
        suite reads the order of the updates from the record.

        The suite names every array by its role, not by where it was recorded: a pair's
        condition and image are each x, y or G(x) (any of the step's G outputs, noted by
        number), whichever the values are, and a pair recorded as (image, condition)
        throughout is read the other way round, with a note. Calls of D made only to log
        a loss are harmless: each recorded loss is matched against the calls that can
        give it, so record the losses the updates used.
        """
        raise NotImplementedError


class Adapter:
    """What the suite reads from an implementation; declare, then implement by capability.

    Capabilities: "generator", "generator_layers", "discriminator",
    "discriminator_layers", "data", "losses", "training", "recording".
    """

    name: str = "my pix2pix"
    capabilities: set[str] = set()

    # -- declarations ------------------------------------------------------------------
    image_sizes: tuple[int, ...] = (256,)  # square sizes the generator takes
    discriminator_sizes: tuple[int, ...] | None = None  # D's sizes; None: image_sizes
    receptive_fields: tuple[int, ...] = (70,)  # PatchGAN fields: 1, 16, 34, 70, 142, 286
    # "logits", "probabilities" (after a sigmoid), or "lsgan" (least-squares scores)
    discriminator_outputs: Literal["logits", "probabilities", "lsgan"] = "logits"
    discriminator_norm: Norm = "batch"  # D's normalisation
    directions: tuple[str, ...] = ("AtoB", "BtoA")  # load_pair's; "AtoB": A (left) is input

    # -- "generator" -------------------------------------------------------------------
    def generator(self, image_size: int, in_channels: int, out_channels: int) -> Any:
        """A freshly initialised generator for square images of `image_size`."""
        raise NotImplementedError

    def run_generator(self, generator: Any, images: ArrayLike, training: bool) -> ArrayLike:
        """G(images) in training mode (True) or inference mode (False)."""
        raise NotImplementedError

    # -- "generator_layers": only for a network the suite cannot read -------------------
    def generator_layers(self, generator: Any) -> list[Layer]:
        """By hand, for a generator `pix2pix_spec.introspect` cannot read (the suite derives
        the layers of Keras 3, tf.keras and torch networks itself, and prefers them): the
        encoder's and decoder's convolution blocks, input to output, without the final
        output convolution, each a dict:

            {"part": "encoder" | "decoder",
             "filters": int,                       # the convolution's output channels
             "norm": "batch" | "instance" | "none",
             "dropout": float,                     # rate applied in this block, 0.0 if none
             "slope": float | None,                # the activation on this block's output:
                                                   # 0.2 for LeakyReLU(0.2), 0.0 for ReLU,
                                                   # None for none
             "upsampling": "transposed" | "resize"}  # decoder blocks only: a transposed
                                                   # convolution, or resize + convolution

        Where you can, hand the suite the block's own operations as NumPy callables too
        (NHWC float32 arrays in and out): it then measures them, the measured value wins
        over the declared one, and a declared value they contradict FAILs with both:

             "activation_probe": f(x) -> y,        # the block's activation
             "dropout_probe":    f(x, training) -> y,  # its dropout
             "norm_probe":       f(x, training) -> y   # its normalisation, over `filters`
                                                   # channels
        """
        raise NotImplementedError

    # -- "discriminator" ---------------------------------------------------------------
    def discriminator(
        self, receptive_field: int, image_size: int, in_channels: int, out_channels: int
    ) -> Any:
        """A freshly initialised PatchGAN with this receptive field."""
        raise NotImplementedError

    def run_discriminator(
        self, discriminator: Any, inputs: ArrayLike, images: ArrayLike, training: bool = False
    ) -> ArrayLike:
        """D's outputs on the pairs (inputs[i], images[i]): the condition x first."""
        raise NotImplementedError

    # -- "discriminator_layers": only for a network the suite cannot read --------------
    def discriminator_layers(self, discriminator: Any) -> list[Layer]:
        """By hand, as `generator_layers`: D's convolution blocks before its one-channel
        output convolution, each a dict
        {"filters": int, "norm": "batch" | "instance" | "none", "slope": float | None}."""
        raise NotImplementedError

    # -- "data" ------------------------------------------------------------------------
    def load_pair(self, path: str, seed: int, direction: str) -> tuple[ArrayLike, ArrayLike]:
        """One training pair from an A|B image file (A left, B right), through your data
        pipeline with its random jitter drawn from `seed`: (input, target), each (H, W, C),
        exactly as the networks receive them in training."""
        raise NotImplementedError

    # -- "losses" ----------------------------------------------------------------------
    def discriminator_loss(self, real_outputs: ArrayLike, fake_outputs: ArrayLike) -> float:
        """D's loss from its outputs on real and on generated pairs."""
        raise NotImplementedError

    def generator_loss(
        self, fake_outputs: ArrayLike, generated: ArrayLike, targets: ArrayLike
    ) -> float:
        """G's total loss from D's outputs on generated pairs, G(x) and y."""
        raise NotImplementedError

    # -- optional -----------------------------------------------------------------------
    def seed(self, value: int) -> None:
        """Seed the random generators the suite cannot reach (called before each
        requirement with --seed); networks built afterwards must follow it."""

    # -- "training" and "recording" ----------------------------------------------------
    def trainer(self, image_size: int) -> Trainer:
        """A fresh `Trainer` at this image size (see `Trainer.step`)."""
        raise NotImplementedError


def load(spec):
    """The adapter named by `module:attribute` or `path/to/file.py:attribute`."""
    where, _, attribute = spec.rpartition(":")
    if not where or not attribute:
        raise AdapterError(
            f"--impl {spec!r}: expected module:attribute or file.py:attribute, "
            "e.g. --impl my_pix2pix/adapter.py:Adapter"
        )
    try:
        module = _import(where)
    except Exception as error:
        raise AdapterError(f"--impl {spec!r}: cannot import {where!r} ({error!r})") from error
    if not hasattr(module, attribute):
        raise AdapterError(f"--impl {spec!r}: {where!r} has no attribute {attribute!r}")
    adapter = getattr(module, attribute)
    try:
        adapter = adapter() if isinstance(adapter, type) else adapter
    except Exception as error:
        raise AdapterError(f"--impl {spec!r}: {attribute}() raised {error!r}") from error
    check(adapter, spec)
    return adapter


def _import(where):
    if where.endswith(".py"):
        path = pathlib.Path(where).resolve()
        if not path.is_file():
            raise FileNotFoundError(f"no file {path}")
        name = f"pix2pix_spec_adapter_{path.stem}"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        return module
    if str(pathlib.Path.cwd()) not in sys.path:
        sys.path.insert(0, str(pathlib.Path.cwd()))
    return importlib.import_module(where)


def check(adapter, spec):
    """Refuse an adapter whose declarations are malformed or whose capabilities lack the
    members they need, before any test runs."""
    declared = set(getattr(adapter, "capabilities", ()))
    unknown = declared - set(CAPABILITIES)
    if unknown:
        raise AdapterError(
            f"{spec}: unknown capabilities {sorted(unknown)}; the protocol has "
            f"{sorted(CAPABILITIES)}"
        )
    for capability in sorted(declared):
        missing = [name for name in CAPABILITIES[capability] if not hasattr(adapter, name)]
        if missing:
            raise AdapterError(f"{spec}: declares {capability!r} but has no {', '.join(missing)}")
    choices = {
        "discriminator_outputs": OUTPUT_KINDS,
        "discriminator_norm": NORMS,
    }
    for name, allowed in choices.items():
        value = getattr(adapter, name, Adapter.__dict__[name])
        if value not in allowed:
            raise AdapterError(f"{spec}: {name} must be one of {allowed}, not {value!r}")
    bad = [d for d in getattr(adapter, "directions", ()) if d not in DIRECTIONS]
    if bad:
        raise AdapterError(f"{spec}: directions may hold {DIRECTIONS}, not {bad}")


def paper_field(impl):
    """The receptive field to test D with: the paper's 70 if the adapter has it."""
    return 70 if 70 in impl.receptive_fields else impl.receptive_fields[0]


def declared(impl, name):
    """A declaration of `impl`, or the protocol's default for it."""
    value = getattr(impl, name, Adapter.__dict__.get(name))
    if name == "discriminator_sizes" and value is None:
        return tuple(getattr(impl, "image_sizes", ()))
    return value
