"""The pytest plugin of the specification suite (registered as a `pytest11` entry point).

It adds the options, the `impl` / `requires` / `note` fixtures, the `requirement` marker
and the requirement table printed at the end (and written as JSON or Markdown on
request). It acts only on tests marked with `requirement`, so it is inert in any other
test run of the same environment.
"""

import datetime
import json
import os
import pathlib
import random
import sys
import time

import numpy as np
import pytest

from pix2pix_spec import REQUIREMENTS_VERSION, __version__
from pix2pix_spec.catalogue import BY_ID, REQUIREMENTS
from pix2pix_spec.protocol import AdapterError, load

RESULTS = {}  # requirement id -> {"outcomes": [(outcome, detail)], "notes": [...], "seconds"}
PLUGIN_STATE = {"adapter": None, "start": time.monotonic(), "only": None}
COLLECTED = set()  # the requirement ids that have at least one collected test
GIVEN = {}  # {"adapter": object}: the adapter `pix2pix_spec.check` hands the next run


def pytest_addoption(parser):
    group = parser.getgroup("pix2pix-spec", "pix2pix specification suite")
    group.addoption(
        "--impl",
        default=os.environ.get("PIX2PIX_IMPL"),
        help="the adapter to check: module:attribute or path/to/file.py:attribute "
        "(env: PIX2PIX_IMPL)",
    )
    group.addoption(
        "--max-examples",
        type=int,
        default=None,
        help="hypothesis examples per property (default 10; more finds rarer deviations)",
    )
    group.addoption(
        "--skips",
        default=None,
        help="a file of requirement IDs to skip, one per line, '#' then the reason",
    )
    group.addoption(
        "--xfails",
        default=None,
        help="a file of requirement IDs expected to fail (known deviations), one per line, "
        "'#' then the reason: reported as xfail, and as XPASS if they pass",
    )
    group.addoption(
        "--only",
        default=None,
        help="run only these requirements: IDs separated by commas, e.g. --only DIS-2,OBJ-4",
    )
    group.addoption(
        "--seed",
        type=int,
        default=0,
        help="the seed set before each requirement: NumPy's, Python's and those of the "
        "frameworks already imported (torch, TensorFlow, Keras), and the adapter's seed() "
        "if it has one (default 0); a verdict must not depend on it",
    )
    group.addoption(
        "--seeds",
        type=int,
        default=None,
        help="run every requirement under N seeds (--seed, --seed + 1, ...) and report a "
        "verdict that changes with the seed as a FAIL naming the seeds",
    )
    group.addoption("--report-json", default=None, help="write the requirement table as JSON")
    group.addoption("--report-md", default=None, help="write the requirement table as Markdown")


def pytest_configure(config):
    # One process may run the suite more than once (pix2pix_spec.check): each run starts
    # from nothing but the adapter it was given.
    RESULTS.clear()
    COLLECTED.clear()
    PLUGIN_STATE.update(adapter=GIVEN.pop("adapter", None), start=time.monotonic(), only=None)
    config.addinivalue_line(
        "markers", "requirement(id): the pix2pix requirement (pix2pix_spec.catalogue) a test checks"
    )
    if config.getoption("impl") is None:
        return
    from hypothesis import HealthCheck, settings

    settings.register_profile(
        "pix2pix-spec",
        deadline=None,  # the first example of a test may include a framework's compilation
        max_examples=config.getoption("max_examples") or 10,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        print_blob=True,
    )
    settings.load_profile("pix2pix-spec")


def read_list(path):
    """{requirement id: reason} from a skips or xfails file."""
    entries = {}
    for number, line in enumerate(pathlib.Path(path).read_text().splitlines(), 1):
        text, _, reason = line.partition("#")
        ident = text.strip()
        if not ident:
            continue
        if ident not in BY_ID:
            raise pytest.UsageError(
                f"{path}:{number}: {ident!r} is not a requirement ID; the IDs are "
                f"{', '.join(BY_ID)}"
            )
        entries[ident] = reason.strip() or "listed in " + str(path)
    return entries


