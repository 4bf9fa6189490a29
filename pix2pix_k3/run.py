"""The run folder `fit` writes, and the training state that makes `--resume` exact.

    <run>/config.json              the resolved configuration (rebuilds the run)
    <run>/history.csv              one row of logs per epoch, numbered from 1
    <run>/curves.png               the losses by epoch
    <run>/samples/epoch_NNN.png    input | target | output for fixed validation pairs
    <run>/checkpoints/latest.keras the model after the last completed epoch
    <run>/checkpoints/epoch_NNN.keras  periodic checkpoints
    <run>/checkpoints/state.json   the last completed epoch, and which files hold it
    <run>/generator.keras          the trained generator alone, once the last epoch is done
    <run>/index.html               the pictures, for a person to look at

Every file is written beside its final name and renamed into place, so a crash never
leaves a half-written file under a real name. An epoch is *committed* when `state.json`
is renamed into place: it names the checkpoint and the random-number state of that
epoch, both complete by then, and the backend that wrote them. `--resume` starts from
the committed epoch; anything a killed run wrote after it is overwritten.

One process at a time: a run holds an exclusive lock on `<run>/.lock` while it trains
(the operating system drops it when the process ends, however it ends), and a second
`fit` on the same folder is refused. Under the lock, a starting run removes what a
killed one left half done: temporary files, and checkpoints no commit kept.

What resuming restores: weights, BatchNorm statistics, both optimizers' state and
learning rates (all in the `.keras` file), the seed states of the model's random layers
(not saved by Keras) and, on PyTorch, torch's global generator, which Keras' unseeded
dropout draws from. The data's order and jitter follow from (seed, epoch) alone.
"""

import contextlib
import errno
import json
import math
import os
import pathlib
import shlex
import shutil
import socket
import time

import keras
import numpy as np

from pix2pix_k3.steps import step_module

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None
    import msvcrt

STATE = "state.json"
LOCK = ".lock"
PARTIAL = ".partial"  # in the name of every temporary file
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


class RunError(ValueError):
    """The run folder cannot be used; the message says which and what to do."""


