"""The run folder `fit` writes, and the training state that makes `--resume` exact.

    <run>/config.json              the resolved configuration (rebuilds the run)
    <run>/history.csv              one row of logs per epoch
    <run>/curves.png               the losses by epoch
    <run>/samples/epoch_NNN.png    input | target | output for fixed validation pairs
    <run>/checkpoints/latest.keras the model after the last completed epoch
    <run>/checkpoints/epoch_NNN.keras  periodic checkpoints
    <run>/checkpoints/state.json   the last completed epoch, and which files hold it
    <run>/index.html               the pictures, for a person to look at

Every file is written beside its final name and renamed into place, so a crash never
leaves a half-written file under a real name. An epoch is *committed* when `state.json`
is renamed into place: it names the checkpoint and the random-number state of that
epoch, both complete by then. `--resume` starts from the committed epoch; anything a
killed run wrote after it is overwritten.

What resuming restores: weights, BatchNorm statistics, both optimizers' state and
learning rates (all in the `.keras` file), the seed states of the model's random layers
(not saved by Keras) and, on PyTorch, torch's global generator, which Keras' unseeded
dropout draws from. The data's order and jitter follow from (seed, epoch) alone.
"""

import contextlib
import json
import os
import pathlib
import shutil

import keras
import numpy as np

from pix2pix_k3.model import step_module

STATE = "state.json"


class RunError(ValueError):
    """The run folder cannot be used; the message says which and what to do."""


def replace_atomically(path, write):
    """Call `write(temporary_path)`, then rename the result to `path`."""
    path = pathlib.Path(path)
    temporary = path.with_name(f".{path.name}.partial{path.suffix}")
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


def write_json(path, value):
    replace_atomically(path, lambda tmp: tmp.write_text(json.dumps(value, indent=2) + "\n"))


class RunFolder:
    """Paths of one run, and the checks and commits that keep it consistent."""

    def __init__(self, path):
        self.path = pathlib.Path(path)
        self.config = self.path / "config.json"
        self.history = self.path / "history.csv"
        self.curves = self.path / "curves.png"
        self.samples = self.path / "samples"
        self.checkpoints = self.path / "checkpoints"
        self.latest = self.checkpoints / "latest.keras"
        self.index = self.path / "index.html"

    def sample_grid(self, epoch):
        return self.samples / f"epoch_{epoch:03d}.png"

    def checkpoint(self, epoch):
        return self.checkpoints / f"epoch_{epoch:03d}.keras"

    def check_new(self):
        """Refuse, without touching anything, a folder that holds another run or can't be made."""
        if self.path.exists() and not self.path.is_dir():
            raise RunError(f"--out {self.path}: a file of that name exists; choose another --out.")
        if self.path.is_dir() and any(self.path.iterdir()):
            raise RunError(
                f"--out {self.path} is not empty. Pass --resume to continue the run in it, "
                "or choose a new folder."
            )
        parent = next(p for p in (self.path, *self.path.parents) if p.exists() or p == p.parent)
        if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
            raise RunError(
                f"--out {self.path}: cannot create it, {parent} is not a writable folder. "
                "Choose another --out."
            )

    def prepare(self, resume=False):
        """Create the run's folders (checking a resumed run has its config) and probe writing."""
        if resume and not self.config.is_file():
            raise RunError(
                f"--resume: {self.path} holds no run (no config.json). "
                "Pass the --out of the run to continue."
            )
        try:
            for folder in (self.path, self.samples, self.checkpoints):
                folder.mkdir(parents=True, exist_ok=True)
            probe = self.path / ".write-test"
            probe.write_text("")
            probe.unlink()
        except OSError as error:
            raise RunError(
                f"--out {self.path}: cannot write there ({error.strerror}). Choose another --out."
            ) from None

    def trim_history(self, epochs):
        """Drop history rows past `epochs` completed epochs (written by a run killed later)."""
        lines = self.history.read_text().splitlines(keepends=True) if self.history.is_file() else []
        if not lines:  # a run stopped in its first epoch: CSVLogger writes the header itself
            return
        header, *rows = lines
        kept = [row for row in rows if int(row.split(",", 1)[0]) < epochs]
        if len(kept) < len(rows):
            replace_atomically(self.history, lambda tmp: tmp.write_text("".join([header, *kept])))

    def save_config(self, config):
        write_json(self.config, config)

    def load_config(self):
        return json.loads(self.config.read_text())

    def committed_epoch(self):
        """The number of completed epochs (0 when none was committed)."""
        state = self._state()
        return state["epochs"] if state else 0

    def commit(self, model, epoch, keep=False):
        """Save the model after `epoch` (1-based) and make it the resumable state."""
        checkpoint, rng = self.checkpoint(epoch), self.checkpoints / f"rng_{epoch:03d}.npz"
        replace_atomically(checkpoint, model.save)
        replace_atomically(rng, lambda tmp: np.savez(tmp, **random_state(model)))
        previous = self._state()
        write_json(
            self.checkpoints / STATE,
            {"epochs": epoch, "checkpoint": checkpoint.name, "rng": rng.name, "keep": keep},
        )
        replace_atomically(self.latest, lambda tmp: _link_or_copy(checkpoint, tmp))
        if previous and not previous["keep"] and previous["epochs"] != epoch:
            for name in (previous["checkpoint"], previous["rng"]):
                with contextlib.suppress(FileNotFoundError):
                    (self.checkpoints / name).unlink()

    def restore(self):
        """(model, completed epochs) from the committed state, with its random state."""
        state = self._state()
        model = keras.saving.load_model(self.checkpoints / state["checkpoint"])
        with np.load(self.checkpoints / state["rng"]) as saved:
            set_random_state(model, dict(saved))
        return model, state["epochs"]

    def _state(self):
        path = self.checkpoints / STATE
        return json.loads(path.read_text()) if path.is_file() else None


def _link_or_copy(source, target):
    """A hard link (no extra space) where the file system has them, else a copy."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _seed_variables(model):
    """The model's variables that are not weights: the states of its seed generators."""
    weights = {id(variable) for variable in model.weights}
    return [variable for variable in model.variables if id(variable) not in weights]


def random_state(model):
    """Arrays of every random state a train step draws from, by name."""
    state = {
        f"seed_{i}": keras.ops.convert_to_numpy(variable.value)
        for i, variable in enumerate(_seed_variables(model))
    }
    return {**state, **step_module().global_random_state()}


def set_random_state(model, state):
    """Put back what `random_state` returned."""
    for i, variable in enumerate(_seed_variables(model)):
        variable.assign(state[f"seed_{i}"])
    step_module().set_global_random_state(state)
