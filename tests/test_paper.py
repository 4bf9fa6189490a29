"""`pix2pix_k3.paper`: the paper's numbers, each defined once and used from there."""

import ast
import inspect
import io
import pathlib
import tokenize

import keras
import numpy as np
import pytest

from pix2pix_k3 import losses, model, paper
from pix2pix_k3.config import PAPER, RunConfig
from pix2pix_k3.data import PairDataset, pair_jitter
from pix2pix_k3.discriminator import patchgan_discriminator
from pix2pix_k3.generator import encoder_widths, unet_generator

PACKAGE = pathlib.Path(paper.__file__).parent
# Numbers only the paper states; anywhere but paper.py they would be a second home.
PAPER_ONLY = {286, 2e-4, 0.999, 0.02, 100.0}


def test_the_numbers_are_the_papers():
    assert paper.LAMBDA_L1 == 100
    assert (paper.D_LOSS_FACTOR, paper.HALVE_D_LOSS) == (0.5, True)
    assert (paper.ADAM_LEARNING_RATE, paper.ADAM_BETA_1, paper.ADAM_BETA_2) == (2e-4, 0.5, 0.999)
    assert (paper.KERNEL_SIZE, paper.STRIDE, paper.LEAKY_SLOPE, paper.DROPOUT) == (4, 2, 0.2, 0.5)
    assert [paper.width(64, i) for i in range(8)] == [64, 128, 256, 512, 512, 512, 512, 512]
    assert paper.load_size_for(256) == 286 and paper.load_size_for(128) == 143
    assert paper.N_LAYERS[paper.PATCH] == 3
    assert paper.DATASETS["facades"].direction == "BtoA"


def test_the_paper_modules_default_to_those_numbers():
    expected = {
        "lambda_l1": paper.LAMBDA_L1,
        "dropout": paper.DROPOUT,
        "receptive_field": paper.PATCH,
        "image_size": paper.IMAGE_SIZE,
        "load_size": paper.LOAD_SIZE,
        "crop_size": paper.IMAGE_SIZE,
        "ngf": paper.BASE_WIDTH,
        "ndf": paper.BASE_WIDTH,
        "halve": paper.HALVE_D_LOSS,
        "halve_d_loss": paper.HALVE_D_LOSS,
    }
    functions = (
        unet_generator,
        patchgan_discriminator,
        model.build_pix2pix,
        model.Pix2Pix.__init__,
        losses.generator_loss,
        losses.discriminator_loss,
        pair_jitter,
        PairDataset.__init__,
    )
    checked = []
    for function in functions:
        for name, parameter in inspect.signature(function).parameters.items():
            if name in expected and parameter.default is not None:
                assert parameter.default == expected[name], f"{function.__qualname__}({name}=)"
                checked.append(name)
    assert set(checked) == set(expected)
    assert encoder_widths(8) == [paper.width(paper.BASE_WIDTH, i) for i in range(8)]
    adam = model.default_optimizer()
    assert float(adam.learning_rate) == pytest.approx(2e-4, rel=1e-6)  # a float32 variable
    assert (adam.beta_1, adam.beta_2) == (0.5, 0.999)


def test_the_command_line_takes_its_paper_values_from_there():
    default = RunConfig()
    assert (default.lr, default.beta1, default.lambda_l1) == (2e-4, 0.5, 100.0)
    assert PAPER["epochs"] + PAPER["epochs_decay"] == paper.FACADES_EPOCHS
    assert RunConfig(image_size=256).load_size == paper.LOAD_SIZE


def test_no_other_module_spells_a_number_only_the_paper_states():
    seconds = []
    for path in sorted(PACKAGE.rglob("*.py")):
        # synthetic: a drawing's own proportions; planted: the course's deliberately
        # careless implementation, which spells its numbers as such code does.
        if path.name in ("paper.py", "synthetic.py", "planted.py"):
            continue
        tokens = tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
        for token in tokens:
            if token.type == tokenize.NUMBER and ast.literal_eval(token.string) in PAPER_ONLY:
                seconds.append(f"{path.relative_to(PACKAGE)}:{token.start[0]}: {token.string}")
    assert not seconds, f"use pix2pix_k3.paper's constant instead: {seconds}"


PAPER_MODULES = ("blocks", "generator", "discriminator", "losses", "model")
# What each paper module may import of pix2pix_k3 beyond the paper modules and `paper`:
# blocks the fast package's subclasses of Keras' layers, model the step dispatch.
FAST_LAYERS = {f"pix2pix_k3.fast.{name}" for name in ("conv", "norm", "activation")}
ALSO_ALLOWED = {"blocks": FAST_LAYERS, "model": {"pix2pix_k3.steps"}}
BACKEND_WORDS = {"jax", "jaxlib", "tensorflow", "tf", "torch", "cpu", "gpu", "cuda", "tpu"}


def imported_modules(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module == "pix2pix_k3":
            yield from (f"pix2pix_k3.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            yield node.module


def test_the_paper_modules_hold_no_backend_or_device_code():
    paper_modules = {f"pix2pix_k3.{name}" for name in (*PAPER_MODULES, "paper")}
    for name in PAPER_MODULES:
        tree = ast.parse((PACKAGE / f"{name}.py").read_text())
        allowed = {"keras", "math", "functools", "dataclasses", *paper_modules}
        allowed |= ALSO_ALLOWED.get(name, set())
        foreign = sorted(set(imported_modules(tree)) - allowed)
        assert not foreign, f"{name}.py imports {foreign}"
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                assert node.attr != "backend", f"{name}.py:{node.lineno} asks for the backend"
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert node.value.lower() not in BACKEND_WORDS, f"{name}.py:{node.lineno}"
            if isinstance(node, ast.Name):
                assert node.id not in BACKEND_WORDS, f"{name}.py:{node.lineno} names {node.id}"


@pytest.mark.parametrize("backend", ["jax", "tensorflow", "torch"])
def test_each_step_module_has_the_stated_functions_in_the_stated_order(backend):
    """The contract of pix2pix_k3/steps/__init__.py, read from the source (no import, so
    every backend's module is checked in every pass)."""
    from pix2pix_k3.steps import CONTRACT

    tree = ast.parse((PACKAGE / "steps" / f"{backend}.py").read_text())
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    missing = [name for name in CONTRACT if name not in functions]
    assert not missing, f"steps/{backend}.py lacks {missing}"
    order = [name for name in functions if name in CONTRACT]
    assert order == list(CONTRACT), f"steps/{backend}.py defines them in the order {order}"
    takes_state = ["model", "state", "data"] if backend == "jax" else ["model", "data"]
    for step in ("train_step", "test_step"):
        assert [a.arg for a in functions[step].args.args] == takes_state, (backend, step)
    for name in ("discriminator_step", "generator_step"):
        arguments = [a.arg for a in functions[name].args.args]
        assert arguments[0] == "model" and arguments[-3:] == ["inputs", "targets", "fake"]


def test_a_checkpoint_written_before_the_fast_package_loads_and_computes_the_same():
    """Written by main at 1ca9230, when the convolutions lived in blocks.py (torch)."""
    data = pathlib.Path(__file__).parent / "data"
    model = keras.saving.load_model(data / "pix2pix_before_fast_package.keras")
    assert model.g_optimizer.iterations.numpy() == 1  # the optimizer state came too
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
    expected = np.load(data / "pix2pix_before_fast_package_eval.npy")
    np.testing.assert_allclose(model.predict_on_batch(x), expected, atol=1e-5)
