"""The decode-once pair cache: the same batches as decoding, rebuilt when a file changes."""

import errno
import os
import pathlib
import pickle
import subprocess
import sys
import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from pix2pix_k3.data import DataError, PairDataset, cache
from pix2pix_k3.data.splits import training_data

FACADES = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data" / "facades"


def write_pairs(folder, count=5, size=40, seed=0):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(count):
        a = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        b = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        Image.fromarray(np.concatenate([a, b], axis=1)).save(folder / f"{i}.png")
    return folder


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    return write_pairs(tmp_path_factory.mktemp("pairs"))


def dataset(folder, **options):
    settings = dict(batch_size=2, load_size=36, crop_size=32, seed=1)
    return PairDataset.from_folder(folder, **{**settings, **options})


def epochs(data, count=2):
    """Every batch of `count` epochs, as a fit would draw them."""
    batches = []
    for _ in range(count):
        batches += [data[i] for i in range(len(data))]
        data.on_epoch_end()
    return batches


def assert_same(first, second):
    assert len(first) == len(second)
    for (x1, y1), (x2, y2) in zip(first, second, strict=True):
        np.testing.assert_array_equal(x1, x2)
        np.testing.assert_array_equal(y1, y2)


@given(
    seed=st.integers(0, 2**16),
    batch_size=st.integers(1, 5),
    jitter=st.booleans(),
    direction=st.sampled_from(["AtoB", "BtoA"]),
    interpolation=st.sampled_from(["bicubic", "bilinear", "nearest"]),
)
def test_cached_batches_are_bit_identical_to_decoded_ones(
    pairs, tmp_path_factory, seed, batch_size, jitter, direction, interpolation
):
    options = dict(seed=seed, batch_size=batch_size, jitter=jitter, direction=direction)
    options["interpolation"] = interpolation
    cached = dataset(pairs, **options)
    cached.use_cache(tmp_path_factory.mktemp("cache"))
    assert_same(epochs(dataset(pairs, **options)), epochs(cached))


def test_keras_worker_threads_read_the_cache_in_the_same_order(pairs, tmp_path):
    from keras.src.trainers.data_adapters.py_dataset_adapter import PyDatasetAdapter

    def through_keras(data):
        adapter, batches = PyDatasetAdapter(data, shuffle=False), []
        for _ in range(2):
            batches += list(adapter.get_numpy_iterator())
            adapter.on_epoch_end()
        return batches

    threaded = dataset(pairs, workers=2)
    threaded.use_cache(tmp_path)
    assert_same(through_keras(dataset(pairs)), through_keras(threaded))


def test_a_worker_process_reopens_the_arrays_instead_of_copying_them(pairs, tmp_path):
    data = dataset(pairs)
    data.use_cache(tmp_path)
    first = data[0]
    state = pickle.dumps(data)
    assert len(state) < 20_000  # the pairs themselves are 5 * 2 * 36 * 36 * 3 bytes
    assert_same([first], [pickle.loads(state)[0]])


def built(folder, root, **options):
    """(dataset using the cache, whether opening it built it)."""
    builds = []
    data = dataset(folder, **options)
    data.use_cache(root, on_build=lambda *args: builds.append(args))
    return data, bool(builds)


def test_the_cache_is_built_once_and_rebuilt_when_a_source_file_changes(tmp_path):
    folder, root = write_pairs(tmp_path / "pairs"), tmp_path / "cache"
    first, was_built = built(folder, root, jitter=False, shuffle=False)
    assert was_built
    assert not built(folder, root, jitter=False, shuffle=False)[1]
    before = first[0][0][0].copy()
    path = folder / "0.png"
    image = np.asarray(Image.open(path))
    Image.fromarray(255 - image).save(path)
    os.utime(path, ns=(os.stat(path).st_atime_ns, os.stat(path).st_mtime_ns + 10**9))
    again, was_built = built(folder, root, jitter=False, shuffle=False)
    assert was_built
    decoded = dataset(folder, jitter=False, shuffle=False)
    np.testing.assert_array_equal(again[0][0][0], decoded[0][0][0])
    assert not np.array_equal(again[0][0][0], before)
    assert len(list(root.iterdir())) == 1  # rebuilt in place, not beside the stale one


def test_other_preprocessing_gets_a_cache_of_its_own(tmp_path):
    folder, root = write_pairs(tmp_path / "pairs"), tmp_path / "cache"
    built(folder, root)
    assert built(folder, root, direction="BtoA")[1]
    assert built(folder, root, load_size=40)[1]
    assert not built(folder, root, seed=7)[1]  # the seed only draws crops: same cache
    assert len(list(root.iterdir())) == 3


def test_a_failed_build_leaves_nothing_behind(tmp_path):
    folder, root = write_pairs(tmp_path / "pairs"), tmp_path / "cache"
    (folder / "3.png").write_bytes(b"not an image")
    with pytest.raises(DataError, match="3.png"):
        dataset(folder).use_cache(root)
    assert list(root.iterdir()) == []


