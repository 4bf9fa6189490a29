"""The course's exercises (tutorials/exercises/): solutions pass their checks on every
backend, the student copies hold no solution and fail their checks as handed out, and
plausible wrong answers fail with a message that points at the mistake.

The notebooks run in this process (tests/support/notebooks.py). The solutions run in
every backend's pass; the student copies, the wrong answers and the answer key, whose
outcome does not depend on the backend, in the TensorFlow pass (the fastest here).
"""

import contextlib
import io
import json
import pathlib
import re

import keras
import numpy as np
import pytest
from notebooks import code_cells, run_cell, run_notebook

pytest.importorskip(
    "pix2pix_spec", reason="the course's checks need pix2pix-spec (pip install -e ./spec)"
)

from pix2pix_k3.course import checks, handout, planted  # noqa: E402
from pix2pix_k3.course.report import Report  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "tutorials" / "exercises").glob("*.ipynb"))
STUDENT = ROOT / "docs" / "exercises"
REPORT = re.compile(r"^(Exercise [^:\n]+): (.+)$", re.MULTILINE)
once = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="backend-independent: the TensorFlow pass"
)


def load(path):
    return json.loads(pathlib.Path(path).read_text())


def reports(output):
    """{title: verdict} of every check report printed in `output`."""
    return dict(REPORT.findall(output))


def check_calls(notebook):
    return [
        call for source in code_cells(notebook) for call in re.findall(r"^check_\w+", source, re.M)
    ]


def test_there_is_an_exercise_for_tutorials_1_to_5_and_7():
    numbers = sorted(path.name[:2] for path in SOLUTIONS)
    assert numbers == ["01", "02", "03", "04", "05", "07"], numbers


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda path: path.stem)
def test_each_solution_passes_all_of_its_checks(solution):
    """Every check passes on every backend. The cells tagged "explore" (a plot, a few
    training steps, the whole suite on the planted code) only show; they run in the
    TensorFlow pass, but for exercise 7's, whose call the answer key's test makes."""
    once_here = keras.backend.backend() == "tensorflow" and solution.stem != "07_planted_bugs"
    explore = () if once_here else ("explore",)
    output = run_notebook(solution, solution.stem, leave_out=explore)
    found = reports(output)
    assert len(found) == len(check_calls(solution)), output[-3000:]
    failing = {title: verdict for title, verdict in found.items() if verdict != "all pass"}
    assert not failing, output[-3000:]


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda path: path.stem)
def test_each_student_copy_is_the_solution_without_its_solutions(solution):
    """The committed copy is what handout makes now, and no line of a solution region that
    appears nowhere else in the notebook survives in it."""
    copy = STUDENT / solution.name
    assert copy.is_file(), f"{copy} is missing: run python scripts/render_docs.py --cli-only"
    expected = handout.student_copy(load(solution), str(solution))
    assert load(copy) == expected, f"{copy} is stale: run python scripts/render_docs.py --cli-only"
    student_text = "\n".join("".join(cell["source"]) for cell in expected["cells"])
    inside, outside = solution_lines(load(solution))
    distinctive = {line for line in inside if line not in outside and len(line) > 3}
    assert distinctive, f"{solution.name} has no solution region"
    leaked = sorted(line for line in distinctive if line in student_text)
    assert not leaked, leaked
    assert handout.BEGIN not in student_text and handout.END not in student_text
    assert student_text.count("raise NotImplementedError()") >= len(check_calls(solution))


def solution_lines(notebook):
    """(stripped lines inside solution regions, stripped lines outside them)."""
    inside, outside, within = [], set(), False
    for cell in notebook["cells"]:
        for line in "".join(cell["source"]).split("\n"):
            marker = line.strip()
            if marker in (handout.BEGIN, handout.END):
                within = marker == handout.BEGIN
            elif marker:
                (inside.append if within else outside.add)(marker)
    return inside, outside


@once
@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda path: path.stem)
def test_each_student_copy_fails_its_checks_as_handed_out(solution):
    """Run as handed out, each check says what is not written yet; a later cell that uses
    the unwritten function stops the run with the stub's NotImplementedError. The cells
    tagged "explore" (no check needs them) run in the solution's test."""
    copy = STUDENT / solution.name
    try:
        output = run_notebook(copy, copy.stem, leave_out=("explore",))
    except NotImplementedError as error:
        output = error.__notes__[0]
    found = reports(output)
    assert len(found) == len(check_calls(solution)), output[-3000:]
    assert set(found.values()) == {"not written yet"}, output[-3000:]
    assert output.count("raises NotImplementedError: write it in the cell above") == len(found)


