"""Train pix2pix: `KERAS_BACKEND=jax python -m pix2pix_k3.fit` (or tensorflow, torch).

With no arguments it trains a small model on the embedded facade-like pairs (rendered on
the fly; no download) for a few minutes on a laptop CPU. `--data` trains on real pairs:
a folder of A|B side-by-side images (the facades layout), one with `A/` and `B/`
subfolders, or a dataset name (`facades`, ...) downloaded once into the Keras cache.
`--preset facades` is the paper's facades recipe. Everything a run makes goes into its
run folder (see `pix2pix_k3.run`); open its `index.html` to look at it, and continue a
stopped run with `--resume --out <run folder>`.
"""

import contextlib
import importlib.util
import pathlib
import time

import keras

from pix2pix_k3 import cli, compile_cache, devices
from pix2pix_k3._backend import keep_tensorflow_out
from pix2pix_k3.callbacks import (
    HistoryCSV,
    RunRecorder,
    SampleGridSummary,
    StopOnNaN,
    TensorBoard,
    TimeEstimate,
    cpu_note,
    linear_decay,
)
from pix2pix_k3.config import ConfigError, RunConfig, size_text
from pix2pix_k3.data import DataError
from pix2pix_k3.data.splits import training_data
from pix2pix_k3.files import DISK_FULL, RunError
from pix2pix_k3.interrupt import exit_on_ctrl_c
from pix2pix_k3.model import build_pix2pix, default_optimizer
from pix2pix_k3.run import RunFolder


def main(argv=None, callbacks=(), command_line=False):
    """The command line; `callbacks` are added to Keras' (a hook for tests and notebooks).

    With `command_line` (as `python -m pix2pix_k3.fit` runs it), Ctrl-C ends the process
    at once with one line saying what was kept and how to resume; called from Python
    (a notebook), it raises KeyboardInterrupt as usual.
    """
    given, out, resume = cli.parse_fit_args(argv)
    try:
        run, config = prepare(given, out, resume)
        on_ctrl_c = exit_on_ctrl_c(lambda: f"interrupted: {run.kept()}")
        with on_ctrl_c if command_line else contextlib.nullcontext():
            train(run, config, resume, callbacks)
    except (ConfigError, DataError, RunError) as error:
        raise SystemExit(f"error: {error}") from None


def prepare(given, out, resume):
    """Check everything that can be checked before work; return (RunFolder, RunConfig).

    `given`: the settings given on the command line, `{field: value}`.
    """
    if keras.backend.backend() not in devices.BACKENDS:
        raise ConfigError(
            f"KERAS_BACKEND={keras.backend.backend()} cannot train pix2pix_k3; "
            f"use one of {', '.join(devices.BACKENDS)}."
        )
    if resume:
        run, config = resumed_run(given, out)
    else:
        config = RunConfig.from_args(given)
        run = RunFolder(out or pathlib.Path("runs") / time.strftime("%Y%m%d-%H%M%S"))
        run.check_new()
    if config.data_parallel:  # checked on the final settings, resumed ones too
        check_data_parallel(config.batch_size)
    if config.tensorboard:
        check_tensorboard()
    return run, config


TENSORBOARD_NEEDS = {"tensorflow": "tensorflow-cpu", "tensorboard": "tensorboard"}  # pip's names


def check_tensorboard():
    """Refuse `--tensorboard` before any work where its packages are missing (Keras'
    callback would fail only at the end of the first epoch)."""
    missing = [name for name in TENSORBOARD_NEEDS if importlib.util.find_spec(name) is None]
    if missing:
        packages = " ".join(TENSORBOARD_NEEDS[name] for name in missing)
        raise ConfigError(
            f"--tensorboard writes TensorFlow's summaries for TensorBoard, and "
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not installed. "
            f"Install {'it' if len(missing) == 1 else 'them'} (pip install {packages}), or drop "
            "--tensorboard: history.csv and index.html hold the same figures."
        )


def resumed_run(given, out):
    """(RunFolder, RunConfig) of the run in `out`: its saved settings, with the given
    ones that may change on resume."""
    if out is None:
        raise ConfigError("--resume needs --out: the folder of the run to continue.")
    run = RunFolder(out)
    written_by = run.ledger.backend()
    if written_by and written_by != keras.backend.backend():
        raise ConfigError(
            f"--resume: {out} was trained on {written_by}, and its saved random state is "
            f"{written_by}'s. Continue it with KERAS_BACKEND={written_by} (its .keras "
            "files load under any backend for translate and evaluate)."
        )
    if not run.config_file.is_file():
        raise RunError(
            f"--resume: {run.path} holds no run (no config.json). "
            "Pass the --out of the run to continue."
        )
    return run, RunConfig.from_json(run.config_file).replace(**given)


def check_data_parallel(batch_size):
    """Refuse `--data-parallel` where Keras cannot split the batch across devices."""
    if keras.backend.backend() != "jax":
        raise ConfigError(
            f"--data-parallel uses keras.distribution, which trains on the jax backend only "
            f"(this is {keras.backend.backend()}). Use KERAS_BACKEND=jax, or see the docs' "
            "'Several devices' section for tf.distribute and torch DDP."
        )
    count = devices.device_count()
    if batch_size % count:
        raise ConfigError(
            f"--data-parallel splits each batch across {count} devices, so --batch-size "
            f"{batch_size} must be a multiple of {count}."
        )


