"""`benchmarks/gpu_check.py --dry-run`: the device check runs on a CPU, so it is ready the
day a GPU is lent. Each pass checks its own backend (device names are asked per backend)."""

import json
import pathlib
import subprocess
import sys

import keras

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_the_device_check_runs_and_reports_every_figure(tmp_path):
    backend = keras.backend.backend()
    out = tmp_path / "check.json"
    done = subprocess.run(
        [sys.executable, "benchmarks/gpu_check.py", "--dry-run", "--backends", backend,
         "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    text = done.stdout
    assert "failed" not in text, text
    assert f"{backend} on cpu" in text and "convolution forms:" in text
    assert "parity with the CPU, one step: largest weight difference 0.0e+00" in text
    figures = json.loads(out.read_text())
    steps = figures["backends"][backend]["steps"]
    assert set(steps) == {"float32", "mixed_bfloat16"}
    for policy, run in steps.items():
        assert [row["batch_size"] for row in run["rows"]] == [1, 2], policy
        for row in run["rows"]:
            assert row["dtype_policy"] == policy and row["median_step_s"] > 0
            assert 0 < row["matmul_peak_gflops"]
    data = figures["data"]["rows"]
    assert {(row["cached"], row["workers"] > 1) for row in data} >= {(False, False), (True, False)}
    assert all(row["pairs_per_s"] > 0 for row in data)
    assert "the fastest step above consumes" in text
