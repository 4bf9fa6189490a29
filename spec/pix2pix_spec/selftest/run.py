"""`python -m pix2pix_spec --self-test`: the reference against every requirement, and each
mutant against the requirement that must catch it, each in its own suite process."""

import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

from pix2pix_spec.catalogue import REQUIREMENTS

REFERENCE = "pix2pix_spec.selftest.adapter:TorchPix2Pix"
MUTANTS = "pix2pix_spec.selftest.mutants"
TIMEOUT = 1200  # seconds for one suite process: the reference's whole run takes ~1 minute


THREADS = {}  # the OMP_NUM_THREADS of each suite process, set by self_test
RUNNING = set()  # the suite processes running now: Ctrl-C stops them


def suite(impl, folder, *arguments):
    """(verdicts {id: verdict}, details {id: text}, output) of one suite process."""
    report = os.path.join(folder, "report.json")
    # Its own --basetemp: pytest's numbered folders would prune those of a running session.
    basetemp = os.path.join(folder, "pytest")
    command = [sys.executable, "-m", "pix2pix_spec", "--impl", impl, "-q", "--color=no",
               "-p", "no:cacheprovider", f"--basetemp={basetemp}", f"--report-json={report}",
               *arguments]  # fmt: skip
    with subprocess.Popen(
        command,
        cwd=folder,
        env={**os.environ, **THREADS},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as process:
        RUNNING.add(process)
        try:
            output, _ = process.communicate(timeout=TIMEOUT)
        finally:
            RUNNING.discard(process)
    if not os.path.isfile(report):
        return {}, {}, output
    with open(report) as file:
        rows = json.load(file)["requirements"]
    details = {row["id"]: "; ".join(filter(None, [row["detail"], *row["notes"]])) for row in rows}
    return {row["id"]: row["verdict"] for row in rows}, details, output


def check_reference():
    """(ok, line): the reference must pass every requirement of the catalogue."""
    with tempfile.TemporaryDirectory() as folder:
        verdicts, details, output = suite(REFERENCE, folder)
    if not verdicts:
        return False, f"the reference's run wrote no report:\n{output[-3000:]}"
    wrong = {ident: verdict for ident, verdict in verdicts.items() if verdict != "pass"}
    if wrong or len(verdicts) != len(REQUIREMENTS):
        lines = [f"  {ident} {verdict}: {details[ident]}" for ident, verdict in wrong.items()]
        return False, "the reference does not pass every requirement:\n" + "\n".join(lines)
    return True, f"the reference passes all {len(verdicts)} requirements"


def check_mutant(name):
    """(ok, line): the mutant's requirement FAILs, with the phrase its deviation needs."""
    requirement, phrase = catalogue()[0][name]
    with tempfile.TemporaryDirectory() as folder:
        verdicts, details, output = suite(f"{MUTANTS}:{name}", folder, "--only", requirement)
    verdict, detail = verdicts.get(requirement), details.get(requirement, "")
    if verdict is None:
        return False, f"{requirement} did not run:\n{output[-3000:]}"
    if verdict != "FAIL":
        return False, f"{requirement} is {verdict}: the suite cannot see this deviation"
    if not detail.startswith(f"{requirement}:"):
        return False, f"{requirement} failed, but not as {requirement}: {detail[:300]}"
    if phrase and phrase not in detail:
        return False, f"{requirement}'s message does not say {phrase!r}: {detail[:300]}"
    return True, f"{requirement} FAIL"


def check_benign(name):
    """(ok, line): the benign variant passes its requirements, with its note."""
    requirements, phrase = catalogue()[1][name]
    with tempfile.TemporaryDirectory() as folder:
        verdicts, details, output = suite(f"{MUTANTS}:{name}", folder, "--only", requirements)
    wrong = {i: v for i, v in verdicts.items() if i in requirements.split(",") and v != "pass"}
    if not verdicts or wrong:
        lines = [f"{i} {v}: {details[i][:300]}" for i, v in wrong.items()] or [output[-3000:]]
        return False, "a paper-conforming step is not passed: " + "; ".join(lines)
    if phrase and not any(phrase in detail for detail in details.values()):
        return False, f"no note says {phrase!r}"
    return True, f"{requirements} pass"


def missing_dependencies():
    """The reference's modules that cannot be imported here (torch, pillow)."""
    missing = []
    for name in ("torch", "PIL"):
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing


def catalogue():
    """(EXPECTED, BENIGN) of the mutants module, imported once torch is known to be there."""
    from pix2pix_spec.selftest.mutants import BENIGN, EXPECTED

    return EXPECTED, BENIGN


def self_test(names=(), processes=None, out=sys.stdout):
    """Run the reference, the benign variants and the mutants (`names`: only these
    mutants);
    print a line for each; 0 when every check holds, 1 otherwise, 4 without torch."""
    missing = missing_dependencies()
    if missing:
        print(
            f"python -m pix2pix_spec --self-test: the reference pix2pix needs torch and "
            f"pillow ({', '.join(missing)} missing): pip install 'pix2pix-spec[self-test]'",
            file=out,
        )
        return 4
    expected, benign = catalogue()
    unknown = sorted(set(names) - set(expected))
    if unknown:
        print(
            f"--self-test: no mutant {', '.join(unknown)}; they are {', '.join(expected)}", file=out
        )
        return 4
    start = time.monotonic()
    jobs = [(name, check_mutant) for name in (names or expected)]
    if not names:
        jobs[:0] = [("reference", lambda _: check_reference())] + [
            (name, check_benign) for name in benign
        ]
    workers = processes or min(3, os.cpu_count() or 1)
    # Torch processes side by side, each with a thread per core, run several times slower:
    # share the cores out instead.
    threads = max(1, (os.cpu_count() or 1) // workers)
    THREADS["OMP_NUM_THREADS"] = str(min(threads, int(os.environ.get("OMP_NUM_THREADS", threads))))
    print(f"pix2pix-spec self-test: {len(jobs)} suite runs, {workers} at a time", file=out)
    pool = ThreadPoolExecutor(max_workers=workers)
    futures = [pool.submit(check, name) for name, check in jobs]
    try:
        results = [future.result() for future in futures]
    except KeyboardInterrupt:
        pool.shutdown(wait=False, cancel_futures=True)
        for process in list(RUNNING):
            process.kill()
        done = sum(future.done() and not future.cancelled() for future in futures)
        print(f"interrupted after {done} of {len(jobs)} suite runs: no verdict", file=out)
        return 130
    pool.shutdown()
    width = max(len(name) for name, _ in jobs)
    for (name, _), (ok, line) in zip(jobs, results, strict=True):
        print(f"  {name:<{width}}  {'ok    ' if ok else 'WRONG '} {line}", file=out)
    caught = sum(ok for (name, _), (ok, _) in zip(jobs, results, strict=True) if name in expected)
    mutants = sum(name in expected for name, _ in jobs)
    summary = f"{caught} of {mutants} mutants caught"
    if not names:
        passed = sum(ok for (name, _), (ok, _) in zip(jobs, results, strict=True) if name in benign)
        summary += f"; {passed} of {len(benign)} benign variants pass"
        summary += "; the reference " + ("passes" if results[0][0] else "does NOT pass")
    print(f"{summary} ({time.monotonic() - start:.0f} s)", file=out)
    return 0 if all(ok for ok, _ in results) else 1
