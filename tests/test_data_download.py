"""Named datasets: download, unpack and cache, tested offline against a local archive."""

import tarfile

import numpy as np
import pytest
from PIL import Image

from pix2pix_k3.data import DataError, PairDataset
from pix2pix_k3.data.download import DATASETS, dataset_folder


@pytest.fixture
def server(tmp_path):
    """A folder holding facades.tar.gz laid out like the real archive, as a file:// URL."""
    source = tmp_path / "source" / "facades"
    for split, count in (("train", 3), ("test", 2)):
        (source / split).mkdir(parents=True)
        for i in range(count):
            Image.fromarray(np.zeros((8, 16, 3), np.uint8)).save(source / split / f"{i}.jpg")
    served = tmp_path / "served"
    served.mkdir()
    with tarfile.open(served / "facades.tar.gz", "w:gz") as archive:
        archive.add(source, arcname="facades")
    return served


def test_a_named_dataset_is_downloaded_unpacked_and_cached(server, tmp_path):
    cache = tmp_path / "cache"
    folder = dataset_folder("facades", base_url=server.as_uri(), cache_dir=str(cache))
    assert cache in folder.parents  # the cache asked for, though it did not exist yet
    assert len(PairDataset.from_folder(folder / "train").sources) == 3
    assert len(PairDataset.from_folder(folder / "test").sources) == 2
    (server / "facades.tar.gz").unlink()  # the server goes away; the cache answers
    assert dataset_folder("facades", base_url=server.as_uri(), cache_dir=str(cache)) == folder


def test_offline_gives_a_clear_message(tmp_path):
    # Port 9 on the loopback interface: the connection is refused at once.
    with pytest.raises(
        DataError, match="could not download facades.tar.gz .* If this machine is offline"
    ):
        dataset_folder("facades", base_url="http://127.0.0.1:9", cache_dir=str(tmp_path))


def test_unknown_names_list_the_known_ones():
    with pytest.raises(DataError, match="facades, cityscapes, maps"):
        dataset_folder("faces")


def test_facades_is_trained_label_map_to_photo():
    assert DATASETS["facades"].direction == "BtoA"
