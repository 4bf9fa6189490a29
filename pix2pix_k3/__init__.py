"""pix2pix_k3: pix2pix (Isola et al., 2017) in Keras 3, on JAX, TensorFlow and PyTorch.

The paper's pieces, one module each:

- `paper`: the paper's numbers (lambda, Adam's settings, 286/256, ...), each defined once;
- `blocks`: the `Ck` / `CDk` layers of appendix 6.1;
- `generator`: `unet_generator`, the U-Net (or the encoder-decoder ablation);
- `discriminator`: `patchgan_discriminator` and `receptive_field`;
- `losses`: the cGAN + lambda * L1 objective and its ablations;
- `model`: `Pix2Pix`, trained with `fit`, and `build_pix2pix`.
"""

import pix2pix_k3._backend  # noqa: F401  (first: fails clearly if the backend is missing)
from pix2pix_k3.blocks import CDk, Ck
from pix2pix_k3.discriminator import patchgan_discriminator, receptive_field
from pix2pix_k3.generator import unet_generator
from pix2pix_k3.losses import discriminator_loss, gan_loss, generator_loss, l1_loss
from pix2pix_k3.model import Pix2Pix, build_pix2pix

__all__ = [
    "CDk",
    "Ck",
    "Pix2Pix",
    "build_pix2pix",
    "discriminator_loss",
    "gan_loss",
    "generator_loss",
    "l1_loss",
    "patchgan_discriminator",
    "receptive_field",
    "unet_generator",
]
