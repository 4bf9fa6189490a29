"""One recorded train step (the "recording" capability), sorted out for the requirements.

The adapter's `Trainer.step` returns what the implementation's own step computed; this
module names each array it saw (x, y or G(x)), each call of D by the pair it scored, and
finds which calls each recorded loss was computed from.
"""

import numpy as np

from pix2pix_spec.protocol import declared
from pix2pix_spec.reference import (
    array,
    d_variants,
    g_variants,
    matches,
    paper_d_loss,
    paper_g_loss,
    patch_map,
    same,
    scalar,
    to_logits,
)

STEP_RTOL = 2e-4  # float32 losses of a real step, compared with float64 formulas


class Call:
    """One recorded call of D: its pair, its outputs (as logits), and what the pair is."""

    def __init__(self, index, condition, image, outputs, kind, batch):
        self.index = index
        self.condition = None if condition is None else array(condition)
        self.image = array(image)
        self.logits = to_logits(patch_map(outputs), kind)
        self.condition_is = batch.name_of(self.condition)
        self.image_is = batch.name_of(self.image)


class Batch:
    def __init__(self, x, y, fake):
        self.arrays = {"x": array(x), "y": array(y), "G(x)": array(fake)}

    def name_of(self, value):
        if value is None:
            return "nothing"
        for name, known in self.arrays.items():
            if same(value, known, atol=1e-4):
                return name
        return "something else"


class Record:
    """A checked `Trainer.step` record and the calls of D sorted by what they scored."""

    def __init__(self, impl, record, x, y):
        missing = [key for key in ("fake", "d_calls", "d_loss", "g_loss") if key not in record]
        if missing:
            raise AssertionError(f"adapter error: the step's record has no {missing}")
        self.x, self.y, self.fake = array(x), array(y), array(record["fake"])
        self.batch = Batch(x, y, self.fake)
        kind = declared(impl, "discriminator_outputs")
        self.calls = [
            Call(i, *call, kind=kind, batch=self.batch) for i, call in enumerate(record["d_calls"])
        ]
        self.d_loss, self.g_loss = scalar(record["d_loss"]), scalar(record["g_loss"])

    def scoring(self, image):
        """The calls whose scored image is `image` ("y" or "G(x)"), in either pair order."""
        return [c for c in self.calls if image in (c.image_is, c.condition_is)]

    def d_sources(self, paper_only=False):
        """[(formula name, real call, fake call)] that give the recorded D loss."""
        found = []
        for real in self.scoring("y"):
            for fake in self.scoring("G(x)"):
                values = {"the paper's": paper_d_loss(real.logits, fake.logits)}
                if not paper_only:
                    values.update(d_variants(real.logits, fake.logits))
                for name in matches(self.d_loss, values, rtol=STEP_RTOL):
                    found.append((name, real, fake))
        return found

    def g_sources(self, paper_only=False):
        """[(formula name, fake call)] that give the recorded G loss."""
        found = []
        for fake in self.scoring("G(x)"):
            values = {"the paper's": paper_g_loss(fake.logits, self.fake, self.y)}
            if not paper_only:
                values.update(g_variants(fake.logits, self.fake, self.y))
            for name in matches(self.g_loss, values, rtol=STEP_RTOL):
                found.append((name, fake))
        return found


def smallest_size(impl, at_least=32):
    """The smallest declared image size >= `at_least` (else the largest): fast steps."""
    fitting = [size for size in impl.image_sizes if size >= at_least]
    return min(fitting) if fitting else max(impl.image_sizes)


def recorded_step(impl):
    """(trainer, Record) of one step of a fresh trainer on a random batch of two."""
    size = smallest_size(impl)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (2, size, size, 3)).astype("float32")
    y = rng.uniform(-1, 1, (2, size, size, 3)).astype("float32")
    trainer = impl.trainer(size)
    answer = trainer.step(x, y)
    return trainer, None if answer is None else Record(impl, answer, x, y)
