"""One recorded train step (the "recording" capability), sorted out for the requirements.

The adapter's `Trainer.step` returns what the implementation's own step computed; this
module names each array it saw (x, y or G(x)), each call of D by the pair it scored, and
finds which calls each recorded loss was computed from.
"""

import numpy as np

from pix2pix_spec.protocol import declared
from pix2pix_spec.reference import (
    LAMBDA_L1,
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
# G's total is ~50, nearly all of it lambda * L1: its GAN term is matched to STEP_RTOL of
# itself, plus this share of the total for float32 rounding (measured <= 1.6e-7 on the
# calibration targets and pix2pix_k3). Matched to STEP_RTOL of the total, the authors'
# LSGAN step matched the paper's formula through another call of D at seed 6.
STEP_F32 = 1e-6


class Call:
    """One recorded call of D: its pair, its outputs (as logits), what the pair is, and
    which of the step's G outputs it scored (`fake`, None where it scored none)."""

    def __init__(self, index, condition, image, outputs, kind, batch):
        self.index = index
        self.condition = None if condition is None else array(condition)
        self.image = array(image)
        self.logits = to_logits(patch_map(outputs), kind)
        (self.condition_is, condition_fake), (self.image_is, image_fake) = (
            batch.role_of(self.condition),
            batch.role_of(self.image),
        )
        self.fake = image_fake if image_fake is not None else condition_fake


class Batch:
    """x, y and every G(x) of the step, by which the suite names what D was given."""

    def __init__(self, x, y, fakes):
        self.x, self.y, self.fakes = array(x), array(y), [array(fake) for fake in fakes]

    def role_of(self, value):
        """(name, number of the G output or None): "x", "y", "G(x)", "nothing" or
        "something else"."""
        if value is None:
            return "nothing", None
        for name, known in (("x", self.x), ("y", self.y)):
            if same(value, known, atol=1e-4):
                return name, None
        for number, fake in enumerate(self.fakes):
            if same(value, fake, atol=1e-4):
                return "G(x)", number
        return "something else", None


def generated_images(record):
    """The step's G outputs as a list: one array, or a list of them."""
    fake = record["fake"]
    return list(fake) if isinstance(fake, (list, tuple)) else [fake]


class Record:
    """A checked `Trainer.step` record and the calls of D sorted by what they scored."""

    def __init__(self, impl, record, x, y):
        missing = [key for key in ("fake", "d_calls", "d_loss", "g_loss") if key not in record]
        if missing:
            raise AssertionError(f"adapter error: the step's record has no {missing}")
        self.batch = Batch(x, y, generated_images(record))
        if not self.batch.fakes:
            raise AssertionError("adapter error: the step's record lists no G(x)")
        self.x, self.y, self.fake = self.batch.x, self.batch.y, self.batch.fakes[0]
        kind = declared(impl, "discriminator_outputs")
        self.calls = [
            Call(i, *call, kind=kind, batch=self.batch) for i, call in enumerate(record["d_calls"])
        ]
        self.d_loss, self.g_loss = scalar(record["d_loss"]), scalar(record["g_loss"])

    def scoring(self, image):
        """The calls whose scored image is `image` ("y" or "G(x)"), in either pair order."""
        return [c for c in self.calls if image in (c.image_is, c.condition_is)]

    def generated(self, call):
        """The G output `call` scored (the first, where it scored none)."""
        return self.batch.fakes[call.fake or 0]

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
        """[(formula name, fake call)] that give the recorded G loss, each with the G(x)
        its call scored."""
        found = []
        for fake in self.scoring("G(x)"):
            generated = self.generated(fake)
            l1_term = LAMBDA_L1 * float(np.mean(np.abs(self.y - generated)))
            values = {"the paper's": paper_g_loss(fake.logits, generated, self.y)}
            if not paper_only:
                values.update(g_variants(fake.logits, generated, self.y))
            for name, value in values.items():
                tolerance = STEP_RTOL * abs(value - l1_term) + STEP_F32 * abs(value) + 1e-7
                if abs(self.g_loss - value) <= tolerance:
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
