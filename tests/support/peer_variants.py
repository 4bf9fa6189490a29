"""Configurations of the peers' adapter for verdicts the suite once got wrong
(`test_spec_peers.py`). Needs PIX2PIX_PEERS, like the adapters themselves."""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "examples" / "adapters"))

from junyanz_adapter import Junyanz  # noqa: E402

JunyanzInstance = Junyanz.with_options(norm="instance")  # the authors' --norm instance
JunyanzLSGAN = Junyanz.with_options(gan_mode="lsgan")  # the authors' --gan_mode lsgan


class JunyanzInstance70(JunyanzInstance):
    """--norm instance, offering the 70x70 PatchGAN only (no 1x1 one)."""

    receptive_fields = (70,)
