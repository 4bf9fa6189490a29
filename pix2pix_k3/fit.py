"""Train pix2pix: `KERAS_BACKEND=jax python -m pix2pix_k3.fit` (or tensorflow, torch).

With no arguments it trains a small model on the embedded facade-like pairs, rendered
on the fly from the seed (`pix2pix_k3.data.synthetic`; no download), for a few minutes on
a laptop CPU, then writes the trained model and a picture of
input | target | output for held-out pairs into a run folder. `--data FOLDER` trains on
real pairs instead: a folder of A|B side-by-side images (the facades layout), or one with
`A/` and `B/` subfolders; a sibling `test/` or `val/` folder gives the sample pairs.
`--data facades` (or another name in `pix2pix_k3.data.download.DATASETS`) downloads that
set once into the Keras cache and trains on its train/ split.
"""

import argparse
import pathlib
import time

import keras
import numpy as np
from PIL import Image

from pix2pix_k3.data import DataError, PairDataset, SyntheticFacades, to_uint8
from pix2pix_k3.data.download import DATASETS, dataset_folder
from pix2pix_k3.discriminator import N_LAYERS
from pix2pix_k3.generator import check_image_size, default_depth
from pix2pix_k3.losses import GAN_MODES, OBJECTIVES
from pix2pix_k3.model import build_pix2pix


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m pix2pix_k3.fit",
        description="Train pix2pix (CPU-sized defaults; paper values in brackets).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--data",
        default=None,
        help=f"folder of training pairs, or a dataset name ({', '.join(DATASETS)}); "
        "default: embedded facade-like pairs rendered on the fly",
    )
    parser.add_argument(
        "--direction",
        choices=("AtoB", "BtoA"),
        default=None,
        help="which half is the input (default: the named dataset's, else AtoB)",
    )
    parser.add_argument("--image-size", type=int, default=64, help="side of the images [256]")
    parser.add_argument(
        "--load-size",
        type=int,
        default=None,
        help="resize before the random crop (default: image size * 286/256) [286 for 256]",
    )
    parser.add_argument(
        "--pairs", type=int, default=256, help="embedded pairs to render (without --data)"
    )
    parser.add_argument("--epochs", type=int, default=10, help="passes over the pairs [200]")
    parser.add_argument("--batch-size", type=int, default=4, help="pairs per step [1]")
    parser.add_argument("--ngf", type=int, default=32, help="generator width [64]")
    parser.add_argument("--ndf", type=int, default=32, help="discriminator width [64]")
    parser.add_argument("--lambda-l1", type=float, default=100.0, help="weight of L1 [100]")
    parser.add_argument("--loss", choices=OBJECTIVES, default="l1+cgan", help="objective")
    parser.add_argument(
        "--patch",
        type=int,
        choices=sorted(N_LAYERS),
        default=70,
        help="PatchGAN receptive field [70]",
    )
    parser.add_argument("--gan-mode", choices=GAN_MODES, default="vanilla", help="GAN loss")
    parser.add_argument("--seed", type=int, default=0, help="seed for data and weights")
    parser.add_argument(
        "--out", type=pathlib.Path, default=None, help="run folder (default: runs/<time>)"
    )
    return parser.parse_args(argv)


def training_data(args):
    """(fit's data keyword arguments, (sample inputs, sample targets), a description)."""
    size = args.image_size
    load_size = args.load_size or round(size * 286 / 256)
    if args.data is None:
        common = dict(direction=args.direction or "AtoB", crop_size=size, seed=args.seed)
        train = SyntheticFacades(
            args.pairs, batch_size=args.batch_size, load_size=load_size, **common
        )
        samples = SyntheticFacades(
            4, split="val", batch_size=4, jitter=False, shuffle=False, **common
        )[0]
        return {"x": train}, samples, f"{args.pairs} embedded facade-like pairs"
    folder, direction = resolve_data(args.data, args.direction)
    common = dict(direction=direction, crop_size=size, seed=args.seed)
    train = PairDataset.from_folder(
        folder, batch_size=args.batch_size, load_size=load_size, **common
    )
    siblings = [folder.parent / name for name in ("val", "test")]
    held_out = next((sibling for sibling in siblings if sibling.is_dir()), folder)
    samples = PairDataset.from_folder(
        held_out, batch_size=4, load_size=size, jitter=False, shuffle=False, **common
    )[0]
    return {"x": train}, samples, f"{len(train.sources)} pairs from {folder}"


def resolve_data(data, direction):
    """(training folder, direction) for `--data`: an existing folder or a dataset name."""
    path = pathlib.Path(data)
    if path.exists() or data not in DATASETS:
        if not path.is_dir():
            raise DataError(
                f"--data {data}: no such folder, and not a dataset name ({', '.join(DATASETS)})."
            )
        return path, direction or "AtoB"
    return dataset_folder(data) / "train", direction or DATASETS[data].direction


def sample_grid(model, inputs, targets):
    """Rows of input | target | output (eval mode) as one uint8 image."""
    outputs = keras.ops.convert_to_numpy(model.translate(inputs, mode="eval"))
    rows = [np.concatenate(triple, axis=1) for triple in zip(inputs, targets, outputs, strict=True)]
    return Image.fromarray(to_uint8(np.concatenate(rows, axis=0)))


def check_args(args):
    """Refuse, before any work, settings that cannot make a model or a batch."""
    try:
        check_image_size(args.image_size, default_depth(args.image_size))
    except ValueError as error:
        raise DataError(f"--image-size: {error}") from None
    if args.load_size is not None and args.load_size < args.image_size:
        raise DataError(
            f"--load-size {args.load_size} is smaller than --image-size {args.image_size}: "
            "the random crop must fit inside the resized image."
        )


def main(argv=None):
    args = parse_args(argv)
    try:
        check_args(args)
        run(args)
    except DataError as error:
        raise SystemExit(f"error: {error}") from None


def run(args):
    keras.utils.set_random_seed(args.seed)
    train, (x_val, y_val), description = training_data(args)
    out = args.out or pathlib.Path("runs") / time.strftime("%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    model = build_pix2pix(
        args.image_size,
        objective=args.loss,
        receptive_field=args.patch,
        ngf=args.ngf,
        ndf=args.ndf,
        lambda_l1=args.lambda_l1,
        gan_mode=args.gan_mode,
    )
    model.compile()
    print(
        f"backend {keras.backend.backend()}: {description} at {args.image_size}px, "
        f"{args.epochs} epochs, writing to {out}"
    )
    model.fit(**train, epochs=args.epochs, validation_data=(x_val, y_val), verbose=2)

    model.save(out / "pix2pix.keras")
    sample_grid(model, x_val, y_val).save(out / "samples.png")
    print(f"saved {out / 'pix2pix.keras'}; open {out / 'samples.png'} (input | target | output)")


if __name__ == "__main__":
    main()
