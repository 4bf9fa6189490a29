"""Speed of pix2pix_k3 beside plain TensorFlow and plain PyTorch: one table, one JSON.

    python benchmarks/bench.py                          # the current KERAS_BACKEND
    python benchmarks/bench.py --backends jax,tensorflow,torch --out bench.json
    python benchmarks/bench.py --batch-sizes 1,64 --dtype-policy mixed_bfloat16   # a GPU

For the full model (U-Net-256 + 70x70 PatchGAN) at `--image-size` (256), it measures:

- our train step through `fit`, per backend and batch size: median, min and max of
  `--steps` steps after `--warmup` steps, the first step (compilation included) apart,
  images/s, peak host RSS and peak device memory where the backend reports it;
- the same architecture's step written without this library, in plain TensorFlow
  (`reference_tf.py`, the TensorFlow tutorial's `tf.function` step) and plain PyTorch
  (`reference_torch.py`, the PyTorch reference's eager step), and our step's ratio to each;
- the peers' own steps where `../shared/peers` is here (`peers.py`: the authors'
  `Pix2PixModel.optimize_parameters` and the TensorFlow tutorial's `train_step`), and
  our step's ratio to each; `--rounds N` repeats the whole sequence, interleaved, and
  reports each measurement's median round;
- FLOPs per step from the layer shapes (`flops.py`), achieved FLOP/s, and that as a
  fraction of a matmul peak measured on the same device by the same backend;
- the data pipeline's pairs/s (`data_pipeline.py`'s pipelines: facades decoded every epoch
  and from the decode-once cache at 256, the embedded set at 64), one worker;
- which convolution forms ran (`pix2pix_k3.fast`; `PIX2PIX_K3_FORMS=keras|fast` before the
  command measures Keras' own or the fast forms instead of the default choice).

Each measurement runs in its own process, so that peak RSS is its own.
"""

import argparse
import functools
import importlib.metadata
import importlib.util
import json
import os
import pathlib
import platform
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np
from flops import step_flops

HERE = pathlib.Path(__file__).resolve().parent
FACADES = HERE.parents[1] / "shared" / "data" / "facades" / "train"
BACKENDS = ("jax", "tensorflow", "torch")


def timings(times, warmup, batch_size):
    """Summary of per-step wall times: first step apart, the rest after warm-up."""
    timed = np.array(times[warmup:])
    median = float(np.median(timed))
    return {
        "first_step_s": round(times[0], 3),
        "median_step_s": round(median, 4),
        "min_step_s": round(float(timed.min()), 4),
        "max_step_s": round(float(timed.max()), 4),
        "images_per_s": round(batch_size / median, 3),
    }


def peak_rss_gb():
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 3)


def matmul_peak(backend, dtype="float32", n=2048, repeats=10):
    """FLOP/s of an n x n matmul on the backend's default device (median of repeats)."""
    from keras import ops

    a = ops.convert_to_tensor(np.random.default_rng(0).normal(size=(n, n)), dtype=dtype)
    b = ops.convert_to_tensor(np.random.default_rng(1).normal(size=(n, n)), dtype=dtype)
    multiply = ops.matmul
    if backend == "jax":
        import jax

        multiply = jax.jit(ops.matmul)
    elif backend == "tensorflow":
        import tensorflow as tf

        multiply = tf.function(ops.matmul)
    times = []
    for _ in range(repeats + 2):
        start = time.perf_counter()
        ops.convert_to_numpy(ops.cast(ops.sum(multiply(a, b)), "float32"))  # waits
        times.append(time.perf_counter() - start)
    return 2 * n**3 / float(np.median(times[2:]))


def device_memory_gb(backend):
    """Peak accelerator memory in GB where the backend reports it, else None (CPU)."""
    if backend == "jax":
        import jax

        stats = jax.devices()[0].memory_stats() or {}
        peak = stats.get("peak_bytes_in_use")
    elif backend == "torch":
        import torch

        peak = torch.cuda.max_memory_allocated() if torch.cuda.is_available() else None
    else:
        import tensorflow as tf

        gpus = tf.config.list_logical_devices("GPU")
        peak = tf.config.experimental.get_memory_info(gpus[0].name)["peak"] if gpus else None
    return None if peak is None else round(peak / 1e9, 3)


