"""The objective: section 3.1 (cGAN + lambda * L1) and 3.3 (non-saturating G, D halved).

Reference values come from the formulas, computed here in float64. When a value is off,
the message names the known variant it matches, if any.
"""

import numpy as np
import pytest
from adapter_protocol import (
    array,
    bce,
    close,
    from_logits,
    patch_map,
    saturating,
    scalar,
    to_logits,
    working_size,
)
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

requirement = pytest.mark.requirement

SHAPE = (2, 4, 4)  # two images' patch outputs
IMAGES = (2, 8, 8, 3)


def logits(limit):
    return arrays("float32", SHAPE, elements=st.floats(-limit, limit, width=32))


def pictures():
    return arrays("float32", IMAGES, elements=st.floats(-1, 1, width=32))


def limit(impl):
    """Probabilities lose precision near 0 and 1: stay within |logit| <= 8 for them."""
    return 20.0 if getattr(impl, "discriminator_outputs", "logits") == "logits" else 8.0


def outputs(impl, values):
    """The adapter's kind of D output, shaped (N, h, w, 1)."""
    return from_logits(values, impl.discriminator_outputs)[..., None].astype("float32")


def which(measured, candidates, atol=1e-5):
    """The names of the candidate values that `measured` matches."""
    matches = [name for name, value in candidates.items() if close(measured, value, atol=atol)]
    return f" It matches: {', '.join(matches)}." if matches else ""


def d_candidates(real, fake, scale):
    total = bce(real, 1.0) + bce(fake, 0.0)
    return {
        "the sum without the paper's 1/2": total,
        "half the sum": 0.5 * total,
        "swapped labels (real as 0, fake as 1)": scale * (bce(real, 0.0) + bce(fake, 1.0)),
        "least squares (LSGAN)": scale * (np.mean((real - 1) ** 2) + np.mean(fake**2)),
    }


def g_candidates(fake, generated, target, lam):
    l1 = float(np.mean(np.abs(target - generated)))
    l2 = float(np.mean((target - generated) ** 2))
    gan = bce(fake, 1.0)
    return {
        "L2 instead of L1": gan + lam * l2,
        "no lambda (weight 1 on L1)": gan + l1,
        "the saturating loss log(1 - D)": saturating(fake) + lam * l1,
        "labels inverted (fakes labelled fake)": bce(fake, 0.0) + lam * l1,
        "the L1 term alone": lam * l1,
        "the GAN term alone": gan,
        "L1 summed over pixels instead of averaged": gan
        + lam * float(np.sum(np.abs(target - generated))),
    }


@requirement("L1", "3.1, 3.3", "D loss = 1/2 [BCE(D(x,y), real) + BCE(D(x,G(x)), fake)]")
@given(data=st.data())
def test_the_discriminator_loss_is_the_paper_one(impl, requires, data):
    requires("losses")
    real = data.draw(logits(limit(impl)), label="real logits").astype("float64")
    fake = data.draw(logits(limit(impl)), label="fake logits").astype("float64")
    scale = impl.d_loss_scale
    expected = scale * (bce(real, 1.0) + bce(fake, 0.0))
    measured = scalar(impl.discriminator_loss(outputs(impl, real), outputs(impl, fake)))
    assert close(measured, expected), (
        f"L1: D's loss must be {scale} * (mean BCE of real outputs against 1 + mean BCE of "
        f"fake outputs against 0) = {expected:.6f}; measured {measured:.6f}."
        + which(measured, d_candidates(real, fake, scale))
    )


