"""`python -m pix2pix_k3.fit`: the run folder, resume after a crash, refusals, flags."""

import importlib.util
import json
import os
import pathlib
import re
import subprocess
import sys

import keras
import numpy as np
import pytest
from helpers import once
from PIL import Image

from pix2pix_k3 import Pix2Pix
from pix2pix_k3.cli import OPTIONS, PARSERS
from pix2pix_k3.cli import parse_fit_args as parse_args
from pix2pix_k3.config import RunConfig
from pix2pix_k3.fit import main

ROOT = pathlib.Path(__file__).resolve().parents[1]
# A run small enough for a test: 32 px, 8 embedded pairs, narrow networks, 16x16 patches.
TINY_RUN = "--image-size 32 --pairs 8 --batch-size 2 --ngf 4 --ndf 4 --patch 16".split()


def opens(path):
    with Image.open(path) as picture:
        picture.load()
        return picture.size


def test_a_run_folder_holds_every_artifact(tmp_path, capsys):
    out = tmp_path / "run"
    main([*TINY_RUN, "--epochs", "2", "--samples", "3", "--out", str(out)])

    config = json.loads((out / "config.json").read_text())
    assert config["image_size"] == 32 and config["epochs"] == 2 and config["load_size"] == 36
    header, *rows = (out / "history.csv").read_text().splitlines()
    assert len(rows) == 2
    assert {"epoch", "g_gan", "g_l1", "d_loss", "val_g_l1", "learning_rate"} <= set(
        header.split(",")
    )
    assert opens(out / "curves.png")[0] > 0
    for epoch in (1, 2):
        assert opens(out / "samples" / f"epoch_{epoch:03d}.png") == (3 * 32, 3 * 32)
    assert isinstance(keras.saving.load_model(out / "checkpoints" / "latest.keras"), Pix2Pix)
    assert json.loads((out / "checkpoints" / "state.json").read_text())["epochs"] == 2
    page = (out / "index.html").read_text()
    for source in ("curves.png", "samples/epoch_001.png", "samples/epoch_002.png"):
        assert f'src="{source}"' in page
    assert not list(out.rglob(".*partial*"))  # no temporary file left behind
    assert str(out / "index.html") in capsys.readouterr().out


def test_a_grayscale_to_rgba_run_trains_translates_and_evaluates(tmp_path):
    """--in-channels / --out-channels (their --input_nc / --output_nc) reach the data,
    both networks, the pictures, translate and evaluate."""
    from pix2pix_k3 import evaluate, translate

    out = tmp_path / "run"
    main([*TINY_RUN, "--epochs", "1", "--in-channels", "1", "--out-channels", "4",
          "--out", str(out)])  # fmt: skip
    model = keras.saving.load_model(out / "generator.keras", compile=False)
    assert model.input_shape[-1] == 1 and model.output_shape[-1] == 4
    image = tmp_path / "photo.png"
    Image.fromarray(np.full((20, 30, 3), 90, np.uint8)).save(image)
    translate.main([str(out), str(image), "--out", str(tmp_path / "translated")])
    with Image.open(tmp_path / "translated" / "photo.png") as written:
        assert (written.mode, written.size) == ("RGBA", (30, 20))
    evaluate.main([str(out)])
    assert json.loads((out / "evaluation.json").read_text())["pairs"] > 0


def test_steps_per_epoch_sets_the_run_length_in_steps(tmp_path):
    out = tmp_path / "run"
    main([*TINY_RUN, "--epochs", "2", "--steps-per-epoch", "3", "--out", str(out)])
    model = keras.saving.load_model(out / "checkpoints" / "latest.keras")
    assert int(model.g_optimizer.iterations.value) == 2 * 3  # 8 pairs at batch 2: 4 a pass
    assert len((out / "history.csv").read_text().splitlines()) == 1 + 2


def generator_weights(path):
    model = keras.saving.load_model(path, compile=False)
    return (model.generator if isinstance(model, Pix2Pix) else model).get_weights()


class GeneratorFileSeen(keras.callbacks.Callback):
    def __init__(self, path):
        super().__init__()
        self.path, self.seen = path, []

    def on_epoch_begin(self, epoch, logs=None):
        self.seen.append(self.path.is_file())


