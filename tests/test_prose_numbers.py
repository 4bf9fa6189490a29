"""`scripts/prose_numbers.py`: a number in a tutorial's prose must be printed by the page,
written in its code, a constant of the paper, written-out arithmetic that holds, or
declared with a reason; a stated time must agree with a time the page measured.

Checked here on small pages made for the purpose (a notebook and its rendered page).
"""

import importlib.util
import json
import pathlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

ROOT = pathlib.Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("prose_numbers", ROOT / "scripts/prose_numbers.py")
prose_numbers = importlib.util.module_from_spec(spec)
spec.loader.exec_module(prose_numbers)


def page(folder, prose, code="print(1)", output="1", seconds=None, declared=None):
    """A notebook of one Markdown cell and one code cell, and its rendered page, in
    `folder`; the problems the checker finds in it."""
    metadata = {"pix2pix_k3": {"prose numbers": declared}} if declared else {}
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": prose},
        {"cell_type": "code", "metadata": {}, "source": code, "outputs": [],
         "execution_count": None},
    ]  # fmt: skip
    notebook = folder / "t.ipynb"
    notebook.write_text(json.dumps({"cells": cells, "metadata": metadata}))
    ran = f"; ran in {seconds} s with jax on 2 cores" if seconds is not None else ""
    marker = f"<!-- rendered from tutorials/t.ipynb; source hash 0{ran} -->"
    indented = "\n".join(f"    {line}" for line in output.splitlines())
    rendered = folder / "t.md"
    rendered.write_text(f"{marker}\n\n{prose}\n\n```python\n{code}\n```\n\n{indented}\n")
    return prose_numbers.check(notebook, rendered)


def test_a_printed_number_passes_and_an_unprinted_one_names_itself(tmp_path):
    assert page(tmp_path, "The network has 2,768,705 weights.", output="2,768,705") == []
    (problem,) = page(tmp_path, "The network has 2,768,706 weights.", output="2,768,705")
    assert "'2,768,706' is in no output" in problem and "has 2,768,706 weights" in problem


@given(st.integers(min_value=1000, max_value=10**7))
def test_any_number_is_backed_only_by_a_source(tmp_path_factory, number):
    folder = tmp_path_factory.mktemp("page")
    sentence = f"It took {number:,} steps to converge."
    assert page(folder, sentence, output=f"steps: {number}") == []
    assert page(folder, sentence, code=f"STEPS = {number}") == []
    assert len(page(folder, sentence, output=f"steps: {number + 1}")) == 1


def test_constants_of_the_paper_references_quotes_and_code_spans_need_no_source(tmp_path):
    prose = (
        "The 70×70 PatchGAN of Table 3 and section 2.2, λ = 100, 256×256 images.\n\n"
        "> the paper says 1234 here\n\n`ndf=4321` sets the width; see tutorial 6."
    )
    assert page(tmp_path, prose) == []


def test_a_declared_number_passes_and_a_stale_declaration_is_reported(tmp_path):
    declared = {"77": "(70/8)² rounded, in the sentence"}
    assert page(tmp_path, "Each pixel is seen by about 77 patches.", declared=declared) == []
    (problem,) = page(tmp_path, "Each pixel is seen by many patches.", declared=declared)
    assert "'77' is declared in the metadata but no longer in the prose" in problem


def test_arithmetic_that_holds_derives_its_result_and_wrong_arithmetic_is_reported(tmp_path):
    assert page(tmp_path, "Offsets: 286 − 256 + 1 = 31 values, 31 × 31 × 2 = **1,922**.") == []
    assert page(tmp_path, "Each pixel is seen by (70/8)² ≈ 77 of them.") == []
    problems = page(tmp_path, "Offsets: 286 − 256 + 1 = 32 values.")
    assert problems and "the arithmetic is wrong: 286 − 256 + 1 is 31, not 32" in problems[0]


@pytest.mark.parametrize(
    ("sentence", "seconds", "output", "agrees"),
    [
        ("The runs take 580 s.", None, "a: 290 s\nb: 290 s", True),  # their sum
        ("The runs take 388 s.", None, "a: 290 s\nb: 290 s", False),  # tutorial 6's
        ("It runs in about a minute.", 71, "1", True),
        ("It runs in about a minute.", 140, "1", False),
        ("It runs in under 10 minutes.", 580, "1", True),
        ("It runs in under 10 minutes.", 620, "1", False),
        ("Each check takes a few seconds.", None, "done in 4.2 s", True),
        ("A second D judges it.", None, "1", True),  # an ordinal, not a time
    ],
)
def test_a_stated_time_must_agree_with_a_measured_one(tmp_path, sentence, seconds, output, agrees):
    problems = page(tmp_path, sentence, output=output, seconds=seconds)
    assert (problems == []) == agrees, problems


def test_spelled_out_numbers_count_from_three():
    assert prose_numbers.numbers_in("its six halvings, one cell, two images") == {"6"}


def test_a_decimal_may_be_a_printed_one_rounded_but_not_an_integer(tmp_path):
    assert page(tmp_path, "D's loss starts near 0.69.", output="loss 0.693147") == []
    assert page(tmp_path, "D's loss starts near 0.70.", output="loss 0.693147") != []
    assert page(tmp_path, "It has 580 weights.", output="580.4") != []


NOTEBOOKS = sorted((ROOT / "tutorials").glob("*.ipynb"))
TEN_MINUTES, CORES = 600, 2  # each tutorial, as rendered on a laptop-sized CPU


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem)
def test_every_number_of_a_tutorial_is_backed_by_its_page(notebook):
    problems = prose_numbers.check(notebook)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem)
def test_each_tutorial_ran_in_under_ten_minutes_on_two_cores(notebook):
    page = (ROOT / "docs" / "tutorials" / f"{notebook.stem}.md").read_text()
    found = prose_numbers.recorded_run(page)
    assert found, f"{notebook.stem}'s page records no run time: python scripts/render_docs.py"
    seconds, _, cores = found
    assert cores <= CORES and seconds <= TEN_MINUTES, page.split("\n", 1)[0]


def test_a_result_derived_later_in_the_cell_backs_its_earlier_mentions(tmp_path):
    prose = "Rows 8i − 23 to 8i + 69: the 23 is padding (1 + 2 + 4 + 8 + 8 = 23); 70 − 1 = 69."
    assert page(tmp_path, prose) == []
