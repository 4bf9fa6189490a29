"""Export a trained generator: `python -m pix2pix_k3.export MODEL --format FORMAT`.

MODEL is a run folder or a `.keras` file (a whole model or a generator). What is exported
is the generator alone, in eval mode (no dropout, BatchNorm's moving statistics: what a
deployed model does), taking float32 images in [-1, 1] of shape (batch, size, size,
channels), any batch size, and returning images in [-1, 1]:

- `keras`: a `.keras` file of the generator (loads with `keras.saving.load_model` on any
  backend, with pix2pix_k3 installed for its layers);
- `tf_saved_model`: a TensorFlow SavedModel folder whose `serve` signature runs the
  generator (TensorFlow Serving, TF Lite converters); needs TensorFlow, and the jax or
  tensorflow backend (Keras cannot export it from torch);
- `onnx`: an `.onnx` file for ONNX Runtime and the tools around it; needs `onnx` and,
  per backend, tf2onnx (tensorflow) or jax2onnx (jax); torch has its own exporter.

The last two go through Keras' own `model.export`. A generator trained with a mixed
precision policy is exported as a float32 copy of the same weights. After writing, the
exported file is run in its own runtime (Keras, TensorFlow, ONNX Runtime) on random
images and compared with the Keras generator; the largest difference is printed, and
more than `TOLERANCE` is an error.
"""

import contextlib
import importlib.util
import os
import pathlib
import shutil
import warnings

import keras
import numpy as np

from pix2pix_k3 import cli, compile_cache, trained
from pix2pix_k3.files import PARTIAL, RunError, check_writable, replace_atomically

SUFFIXES = {"keras": ".keras", "tf_saved_model": "_saved_model", "onnx": ".onnx"}
TOLERANCE = 1e-4  # largest difference allowed between the export and Keras, outputs in [-1, 1]
CHECK_BATCH = 2  # images in the check: more than one, so the batch size is truly free


def default_out(model_path, format):
    """`<run>/exported/generator<suffix>` for a run folder (never the run's own
    generator.keras), `<stem>_generator<suffix>` beside a file."""
    model_path = pathlib.Path(model_path)
    if model_path.is_dir():
        return model_path / "exported" / f"generator{SUFFIXES[format]}"
    return model_path.with_name(f"{model_path.stem}_generator{SUFFIXES[format]}")


def missing_tools(format, backend=None):
    """What `format` needs that is not installed on `backend`: [(module, pip name)]."""
    backend = backend or keras.backend.backend()
    needed = {
        "keras": [],
        "tf_saved_model": [("tensorflow", "tensorflow-cpu")],
        "onnx": [("onnx", "onnx"), ("onnxruntime", "onnxruntime")]
        + {"tensorflow": [("tf2onnx", "tf2onnx")], "jax": [("jax2onnx", "jax2onnx")]}.get(
            backend, []
        ),
    }[format]
    return [(module, pip) for module, pip in needed if importlib.util.find_spec(module) is None]


def check_possible(format, out):
    """Refuse, before any work, an export this backend or this machine cannot make."""
    backend = keras.backend.backend()
    if format == "tf_saved_model" and backend == "torch":
        raise RunError(
            "--format tf_saved_model: Keras exports a SavedModel from the jax or tensorflow "
            "backend only (on torch, torch.export cannot trace a free batch size). Run "
            "with KERAS_BACKEND=jax or tensorflow, or export --format onnx."
        )
    missing = missing_tools(format, backend)
    if missing:
        names = " ".join(pip for _, pip in missing)
        raise RunError(
            f"--format {format} on the {backend} backend needs {', '.join(m for m, _ in missing)}, "
            f"which {'is' if len(missing) == 1 else 'are'} not installed. Install with: "
            f"pip install {names}"
        )
    if format == "keras" and out.suffix != ".keras":
        raise RunError(f"--out {out}: a Keras file must end in .keras (Keras refuses others).")
    check_writable(out.parent, "--out", out)


def in_float32(generator):
    """`generator` itself if it computes in float32, else a float32 copy of its weights.

    ONNX and SavedModel exports of a mixed-precision model keep bfloat16 casts that many
    runtimes cannot run; the weights of a mixed model are float32 already, so a float32
    copy computes the same function at full precision.
    """
    config = generator.get_config()
    float32_config = _float32_config(config)
    if float32_config == config:
        return generator
    copy = type(generator).from_config(float32_config)
    copy.set_weights(generator.get_weights())
    return copy


