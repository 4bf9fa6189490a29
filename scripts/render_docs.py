"""Render the generated pages of the documentation site: tutorials, exercises, CLI reference.

    python scripts/render_docs.py [NAME ...]    # CLI reference, exercises, then tutorials
    python scripts/render_docs.py --cli-only    # the CLI reference and the exercises (seconds)

The CLI reference (`docs/cli.md`) is each program's `--help`, so it cannot drift from the
code.

The exercises' solution notebooks (`tutorials/exercises/`) are not executed here: each
one's student copy (the solution regions taken out, `pix2pix_k3.course.handout`) is
written to `docs/exercises/<name>.ipynb`, where the site serves it for download, and
rendered, unexecuted, as the page `docs/exercises/<name>.md`.

Each notebook runs top to bottom in a fresh kernel (nbclient) with the current
KERAS_BACKEND, and its executed form is written as Markdown to
`docs/tutorials/<name>.md`, with its figures in `docs/tutorials/<name>_files/`. The pages
are committed, so the site builds without executing anything. The first line of each page
records a hash of the notebook's cells (their sources, not their outputs):
`tests/test_docs.py` checks that every page is in sync with its notebook. It also
records how long the notebook ran, with which backend on how many cores: a time the
prose states must agree with it or with a printed one. After rendering, every number of
the pages' prose is checked against what backs it (`scripts/prose_numbers.py`); the
script lists what is not backed and exits 1.

A hash of the sources cannot see a page go stale when the *package* changes under it (a
cell that prints a module's size, a layer table, a parameter count). Cells whose output
is the same on every backend and every run carry the tag `deterministic` (cell metadata
`"tags": ["deterministic"]`); when the suite executes a notebook it checks that each such
cell, rendered with its new outputs, still appears verbatim on the committed page.
"""

import argparse
import hashlib
import importlib.util
import json
import os
import pathlib
import re
import shutil
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
TUTORIALS, PAGES = ROOT / "tutorials", ROOT / "docs" / "tutorials"
EXERCISES, EXERCISE_PAGES = TUTORIALS / "exercises", ROOT / "docs" / "exercises"
# The order of docs/cli.md.
PROGRAMS = ("fit", "translate", "evaluate", "export", "convert", "cache")
MARKER = "<!-- rendered from tutorials/{name}.ipynb; source hash {digest}{ran} -->"
RAN = "; ran in {seconds:.0f} s with {backend} on {cores} cores"  # read by prose_numbers.RAN
TIMEOUT_S = 600  # a notebook must run in 10 minutes on a 2-core CPU
# pix2pix_k3.compile_cache.VARIABLE, and JAX's own, which overrides it where set
CACHE_VARIABLES = ("PIX2PIX_K3_COMPILATION_CACHE", "JAX_COMPILATION_CACHE_DIR")
DETERMINISTIC = "deterministic"  # the tag of cells whose outputs the pages must show


def source_hash(notebook_path):
    """sha256 of the cells' types and sources: changes when the notebook's text changes."""
    cells = json.loads(pathlib.Path(notebook_path).read_text())["cells"]
    text = json.dumps([(cell["cell_type"], "".join(cell["source"])) for cell in cells])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def recorded_hash(page_path):
    """The hash a rendered page was made from (None if the page has no marker)."""
    first = pathlib.Path(page_path).read_text().split("\n", 1)[0]
    found = re.search(r"source hash (\w+)", first)
    return found.group(1) if found else None


def execute(notebook_path, timeout=TIMEOUT_S, compilation_cache=None):
    """The notebook, executed in a fresh kernel started in the tutorials folder.

    The tutorials that train turn on JAX's compilation cache (`pix2pix_k3.compile_cache`);
    here it lives in `compilation_cache`, by default a new empty folder, so that the time
    a page records is that of a first run, not one that found its compilations on disk
    (JAX's own JAX_COMPILATION_CACHE_DIR is pointed there too, since it would rule).
    """
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(notebook_path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(pathlib.Path(notebook_path).parent)}},
    )
    with tempfile.TemporaryDirectory(prefix="pix2pix_render_cache_") as empty:
        folder = str(compilation_cache or empty)
        saved = {name: os.environ.get(name) for name in CACHE_VARIABLES}
        os.environ.update(dict.fromkeys(CACHE_VARIABLES, folder))  # the kernel inherits them
        try:
            client.execute()
        finally:
            for name, value in saved.items():
                if value is None:
                    del os.environ[name]
                else:
                    os.environ[name] = value
    return notebook


def cell_markdown(notebook, index):
    """The Markdown of one cell of an executed notebook (source and text outputs), as
    `render` writes it onto the page."""
    import nbformat
    from nbconvert import MarkdownExporter

    alone = nbformat.v4.new_notebook(cells=[notebook.cells[index]], metadata=notebook.metadata)
    body, _ = MarkdownExporter().from_notebook_node(alone)
    return body.strip()


def drifted_cells(notebook, page_path):
    """Indices of the executed `notebook`'s `deterministic` cells whose source and
    outputs the page at `page_path` does not show (the page is stale)."""
    page = pathlib.Path(page_path).read_text()
    notebook = without_stderr(notebook)
    return [
        i
        for i, cell in enumerate(notebook.cells)
        if DETERMINISTIC in cell.metadata.get("tags", []) and cell_markdown(notebook, i) not in page
    ]


