"""The tutorials' two diagrams, drawn with matplotlib: pix2pix as the paper's Figure 2
draws it (D judges the pairs (x, y) and (x, G(x))), and the order of one train step
(D's update, then G's through the updated D). Drawn, not pasted, so that they live in
the code they describe and render on every page that shows them.
"""

import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch

from pix2pix_k3.paper import LAMBDA_L1

BOX = {"boxstyle": "round,pad=0.005,rounding_size=0.015", "linewidth": 1.5}
COLOURS = {"G": "#d9ead3", "D": "#fce5cd", "data": "#ffffff", "loss": "#cfe2f3"}


def box(axis, centre, text, kind, width=0.16, height=0.12):
    """A labelled box centred at `centre` (axes coordinates); returns its centre."""
    x, y = centre
    patch = FancyBboxPatch((x - width / 2, y - height / 2), width, height, **BOX)
    patch.set(facecolor=COLOURS[kind], edgecolor="black")
    axis.add_patch(patch)
    axis.text(x, y, text, ha="center", va="center", fontsize=9)
    return centre


def image(axis, centre, picture, title, size=0.14):
    """A picture (an RGB array) centred at `centre`, with its title above."""
    x, y = centre
    inset = axis.inset_axes([x - size / 2, y - size / 2, size, size])
    inset.imshow(picture)
    inset.set_xticks([])
    inset.set_yticks([])
    axis.text(x, y + size / 2 + 0.03, title, ha="center", va="bottom", fontsize=9)
    return centre


def arrow(axis, start, end, text=None):
    """An arrow from `start` to `end`, with an optional label at its middle."""
    axis.annotate("", xy=end, xytext=start, arrowprops={"arrowstyle": "->", "linewidth": 1.3})
    if text:
        middle = ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + 0.03)
        axis.text(*middle, text, ha="center", fontsize=8)


def pix2pix_figure(x, y):
    """The paper's Figure 2 with a real pair: G maps x to G(x); D sees x with y ("real")
    and x with G(x) ("fake"). `x` and `y` are RGB uint8 arrays."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for axis, title in zip(axes, ["D on a real pair", "D on a generated pair"], strict=True):
        axis.set(xlim=(0, 1), ylim=(0, 1), title=title)
        axis.axis("off")
    real, fake = axes
    image(real, (0.15, 0.68), x, "x (input)", size=0.22)
    image(real, (0.15, 0.2), y, "y (target)", size=0.22)
    d = box(real, (0.6, 0.45), "D(x, y)", "D")
    arrow(real, (0.27, 0.66), (d[0] - 0.08, d[1] + 0.03))
    arrow(real, (0.27, 0.22), (d[0] - 0.08, d[1] - 0.03))
    arrow(real, (d[0] + 0.08, d[1]), (0.93, d[1]), "real")
    image(fake, (0.15, 0.68), x, "x (input)", size=0.22)
    g = box(fake, (0.15, 0.2), "G", "G", width=0.1)
    generated = box(fake, (0.4, 0.2), "G(x)", "data", width=0.12)
    d = box(fake, (0.65, 0.45), "D(x, G(x))", "D")
    arrow(fake, (0.15, 0.56), (g[0], g[1] + 0.06))
    arrow(fake, (g[0] + 0.05, g[1]), (generated[0] - 0.06, generated[1]))
    arrow(fake, (generated[0] + 0.06, generated[1]), (d[0] - 0.08, d[1] - 0.03))
    arrow(fake, (0.27, 0.66), (d[0] - 0.08, d[1] + 0.03))
    arrow(fake, (d[0] + 0.08, d[1]), (0.95, d[1]), "fake")
    fig.tight_layout()
    return fig


def train_step_figure():
    """One train step in the paper's order: G's forward pass, D's update on (x, y) and
    (x, G(x)) with the gradient stopped at G(x), then G's update through the updated D."""
    fig, axis = plt.subplots(figsize=(13, 2.6))
    axis.set(xlim=(0, 1), ylim=(0, 1))
    axis.axis("off")
    steps = [
        ("1. fake = G(x)\n(dropout on)", "G"),
        ("2. D's loss:\n½ [BCE(D(x, y), 1)\n+ BCE(D(x, fake), 0)]", "loss"),
        ("3. update D\n(the gradient is\nstopped at fake)", "D"),
        (f"4. G's loss through\nthe updated D:\nBCE(D(x, fake), 1)\n"
         f"+ {LAMBDA_L1:g} · mean |y − fake|", "loss"),
        ("5. update G\n(D's weights fixed)", "G"),
    ]  # fmt: skip
    width, gap = 0.16, 0.03
    for i, (text, kind) in enumerate(steps):
        centre = (gap + width / 2 + i * (width + gap), 0.5)
        box(axis, centre, text, kind, width=width, height=0.75)
        if i:
            arrow(axis, (centre[0] - width / 2 - gap, 0.5), (centre[0] - width / 2, 0.5))
    fig.tight_layout()
    return fig
