"""Every number a tutorial's prose states must come from somewhere a reader can check.

    python scripts/prose_numbers.py [NAME ...]    # the tutorials' pages (default: all)

A tutorial page is its notebook executed (`scripts/render_docs.py`). Its prose (the
Markdown cells) may state a number only if the number is

- printed by the page's own outputs (a parameter count, a loss, a percentage, a time),
  or such a decimal rounded ("0.69" for a printed 0.693147);
- written in the page's code (a setting: `--epochs 6`, `image_size=256`);
- a constant of the paper that `pix2pix_k3.paper` holds (256, 70, 100, 0.5, ...);
- a reference: Table 3, Figure 6, section 2.2, appendix 6.1.2, tutorial 4, exercise 3;
- inside a quotation of the paper (a `>` block), a code span or a link;
- the result of arithmetic the prose writes out, result last, where it holds ("286 − 256 + 1 = 31",
  "(70/8)² ≈ 77"); arithmetic that does not hold is reported;
- or declared, with the reason, in the notebook's metadata
  (`"pix2pix_k3": {"prose numbers": {"0.66": "Table 3's FCN score of the 70x70"}}`):
  what the paper's tables say, a formula's value. A declaration the prose no longer uses
  is itself reported, so the list cannot go stale.

Times are stricter: a stated duration ("388 s", "about 3 minutes", "in about a minute")
must agree with a time the page measured, within 10% (30% after "about"): the run time
the renderer records in the page's first line, a time its outputs print, or their sum; and
an upper bound ("under 10 minutes") must hold. Neither code, the paper nor a declaration
can vouch for a time. Spelled-out numbers from three to twenty count as numbers ("six
halvings"); "one" and "two" are left out, being mostly words.
"""

import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
TUTORIALS, PAGES = ROOT / "tutorials", ROOT / "docs" / "tutorials"
METADATA_KEY, DECLARED_KEY = "pix2pix_k3", "prose numbers"
# How far a stated time may be from a measured one: "388 s" 10%, "about 6 minutes" 30%.
TIME_TOLERANCE, ABOUT_TOLERANCE = 0.1, 0.3
WORDS = {
    word: value
    for value, word in enumerate(
        "three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen twenty".split(),
        start=3,
    )
}
NUMBER = re.compile(
    r"(?<![\w.\-])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?![\w])"  # digits, 2,768,705 or 0.693
    rf"|\b({'|'.join(WORDS)})\b",
    re.I,
)
REFERENCE = re.compile(
    r"(?:Table|Tables|Figure|Figures|Fig\.|[Ss]ection|[Ss]ections|[Aa]ppendix|[Tt]utorials?|"
    r"[Ee]xercises?|[Ee]quation|Eq\.)\s+$"
)
UNIT = r"(?:s|seconds?|min|minutes?|hours?)\b"
SPELLED = rf"a few|two|{'|'.join(WORDS)}"
TIME = re.compile(
    r"(?:(?P<bound>under|less than|within|at most|below)\s+)?"
    r"(?P<about>(?:about|around|roughly)\s+)?"
    rf"(?:(?<![\w.])(?P<digits>\d+(?:\.\d+)?)\s*{UNIT}|(?P<words>{SPELLED})\s+{UNIT}"
    r"|(?P<one>an?)\s+(?P<long>minute|hour)\b)",
    re.I,
)
PER_UNIT = {"s": 1, "m": 60, "h": 3600}


def value_of(text):
    """The number a token stands for, written one way: "1,000", "1000" and "1000.0" are
    "1000", "0.50" is "0.5", "six" is "6"."""
    text = text.lower().replace(",", "")
    value = float(WORDS.get(text, text))
    return str(int(value)) if value.is_integer() else repr(value)


def spaced(text):
    """`text` with sizes spaced out: "30x30" and "30×30" read as two numbers."""
    return re.sub(r"(?<=\d)[x×](?=\d)", " × ", text)


def numbers_in(text):
    """Every number written in `text`, as value_of gives it."""
    return {value_of(m.group(0)) for m in NUMBER.finditer(spaced(text))}


def unit_of(match):
    """Seconds per unit of a TIME match ("s", "minutes", "hour")."""
    return PER_UNIT[match.group(0).rsplit(None, 1)[-1].lstrip("0123456789.")[0].lower()]


