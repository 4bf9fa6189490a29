"""The objective (section 3.1) against NumPy references on hypothesis-drawn values."""

import numpy as np
import pytest
from helpers import to_numpy
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from pix2pix_k3 import discriminator_loss, gan_loss, generator_loss, l1_loss
from pix2pix_k3.paper import objective

RTOL = 1e-5


def scalar(tensor):
    return float(to_numpy(tensor))


def logits_arrays(max_abs=50.0):
    return hnp.arrays(
        np.float32,
        hnp.array_shapes(min_dims=4, max_dims=4, min_side=1, max_side=5),
        elements=st.floats(-max_abs, max_abs, width=32),
    )


def images(shape):
    return hnp.arrays(np.float32, shape, elements=st.floats(-1, 1, width=32))


def bce_reference(logits, label):
    """-[z log s(x) + (1 - z) log(1 - s(x))], in float64: log s(x) = -logaddexp(0, -x)."""
    x = logits.astype(np.float64)
    return np.mean(label * np.logaddexp(0, -x) + (1 - label) * np.logaddexp(0, x))


@given(logits_arrays(), st.booleans())
def test_vanilla_gan_loss_is_binary_cross_entropy_on_logits(logits, real):
    expected = bce_reference(logits, 1.0 if real else 0.0)
    assert float(to_numpy(gan_loss(logits, real))) == pytest.approx(expected, rel=RTOL, abs=1e-6)


@given(logits_arrays(), st.booleans())
def test_lsgan_loss_is_the_squared_distance_to_the_label(logits, real):
    expected = np.mean((logits.astype(np.float64) - (1.0 if real else 0.0)) ** 2)
    assert float(to_numpy(gan_loss(logits, real, "lsgan"))) == pytest.approx(expected, rel=RTOL)


@pytest.mark.parametrize("value", [1e4, -1e4, 88.8, -88.8, 0.0])
@pytest.mark.parametrize("real", [True, False])
def test_extreme_logits_give_finite_exact_losses(value, real):
    logits = np.full((1, 2, 2, 1), value, np.float32)
    loss = float(to_numpy(gan_loss(logits, real)))
    assert np.isfinite(loss)
    assert loss == pytest.approx(bce_reference(logits, 1.0 if real else 0.0), rel=RTOL, abs=1e-6)


@given(logits_arrays(), logits_arrays(), st.booleans(), st.sampled_from(["vanilla", "lsgan"]))
def test_discriminator_loss_is_half_the_sum_of_real_and_fake_terms(real, fake, halve, mode):
    total, real_term, fake_term = map(scalar, discriminator_loss(real, fake, mode, halve))
    expected_real = float(to_numpy(gan_loss(real, True, mode)))
    expected_fake = float(to_numpy(gan_loss(fake, False, mode)))
    assert (real_term, fake_term) == (pytest.approx(expected_real), pytest.approx(expected_fake))
    scale = 0.5 if halve else 1.0
    assert total == pytest.approx(scale * (expected_real + expected_fake), rel=RTOL)


def test_discriminator_loss_reference_value():
    real, fake = np.zeros((1, 1, 1, 1), np.float32), np.zeros((1, 1, 1, 1), np.float32)
    total, _, _ = discriminator_loss(real, fake)  # D undecided: log 2 on each side
    assert float(to_numpy(total)) == pytest.approx(np.log(2.0), rel=1e-6)


@given(
    data=st.data(),
    lambda_l1=st.floats(0, 1000),
    shape=hnp.array_shapes(min_dims=4, max_dims=4, min_side=1, max_side=6),
)
def test_generator_loss_is_non_saturating_gan_plus_lambda_l1(data, lambda_l1, shape):
    fake_logits = data.draw(logits_arrays())
    generated, target = data.draw(images(shape)), data.draw(images(shape))
    total, gan, l1 = map(scalar, generator_loss(fake_logits, generated, target, lambda_l1))
    expected_gan = bce_reference(fake_logits, 1.0)  # G labels its own samples "real"
    expected_l1 = np.mean(np.abs(target.astype(np.float64) - generated))
    # A float32 mean of n terms may be off by about n units in the last place when the
    # backend sums them one after another (XLA on a CPU does): 1.5e-5 for 1,080 terms.
    rel = max(RTOL, max(fake_logits.size, target.size) * np.finfo(np.float32).eps / 2)
    assert gan == pytest.approx(expected_gan, rel=rel, abs=1e-6)
    assert l1 == pytest.approx(expected_l1, rel=rel, abs=1e-7)
    assert total == pytest.approx(expected_gan + lambda_l1 * expected_l1, rel=1e-4, abs=1e-5)


def test_l1_is_mean_absolute_error_not_squared():
    generated = np.zeros((1, 2, 2, 1), np.float32)
    target = np.array([0.5, -1.0, 0.0, 0.25], np.float32).reshape(1, 2, 2, 1)
    assert float(to_numpy(l1_loss(generated, target))) == pytest.approx(0.4375)


def test_switched_off_terms_do_not_count():
    logits = np.full((1, 2, 2, 1), -3.0, np.float32)
    generated, target = np.zeros((1, 4, 4, 3), np.float32), np.ones((1, 4, 4, 3), np.float32)
    only_l1 = generator_loss(None, generated, target, 100.0, uses_gan=False)
    only_gan = generator_loss(logits, generated, target, 100.0, uses_l1=False)
    assert float(to_numpy(only_l1[0])) == pytest.approx(100.0)
    assert float(to_numpy(only_gan[0])) == pytest.approx(bce_reference(logits, 1.0), rel=RTOL)
    assert float(to_numpy(only_gan[2])) == pytest.approx(1.0)  # still reported


@pytest.mark.parametrize(
    ("name", "uses_gan", "uses_l1", "conditional"),
    [
        ("l1", False, True, False),
        ("gan", True, False, False),
        ("cgan", True, False, True),
        ("l1+gan", True, True, False),
        ("l1+cgan", True, True, True),
    ],
)
def test_the_papers_loss_ablations(name, uses_gan, uses_l1, conditional):
    terms = objective(name)
    assert (terms.uses_gan, terms.uses_l1, terms.conditional) == (uses_gan, uses_l1, conditional)


@pytest.mark.parametrize("bad", ["l2", "L1+cGAN", "cgan+l1", ""])
def test_unknown_objectives_are_refused_with_the_list(bad):
    with pytest.raises(ValueError, match="l1, gan, cgan, l1\\+gan, l1\\+cgan"):
        objective(bad)


def test_unknown_gan_mode_is_refused():
    with pytest.raises(ValueError, match="gan_mode='wgan'"):
        gan_loss(np.zeros((1, 1, 1, 1), np.float32), True, "wgan")
