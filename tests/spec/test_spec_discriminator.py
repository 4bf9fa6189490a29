"""The discriminator: section 3.2.2 (PatchGAN) and appendix 6.1.2, measured black-box."""

import numpy as np
import pytest
from adapter_protocol import patch_map

requirement = pytest.mark.requirement

PAPER_FIELDS = (1, 16, 70, 286)  # Table 3 / Figure 6


def pair(size, count=1, seed=0):
    rng = np.random.default_rng(seed)
    return tuple(rng.uniform(-1, 1, (count, size, size, 3)).astype("float32") for _ in range(2))


def measuring_size(impl, field):
    """The smallest declared size with room for the field around the centre (or the largest)."""
    roomy = [size for size in impl.image_sizes if size >= field + 64]
    return min(roomy) if roomy else max(impl.image_sizes)


def measured_extent(impl, discriminator, size, axis):
    """How many input rows (axis 1) or columns (axis 2) the centre output cell depends on.

    Pokes one line of both input images at a time (in a batch with the unpoked pair)
    and bisects for the first and the last line that moves the cell: the lines of a
    convolutional receptive field are contiguous.
    """
    inputs, images = pair(size)
    grid = patch_map(impl.run_discriminator(discriminator, inputs, images)).shape
    cell = (grid[1] // 2, grid[2] // 2)
    anchor = cell[axis - 1] * size // grid[axis]
    rng = np.random.default_rng(1)

    def moves(line):
        poked_inputs, poked_images = inputs.copy(), images.copy()
        noise = rng.choice([-1.0, 1.0], size=(size, 3)).astype("float32")
        np.moveaxis(poked_inputs, axis, 1)[0, line] = noise
        np.moveaxis(poked_images, axis, 1)[0, line] = -noise
        batch = (np.concatenate([inputs, poked_inputs]), np.concatenate([images, poked_images]))
        out = patch_map(impl.run_discriminator(discriminator, *batch))
        return out[0][cell] != out[1][cell]

    assert moves(anchor), (
        f"D2: the centre output cell {cell} does not depend on input line {anchor} under it"
    )
    first = first_true(moves, list(range(0, anchor + 1)))
    last = first_true(moves, list(range(size - 1, anchor - 1, -1)))
    return last - first + 1


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


@requirement("D1", "6.1.2", "70x70 PatchGAN on 256x256 gives a 30x30 grid of outputs")
def test_256_gives_a_30x30_grid(impl, requires):
    requires("discriminator")
    if 70 not in impl.receptive_fields or 256 not in impl.image_sizes:
        pytest.skip(f"{impl.name} has no 70x70 discriminator at 256x256")
    discriminator = impl.discriminator(70, 256, 3, 3)
    out = patch_map(impl.run_discriminator(discriminator, *pair(256)))
    assert out.shape == (1, 30, 30), (
        f"D1: the 70x70 PatchGAN (C64-C128-C256-C512, 4x4 convolutions) maps 256x256 to "
        f"30x30 patch outputs; measured {out.shape[1:]}"
    )


@pytest.mark.parametrize("field", PAPER_FIELDS)
@requirement(
    "D2", "3.2.2, Tab. 3", "receptive field, measured by perturbation, is the declared one"
)
def test_the_receptive_field_measured_is_the_declared_one(impl, requires, field):
    requires("discriminator")
    if field not in impl.receptive_fields:
        pytest.skip(f"{impl.name} has no {field}x{field} discriminator")
    size = measuring_size(impl, field)
    discriminator = impl.discriminator(field, size, 3, 3)
    measured = tuple(measured_extent(impl, discriminator, size, axis) for axis in (1, 2))
    expected = min(field, size)
    assert measured == (expected, expected), (
        f"D2: the {field}x{field} PatchGAN's output cell must depend on a {field}x{field} "
        f"input patch{' (clipped by the image)' if field > size else ''}; measured "
        f"{measured[0]}x{measured[1]} at {size}x{size} (perturbing input rows and columns)"
    )


@requirement("D3", "2.1, 3.2.2", "D is conditional: it sees the input image, not only the output")
def test_the_discriminator_sees_the_input_image(impl, requires):
    requires("discriminator")
    field = 70 if 70 in impl.receptive_fields else impl.receptive_fields[0]
    size = measuring_size(impl, 0)
    discriminator = impl.discriminator(field, size, 3, 3)
    inputs, images = pair(size)
    other_inputs, _ = pair(size, seed=1)
    first = patch_map(impl.run_discriminator(discriminator, inputs, images))
    second = patch_map(impl.run_discriminator(discriminator, other_inputs, images))
    change = float(np.abs(first - second).max())
    assert change > 1e-6, (
        "D3: pix2pix's D is conditional, D(x, y): another input image x with the same "
        f"output y must change its outputs; measured max change {change:.2e}. An "
        "unconditional D cannot tell whether the output matches its input."
    )
