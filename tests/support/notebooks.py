"""Run a notebook's code cells in this process, as a kernel would, for the course tests:
one namespace, each cell in order, the value of a cell's last expression shown as
IPython shows it. Cheaper than a kernel per notebook and backend (the tests run 30 of
them), and the checks run on the backend this pytest process runs."""

import ast
import contextlib
import io
import json
import pathlib


def code_cells(notebook, leave_out=()):
    """The sources of a notebook's code cells (a path or a `json.load`ed dict), without
    those tagged with any of `leave_out`."""
    if not isinstance(notebook, dict):
        notebook = json.loads(pathlib.Path(notebook).read_text())
    return [
        "".join(cell["source"])
        for cell in notebook["cells"]
        if cell["cell_type"] == "code"
        and not set(leave_out) & set(cell["metadata"].get("tags", []))
    ]


def run_cell(source, namespace, name):
    tree = ast.parse(source, name)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, name, "exec"), namespace)
    if last is not None:
        value = eval(compile(ast.Expression(last.value), name, "eval"), namespace)
        if value is not None:
            print(repr(value))


def run_notebook(notebook, name="notebook", leave_out=()):
    """Every code cell's printed output, joined (cells tagged with any of `leave_out` not
    run); an error in a cell propagates, with the output so far in its notes."""
    import matplotlib

    matplotlib.use("Agg")
    namespace = {"__name__": "__main__"}
    output = io.StringIO()
    for index, source in enumerate(code_cells(notebook, leave_out)):
        try:
            with contextlib.redirect_stdout(output):
                run_cell(source, namespace, f"{name}[{index}]")
        except Exception as error:
            error.add_note(f"{name}, code cell {index}; output so far:\n{output.getvalue()}")
            raise
    import matplotlib.pyplot as plt

    plt.close("all")
    return output.getvalue()
