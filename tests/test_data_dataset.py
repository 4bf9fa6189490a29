"""PairDataset: batches for fit, reproducible, pair-consistent end to end."""

import pathlib

import numpy as np
import pytest
from helpers import to_numpy
from PIL import Image

from pix2pix_k3 import build_pix2pix
from pix2pix_k3.data import DataError, PairDataset

FACADES = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data" / "facades"


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Six side-by-side pairs of noise whose B half is the negative of the A half."""
    root = tmp_path_factory.mktemp("pairs")
    rng = np.random.default_rng(0)
    for i in range(6):
        a = rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)
        Image.fromarray(np.concatenate([a, 255 - a], axis=1)).save(root / f"{i}.png")
    return root


def dataset(folder, **kwargs):
    options = dict(batch_size=4, load_size=36, crop_size=32, interpolation="nearest")
    return PairDataset.from_folder(folder, **{**options, **kwargs})


def test_batches_have_the_model_layout(folder):
    data = dataset(folder)
    assert len(data) == 2
    x, y = data[0]
    assert x.shape == y.shape == (4, 32, 32, 3) and x.dtype == y.dtype == np.float32
    assert data[1][0].shape == (2, 32, 32, 3)  # the last, partial batch
    assert -1 <= x.min() and x.max() <= 1


def test_input_and_target_stay_aligned_through_the_whole_pipeline(folder):
    data = dataset(folder, batch_size=6)
    for _ in range(3):
        x, y = data[0]
        np.testing.assert_allclose(y, -x, atol=1e-6)  # B = 255 - A  <=>  y = -x in [-1, 1]
        data.on_epoch_end()


def test_the_same_seed_gives_the_same_batches_and_epochs_differ(folder):
    first, second = dataset(folder, seed=3), dataset(folder, seed=3)
    np.testing.assert_array_equal(first[0][0], second[0][0])
    first.on_epoch_end()
    assert not np.array_equal(first[0][0], second[0][0])


def test_direction_swaps_input_and_target(folder):
    x_ab, _ = dataset(folder, jitter=False, shuffle=False)[0]
    x_ba, y_ba = dataset(folder, jitter=False, shuffle=False, direction="BtoA")[0]
    np.testing.assert_allclose(y_ba, x_ab, atol=1e-6)
    np.testing.assert_allclose(x_ba, -x_ab, atol=1e-6)


def test_evaluation_data_is_resized_without_jitter(folder):
    data = dataset(folder, jitter=False, shuffle=False, batch_size=1)
    x, _ = data[0]
    with Image.open(folder / "0.png") as image:
        a = np.asarray(image)[:, :40]
    expected = np.asarray(Image.fromarray(a).resize((32, 32), Image.Resampling.NEAREST))
    np.testing.assert_allclose(x[0], expected / 127.5 - 1, atol=1e-6)


def test_worker_threads_give_the_same_batches(folder):
    one = [dataset(folder, workers=1)[i] for i in range(2)]
    many = dataset(folder, workers=2)
    for i, (x, y) in enumerate(one):
        np.testing.assert_array_equal(many[i][0], x)
        np.testing.assert_array_equal(many[i][1], y)


def test_pairs_smaller_than_the_crop_are_refused_by_name(folder):
    with pytest.raises(DataError, match=r"0.png: the pair is 40x40, smaller than crop_size=64"):
        dataset(folder, load_size=72, crop_size=64, shuffle=False)[0]


def test_fit_consumes_the_dataset(folder):
    model = build_pix2pix(32, ngf=4, ndf=4, receptive_field=16)
    model.compile()
    history = model.fit(dataset(folder, batch_size=2), epochs=2, verbose=0).history
    assert len(history["g_loss"]) == 2 and np.isfinite(history["g_loss"]).all()
    assert int(to_numpy(model.g_optimizer.iterations)) == 2 * 3  # 2 epochs of 3 batches


@pytest.mark.skipif(not FACADES.is_dir(), reason=f"no facades at {FACADES}")
def test_real_facades_read_through_the_public_api():
    data = PairDataset.from_folder(FACADES / "train", direction="BtoA", batch_size=8, seed=0)
    assert len(data.sources) == 400 and len(data) == 50
    x, y = data[0]
    assert x.shape == y.shape == (8, 256, 256, 3)
    # BtoA: the input is the label map, whose dominant facade class is blue.
    blue_minus_red = lambda images: float(np.mean(images[..., 2] - images[..., 0]))  # noqa: E731
    assert blue_minus_red(x) > 0.5 > blue_minus_red(y)
    assert len(PairDataset.from_folder(FACADES / "test").sources) == 106
