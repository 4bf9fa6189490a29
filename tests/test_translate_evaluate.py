"""`python -m pix2pix_k3.translate` and `evaluate` on the result of a tiny `fit`."""

import json
import re
import urllib.parse

import numpy as np
import pytest
from helpers import to_numpy
from PIL import Image

from pix2pix_k3 import evaluate, translate
from pix2pix_k3.data.synthetic import synthetic_pair
from pix2pix_k3.fit import main as fit
from pix2pix_k3.metrics import l1

TINY_RUN = "--image-size 32 --pairs 8 --batch-size 2 --ngf 4 --ndf 4 --patch 16 --epochs 1"


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny") / "run"
    fit([*TINY_RUN.split(), "--out", str(out)])
    return out


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    """Three 48x48 side-by-side pairs (label | photo), and a file that is not an image."""
    folder = tmp_path_factory.mktemp("pairs")
    for i in range(3):
        Image.fromarray(np.concatenate(synthetic_pair([7, 0, i], 48), axis=1)).save(
            folder / f"{i}.png"
        )
    (folder / "notes.txt").write_text("not an image")
    return folder


def size_of(path):
    with Image.open(path) as picture:
        return picture.size


def test_translate_a_folder_of_pairs_side_by_side_with_an_index(run_folder, pairs, tmp_path):
    out = tmp_path / "out"
    flags = ["--direction", "AtoB", "--side-by-side", "--html", "--mode", "paper"]
    translate.main([str(run_folder), str(pairs), "--out", str(out), *flags])
    assert sorted(p.name for p in out.iterdir()) == ["0.png", "1.png", "2.png", "index.html"]
    assert size_of(out / "0.png") == (3 * 48, 48)  # input | output | target at the input's size
    assert 'src="2.png"' in (out / "index.html").read_text()


def test_pairs_translated_whole_get_a_note_naming_direction(run_folder, pairs, tmp_path, capsys):
    """--side-by-side alone shows each whole A|B file as the input: say what to pass."""
    translate.main([str(run_folder), str(pairs), "--out", str(tmp_path / "a"), "--side-by-side"])
    note = capsys.readouterr().err
    assert "note: 3 of 3 input(s) (0.png, ...) are twice as wide" in note
    assert "pass --direction AtoB (or BtoA)" in note
    assert size_of(tmp_path / "a" / "0.png") == (4 * 48, 48)  # whole input | its output
    translate.main(
        [str(run_folder), str(pairs), "--out", str(tmp_path / "b"), "--direction", "AtoB"]
    )
    assert "note:" not in capsys.readouterr().err


def test_outputs_come_back_at_the_input_size_or_the_model_size(run_folder, tmp_path):
    image = tmp_path / "photo.jpg"
    Image.fromarray(synthetic_pair(3, 40)[0][:, :30]).save(image)  # 30x40, not square
    model = run_folder / "checkpoints" / "latest.keras"
    translate.main([str(model), str(image), "--out", str(tmp_path / "a")])
    translate.main([str(model), str(image), "--out", str(tmp_path / "b"), "--model-size"])
    assert size_of(tmp_path / "a" / "photo.png") == (30, 40)
    assert size_of(tmp_path / "b" / "photo.png") == (32, 32)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["no/such/model.keras", "x"], "no/such/model.keras: no such model file or run folder"),
        (["{empty}", "x"], "no checkpoints/latest.keras"),
        (["{run}", "{empty}"], "no images found"),
        (["{run}", "{pairs}", "--direction", "AtoB", "--mode", "paper"], None),
    ],
)
def test_translate_refuses_what_it_cannot_use(run_folder, pairs, tmp_path, arguments, message):
    (tmp_path / "empty").mkdir()
    names = {"run": run_folder, "empty": tmp_path / "empty", "pairs": pairs}
    arguments = [argument.format(**names) for argument in arguments]
    if message is None:  # the control: the same call with usable arguments works
        translate.main([*arguments, "--out", str(tmp_path / "out")])
        return
    with pytest.raises(SystemExit, match=f"^error: .*{message}"):
        translate.main([*arguments, "--out", str(tmp_path / "out")])


