"""Fixtures the requirement modules share."""

import pytest

from pix2pix_spec.recording import recorded_step


@pytest.fixture(scope="session")
def stepped(impl):
    """(trainer, Record) after one recorded step of a fresh trainer (skips without it)."""
    if "recording" not in impl.capabilities:
        pytest.skip(f"{impl.name} does not declare recording")
    trainer, record = recorded_step(impl)
    if record is None:
        pytest.skip(f"{impl.name} declares recording, but its step recorded nothing")
    return trainer, record


@pytest.fixture(scope="session")
def record(stepped):
    return stepped[1]
