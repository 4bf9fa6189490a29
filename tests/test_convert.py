"""The authors' PyTorch generators, converted: their files read without PyTorch, their
U-Net computing what their code computes, by name from a (local) server, and refusals.

PyTorch writes the files here (`torch.save`, both of its layouts); the comparisons build
the generator with the authors' own code (`../shared/peers/junyanz.py`) and skip where
that is absent. The conversion itself never imports torch.
"""

import importlib.util
import io
import os
import pathlib
import pickle
import subprocess
import sys
import zipfile

import keras
import numpy as np
import pytest
from helpers import once, trainable_count
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from spec_runs import PEERS, TORCHVISION_FILES

from pix2pix_k3.convert import ConvertError, convert, download
from pix2pix_k3.data import DataError, read_image, to_model_range
from pix2pix_k3.data.images import split_side_by_side
from pix2pix_k3.torch_file import TorchFileError, read_state_dict

torch = pytest.importorskip("torch", reason="torch writes the state dicts these tests read")

ROOT = pathlib.Path(__file__).resolve().parents[1]
FACADES_TEST = ROOT.parent / "shared" / "data" / "facades" / "test"
TOLERANCE = 1e-5  # outputs in [-1, 1]; float32 convolutions summed in other orders

needs_peers = pytest.mark.skipif(
    not PEERS.is_dir(), reason=f"the authors' code is not here ({PEERS} is absent)"
)


def junyanz():
    if not (TORCHVISION_FILES / "torchvision").is_dir():  # their file imports its transforms
        pytest.skip(f"torchvision's transforms are not unpacked in {TORCHVISION_FILES}")
    os.environ.setdefault("TORCHVISION_FILES", str(TORCHVISION_FILES))
    sys.path.insert(0, str(PEERS))
    import junyanz as module

    return module


def authors_generator(netG="unet_256", norm="batch", ngf=64, channels=(3, 3), dropout=True):
    """Their generator as their define_G builds it, with running statistics that are not
    the initial 0 and 1 (a few training-mode passes), in eval mode."""
    torch.manual_seed(0)
    net = junyanz().define_G(*channels, ngf, netG, norm, dropout, "normal", 0.02, [])
    size = 256 if netG == "unet_256" else 128
    net.train()
    with torch.no_grad():
        for _ in range(3):
            net(torch.rand(2, channels[0], size, size) * 2 - 1)
    return net.eval()


def their_outputs(net, images, training=False):
    net.train(training)
    with torch.no_grad():
        out = net(torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2))))
    return out.numpy().transpose(0, 2, 3, 1)


def saved(net, path, legacy=False):
    torch.save(net.state_dict(), path, _use_new_zipfile_serialization=not legacy)
    return path


def facade_labels(count):
    """The label halves (their facades_label2photo's inputs, B) of real test pairs."""
    if not FACADES_TEST.is_dir():
        pytest.skip(f"the facades pairs are not here ({FACADES_TEST} is absent)")
    files = sorted(FACADES_TEST.glob("*.jpg"))[:count]
    halves = [split_side_by_side(read_image(path), path, "BtoA")[0] for path in files]
    return np.stack([to_model_range(half) for half in halves])


# --- reading state dicts without torch --------------------------------------------------

tensors = st.builds(
    lambda shape, dtype, seed, view: (shape, dtype, seed, view),
    st.lists(st.integers(0, 4), min_size=0, max_size=4),
    st.sampled_from(["float32", "float64", "float16", "bfloat16", "int64", "uint8"]),
    st.integers(0, 2**16),
    st.sampled_from(["whole", "transposed", "slice"]),
)


def make_tensor(shape, dtype, seed, view):
    values = torch.from_numpy(np.asarray(np.random.default_rng(seed).normal(size=shape) * 50))
    tensor = values.to(getattr(torch, dtype))
    if view == "transposed" and tensor.ndim >= 2:
        tensor = tensor.transpose(0, 1)  # strides that are not row-major
    if view == "slice" and tensor.ndim >= 1 and tensor.shape[-1] > 1:
        tensor = tensor[..., 1:]  # an offset into a storage shared with others
    return tensor


@once
@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(st.dictionaries(st.text("abc.", min_size=1, max_size=6), tensors, max_size=5),
       st.booleans())  # fmt: skip
