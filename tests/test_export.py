"""`python -m pix2pix_k3.export`: each format, run in its own runtime, against Keras."""

import shutil
import sys

import keras
import numpy as np
import pytest
from helpers import random_images

from pix2pix_k3 import export
from pix2pix_k3.cli import FORMATS
from pix2pix_k3.fit import main as fit
from pix2pix_k3.generator import unet_generator
from pix2pix_k3.trained import load

TINY_RUN = "--image-size 32 --pairs 8 --batch-size 2 --ngf 4 --ndf 4 --patch 16 --epochs 1"
ATOL = 1e-5  # outputs lie in [-1, 1]; float32 graphs of the same weights agree far closer
BACKEND = keras.backend.backend()


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny") / "run"
    fit([*TINY_RUN.split(), "--out", str(out)])
    return out


def outputs_in_runtime(format, path, images):
    """What the exported file computes, run by its own runtime, not by pix2pix_k3."""
    if format == "keras":
        return keras.saving.load_model(path).predict(images, verbose=0)
    if format == "tf_saved_model":
        tf = pytest.importorskip("tensorflow")
        loaded = tf.saved_model.load(str(path))
        return loaded.serve(tf.constant(images)).numpy()
    onnxruntime = pytest.importorskip("onnxruntime")
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: images})[0]


def exportable(format):
    if format == "tf_saved_model" and BACKEND == "torch":
        pytest.skip("Keras exports no SavedModel from torch (the refusal is tested below)")
    missing = export.missing_tools(format)
    if missing:
        pytest.skip(f"--format {format} needs {', '.join(m for m, _ in missing)}: not installed")


@pytest.mark.parametrize("format", FORMATS)
def test_each_format_computes_the_generator_in_its_runtime(run_folder, tmp_path, format, capsys):
    exportable(format)
    out = tmp_path / f"g{export.SUFFIXES[format]}"
    export.main([str(run_folder), "--format", format, "--out", str(out)])
    assert f"exported {run_folder} as {format}: {out}" in capsys.readouterr().out
    assert sorted(path.name for path in tmp_path.iterdir()) == [out.name]  # nothing beside it
    elsewhere = tmp_path / "elsewhere" / out.name  # copied alone, it must still run
    elsewhere.parent.mkdir()
    (shutil.copytree if out.is_dir() else shutil.copyfile)(out, elsewhere)
    generator = load(run_folder).generator
    for batch in (1, 3):  # a batch size that was not traced
        images = random_images(batch, batch, 32, 3)
        expected = generator.predict_on_batch(images)
        computed = outputs_in_runtime(format, elsewhere, images)
        np.testing.assert_allclose(computed, expected, atol=ATOL)


def test_an_onnx_export_is_one_file_that_runs_where_it_is_copied(tmp_path):
    """jax2onnx keeps weights over a size in a file beside the model: a generator of
    16 filters is over it (4 is not)."""
    exportable("onnx")
    wide = unet_generator(32, ngf=16)
    wide.save(tmp_path / "wide.keras")
    out = tmp_path / "exported" / "wide.onnx"
    export.main([str(tmp_path / "wide.keras"), "--format", "onnx", "--out", str(out)])
    assert sorted(path.name for path in out.parent.iterdir()) == ["wide.onnx"]
    elsewhere = tmp_path / "elsewhere.onnx"
    out.rename(elsewhere)
    images = random_images(0, 2, 32, 3)
    np.testing.assert_allclose(
        outputs_in_runtime("onnx", elsewhere, images), wide.predict_on_batch(images), atol=ATOL
    )


def test_the_default_output_lies_beside_the_model(run_folder):
    assert export.default_out(run_folder, "onnx") == run_folder / "exported" / "generator.onnx"
    model = run_folder / "checkpoints" / "latest.keras"
    assert export.default_out(model, "tf_saved_model").name == "latest_generator_saved_model"
    exportable("keras")
    export.main([str(model), "--format", "keras"])
    assert (model.parent / "latest_generator.keras").is_file()


def test_a_mixed_precision_generator_is_exported_as_a_float32_copy(tmp_path):
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        mixed = unet_generator(32, ngf=4)
    finally:
        keras.config.set_dtype_policy("float32")
    copy = export.in_float32(mixed)
    assert {layer.dtype_policy.name for layer in copy.layers} == {"float32"}
    for a, b in zip(mixed.get_weights(), copy.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    images = random_images(0, 2, 32, 3)
    full = copy.predict_on_batch(images)
    assert full.dtype == np.float32
    np.testing.assert_allclose(full, mixed.predict_on_batch(images).astype("float32"), atol=0.1)
    assert export.in_float32(copy) is copy


@pytest.mark.parametrize(
    ("format", "blocked", "message"),
    [
        (
            "onnx",
            "onnxruntime",
            "needs onnxruntime, which is not installed. Install with: pip install onnxruntime",
        ),
        (
            "tf_saved_model",
            "tensorflow",
            "needs tensorflow, which is not installed. Install with: pip install tensorflow-cpu",
        ),
    ],
)
def test_a_missing_converter_is_named_with_its_install_command(
    run_folder, tmp_path, monkeypatch, format, blocked, message
):
    if format == "tf_saved_model" and BACKEND in ("torch", "tensorflow"):
        pytest.skip("torch refuses SavedModels anyway; tensorflow cannot be without it")
    monkeypatch.setitem(sys.modules, blocked, None)  # import and find_spec: not installed
    with pytest.raises(SystemExit, match=f"^error: --format {format} on the {BACKEND} "):
        export.main([str(run_folder), "--format", format, "--out", str(tmp_path / "x")])
    with pytest.raises(SystemExit, match=message):
        export.main([str(run_folder), "--format", format, "--out", str(tmp_path / "x")])
    assert not (tmp_path / "x").exists()


@pytest.mark.skipif(BACKEND != "torch", reason="the refusal is torch's")
def test_torch_refuses_a_saved_model_in_one_line(run_folder, tmp_path):
    with pytest.raises(SystemExit, match="^error: --format tf_saved_model: Keras exports"):
        export.main([str(run_folder), "--format", "tf_saved_model", "--out", str(tmp_path / "m")])
    assert not (tmp_path / "m").exists()


def test_a_keras_file_must_end_in_keras(run_folder, tmp_path):
    with pytest.raises(SystemExit, match=r"must end in \.keras"):
        export.main([str(run_folder), "--format", "keras", "--out", str(tmp_path / "g.h5")])
