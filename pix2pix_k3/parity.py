"""One train step from NumPy-made weights: the same numbers on every Keras backend.

Run as a program (`KERAS_BACKEND=torch python -m pix2pix_k3.parity out.npz`), one process
per backend, or call `one_step()`; tutorial 5 and `tests/test_parity.py` compare the
backends, `benchmarks/gpu_check.py` a device with the CPU. Every weight comes from a NumPy
generator seeded by the weight's position, so the starting point is identical
whatever the backend's own random number generator. Dropout is off: its masks come
from each backend's RNG and cannot match.
"""

import sys

import numpy as np

from pix2pix_k3.paper import WEIGHT_STDDEV

SIZE, BATCH = 32, 2


def initial_value(index, variable):
    """Deterministic weights of the kind the paper's init gives."""
    rng = np.random.default_rng(1000 + index)
    shape, name = tuple(variable.shape), variable.path.rsplit("/", 1)[-1]
    if name == "moving_mean":
        return np.zeros(shape, "float32")
    if name in ("moving_variance", "gamma"):
        return (1.0 + WEIGHT_STDDEV * rng.standard_normal(shape)).astype("float32")
    return (WEIGHT_STDDEV * rng.standard_normal(shape)).astype("float32")


def one_step():
    """Losses and every weight after one `fit` step, as NumPy arrays by name."""
    import keras

    from pix2pix_k3 import build_pix2pix

    model = build_pix2pix(SIZE, ngf=4, ndf=4, receptive_field=34, dropout=0.0)
    model.compile()
    for index, variable in enumerate(model.weights):
        variable.assign(initial_value(index, variable))
    rng = np.random.default_rng(7)
    x = rng.uniform(-1, 1, (BATCH, SIZE, SIZE, 3)).astype("float32")
    y = rng.uniform(-1, 1, (BATCH, SIZE, SIZE, 3)).astype("float32")
    history = model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0).history
    result = {f"loss:{name}": np.float32(values[-1]) for name, values in history.items()}
    for index, variable in enumerate(model.weights):
        result[f"{index}:{variable.path}"] = keras.ops.convert_to_numpy(variable.value)
        result[f"initial:{index}:{variable.path}"] = initial_value(index, variable)
    return result


if __name__ == "__main__":
    np.savez(sys.argv[1], **one_step())
