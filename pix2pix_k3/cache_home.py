"""Where pix2pix_k3 keeps what it caches for the user: one rule for every cache."""

import os
import pathlib


def folder(variable, name):
    """`$variable` if set (None when it is `off`), else `$XDG_CACHE_HOME/pix2pix_k3/name`
    (`~/.cache/pix2pix_k3/name`): a place the user can see, and delete."""
    chosen = os.environ.get(variable)
    if chosen == "off":
        return None
    if chosen:
        return pathlib.Path(chosen)
    cache_home = os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache"
    return pathlib.Path(cache_home) / "pix2pix_k3" / name
