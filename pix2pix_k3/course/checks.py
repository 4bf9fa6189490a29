"""One check per exercise: the specification suite's requirements for that stage, run on
the student's code, and numeric checks against reference values, each with the likely
mistake named where it is known.

Reference values come from the paper (`pix2pix_k3.paper`), from the suite's own formulas
(`pix2pix_spec.reference`), or from pix2pix_k3 itself where it is the reference (the
parameter counts, one step's weight change); `tests/test_course.py` holds each stored
number to what pix2pix_k3 computes.
"""

import numpy as np

from pix2pix_k3.paper import IMAGE_SIZE, N_LAYERS

try:
    import pix2pix_spec
    from pix2pix_spec.catalogue import BY_ID
    from pix2pix_spec.reference import bce as mean_bce
    from pix2pix_spec.reference import d_variants, g_variants, matches, paper_d_loss, paper_g_loss
except ModuleNotFoundError as error:  # pix2pix-spec is its own distribution, in spec/
    raise ModuleNotFoundError(
        "the course's checks run the specification suite, pix2pix-spec, which is not "
        "installed here: from a clone of pix2pix_k3, run pip install -e ./spec "
        "(docs/course.md lists what a course needs)"
    ) from error

from . import adapters
from .adapters import numpy
from .models import NETWORKS, SIZE, Models
from .report import Report

# The paper's networks at 256x256, as the authors' PyTorch code counts them.
GENERATOR_PARAMETERS = 54_413_955
DISCRIMINATOR_PARAMETERS = 2_768_705  # the 70x70 PatchGAN (n_layers=3)
GRID = 30  # the 70x70 PatchGAN's grid of patches on a 256x256 pair
STEP_RTOL = 1e-2  # one step's weight change, against the reference step (Adam's rounding)

HINTS = {
    "DAT-1": "resize both images to 286x286 (keras.ops.image.resize), then cut a 256x256 "
    "window out of the resized images",
    "DAT-2": "the crop offsets or the mirror of input and target differ: draw one window "
    "(top, left) and one coin flip for the pair, and apply both to each image",
    "DAT-3": "the crop window must move over the whole margin: draw top and left "
    "uniformly from 0 to 30, both ends included (rng.integers(0, 31))",
    "DAT-4": "mirror the pair with probability 1/2: ops.flip(image, axis=1) on both images, "
    "or on neither",
    "DAT-5": "keep the values in [-1, 1]: the images come in that range, and resizing and "
    "cropping must not rescale them",
    "GEN-1": "the decoder must end at the input's size: as many upsampling blocks as "
    "downsampling ones, and a last transposed convolution to 3 channels",
    "GEN-2": "end with a tanh: the outputs must lie in [-1, 1] like the images",
    "GEN-3": "CD512 blocks need Dropout(0.5), active when training=True",
    "GEN-4": "nothing random may run when training=False: Dropout is the only noise",
    "GEN-5": "concatenate each decoder block's output with the encoder output of the same "
    "size (the skips): without them every pixel reaches the output only through the 1x1 "
    "bottleneck",
    "GEN-6": "the encoder is C64-C128-C256-C512-C512-C512-C512-C512, with no BatchNorm in "
    "the first block and in the innermost (1x1) one",
    "GEN-7": "the decoder is CD512-CD512-CD512-C512-C256-C128-C64, then the output "
    "convolution; its input channels double at each skip (CD1024 ... C128 in the paper)",
    "GEN-8": "normalise with keras.layers.BatchNormalization",
    "GEN-9": "upsample with Conv2DTranspose(k, 4, strides=2, padding='same'), not "
    "UpSampling2D or a resize",
    "ACT-1": "LeakyReLU with negative_slope=0.2 after the encoder's (and D's) convolutions, "
    "a plain ReLU in the decoder",
    "DIS-1": "the 70x70 PatchGAN gives 30x30 patches at 256x256: three 4x4 stride-2 "
    "convolutions, then two 4x4 stride-1 ones, each with one pixel of zero padding "
    "(ZeroPadding2D(1), then padding='valid')",
    "DIS-2": "the receptive field follows from the kernels and strides: three stride-2 and "
    "two stride-1 4x4 convolutions give 70",
    "DIS-3": "D must see the input x: concatenate x and y along the channels "
    "(keras.layers.Concatenate()) before the first convolution",
    "DIS-4": "use BatchNormalization (batch statistics in training) after every "
    "convolution but the first and the last",
    "DIS-5": "C64-C128-C256-C512 with no BatchNorm on the first C64, then a 1-channel convolution",
    "DIS-6": "no Dropout in D",
    "OBJ-1": "D's loss is 1/2 [BCE(D(x, y), 1) + BCE(D(x, G(x)), 0)], each BCE a mean over "
    "patches and images",
    "OBJ-2": "G's loss is BCE(D(x, G(x)), 1) + 100 mean |y - G(x)|: the non-saturating GAN "
    "term, labelled real, plus lambda times the mean L1 distance",
    "OBJ-3": "D must score the pairs (x, y) and (x, G(x)): the condition x first, in both",
    "OBJ-4": "update D first, then compute G's loss through the updated D: the D update "
    "must come before the G update in the step",
    "TRN-1": "G must be updated on its own loss (models.update('generator', ...)), with "
    "the L1 term weighted by 100",
    "TRN-2": "D must be updated on its own loss (models.update('discriminator', ...)), "
    "real pairs labelled 1 and generated ones 0",
}


