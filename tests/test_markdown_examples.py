"""Every bash and python block of README.md and docs/*.md runs, as a reader would run it.

A block is skipped only when the line before it says `<!-- not run: why -->` (a
download, a benchmark, the reader's own adapter). The bash blocks of a page run in order,
in one fresh folder that holds the example data the pages name (`photos/`,
`facades/test/`, `my_pairs/`, `path/to/facades/train/`); each python block then runs in
a process of its own in that folder, after the page's bash blocks.

What the runner changes, and nothing else (`test_the_runner_changes_only_what_it_says`):
- it drops `pip install ...` and `scripts/test` (the suite runs inside the installed
  project; installing is what CI's own set-up and `.ci/run` check);
- it appends tiny settings (`TINY`) to every `pix2pix_k3.fit` that is not a `--resume`,
  so a run takes seconds: the flags given on the page come first, and argparse lets the
  last one win (`--pairs`, the embedded set's size, only where no `--data` is given);
- it gives each `fit` without `--out` the folder `runs/example-N`, and reads the page's
  `runs/<time>` as the first of them: two runs started in one second would otherwise
  share a folder name;
- it runs the commands on the pass's backend (`KERAS_BACKEND=jax` becomes the backend
  under test), except those with `--data-parallel` or `keras.distribution`, which are
  JAX's only and stay on JAX.

The programs are separate processes whatever the pass, so the pages run in one pass
only (torch's, the quickest to start), not three times.
"""

import concurrent.futures
import os
import pathlib
import re
import subprocess
import sys

import keras
import numpy as np
import pytest
from PIL import Image

from pix2pix_k3.data.synthetic import synthetic_pair

ROOT = pathlib.Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TINY = (
    "--image-size 32 --pairs 8 --batch-size 2 --ngf 4 --ndf 4 --patch 16 --epochs 1 "
    "--epochs-decay 0 --samples 2 --verbose 2"
)
NOT_RUN = re.compile(r"<!--\s*not run:\s*(.+?)\s*-->\s*$")
BLOCK = re.compile(r"^```(bash|python)\n(.*?)^```", re.S | re.M)
JAX_ONLY = ("--data-parallel", "keras.distribution")
DATA = re.compile(r"--data[ =]")
PASS = "torch"  # the backend pass that runs the pages

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != PASS,
    reason=f"the pages' commands are processes of their own: run once, in the {PASS} pass",
)


def blocks(page):
    """[(language, code, reason not to run or None)] of a Markdown page, in order."""
    text = page.read_text()
    found = []
    for match in BLOCK.finditer(text):
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        skip = NOT_RUN.search(before)
        found.append((match.group(1), match.group(2), skip.group(1) if skip else None))
    return found