def run_with(solution_name, wrong, check):
    """The solution notebook up to the cell that calls `check`, with `wrong` (a student's
    wrong answer) run just before that cell; what that cell printed. Cells tagged
    "explore" (a plot, a whole suite run) only show, and are left out."""
    namespace = {"__name__": "__main__"}
    notebook = ROOT / "tutorials" / "exercises" / solution_name
    for index, source in enumerate(code_cells(notebook, leave_out=("explore",))):
        output = io.StringIO()
        calls_check = re.search(rf"^{check}\(", source, re.M)
        with contextlib.redirect_stdout(output):
            if calls_check:
                run_cell(wrong, namespace, "wrong answer")
            run_cell(source, namespace, f"{solution_name}[{index}]")
        if calls_check:
            return output.getvalue()
    raise AssertionError(f"no cell of {solution_name} calls {check}")


JITTER = """
def pair_jitter(input_image, target_image, rng):
    resized = [ops.image.resize(image, (286, 286)) for image in (input_image, target_image)]
    out = []
    for image in resized:
        {draw}
        image = image[top : top + 256, left : left + 256]
        {flip}
        out.append(image)
    return tuple(out)
"""
ONE_WINDOW = "top, left = (int(v) for v in rng.integers(0, 31, size=2)) if not out else (top, left)"
OWN_WINDOW = "top, left = (int(v) for v in rng.integers(0, 31, size=2))"
OWN_FLIP = "image = ops.flip(image, axis=1) if rng.random() < 0.5 else image"

