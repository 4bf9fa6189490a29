"""Which pairs a run trains, validates and is evaluated on, from its configuration.

`data` is None (the embedded facade-like pairs), a folder, or a dataset name. A folder
is the training split; its held-out split is a sibling `val/` or `test/` folder (in that
order for validation, the reverse for evaluation). A dataset root, a folder holding
`train/` (the layout the PyTorch reference takes as `--dataroot`), means its `train/`.
A dataset name means its `train/` folder in the Keras cache, and the dataset's own
direction unless one is given.
"""

import pathlib

from pix2pix_k3.data import cache
from pix2pix_k3.data.dataset import PairDataset
from pix2pix_k3.data.download import dataset_folder
from pix2pix_k3.data.images import DataError, image_files_in
from pix2pix_k3.data.synthetic import SyntheticFacades
from pix2pix_k3.paper import DATASETS, DIRECTIONS

EMBEDDED_HELD_OUT = 32  # pairs of the embedded val and test splits
DEFAULT_DIRECTION = DIRECTIONS[0]  # AtoB: a folder's, and the embedded pairs'


def training_folder(data, direction=None):
    """(training folder, direction) for `--data`: an existing folder or a dataset name."""
    path = pathlib.Path(data)
    if path.exists() or data not in DATASETS:
        if path.is_file():
            raise DataError(
                f"--data {data} is a file; --data takes the folder that holds the pairs "
                f"(here perhaps {path.parent})."
            )
        if not path.is_dir():
            raise DataError(
                f"--data {data}: no such folder, and not a dataset name ({', '.join(DATASETS)})."
            )
        return dataset_root_train(path), direction or DEFAULT_DIRECTION
    return dataset_folder(data) / "train", direction or DATASETS[data].direction


def dataset_root_train(path):
    """`path/train` when `path` is a dataset root (a `train/` and no pairs of its own)."""
    own = (path / "A").is_dir() or bool(image_files_in(path))
    return path / "train" if (path / "train").is_dir() and not own else path


def held_out_folder(train_folder, order=("val", "test")):
    """The first sibling of `train_folder` named in `order` that exists, else None."""
    siblings = [train_folder.parent / name for name in order]
    return next((sibling for sibling in siblings if sibling.is_dir()), None)


def training_data(config):
    """(training set, validation set, description) as `PairDataset`s for a `RunConfig`."""
    size, seed = config.image_size, config.seed
    channels = dict(in_channels=config.in_channels, out_channels=config.out_channels)
    common = dict(crop_size=size, seed=seed, workers=config.workers, **config.data_kwargs())
    held_out = dict(
        crop_size=size,
        seed=seed,
        batch_size=config.batch_size,
        jitter=False,
        shuffle=False,
        **channels,
    )
    if config.data is None:
        direction = config.direction or DEFAULT_DIRECTION
        train = SyntheticFacades(
            config.pairs,
            batch_size=config.batch_size,
            load_size=config.load_size,
            direction=direction,
            **common,
        )
        val = SyntheticFacades(EMBEDDED_HELD_OUT, split="val", direction=direction, **held_out)
        return train, val, f"{config.pairs} embedded facade-like pairs"
    folder, direction = training_folder(config.data, config.direction)
    train = PairDataset.from_folder(
        folder,
        batch_size=config.batch_size,
        load_size=config.load_size,
        direction=direction,
        **common,
    )
    val_folder = held_out_folder(folder) or folder
    val = PairDataset.from_folder(val_folder, direction=direction, **held_out)
    train.check()
    if val_folder != folder:
        val.check()
    use_cache(train)
    return train, val, f"{len(train.sources)} pairs from {folder} ({direction})"


def use_cache(dataset):
    """Read `dataset` from the decode-once cache (`data.cache`) unless it is turned off;
    where it cannot be written (a full disk, a read-only home), decode every epoch."""
    root = cache.folder()
    if root is None:
        return
    try:
        dataset.use_cache(root, on_build=announce_cache)
    except OSError as error:
        dataset.cache = None
        print(f"note: no pair cache ({error}); decoding every epoch instead.")


def announce_cache(path, count, megabytes):
    print(
        f"decoding {count} pairs once into {path} ({megabytes:.0f} MB; delete it at any "
        f"time, or set {cache.VARIABLE}=off)"
    )


def evaluation_data(
    image_size, data=None, trained_on=None, direction=None, seed=0, batch_size=8, channels=(3, 3)
):
    """The held-out pairs to evaluate a model on: `data` if given, else the test split of
    what its run was `trained_on` (a `RunConfig`'s `data`; None: the embedded pairs), with
    the model's (input, output) `channels`."""
    options = dict(
        crop_size=image_size,
        seed=seed,
        batch_size=batch_size,
        jitter=False,
        shuffle=False,
        in_channels=channels[0],
        out_channels=channels[1],
    )
    source = data if data is not None else trained_on
    if source is None or source == "embedded":
        direction = direction or DEFAULT_DIRECTION
        return SyntheticFacades(EMBEDDED_HELD_OUT, split="test", direction=direction, **options)
    if data is None and source not in DATASETS and not pathlib.Path(source).is_dir():
        raise DataError(
            f"the run was trained on {source} (its config.json says so), which is no longer "
            "there. Pass --data with a folder of held-out pairs, or --data embedded."
        )
    folder, direction = training_folder(source, direction)
    if data is None or source in DATASETS:
        folder = held_out_folder(folder, ("test", "val")) or folder
    return PairDataset.from_folder(folder, direction=direction, **options)
