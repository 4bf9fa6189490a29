"""What `fit`, `translate` and `evaluate` say about broken inputs: one message naming the
file or folder, what is wrong and what to do, before any work; never a traceback.

The corpus is made here: a dataset root (`train/`, `test/`), a folder of bad files
next to a good one, an A/ folder without B/, a run trained on another backend, a run
whose training data moved, and paths that cannot be written.
"""

import errno
import json
import pathlib
import re
import shutil
import sys
from collections import namedtuple

import keras
import numpy as np
import pytest
from PIL import Image

from pix2pix_k3 import evaluate, fit, ledger, model, run, translate
from pix2pix_k3.config import RunConfig

TINY = "--image-size 32 --batch-size 2 --ngf 4 --ndf 4 --patch 16 --epochs 1".split()
PROGRAMS = {"fit": fit.main, "translate": translate.main, "evaluate": evaluate.main}


def save_pair(path, width=80, height=40, seed=0):
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    for split in ("train", "test"):
        (root / "data" / split).mkdir(parents=True)
        for i in range(3):
            save_pair(root / "data" / split / f"{i}.jpg", seed=i)
    bad = root / "bad"
    bad.mkdir()
    save_pair(bad / "good.jpg")
    (bad / "x.jpg").write_text("not an image")
    save_pair(bad / "odd.png", width=81)
    save_pair(bad / "small.png", width=40, height=20)
    save_pair(bad / "cut.jpg", width=512, height=256)
    (bad / "cut.jpg").write_bytes((bad / "cut.jpg").read_bytes()[:3000])
    (root / "a_only" / "A").mkdir(parents=True)
    save_pair(root / "a_only" / "A" / "0.png")
    (root / "a_file").write_text("")

    trained = root / "run"  # on the dataset root: train/ to train, test/ to evaluate
    fit.main([*TINY, "--data", str(root / "data"), "--out", str(trained)])
    other = root / "other_backend"
    shutil.copytree(trained, other)
    state = json.loads((other / "checkpoints" / "state.json").read_text())
    state["backend"] = "jax" if keras.backend.backend() != "jax" else "torch"
    (other / "checkpoints" / "state.json").write_text(json.dumps(state))
    damaged = shutil.copytree(trained, root / "damaged")
    checkpoint = damaged / "checkpoints" / "epoch_001.keras"
    checkpoint.write_bytes(checkpoint.read_bytes()[:1000])  # cut short
    early = shutil.copytree(trained, root / "early")  # a state.json from before "backend"
    state = json.loads((early / "checkpoints" / "state.json").read_text())
    del state["backend"], state["format"]
    (early / "checkpoints" / "state.json").write_text(json.dumps(state))
    (root / "not_a_model").mkdir()
    (root / "not_a_model" / "m.keras").write_text("hello")
    moved = root / "moved"
    shutil.copytree(trained, moved)
    config = json.loads((moved / "config.json").read_text())
    (moved / "config.json").write_text(json.dumps({**config, "data": str(root / "gone")}))
    return root


CASES = [  # (program, arguments, the message after "error: ")
    ("fit", ["--data", "{data}/train/0.jpg"], r"--data \S+0.jpg is a file; --data takes the "
     r"folder that holds the pairs \(here perhaps \S+train\)\."),
    ("fit", ["--data", "{a_only}"], r"\S+a_only: A/ is there but B/ is missing\. .*"),
    ("fit", ["--data", "{bad}"], r"4 of 5 pairs cannot be used:\n"
     r"  \S+cut.jpg: cannot be read as an image \(.*\)\.\n"
     r"  \S+odd.png: width 81 is odd, so it cannot be split into A\|B halves\.\n"
     r"  \S+small.png: the pair is 20x20, smaller than the 32px crops\.\n"
     r"  \S+x.jpg: cannot be read as an image \(.*\)\.\n"
     r"Replace or remove these files, then run again\."),
    ("fit", ["--resume", "--out", "{other_backend}"], r"--resume: \S+ was trained on \w+, "
     r"and its saved random state is \w+'s\. Continue it with KERAS_BACKEND=\w+ .*"),
    ("fit", ["--resume", "--out", "{damaged}"], r"\S+epoch_001.keras is not a Keras model "
     r"file: a .keras file is a zip archive and this one is not \(cut short .*\)\. The run "
     r"cannot resume from it; \S+state.json names it as epoch 1's\. Start a new run in .*"),
    ("fit", ["--resume", "--out", "{early}"], r"\S+state.json was written by an early "
     r"pix2pix_k3 that did not record which backend's random state it saved, so .*"),
    ("translate", ["{not_a_model}/m.keras", "{data}/test", "--out", "{a_file}/out"],
     r"\S+m.keras is not a Keras model file: a .keras file is a zip archive and this .*"),
    ("evaluate", ["{not_a_model}/m.keras"], r"\S+m.keras is not a Keras model file: .*"),
    ("translate", ["{run}", "{data}/test", "--out", "{a_file}/out"],
     r"--out \S+a_file/out: cannot write there \(\S+a_file is a file, not a folder\)\. "
     r"Choose another --out\."),
    ("evaluate", ["{moved}"], r"the run was trained on \S+gone \(its config.json says so\), "
     r"which is no longer there\. Pass --data with a folder of held-out pairs, .*"),
    ("evaluate", ["{run}", "--json", "{a_file}/e.json"],
     r"--json \S+a_file/e.json: cannot write there \(\S+a_file is a file, not a folder\)\. "
     r"Choose another --json\."),
]  # fmt: skip


