"""The run folder `fit` writes: its layout, its lock, and what it tells the user.

    <run>/config.json              the configuration (`config.RunConfig`; rebuilds the run)
    <run>/history.csv              one row of logs per epoch, numbered from 1
    <run>/curves.png               the losses by epoch
    <run>/samples/epoch_NNN.png    input | target | output for fixed validation pairs
    <run>/checkpoints/             the checkpoint ledger (`ledger`): latest.keras, kept
                                   epoch_NNN.keras, and state.json, the committed epoch
    <run>/generator.keras          the trained generator alone, once the last epoch is done
    <run>/index.html               the pictures, for a person to look at

Every file is written beside its final name and renamed into place (`files`), so a crash
never leaves a half-written file under a real name.

One process at a time: a run holds an exclusive lock on `<run>/.lock` while it trains
(the operating system drops it when the process ends, however it ends), and a second
`fit` on the same folder is refused. Under the lock, a starting run removes what a
killed one left half done: temporary files, and checkpoints no commit kept.
"""

import os
import pathlib
import shlex
import shutil
import socket
import sys
import time

import keras

from pix2pix_k3 import files
from pix2pix_k3.files import RunError
from pix2pix_k3.ledger import Ledger, checkpoint_bytes

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None
    import msvcrt

LOCK = ".lock"

__all__ = ["RunError", "RunFolder"]


class RunFolder:
    """Paths of one run, its lock, and the sentences that tell the user where it stands;
    `ledger` holds its commits."""

    def __init__(self, path):
        self.path = pathlib.Path(path)
        self.config_file = self.path / "config.json"
        self.history_file = self.path / "history.csv"
        self.curves_file = self.path / "curves.png"
        self.index_file = self.path / "index.html"
        self.generator_file = self.path / "generator.keras"
        self.samples = self.path / "samples"
        self.checkpoints = self.path / "checkpoints"
        self.ledger = Ledger(self.checkpoints, self.history_file)
        self.latest_file = self.ledger.latest_file
        self._lock = None

    def sample_grid_file(self, epoch):
        return self.samples / f"epoch_{epoch:03d}.png"

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
            files.check_writable(self.path, "--out")
        except OSError as error:
            raise RunError(
                f"--out {self.path}: cannot write there ({error.strerror}). Choose another --out."
            ) from None
        self.ledger.remove_leftovers(self.path, self.samples)

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
            path.is_file() and path.name != LOCK and files.PARTIAL not in path.name
            for path in self.path.rglob("*")
        )

    def check_space(self, model, checkpoints, replaced=0):
        """Refuse a run whose `checkpoints` kept checkpoints would not fit on its disk.

        Besides the kept ones, a run needs room for the latest checkpoint and the one
        being written; `replaced` of those are on disk already (a resumed run's last
        epoch, unless kept: the commits that follow replace it), so are not asked for.
        """
        each = checkpoint_bytes(model)
        need, free = each * (checkpoints + 2 - replaced), shutil.disk_usage(self.path).free
        if need > free:
            size = _megabytes_or_gigabytes
            raise RunError(
                f"this run keeps {checkpoints} checkpoint(s) of {size(each)}, needing about "
                f"{size(need)} with the latest, but the disk of {self.path} has {size(free)} "
                "free. Keep fewer (a larger --save-every, or --save-every 0 for the latest "
                "only), free space, or choose another --out."
            )

    def resume_command(self):
        """The command line that continues this run, on the backend that wrote it, with
        the interpreter's name as the user typed it (`python3`, or a venv's `python`)."""
        backend = self.ledger.backend() or keras.backend.backend()
        out, python = shlex.quote(str(self.path)), pathlib.Path(sys.executable).name or "python"
        return f"KERAS_BACKEND={backend} {python} -m pix2pix_k3.fit --resume --out {out}"

    def kept(self):
        """What a stop leaves, and how to go on: one sentence for the user."""
        done = self.ledger.committed_epoch()
        if done:
            return (
                f"{self.path} keeps epoch {done} ({self.latest_file}). "
                f"Continue with: {self.resume_command()}"
            )
        if self.config_file.is_file():
            return f"no epoch was completed. Start the run over with: {self.resume_command()}"
        return "the run had not started; nothing was kept."

    def save_config(self, config):
        """Write a `RunConfig` as config.json (read back by `RunConfig.from_json`)."""
        files.write_json(self.config_file, config.to_json())

    def save_generator(self, model):
        """Write the trained generator alone: what `translate`, `evaluate` and `export` need.

        A third of a checkpoint's size (no discriminator, no optimizer state), and quicker
        to load.
        """
        files.replace_atomically(self.generator_file, model.generator.save)


def _megabytes_or_gigabytes(size):
    return f"{size / 1e9:,.1f} GB" if size >= 1e9 else f"{size / 1e6:,.0f} MB"


def _lock_exclusively(handle, shared=False):
    """Lock an open file (a shared lock only tests), or OSError at once if another holds it.

    The lock goes with the file's closing, and with the process, however it ends.
    """
    if fcntl:
        fcntl.flock(handle.fileno(), (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
    else:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
