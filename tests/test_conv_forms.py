"""Our convolutions' other forms: the same functions, weights and files as Keras'.

`pix2pix_k3.fast.conv.Conv2D` (im2col, products first) and `Conv2DTranspose` (sub-pixel)
are Keras' layers computed as matrix products, because those train several times faster
on JAX on a CPU; on torch they also have a form without Keras' layout copies (`torch`).
These tests hold every form to exact equivalence: outputs, gradients (through a training
update, each form chosen through `pix2pix_k3.fast.use`) and saved weights. The
matrix-product forms run on every backend, the torch form on torch.
"""

import keras
import numpy as np
import pytest
from helpers import to_numpy
from hypothesis import given
from hypothesis import strategies as st

from pix2pix_k3 import fast
from pix2pix_k3.fast.conv import Conv2D as Im2col
from pix2pix_k3.fast.conv import Conv2DTranspose as SubPixel

pytestmark = pytest.mark.matmul  # the layers' own dispatch, as users run it
TOLERANCE = 1e-5  # float32 sums in another order
CONV_FORMS = ("matmul", "products_first", "torch")
TRANSPOSE_FORMS = ("subpixel", "torch")


def runnable(forms):
    """The forms this backend can compute (the torch form calls torch)."""
    return [f for f in forms if f != "torch" or keras.backend.backend() == "torch"]


def each_form(forms):
    """Parameters over `forms`, skipping those this backend cannot compute."""
    return pytest.mark.parametrize(
        "form",
        [
            pytest.param(f, marks=pytest.mark.skipif(f not in runnable(forms), reason="torch only"))
            for f in forms
        ],
    )


def twins(ours_class, input_shape, filters, kernel_size=4, seed=0, **options):
    """Keras' layer and ours (its subclass), built alike and holding the same weights."""
    reference = ours_class.__base__(filters, kernel_size, **options)
    ours = ours_class(filters, kernel_size, **options)
    rng = np.random.default_rng(seed)
    for layer in (reference, ours):
        layer.build(input_shape)
    weights = [rng.normal(0, 0.5, w.shape).astype("float32") for w in reference.get_weights()]
    reference.set_weights(weights)
    ours.set_weights(weights)
    return reference, ours


@given(
    batch=st.integers(1, 2),
    height=st.integers(1, 6),
    width=st.integers(1, 6),
    in_channels=st.integers(1, 5),
    filters=st.integers(1, 5),
    use_bias=st.booleans(),
    activation=st.sampled_from([None, "tanh"]),
    seed=st.integers(0, 2**16),
)
def test_subpixel_form_equals_conv2d_transpose(
    batch, height, width, in_channels, filters, use_bias, activation, seed
):
    shape = (batch, height, width, in_channels)
    options = dict(strides=2, padding="same", use_bias=use_bias, activation=activation)
    reference, subpixel = twins(SubPixel, shape, filters, seed=seed, **options)
    x = np.random.default_rng(seed + 1).normal(size=shape).astype("float32")
    expected = to_numpy(reference(x))
    assert expected.shape == (batch, 2 * height, 2 * width, filters)
    for form in runnable(TRANSPOSE_FORMS):
        computed = to_numpy(subpixel.call_form(x, form))
        np.testing.assert_allclose(computed, expected, atol=TOLERANCE, err_msg=form)
    np.testing.assert_allclose(to_numpy(subpixel(x)), expected, atol=TOLERANCE)


@given(
    batch=st.integers(1, 2),
    height=st.integers(4, 9),
    width=st.integers(4, 9),
    in_channels=st.integers(1, 9),  # both sides of IM2COL_MIN_CHANNELS
    filters=st.integers(1, 4),
    kernel_size=st.sampled_from([1, 3, 4]),
    strides=st.sampled_from([1, 2]),
    padding=st.sampled_from(["same", "valid"]),
    seed=st.integers(0, 2**16),
)
def test_im2col_form_equals_conv2d(
    batch, height, width, in_channels, filters, kernel_size, strides, padding, seed
):
    shape = (batch, height, width, in_channels)
    options = dict(strides=strides, padding=padding, use_bias=True)
    reference, ours = twins(Im2col, shape, filters, kernel_size, seed, **options)
    x = np.random.default_rng(seed + 1).normal(size=shape).astype("float32")
    expected = to_numpy(reference(x))
    for form in runnable(CONV_FORMS):
        computed = to_numpy(ours.call_form(x, form))
        np.testing.assert_allclose(computed, expected, atol=TOLERANCE, err_msg=form)
    np.testing.assert_allclose(to_numpy(ours(x)), expected, atol=TOLERANCE)


def one_update(layer, x, y):
    """The layer's weights after one SGD step on the squared error (gradients, compared)."""
    model = keras.Sequential([keras.Input(x.shape[1:]), layer])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    model.train_on_batch(x, y)
    return [to_numpy(w) for w in layer.weights]


def torch_only(choice):
    skip = choice == "torch" and keras.backend.backend() != "torch"
    return pytest.mark.skipif(skip, reason="torch only")


