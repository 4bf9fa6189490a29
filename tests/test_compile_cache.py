"""The command-line programs keep JAX's compilations on disk for the next process."""

import os
import pathlib
import subprocess
import sys

import keras
import pytest

from pix2pix_k3 import build_pix2pix, compile_cache

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_the_cache_folder_follows_the_variable_then_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("PIX2PIX_K3_COMPILATION_CACHE", str(tmp_path / "here"))
    assert compile_cache.folder() == tmp_path / "here"
    monkeypatch.setenv("PIX2PIX_K3_COMPILATION_CACHE", "off")
    assert compile_cache.folder() is None
    assert compile_cache.enable() is None
    monkeypatch.delenv("PIX2PIX_K3_COMPILATION_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert compile_cache.folder() == tmp_path / "xdg" / "pix2pix_k3" / "jax"


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="only JAX compiles this way")
def test_jax_s_own_cache_setting_is_left_to_rule(monkeypatch, tmp_path):
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", str(tmp_path / "jax's"))
    assert compile_cache.enable() == tmp_path / "jax's"


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="only JAX compiles this way")
def test_a_program_on_jax_writes_its_compilations_to_the_cache(tmp_path):
    model, image, cache = tmp_path / "model.keras", tmp_path / "in.png", tmp_path / "cache"
    pix2pix = build_pix2pix(32, ngf=4, ndf=4, receptive_field=16)
    pix2pix.compile()
    pix2pix.save(model)
    keras.utils.save_img(image, keras.ops.zeros((32, 32, 3)))
    env = {key: value for key, value in os.environ.items() if not key.startswith("JAX_")}
    env.update(KERAS_BACKEND="jax", PYTHONPATH=str(ROOT), PIX2PIX_K3_COMPILATION_CACHE=str(cache))
    command = ["-m", "pix2pix_k3.translate", str(model), str(image), "--out", str(tmp_path / "o")]
    done = subprocess.run([sys.executable, *command], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert any(path.name.endswith("-cache") for path in cache.iterdir())
