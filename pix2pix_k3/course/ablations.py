"""The paper's ablations, trained at a scale a laptop CPU allows: the tutorials' runs.

Each of the paper's tables changes one choice and keeps the rest: the objective
(Table 1), the generator (Table 2), the discriminator's patch (Table 3). An `Ablation`
trains every arm with the entry point of `python -m pix2pix_k3.fit` (so each arm is a
command a reader can type), once per seed, measures every run on its held-out test
split, and reports the mean and standard deviation over the seeds. Seeds matter here:
at this scale two seeds of one arm differ, and a difference between arms means
something only where it is larger than that spread.

The measures, all on the test split in eval mode (dropout off, BatchNorm's averages):
- `l1`: mean |G(x) - y| (what the L1 term optimises; lower is closer to the target);
- `ssim`: structural similarity to the target (higher is closer);
- `sharpness`: the outputs' mean difference between neighbouring pixels over the
  targets' (1: as sharp as the targets; blur scores below 1);
- `variety`: how much the outputs for different inputs differ from one another, over
  how much the targets do (near 0: the same picture whatever the input, the collapse
  the paper reports for an unconditional GAN).
"""

import contextlib
import io
import os
import pathlib
import re
import tempfile
import time

import keras
import matplotlib.pyplot as plt
import numpy as np

from pix2pix_k3 import fit, metrics, trained
from pix2pix_k3.data import to_uint8
from pix2pix_k3.data.splits import evaluation_data

# PIX2PIX_TUTORIAL_SCALE picks the size of every run: the tutorials' pages are rendered at
# "tutorial"; "full" is fit's defaults (256 pairs x 10 epochs), worth it on a GPU; "smoke"
# (the test suite's: one epoch of 16 pairs, a narrow generator) checks that every cell runs.
SCALES = {
    "tutorial": ["--pairs", "128", "--epochs", "6"],
    "full": [],
    "smoke": ["--pairs", "16", "--epochs", "1", "--ngf", "8"],
}
SEEDS = {"tutorial": (0, 1, 2), "full": (0, 1, 2), "smoke": (0,)}
MEASURES = {
    "l1": "L1 (lower: closer)",
    "ssim": "SSIM (higher: closer)",
    "sharpness": "sharpness (1: as the targets)",
    "variety": "variety (1: as the targets)",
}


def scale():
    """The scale named by $PIX2PIX_TUTORIAL_SCALE (default "tutorial")."""
    name = os.environ.get("PIX2PIX_TUTORIAL_SCALE", "tutorial")
    if name not in SCALES:
        raise ValueError(f"PIX2PIX_TUTORIAL_SCALE={name}: use one of {', '.join(SCALES)}.")
    return name


def sharpness(images):
    """Mean magnitude of horizontal and vertical differences: low for blurry images."""
    return np.abs(np.diff(images, axis=1)).mean() + np.abs(np.diff(images, axis=2)).mean()


def variety(images):
    """Mean absolute difference between the images of every two different pairs."""
    flat = images.reshape(len(images), -1)
    distances = [np.abs(flat[i] - flat[j]).mean() for i in range(len(flat)) for j in range(i)]
    return float(np.mean(distances))


def test_pairs(config):
    """(inputs, targets) of the whole test split of a run (its `RunConfig`), as NumPy."""
    data = evaluation_data(
        config.image_size, trained_on=config.data, direction=config.direction, seed=config.seed
    )
    batches = [data[i] for i in range(len(data))]
    return np.concatenate([x for x, _ in batches]), np.concatenate([y for _, y in batches])


def held_out(run):
    """(model, inputs, targets, outputs) of a run on its whole test split, as NumPy."""
    model = trained.load(run)
    inputs, targets = test_pairs(trained.run_config(run))
    outputs = np.concatenate(
        [trained.translate_images(model, inputs[i : i + 8]) for i in range(0, len(inputs), 8)]
    )
    return model, inputs, targets, outputs