@pytest.mark.parametrize(("program", "arguments", "message"), CASES)
def test_each_broken_input_gets_one_message_before_any_work(
    corpus, tmp_path, program, arguments, message
):
    names = {p.name: p for p in corpus.iterdir()}
    arguments = [a.format(**names) for a in arguments]
    if program == "fit" and "--out" not in arguments:
        arguments += [*TINY, "--out", str(tmp_path / "new")]
    before = sorted(corpus.rglob("*"))
    with pytest.raises(SystemExit) as refused:
        PROGRAMS[program](arguments)
    assert re.fullmatch(f"error: {message}", str(refused.value), re.S), str(refused.value)
    assert sorted(corpus.rglob("*")) == before and not (tmp_path / "new").exists()


def test_a_dataset_root_trains_on_train_and_is_evaluated_on_test(corpus, capsys):
    config = json.loads((corpus / "run" / "config.json").read_text())
    assert config["data"] == str(corpus / "data")
    evaluate.main([str(corpus / "run"), "--json", str(corpus / "a_json" / "e.json")])
    assert json.loads((corpus / "a_json" / "e.json").read_text())["data"] == str(
        corpus / "data" / "test"
    )
    shutil.rmtree(corpus / "a_json")


def test_translate_skips_a_folder_named_like_an_image(corpus, tmp_path):
    images = tmp_path / "images"
    shutil.copytree(corpus / "data" / "test", images)
    (images / "sub.jpg").mkdir()
    translate.main([str(corpus / "run"), str(images), "--out", str(tmp_path / "out")])
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["0.png", "1.png", "2.png"]


def test_a_full_disk_during_a_commit_says_what_is_kept_and_how_to_resume(tmp_path, monkeypatch):
    saves = []

    def save_until_full(self, path, *args, **kwargs):
        saves.append(path)
        if len(saves) == 2:
            path.write_bytes(b"half")
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real_save(self, path, *args, **kwargs)

    real_save = model.Pix2Pix.save
    monkeypatch.setattr(model.Pix2Pix, "save", save_until_full)
    out = tmp_path / "run"
    resume = (
        f"KERAS_BACKEND={keras.backend.backend()} {pathlib.Path(sys.executable).name} "
        f"-m pix2pix_k3.fit --resume --out {out}"
    )
    with pytest.raises(SystemExit) as stopped:
        fit.main([*TINY[:-1], "2", "--pairs", "4", "--out", str(out)])
    assert str(stopped.value) == (
        f"error: the disk holding {out} is full ({out}/checkpoints/.epoch_002.keras.partial"
        f".keras). The run folder is consistent: {out} keeps epoch 1 ({out}/checkpoints/"
        f"latest.keras). Continue with: {resume} once space is free."
    )
    assert not list(out.rglob(".*partial*"))
    monkeypatch.setattr(model.Pix2Pix, "save", real_save)
    # Space is freed, as much as the rest needs: the new last epoch's checkpoint and one
    # more while it replaces epoch 1's, which is on disk already and not asked for again.
    each = ledger.checkpoint_bytes(keras.saving.load_model(out / "checkpoints" / "latest.keras"))
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(run.shutil, "disk_usage", lambda path: usage(10**12, 0, 2 * each + 1))
    fit.main(["--resume", "--out", str(out)])
    assert json.loads((out / "checkpoints" / "state.json").read_text())["epochs"] == 2


def test_a_run_whose_checkpoints_cannot_fit_on_the_disk_is_refused(tmp_path, monkeypatch):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(run.shutil, "disk_usage", lambda path: usage(10**9, 10**9, 10**5))
    out = tmp_path / "run"
    with pytest.raises(
        SystemExit,
        match=r"^error: this run keeps 1 checkpoint\(s\) of 1 MB, needing about 2 MB with the "
        r"latest, but the disk of \S+ has 0 MB free\. Keep fewer \(a larger --save-every, or",
    ):
        fit.main([*TINY, "--pairs", "4", "--out", str(out)])
    assert not (out / "checkpoints" / "state.json").exists()


def test_the_checkpoint_size_estimate_is_within_5_percent_of_the_file(tmp_path):
    pix2pix = fit.new_model(RunConfig(image_size=64, ngf=32, ndf=32))
    pix2pix.train_on_batch(*[np.zeros((1, 64, 64, 3), np.float32)] * 2)
    pix2pix.save(tmp_path / "m.keras")
    size = (tmp_path / "m.keras").stat().st_size
    assert ledger.checkpoint_bytes(pix2pix) == pytest.approx(size, rel=0.05)
