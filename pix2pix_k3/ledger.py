"""A run's checkpoint ledger: which epoch is committed, and what makes `--resume` exact.

    <run>/checkpoints/epoch_NNN.keras  the model after epoch NNN (kept ones, and the last)
    <run>/checkpoints/rng_NNN.npz      the random state after epoch NNN
    <run>/checkpoints/latest.keras     the model after the last committed epoch (a link)
    <run>/checkpoints/state.json       the commit: epochs done, its two files, kept epochs

An epoch is *committed* when `state.json` is renamed into place: it names the checkpoint
and the random-number state of that epoch, both complete by then (`files`), and the
backend that wrote them. `--resume` starts from the committed epoch; anything a killed
run wrote after it is removed (`remove_leftovers`), history rows included
(`trim_history`).

What resuming restores: weights, BatchNorm statistics, both optimizers' state and
learning rates (all in the `.keras` file), the seed states of the model's random layers
(not saved by Keras) and, on PyTorch, torch's global generator, which Keras' unseeded
dropout draws from. The data's order and jitter follow from (seed, epoch) alone.

Why not Keras' own callbacks: `ModelCheckpoint` and `BackupAndRestore` write their files
in place (`model.save` opens the final path), so a kill mid-write leaves a torn file
under the real name; `BackupAndRestore` writes the weights and the epoch number as two
files with nothing tying them together, deletes its backup when training ends, and keeps
neither periodic checkpoints nor torch's global generator. The ledger needs one commit
that covers a whole epoch, as `OptimizerPair` needs two optimizers where `MultiOptimizer`
offers none (model.py).
"""

import json
import math

import keras
import numpy as np

from pix2pix_k3 import files
from pix2pix_k3.steps import step_module

STATE = "state.json"
STATE_KEYS = ("epochs", "checkpoint", "rng", "kept", "backend")
# state.json's layout. 0: written before the number existed (the same keys as 1; the
# earliest folders lack "backend" and are refused: their random state is not labelled).
STATE_FORMAT = 1


