"""Training behaviour (section 3.3): a few steps of the implementation's own train step on
one fixed small batch, read the way the paper reads its networks at test time."""

import numpy as np
import pytest

from pix2pix_spec.protocol import declared
from pix2pix_spec.reference import array, lsgan_d_loss, paper_d_loss, patch_map, to_logits

requirement = pytest.mark.requirement

STEPS = 10  # measured: 10 steps take L1 to 41-49% of its start on the calibration targets
PASSES = 3  # training-mode passes averaged: dropout makes each one different


def fixed_batch(size, count=2):
    """Blocky colour-coded 'label maps' and smooth 'photos' determined by them."""
    rng = np.random.default_rng(0)
    cells = rng.integers(0, 4, (count, 4, 4))
    palette = np.array([[-1, -1, 1], [1, -1, -1], [-1, 1, -1], [1, 1, 1]], "float32")
    labels = palette[np.kron(cells, np.ones((size // 4, size // 4), int))]
    shade = np.linspace(-0.3, 0.3, size, dtype="float32")[None, :, None, None]
    photos = np.clip(0.6 * labels[..., ::-1] + shade, -1, 1).astype("float32")
    return labels.astype("float32"), photos


def generate(impl, trainer, inputs):
    """G(x) as the paper runs it at test time: dropout on, batch statistics (section 3.3),
    averaged over a few passes. Unlike inference mode, this does not depend on how far
    BatchNorm's running averages have moved in a few steps (momentum)."""
    passes = [array(impl.run_generator(trainer.generator, inputs, True)) for _ in range(PASSES)]
    return np.mean(passes, axis=0)


@pytest.fixture(scope="module")
def trained(impl):
    """(trainer, inputs, targets, L1 before, L1 after) after STEPS steps on one batch."""
    if "training" not in impl.capabilities:
        pytest.skip(f"{impl.name} does not declare training")
    fitting = [size for size in impl.image_sizes if size >= 32]
    size = min(fitting) if fitting else max(impl.image_sizes)
    trainer = impl.trainer(size)
    inputs, targets = fixed_batch(size)
    before = float(np.mean(np.abs(generate(impl, trainer, inputs) - targets)))
    for _ in range(STEPS):
        trainer.step(inputs, targets)
    after = float(np.mean(np.abs(generate(impl, trainer, inputs) - targets)))
    return trainer, inputs, targets, before, after


@requirement("TRN-1")
def test_training_reduces_the_l1_distance(trained, note):
    _, _, _, before, after = trained
    note(f"L1 {before:.3f} -> {after:.3f}")
    assert after < 0.7 * before, (
        f"TRN-1: {STEPS} steps on one fixed batch should cut G's mean |y - G(x)| well down "
        f"(below 70% of the start, G read in training mode as the paper does at test time); "
        f"measured {before:.4f} -> {after:.4f}. Is G's optimizer stepping, on the L1 term "
        "with lambda = 100?"
    )


@requirement("TRN-2")
def test_a_discriminator_step_lowers_its_loss(stepped, impl, note):
    trainer, record = stepped
    kind = declared(impl, "discriminator_outputs")
    objective = lsgan_d_loss if kind == "lsgan" else paper_d_loss  # D's own, as declared
    found = record.d_sources()
    if found:
        _, real, fake = found[0]
    else:  # the loss is none we know (OBJ-1 says so): take D's first calls on each pair
        reals, fakes = record.scoring("y"), record.scoring("G(x)")
        if not (reals and fakes):
            pytest.skip("the step's calls of D did not score both real and generated pairs")
        real, fake = reals[0], fakes[0]
    before = objective(real.logits, fake.logits)

    def outputs(images):
        # As in the step: one call per kind of pair, batch statistics of that call.
        out = impl.run_discriminator(trainer.discriminator, record.x, images, training=True)
        return to_logits(patch_map(out), kind)

    after = objective(outputs(record.y), outputs(record.generated(fake)))
    note(f"D's loss on its batch {before:.4f} -> {after:.4f}")
    assert after < before - 1e-4, (
        "TRN-2: D's update must lower D's objective (halved BCE, or the declared LSGAN's "
        "squares, with real labelled 1 and fake 0) on the very pairs it was computed from; "
        "before the step "
        f"{before:.5f}, after it {after:.5f}. Is D's optimizer stepping, on D's own "
        "variables, with real labelled 1 and fake 0?"
    )
