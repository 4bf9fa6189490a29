"""Training behaviour (section 3.3), optional: a few steps on one fixed small batch."""

import numpy as np
import pytest
from adapter_protocol import array, patch_map, to_logits, working_size

requirement = pytest.mark.requirement

STEPS = 30
# Measured after 30 steps: 5.5 to 9 logits for a learning D, -0.5 to 0.3 for a frozen one.
SEPARATION = 2.0


def fixed_batch(size, count=2):
    """Blocky colour-coded 'label maps' and smooth 'photos' determined by them."""
    rng = np.random.default_rng(0)
    cells = rng.integers(0, 4, (count, 4, 4))
    palette = np.array([[-1, -1, 1], [1, -1, -1], [-1, 1, -1], [1, 1, 1]], "float32")
    labels = palette[np.kron(cells, np.ones((size // 4, size // 4), int))]
    shade = np.linspace(-0.3, 0.3, size, dtype="float32")[None, :, None, None]
    photos = np.clip(0.6 * labels[..., ::-1] + shade, -1, 1).astype("float32")
    return labels.astype("float32"), photos


@pytest.fixture(scope="module")
def trained(impl):
    """(trainer, inputs, targets, L1 before, L1 after) after STEPS steps on one batch."""
    if "training" not in impl.capabilities:
        pytest.skip(f"{impl.name} does not declare training")
    size = working_size(impl, 32)
    trainer = impl.trainer(size)
    inputs, targets = fixed_batch(size)
    before = float(np.mean(np.abs(array(trainer.generate(inputs)) - targets)))
    for _ in range(STEPS):
        trainer.step(inputs, targets)
    after = float(np.mean(np.abs(array(trainer.generate(inputs)) - targets)))
    return trainer, inputs, targets, before, after


@requirement("T1", "3.3", "a few train steps on one batch reduce G's L1 distance to the targets")
def test_training_reduces_the_l1_distance(trained):
    _, _, _, before, after = trained
    assert after < 0.7 * before, (
        f"T1: {STEPS} steps on one fixed batch should cut G's mean |y - G(x)| well down "
        f"(below 70% of the start); measured {before:.4f} -> {after:.4f}. Is G's optimizer "
        "stepping, on the L1 term with lambda = 100?"
    )


@requirement("T2", "3.3", "D learns: its outputs on real pairs rise above those on generated ones")
def test_the_discriminator_separates_real_from_generated(trained, impl):
    trainer, inputs, targets, _, _ = trained
    fake = array(trainer.generate(inputs)).astype("float32")

    def mean_logit(images):
        outputs = patch_map(trainer.discriminate(inputs, images))
        return float(np.mean(to_logits(outputs, impl.discriminator_outputs)))

    real, generated = mean_logit(targets), mean_logit(fake)
    assert real - generated > SEPARATION, (
        f"T2: after {STEPS} steps D should score the real pairs well above the generated "
        f"ones (by more than {SEPARATION} in logits); measured mean logit {real:.3f} on "
        f"(x, y), {generated:.3f} on (x, G(x)). Is D's "
        "optimizer stepping, with real labelled 1 and fake 0?"
    )
