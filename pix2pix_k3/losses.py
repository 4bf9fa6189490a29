"""The pix2pix objective (section 3.1), written once with `keras.ops`.

    G* = arg min_G max_D  L_cGAN(G, D) + lambda * L_L1(G)

The discriminator returns logits; every loss here takes logits, never
probabilities, so the log-sigmoid is computed stably.
"""

from keras import ops

from pix2pix_k3.paper import D_LOSS_FACTOR, GAN_MODES, HALVE_D_LOSS, LAMBDA_L1


def sigmoid_cross_entropy(logits, label):
    """Binary cross-entropy of `sigmoid(logits)` against a constant label, elementwise.

    Uses max(x, 0) - x * z + log(1 + exp(-|x|)), which is exact and finite for any
    finite logit (no exp overflow, no log(0)).
    """
    logits = ops.convert_to_tensor(logits)
    return ops.relu(logits) - logits * label + ops.log1p(ops.exp(-ops.abs(logits)))


def gan_loss(logits, target_is_real, gan_mode="vanilla"):
    """Mean GAN loss of discriminator logits against the label real (1) or fake (0).

    `vanilla` is the paper's binary cross-entropy; `lsgan` the least-squares loss
    (Mao et al.) that the PyTorch reference offers, applied to the raw outputs.
    """
    if gan_mode not in GAN_MODES:
        raise ValueError(f"gan_mode={gan_mode!r} is not one of {', '.join(GAN_MODES)}.")
    label = 1.0 if target_is_real else 0.0
    if gan_mode == "vanilla":
        return ops.mean(sigmoid_cross_entropy(logits, label))
    return ops.mean(ops.square(ops.convert_to_tensor(logits) - label))


def l1_loss(generated, target):
    """Mean absolute error: the L1 term, which the paper prefers to L2 as it blurs less."""
    return ops.mean(ops.abs(ops.convert_to_tensor(target) - ops.convert_to_tensor(generated)))


def discriminator_loss(real_logits, fake_logits, gan_mode="vanilla", halve=HALVE_D_LOSS):
    """D's loss on real pairs labelled 1 and generated pairs labelled 0.

    Returns `(total, real_term, fake_term)`. With `halve` (the paper's "we divide the
    objective by 2 while optimizing D") the total is 0.5 * (real + fake), which slows
    D's learning relative to G's.
    """
    real = gan_loss(real_logits, True, gan_mode)
    fake = gan_loss(fake_logits, False, gan_mode)
    total = real + fake
    return (D_LOSS_FACTOR * total if halve else total), real, fake


def generator_loss(
    fake_logits,
    generated,
    target,
    lambda_l1=LAMBDA_L1,
    gan_mode="vanilla",
    uses_gan=True,
    uses_l1=True,
):
    """G's loss: the non-saturating GAN term plus `lambda_l1` times the L1 term.

    Non-saturating: G maximises log D(x, G(x)) (labels its fakes "real") rather than
    minimising log(1 - D(x, G(x))), which gives G useful gradients early on when D
    rejects its samples with confidence. `fake_logits` may be None when `uses_gan` is
    off (the L1-only ablation, which has no discriminator).

    Returns `(total, gan_term, l1_term)`; the terms are reported unweighted, and a term
    that is switched off contributes 0 to the total while still being reported.
    """
    l1 = l1_loss(generated, target)
    gan = gan_loss(fake_logits, True, gan_mode) if uses_gan else ops.zeros_like(l1)
    total = ops.zeros_like(l1)
    if uses_gan:
        total = total + gan
    if uses_l1:
        total = total + lambda_l1 * l1
    return total, gan, l1
