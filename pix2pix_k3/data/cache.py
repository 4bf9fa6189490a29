"""The training pairs decoded and resized once, kept on disk as memory-mapped uint8 arrays.

Decoding a JPEG pair and resizing it to the load size (286) costs several times what the
crop, mirror and float conversion that follow cost: without a cache one worker prepares
fewer pairs a second than a GPU step consumes (docs/benchmarks.md).
The resize is the same in every epoch (only the crop and mirror are drawn), so its
result is kept: an epoch then reads each pair from a memory-mapped array and crops it.
Batches are bit-identical to those of the uncached pipeline, whatever the workers.

The cache lives in `$PIX2PIX_K3_PAIR_CACHE`, else `$XDG_CACHE_HOME/pix2pix_k3/pairs`
(`~/.cache/pix2pix_k3/pairs`), one folder per dataset and preprocessing (its name is a
hash of the files' paths, direction, channels, size and interpolation), holding
`inputs.npy`, `targets.npy` and `manifest.json`. `PIX2PIX_K3_PAIR_CACHE=off` turns it
off. A folder is rebuilt when any source file's size or modification time changes, and
can be deleted at any time: the next run decodes again. Facades' 400 training pairs take
196 MB at 286x286.
"""

import hashlib
import json
import os
import pathlib
import shutil
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from pix2pix_k3 import cache_home
from pix2pix_k3.paper import height_width

VARIABLE = "PIX2PIX_K3_PAIR_CACHE"
FORMAT = 1  # bump when the files' layout changes: every older folder is then rebuilt


def folder():
    """Where caches go, or None when they are turned off."""
    return cache_home.folder(VARIABLE, "pairs")


def file_stats(sources):
    """[size, mtime_ns] of every file of every pair: what a cache is valid for."""
    stats = []
    for source in sources:
        for path in source:
            status = os.stat(path)
            stats.append([status.st_size, status.st_mtime_ns])
    return stats


class PairCache:
    """One dataset's pairs at one size, as uint8 (N, H, W, C) arrays on disk.

    `PairCache.open(root, dataset, size)` returns a valid cache, building it first when
    it is missing or stale. Pickling drops the open arrays, so worker processes reopen
    them from disk instead of copying them.
    """

    def __init__(self, path):
        self.path = pathlib.Path(path)
        self._arrays = None

    @classmethod
    def open(cls, root, dataset, size, on_build=None):
        """The cache of `dataset` (a `PairDataset`) resized to `size`, built if needed.

        `on_build(path, count, megabytes)` is called before a build (for a progress line).
        """
        settings = {
            "format": FORMAT,
            "sources": [[str(pathlib.Path(p).resolve()) for p in s] for s in dataset.sources],
            "direction": dataset.direction,
            "channels": [dataset.in_channels, dataset.out_channels],
            "size": list(height_width(size)),
            "interpolation": dataset.interpolation,
        }
        key = hashlib.sha256(json.dumps(settings).encode()).hexdigest()[:20]
        cache = cls(pathlib.Path(root) / key)
        stats = file_stats(dataset.sources)
        if not cache.holds(stats):
            cache.build(dataset, size, settings, stats, on_build)
        return cache

    def holds(self, stats):
        """Whether the folder is complete and was built from files with these `stats`."""
        try:
            manifest = json.loads((self.path / "manifest.json").read_text())
        except (OSError, ValueError):
            return False
        return manifest.get("stats") == stats

    def build(self, dataset, size, settings, stats, on_build=None):
        """Decode and resize every pair (on threads: Pillow releases the GIL) into a new
        folder, then move it into place: a killed build never leaves a partial cache."""
        from pix2pix_k3.data.jitter import resize

        count = len(dataset.sources)
        height, width = height_width(size)
        pixels = count * height * width
        if on_build:
            on_build(self.path, count, pixels * (dataset.in_channels + dataset.out_channels) / 1e6)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.remove_abandoned_builds()
        building = self.path.with_name(f"{self.path.name}.building-{os.getpid()}")
        shutil.rmtree(building, ignore_errors=True)
        building.mkdir()
        shapes = {
            "inputs": (count, height, width, dataset.in_channels),
            "targets": (count, height, width, dataset.out_channels),
        }
        arrays = {
            name: np.lib.format.open_memmap(building / f"{name}.npy", "w+", np.uint8, shape)
            for name, shape in shapes.items()
        }

        def fill(index):
            x, y = dataset.read(index)
            dataset.check_size(index, x)
            arrays["inputs"][index] = resize(x, size, dataset.interpolation)
            arrays["targets"][index] = resize(y, size, dataset.interpolation)

        try:
            with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
                list(pool.map(fill, range(count)))
            for array in arrays.values():
                array.flush()
            arrays.clear()  # closes the memory maps before the folder moves
            manifest = {**settings, "stats": stats}
            (building / "manifest.json").write_text(json.dumps(manifest))
            shutil.rmtree(self.path, ignore_errors=True)
            try:
                os.replace(building, self.path)
            except OSError:  # another process built the same cache meanwhile
                if not self.holds(stats):
                    raise
        finally:
            shutil.rmtree(building, ignore_errors=True)
        self._arrays = None

    def remove_abandoned_builds(self):
        """Delete what builds of this cache killed before they finished left behind."""
        for leftover in self.path.parent.glob(f"{self.path.name}.building-*"):
            pid = int(leftover.name.rsplit("-", 1)[1])
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                shutil.rmtree(leftover, ignore_errors=True)
            except PermissionError:  # alive, someone else's
                pass

    def pair(self, index):
        """Pair `index` as (input, target) uint8 arrays at the cache's size."""
        if self._arrays is None:
            self._arrays = tuple(
                np.load(self.path / f"{name}.npy", mmap_mode="r") for name in ("inputs", "targets")
            )
        inputs, targets = self._arrays
        return np.asarray(inputs[index]), np.asarray(targets[index])

    def __getstate__(self):
        return {"path": self.path, "_arrays": None}
