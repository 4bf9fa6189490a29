"""Pairs per second of the data pipeline: decode + jitter (286 -> 256 crop + mirror).

    python benchmarks/data_pipeline.py [FOLDER]      # default: ../shared/data/facades/train

Reads every batch of two epochs through `PairDataset` as `fit` would (Keras' own
enqueuer, with 1 worker and with several threads), and prints pairs/s for each, to set
beside the train step's consumption rate (`benchmarks/bench.py`). The embedded
dataset (`SyntheticFacades`, rendered instead of decoded) is measured the same way at 256
and at fit's default 64. A missing folder is skipped with a note.
"""

import argparse
import json
import os
import pathlib
import time

from pix2pix_k3.data import PairDataset, SyntheticFacades

DEFAULT = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data" / "facades" / "train"


def pairs_per_second(dataset, epochs=2):
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


def datasets(folder, workers):
    """(name, size, dataset) for each pipeline measured, with `workers` threads."""
    options = dict(batch_size=1, workers=workers, max_queue_size=16)
    if folder.is_dir():
        yield str(folder), 256, PairDataset.from_folder(folder, direction="BtoA", **options)
    else:
        print(f"{folder}: no such folder; measuring the embedded dataset only")
    for size in (256, 64):
        yield "embedded", size, SyntheticFacades(400, crop_size=size, **options)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", nargs="?", type=pathlib.Path, default=DEFAULT)
    args = parser.parse_args()
    rows = []
    for workers in sorted({1, 2, 4, os.cpu_count() or 1}):
        for name, size, dataset in datasets(args.folder, workers):
            rate = pairs_per_second(dataset)
            rows.append({"data": name, "size": size, "workers": workers, "pairs_per_s": rate})
            print(f"{name} {size}x{size}, workers={workers}: {rate:.1f} pairs/s")
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