def measure_ours(args):
    """Our step through `fit`, in this process (KERAS_BACKEND chooses the backend)."""
    import flops
    import keras

    from pix2pix_k3 import build_pix2pix, fast

    if args.dtype_policy:
        keras.config.set_dtype_policy(args.dtype_policy)

    class StepTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times = []

        def on_train_batch_begin(self, batch, logs=None):
            self.start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            float(logs["g_loss"])  # waits for the step (JAX and torch dispatch async)
            self.times.append(time.perf_counter() - self.start)

    size, batch = args.image_size, args.batch_size
    steps = args.warmup + args.steps
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (steps * batch, size, size, 3)).astype("float32")
    y = rng.uniform(-1, 1, x.shape).astype("float32")
    model = build_pix2pix(size)
    model.compile()
    timer = StepTimer()
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0, callbacks=[timer])
    backend = keras.backend.backend()
    g_flops, d_flops = flops.forward_flops(model)
    compute = keras.config.dtype_policy().compute_dtype
    return {
        "kind": "ours",
        "backend": backend,
        "dtype_policy": keras.config.dtype_policy().name,
        "forms": fast.describe(),
        "batch_size": batch,
        **timings(timer.times, args.warmup, batch),
        "forward_gflop": [round(g_flops / 1e9, 3), round(d_flops / 1e9, 3)],
        "step_gflop": round(flops.step_flops(g_flops, d_flops, batch) / 1e9, 2),
        "matmul_peak_gflops": round(matmul_peak(backend, compute) / 1e9, 1),
        "peak_rss_gb": peak_rss_gb(),
        "device_memory_gb": device_memory_gb(backend),
    }