def test_a_finished_run_leaves_its_generator_alone_and_says_so_when_resumed(tmp_path, capsys):
    out = tmp_path / "run"
    main([*TINY_RUN, "--epochs", "1", "--out", str(out)])
    generator = out / "generator.keras"
    assert not isinstance(keras.saving.load_model(generator, compile=False), Pix2Pix)
    for mine, checkpoint in zip(
        generator_weights(generator),
        generator_weights(out / "checkpoints" / "latest.keras"),
        strict=True,
    ):
        np.testing.assert_array_equal(mine, checkpoint)
    assert generator.stat().st_size < (out / "checkpoints" / "latest.keras").stat().st_size / 2
    capsys.readouterr()

    written = generator.stat().st_mtime_ns
    main(["--resume", "--out", str(out), *TINY_RUN])  # repeating the saved values is no change
    assert capsys.readouterr().out.startswith(f"nothing to train: {out} has finished its 1 epoch.")
    assert generator.stat().st_mtime_ns == written

    config = json.loads((out / "config.json").read_text())  # a user extends the run
    (out / "config.json").write_text(json.dumps({**config, "epochs": 2}))
    seen = GeneratorFileSeen(generator)
    main(["--resume", "--out", str(out)], callbacks=[seen])
    assert seen.seen == [False]  # while training, no generator.keras of an older epoch
    for mine, checkpoint in zip(
        generator_weights(generator),
        generator_weights(out / "checkpoints" / "latest.keras"),
        strict=True,
    ):
        np.testing.assert_array_equal(mine, checkpoint)


def test_fit_trains_on_a_folder_of_side_by_side_pairs(tmp_path):
    data = tmp_path / "pairs" / "train"
    data.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(4):
        Image.fromarray(rng.integers(0, 256, (40, 80, 3), dtype=np.uint8)).save(data / f"{i}.jpg")
    out = tmp_path / "run"
    flags = [*TINY_RUN[:2], *TINY_RUN[4:], "--epochs", "1"]  # all but --pairs
    main([*flags, "--data", str(data), "--direction", "BtoA", "--out", str(out)])
    assert opens(out / "samples" / "epoch_001.png") == (3 * 32, 4 * 32)
    config = json.loads((out / "config.json").read_text())
    assert config["direction"] == "BtoA" and config["pairs"] is None  # no embedded pairs


class PoisonAt(keras.callbacks.Callback):
    """Turns every weight into NaN before batch 1 of epoch `at` (0-based; 1 by default)."""

    def __init__(self, at=1):
        super().__init__()
        self.at = at

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at:
            for variable in self.model.trainable_variables:
                variable.assign(keras.ops.full(variable.shape, float("nan")))


def test_a_nan_stops_training_with_advice_and_keeps_the_last_good_epoch(tmp_path):
    out = tmp_path / "run"
    message = "epoch 2, batch 1: .*NaN.*latest.keras keeps epoch 1, the last good one. Try a"
    with pytest.raises(SystemExit, match=message):
        main([*TINY_RUN, "--epochs", "3", "--out", str(out)], callbacks=[PoisonAt()])
    assert json.loads((out / "checkpoints" / "state.json").read_text())["epochs"] == 1
    model = keras.saving.load_model(out / "checkpoints" / "latest.keras")
    assert all(np.isfinite(keras.ops.convert_to_numpy(w)).all() for w in model.weights)


