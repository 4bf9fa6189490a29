"""`fit --tensorboard`: the event files hold history.csv's figures and the sample grids."""

import csv
import importlib.util
import io
import sys

import keras
import numpy as np
import pytest
from PIL import Image

from pix2pix_k3.fit import main

TINY_RUN = "--image-size 32 --pairs 8 --batch-size 2 --ngf 4 --ndf 4 --patch 16".split()

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("tensorboard") is None
    or importlib.util.find_spec("tensorflow") is None,
    reason="reading TensorBoard's event files needs tensorboard and tensorflow",
)


def events(folder):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    accumulator = EventAccumulator(str(folder), size_guidance={"images": 0, "scalars": 0})
    accumulator.Reload()
    return accumulator


def scalars(accumulator, tag):
    """{step: value} of a scalar, whether written as a scalar or as a tensor summary."""
    tags = accumulator.Tags()
    if tag in tags.get("scalars", []):
        return {event.step: event.value for event in accumulator.Scalars(tag)}
    return {
        event.step: float(np.asarray(_tensor(event.tensor_proto)))
        for event in accumulator.Tensors(tag)
    }


def _tensor(proto):
    import tensorflow as tf

    return tf.make_ndarray(proto)


def test_tensorboard_logs_what_history_csv_holds_and_each_sample_grid(tmp_path):
    out = tmp_path / "run"
    main([*TINY_RUN, "--epochs", "2", "--tensorboard", "--out", str(out)])
    with open(out / "history.csv", newline="") as file:
        history = {int(row["epoch"]): row for row in csv.DictReader(file)}
    assert sorted(history) == [1, 2]

    train, validation = (
        events(out / "tensorboard" / "train"),
        events(out / "tensorboard" / "validation"),
    )
    for name in ("g_gan", "g_l1", "d_loss", "learning_rate"):
        logged = scalars(train, f"epoch_{name}")
        assert logged == pytest.approx({e: float(history[e][name]) for e in (1, 2)}, rel=1e-6)
    logged = scalars(validation, "epoch_g_l1")
    assert logged == pytest.approx({e: float(history[e]["val_g_l1"]) for e in (1, 2)}, rel=1e-6)

    samples = events(out / "tensorboard" / "samples")
    (tag,) = samples.Tags()["tensors"] or samples.Tags()["images"]
    images = samples.Images(tag) if samples.Tags()["images"] else None
    if images is None:  # TF 2 writes images as tensor summaries of encoded PNGs
        import tensorflow as tf

        images = [(e.step, tf.make_ndarray(e.tensor_proto)[2]) for e in samples.Tensors(tag)]
    else:
        images = [(e.step, e.encoded_image_string) for e in images]
    assert [step for step, _ in images] == [1, 2]
    for step, encoded in images:
        shown = np.asarray(Image.open(io.BytesIO(encoded)).convert("RGB"))
        with Image.open(out / "samples" / f"epoch_{step:03d}.png") as grid:
            np.testing.assert_array_equal(shown, np.asarray(grid.convert("RGB")))


class StopInEpoch2(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 1:
            raise KeyboardInterrupt  # Ctrl-C in a notebook


def test_tensorboard_may_be_switched_on_when_resuming(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        main([*TINY_RUN, "--epochs", "2", "--out", str(out)], callbacks=[StopInEpoch2()])
    assert not (out / "tensorboard").exists()
    main(["--resume", "--out", str(out), "--tensorboard"])
    assert list(scalars(events(out / "tensorboard" / "train"), "epoch_g_l1")) == [2]


@pytest.mark.skipif(keras.backend.backend() == "tensorflow", reason="TensorFlow is Keras' here")
def test_without_tensorflow_tensorboard_is_refused_with_the_install_command(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # find_spec: not installed
    with pytest.raises(SystemExit, match=r"^error: --tensorboard .*\(pip install tensorflow-cpu"):
        main([*TINY_RUN, "--tensorboard", "--out", str(tmp_path / "run")])
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("hidden", "install"),
    [
        (["tensorboard"], "tensorboard is not installed. Install it .pip install tensorboard."),
        pytest.param(
            ["tensorflow", "tensorboard"],
            "are not installed. Install them .pip install tensorflow-cpu tensorboard.",
            marks=pytest.mark.skipif(
                keras.backend.backend() == "tensorflow", reason="TensorFlow is Keras' here"
            ),
        ),
    ],
)
def test_a_missing_tensorboard_package_is_refused_before_any_work(
    tmp_path, monkeypatch, hidden, install
):
    """tensorflow-cpu does not bring tensorboard: Keras' callback failed after an epoch."""
    for name in hidden:
        monkeypatch.setitem(sys.modules, name, None)  # find_spec: not installed
    with pytest.raises(SystemExit, match=f"^error: --tensorboard .*{install}"):
        main([*TINY_RUN, "--tensorboard", "--out", str(tmp_path / "run")])
    assert not (tmp_path / "run").exists()