def stated_range(match):
    """(least, most) seconds a TIME match allows: TIME_TOLERANCE around a stated number,
    2 to 10 units for "a few", anything up to the bound after "under"."""
    words, unit = (match.group("words") or "").lower(), unit_of(match)
    if words == "a few":
        return 2 * unit, 10 * unit
    count = 1 if match.group("one") else {"two": 2}.get(words) or WORDS.get(words)
    seconds = float(match.group("digits") if count is None else count) * unit
    if match.group("bound"):
        return 0.0, seconds
    about = match.group("about") or match.group("words") or match.group("one")
    tolerance = ABOUT_TOLERANCE if about else TIME_TOLERANCE
    return seconds * (1 - tolerance), seconds * (1 + tolerance)


def plain_prose(markdown):
    """The prose of a Markdown cell: without code, quotations, links' targets, HTML tags
    and the figures' file names."""
    text = re.sub(r"```.*?```", " ", markdown, flags=re.S)
    text = re.sub(r"`[^`]*`", " ", text)
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(">"))
    text = re.sub(r"\]\([^)]*\)", "] ", text)
    text = re.sub(r"<!--.*?-->|<[^>]+>", " ", text, flags=re.S)
    return spaced(re.sub(r"\*+", "", text))  # emphasis: "= **1,922**" is arithmetic too


def page_outputs(page_text, notebook):
    """What the page shows besides the notebook's own text: the executed outputs."""
    rest = page_text.split("\n", 1)[1] if page_text.startswith("<!--") else page_text
    for cell in notebook["cells"]:
        source = "".join(cell["source"]).strip()
        if cell["cell_type"] == "code":
            source = f"```python\n{source}\n```"
        rest = rest.replace(source, " ", 1)
    return rest


RAN = re.compile(r"ran in (?P<seconds>\d+) s with (?P<backend>\w+) on (?P<cores>\d+) cores")


def recorded_run(page_text):
    """(seconds, backend, cores) that the renderer recorded in a page's first line, or None.

    The one reader of what `scripts/render_docs.py` writes there (its `RAN`)."""
    found = RAN.search(page_text.split("\n", 1)[0])
    if not found:
        return None
    return int(found["seconds"]), found["backend"], int(found["cores"])


def recorded_seconds(page_text):
    """The run time the renderer recorded in the page's first line, or None."""
    run = recorded_run(page_text)
    return float(run[0]) if run else None


def measured_times(page_text, outputs):
    """Every time the page measured, in seconds: its recorded run time, each printed time,
    and the sum of the printed ones."""
    printed = [float(m.group("digits")) * unit_of(m) for m in TIME.finditer(outputs)
               if m.group("digits")]  # fmt: skip
    times = set(printed) | ({sum(printed)} if printed else set())
    recorded = recorded_seconds(page_text)
    return times | ({recorded} if recorded is not None else set())


def time_problems(prose, measured, where):
    """The stated times of `prose` that no measured time backs."""
    problems = []
    for match in TIME.finditer(prose):
        least, most = stated_range(match)
        if not any(least <= m <= most for m in measured):
            seen = ", ".join(f"{m:.0f} s" for m in sorted(measured)) or "none"
            problems.append(
                f"{where}: '{match.group(0).strip()}' agrees with no time the page measured "
                f"(measured: {seen}); state the printed time, or print the one you state"
            )
    return problems


def paper_numbers():
    """The values of pix2pix_k3.paper's numeric constants (and of their tables)."""
    from pix2pix_k3 import paper

    found = set()
    for name in dir(paper):
        value = getattr(paper, name)
        if name.isupper() and not isinstance(value, str):
            found |= numbers_in(json.dumps(value, default=str))
    return found | {"1", "2"}  # counting words the paper's sentences use as digits


ENUMERATION = re.compile(r"(?:^|\n)[ \t#]*$")  # at the start of a line: a list or a heading
POWER_BASE = re.compile(r"^\s*(?:\^|[⁻⁰¹²³⁴⁵⁶⁷⁸⁹])")  # the 10 of 10^{-4} or 10⁻⁴
EXPRESSION = r"[\d(][\d,.\s+\-−×*/·()²³]*[\d)²³]"
EQUATION = re.compile(
    rf"(?<![\d,.])({EXPRESSION})\s*(=|≈)\s*(\d{{1,3}}(?:,\d{{3}})+|\d+(?:\.\d+)?)(?!\w|[,.]\d)(%?)"
    r"(?!\s*[+\-−×*/·]\s*\d)"  # "= 960 / 93" is not a result
)


def evaluate(expression):
    """The value of an arithmetic expression as prose writes it, or None."""
    text = expression.replace("−", "-").replace("×", "*").replace("·", "*")
    text = text.replace(",", "").replace("²", "**2").replace("³", "**3")  # 1,024 is 1024
    if not re.search(r"[-+*/]", text) or not re.fullmatch(r"[\d.\s+\-*/()]+", text):
        return None
    try:
        return float(eval(text, {"__builtins__": {}}))  # digits and operators only
    except (SyntaxError, ZeroDivisionError, TypeError):
        return None


