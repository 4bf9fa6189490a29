"""The PatchGAN discriminator (appendix 6.1.2): counts, output sizes, receptive fields."""

import numpy as np
import pytest
from helpers import random_images, to_numpy, trainable_count, weight_count
from hypothesis import assume, given
from hypothesis import strategies as st

from pix2pix_k3 import patchgan_discriminator, receptive_field

FIELDS = [1, 16, 34, 70, 142, 286]
# Trainable parameters of the PyTorch reference for each field (ndf=64, BatchNorm).
REFERENCE_COUNTS = {
    1: 9_024,
    16: 139_585,
    34: 666_433,
    70: 2_768_705,
    142: 6_964_033,
    286: 11_159_361,
}


def expected_output_size(size, field):
    """Conv arithmetic: each stride-2 4x4 conv with padding 1 halves; each stride-1 one takes 1."""
    n_layers = FIELDS.index(field)
    if n_layers == 0:
        return size
    for _ in range(n_layers):
        size = (size + 2 - 4) // 2 + 1
    return size - 2


@pytest.mark.parametrize("field", FIELDS)
def test_trainable_parameters_match_the_reference(field):
    assert trainable_count(patchgan_discriminator(field)) == REFERENCE_COUNTS[field]


def test_70x70_counts_and_output_for_256():
    d = patchgan_discriminator(70)
    assert trainable_count(d) == 2_768_705
    assert weight_count(d) == 2_770_497  # + BatchNorm's moving statistics
    assert d.compute_output_shape([(1, 256, 256, 3), (1, 256, 256, 3)]) == (1, 30, 30, 1)


@pytest.mark.parametrize("field", FIELDS)
def test_analytic_receptive_field(field):
    assert receptive_field(patchgan_discriminator(field, ndf=2)) == field


def test_n_layers_is_accepted_as_the_references_name_for_depth():
    for n_layers, field in enumerate(FIELDS):
        assert receptive_field(patchgan_discriminator(n_layers=n_layers, ndf=2)) == field


@given(
    k=st.integers(5, 8),
    field=st.sampled_from(FIELDS),
    in_channels=st.integers(1, 4),
    out_channels=st.integers(1, 4),
)
def test_output_is_one_logit_per_patch(k, field, in_channels, out_channels):
    size = 2**k
    expected = expected_output_size(size, field)
    assume(expected >= 1)
    d = patchgan_discriminator(field, in_channels, out_channels, ndf=2)
    pair = [random_images(1, 2, size, in_channels), random_images(2, 2, size, out_channels)]
    logits = to_numpy(d(pair))
    assert logits.shape == (2, expected, expected, 1)


def make_monotone(d):
    """Positive constant kernels (1/fan-in), zero biases, identity BatchNorm.

    The receptive field is a property of the layer stack, not of the weights; with
    positive weights and (leaky) ReLUs no two paths can cancel, so every input cell
    inside the field changes the output and every cell outside changes it by exactly 0.
    """
    for variable in d.weights:
        name, shape = variable.path.rsplit("/", 1)[-1], tuple(variable.shape)
        if name == "kernel":
            value = np.full(shape, 1.0 / np.prod(shape[:-1]), np.float32)
        elif name in ("gamma", "moving_variance"):
            value = np.ones(shape, np.float32)
        else:  # bias, beta, moving_mean
            value = np.zeros(shape, np.float32)
        variable.assign(value)
    return d


def influence(d, size, axis):
    """Which input rows (axis=1) or columns (axis=2) change the centre output cell.

    Black-box: one copy of the pair per row/column with that row/column raised by 1 in
    both images, plus the unperturbed pair, in one batch, D in inference mode.
    """
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (1, size, size, 3)).astype("float32")
    y = rng.uniform(-1, 1, (1, size, size, 3)).astype("float32")
    xs, ys = np.repeat(x, size + 1, axis=0), np.repeat(y, size + 1, axis=0)
    for i in range(size):
        index = (i + 1, i) if axis == 1 else (i + 1, slice(None), i)
        xs[index] += 1.0
        ys[index] += 1.0
    out = to_numpy(d([xs, ys], training=False))[:, :, :, 0]
    centre = out.shape[1] // 2
    change = np.abs(out[1:, centre, centre] - out[0, centre, centre])
    return np.flatnonzero(change > 1e-6 * change.max())


@pytest.mark.parametrize(("field", "size"), [(1, 8), (16, 48), (70, 128)])
def test_measured_receptive_field_equals_the_analytic_one(field, size):
    d = make_monotone(patchgan_discriminator(field, ndf=4))
    for axis in (1, 2):
        rows = influence(d, size, axis)
        assert rows.max() - rows.min() + 1 == field, f"axis {axis}: rows {rows.min()}..{rows.max()}"
        assert len(rows) == field  # contiguous


def test_conditional_discriminator_sees_the_input_image():
    d = patchgan_discriminator(16, ndf=4)
    image = random_images(0, 1, 32, 3)
    first = to_numpy(d([random_images(1, 1, 32, 3), image]))
    second = to_numpy(d([random_images(2, 1, 32, 3), image]))
    assert not np.allclose(first, second)


def test_unconditional_discriminator_takes_only_the_image():
    d = patchgan_discriminator(16, ndf=4, conditional=False)
    assert len(d.inputs) == 1
    assert to_numpy(d(random_images(0, 2, 32, 3))).shape == (2, 14, 14, 1)


@pytest.mark.parametrize("bad", [69, 0, "70"])
def test_unknown_receptive_field_lists_the_valid_ones(bad):
    with pytest.raises(ValueError, match="1, 16, 34, 70, 142, 286"):
        patchgan_discriminator(bad)
