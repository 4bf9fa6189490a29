"""Keras callbacks `fit` trains with: the paper's learning-rate decay, a NaN guard, the
run folder's per-epoch record (history.csv, checkpoint, sample grid, loss curves,
index.html), TensorBoard logs, and an early estimate of the run's duration.

Keras passes callbacks 0-based epoch numbers; everything a run writes numbers epochs
from 1 (epoch 1 is the first), as `samples/epoch_001.png` and Keras' own progress bar do.
"""

import math
import time

import keras
import numpy as np
from PIL import Image

from pix2pix_k3 import report
from pix2pix_k3.paper import height_width


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


class HistoryCSV(keras.callbacks.CSVLogger):
    """Keras' `CSVLogger`, with the first epoch's row numbered 1."""

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch + 1, logs)


class TensorBoard(keras.callbacks.TensorBoard):
    """Keras' `TensorBoard` callback (every logged loss and the learning rate, training
    and validation), at steps numbered from 1 like history.csv and the sample grids."""

    def __init__(self, log_dir):
        super().__init__(log_dir=str(log_dir), write_graph=False)

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch + 1, logs)


class SampleGridSummary(keras.callbacks.Callback):
    """Each epoch's sample grid as a TensorBoard image, at the epoch's step.

    It shows the PNG `RunRecorder` drew (so it must follow it), pixel for pixel; an epoch
    that drew none (a NaN) shows nothing.
    """

    TAG = "samples: input | target | output"

    def __init__(self, run, log_dir):
        super().__init__()
        self.run, self.log_dir, self.writer = run, log_dir, None

    def on_epoch_end(self, epoch, logs=None):
        import tensorflow as tf  # TensorBoard's summaries are TensorFlow's, on any backend

        grid = self.run.sample_grid_file(epoch + 1)
        if not grid.is_file():
            return
        if self.writer is None:
            self.writer = tf.summary.create_file_writer(str(self.log_dir / "samples"))
        with Image.open(grid) as picture:
            pixels = np.asarray(picture.convert("RGB"))
        with self.writer.as_default():
            tf.summary.image(self.TAG, pixels[None], step=epoch + 1)
        self.writer.flush()


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
        self.run.ledger.commit(self.model, done, keep=self.config.keeps_checkpoint(done))
        self.report(done)

    def report(self, done):
        """The pictures of the run after `done` epochs: sample grid, curves, index.html."""
        report.save_png(
            report.sample_grid(self.model, *self.samples), self.run.sample_grid_file(done)
        )
        report.plot_curves(report.read_history(self.run.history_file), self.run.curves_file)
        report.write_run_index(self.run, self.config, done)


class TimeEstimate(keras.callbacks.Callback):
    """Print how long the rest of the run will take: after the first few steps, then
    once a whole epoch has been timed.

    The paper's full-size settings take days on a CPU; saying so after a minute beats
    finding out after a day. The first step includes compilation, so the first estimate
    measures the `steps` after it, and counts neither validation nor checkpoints, which
    the first epoch also compiles (in a small run they are most of its time). The second
    epoch, start to end with everything in it, gives the second estimate. Must come after
    the run's other callbacks, so that their work is in the epoch's time.
    """

    def __init__(self, steps=5, show=print):
        super().__init__()
        self.steps, self.show = steps, show
        self.start, self.measured, self.epoch = None, 0, 0
        self.epoch_ended, self.epochs_timed = None, 0

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
                f"{left} steps left (validation and checkpoints not counted; the first "
                "epoch also compiles them)"
            )

    def on_epoch_end(self, epoch, logs=None):
        now = time.perf_counter()
        ended, self.epoch_ended = self.epoch_ended, now
        self.epochs_timed += 1
        left = self.params["epochs"] - (epoch + 1)
        if ended is None or self.epochs_timed != 2 or left == 0:
            return
        self.show(
            f"about {duration((now - ended) * left)} to go: epoch {epoch + 1} took "
            f"{duration(now - ended)} with validation and checkpoint, {left} epoch"
            f"{'s' * (left != 1)} left"
        )


CPU_SECONDS_PER_IMAGE_256 = 2.0  # one 256 px train step at batch 1, measured on a 2-core CPU


def cpu_note(config, steps, on_accelerator):
    """A warning before a run at the paper's image size on a CPU, with a rough duration
    (None when the images are smaller, or a GPU computes). The measured estimate
    follows a few steps in (`TimeEstimate`)."""
    height, width = height_width(config.image_size)
    if on_accelerator or height * width < 256 * 256:
        return None
    seconds = steps * config.batch_size * CPU_SECONDS_PER_IMAGE_256 * height * width / 256**2
    size = height if height == width else f"{height}x{width}"
    return (
        f"note: {size} px is the paper's full size and no GPU is in use: at about "
        f"{CPU_SECONDS_PER_IMAGE_256:.0f} s per image on a small CPU, these {steps} steps take "
        f"roughly {duration(seconds)} (measured after a few steps, below). A GPU does it in "
        "a small fraction of that; --image-size 64 trains in minutes here."
    )


def duration(seconds):
    """A duration as a person says it: '40 s', '12 min', '49 h 50 min'."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"
