"""The tutorials' diagrams say what the code does: D judges the pairs (x, y) and
(x, G(x)); a train step updates D before G's loss is computed through it."""

import matplotlib

matplotlib.use("Agg")

from pix2pix_k3.course.diagrams import pix2pix_figure, train_step_figure  # noqa: E402
from pix2pix_k3.data.synthetic import synthetic_pair  # noqa: E402
from pix2pix_k3.paper import LAMBDA_L1  # noqa: E402


def texts(figure):
    return [text.get_text() for axis in figure.axes for text in axis.texts]


def test_figure_2_shows_d_judging_pairs_that_hold_the_input():
    labels, photo = synthetic_pair(seed=[0, 0, 0], size=32)
    shown = texts(pix2pix_figure(labels, photo))
    assert {"D(x, y)", "D(x, G(x))", "real", "fake", "G"} <= set(shown)


def test_the_step_updates_d_before_g_loss_goes_through_it():
    shown = " | ".join(texts(train_step_figure()))
    order = ["fake = G(x)", "D's loss", "update D", "G's loss through\nthe updated D", "update G"]
    positions = [shown.index(part) for part in order]
    assert positions == sorted(positions), shown
    assert f"+ {LAMBDA_L1:g} · mean |y − fake|" in shown
