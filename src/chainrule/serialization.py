"""Checkpoints: `chainrule.save` and `chainrule.load`, in the safetensors format.

A checkpoint is a (nested) dict of tensors and plain values, e.g. `{'model': model.state_dict(),
'optimizer': opt.state_dict(), 'epoch': 3}`. Tensors are stored as safetensors entries named by
their path ('optimizer.state.0.exp_avg'); everything else, and the shape of the nesting (lists,
tuples, and dict keys that are ints, tuples, floats, bools or None), is JSON in the file's
metadata, which also records what PyTorch's pickles keep: an OrderedDict (a state_dict) loads as an
OrderedDict, a Parameter as a Parameter, and Size, dtype, device, set, complex and bytes values as
themselves. A namedtuple is stored by its class's name and, as from PyTorch's unpickler, loads as
that class with `weights_only=False` or once `add_safe_globals` allows it (with `weights_only=True`
otherwise, an UnpicklingError). A whole model (`save(model, f)`, as `torch.save(model, f)` pickles
one) is stored the same way: each object by its class's name and its attributes (`__dict__`),
functions and classes by name, and a tensor or object met again as a reference to its first place,
so tied weights and shared submodules stay shared; it loads with `weights_only=False` or its
classes allowlisted. Nothing is pickled, so loading a file runs no code from it (with
`weights_only=False`, the modules of the classes it names are imported, as pickle would), and a
flat dict of tensors is a plain safetensors file that PyTorch reads with
`safetensors.torch.load_file`. bfloat16 tensors are stored as BF16 entries, and BF16 entries load
as chainrule.bfloat16 (the safetensors package's NumPy reader has no BF16, so entries are decoded
here). complex128 tensors, which the format has no entry type for (torch.save stores them), are
stored as float64 entries of (real, imaginary) pairs, shape (..., 2), that the structure marks to
load back as complex128. A tensor that requires grad (a plain tensor being optimised, not a
Parameter) loads as a leaf that requires grad, and a sparse COO tensor loads sparse (its indices
and values are two entries, its size and coalesced flag in the structure; a CSR one its
crow_indices, col_indices and values), as from torch.save.

Files are written atomically: to a temporary file in the same directory, flushed and fsync'ed,
then renamed over the target, so a crash leaves either the old file or the new one.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import pickle
import secrets
import struct
import types
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import IO, TYPE_CHECKING, Any

import safetensors
import safetensors.numpy

from chainrule._tensor import Size, Tensor
from chainrule.backend import device as Device
from chainrule.backend import dtypes, is_numpy_scalar, numpy_backend
from chainrule.errors import DTypeError, FileFormatError
from chainrule.nn.modules.module import Module
from chainrule.nn.parameter import Parameter
from chainrule.ops.complex import view_as_complex
from chainrule.ops.creation import tensor
from chainrule.ops.sparse import SparseCsrTensor, SparseTensor, sparse_csr_tensor
from chainrule.torch_format import is_torch_file, load_torch_file

if TYPE_CHECKING:  # annotations only
    from collections.abc import Callable


__all__ = [
    "FileFormatError",
    "add_safe_globals",
    "clear_safe_globals",
    "get_safe_globals",
    "load",
    "safe_globals",
    "save",
]

_DTYPES_BY_NAME = {d.name: d for d in vars(dtypes).values() if isinstance(d, dtypes.dtype)}
_STRUCTURE_KEY = "chainrule"  # metadata entry holding the object's structure as JSON
# safetensors' dtype names -> the element dtypes (little-endian, as the format stores them).
_ELEMENT_DTYPES = {
    "F64": "<f8",
    "F32": "<f4",
    "F16": "<f2",
    "BF16": dtypes.bfloat16.numpy,
    "I64": "<i8",
    "I32": "<i4",
    "I16": "<i2",
    "I8": "i1",
    "U8": "u1",
    "U16": "<u2",
    "U32": "<u4",
    "U64": "<u8",
    "BOOL": "?",
    "C64": "<c8",
}
_LOADABLE_DTYPES = set(_ELEMENT_DTYPES)


# ---- saving ----------------------------------------------------------------------------------


def save(
    obj: object,
    f: str | os.PathLike | IO[bytes],
    pickle_module: types.ModuleType = pickle,
    pickle_protocol: int = 2,
    _use_new_zipfile_serialization: bool = True,
    _disable_byteorder_record: bool = False,
) -> None:
    """Write `obj` (a tensor, nested dicts/lists/tuples of tensors, numbers, strings, bools
    and None, or a whole model) to the path or binary file object `f`.

    Args:
        obj (object): a Tensor, or nested dicts, lists and tuples of Tensors, numbers,
            strings, bools and None (a `state_dict()`), or an nn.Module (module docstring).
        f (str, path or binary file): where to write. Written atomically: a crash leaves the
            old file, never a half-written one.
        pickle_module (module, optional): torch.save's pickler; accepted and ignored, as are
            the next three (the file is always the one format described above).
        pickle_protocol (int): torch.save's pickle protocol.
        _use_new_zipfile_serialization (bool): torch.save's container (older code passes
            False, for PyTorch < 1.6 readers).
        _disable_byteorder_record (bool): torch.save's byte-order record.

    Example:
        >>> import os, tempfile, chainrule
        >>> from chainrule.serialization import load, save
        >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.safetensors")
        >>> save({"w": chainrule.ones(2), "epoch": 3}, path)
        >>> load(path)
        {'w': tensor([1., 1.]), 'epoch': 3}
    """
    arrays: dict[str, Any] = {}
    structure = _encode(obj, "", arrays, _TensorsOnly())
    metadata = {"format": "pt", _STRUCTURE_KEY: json.dumps(structure)}
    payload = safetensors.numpy.save(arrays, metadata=metadata)
    if hasattr(f, "write"):
        f.write(payload)
        return
    _write_atomically(os.fspath(f), payload)


def _encode_key(key: Any, path: str) -> Any:
    """A dict key as the structure's JSON holds it: a str or int as itself, any other plain
    value (a tuple, float, bool, None: pickle keeps them, so torch.save does) encoded, under
    "key"; a key holding tensors or objects is refused."""
    if isinstance(key, str) or (isinstance(key, int) and not isinstance(key, bool)):
        return key
    held: dict[str, Any] = {}
    try:
        encoded = _encode(key, "", held, _TensorsOnly())
    except TypeError:
        encoded = None
    if encoded is None or held:
        raise TypeError(
            f"save: dict keys must be plain values (str, int, float, bool, None, or tuples of "
            f"them), got {type(key).__name__} {key!r} at {path or 'the top level'}"
        )
    return {"key": encoded}


def _decoded_key(key: Any, tensors: Any, weights_only: bool, refs: dict) -> Any:
    return _decode(key["key"], tensors, weights_only, refs) if isinstance(key, dict) else key


def _join(prefix: str, key: Any) -> str:
    return f"{prefix}.{key}" if prefix else str(key)


class _TensorsOnly(dict):
    """`_encode`'s memo outside a saved object: it remembers tensors only (one tensor saved
    twice loads as one object, as from torch.save), and being one says that plain objects,
    classes and functions are not to be stored."""


def _encode(
    value: Any, path: str, arrays: dict[str, Any], memo: dict[int, str] | None = None
) -> dict[str, Any]:
    """The JSON node describing `value`; its tensors go into `arrays` under their path. What
    `memo` holds (by id: what was already stored, and where) is a reference to its first place
    when met again: tensors everywhere, and inside a saved object its objects too, so tied
    weights stay tied."""
    if memo is not None and id(value) in memo:
        return {"same": memo[id(value)]}
    if isinstance(value, SparseCsrTensor):  # stays CSR: its offsets, columns and values
        key = path or "tensor"
        if memo is not None:
            memo[id(value)] = key
        parts = {"crow": value.crow_indices(), "col": value.col_indices()}
        parts["values"] = value.values().detach()
        nodes = [_encode(part, _join(key, name), arrays) for name, part in parts.items()]
        return {"sparse_csr": [*nodes, list(value.shape)]}
    if isinstance(value, SparseTensor):  # stays sparse: its indices and values, as PyTorch's
        key = path or "tensor"
        if memo is not None:
            memo[id(value)] = key
        indices = _encode(value._indices(), _join(key, "indices"), arrays)
        values = _encode(value._values().detach(), _join(key, "values"), arrays)
        return {"sparse_coo": [indices, values, list(value.shape), value.is_coalesced()]}
    if isinstance(value, Tensor):
        key = path or "tensor"
        if memo is not None:
            memo[id(value)] = key
        if key in arrays:
            raise ValueError(f"save: two entries are both stored under the name {key!r}")
        array = value.detach().cpu().numpy()
        pairs = value.dtype.name == "complex128"  # safetensors has C64 entries but no C128
        if pairs:
            array = numpy_backend.xp.stack([array.real, array.imag], axis=-1)
        arrays[key] = array if array.flags.c_contiguous else array.copy(order="C")
        if isinstance(value, Parameter):  # loads as a Parameter, as from torch.save
            return {"parameter": [key, value.requires_grad, *(["complex128"] if pairs else [])]}
        if value.requires_grad:  # loads as a leaf that requires grad, as from torch.save
            return {"tensor_requiring_grad": [key, *(["complex128"] if pairs else [])]}
        return {"complex128": key} if pairs else {"tensor": key}
    if isinstance(value, Size):  # before tuple: loads as a Size
        return {"size": list(value)}
    if isinstance(value, dict):
        items = []
        for k, v in value.items():
            items.append([_encode_key(k, path), _encode(v, _join(path, k), arrays, memo)])
        # A state_dict is an OrderedDict and loads as one (it prints as one).
        return {"ordered_dict" if isinstance(value, OrderedDict) else "dict": items}
    if isinstance(value, tuple) and hasattr(type(value), "_fields"):  # a namedtuple
        cls = type(value)
        items = [_encode(v, _join(path, i), arrays, memo) for i, v in enumerate(value)]
        return {"namedtuple": [f"{cls.__module__}.{cls.__qualname__}", items]}
    if isinstance(value, (list, tuple)):
        kind = "tuple" if isinstance(value, tuple) else "list"
        return {kind: [_encode(v, _join(path, i), arrays, memo) for i, v in enumerate(value)]}
    if isinstance(value, numpy_backend.array_type):  # a NumPy array: loads as one
        return {"ndarray": _store_array(value, path or "array", arrays)}
    if is_numpy_scalar(value):
        if value.dtype.kind in "biuf":  # np.float64(0.93) loads as np.float64, as from torch
            return {"numpy_scalar": [value.dtype.name, value.item()]}
        value = value.item()
    if isinstance(value, argparse.Namespace):  # a script's parsed arguments
        return {"namespace": _encode(vars(value), path, arrays, memo)}
    if value is None or isinstance(value, (bool, int, float, str)):
        return {"value": value}
    if isinstance(value, complex):
        return {"complex": [value.real, value.imag]}
    if isinstance(value, bytes):
        return {"bytes": value.hex()}
    if isinstance(value, (set, frozenset)):
        kind = "frozenset" if isinstance(value, frozenset) else "set"
        return {kind: [_encode(v, _join(path, i), arrays, memo) for i, v in enumerate(value)]}
    if isinstance(value, dtypes.dtype):
        return {"dtype": value.name}
    if isinstance(value, Device):
        return {"device": str(value)}
    in_object = memo is not None and not isinstance(memo, _TensorsOnly)
    if isinstance(value, Module) or (in_object and _plain_object(value)):
        return _encode_object(value, path, arrays, memo)
    # a builtin function of a module (print, math.sqrt: a hook, an activation), not a method
    module_builtin = isinstance(value, types.BuiltinFunctionType) and isinstance(
        value.__self__, types.ModuleType
    )
    if in_object and (isinstance(value, (type, types.FunctionType)) or module_builtin):
        return {"global": _global_name(value, path)}  # a class or function, by name
    if callable(getattr(value, "state_dict", None)):  # an optimizer, a scheduler
        raise TypeError(
            f"save: cannot store a {type(value).__name__} object at {path or 'the top level'} "
            "(checkpoints hold no code); save its state_dict() instead, e.g. "
            "chainrule.save(optimizer.state_dict(), path), and restore it with "
            "optimizer.load_state_dict(chainrule.load(path))"
        )
    raise TypeError(
        f"save: cannot store a {type(value).__name__} at {path or 'the top level'}; checkpoints "
        "hold tensors, NumPy arrays and numbers, numbers, strings, bytes, bools, None, dtypes, "
        "devices, Size, argparse Namespaces, dicts/lists/tuples/sets of them, and whole models "
        "(nn.Module objects, with the plain objects, classes and functions they hold)"
    )


def _encode_object(
    value: Any, path: str, arrays: dict[str, Any], memo: dict[int, str] | None
) -> dict[str, Any]:
    """A whole object (a model, as `torch.save(model, f)` pickles it): its class by name and
    its attributes' nodes, which load back into a new instance of that class (module
    docstring: only with weights_only=False or an allowlisted class, as PyTorch's)."""
    if "_unparametrized_class" in vars(type(value)):  # nn.utils.parametrize's own class
        raise RuntimeError(  # PyTorch's pickling refuses these classes with this message
            "Serialization of parametrized modules is only supported through state_dict(). "
            "See:\nhttps://pytorch.org/tutorials/beginner/saving_loading_models.html"
            "#saving-loading-a-general-checkpoint-for-inference-and-or-resuming-training"
        )
    if memo is None or isinstance(memo, _TensorsOnly):
        memo = dict(memo or {})  # an object's memo: its objects are remembered too
    reference = path or "object"
    memo[id(value)] = reference
    name = _global_name(type(value), path)
    return {"object": [name, reference, _encode(dict(vars(value)), path, arrays, memo)]}


