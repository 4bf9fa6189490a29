"""Run the specification suite (`python -m pix2pix_spec`) in a subprocess and read its
JSON report: what the tests about the suite, the examples, the peers and the mutants
share."""

import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
PEERS = ROOT.parent / "shared" / "peers"
# torchvision's pure-Python transforms, for the PyTorch reference's data code (peers/_tv.py);
# scripts/test unpacks them here.
TORCHVISION_FILES = ROOT / ".cache" / "torchvision-files"


class SuiteRun:
    """One run's {requirement id: row} from the JSON report, and its printed output (whole:
    hypothesis' falsifying examples can be long, and the table comes before them)."""

    def __init__(self, report, output, returncode):
        self.rows = {row["id"]: row for row in report.get("requirements", [])}
        self.header = {k: v for k, v in report.items() if k != "requirements"}
        self.output, self.returncode = output, returncode

    @property
    def tail(self):
        """The end of the output, for assertion messages."""
        return self.output[-6000:]

    def verdicts(self):
        return {ident: row["verdict"] for ident, row in self.rows.items()}

    def failing(self):
        return sorted(ident for ident, row in self.rows.items() if row["verdict"] == "FAIL")

    def detail(self, ident):
        row = self.rows[ident]
        return "; ".join(filter(None, [row["detail"], *row["notes"]]))


def run_suite(impl, tmp_path, *args, backend=None, env=None, timeout=1500):
    """The suite against `impl` (module:Adapter or file.py:Adapter), from the repo root."""
    report = pathlib.Path(tmp_path) / "report.json"
    environment = {**os.environ, **(env or {})}
    if backend:
        environment["KERAS_BACKEND"] = backend
    # Its own --basetemp: a suite process left to pytest's numbered folders prunes old
    # ones, this test session's own among them.
    basetemp = pathlib.Path(tmp_path) / "suite-tmp"
    command = [sys.executable, "-m", "pix2pix_spec", "--impl", impl, "-q", "--color=no",
               "-p", "no:randomly", f"--basetemp={basetemp}", f"--report-json={report}",
               *args]  # fmt: skip
    done = subprocess.run(
        command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=timeout
    )
    output = done.stdout + done.stderr
    exit_code = done.returncode
    assert report.is_file(), f"the suite wrote no report (exit {exit_code}):\n{output[-6000:]}"
    return SuiteRun(json.loads(report.read_text()), output, exit_code)


def peers_env():
    """The environment the peers' adapters need: where the peers' code is, and
    torchvision's transforms."""
    return {
        "PIX2PIX_PEERS": str(PEERS),
        "TORCHVISION_FILES": str(TORCHVISION_FILES),
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2"),
    }