def suite(report, adapter, requirements):
    """Run the suite's `requirements` on `adapter` and add their rows to `report`."""
    rows = pix2pix_spec.check(adapter, only=requirements, quiet=True)
    report.requirements(rows, HINTS)


FAILED = object()  # what `called` returns when the student's function gave no value


def called(report, name, function, *args):
    """`function(*args)`, or FAILED with the reason on the report: not written yet (the
    stub's NotImplementedError), the error it raised, in one line, or no value."""
    try:
        value = function(*args)
    except NotImplementedError:
        report.missing = (
            f"{name} raises NotImplementedError: write it in the cell above (where it says "
            "YOUR CODE HERE), run that cell, then run this check again."
        )
        return FAILED
    except Exception as error:  # the student's code: any error is a finding, not a crash
        report.add(f"{name} runs", False, f"{type(error).__name__}: {error}")
        return FAILED
    if value is None:
        report.add(f"{name} returns its result", False, "it returned None", "end with return")
        return FAILED
    return value


def check_jitter(pair_jitter):
    """Exercise 1: `pair_jitter(input_image, target_image, rng)`."""
    report = Report("Exercise 1, pair-consistent jitter")
    rng = np.random.default_rng(0)
    image = rng.uniform(-1, 1, (IMAGE_SIZE, IMAGE_SIZE, 3)).astype("float32")
    result = called(report, "pair_jitter", pair_jitter, image, -image, rng)
    if result is FAILED:
        return report
    shapes = [tuple(np.shape(numpy(side))) for side in result]
    expected = [(IMAGE_SIZE, IMAGE_SIZE, 3)] * 2
    report.add(
        "both images come out 256x256x3",
        shapes == expected,
        f"expected shapes {expected}, got {shapes}",
        HINTS["DAT-1"],
    )
    suite(
        report, adapters.JitterAdapter(pair_jitter), ["DAT-1", "DAT-2", "DAT-3", "DAT-4", "DAT-5"]
    )
    return report


def parameters(model):
    return sum(int(np.prod(weight.shape)) for weight in model.trainable_weights)


def check_unet(unet_generator):
    """Exercise 2: `unet_generator(image_size)`, built from the student's Ck and CDk."""
    report = Report("Exercise 2, Ck, CDk and the U-Net")
    generator = called(report, "unet_generator", unet_generator, IMAGE_SIZE)
    if generator is FAILED:
        return report
    count = parameters(generator)
    report.compare(
        "trainable parameters",
        GENERATOR_PARAMETERS,
        count,
        rtol=0,
        hint=f"{count - GENERATOR_PARAMETERS:+,} weights: check each block's width "
        "against the appendix, and the biases: in the authors' code only the "
        "output convolution has one (use_bias=False elsewhere)",
    )
    requirements = [f"GEN-{i}" for i in range(1, 10)] + ["ACT-1"]
    suite(report, adapters.GeneratorAdapter(unet_generator), requirements)
    return report


def receptive_field_layers(n_layers):
    """(kernel, stride) of each convolution of the PatchGAN with `n_layers` stride-2
    convolutions: then two stride-1 ones; the PixelGAN (0) is three 1x1 convolutions."""
    if n_layers == 0:
        return [(1, 1)] * 3
    return [(4, 2)] * n_layers + [(4, 1)] * 2


def check_receptive_field(receptive_field):
    """Exercise 3a: `receptive_field(layers)`, layers a list of (kernel, stride)."""
    report = Report("Exercise 3a, receptive-field arithmetic")
    fields = {}
    for field, n_layers in N_LAYERS.items():
        got = called(report, "receptive_field", receptive_field, receptive_field_layers(n_layers))
        if got is FAILED:
            return report
        fields[field] = got
    for field, got in fields.items():
        n_layers = N_LAYERS[field]
        layers = (
            "three 1x1 convolutions"
            if n_layers == 0
            else (f"{n_layers} stride-2 and 2 stride-1 4x4 convolutions")
        )
        report.compare(f"{layers} (n_layers={n_layers})", field, got, rtol=0, hint=FIELD_HINT)
    return report


