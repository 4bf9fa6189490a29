"""pix2pix in plain PyTorch, as a PyTorch user would write it: the benchmark's reference.

The step is `Pix2Pix.step` of the specification suite's reference implementation
(`pix2pix_spec/selftest/torch_pix2pix.py`), an independent PyTorch pix2pix written the
way the well-known PyTorch reference is (eager modules, `backward`, D step then G step
through the updated D; NCHW tensors). It passes every requirement of the suite, and
imports neither Keras nor pix2pix_k3.
"""

import numpy as np
import torch


def make_step(size, batch_size, seed=0):
    """(step, parameter counts): `step()` runs one train step on fixed random data."""
    from pix2pix_spec.selftest.torch_pix2pix import Pix2Pix

    torch.manual_seed(seed)
    model = Pix2Pix(image_size=size)
    rng = np.random.default_rng(seed)
    x, y = (
        torch.tensor(rng.uniform(-1, 1, (batch_size, 3, size, size)), dtype=torch.float32)
        for _ in "xy"
    )

    def step():
        return model.step(x, y)["g_loss"]  # .item() inside waits for the step

    def count(module):
        return sum(p.numel() for p in module.parameters() if p.requires_grad)

    return step, (count(model.generator), count(model.discriminator))
