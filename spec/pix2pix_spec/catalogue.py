"""Every requirement of the suite, in paper order: one home for their IDs and texts.

IDs are a group and a number (GEN-3, OBJ-1): the groups are GEN (generator), ACT
(activations), DIS (discriminator), DAT (data pipeline), OBJ (objective) and TRN
(training). "paper" requirements quote the paper; "convention" ones are this suite's
conventions, which the paper does not state, and say so in their text.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Requirement:
    ident: str
    section: str
    text: str
    kind: str = "paper"  # or "convention"


REQUIREMENTS = [
    Requirement("GEN-1", "6.1.1", "output shape equals input shape, at the sizes G takes"),
    Requirement("GEN-2", "6.1.1", "outputs lie in [-1, 1] (a tanh on the last layer)"),
    Requirement("GEN-3", "3.1", "training mode is stochastic: dropout is the noise z"),
    Requirement(
        "GEN-4",
        "convention",
        "inference mode is deterministic (the paper keeps dropout on at test time)",
        "convention",
    ),
    Requirement("GEN-5", "3.2.1", "U-Net skips: a one-pixel change acts near that pixel"),
    Requirement(
        "GEN-6",
        "6.1.1",
        "encoder C64-C128-C256-C512-C512-C512-C512-C512: no norm on the first and the "
        "innermost, no dropout",
    ),
    Requirement(
        "GEN-7",
        "6.1.1",
        "decoder CD512-CD1024-CD1024-C1024-C1024-C512-C256-C128: dropout 0.5 on the first "
        "three, norm on all",
    ),
    Requirement(
        "GEN-8",
        "6.1.1, 3.3",
        "normalisation is BatchNorm (instance norm, what it becomes at batch 1, accepted)",
    ),
    Requirement(
        "GEN-9", "6.1.1", "the decoder upsamples with transposed convolutions (not resize + conv)"
    ),
    Requirement(
        "ACT-1",
        "6.1.1, 6.1.2",
        "LeakyReLUs (G's encoder, D) have slope 0.2; the decoder's ReLUs are not leaky",
    ),
    Requirement("DIS-1", "6.1.2", "70x70 PatchGAN on 256x256 gives a 30x30 grid of outputs"),
    Requirement(
        "DIS-2", "3.2.2, Tab. 3", "receptive field, measured by perturbation, is the declared one"
    ),
    Requirement(
        "DIS-3", "2.1, 3.2.2", "D is conditional: it sees the input image, not only the output"
    ),
    Requirement(
        "DIS-4",
        "6.1.2",
        "D normalises with batch statistics in training, as declared (probed black-box)",
    ),
    Requirement("DIS-5", "6.1.2", "70x70 D is C64-C128-C256-C512, no norm on the first layer"),
    Requirement(
        "DIS-6", "3.1, 6.1.2", "D has no dropout: two training-mode passes of one batch agree"
    ),
    Requirement("DAT-1", "6.2", "jitter resizes 256 to 286 and crops back to 256x256"),
    Requirement(
        "DAT-2", "6.2", "pair-consistent jitter: one crop window and one mirror for both images"
    ),
    Requirement("DAT-3", "6.2", "the crop window is drawn at random over the whole margin"),
    Requirement("DAT-4", "6.2", "mirroring: about half of the draws flip the pair left to right"),
    Requirement(
        "DAT-5", "6.1.1", "images reach the networks in [-1, 1], the range of G's tanh output"
    ),
    Requirement(
        "DAT-6",
        "convention",
        "the direction picks the input half: AtoB the left (A), BtoA the right (B)",
        "convention",
    ),
    Requirement("OBJ-1", "3.1, 3.3", "D's loss = 1/2 [BCE(D(x,y), 1) + BCE(D(x,G(x)), 0)]"),
    Requirement("OBJ-2", "3.1, 3.3, 4", "G's loss = BCE(D(x,G(x)), 1) + 100 * mean |y - G(x)|"),
    Requirement("OBJ-3", "2.1, 3.1", "training conditions D on x: it scores (x, y) and (x, G(x))"),
    Requirement(
        "OBJ-4", "3.3", "alternating updates: one D step, then one G step through the updated D"
    ),
    Requirement(
        "TRN-1", "3.3", "a few train steps on one batch cut G's L1 distance to the targets"
    ),
    Requirement(
        "TRN-2", "3.3", "D learns: its update lowers its objective on the pairs of that step"
    ),
]

BY_ID = {requirement.ident: requirement for requirement in REQUIREMENTS}
ORDER = {requirement.ident: i for i, requirement in enumerate(REQUIREMENTS)}