# (notebook, check, the wrong answer, what the report must say): mistakes students make.
WRONG = {
    "jitter: independent crops": ("01_jitter.ipynb", "check_jitter",
        JITTER.format(draw=OWN_WINDOW, flip="mirrored = rng.random() < 0.5"),
        "DAT-2", "draw one window (top, left) and one coin flip for the pair"),
    "jitter: independent flips": ("01_jitter.ipynb", "check_jitter",
        JITTER.format(draw=ONE_WINDOW, flip=OWN_FLIP),
        "DAT-2", "the crop offsets or the mirror of input and target differ"),
    "jitter: never mirrored": ("01_jitter.ipynb", "check_jitter",
        JITTER.format(draw=ONE_WINDOW, flip="pass"),
        "DAT-4", "mirror the pair with probability 1/2"),
    "U-Net: ReLU in the encoder": ("02_unet.ipynb", "check_unet", """
_paper_Ck = Ck
def Ck(k, norm=True):
    block = _paper_Ck(k, norm)
    block.pop()
    block.add(keras.layers.ReLU())
    return block
""", "ACT-1", "LeakyReLU with negative_slope=0.2 after the encoder's"),
    "U-Net: no skips": ("02_unet.ipynb", "check_unet", """
def unet_generator(image_size=256):
    inputs = keras.Input((image_size, image_size, 3))
    h = inputs
    for k, norm in [(64, False), (128, True), (256, True)] + [(512, True)] * 4 + [(512, False)]:
        h = Ck(k, norm)(h)
    for k, dropout in [(512, True)] * 3 + [(512, False), (256, False), (128, False), (64, False)]:
        h = CDk(k, dropout)(h)
    h = keras.layers.Conv2DTranspose(3, 4, strides=2, padding="same")(h)
    return keras.Model(inputs, keras.layers.Activation("tanh")(h))
""", "GEN-5", "concatenate each decoder block's output with the encoder output"),
    "receptive field: forward walk": ("03_patchgan.ipynb", "check_receptive_field", """
def receptive_field(layers):
    field = 1
    for kernel, stride in layers:
        field = field * stride + (kernel - stride)
    return field
""", "n_layers=3", "walk from the output back to the input"),
    "receptive field: kernels added": ("03_patchgan.ipynb", "check_receptive_field", """
def receptive_field(layers):
    return 1 + sum(kernel - 1 for kernel, stride in layers)
""", "n_layers=3", "r*s + (k - s)"),
    "PatchGAN: D sees y alone": ("03_patchgan.ipynb", "check_patchgan", """
_paper_patchgan = patchgan
def patchgan(n_layers=3, image_size=256):
    inner = _paper_patchgan(n_layers, image_size)
    x = keras.Input((image_size, image_size, 3))
    y = keras.Input((image_size, image_size, 3))
    return keras.Model([x, y], inner([y, y]))
""", "DIS-3", "D must see the input x"),
    "PatchGAN: padding same": ("03_patchgan.ipynb", "check_patchgan", """
def patchgan(n_layers=3, image_size=256):
    x = keras.Input((image_size, image_size, 3))
    y = keras.Input((image_size, image_size, 3))
    h = keras.layers.Concatenate()([x, y])
    for i, stride in enumerate([2] * n_layers + [1]):
        h = keras.layers.Conv2D(min(64 * 2**i, 512), 4, strides=stride, padding="same")(h)
        if i > 0:
            h = keras.layers.BatchNormalization()(h)
        h = keras.layers.LeakyReLU(negative_slope=0.2)(h)
    return keras.Model([x, y], keras.layers.Conv2D(1, 4, padding="same")(h))
""", "grid of patches", "ZeroPadding2D(1), then padding='valid'"),
    "losses: naive BCE": ("04_losses.ipynb", "check_losses", """
def bce(logits, label):
    p = ops.sigmoid(logits)
    return -(label * ops.log(p) + (1 - label) * ops.log(1 - p))
""", "BCE against label 0", "the naive -log(sigmoid) overflows"),
    "losses: D's loss not halved": ("04_losses.ipynb", "check_losses", """
def discriminator_loss(real_logits, fake_logits):
    return ops.mean(bce(real_logits, 1.0)) + ops.mean(bce(fake_logits, 0.0))
""", "D's loss on a fixed batch", "your value is the sum without the paper's 1/2"),
    "losses: lambda 10": ("04_losses.ipynb", "check_losses", """
def generator_loss(fake_logits, generated, targets, lambda_l1=10.0):
    return ops.mean(bce(fake_logits, 1.0)) + lambda_l1 * ops.mean(ops.abs(targets - generated))
""", "G's loss on a fixed batch", "your value is lambda = 10 instead of 100"),
    "step: G before D": ("05_train_step.ipynb", "check_train_step", """
def train_step(models, x, y):
    G, D = models.generator, models.discriminator

    def g_loss():
        generated = G(x, training=True)
        return generator_loss(D([x, generated], training=True), generated, y)[0]

    g = models.update("generator", g_loss)
    fake = ops.stop_gradient(G(x, training=True))
    d = models.update("discriminator", lambda: discriminator_loss(
        D([x, y], training=True), D([x, fake], training=True))[0])
    return {"d_loss": d, "g_loss": g}
""", "OBJ-4", "update D first, then compute G's loss through the updated D"),
    "step: GAN term on D(y, G(x))": ("05_train_step.ipynb", "check_train_step", """
def train_step(models, x, y):
    G, D = models.generator, models.discriminator
    fake = ops.stop_gradient(G(x, training=True))
    d = models.update("discriminator", lambda: discriminator_loss(
        D([x, y], training=True), D([x, fake], training=True))[0])

    def g_loss():
        generated = G(x, training=True)
        return generator_loss(D([y, generated], training=True), generated, y)[0]

    return {"d_loss": d, "g_loss": models.update("generator", g_loss)}
""", "OBJ-3", "D must score the pairs (x, y) and (x, G(x))"),
    "planted: a FAIL left out": ("07_planted_bugs.ipynb", "check_planted_bugs", """
def planted_bugs():
    return {"DAT-2": "jitter", "OBJ-1": "discriminator_loss"}
""", "OBJ-4 found", "your answer does not name it"),
    "planted: the wrong function": ("07_planted_bugs.ipynb", "check_planted_bugs", """
def planted_bugs():
    return {"DAT-2": "jitter", "OBJ-1": "train_step", "OBJ-4": "train_step"}
""", "OBJ-1 comes from train_step()", "train_step() is not where OBJ-1 breaks"),
}  # fmt: skip


