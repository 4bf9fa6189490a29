"""The suite's options, on a NumPy-only adapter of loss functions (no framework, seconds):
--only, --skips, --xfails, --max-examples and the JSON and Markdown reports."""

import json
import re

import keras
import pytest
from spec_runs import run_suite

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "jax", reason="about the suite, not a backend: runs once"
)

LOSSES = """
import numpy as np


def bce(logits, label):
    logits = np.asarray(logits, "float64")
    return np.mean(np.maximum(logits, 0) - logits * label + np.log1p(np.exp(-np.abs(logits))))


class Losses:
    name = "numpy losses, D not halved"
    capabilities = {"losses"}

    def discriminator_loss(self, real, fake):
        return bce(real, 1.0) + bce(fake, 0.0)

    def generator_loss(self, fake, generated, targets):
        return bce(fake, 1.0) + 100 * np.mean(np.abs(np.asarray(targets) - generated))
"""


@pytest.fixture
def adapter(tmp_path):
    (tmp_path / "losses.py").write_text(LOSSES)
    return f"{tmp_path / 'losses.py'}:Losses"


def test_only_runs_the_named_requirements_and_a_deviation_fails(adapter, tmp_path):
    run = run_suite(adapter, tmp_path, "--only", "OBJ-1,OBJ-2,GEN-1")
    assert run.verdicts() == {"OBJ-1": "FAIL", "OBJ-2": "pass", "GEN-1": "skipped"}
    assert "the sum without the paper's 1/2" in run.detail("OBJ-1")
    assert "does not declare generator" in run.detail("GEN-1")
    assert run.returncode == 1


def test_xfails_and_skips_files_and_the_markdown_report(adapter, tmp_path):
    (tmp_path / "xfails.txt").write_text("OBJ-1  # we sum D's terms, on purpose\n")
    (tmp_path / "skips.txt").write_text("OBJ-2  # not today\n")
    markdown = tmp_path / "report.md"
    run = run_suite(
        adapter, tmp_path, "--only", "OBJ-1,OBJ-2", "--xfails", str(tmp_path / "xfails.txt"),
        "--skips", str(tmp_path / "skips.txt"), "--report-md", str(markdown),
    )  # fmt: skip
    assert run.verdicts() == {"OBJ-1": "xfail", "OBJ-2": "skipped"}
    assert "skipped on request: not today" in run.detail("OBJ-2")
    assert run.returncode == 0
    text = markdown.read_text()
    assert "| OBJ-1 | 3.1, 3.3 |" in text and "xfail" in text
    assert f"requirements v{run.header['requirements_version']}" in text
    rows = [line for line in text.splitlines() if line.startswith("| OBJ-")]
    # OBJ-2's requirement reads mean |y - G(x)|: its pipes are escaped, five cells a row
    assert len(rows) == 2 and "\\|y - G(x)\\|" in rows[1]
    assert all(len(re.split(r"(?<!\\)\|", row)) == 7 for row in rows)  # 5 cells, 2 ends


def test_an_unknown_requirement_id_is_refused(adapter, tmp_path):
    (tmp_path / "skips.txt").write_text("L2\n")
    with pytest.raises(AssertionError, match="'L2' is not a requirement ID"):
        run_suite(adapter, tmp_path, "--skips", str(tmp_path / "skips.txt"))


def test_max_examples_reaches_hypothesis(adapter, tmp_path):
    run = run_suite(adapter, tmp_path, "--only", "OBJ-2", "--max-examples", "3",
                    "--hypothesis-show-statistics")  # fmt: skip
    assert "Stopped because settings.max_examples=3" in run.output, run.tail
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["suite"] == "pix2pix-spec" and report["impl"] == adapter


def test_every_requirement_has_a_row_and_one_without_a_test_says_so(monkeypatch):
    """A requirement whose test is missing (or failed to collect) cannot vanish from the
    table: its row says "no test". Requirements --only leaves out have no row."""
    from pix2pix_spec import plugin

    passed = {"outcomes": [("pass", "")], "notes": [], "seconds": 1.0}
    monkeypatch.setattr(plugin, "RESULTS", {"OBJ-1": passed})
    monkeypatch.setattr(plugin, "COLLECTED", {"OBJ-1", "OBJ-2"})  # OBJ-2: deselected by -k
    monkeypatch.setitem(plugin.PLUGIN_STATE, "only", None)
    verdicts = {row["id"]: row["verdict"] for row in plugin.table()}
    assert verdicts["OBJ-1"] == "pass" and "OBJ-2" not in verdicts
    assert verdicts["GEN-1"] == verdicts["TRN-2"] == "no test"
    assert len(verdicts) == len(plugin.REQUIREMENTS) - 1
    monkeypatch.setitem(plugin.PLUGIN_STATE, "only", {"OBJ-1", "GEN-1"})
    assert {row["id"]: row["verdict"] for row in plugin.table()} == {
        "GEN-1": "no test",
        "OBJ-1": "pass",
    }