def _plain_object(value: Any) -> bool:
    """An instance of a user's or chainrule's class that keeps its state in its `__dict__`
    (what pickle stores by default): a config object or a parametrization in a model."""
    cls = type(value)
    return (
        hasattr(value, "__dict__")
        and cls.__module__ != "builtins"
        and cls.__reduce_ex__ is object.__reduce_ex__
        and cls.__reduce__ is object.__reduce__  # pickled its own way (a logger): refused
        and not isinstance(value, (type, types.FunctionType, types.ModuleType))
    )


def _global_name(obj: Any, path: str) -> str:
    """'module.qualified.name' of a class or function, which `_find_global` imports back."""
    name = f"{obj.__module__}.{obj.__qualname__}"
    if "<locals>" in obj.__qualname__ or "<lambda>" in obj.__qualname__:
        raise TypeError(
            f"save: cannot store {name} at {path or 'the top level'}: a local class or "
            "function cannot be found again by its name (define it at a module's top level)"
        )
    return name


def _store_array(array: Any, key: str, arrays: dict[str, Any]) -> str:
    """A NumPy array into the safetensors payload under `key` (numbers and bools only: an
    object or string array would need pickling)."""
    if key in arrays:
        raise ValueError(f"save: two entries are both stored under the name {key!r}")
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"save: cannot store the {array.dtype} NumPy array at {key!r}; checkpoints hold "
            "arrays of numbers and bools"
        )
    arrays[key] = array if array.flags.c_contiguous else array.copy(order="C")
    return key


