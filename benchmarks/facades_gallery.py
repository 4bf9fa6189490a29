"""The gallery of docs/facades.md, from a finished facades run.

    python benchmarks/facades_gallery.py RUN OUT.jpg [--count 8] [--first 0]

RUN is a run folder trained on a facades `train/` folder (its sibling `test/` is the
held-out split, as `python -m pix2pix_k3.evaluate RUN` uses it). Writes OUT (PNG or
JPEG, by its name): input | target | output for `--count` test pairs from `--first` on,
translated in eval mode (dropout off, BatchNorm's moving averages), as `evaluate` does.
"""

import argparse

import matplotlib

matplotlib.use("Agg")

from pix2pix_k3.course.ablations import held_out, picture_grid  # noqa: E402


def gallery(inputs, targets, outputs, path):
    """Rows of input | target | output, as one picture."""
    columns = {"input (labels)": inputs, "target (photo)": targets, "output": outputs}
    picture_grid(columns, side=1.8).savefig(path, dpi=100)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run")
    parser.add_argument("out")
    parser.add_argument("--count", type=int, default=8)
    parser.add_argument("--first", type=int, default=0)
    args = parser.parse_args()
    _, inputs, targets, outputs = held_out(args.run)
    part = slice(args.first, args.first + args.count)
    gallery(inputs[part], targets[part], outputs[part], args.out)
    print(f"{args.out}: test pairs {args.first}..{args.first + args.count - 1} of {len(inputs)}")


if __name__ == "__main__":
    main()
