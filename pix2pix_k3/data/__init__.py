"""Paired data for pix2pix: reading, pair-consistent jitter, and batches for `fit`."""

from pix2pix_k3.data.dataset import PairDataset
from pix2pix_k3.data.images import (
    DataError,
    find_pairs,
    read_image,
    read_pair,
    to_model_range,
    to_uint8,
)
from pix2pix_k3.data.jitter import pair_jitter, pair_resize
from pix2pix_k3.data.synthetic import SyntheticFacades

__all__ = [
    "DataError",
    "PairDataset",
    "SyntheticFacades",
    "find_pairs",
    "pair_jitter",
    "pair_resize",
    "read_image",
    "read_pair",
    "to_model_range",
    "to_uint8",
]
