"""Reading image pairs from disk with Pillow, and the [-1, 1] scaling the model uses.

Two layouts are read:

- *side by side* (the pix2pix layout, e.g. facades): each file holds A and B next to each
  other; the left half is A, the right half B;
- *A/B folders*: `A/name.png` and `B/name.png` with matching file names.

`direction="AtoB"` makes A the input and B the target; `"BtoA"` the reverse (facades is
trained label map -> photo, which is BtoA).

Channel rule: every image is converted to the requested channel count with Pillow:
1 channel reads as grayscale ("L"), 3 as RGB, 4 as RGBA. Palette images are expanded
first; an alpha channel is dropped when 3 channels are asked for; 16-bit and 32-bit
grayscale images are scaled to 8 bits (value / 257, or / 256**3 for 32-bit).
"""

import os
import pathlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image, UnidentifiedImageError

from pix2pix_k3.paper import DIRECTIONS, height_width

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
MODES = {1: "L", 3: "RGB", 4: "RGBA"}


class DataError(ValueError):
    """A problem with the user's data: the message says which file, what, and what to do."""


def to_model_range(image):
    """uint8 [0, 255] -> float32 [-1, 1], in one new array (a batch is large)."""
    scaled = np.divide(image, 127.5, dtype=np.float32)
    scaled -= 1.0
    return scaled


def to_uint8(image):
    """float [-1, 1] -> uint8 [0, 255]; the exact inverse of `to_model_range` on uint8."""
    return np.uint8(np.clip(np.round((np.asarray(image) + 1.0) * 127.5), 0, 255))


