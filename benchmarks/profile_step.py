"""Where a torch train step's time goes: the kernels that multiply, and everything else.

    OMP_NUM_THREADS=2 python benchmarks/profile_step.py                 # batch 1 and 4
    OMP_NUM_THREADS=2 python benchmarks/profile_step.py --batch-sizes 4 --top 8

For our step on the torch backend (`train_on_batch`, the forms `pix2pix_k3.fast` chooses)
and the authors' PyTorch step (`peers.py`, where `../shared/peers` is here), each in a
process of its own on one fixed batch: the median wall time of `--steps` steps after
`--warmup` and the process's peak RSS by then (imports included: run it in a
virtual environment with torch alone to see what a torch user's process holds), then
`torch.profiler` over `--steps` more, splitting the operators' own CPU time into

- **multiply**: the convolution and matrix-product kernels (`MULTIPLY_OPS`), the FLOPs
  of the step, which oneDNN or BLAS computes for every PyTorch program alike;
- **rest**: copies, element-wise operators, normalization, the optimizer, autograd;
- **outside**: the profiled steps' wall time that no operator accounts for (Python:
  Keras' trainer and layers, the authors' modules, and the profiler's own cost).

A step cannot take less than its multiply time unless its convolutions themselves get
faster, so `multiply / the authors' wall time` is the floor of our step's ratio to
theirs with these kernels. `--top N` lists the N costliest operators of each part.
"""

import argparse
import json
import os
import pathlib
import resource
import statistics
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
MULTIPLY_OPS = {
    "aten::mkldnn_convolution",
    "aten::convolution_backward",
    "aten::_convolution",  # its own time: oneDNN's reorder of the kernel for the call
    "aten::mm",
    "aten::bmm",
    "aten::addmm",
    "aten::baddbmm",
}


def our_step(image_size, batch_size):
    """One `train_on_batch` of our model on fixed random pairs, waiting for it."""
    import numpy as np

    from pix2pix_k3 import build_pix2pix

    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (batch_size, image_size, image_size, 3)).astype("float32")
    y = rng.uniform(-1, 1, x.shape).astype("float32")
    model = build_pix2pix(image_size)
    model.compile()
    return lambda: float(model.train_on_batch(x, y, return_dict=True)["g_loss"])


def authors_step(image_size, batch_size):
    import peers

    if image_size != 256:
        raise SystemExit("the authors' unet_256 takes 256x256 images only")
    return peers.make_step("junyanz", batch_size)[0]


def split(events, steps, top):
    """(multiply ms, rest ms, the costliest operators of each) per step."""
    parts = {"multiply": {}, "rest": {}}
    for event in events:
        part = "multiply" if event.key in MULTIPLY_OPS else "rest"
        parts[part][event.key] = event.self_cpu_time_total / 1e3 / steps
    return {
        name: {
            "ms": round(sum(ops.values()), 1),
            "top": [[k, round(v, 1)] for k, v in sorted(ops.items(), key=lambda kv: -kv[1])][:top],
        }
        for name, ops in parts.items()
    }


def measure(args):
    """This process's row: wall time, then the profile, of one step."""
    import torch

    make = {"ours": our_step, "authors": authors_step}[args.worker]
    step = make(args.image_size, args.batch_size)
    times = []
    for _ in range(args.warmup + args.steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    peak_rss_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # before profiling
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as profile:
        start = time.perf_counter()
        for _ in range(args.steps):
            step()
        profiled_ms = 1e3 * (time.perf_counter() - start) / args.steps
    parts = split(profile.key_averages(), args.steps, args.top)
    outside = profiled_ms - parts["multiply"]["ms"] - parts["rest"]["ms"]
    return {
        "step": args.worker,
        "batch_size": args.batch_size,
        "wall_ms": round(1e3 * statistics.median(times[args.warmup :]), 1),
        "outside_ms": round(max(outside, 0.0), 1),
        "peak_rss_gb": round(peak_rss_gb, 3),
        **parts,
    }


def run_worker(args, worker, batch_size):
    command = [sys.executable, __file__, "--worker", worker, f"--batch-size={batch_size}"]
    command += [f"--image-size={args.image_size}", f"--warmup={args.warmup}"]
    command += [f"--steps={args.steps}", f"--top={args.top}"]
    env = {**os.environ, "KERAS_BACKEND": "torch"}
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode:
        print(f"{worker} failed:\n{done.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def print_report(rows):
    print(
        "| step | batch | wall | multiply | rest | outside | multiply / the authors' wall | RSS |"
    )
    print("|---|---|---|---|---|---|---|---|")
    authors = {r["batch_size"]: r["wall_ms"] for r in rows if r["step"] == "authors"}
    for r in rows:
        floor = authors.get(r["batch_size"])
        floor = f"{r['multiply']['ms'] / floor:.2f}x" if floor else "-"
        print(
            f"| {r['step']} | {r['batch_size']} | {r['wall_ms']:.0f} ms | "
            f"{r['multiply']['ms']:.0f} ms | {r['rest']['ms']:.0f} ms | "
            f"{r['outside_ms']:.0f} ms | {floor} | {r['peak_rss_gb']:.2f} GB |"
        )
    for r in rows:
        for part in ("multiply", "rest"):
            ops = ", ".join(f"{name} {ms:.0f}" for name, ms in r[part]["top"])
            print(f"{r['step']}, batch {r['batch_size']}, {part} (ms): {ops}")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch-sizes", default="1,4", help="comma-separated (default 1,4)")
    parser.add_argument("--image-size", type=int, default=256)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--top", type=int, default=5, help="operators listed per part")
    parser.add_argument("--no-peers", action="store_true", help="our step only")
    parser.add_argument("--worker", choices=("ours", "authors"), help=argparse.SUPPRESS)
    parser.add_argument("--batch-size", type=int, default=1, help=argparse.SUPPRESS)
    return parser.parse_args()


def main():
    args = parse_args()
    if args.worker:
        print(json.dumps(measure(args)))
        return
    import peers

    workers = ["ours"]
    if not args.no_peers and "junyanz" in peers.available():
        workers.append("authors")
    elif not args.no_peers:
        print(f"the authors' code is not here ({peers.PEERS}): our step only", file=sys.stderr)
    rows = [
        run_worker(args, worker, int(batch))
        for batch in args.batch_sizes.split(",")
        for worker in workers
    ]
    print_report([r for r in rows if r])


if __name__ == "__main__":
    main()
