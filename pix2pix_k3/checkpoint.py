"""Finding and loading a trained model for `translate` and `evaluate`.

A model is named by its `.keras` file or by a run folder (whose
`checkpoints/latest.keras` is used, with the run's `config.json`).
"""

import json
import pathlib

import keras

from pix2pix_k3.model import Pix2Pix
from pix2pix_k3.run import RunError, RunFolder


def load(path):
    """(Pix2Pix model, the run's configuration or None) for a `.keras` file or a run folder."""
    path = pathlib.Path(path)
    config = None
    if path.is_dir():
        run = RunFolder(path)
        if not run.latest.is_file():
            raise RunError(
                f"{path}: no checkpoints/latest.keras. Pass a run folder with at least one "
                "completed epoch, or a .keras file."
            )
        config = json.loads(run.config.read_text()) if run.config.is_file() else None
        path = run.latest
    elif not path.is_file():
        raise RunError(f"{path}: no such model file or run folder.")
    try:
        model = keras.saving.load_model(path)
    except Exception as error:  # Keras raises many kinds for a file it cannot read
        raise RunError(f"{path}: cannot be loaded as a Keras model ({error}).") from None
    if not isinstance(model, Pix2Pix):
        raise RunError(f"{path}: holds a {type(model).__name__}, not a pix2pix_k3 Pix2Pix model.")
    return model, config


def image_shape(model):
    """(size, input channels, output channels) of a model's generator."""
    _, height, _, channels = model.generator.input_shape
    return height, channels, model.generator.output_shape[-1]
