"""The documentation: notebooks run, rendered pages are in sync, the site builds strictly.

Notebooks execute under one backend in CI (tensorflow, the fastest on a CPU); set
PIX2PIX_NOTEBOOKS_ALL_BACKENDS=1 to execute them under every backend's run.
"""

import contextlib
import importlib.util
import io
import os
import pathlib
import re
import subprocess
import sys

import keras
import pytest

from pix2pix_k3.cli import PARSERS

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "tutorials").glob("*.ipynb"))
NOTEBOOK_BACKEND = "tensorflow"


def load_renderer():
    spec = importlib.util.spec_from_file_location("render_docs", ROOT / "scripts/render_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


render_docs = load_renderer()


def test_there_are_tutorials():
    assert NOTEBOOKS, "tutorials/ holds no notebook"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem)
def test_each_rendered_page_is_in_sync_with_its_notebook(notebook):
    page = ROOT / "docs" / "tutorials" / f"{notebook.stem}.md"
    assert page.is_file(), f"{page} is missing: run python scripts/render_docs.py {notebook.stem}"
    assert render_docs.recorded_hash(page) == render_docs.source_hash(notebook), (
        f"{page} was rendered from another version of {notebook.name}: "
        f"run python scripts/render_docs.py {notebook.stem}"
    )
    nav = (ROOT / "mkdocs.yml").read_text()
    assert f"tutorials/{notebook.stem}.md" in nav, f"{notebook.stem} is not in mkdocs.yml's nav"


@pytest.mark.parametrize("program", render_docs.PROGRAMS)
def test_the_cli_reference_lists_every_flag(program):
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        PARSERS[program]().print_help()
    flags = set(re.findall(r"--[a-z0-9][a-z0-9-]*", text.getvalue()))
    reference = (ROOT / "docs" / "cli.md").read_text()
    missing = sorted(flag for flag in flags if flag not in reference)
    assert not missing, f"docs/cli.md lacks {missing}: run python scripts/render_docs.py --cli-only"


def test_every_relative_link_and_image_in_the_docs_exists():
    broken = []
    for page in (ROOT / "docs").rglob("*.md"):
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            path = (page.parent / target.split("#")[0]).resolve()
            if not path.exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert not broken, broken


def test_the_site_builds_with_no_warnings(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    site = tmp_path / "site"
    assert (site / "tutorials" / "01_paired_data" / "index.html").is_file()
    assert (
        '<details class="question"'
        in (site / "tutorials" / "03_patchgan" / "index.html").read_text()
    )
    assert (site / "course" / "index.html").is_file()
    for solution in sorted((ROOT / "tutorials" / "exercises").glob("*.ipynb")):
        page = (site / "exercises" / solution.stem / "index.html").read_text()
        notebook = site / "exercises" / solution.name  # served for download, as is
        assert notebook.read_bytes() == (ROOT / "docs" / "exercises" / solution.name).read_bytes()
        assert f'href="../{solution.name}"' in page, f"{solution.stem}'s page has no download link"


@pytest.fixture(scope="module")
def shared_compilations():
    """The suite's own JAX compilation cache (tests/conftest.py)."""
    return os.environ["JAX_COMPILATION_CACHE_DIR"]


runs_notebooks = keras.backend.backend() == NOTEBOOK_BACKEND or os.environ.get(
    "PIX2PIX_NOTEBOOKS_ALL_BACKENDS"
)


@pytest.mark.skipif(not runs_notebooks, reason=f"notebooks run under {NOTEBOOK_BACKEND} in CI")
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem)
def test_each_notebook_executes_without_error(notebook, monkeypatch, shared_compilations):
    """Every cell runs; the tutorials that train at their smoke scale (1 epoch of 16 pairs
    a run, one seed), since their pages' figures come from scripts/render_docs.py at the
    tutorial scale. The notebooks use the suite's JAX compilation cache: the same arm
    trained in two tutorials compiles once."""
    pytest.importorskip("nbclient")
    monkeypatch.setenv("PIX2PIX_TUTORIAL_SCALE", "smoke")
    executed = render_docs.execute(notebook, compilation_cache=shared_compilations)
    page = ROOT / "docs" / "tutorials" / f"{notebook.stem}.md"
    stale = render_docs.drifted_cells(executed, page)
    assert not stale, (
        f"{page.relative_to(ROOT)} shows other outputs than the code gives now for the "
        f"deterministic cell(s) {stale}; the first now reads:\n"
        f"{render_docs.cell_markdown(executed, stale[0])[-1500:]}\n"
        f"Run python scripts/render_docs.py {notebook.stem}"
    )


def executed_cell(text, tags):
    import nbformat

    cell = nbformat.v4.new_code_cell("print(SIZE)", metadata={"tags": tags})
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
    cell.outputs.append(nbformat.v4.new_output("stream", name="stderr", text="a log line\n"))
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# A"), cell])


def test_a_page_is_stale_when_a_deterministic_cell_prints_otherwise(tmp_path):
    """What the executed-notebook check above relies on, without executing anything."""
    pytest.importorskip("nbconvert")
    page = tmp_path / "page.md"
    rendered = render_docs.without_stderr(executed_cell("89 lines\n", ["deterministic"]))
    page.write_text("<!-- marker -->\n\n" + render_docs.cell_markdown(rendered, 1) + "\n")
    assert render_docs.drifted_cells(executed_cell("89 lines\n", ["deterministic"]), page) == []
    assert render_docs.drifted_cells(executed_cell("111 lines\n", ["deterministic"]), page) == [1]
    assert render_docs.drifted_cells(executed_cell("111 lines\n", []), page) == []  # untagged


def test_some_cells_of_the_tutorials_are_checked_against_their_pages():
    import json

    tagged = {
        notebook.stem: [
            i
            for i, cell in enumerate(json.loads(notebook.read_text())["cells"])
            if render_docs.DETERMINISTIC in cell.get("metadata", {}).get("tags", [])
        ]
        for notebook in NOTEBOOKS
    }
    assert tagged["05_train_step"], "the step modules' sizes and sources are deterministic"
    assert sum(map(len, tagged.values())) >= 10, tagged


def test_the_course_page_shows_each_tutorials_recorded_run_time():
    course = (ROOT / "docs" / "course.md").read_text()
    assert render_docs.run_times() in course, (
        "docs/course.md's table of run times differs from the pages' first lines: "
        "python scripts/render_docs.py writes it"
    )
    assert "| - |" not in render_docs.run_times(), "a page records no run time"


def test_the_run_time_a_page_records_is_read_back_as_written():
    ran = render_docs.RAN.format(seconds=12.4, backend="torch", cores=2)
    line = render_docs.MARKER.format(name="t", digest="0123", ran=ran)
    assert render_docs.prose_numbers().recorded_run(f"{line}\n\n# T\n") == (12, "torch", 2)
    assert render_docs.prose_numbers().recorded_run("<!-- no run -->\n") is None
