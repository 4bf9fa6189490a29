"""What an exercise's check prints: one line per check, expected against got, and the
likely mistake where it is known, in the student's terms."""

from dataclasses import dataclass, field

import numpy as np

WIDTH = 96  # the report's lines wrap here, to read in a notebook's output


@dataclass
class Line:
    name: str
    passed: bool
    detail: str = ""
    hint: str = ""


@dataclass
class Report:
    """The checks of one exercise, in the order they ran."""

    title: str
    lines: list = field(default_factory=list)
    missing: str = ""  # what the student has not written yet, if anything

    @property
    def passed(self):
        return not self.missing and bool(self.lines) and all(line.passed for line in self.lines)

    def add(self, name, passed, detail="", hint=""):
        self.lines.append(Line(name, bool(passed), detail, "" if passed else hint))
        return passed

    def compare(self, name, expected, got, rtol=1e-5, atol=0.0, hint=""):
        """A numeric check: `got` against the stored `expected`, by relative error."""
        expected_array, got_array = (np.asarray(v, "float64") for v in (expected, got))
        if got_array.shape != expected_array.shape:
            detail = f"expected shape {expected_array.shape}, got {got_array.shape}"
            return self.add(name, False, detail, hint)
        finite = bool(np.all(np.isfinite(got_array)))
        error = relative_error(expected_array, got_array) if finite else np.inf
        passed = finite and (
            error <= rtol or np.allclose(got_array, expected_array, rtol=0, atol=atol)
        )
        detail = f"expected {show(expected)}, got {show(got)}"
        if not finite:
            detail += " (not finite: inf or nan where a number was expected)"
        elif not passed:
            detail += f" (relative error {error:.2g}, allowed {rtol:g})"
        return self.add(name, passed, detail, hint)

    def requirements(self, rows, hints):
        """The specification suite's rows, each with the hint for its ID on a FAIL."""
        for row in rows:
            passed = row["verdict"] == "pass"
            detail = "" if passed else row["detail"] or row["verdict"]
            self.add(f"{row['id']}: {row['requirement']}", passed, detail, hints.get(row["id"], ""))

    def text(self):
        if self.missing:
            return f"{self.title}: not written yet\n  {self.missing}"
        passed = sum(line.passed for line in self.lines)
        verdict = "all pass" if self.passed else f"{passed} of {len(self.lines)} pass"
        out = [f"{self.title}: {verdict}"]
        for line in self.lines:
            out.append(f"  {'PASS' if line.passed else 'FAIL'}  {line.name}")
            if line.detail:
                out.append(wrapped(line.detail, "          "))
            if line.hint:
                out.append(wrapped("likely: " + line.hint, "          "))
        return "\n".join(out)

    def __repr__(self):  # a notebook shows the report of a check cell's last line
        return self.text()


def relative_error(expected, got):
    """max |got - expected| / max |expected| (the absolute error where expected is 0)."""
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    difference = float(np.max(np.abs(got - expected))) if expected.size else 0.0
    return difference / scale if scale else difference


def show(value):
    array = np.asarray(value)
    if array.ndim == 0:
        number = array.item()
        if isinstance(number, float):
            return f"{number:.6g}"
        return f"{number:,}" if isinstance(number, int) else str(number)
    if array.size <= 8:
        return np.array2string(array, precision=6, separator=", ")
    return f"array of shape {array.shape}"


def wrapped(text, indent):
    import textwrap

    return textwrap.fill(text, WIDTH, initial_indent=indent, subsequent_indent=indent + "  ")
