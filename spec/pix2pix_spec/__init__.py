"""pix2pix-spec: the pix2pix specification suite (Isola et al., 2017).

Checks any pix2pix implementation against the paper through an adapter (see
`pix2pix_spec.protocol`). Run it with

    python -m pix2pix_spec --impl path/to/my_adapter.py:MyAdapter

or, as pytest users do, `pytest --pyargs pix2pix_spec.requirements --impl ...`, or from
Python, on an adapter object: `pix2pix_spec.check(MyAdapter(), only=["DAT-2"])`.
Importing this package imports no deep-learning framework.
"""

__version__ = "0.4.0"

# The version of the requirement set: bumped whenever a requirement is added, removed or
# changes meaning, and written into every report, so that two reports can be compared.
REQUIREMENTS_VERSION = "4"

from pix2pix_spec.inprocess import check  # noqa: E402
from pix2pix_spec.protocol import Adapter, AdapterError, Trainer  # noqa: E402

__all__ = ["REQUIREMENTS_VERSION", "Adapter", "AdapterError", "Trainer", "__version__", "check"]
