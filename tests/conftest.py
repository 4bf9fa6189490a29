"""Test configuration shared by the whole suite.

The suite runs once per Keras backend (`KERAS_BACKEND=jax|tensorflow|torch`); see
`scripts/test`. Environment settings must come before the first `import keras`.
"""

import os
import pathlib

CACHE = pathlib.Path(__file__).resolve().parent.parent / ".cache"
# JAX compilation dominates small tests; a persistent cache makes reruns cheap.
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(CACHE / "jax"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "-1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
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
    return f"keras {keras.__version__}, backend {keras.backend.backend()}"


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    """Each test starts with a clean Keras session (layer-name counters, seeds)."""
    keras.backend.clear_session()
    yield