def _write_payload(handle: IO[bytes], payload: bytes) -> None:
    handle.write(payload)


def _write_atomically(path: str, payload: bytes) -> None:
    """Replace `path` with `payload` so that a reader (or a crash) sees all or nothing."""
    directory = os.path.dirname(os.path.abspath(path))
    temporary = os.path.join(
        directory, f".{os.path.basename(path)}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    )
    # O_EXCL: never reuse a file someone else made; mode 0o666 lets the umask apply as usual.
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            _write_payload(handle, payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


# ---- loading ---------------------------------------------------------------------------------


def load(
    f: str | os.PathLike | IO[bytes],
    map_location: str | Device | Mapping[str, str] | Callable[..., object] | None = None,
    weights_only: bool = True,
    **kwargs: object,
) -> Any:
    """Read what `save` wrote, any safetensors file (as a flat dict of tensors), or a file
    `torch.save` wrote (chainrule/torch_format.py: its pickle read by a restricted unpickler
    that builds tensors and containers and refuses anything else, so no code runs).

    `map_location` ('cpu', 'cuda', a device) moves every tensor there; a dict maps a
    tensor's location ('cpu', 'cuda:0') to another, and a callable `(storage, location)` is
    given each tensor (standing for its storage) and returns it where it should be, or None to
    leave it (`lambda storage, loc: storage`, older code's idiom). `weights_only` decides
    only whether the classes a file names (a namedtuple's, a whole model's) may be imported
    (False) or must be allowlisted with `add_safe_globals` (True); other `torch.load` options
    are accepted for compatibility. A file
    that is truncated, corrupted or neither format raises FileFormatError naming the file.

    Args:
        f (str, path or binary file): what to read.
        map_location (str, device, dict or callable, optional): where to put the tensors.
        weights_only (bool): refuse classes `add_safe_globals` did not allow.
        kwargs: other `torch.load` options, accepted and ignored.

    Returns:
        What was saved: a Tensor, or the nested containers of Tensors.

    Example:
        >>> import io
        >>> import chainrule
        >>> buffer = io.BytesIO()
        >>> chainrule.save({"weight": chainrule.ones(2), "step": 10}, buffer)
        >>> _ = buffer.seek(0)
        >>> chainrule.load(buffer)
        {'weight': tensor([1., 1.]), 'step': 10}
    """
    relocate = _relocation(map_location)
    if hasattr(f, "read"):
        name = getattr(f, "name", repr(f))
        data = f.read()
    else:
        name = os.fspath(f)
        with open(f, "rb") as handle:
            data = handle.read()
    if is_torch_file(data):  # torch.save's pickles, read without running code
        return _moved(load_torch_file(data, name), relocate)
    header = _read_header(data, name)
    try:
        entries = safetensors.deserialize(data)
    except Exception as error:  # the Rust reader's SafetensorError is a bare Exception
        raise FileFormatError(f"{name}: corrupted safetensors file ({error})") from error
    tensors = {key: _to_tensor(_entry_array(entry), relocate) for key, entry in entries}
    structure = header.get("__metadata__", {}).get(_STRUCTURE_KEY)
    if structure is None:
        return tensors  # a plain safetensors file, e.g. from safetensors.torch.save_file
    try:
        return _decode(json.loads(structure), tensors, weights_only)
    except (ValueError, KeyError, TypeError, IndexError) as error:
        raise FileFormatError(
            f"{name}: corrupted chainrule structure metadata ({error})"
        ) from error


def _read_header(data: bytes, name: str) -> dict[str, Any]:
    """The safetensors JSON header, after checking the file is long enough to hold it all."""
    if len(data) < 8:
        raise FileFormatError(
            f"{name}: not a safetensors file (only {len(data)} bytes; truncated or empty?)"
        )
    (header_size,) = struct.unpack("<Q", data[:8])
    if header_size > len(data) - 8:
        raise FileFormatError(
            f"{name}: not a safetensors file, or truncated (its first 8 bytes announce a "
            f"{header_size}-byte header, but only {len(data) - 8} bytes follow)"
        )
    try:
        header = json.loads(data[8 : 8 + header_size].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise FileFormatError(f"{name}: not a safetensors file (header is not JSON)") from error
    if not isinstance(header, dict):
        raise FileFormatError(f"{name}: not a safetensors file (header is not a JSON object)")
    available = len(data) - 8 - header_size
    for key, entry in header.items():
        if key == "__metadata__":
            continue
        if not isinstance(entry, dict) or "data_offsets" not in entry or "dtype" not in entry:
            raise FileFormatError(f"{name}: corrupted safetensors header entry {key!r}")
        end = entry["data_offsets"][1]
        if not isinstance(end, int) or end > available:
            raise FileFormatError(
                f"{name}: truncated safetensors file (tensor {key!r} ends at byte {end} of the "
                f"data, which has only {available} bytes)"
            )
        if entry["dtype"] not in _LOADABLE_DTYPES:
            raise DTypeError(
                f"{name}: tensor {key!r} has dtype {entry['dtype']}, which chainrule cannot load "
                f"(supported: {', '.join(sorted(_LOADABLE_DTYPES))})"
            )
    return header


def _relocation(map_location: Any) -> Callable[[Tensor], Tensor] | None:
    """`load`'s map_location as a function taking each loaded tensor where it belongs (None:
    where it is)."""
    if map_location is None:
        return None
    if isinstance(map_location, str) or hasattr(map_location, "type"):
        return lambda loaded: loaded.to(map_location)
    if isinstance(map_location, Mapping):

        def remapped(loaded: Tensor) -> Tensor:
            here = str(loaded.device)
            there = map_location.get(here, here)
            return loaded if there == here else loaded.to(there)

        return remapped
    if callable(map_location):

        def called(loaded: Tensor) -> Tensor:
            result = map_location(loaded, str(loaded.device))
            if result is None:
                return loaded
            if not isinstance(result, Tensor):
                raise TypeError(
                    "load: the map_location callable must return a tensor (standing for the "
                    f"storage) or None, got {type(result).__name__}"
                )
            return result

        return called
    raise TypeError(
        "load: map_location must be None, a device, a device string, a dict of locations or a "
        f"callable, got {type(map_location).__name__}"
    )


def _moved(value: Any, relocate: Callable[[Tensor], Tensor] | None) -> Any:
    """`value` with every tensor in its containers passed through `relocate` (if given)."""
    if relocate is None:
        return value
    if isinstance(value, Tensor):
        return relocate(value)
    if isinstance(value, dict):
        return type(value)((key, _moved(item, relocate)) for key, item in value.items())
    if isinstance(value, tuple) and hasattr(value, "_make"):  # a namedtuple
        return value._make(_moved(item, relocate) for item in value)
    if isinstance(value, (list, tuple)):
        return type(value)(_moved(item, relocate) for item in value)
    return value


def _entry_array(entry: dict) -> Any:
    """One deserialized safetensors entry as an array of its dtype and shape."""
    element = numpy_backend.xp.dtype(_ELEMENT_DTYPES[entry["dtype"]])
    if element.kind == "V":  # bfloat16: ml_dtypes' dtype has no byte order; read the words
        words = numpy_backend.xp.frombuffer(entry["data"], dtype="<u2").astype("=u2", copy=False)
        return words.view(element).reshape(entry["shape"])
    return numpy_backend.xp.frombuffer(entry["data"], dtype=element).reshape(entry["shape"])


def _to_tensor(array: Any, relocate: Callable[[Tensor], Tensor] | None) -> Tensor:
    result = tensor(array)  # a copy: the reader's arrays are read-only views of the bytes
    return result if relocate is None else relocate(result)


def _decode(
    node: Any, tensors: dict[str, Tensor], weights_only: bool, refs: dict[str, Any] | None = None
) -> Any:
    """The value a node describes; `refs` holds what a saved object's graph decoded so far, by
    the place it was first met (its "same" references)."""
    if refs is None:
        refs = {}
    if not isinstance(node, dict) or len(node) != 1:
        raise ValueError(f"malformed node {node!r}")
    ((kind, content),) = node.items()
    if kind == "tensor":
        refs[content] = tensors[content]
        return tensors[content]
    if kind == "complex128":  # stored as float64 (real, imaginary) pairs
        refs[content] = view_as_complex(tensors[content])
        return refs[content]
    if kind == "tensor_requiring_grad":
        key, *complex_pairs = content
        stored = view_as_complex(tensors[key]) if complex_pairs else tensors[key]
        refs[key] = stored.requires_grad_(True)
        return refs[key]
    if kind == "sparse_coo":
        indices_node, values_node, size, coalesced = content
        indices = _decode(indices_node, tensors, weights_only, refs)
        values = _decode(values_node, tensors, weights_only, refs)
        return SparseTensor._make(indices, values, tuple(size), coalesced)
    if kind == "sparse_csr":
        *nodes, size = content
        crow, col, values = (_decode(node, tensors, weights_only, refs) for node in nodes)
        return sparse_csr_tensor(crow, col, values, tuple(size))
    if kind == "same":
        return refs[content]
    if kind == "object":
        name, reference, state = content
        cls = _find_global(name, weights_only)
        instance = cls.__new__(cls)
        refs[reference] = instance  # before its attributes: they may refer back to it
        attributes = _decode(state, tensors, weights_only, refs)
        if hasattr(instance, "__setstate__"):
            instance.__setstate__(attributes)
        else:
            instance.__dict__.update(attributes)
        return instance
    if kind == "global":
        return _find_global(content, weights_only)
    if kind == "value":
        return content
    if kind == "dict":
        return {
            _decoded_key(key, tensors, weights_only, refs): _decode(
                child, tensors, weights_only, refs
            )
            for key, child in content
        }
    if kind == "list":
        return [_decode(child, tensors, weights_only, refs) for child in content]
    if kind == "tuple":
        return tuple(_decode(child, tensors, weights_only, refs) for child in content)
    if kind == "namedtuple":
        name, children = content
        cls = _namedtuple_class(name, weights_only)
        return cls._make(_decode(child, tensors, weights_only, refs) for child in children)
    if kind == "ordered_dict":
        return OrderedDict(
            (
                _decoded_key(key, tensors, weights_only, refs),
                _decode(child, tensors, weights_only, refs),
            )
            for key, child in content
        )
    if kind == "parameter":
        key, requires_grad, *pairs = content
        data = view_as_complex(tensors[key]) if pairs else tensors[key]
        refs[key] = Parameter(data, requires_grad=requires_grad)
        return refs[key]
    if kind == "size":
        return Size(content)
    if kind == "complex":
        return complex(*content)
    if kind == "bytes":
        return bytes.fromhex(content)
    if kind in ("set", "frozenset"):
        items = (_decode(child, tensors, weights_only, refs) for child in content)
        return set(items) if kind == "set" else frozenset(items)
    if kind == "dtype":
        return _DTYPES_BY_NAME[content]
    if kind == "device":
        return Device(content)
    if kind == "ndarray":
        return tensors[content].cpu().numpy()
    if kind == "numpy_scalar":
        name, number = content
        return numpy_backend.xp.dtype(name).type(number)
    if kind == "namespace":
        return argparse.Namespace(**_decode(content, tensors, weights_only, refs))
    raise ValueError(f"unknown node kind {kind!r}")


def _namedtuple_class(name: str, weights_only: bool) -> Any:
    """The namedtuple class saved as `name` (`_find_global`)."""
    cls = _find_global(name, weights_only)
    if not (isinstance(cls, type) and issubclass(cls, tuple) and hasattr(cls, "_make")):
        raise FileFormatError(f"load: {name} is saved as a namedtuple but is not one now")
    return cls


def _find_global(name: str, weights_only: bool) -> Any:
    """The class or function saved as `name` ('module.Qualified.Name'), found as PyTorch's
    unpickler finds it: with weights_only, only among the classes `add_safe_globals` allowed
    (an UnpicklingError otherwise); without, by importing its module (the trust
    weights_only=False asks for)."""
    if weights_only:
        for entry in _safe_globals:
            cls, allowed_name = entry if isinstance(entry, tuple) else (entry, None)
            if name in (allowed_name, f"{cls.__module__}.{cls.__qualname__}"):
                return cls
        raise pickle.UnpicklingError(
            "Weights only load failed. This file can still be loaded, to do so you have two "
            "options, do those steps only if you trust the source of the checkpoint.\n\t(1) "
            "Re-running `load` with `weights_only` set to `False` will likely succeed, but it "
            "imports the classes the file names (and so runs their modules' code).\n\t(2) "
            "Alternatively, to load with `weights_only=True` allowlist the class.\n\t"
            f"WeightsUnpickler error: Unsupported global: GLOBAL {name} was not an allowed "
            f"global by default. Please use `serialization.add_safe_globals([{name}])` or the "
            f"`serialization.safe_globals([{name}])` context manager to allowlist this "
            "global if you trust this class/function."
        )
    parts = name.split(".")
    for cut in range(len(parts) - 1, 0, -1):  # return_types.max: a nested class
        module_name = ".".join(parts[:cut])
        try:
            found: Any = importlib.import_module(module_name)
        except ImportError:
            continue
        for part in parts[cut:]:
            if not hasattr(found, part):
                raise AttributeError(f"Can't get attribute {part!r} on {found!r}")
            found = getattr(found, part)
        return found
    raise ModuleNotFoundError(f"No module named {'.'.join(parts[:-1])!r}")


# ---- torch.serialization's allowlist ---------------------------------------------------------
#
# PyTorch's weights-only loader unpickles only allowlisted globals, and scripts add their own
# classes with add_safe_globals before torch.load. chainrule's loader unpickles nothing; the
# list decides only which saved namedtuple classes a weights-only load may rebuild.

_safe_globals: list[Any] = []


def add_safe_globals(safe_globals: list[Any]) -> None:
    """Allow these classes and functions in weights-only loads (PyTorch's allowlist). chainrule
    never unpickles, so they are recorded and change no load.

    Args:
        safe_globals (list): classes or functions, or (object, "module.name") pairs.

    Example:
        >>> from chainrule import serialization
        >>> serialization.add_safe_globals([complex])
        >>> complex in serialization.get_safe_globals()
        True
        >>> serialization.clear_safe_globals()
    """
    _safe_globals.extend(safe_globals)


def get_safe_globals() -> list[Any]:
    """The allowlist `add_safe_globals` built.

    Returns:
        list: the recorded classes and functions.

    Example:
        >>> from chainrule.serialization import get_safe_globals
        >>> get_safe_globals()
        []
    """
    return list(_safe_globals)


def clear_safe_globals() -> None:
    """Empty the allowlist.

    Example:
        >>> from chainrule.serialization import clear_safe_globals
        >>> clear_safe_globals()
    """
    _safe_globals.clear()


@contextlib.contextmanager
def safe_globals(safe_globals: list[Any]) -> Iterator[None]:
    """`add_safe_globals` for the block only.

    Args:
        safe_globals (list): classes or functions, or (object, "module.name") pairs.

    Example:
        >>> from chainrule.serialization import get_safe_globals, safe_globals
        >>> with safe_globals([complex]):
        ...     complex in get_safe_globals()
        True
        >>> get_safe_globals()
        []
    """
    before = list(_safe_globals)
    _safe_globals.extend(safe_globals)
    try:
        yield
    finally:
        _safe_globals[:] = before
