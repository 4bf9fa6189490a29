"""The pix2pix datasets by name, downloaded once into the Keras cache.

`dataset_folder("facades")` downloads `facades.tar.gz` from the pix2pix authors' server
with `keras.utils.get_file` (into `~/.keras/datasets/pix2pix/`, or `cache_dir`), unpacks
it, and returns the folder holding `train/`, `test/` (and `val/` where the set has one).
Later calls use the cache. The names are `pix2pix_k3.paper.DATASETS`. No checksums are
published for these archives, so none is checked.
"""

import pathlib

import keras

from pix2pix_k3.data.images import DataError
from pix2pix_k3.paper import DATASETS

BASE_URL = "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets"


def dataset_folder(name, base_url=BASE_URL, cache_dir=None):
    """The unpacked folder of dataset `name`, downloading it on first use."""
    if name not in DATASETS:
        raise DataError(f"no dataset named {name!r}; known: {', '.join(DATASETS)}.")
    origin = f"{base_url.rstrip('/')}/{name}.tar.gz"
    try:
        path = keras.utils.get_file(
            fname=f"{name}.tar.gz",
            origin=origin,
            extract=True,
            cache_dir=cache_dir,
            cache_subdir="datasets/pix2pix",
        )
    except Exception as error:  # get_file raises bare Exceptions for URL failures
        raise DataError(
            f"could not download {name} from {origin}: {error}. If this machine is offline, "
            f"fetch {name}.tar.gz elsewhere, unpack it, and pass its train/ folder as --data."
        ) from error
    root = pathlib.Path(path)
    return root / name if (root / name).is_dir() else root