def equations(prose):
    """[(span of the result, ok, what it says)] of the arithmetic `prose` writes out
    ("286 − 256 + 1 = 31", "(70/8)² ≈ 77"): a result is derived when the arithmetic holds
    (to the digits written, after ≈)."""
    found = []
    for match in EQUATION.finditer(prose):
        expression = match.group(1)
        while expression.startswith("(") and expression.count("(") > expression.count(")"):
            expression = expression[1:]  # "(1 + 2 = 3)": the bracket opens the aside
        value = evaluate(expression)
        if value is None:
            continue
        value *= 100 if match.group(4) else 1  # "25,165,824 / 54,413,955 ≈ 46%"
        result = match.group(3).replace(",", "")
        decimals = len(result.split(".")[1]) if "." in result else 0
        allowed = 0.5 * 10**-decimals if match.group(2) == "≈" else 1e-9 * max(1, abs(value))
        ok = abs(value - float(result)) <= allowed
        says = f"{' '.join(expression.split())} is {value:.10g}, not {match.group(3)}"
        found.append((match.span(3), ok, says))
    return found


def rounds_from(number, printed):
    """Whether a decimal `number` of the prose is a printed number rounded to its digits
    ("0.69" for a printed 0.693147; an integer must be printed as it is)."""
    number = number.replace(",", "")
    if "." not in number:
        return False
    digits = len(number.split(".")[1])  # as written: "0.70" has two
    return any(
        "." in value and len(value.split(".")[1]) > digits and
        round(float(value), digits) == float(number)
        for value in printed
    )  # fmt: skip


def context(prose, match):
    """The line of `prose` that holds `match`."""
    start = prose.rfind("\n", 0, match.start()) + 1
    end = prose.find("\n", match.end())
    return prose[start : end if end >= 0 else None].strip()


def check(notebook_path, page_path=None):
    """The problems of one tutorial page's prose, one line each (empty: none)."""
    notebook_path = pathlib.Path(notebook_path)
    page_path = pathlib.Path(page_path or PAGES / f"{notebook_path.stem}.md")
    notebook = json.loads(notebook_path.read_text())
    page = page_path.read_text()
    outputs = page_outputs(page, notebook)
    code = "\n".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code")
    declared = notebook.get("metadata", {}).get(METADATA_KEY, {}).get(DECLARED_KEY, {})
    declared_values = {value_of(number): number for number in declared}
    printed = numbers_in(outputs)
    known = printed | numbers_in(code) | paper_numbers()
    measured = measured_times(page, outputs)
    problems, used = [], set()
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        prose = plain_prose("".join(cell["source"]))
        where = f"{notebook_path.stem}, cell {index}"
        problems += time_problems(prose, measured, where)
        skipped = [m.span() for m in TIME.finditer(prose)]
        for (start, end), ok, says in equations(prose):  # a cell's results, wherever used
            if ok:
                known.add(value_of(prose[start:end]))
            else:
                problems.append(f"{where}: the arithmetic is wrong: {says}")
        for match in NUMBER.finditer(prose):
            number, start, end = value_of(match.group(0)), match.start(), match.end()
            if any(a <= start < b for a, b in skipped) or REFERENCE.search(prose[:start]):
                continue
            numbered = ENUMERATION.search(prose[:start]) or prose[start - 1 : start] == "["
            if numbered and prose[end : end + 1] == ".":  # "1. ...", "## 3. Title", "[6. Title]"
                continue
            if number == "10" and POWER_BASE.match(prose[end:]):
                continue
            if number in declared_values:
                used.add(declared_values[number])
                continue
            if number not in known and not rounds_from(match.group(0), printed):
                problems.append(
                    f"{where}: {match.group(0)!r} is in no output, code or paper constant "
                    f"of this page (in: {context(prose, match)!r}); print it, write out the "
                    f"arithmetic that gives it, or declare it with the reason in the "
                    f"notebook's metadata {METADATA_KEY!r}/{DECLARED_KEY!r}"
                )
    for number in sorted(set(declared) - used):
        problems.append(
            f"{notebook_path.stem}: {number!r} is declared in the metadata but no longer "
            "in the prose; remove the declaration"
        )
    return problems


def main(names):
    notebooks = [TUTORIALS / f"{name}.ipynb" for name in names] or sorted(TUTORIALS.glob("*.ipynb"))
    problems = [problem for notebook in notebooks for problem in check(notebook)]
    print("\n".join(problems) or f"{len(notebooks)} page(s): every number of the prose is backed")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
