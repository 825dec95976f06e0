"""Reading files written by `torch.save`, without PyTorch and without ever running their code.

A `torch.save` file is a pickle: in a zip archive (`<name>/data.pkl` beside one raw file per
storage, `<name>/data/<key>`) since PyTorch 1.6, or the legacy stream (magic number, protocol,
system info, the pickle, then every storage's raw bytes). A pickle can name any Python callable
to run at load time, so it is read with a restricted unpickler that resolves only what
`torch.load(weights_only=True)` allows: rebuilding tensors and parameters from storages,
`OrderedDict`, `torch.Size`, dtypes and devices. Any other global, and so any code, is refused
with FileFormatError before anything is built.

Storages become NumPy arrays of their bytes, and each tensor a strided view of its storage,
copied into a chainrule tensor (bfloat16 ones as chainrule.bfloat16, ml_dtypes' bfloat16).
"""

from __future__ import annotations

import collections
import io
import pickle
import zipfile
from collections.abc import Callable
from typing import IO, Any

from chainrule._tensor import Tensor
from chainrule.backend import dtypes, numpy_backend
from chainrule.errors import FileFormatError
from chainrule.nn.parameter import Parameter
from chainrule.ops.creation import tensor

__all__ = ["is_torch_file", "load_torch_file"]

_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C  # the first object of a legacy torch.save stream
_ZIP_MAGIC = b"PK\x03\x04"
_np = numpy_backend.xp

# torch.<Name>Storage -> the NumPy dtype of its elements ("bfloat16" is ml_dtypes').
_STORAGE_DTYPES = {
    "DoubleStorage": "float64",
    "FloatStorage": "float32",
    "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16",
    "LongStorage": "int64",
    "IntStorage": "int32",
    "ShortStorage": "int16",
    "CharStorage": "int8",
    "ByteStorage": "uint8",
    "BoolStorage": "bool",
}
_TORCH_DTYPES = {
    "float64": dtypes.float64,
    "double": dtypes.float64,
    "float32": dtypes.float32,
    "float": dtypes.float32,
    "float16": dtypes.float16,
    "half": dtypes.float16,
    "bfloat16": dtypes.bfloat16,
    "int64": dtypes.int64,
    "long": dtypes.int64,
    "int32": dtypes.int32,
    "int": dtypes.int32,
    "int16": dtypes.int16,
    "short": dtypes.int16,
    "int8": dtypes.int8,
    "uint8": dtypes.uint8,
    "bool": dtypes.bool_,
}


def is_torch_file(data: bytes) -> bool:
    """Whether `data` starts as a torch.save file does (a zip, or the legacy pickle stream)."""
    return data.startswith(_ZIP_MAGIC) or data.startswith(b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46")


class _StorageType:
    """What a pickle's `torch.FloatStorage` (etc.) resolves to: the element dtype."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.dtype = _STORAGE_DTYPES[name]


class _Storage:
    """A storage's elements as a 1-d NumPy array."""

    def __init__(self, raw: bytes, dtype: str, name: str) -> None:
        if len(raw) % _np.dtype(dtype).itemsize:
            raise FileFormatError(f"{name}: a storage of {len(raw)} bytes is truncated")
        if dtype == "bfloat16":  # little-endian 16-bit words, read as ml_dtypes' bfloat16
            words = _np.frombuffer(raw, dtype="<u2").astype("=u2", copy=False)
            self.array = words.view(dtypes.bfloat16.numpy)
        else:
            self.array = _np.frombuffer(raw, dtype=_np.dtype(dtype).newbyteorder("<"))


def _rebuild_tensor(
    storage: _Storage, offset: int, size: tuple, stride: tuple, *rest: Any
) -> Tensor:
    """torch._utils._rebuild_tensor_v2: a strided view of the storage, copied out."""
    requires_grad = bool(rest[0]) if rest else False
    elements = storage.array
    if size and (min(size) > 0):
        last = offset + sum((n - 1) * s for n, s in zip(size, stride))
        if offset < 0 or last >= elements.size or min(stride) < 0:
            raise FileFormatError("a tensor reaches outside its storage")
    item = elements.itemsize
    view = _np.lib.stride_tricks.as_strided(
        elements[offset:], shape=tuple(size), strides=tuple(s * item for s in stride)
    )
    result = tensor(_np.array(view, dtype=elements.dtype.newbyteorder("=")))
    return result.requires_grad_(requires_grad) if result.is_floating_point() else result


def _rebuild_parameter(data: Tensor, requires_grad: bool, *hooks_and_state: Any) -> Parameter:
    return Parameter(data, requires_grad=bool(requires_grad))


def _torch_size(*dims: Any) -> tuple:
    return tuple(dims[0]) if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims


def _torch_device(*args: Any) -> str:
    return ":".join(str(a) for a in args if a is not None)


# What the unpickler may resolve: the weights_only allowlist, mapped to chainrule's builders.
_ALLOWED: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch", "Size"): _torch_size,
    ("torch", "device"): _torch_device,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "slice"): slice,
    ("builtins", "complex"): complex,
}
_ALLOWED.update({("torch", name): _StorageType(name) for name in _STORAGE_DTYPES})
_ALLOWED.update({("torch", name): dtype for name, dtype in _TORCH_DTYPES.items()})