FIELD_HINT = (
    "walk from the output back to the input: a field of r cells becomes r*s + (k - s) cells "
    "of the layer below (kernel k, stride s), starting from r = 1 at the output"
)


def check_patchgan(patchgan):
    """Exercise 3b: `patchgan(n_layers, image_size)`, a model of [x, y]."""
    report = Report("Exercise 3b, the 70x70 PatchGAN")
    model = called(report, "patchgan", patchgan, N_LAYERS[70], IMAGE_SIZE)
    if model is FAILED:
        return report
    x = np.zeros((1, IMAGE_SIZE, IMAGE_SIZE, 3), "float32")
    outputs = called(
        report,
        "patchgan(...)([x, y])",
        lambda: adapters.numpy(model([adapters.tensor(x), adapters.tensor(x)], training=False)),
    )
    if outputs is FAILED:
        return report
    grid = tuple(np.shape(outputs)[1:3])
    report.compare("grid of patches at 256x256", (GRID, GRID), grid, rtol=0, hint=HINTS["DIS-1"])
    report.compare(
        "trainable parameters",
        DISCRIMINATOR_PARAMETERS,
        parameters(model),
        rtol=0,
        hint="C64-C128-C256-C512, then a 1-channel convolution, all 4x4; no "
        "BatchNorm on the first; in the authors' code the first and the last "
        "convolution have a bias, those before a BatchNorm none",
    )
    suite(report, adapters.DiscriminatorAdapter(patchgan), [f"DIS-{i}" for i in range(1, 7)])
    return report


# From logits whose naive form overflows float32 (e^90 > 3.4e38) to the undecided 0.
BCE_LOGITS = np.array([-90.0, -20.0, -3.0, 0.0, 0.5, 3.0, 20.0, 90.0], "float32")


def check_losses(bce, discriminator_loss, generator_loss):
    """Exercise 4: `bce(logits, label)` per element, and the two losses of the paper."""
    report = Report("Exercise 4, the losses")
    for label in (1.0, 0.0):
        got = called(report, "bce", bce, adapters.tensor(BCE_LOGITS), label)
        if got is FAILED:
            return report
        expected = [mean_bce([value], label) for value in BCE_LOGITS]
        got = numpy(got)
        hint = (
            "the naive -log(sigmoid) overflows for large |logit|: use max(l, 0) - l t + "
            "log(1 + exp(-|l|)) (keras.ops.log1p, keras.ops.exp)"
        )
        report.compare(
            f"BCE against label {label:g}, logits -90 ... 90",
            expected,
            got,
            rtol=1e-5,
            atol=1e-6,
            hint=hint,
        )
    rng = np.random.default_rng(0)
    real, fake = rng.normal(0, 2, (2, 2, 30, 30, 1)).astype("float32")
    got = called(
        report,
        "discriminator_loss",
        lambda: float(numpy(discriminator_loss(adapters.tensor(real), adapters.tensor(fake)))),
    )
    if got is FAILED:
        return report
    expected = paper_d_loss(real, fake)
    report.compare(
        "D's loss on a fixed batch of 2x30x30 logits",
        expected,
        got,
        rtol=1e-5,
        hint=named(matches(got, d_variants(real, fake)), HINTS["OBJ-1"]),
    )
    generated, target = rng.uniform(-1, 1, (2, 2, 32, 32, 3)).astype("float32")
    got = called(
        report,
        "generator_loss",
        lambda: float(numpy(generator_loss(*map(adapters.tensor, (fake, generated, target))))),
    )
    if got is FAILED:
        return report
    expected = paper_g_loss(fake, generated, target)
    report.compare(
        "G's loss on a fixed batch",
        expected,
        got,
        rtol=1e-5,
        hint=named(matches(got, g_variants(fake, generated, target)), HINTS["OBJ-2"]),
    )
    suite(report, adapters.LossAdapter(discriminator_loss, generator_loss), ["OBJ-1", "OBJ-2"])
    return report


def named(found, otherwise):
    return f"your value is {' or '.join(found)}" if found else otherwise


