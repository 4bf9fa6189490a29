"""The adapter protocol: how the specification tests see any pix2pix implementation.

The tests in `tests/spec/` check an implementation against the paper (Isola et al.,
2017) through an *adapter*: a small Python object that exposes it through NumPy
arrays, so the suite needs nothing from its framework. Point the suite at one with

    pytest tests/spec --impl mypackage.my_adapter:MyAdapter
    pytest tests/spec --impl path/to/my_adapter.py:MyAdapter     # or a file
    PIX2PIX_IMPL=mypackage.my_adapter:MyAdapter pytest tests/spec

(a class is instantiated with no arguments; an instance is used as it is). Without
`--impl` the tests check pix2pix_k3 itself, through `keras_adapter.py`.

Conventions: images are float32 NHWC arrays with values in [-1, 1]; a jitter takes and
returns single (H, W, C) images. Everything an adapter returns may be any array-like
(NumPy, or a framework tensor already moved to the CPU) or a Python float.

An adapter declares what it can do in `capabilities`; the tests of a capability it
lacks are skipped with the reason, not failed. The attributes and methods, by
capability (copy this class, delete what you lack, fill in the rest):

    class MyAdapter:
        name = "my pix2pix"
        capabilities = {"generator", "generator_layers", "discriminator", "jitter",
                        "losses", "objectives", "training"}
        image_sizes = (256,)              # square sizes your networks accept
        receptive_fields = (70,)          # PatchGAN sizes your discriminator builder has
        discriminator_outputs = "logits"  # or "probabilities" (after a sigmoid)
        load_size, crop_size = 286, 256   # your jitter: resize to, then crop to
        lambda_l1 = 100.0                 # your weight of the L1 term
        d_loss_scale = 0.5                # your factor on D's objective

        # "generator"
        def generator(self, image_size, in_channels, out_channels): ...  # -> any object
        def run_generator(self, generator, images, training): ...        # -> images
        # "generator_layers": the encoder's and decoder's convolutions, input to output
        def generator_layers(self, generator): ...
            # -> list of {"part": "encoder"|"decoder", "filters": int,
            #             "norm": bool, "dropout": float}; the final output convolution
            #             is not listed
        # "discriminator"
        def discriminator(self, receptive_field, image_size, in_channels, out_channels): ...
        def run_discriminator(self, discriminator, inputs, images): ...
            # inference mode (no dropout, BatchNorm's running statistics);
            # -> (N, h, w) or (N, h, w, 1): one output per patch
        # "jitter": one training pair's random jitter, drawn from `seed`
        def jitter(self, input_image, target_image, seed): ...
            # uint8 (H, W, 3) images in -> two (crop_size, crop_size, 3) images
            # (uint8 or floats in [-1, 1])
        # "losses": your loss functions, on the suite's arrays
        def discriminator_loss(self, real_outputs, fake_outputs): ...    # -> float
        def generator_loss(self, fake_outputs, generated, targets): ...  # -> total, float
        # "objectives": both losses as your *training code* computes them (it runs the
        # networks itself), networks in inference mode
        def objectives(self, generator, discriminator, inputs, targets): ...
            # -> {"g_loss": float, "d_loss": float}
        # "training": a fresh model at `image_size` and its train step
        def trainer(self, image_size): ...
            # -> an object with .step(inputs, targets) (one train step),
            #    .generate(inputs) (inference mode) and
            #    .discriminate(inputs, images) (inference mode, as run_discriminator)
"""

import importlib
import importlib.util
import math
import pathlib
import sys

import numpy as np

CAPABILITIES = {
    "generator": ("image_sizes", "generator", "run_generator"),
    "generator_layers": ("generator", "generator_layers"),
    "discriminator": ("image_sizes", "receptive_fields", "discriminator", "run_discriminator"),
    "jitter": ("load_size", "crop_size", "jitter"),
    "losses": ("lambda_l1", "d_loss_scale", "discriminator_loss", "generator_loss"),
    "objectives": ("generator", "run_generator", "discriminator", "run_discriminator"),
    "training": ("trainer",),
}
DEFAULT = "keras_adapter:Pix2PixK3"


class AdapterError(Exception):
    """An adapter that cannot be loaded or does not follow the protocol."""


