"""The discriminator: section 3.2.2 (PatchGAN) and appendix 6.1.2, measured black-box."""

import numpy as np
import pytest

from pix2pix_spec.protocol import NORMS, declared, paper_field
from pix2pix_spec.reference import patch_map

requirement = pytest.mark.requirement

PAPER_FIELDS = (1, 16, 70, 286)  # Table 3 / Figure 6
BORDER = 2  # rows at the image's edges that may not reach a cell through zero padding
PATCHGAN_70 = [64, 128, 256, 512]


def pair(size, count=1, seed=0):
    rng = np.random.default_rng(seed)
    return tuple(rng.uniform(-1, 1, (count, size, size, 3)).astype("float32") for _ in range(2))


def sizes(impl):
    return sorted(declared(impl, "discriminator_sizes"))


def measuring_size(impl, field):
    """The smallest declared D size with room for the field around the centre (or the
    largest)."""
    roomy = [size for size in sizes(impl) if size >= field + 64]
    return min(roomy) if roomy else max(sizes(impl))


def run(impl, discriminator, inputs, images, training=False):
    return patch_map(impl.run_discriminator(discriminator, inputs, images, training=training))


class Probe:
    """Pokes lines (rows or columns) of both input images and watches one output cell."""

    def __init__(self, impl, discriminator, size, axis):
        self.impl, self.discriminator, self.size, self.axis = impl, discriminator, size, axis
        self.inputs, self.images = pair(size)
        grid = run(impl, discriminator, self.inputs, self.images).shape
        self.cell = (grid[1] // 2, grid[2] // 2)
        self.anchor = self.cell[axis - 1] * size // grid[axis]
        self.rng = np.random.default_rng(1)

    def moves(self, line):
        poked_inputs, poked_images = self.inputs.copy(), self.images.copy()
        noise = self.rng.choice([-1.0, 1.0], size=(self.size, 3)).astype("float32")
        np.moveaxis(poked_inputs, self.axis, 1)[0, line] = noise
        np.moveaxis(poked_images, self.axis, 1)[0, line] = -noise
        batch = (
            np.concatenate([self.inputs, poked_inputs]),
            np.concatenate([self.images, poked_images]),
        )
        out = run(self.impl, self.discriminator, *batch)
        return out[0][self.cell] != out[1][self.cell]

    def far_lines(self, field):
        """Lines farther from the anchor than any window of `field` lines can reach."""
        return [line for line in (0, self.size - 1) if abs(line - self.anchor) > field + BORDER]

    def extent(self):
        """(first, last) line the cell depends on; the lines of a convolutional
        receptive field are contiguous, so each end is found by bisection."""
        assert self.moves(self.anchor), (
            f"DIS-2: the centre output cell {self.cell} does not depend on input line "
            f"{self.anchor} under it"
        )
        first = first_true(self.moves, list(range(0, self.anchor + 1)))
        last = first_true(self.moves, list(range(self.size - 1, self.anchor - 1, -1)))
        return first, last


def first_true(predicate, lines):
    """The first of `lines` where `predicate` holds, given it holds from there on."""
    outside, inside = -1, len(lines) - 1
    while inside - outside > 1:
        middle = (outside + inside) // 2
        if predicate(lines[middle]):
            inside = middle
        else:
            outside = middle
    return lines[inside]


def field_or_skip(impl, field):
    if field not in impl.receptive_fields:
        pytest.skip(f"{impl.name} has no {field}x{field} discriminator")


@requirement("DIS-1")
def test_256_gives_a_30x30_grid(impl, requires):
    requires("discriminator")
    if 70 not in impl.receptive_fields or 256 not in sizes(impl):
        pytest.skip(f"{impl.name} has no 70x70 discriminator at 256x256")
    discriminator = impl.discriminator(70, 256, 3, 3)
    out = run(impl, discriminator, *pair(256))
    assert out.shape == (1, 30, 30), (
        f"DIS-1: the 70x70 PatchGAN (C64-C128-C256-C512, 4x4 convolutions) maps 256x256 to "
        f"30x30 patch outputs; measured {out.shape[1:]}"
    )


@pytest.mark.parametrize("field", PAPER_FIELDS)
@requirement("DIS-2")
def test_the_receptive_field_measured_is_the_declared_one(impl, requires, field, note):
    requires("discriminator")
    if declared(impl, "discriminator_norm") == "instance":  # the reason for every field
        pytest.skip(
            "not measurable with instance statistics: every output depends on the whole "
            "image through the per-image mean and variance (declared discriminator_norm = "
            "'instance'; DIS-4 checks that declaration)"
        )
    field_or_skip(impl, field)
    size = measuring_size(impl, field)
    discriminator = impl.discriminator(field, size, 3, 3)
    measured = []
    for axis in (1, 2):
        probe = Probe(impl, discriminator, size, axis)
        far = [line for line in probe.far_lines(field) if probe.moves(line)]
        assert not far, (
            f"DIS-2: the {field}x{field} PatchGAN's centre cell depends on input line "
            f"{far[0] if far else None} of {size}, farther than {field} lines from it: "
            "something in D sees the whole image. If D uses instance normalisation, declare "
            "discriminator_norm = 'instance'."
        )
        measured.append(probe.extent())
    extents = tuple(last - first + 1 for first, last in measured)
    if field + 2 * BORDER <= size:
        assert extents == (field, field), (
            f"DIS-2: the {field}x{field} PatchGAN's centre cell must depend on a "
            f"{field}x{field} input patch; measured {extents[0]}x{extents[1]} at "
            f"{size}x{size} (perturbing input rows and columns)"
        )
    else:  # the field is larger than the image: the cell must see (nearly) all of it
        note(
            f"the {field} field, larger than the image, measured at {size}: rows "
            f"{measured[0][0]}..{measured[0][1]}, columns {measured[1][0]}..{measured[1][1]}"
        )
        assert min(extents) >= size - BORDER, (
            f"DIS-2: the {field}x{field} field is larger than the largest image D takes "
            f"({size}), so the centre cell must depend on all of it but at most {BORDER} border "
            f"lines; measured rows {measured[0][0]}..{measured[0][1]} and columns "
            f"{measured[1][0]}..{measured[1][1]}"
        )


@requirement("DIS-3")
def test_the_discriminator_sees_the_input_image(impl, requires):
    requires("discriminator")
    field = paper_field(impl)
    size = measuring_size(impl, 0)
    discriminator = impl.discriminator(field, size, 3, 3)
    inputs, images = pair(size)
    other_inputs, _ = pair(size, seed=1)
    first = run(impl, discriminator, inputs, images)
    second = run(impl, discriminator, other_inputs, images)
    change = float(np.abs(first - second).max())
    assert change > 1e-6, (
        "DIS-3: pix2pix's D is conditional, D(x, y): another input image x with the same "
        f"output y must change its outputs; measured max change {change:.2e}. An "
        "unconditional D cannot tell whether the output matches its input."
    )


def probed_norm(impl, discriminator, size, field):
    """The normalisation D behaves as: "batch" if in training mode one sample's outputs
    depend on another sample of the batch, "instance" if in inference mode a cell depends
    on lines outside its window, else "none"."""
    inputs, images = pair(size, count=2)
    other_inputs, other_images = pair(size, count=2, seed=1)
    inputs2, images2 = inputs.copy(), images.copy()
    inputs2[1], images2[1] = other_inputs[1], other_images[1]
    first = run(impl, discriminator, inputs, images, training=True)
    second = run(impl, discriminator, inputs2, images2, training=True)
    if np.abs(first[0] - second[0]).max() > 1e-6:
        return "batch"
    probe = Probe(impl, discriminator, size, 1)
    if any(probe.moves(line) for line in probe.far_lines(field)):
        return "instance"
    return "none"


@requirement("DIS-4")
def test_the_discriminator_normalises_as_declared(impl, requires):
    requires("discriminator")
    field = paper_field(impl)
    size = measuring_size(impl, field)
    norm = probed_norm(impl, impl.discriminator(field, size, 3, 3), size, field)
    claimed = declared(impl, "discriminator_norm")
    assert norm == claimed, (
        f"DIS-4: {impl.name} declares discriminator_norm = {claimed!r}, but D behaves as "
        f"{norm!r}: "
        + {
            "batch": "in training mode one sample's outputs depend on the others in the batch",
            "instance": "its cells depend on pixels outside their windows",
            "none": "no sample depends on another, no cell on pixels outside its window",
        }[norm]
    )
    assert norm != "none", (
        "DIS-4: the PatchGAN's C128-C256-C512 blocks are Conv-BatchNorm-LeakyReLU; D has no "
        "normalisation"
    )


@requirement("DIS-5")
def test_the_70x70_discriminator_is_the_appendix_one(impl, discriminator_layers, note):
    if paper_field(impl) != 70:
        pytest.skip(f"{impl.name} has no 70x70 discriminator")
    layers = discriminator_layers.graded("DIS-5", ("filters", "norm"), note)
    filters = [layer["filters"] for layer in layers]
    assert filters == PATCHGAN_70, (
        f"DIS-5: the 70x70 discriminator is C64-C128-C256-C512 before its one-channel "
        f"output convolution; measured {filters}"
    )
    norms = [layer["norm"] for layer in layers]
    bad = [norm for norm in norms if norm not in NORMS]
    assert not bad, f"adapter error: discriminator_layers norms must be one of {NORMS}: {bad}"
    normed = [norm != "none" for norm in norms]
    assert normed == [False, True, True, True], (
        "DIS-5: 'BatchNorm is not applied to the first C64 layer' and is on the others; "
        f"measured norm on {normed}"
    )


@requirement("DIS-6")
def test_the_discriminator_has_no_dropout(impl, requires):
    requires("discriminator")
    field = paper_field(impl)
    size = measuring_size(impl, 0)
    discriminator = impl.discriminator(field, size, 3, 3)
    inputs, images = pair(size, count=2)
    first, second = (run(impl, discriminator, inputs, images, training=True) for _ in range(2))
    difference = float(np.abs(first - second).max())
    assert difference <= 1e-6, (
        "DIS-6: the paper's only noise is G's dropout (section 3.1); D's blocks are "
        "Conv-BatchNorm-LeakyReLU, so two training-mode passes of one batch must agree; "
        f"they differ by up to {difference:.2e}: D has dropout or another source of noise"
    )