class Ledger:
    """The commits of one run, in its `checkpoints` folder, and its `history` file."""

    def __init__(self, checkpoints, history):
        self.folder, self.history_file = checkpoints, history
        self.latest_file = checkpoints / "latest.keras"

    def checkpoint_file(self, epoch):
        return self.folder / f"epoch_{epoch:03d}.keras"

    def committed_epoch(self):
        """The number of completed epochs (0 when none was committed)."""
        state = self._state()
        return state["epochs"] if state else 0

    def backend(self):
        """The backend that wrote the committed state (None before the first commit)."""
        state = self._state()
        return state["backend"] if state else None

    def commit(self, model, epoch, keep=False):
        """Save the model after `epoch` (1-based) and make it the resumable state.

        Afterwards, the checkpoints of earlier epochs that were not kept are removed
        (those of the epoch before, and any a killed run left behind).
        """
        checkpoint, rng = self.checkpoint_file(epoch), self.folder / f"rng_{epoch:03d}.npz"
        files.replace_atomically(checkpoint, model.save)
        files.replace_atomically(rng, lambda tmp: np.savez(tmp, **random_state(model)))
        kept = self._kept_epochs()
        files.write_json(
            self.folder / STATE,
            {
                "format": STATE_FORMAT,
                "epochs": epoch,
                "checkpoint": checkpoint.name,
                "rng": rng.name,
                "kept": sorted({*kept, epoch} if keep else kept),
                "backend": keras.backend.backend(),
            },
        )
        files.replace_atomically(self.latest_file, lambda tmp: files.link_or_copy(checkpoint, tmp))
        for path in self._epoch_files():
            if _epoch_of(path) not in (*kept, epoch):
                path.unlink()

    def restore(self):
        """(model, completed epochs) from the committed state, with its random state."""
        state = self._state()
        checkpoint = self.folder / state["checkpoint"]
        files.check_keras_file(
            checkpoint,
            f" The run cannot resume from it; {self.folder / STATE} names it as epoch "
            f"{state['epochs']}'s. Start a new run in another --out.",
        )
        model = keras.saving.load_model(checkpoint)
        with np.load(self.folder / state["rng"]) as saved:
            set_random_state(model, dict(saved))
        return model, state["epochs"]

    def remove_leftovers(self, *folders):
        """Temporaries of a killed write (here and in `folders`), and checkpoint files no
        commit keeps."""
        state = self._state()
        if state is None and self.latest_file.exists():
            # latest.keras is linked after state.json is renamed into place: an epoch was
            # committed, and its record is gone. (Checkpoint files without either are what a
            # first commit killed before its state.json leaves, and are removed below.)
            raise files.RunError(
                f"{self.folder / STATE} is missing, yet {self.latest_file.name} is there: an "
                "epoch was committed and the run cannot tell which, so nothing was removed. "
                "Its .keras checkpoints load in translate and evaluate; start a new run in "
                "another --out."
            )
        for folder in (self.folder, *folders):
            for path in folder.glob(f".*{files.PARTIAL}*"):
                path.unlink()
        keep = {*state["kept"], state["epochs"]} if state else set()
        for path in self._epoch_files():
            if _epoch_of(path) not in keep:
                path.unlink()

    def trim_history(self, epochs):
        """Keep the header and the rows of the first `epochs` epochs of history.csv.

        Drops rows a killed run wrote past its committed epoch, and a row (or header) it
        was killed while writing, which has no line end yet.
        """
        history = self.history_file
        lines = history.read_text().splitlines(keepends=True) if history.is_file() else []
        if not lines:  # a run stopped in its first epoch: CSVLogger writes the header itself
            return
        header, *rows = lines
        if not header.endswith("\n"):
            history.unlink()
            return
        rows = [row for row in rows if row.endswith("\n")]
        kept = [row for row in rows if _row_epoch(row) <= epochs]
        if kept != lines[1:]:
            files.replace_atomically(history, lambda tmp: tmp.write_text("".join([header, *kept])))

    def _kept_epochs(self):
        """Epochs whose checkpoints stay: those committed with keep=True."""
        state = self._state()
        return state["kept"] if state else []

    def _epoch_files(self):
        return [*self.folder.glob("epoch_*.keras"), *self.folder.glob("rng_*.npz")]

    def _state(self):
        """The committed state, None before the first commit, or RunError if damaged."""
        path = self.folder / STATE
        if not path.is_file():
            return None
        try:
            state = json.loads(path.read_text())
            problem = None if isinstance(state, dict) else "not a JSON object"
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            state, problem = None, str(error)
        missing = [key for key in STATE_KEYS if key not in state] if problem is None else []
        if missing == ["backend"]:
            raise files.RunError(
                f"{path} was written by an early pix2pix_k3 that did not record which "
                "backend's random state it saved, so the run cannot be resumed exactly; its "
                ".keras checkpoints still load in translate and evaluate. Start a new run in "
                "another --out."
            )
        if problem or missing:
            raise files.RunError(
                f"{path} is damaged ({problem or 'no ' + ', '.join(missing)}), so the run "
                "cannot be resumed; its .keras checkpoints still load in translate and "
                "evaluate. Start a new run in another --out."
            )
        if not isinstance(state.get("format", 0), int) or state.get("format", 0) > STATE_FORMAT:
            raise files.RunError(
                f"{path} is of format {state['format']!r}, newer than this pix2pix_k3 reads "
                f"(up to {STATE_FORMAT}); upgrade pix2pix_k3 to resume this run."
            )
        return state


def checkpoint_bytes(model):
    """About the size of a model's `.keras` file: its weights and Adam's two moments."""
    weights = sum(math.prod(v.shape) * np.dtype(v.dtype).itemsize for v in model.weights)
    return weights + 2 * 4 * sum(math.prod(v.shape) for v in model.trainable_weights)


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


def _seed_variables(model):
    """The model's variables that are not weights: the states of its seed generators."""
    weights = {id(variable) for variable in model.weights}
    return [variable for variable in model.variables if id(variable) not in weights]


def _row_epoch(row):
    """The epoch of a history.csv row (its first field); a torn row reads as infinite."""
    try:
        return int(row.split(",", 1)[0])
    except ValueError:
        return math.inf


def _epoch_of(path):
    """The epoch in a checkpoint file's name: 7 for epoch_007.keras or rng_007.npz."""
    return int(path.stem.rsplit("_", 1)[1])