def parse_only(text):
    """The set of IDs --only names (None: all), refusing unknown ones."""
    if text is None:
        return None
    idents = {ident.strip() for ident in text.split(",") if ident.strip()}
    unknown = sorted(idents - set(BY_ID))
    if unknown:
        raise pytest.UsageError(
            f"--only: {', '.join(unknown)} not requirement IDs; the IDs are {', '.join(BY_ID)}"
        )
    return idents


def requirement_of(item):
    marker = item.get_closest_marker("requirement")
    return marker.args[0] if marker else None


def pytest_itemcollected(item):
    ident = requirement_of(item)
    if ident is not None:
        COLLECTED.add(ident)


def pytest_collection_modifyitems(config, items):
    skips = read_list(config.getoption("skips")) if config.getoption("skips") else {}
    xfails = read_list(config.getoption("xfails")) if config.getoption("xfails") else {}
    only = parse_only(config.getoption("only"))
    PLUGIN_STATE["only"] = only
    if only is not None:
        kept = [item for item in items if requirement_of(item) in only]
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept
    for item in items:
        ident = requirement_of(item)
        if ident is None:
            continue
        if ident not in BY_ID:
            raise pytest.UsageError(f"{item.nodeid}: unknown requirement {ident!r}")
        item.extra_keyword_matches.add(ident)  # -k DIS-2 selects by requirement
        if ident in skips:
            item.add_marker(pytest.mark.skip(reason=f"skipped on request: {skips[ident]}"))
        elif ident in xfails:
            item.add_marker(pytest.mark.xfail(reason=f"known deviation: {xfails[ident]}"))


def run_seeds(config):
    """The seeds each requirement runs under: --seed, or --seeds of them from it."""
    first, count = config.getoption("seed"), config.getoption("seeds")
    return list(range(first, first + count)) if count else [first]


def pytest_generate_tests(metafunc):
    if metafunc.config.getoption("seeds") and "suite_seed" in metafunc.fixturenames:
        seeds = run_seeds(metafunc.config)
        metafunc.parametrize(
            "suite_seed", seeds, indirect=True, scope="session", ids=[f"seed{s}" for s in seeds]
        )


@pytest.fixture(scope="session")
def suite_seed(request):
    """The seed of this run of the requirements; every fixture built from the adapter
    depends on it, so that each seed of --seeds builds its own networks and steps."""
    return getattr(request, "param", request.config.getoption("seed"))


def seed_of(item):
    callspec = getattr(item, "callspec", None)
    return callspec.params.get("suite_seed", None) if callspec else None


@pytest.fixture(scope="session")
def impl(request, suite_seed):
    """The adapter under test (--impl)."""
    spec = request.config.getoption("impl")
    if spec is None:
        pytest.skip("no adapter given: pass --impl module:Adapter or file.py:Adapter")
    if PLUGIN_STATE["adapter"] is None:
        try:
            PLUGIN_STATE["adapter"] = load(spec)
        except AdapterError as error:
            pytest.exit(f"adapter error: {error}", returncode=4)
    seed_everything(suite_seed, PLUGIN_STATE["adapter"])
    return PLUGIN_STATE["adapter"]


@pytest.fixture(scope="session")
def requires(impl):
    """requires("capability", ...): skip the test, with the reason, if the adapter lacks it."""

    def check(*capabilities):
        missing = [c for c in capabilities if c not in impl.capabilities]
        if missing:
            pytest.skip(f"{impl.name} does not declare {', '.join(missing)}")

    return check


