"""pix2pix_k3 meets every requirement of the specification suite, on this backend.

The suite runs in a subprocess (`python -m pix2pix_spec`) against
`examples/adapters/pix2pix_k3_adapter.py`, whose train step is pix2pix_k3's own, through
`spec_adapter.py` (Keras' own convolutions on JAX, as in every in-process test).
"""

import keras
from pix2pix_spec.catalogue import REQUIREMENTS
from spec_runs import run_suite

IMPL = "tests/support/spec_adapter.py:Pix2PixK3"  # Keras convolutions on JAX, see there


def test_pix2pix_k3_meets_every_requirement(tmp_path):
    run = run_suite(IMPL, tmp_path, backend=keras.backend.backend())
    verdicts = run.verdicts()
    assert set(verdicts) == {r.ident for r in REQUIREMENTS}, run.tail
    assert all(v == "pass" for v in verdicts.values()), run.tail
    assert run.returncode == 0, run.tail
    assert run.header["requirements_version"] and run.header["name"] == "pix2pix_k3"
