"""The specification tests' fixtures, the `requirement` marker and the report table.

Each test is marked `@pytest.mark.requirement(ID, SECTION, TEXT)`. At the end of a run
a table lists every requirement with pass / FAIL / skipped (and why), in paper order,
ready to paste into feedback.
"""

import pytest
from adapter_protocol import DEFAULT, AdapterError, load

RESULTS = {}  # requirement id -> {"section", "text", "outcomes": [(outcome, reason)]}


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "requirement(id, section, text): the paper's requirement a test checks"
    )


@pytest.fixture(scope="session")
def impl(request):
    """The adapter under test."""
    spec = request.config.getoption("impl") or DEFAULT
    try:
        return load(spec)
    except AdapterError as error:
        pytest.exit(f"adapter error: {error}", returncode=4)


@pytest.fixture(scope="session")
def requires(impl):
    """requires("capability"): skip the test, with the reason, if the adapter lacks it."""

    def check(*capabilities):
        missing = [c for c in capabilities if c not in impl.capabilities]
        if missing:
            pytest.skip(f"{impl.name} does not declare {', '.join(missing)}")

    return check


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    marker = item.get_closest_marker("requirement")
    skipped_early = report.when == "setup" and report.skipped
    if marker is None or not (report.when == "call" or skipped_early or report.failed):
        return
    ident, section, text = marker.args
    entry = RESULTS.setdefault(ident, {"section": section, "text": text, "outcomes": []})
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
        entry["outcomes"].append(("skipped", reason.removeprefix("Skipped: ")))
    elif report.failed:
        entry["outcomes"].append(("FAIL", item.name))
    else:
        entry["outcomes"].append(("pass", ""))


def verdict(outcomes):
    kinds = {kind for kind, _ in outcomes}
    if "FAIL" in kinds:
        failed = sorted({detail for kind, detail in outcomes if kind == "FAIL"})
        return "FAIL", ", ".join(failed)
    if kinds == {"skipped"}:
        return "skipped", outcomes[0][1]
    return "pass", ""


def pytest_terminal_summary(terminalreporter, config):
    if not RESULTS:
        return
    spec = config.getoption("impl") or DEFAULT
    write = terminalreporter.write_line
    terminalreporter.section(f"pix2pix requirements: {spec}")
    order = sorted(RESULTS, key=lambda ident: ("GDJLT".find(ident[0]), int(ident[1:])))
    for ident in order:
        entry = RESULTS[ident]
        result, detail = verdict(entry["outcomes"])
        line = f"{ident:4s} {result:8s} {entry['section']:14s} {entry['text']}"
        write(line + (f"  [{detail}]" if detail else ""))
