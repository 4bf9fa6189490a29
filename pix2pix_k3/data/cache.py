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
off. Facades' 400 training pairs take 196 MB at 286x286.

What is guaranteed:
- a folder is rebuilt when any source file changed since it was built: its size,
  modification time, inode or status-change time (the last cannot be set back, so a
  file rewritten to the same size with its time restored is seen). A file changed while
  a run is going is seen by the next run, not by this one;
- every pair's bytes are checked against the checksum taken when it was written, the
  first time a process reads it: a damaged pair is decoded from its source instead (with
  a note), and the folder is rebuilt by the next run. Cut-short files are found when the
  cache is opened, and rebuilt then;
- the files are allocated on disk before they are written (a memory-mapped file written
  onto a full disk kills the process with SIGBUS): where the room is not there, the build
  stops with an OSError and `fit` decodes every epoch instead;
- all caches together stay under `$PIX2PIX_K3_PAIR_CACHE_LIMIT` (default 10GB): a new
  one removes the least recently used others until it fits, and one larger than the
  limit is not built;
- a folder can be deleted at any time (the next run decodes again), and
  `python -m pix2pix_k3.cache list|check|clear` shows, checks and removes them.
"""

import contextlib
import errno
import hashlib
import json
import os
import pathlib
import re
import shutil
import sys
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from pix2pix_k3 import cache_home
from pix2pix_k3.paper import height_width

VARIABLE = "PIX2PIX_K3_PAIR_CACHE"
LIMIT_VARIABLE = "PIX2PIX_K3_PAIR_CACHE_LIMIT"
DEFAULT_LIMIT = "10GB"
FORMAT = 2  # bump when the files' layout changes: every older folder is then rebuilt
ARRAYS = ("inputs", "targets")
USED = "used"  # a file whose modification time is the folder's last use


class CacheError(OSError):
    """A cache that cannot be built here; the message says why and what to do."""


def folder():
    """Where caches go, or None when they are turned off."""
    return cache_home.folder(VARIABLE, "pairs")


def limit():
    """The most bytes all pair caches together may take (`$PIX2PIX_K3_PAIR_CACHE_LIMIT`:
    a number of bytes, or with a unit, such as 500MB or 10GB)."""
    text = os.environ.get(LIMIT_VARIABLE) or DEFAULT_LIMIT
    match = re.fullmatch(r"\s*([0-9.]+)\s*([KMGT]?)B?\s*", text, re.I)
    if not match:
        raise CacheError(
            f"{LIMIT_VARIABLE}={text!r} is not a size; write bytes, or a number with KB, MB, "
            "GB or TB, such as 20GB."
        )
    power = " KMGT".index(match.group(2).upper() or " ")
    return int(float(match.group(1)) * 1000**power)


def file_stats(sources):
    """[size, mtime_ns, inode, ctime_ns] of every file of every pair: what a cache is
    valid for. The status-change time moves with any write and cannot be set back."""
    stats = []
    for source in sources:
        for path in source:
            status = os.stat(path)
            stats.append([status.st_size, status.st_mtime_ns, status.st_ino, status.st_ctime_ns])
    return stats


def checksum(array):
    return zlib.crc32(np.ascontiguousarray(array).data)


def folder_bytes(path):
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file())


def caches(root):
    """The cache folders under `root` (builds under way aside), least recently used
    first; a damaged one (no manifest any more) counts as the least recent."""
    root = pathlib.Path(root)
    if not root.is_dir():
        return []
    found = [path for path in root.iterdir() if path.is_dir() and ".building-" not in path.name]
    return sorted(found, key=lambda path: last_use(path))


def last_use(path):
    if not (path / "manifest.json").is_file():
        return 0.0
    try:
        return (path / USED).stat().st_mtime
    except OSError:
        return 0.0


def make_room(root, needed, keep=None):
    """Remove the least recently used caches under `root` (never `keep`) until `needed`
    more bytes fit under the limit; refuse a cache larger than the limit itself."""
    bound = limit()
    if needed > bound:
        raise CacheError(
            f"the pair cache would take {needed / 1e9:.1f} GB, more than "
            f"{LIMIT_VARIABLE}={bound / 1e9:.1f} GB; raise it to cache this set"
        )
    others = [path for path in caches(root) if path != keep]
    total = sum(folder_bytes(path) for path in others)
    while others and total + needed > bound:
        oldest = others.pop(0)
        total -= folder_bytes(oldest)
        shutil.rmtree(oldest, ignore_errors=True)


def reserve(path):
    """Allocate the blocks of the (sparse) file `path`, so that writing it through a
    memory map cannot meet a full disk; CacheError where the room is not there."""
    size = path.stat().st_size
    with open(path, "r+b") as file:
        try:
            os.posix_fallocate(file.fileno(), 0, size)
            return
        except AttributeError:  # no posix_fallocate (macOS): count the free space instead
            pass
        except OSError as error:
            if error.errno in (errno.ENOSPC, errno.EDQUOT):
                raise CacheError(f"no room on the disk for its {size / 1e6:.0f} MB") from None
            if error.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
                raise
    if shutil.disk_usage(path.parent).free < size:
        raise CacheError(f"no room on the disk for its {size / 1e6:.0f} MB")


class PairCache:
    """One dataset's pairs at one size, as uint8 (N, H, W, C) arrays on disk.

    `PairCache.open(root, dataset, size)` returns a valid cache, building it first when
    it is missing or stale. Pickling drops the open arrays, so worker processes reopen
    them from disk instead of copying them.
    """

    def __init__(self, path):
        self.path = pathlib.Path(path)
        self._arrays = None
        self._checksums = None
        self._verified = set()
        self.damaged = False

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
        else:
            problem = cache.cut_short()
            if problem:
                note(f"the pair cache {cache.path} is damaged ({problem}); rebuilding it.")
                cache.build(dataset, size, settings, stats, on_build)
        (cache.path / USED).touch()
        return cache

    def holds(self, stats):
        """Whether the folder is complete and was built from files with these `stats`."""
        manifest = self.manifest()
        return manifest is not None and manifest.get("stats") == stats

    def manifest(self):
        try:
            return json.loads((self.path / "manifest.json").read_text())
        except (OSError, ValueError):
            return None

    def cut_short(self):
        """What is wrong with the arrays' files as files (missing, cut short), or None.
        Mapping an .npy file checks it holds all that its header says."""
        for name in ARRAYS:
            try:
                np.load(self.path / f"{name}.npy", mmap_mode="r")
            except (OSError, ValueError) as error:
                return f"{name}.npy: {error}"
        return None

    def build(self, dataset, size, settings, stats, on_build=None):
        """Decode and resize every pair (on threads: Pillow releases the GIL) into a new
        folder, then move it into place: a killed build never leaves a partial cache."""
        from pix2pix_k3.data.jitter import resize

        count = len(dataset.sources)
        height, width = height_width(size)
        pixels = count * height * width
        megabytes = pixels * (dataset.in_channels + dataset.out_channels) / 1e6
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.remove_abandoned_builds()
        make_room(self.path.parent, megabytes * 1e6, keep=self.path)
        if on_build:
            on_build(self.path, count, megabytes)
        building = self.path.with_name(f"{self.path.name}.building-{os.getpid()}")
        shutil.rmtree(building, ignore_errors=True)
        building.mkdir()
        shapes = {
            "inputs": (count, height, width, dataset.in_channels),
            "targets": (count, height, width, dataset.out_channels),
        }
        checksums = {name: [0] * count for name in ARRAYS}

        def fill(index):
            x, y = dataset.read(index)
            dataset.check_size(index, x)
            for name, image in zip(ARRAYS, (x, y), strict=True):
                arrays[name][index] = resize(image, size, dataset.interpolation)
                checksums[name][index] = checksum(arrays[name][index])

        try:
            arrays = {}
            for name, shape in shapes.items():
                arrays[name] = np.lib.format.open_memmap(
                    building / f"{name}.npy", "w+", np.uint8, shape
                )
                reserve(building / f"{name}.npy")
            with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
                list(pool.map(fill, range(count)))
            for array in arrays.values():
                array.flush()
            arrays.clear()  # closes the memory maps before the folder moves
            manifest = {**settings, "stats": stats, "checksums": checksums}
            (building / "manifest.json").write_text(json.dumps(manifest))
            shutil.rmtree(self.path, ignore_errors=True)
            try:
                os.replace(building, self.path)
            except OSError:  # another process built the same cache meanwhile
                if not self.holds(stats):
                    raise
        finally:
            arrays.clear()
            shutil.rmtree(building, ignore_errors=True)
        self._arrays = self._checksums = None
        self._verified = set()

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
        """Pair `index` as (input, target) uint8 arrays at the cache's size, or None when
        its bytes do not match their checksums (then the caller decodes it instead)."""
        if self.damaged:
            return None
        if self._arrays is None:
            self._checksums = self.manifest()["checksums"]
            self._arrays = tuple(
                np.load(self.path / f"{name}.npy", mmap_mode="r") for name in ARRAYS
            )
        x, y = (np.asarray(array[index]) for array in self._arrays)
        if index not in self._verified:
            sums = [self._checksums[name][index] for name in ARRAYS]
            if [checksum(x), checksum(y)] != sums:
                self.condemn(f"pair {index} does not match its checksum")
                return None
            self._verified.add(index)
        return x, y

    def check(self):
        """Check every pair against its checksum; the first mismatch condemns the folder.
        Returns what was wrong, or None."""
        for index in range(len(self.manifest()["checksums"]["inputs"])):
            if self.pair(index) is None:
                return f"pair {index} does not match its checksum"
        return None

    def condemn(self, problem):
        """Stop using a damaged folder and leave it for the next run to rebuild."""
        if not self.damaged:
            self.damaged = True
            with contextlib.suppress(OSError):
                (self.path / "manifest.json").unlink()
            note(
                f"the pair cache {self.path} is damaged ({problem}): this run decodes its "
                "pairs from the source files, and the next one rebuilds the cache."
            )

    def __getstate__(self):
        return {**self.__dict__, "_arrays": None, "_checksums": None, "_verified": set()}


def note(text):
    print(f"note: {text}", file=sys.stderr)
