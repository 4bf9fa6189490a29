"""Measure a trained model: `python -m pix2pix_k3.evaluate MODEL [--data ...]`.

Translates every pair of a held-out set (no jitter, resized to the model's size) and
reports L1, PSNR and SSIM against the targets (`pix2pix_k3.metrics`): mean and standard
deviation over the pairs, as a table and as JSON (with the per-pair values).

The held-out set: `--data` (a folder, a dataset name, or `embedded`), else the run's own
test split: the embedded dataset's test split, the sibling `test/` (or `val/`) folder of
the run's training folder, or a named dataset's `test/`. A bare `.keras` file without
`--data` is evaluated on the embedded test split.
"""

import pathlib

import keras
import numpy as np

from pix2pix_k3 import cli, compile_cache, trained
from pix2pix_k3._backend import keep_tensorflow_out
from pix2pix_k3.config import ConfigError
from pix2pix_k3.data import DataError
from pix2pix_k3.data.splits import evaluation_data
from pix2pix_k3.files import RunError, check_writable, write_json
from pix2pix_k3.metrics import MEASURES

LABELS = {"l1": "L1 (in [-1, 1])", "psnr": "PSNR (dB)", "ssim": "SSIM"}


def evaluate(model, dataset, mode="eval"):
    """{measure: per-pair values} of `model` on a `PairDataset`."""
    values = {name: [] for name in MEASURES}
    for index in range(len(dataset)):
        inputs, targets = dataset[index]
        outputs = trained.translate_images(model, inputs, mode)
        for name, measure in MEASURES.items():
            values[name].extend(np.atleast_1d(measure(outputs, targets)).tolist())
    return values


def summary(values):
    return {
        name: {"mean": float(np.mean(v)), "std": float(np.std(v))} for name, v in values.items()
    }


def table(results):
    lines = [f"{'measure':<18}{'mean':>10}{'std':>10}"]
    for name, stats in results["measures"].items():
        lines.append(f"{LABELS[name]:<18}{stats['mean']:>10.4f}{stats['std']:>10.4f}")
    return "\n".join(lines)


def main(argv=None):
    args = cli.evaluate_parser().parse_args(argv)
    try:
        results = run(args)
    except (ConfigError, DataError, RunError) as error:
        raise SystemExit(f"error: {error}") from None
    print(f"{results['model']} on {results['data']} ({results['pairs']} pairs, {args.mode} mode)")
    print(table(results))
    print(f"written to {results['json']}")


def run(args):
    model, config = trained.load(args.model), trained.run_config(args.model)
    size, in_channels, out_channels = trained.image_shape(model)
    dataset = evaluation_data(
        size,
        data=args.data,
        trained_on=config and config.data,
        direction=args.direction or (config and config.direction),
        seed=config.seed if config else 0,
        batch_size=args.batch_size,
        channels=(in_channels, out_channels),
    )
    default_json = args.model / "evaluation.json" if args.model.is_dir() else "evaluation.json"
    json_path = pathlib.Path(args.json or default_json)
    check_writable(json_path.parent, "--json", json_path)
    values = evaluate(model, dataset, args.mode)
    where = getattr(dataset, "split", None)
    data = f"embedded {where} split" if where else str(pathlib.Path(dataset.describe(0)).parent)
    results = {
        "model": str(args.model),
        "data": data,
        "direction": dataset.direction,
        "pairs": len(dataset.sources),
        "mode": args.mode,
        "backend": keras.backend.backend(),
        "measures": summary(values),
        "per_pair": values,
        "json": str(json_path),
    }
    write_json(json_path, results)
    return results


if __name__ == "__main__":
    compile_cache.enable()
    keep_tensorflow_out()
    main()
