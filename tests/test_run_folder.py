"""The run folder's commits, the learning-rate schedule and the NaN guard, in isolation."""

import json
import os

import numpy as np
import pytest
from helpers import to_numpy
from hypothesis import given
from hypothesis import strategies as st

from pix2pix_k3 import build_pix2pix, callbacks, report
from pix2pix_k3.callbacks import StopOnNaN, linear_decay
from pix2pix_k3.config import RunConfig
from pix2pix_k3.files import RunError, replace_atomically
from pix2pix_k3.run import RunFolder


@given(epochs=st.integers(0, 300), decay=st.integers(0, 300), epoch=st.integers(0, 700))
def test_linear_decay_is_the_reference_rule(epochs, decay, epoch):
    rate = linear_decay(epochs, decay, 2e-4)(epoch)
    expected = 2e-4 * (1 - max(0, epoch + 1 - epochs) / (decay + 1))
    assert rate == pytest.approx(expected)
    if epoch < epochs:
        assert rate == 2e-4


def test_linear_decay_for_the_facades_recipe():
    schedule = linear_decay(100, 100, 2e-4)
    assert [schedule(e) for e in (0, 99)] == [2e-4, 2e-4]
    assert schedule(100) == pytest.approx(2e-4 * 100 / 101)
    assert schedule(199) == pytest.approx(2e-4 / 101)  # the last epoch, never exactly 0


def test_stop_on_nan_watches_every_logged_value():
    class Model:
        stop_training = False

    guard = StopOnNaN()
    guard.set_model(Model())
    guard.on_epoch_begin(4)
    guard.on_train_batch_end(0, {"g_loss": 1.0, "d_loss": 0.5})
    assert guard.where is None and not guard.model.stop_training
    guard.on_train_batch_end(6, {"g_loss": 1.0, "d_loss": float("inf"), "g_l1": float("nan")})
    assert guard.where == (5, 7, ["d_loss", "g_l1"]) and guard.model.stop_training


def test_a_failed_write_leaves_neither_a_partial_file_nor_a_changed_target(tmp_path):
    target = tmp_path / "latest.json"
    target.write_text("old")

    def crash(path):
        path.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        replace_atomically(target, crash)
    assert target.read_text() == "old" and sorted(tmp_path.iterdir()) == [target]


def test_commits_keep_periodic_checkpoints_and_drop_the_others(tmp_path):
    run = RunFolder(tmp_path / "run")
    run.prepare()
    model = build_pix2pix(32, ngf=4, ndf=4, receptive_field=16)
    model.compile()
    for epoch, keep in [(1, False), (2, True), (3, False), (4, False)]:
        run.ledger.commit(model, epoch, keep=keep)
    names = sorted(path.name for path in run.checkpoints.iterdir())
    assert names == [
        "epoch_002.keras", "epoch_004.keras", "latest.keras", "rng_002.npz", "rng_004.npz",
        "state.json",
    ]  # fmt: skip
    assert run.ledger.committed_epoch() == 4
    state = json.loads((run.checkpoints / "state.json").read_text())
    assert state["checkpoint"] == "epoch_004.keras"
    restored, epochs = run.ledger.restore()
    assert epochs == 4
    for a, b in zip(model.weights, restored.weights, strict=True):
        np.testing.assert_array_equal(to_numpy(a), to_numpy(b))


@pytest.mark.parametrize(
    ("state", "message"),
    [
        (None, "state.json is missing, yet latest.keras is there: an epoch was committed"),
        ("{torn", "state.json is damaged .Expecting property name"),
        ('{"epochs": 4}', "state.json is damaged .no checkpoint, rng, kept, backend."),
        ("[4]", "state.json is damaged .not a JSON object."),
        (
            '{"format": 2, "epochs": 4, "checkpoint": "epoch_004.keras", "rng": "rng_004.npz", '
            '"kept": [2], "backend": "jax"}',
            "state.json is of format 2, newer than this pix2pix_k3 reads .up to 1.; upgrade",
        ),
    ],
)
def test_a_ledger_without_a_readable_commit_is_refused_and_nothing_removed(
    tmp_path, state, message
):
    """A run folder that cannot be read as a run is refused, never emptied (issue 33)."""
    run = RunFolder(tmp_path / "run")
    run.prepare()
    model = build_pix2pix(32, ngf=4, ndf=4, receptive_field=16)
    model.compile()
    for epoch, keep in [(2, True), (4, False)]:
        run.ledger.commit(model, epoch, keep=keep)
    run.unlock()
    committed = run.checkpoints / "state.json"
    committed.unlink() if state is None else committed.write_text(state)
    before = sorted(run.checkpoints.iterdir())
    with pytest.raises(RunError, match=message):
        RunFolder(run.path).prepare(resume=True)
    assert sorted(run.checkpoints.iterdir()) == before


def test_what_a_first_commit_killed_before_its_state_leaves_is_removed(tmp_path):
    """Files of epoch 1 without state.json and latest.keras: no commit kept them."""
    run = RunFolder(tmp_path / "run")
    run.prepare()
    run.unlock()
    for name in ("epoch_001.keras", "rng_001.npz"):
        (run.checkpoints / name).write_text("half of a first commit")
    RunFolder(run.path).prepare(resume=True)
    assert list(run.checkpoints.iterdir()) == []


def test_history_rows_past_the_committed_epoch_are_dropped(tmp_path):
    run = RunFolder(tmp_path)
    run.history_file.write_text("epoch,g_l1\n1,0.5\n2,0.4\n3,0.3\n")
    run.ledger.trim_history(2)
    assert run.history_file.read_text() == "epoch,g_l1\n1,0.5\n2,0.4\n"