def test_a_nan_in_the_first_epoch_says_that_nothing_was_kept(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(SystemExit, match="epoch 1, batch 1: .*No epoch was completed, so no chec"):
        main([*TINY_RUN, "--epochs", "2", "--out", str(out)], callbacks=[PoisonAt(0)])
    assert not (out / "checkpoints" / "latest.keras").exists()


def refusals(tmp_path):
    """(flags, message) for every refusal `fit` makes before any work."""
    pairs = tmp_path / "pairs"
    pairs.mkdir()
    Image.new("RGB", (80, 40)).save(pairs / "0.png")
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    full = tmp_path / "full"
    full.mkdir()
    (full / "something").write_text("")
    saved = tmp_path / "saved"
    saved.mkdir()
    (saved / "config.json").write_text(json.dumps(RunConfig().to_json()))
    empty, broken = tmp_path / "empty", tmp_path / "broken"
    for folder, text in ((empty, "{}"), (broken, "{not json")):
        folder.mkdir()
        (folder / "config.json").write_text(text)
    return [
        (["--data", "no/such/folder"], "--data no/such/folder: no such folder, and not a dataset"),
        (["--image-size", "100"], "--image-size: image_size=100 .* Nearest valid sizes: 64 or 128"),
        (["--load-size", "60"], "--load-size 60 is smaller than --image-size 64"),
        (["--loss", "l1", "--patch", "16"], "--loss l1 trains no discriminator, so --patch"),
        (["--loss", "gan", "--lambda-l1", "10"], "--loss gan has no L1 term"),
        (["--epochs", "0"], "nothing to train"),
        (["--batch-size", "0"], "--batch-size must be positive"),
        (["--beta1", "1"], r"--beta1 must be in \[0, 1\)"),
        (["--image-size", "32", "--patch", "142"], "--patch 142 needs images of at least 48x48"),
        (["--data", str(pairs), "--pairs", "8"], "--pairs sets the size of the embedded"),
        (["--resume"], "--resume needs --out"),
        (["--resume", "--out", str(tmp_path / "none")], "holds no run"),
        (["--resume", "--out", str(saved), "--lr", "1"], r"as saved \(--lr 0.0002\); drop --lr,"),
        (
            ["--resume", "--out", str(empty)],
            "config.json: not a pix2pix_k3 run configuration: miss",
        ),
        (["--resume", "--out", str(broken)], "config.json cannot be read as JSON"),
        (["--lr", "nan"], "--lr must be a finite number"),
        (["--lambda-l1", "inf"], "--lambda-l1 must be a finite number"),
        (["--pairs", "0"], "--pairs must be 1 or more"),
        (["--out", str(full)], "is not empty. Pass --resume"),
        (["--out", str(a_file)], "a file of that name exists"),
        (["--out", str(a_file / "run")], "is not a writable folder"),
    ]


def test_every_refusal_is_one_line_before_any_work(tmp_path):
    for flags, message in refusals(tmp_path):
        before = sorted(tmp_path.rglob("*"))
        with pytest.raises(SystemExit, match=f"^error: .*{message}") as refused:
            needs_out = "--out" not in flags and flags != ["--resume"]
            main([*flags, "--out", str(tmp_path / "new")] if needs_out else flags)
        assert "\n" not in str(refused.value)
        assert sorted(tmp_path.rglob("*")) == before, flags  # nothing created


def test_help_lists_every_flag_with_paper_values(capsys):
    with pytest.raises(SystemExit):
        parse_args(["--help"])
    text = capsys.readouterr().out
    for flag in [option[0] for option in OPTIONS] + ["--preset", "--out", "--resume"]:
        assert flag in text
    assert "[paper: 256]" in text and "[paper: 100]" in text


def config_of(argv):
    """(RunConfig of a new run, the settings given, out, resume) for a command line."""
    given, out, resume = parse_args(argv)
    return RunConfig.from_args(given), set(given), out, resume


def test_defaults_are_cpu_sized_and_the_paper_objective():
    config, given, out, resume = config_of([])
    assert (config.image_size, config.loss, config.patch) == (64, "l1+cgan", 70)
    assert (config.lambda_l1, config.lr, config.beta1) == (100.0, 2e-4, 0.5)
    assert given == set() and out is None and not resume


def test_the_facades_preset_is_the_paper_recipe_and_flags_override_it():
    config, given, *_ = config_of(["--preset", "facades"])
    expected = dict(data="facades", direction="BtoA", image_size=256, load_size=286, batch_size=1)
    assert {key: getattr(config, key) for key in expected} == expected
    assert (config.epochs, config.epochs_decay, config.ngf) == (100, 100, 64)
    assert config.pairs is None and config.preset == "facades" and given == {"preset"}
    config, given, *_ = config_of(["--preset", "facades", "--epochs", "5"])
    assert config.epochs == 5 and config.epochs_decay == 100 and given == {"preset", "epochs"}


def test_verbose_2_logs_one_line_per_epoch_and_no_progress_bar(tmp_path, capsys):
    main([*TINY_RUN, "--epochs", "2", "--verbose", "2", "--out", str(tmp_path / "run")])
    printed = capsys.readouterr().out
    assert "\u2501" not in printed  # the progress bar's character
    assert sum("val_g_l1" in line for line in printed.splitlines()) == 2


BAD_CHOICES = [["--loss", "l2"], ["--patch", "69"], ["--norm", "layer"], ["--verbose", "3"]]


@pytest.mark.parametrize("bad", BAD_CHOICES)
def test_invalid_choices_are_refused_by_the_parser(bad, capsys):
    with pytest.raises(SystemExit):
        parse_args(bad)
    assert "invalid choice" in capsys.readouterr().err


def run_python(code, **env):
    """Run `code` in a fresh interpreter with `env` added (None removes a variable)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3", **env}
    env = {key: value for key, value in env.items() if value is not None}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)


def test_a_missing_backend_is_named_with_the_install_command():
    backend = keras.backend.backend()
    result = run_python(
        f"import sys; sys.modules[{backend!r}] = None; import pix2pix_k3", KERAS_BACKEND=backend
    )
    assert result.returncode != 0
    assert f"KERAS_BACKEND={backend}, but {backend} cannot be imported" in result.stderr
    assert "pip install" in result.stderr


def run_program(program, *arguments, **env):
    """`python -m pix2pix_k3.<program> arguments` with `env` added (None removes one)."""
    env = {**os.environ, "COLUMNS": "100", **env}
    return subprocess.run(
        [sys.executable, "-m", f"pix2pix_k3.{program}", *arguments],
        env={key: value for key, value in env.items() if value is not None},
        capture_output=True,
        text=True,
    )


@once
@pytest.mark.parametrize("program", list(PARSERS))
def test_a_program_names_a_missing_backend_in_one_line(program):
    """`KERAS_BACKEND=tensorflow python -m pix2pix_k3.export ...` without TensorFlow: the
    message, not a traceback (Python code importing pix2pix_k3 still gets ImportError)."""
    result = run_program(program, KERAS_BACKEND="nosuchbackend")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        "error: KERAS_BACKEND=nosuchbackend, but nosuchbackend cannot be imported. Install it "
        "(pip install nosuchbackend), or choose another backend: "
        "KERAS_BACKEND=jax | torch | tensorflow."
    ]


@once
@pytest.mark.parametrize("program", list(PARSERS))
def test_help_needs_no_backend_at_all(tmp_path, program, monkeypatch):
    """With jax, tensorflow and torch all missing, `--help` is the help (then a note)."""
    hide = "import sys\nfor name in ('jax', 'tensorflow', 'torch'):\n    sys.modules[name] = None\n"
    (tmp_path / "sitecustomize.py").write_text(hide)
    result = run_program(
        program,
        "--help",
        PYTHONPATH=os.pathsep.join([str(tmp_path), str(ROOT)]),
        KERAS_BACKEND=None,
        KERAS_HOME=str(tmp_path),
    )
    monkeypatch.setenv("COLUMNS", "100")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout == PARSERS[program]().format_help()
    assert result.stderr.splitlines() == [
        'note: No Keras backend is installed. Install one: jax: pip install -e ".[jax]"; '
        'tensorflow: pip install -e ".[tensorflow-cpu]" (or ".[tensorflow]" for GPUs); '
        'torch: pip install -e ".[torch]" (CPU build: see the README).'
    ]


@once
@pytest.mark.parametrize("program", list(PARSERS))
def test_help_and_a_mistyped_flag_are_answered_before_keras_loads(tmp_path, program, monkeypatch):
    """Keras and a backend take seconds to import; `--help` and a bad flag wait for
    neither (Keras made unimportable here: answering must not need it)."""
    monkeypatch.setenv("COLUMNS", "100")
    (tmp_path / "sitecustomize.py").write_text("import sys\nsys.modules['keras'] = None\n")
    path = os.pathsep.join([str(tmp_path), str(ROOT)])
    result = run_program(program, "--help", PYTHONPATH=path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout == PARSERS[program]().format_help()
    result = run_program(program, "--no-such-flag", PYTHONPATH=path)
    assert result.returncode == 2 and f"pix2pix_k3.{program}: error: " in result.stderr
    assert "Traceback" not in result.stderr


@once
@pytest.mark.parametrize(
    ("blocked", "picked"), [(["tensorflow"], "jax"), (["tensorflow", "jax"], "torch")]
)
def test_without_keras_backend_an_installed_backend_is_picked_and_named(tmp_path, blocked, picked):
    """Keras' default (tensorflow, or keras.json's) is not installed: use one that is."""
    block = "".join(f"sys.modules[{name!r}] = None; " for name in blocked)
    code = f"import sys; {block}import pix2pix_k3, keras; print(keras.backend.backend())"
    result = run_python(code, KERAS_BACKEND=None, KERAS_HOME=str(tmp_path))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == [picked]
    assert result.stderr.splitlines()[0] == (
        f"pix2pix_k3: using the {picked} backend (tensorflow, from Keras' default, is not "
        "installed). Set KERAS_BACKEND to choose."
    )


@once
def test_importing_the_cli_leaves_the_matplotlib_backend_alone():
    """A notebook that imports `fit` must keep its inline figures (a regression: report.py
    once called matplotlib.use("Agg") at import)."""
    code = (
        "import matplotlib; matplotlib.use('svg'); import pix2pix_k3.fit, pix2pix_k3.report; "
        "print(matplotlib.get_backend())"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "svg"


class InterruptAt(keras.callbacks.Callback):
    """Raises KeyboardInterrupt (Ctrl-C in a notebook) at batch 2 of epoch 1."""

    def on_train_batch_end(self, batch, logs=None):
        if batch == 1:
            raise KeyboardInterrupt


def test_a_run_stopped_in_its_first_epoch_resumes_from_the_start(tmp_path):
    """A stop in epoch 1 (Ctrl-C, a kill) leaves config.json, no committed epoch and the
    empty history.csv Keras' CSVLogger creates at the start: --resume must start the
    run over, not fail."""
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        main([*TINY_RUN, "--epochs", "1", "--out", str(out)], callbacks=[InterruptAt()])
    assert (out / "config.json").is_file() and not (out / "checkpoints" / "state.json").exists()
    (out / "history.csv").write_text("")  # what a kill leaves: CSVLogger's file, unflushed
    main(["--resume", "--out", str(out)])
    header, *rows = (out / "history.csv").read_text().splitlines()
    assert header.startswith("epoch") and [row.split(",")[0] for row in rows] == ["1"]
    assert json.loads((out / "checkpoints" / "state.json").read_text())["epochs"] == 1


KEEPS_TENSORFLOW_OUT = """
import sys
import keras
from pix2pix_k3 import build_pix2pix
from pix2pix_k3._backend import keep_tensorflow_out
if sys.argv[1] == "keep out":
    keep_tensorflow_out()
