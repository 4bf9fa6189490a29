"""Run `python -m pix2pix_k3.fit` and SIGKILL it at a given (epoch, batch): a crash.

python tests/fit_until_killed.py EPOCH BATCH FIT_ARGS...   (both 1-based)
"""

import os
import signal
import sys

import keras

from pix2pix_k3.fit import main


class KillAt(keras.callbacks.Callback):
    def __init__(self, epoch, batch):
        super().__init__()
        self.at, self.epoch = (epoch, batch), 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch + 1

    def on_train_batch_end(self, batch, logs=None):
        if (self.epoch, batch + 1) == self.at:
            os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    epoch, batch, *argv = sys.argv[1:]
    main(argv, callbacks=[KillAt(int(epoch), int(batch))])
