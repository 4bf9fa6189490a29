"""`.keras` saving: the model, its networks, its config and its optimizers round-trip."""

import json

import keras
import numpy as np
import pytest
from helpers import random_images, to_numpy

from pix2pix_k3 import Pix2Pix, build_pix2pix, unet_generator
from pix2pix_k3.steps import step_module

SIZE = 32


def as_json(config):
    """A config as it is stored: JSON turns tuples into lists."""
    return json.dumps(config, sort_keys=True, default=str)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    model = build_pix2pix(SIZE, ngf=4, ndf=4, receptive_field=16, lambda_l1=50.0, gan_mode="lsgan")
    model.compile(g_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5))
    x, y = random_images(0, 4, SIZE, 3), random_images(1, 4, SIZE, 3)
    model.fit(x, y, batch_size=2, epochs=1, verbose=0)
    path = tmp_path_factory.mktemp("saving") / "pix2pix.keras"
    model.save(path)
    return model, keras.saving.load_model(path), x, y


def test_a_model_saved_before_training_loads_with_its_optimizers(tmp_path):
    model = build_pix2pix(SIZE, ngf=4, ndf=4, receptive_field=16)
    model.compile()
    model.save(tmp_path / "untrained.keras")
    loaded = keras.saving.load_model(tmp_path / "untrained.keras")
    assert len(loaded.g_optimizer.variables) == len(model.g_optimizer.variables) > 2


def test_the_loaded_model_is_a_pix2pix_with_the_same_config(saved):
    model, loaded, _, _ = saved
    assert isinstance(loaded, Pix2Pix)
    for key in ("objective", "lambda_l1", "gan_mode", "halve_d_loss"):
        assert loaded.get_config()[key] == model.get_config()[key]
    assert as_json(loaded.generator.get_config()) == as_json(model.generator.get_config())
    assert as_json(loaded.discriminator.get_config()) == as_json(model.discriminator.get_config())


def test_every_weight_round_trips(saved):
    """All weights, BatchNorm statistics included. Keras does not store dropout's
    SeedGenerator state in `.keras` files, so a reload draws new dropout masks."""
    model, loaded, _, _ = saved
    assert len(loaded.weights) == len(model.weights)
    for original, restored in zip(model.weights, loaded.weights, strict=True):
        np.testing.assert_array_equal(to_numpy(original), to_numpy(restored), err_msg=original.path)


def test_loaded_generator_gives_identical_eval_outputs(saved):
    model, loaded, x, _ = saved
    expected, restored = model.translate(x, "eval"), loaded.translate(x, "eval")
    np.testing.assert_array_equal(to_numpy(restored), to_numpy(expected))
    pair = [x, to_numpy(expected)]
    expected, restored = model.discriminator(pair), loaded.discriminator(pair)
    np.testing.assert_array_equal(to_numpy(restored), to_numpy(expected))


def test_both_optimizers_and_their_state_round_trip(saved):
    model, loaded, _, _ = saved
    assert float(to_numpy(loaded.g_optimizer.learning_rate)) == pytest.approx(1e-3)
    assert float(to_numpy(loaded.d_optimizer.learning_rate)) == pytest.approx(2e-4)
    pairs = [(model.g_optimizer, loaded.g_optimizer), (model.d_optimizer, loaded.d_optimizer)]
    for original, restored in pairs:
        assert len(restored.variables) == len(original.variables)
        for a, b in zip(original.variables, restored.variables, strict=True):
            np.testing.assert_array_equal(to_numpy(a), to_numpy(b), err_msg=a.path)


def test_a_loaded_model_trains_on(saved):
    _, loaded, x, y = saved
    loaded.fit(x, y, batch_size=2, epochs=1, verbose=0)
    assert int(to_numpy(loaded.g_optimizer.iterations)) == 4
    assert int(to_numpy(loaded.d_optimizer.iterations)) == 4


def test_a_generator_alone_round_trips(tmp_path):
    generator = unet_generator(SIZE, in_channels=1, out_channels=2, ngf=4, norm="instance")
    generator.save(tmp_path / "generator.keras")
    loaded = keras.saving.load_model(tmp_path / "generator.keras")
    x = random_images(2, 2, SIZE, 1)
    np.testing.assert_array_equal(to_numpy(loaded(x)), to_numpy(generator(x)))


def test_the_backends_inference_load_gives_the_saved_weights_and_a_working_model(saved, tmp_path):
    """`step_module().load_model` (on JAX: without running initializers) is Keras' load."""
    model, _, x, _ = saved
    path = tmp_path / "pix2pix.keras"
    model.save(path)
    loaded = step_module().load_model(path)
    expected = keras.saving.load_model(path, compile=False)

    def weights(model):  # seed states are named by a per-process counter, and not saved
        return [v for v in model.variables if "seed_generator" not in v.path]

    assert [v.path for v in weights(loaded)] == [v.path for v in weights(expected)]
    assert len(loaded.variables) == len(expected.variables)
    for mine, keras_own in zip(weights(loaded), weights(expected), strict=True):
        np.testing.assert_array_equal(to_numpy(mine), to_numpy(keras_own), err_msg=mine.path)
    np.testing.assert_array_equal(loaded.predict_on_batch(x), expected.predict_on_batch(x))
    with keras.StatelessScope():  # closing one initializes what was left without a value
        pass
    paper = loaded.translate(x, mode="paper")  # dropout draws from the seed states
    assert np.all(np.isfinite(to_numpy(paper)))
    loaded.compile()
    loaded.train_on_batch(x, x)  # and it still trains
