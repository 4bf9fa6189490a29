"""Test configuration shared by the whole suite.

The suite runs once per Keras backend (`KERAS_BACKEND=jax|tensorflow|torch`); see
`scripts/test`. Environment settings must come before the first `import keras`.

The specification suite (`spec/`, the `pix2pix-spec` distribution) is a pytest plugin of
its own; the tests here run it in subprocesses against pix2pix_k3's adapter, the
examples, the peers and the mutants.
"""

import contextlib
import os
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
CACHE = HERE.parent / ".cache"
# The helpers and scripts that are not tests (`helpers`, `spec_runs`, the parity and
# kill scripts, the specification adapters) live in tests/support/.
sys.path.insert(0, str(HERE / "support"))
# JAX compilation dominates small tests; a persistent cache makes reruns cheap.
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(CACHE / "jax"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "-1")
os.environ.setdefault("PIX2PIX_K3_COMPILATION_CACHE", str(CACHE / "jax"))  # the programs'
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("PIX2PIX_K3_PAIR_CACHE", str(CACHE / "pairs"))  # not the user's home

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

# No deadline: the first example of a JAX test includes its compilation.
settings.register_profile(
    "pix2pix",
    deadline=None,
    max_examples=10,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "pix2pix"))


def pytest_report_header(config):
    import keras

    return f"keras {keras.__version__}, backend {keras.backend.backend()}"


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    """Each test starts with a clean Keras session (layer-name counters, seeds).

    Without Keras' `gc.collect()`: a full collection of this process's heap (three
    frameworks' modules) took ~0.5 s a test, ~4 minutes of each backend's pass; Python's
    own collector still runs."""
    if "keras" in sys.modules:
        sys.modules["keras"].backend.clear_session(free_memory=False)
    yield


@pytest.fixture(autouse=True)
def _keras_convolutions_in_process(request):
    """Keras' own convolutions for the in-process tests on JAX (`fast.use("keras")`).

    On JAX on a CPU, `pix2pix_k3.fast` computes convolutions as matrix products: several
    times faster to train, but about 2.4x slower to compile, and compiling dominates
    these small tests (it doubled the JAX pass). The matrix-product forms are still
    checked: `test_conv_forms.py` holds them equal to Keras' layers on every backend, and
    every test that runs pix2pix_k3 in a subprocess uses them as users do (the parity
    step, compared across backends; data-parallel; resume after a kill). On torch the
    in-process tests run the forms users get.
    """
    from pix2pix_k3 import fast

    jax = sys.modules["keras"].backend.backend() == "jax"
    keep = request.node.get_closest_marker("matmul") or not jax
    with contextlib.nullcontext() if keep else fast.use("keras"):
        yield
