"""Run `python -m pix2pix_k3.fit` and SIGKILL it at a chosen moment: a real crash.

    python tests/support/fit_until_killed.py WHEN FIT_ARGS...

WHEN is one of
- `batch:E:B`: after batch B of epoch E (both 1-based);
- `op:N`: at the Nth file operation in the run folder at the end of an epoch (the commit
  of its checkpoint, then its pictures), counted from this process's start: before a
  rename, hard link or removal happens, or after a write, with the written temporary
  file torn to half its length first (a crash in mid-write);
- `never`: run to the end.

Every operation counted is printed to stderr as `op N epoch E KIND NAME` (NAME with
its epoch number written NNN), so a test can plan kills from an uninterrupted run.
"""

import os
import pathlib
import re
import signal
import sys

import keras

from pix2pix_k3 import callbacks, files
from pix2pix_k3.fit import main


def die():
    os.kill(os.getpid(), signal.SIGKILL)


class KillAtBatch(keras.callbacks.Callback):
    def __init__(self, epoch, batch):
        super().__init__()
        self.at, self.epoch = (epoch, batch), 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch + 1

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch + 1) == self.at:
            die()


class Operations:
    """Counts the file operations of epoch ends inside `folder`; kills at number `kill_at`."""

    def __init__(self, folder, kill_at=None):
        self.folder, self.kill_at = pathlib.Path(folder).resolve(), kill_at
        self.count, self.epoch = 0, None

    def __call__(self, kind, path, tear=None):
        path = pathlib.Path(path).resolve()
        if self.epoch is None or self.folder not in path.parents:
            return
        self.count += 1
        name = re.sub(r"\d{3}", "NNN", path.name)
        print(f"op {self.count} epoch {self.epoch} {kind} {name}", file=sys.stderr, flush=True)
        if self.count == self.kill_at:
            if tear:
                tear()
            die()

    def install(self):
        """Route os.replace, os.link, os.unlink and the run's atomic writes through self."""
        for name in ("replace", "link"):
            real = getattr(os, name)

            def counted(source, target, *args, _real=real, _name=name, **kwargs):
                self(_name, target)
                return _real(source, target, *args, **kwargs)

            setattr(os, name, counted)
        real_unlink = os.unlink

        def unlink(path, *args, **kwargs):
            if os.path.lexists(path):
                self("unlink", path)
            return real_unlink(path, *args, **kwargs)

        os.unlink = unlink
        real_replace_atomically = files.replace_atomically

        def replace_atomically(path, write):
            def written(temporary):
                write(temporary)
                self("write", path, lambda: tear(temporary))

            return real_replace_atomically(path, written)

        files.replace_atomically = replace_atomically
        real_epoch_end = callbacks.RunRecorder.on_epoch_end

        def on_epoch_end(recorder, epoch, logs=None):
            self.epoch = epoch + 1
            try:
                return real_epoch_end(recorder, epoch, logs)
            finally:
                self.epoch = None

        callbacks.RunRecorder.on_epoch_end = on_epoch_end


def tear(path):
    """Cut a written file to half its length, as a crash in mid-write leaves it; a hard
    link (the latest checkpoint) is made whole or not at all, so it is left alone."""
    if os.stat(path).st_nlink == 1:
        os.truncate(path, os.path.getsize(path) // 2)


if __name__ == "__main__":
    when, *argv = sys.argv[1:]
    kind, *numbers = when.split(":")
    numbers = [int(n) for n in numbers]
    extra = [KillAtBatch(*numbers)] if kind == "batch" else []
    Operations(argv[argv.index("--out") + 1], numbers[0] if kind == "op" else None).install()
    main(argv, callbacks=extra, command_line=True)