def test_evaluate_a_run_on_its_test_split(run_folder, capsys):
    evaluate.main([str(run_folder)])
    printed = capsys.readouterr().out
    assert "embedded test split (32 pairs, eval mode)" in printed and "SSIM" in printed
    results = json.loads((run_folder / "evaluation.json").read_text())
    assert results["pairs"] == 32 and set(results["measures"]) == {"l1", "psnr", "ssim"}
    for name, values in results["per_pair"].items():
        assert len(values) == 32
        assert results["measures"][name]["mean"] == pytest.approx(np.mean(values))
    assert 0 < results["measures"]["l1"]["mean"] < 2


def test_evaluate_on_a_folder_matches_the_metric_computed_by_hand(run_folder, pairs, tmp_path):
    report = tmp_path / "results.json"
    evaluate.main([str(run_folder), "--data", str(pairs), "--json", str(report)])
    results = json.loads(report.read_text())
    assert results["pairs"] == 3 and results["direction"] == "AtoB"

    from pix2pix_k3.data import PairDataset
    from pix2pix_k3.trained import load

    model = load(run_folder)
    x, y = PairDataset.from_folder(pairs, crop_size=32, jitter=False, shuffle=False).batch_of(3)
    expected = l1(to_numpy(model.translate(x, mode="eval")), y)
    np.testing.assert_allclose(results["per_pair"]["l1"], expected, rtol=1e-5)


@pytest.mark.parametrize("program", [translate, evaluate])
@pytest.mark.parametrize("size", ["0", "-3", "two"])
def test_a_batch_size_below_one_is_refused_in_one_line(run_folder, tmp_path, capsys, program, size):
    arguments = [str(run_folder), "--batch-size", size]
    if program is translate:
        arguments[1:1] = [str(run_folder), "--out", str(tmp_path / "out")]
    with pytest.raises(SystemExit) as refused:
        program.main(arguments)
    assert refused.value.code == 2
    message = capsys.readouterr().err.strip().splitlines()[-1]
    assert "argument --batch-size:" in message and ("1 or more" in message or "whole" in message)


def test_the_html_page_shows_each_input_beside_its_output(run_folder, pairs, tmp_path):
    out = tmp_path / "out"
    translate.main([str(run_folder), str(pairs), "--out", str(out), "--html"])
    page = (out / "index.html").read_text()
    sources = [urllib.parse.unquote(s) for s in re.findall(r'<img src="([^"]+)"', page)]
    shown = [(out / source).resolve() for source in sources]
    assert all(path.is_file() for path in shown)
    expected = [path for i in range(3) for path in (pairs / f"{i}.png", out / f"{i}.png")]
    assert shown == [path.resolve() for path in expected]


def test_the_generator_file_translates_like_the_whole_checkpoint(run_folder, pairs, tmp_path):
    """A finished run's generator.keras (what the programs load) is the checkpoint's G."""
    for model, out in [
        (run_folder / "generator.keras", "a"),
        (run_folder / "checkpoints" / "latest.keras", "b"),
    ]:
        translate.main([str(model), str(pairs), "--out", str(tmp_path / out)])
    for name in ("0.png", "1.png", "2.png"):
        a = np.asarray(Image.open(tmp_path / "a" / name))
        np.testing.assert_array_equal(a, np.asarray(Image.open(tmp_path / "b" / name)))


def test_a_model_that_is_no_generator_is_refused(tmp_path):
    import keras

    path = tmp_path / "dense.keras"
    keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]).save(path)
    with pytest.raises(SystemExit, match="neither a pix2pix_k3 Pix2Pix model nor a generator"):
        translate.main([str(path), str(tmp_path), "--out", str(tmp_path / "out")])
