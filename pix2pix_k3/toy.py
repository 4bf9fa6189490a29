"""Toy paired data made on the fly, so `fit` runs with no download.

Input: a label map of coloured rectangles (four classes) on a background. Target: a
"rendering" of it, each class its own colour with a vertical light gradient and a
darker outline, so that G must both recolour and use spatial context. A placeholder
until the embedded facades-like dataset lands; deterministic for a seed.
"""

import numpy as np

LABEL_COLOURS = np.array(
    [[-1.0, -1.0, -1.0], [1.0, -1.0, -1.0], [-1.0, 1.0, -1.0], [-1.0, -1.0, 1.0], [1.0, 1.0, -1.0]],
    "float32",
)
RENDER_COLOURS = np.array(
    [[0.1, 0.1, 0.2], [0.8, 0.5, 0.3], [0.2, 0.6, 0.3], [0.3, 0.4, 0.8], [0.9, 0.9, 0.7]],
    "float32",
)


def label_map(rng, size, rectangles=6):
    """An integer map of classes 0..4: background 0, then overlapping rectangles."""
    labels = np.zeros((size, size), "int64")
    for _ in range(rectangles):
        top, left = rng.integers(0, size - 4, 2)
        height, width = rng.integers(4, size // 2 + 1, 2)
        labels[top : top + height, left : left + width] = rng.integers(1, 5)
    return labels


def render(labels):
    """The target image in [-1, 1]: class colours, shaded top to bottom, outlined."""
    size = labels.shape[0]
    image = RENDER_COLOURS[labels]
    image = image * np.linspace(1.0, 0.6, size, dtype="float32")[:, None, None]
    edges = np.zeros_like(labels, bool)
    edges[1:, :] |= labels[1:, :] != labels[:-1, :]
    edges[:, 1:] |= labels[:, 1:] != labels[:, :-1]
    image[edges] *= 0.3
    return image * 2.0 - 1.0


def toy_pairs(count, size=64, seed=0):
    """`count` (input, target) pairs as float32 NHWC arrays in [-1, 1]."""
    rng = np.random.default_rng(seed)
    maps = [label_map(rng, size) for _ in range(count)]
    inputs = np.stack([LABEL_COLOURS[m] for m in maps])
    targets = np.stack([render(m) for m in maps]).astype("float32")
    return inputs, targets
