"""`PairDataset`: batches of (input, target) pairs for `Pix2Pix.fit`, on every backend.

A `keras.utils.PyDataset`, so the same pure NumPy/Pillow pipeline feeds JAX, TensorFlow
and PyTorch, with Keras' own batching, per-epoch shuffling and optional worker threads
or processes. Training data gets the paper's jitter (resize to `load_size`, random crop
to `crop_size`, random mirror), drawn once per pair from (seed, epoch, pair index):
deterministic for a seed, whatever the workers or the backend. Evaluation data is only
resized to `crop_size`.
"""

import math

import keras
import numpy as np

from pix2pix_k3.data.images import (
    DataError,
    check_direction,
    check_pairs,
    find_pairs,
    read_pair,
    to_model_range,
)
from pix2pix_k3.data.jitter import check_crop, pair_jitter, pair_resize
from pix2pix_k3.paper import IMAGE_SIZE, LOAD_SIZE, height_width, normal_size


class PairDataset(keras.utils.PyDataset):
    """Paired images, preprocessed as the paper describes, in batches.

    Args:
        sources: pairs as returned by `find_pairs` (or use `PairDataset.from_folder`).
        batch_size: pairs per batch (1 in the paper).
        direction: `"AtoB"` or `"BtoA"` (which half or folder is the input).
        load_size: size images are resized to before the random crop (286 in the paper);
            a side, or (height, width) like every size here.
        crop_size: size of the crops, i.e. of the model's images (256 in the paper).
        jitter: True for training (resize, random crop, random mirror); False for
            evaluation (resize to `crop_size` only).
        flip: random horizontal mirroring during jitter.
        interpolation: `"bicubic"` (default, as the PyTorch reference), `"bilinear"` or
            `"nearest"` (as the TensorFlow tutorial).
        shuffle: a new order each epoch (drawn from the seed).
        seed: makes order and jitter reproducible.
        steps_per_epoch: batches in an epoch; None for one pass over the pairs (the last
            batch then may be smaller). Set, the batches are cut from an endless stream of
            passes, each in its own order, so that every batch is full and each pair is
            seen as often as the others, and a run lasts exactly epochs * steps_per_epoch
            steps: what long runs on large sets measure their length in.
        **kwargs: `workers`, `use_multiprocessing`, `max_queue_size` of `PyDataset`.
    """

    def __init__(
        self,
        sources,
        batch_size=1,
        direction="AtoB",
        load_size=LOAD_SIZE,
        crop_size=IMAGE_SIZE,
        jitter=True,
        flip=True,
        interpolation="bicubic",
        in_channels=3,
        out_channels=3,
        shuffle=True,
        seed=0,
        steps_per_epoch=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_direction(direction)
        if not sources:
            raise DataError("PairDataset got no pairs.")
        check_crop(load_size, crop_size)
        self.sources = list(sources)
        self.batch_size = int(batch_size)
        self.direction = direction
        self.load_size, self.crop_size = normal_size(load_size), normal_size(crop_size)
        self.jitter, self.flip, self.interpolation = bool(jitter), bool(flip), interpolation
        self.in_channels, self.out_channels = in_channels, out_channels
        self.shuffle, self.seed = bool(shuffle), int(seed)
        if steps_per_epoch is not None and int(steps_per_epoch) < 1:
            raise ValueError(f"steps_per_epoch must be 1 or more, got {steps_per_epoch}.")
        self.steps_per_epoch = None if steps_per_epoch is None else int(steps_per_epoch)
        self._orders = {}
        self.epoch = 0
        self.order = self._order()
        self.cache = None

    def use_cache(self, root, on_build=None):
        """Read the pairs from a decode-once cache under `root` (see `data.cache`),
        building it first if needed; batches stay bit-identical. Returns the cache."""
        from pix2pix_k3.data.cache import PairCache

        size = self.load_size if self.jitter else self.crop_size
        self.cache = PairCache.open(root, self, size, on_build)
        return self.cache

    @classmethod
    def from_folder(cls, folder, **kwargs):
        """A dataset of every pair under `folder` (side by side, or A/ and B/)."""
        return cls(find_pairs(folder), **kwargs)

    def check(self):
        """Raise one DataError naming every pair `pair` would fail on (before training)."""
        check_pairs(self.sources, self.crop_size)

    def __len__(self):
        if self.steps_per_epoch:
            return self.steps_per_epoch
        return math.ceil(len(self.sources) / self.batch_size)

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} of a dataset of {len(self)} batches")
        return self._stack(self.batch_pairs(index))

    def batch_pairs(self, index):
        """[(pair, pass)] of batch `index` of the current epoch: which pairs, and the
        pass over the set that each is drawn in (its order and its jitter)."""
        if not self.steps_per_epoch:
            chosen = self.order[index * self.batch_size : (index + 1) * self.batch_size]
            return [(int(pair), self.epoch) for pair in chosen]
        count = len(self.sources)
        start = (self.epoch * self.steps_per_epoch + index) * self.batch_size
        positions = range(start, start + self.batch_size)
        return [(int(self._pass_order(p // count)[p % count]), p // count) for p in positions]

    def _pass_order(self, drawn_in):
        """`_order(drawn_in)`, kept for the few passes an epoch's batches come from."""
        order = self._orders.get(drawn_in)
        if order is None:  # worker threads share the dict: look it up once, keep the local
            order = self._order(drawn_in)
            if len(self._orders) > 4:
                self._orders.clear()
            self._orders[drawn_in] = order
        return order

    def pair(self, index):
        """Pair `index`, preprocessed for the current epoch, as float32 in [-1, 1]."""
        x, y = self.pair_uint8(index)
        return to_model_range(x), to_model_range(y)

    def pair_uint8(self, index, drawn_in=None):
        """Pair `index` jittered (or resized) for the current epoch (or for pass
        `drawn_in`), still uint8."""
        cached = self.cache.pair(index) if self.cache is not None else None
        if cached is not None:
            x, y = cached  # already at the size resized to below
        else:
            x, y = self.read(index)
            self.check_size(index, x)
        if self.jitter:
            seed = [self.seed, self.epoch if drawn_in is None else drawn_in, index]
            x, y = pair_jitter(
                x, y, seed, self.load_size, self.crop_size, self.flip, self.interpolation
            )
        else:
            x, y = pair_resize(x, y, self.crop_size, self.interpolation)
        return x, y

    def batch_of(self, count):
        """The first `count` pairs in the current order as one (inputs, targets) batch."""
        return self._stack([(int(pair), self.epoch) for pair in self.order[:count]])

    def _stack(self, chosen):
        """One batch of the pairs `chosen` as [(pair, pass)]."""
        inputs, targets = zip(*(self.pair_uint8(*pick) for pick in chosen), strict=True)
        return to_model_range(np.stack(inputs)), to_model_range(np.stack(targets))

    def check_size(self, index, image):
        """Refuse pair `index` (its input `image`) when it is smaller than the crops."""
        height, width = height_width(self.crop_size)
        if image.shape[0] < height or image.shape[1] < width:
            size = f"{image.shape[1]}x{image.shape[0]}"
            if height != width:
                size = f"{image.shape[0]} high and {image.shape[1]} wide"
            raise DataError(
                f"{self.describe(index)}: the pair is {size}, smaller than "
                f"crop_size={self.crop_size}. Use a smaller image size or larger images."
            )

    def read(self, index):
        """Pair `index` as uint8 (input, target) arrays, before any preprocessing."""
        return read_pair(self.sources[index], self.direction, self.in_channels, self.out_channels)

    def describe(self, index):
        """Where pair `index` comes from, for error messages."""
        return str(self.sources[index][0])

    def set_epoch(self, epoch):
        """Continue from `epoch` (0-based) with its order and jitter, as a resumed run does."""
        self.epoch = int(epoch)
        self.order = self._order()

    def on_epoch_end(self):
        self.epoch += 1
        self.order = self._order()

    def _order(self, drawn_in=None):
        """The order of the pairs in pass `drawn_in` over the set (default: this epoch's)."""
        if not self.shuffle:
            return np.arange(len(self.sources))
        drawn_in = self.epoch if drawn_in is None else drawn_in
        return np.random.default_rng([self.seed, drawn_in]).permutation(len(self.sources))
