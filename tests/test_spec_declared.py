"""A layer list declared by hand, for a network the suite cannot read, is measured
wherever the adapter hands over the block's operations (`activation_probe`,
`dropout_probe`, `norm_probe`): the measured value is graded, and a declared value it
contradicts FAILs with both values. Framework-free: the network is NumPy."""

import keras
import pytest
from spec_runs import run_suite

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "jax", reason="about the suite, not a backend: the jax pass"
)

ADAPTER = '''
import numpy as np


def leaky(slope):
    return lambda x: np.where(x > 0, x, slope * x)


def dropout(rate):
    def apply(x, training):
        if not training:
            return x
        keep = np.random.default_rng().random(x.shape) >= rate
        return x * keep / (1 - rate)
    return apply


def batch_norm(x, training):
    mean, var = x.mean(axis=(0, 1, 2)), x.var(axis=(0, 1, 2))
    return (x - mean) / np.sqrt(var + 1e-5)


class NumpyNet:
    """A network no framework of the suite's can read."""


class HandDeclared:
    name = "a NumPy pix2pix declared by hand"
    capabilities = {"generator", "generator_layers"}
    image_sizes = (32, 256)
    encoder_slope = 0.2  # what the activations really compute

    def generator(self, image_size, in_channels=3, out_channels=3):
        return NumpyNet()

    def run_generator(self, generator, images, training):
        return np.tanh(np.asarray(images))

    def generator_layers(self, generator):
        encoder = [64, 128, 256, 512, 512, 512, 512, 512]
        decoder = [512, 512, 512, 512, 256, 128, 64]
        rows = []
        for number, width in enumerate(encoder):
            norm = "none" if number in (0, 7) else "batch"
            rows.append({"part": "encoder", "filters": width, "norm": norm, "dropout": 0.0,
                         "slope": 0.2, "activation_probe": leaky(self.encoder_slope),
                         "norm_probe": batch_norm if norm == "batch" else None})
        for number, width in enumerate(decoder):
            rate = 0.5 if number < 3 else 0.0
            rows.append({"part": "decoder", "filters": width, "norm": "batch",
                         "dropout": 0.5 if number < 3 else 0.0, "slope": 0.0,
                         "upsampling": "transposed", "activation_probe": leaky(0.0),
                         "dropout_probe": dropout(rate) if rate else None})
        return rows


class DefaultSlopeDeclaredPaper(HandDeclared):
    """Declares the paper's 0.2, computes Keras' default 0.3."""

    encoder_slope = 0.3
'''


@pytest.fixture
def adapter(tmp_path):
    (tmp_path / "hand_declared.py").write_text(ADAPTER)
    return tmp_path / "hand_declared.py"


def test_a_probed_declaration_that_holds_passes_and_says_it_was_measured(adapter, tmp_path):
    run = run_suite(f"{adapter}:HandDeclared", tmp_path, "--only", "GEN-6,GEN-7,ACT-1")
    assert run.verdicts() == {"GEN-6": "pass", "GEN-7": "pass", "ACT-1": "pass"}, run.tail
    detail = run.detail("ACT-1")
    assert "declared, not derived" in detail, detail
    assert "dropout, norm, slope measured through the adapter's probes" in detail, detail


def test_a_declared_slope_its_probe_contradicts_fails_with_both_values(adapter, tmp_path):
    run = run_suite(f"{adapter}:DefaultSlopeDeclaredPaper", tmp_path, "--only", "ACT-1,GEN-6")
    assert run.verdicts() == {"ACT-1": "FAIL", "GEN-6": "pass"}, run.tail
    detail = run.detail("ACT-1")
    assert "generator block 1: the adapter declares slope 0.2, its slope probe measures 0.3" in (
        detail
    ), detail
