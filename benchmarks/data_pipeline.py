"""Pairs per second of the data pipeline: decode + jitter (286 -> 256 crop + mirror).

    python benchmarks/data_pipeline.py [FOLDER]      # default: ../shared/data/facades/train

Reads every batch of one epoch through `PairDataset` as `fit` would (Keras' own
enqueuer, with 1 worker and with several threads), and prints pairs/s for each, to set
beside the train step's consumption rate (`benchmarks/train_step.py`).
"""

import argparse
import json
import os
import pathlib
import time

from pix2pix_k3.data import PairDataset

DEFAULT = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data" / "facades" / "train"


def pairs_per_second(folder, workers, batch_size=1, epochs=2):
    """Throughput over `epochs` passes through Keras' PyDataset adapter."""
    # The adapter fit itself uses (private API): it runs the worker threads and queue.
    from keras.src.trainers.data_adapters.py_dataset_adapter import PyDatasetAdapter

    dataset = PairDataset.from_folder(
        folder, batch_size=batch_size, direction="BtoA", workers=workers, max_queue_size=16
    )
    adapter = PyDatasetAdapter(dataset, shuffle=False)
    count, start = 0, time.perf_counter()
    for _ in range(epochs):
        for x, _ in adapter.get_numpy_iterator():
            count += len(x)
        adapter.on_epoch_end()
    return count / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", nargs="?", type=pathlib.Path, default=DEFAULT)
    args = parser.parse_args()
    rows = []
    for workers in sorted({1, 2, 4, os.cpu_count() or 1}):
        rate = pairs_per_second(args.folder, workers)
        rows.append({"workers": workers, "pairs_per_s": round(rate, 1)})
        print(f"workers={workers}: {rate:.1f} pairs/s (256x256, jitter from 286, {args.folder})")
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
