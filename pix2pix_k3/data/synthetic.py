"""The embedded default dataset: facade-like pairs drawn on the fly from a seed.

No file is shipped or downloaded. Pair `i` of a split is rendered from the seed sequence
(seed, split, i), so it is the same on every machine, backend and worker, and costs no
memory until it is asked for.

Each pair is a colour-coded *label map* (A) of a rectified facade (sky, wall, windows on a
regular grid, a door, cornices, balconies) and a photo-like *rendering* of it (B), so
A -> B is a small version of the paper's labels -> facades task. The rendering makes the
three parts of pix2pix matter:

- context: cast shadows under cornices and balconies, recessed window reveals and lit
  window frames all depend on what lies *around* a pixel, not on its label alone, so a
  per-pixel colour lookup cannot do it; the U-Net's receptive field and skips can;
- ambiguity: the wall's material (one of five colours), the direction of the light, the
  phase of the masonry courses and the sensor noise are drawn per image and not in the
  label map, so an L1-only generator averages them (drab, blurry) while the cGAN term
  rewards a plausible pick, as in the paper's Figure 4;
- fine detail: masonry lines and balcony rails are a few pixels wide, the kind of
  high-frequency structure the PatchGAN judges.
"""

import numpy as np

from pix2pix_k3.data.dataset import PairDataset
from pix2pix_k3.data.images import convert_channels
from pix2pix_k3.paper import height_width, load_size_for

CLASSES = ("sky", "wall", "window", "door", "cornice", "balcony")
SKY, WALL, WINDOW, DOOR, CORNICE, BALCONY = range(len(CLASSES))
LABEL_COLOURS = np.array(
    [[20, 20, 110], [0, 90, 255], [0, 220, 255], [255, 160, 0], [255, 40, 0], [170, 255, 60]],
    np.uint8,
)
WALL_COLOURS = np.array(  # sandstone, brick, plaster, concrete, ochre
    [[196, 166, 130], [165, 85, 62], [214, 208, 194], [140, 142, 150], [214, 178, 104]],
    np.float32,
)
STONE = np.array([226, 220, 204], np.float32)
SPLITS = ("train", "val", "test")


def _box(labels, value, top, bottom, centre, half_width):
    """Paint rows [top, bottom) of columns centre +- half_width (fractional pixels) `value`."""
    left, right = round(centre - half_width), round(centre + half_width)
    top, bottom = round(top), round(bottom)
    labels[max(top, 0) : max(bottom, top + 1), max(left, 0) : max(right, left + 1)] = value


def facade_labels(rng, size):
    """A (size, size) map of class indices: floors of windows under cornices, one door."""
    labels = np.full((size, size), WALL, np.uint8)
    middle = size / 2
    sky = rng.uniform(0.0, 0.12) * size
    _box(labels, SKY, 0, sky, middle, middle)
    floors, columns = int(rng.integers(3, 6, endpoint=True)), int(rng.integers(2, 6, endpoint=True))
    heights = np.ones(floors)
    heights[-1] = rng.uniform(1.1, 1.5)  # a taller ground floor
    edges = sky + np.concatenate([[0.0], np.cumsum(heights)]) / heights.sum() * (size - sky)
    cornice = rng.uniform(0.02, 0.035) * size
    pitch = size / columns
    half_width, height_share = rng.uniform(0.175, 0.3) * pitch, rng.uniform(0.45, 0.65)
    balconies = rng.random(floors) < 0.35
    door = int(rng.integers(columns))
    for floor in range(floors):
        ground = floor == floors - 1
        top = edges[floor] + cornice * (1.6 if floor == 0 else 1.0)  # a heavier roof cornice
        _box(labels, CORNICE, edges[floor], top, middle, middle)
        room = edges[floor + 1] - top
        height = height_share * room
        upper = top + 0.45 * (room - height)
        lower = upper + height
        for column in range(columns):
            centre = (column + 0.5) * pitch
            if ground and column == door:
                _box(labels, DOOR, top + 0.25 * room, edges[floor + 1], centre, 1.1 * half_width)
                continue
            _box(labels, WINDOW, upper, lower, centre, half_width)
            if balconies[floor] and not ground:
                rail = max(0.3 * height, 2.0)
                _box(labels, BALCONY, lower - rail, lower + 0.05 * room, centre, 1.4 * half_width)
    return labels


def _stripes(size, period, on, off):
    """A row of `on` every `period` columns, `off` elsewhere, shaped to broadcast (1, size, 1)."""
    return np.where(np.arange(size) % period == 0, on, off)[None, :, None]