def train(run, config, resume=False, callbacks=()):
    """Build (or restore) the model and data, then `Model.fit` with the run's callbacks.

    The run's dtype policy and distribution are Keras' global ones while the model is
    built and trained (the distribution must be set before any weight is made), and the
    caller's afterwards.
    """
    previous = keras.config.dtype_policy(), keras.distribution.distribution()
    keras.config.set_dtype_policy(config.dtype_policy)
    if config.data_parallel:
        keras.distribution.set_distribution(keras.distribution.DataParallel())
    try:
        return _train(run, config, resume, callbacks)
    except OSError as error:
        if error.errno not in DISK_FULL:
            raise
        raise RunError(
            f"the disk holding {run.path} is full ({error.filename or error.strerror}). "
            f"The run folder is consistent: {run.kept()} once space is free."
        ) from None
    finally:
        run.unlock()
        keras.config.set_dtype_policy(previous[0])
        keras.distribution.set_distribution(previous[1])


def _train(run, config, resume, callbacks):
    keras.utils.set_random_seed(config.seed)
    train_set, val_set, description = training_data(config)
    run.prepare(resume=resume)
    if resume and run.ledger.committed_epoch() > 0:
        model, done = run.ledger.restore()
    else:
        run.save_config(config)
        model, done = new_model(config), 0
    run.ledger.trim_history(done)
    train_set.set_epoch(done)
    total = config.total_epochs
    recorder = RunRecorder(run, config, val_set.batch_of(config.samples))
    if done:  # a run killed while drawing them would otherwise keep stale pictures
        recorder.set_model(model)
        recorder.report(done)
    if done >= total:
        return finished(run, model, total, now=False)
    with contextlib.suppress(FileNotFoundError):  # it stands for a finished run only
        run.generator_file.unlink()
    kept = sum(config.keeps_checkpoint(epoch) for epoch in range(done + 1, total + 1))
    run.check_space(model, kept, replaced=int(done > 0 and not config.keeps_checkpoint(done)))
    nan_guard = StopOnNaN()
    verbose = config.verbose
    bar_end = "\n" if verbose == 1 else ""  # a line printed mid-epoch starts below the bar
    print(
        f"backend {keras.backend.backend()}: {description}, {size_text(config.image_size)}px, "
        f"{keras.config.dtype_policy().name}{parallel_note()}, "
        f"epochs {done + 1}..{total}. Run folder: {run.path} (open {run.index_file} to watch)."
    )
    note = cpu_note(config, (total - done) * len(train_set), devices.on_accelerator())
    if note:
        print(note)
    model.fit(
        train_set,
        epochs=total,
        initial_epoch=done,
        validation_data=val_set,
        shuffle=False,  # the dataset draws its own order from (seed, epoch)
        verbose=verbose,
        callbacks=[
            keras.callbacks.LearningRateScheduler(
                linear_decay(config.epochs, config.epochs_decay, config.lr)
            ),
            nan_guard,
            HistoryCSV(run.history_file, append=True),
            recorder,
            *tensorboard(run, config),
            *([TimeEstimate(show=lambda line: print(f"{bar_end}{line}"))] if verbose else []),
            *callbacks,
        ],
    )
    if nan_guard.where:
        epoch, batch, keys = nan_guard.where
        kept = run.ledger.committed_epoch()
        kept = (
            f"{run.latest_file} keeps epoch {kept}, the last good one."
            if kept
            else "No epoch was completed, so no checkpoint was kept."
        )
        raise RunError(
            f"training stopped at epoch {epoch}, batch {batch}: {', '.join(keys)} became NaN or "
            f"infinite. {kept} Try a lower --lr, --gan-mode lsgan, or --norm instance, and "
            "check the data for blank images."
        )
    if run.ledger.committed_epoch() < total:  # a callback stopped training early
        print(f"stopped: {run.kept()}")
        return model
    return finished(run, model, total)


def finished(run, model, total, now=True):
    """Write the generator of a run whose `total` epochs are done, and say where it is.

    `now`: whether this process trained the last epoch (else there was nothing to do).
    """
    if not run.generator_file.is_file():
        run.save_generator(model)
    news = "done" if now else "nothing to train"
    epochs = f"{total} epoch{'s' * (total != 1)}"
    print(
        f"{news}: {run.path} has finished its {epochs}. Open {run.index_file} (samples, loss "
        f"curves); the generator is {run.generator_file}, the whole model {run.latest_file}."
    )
    return model


def tensorboard(run, config):
    """The callbacks of `--tensorboard`: Keras' own, and the sample grids as images."""
    if not config.tensorboard:
        return []
    log_dir = run.path / "tensorboard"
    return [TensorBoard(log_dir), SampleGridSummary(run, log_dir)]


def parallel_note():
    """' on N devices' while a distribution splits the batches, else ''."""
    distribution = keras.distribution.distribution()
    return f" on {distribution.device_mesh.devices.size} devices" if distribution else ""


def new_model(config):
    """The model a `RunConfig` describes, compiled with its optimizers."""
    model = build_pix2pix(**config.model_kwargs())
    model.compile(
        g_optimizer=default_optimizer(**config.optimizer_kwargs()),
        d_optimizer=default_optimizer(**config.optimizer_kwargs()),
    )
    return model


if __name__ == "__main__":
    compile_cache.enable()
    keep_tensorflow_out()
    main(command_line=True)