def _float32_config(serialized):
    """A layer config with every dtype policy replaced by float32."""
    if isinstance(serialized, dict):
        if serialized.get("class_name") in ("DTypePolicy", "FloatDTypePolicy"):
            return {**serialized, "config": {**serialized["config"], "name": "float32"}}
        return {key: _float32_config(value) for key, value in serialized.items()}
    if isinstance(serialized, list):
        return [_float32_config(value) for value in serialized]
    return serialized


def write(generator, format, out):
    """Write `generator` to `out` in `format`; folders and files replace older ones whole."""
    if format == "keras":
        replace_atomically(out, generator.save)
        return
    _, size, width, channels = generator.input_shape
    signature = [keras.InputSpec(shape=(None, size, width, channels), dtype="float32")]
    temporary = out.with_name(f".{out.name}{PARTIAL}")
    _remove(temporary)
    with quiet_stdout():
        generator.export(str(temporary), format=format, input_signature=signature, verbose=False)
    if format == "onnx":
        inline_onnx_weights(temporary)
    _remove(out)
    temporary.rename(out)


def inline_onnx_weights(path):
    """Make the `.onnx` file at `path` self-contained, so that it runs wherever it is copied.

    A converter may keep large weights in a file beside the model (jax2onnx does, above a
    size), which a copy of the `.onnx` alone leaves behind; here they move into the
    model. ONNX's protobuf holds up to 2 GB, far more than any pix2pix generator.
    """
    import onnx
    from onnx.external_data_helper import ExternalDataInfo, uses_external_data

    model = onnx.load(str(path), load_external_data=False)
    beside = {
        ExternalDataInfo(tensor).location
        for tensor in model.graph.initializer
        if uses_external_data(tensor)
    }
    if not beside:
        return
    onnx.load_external_data_for_model(model, str(path.parent))
    if model.ByteSize() >= 2**31:
        raise RunError(f"{path}: the model is over 2 GB, more than one ONNX file can hold.")
    onnx.save_model(model, str(path), save_as_external_data=False)
    for location in beside:
        (path.parent / location).unlink()


def _remove(path):
    if path.is_dir():
        shutil.rmtree(path)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


@contextlib.contextmanager
def quiet_stdout():
    """Converters print pages of progress and warnings about their own internals; keep
    them out of the program's output (errors still surface as exceptions)."""
    with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield


def run_exported(format, out, images):
    """Outputs of the exported file on `images`, computed by its own runtime."""
    if format == "keras":
        return keras.saving.load_model(out, compile=False).predict_on_batch(images)
    if format == "tf_saved_model":
        import tensorflow as tf

        loaded = tf.saved_model.load(str(out))  # held: its variables go with it
        return loaded.serve(tf.constant(images)).numpy()
    import onnxruntime

    session = onnxruntime.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: images})[0]


def largest_difference(generator, format, out, seed=0):
    """max |export - Keras| over CHECK_BATCH random images."""
    _, size, width, channels = generator.input_shape
    rng = np.random.default_rng(seed)
    images = rng.uniform(-1, 1, (CHECK_BATCH, size, width, channels)).astype("float32")
    expected = np.asarray(generator.predict_on_batch(images), dtype="float32")
    exported = np.asarray(run_exported(format, out, images), dtype="float32")
    if exported.shape != expected.shape:
        raise RunError(f"{out}: gives outputs of shape {exported.shape}, not {expected.shape}.")
    return float(np.max(np.abs(exported - expected)))


def export(model_path, format, out=None):
    """Export the generator of `model_path`; return (where, largest difference)."""
    out = pathlib.Path(out or default_out(model_path, format))
    check_possible(format, out)
    model = trained.load(model_path)
    generator = in_float32(model.generator)
    write(generator, format, out)
    difference = largest_difference(generator, format, out)
    if difference > TOLERANCE:
        raise RunError(
            f"{out} was written, but its outputs differ from the Keras generator's by "
            f"{difference:.2g} (more than {TOLERANCE:g}): do not deploy it. Please report "
            "this with the backend and the versions of Keras and the converter."
        )
    return out, difference


def main(argv=None):
    args = cli.export_parser().parse_args(argv)
    try:
        out, difference = export(args.model, args.format, args.out)
    except RunError as error:
        raise SystemExit(f"error: {error}") from None
    print(
        f"exported {args.model} as {args.format}: {out} (checked in its runtime against "
        f"Keras on {CHECK_BATCH} random images: largest difference {difference:.1e})"
    )


if __name__ == "__main__":
    compile_cache.enable()
    main()
