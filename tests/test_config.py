"""A run's configuration: one type, read from the command line or config.json, checked
as it is made, and changed on resume only where the change trains nothing different."""

import ast
import json
import pathlib
import shutil

import keras
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pix2pix_k3 import fit, paper
from pix2pix_k3.config import FORMAT, RESUMABLE, ConfigError, RunConfig, field_names

ROOT = pathlib.Path(__file__).resolve().parents[1]
OLD_RUNS = ROOT / "tests" / "data" / "run_before_config_type"


def write(folder, values):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(values))
    return folder / "config.json"


@given(
    image_size=st.sampled_from([32, 64, (64, 128), [128, 64]]),
    loss=st.sampled_from(paper.OBJECTIVES),
    epochs=st.integers(1, 300),
    lr=st.floats(1e-6, 1.0),
    data=st.sampled_from([None, "facades", "some/folder"]),
    dtype_policy=st.sampled_from(["float32", "mixed_bfloat16"]),
    channels=st.tuples(st.sampled_from([1, 3, 4]), st.sampled_from([1, 3, 4])),
    steps_per_epoch=st.one_of(st.none(), st.integers(1, 10_000)),
    no_flip=st.booleans(),
)
def test_a_configuration_reads_back_from_its_json_unchanged(
    tmp_path_factory, image_size, loss, epochs, lr, data, dtype_policy, channels,
    steps_per_epoch, no_flip
):  # fmt: skip
    config = RunConfig(
        in_channels=channels[0],
        out_channels=channels[1],
        steps_per_epoch=steps_per_epoch,
        no_flip=no_flip,
        image_size=image_size,
        loss=loss,
        epochs=epochs,
        lr=lr,
        data=data,
        dtype_policy=dtype_policy,
        patch=16,
    )
    path = write(tmp_path_factory.mktemp("run"), config.to_json())
    assert RunConfig.from_json(path) == config
    assert json.loads(path.read_text())["format"] == FORMAT


def test_derived_settings_are_filled_in_at_construction():
    assert RunConfig(image_size=256).load_size == 286
    assert RunConfig(image_size=(256, 512)).load_size == (286, 572)
    assert RunConfig(data="facades").pairs is None and RunConfig().pairs == 256
    assert RunConfig(epochs=3, epochs_decay=2).total_epochs == 5
    with pytest.raises(ConfigError, match="--load-size must be positive"):
        RunConfig(load_size=0)  # given, so not replaced by the default


@pytest.mark.parametrize("backend", ["jax", "tensorflow", "torch"])
def test_a_config_json_written_before_the_format_number_is_read(backend):
    """Format 0: format 1's fields, no number (tests/data/README.md says how it was made);
    what format 2 added takes the value it had before: RGB pairs, mirrored, whole passes."""
    path = OLD_RUNS / backend / "config.json"
    assert "format" not in json.loads(path.read_text())
    config = RunConfig.from_json(path)
    assert config == RunConfig(
        image_size=32, pairs=8, epochs=2, ngf=4, ndf=4, save_every=0, verbose=0, seed=3
    )


def test_a_format_1_config_json_reads_with_the_settings_format_2_added_as_before(tmp_path):
    values = RunConfig(epochs=3).to_json()
    for added in ("in_channels", "out_channels", "no_flip", "steps_per_epoch"):
        del values[added]
    config = RunConfig.from_json(write(tmp_path, {**values, "format": 1}))
    assert config == RunConfig(epochs=3)
    assert (config.in_channels, config.out_channels, config.no_flip) == (3, 3, False)
    assert config.steps_per_epoch is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "cannot be read as JSON"),
        ("[1, 2]", "holds no settings"),
        (json.dumps({**RunConfig().to_json(), "format": FORMAT + 1}), "upgrade pix2pix_k3"),
        (json.dumps({**RunConfig().to_json(), "colour": "red"}), "unknown setting.s. colour"),
        (json.dumps({"format": FORMAT, "epochs": 3}), "missing batch_size, beta1, data,"),
        (json.dumps({**RunConfig().to_json(), "epochs": "ten"}), "epochs must be a whole number"),
        (json.dumps({**RunConfig().to_json(), "lr": True}), "lr must be a number"),
        (json.dumps({**RunConfig().to_json(), "image_size": [1, 2, 3]}), "image_size must be"),
        (json.dumps({**RunConfig().to_json(), "epochs": -1}), "--epochs must not be negative"),
    ],
)
def test_a_config_json_that_cannot_be_a_run_is_refused_naming_the_file(tmp_path, text, message):
    path = tmp_path / "config.json"
    path.write_text(text)
    with pytest.raises(ConfigError, match=f"^{path}.*{message}"):
        RunConfig.from_json(path)


def test_a_missing_config_json_says_the_folder_holds_no_run(tmp_path):
    with pytest.raises(ConfigError, match="does not exist: the folder holds no run"):
        RunConfig.from_json(tmp_path / "config.json")


