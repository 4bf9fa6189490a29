"""pix2pix_k3's adapter as this test suite runs the specification suite with it: with
Keras' own convolutions on JAX, as every in-process test here (tests/conftest.py says
why: compiling the matrix-product forms doubled the JAX pass). Those forms are held
equal to Keras' layers by test_conv_forms.py; users run examples/adapters/ as it is."""

import os
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "examples" / "adapters"))

import keras  # noqa: E402
from pix2pix_k3_adapter import Pix2PixK3  # noqa: E402, F401

from pix2pix_k3 import fast  # noqa: E402

if keras.backend.backend() == "jax":
    os.environ[fast.VARIABLE] = "keras"  # for the whole process
