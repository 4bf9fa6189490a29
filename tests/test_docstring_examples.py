"""Every `>>>` example in pix2pix_k3's docstrings runs and prints what it says.

The docstrings are the API reference (docs/api.md renders them), so an example that
names an undefined variable or shows another output is a bug a reader meets first.
Each module's examples run with that module's own names, as `python -m doctest` does.
"""

import doctest
import importlib
import pathlib

import pytest

import pix2pix_k3

PACKAGE = pathlib.Path(pix2pix_k3.__file__).parent


def modules_with_examples():
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if ">>>" in path.read_text():
            relative = path.relative_to(PACKAGE.parent).with_suffix("")
            names.append(".".join(relative.parts).removesuffix(".__init__"))
    return names


def test_the_paper_modules_have_examples():
    assert {"pix2pix_k3.blocks", "pix2pix_k3.model"} <= set(modules_with_examples())


def test_every_example_section_holds_runnable_lines():
    """An `Example:` heading followed by prose would escape the run below."""
    bare = []
    for path in sorted(PACKAGE.rglob("*.py")):
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            if line.strip() == "Example:" and ">>>" not in lines[i + 1]:
                bare.append(f"{path.relative_to(PACKAGE.parent)}:{i + 1}")
    assert not bare, f"examples not written as >>> lines: {bare}"


@pytest.mark.parametrize("name", modules_with_examples())
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = [test for test in finder.find(module) if test.examples]
    assert tests, f"{name} has '>>>' but doctest finds no example in it"
    failures = []
    for test in tests:
        result = runner.run(test, out=failures.append)
        assert result.attempted
    assert not failures, "".join(failures)
