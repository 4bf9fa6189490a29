"""Image-quality measures for `evaluate`: L1, PSNR and SSIM, in NumPy, defined once.

All take two float arrays of images in the model's range [-1, 1], shaped (H, W, C) or
(N, H, W, C), and return one number per image (a float for a single image).

- `l1`: mean absolute difference, in [-1, 1] units: the generator's L1 term.
- `psnr`: 10 log10(range^2 / MSE) with range 2 (the same value as on uint8 images with
  range 255); identical images give infinity.
- `ssim`: Wang et al. (2004) with an 11x11 Gaussian window (sigma 1.5), K1 = 0.01,
  K2 = 0.03, over the window positions that fit inside the image, averaged over positions
  and then channels: the definition of `tf.image.ssim`.
"""

import numpy as np

DATA_RANGE = 2.0  # images in [-1, 1]
SSIM_WINDOW, SSIM_SIGMA, SSIM_K1, SSIM_K2 = 11, 1.5, 0.01, 0.03


def _batch(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        raise ValueError(f"images to compare must have the same shape; got {a.shape} and {b.shape}")
    if a.ndim not in (3, 4):
        raise ValueError(f"expected (H, W, C) or (N, H, W, C) images; got shape {a.shape}")
    return (a[None], b[None], True) if a.ndim == 3 else (a, b, False)


def _per_image(values, single):
    return float(values[0]) if single else values


def l1(a, b):
    """Mean absolute difference per image."""
    a, b, single = _batch(a, b)
    return _per_image(np.abs(a - b).mean(axis=(1, 2, 3)), single)


def psnr(a, b):
    """Peak signal-to-noise ratio per image, in dB (inf where the images are equal)."""
    a, b, single = _batch(a, b)
    mse = np.square(a - b).mean(axis=(1, 2, 3))
    with np.errstate(divide="ignore"):
        return _per_image(10.0 * np.log10(DATA_RANGE**2 / mse), single)


def gaussian_window(size=SSIM_WINDOW, sigma=SSIM_SIGMA):
    """The normalised 1-D Gaussian whose outer product is SSIM's 2-D window."""
    offsets = np.arange(size) - (size - 1) / 2
    weights = np.exp(-0.5 * (offsets / sigma) ** 2)
    return weights / weights.sum()


def _filter(images, window):
    """Separable 'valid' filtering of NHWC images over H and W."""
    size = len(window)
    rows = sum(w * images[:, i : images.shape[1] - size + 1 + i] for i, w in enumerate(window))
    return sum(w * rows[:, :, i : rows.shape[2] - size + 1 + i] for i, w in enumerate(window))


def ssim(a, b):
    """Structural similarity per image (1 for identical images)."""
    a, b, single = _batch(a, b)
    if min(a.shape[1:3]) < SSIM_WINDOW:
        raise ValueError(f"SSIM needs images of at least {SSIM_WINDOW}x{SSIM_WINDOW} pixels")
    window = gaussian_window()
    c1, c2 = (SSIM_K1 * DATA_RANGE) ** 2, (SSIM_K2 * DATA_RANGE) ** 2
    mean_a, mean_b = _filter(a, window), _filter(b, window)
    var_a = _filter(a * a, window) - mean_a**2
    var_b = _filter(b * b, window) - mean_b**2
    covariance = _filter(a * b, window) - mean_a * mean_b
    luminance = (2 * mean_a * mean_b + c1) / (mean_a**2 + mean_b**2 + c1)
    structure = (2 * covariance + c2) / (var_a + var_b + c2)
    return _per_image((luminance * structure).mean(axis=(1, 2)).mean(axis=-1), single)


MEASURES = {"l1": l1, "psnr": psnr, "ssim": ssim}