def check_train_step(train_step):
    """Exercise 5: `train_step(models, x, y)` -> {"d_loss": ..., "g_loss": ...}."""
    report = Report("Exercise 5, the alternating train step")
    models = Models.build(dropout=0.0)
    initial = {name: getattr(models, name).get_weights() for name in NETWORKS}
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-1, 1, (2, 2, SIZE, SIZE, 3)).astype("float32")
    losses = called(
        report, "train_step", train_step, models, adapters.tensor(x), adapters.tensor(y)
    )
    if losses is FAILED:
        return report
    if not (isinstance(losses, dict) and {"d_loss", "g_loss"} <= set(losses)):
        report.add(
            "train_step returns {'d_loss': ..., 'g_loss': ...}",
            False,
            f"it returned {type(losses).__name__}: {str(losses)[:80]}",
            "return the two losses the updates used, as a dict",
        )
        return report
    expected = reference_changes(initial, x, y)
    for name in NETWORKS:
        network = getattr(models, name)
        got = changes(initial[name], network.get_weights(), network)
        error = float(np.linalg.norm(got - expected[name]) / np.linalg.norm(expected[name]))
        report.add(
            f"one step's change of {name}'s weights",
            error <= STEP_RTOL,
            f"|change| expected {np.linalg.norm(expected[name]):.6g}, got "
            f"{np.linalg.norm(got):.6g}; relative difference {error:.2g} (allowed "
            f"{STEP_RTOL:g})",
            STEP_HINTS[name],
        )
    suite(report, adapters.StepAdapter(train_step), ["OBJ-3", "OBJ-4", "TRN-1", "TRN-2"])
    return report


STEP_HINTS = {
    "discriminator": "D's update must use D's loss on (x, y) labelled 1 and (x, G(x)) "
    "labelled 0, with G(x) computed before D's update",
    "generator": "G's update must come after D's, through the updated D, on BCE(D(x, G(x)), "
    "1) + 100 mean |y - G(x)|",
}


def changes(before, after, network):
    """The change of `network`'s trainable weights, flattened into one vector."""
    trainable = {id(weight) for weight in network.trainable_weights}
    flat = [
        np.ravel(b - a)
        for a, b, weight in zip(before, after, network.weights, strict=True)
        if id(weight) in trainable
    ]
    return np.concatenate(flat).astype("float64")


def reference_changes(initial, x, y):
    """pix2pix_k3's own train step (`Pix2Pix.train_on_batch`) from the same weights."""
    from pix2pix_k3 import build_pix2pix

    reference = build_pix2pix(image_size=SIZE, dropout=0.0)
    for name in NETWORKS:
        getattr(reference, name).set_weights(initial[name])
    reference.compile()
    reference.train_on_batch(adapters.tensor(x), adapters.tensor(y))
    return {
        name: changes(
            initial[name], getattr(reference, name).get_weights(), getattr(reference, name)
        )
        for name in NETWORKS
    }


# Exercise 7's answer key: each requirement the suite FAILs on `planted.Planted`, and the
# function of planted.py that breaks it. tests/test_course.py holds it to the suite's
# verdicts, and to their repair.
PLANTED_BUGS = {"DAT-2": "jitter", "OBJ-1": "discriminator_loss", "OBJ-4": "train_step"}


def check_planted_bugs(planted_bugs):
    """Exercise 7: `planted_bugs()` -> {requirement ID: name of the planted function that
    breaks it}. Each named ID is run by the suite on the planted implementation now, so a
    verdict is measured, not looked up; the functions are compared with the answer key."""
    from .planted import Planted

    report = Report("Exercise 7, the planted bugs")
    answer = called(report, "planted_bugs", planted_bugs)
    if answer is FAILED:
        return report
    if not isinstance(answer, dict) or not all(isinstance(v, str) for v in answer.values()):
        report.add(
            "planted_bugs returns a dict",
            False,
            f"it returned {str(answer)[:80]}",
            'return {"REQ-1": "function_name", ...}',
        )
        return report
    answer = {str(ident).strip().upper(): name.strip() for ident, name in answer.items()}
    unknown = sorted(ident for ident in answer if ident not in BY_ID)
    if unknown:
        report.add(
            "requirement IDs exist",
            False,
            f"no requirement is called {', '.join(unknown)}",
            "copy the IDs from the suite's table (GEN-1 ... TRN-2)",
        )
        return report
    idents = sorted(set(answer) | set(PLANTED_BUGS), key=list(BY_ID).index)
    rows = {row["id"]: row for row in pix2pix_spec.check(Planted(), only=idents, quiet=True)}
    for ident in idents:
        fails = rows[ident]["verdict"] == "FAIL"
        if ident not in answer:
            report.add(
                f"{ident} found",
                False,
                f"the suite FAILs {ident} ({BY_ID[ident].text}) on "
                "the planted implementation; your answer does not name it",
                "run pix2pix_spec.check(planted.Planted()) and read every FAIL",
            )
        elif not fails:
            report.add(
                f"{ident} found",
                False,
                f"the suite passes {ident} on the planted implementation",
                "name only the requirements the suite FAILs",
            )
        else:
            right = answer[ident] == PLANTED_BUGS.get(ident)
            report.add(
                f"{ident} comes from {answer[ident]}()",
                right,
                "" if right else f"{answer[ident]}() is not where {ident} breaks",
                "read the FAIL's detail: it says what the step or the data did; then "
                "find the function that does it",
            )
    return report
