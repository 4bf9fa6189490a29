"""Pictures of a run for people: sample grids, loss curves, and an index.html to open.

Everything here reads arrays, the history CSV or the run folder and writes PNG or HTML;
nothing trains. `fit` calls it after every epoch, `translate` for its index page.
"""

import csv
import html
import json
import math

import keras
import matplotlib.ticker
import numpy as np
from matplotlib.figure import Figure
from PIL import Image

from pix2pix_k3 import files
from pix2pix_k3.data import to_uint8
from pix2pix_k3.paper import height_width

CURVES = (  # (panel title, training key, validation key)
    ("generator: GAN term", "g_gan", "val_g_gan"),
    ("generator: L1 term", "g_l1", "val_g_l1"),
    ("discriminator loss", "d_loss", "val_d_loss"),
)


def sample_grid(model, inputs, targets, mode="eval"):
    """Rows of input | target | output as one uint8 PIL image (inputs in [-1, 1])."""
    outputs = keras.ops.convert_to_numpy(model.translate(inputs, mode=mode))
    rows = [
        np.concatenate([to_rgb(x), to_rgb(y), to_rgb(z)], axis=1)
        for x, y, z in zip(inputs, targets, outputs, strict=True)
    ]
    return Image.fromarray(to_uint8(np.concatenate(rows, axis=0)))


def to_rgb(image):
    """Grayscale shown as gray RGB, so inputs and outputs of any channel count line up."""
    return np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image[..., :3]


def save_png(image, path):
    """Write a PIL image, or a uint8 (H, W, C) array, as a PNG (atomically)."""
    if isinstance(image, np.ndarray):
        image = Image.fromarray(image.squeeze(-1) if image.shape[-1] == 1 else image)
    files.replace_atomically(path, lambda tmp: image.save(tmp, format="PNG"))


def read_history(path):
    """The history CSV as {column: [float per epoch]} ({} if absent)."""
    if not path.is_file():
        return {}
    with open(path, newline="") as file:
        rows = list(csv.DictReader(file))
    columns = rows[0].keys() if rows else ()
    return {key: [_float(row[key]) for row in rows] for key in columns}


def _float(text):
    try:
        return float(text)
    except ValueError:
        return math.nan


def plot_curves(history, path):
    """One panel per loss present in `history`, training and validation, by epoch."""
    panels = [panel for panel in CURVES if panel[1] in history]
    # A bare Figure, not pyplot: it needs no display and leaves the caller's
    # matplotlib backend (a notebook's inline one, say) alone.
    figure = Figure(figsize=(4 * len(panels), 3))
    axes = figure.subplots(1, len(panels), squeeze=False)
    epochs = [int(epoch) for epoch in history["epoch"]]  # numbered from 1, as the grids
    for axis, (title, train, val) in zip(axes[0], panels, strict=True):
        axis.plot(epochs, history[train], marker=".", label="training")
        if val in history:
            axis.plot(epochs, history[val], marker=".", label="validation")
        axis.set(title=title, xlabel="epoch")
        axis.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        axis.legend()
    figure.tight_layout()
    files.replace_atomically(path, lambda tmp: figure.savefig(tmp, format="png", dpi=80))


RELOAD_SECONDS = 60  # how often a running run's index.html reloads itself
PAGE = """<!doctype html>
<html><head><meta charset="utf-8">{refresh}<title>{title}</title>
<style>body{{font-family:sans-serif;margin:2em}} img{{image-rendering:pixelated}}
figure{{display:inline-block;margin:0 1em 1em 0}} td{{padding:0 1em 0 0}}</style></head>
<body><h1>{title}</h1>{body}</body></html>
"""


def figure(source, caption, width=None):
    size = f' width="{width}"' if width else ""
    return (
        f'<figure><img src="{html.escape(source)}"{size}>'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def write_page(path, title, body, reload_every=None):
    """An HTML page; with `reload_every` (seconds) the browser reloads it by itself."""
    refresh = f'<meta http-equiv="refresh" content="{reload_every}">' if reload_every else ""
    text = PAGE.format(title=html.escape(title), body=body, refresh=refresh)
    files.replace_atomically(path, lambda tmp: tmp.write_text(text))


def write_run_index(run, config, epochs_done):
    """The run's index.html: what it is, its loss curves, its sample grids newest first."""
    settings = "".join(
        f"<tr><td>{html.escape(key)}</td><td>{html.escape(json.dumps(value))}</td></tr>"
        for key, value in config.to_json().items()
    )
    grids = [run.sample_grid_file(epoch) for epoch in range(epochs_done, 0, -1)]
    height, across = height_width(config.image_size)
    width = 3 * across * max(1, 256 // height)  # small ones enlarged
    going = epochs_done < config.total_epochs
    links = [("Model", "checkpoints/latest.keras"), ("logs", "history.csv")]
    if not going:  # the generator alone is written as the last epoch ends
        links = [("Trained generator", run.generator_file.name), ("whole model", links[0][1])]
        links.append(("logs", "history.csv"))
    reloads = f" (this page reloads every {RELOAD_SECONDS} s until the last)" if going else ""
    body = (
        f"<p>{epochs_done} of {config.total_epochs} epochs done{reloads}. "
        + "; ".join(f'{what}: <a href="{path}">{path}</a>' for what, path in links)
        + ".</p>"
        + figure(run.curves_file.name, "losses by epoch")
        + "<h2>Samples: input | target | output (eval mode)</h2>"
        + "".join(
            figure(f"samples/{grid.name}", f"after epoch {int(grid.stem[6:])}", width)
            for grid in grids
            if grid.is_file()
        )
        + f"<h2>Configuration</h2><table>{settings}</table>"
    )
    write_page(
        run.index_file, f"pix2pix run {run.path.name}", body, RELOAD_SECONDS if going else None
    )
