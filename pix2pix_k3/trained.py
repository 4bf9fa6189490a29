"""A trained model, found and loaded for `translate`, `evaluate` and `export`.

A model is named by a `.keras` file or by a run folder. A finished run's folder holds
`generator.keras`, the generator alone, which is what inference needs and loads in a
fraction of the time; a run still going (or stopped) has only its checkpoints, and
`checkpoints/latest.keras` is used. A `.keras` file may hold a whole `Pix2Pix` model or
a generator alone.
"""

import pathlib

import keras

from pix2pix_k3.config import RunConfig
from pix2pix_k3.files import RunError, check_keras_file
from pix2pix_k3.model import Pix2Pix
from pix2pix_k3.paper import normal_size
from pix2pix_k3.run import RunFolder
from pix2pix_k3.steps import step_module


def load(path):
    """The `Pix2Pix` model in a `.keras` file, or the trained one of a run folder.

    A generator on its own comes back inside a `Pix2Pix` with the `l1` objective (no
    discriminator), so that `translate` and its two inference modes work the same.
    """
    path = pathlib.Path(path)
    if path.is_dir():
        run = RunFolder(path)
        path = run.generator_file if run.generator_file.is_file() else run.latest_file
        if not path.is_file():
            raise RunError(
                f"{run.path}: no generator.keras and no checkpoints/latest.keras. Pass a run "
                "folder with at least one completed epoch, or a .keras file."
            )
    elif not path.is_file():
        raise RunError(f"{path}: no such model file or run folder.")
    check_keras_file(path)
    try:
        model = step_module().load_model(path)
    except Exception as error:  # Keras raises many kinds for a file it cannot read
        raise RunError(f"{path}: cannot be loaded as a Keras model ({error}).") from None
    if isinstance(model, Pix2Pix):
        return model
    if _is_image_to_image(model):
        return Pix2Pix(model, None, objective="l1")
    raise RunError(
        f"{path}: holds a {type(model).__name__}, neither a pix2pix_k3 Pix2Pix model nor a "
        "generator (one image input, one image output of the same size)."
    )


def run_config(path):
    """The `RunConfig` of the run that trained `path` (a run folder), else None."""
    path = pathlib.Path(path)
    config = RunFolder(path).config_file if path.is_dir() else None
    return RunConfig.from_json(config) if config and config.is_file() else None


def _is_image_to_image(model):
    try:
        inputs, outputs = model.input_shape, model.output_shape
    except (AttributeError, ValueError):
        return False
    return (
        isinstance(inputs, tuple)
        and isinstance(outputs, tuple)
        and len(inputs) == len(outputs) == 4
        and inputs[1:3] == outputs[1:3]
    )


def image_shape(model):
    """(size, input channels, output channels) of a model's generator; the size is one
    side for square images, else (height, width)."""
    _, height, width, channels = model.generator.input_shape
    return normal_size((height, width)), channels, model.generator.output_shape[-1]


def translate_images(model, images, mode="eval"):
    """NumPy outputs of `model.translate(images, mode)`, eval mode through Keras' `predict`.

    `predict_on_batch` runs the generator as one compiled function; called directly, it
    runs layer by layer, which on JAX compiles every layer's operations separately, several
    times slower on a first call (docs/benchmarks.md). Paper mode changes BatchNorm's use
    of statistics for the call and restores them, so it stays a direct call.
    """
    if mode == "eval":
        return model.predict_on_batch(images)
    return keras.ops.convert_to_numpy(model.translate(images, mode=mode))
