"""Pairs per second of the data pipeline, where its time goes, and how it scales with workers.

    python benchmarks/data_pipeline.py [FOLDER] [--epochs N]
    # FOLDER defaults to ../shared/data/facades/train

First the cost of each stage of one pair at 256 px with the paper's jitter (JPEG decode,
resize to 286, crop and mirror, scaling to float), on one core. Then every batch of
`--epochs` epochs read through `PairDataset` as `fit` reads it (Keras' own enqueuer), with
1, 2, 4 and all cores' worker threads, decoding every epoch and from the decode-once cache
(`pix2pix_k3.data.cache`), at batch 1 and 16: pairs/s to set beside the train step's
consumption (`benchmarks/bench.py`), and per worker, to predict a larger host. The
embedded dataset (`SyntheticFacades`, rendered instead of decoded) is measured at fit's
default 64 px. A missing folder is skipped with a note.
"""

import argparse
import json
import os
import pathlib
import tempfile
import time

import numpy as np

from pix2pix_k3.data import PairDataset, SyntheticFacades, read_pair, to_model_range
from pix2pix_k3.data.jitter import jitter_draw, resize

DEFAULT = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data" / "facades" / "train"


def pairs_per_second(dataset, epochs):
    """Throughput over `epochs` passes through Keras' PyDataset adapter."""
    # The adapter fit itself uses (private API): it runs the worker threads and queue.
    from keras.src.trainers.data_adapters.py_dataset_adapter import PyDatasetAdapter

    adapter = PyDatasetAdapter(dataset, shuffle=False)
    count, start = 0, time.perf_counter()
    for _ in range(epochs):
        for x, _ in adapter.get_numpy_iterator():
            count += len(x)
        adapter.on_epoch_end()
    return count / (time.perf_counter() - start)


def stage_costs(folder, count=100):
    """Milliseconds per pair of each stage, on one thread."""
    sources = PairDataset.from_folder(folder).sources[:count]
    costs = {}

    def timed(name, function, items):
        start = time.perf_counter()
        results = [function(item) for item in items]
        costs[name] = (time.perf_counter() - start) / len(items) * 1e3
        return results

    pairs = timed("decode", lambda s: read_pair(s, "BtoA"), sources)
    resized = timed("resize to 286", lambda p: tuple(resize(i, 286) for i in p), pairs)

    def crop(pair):
        top, left, mirrored = jitter_draw(np.random.default_rng().integers(2**31))
        window = tuple(i[top : top + 256, left : left + 256] for i in pair)
        return tuple(np.ascontiguousarray(i[:, ::-1] if mirrored else i) for i in window)

    crops = timed("draw, crop, mirror", crop, resized)
    timed("scale to float32", lambda p: tuple(to_model_range(i) for i in p), crops)
    return costs


def datasets(folder, workers, batch_size, cache_root):
    """(name, size, dataset) for each pipeline measured."""
    options = dict(batch_size=batch_size, workers=workers, max_queue_size=16)
    if folder.is_dir():
        decoded = PairDataset.from_folder(folder, direction="BtoA", **options)
        yield f"{folder.name}, decoded", 256, decoded
        cached = PairDataset.from_folder(folder, direction="BtoA", **options)
        cached.use_cache(cache_root)
        yield f"{folder.name}, cached", 256, cached
    yield "embedded", 64, SyntheticFacades(400, crop_size=64, **options)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", nargs="?", type=pathlib.Path, default=DEFAULT)
    parser.add_argument("--epochs", type=int, default=2, help="epochs read per measurement")
    args = parser.parse_args()
    rows = []
    if args.folder.is_dir():
        costs = stage_costs(args.folder)
        print("one pair, one core: " + ", ".join(f"{k} {v:.2f} ms" for k, v in costs.items()))
        rows.append({"stages_ms": costs})
    else:
        print(f"{args.folder}: no such folder; measuring the embedded dataset only")
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as cache_root:
        for batch_size in (1, 16):
            for workers in sorted({1, 2, 4, cores}):
                for name, size, data in datasets(args.folder, workers, batch_size, cache_root):
                    rate = pairs_per_second(data, args.epochs)
                    rows.append(
                        {
                            "data": name,
                            "size": size,
                            "batch_size": batch_size,
                            "workers": workers,
                            "pairs_per_s": rate,
                        }  # fmt: skip
                    )
                    print(
                        f"{name} {size}px, batch {batch_size:2d}, workers={workers:2d}: "
                        f"{rate:7.1f} pairs/s ({rate / workers:6.1f} a worker)"
                    )
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
