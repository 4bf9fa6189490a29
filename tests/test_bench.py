"""`benchmarks/bench.py`'s measurements run: the data pipelines, and the peers' own steps
where `../shared/peers` is here. Each is a process of its own, so they run once."""

import json
import os
import pathlib
import subprocess
import sys

import pytest
from helpers import once

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import bench  # noqa: E402  (benchmarks/ is no package)
import peers  # noqa: E402

pytestmark = once


def worker(name, *options, backend="torch"):
    """One `bench.py --worker` measurement's JSON row, as bench.py's driver starts it."""
    done = subprocess.run(
        [sys.executable, "benchmarks/bench.py", "--worker", name, *options],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "KERAS_BACKEND": backend},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_data_measurement_reports_each_pipeline():
    rows = worker("data")["rows"]
    names = [row["data"] for row in rows]
    assert "embedded 64 px" in names
    if (ROOT.parent / "shared" / "data" / "facades" / "train").is_dir():
        assert {"train, decoded 256 px", "train, cached 256 px"} <= set(names)
    assert all(row["pairs_per_s"] > 0 for row in rows)


@pytest.mark.parametrize("name", sorted(peers.NAMES))
def test_a_peer_step_runs_from_its_own_code(name):
    if name not in peers.available():
        pytest.skip(f"the peers' code is not here ({peers.PEERS} is absent)")
    row = worker(f"peer_{name}", "--warmup=0", "--steps=1", backend=peers.NAMES[name])
    assert row["kind"] == bench.PEER_KINDS[name] and row["median_step_s"] > 0
    # the paper's networks: U-Net-256 (54,413,955 parameters) and the 70x70 PatchGAN
    assert sum(row["parameters"]) > 50_000_000


def test_each_measurement_runs_under_its_own_framework(monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "torch")  # the user's, not the TF tutorial's
    monkeypatch.setattr(peers, "available", lambda: list(peers.NAMES))
    monkeypatch.setattr(sys, "argv", ["bench.py", "--backends", "torch", "--rounds", "2"])
    args = bench.parse_args()
    measurements = list(bench.plan(args))
    backends = {worker: backend for worker, backend, _ in measurements}
    assert backends["peer_tf_tutorial"] == backends["tf"] == "tensorflow"
    assert backends["peer_junyanz"] == backends["torch"] == backends["ours"] == "torch"
    # every measurement at each of the default batch sizes (1, 4), repeated by --rounds
    assert len(measurements) == 2 * 2 * len(backends)


def profile(worker, *options):
    """One `profile_step.py --worker` row (our step or the authors'), on torch."""
    done = subprocess.run(
        [sys.executable, "benchmarks/profile_step.py", "--worker", worker, *options],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "KERAS_BACKEND": "torch"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("worker", ["ours", "authors"])
def test_the_profile_splits_a_step_into_multiplies_and_the_rest(worker):
    if worker == "authors" and "junyanz" not in peers.available():
        pytest.skip(f"the authors' code is not here ({peers.PEERS} is absent)")
    size = "64" if worker == "ours" else "256"  # the authors' unet_256 takes 256 only
    row = profile(worker, f"--image-size={size}", "--warmup=1", "--steps=1", "--top=3")
    import profile_step

    multiplies = [name for name, _ in row["multiply"]["top"]]
    assert multiplies and set(multiplies) <= profile_step.MULTIPLY_OPS
    assert not set(name for name, _ in row["rest"]["top"]) & profile_step.MULTIPLY_OPS
    assert row["multiply"]["ms"] > 0 and row["rest"]["ms"] > 0 and row["peak_rss_gb"] > 0.1