class _RestrictedUnpickler(pickle.Unpickler):
    """Resolves only `_ALLOWED` globals; storages come from `load_storage`. Reads one object
    from `stream` (the legacy format's objects follow one another in one stream)."""

    def __init__(self, stream: IO[bytes], name: str, load_storage: Callable[[tuple], Any]):
        super().__init__(stream)
        self._name = name
        self._load_storage = load_storage

    def find_class(self, module: str, name: str) -> Any:
        found = _ALLOWED.get((module, name))
        if found is None:
            raise FileFormatError(
                f"{self._name}: refusing to load {module}.{name}: a PyTorch checkpoint may hold "
                f"only tensors, numbers, strings and containers (torch.load's weights_only); "
                f"anything else could run code"
            )
        return found

    def persistent_load(self, pid: Any) -> Any:
        if not isinstance(pid, tuple) or not pid or pid[0] != "storage":
            raise FileFormatError(f"{self._name}: unknown persistent id {pid!r:.60}")
        return self._load_storage(pid)


def _read_one(stream: IO[bytes], name: str, load_storage: Callable | None = None) -> Any:
    return _RestrictedUnpickler(stream, name, load_storage or _no_storage(name)).load()


def _no_storage(name: str) -> Callable[[tuple], Any]:
    def refuse(pid: tuple) -> Any:
        raise FileFormatError(f"{name}: a storage where none belongs")

    return refuse


def load_torch_file(data: bytes, name: str) -> Any:
    """The object a torch.save file holds, tensors as chainrule tensors."""
    try:
        if data.startswith(_ZIP_MAGIC):
            return _load_zip(data, name)
        return _load_legacy(data, name)
    except FileFormatError:
        raise
    except (pickle.UnpicklingError, zipfile.BadZipFile, EOFError, KeyError, ValueError) as error:
        raise FileFormatError(f"{name}: corrupted PyTorch checkpoint ({error})") from error


def _storage_key(pid: tuple, name: str) -> tuple[_StorageType, str]:
    storage_type, key = pid[1], str(pid[2])
    if not isinstance(storage_type, _StorageType):
        raise FileFormatError(f"{name}: storage of unknown type {storage_type!r:.60}")
    return storage_type, key


def _load_zip(data: bytes, name: str) -> Any:
    archive = zipfile.ZipFile(io.BytesIO(data))
    pickles = [entry for entry in archive.namelist() if entry.endswith("/data.pkl")]
    if len(pickles) != 1:
        raise FileFormatError(f"{name}: a zip file, but not one torch.save wrote (no data.pkl)")
    root = pickles[0][: -len("data.pkl")]
    byteorder = root + "byteorder"
    if byteorder in archive.namelist() and archive.read(byteorder) != b"little":
        raise FileFormatError(f"{name}: big-endian PyTorch checkpoints are not supported")
    cache: dict[str, _Storage] = {}

    def load_storage(pid: tuple) -> _Storage:
        storage_type, key = _storage_key(pid, name)
        if key not in cache:
            cache[key] = _Storage(archive.read(f"{root}data/{key}"), storage_type.dtype, name)
        return cache[key]

    return _read_one(io.BytesIO(archive.read(pickles[0])), name, load_storage)


def _load_legacy(data: bytes, name: str) -> Any:
    """The pre-1.6 stream: magic, protocol, system info, the object, its storage keys, then
    each storage as an 8-byte element count and its bytes, in the keys' order. The object
    comes before the bytes its tensors view, so it is read twice: first on zero-filled
    storages (to learn their keys and types), then on the real ones."""
    stream = io.BytesIO(data)
    if _read_one(stream, name) != _LEGACY_MAGIC:
        raise FileFormatError(f"{name}: not a safetensors file nor a PyTorch checkpoint")
    _read_one(stream, name)  # protocol version
    _read_one(stream, name)  # system information
    types: dict[str, _StorageType] = {}

    def placeholder(pid: tuple) -> _Storage:
        storage_type, key = _storage_key(pid, name)
        types[key] = storage_type
        count = int(pid[4]) if len(pid) > 4 else 0
        itemsize = _np.dtype(storage_type.dtype).itemsize
        return _Storage(bytes(count * itemsize), storage_type.dtype, name)

    object_start = stream.tell()
    _read_one(stream, name, placeholder)
    storages: dict[str, _Storage] = {}
    for key in _read_one(stream, name):
        key = str(key)
        if key not in types:
            raise FileFormatError(f"{name}: storage {key} is not used by the checkpoint")
        dtype = types[key].dtype
        (count,) = _np.frombuffer(stream.read(8), dtype="<i8")
        itemsize = _np.dtype(dtype).itemsize
        raw = stream.read(int(count) * itemsize)
        if len(raw) != int(count) * itemsize:
            raise FileFormatError(f"{name}: truncated PyTorch checkpoint (storage {key})")
        storages[key] = _Storage(raw, dtype, name)
    stream.seek(object_start)
    return _read_one(stream, name, lambda pid: storages[_storage_key(pid, name)[1]])