def _to_8bit(image):
    """16- and 32-bit grayscale (modes I;16*, I) to 8-bit L by scaling, not clipping."""
    if image.mode.startswith("I;16"):
        return Image.fromarray(np.uint8(np.asarray(image, np.uint32) // 257))
    if image.mode == "I":
        values = np.asarray(image, np.int64).clip(0, 2**32 - 1)
        scale = 257 if values.max() <= 65535 else 2**24
        return Image.fromarray(np.uint8(np.clip(values // scale, 0, 255)))
    return image


def read_image(path, channels=3):
    """One image file as a uint8 array (H, W, channels), by the module's channel rule."""
    if channels not in MODES:
        raise ValueError(f"channels={channels} is not supported; use 1, 3 or 4.")
    try:
        with Image.open(path) as image:
            image.load()
            image = _to_8bit(image)
            if image.mode == "P":
                image = image.convert("RGBA" if "transparency" in image.info else "RGB")
            return np.asarray(image.convert(MODES[channels])).reshape(
                image.height, image.width, channels
            )
    except UNREADABLE as error:
        raise DataError(f"{unreadable(path, error)} Replace or remove the file.") from error


UNREADABLE = (UnidentifiedImageError, OSError, SyntaxError, ValueError)  # what Pillow raises


def unreadable(path, error):
    return f"{path}: cannot be read as an image ({error})."


def split_side_by_side(image, path, direction="AtoB"):
    """Split an A|B image into (input, target) halves by `direction`."""
    check_direction(direction)
    width = image.shape[1]
    if width % 2:
        raise DataError(
            f"{path}: width {width} is odd, so it cannot be split into A|B halves. The "
            "side-by-side layout needs A and B of equal width next to each other; for "
            "separate files use the A/ and B/ folder layout."
        )
    a, b = image[:, : width // 2], image[:, width // 2 :]
    return (a, b) if direction == "AtoB" else (b, a)


def check_direction(direction):
    if direction not in DIRECTIONS:
        raise ValueError(f"direction={direction!r} must be 'AtoB' or 'BtoA'.")


def image_files_in(folder):
    """The image files (by suffix) directly in `folder`, sorted by name."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def find_pairs(folder):
    """The pairs under `folder`: a list of (path,) for side by side, (a_path, b_path) for A/B.

    A folder with `A/` and `B/` subfolders is read as A/B folders; otherwise its image files
    are side-by-side pairs. Files that are not images (by suffix) are ignored.
    """
    folder = pathlib.Path(folder)
    if not folder.is_dir():
        raise DataError(
            f"{folder}: no such folder. Pass a folder of A|B images, or one with A/ and B/."
        )
    a_dir, b_dir = folder / "A", folder / "B"
    if a_dir.is_dir() and b_dir.is_dir():
        return _matched_pairs(a_dir, b_dir)
    files = image_files_in(folder)
    if not files and a_dir.is_dir() != b_dir.is_dir():
        there, missing = ("A", "B") if a_dir.is_dir() else ("B", "A")
        raise DataError(
            f"{folder}: {there}/ is there but {missing}/ is missing. The A/B layout needs "
            f"both folders, with the same file names; put the {missing} images in "
            f"{folder / missing}."
        )
    if not files:
        raise DataError(
            f"{folder}: no images found (looked for {', '.join(IMAGE_SUFFIXES)}). Pass a folder "
            "of A|B side-by-side images, or one with A/ and B/ subfolders."
        )
    return [(path,) for path in files]


def _matched_pairs(a_dir, b_dir):
    a_files = {p.stem: p for p in image_files_in(a_dir)}
    b_files = {p.stem: p for p in image_files_in(b_dir)}
    only_a, only_b = sorted(set(a_files) - set(b_files)), sorted(set(b_files) - set(a_files))
    if only_a or only_b:
        raise DataError(
            f"{a_dir.parent}: A/ and B/ must hold the same file names. Only in A/: "
            f"{only_a[:5] or 'none'}; only in B/: {only_b[:5] or 'none'}."
        )
    if not a_files:
        raise DataError(f"{a_dir.parent}: A/ and B/ hold no images.")
    return [(a_files[name], b_files[name]) for name in sorted(a_files)]


def read_pair(source, direction="AtoB", in_channels=3, out_channels=3):
    """(input, target) uint8 arrays of one pair from `find_pairs`."""
    check_direction(direction)
    if len(source) == 1:
        path = source[0]
        channels = max(in_channels, out_channels)
        x, y = split_side_by_side(read_image(path, channels), path, direction)
        return convert_channels(x, in_channels), convert_channels(y, out_channels)
    a_path, b_path = source if direction == "AtoB" else source[::-1]
    x, y = read_image(a_path, in_channels), read_image(b_path, out_channels)
    if x.shape[:2] != y.shape[:2]:
        raise DataError(
            f"{a_path} is {x.shape[1]}x{x.shape[0]} but {b_path} is {y.shape[1]}x{y.shape[0]}: "
            "the two images of a pair must have the same size."
        )
    return x, y


def convert_channels(image, channels):
    """A uint8 (H, W, C) array converted to `channels` by the module's Pillow rule."""
    if image.shape[-1] == channels:
        return image
    mode = MODES[image.shape[-1]]
    return np.asarray(
        Image.fromarray(image.squeeze(-1) if mode == "L" else image, mode).convert(MODES[channels])
    ).reshape(*image.shape[:2], channels)


def check_pairs(sources, min_size=1):
    """Raise one DataError naming every pair that cannot be trained on, else return.

    Each image is decoded (JPEGs at reduced scale, which still reads every byte), so a
    truncated or unreadable file is found before training rather than minutes into
    it; side-by-side images must split into halves, A/B pairs must match in size, and
    every pair must be at least `min_size` on each side. Runs on threads: Pillow
    decodes without holding the GIL.
    """
    with ThreadPoolExecutor(min(32, (os.cpu_count() or 1) + 4)) as pool:
        problems = [p for p in pool.map(lambda s: _pair_problem(s, min_size), sources) if p]
    if problems:
        shown = "\n  ".join(problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise DataError(
            f"{len(problems)} of {len(sources)} pairs cannot be used:\n  {shown}{more}\n"
            "Replace or remove these files, then run again."
        )


def _pair_problem(source, min_size):
    """What is wrong with one pair of `find_pairs` (one line naming the file), or None."""
    try:
        sizes = [_decoded_size(path) for path in source]
    except UNREADABLE as error:
        return unreadable(error.path, error)
    (width, height), path = sizes[0], source[0]
    if len(source) == 1:
        if width % 2:
            return f"{path}: width {width} is odd, so it cannot be split into A|B halves."
        width //= 2
    elif sizes[0] != sizes[1]:
        (wa, ha), (wb, hb) = sizes
        return f"{source[0]} is {wa}x{ha} but {source[1]} is {wb}x{hb}: sizes must match."
    min_height, min_width = height_width(min_size)
    if height < min_height or width < min_width:
        if min_height == min_width:
            return f"{path}: the pair is {width}x{height}, smaller than the {min_size}px crops."
        return (
            f"{path}: the pair is {width} wide and {height} high, smaller than the crops "
            f"({min_height} high, {min_width} wide)."
        )
    return None


def _decoded_size(path):
    """(width, height) of an image file, after decoding all of it; errors carry `path`."""
    try:
        with Image.open(path) as image:
            size = image.size
            image.draft(image.mode, (size[0] // 8, size[1] // 8))
            image.load()
            return size
    except UNREADABLE as error:
        error.path = path
        raise