keras.utils.set_random_seed(0)
build_pix2pix(32, ngf=4, ndf=4, receptive_field=16).save(sys.argv[2])
print("tensorflow" in sys.modules)
"""


@pytest.mark.skipif(keras.backend.backend() == "tensorflow", reason="TensorFlow is Keras' own")
def test_the_programs_on_jax_and_torch_do_not_import_tensorflow(tmp_path):
    pytest.importorskip("tensorflow")  # the question is moot without it
    imported = {}
    for how in ("keep out", "as Keras does"):
        result = subprocess.run(
            [sys.executable, "-c", KEEPS_TENSORFLOW_OUT, how, str(tmp_path / "m.keras")],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        imported[how] = result.stdout.split()[-1]
    assert imported == {"keep out": "False", "as Keras does": "True"}


@once
def test_native_start_up_lines_are_dropped_and_others_passed_on():
    # _backend.py alone: importing the package would import the backend (on tensorflow,
    # with exactly the lines under test); a placeholder keras stops it choosing one.
    path = str(ROOT / "pix2pix_k3" / "_backend.py")
    code = (
        "import importlib.util, os, sys; sys.modules['keras'] = None\n"
        f"spec = importlib.util.spec_from_file_location('b', {path!r})\n"
        "backend = importlib.util.module_from_spec(spec); spec.loader.exec_module(backend)\n"
        "with backend.start_up_lines_dropped():\n"
        "    os.write(2, b'I0000 port.cc:153] oneDNN custom operations are on. You may see\\n')\n"
        "    os.write(2, b'something else\\n')\n"
        "    print('from Python', file=sys.stderr)\n"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == ["something else", "from Python"]


@once
@pytest.mark.skipif(
    importlib.util.find_spec("tensorflow") is None, reason="TensorFlow is not installed"
)
def test_a_program_on_tensorflow_shows_no_tensorflow_start_up_lines(tmp_path):
    result = run_program(
        "translate",
        str(tmp_path / "none.keras"),
        str(tmp_path),
        "--out",
        str(tmp_path / "o"),
        KERAS_BACKEND="tensorflow",
        TF_CPP_MIN_LOG_LEVEL=None,
    )
    assert result.stderr.splitlines() == [
        f"error: {tmp_path / 'none.keras'}: no such model file or run folder."
    ]


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="Grappler is TensorFlow's")
def test_a_tensorflow_run_logs_no_grappler_failure(tmp_path, capfd):
    main([*TINY_RUN, "--epochs", "1", "--verbose", "0", "--out", str(tmp_path / "run")])
    assert "remapper failed" not in capfd.readouterr().err


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--save-every", "-3"], "--save-every must not be negative (got -3)"),
        (["--workers", "-1"], "--workers must not be negative (got -1)"),
    ],
)
def test_the_flags_a_resume_may_change_are_checked_before_the_folder_is_touched(
    tmp_path, flags, message
):
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        main([*TINY_RUN, "--epochs", "1", "--out", str(out)], callbacks=[InterruptAt()])
    before = sorted(path.relative_to(out) for path in out.rglob("*"))
    with pytest.raises(SystemExit, match=re.escape(message)):
        main(["--resume", "--out", str(out), *flags])
    assert sorted(path.relative_to(out) for path in out.rglob("*")) == before
