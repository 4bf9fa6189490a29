"""Fail early, in plain words, when the Keras backend asked for is not installed.

Without this check Keras reports a missing backend as an import error from deep inside
its own backend package (for torch, "No module named 'torch.utils'").
"""

import importlib
import json
import os
import pathlib

INSTALL = {  # what to install for each backend (the CPU builds for tensorflow and torch)
    "jax": 'pip install -e ".[jax]"',
    "tensorflow": 'pip install -e ".[tensorflow-cpu]" (or ".[tensorflow]" for GPUs)',
    "torch": 'pip install -e ".[torch]"',
}


def chosen_backend():
    """The backend Keras will load: KERAS_BACKEND, else keras.json, else tensorflow."""
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    home = pathlib.Path(os.environ.get("KERAS_HOME", pathlib.Path.home() / ".keras"))
    try:
        return json.loads((home / "keras.json").read_text()).get("backend", "tensorflow")
    except (OSError, ValueError):
        return "tensorflow"


def require_backend():
    """Raise ImportError naming the backend and the install command if it cannot load."""
    name = chosen_backend()
    try:
        importlib.import_module(name)
    except ImportError as error:
        how = INSTALL.get(name, f"install {name}")
        raise ImportError(
            f"Keras is set to the {name} backend (KERAS_BACKEND or keras.json), but {name} "
            f"cannot be imported ({error}). Install it ({how}) or choose another backend, "
            "e.g. KERAS_BACKEND=jax."
        ) from None


require_backend()