def adapt_bash(code, backend, runs):
    """The block as the runner runs it (see the module docstring); `runs` collects the
    run folders given to fits without --out."""
    lines = []
    for line in re.sub(r"\s*\\\n\s*", " ", code).splitlines():
        command = line.split("#", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        parts = [p.strip() for p in command.split("&&")]
        parts = [p for p in parts if p and "pip install" not in p and p != "scripts/test"]
        lines.extend(adapt_command(part, backend, runs) for part in parts)
    return "\n".join(lines)


def adapt_command(command, backend, runs):
    chosen = "jax" if any(flag in command for flag in JAX_ONLY) else backend
    command = command.replace("KERAS_BACKEND=jax", f"KERAS_BACKEND={chosen}")
    if "pix2pix_k3.fit" in command and "--resume" not in command:
        command += " " + (TINY.replace("--pairs 8 ", "") if DATA.search(command) else TINY)
        if "--out" not in command:
            runs.append(f"runs/example-{len(runs) + 1}")
            command += f" --out {runs[-1]}"
    if "runs/<time>" in command:
        command = command.replace("runs/<time>", runs[0] if runs else "runs/example-1")
    return f"KERAS_BACKEND={chosen} {command}" if "KERAS_BACKEND=" not in command else command


def example_data(folder):
    """The data the pages name, made small: photos, A|B pairs, a training folder."""
    rng = np.random.default_rng(0)
    (folder / "photos").mkdir()
    for i in range(2):
        Image.fromarray(synthetic_pair([1, i], 40)[0][:, :30]).save(folder / "photos" / f"{i}.jpg")
    for where, count in [
        ("facades/test", 3),
        ("my_pairs", 3),
        ("path/to/facades/train", 8),
        ("path/to/facades/test", 3),
    ]:
        (folder / where).mkdir(parents=True)
        for i in range(count):
            pair = np.concatenate(synthetic_pair([2, int(rng.integers(1e6))], 48), axis=1)
            Image.fromarray(pair).save(folder / where / f"{i}.png")


def environment(backend):
    # Two pages run at a time: a thread each keeps torch off the other's core.
    env = {**os.environ, "KERAS_BACKEND": backend, "OMP_NUM_THREADS": "1"}
    env["PATH"] = f"{pathlib.Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    return env


def run(command, folder, env, what):
    """None if `command` succeeds, else what it printed."""
    result = subprocess.run(
        command, cwd=folder, env=env, capture_output=True, text=True, timeout=600
    )
    if result.returncode == 0:
        return None
    return (
        f"{what} failed (exit {result.returncode}):\n{result.stdout[-3000:]}\n"
        f"{result.stderr[-3000:]}"
    )


def run_page(page, folder):
    """The first failure of a page's blocks, run as the module docstring says, or None."""
    found = blocks(page)
    example_data(folder)
    runs, env = [], environment(PASS)
    for number, (language, code, skip) in enumerate(found, 1):
        if skip or language != "bash":
            continue
        script = adapt_bash(code, PASS, runs)
        failure = run(["bash", "-euo", "pipefail", "-c", script], folder, env, f"block {number}")
        if failure:
            return failure
    for number, (language, code, skip) in enumerate(found, 1):
        if skip or language != "python":
            continue
        block_env = environment("jax") if any(flag in code for flag in JAX_ONLY) else env
        failure = run([sys.executable, "-c", code], folder, block_env, f"block {number}")
        if failure:
            return failure
    return None


def runnable(page):
    return any(skip is None for _, _, skip in blocks(page))


@pytest.fixture(scope="module")
def failures(tmp_path_factory):
    """{page: its first failure or None}, the pages run two at a time (2 cores here)."""
    pages = [page for page in PAGES if runnable(page)]
    folders = [tmp_path_factory.mktemp(page.stem) for page in pages]
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(pages, pool.map(run_page, pages, folders), strict=True))


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_runnable_block_of_the_page_runs(page, failures):
    if not runnable(page):
        pytest.skip(f"{page.name}: no runnable bash or python block")
    assert failures[page] is None, f"{page.name}: {failures[page]}"


def test_the_runner_changes_only_what_it_says():
    runs = []
    code = (
        'python3 -m pip install -e ".[jax]" && KERAS_BACKEND=jax python3 -m pix2pix_k3.fit\n'
        "scripts/test\n"
        "# a comment\n"
        "python -m pix2pix_k3.fit --out runs/x\n"
        "KERAS_BACKEND=jax python -m pix2pix_k3.fit --resume --out runs/x\n"
        "KERAS_BACKEND=jax python -m pix2pix_k3.fit --data-parallel \\\n    --batch-size 8\n"
        "python3 -m pix2pix_k3.translate runs/<time> photos/ --out t/  # translate\n"
    )
    assert adapt_bash(code, "torch", runs).splitlines() == [
        f"KERAS_BACKEND=torch python3 -m pix2pix_k3.fit {TINY} --out runs/example-1",
        f"KERAS_BACKEND=torch python -m pix2pix_k3.fit --out runs/x {TINY}",
        "KERAS_BACKEND=torch python -m pix2pix_k3.fit --resume --out runs/x",
        f"KERAS_BACKEND=jax python -m pix2pix_k3.fit --data-parallel --batch-size 8 {TINY} "
        "--out runs/example-2",
        "KERAS_BACKEND=torch python3 -m pix2pix_k3.translate runs/example-1 photos/ --out t/",
    ]


def test_every_block_is_run_or_says_why_not():
    """A block may only be left out by a `not run` line that gives a reason."""
    for page in PAGES:
        for _, _, skip in blocks(page):
            assert skip is None or len(skip) > 10, f"{page.name}: say why a block is not run"
    reasons = [skip for page in PAGES for _, _, skip in blocks(page) if skip]
    assert len(reasons) < sum(len(blocks(page)) for page in PAGES) / 2
