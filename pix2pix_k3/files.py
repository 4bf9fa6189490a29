"""Writing files so that a crash never leaves half of one under its real name.

Every file of a run folder, and every file `evaluate` and `export` write, is written
beside its final name and renamed into place (`replace_atomically`): a reader sees the
old file or the new one, never a torn one.
"""

import contextlib
import errno
import json
import os
import pathlib
import shutil
import zipfile

PARTIAL = ".partial"  # in the name of every temporary file
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


class RunError(ValueError):
    """A run folder or an output path cannot be used; the message says which and what to do."""


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


def check_keras_file(path, then=""):
    """Refuse a `.keras` file that is not a zip archive, which Keras reports as "File not
    found"; `then` is what the caller adds (what it means for the run)."""
    if not zipfile.is_zipfile(path):
        raise RunError(
            f"{path} is not a Keras model file: a .keras file is a zip archive and this one "
            f"is not (cut short by a copy or a full disk, or another format renamed?).{then}"
        )


def write_json(path, value):
    replace_atomically(path, lambda tmp: tmp.write_text(json.dumps(value, indent=2) + "\n"))


def link_or_copy(source, target):
    """A hard link (no extra space) where the file system has them, else a copy."""
    try:
        os.link(source, target)
    except OSError as error:
        if error.errno in (errno.EEXIST, *DISK_FULL):
            raise
        shutil.copyfile(source, target)


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
