"""Images that are not square (`--image-size HEIGHTxWIDTH`): cityscapes is 2:1, maps and
many users' sets are not square. The paper's square path stays as it was."""

import argparse

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from pix2pix_k3 import patchgan_discriminator, translate, unet_generator
from pix2pix_k3.config import ConfigError, RunConfig, image_size
from pix2pix_k3.data import PairDataset
from pix2pix_k3.data.jitter import jitter_draw, pair_jitter, resize
from pix2pix_k3.discriminator import patch_grid
from pix2pix_k3.fit import main as fit
from pix2pix_k3.paper import load_size_for


def trainable(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def test_the_command_line_reads_height_by_width():
    assert image_size("256") == 256
    assert image_size("256x512") == (256, 512)
    assert image_size("256X256") == 256  # square stays the paper's one number
    for wrong in ("256x", "x", "a", "1x2x3", "256*512"):
        with pytest.raises(argparse.ArgumentTypeError, match="HEIGHTxWIDTH"):
            image_size(wrong)


def test_the_load_size_keeps_the_aspect():
    assert load_size_for(256) == 286
    assert load_size_for((256, 512)) == (286, 572)
    assert RunConfig(image_size=[256, 512]).load_size == (286, 572)  # as config.json has it


def test_sizes_the_u_net_cannot_halve_are_refused_by_side():
    with pytest.raises(ConfigError, match="384"):
        RunConfig(image_size=(256, 384))
    with pytest.raises(ConfigError, match="smaller than --image-size 64x128"):
        RunConfig(image_size=(64, 128), load_size=(72, 120))
    RunConfig(image_size=(64, 128))


@given(shorter=st.sampled_from([16, 32, 64]), factor=st.integers(1, 3), tall=st.booleans())
def test_the_networks_take_any_aspect_with_the_same_weights(shorter, factor, tall):
    size = (shorter * factor, shorter) if tall else (shorter, shorter * factor)
    generator = unet_generator(size, ngf=4)
    assert tuple(generator.output_shape) == (None, *size, 3)
    assert trainable(generator) == trainable(unet_generator(shorter, ngf=4))
    discriminator = patchgan_discriminator(16, ndf=4, image_size=size)
    grid = tuple(patch_grid(side, 16) for side in size)
    assert tuple(discriminator.output_shape) == (None, *grid, 1)
    assert trainable(discriminator) == trainable(patchgan_discriminator(16, ndf=4))


def test_the_square_jitter_draws_what_it_always_drew():
    for seed in range(200):
        rng = np.random.default_rng(seed)
        top, left = (int(v) for v in rng.integers(0, 286 - 256 + 1, size=2))
        assert jitter_draw(seed) == (top, left, bool(rng.integers(0, 2)))


@given(seed=st.integers(0, 2**31 - 1))
def test_the_jitter_crops_one_window_of_the_resized_pair_keeping_the_aspect(seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 256, (40, 80, 3), dtype=np.uint8)
    jitter = dict(load_size=(36, 72), crop_size=(32, 64), interpolation="nearest")
    x, y = pair_jitter(a, 255 - a, seed, **jitter)
    assert x.shape == y.shape == (32, 64, 3)
    np.testing.assert_array_equal(y, 255 - x)
    top, left, mirrored = jitter_draw(seed, (36, 72), (32, 64))
    assert 0 <= top <= 4 and 0 <= left <= 8
    window = resize(a, (36, 72), "nearest")[top : top + 32, left : left + 64]
    np.testing.assert_array_equal(x, window[:, ::-1] if mirrored else window)


@pytest.fixture(scope="module")
def wide_pairs(tmp_path_factory):
    """Four side-by-side pairs of 40 high by 80 wide each (160 wide files)."""
    folder = tmp_path_factory.mktemp("wide")
    rng = np.random.default_rng(0)
    for i in range(4):
        a = rng.integers(0, 256, (40, 80, 3), dtype=np.uint8)
        Image.fromarray(np.concatenate([a, 255 - a], axis=1)).save(folder / f"{i}.png")
    return folder


def test_a_dataset_and_its_cache_give_batches_of_the_aspect(wide_pairs, tmp_path):
    options = dict(batch_size=2, load_size=(36, 72), crop_size=(32, 64), seed=3)
    options["interpolation"] = "nearest"
    plain = PairDataset.from_folder(wide_pairs, **options)
    cached = PairDataset.from_folder(wide_pairs, **options)
    cached.use_cache(tmp_path)
    x, y = plain[0]
    assert x.shape == y.shape == (2, 32, 64, 3)
    np.testing.assert_allclose(y, -x, atol=1e-6)
    np.testing.assert_array_equal(cached[0][0], x)
    too_small = PairDataset.from_folder(wide_pairs, load_size=(36, 96), crop_size=(32, 96))
    with pytest.raises(ValueError, match="96 wide"):
        too_small.check()


def test_fit_and_translate_a_wide_model(wide_pairs, tmp_path):
    out = tmp_path / "run"
    tiny = "--image-size 32x64 --batch-size 2 --ngf 4 --ndf 4 --patch 16 --epochs 1"
    fit([*tiny.split(), "--data", str(wide_pairs), "--out", str(out), "--verbose", "0"])
    translate.main([str(out), str(wide_pairs / "0.png"), "--out", str(tmp_path / "a")])
    translate.main([str(out), str(wide_pairs), "--out", str(tmp_path / "b"), "--model-size"])
    with Image.open(tmp_path / "a" / "0.png") as image:
        assert image.size == (160, 40)  # the input's own size (the whole A|B file here)
    with Image.open(tmp_path / "b" / "0.png") as image:
        assert image.size == (64, 32)  # width x height, as Pillow gives it
