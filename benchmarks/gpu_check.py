"""The device check: what pix2pix_k3 does on this machine's accelerator, in one command.

    python benchmarks/gpu_check.py                       # on a GPU host (at most 8 minutes)
    python benchmarks/gpu_check.py --dry-run             # anywhere: tiny sizes, a minute or two

For each installed backend (jax and torch, and tensorflow where it installs), each in
processes of its own, it prints:

- the device the backend computes on, and which convolution forms ran (`pix2pix_k3.fast`);
- parity: one train step from NumPy-made weights (`pix2pix_k3.parity`) on the
  device and on the CPU (the same script with the accelerator hidden), the largest
  weight difference beside a typical step's size;
- the train step at batch 1 and 64 (256 px), float32 and mixed_bfloat16: median step,
  images/s, the fraction of a matmul peak measured on the same device, peak device memory
  (`benchmarks/bench.py` measures each);
- the data pipeline's pairs/s with all the host's cores, decoding JPEG pairs every epoch
  and from the decode-once cache, beside what the fastest step consumes.

`--dry-run` runs the same code at 32 px, batches 1 and 2, two steps: CI runs it on its CPU
so that the check is ready the day a GPU is lent. `--out FILE` also writes the figures as
JSON.

Keras is not installed on the lent GPU machines; carry it as wheels (see
../.library/device/README.md): keras and what it needs there (namex, optree), downloaded
here with `pip download --no-deps --only-binary=:all: --python-version 3.12 ...`.
"""

import argparse
import importlib.util
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time
import types

HERE = pathlib.Path(__file__).resolve().parent
BACKENDS = ("jax", "torch", "tensorflow")
POLICIES = ("float32", "mixed_bfloat16")
HIDE_ACCELERATORS = {"CUDA_VISIBLE_DEVICES": "", "JAX_PLATFORMS": "cpu"}


def scale(dry_run):
    """Image size, batch sizes, warm-up and timed steps, data pairs: full or dry run."""
    if dry_run:
        return {"image_size": 32, "batch_sizes": (1, 2), "warmup": 1, "steps": 2, "pairs": 16}
    return {"image_size": 256, "batch_sizes": (1, 64), "warmup": 3, "steps": 10, "pairs": 256}


def child(arguments, backend=None, extra_env=None, timeout=600):
    """Run this script (or another) in a fresh process; its last stdout line as JSON."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(extra_env or {})}
    if backend:
        env["KERAS_BACKEND"] = backend
    done = subprocess.run(
        [sys.executable, *arguments], env=env, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "?"}
    return json.loads(done.stdout.strip().splitlines()[-1])


def device_name(backend):
    """The device the backend computes on by default, in its own words."""
    if backend == "jax":
        import jax

        device = jax.devices()[0]
        return f"{device.platform}: {getattr(device, 'device_kind', device)}"
    if backend == "torch":
        import torch

        if torch.cuda.is_available():
            return f"cuda: {torch.cuda.get_device_name(0)}"
        return "cpu"
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        return f"gpu: {details.get('device_name', gpus[0].name)}"
    return "cpu"


def steps_worker(options):
    """Every step measurement of one backend and one dtype policy, in this process."""
    import bench
    import keras

    from pix2pix_k3 import fast

    rows = []
    for batch_size in options["batch_sizes"]:
        keras.backend.clear_session()
        args = types.SimpleNamespace(
            image_size=options["image_size"],
            batch_size=batch_size,
            warmup=options["warmup"],
            steps=options["steps"],
            dtype_policy=options["policy"],
        )
        rows.append(bench.measure_ours(args))
    backend = keras.backend.backend()
    return {"device": device_name(backend), "forms": fast.describe(), "rows": rows}


def parity(backend, folder):
    """Largest weight difference of one step on the device and on the CPU."""
    import numpy as np

    results = {}
    for where, env in (("device", {}), ("cpu", HIDE_ACCELERATORS)):
        out = pathlib.Path(folder) / f"{backend}_{where}.npz"
        script = f"import runpy, sys; sys.argv = ['', {str(out)!r}]; "
        script += "runpy.run_module('pix2pix_k3.parity', run_name='__main__'); print('{}')"
        done = child(["-c", script], backend, env)
        if "error" in done:
            return {"error": f"{where}: {done['error']}"}
        results[where] = np.load(out)
    device, cpu = results["device"], results["cpu"]
    weights = [k for k in device.files if k[0].isdigit()]
    worst = max(float(np.max(np.abs(device[k] - cpu[k]))) for k in weights)
    typical = float(
        np.median([np.median(np.abs(device[k] - device[f"initial:{k}"])) for k in weights])
    )
    losses = {k: [float(device[k]), float(cpu[k])] for k in device.files if k.startswith("loss:")}
    return {"largest_weight_difference": worst, "typical_step": typical, "losses": losses}


def jpeg_pairs(folder, count, size):
    """`count` side-by-side facade-like pairs as JPEG files, as facades ships them."""
    import numpy as np
    from PIL import Image

    from pix2pix_k3.data.synthetic import synthetic_pair

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        pair = np.concatenate(synthetic_pair([9, i], size), axis=1)
        Image.fromarray(pair).save(folder / f"{i}.jpg", quality=95)
    return folder


def data_worker(options):
    """Pairs/s of JPEG pairs decoded every epoch and cached, with all the host's cores."""
    from data_pipeline import pairs_per_second

    from pix2pix_k3.data import PairDataset
    from pix2pix_k3.paper import load_size_for

    size, cores = options["image_size"], os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as scratch:
        folder = jpeg_pairs(pathlib.Path(scratch) / "pairs", options["pairs"], size)
        common = dict(load_size=load_size_for(size), crop_size=size, max_queue_size=32)
        rows = []
        for workers in sorted({1, cores}):
            for cached in (False, True):
                data = PairDataset.from_folder(folder, batch_size=1, workers=workers, **common)
                if cached:
                    data.use_cache(pathlib.Path(scratch) / "cache")
                rate = pairs_per_second(data, epochs=2)
                rows.append({"workers": workers, "cached": cached, "pairs_per_s": round(rate, 1)})
    return {"cores": cores, "rows": rows}