def seed_everything(seed, impl=None):
    """Seed every random generator the suite can reach without importing a framework:
    NumPy's and Python's, torch's, TensorFlow's and Keras' where they are imported, and
    the adapter's own `seed(value)` where it has one."""
    random.seed(seed)
    np.random.seed(seed)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)
    if "tensorflow" in sys.modules and hasattr(sys.modules["tensorflow"], "random"):
        sys.modules["tensorflow"].random.set_seed(seed)
    if "keras" in sys.modules and hasattr(sys.modules["keras"], "utils"):
        sys.modules["keras"].utils.set_random_seed(seed)
    if impl is not None and callable(getattr(impl, "seed", None)):
        impl.seed(seed)


@pytest.fixture(autouse=True)
def _seeded(request):
    """Each requirement test starts from the --seed, whatever ran before it."""
    if requirement_of(request.node) is not None and request.config.getoption("impl"):
        seed = seed_of(request.node)
        seed = request.config.getoption("seed") if seed is None else seed
        seed_everything(seed, PLUGIN_STATE["adapter"])
    yield


@pytest.fixture
def note(request):
    """note(text): a remark for the requirement's row, whatever its verdict."""
    ident = requirement_of(request.node)

    def add(text):
        RESULTS.setdefault(ident, {"outcomes": [], "notes": [], "seconds": 0.0})
        if text not in RESULTS[ident]["notes"]:
            RESULTS[ident]["notes"].append(text)

    return add


def first_paragraph(text):
    return text.strip().split("\n\n")[0].replace("\n", " ").strip()


def failure_message(call):
    """The assertion's own message, without pytest's re-statement of the expression."""
    if call.excinfo is None:
        return ""
    message = str(call.excinfo.value)
    return first_paragraph(message.split("\nassert ")[0])


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    ident = requirement_of(item)
    if ident is None:
        return
    entry = RESULTS.setdefault(ident, {"outcomes": [], "notes": [], "seconds": 0.0})
    entry["seconds"] += report.duration
    if report.when != "call" and not (report.skipped or report.failed):
        return
    seed = seed_of(item)
    if seed is not None:
        entry.setdefault("by_seed", {}).setdefault(seed, [])
    outcomes = entry["outcomes"] if seed is None else entry["by_seed"][seed]
    if hasattr(report, "wasxfail"):
        if report.skipped:
            outcomes.append(("xfail", failure_message(call) or report.wasxfail))
        else:
            outcomes.append(("XPASS", report.wasxfail))
    elif report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
        outcomes.append(("skipped", reason.removeprefix("Skipped: ")))
    elif report.failed:
        message = failure_message(call)
        where = "" if report.when == "call" else f" (in {report.when})"
        outcomes.append(("FAIL", (message or item.name) + where))
    elif report.when == "call":
        outcomes.append(("pass", ""))


def verdict(outcomes):
    """One verdict from a requirement's test outcomes: FAIL wins, then xfail, XPASS, pass."""
    kinds = [kind for kind, _ in outcomes]
    for kind in ("FAIL", "xfail", "XPASS"):
        if kind in kinds:
            details = [detail for k, detail in outcomes if k == kind]
            return kind, " | ".join(dict.fromkeys(details))
    if "pass" in kinds:
        return "pass", ""
    if kinds:
        return "skipped", outcomes[0][1]
    return "not run", ""


def across_seeds(by_seed):
    """(verdict, detail, {seed: verdict}) of a requirement run under several seeds: the
    common verdict, or a FAIL that names the seeds where the verdicts differ."""
    verdicts = {seed: verdict(outcomes) for seed, outcomes in sorted(by_seed.items())}
    kinds = {seed: kind for seed, (kind, _) in verdicts.items()}
    first = next(iter(verdicts.values()))
    if len(set(kinds.values())) == 1:
        return (*first, kinds)
    groups = {}
    for seed, kind in kinds.items():
        groups.setdefault(kind, []).append(str(seed))
    details = [detail for kind, detail in verdicts.values() if detail]
    return (
        "FAIL",
        "the verdict depends on the seed: "
        + "; ".join(f"{kind} under seed {', '.join(seeds)}" for kind, seeds in groups.items())
        + (f" | {details[0]}" if details else ""),
        kinds,
    )