def measure_step(args, step, counts, kind, backend, step_form):
    """The row of a step written without this library (FLOPs are filled in later)."""
    times = []
    for _ in range(args.warmup + args.steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return {
        "kind": kind,
        "backend": backend,
        "dtype_policy": "float32",
        "batch_size": args.batch_size,
        "parameters": counts,
        **timings(times, args.warmup, args.batch_size),
        "step_form": step_form,
        "peak_rss_gb": peak_rss_gb(),
    }


def measure_reference(args, name):
    """A plain-framework reference step, in this process."""
    module = __import__(f"reference_{name}")
    step, counts = module.make_step(args.image_size, args.batch_size)
    tf = name == "tf"
    kind = f"plain {'TensorFlow' if tf else 'PyTorch'}"
    backend, form = ("tensorflow", "tutorial") if tf else ("torch", "alternating")
    return measure_step(args, step, counts, kind, backend, form)


def measure_peer(args, name):
    """A peer's own step (`peers.py`), in this process."""
    import peers

    step, counts = peers.make_step(name, args.batch_size)
    form = "tutorial" if name == "tf_tutorial" else "alternating"
    return measure_step(args, step, counts, PEER_KINDS[name], peers.NAMES[name], form)


PEER_KINDS = {"junyanz": "authors' PyTorch", "tf_tutorial": "TF tutorial"}


def median_rounds(rows):
    """One row per measurement: the round with the median median step (of an even number
    of rounds, the faster middle one); `rounds` lists every round's median."""
    groups = {}
    for row in rows:
        key = (row["kind"], row["backend"], row["dtype_policy"], row["batch_size"])
        groups.setdefault(key, []).append(row)
    chosen = []
    for group in groups.values():
        group.sort(key=lambda r: r["median_step_s"])
        row = dict(group[(len(group) - 1) // 2])
        row["rounds"] = [r["median_step_s"] for r in group]
        chosen.append(row)
    return chosen


def measure_data(args):
    """Pairs/s of the data pipelines `data_pipeline.py` measures, one worker, batch 1."""
    from data_pipeline import datasets, pairs_per_second

    rows = []
    with tempfile.TemporaryDirectory() as cache_root:
        for name, size, dataset in datasets(FACADES, 1, 1, pathlib.Path(cache_root)):
            rate = pairs_per_second(dataset, epochs=2)
            rows.append({"data": f"{name} {size} px", "pairs_per_s": round(rate, 1)})
    return {"kind": "data", "rows": rows}


def run_worker(args, worker, backend=None, batch_size=None):
    """Run one measurement in a child process; return its JSON row (None if it failed)."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    if backend:
        env["KERAS_BACKEND"] = backend
    command = [sys.executable, __file__, "--worker", worker]
    command += [f"--image-size={args.image_size}", f"--warmup={args.warmup}"]
    command += [f"--steps={args.steps}", f"--batch-size={batch_size or 1}"]
    if args.dtype_policy:
        command.append(f"--dtype-policy={args.dtype_policy}")
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode:
        print(f"{worker} {backend or ''} failed:\n{done.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def ratio(row, reference):
    if not reference:
        return "-"
    return f"{row['median_step_s'] / reference['median_step_s']:.2f}x"


def print_report(report):
    rows, data = report["steps"], report["data"]
    print(f"\n{report['title']}\n")
    header = "| step | backend | batch | median | min..max | first | images/s | GFLOP | "
    header += "GFLOP/s | of matmul peak | vs plain TF | vs plain PyTorch | "
    rows = sorted(rows, key=lambda r: (r["batch_size"], r["kind"] != "ours"))
    peer_kinds = [k for k in PEER_KINDS.values() if any(r["kind"] == k for r in rows)]
    header += "".join(f"vs {kind} | " for kind in peer_kinds) + "RSS | device mem |"
    print(header + "\n|" + "---|" * (header.count("|") - 1))
    refs = {(r["kind"], r["batch_size"]): r for r in rows if r["kind"] != "ours"}
    peaks = {r["backend"]: r["matmul_peak_gflops"] for r in rows if r.get("matmul_peak_gflops")}
    for r in rows:
        achieved = r["step_gflop"] / r["median_step_s"]
        peak = r.get("matmul_peak_gflops") or peaks.get(r["backend"])
        ours = r["kind"] == "ours"
        tf_ref = refs.get(("plain TensorFlow", r["batch_size"])) if ours else None
        torch_ref = refs.get(("plain PyTorch", r["batch_size"])) if ours else None
        mem = r.get("device_memory_gb")
        print(
            f"| {r['kind']} | {r['backend']} ({r['dtype_policy']}) | {r['batch_size']} | "
            f"{r['median_step_s']:.3f} s | {r['min_step_s']:.3f}..{r['max_step_s']:.3f} | "
            f"{r['first_step_s']:.1f} s | {r['images_per_s']:.2f} | {r['step_gflop']:.1f} | "
            f"{achieved:.1f} | {f'{achieved / peak:.0%}' if peak else '-'} | "
            f"{ratio(r, tf_ref)} | {ratio(r, torch_ref)} | "
            + "".join(
                f"{ratio(r, refs.get((k, r['batch_size'])) if ours else None)} | "
                for k in peer_kinds
            )
            + f"{r['peak_rss_gb']:.2f} GB | "
            f"{f'{mem:.2f} GB' if mem is not None else '-'} |"
        )
    peaks = {r["backend"]: r["matmul_peak_gflops"] for r in rows if r.get("matmul_peak_gflops")}
    print(
        "\nmatmul peak (2048x2048): " + ", ".join(f"{b} {p:.0f} GFLOP/s" for b, p in peaks.items())
    )
    forms = sorted({r["forms"] for r in rows if r.get("forms")})
    print("convolution forms that ran: " + "; ".join(forms))
    if data:
        print(
            "data pipeline, 1 worker, batch 1: "
            + ", ".join(f"{d['data']} {d['pairs_per_s']:.0f} pairs/s" for d in data["rows"])
        )


def plan(args):
    """(worker, KERAS_BACKEND, batch size) of each measurement, in the order they run."""
    import peers

    backends = (args.backends or os.environ.get("KERAS_BACKEND") or "jax").split(",")
    installed = [b for b in backends if importlib.util.find_spec(b)]
    peer_names = [] if args.no_peers else peers.available()
    for _ in range(args.rounds):
        for batch_size in (int(b) for b in args.batch_sizes.split(",")):
            for backend in installed:
                yield "ours", backend, batch_size
            if not args.no_references:
                for name, needs in (("tf", "tensorflow"), ("torch", "torch")):
                    if importlib.util.find_spec(needs):
                        yield name, needs, batch_size
            for name in peer_names:
                if importlib.util.find_spec(peers.NAMES[name]):
                    # its framework's backend: the TF tutorial's tf.keras is Keras 3
                    yield f"peer_{name}", peers.NAMES[name], batch_size


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default=None, help="comma-separated; default: the current")
    parser.add_argument("--batch-sizes", default="1,4", help="comma-separated (default 1,4)")
    parser.add_argument("--image-size", type=int, default=256)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--dtype-policy", default=None, help="e.g. mixed_bfloat16 (ours only)")
    parser.add_argument("--no-references", action="store_true", help="skip plain TF / PyTorch")
    parser.add_argument("--no-peers", action="store_true", help="skip the peers' own steps")
    parser.add_argument("--rounds", type=int, default=1, help="repeat everything, interleaved")
    parser.add_argument("--out", type=pathlib.Path, default=pathlib.Path("bench.json"))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--batch-size", type=int, default=1, help=argparse.SUPPRESS)
    return parser.parse_args()


def main():
    args = parse_args()
    if args.worker:
        measure = {
            "ours": measure_ours,
            "tf": lambda a: measure_reference(a, "tf"),
            "torch": lambda a: measure_reference(a, "torch"),
            "data": measure_data,
            **{f"peer_{name}": functools.partial(measure_peer, name=name) for name in PEER_KINDS},
        }[args.worker]
        print(json.dumps(measure(args)))
        return

    rows = [run_worker(args, *measurement) for measurement in plan(args)]
    rows = median_rounds([r for r in rows if r])
    ours = next((r for r in rows if r and r["kind"] == "ours"), None)
    for row in rows:
        if row and ours and "step_gflop" not in row:  # same architecture as ours
            g_flops, d_flops = (1e9 * f for f in ours["forward_gflop"])
            form = row["step_form"]
            row["step_gflop"] = round(
                step_flops(g_flops, d_flops, row["batch_size"], form) / 1e9, 2
            )
    report = {
        "title": (
            f"pix2pix train step, U-Net-256 + 70x70 PatchGAN, {args.image_size}x"
            f"{args.image_size}, median of {args.steps} steps after {args.warmup}; "
            f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"
        ),
        "date": time.strftime("%Y-%m-%d"),
        "versions": versions(),
        "steps": [r for r in rows if r],
        "data": run_worker(args, "data"),
    }
    print_report(report)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"\nwritten: {args.out}")


def versions():
    found = {}
    for name in ("keras", "jax", "tensorflow-cpu", "tensorflow", "torch", "numpy"):
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return found


if __name__ == "__main__":
    main()