def replace_atomically(path, write):
    """Call `write(temporary_path)`, then rename the result to `path`.

    The temporary is removed first: a killed run may have left it hard-linked to a kept
    checkpoint, and writing into it would change that checkpoint.
    """
    path = pathlib.Path(path)
    temporary = path.with_name(f".{path.name}{PARTIAL}{path.suffix}")
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
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
        self.generator = self.path / "generator.keras"
        self._lock = None

    def sample_grid(self, epoch):
        return self.samples / f"epoch_{epoch:03d}.png"

    def checkpoint(self, epoch):
        return self.checkpoints / f"epoch_{epoch:03d}.keras"

    def check_new(self):
        """Refuse, without touching anything, a folder that holds another run or can't be made."""
        if self.path.exists() and not self.path.is_dir():
            raise RunError(f"--out {self.path}: a file of that name exists; choose another --out.")
        if self.path.is_dir() and self._holds_anything():
            holder = self._holder()
            raise self._in_use(holder) if holder else self._not_empty()
        parent = next(p for p in (self.path, *self.path.parents) if p.exists() or p == p.parent)
        if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
            raise RunError(
                f"--out {self.path}: cannot create it, {parent} is not a writable folder. "
                "Choose another --out."
            )

    def prepare(self, resume=False):
        """Create and lock the run's folders, then clear what a killed run left half done.

        Checks that a new run's folder is still empty once locked (another `fit` may have
        started in it meanwhile), and that it can be written.
        """
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            self.lock()
            if not resume and self._holds_anything():
                raise self._not_empty()
            for folder in (self.samples, self.checkpoints):
                folder.mkdir(parents=True, exist_ok=True)
            check_writable(self.path, "--out")
        except OSError as error:
            raise RunError(
                f"--out {self.path}: cannot write there ({error.strerror}). Choose another --out."
            ) from None
        self._remove_leftovers()

    def lock(self):
        """Hold the folder for this process (until `unlock` or its end), or refuse."""
        if self._lock:
            return
        handle = open(self.path / LOCK, "a+")  # noqa: SIM115 (held open while training)
        try:
            _lock_exclusively(handle)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise self._in_use(holder) from None
        handle.seek(0)
        handle.truncate()
        handle.write(
            f"fit (pid {os.getpid()} on {socket.gethostname()}, since "
            f"{time.strftime('%Y-%m-%d %H:%M:%S')})\n"
        )
        handle.flush()
        self._lock = handle

    def _holder(self):
        """Who holds the folder's lock now (another process), else None; changes nothing."""
        if not (self.path / LOCK).is_file():
            return None
        with open(self.path / LOCK) as handle:
            try:
                _lock_exclusively(handle, shared=True)
            except OSError:
                return handle.read().strip() or "another process"
        return None

    def _not_empty(self):
        return RunError(
            f"--out {self.path} is not empty. Pass --resume to continue the run in it, "
            "or choose a new folder."
        )

    def _in_use(self, holder):
        return RunError(
            f"--out {self.path} is in use by {holder}: one process at a time trains a run. "
            "Wait for it to end or stop it, or choose another --out."
        )

    def unlock(self):
        """Let another process use the folder (a process that ends does so anyway)."""
        handle, self._lock = self._lock, None
        if handle:
            handle.close()

    def _holds_anything(self):
        """Whether the folder holds a file of a run (not only the lock and empty folders)."""
        return any(
            path.is_file() and path.name != LOCK and PARTIAL not in path.name
            for path in self.path.rglob("*")
        )

    def _remove_leftovers(self):
        """Temporaries of a killed write, and checkpoint files no commit keeps."""
        for folder in (self.path, self.samples, self.checkpoints):
            for path in folder.glob(f".*{PARTIAL}*"):
                path.unlink()
        keep = {*self._kept_epochs(), self.committed_epoch()}
        for path in self._epoch_files():
            if _epoch_of(path) not in keep:
                path.unlink()

    def trim_history(self, epochs):
        """Keep the header and the rows of the first `epochs` epochs of history.csv.

        Drops rows a killed run wrote past its committed epoch, and a row (or header) it
        was killed while writing, which has no line end yet.
        """
        lines = self.history.read_text().splitlines(keepends=True) if self.history.is_file() else []
        if not lines:  # a run stopped in its first epoch: CSVLogger writes the header itself
            return
        header, *rows = lines
        if not header.endswith("\n"):
            self.history.unlink()
            return
        rows = [row for row in rows if row.endswith("\n")]
        kept = [row for row in rows if _row_epoch(row) <= epochs]
        if kept != lines[1:]:
            replace_atomically(self.history, lambda tmp: tmp.write_text("".join([header, *kept])))

    def check_space(self, model, checkpoints):
        """Refuse a run whose `checkpoints` kept checkpoints would not fit on its disk.

        Besides the kept ones, a run needs room for the latest checkpoint and the one
        being written.
        """
        each = checkpoint_bytes(model)
        need, free = each * (checkpoints + 2), shutil.disk_usage(self.path).free
        if need > free:
            size = _megabytes_or_gigabytes
            raise RunError(
                f"this run keeps {checkpoints} checkpoint(s) of {size(each)}, needing about "
                f"{size(need)} with the latest, but the disk of {self.path} has {size(free)} "
                "free. Keep fewer (a larger --save-every, or --save-every 0 for the latest "
                "only), free space, or choose another --out."
            )

    def resume_command(self):
        """The command line that continues this run, on the backend that wrote it."""
        backend = self.backend() or keras.backend.backend()
        out = shlex.quote(str(self.path))
        return f"KERAS_BACKEND={backend} python -m pix2pix_k3.fit --resume --out {out}"

    def kept(self):
        """What a stop leaves, and how to go on: one sentence for the user."""
        done = self.committed_epoch()
        if done:
            return (
                f"{self.path} keeps epoch {done} ({self.latest}). "
                f"Continue with: {self.resume_command()}"
            )
        if self.config.is_file():
            return f"no epoch was completed. Start the run over with: {self.resume_command()}"
        return "the run had not started; nothing was kept."

    def save_config(self, config):
        """Write a `RunConfig` as config.json (read back by `RunConfig.from_json`)."""
        write_json(self.config, config.to_json())

    def committed_epoch(self):
        """The number of completed epochs (0 when none was committed)."""
        state = self._state()
        return state["epochs"] if state else 0

    def commit(self, model, epoch, keep=False):
        """Save the model after `epoch` (1-based) and make it the resumable state.

        Afterwards, the checkpoints of earlier epochs that were not kept are removed
        (those of the epoch before, and any a killed run left behind).
        """
        checkpoint, rng = self.checkpoint(epoch), self.checkpoints / f"rng_{epoch:03d}.npz"
        replace_atomically(checkpoint, model.save)
        replace_atomically(rng, lambda tmp: np.savez(tmp, **random_state(model)))
        kept = self._kept_epochs()
        write_json(
            self.checkpoints / STATE,
            {
                "epochs": epoch,
                "checkpoint": checkpoint.name,
                "rng": rng.name,
                "kept": sorted({*kept, epoch} if keep else kept),
                "backend": keras.backend.backend(),
            },
        )
        replace_atomically(self.latest, lambda tmp: _link_or_copy(checkpoint, tmp))
        for path in self._epoch_files():
            if _epoch_of(path) not in (*kept, epoch):
                path.unlink()

    def save_generator(self, model):
        """Write the trained generator alone: what `translate`, `evaluate` and `export` need.

        A third of a checkpoint's size (no discriminator, no optimizer state), and quicker
        to load.
        """
        replace_atomically(self.generator, model.generator.save)

    def _kept_epochs(self):
        """Epochs whose checkpoints stay: those committed with keep=True."""
        state = self._state()
        return state["kept"] if state else []

    def _epoch_files(self):
        return [*self.checkpoints.glob("epoch_*.keras"), *self.checkpoints.glob("rng_*.npz")]

    def backend(self):
        """The backend that wrote the committed state (None before the first commit)."""
        state = self._state()
        return state.get("backend") if state else None

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
    except OSError as error:
        if error.errno in (errno.EEXIST, *DISK_FULL):
            raise
        shutil.copyfile(source, target)