def failing_lines(report):
    """The report's FAIL entries, each with the lines below it, as one string each."""
    return re.findall(r"  FAIL  .*(?:\n {10}.*)*", report)


@once
@pytest.mark.parametrize("mistake", WRONG, ids=str)
def test_a_plausible_wrong_answer_fails_with_a_pointed_message(mistake):
    notebook, check, wrong, line, message = WRONG[mistake]
    report = run_with(notebook, wrong, check)
    assert not re.search(r": all pass$", report, re.M), report
    pointed = [entry for entry in failing_lines(report) if line in entry]
    assert pointed, f"no FAIL on {line!r}:\n{report}"
    assert any(message in " ".join(entry.split()) for entry in pointed), report


@once
def test_every_exercise_has_at_least_two_wrong_answers():
    counts = {}
    for notebook, *_ in WRONG.values():
        counts[notebook] = counts.get(notebook, 0) + 1
    assert sorted(counts) == [path.name for path in SOLUTIONS]
    assert min(counts.values()) >= 2, counts


@once
def test_the_planted_bugs_are_what_the_suite_fails_and_their_repair_passes():
    """The answer key is the suite's verdict on the planted implementation (every
    requirement run), and repairing each keyed function clears its requirements."""
    import pix2pix_spec
    from keras import ops

    rows = pix2pix_spec.check(planted.Planted(), quiet=True)  # exercise 7's explore cell
    failing = {row["id"] for row in rows if row["verdict"] == "FAIL"}
    assert failing == set(checks.PLANTED_BUGS), rows
    repairs = {
        "jitter": lambda a, b, rng: paper_jitter(a, b, rng),
        "discriminator_loss": lambda real, fake: 0.5 * (
            planted.gan_loss(real, True) + planted.gan_loss(fake, False)),
        "train_step": lambda models, x, y: paper_step(models, x, y, ops),
    }  # fmt: skip
    for ident, function in checks.PLANTED_BUGS.items():
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(planted, function, repairs[function])
            (row,) = pix2pix_spec.check(planted.Planted(), only=[ident], quiet=True)
        assert row["verdict"] == "pass", (function, row)


def paper_jitter(a, b, rng):
    from keras import ops

    a, b = (ops.image.resize(image, (286, 286)) for image in (a, b))
    top, left = (int(v) for v in rng.integers(0, 31, 2))
    a, b = (image[top : top + 256, left : left + 256] for image in (a, b))
    return (ops.flip(a, 1), ops.flip(b, 1)) if rng.random() < 0.5 else (a, b)


def paper_step(models, x, y, ops):
    G, D = models.generator, models.discriminator
    fake = ops.stop_gradient(G(x, training=True))
    d = models.update(
        "discriminator",
        lambda: planted.discriminator_loss(D([x, y], training=True), D([x, fake], training=True)),
    )

    def g_loss():
        generated = G(x, training=True)
        return planted.generator_loss(D([x, generated], training=True), generated, y)

    return {"d_loss": d, "g_loss": models.update("generator", g_loss)}


@once
def test_the_stored_reference_values_are_what_pix2pix_k3_computes():
    from pix2pix_k3 import patchgan_discriminator, unet_generator
    from pix2pix_k3.discriminator import patch_grid

    assert checks.GENERATOR_PARAMETERS == checks.parameters(unet_generator(256))
    assert checks.DISCRIMINATOR_PARAMETERS == checks.parameters(patchgan_discriminator(70))
    assert checks.GRID == patch_grid(256, 70)


def test_a_check_reports_an_error_in_the_students_code_in_one_line():
    report = checks.check_jitter(lambda a, b, rng: a.no_such_method())
    assert not report.passed
    assert "pair_jitter runs" in repr(report) and "AttributeError" in repr(report)
    assert "Traceback" not in repr(report)


def test_the_report_compares_by_relative_error():
    report = Report("t")
    assert report.compare("close", 100.0, 100.0005, rtol=1e-5)
    assert not report.compare("far", 100.0, 100.01, rtol=1e-5, hint="the hint")
    assert not report.compare("not finite", [1.0, 2.0], [1.0, np.nan], rtol=1.0)
    text = repr(report)
    assert "relative error 0.0001" in text and "likely: the hint" in text
    assert "not finite: inf or nan" in text
    assert "t: 1 of 3 pass" in text


