"""The embedded facade-like dataset: deterministic, well-formed, context-dependent, learnable."""

import keras
import numpy as np
from helpers import to_numpy
from hypothesis import given
from hypothesis import strategies as st

from pix2pix_k3 import build_pix2pix
from pix2pix_k3.data import to_model_range
from pix2pix_k3.data.synthetic import (
    CLASSES,
    LABEL_COLOURS,
    SyntheticFacades,
    facade_labels,
    synthetic_pair,
)

seeds = st.integers(0, 2**32 - 1)
sizes = st.sampled_from([32, 64, 128, 256])


def class_map(label_image):
    """Class indices of a uint8 label image (every pixel must be a palette colour)."""
    matches = np.all(label_image[..., None, :] == LABEL_COLOURS, axis=-1)
    assert matches.any(axis=-1).all(), "a label pixel is not a palette colour"
    return matches.argmax(axis=-1)


@given(seed=seeds, size=sizes)
def test_a_pair_is_a_function_of_its_seed(seed, size):
    first, again = synthetic_pair([seed, 0, 3], size), synthetic_pair([seed, 0, 3], size)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    other_index = synthetic_pair([seed, 0, 4], size)
    assert not np.array_equal(first[1], other_index[1])


@given(seed=seeds, size=sizes)
def test_label_maps_are_palette_colours_and_hold_every_facade_part(seed, size):
    labels, photo = synthetic_pair(seed, size)
    assert labels.shape == photo.shape == (size, size, 3)
    assert labels.dtype == photo.dtype == np.uint8
    present = set(np.unique(class_map(labels)))
    assert {CLASSES.index(name) for name in ("wall", "window", "door", "cornice")} <= present


@given(seed=seeds)
def test_the_photo_needs_context_wall_under_a_cornice_is_in_shadow(seed):
    """Same label, different colour: what lies above a wall pixel decides its brightness."""
    size = 128
    labels = facade_labels(np.random.default_rng(seed), size)
    _, photo = synthetic_pair(seed, size)
    wall, cornice = labels == CLASSES.index("wall"), labels == CLASSES.index("cornice")
    under_cornice = wall & np.roll(cornice, 2, axis=0)
    under_cornice[:2] = False
    brightness = photo.astype(np.float32).mean(axis=-1)
    away = wall & ~under_cornice
    for step in range(1, 9):  # well below any cornice
        away &= ~np.roll(cornice, step, axis=0)
    assert brightness[under_cornice].mean() < 0.8 * brightness[away].mean()


def test_dataset_batches_shapes_splits_and_direction():
    train = SyntheticFacades(6, crop_size=32, batch_size=4, jitter=False, shuffle=False, seed=1)
    x, y = train[0]
    assert x.shape == y.shape == (4, 32, 32, 3) and x.dtype == y.dtype == np.float32
    assert -1 <= min(x.min(), y.min()) and max(x.max(), y.max()) <= 1
    assert len(train) == 2 and train[1][0].shape == (2, 32, 32, 3)
    labels, photo = synthetic_pair([1, 0, 0], 32)
    np.testing.assert_array_equal(x[0], to_model_range(labels))
    np.testing.assert_array_equal(y[0], to_model_range(photo))

    flipped = SyntheticFacades(
        6, crop_size=32, direction="BtoA", jitter=False, shuffle=False, seed=1
    )
    np.testing.assert_array_equal(flipped[0][0][0], y[0])
    val = SyntheticFacades(6, crop_size=32, split="val", jitter=False, shuffle=False, seed=1)
    assert not np.array_equal(val[0][1][0], y[0])
    gray = SyntheticFacades(2, crop_size=32, batch_size=2, in_channels=1)[0][0]
    assert gray.shape == (2, 32, 32, 1)


def test_jittered_batches_are_reproducible_and_change_with_the_epoch():
    def batch(epochs_done):
        data = SyntheticFacades(4, crop_size=32, batch_size=4, seed=2)
        for _ in range(epochs_done):
            data.on_epoch_end()
        return data[0]

    np.testing.assert_array_equal(batch(1)[1], batch(1)[1])
    assert not np.array_equal(batch(0)[1], batch(1)[1])


def test_a_short_l1_fit_learns_the_task():
    """160 steps of L1-only training at 32 px take validation L1 far below both baselines.

    Measured (seed 0): identity (output = input label map) 0.95, mean training photo 0.41;
    after 10 epochs the U-Net reaches 0.281 (jax), 0.287 (tensorflow), 0.288 (torch).
    The test asks for less than 0.8 x the mean-photo baseline.
    """
    keras.utils.set_random_seed(0)
    train = SyntheticFacades(128, crop_size=32, batch_size=8, seed=0)
    x_val, y_val = SyntheticFacades(
        32, crop_size=32, split="val", batch_size=32, jitter=False, shuffle=False, seed=0
    )[0]
    _, y_train = SyntheticFacades(128, crop_size=32, batch_size=128, jitter=False, seed=0)[0]
    identity = np.abs(x_val - y_val).mean()
    mean_photo = np.abs(y_train.mean(axis=0) - y_val).mean()

    model = build_pix2pix(32, objective="l1", ngf=16, ndf=8)
    model.compile()
    model.fit(train, epochs=10, verbose=0)
    learned = np.abs(to_numpy(model.translate(x_val, mode="eval")) - y_val).mean()
    assert learned < 0.8 * mean_photo < identity, (learned, mean_photo, identity)
