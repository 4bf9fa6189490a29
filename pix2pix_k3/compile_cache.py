"""JAX's persistent compilation cache, for the command-line programs.

On JAX every new shape of every computation is compiled by XLA before it first runs:
building a model compiles each weight's initializer, and a run compiles its train step
(tens of seconds on a small CPU). JAX can keep what it compiled on disk and reuse it in
the next process. `fit`, `translate` and `evaluate` turn that on when run as programs,
which cuts most of a short program's time (docs/benchmarks.md). The compiled code is the same, so
results do not change.

The cache lives in `$PIX2PIX_K3_COMPILATION_CACHE`, else `$XDG_CACHE_HOME/pix2pix_k3/jax`
(`~/.cache/pix2pix_k3/jax`); `PIX2PIX_K3_COMPILATION_CACHE=off` turns it off, and JAX's
own `JAX_COMPILATION_CACHE_DIR`, when set, is left to rule. Other backends have nothing to
cache this way, and a program imported into Python (a notebook) leaves JAX alone.
"""

import os
import pathlib

import keras

from pix2pix_k3 import cache_home

VARIABLE = "PIX2PIX_K3_COMPILATION_CACHE"


def folder():
    """Where the cache goes, or None when it is turned off."""
    return cache_home.folder(VARIABLE, "jax")


def enable():
    """Cache every JAX compilation in `folder()`; return it (None: off, or not JAX)."""
    where = folder()
    if keras.backend.backend() != "jax" or where is None:
        return None
    if os.environ.get("JAX_COMPILATION_CACHE_DIR"):
        return pathlib.Path(os.environ["JAX_COMPILATION_CACHE_DIR"])
    import jax

    jax.config.update("jax_compilation_cache_dir", str(where))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return where