def judged_real(run, pairs=None):
    """D's mean probability of "real" for the test split's real pairs (x, y), and for the
    same photos given to every other pair's input (x_i, y_j), j != i.

    A D that checks whether a photo fits its input tells the two apart; an unconditional
    D, which never sees x, gives both the same value by construction. `pairs`: the run's
    test pairs (inputs, targets) where they are at hand, else they are read again.
    """
    inputs, targets = pairs if pairs is not None else held_out(run)[1:3]
    model = trained.load(pathlib.Path(run) / "checkpoints" / "latest.keras")

    def probabilities(images):
        logits = model.discriminator(model.discriminator_inputs(inputs, images), training=False)
        cells = keras.ops.convert_to_numpy(keras.ops.sigmoid(logits)).astype(np.float64)
        return cells.reshape(len(images), -1).mean(axis=1)  # one value per pair

    own = probabilities(targets)
    others = [probabilities(np.roll(targets, shift, axis=0)) for shift in range(1, len(targets))]
    return float(own.mean()), float(np.mean(others))


def measure(targets, outputs):
    """{measure: value} of a run's outputs on its test split (see the module's docstring)."""
    return {
        "l1": float(np.mean(metrics.l1(outputs, targets))),
        "ssim": float(np.mean(metrics.ssim(outputs, targets))),
        "sharpness": float(sharpness(outputs) / sharpness(targets)),
        "variety": variety(outputs) / variety(targets),
    }


def picture_grid(columns, side=1.7):
    """A figure with one titled column per entry of `columns` ({title: images in [-1, 1]}),
    one row per image, each picture `side` inches wide."""
    count = len(next(iter(columns.values())))
    fig, axes = plt.subplots(count, len(columns), figsize=(side * len(columns), side * count))
    for column, (title, images) in enumerate(columns.items()):
        axes[0, column].set_title(title, fontsize=9)
        for row in range(count):
            axes[row, column].imshow(to_uint8(images[row]))
            axes[row, column].axis("off")
    fig.tight_layout()
    return fig


def spread_of(values):
    """The sample standard deviation over seeds (axis 0); 0 for a single seed."""
    values = np.asarray(values)
    return np.std(values, axis=0, ddof=1) if len(values) > 1 else np.zeros(values.shape[1:])