def report_backend(backend, runs, checked):
    """Print one backend's section; return its fastest images/s."""
    first = next((r for r in runs.values() if "rows" in r), None)
    if first is None:
        print(f"\n{backend}: failed: {next(iter(runs.values())).get('error')}")
        return 0.0
    print(f"\n{backend} on {first['device']}; convolution forms: {first['forms']}")
    if "error" in checked:
        print(f"  parity with the CPU: failed ({checked['error']})")
    else:
        print(
            f"  parity with the CPU, one step: largest weight difference "
            f"{checked['largest_weight_difference']:.1e} (a typical step moves a weight "
            f"{checked['typical_step']:.1e})"
        )
    fastest = 0.0
    for policy, run in runs.items():
        if "error" in run:
            print(f"  {policy}: failed ({run['error']})")
            continue
        for row in run["rows"]:
            peak = row["matmul_peak_gflops"]
            share = row["step_gflop"] / row["median_step_s"] / peak
            memory = row["device_memory_gb"]
            memory = "-" if memory is None else f"{memory:.2f} GB"
            print(
                f"  {policy:15s} batch {row['batch_size']:3d}: "
                f"{row['median_step_s'] * 1e3:8.1f} ms a step, {row['images_per_s']:8.1f} "
                f"images/s, {share:5.1%} of the matmul peak ({peak:.0f} GFLOP/s), device "
                f"memory {memory}, first step {row['first_step_s']:.1f} s"
            )
            fastest = max(fastest, row["images_per_s"])
    return fastest


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="tiny sizes, for a CPU (CI)")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="comma-separated")
    parser.add_argument("--out", type=pathlib.Path, help="also write the figures as JSON")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--options", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        options = json.loads(args.options)
        print(json.dumps({"steps": steps_worker, "data": data_worker}[args.worker](options)))
        return 0

    start = time.perf_counter()
    sizes = scale(args.dry_run)
    wanted = [b for b in args.backends.split(",") if b]
    installed = [b for b in wanted if importlib.util.find_spec(b)]
    missing = sorted(set(wanted) - set(installed))
    print(f"device check ({'dry run, ' if args.dry_run else ''}{sizes['image_size']} px); "
          f"backends {', '.join(installed) or 'none'}"
          + (f" ({', '.join(missing)} not installed)" if missing else ""))  # fmt: skip
    figures = {"scale": sizes, "backends": {}}
    fastest = {}
    with tempfile.TemporaryDirectory() as folder:
        for backend in installed:
            runs = {}
            for policy in POLICIES:
                options = json.dumps({**sizes, "policy": policy})
                runs[policy] = child([__file__, "--worker", "steps", "--options", options], backend)
            checked = parity(backend, folder)
            figures["backends"][backend] = {"steps": runs, "parity": checked}
            fastest[backend] = report_backend(backend, runs, checked)
    data = child(
        [__file__, "--worker", "data", "--options", json.dumps(sizes)],
        "torch" if "torch" in installed else None,
    )
    figures["data"] = data
    if "rows" in data:
        rates = ", ".join(
            f"{r['pairs_per_s']:.0f} pairs/s {'cached' if r['cached'] else 'decoded'} with "
            f"{r['workers']} worker(s)"
            for r in data["rows"]
        )
        need = max(fastest.values(), default=0.0)
        print(f"\ndata pipeline, {sizes['image_size']} px JPEG pairs with the paper's jitter, "
              f"{data['cores']} cores: {rates}; the fastest step above consumes {need:.0f} "
              "pairs/s")  # fmt: skip
    else:
        print(f"\ndata pipeline: failed ({data.get('error')})")
    seconds = time.perf_counter() - start
    print(f"\ndone in {seconds:.0f} s")
    if args.out:
        args.out.write_text(json.dumps(figures, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
