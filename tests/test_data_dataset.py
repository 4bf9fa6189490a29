"""PairDataset: batches for fit, reproducible, pair-consistent end to end."""

import pathlib

import numpy as np
import pytest
from helpers import to_numpy
from hypothesis import given, settings
from hypothesis import strategies as st
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


@given(
    count=st.integers(1, 13),
    batch_size=st.integers(1, 5),
    steps=st.integers(1, 7),
    epochs=st.integers(1, 6),
)
@settings(max_examples=60, deadline=None)
def test_steps_per_epoch_cuts_full_batches_from_balanced_passes(count, batch_size, steps, epochs):
    data = PairDataset(list(range(count)), batch_size=batch_size, steps_per_epoch=steps,
                       load_size=4, crop_size=4)  # fmt: skip
    seen = []
    for epoch in range(epochs):
        data.set_epoch(epoch)
        assert len(data) == steps
        batches = [data.batch_pairs(i) for i in range(steps)]
        assert all(len(batch) == batch_size for batch in batches)
        seen += [pick for batch in batches for pick in batch]
    # One pass after another: each pass holds every pair once, in its own order.
    passes = {}
    for pair, drawn_in in seen:
        passes.setdefault(drawn_in, []).append(pair)
    assert list(passes) == sorted(passes)
    for drawn_in, pairs in passes.items():
        assert len(set(pairs)) == len(pairs)  # no pair twice in a pass
        if drawn_in < max(passes):
            assert sorted(pairs) == list(range(count))
    # A resumed epoch (set_epoch) gives the batches the continuous run gave.
    data.set_epoch(epochs - 1)
    assert [p for i in range(steps) for p in data.batch_pairs(i)] == seen[-steps * batch_size :]


@given(count=st.integers(1, 12), batch_size=st.integers(1, 4), epoch=st.integers(0, 5))
@settings(max_examples=40, deadline=None)
def test_one_pass_per_epoch_in_steps_is_the_default_epoch(count, batch_size, epoch):
    """With whole batches, steps_per_epoch = pairs / batch is exactly the default."""
    count -= count % batch_size
    if count == 0:
        return
    options = dict(batch_size=batch_size, load_size=4, crop_size=4)
    default = PairDataset(list(range(count)), **options)
    in_steps = PairDataset(list(range(count)), steps_per_epoch=count // batch_size, **options)
    for data in (default, in_steps):
        data.set_epoch(epoch)
    assert [default.batch_pairs(i) for i in range(len(default))] == [
        in_steps.batch_pairs(i) for i in range(len(in_steps))
    ]


def test_without_flip_no_pair_is_ever_mirrored(folder):
    """Load size = crop size leaves the mirror as the jitter's only change: each pair is
    as read, or mirrored (both of its images); without flip, never mirrored."""
    plain_x, plain_y = dataset(folder, jitter=False, shuffle=False, load_size=32, batch_size=6)[0]
    for flip in (False, True):
        data = dataset(folder, load_size=32, flip=flip, shuffle=False, batch_size=6)
        mirrored = []
        for epoch in range(4):
            data.set_epoch(epoch)
            x, y = data[0]
            for i in range(len(x)):
                turned = not np.array_equal(x[i], plain_x[i])
                expected = (
                    (plain_x[i][:, ::-1], plain_y[i][:, ::-1])
                    if turned
                    else (plain_x[i], plain_y[i])
                )
                np.testing.assert_array_equal(x[i], expected[0])
                np.testing.assert_array_equal(y[i], expected[1])
                mirrored.append(turned)
        assert any(mirrored) == flip
