"""Student copies of the exercise notebooks: every solution region taken out.

    python -m pix2pix_k3.course.handout tutorials/exercises/*.ipynb --out FOLDER

The format is nbgrader's (https://nbgrader.readthedocs.io): in a cell whose metadata marks
it a solution cell (`{"nbgrader": {"solution": true, ...}}`), the lines from
`### BEGIN SOLUTION` to `### END SOLUTION` become nbgrader's stub, indented like the
markers: `# YOUR CODE HERE` and `raise NotImplementedError()` in code, `YOUR ANSWER HERE`
in Markdown. Outputs and execution counts are cleared. A marker outside a solution cell,
or one left open, is refused, as nbgrader refuses it.

Why the format and not the tool: nbgrader is a Jupyter server extension with a course
database and a fixed folder layout; handing out copies needs only this one step, written
here in plain `json`. A course that runs nbgrader gets the same student copies from
`nbgrader generate_assignment`, since the notebooks carry its cell metadata.
"""

import argparse
import json
import pathlib
import sys

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
CODE_STUB = ["# YOUR CODE HERE", "raise NotImplementedError()"]
TEXT_STUB = ["YOUR ANSWER HERE"]


class HandoutError(ValueError):
    """A solution notebook whose markers cannot be taken out as nbgrader would."""


def is_solution(cell):
    return bool(cell.get("metadata", {}).get("nbgrader", {}).get("solution"))


def source_lines(cell):
    source = cell["source"]
    return ("".join(source) if isinstance(source, list) else source).split("\n")


def cleared(lines, stub, where):
    """`lines` with each solution region replaced by `stub`, at the markers' indentation."""
    out, inside = [], False
    for number, line in enumerate(lines, 1):
        marker = line.strip()
        if marker == BEGIN:
            if inside:
                raise HandoutError(f"{where}, line {number}: {BEGIN} inside a solution region")
            inside, indent = True, line[: len(line) - len(line.lstrip())]
            out += [indent + stub_line for stub_line in stub]
        elif marker == END:
            if not inside:
                raise HandoutError(f"{where}, line {number}: {END} without {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise HandoutError(f"{where}: {BEGIN} is never closed by {END}")
    return out


def student_copy(notebook, name="notebook"):
    """The student's copy of a solution notebook (a dict as `json.load` gives it)."""
    copy = json.loads(json.dumps(notebook))
    for index, cell in enumerate(copy["cells"]):
        where = f"{name}, cell {index}"
        lines = source_lines(cell)
        marked = any(line.strip() in (BEGIN, END) for line in lines)
        if marked and not is_solution(cell):
            raise HandoutError(
                f"{where} holds {BEGIN}/{END} but is not a solution cell: set its metadata "
                '"nbgrader": {"solution": true, ...} (nbgrader refuses it too)'
            )
        if marked:
            stub = CODE_STUB if cell["cell_type"] == "code" else TEXT_STUB
            text = "\n".join(cleared(lines, stub, where))
            cell["source"] = [line + "\n" for line in text.split("\n")[:-1]] + [
                text.split("\n")[-1]
            ]
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    return copy


def write_student_copy(solution_path, out_folder):
    """Write the student copy of `solution_path` into `out_folder`; return its path."""
    solution_path = pathlib.Path(solution_path)
    notebook = json.loads(solution_path.read_text())
    target = pathlib.Path(out_folder) / solution_path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    copy = student_copy(notebook, str(solution_path))
    target.write_text(json.dumps(copy, indent=1, ensure_ascii=False) + "\n")
    return target


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", help="solution notebooks (.ipynb)")
    parser.add_argument("--out", required=True, help="folder for the student copies")
    args = parser.parse_args(argv)
    for path in args.notebooks:
        try:
            print(write_student_copy(path, args.out))
        except (OSError, json.JSONDecodeError, HandoutError) as error:
            print(f"handout: {path}: {error}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
