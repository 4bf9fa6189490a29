"""python -m pix2pix_spec --impl my_adapter.py:MyAdapter [pytest options]

Runs every requirement against the adapter and prints the requirement table. The
suite's own options (--max-examples, --skips, --xfails, --report-json, --report-md) and
any pytest option (-k GEN, -x, -q) may follow. Exit status: pytest's (0: no FAIL).
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
