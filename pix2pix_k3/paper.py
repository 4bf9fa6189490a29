"""The paper's numbers and names, each defined once.

Isola et al. (2017), *Image-to-Image Translation with Conditional Adversarial Networks*.
Every module that needs one of these imports it from here, and `docs/paper.md` links each
sentence of the paper to its line. Plain Python with no Keras: the command lines read it
for their `--help` before any backend loads.
"""

from dataclasses import dataclass

# Section 3.1: G* = arg min_G max_D L_cGAN(G, D) + lambda L_L1(G); section 4: lambda = 100.
LAMBDA_L1 = 100.0
# Section 3.3: "we divide the objective by 2 while optimizing D"; the factor, and whether
# the paper's setting uses it (`halve_d_loss=False` is the ablation that drops it).
D_LOSS_FACTOR = 0.5
HALVE_D_LOSS = True
# Table 1's loss ablations ("l1+cgan" is the paper's objective).
OBJECTIVES = ("l1", "gan", "cgan", "l1+gan", "l1+cgan")
# The paper's cross-entropy GAN loss, and the least-squares one the PyTorch reference offers.
GAN_MODES = ("vanilla", "lsgan")


@dataclass(frozen=True)
class Objective:
    """Which terms of the objective are on: the paper's loss ablations (Table 1).

    `l1` trains G on L1 alone (no discriminator); `gan` and `cgan` drop L1; `gan`
    variants use an unconditional D that never sees the input image.
    """

    name: str
    uses_gan: bool
    uses_l1: bool
    conditional: bool


def objective(name):
    """Parse `l1`, `gan`, `cgan`, `l1+gan` or `l1+cgan` into an `Objective`.

    An `Objective` passes through unchanged, so a name is parsed once on its way from
    the command line to a trained model (`config.RunConfig.objective`).
    """
    if isinstance(name, Objective):
        return name
    if name not in OBJECTIVES:
        raise ValueError(
            f"objective={name!r} is not one of the paper's losses: {', '.join(OBJECTIVES)}."
        )
    terms = set(name.split("+"))
    return Objective(
        name=name,
        uses_gan=bool(terms & {"gan", "cgan"}),
        uses_l1="l1" in terms,
        conditional="cgan" in terms,
    )


# Section 3.3: "we use minibatch SGD and apply the Adam solver, with a learning rate of
# 0.0002, and momentum parameters beta1 = 0.5, beta2 = 0.999".
ADAM_LEARNING_RATE = 2e-4
ADAM_BETA_1 = 0.5
ADAM_BETA_2 = 0.999
# Section 3.3: "At inference time, we run the generator net in exactly the same manner as
# during the training phase ... we apply dropout at test time, and we apply batch
# normalization using the statistics of the test batch" ("paper"); "eval" is the usual
# deterministic inference (no dropout, moving statistics).
INFERENCE_MODES = ("paper", "eval")

# Appendix 6.1: "All convolutions are 4x4 spatial filters applied with stride 2."
KERNEL_SIZE = 4
STRIDE = 2
# Appendix 6.1.1: "All ReLUs in the encoder are leaky, with slope 0.2".
LEAKY_SLOPE = 0.2
# Appendix 6.1: "CDk denotes a Convolution-BatchNorm-Dropout-ReLU layer with a dropout rate
# of 50%"; the decoder's first three blocks are CD512.
DROPOUT = 0.5
DROPOUT_LAYERS = 3
# Appendix 6.2: "Weights were initialized from a Gaussian distribution with mean 0 and
# standard deviation 0.02."
WEIGHT_STDDEV = 0.02
# Appendix 6.1: C64-C128-C256-C512-C512-...: the generator's encoder and the discriminator
# start at 64 filters; widths double from there and stop at 8x.
BASE_WIDTH = 64
MAX_WIDTH_FACTOR = 8
# BatchNorm is the paper's; instance norm is the reference's option (the paper's batch-1
# BatchNorm at test time is instance normalisation, section 3.3).
NORMS = ("batch", "instance")


def width(base, i):
    """Filters of the i-th downsampling block (from 0): base, 2 base, 4 base, 8 base, 8 base, ..."""
    return base * min(2**i, MAX_WIDTH_FACTOR)


# Table 3: the PatchGAN's receptive fields (1 is the PixelGAN, 70 the paper's choice; 34
# and 142 lie between), each with its number of stride-2 layers (the reference's n_layers).
N_LAYERS = {1: 0, 16: 1, 34: 2, 70: 3, 142: 4, 286: 5}
PATCH = 70

# Appendix 6.2: "Random jitter was applied by resizing the 256x256 input images to 286x286
# and then randomly cropping back to size 256x256".
IMAGE_SIZE = 256
LOAD_SIZE = 286
# Appendix 6.2, facades: "Trained for 200 epochs, batch size 1". The reference keeps the
# learning rate for the first half and decays it linearly over the second.
FACADES_EPOCHS = 200
BATCH_SIZE = 1


def load_size_for(image_size):
    """The jitter's resize target for `image_size`, in the paper's ratio 286/256 (of each
    side, so the aspect is kept)."""
    height, across = height_width(image_size)
    return normal_size(
        (round(height * LOAD_SIZE / IMAGE_SIZE), round(across * LOAD_SIZE / IMAGE_SIZE))
    )


# The paper's images are square, so a size is one number; other images (cityscapes is
# 2:1) give theirs as (height, width).
def height_width(size):
    """(height, width) of an image size: one number (square) or a (height, width) pair."""
    if isinstance(size, (tuple, list)):
        height, across = size
        return int(height), int(across)
    return int(size), int(size)


def normal_size(size):
    """One number for a square size, a (height, width) tuple otherwise."""
    height, across = height_width(size)
    return height if height == across else (height, across)


# Which half of an A|B pair (or which of the A/ and B/ folders) is the input.
DIRECTIONS = ("AtoB", "BtoA")


@dataclass(frozen=True)
class Dataset:
    direction: str  # the direction the paper trains it in
    description: str


# Section 4's paired datasets, by the names the authors distribute them under.
DATASETS = {
    "facades": Dataset("BtoA", "CMP facades, label map -> photo, 400 train pairs"),
    "cityscapes": Dataset("BtoA", "Cityscapes, label map -> photo, 2975 train pairs"),
    "maps": Dataset("AtoB", "aerial photo -> Google map, 1096 train pairs"),
    "edges2shoes": Dataset("AtoB", "edges -> shoe photo, 50k train pairs (2 GB)"),
    "edges2handbags": Dataset("AtoB", "edges -> handbag photo, 137k train pairs (8 GB)"),
    "night2day": Dataset("AtoB", "night -> day webcam photos, 17k train pairs"),
}


@dataclass(frozen=True)
class Pretrained:
    dataset: str  # the dataset it was trained on (DATASETS)
    direction: str  # which half of that dataset's pairs is its input
    description: str


# The generators the authors publish, trained by their PyTorch code (their
# scripts/download_pix2pix_model.sh): pix2pix_k3.convert makes .keras files of them.
PRETRAINED = {
    "facades_label2photo": Pretrained("facades", "BtoA", "label map -> facade photo"),
    "sat2map": Pretrained("maps", "AtoB", "aerial photo -> map"),
    "map2sat": Pretrained("maps", "BtoA", "map -> aerial photo"),
    "edges2shoes": Pretrained("edges2shoes", "AtoB", "edges -> shoe photo"),
    "day2night": Pretrained("night2day", "BtoA", "day photo -> night photo"),
}
