"""The command lines' arguments: what `--help` shows for fit, translate, evaluate and export.

Plain Python with no Keras (it reads `config` and `paper` only), so that `--help` and a
mistyped flag are answered before a backend loads, and even where none is installed
(`_backend.refuse`). Each program parses its arguments here and then does its work.
"""

import argparse
import pathlib
import sys

from pix2pix_k3.config import (
    CHANNELS,
    DTYPE_POLICIES,
    GENERATORS,
    PAPER,
    PRESETS,
    RESUMABLE,
    VERBOSITY,
    default_of,
    image_size,
    positive_int,
)
from pix2pix_k3.paper import (
    DATASETS,
    DIRECTIONS,
    GAN_MODES,
    INFERENCE_MODES,
    N_LAYERS,
    NORMS,
    OBJECTIVES,
    PRETRAINED,
)

DESCRIPTIONS = {
    "fit": "Train pix2pix. Defaults are sized for a laptop CPU; [paper: ...] gives the "
    "paper's value where it differs.",
    "translate": "Translate images with a trained model: `python -m pix2pix_k3.translate "
    "MODEL INPUT --out DIR`.",
    "evaluate": "Measure a trained model: `python -m pix2pix_k3.evaluate MODEL [--data ...]`.",
    "export": "Export a trained generator: `python -m pix2pix_k3.export MODEL --format FORMAT`.",
    "cache": "What pix2pix_k3 caches on this machine (decoded training pairs, JAX's compiled "
    "programs): `python -m pix2pix_k3.cache list|check|clear`.",
    "convert": "Convert a generator of the authors' PyTorch code into a .keras file: "
    "`python -m pix2pix_k3.convert NAME|FILE.pth [--out FILE.keras]`.",
}
FORMATS = ("keras", "tf_saved_model", "onnx")  # what export writes

OPTIONS = [  # (flag, type or choices, help); defaults come from config.RunConfig
    (
        "--data",
        str,
        "folder of training pairs, or a dataset name "
        f"({', '.join(DATASETS)}); default: embedded facade-like pairs",
    ),
    (
        "--direction",
        DIRECTIONS,
        "which half (or folder) is the input; default: the named dataset's, else AtoB",
    ),
    (
        "--image-size",
        image_size,
        "size of the images the model sees: one side, a power of two (square), or "
        "HEIGHTxWIDTH such as 256x512 (the shorter side a power of two, the longer a "
        "multiple of it)",
    ),
    (
        "--load-size",
        image_size,
        "resize to this before the random crop; default: image size * 286/256, each side",
    ),
    (
        "--no-flip",
        bool,
        "no random mirroring in the jitter (for pairs whose left and right differ, such "
        "as maps with text)",
    ),
    (
        "--in-channels",
        CHANNELS,
        "channels of the input images: 1 (grayscale, e.g. edge maps), 3 (RGB) or 4 (RGBA)",
    ),
    ("--out-channels", CHANNELS, "channels of the output images"),
    ("--pairs", int, "pairs of the embedded dataset (without --data)"),
    ("--epochs", int, "epochs at the full learning rate"),
    ("--epochs-decay", int, "further epochs with the rate decaying linearly towards 0"),
    (
        "--steps-per-epoch",
        int,
        "batches per epoch; default: one pass over the pairs. Set, a run lasts exactly "
        "(epochs + epochs-decay) x steps-per-epoch steps, the batches drawn from one "
        "shuffled pass after another",
    ),
    ("--batch-size", int, "pairs per step"),
    ("--lr", float, "Adam learning rate of G and of D"),
    ("--beta1", float, "Adam beta_1"),
    ("--lambda-l1", float, "weight of the L1 term"),
    ("--loss", OBJECTIVES, "objective: the paper's Table 1 ablations"),
    ("--generator", GENERATORS, "U-Net, or the encoder-decoder ablation (no skips)"),
    ("--patch", tuple(N_LAYERS), "PatchGAN receptive field (1 is the PixelGAN)"),
    ("--gan-mode", GAN_MODES, "GAN loss: cross-entropy (vanilla) or least squares"),
    ("--norm", NORMS, "normalisation layers"),
    ("--ngf", int, "generator width (filters of the first layer)"),
    ("--ndf", int, "discriminator width"),
    ("--seed", int, "seed of weights, data order, jitter and dropout"),
    ("--save-every", int, "keep a checkpoint every N epochs (0: only the latest)"),
    ("--samples", int, "validation pairs shown in each epoch's sample grid"),
    ("--workers", int, "threads preparing batches"),
    ("--verbose", VERBOSITY, "progress: 0 silent, 1 a progress bar, 2 one line per epoch (logs)"),
    (
        "--dtype-policy",
        DTYPE_POLICIES,
        "Keras dtype policy: float32, or mixed precision with float32 weights and losses "
        "(mixed_bfloat16 for CPUs and recent GPUs; mixed_float16 adds loss scaling)",
    ),
    (
        "--data-parallel",
        bool,
        "JAX: split each batch across all devices with keras.distribution.DataParallel "
        "(--batch-size is the global batch and must divide by the device count)",
    ),
    (
        "--tensorboard",
        bool,
        "also log to <run>/tensorboard for TensorBoard: losses, learning rate and each "
        "epoch's sample grid (needs tensorflow and tensorboard, on any backend)",
    ),
]


