"""python -m pix2pix_spec --impl my_adapter.py:MyAdapter [pytest options]
python -m pix2pix_spec --self-test [MUTANT ...]

Runs every requirement against the adapter and prints the requirement table. The
suite's own options (--max-examples, --seed, --only, --skips, --xfails, --report-json,
--report-md) and any pytest option (-k GEN, -x, -q) may follow. Exit status: pytest's
(0: no FAIL).

--self-test checks the suite itself, from the installed package: its reference pix2pix
(plain PyTorch) must pass every requirement, and each of its mutants (the reference with
one known deviation planted) must fail the requirement that describes it. Name mutants
to run only those. Needs torch and pillow. Exit status 0 when every check holds.
"""

import os
import pathlib
import sys

REQUIREMENTS_DIR = pathlib.Path(__file__).resolve().parent / "requirements"


def arguments(argv):
    """pytest's arguments for a run of the requirements with `argv` appended."""
    return [
        str(REQUIREMENTS_DIR),
        "-c",
        str(REQUIREMENTS_DIR / "pytest.ini"),
        "--rootdir",
        str(REQUIREMENTS_DIR),
        # `python -m` imported this package before pytest could rewrite its asserts; the
        # requirement modules, imported later, are rewritten as usual.
        "-W",
        "ignore::pytest.PytestAssertRewriteWarning",
        *argv,
    ]


def main(argv=None):
    import pytest

    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] == "--self-test":
        from pix2pix_spec.selftest.run import self_test

        return self_test(argv[1:])
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        argv = ["--help"]
    elif not any(a == "--impl" or a.startswith("--impl=") for a in argv) and not os.environ.get(
        "PIX2PIX_IMPL"
    ):
        print("python -m pix2pix_spec: pass --impl module:Adapter or path/to/file.py:Adapter")
        return 4
    return pytest.main(arguments(argv))


if __name__ == "__main__":
    sys.exit(main())