@given(name=st.sampled_from(sorted(set(field_names()) - RESUMABLE)))
def test_resume_refuses_a_change_to_what_is_trained_and_accepts_a_repeated_value(name):
    saved = RunConfig(data="facades", image_size=256)
    assert saved.replace(**{name: getattr(saved, name)}) == saved
    other = {"data": "maps", "image_size": 128, "load_size": 300, "pairs": 3, "loss": "l1"}
    changed = other.get(name, getattr(saved, name))
    if isinstance(changed, bool):
        changed = not changed
    elif isinstance(changed, (int, float)) and name not in other:
        changed = changed + 1
    elif name not in other:
        changed = {"direction": "AtoB", "preset": "facades"}.get(name, "lsgan")
    with pytest.raises(ConfigError, match=f"drop --{name.replace('_', '-')},"):
        saved.replace(**{name: changed})


def test_resume_may_change_the_run_s_options_and_checks_them():
    saved = RunConfig()
    changed = saved.replace(workers=3, verbose=2, save_every=5, tensorboard=True)
    assert (changed.workers, changed.verbose, changed.save_every) == (3, 2, 5)
    assert changed.tensorboard and saved.workers == 1  # a new value; the saved one unchanged
    with pytest.raises(ConfigError, match="--save-every must not be negative"):
        saved.replace(save_every=-3)
    with pytest.raises(ConfigError, match="unknown setting"):
        saved.replace(colour="red")


def test_a_configuration_cannot_be_changed_in_place():
    config = RunConfig()
    with pytest.raises(AttributeError):
        config.epochs = 3


def test_the_objective_s_name_is_parsed_once_on_the_way_to_a_model(monkeypatch):
    names = []
    parse = paper.objective

    def counting(name):
        names.append(name) if isinstance(name, str) else None
        return parse(name)

    monkeypatch.setattr(paper, "objective", counting)
    config = RunConfig(image_size=32, ngf=4, ndf=4, patch=16)
    model = fit.new_model(config)
    assert names == ["l1+cgan"]
    assert model.loss_terms == config.objective and model.get_config()["objective"] == "l1+cgan"


KERAS_CONFIG_HOOKS = {"get_config", "from_config", "compile_from_config"}  # Keras' own dicts


def nodes_outside_keras_hooks(tree):
    for node in ast.iter_child_nodes(tree):
        if not (isinstance(node, ast.FunctionDef) and node.name in KERAS_CONFIG_HOOKS):
            yield node
            yield from nodes_outside_keras_hooks(node)


def strings_indexing_a_configuration(path):
    """`config["..."]`, `self.config["..."]` and `config.get("...")` in a module, outside
    the methods in which Keras hands a layer its own `config` dict."""
    found = []
    for node in nodes_outside_keras_hooks(ast.parse(path.read_text())):
        target, key = None, None
        if isinstance(node, ast.Subscript):
            target, key = node.value, node.slice
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr == "get" and node.args:
                target, key = node.func.value, node.args[0]
        name = getattr(target, "attr", None) or getattr(target, "id", None)
        if name == "config" and isinstance(key, ast.Constant) and isinstance(key.value, str):
            found.append(f"{path.name}:{node.lineno}")
    return found


def test_no_module_but_config_py_reads_the_configuration_by_string_key():
    modules = [path for path in (ROOT / "pix2pix_k3").rglob("*.py") if path.name != "config.py"]
    assert [where for path in modules for where in strings_indexing_a_configuration(path)] == []


def test_the_guard_finds_a_string_key(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        'x = 1\ny = config["seed"]\nz = self.config.get("lr")\nw = config.seed\n'
        'def get_config(self):\n    return config["name"]\n'
    )
    assert strings_indexing_a_configuration(sample) == ["sample.py:2", "sample.py:3"]


def weights(path):
    return keras.saving.load_model(path, compile=False).get_weights()


@pytest.mark.matmul  # the forms `fit` used when it wrote the folder
def test_a_run_folder_written_before_the_configuration_had_a_type_resumes_exactly(tmp_path):
    """The run of tests/data (epoch 1 of 2, written by the code before the change) ends
    where today's uninterrupted run of the same flags ends. Bit for bit on the machine
    that wrote it; another CPU rounds epoch 1's float sums differently (seen: 1.9e-9),
    while one step in another order or with another draw moves weights by ~lr = 2e-4."""
    backend = keras.backend.backend()
    old = shutil.copytree(OLD_RUNS / backend, tmp_path / "old")
    saved = (old / "config.json").read_text()
    fit.main(["--resume", "--out", str(old)])
    flags = "--image-size 32 --pairs 8 --epochs 2 --ngf 4 --ndf 4 --save-every 0 --verbose 0"
    fit.main([*flags.split(), "--seed", "3", "--out", str(tmp_path / "new")])
    resumed, fresh = (folder / "checkpoints" / "latest.keras" for folder in (old, tmp_path / "new"))
    for mine, theirs in zip(weights(resumed), weights(fresh), strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-6)
    assert (old / "config.json").read_text() == saved  # resuming rewrites no setting
