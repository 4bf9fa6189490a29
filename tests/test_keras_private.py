"""What `pix2pix_k3.keras_private` relies on in Keras: these fail the day Keras changes it."""

import ast
import pathlib

import keras
import numpy as np
import pytest

from pix2pix_k3 import keras_private

PACKAGE = pathlib.Path(keras_private.__file__).parent


@pytest.mark.skipif(
    keras.backend.backend() != "jax", reason="used by steps.jax.load_model, on jax only"
)
def test_variables_made_without_values_wait_and_assigned_ones_are_not_reinitialized():
    with keras.StatelessScope(initialize_variables=False):
        assigned = keras.Variable(initializer="ones", shape=(2,), name="assigned")
        left = keras.Variable(initializer="ones", shape=(3,), name="left")
    pending = keras_private.pending_initializations()
    assert any(v is assigned for v in pending) and any(v is left for v in pending)
    assigned.assign(np.array([5.0, 6.0], "float32"))
    keras_private.forget_assigned_variables()
    assert keras_private.pending_initializations() == []
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(assigned.value), [5.0, 6.0])
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(left.value), [1.0, 1.0, 1.0])


def test_hiding_tensorflow_turns_off_keras_optional_tensorflow_uses(monkeypatch):
    from keras.src.utils import module_utils

    monkeypatch.setattr(module_utils.tensorflow, "_available", module_utils.tensorflow._available)
    keras_private.hide_tensorflow()
    assert module_utils.tensorflow.available is False


def test_adam_slots_are_the_first_and_second_moments_in_the_order_asked():
    first = keras.Variable(np.array([1.0, 2.0], "float32"))
    second = keras.Variable(np.array([3.0], "float32"))
    adam = keras.optimizers.Adam(learning_rate=0.1, beta_1=0.5, beta_2=0.9)
    adam.build([first, second])
    adam.apply_gradients(
        [
            (keras.ops.convert_to_tensor([1.0, -2.0]), first),
            (keras.ops.convert_to_tensor([4.0]), second),
        ]
    )
    momentums, velocities = keras_private.adam_slots(adam, [second, first])
    values = [keras.ops.convert_to_numpy(v.value) for v in (*momentums, *velocities)]
    for value, expected in zip(values, [[2.0], [0.5, -1.0], [1.6], [0.1, 0.4]], strict=True):
        np.testing.assert_allclose(value, expected, rtol=1e-6)
    with pytest.raises(TypeError, match="needs a keras.optimizers.Adam"):
        keras_private.adam_slots(keras.optimizers.SGD(), [first])


def test_no_other_module_reaches_into_keras_private_api():
    reaches = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "keras_private.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            module = getattr(node, "module", None) or ""
            names = [alias.name for alias in getattr(node, "names", [])]
            if isinstance(node, (ast.Import, ast.ImportFrom)) and any(
                name.startswith("keras.src") for name in [module, *names]
            ):
                reaches.append(f"{path.name}:{node.lineno}")
    assert reaches == []