def test_any_state_dict_reads_back_as_torch_wrote_it(tmp_path, specs, legacy):
    state = {name: make_tensor(*spec) for name, spec in specs.items()}
    if state:  # a tensor sharing another's storage, as a state dict's views do
        first = next(iter(state.values()))
        state["shared"] = first.reshape(-1)[: max(first.numel() // 2, 1)]
    path = tmp_path / "state.pth"
    torch.save(state, path, _use_new_zipfile_serialization=not legacy)
    read = read_state_dict(path)
    assert list(read) == list(state)
    for name, tensor in state.items():
        expected = tensor.float() if tensor.dtype == torch.bfloat16 else tensor
        np.testing.assert_array_equal(read[name], expected.numpy(), err_msg=name)
        assert read[name].shape == tuple(tensor.shape)


@once
def test_a_file_naming_code_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "ran"
    payload = f"cos\nsystem\n(S'touch {marker}'\ntR.".encode()
    path = tmp_path / "evil.pth"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("evil/data.pkl", payload)
    with pytest.raises(TorchFileError, match=r"evil.pth: .*names (os|posix)\.system"):
        read_state_dict(path)
    assert not marker.exists()


@once
def test_a_tensor_pointing_past_its_storage_is_refused(tmp_path):
    """The shapes and strides come from the file; read as they say, a crafted file would
    make NumPy read memory that is not the tensor's."""

    class Placeholder:
        pass

    storage = Placeholder()

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            return ("storage", torch.FloatStorage, "0", "cpu", 2) if obj is storage else None

    class Reaching:
        def __reduce__(self):
            return torch._utils._rebuild_tensor_v2, (storage, 0, (1000,), (1,), False, {})

    buffer = io.BytesIO()
    Pickler(buffer, protocol=2).dump({"w": Reaching()})
    path = tmp_path / "crafted.pth"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("crafted/data.pkl", buffer.getvalue())
        archive.writestr("crafted/data/0", np.zeros(2, np.float32).tobytes())
    with pytest.raises(TorchFileError, match=r"crafted.pth: .*size \(1000,\) reaches past"):
        read_state_dict(path)


@once
def test_files_that_are_not_state_dicts_are_named_with_the_reason(tmp_path):
    whole_module = tmp_path / "module.pth"
    torch.save(torch.nn.Linear(2, 2), whole_module)
    with pytest.raises(TorchFileError, match="module.pth: .*torch.nn.modules.linear.Linear"):
        read_state_dict(whole_module)
    text = tmp_path / "notes.pth"
    text.write_text("not a model")
    with pytest.raises(TorchFileError, match="notes.pth: not a PyTorch state dict"):
        read_state_dict(text)
    checkpoint = tmp_path / "checkpoint.pth"
    torch.save({"epoch": 3, "state": {"w": torch.ones(2)}}, checkpoint)
    with pytest.raises(TorchFileError, match="holds a OrderedDict|not a state dict of tensors"):
        read_state_dict(checkpoint)
    legacy = saved(torch.nn.Conv2d(1, 1, 1), tmp_path / "legacy.pth", legacy=True)
    legacy.write_bytes(legacy.read_bytes()[:-3])
    with pytest.raises(TorchFileError, match="legacy.pth: .*cut short"):
        read_state_dict(legacy)
    archive = saved(torch.nn.Conv2d(8, 8, 3), tmp_path / "archive.pth")
    size = archive.stat().st_size
    for cut in (size // 3, size - 300):  # into a storage record, into the zip's directory
        archive.write_bytes(saved(torch.nn.Conv2d(8, 8, 3), archive).read_bytes()[:cut])
        with pytest.raises(TorchFileError, match="archive.pth: not a PyTorch state dict"):
            read_state_dict(archive)


# --- the converted U-Net computes what theirs computes ----------------------------------


@needs_peers
def test_their_unet_256_converted_computes_their_outputs_on_random_and_real_inputs(tmp_path):
    net = authors_generator()
    model = convert(saved(net, tmp_path / "latest_net_G.pth"))
    assert trainable_count(model) == sum(p.numel() for p in net.parameters()) == 54_413_955
    random = np.random.default_rng(1).uniform(-1, 1, (2, 256, 256, 3)).astype("float32")
    for images in (random, facade_labels(2)):
        difference = np.abs(model.predict_on_batch(images) - their_outputs(net, images)).max()
        assert difference < TOLERANCE


@needs_peers
@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
def test_other_shapes_norms_and_both_file_layouts_convert_exactly(tmp_path, legacy):
    """unet_128, another width, 1 -> 2 channels, instance norm: all read from the file."""
    net = authors_generator("unet_128", "instance", ngf=8, channels=(1, 2))
    model = convert(saved(net, tmp_path / "g.pth", legacy))
    assert model.input_shape == (None, 128, 128, 1) and model.output_shape[-1] == 2
    images = np.random.default_rng(2).uniform(-1, 1, (2, 128, 128, 1)).astype("float32")
    assert np.abs(model.predict_on_batch(images) - their_outputs(net, images)).max() < TOLERANCE


@needs_peers
def test_in_training_mode_the_batch_statistics_match_theirs(tmp_path):
    """Their test.py's default (no --eval): BatchNorm on the test batch's statistics. With
    dropout off on both sides the outputs are deterministic and must agree."""
    net = authors_generator("unet_128", ngf=8, dropout=False)
    model = convert(saved(net, tmp_path / "g.pth"), dropout=0.0)
    images = np.random.default_rng(3).uniform(-1, 1, (3, 128, 128, 3)).astype("float32")
    ours = keras.ops.convert_to_numpy(model(images, training=True))
    assert np.abs(ours - their_outputs(net, images, training=True)).max() < TOLERANCE


@needs_peers
def test_dropout_sits_where_theirs_does_on_decoder_layers_2_to_4(tmp_path):
    model = convert(saved(authors_generator(), tmp_path / "g.pth"))
    with_dropout = [layer.name for layer in model.layers if getattr(layer, "dropout", 0)]
    assert with_dropout == ["decoder2_CD512", "decoder3_CD512", "decoder4_CD512"]


@needs_peers
def test_a_larger_image_size_runs_their_fully_convolutional_network(tmp_path):
    net = authors_generator("unet_128", ngf=8)
    model = convert(saved(net, tmp_path / "g.pth"), image_size=(128, 256))
    images = np.random.default_rng(4).uniform(-1, 1, (1, 128, 256, 3)).astype("float32")
    assert np.abs(model.predict_on_batch(images) - their_outputs(net, images)).max() < TOLERANCE
    with pytest.raises(ValueError, match="multiple of 2\\*\\*7 = 128"):
        convert(tmp_path / "g.pth", image_size=200)


@needs_peers
def test_what_is_not_their_unet_generator_is_refused_by_what_it_is(tmp_path):
    discriminator = junyanz().define_D(6, 64, "basic", 3, "batch", "normal", 0.02, [])
    with pytest.raises(ConvertError, match="d.pth: not a U-Net generator: a discriminator"):
        convert(saved(discriminator, tmp_path / "d.pth"))
    net = authors_generator("unet_128", ngf=8)
    state = net.state_dict()
    state["extra.weight"] = torch.ones(1)
    torch.save(state, tmp_path / "extra.pth")
    with pytest.raises(ConvertError, match="extra.pth: .*unexpected extra.weight"):
        convert(tmp_path / "extra.pth")


# --- by name, and from the command line -------------------------------------------------


@pytest.fixture
def server(tmp_path):
    """A folder standing in for the authors' models-pytorch folder, as a file:// URL."""
    served = tmp_path / "served"
    served.mkdir()
    net = junyanz().define_G(3, 3, 8, "unet_128", "batch", True, "normal", 0.02, [])
    torch.save(net.state_dict(), served / "facades_label2photo.pth")
    return served


@needs_peers
def test_a_named_model_is_downloaded_once_into_the_cache(server, tmp_path):
    cache = tmp_path / "cache"
    path = download("facades_label2photo", server.as_uri(), cache_dir=str(cache))
    assert path.is_file() and cache in path.parents
    (server / "facades_label2photo.pth").unlink()  # the server goes away; the cache answers
    assert download("facades_label2photo", server.as_uri(), cache_dir=str(cache)) == path
    with pytest.raises(ConvertError, match="no pretrained generator named 'faces'.*sat2map"):
        download("faces")
    with pytest.raises(DataError, match="could not download sat2map.pth .* offline"):
        download("sat2map", "http://127.0.0.1:9", cache_dir=str(cache))


def run_program(module, *args, cwd, env=None):
    return subprocess.run([sys.executable, "-m", f"pix2pix_k3.{module}", *map(str, args)],
                          cwd=cwd, capture_output=True, text=True, timeout=300,
                          env=env)  # fmt: skip


@needs_peers
def test_convert_then_translate_from_the_command_line(server, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    done = run_program("convert", "facades_label2photo", "--base-url", server.as_uri(),
                       cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "wrote facades_label2photo.keras: the authors' U-Net" in done.stdout
    assert "--direction BtoA" in done.stdout
    image = tmp_path / "label.png"
    keras.utils.save_img(image, np.zeros((100, 120, 3), np.uint8))
    done = run_program("translate", "facades_label2photo.keras", image, "--out", "out",
                       cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert keras.utils.load_img(tmp_path / "out" / "label.png").size == (120, 100)


@once
def test_the_command_line_refuses_in_one_line(tmp_path):
    for args, message in [
        (["missing.pth"], "error: missing.pth: no such file, and not a pretrained name"),
        (["notes.txt"], "error: notes.txt: not a PyTorch state dict"),
        (["notes.txt", "--out", "model.h5"], "error: --out model.h5: a Keras model file's name"),
    ]:
        (tmp_path / "notes.txt").write_text("hello")
        done = run_program("convert", *args, cwd=tmp_path)
        assert done.returncode == 1 and message in done.stderr, done.stderr
        assert "Traceback" not in done.stderr


@once
@needs_peers
def test_converting_needs_no_torch(tmp_path):
    """The conversion in a process where torch cannot be imported."""
    path = saved(authors_generator("unet_128", ngf=8), tmp_path / "g.pth")
    backend = next(name for name in ("jax", "tensorflow") if importlib.util.find_spec(name))
    script = (
        "import sys; sys.modules['torch'] = None\n"
        "from pix2pix_k3.convert import convert\n"
        f"print(convert({str(path)!r}).count_params())"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "KERAS_BACKEND": backend})  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.split()[-1]) > 0
