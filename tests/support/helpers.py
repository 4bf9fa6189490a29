"""Small helpers for the tests: NumPy views of Keras tensors and random images."""

import keras
import numpy as np
import pytest
from keras import ops


def to_numpy(value):
    """A NumPy copy of a tensor or a Keras variable (numpy 2 warns on np.array(variable))."""
    if isinstance(value, keras.Variable):
        value = value.value
    return ops.convert_to_numpy(value)


def random_images(seed, count, size, channels):
    """Images in [-1, 1], float32, NHWC."""
    rng = np.random.default_rng(seed)
    return rng.uniform(-1.0, 1.0, (count, size, size, channels)).astype("float32")


def trainable_count(model):
    return sum(int(np.prod(v.shape)) for v in model.trainable_variables)


def weight_count(model):
    return sum(int(np.prod(v.shape)) for v in model.weights)


# For a test whose subject does not depend on the pass's backend (a program started in a
# process of its own with a backend it sets itself, or with none): one pass is enough.
once = pytest.mark.skipif(
    keras.backend.backend() != "torch",
    reason="does not depend on the pass's backend: runs once, in the torch pass",
)