def test_a_killed_build_is_cleaned_up_by_the_next(tmp_path):
    folder, root = write_pairs(tmp_path / "pairs"), tmp_path / "cache"
    data, _ = built(folder, root)
    dead = 2**22 + 12345  # above Linux's default pid_max: no such process
    leftover = data.cache.path.with_name(f"{data.cache.path.name}.building-{dead}")
    leftover.mkdir()
    (data.cache.path / "manifest.json").unlink()  # as if that build had never finished
    assert built(folder, root)[1]
    assert not leftover.exists()


def test_where_the_cache_lives(monkeypatch, tmp_path):
    monkeypatch.setenv(cache.VARIABLE, "off")
    assert cache.folder() is None
    monkeypatch.setenv(cache.VARIABLE, str(tmp_path / "here"))
    assert cache.folder() == tmp_path / "here"
    monkeypatch.delenv(cache.VARIABLE)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.folder() == tmp_path / "pix2pix_k3" / "pairs"


def config_for(folder):
    from pix2pix_k3.config import RunConfig

    return RunConfig(data=str(folder), image_size=32, load_size=36)


def test_a_run_on_a_folder_reads_its_training_pairs_from_the_cache(tmp_path, monkeypatch, capsys):
    folder = write_pairs(tmp_path / "pairs")
    monkeypatch.setenv(cache.VARIABLE, str(tmp_path / "cache"))
    train, _, _ = training_data(config_for(folder))
    assert train.cache is not None and train.cache.path.parent == tmp_path / "cache"
    assert "decoding 5 pairs once into" in capsys.readouterr().out
    monkeypatch.setenv(cache.VARIABLE, "off")
    assert training_data(config_for(folder))[0].cache is None


def test_an_unwritable_cache_falls_back_to_decoding(tmp_path, monkeypatch, capsys):
    folder = write_pairs(tmp_path / "pairs")
    blocker = tmp_path / "a file"
    blocker.write_text("")
    monkeypatch.setenv(cache.VARIABLE, str(blocker / "cache"))  # under a file: cannot exist
    train, _, _ = training_data(config_for(folder))
    assert train.cache is None
    assert "note: no pair cache" in capsys.readouterr().out
    assert train[0][0].shape[1:] == (32, 32, 3)


@pytest.mark.skipif(not FACADES.is_dir(), reason="../shared/data/facades is not here")
def test_real_facades_through_the_cache(tmp_path):
    options = dict(direction="BtoA", batch_size=4, seed=2)
    cached = PairDataset.from_folder(FACADES / "train", **options)
    cached.use_cache(tmp_path)
    plain = PairDataset.from_folder(FACADES / "train", **options)
    for index in (0, 57, 99):
        assert_same([plain[index]], [cached[index]])


# --- what the cache guarantees (issue 33) ------------------------------------------------


def cached_dataset(folder, root, **options):
    data = dataset(folder, jitter=False, shuffle=False, **options)
    data.use_cache(root)
    return data


def test_a_full_disk_at_allocation_falls_back_to_decoding_and_leaves_nothing(
    tmp_path, monkeypatch, capsys
):
    def full(fd, offset, length):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cache.os, "posix_fallocate", full)
    folder = write_pairs(tmp_path / "pairs")
    monkeypatch.setenv(cache.VARIABLE, str(tmp_path / "cache"))
    train, _, _ = training_data(config_for(folder))
    assert train.cache is None
    assert "note: no pair cache (no room on the disk for its" in capsys.readouterr().out
    assert list((tmp_path / "cache").iterdir()) == []  # no .building-PID folder
    assert train[0][0].shape[1:] == (32, 32, 3)


FILL_A_SMALL_DISK = """
import sys
from pix2pix_k3.config import RunConfig
from pix2pix_k3.data.splits import training_data
train, _, _ = training_data(RunConfig(data=sys.argv[1], image_size=128, load_size=256))
print("cache:", train.cache, "batch:", train[0][0].shape)
"""