def test_update_steps_the_named_network_alone_and_keeps_every_state_it_changed():
    """`Models.update` (the step modules' `minimize`): one Adam step on the named
    network's weights; BatchNorm's statistics and dropout's seed state, changed by the
    calls inside the loss, are kept, whichever network they belong to."""
    from keras import ops

    from pix2pix_k3 import discriminator_loss, generator_loss
    from pix2pix_k3.course import Models

    models = Models.build(seed=1)
    G, D = models.generator, models.discriminator
    x, y = (
        ops.convert_to_tensor(a)
        for a in np.random.default_rng(0).uniform(-1, 1, (2, 2, 32, 32, 3)).astype("float32")
    )

    def snapshot(network, trainable):
        weights = network.trainable_weights if trainable else network.non_trainable_weights
        return [ops.convert_to_numpy(w).copy() for w in weights]

    def moved(before, after):
        return [not np.array_equal(a, b) for a, b in zip(before, after, strict=True)]

    def g_loss():
        generated = G(x, training=True)
        return generator_loss(D([x, generated], training=True), generated, y)[0]

    expected = float(ops.convert_to_numpy(g_loss()))  # the same weights; dropout differs
    g_weights, d_weights = snapshot(G, True), snapshot(D, True)
    g_state, d_state = snapshot(G, False), snapshot(D, False)
    loss = float(ops.convert_to_numpy(models.update("generator", g_loss)))
    assert np.isfinite(loss) and abs(loss - expected) < 0.2 * expected
    assert all(moved(g_weights, snapshot(G, True))), "every weight of G takes Adam's first step"
    assert not any(moved(d_weights, snapshot(D, True))), "D's weights must not move"
    assert any(moved(d_state, snapshot(D, False))), "D's BatchNorm statistics, from G's loss"
    assert all(moved(g_state, snapshot(G, False))), "G's statistics and its dropout's seed state"

    g_weights = snapshot(G, True)
    fake = ops.stop_gradient(G(x, training=True))
    models.update(
        "discriminator",
        lambda: discriminator_loss(D([x, y], training=True), D([x, fake], training=True))[0],
    )
    assert all(moved(d_weights, snapshot(D, True))) and not any(moved(g_weights, snapshot(G, True)))
    with pytest.raises(ValueError, match="name one of generator, discriminator"):
        models.update("critic", g_loss)


@once
def test_the_handout_command_writes_the_student_copies(tmp_path):
    assert handout.main([*map(str, SOLUTIONS), "--out", str(tmp_path)]) == 0
    for solution in SOLUTIONS:
        assert load(tmp_path / solution.name) == load(STUDENT / solution.name)


def test_the_handout_refuses_markers_it_cannot_take_out(tmp_path):
    def notebook(source, solution=True):
        metadata = {"nbgrader": {"solution": solution}}
        return {
            "cells": [
                {
                    "cell_type": "code",
                    "metadata": metadata,
                    "source": source,
                    "outputs": [],
                    "execution_count": 1,
                }
            ]
        }

    copy = handout.student_copy(
        notebook("def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n")
    )
    assert (
        "".join(copy["cells"][0]["source"])
        == "def f():\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"
    )
    for source, solution, message in [
        ("### BEGIN SOLUTION\nx = 1\n", True, "never closed"),
        ("x = 1\n### END SOLUTION\n", True, "without ### BEGIN SOLUTION"),
        ("### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n", False, "is not a solution cell"),
    ]:
        with pytest.raises(handout.HandoutError, match=message):
            handout.student_copy(notebook(source, solution))
    bad = tmp_path / "bad.ipynb"
    bad.write_text(json.dumps(notebook("### BEGIN SOLUTION\n", True)))
    assert handout.main([str(bad), "--out", str(tmp_path / "out")]) == 1


def test_the_planted_jitter_fails_for_its_bug_on_every_backend():
    """DAT-2 FAILs for the two crop windows, not for an error of the backend (a
    negative-step slice, which torch refuses, once made it FAIL for the wrong reason)."""
    import pix2pix_spec

    (row,) = pix2pix_spec.check(planted.Planted(), only=["DAT-2"], quiet=True)
    assert row["verdict"] == "FAIL" and "cropped or mirrored independently" in row["detail"], row
