"""Translate images with a trained model: `python -m pix2pix_k3.translate MODEL INPUT --out DIR`.

MODEL is a `.keras` file or a run folder; INPUT an image or a folder of images (files
that are not images are skipped). Each output is written as `DIR/<name>.png`.

Size policy: the model works at one size (its image size). Each input is resized to it
(bicubic) and the output is resized back to the input's own size, so outputs line up
with inputs; `--model-size` keeps the outputs at the model's size instead.

`--direction AtoB|BtoA` reads each input as an A|B side-by-side pair (the training
layout): the input half is translated, and with `--side-by-side` the other half is
shown as the target (input | output | target). Without it every input is translated
whole; inputs shaped like pairs (twice as wide as the model's images) get a note saying
so. `--mode paper` keeps dropout and batch
statistics on at test time, as the paper does; `--mode eval` (default) is deterministic.
"""

import os
import pathlib
import sys
import urllib.parse

import numpy as np
from PIL import Image

from pix2pix_k3 import cli, compile_cache, report, trained
from pix2pix_k3._backend import keep_tensorflow_out
from pix2pix_k3.data import DataError, read_image, to_model_range, to_uint8
from pix2pix_k3.data.images import IMAGE_SUFFIXES, image_files_in, split_side_by_side
from pix2pix_k3.data.jitter import resize
from pix2pix_k3.files import RunError, check_writable
from pix2pix_k3.paper import height_width


def image_files(path):
    """The image files to translate: `path` itself, or the images in folder `path`."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise DataError(f"{path}: no such image or folder.")
    files = image_files_in(path)
    if not files:
        raise DataError(f"{path}: no images found (looked for {', '.join(IMAGE_SUFFIXES)}).")
    return files


def note_pairs(files, size):
    """Say so on stderr when inputs look like A|B pairs (twice as wide as the model's
    images) and are about to be translated whole, as they are without `--direction`."""
    height, width = height_width(size)
    pairs = []
    for path in files:
        with Image.open(path) as image:
            across, down = image.size
        if abs(across / down - 2 * width / height) < 0.01:
            pairs.append(path)
    if pairs:
        print(
            f"note: {len(pairs)} of {len(files)} input(s) ({pairs[0].name}, ...) are twice "
            "as wide as the model's images, as A|B pairs are, and are translated whole. "
            "To translate the input half of each pair, pass --direction AtoB (or BtoA).",
            file=sys.stderr,
        )


def load_input(path, direction, channels):
    """(input uint8, target uint8 or None) read from `path` by the direction rule."""
    if direction is None:
        return read_image(path, channels), None
    return split_side_by_side(read_image(path, channels), path, direction)


def translate_batch(model, images, size, mode):
    """uint8 outputs (at the model's size) for uint8 inputs of any size."""
    batch = np.stack([to_model_range(resize(image, size)) for image in images])
    return to_uint8(trained.translate_images(model, batch, mode))


def picture(source, output, target, side_by_side=False, model_size=False):
    """What is written for one input: the output, or input | output (| target)."""
    if not model_size:
        output = _resize(output, source)
    if not side_by_side:
        return output
    parts = [source, output] + ([target] if target is not None else [])
    return np.concatenate([report.to_rgb(_resize(part, output)) for part in parts], axis=1)


def _resize(image, like):
    """`image` resized (bicubic) to the height and width of `like`."""
    return resize(image, like.shape[:2])


def main(argv=None):
    args = cli.translate_parser().parse_args(argv)
    try:
        written = run(args)
    except (DataError, RunError) as error:
        raise SystemExit(f"error: {error}") from None
    where = args.out / "index.html" if args.html else args.out
    print(f"translated {len(written)} image(s) into {args.out}; open {where}")


def run(args):
    model = trained.load(args.model)
    size, in_channels, _ = trained.image_shape(model)
    files = image_files(args.input)
    check_writable(args.out, "--out")
    if args.direction is None:
        note_pairs(files, size)
    written = []
    for start in range(0, len(files), args.batch_size):
        chunk = files[start : start + args.batch_size]
        pairs = [load_input(path, args.direction, in_channels) for path in chunk]
        outputs = translate_batch(model, [source for source, _ in pairs], size, args.mode)
        for path, (source, target), output in zip(chunk, pairs, outputs, strict=True):
            result = picture(source, output, target, args.side_by_side, args.model_size)
            name = args.out / f"{path.stem}.png"
            report.save_png(result, name)
            written.append(name)
    if args.html:
        page = html_page(files, written, args.out, inputs_shown=args.side_by_side)
        report.write_page(args.out / "index.html", f"translations by {args.model}", page)
    return written


def html_page(inputs, outputs, out, inputs_shown=False):
    """index.html's body: each input beside its output (the output alone when it already
    shows the input); inputs are linked where they are, relative to `out`."""
    rows = []
    for source, output in zip(inputs, outputs, strict=True):
        pictures = [report.figure(output.name, f"{source.stem}: output")]
        if not inputs_shown:
            link = pathlib.Path(os.path.relpath(source.resolve(), out.resolve())).as_posix()
            pictures.insert(0, report.figure(urllib.parse.quote(link), f"{source.name}: input"))
        rows.append(f"<div>{''.join(pictures)}</div>")
    return "".join(rows)


if __name__ == "__main__":
    compile_cache.enable()
    keep_tensorflow_out()
    main()