def row(ident, result, detail="", notes=(), seconds=0.0):
    requirement = BY_ID[ident]
    return {
        "id": ident,
        "section": requirement.section,
        "kind": requirement.kind,
        "requirement": requirement.text,
        "verdict": result,
        "detail": detail,
        "notes": list(notes),
        "seconds": round(seconds, 2),
    }


def table():
    """The requirement rows of this run, in paper order. Every requirement of the
    catalogue has a row (those --only leaves out excepted): "no test" where no test of
    it was collected, so that a requirement cannot silently go unchecked."""
    only = PLUGIN_STATE["only"]
    rows = []
    for requirement in REQUIREMENTS:
        ident = requirement.ident
        if ident in RESULTS:
            entry = RESULTS[ident]
            result, detail = verdict(entry["outcomes"])
            if "by_seed" in entry:
                result, detail, seeds = across_seeds(entry["by_seed"])
            rows.append(row(ident, result, detail, entry["notes"], entry["seconds"]))
            if "by_seed" in entry:
                rows[-1]["seeds"] = seeds
        elif ident not in COLLECTED and (only is None or ident in only):
            rows.append(row(ident, "no test", "the suite collected no test of this requirement"))
    return rows


def report_header(config):
    adapter = PLUGIN_STATE["adapter"]
    return {
        "suite": "pix2pix-spec",
        "suite_version": __version__,
        "requirements_version": REQUIREMENTS_VERSION,
        "requirements_total": len(REQUIREMENTS),
        "impl": config.getoption("impl"),
        "seed": config.getoption("seed"),
        "seeds": run_seeds(config),
        "name": getattr(adapter, "name", None),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "seconds": round(time.monotonic() - PLUGIN_STATE["start"], 1),
    }


def markdown(header, rows):
    lines = [
        f"# pix2pix requirements: {header['name'] or header['impl']}",
        "",
        f"pix2pix-spec {header['suite_version']}, requirements v{header['requirements_version']}"
        f", adapter `{header['impl']}`, {header['date']}",
        "",
        "| id | paper | requirement | verdict | detail |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        detail = "; ".join(filter(None, [row["detail"], *row["notes"]]))
        cells = [row["id"], row["section"], row["requirement"], row["verdict"], detail]
        lines.append("| " + " | ".join(markdown_cell(cell) for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def markdown_cell(text):
    """`text` as one cell of a Markdown table: pipes escaped, lines joined."""
    return " ".join(str(text).split("\n")).replace("|", "\\|")


def pytest_terminal_summary(terminalreporter, config):
    if not RESULTS:
        return
    header, rows = report_header(config), table()
    write = terminalreporter.write_line
    terminalreporter.section(f"pix2pix requirements: {header['impl']}")
    write(
        f"pix2pix-spec {header['suite_version']}, requirements v{header['requirements_version']}"
        f", {header['name']}, {header['seconds']:.0f} s"
    )
    seeds = header["seeds"]
    if len(seeds) > 1:
        write(f"every requirement run under seeds {seeds[0]}-{seeds[-1]}: the verdicts below held "
              "under each, except where a FAIL says the verdict depends on the seed")  # fmt: skip
    for row in rows:
        line = f"{row['id']:6s} {row['verdict']:8s} {row['section']:13s} {row['requirement']}"
        extra = "; ".join(filter(None, [row["detail"], *row["notes"]]))
        write(line + (f"  [{extra}]" if extra else ""))
    if config.getoption("report_json"):
        document = {**header, "requirements": rows}
        pathlib.Path(config.getoption("report_json")).write_text(json.dumps(document, indent=2))
    if config.getoption("report_md"):
        pathlib.Path(config.getoption("report_md")).write_text(markdown(header, rows))