@pytest.mark.parametrize("text", ["", "epoch,g_l1\n"])
def test_an_empty_or_header_only_history_is_left_for_the_next_epoch(tmp_path, text):
    run = RunFolder(tmp_path)
    run.history_file.write_text(text)
    run.ledger.trim_history(0)
    assert run.history_file.read_text() == text


def test_torn_history_rows_and_headers_from_a_kill_are_dropped(tmp_path):
    run = RunFolder(tmp_path)
    run.history_file.write_text("epoch,g_l1\n1,0.5\n2,0.4\n3")  # killed while writing epoch 3
    run.ledger.trim_history(2)
    assert run.history_file.read_text() == "epoch,g_l1\n1,0.5\n2,0.4\n"
    run.history_file.write_text("epoch,g_")
    run.ledger.trim_history(0)
    assert not run.history_file.exists()  # CSVLogger writes the header again


def test_a_second_holder_is_refused_until_the_first_lets_go(tmp_path):
    first, second = RunFolder(tmp_path / "run"), RunFolder(tmp_path / "run")
    first.prepare()
    first.save_config(RunConfig())
    with pytest.raises(RunError, match=rf"^--out \S+ is in use by fit \(pid {os.getpid()} on "):
        second.prepare(resume=True)
    with pytest.raises(RunError, match="is in use by fit"):
        second.check_new()
    first.unlock()
    second.prepare(resume=True)


def test_a_folder_filled_between_the_check_and_the_lock_is_refused(tmp_path):
    run = RunFolder(tmp_path / "run")
    run.check_new()
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.json").write_text("{}")  # another fit, quicker
    with pytest.raises(RunError, match="is not empty. Pass --resume"):
        run.prepare()


def estimate_on_a_clock(monkeypatch, times, steps, epochs, steps_per_epoch):
    """A TimeEstimate reading `times` as its clock, at the start of epoch 1, and what it shows."""
    clock = iter(times)
    monkeypatch.setattr(callbacks.time, "perf_counter", lambda: next(clock))
    shown = []
    estimate = callbacks.TimeEstimate(steps=steps, show=shown.append)
    estimate.set_params({"epochs": epochs, "steps": steps_per_epoch})
    estimate.on_epoch_begin(0)
    return estimate, shown


def test_the_time_estimate_counts_the_steps_left_after_the_first(monkeypatch):
    # the first step (compiling) starts the clock
    estimate, shown = estimate_on_a_clock(monkeypatch, [100.0, 102.0, 104.0, 106.0], 3, 200, 400)
    for batch in range(6):
        estimate.on_train_batch_end(batch)
    left = 200 * 400 - 4
    assert shown == [
        f"about 44 h 27 min to go: 2.00 s a step, {left} steps left (validation and "
        "checkpoints not counted; the first epoch also compiles them)"
    ]


def test_a_second_estimate_times_a_whole_epoch_after_the_compiling_first(monkeypatch):
    """A small run said "about 1 s to go", then its first epoch took 113 s compiling."""
    # steps, then the ends of epochs 1-3
    estimate, shown = estimate_on_a_clock(
        monkeypatch, [0.0, 1.0, 2.0, 113.0, 120.0, 127.0], 2, 5, 3
    )
    for batch in range(3):
        estimate.on_train_batch_end(batch)
    for epoch in range(3):
        estimate.on_epoch_end(epoch)
    assert len(shown) == 2 and shown[0].startswith("about 12 s to go: 1.00 s a step")
    assert (
        shown[1]
        == "about 21 s to go: epoch 2 took 7 s with validation and checkpoint, 3 epochs left"
    )


@pytest.mark.parametrize(
    ("seconds", "said"),
    [(40.2, "40 s"), (719, "12 min"), (3600, "1 h 00 min"), (179400, "49 h 50 min")],
)
def test_durations_read_as_a_person_says_them(seconds, said):
    assert callbacks.duration(seconds) == said


def test_a_running_run_s_page_reloads_itself_and_a_finished_one_links_its_generator(tmp_path):
    run = RunFolder(tmp_path / "run")
    run.prepare()
    config = RunConfig(epochs=2)
    refresh = '<meta http-equiv="refresh" content="60">'
    report.write_run_index(run, config, 1)
    assert refresh in run.index_file.read_text()
    assert 'href="generator.keras"' not in run.index_file.read_text()
    report.write_run_index(run, config, 2)
    page = run.index_file.read_text()
    assert refresh not in page and "2 of 2 epochs done. " in page
    assert 'Trained generator: <a href="generator.keras">generator.keras</a>' in page


def test_the_paper_s_full_size_on_a_cpu_is_announced_with_a_rough_duration():
    from pix2pix_k3.callbacks import cpu_note

    facades = RunConfig.from_args({"preset": "facades"})
    steps = 200 * 400  # 200 epochs of facades' 400 pairs at batch 1
    note = cpu_note(facades, steps, on_accelerator=False)
    assert "256 px is the paper's full size" in note and "roughly 44 h 27 min" in note
    assert cpu_note(facades, steps, on_accelerator=True) is None
    assert cpu_note(RunConfig(), 640, on_accelerator=False) is None  # the 64 px default
    batch_4_at_512 = RunConfig(image_size=512, batch_size=4)
    assert "roughly 9 min" in cpu_note(batch_4_at_512, 17, on_accelerator=False)  # 17*4*2*4 s