@requirement("L2", "3.1, 3.3", "G loss = BCE(D(x,G(x)), real) + lambda * mean |y - G(x)|")
@given(data=st.data())
def test_the_generator_loss_is_the_paper_one(impl, requires, data):
    requires("losses")
    fake = data.draw(logits(limit(impl)), label="fake logits").astype("float64")
    generated = data.draw(pictures(), label="generated")
    target = data.draw(pictures(), label="target")
    lam = impl.lambda_l1
    l1 = float(np.mean(np.abs(target.astype("float64") - generated)))
    expected = bce(fake, 1.0) + lam * l1
    measured = scalar(impl.generator_loss(outputs(impl, fake), generated, target))
    assert close(measured, expected), (
        f"L2: G's loss must be the non-saturating BCE of D's outputs on fakes against 1 plus "
        f"{lam} * mean |y - G(x)| = {expected:.6f}; measured {measured:.6f}."
        + which(
            measured, g_candidates(fake, generated.astype("float64"), target.astype("float64"), lam)
        )
    )


@requirement("L3", "4, 3.3", "the paper's weights: lambda = 100, D's objective halved")
def test_the_declared_weights_are_the_paper_ones(impl, requires):
    requires("losses")
    declared = (float(impl.lambda_l1), float(impl.d_loss_scale))
    assert declared == (100.0, 0.5), (
        f"L3: the paper uses lambda = 100 and divides D's objective by 2; {impl.name} "
        f"declares lambda_l1 = {declared[0]}, d_loss_scale = {declared[1]}"
    )


@requirement("L4", "3.1", "training code: G's GAN term is D(x, G(x)); D's is D(x, y) vs D(x, G(x))")
def test_the_training_objectives_condition_on_the_input(impl, requires):
    requires("objectives", "generator", "discriminator")
    size = working_size(impl, 32)
    field = 70 if 70 in impl.receptive_fields else impl.receptive_fields[0]
    generator = impl.generator(size, 3, 3)
    discriminator = impl.discriminator(field, size, 3, 3)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (2, size, size, 3)).astype("float32")
    fake = array(impl.run_generator(generator, x, training=False)).astype("float32")
    # Targets near G(x) keep lambda * L1 small, so that the GAN term is not lost in it.
    y = np.clip(fake + rng.normal(0, 0.05, fake.shape), -1, 1).astype("float32")

    def d(condition, image):
        out = patch_map(impl.run_discriminator(discriminator, condition, image))
        return to_logits(out, impl.discriminator_outputs)

    lam, scale = impl.lambda_l1, impl.d_loss_scale
    measured = impl.objectives(generator, discriminator, x, y)
    g_measured, d_measured = scalar(measured["g_loss"]), scalar(measured["d_loss"])
    gan_measured = g_measured - lam * float(np.mean(np.abs(y - fake)))  # G's GAN term
    gan_expected = bce(d(x, fake), 1.0)
    gan_variants = {
        "D(y, G(x)): the target as the condition": bce(d(y, fake), 1.0),
        "D(G(x), x): the pair in the wrong order": bce(d(fake, x), 1.0),
        "D(x, y): the real pair": bce(d(x, y), 1.0),
    }
    assert close(gan_measured, gan_expected, rtol=0, atol=1e-4), (
        "L4: G's GAN term in training must score the pair (input x, output G(x)) with D: "
        f"expected {gan_expected:.6f}, measured {gan_measured:.6f} (G's loss minus "
        f"{lam} * L1)." + which(gan_measured, gan_variants, atol=1e-4)
    )
    d_expected = scale * (bce(d(x, y), 1.0) + bce(d(x, fake), 0.0))
    d_variants = {
        "D(y, G(x)) for the fake pair": scale * (bce(d(x, y), 1.0) + bce(d(y, fake), 0.0)),
        "pairs in the wrong order": scale * (bce(d(y, x), 1.0) + bce(d(fake, x), 0.0)),
    }
    assert close(d_measured, d_expected, rtol=0, atol=1e-4), (
        f"L4: D's loss in training must score (x, y) as real and (x, G(x)) as fake: "
        f"expected {d_expected:.6f}, measured {d_measured:.6f}."
        + which(d_measured, d_variants, atol=1e-4)
    )
