"""The authors' PyTorch pix2pix (junyanz/pytorch-CycleGAN-and-pix2pix), seen through the
specification suite.

    PIX2PIX_PEERS=path/to/peers python -m pix2pix_spec \\
        --impl examples/adapters/junyanz_adapter.py:Junyanz

`PIX2PIX_PEERS` names a folder holding `junyanz.py`: the repository's `define_G`,
`define_D`, `GANLoss`, `Pix2PixModel` and aligned-dataset code, unmodified (and `_tv.py`,
which finds torchvision's pure-Python transforms). Options are the pix2pix training
defaults (`--model pix2pix`: netG unet_256, netD basic, norm batch, gan_mode vanilla,
lambda_L1 100, lr 2e-4, beta1 0.5, load_size 286, crop_size 256). `Junyanz.with_options`
makes the adapter of another configuration, e.g. `norm="instance"`.

Training is the repository's own `Pix2PixModel.optimize_parameters`, watched with a
forward hook on `netD`; the losses are the model's own `loss_D` and `loss_G`. No layer
list is written here: the suite derives it from the modules `define_G` and `define_D`
build, as they run (pre-activation blocks and nested UnetSkipConnectionBlocks included).
"""

import importlib
import os
import pathlib
import random
import sys
from types import SimpleNamespace

import numpy as np
import torch


def reference():
    """The repository's code, imported from PIX2PIX_PEERS/junyanz.py."""
    folder = os.environ.get("PIX2PIX_PEERS")
    if not folder or not (pathlib.Path(folder) / "junyanz.py").is_file():
        raise RuntimeError(
            f"set PIX2PIX_PEERS to the folder holding junyanz.py (PIX2PIX_PEERS={folder!r})"
        )
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return importlib.import_module("junyanz")


J = reference()

OPTIONS = dict(
    gpu_ids=[], isTrain=True, input_nc=3, output_nc=3, ngf=64, ndf=64, netG="unet_256",
    netD="basic", n_layers_D=3, norm="batch", no_dropout=False, init_type="normal",
    init_gain=0.02, pool_size=0, gan_mode="vanilla", lambda_L1=100.0, lr=2e-4, beta1=0.5,
    direction="AtoB", preprocess="resize_and_crop", load_size=286, crop_size=256,
    no_flip=False,
)  # fmt: skip
N_LAYERS = {16: 1, 34: 2, 70: 3, 142: 4, 286: 5}


def to_torch(images):
    array = np.asarray(images, "float32")
    return torch.from_numpy(np.ascontiguousarray(array.transpose(0, 3, 1, 2)))


def to_numpy(tensor):
    return tensor.detach().cpu().numpy().transpose(0, 2, 3, 1)


class Junyanz:
    name = "junyanz/pytorch-CycleGAN-and-pix2pix"
    capabilities = {
        "generator",
        "discriminator",
        "data",
        "training",
        "recording",
    }
    image_sizes = (256,)  # unet_256: eight halvings
    discriminator_sizes = (64, 128, 256)  # the PatchGAN is fully convolutional
    receptive_fields = (1, 16, 34, 70, 142, 286)
    discriminator_outputs = "logits"
    discriminator_norm = "batch"
    directions = ("AtoB", "BtoA")
    options = OPTIONS

    @classmethod
    def with_options(cls, **changes):
        """An adapter class for another configuration of the same code."""
        options = {**cls.options, **changes}
        attributes = {
            "options": options,
            "discriminator_norm": options["norm"],
            "discriminator_outputs": "lsgan" if options["gan_mode"] == "lsgan" else "logits",
        }
        return type(f"{cls.__name__}_{'_'.join(map(str, changes.values()))}", (cls,), attributes)

    @property
    def opt(self):
        return SimpleNamespace(**self.options)

    def generator(self, image_size, in_channels=3, out_channels=3):
        o = self.opt
        return J.define_G(in_channels, out_channels, o.ngf, o.netG, o.norm, not o.no_dropout,
                          o.init_type, o.init_gain, o.gpu_ids)  # fmt: skip

    def run_generator(self, generator, images, training):
        generator.train(training)
        with torch.no_grad():
            return to_numpy(generator(to_torch(images)))

    def discriminator(self, receptive_field, image_size, in_channels=3, out_channels=3):
        o = self.opt
        net = "pixel" if receptive_field == 1 else "n_layers"
        layers = N_LAYERS.get(receptive_field, 3)
        return J.define_D(in_channels + out_channels, o.ndf, net, layers, o.norm, o.init_type,
                          o.init_gain, o.gpu_ids)  # fmt: skip

    def run_discriminator(self, discriminator, inputs, images, training=False):
        discriminator.train(training)
        with torch.no_grad():
            return to_numpy(discriminator(torch.cat([to_torch(inputs), to_torch(images)], 1)))

    def load_pair(self, path, seed, direction):
        random.seed(seed)  # get_params draws the crop and the flip from Python's random
        opt = SimpleNamespace(**{**self.options, "direction": direction})
        item = J.AlignedDataset(opt, [path])[0]
        chosen = SimpleNamespace(opt=opt, device=torch.device("cpu"))
        J.Pix2PixModel.set_input(chosen, {k: v[None] if k in "AB" else v for k, v in item.items()})
        return to_numpy(chosen.real_A)[0], to_numpy(chosen.real_B)[0]

    def trainer(self, image_size):
        return Trainer(self.opt)


class Trainer:
    """A Pix2PixModel and its own optimize_parameters, with D's calls noted by a hook."""

    def __init__(self, opt):
        self.model = J.Pix2PixModel(opt)
        self.generator, self.discriminator = self.model.netG, self.model.netD
        self.calls = []
        self.discriminator.register_forward_hook(self.note)

    def note(self, module, inputs, output):
        pair = inputs[0].detach()
        half = pair.shape[1] // 2
        self.calls.append((to_numpy(pair[:, :half]), to_numpy(pair[:, half:]), to_numpy(output)))

    def step(self, inputs, targets):
        self.calls = []
        self.model.set_input(
            {"A": to_torch(inputs), "B": to_torch(targets), "A_paths": [], "B_paths": []}
        )
        self.model.optimize_parameters()
        return {
            "fake": to_numpy(self.model.fake_B),
            "d_calls": list(self.calls),
            "d_loss": self.model.loss_D.item(),
            "g_loss": self.model.loss_G.item(),
        }