def _row_epoch(row):
    """The epoch of a history.csv row (its first field); a torn row reads as infinite."""
    try:
        return int(row.split(",", 1)[0])
    except ValueError:
        return math.inf


def checkpoint_bytes(model):
    """About the size of a model's `.keras` file: its weights and Adam's two moments."""
    weights = sum(math.prod(v.shape) * np.dtype(v.dtype).itemsize for v in model.weights)
    return weights + 2 * 4 * sum(math.prod(v.shape) for v in model.trainable_weights)


def check_writable(folder, flag, value=None):
    """Create `folder` if needed and make sure files can be written in it, or RunError.

    The message names `flag` with `value` (the folder itself unless given).
    """
    folder = pathlib.Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test{PARTIAL}-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        existing = next((p for p in (folder, *folder.parents) if p.exists()), folder)
        reason = error.strerror if existing.is_dir() else f"{existing} is a file, not a folder"
        raise RunError(
            f"{flag} {value or folder}: cannot write there ({reason}). Choose another {flag}."
        ) from None


def _megabytes_or_gigabytes(size):
    return f"{size / 1e9:,.1f} GB" if size >= 1e9 else f"{size / 1e6:,.0f} MB"


def _epoch_of(path):
    """The epoch in a checkpoint file's name: 7 for epoch_007.keras or rng_007.npz."""
    return int(path.stem.rsplit("_", 1)[1])


def _lock_exclusively(handle, shared=False):
    """Lock an open file (a shared lock only tests), or OSError at once if another holds it.

    The lock goes with the file's closing, and with the process, however it ends.
    """
    if fcntl:
        fcntl.flock(handle.fileno(), (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
    else:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)


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
