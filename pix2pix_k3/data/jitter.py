"""The paper's random jitter, pair-consistent: one draw moves both images of a pair.

Section 6.2 of the paper: "Random jitter was applied by resizing the 256x256 input images
to 286x286 and then randomly cropping back to size 256x256", plus mirroring. Drawing the
crop or the flip separately for input and target still trains, but learns a misaligned
mapping: the commonest silent bug in re-implementations. Here a single NumPy generator,
seeded per pair, draws (top, left, mirrored) once and both images follow it, so the
result is the same on every Keras backend.
"""

import numpy as np
from PIL import Image

from pix2pix_k3.paper import IMAGE_SIZE, LOAD_SIZE, height_width

INTERPOLATIONS = {
    "bicubic": Image.Resampling.BICUBIC,  # the PyTorch reference's default (the default here)
    "bilinear": Image.Resampling.BILINEAR,
    "nearest": Image.Resampling.NEAREST,  # what the TensorFlow tutorial uses
}


def resize(image, size, interpolation="bicubic"):
    """A uint8 (H, W, C) array resized with Pillow to `size`: a side, or (height, width)."""
    if interpolation not in INTERPOLATIONS:
        raise ValueError(
            f"interpolation={interpolation!r} must be one of {', '.join(INTERPOLATIONS)}."
        )
    height, width = height_width(size)
    if image.shape[:2] == (height, width):
        return image
    method = INTERPOLATIONS[interpolation]
    if image.shape[-1] == 3:
        return np.asarray(Image.fromarray(image).resize((width, height), method))
    # One plane at a time otherwise: Pillow premultiplies RGBA by its alpha when resizing,
    # which would alter colour wherever alpha is small.
    planes = [Image.fromarray(np.ascontiguousarray(image[..., c])) for c in range(image.shape[-1])]
    return np.stack([np.asarray(plane.resize((width, height), method)) for plane in planes], -1)


def jitter_draw(seed, load_size=LOAD_SIZE, crop_size=IMAGE_SIZE, flip=True):
    """(top, left, mirrored): the one random draw a pair's jitter uses."""
    check_crop(load_size, crop_size)
    (load_height, load_width), (crop_height, crop_width) = map(height_width, (load_size, crop_size))
    rng = np.random.default_rng(seed)
    high = [load_height - crop_height + 1, load_width - crop_width + 1]
    top, left = (int(v) for v in rng.integers(0, high))
    mirrored = bool(rng.integers(0, 2)) if flip else False
    return top, left, mirrored


def pair_jitter(
    a, b, seed, load_size=LOAD_SIZE, crop_size=IMAGE_SIZE, flip=True, interpolation="bicubic"
):
    """Resize both images to `load_size`, crop the same window, mirror both or neither.

    Args:
        a: a uint8 array (H, W, C), e.g. the input.
        b: a uint8 array of the same height and width as `a` (its channels may differ).
        seed: an int or a `numpy.random.SeedSequence`-compatible value; the same seed
            gives the same result on any machine and backend.

    Returns:
        The two jittered uint8 arrays, each of `crop_size` (a side, or (height, width)).
    """
    if a.shape[:2] != b.shape[:2]:
        raise ValueError(f"a pair must share its size; got {a.shape[:2]} and {b.shape[:2]}.")
    draw = jitter_draw(seed, load_size, crop_size, flip)
    return tuple(apply_draw(image, draw, load_size, crop_size, interpolation) for image in (a, b))


def apply_draw(image, draw, load_size=LOAD_SIZE, crop_size=IMAGE_SIZE, interpolation="bicubic"):
    """One image resized, cropped and mirrored as the draw `(top, left, mirrored)` says."""
    top, left, mirrored = draw
    height, width = height_width(crop_size)
    image = resize(image, load_size, interpolation)[top : top + height, left : left + width]
    return np.ascontiguousarray(image[:, ::-1] if mirrored else image)


def check_crop(load_size, crop_size):
    """Refuse a crop larger than the image it is cut from, on either side."""
    crop, load = height_width(crop_size), height_width(load_size)
    if crop[0] > load[0] or crop[1] > load[1]:
        raise ValueError(f"crop_size={crop_size} must not exceed load_size={load_size}.")


def pair_resize(a, b, size, interpolation="bicubic"):
    """Evaluation preprocessing: both images resized to `size`, no jitter."""
    return resize(a, size, interpolation), resize(b, size, interpolation)