def load(spec):
    """The adapter named by `module:attribute` or `path/to/file.py:attribute`."""
    where, _, attribute = spec.rpartition(":")
    if not where or not attribute:
        raise AdapterError(
            f"--impl {spec!r}: expected module:attribute or file.py:attribute, "
            "e.g. --impl my_pix2pix.adapter:Adapter"
        )
    try:
        module = _import(where)
    except Exception as error:
        raise AdapterError(f"--impl {spec!r}: cannot import {where!r} ({error!r})") from error
    if not hasattr(module, attribute):
        raise AdapterError(f"--impl {spec!r}: {where!r} has no attribute {attribute!r}")
    adapter = getattr(module, attribute)
    adapter = adapter() if isinstance(adapter, type) else adapter
    check(adapter, spec)
    return adapter


def _import(where):
    if where.endswith(".py"):
        path = pathlib.Path(where).resolve()
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module
        spec.loader.exec_module(module)
        return module
    if str(pathlib.Path.cwd()) not in sys.path:
        sys.path.insert(0, str(pathlib.Path.cwd()))
    return importlib.import_module(where)


def check(adapter, spec):
    """Refuse an adapter whose declared capabilities lack the members they need."""
    declared = set(getattr(adapter, "capabilities", ()))
    unknown = declared - set(CAPABILITIES)
    if unknown:
        raise AdapterError(
            f"{spec}: unknown capabilities {sorted(unknown)}; the protocol has "
            f"{sorted(CAPABILITIES)}"
        )
    for capability in declared:
        missing = [name for name in CAPABILITIES[capability] if not hasattr(adapter, name)]
        if missing:
            raise AdapterError(f"{spec}: declares {capability!r} but has no {', '.join(missing)}")
    if "discriminator" in declared:
        kind = getattr(adapter, "discriminator_outputs", "logits")
        if kind not in ("logits", "probabilities"):
            raise AdapterError(
                f"{spec}: discriminator_outputs must be 'logits' or 'probabilities', not {kind!r}"
            )


def working_size(impl, at_least=64):
    """The smallest declared image size >= `at_least` (else the largest): fast tests."""
    fitting = [size for size in impl.image_sizes if size >= at_least]
    return min(fitting) if fitting else max(impl.image_sizes)


# --- conversions the tests share --------------------------------------------------------


def array(value):
    """An adapter's return value as a float64 NumPy array."""
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype="float64")


def scalar(value):
    return float(array(value).reshape(()))


def patch_map(outputs):
    """D's outputs as (N, h, w): one value per patch."""
    outputs = array(outputs)
    if outputs.ndim == 4 and outputs.shape[-1] == 1:
        outputs = outputs[..., 0]
    if outputs.ndim != 3:
        raise AssertionError(
            f"the discriminator returned shape {outputs.shape}; the protocol asks for "
            "(N, h, w) or (N, h, w, 1), one output per patch"
        )
    return outputs


def to_logits(outputs, kind):
    """Logits from D's outputs, whichever the adapter declares."""
    if kind == "logits":
        return outputs
    clipped = np.clip(outputs, 1e-7, 1 - 1e-7)
    return np.log(clipped) - np.log1p(-clipped)


def from_logits(logits, kind):
    """What the adapter's loss functions take, from logits."""
    return logits if kind == "logits" else 1 / (1 + np.exp(-logits))


def unit_range(image):
    """An image from uint8 or [-1, 1] floats to floats in [0, 1], for comparisons."""
    image = np.asarray(image)
    if image.dtype == np.uint8:
        return image.astype("float64") / 255
    return (array(image) + 1) / 2


# --- the paper's formulas, for reference values ------------------------------------------


def bce(logits, label):
    """Mean binary cross-entropy of sigmoid(logits) against a constant label (stable)."""
    logits = np.asarray(logits, dtype="float64")
    return float(
        np.mean(np.maximum(logits, 0) - logits * label + np.log1p(np.exp(-np.abs(logits))))
    )


def saturating(logits):
    """G's minimax loss, mean log(1 - D): what the non-saturating loss replaces."""
    return -bce(logits, 0.0)


def close(a, b, rtol=1e-4, atol=1e-5):
    return math.isclose(a, b, rel_tol=rtol, abs_tol=atol)
