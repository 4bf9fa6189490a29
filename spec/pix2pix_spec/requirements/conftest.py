"""Fixtures the requirement modules share."""

import pytest

from pix2pix_spec.graded import network_layers
from pix2pix_spec.protocol import declared, paper_field
from pix2pix_spec.recording import recorded_step
from pix2pix_spec.reference import random_images

APPENDIX_SIZE = 256  # the appendix's layer lists are for 256x256 images


@pytest.fixture(scope="session")
def stepped(impl):
    """(trainer, Record) after one recorded step of a fresh trainer (skips without it)."""
    if "recording" not in impl.capabilities:
        pytest.skip(f"{impl.name} does not declare recording")
    trainer, record = recorded_step(impl)
    if record is None:
        pytest.skip(f"{impl.name} declares recording, but its step recorded nothing")
    return trainer, record


@pytest.fixture(scope="session")
def record(stepped):
    return stepped[1]


@pytest.fixture(scope="session")
def generator_layers(impl):
    """`Layers` of the 256x256 generator (pix2pix_spec.graded)."""
    if "generator" not in impl.capabilities:
        pytest.skip(f"{impl.name} does not declare generator")
    if APPENDIX_SIZE not in impl.image_sizes:
        pytest.skip(f"{impl.name} does not build a 256x256 generator (the appendix's)")
    generator = impl.generator(APPENDIX_SIZE, 3, 3)
    images = random_images(APPENDIX_SIZE, 1)
    return network_layers(
        impl, "generator", generator, lambda: impl.run_generator(generator, images, False)
    )


@pytest.fixture(scope="session")
def discriminator_layers(impl):
    """`Layers` of the paper's PatchGAN (70x70 where the adapter has it), at 256x256
    where D takes it."""
    if "discriminator" not in impl.capabilities:
        pytest.skip(f"{impl.name} does not declare discriminator")
    field = paper_field(impl)
    sizes = sorted(declared(impl, "discriminator_sizes"))
    size = APPENDIX_SIZE if APPENDIX_SIZE in sizes else max(sizes)
    discriminator = impl.discriminator(field, size, 3, 3)
    inputs, images = random_images(size, 1), random_images(size, 1, seed=1)
    return network_layers(
        impl,
        "discriminator",
        discriminator,
        lambda: impl.run_discriminator(discriminator, inputs, images, training=False),
    )