@pytest.mark.parametrize(
    ("choice", "shape"),
    [
        ("matmul", (2, 5, 4, 3)),
        # torch: 40 input pixels, more than four per filter: torch's own transposed
        # convolution; 6 pixels: the sub-pixel form with torch's `linear` products
        pytest.param("torch", (2, 5, 4, 3), marks=torch_only("torch")),
        pytest.param("torch", (1, 2, 3, 3), marks=torch_only("torch")),
    ],
    ids=["subpixel", "torch", "torch_few_pixels"],
)
def test_transpose_forms_have_the_same_gradients(choice, shape):
    reference, subpixel = twins(SubPixel, shape, 6, strides=2, padding="same")
    rng = np.random.default_rng(7)
    x = rng.normal(size=shape).astype("float32")
    y = rng.normal(size=(shape[0], 2 * shape[1], 2 * shape[2], 6)).astype("float32")
    before = [to_numpy(w) for w in reference.weights]
    with fast.use(choice):
        updated = one_update(subpixel, x, y)
    with fast.use("keras"):
        expected = one_update(reference, x, y)
    for new, old, want in zip(updated, before, expected, strict=True):
        assert np.abs(want - old).max() > 1e-3  # the step moved the weights
        np.testing.assert_allclose(new, want, atol=TOLERANCE)


@pytest.mark.parametrize(
    ("choice", "channels", "filters", "strides"),
    [
        ("matmul", 8, 5, 2),  # im2col
        ("matmul", 8, 1, 1),  # products first: stride 1, fewer filters than channels
        pytest.param("torch", 3, 5, 2, marks=torch_only("torch")),
        # 24 output pixels, no more than the filters: im2col, in the torch forms
        pytest.param("torch", 8, 24, 2, marks=torch_only("torch")),
    ],
    ids=["im2col", "products_first", "torch", "torch_few_pixels"],
)
def test_conv_forms_have_the_same_gradients(choice, channels, filters, strides):
    shape = (2, 8, 6, channels)
    reference, ours = twins(Im2col, shape, filters, seed=5, strides=strides, padding="same")
    rng = np.random.default_rng(6)
    x = rng.normal(size=shape).astype("float32")
    y = to_numpy(reference(x)) + rng.normal(size=reference(x).shape).astype("float32")
    with fast.use(choice):
        updated = one_update(ours, x, y)
    with fast.use("keras"):
        expected = one_update(reference, x, y)
    for new, want in zip(updated, expected, strict=True):
        np.testing.assert_allclose(new, want, atol=TOLERANCE)


def test_weights_move_between_the_two_layers(tmp_path):
    shape = (1, 3, 3, 4)
    reference, _ = twins(SubPixel, shape, 2, strides=2, padding="same")
    saved = keras.Sequential([keras.Input(shape[1:]), reference])
    saved.save_weights(tmp_path / "reference.weights.h5")
    loaded = keras.Sequential([keras.Input(shape[1:]), SubPixel(2, 4, strides=2, padding="same")])
    loaded.load_weights(tmp_path / "reference.weights.h5")
    x = np.random.default_rng(3).normal(size=shape).astype("float32")
    np.testing.assert_allclose(to_numpy(loaded(x)), to_numpy(saved(x)), atol=TOLERANCE)
    assert loaded.count_params() == saved.count_params()


@pytest.mark.parametrize("layer_class", [SubPixel, Im2col])
def test_config_round_trip_keeps_the_class(layer_class):
    layer = layer_class(8, 4, strides=2, padding="same", activation="tanh")
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(restored) is layer_class
    assert restored.get_config() == layer.get_config()


@pytest.mark.parametrize(
    "options",
    [
        {"kernel_size": 3, "strides": 2, "padding": "same"},
        {"kernel_size": 4, "strides": 1, "padding": "same"},
        {"kernel_size": 4, "strides": 2, "padding": "valid"},
    ],
)
def test_other_shapes_keep_keras_computation(options):
    layer = SubPixel(2, **options)
    assert not layer.forms_apply()


def test_the_forms_are_chosen_by_backend_and_device(monkeypatch):
    backend = keras.backend.backend()
    monkeypatch.delenv(fast.VARIABLE, raising=False)
    assert fast.device() == "cpu"  # the suite runs on CPUs; a GPU host differs below
    assert fast.form() == fast.FAST_FORMS.get(backend, "keras")
    with fast.use("keras"):
        assert fast.form() == "keras"
    with fast.use("matmul"):
        assert fast.form() == "matmul"
    monkeypatch.setenv(fast.VARIABLE, "keras")
    assert fast.form() == "keras"
    with fast.use("fast"):  # use() wins over the environment
        assert fast.form() == fast.FAST_FORMS.get(backend, "keras")
    monkeypatch.setenv(fast.VARIABLE, "auto")
    monkeypatch.setattr(fast, "device", lambda tensor=None: "gpu")  # nothing measured there
    assert fast.form() == "keras"
    with fast.use("fast"):
        assert fast.form() == fast.FAST_FORMS.get(backend, "keras")
    monkeypatch.setenv(fast.VARIABLE, "quick")
    with pytest.raises(ValueError, match="PIX2PIX_K3_FORMS='quick' is not one of auto, keras"):
        fast.form()
    monkeypatch.setenv(fast.VARIABLE, "auto")
    assert fast.describe() == f"{backend} on gpu: keras forms (PIX2PIX_K3_FORMS=auto)"