def fit_parser(suppress=False):
    """The argument parser; with `suppress`, only flags given on the command line appear."""
    parser = argparse.ArgumentParser(
        prog="python -m pix2pix_k3.fit",
        description=DESCRIPTIONS["fit"],
        argument_default=argparse.SUPPRESS if suppress else None,
    )
    for flag, kind, text in OPTIONS:
        key = flag[2:].replace("-", "_")
        default = default_of(key)
        if kind is bool:
            parser.add_argument(flag, action="store_true", help=text)
            continue
        text += f" (default: {default})" if default is not None else ""
        text += f" [paper: {PAPER[key]}]" if key in PAPER else ""
        if isinstance(kind, tuple):
            parser.add_argument(flag, choices=kind, type=type(kind[0]), help=text)
        else:
            parser.add_argument(flag, type=kind, help=text)
    parser.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        help="the paper's recipe for a "
        "dataset: facades = 200 epochs (100 + 100 decaying), batch 1, 286 -> 256 "
        "jitter, BtoA; other flags override it",
    )
    parser.add_argument("--out", type=pathlib.Path, help="run folder (default: runs/<time>)")
    resumable = ", ".join(f"--{name.replace('_', '-')}" for name in sorted(RESUMABLE))
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --out from its last completed epoch, with its saved "
        f"configuration (only {resumable} may change), on the backend that trained it",
    )
    return parser


