"""The peers' own train steps, for `bench.py` to time beside ours: their code, not ours.

`../shared/peers` (when present) holds the authors' PyTorch code (`junyanz.py`) and the
TensorFlow tutorial's (`tf_tutorial.py`). `reference_torch.py` and `reference_tf.py` are
our rewrites of their steps; these are the steps themselves:

- `junyanz`: `Pix2PixModel(opt)` with the pix2pix training defaults (unet_256, basic
  70x70 D, batch norm, vanilla GAN, lambda 100, Adam 2e-4 / 0.5), `set_input` then
  `optimize_parameters()`, on the CPU;
- `tf_tutorial`: the tutorial's `Generator()`, `Discriminator()`, `make_optimizers()` and
  its `@tf.function train_step`, with a no-op summary writer (tensorboard installed).

Both take 256x256 images; `make_step(name, batch_size)` returns `(step, parameters)`
with `step()` running one train step on fixed random pairs and waiting for it.
"""

import os
import pathlib
import sys
from types import SimpleNamespace

import numpy as np

PEERS = pathlib.Path(__file__).resolve().parents[2] / "shared" / "peers"
TORCHVISION_FILES = pathlib.Path(__file__).resolve().parents[1] / ".cache" / "torchvision-files"
ADAPTERS = pathlib.Path(__file__).resolve().parents[1] / "examples" / "adapters"
NAMES = {"junyanz": "torch", "tf_tutorial": "tensorflow"}  # peer -> the framework it needs


def available():
    """The peers whose code is here, by name."""
    return [name for name in NAMES if (PEERS / f"{name}.py").is_file()]


def pairs(batch_size, channels_first):
    rng = np.random.default_rng(0)
    shape = (batch_size, 3, 256, 256) if channels_first else (batch_size, 256, 256, 3)
    return [rng.uniform(-1, 1, shape).astype("float32") for _ in range(2)]


def make_step(name, batch_size):
    os.environ.setdefault("TORCHVISION_FILES", str(TORCHVISION_FILES))
    os.environ.setdefault("PIX2PIX_PEERS", str(PEERS))
    for folder in (str(PEERS), str(ADAPTERS)):
        if folder not in sys.path:
            sys.path.insert(0, folder)
    return {"junyanz": junyanz_step, "tf_tutorial": tf_tutorial_step}[name](batch_size)


def count(parameters):
    return sum(int(np.prod(p.shape)) for p in parameters)


def junyanz_step(batch_size):
    import junyanz
    import torch
    from junyanz_adapter import OPTIONS  # the pix2pix training defaults, as the suite uses

    torch.manual_seed(0)
    model = junyanz.Pix2PixModel(SimpleNamespace(**OPTIONS))
    a, b = (torch.from_numpy(x) for x in pairs(batch_size, channels_first=True))

    def step():
        model.set_input({"A": a, "B": b, "A_paths": [], "B_paths": []})
        model.optimize_parameters()
        model.loss_G.item()  # waits

    counts = [count(model.netG.parameters()), count(model.netD.parameters())]
    return step, counts


def tf_tutorial_step(batch_size):
    import tensorflow as tf
    import tf_tutorial as tutorial

    tutorial.generator, tutorial.discriminator = tutorial.Generator(), tutorial.Discriminator()
    tutorial.generator_optimizer, tutorial.discriminator_optimizer = tutorial.make_optimizers()
    tutorial.summary_writer = tf.summary.create_noop_writer()
    x, y = (tf.constant(v) for v in pairs(batch_size, channels_first=False))
    counter = [0]

    def step():
        tutorial.train_step(x, y, tf.constant(counter[0], tf.int64))
        counter[0] += 1
        float(tf.reduce_sum(tutorial.generator.trainable_variables[0]))  # waits

    counts = [count(tutorial.generator.trainable_variables)]
    counts.append(count(tutorial.discriminator.trainable_variables))
    return step, counts
