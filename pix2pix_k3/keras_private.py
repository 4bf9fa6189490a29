"""Every reach into Keras' private API, in one place.

Each one does something Keras offers no public way to do, and each is pinned by a test
in tests/test_keras_private.py that fails the day Keras changes what it relies on
(Keras 3.15 here). Nothing else in the package imports `keras.src` or reads an
underscored attribute of a Keras object.
"""

import keras


def pending_initializations():
    """The variables Keras made without values inside a `StatelessScope(initialize_variables=
    False)`, which it initializes when the next stateless scope closes."""
    from keras.src.backend.common import global_state

    return global_state.get_global_attribute("uninitialized_variables") or []


def forget_assigned_variables():
    """Drop from `pending_initializations()` the variables that hold a value by now, then
    initialize the rest: Keras' `initialize_all_variables` raises for a variable that
    has one (see `steps.jax.load_model`)."""
    from keras.src.backend.common import global_state
    from keras.src.backend.common.variables import initialize_all_variables

    unset = [variable for variable in pending_initializations() if variable._value is None]
    global_state.set_global_attribute("uninitialized_variables", unset)
    initialize_all_variables()


def hide_tensorflow():
    """Make Keras treat TensorFlow as not installed for its optional uses (seeding it,
    checking its types when saving); importing it explicitly still works."""
    from keras.src.utils import module_utils

    module_utils.tensorflow._available = False


def adam_slots(optimizer, variables):
    """(first moments, second moments) of a built `keras.optimizers.Adam`, one variable of
    each per entry of `variables`, in that order."""
    if not isinstance(optimizer, keras.optimizers.Adam):
        raise TypeError(f"adam_slots needs a keras.optimizers.Adam, got {type(optimizer)}.")
    index = optimizer._get_variable_index
    return (
        [optimizer._momentums[index(variable)] for variable in variables],
        [optimizer._velocities[index(variable)] for variable in variables],
    )
