"""L1, PSNR and SSIM against their formulas and against TensorFlow's implementation."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pix2pix_k3.metrics import gaussian_window, l1, psnr, ssim

levels = st.floats(-1, 1, allow_nan=False, width=32)


def constant(value, shape=(16, 16, 3)):
    return np.full(shape, value, np.float32)


@given(a=levels, b=levels)
def test_constant_images_have_closed_form_values(a, b):
    assert l1(constant(a), constant(b)) == pytest.approx(abs(a - b), abs=1e-7)
    if a != b:
        assert psnr(constant(a), constant(b)) == pytest.approx(10 * np.log10(4 / (a - b) ** 2))
    # Constant images have no variance: only the luminance term remains.
    c1 = (0.01 * 2) ** 2
    expected = (2 * a * b + c1) / (a * a + b * b + c1)
    assert ssim(constant(a), constant(b)) == pytest.approx(expected, rel=1e-6, abs=1e-9)


def test_known_values():
    x = np.linspace(-1, 1, 16 * 16 * 3).reshape(16, 16, 3)
    noise = 0.1 * np.where(np.indices(x.shape).sum(axis=0) % 2 == 0, 1.0, -1.0)
    assert l1(x, x + noise) == pytest.approx(0.1)
    assert psnr(x, x + noise) == pytest.approx(10 * np.log10(4 / 0.01))  # 26.0206 dB
    assert psnr(x, x) == np.inf and ssim(x, x) == pytest.approx(1.0)
    assert ssim(x, x + noise) < ssim(x, x + noise / 2) < 1


def test_the_gaussian_window_is_normalised_and_symmetric():
    window = gaussian_window()
    assert window.shape == (11,) and window.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(window, window[::-1])
    assert window[5] == pytest.approx(1 / np.exp(-0.5 * (np.arange(-5, 6) / 1.5) ** 2).sum())


def test_batches_give_one_value_per_image():
    rng = np.random.default_rng(0)
    a, b = rng.uniform(-1, 1, (2, 3, 20, 20, 3))
    for measure in (l1, psnr, ssim):
        values = measure(a, b)
        assert values.shape == (3,)
        assert values[1] == pytest.approx(measure(a[1], b[1]))


def test_shape_mismatch_and_small_images_are_refused():
    with pytest.raises(ValueError, match="same shape"):
        l1(np.zeros((8, 8, 3)), np.zeros((8, 8, 1)))
    with pytest.raises(ValueError, match="at least 11x11"):
        ssim(np.zeros((8, 8, 3)), np.zeros((8, 8, 3)))


def test_agrees_with_tensorflow():
    tf = pytest.importorskip("tensorflow")
    rng = np.random.default_rng(1)
    a = rng.uniform(-1, 1, (2, 40, 48, 3)).astype(np.float32)
    b = np.clip(a + rng.normal(0, 0.3, a.shape), -1, 1).astype(np.float32)
    expected_ssim = tf.image.ssim(tf.constant(a), tf.constant(b), max_val=2.0).numpy()
    expected_psnr = tf.image.psnr(tf.constant(a), tf.constant(b), max_val=2.0).numpy()
    np.testing.assert_allclose(ssim(a, b), expected_ssim, rtol=1e-4)
    np.testing.assert_allclose(psnr(a, b), expected_psnr, rtol=1e-5)