def parse_fit_args(argv=None):
    """(the settings given on the command line as {field: value}, out, resume).

    `config.RunConfig.from_args` makes a new run's configuration of them; a resumed run
    takes them as changes to its saved one.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    given = vars(fit_parser(suppress=True).parse_args(argv))
    out, resume = given.pop("out", None), given.pop("resume", False)
    return given, out, resume


def translate_parser():
    parser = argparse.ArgumentParser(
        prog="python -m pix2pix_k3.translate", description=DESCRIPTIONS["translate"]
    )
    parser.add_argument("model", type=pathlib.Path, help="a .keras file or a run folder")
    parser.add_argument("input", type=pathlib.Path, help="an image, or a folder of images")
    parser.add_argument("--out", type=pathlib.Path, required=True, help="folder for the outputs")
    parser.add_argument(
        "--mode",
        choices=INFERENCE_MODES,
        default="eval",
        help="eval: no dropout, moving statistics (default); paper: dropout and batch "
        "statistics at test time, as in the paper",
    )
    parser.add_argument(
        "--direction",
        choices=DIRECTIONS,
        help="the inputs are A|B side-by-side pairs (the training layout): translate this "
        "direction's input half; without it, each input is translated whole",
    )
    parser.add_argument(
        "--side-by-side",
        action="store_true",
        help="write input | output instead of the output alone (| target: the pair's "
        "other half, with --direction); it does not split the inputs",
    )
    parser.add_argument(
        "--model-size", action="store_true", help="keep outputs at the model's size"
    )
    parser.add_argument("--html", action="store_true", help="also write DIR/index.html")
    parser.add_argument(
        "--batch-size", type=positive_int, default=8, help="images per forward pass"
    )
    return parser


def evaluate_parser():
    parser = argparse.ArgumentParser(
        prog="python -m pix2pix_k3.evaluate", description=DESCRIPTIONS["evaluate"]
    )
    parser.add_argument("model", type=pathlib.Path, help="a .keras file or a run folder")
    parser.add_argument(
        "--data",
        help="held-out pairs: a folder, a dataset name, or 'embedded' (default: the "
        "run's test split)",
    )
    parser.add_argument("--direction", choices=DIRECTIONS, help="override the direction")
    parser.add_argument(
        "--mode",
        choices=INFERENCE_MODES,
        default="eval",
        help="eval: deterministic inference (default); paper: dropout and batch statistics on",
    )
    parser.add_argument(
        "--json",
        type=pathlib.Path,
        help="where to write the results (default: "
        "<run>/evaluation.json, or evaluation.json here for a .keras file)",
    )
    parser.add_argument("--batch-size", type=positive_int, default=8, help="pairs per forward pass")
    return parser


def export_parser():
    parser = argparse.ArgumentParser(
        prog="python -m pix2pix_k3.export", description=DESCRIPTIONS["export"]
    )
    parser.add_argument("model", type=pathlib.Path, help="a run folder or a .keras file")
    parser.add_argument("--format", choices=FORMATS, required=True, help="what to write")
    parser.add_argument(
        "--out",
        type=pathlib.Path,
        help="where to write it (default: <run>/exported/generator.onnx, "
        "<run>/exported/generator_saved_model, ...; beside a .keras file)",
    )
    return parser


def convert_parser():
    parser = argparse.ArgumentParser(
        prog="python -m pix2pix_k3.convert", description=DESCRIPTIONS["convert"]
    )
    parser.add_argument(
        "source",
        help="a state dict of their U-Net generator (latest_net_G.pth), or the name of one "
        f"they publish, downloaded once: {', '.join(PRETRAINED)}",
    )
    parser.add_argument(
        "--out", type=pathlib.Path, help="the .keras file to write (default: <source>.keras here)"
    )
    parser.add_argument(
        "--image-size",
        type=image_size,
        help="input size of the converted model: 256 for unet_256 (default), or any "
        "multiple of it on each side, such as 256x512",
    )
    parser.add_argument(
        "--no-dropout",
        action="store_true",
        help="the model was trained with their --no_dropout (matters for --mode paper only)",
    )
    parser.add_argument(
        "--base-url", help="where the named models are (default: the authors' server)"
    )
    return parser


def cache_parser():
    parser = argparse.ArgumentParser(
        prog="python -m pix2pix_k3.cache", description=DESCRIPTIONS["cache"]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="each pair cache, its size and last use; the total")
    commands.add_parser(
        "check", help="read every cached pair against its checksum (damaged: rebuilt next run)"
    )
    clear = commands.add_parser("clear", help="remove the pair caches")
    clear.add_argument("--compiled", action="store_true", help="and JAX's compiled programs")
    return parser


PARSERS = {
    "fit": fit_parser,
    "translate": translate_parser,
    "evaluate": evaluate_parser,
    "export": export_parser,
    "convert": convert_parser,
    "cache": cache_parser,
}
