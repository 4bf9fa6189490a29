"""Keras callbacks `fit` trains with: the paper's learning-rate decay, a NaN guard, the
run folder's per-epoch record (checkpoint, sample grid, loss curves, index.html), and an
early estimate of the run's duration."""

import math
import time

import keras

from pix2pix_k3 import report
from pix2pix_k3.config import keeps_checkpoint


def linear_decay(epochs, epochs_decay, lr):
    """The schedule of the paper's PyTorch reference, for `keras.callbacks.LearningRateScheduler`.

    `lr` for the first `epochs` epochs, then a linear decay over `epochs_decay` more:
    in 0-based epoch e the rate is lr * (1 - max(0, e + 1 - epochs) / (epochs_decay + 1)),
    so the last epoch trains at lr / (epochs_decay + 1), not at 0.
    """

    def schedule(epoch, current=None):
        return lr * (1.0 - max(0, epoch + 1 - epochs) / (epochs_decay + 1))

    return schedule


class StopOnNaN(keras.callbacks.Callback):
    """Stop at the first batch whose losses are not finite, and remember where.

    Keras' `TerminateOnNaN` watches a `loss` key, which a GAN's logs do not have: here
    every logged value is checked. `fit` turns `where` into advice for the user.
    """

    def __init__(self):
        super().__init__()
        self.where = None
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        bad = sorted(key for key, value in (logs or {}).items() if not _finite(value))
        if bad and self.where is None:
            self.where = (self.epoch + 1, batch + 1, bad)
            self.model.stop_training = True


def _finite(value):
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return True


class RunRecorder(keras.callbacks.Callback):
    """After each epoch: commit the checkpoint, then draw samples, curves and index.html.

    Nothing is written for an epoch whose logs are not finite, so the last committed
    checkpoint is always a usable model. Must follow `CSVLogger` in the callback list.
    """

    def __init__(self, run, config, samples):
        super().__init__()
        self.run, self.config, self.samples = run, config, samples

    def on_epoch_end(self, epoch, logs=None):
        if not all(_finite(value) for value in (logs or {}).values()):
            return
        done = epoch + 1
        self.run.commit(self.model, done, keep=keeps_checkpoint(self.config, done))
        self.report(done)

    def report(self, done):
        """The pictures of the run after `done` epochs: sample grid, curves, index.html."""
        report.save_png(report.sample_grid(self.model, *self.samples), self.run.sample_grid(done))
        report.plot_curves(report.read_history(self.run.history), self.run.curves)
        report.write_run_index(self.run, self.config, done)


class TimeEstimate(keras.callbacks.Callback):
    """After the first few steps, print how long the rest of the run will take.

    The paper's full-size settings take days on a CPU; saying so after a minute beats
    finding out after a day. The first step includes compilation, so the rate is measured
    over the `steps` after it; validation and checkpoints are not counted.
    """

    def __init__(self, steps=5, show=print):
        super().__init__()
        self.steps, self.show = steps, show
        self.start, self.measured, self.epoch = None, 0, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.measured == self.steps:
            return
        now = time.perf_counter()
        if self.start is None:
            self.start = now
            return
        self.measured += 1
        if self.measured == self.steps:
            per_step = (now - self.start) / self.steps
            left = (self.params["epochs"] - self.epoch) * self.params["steps"] - (batch + 1)
            self.show(
                f"about {duration(per_step * left)} to go: {per_step:.2f} s a step, "
                f"{left} steps left (validation and checkpoints not counted)"
            )


def duration(seconds):
    """A duration as a person says it: '40 s', '12 min', '49 h 50 min'."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"