def without_stderr(notebook):
    """The notebook without stderr outputs (backends' start-up logs are noise on a page),
    and with the stdout pieces they interrupted joined again into one block."""
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        kept = []
        for output in cell.outputs:
            stream = output.output_type == "stream"
            if stream and output.name == "stderr":
                continue
            previous = kept[-1] if kept else None
            if stream and previous is not None and previous.output_type == "stream":
                previous.text += output.text
            else:
                kept.append(output)
        cell.outputs = kept
    return notebook


def render(notebook_path):
    """Execute one notebook and write its page and figures; return the seconds it took."""
    from nbconvert import MarkdownExporter

    name = pathlib.Path(notebook_path).stem
    start = time.perf_counter()
    notebook = without_stderr(execute(notebook_path))
    seconds = time.perf_counter() - start
    files = f"{name}_files"
    body, resources = MarkdownExporter().from_notebook_node(
        notebook, resources={"output_files_dir": files}
    )
    figures = PAGES / files
    shutil.rmtree(figures, ignore_errors=True)
    for relative, data in resources["outputs"].items():
        target = PAGES / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    backend = os.environ.get("KERAS_BACKEND", "jax")  # the notebooks' own default
    ran = RAN.format(seconds=seconds, backend=backend, cores=os.cpu_count())
    marker = MARKER.format(name=name, digest=source_hash(notebook_path), ran=ran)
    (PAGES / f"{name}.md").write_text(f"{marker}\n\n{body.strip()}\n")
    return seconds


TIMES_START, TIMES_END = "<!-- run times: written by scripts/render_docs.py -->", "<!-- end -->"


def prose_numbers():
    """scripts/prose_numbers.py, loaded from beside this script (which is not a package)."""
    path = pathlib.Path(__file__).with_name("prose_numbers.py")
    spec = importlib.util.spec_from_file_location("prose_numbers", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_times():
    """The Markdown table of each tutorial's recorded run time (its page's first line),
    which docs/course.md shows between TIMES_START and TIMES_END."""
    recorded_run = prose_numbers().recorded_run
    rows = ["| tutorial | ran in | with |", "|---|---|---|"]
    for page in sorted(PAGES.glob("*.md")):
        text = page.read_text()
        found = recorded_run(text)
        title = text.split("\n# ", 1)[1].split("\n", 1)[0]
        ran = f"{found[0]} s | {found[1]}, {found[2]} cores" if found else "- | -"
        rows.append(f"| [{title}](tutorials/{page.name}) | {ran} |")
    return "\n".join(rows)


def write_run_times(course=ROOT / "docs" / "course.md"):
    text = course.read_text()
    before, rest = text.split(TIMES_START, 1)
    after = rest.split(TIMES_END, 1)[1]
    course.write_text(f"{before}{TIMES_START}\n{run_times()}\n{TIMES_END}{after}")


def exercise_page(solution_path):
    """Write the student copy of one solution notebook and its page; return the page's
    path. The page opens with the download link and records the solution's source hash."""
    from nbconvert import MarkdownExporter

    from pix2pix_k3.course.handout import write_student_copy

    student = write_student_copy(solution_path, EXERCISE_PAGES)
    import nbformat

    body, _ = MarkdownExporter().from_notebook_node(nbformat.read(student, as_version=4))
    name = student.stem
    marker = MARKER.format(name=f"exercises/{name}", digest=source_hash(solution_path), ran="")
    download = (
        f"*The student's notebook: [download {name}.ipynb]({name}.ipynb), open it in "
        "Jupyter and run it top to bottom; [Using pix2pix_k3 in a course](../course.md) "
        "says what you need installed.*"
    )
    page = EXERCISE_PAGES / f"{name}.md"
    page.write_text(f"{marker}\n\n{download}\n\n{body.strip()}\n")
    return page


def cli_reference():
    """The text of docs/cli.md: the --help of every program, at a fixed width."""
    import contextlib
    import io
    import os

    from pix2pix_k3.cli import PARSERS

    os.environ["COLUMNS"] = "100"
    sections = [
        "# Command-line reference\n",
        "Generated from the programs' own `--help` by `python scripts/render_docs.py`.",
        "Every program takes `KERAS_BACKEND=jax|tensorflow|torch` from the environment.\n",
    ]
    for program in PROGRAMS:
        text = io.StringIO()
        with contextlib.redirect_stdout(text):
            PARSERS[program]().print_help()
        sections.append(
            f"## `python -m pix2pix_k3.{program}`\n\n```text\n{text.getvalue().rstrip()}\n```\n"
        )
    return "\n".join(sections)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="notebook names without .ipynb (default: all)")
    parser.add_argument(
        "--cli-only", action="store_true", help="render docs/cli.md and the exercises, no tutorial"
    )
    args = parser.parse_args()
    (ROOT / "docs" / "cli.md").write_text(cli_reference())
    print("docs/cli.md: written")
    for solution in sorted(EXERCISES.glob("*.ipynb")):
        page = exercise_page(solution)
        print(f"{solution.relative_to(ROOT)} -> {page.relative_to(ROOT)} and its notebook")
    if args.cli_only:
        return 0
    paths = [TUTORIALS / f"{name}.ipynb" for name in args.names] or sorted(
        TUTORIALS.glob("*.ipynb")
    )
    PAGES.mkdir(parents=True, exist_ok=True)
    check = prose_numbers().check
    problems = []
    for path in paths:
        seconds = render(path)
        print(f"{path.name}: executed in {seconds:.0f} s -> docs/tutorials/{path.stem}.md")
        problems += check(path)
    write_run_times()
    print("docs/course.md: the tutorials' run times written")
    print("\n".join(problems) or "every number of the pages' prose is backed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
