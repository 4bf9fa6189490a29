"""Choose a Keras backend that is installed, before Keras is imported, and say so.

Keras takes its backend from `KERAS_BACKEND`, else `~/.keras/keras.json` (which Keras
writes itself, with "tensorflow", the first time it runs), else TensorFlow. A newcomer who
installed only `.[jax]` would get Keras' import error for TensorFlow. So:

- `KERAS_BACKEND` set: that backend, or a clear error naming the install command;
- not set, and Keras' default is not installed: the first installed of jax, torch,
  tensorflow, with one line on stderr saying which and how to choose.

Without this, Keras reports a missing backend as an import error from deep inside its
own backend package (for torch, "No module named 'torch.utils'").
"""

import contextlib
import importlib
import importlib.util
import json
import os
import pathlib
import sys
import tempfile

INSTALL = {  # what to install for each backend (the CPU builds for tensorflow and torch)
    "jax": 'pip install -e ".[jax]"',
    "tensorflow": 'pip install -e ".[tensorflow-cpu]" (or ".[tensorflow]" for GPUs)',
    "torch": 'pip install -e ".[torch]" (CPU build: see the README)',
}
PREFERENCE = ("jax", "torch", "tensorflow")  # quickest to import and to train here first
# What TensorFlow's native code writes to stderr while it is imported, whatever
# TF_CPP_MIN_LOG_LEVEL says (it logs through absl before absl is set up): news about
# the build, not about the run. A program drops these lines and passes on any other.
START_UP_LINES = (
    "All log messages before absl::InitializeLog() is called",
    "oneDNN custom operations are on",
    "This TensorFlow binary is optimized to use available CPU instructions",
    "To enable the following instructions:",
)


def default_backend():
    """(Keras' backend without KERAS_BACKEND, where that comes from)."""
    home = pathlib.Path(os.environ.get("KERAS_HOME", pathlib.Path.home() / ".keras"))
    try:
        return json.loads((home / "keras.json").read_text())["backend"], home / "keras.json"
    except (OSError, ValueError, KeyError, TypeError):
        return "tensorflow", "Keras' default"


def importable(name):
    """Whether `name` imports (it stays imported); quietly for a program."""
    quiet = start_up_lines_dropped() if started_as_program() else contextlib.nullcontext()
    try:
        with quiet:
            importlib.import_module(name)
    except ImportError:
        return False
    return True


def started_as_program():
    """Whether this is `python -m pix2pix_k3.<program>` importing the package."""
    return sys.argv[:1] == ["-m"]  # Python sets it so while `-m` imports the package


@contextlib.contextmanager
def start_up_lines_dropped():
    """While inside, what native code writes to stderr is kept back; on leaving, it is
    written out without the `START_UP_LINES`."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as caught:
        os.dup2(caught.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            lines = caught.read().decode(errors="replace").splitlines(keepends=True)
            kept = [line for line in lines if not any(noise in line for noise in START_UP_LINES)]
            sys.stderr.write("".join(kept))
            sys.stderr.flush()


def refuse(message):
    """ImportError for Python code (a notebook sees it as one); for a program started as
    `python -m pix2pix_k3.<program>`, the message alone, as its other refusals are, and
    the program's help first when that was asked for: `--help` never needs a backend."""
    if not started_as_program():
        raise ImportError(message)
    program, arguments = started_program()
    if {"-h", "--help"} & set(arguments):
        from pix2pix_k3.cli import PARSERS  # plain Python: it needs no backend

        if program in PARSERS:
            PARSERS[program]().print_help()
            print(f"note: {message}", file=sys.stderr)
            raise SystemExit(0)
    raise SystemExit(f"error: {message}")


def started_program():
    """(program, its arguments) of `python -m pix2pix_k3.<program> ...`, from the
    interpreter's own command line (`sys.argv` does not name the module yet)."""
    command = sys.orig_argv
    for i, argument in enumerate(command):
        if argument == "-m" and i + 1 < len(command):
            module, arguments = command[i + 1], command[i + 2 :]
        elif argument.startswith("-m") and len(argument) > 2:
            module, arguments = argument[2:], command[i + 1 :]
        else:
            continue
        return module.removeprefix("pix2pix_k3."), arguments
    return None, []


def stop_on_ctrl_c():
    """For `python -m pix2pix_k3.<program>`: Ctrl-C ends the program from here on, with
    one line (`interrupt`), before Keras or a backend is imported. `fit` says more once
    its run folder is chosen."""
    if started_as_program():
        from pix2pix_k3 import interrupt

        program = f"pix2pix_k3.{started_program()[0]}"
        interrupt.install(lambda: f"interrupted: {program} stopped; no file is left half-written.")


def answer_early():
    """For `python -m pix2pix_k3.<program> ...`: parse its arguments before Keras loads
    (several seconds), so that `--help` and a mistyped flag are answered at once. The
    program parses them again itself. Where the backend is not there, all is left to
    `require_backend`, whose message comes first (with the help, where that was asked)."""
    if not started_as_program():
        return
    from pix2pix_k3.cli import PARSERS  # plain Python: it needs no backend

    program, arguments = started_program()
    if program not in PARSERS:
        return
    candidates = [os.environ["KERAS_BACKEND"]] if os.environ.get("KERAS_BACKEND") else PREFERENCE
    if any(map(_findable, candidates)):
        PARSERS[program]().parse_args(arguments)


def _findable(name):
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def require_backend():
    """Make sure Keras will load an installed backend, or `refuse` if none can be."""
    if "keras" in sys.modules:  # too late to choose: Keras has loaded its backend already
        return
    chosen = os.environ.get("KERAS_BACKEND")
    if chosen:
        if not importable(chosen):
            refuse(
                f"KERAS_BACKEND={chosen}, but {chosen} cannot be imported. Install it "
                f"({INSTALL.get(chosen, 'pip install ' + chosen)}), or choose another "
                f"backend: KERAS_BACKEND={' | '.join(PREFERENCE)}."
            )
        return
    default, source = default_backend()
    if importable(default):
        return
    installed = next((name for name in PREFERENCE if importable(name)), None)
    if installed is None:
        refuse(
            "No Keras backend is installed. Install one: "
            + "; ".join(f"{name}: {how}" for name, how in INSTALL.items())
            + "."
        )
    os.environ["KERAS_BACKEND"] = installed
    print(
        f"pix2pix_k3: using the {installed} backend ({default}, from {source}, is not "
        f"installed). Set KERAS_BACKEND to choose.",
        file=sys.stderr,
    )


stop_on_ctrl_c()
answer_early()
require_backend()


def keep_tensorflow_out():
    """On jax and torch, keep Keras from importing TensorFlow only because it is installed.

    Keras' `set_random_seed` also seeds TensorFlow, and saving checks for TensorFlow
    types, whenever TensorFlow can be imported: on a jax or torch run that costs seconds
    (docs/benchmarks.md) and fills stderr with TensorFlow's start-up lines (oneDNN, CPU
    features), for nothing the run uses. Keras decides through one lazy module's
    `available`; the programs set it to False (`keras_private.hide_tensorflow`). Code that
    needs TensorFlow (`--tensorboard`, SavedModel export) still imports it, and through
    that module too: `available` gates only the optional uses.
    """
    import keras

    from pix2pix_k3 import keras_private

    if keras.backend.backend() != "tensorflow" and "tensorflow" not in sys.modules:
        keras_private.hide_tensorflow()
