"""`pix2pix_spec.check(adapter)`: the suite run in this process on an adapter object, for a
notebook cell or a course's checks, where writing the adapter to a file for
`python -m pix2pix_spec --impl` would be in the way."""

import contextlib
import io
import sys

IN_PROCESS = "<adapter object>"  # what --impl says for an adapter handed over in-process


def check(adapter, only=None, seed=0, max_examples=None, quiet=False, tracebacks=False):
    """Run the requirements (`only`: an iterable of IDs, default all) against `adapter`,
    an adapter object or class, in this process; print the requirement table unless
    `quiet` (and pytest's tracebacks of the failing tests with `tracebacks`: the table's
    details say what each measured); return its rows, as the JSON report has them
    ({"id", "verdict", "detail", "notes", ...}). A malformed adapter raises AdapterError
    before anything runs."""
    import pytest

    from pix2pix_spec import plugin
    from pix2pix_spec.__main__ import arguments
    from pix2pix_spec.protocol import check as check_adapter

    adapter = adapter() if isinstance(adapter, type) else adapter
    check_adapter(adapter, getattr(adapter, "name", IN_PROCESS))
    options = ["--impl", IN_PROCESS, "--seed", str(seed), "-p", "no:cacheprovider",
               "--capture=sys", "-q", "--color=no"]  # fmt: skip
    if not tracebacks:
        options += ["--tb=no", "-rN"]
    if only is not None:
        options += ["--only", ",".join(only)]
    if max_examples is not None:
        options += ["--max-examples", str(max_examples)]
    plugin.GIVEN["adapter"] = adapter
    output = io.StringIO() if quiet else sys.stdout
    try:
        with contextlib.redirect_stdout(output):
            pytest.main(arguments(options))
    finally:
        plugin.GIVEN.clear()
    return plugin.table()
