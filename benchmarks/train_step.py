"""Median train-step time of the full pix2pix model (U-Net-256 + 70x70 PatchGAN).

    KERAS_BACKEND=jax python benchmarks/train_step.py          # one backend
    python benchmarks/train_step.py --all                      # each installed backend

Times `STEPS` steps of `fit` after `WARMUP` warm-up steps (the first includes
compilation, reported apart) at 256x256, batch 1, and prints one row per backend plus
the same figures as JSON. Each backend runs in its own process when `--all` is given.
"""

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import time

WARMUP, STEPS = 3, 10


def measure(image_size, batch_size):
    """Run warm-up + timed steps in this process; return the figures as a dict."""
    import keras
    import numpy as np

    from pix2pix_k3 import build_pix2pix

    class StepTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times = []

        def on_train_batch_begin(self, batch, logs=None):
            self.start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            float(logs["g_loss"])  # waits for the step to finish (JAX dispatches async)
            self.times.append(time.perf_counter() - self.start)

    steps = WARMUP + STEPS
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (steps * batch_size, image_size, image_size, 3)).astype("float32")
    y = rng.uniform(-1, 1, x.shape).astype("float32")
    model = build_pix2pix(image_size)
    model.compile()
    timer = StepTimer()
    model.fit(x, y, batch_size=batch_size, epochs=1, verbose=0, callbacks=[timer])
    timed = np.array(timer.times[WARMUP:])
    return {
        "backend": keras.backend.backend(),
        "image_size": image_size,
        "batch_size": batch_size,
        "first_step_s": round(timer.times[0], 3),
        "median_step_s": round(float(np.median(timed)), 3),
        "min_step_s": round(float(timed.min()), 3),
        "max_step_s": round(float(timed.max()), 3),
        "images_per_s": round(batch_size / float(np.median(timed)), 3),
        "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
    }


def run_all(args):
    rows = []
    for backend in ("jax", "tensorflow", "torch"):
        if importlib.util.find_spec(backend) is None:
            print(f"{backend}: not installed, skipped", file=sys.stderr)
            continue
        env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
        command = [
            sys.executable,
            __file__,
            "--json",
            f"--image-size={args.image_size}",
            f"--batch-size={args.batch_size}",
        ]
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return rows


def print_table(rows):
    header = ("backend", "median step", "min..max", "first step", "images/s", "peak RSS")
    print("| " + " | ".join(header) + " |\n|" + "---|" * len(header))
    for r in rows:
        print(
            f"| {r['backend']} | {r['median_step_s']:.3f} s | {r['min_step_s']:.3f}.."
            f"{r['max_step_s']:.3f} s | {r['first_step_s']:.1f} s | {r['images_per_s']:.2f} | "
            f"{r['peak_rss_gb']:.2f} GB |"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--all", action="store_true", help="every installed backend")
    parser.add_argument("--image-size", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print only the JSON row")
    args = parser.parse_args()
    if args.all:
        rows = run_all(args)
    else:
        rows = [measure(args.image_size, args.batch_size)]
        if args.json:
            print(json.dumps(rows[0]))
            return
    print(
        f"pix2pix train step, {args.image_size}x{args.image_size}, batch {args.batch_size}, "
        f"median of {STEPS} steps after {WARMUP} warm-up steps, {os.cpu_count()} CPUs"
    )
    print_table(rows)
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