class Ablation:
    """Arms of one ablation, each a list of `fit` flags, trained once per seed.

    `Ablation({"l1": ["--loss", "l1"], "l1+cgan": []})` compares the L1 objective with
    the default one; `train()` runs them, `table()` prints the measures, `plot()` draws
    them with error bars, `compare()` shows the pictures.
    """

    def __init__(self, arms, seeds=None, folder=None):
        self.arms = {name: list(flags) for name, flags in arms.items()}
        self.scale = scale()
        self.seeds = tuple(seeds if seeds is not None else SEEDS[self.scale])
        self.folder = pathlib.Path(folder or tempfile.mkdtemp(prefix="pix2pix_ablation_"))
        self.runs = {}
        self.results = {}
        self.pictures = {}  # (arm, seed): (inputs, targets, outputs) of the test split

    def command(self, arm, seed):
        """The `fit` arguments of one run."""
        out = self.folder / f"{re.sub(r'[^A-Za-z0-9+.-]+', '_', arm)}_seed{seed}"
        return [*SCALES[self.scale], *self.arms[arm], "--seed", str(seed), "--out", str(out)]

    def train(self):
        """Train every arm once per seed (runs already trained are kept), and measure them."""
        for arm, flags in self.arms.items():
            seeds = ",".join(map(str, self.seeds))
            print(
                f"{arm}: python -m pix2pix_k3.fit {' '.join([*SCALES[self.scale], *flags])} "
                f"--seed {{{seeds}}}"
            )
            start = time.perf_counter()
            for seed in self.seeds:
                arguments = self.command(arm, seed)
                out = pathlib.Path(arguments[-1])
                if not (out / "generator.keras").is_file():
                    with contextlib.redirect_stdout(io.StringIO()):  # fit's start and end lines
                        fit.main([*arguments, "--verbose", "0"])
                self.runs[arm, seed] = out
                self.pictures[arm, seed] = held_out(out)[1:]
                self.results[arm, seed] = measure(*self.pictures[arm, seed][1:])
            seconds = time.perf_counter() - start
            print(f"    {len(self.seeds)} seed(s) trained and measured in {seconds:.0f} s")
        return self

    def values(self, arm, name):
        """One measure of an arm, one value per seed."""
        return np.array([self.results[arm, seed][name] for seed in self.seeds])

    def name_width(self):
        """The width of the tables' first column: the longest arm's name, and a gap."""
        return max(len(arm) for arm in self.arms) + 2

    def table(self, measures=tuple(MEASURES)):
        """Print each measure's mean ± standard deviation over the seeds, arm by arm."""
        width = self.name_width()
        print(f"{'arm':{width}s}" + "".join(f"{name:>18s}" for name in measures))
        for arm in self.arms:
            cells = []
            for name in measures:
                values = self.values(arm, name)
                spread = spread_of(values)
                cells.append(f"{values.mean():.3f} ± {spread:.3f}")
            print(f"{arm:{width}s}" + "".join(f"{cell:>18s}" for cell in cells))
        print(f"(mean ± standard deviation over seeds {', '.join(map(str, self.seeds))})")

    def plot(self, measures=tuple(MEASURES)):
        """One panel per measure: each seed as a dot, the mean ± one standard deviation as a bar."""
        fig, axes = plt.subplots(1, len(measures), figsize=(3.2 * len(measures), 2.8))
        positions = np.arange(len(self.arms))
        for axis, name in zip(np.atleast_1d(axes), measures, strict=True):
            for position, arm in zip(positions, self.arms, strict=True):
                values = self.values(arm, name)
                spread = spread_of(values)
                axis.errorbar(
                    position,
                    values.mean(),
                    yerr=spread,
                    fmt="_",
                    color="black",
                    markersize=14,
                    capsize=4,
                )
                axis.plot(np.full(len(values), position), values, "o", alpha=0.5)
            if name in ("sharpness", "variety"):
                axis.axhline(1.0, color="grey", linewidth=0.8, linestyle="--")
            axis.set_xticks(positions, list(self.arms), rotation=30, fontsize=8)
            axis.set_title(MEASURES[name], fontsize=9)
        fig.tight_layout()
        return fig

    def judge(self, arms):
        """Print what the trained D of each arm says of real photos, with their own input
        and with the other pairs' (`judged_real`): mean ± standard deviation over seeds,
        and the difference seed by seed."""
        width = self.name_width()
        titles = f"{'D(x, y): own x':>18s}{'other pairs x':>18s}   own − other, by seed"
        print(f"{'arm':{width}s}{titles}")
        for arm in arms:
            judged = np.array(
                [
                    judged_real(self.runs[arm, seed], self.pictures[arm, seed][:2])
                    for seed in self.seeds
                ]
            )
            cells = [
                f"{mean:.2f} ± {spread:.2f}"
                for mean, spread in zip(judged.mean(axis=0), spread_of(judged), strict=True)
            ]
            differences = [round(own - other, 6) + 0.0 for own, other in judged]  # no -0.000
            by_seed = " ".join(f"{difference:+.3f}" for difference in differences)
            print(f"{arm:{width}s}" + "".join(f"{cell:>18s}" for cell in cells) + f"   {by_seed}")

    def compare(self, seed=None, count=4):
        """Input | target | one output per arm, for the first `count` test pairs of one seed."""
        seed = self.seeds[0] if seed is None else seed
        columns = {}
        for arm in self.arms:
            inputs, targets, outputs = self.pictures[arm, seed]
            columns.setdefault("input", inputs[:count])
            columns.setdefault("target", targets[:count])
            columns[arm] = outputs[:count]
        return picture_grid(columns)