def test_a_real_full_disk_is_met_before_the_memory_map_writes(tmp_path):
    """A 1 MB tmpfs for a 2 MB cache: once a SIGBUS (exit 135), no message."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)],
                             capture_output=True, text=True)  # fmt: skip
    if mounted.returncode:
        pytest.skip(f"cannot mount a small tmpfs here ({mounted.stderr.strip()})")
    try:
        folder = write_pairs(tmp_path / "pairs", count=5, size=128)
        env = {**os.environ, cache.VARIABLE: str(disk / "cache")}
        done = subprocess.run([sys.executable, "-c", FILL_A_SMALL_DISK, str(folder)], env=env,
                              capture_output=True, text=True, timeout=300)  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        assert "note: no pair cache (no room on the disk for its " in done.stdout
        assert "cache: None batch: (4, 128, 128, 3)" in done.stdout
        assert list((disk / "cache").iterdir()) == []
    finally:
        subprocess.run(["umount", str(disk)], check=False)


@pytest.mark.parametrize("name", ["inputs", "targets"])
def test_a_cut_short_array_is_found_when_opened_and_rebuilt(tmp_path, name, capsys):
    folder, root = write_pairs(tmp_path / "pairs"), tmp_path / "cache"
    data = cached_dataset(folder, root)
    array = data.cache.path / f"{name}.npy"
    array.write_bytes(array.read_bytes()[:-5000])
    again = cached_dataset(folder, root)
    assert f"{name}.npy" in capsys.readouterr().err and again.cache.cut_short() is None
    assert_same([dataset(folder, jitter=False, shuffle=False)[0]], [again[0]])


@pytest.mark.parametrize("name", ["inputs", "targets"])
def test_flipped_bytes_are_never_trained_on(tmp_path, name, capsys):
    """A pair whose bytes changed on disk is decoded from its source instead, with one
    note; the next run rebuilds the folder."""
    folder, root = write_pairs(tmp_path / "pairs"), tmp_path / "cache"
    data = cached_dataset(folder, root, batch_size=5)
    array = np.load(data.cache.path / f"{name}.npy", mmap_mode="r+")
    array[3, 10, 10, 0] ^= 0xFF
    array.flush()
    del array
    again = cached_dataset(folder, root, batch_size=5)
    decoded = dataset(folder, jitter=False, shuffle=False, batch_size=5)
    assert_same([decoded[0]], [again[0]])
    assert_same([decoded[0]], [again[0]])  # and again, with no second note
    assert capsys.readouterr().err.count("pair 3 does not match its checksum") == 1
    builds = []
    cached_dataset(folder, root).use_cache(root, on_build=lambda *args: builds.append(args))
    assert not builds  # the run after the damaged one rebuilt it; now it holds


def test_a_same_size_rewrite_with_its_time_restored_is_seen(tmp_path):
    folder, root = write_pairs(tmp_path / "pairs"), tmp_path / "cache"
    cached_dataset(folder, root)
    path = folder / "0.png"
    status = os.stat(path)
    image = np.asarray(Image.open(path))
    Image.fromarray(255 - image).save(path)  # PNG of noise: the same size either way
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))
    assert os.stat(path).st_size == status.st_size
    again = cached_dataset(folder, root)
    assert_same([dataset(folder, jitter=False, shuffle=False)[0]], [again[0]])


def test_caches_over_the_limit_go_least_recently_used_first(tmp_path, monkeypatch, capsys):
    root = tmp_path / "cache"
    sets = [write_pairs(tmp_path / f"set{i}", seed=i) for i in range(3)]
    first = cached_dataset(sets[0], root)
    each = cache.folder_bytes(first.cache.path)
    monkeypatch.setenv(cache.LIMIT_VARIABLE, str(int(2.5 * each)))
    second = cached_dataset(sets[1], root)
    os.utime(first.cache.path / cache.USED, (time.time() + 10,) * 2)  # used again, later
    third = cached_dataset(sets[2], root)
    assert sorted(cache.caches(root)) == sorted([first.cache.path, third.cache.path])
    assert not second.cache.path.exists()
    monkeypatch.setenv(cache.LIMIT_VARIABLE, str(each // 2))
    monkeypatch.setenv(cache.VARIABLE, str(root))
    assert training_data(config_for(write_pairs(tmp_path / "set3", seed=3)))[0].cache is None
    assert "raise it to cache this set" in capsys.readouterr().out
    monkeypatch.setenv(cache.LIMIT_VARIABLE, "lots")
    with pytest.raises(cache.CacheError, match="PIX2PIX_K3_PAIR_CACHE_LIMIT='lots' is not"):
        cache.limit()
    for text, value in [("500MB", 500 * 10**6), ("10GB", 10**10), ("1234", 1234)]:
        monkeypatch.setenv(cache.LIMIT_VARIABLE, text)
        assert cache.limit() == value


def test_the_cache_program_lists_checks_and_clears(tmp_path, monkeypatch, capsys):
    from pix2pix_k3 import cache as program

    root = tmp_path / "cache"
    monkeypatch.setenv(cache.VARIABLE, str(root))
    monkeypatch.setenv("PIX2PIX_K3_COMPILATION_CACHE", str(tmp_path / "compiled"))
    (tmp_path / "compiled").mkdir()
    folder = write_pairs(tmp_path / "pairs")
    data = cached_dataset(folder, root)
    program.main(["list"])
    out = capsys.readouterr().out
    assert f"{data.cache.path}: 5 pairs of {folder}, 0 MB, last used 20" in out
    assert "pair caches: 1 in" in out and "JAX's compiled programs:" in out
    program.main(["check"])
    assert capsys.readouterr().out == f"{data.cache.path}: ok\n"
    array = np.load(data.cache.path / "targets.npy", mmap_mode="r+")
    array[4] = 255 - array[4]
    array.flush()
    del array
    with pytest.raises(SystemExit):
        program.main(["check"])
    assert "pair 4 does not match its checksum" in capsys.readouterr().out
    program.main(["clear", "--compiled"])
    assert list(root.iterdir()) == [] and not (tmp_path / "compiled").exists()
