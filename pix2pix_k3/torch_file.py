"""Read a PyTorch state dict (a `.pth` file of named tensors) without PyTorch.

`torch.save` writes one of two layouts, and the authors' pretrained models exist in both:
a zip archive (PyTorch 1.6 and later) holding `data.pkl` and one record per storage, or
the older "legacy" stream: four pickles (magic number, protocol, system information, the
object) followed by the storages' raw bytes, each after its element count.

Either way the object is a pickle whose tensors refer to storages by key. Unpickling runs
whatever callables a file names, so this reader allows only the few a state dict uses (an
ordered dict, the tensor rebuild functions, the storage types) and refuses anything else,
as `torch.load(weights_only=True)` does.
"""

import io
import pickle
import struct
import zipfile

import numpy as np

LEGACY_MAGIC = 0x1950A86A20F9469CFC6C

# torch's storage types, by the name a pickle gives them, as NumPy dtypes.
STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "BFloat16Storage": np.uint16,  # NumPy has no bfloat16: read the bits, widened below
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class TorchFileError(ValueError):
    """A file that is not a state dict this reader can take, with the reason."""


class Storage:
    """A storage's dtype and element count; its values arrive once they are read."""

    def __init__(self, type_name, count):
        self.dtype = np.dtype(STORAGE_DTYPES[type_name])
        self.bfloat16 = type_name == "BFloat16Storage"
        self.count = int(count)
        self.values = None


class Tensor:
    """A tensor as the pickle describes it: a strided view of a storage."""

    def __init__(self, storage, offset, size, stride, *_):
        self.storage, self.offset = storage, int(offset)
        self.size, self.stride = tuple(size), tuple(stride)

    def array(self):
        values = self.storage.values
        if 0 in self.size:
            return np.empty(self.size, np.float32 if self.storage.bfloat16 else values.dtype)
        # as_strided reads wherever the strides point: a file must not point past its data.
        last = self.offset + sum(
            (n - 1) * step for n, step in zip(self.size, self.stride, strict=True)
        )
        if self.offset < 0 or min(self.stride, default=0) < 0 or last >= len(values):
            raise TorchFileError(f"a tensor of size {self.size} reaches past its storage")
        if len(self.size) == 0:
            array = np.array(values[self.offset])
        else:
            array = np.lib.stride_tricks.as_strided(
                values[self.offset :],
                shape=self.size,
                strides=[step * values.itemsize for step in self.stride],
            ).copy()
        if self.storage.bfloat16:
            array = (array.astype(np.uint32) << 16).view(np.float32)
        return array


class OrderedDict(dict):
    """What a state dict is pickled as; it carries `_metadata` (module versions)."""


def _rebuild_parameter(data, *_):
    return data


ALLOWED = {
    ("collections", "OrderedDict"): OrderedDict,
    ("torch._utils", "_rebuild_tensor"): Tensor,
    ("torch._utils", "_rebuild_tensor_v2"): Tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
}


class StorageType:
    def __init__(self, name):
        self.name = name


class _Unpickler(pickle.Unpickler):
    """Builds `Tensor`s and `Storage`s; `storage_bytes(key)` gives a storage's bytes, or
    None where they come after the pickle (the legacy layout)."""

    def __init__(self, stream, storage_bytes):
        super().__init__(stream, encoding="latin1")
        self.storage_bytes = storage_bytes
        self.storages = {}

    def find_class(self, module, name):
        if (module, name) in ALLOWED:
            return ALLOWED[(module, name)]
        if module == "torch" and name in STORAGE_DTYPES:
            return StorageType(name)
        raise TorchFileError(
            f"it names {module}.{name}, which a state dict of tensors does not; it is not "
            "loaded, since unpickling it would run code from the file"
        )

    def persistent_load(self, saved_id):
        kind, storage_type, key, _location, count, *view = saved_id
        if kind != "storage" or not isinstance(storage_type, StorageType) or any(view):
            raise TorchFileError(f"unknown persistent reference {saved_id!r}")
        key = str(key)
        if key not in self.storages:
            storage = Storage(storage_type.name, count)
            data = self.storage_bytes(key)
            if data is not None:
                storage.values = np.frombuffer(data, storage.dtype, count)
            self.storages[key] = storage
        return self.storages[key]


def read_state_dict(path):
    """{name: NumPy array} of the tensors in the PyTorch file `path`.

    Raises a `TorchFileError` naming the file and what is wrong with it.
    """
    try:
        if zipfile.is_zipfile(path):
            objects = _read_zip(path)
        else:
            objects = _read_legacy(path)
        tensors = isinstance(objects, dict) and all(
            isinstance(value, Tensor) for value in objects.values()
        )
        arrays = {name: tensor.array() for name, tensor in objects.items()} if tensors else None
    except (pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError, struct.error,
            zipfile.BadZipFile) as error:  # fmt: skip
        raise TorchFileError(f"{path}: not a PyTorch state dict this can read ({error}).") from None
    if arrays is None:
        raise TorchFileError(
            f"{path}: holds a {type(objects).__name__}, not a state dict of tensors (a whole "
            "pickled model or a training checkpoint?). Save `net.state_dict()` instead."
        )
    return arrays


def _read_zip(path):
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        pickles = [name for name in names if name.endswith("/data.pkl") or name == "data.pkl"]
        if len(pickles) != 1:
            raise TorchFileError("a zip archive without one data.pkl, not written by torch.save")
        folder = pickles[0][: -len("data.pkl")]
        byteorder = folder + "byteorder"
        if byteorder in names and archive.read(byteorder).strip() != b"little":
            raise TorchFileError("written on a big-endian machine")

        def storage_bytes(key):
            return archive.read(f"{folder}data/{key}")

        unpickler = _Unpickler(io.BytesIO(archive.read(pickles[0])), storage_bytes)
        return unpickler.load()


def _read_legacy(path):
    with open(path, "rb") as stream:
        if _load_plain(stream) != LEGACY_MAGIC:
            raise TorchFileError("neither a zip archive nor torch's legacy format")
        _load_plain(stream)  # the protocol version
        system = _load_plain(stream)
        if isinstance(system, dict) and not system.get("little_endian", True):
            raise TorchFileError("written on a big-endian machine")
        unpickler = _Unpickler(stream, lambda key: None)
        objects = unpickler.load()
        for key in _load_plain(stream):
            storage = unpickler.storages[str(key)]
            (count,) = struct.unpack("<q", stream.read(8))
            data = stream.read(count * storage.dtype.itemsize)
            if count != storage.count or len(data) != count * storage.dtype.itemsize:
                raise TorchFileError(f"storage {key} is cut short (a truncated file?)")
            storage.values = np.frombuffer(data, storage.dtype, count)
        return objects


def _load_plain(stream):
    """One pickle of plain values (numbers, strings, dicts, lists): no callables."""
    return _Unpickler(stream, lambda key: None).load()
