"""The README's first command: `python -m pix2pix_k3.fit` trains and leaves a run folder."""

import keras
import numpy as np
import pytest
from PIL import Image

from pix2pix_k3 import Pix2Pix
from pix2pix_k3.fit import main, parse_args

# A run small enough for a test: 32 px, narrow networks, one epoch.
TINY_RUN = "--image-size 32 --epochs 1 --batch-size 2 --ngf 4 --ndf 4 --patch 16".split()


def test_fit_writes_a_loadable_model_and_a_sample_picture(tmp_path, capsys):
    main([*TINY_RUN, "--pairs", "4", "--out", str(tmp_path)])
    model = keras.saving.load_model(tmp_path / "pix2pix.keras")
    assert isinstance(model, Pix2Pix)
    with Image.open(tmp_path / "samples.png") as picture:
        assert picture.size == (3 * 32, 4 * 32)  # input | target | output, 4 held-out pairs
    assert "samples.png" in capsys.readouterr().out


def test_fit_trains_on_a_folder_of_side_by_side_pairs(tmp_path):
    data = tmp_path / "pairs" / "train"
    data.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(4):
        Image.fromarray(rng.integers(0, 256, (40, 80, 3), dtype=np.uint8)).save(data / f"{i}.jpg")
    out = tmp_path / "run"
    main([*TINY_RUN, "--data", str(data), "--direction", "BtoA", "--out", str(out)])
    with Image.open(out / "samples.png") as picture:
        assert picture.size == (3 * 32, 4 * 32)


@pytest.mark.parametrize("data", ["no/such/folder", "faces"])
def test_unusable_data_is_refused_in_one_line_before_any_work(tmp_path, data):
    out = tmp_path / "run"
    message = f"error: --data {data}: no such folder, and not a dataset name \\(facades, "
    with pytest.raises(SystemExit, match=message):
        main(["--data", data, "--out", str(out)])
    assert not out.exists()


def test_defaults_are_cpu_sized_and_the_paper_objective():
    args = parse_args([])
    assert (args.image_size, args.loss, args.patch, args.lambda_l1) == (64, "l1+cgan", 70, 100.0)


@pytest.mark.parametrize("bad", [["--loss", "l2"], ["--patch", "69"]])
def test_invalid_choices_are_refused_before_any_work(bad, capsys):
    with pytest.raises(SystemExit):
        parse_args(bad)
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--image-size", "100"], "--image-size: image_size=100 .* Nearest valid sizes: 64 or 128"),
        (["--image-size", "64", "--load-size", "60"], "--load-size 60 is smaller than"),
    ],
)
def test_sizes_that_cannot_work_are_refused_before_any_work(tmp_path, flags, message):
    out = tmp_path / "run"
    with pytest.raises(SystemExit, match=f"error: {message}"):
        main([*flags, "--out", str(out)])
    assert not out.exists()