def _materials(labels, rng):
    """Each class painted in its material: masonry, glass, wood, stone, iron rails, sky."""
    size = labels.shape[0]
    rows = np.linspace(0.0, 1.0, size)[:, None, None]
    cols = np.linspace(0.0, 1.0, size)[None, :, None]
    wall = WALL_COLOURS[rng.integers(len(WALL_COLOURS))] * rng.uniform(0.9, 1.1)
    course = max(2, size // 24)
    mortar = (np.arange(size) + rng.integers(course)) % course == 0
    colours = {
        SKY: (1 - rows) * [105, 150, 215] + rows * [200, 218, 240],
        WALL: wall * np.where(mortar, 0.82, 1.0)[:, None, None],
        WINDOW: [38, 52, 72] + 70 * np.clip(1.2 - rows - cols, 0, 1),
        DOOR: np.multiply([98, 62, 36], _stripes(size, max(3, size // 16), 0.7, 1.0)),
        CORNICE: STONE,
        BALCONY: _stripes(size, max(2, size // 32), 95.0, 45.0),
    }
    image = np.empty((size, size, 3), np.float32)
    for index, colour in colours.items():
        mask = labels == index
        image[mask] = np.broadcast_to(colour, image.shape)[mask]
    return image


def _neighbours(mask, distances):
    """Pixels that have a `mask` pixel `distance` rows above them, for any of `distances`."""
    out = np.zeros_like(mask)
    for distance in distances:
        out[distance:] |= mask[:-distance]
    return out


def render_facade(labels, rng):
    """A photo-like uint8 (size, size, 3) rendering of a label map; see the module docstring."""
    size = labels.shape[0]
    image = _materials(labels, rng)
    window = labels == WINDOW
    # Cast shadow: a band under every cornice and balcony, on whatever lies there.
    overhang = (labels == CORNICE) | (labels == BALCONY)
    shaded = np.isin(labels, (WALL, WINDOW, DOOR))
    image[_neighbours(overhang, range(1, max(1, round(0.04 * size)) + 1)) & shaded] *= 0.62
    # Recessed windows: the top row and left column of each opening lie in shade.
    left_edge = window.copy()
    left_edge[:, 1:] &= ~window[:, :-1]
    image[(window & ~_neighbours(window, [1])) | left_edge] *= 0.55
    # Lit frames: wall pixels touching a window blend towards stone.
    touching = _neighbours(window, [1]) | _neighbours(window[::-1], [1])[::-1]
    touching[:, 1:] |= window[:, :-1]
    touching[:, :-1] |= window[:, 1:]
    frame = touching & (labels == WALL)
    image[frame] = 0.5 * image[frame] + 0.5 * STONE
    # Light from one side, a little darker high up, and sensor noise.
    rows = np.linspace(0.0, 1.0, size, dtype=np.float32)[:, None, None]
    cols = np.linspace(0.0, 1.0, size, dtype=np.float32)[None, :, None]
    image *= 1 + rng.uniform(-0.25, 0.25) * (2 * cols - 1)
    image *= np.where((labels == SKY)[..., None], 1.0, 0.97 + 0.06 * rows)
    image += 4.0 * rng.standard_normal(image.shape, np.float32)
    return np.uint8(np.clip(np.round(image), 0, 255))


def synthetic_pair(seed, size=64):
    """(label map, photo) as uint8 (size, size, 3) arrays, deterministic for `seed`."""
    rng = np.random.default_rng(seed)
    labels = facade_labels(rng, size)
    return LABEL_COLOURS[labels], render_facade(labels, rng)


class SyntheticFacades(PairDataset):
    """`count` facade-like pairs of side `crop_size`, rendered on demand from `seed`.

    A is the label map and B the photo, so the default `direction="AtoB"` is labels ->
    photo (the paper's facades task; `"BtoA"` turns it into segmentation). `split` selects
    an independent stream of pairs ("train", "val", "test") for the same seed. Images are
    drawn at `crop_size` and then preprocessed exactly as real data (see `PairDataset`).
    """

    def __init__(self, count=256, crop_size=64, split="train", seed=0, **kwargs):
        if split not in SPLITS:
            raise ValueError(f"split={split!r} must be one of {', '.join(SPLITS)}.")
        kwargs.setdefault("load_size", load_size_for(crop_size))
        self.split = split
        super().__init__(list(range(count)), crop_size=crop_size, seed=seed, **kwargs)

    def read(self, index):
        side = max(height_width(self.crop_size))  # drawn square, resized to the crop's aspect
        labels, photo = synthetic_pair([self.seed, SPLITS.index(self.split), index], side)
        x, y = (labels, photo) if self.direction == "AtoB" else (photo, labels)
        return convert_channels(x, self.in_channels), convert_channels(y, self.out_channels)

    def describe(self, index):
        return f"synthetic facade {index} of the {self.split} split (seed {self.seed})"
