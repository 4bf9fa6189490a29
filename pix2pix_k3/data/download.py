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
    path = fetch(
        f"{base_url.rstrip('/')}/{name}.tar.gz",
        "datasets/pix2pix",
        cache_dir,
        advice=f"fetch {name}.tar.gz elsewhere, unpack it, and pass its train/ folder as --data.",
        extract=True,
    )
    return path / name if (path / name).is_dir() else path


def fetch(origin, cache_subdir, cache_dir=None, advice="", extract=False):
    """The local path of the file at `origin`, downloaded into the Keras cache
    (`cache_dir/cache_subdir`, `~/.keras/<cache_subdir>` by default) on first use.
    A failure raises a DataError naming the origin, then `advice` for an offline machine."""
    if cache_dir:  # Keras uses /tmp/.keras instead of a cache_dir that does not exist yet
        pathlib.Path(cache_dir).mkdir(parents=True, exist_ok=True)
    name = origin.rsplit("/", 1)[-1]
    try:
        path = keras.utils.get_file(
            fname=name,
            origin=origin,
            extract=extract,
            cache_dir=cache_dir,
            cache_subdir=cache_subdir,
        )
    except Exception as error:  # get_file raises bare Exceptions for URL failures
        raise DataError(
            f"could not download {name} from {origin}: {error}. If this machine is offline, "
            + advice
        ) from error
    return pathlib.Path(path)
