"""Making tensors: from data, filled, ranges, random; moving between devices; printing.

Random numbers come from a `Generator` (PCG64 on CPU). `manual_seed` makes runs
reproducible; the streams differ from PyTorch's, so equal seeds do not give equal numbers.
"""

from __future__ import annotations

import builtins
import ctypes
import math
import warnings
from collections.abc import Sequence
from typing import Any

from chainrule._tensor import Tensor, to_array
from chainrule.autograd.observers import observed_effect, observers
from chainrule.backend import (
    Array,
    backend_for_device,
    backend_of_array,
    dtypes,
    get_default_device,
    is_array,
    is_numpy_scalar,
    shared,
)
from chainrule.backend import device as Device
from chainrule.backend.dtypes import as_dtype, scalar_type_name
from chainrule.backend.float_errors import quiet_float_errors
from chainrule.backend.formats import channels_last, channels_last_3d, preserve_format
from chainrule.errors import BackendError, DomainError, DTypeError, ShapeError, warn_once
from chainrule.ops import ranges
from chainrule.ops.arguments import normalize_size
from chainrule.ops.conversion import layout_name, write_out
from chainrule.ops.op import (
    Op,
    ToDevice,
    apply,
    empty_in_layout,
    in_channels_last,
    is_plainly_row_major,
)
from chainrule.ops.shape import broadcast_shapes

# ---- from data -------------------------------------------------------------------------------


def _numpy_dtype(dtype: Any) -> Any:
    return None if dtype is None else as_dtype(dtype).numpy


def _finish(array: Array, requires_grad: bool) -> Any:
    tensor = Tensor._from_array(array)
    if requires_grad:
        tensor.requires_grad_(True)
    return tensor


def tensor(
    data: object,
    *,
    dtype: dtypes.dtype | None = None,
    device: Device | str | None = None,
    requires_grad: bool = False,
    pin_memory: bool = False,
) -> Tensor:
    """A new tensor holding a copy of `data` (a nested list of numbers, a NumPy array, a scalar, a
    tensor).

    Args:
        data (array_like): the values; nested sequences must be rectangular.
        dtype (dtype, optional): default: inferred from `data` (Python floats give the default
            dtype, ints int64, bools bool).
        device (device or str, optional): 'cpu' (default), 'cuda', 'fake'.
        requires_grad (bool): make the result a leaf that records operations.
        pin_memory (bool): accepted for compatibility; ignored.

    Returns:
        Tensor: a leaf tensor of `data`'s shape.

    Example:
        >>> import chainrule
        >>> chainrule.tensor([[1, 2], [3, 4]]).dtype
        chainrule.int64
        >>> chainrule.tensor(3.5, requires_grad=True)
        tensor(3.5000, requires_grad=True)
    """
    if device is None and isinstance(data, Tensor):
        device = data.device
    numpy_dtype = _numpy_dtype(dtype)
    if isinstance(data, Tensor) and data.is_complex() and numpy_dtype is not None:
        if numpy_dtype.kind not in "cb":  # PyTorch's warning, not NumPy's ComplexWarning
            warn_once("Casting complex values to real discards the imaginary part", UserWarning)
            data = data.real
    backend = backend_for_device(device)
    return _finish(to_array(data, backend, numpy_dtype), requires_grad)


def as_tensor(
    data: object, dtype: dtypes.dtype | None = None, device: Device | str | None = None
) -> Tensor:
    """Like `tensor`, but shares memory with `data` when it is already an array or tensor of the
    requested dtype and device (no copy).

    Args:
        data (array_like): the values.
        dtype (dtype, optional): default: inferred from `data` (Python floats give the default
            dtype, ints int64, bools bool).
        device (device or str, optional): 'cpu' (default), 'cuda', 'fake'.

    Returns:
        Tensor: `data` as a tensor.

    Example:
        >>> import chainrule
        >>> chainrule.as_tensor([1, 2])
        tensor([1, 2])
    """
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype) if (dtype or device) else data
    backend = backend_for_device(device)
    return _finish(to_array(data, backend, _numpy_dtype(dtype), copy=False), False)


def asarray(
    obj: object,
    *,
    dtype: dtypes.dtype | None = None,
    device: Device | str | None = None,
    copy: bool | None = None,
    requires_grad: bool | None = None,
) -> Tensor:
    """`obj` as a tensor, as torch.asarray: shared with `obj` (a tensor or an array) when its
    dtype and device allow, copied otherwise or with `copy=True`; `copy=False` refuses what
    cannot be shared.

    Args:
        obj (object): a tensor, an array, a scalar or a (nested) sequence.
        dtype (dtype, optional): default: `obj`'s (inferred for Python data).
        device (device or str, optional): default: `obj`'s, else the CPU.
        copy (bool, optional): True always copies, False never does (refusing), None copies
            only when it must.
        requires_grad (bool, optional): whether the result records operations; unset, a
            tensor `obj` keeps its own (with PyTorch's warning that the default changed).

    Returns:
        Tensor: `obj`'s values.

    Example:
        >>> import chainrule
        >>> chainrule.asarray([1.0, 2.0], requires_grad=True)
        tensor([1., 2.], requires_grad=True)
    """
    if isinstance(obj, Tensor):
        out = obj
        if copy:
            out = obj.to(device=device, dtype=dtype, copy=True)
        elif dtype is not None or device is not None:
            out = obj.to(device=device, dtype=dtype)
            if copy is False and out._array is not obj._array:
                raise ValueError(
                    f"can't alias tensor with dtype '{scalar_type_name(obj.dtype)}' into dtype "
                    f"'{scalar_type_name(out.dtype)}'."
                )
        if requires_grad is None:
            if obj.requires_grad:  # PyTorch's TORCH_WARN_ONCE
                warn_once(
                    "torch.asarray: unspecified requires_grad now defaults to obj.requires_grad "
                    "instead of False. Pass requires_grad=False explicitly to get the old "
                    "behavior and silence this warning."
                )
            return out
        if not requires_grad:
            return out.detach() if out.requires_grad else out
        return out if out.requires_grad else out.requires_grad_(True)
    if copy is False and not is_array(obj):
        raise ValueError("can't alias arbitrary sequence into a tensor.")
    out = tensor(obj, dtype=dtype, device=device) if copy else as_tensor(obj, dtype, device)
    return out.requires_grad_(True) if requires_grad else out


def from_numpy(array: Array) -> Tensor:
    """A tensor sharing memory with a NumPy array: writes through either are seen by the other.

    Args:
        array (numpy.ndarray): of a dtype chainrule supports.

    Returns:
        Tensor: of the array's shape and dtype, on the CPU.

    Example:
        >>> import chainrule
        >>> import numpy as np
        >>> source = np.arange(3)
        >>> t = chainrule.from_numpy(source)
        >>> source[0] = 7
        >>> t
        tensor([7, 1, 2])
    """
    if not is_array(array):
        raise TypeError(f"from_numpy: expected np.ndarray (got {type(array).__name__})")
    dtypes.from_numpy_dtype(array.dtype)
    return Tensor._from_array(array)


def from_dlpack(ext_tensor: object) -> Tensor:
    """A tensor sharing memory with `ext_tensor`, any object with `__dlpack__` (a PyTorch, CuPy or
    JAX array, a NumPy array) or a DLPack capsule: a write through either is seen by the other.
    The way back is `torch.from_dlpack(t)`, which reads chainrule's `Tensor.__dlpack__`.

    Args:
        ext_tensor (object): an array with `__dlpack__` and `__dlpack_device__`.

    Returns:
        Tensor: sharing `ext_tensor`'s memory.

    Example:
        >>> import chainrule
        >>> import numpy as np
        >>> source = np.zeros(3, dtype=np.float32)
        >>> t = chainrule.from_dlpack(source)
        >>> source[0] = 5.0
        >>> t
        tensor([5., 0., 0.])
    """
    if type(ext_tensor).__name__ == "PyCapsule":  # the legacy form: a capsule, not an array
        ext_tensor = _CapsuleExchange(ext_tensor)
    if not hasattr(ext_tensor, "__dlpack__") or not hasattr(ext_tensor, "__dlpack_device__"):
        raise TypeError(
            f"from_dlpack: expected an object with __dlpack__ (got {type(ext_tensor).__name__})"
        )
    device_type, device_index = ext_tensor.__dlpack_device__()
    if device_type in (1, 3):  # kDLCPU, kDLCUDAHost
        backend = backend_for_device("cpu")
    elif device_type == 2:  # kDLCUDA
        backend = backend_for_device(f"cuda:{device_index}")
    else:
        raise BackendError(f"from_dlpack: DLPack device type {device_type} is not supported")
    try:
        array = backend.xp.from_dlpack(ext_tensor)
    except RuntimeError as error:  # NumPy's word for a dtype it lacks, e.g. bfloat16
        raise DTypeError(f"from_dlpack: {error}") from None
    dtypes.from_numpy_dtype(array.dtype)
    return Tensor._from_array(array)


class _CapsuleExchange:
    """A DLPack capsule (`torch.utils.dlpack.to_dlpack`'s) as the array protocol NumPy and
    CuPy read: the capsule itself, and the device its DLTensor names (read from the struct:
    a data pointer, then the device's type and index as two int32)."""

    def __init__(self, capsule: object) -> None:
        get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
        get_pointer.restype = ctypes.c_void_p
        get_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
        address = get_pointer(capsule, b"dltensor")  # raises ValueError for a used capsule
        device = (ctypes.c_int32 * 2).from_address(address + ctypes.sizeof(ctypes.c_void_p))
        self._capsule, self._device = capsule, (int(device[0]), int(device[1]))

    def __dlpack__(self, **kwargs: object) -> object:
        return self._capsule

    def __dlpack_device__(self) -> tuple[int, int]:
        return self._device


def tensor_from_state(data: Any, dtype_name: str, requires_grad: bool) -> Any:
    """Rebuild a pickled tensor (see Tensor.__reduce_ex__)."""
    return tensor(data, dtype=dtype_name, requires_grad=requires_grad)


def tensor_from_shared(
    block: str, offset: int, shape: tuple, strides: tuple, dtype: Any, requires_grad: bool
) -> Tensor:
    """A tensor another process sent from shared memory (tensor_methods._reduce_for_processes):
    over the same memory, attached by the block's name."""
    out = Tensor._from_array(shared.attach(block, offset, shape, strides, dtype))
    return out.requires_grad_(True) if requires_grad else out


# ---- filled ----------------------------------------------------------------------------------


def scalar_value(tensor: Tensor) -> Any:
    """A one-element tensor's value as a Python number, as PyTorch reads a tensor passed for
    a Scalar; None for a batched tensor under vmap (one value per example)."""
    array = tensor._array
    if type(array) is not tensor._backend.array_type or array.size != 1:
        return None
    return array.reshape(()).item()


def checked_fill(name: str, value: Any, dtype: dtypes.dtype) -> Any:
    """`value` as PyTorch converts a number it fills `dtype` with (c10's checked_convert):
    an error where it overflows (fill_(256) or fill_(-1.0) on uint8); an int between -max
    and -1 wraps into an unsigned dtype (fill_(-1) on uint8 is 255); a float truncates into
    an integer dtype; a finite float beyond a floating dtype's range overflows too, and so
    does a complex number with an imaginary part into a real dtype."""
    if is_numpy_scalar(value):  # np.float16(-0.5) converts as the number it holds
        value = value.item()
    if isinstance(value, complex) and dtype.category in (dtypes.INTEGER, dtypes.FLOATING):
        if value.imag != 0:
            raise DomainError(
                f"{name}: value cannot be converted to type {dtype.name} without overflow"
            )
        value = value.real
    if isinstance(value, builtins.bool) or not isinstance(value, (int, float)):
        return value
    if dtype.category == dtypes.INTEGER:
        info = dtypes.iinfo(dtype)
        low = -info.max if isinstance(value, int) and info.min == 0 else info.min
        fits = low <= value <= info.max
        if fits and value < 0 and info.min == 0:
            value = int(value) + info.max + 1  # two's complement, as PyTorch's cast
    elif dtype.category == dtypes.FLOATING:
        fits = not math.isfinite(value) or abs(value) <= dtypes.finfo(dtype).max
    else:
        return value
    if not fits:
        raise DomainError(
            f"{name}: value cannot be converted to type {dtype.name} without overflow"
        )
    return value


# PyTorch's factory keywords for what chainrule has only one way of doing (one strided layout,
# no pinned memory, no named dimensions): accepted and ignored. (`out` is taken by the
# factories themselves: `_into`.)
_IGNORED_FACTORY_KEYWORDS = frozenset({"out", "layout", "pin_memory", "memory_format", "names"})


def _into(name: str, result: Tensor, out: Any) -> Tensor:
    """PyTorch's `out=` of a factory (`torch.zeros(3, out=buffer)`): the values written into
    `out`, resized silently to the result's shape as PyTorch's factories do; `out` returned."""
    if out is None:
        return result
    if isinstance(out, Tensor) and tuple(out.shape) != tuple(result.shape):
        out.resize_(tuple(result.shape))
    return write_out(name, result, out)


def _factory_size(name: str, size: tuple, keywords: dict) -> tuple:
    """The shape arguments of a factory: `f(2, 3)`, `f((2, 3))` or PyTorch's keyword form
    `f(size=(2, 3))`. Any keyword PyTorch's factories do not take is refused, as Python would."""
    if "size" in keywords:
        if size:
            raise TypeError(f"{name}() got multiple values for argument 'size'")
        size = (keywords["size"],)
    unknown = sorted(keywords.keys() - _IGNORED_FACTORY_KEYWORDS - {"size"})
    if unknown:
        raise TypeError(f"{name}() got an unexpected keyword argument '{unknown[0]}'")
    if not size:  # zeros() is no 0-dim tensor in PyTorch: zeros(()) is
        raise TypeError(f'{name}() missing 1 required positional arguments: "size"')
    return size


def _filled(
    kind: str, size: Sequence, fill: Any, dtype: Any, device: Any, requires_grad: bool
) -> Any:
    backend = backend_for_device(device)
    shape = normalize_size(size)
    if builtins.any(s < 0 for s in shape):
        raise ShapeError(f"{kind}: Trying to create tensor with negative dimension: {list(shape)}")
    target = _numpy_dtype(dtype) or dtypes.get_default_dtype().numpy
    xp = backend.xp
    if kind == "empty":
        array = xp.empty(shape, dtype=target)
    elif kind == "full":
        fill = checked_fill("full", fill, dtypes.from_numpy_dtype(target))
        array = xp.full(shape, fill, dtype=target)
    else:
        array = xp.zeros(shape, dtype=target) if fill == 0 else xp.ones(shape, dtype=target)
    return _finish(array, requires_grad)


def zeros(
    *size: int | Sequence[int],
    dtype: dtypes.dtype | None = None,
    device: Device | str | None = None,
    requires_grad: bool = False,
    **kwargs: object,
) -> Tensor:
    """A tensor of zeros of the given shape.

    Args:
        size (int...): the shape, as separate ints or one sequence (`zeros(2, 3)` or
            `zeros((2, 3))`).
        dtype (dtype, optional): default `get_default_dtype()` (float32).
        device (device or str, optional): 'cpu' (default), 'cuda', 'fake'.
        requires_grad (bool): make the result a leaf that records operations.
        **kwargs: `size=` (PyTorch's keyword form of the shape), `out=` (the values written
            there, its dtype and device the defaults), and PyTorch's `layout` and
            `pin_memory`, accepted and ignored.

    Example:
        >>> import chainrule
        >>> chainrule.zeros(2, 3)
        tensor([[0., 0., 0.],
                [0., 0., 0.]])
    """
    out = kwargs.get("out")
    dtype, device = (
        (dtype or out.dtype, device or out.device) if out is not None else (dtype, device)
    )
    result = _filled("zeros", _factory_size("zeros", size, kwargs), 0, dtype, device, requires_grad)
    return _into("zeros", result, out)


def ones(
    *size: int | Sequence[int],
    dtype: dtypes.dtype | None = None,
    device: Device | str | None = None,
    requires_grad: bool = False,
    **kwargs: object,
) -> Tensor:
    """A tensor of ones of the given shape.

    Args:
        size (int...): the shape, as separate ints or one sequence (`zeros(2, 3)` or
            `zeros((2, 3))`).
        dtype (dtype, optional): default `get_default_dtype()` (float32).
        device (device or str, optional): 'cpu' (default), 'cuda', 'fake'.
        requires_grad (bool): make the result a leaf that records operations.
        **kwargs: `size=` (PyTorch's keyword form of the shape), `out=` (the values written
            there, its dtype and device the defaults), and PyTorch's `layout` and
            `pin_memory`, accepted and ignored.

    Example:
        >>> import chainrule
        >>> chainrule.ones(2, dtype=chainrule.int64)
        tensor([1, 1])
    """
    out = kwargs.get("out")
    dtype, device = (
        (dtype or out.dtype, device or out.device) if out is not None else (dtype, device)
    )
    result = _filled("ones", _factory_size("ones", size, kwargs), 1, dtype, device, requires_grad)
    return _into("ones", result, out)


def empty(
    *size: int | Sequence[int],
    dtype: dtypes.dtype | None = None,
    device: Device | str | None = None,
    requires_grad: bool = False,
    **kwargs: object,
) -> Tensor:
    """A tensor of the given shape whose values are unspecified (write them before reading).

    Args:
        size (int...): the shape, as separate ints or one sequence (`zeros(2, 3)` or
            `zeros((2, 3))`).
        dtype (dtype, optional): default `get_default_dtype()` (float32).
        device (device or str, optional): 'cpu' (default), 'cuda', 'fake'.
        requires_grad (bool): make the result a leaf that records operations.
        **kwargs: `size=` (PyTorch's keyword form of the shape), `memory_format`
            (channels_last lays a 4-D result out with its channels innermost), `out=` (resized
            to the shape and returned), and PyTorch's `layout` and `pin_memory`, accepted and
            ignored.

    Example:
        >>> import chainrule
        >>> chainrule.empty(2, 3).shape
        chainrule.Size([2, 3])
    """
    shape = _factory_size("empty", size, kwargs)
    into = kwargs.get("out")
    if isinstance(into, Tensor):  # `out` resized, its (unspecified) values left, as PyTorch
        return into.resize_(normalize_size(shape))
    out = _filled("empty", shape, None, dtype, device, requires_grad)
    return _in_memory_format(out, kwargs.get("memory_format"), "empty")


def full(
    size: Sequence[int],
    fill_value: int | float | complex,
    *,
    dtype: dtypes.dtype | None = None,
    device: Device | str | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """A tensor of shape `size` filled with `fill_value`; the dtype follows the value (a float gives
    the default float dtype, an int int64, a bool bool) unless given.

    Args:
        size (sequence of ints): the shape.
        fill_value (number): the value of every element.
        dtype (dtype, optional): default: from `fill_value`.
        device (device or str, optional): 'cpu' (default), 'cuda', 'fake'.
        requires_grad (bool): make the result a leaf that records operations.

    Returns:
        Tensor: of shape `size`.

    Example:
        >>> import chainrule
        >>> chainrule.full((2,), 7)
        tensor([7, 7])
        >>> chainrule.full((1, 2), 1.5)
        tensor([[1.5000, 1.5000]])
    """
    if dtype is None:
        dtype = dtypes.default_for_category(dtypes.category_of_scalar(_plain(fill_value)))
    return _filled(
        "full",
        (size,) if isinstance(size, int) else tuple(size),
        fill_value,
        dtype,
        device,
        requires_grad,
    )


def _in_memory_format(out: Tensor, memory_format: Any, name: str) -> Tensor:
    """`out` (new, row-major) moved to the channels-last layout `memory_format` asks for
    (channels innermost), after PyTorch's rank check; any other format leaves it row-major."""
    if memory_format is not channels_last and memory_format is not channels_last_3d:
        return out
    layout_name(name, memory_format, out.ndim)  # "required rank 4 tensor to use ..."
    out._array = in_channels_last(out._backend.xp, out._array)
    return out


def _like(input: Any, dtype: Any, device: Any) -> tuple:  # noqa: A002
    return (input.shape, dtype or input.dtype, device or input.device)


def batched_like(out: Tensor, input: Any) -> Tensor:  # noqa: A002
    """`out`, or under vmap, when `input` is batched, a batched result holding a copy of `out`
    per example, as torch.vmap's rules for zeros_like, x.new_zeros and the like: a batched
    value can be written into it (`d = x.new_zeros(n); d[0] = x[0]`)."""
    batch = getattr(type(input._array), "batched_like", None)  # vmap's stand-in array
    if batch is None or out._requires_grad:
        return out
    return input._array.batched_like(out)


def _in_layout_of(out: Tensor, input: Any, memory_format: Any) -> Tensor:  # noqa: A002
    """`out` (new, row-major) laid out as `input` is, PyTorch's preserve_format for `*_like`:
    a transposed input gives a transposed result (`zeros_like(x.t()).stride()` is (1, 3));
    or in the layout an explicit channels-last `memory_format` asks for."""
    if memory_format is channels_last or memory_format is channels_last_3d:
        return _in_memory_format(out, memory_format, "memory_format")
    like = input._array
    if out._backend is not input._backend or type(like) is not out._backend.array_type:
        return out  # another device, or vmap's per-example view (no strides)
    if is_plainly_row_major(like) or memory_format not in (None, preserve_format):
        return out
    array = empty_in_layout(out._backend.xp, like, out._array.dtype)
    array[...] = out._array
    out._array = array
    return out


def zeros_like(
    input: Tensor,  # noqa: A002
    *,
    dtype: dtypes.dtype | None = None,
    device: Device | str | None = None,
    requires_grad: bool = False,
    **kwargs: object,
) -> Tensor:
    """Zeros with the shape (and by default the dtype and device) of `input`.

    Args:
        input (Tensor): the tensor whose shape, dtype and device are copied.
        dtype (dtype, optional): override `input`'s dtype.
        device (device or str, optional): override `input`'s device.
        requires_grad (bool): make the result a leaf that records operations.
        **kwargs: PyTorch's `memory_format` (preserve_format, the default, keeps the layout
            of a transposed `input`), `layout` and `pin_memory` (accepted and ignored).

    Example:
        >>> import chainrule
        >>> chainrule.zeros_like(chainrule.tensor([1, 2]))
        tensor([0, 0])
    """
    shape, dtype, device = _like(input, dtype, device)
    out = zeros(shape, dtype=dtype, device=device, requires_grad=requires_grad)
    return batched_like(_in_layout_of(out, input, kwargs.get("memory_format")), input)


def ones_like(
    input: Tensor,  # noqa: A002
    *,
    dtype: dtypes.dtype | None = None,
    device: Device | str | None = None,
    requires_grad: bool = False,
    **kwargs: object,
) -> Tensor:
    """Ones with the shape (and by default the dtype and device) of `input`.

    Args:
        input (Tensor): the tensor whose shape, dtype and device are copied.
        dtype (dtype, optional): override `input`'s dtype.
        device (device or str, optional): override `input`'s device.
        requires_grad (bool): make the result a leaf that records operations.
        **kwargs: PyTorch's `memory_format` (preserve_format, the default, keeps the layout
            of a transposed `input`), `layout` and `pin_memory` (accepted and ignored).

    Returns:
        Tensor: of `input`'s shape.

    Example:
        >>> import chainrule
        >>> chainrule.ones_like(chainrule.tensor([3, 4]))
        tensor([1, 1])
    """
    shape, dtype, device = _like(input, dtype, device)
    out = ones(shape, dtype=dtype, device=device, requires_grad=requires_grad)
    return batched_like(_in_layout_of(out, input, kwargs.get("memory_format")), input)


def empty_like(
    input: Tensor,  # noqa: A002
    *,
    dtype: dtypes.dtype | None = None,
    device: Device | str | None = None,
    requires_grad: bool = False,
    **kwargs: object,
) -> Tensor:
    """An uninitialised tensor (write it before reading it)
    with the shape (and by default the dtype and device) of `input`.

    Args:
        input (Tensor): the tensor whose shape, dtype and device are copied.
        dtype (dtype, optional): override `input`'s dtype.
        device (device or str, optional): override `input`'s device.
        requires_grad (bool): make the result a leaf that records operations.
        **kwargs: PyTorch's `memory_format` (preserve_format, the default, keeps the layout
            of a transposed `input`), `layout` and `pin_memory` (accepted and ignored).

    Returns:
        Tensor: of `input`'s shape.

    Example:
        >>> import chainrule
        >>> chainrule.empty_like(chainrule.ones(2, 2)).shape
        chainrule.Size([2, 2])
    """
    shape, dtype, device = _like(input, dtype, device)
    out = empty(shape, dtype=dtype, device=device, requires_grad=requires_grad)
    return batched_like(_in_layout_of(out, input, kwargs.get("memory_format")), input)


def full_like(
    input: Tensor,  # noqa: A002
    fill_value: int | float | complex,
    *,
    dtype: dtypes.dtype | None = None,
    device: Device | str | None = None,
    requires_grad: bool = False,
    **kwargs: object,
) -> Tensor:
    """A tensor filled with `fill_value`, with the shape (and by default the dtype and device) of
    `input`.

    Args:
        input (Tensor): the tensor whose shape, dtype and device are copied.
        fill_value (number): the value of every element.
        dtype (dtype, optional): override `input`'s dtype.
        device (device or str, optional): override `input`'s device.
        requires_grad (bool): make the result a leaf that records operations.
        **kwargs: PyTorch's `memory_format` (preserve_format, the default, keeps the layout
            of a transposed `input`), `layout` and `pin_memory` (accepted and ignored).

    Example:
        >>> import chainrule
        >>> chainrule.full_like(chainrule.zeros(2), 7.0)
        tensor([7., 7.])
    """
    shape, dtype, device = _like(input, dtype, device)
    out = full(shape, fill_value, dtype=dtype, device=device, requires_grad=requires_grad)
    return batched_like(_in_layout_of(out, input, kwargs.get("memory_format")), input)


# ---- ranges ----------------------------------------------------------------------------------


def arange(
    start: float,
    end: float | None = None,
    step: float = 1,
    *,
    dtype: dtypes.dtype | None = None,
    device: Device | str | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """The values start, start + step, ... up to but excluding `end`; `arange(n)` is 0, ..., n - 1.
    int64 when every bound is an integer, else the default float dtype.

    Args:
        start (number): the first value (or `end`, when `end` is not given).
        end (number, optional): the bound, excluded.
        step (number): the spacing; may be negative.
        dtype (dtype, optional): default: from the bounds.
        device (device or str, optional): 'cpu' (default), 'cuda', 'fake'.
        requires_grad (bool): make the result a leaf that records operations.

    Returns:
        Tensor: 1-D, of ceil((end - start) / step) values.

    Example:
        >>> import chainrule
        >>> chainrule.arange(4)
        tensor([0, 1, 2, 3])
        >>> chainrule.arange(1, 2, 0.25)
        tensor([1.0000, 1.2500, 1.5000, 1.7500])
    """
    if dtype is not None and as_dtype(dtype).numpy.kind in "bc":
        raise DTypeError(f'arange: "arange_cpu" not implemented for {as_dtype(dtype)}')
    if end is None:
        start, end = 0, start
    if builtins.any(isinstance(_plain(b), complex) for b in (start, end, step)):
        raise DomainError("arange: value cannot be converted to type double without overflow")
    if _plain(step) == 0:
        raise ShapeError("arange: step must be nonzero")
    first, last, spacing = _plain(start), _plain(end), _plain(step)
    if not (math.isfinite(first) and math.isfinite(last)):
        raise DomainError(f"arange: unsupported range: {first} -> {last}")
    if (last - first) * spacing < 0:
        raise DomainError(
            f"arange: upper bound and lower bound inconsistent with step sign (start {first}, "
            f"end {last}, step {spacing})"
        )
    bounds = (start, end, step)
    if dtype is None:
        is_integral = builtins.all(isinstance(_plain(b), int) for b in bounds)
        dtype = dtypes.int64 if is_integral else dtypes.get_default_dtype()
    backend = backend_for_device(device)
    target = as_dtype(dtype).numpy
    xp = backend.xp
    if target.kind in "iu" and target.itemsize < 8:
        # PyTorch's kernel for the narrower integers: the count from the exact bounds, the
        # values from the truncated ones (arange(2.5, -0.5, -1) is [2, 1, 0] in int32)
        count = math.ceil((last - first) / spacing)
        values = xp.arange(count, dtype=xp.int64) * int(spacing) + int(first)
        return _finish(values.astype(target), requires_grad)
    if target.kind not in "fV":  # int64: the bounds in the integer dtype first: 2.5 steps by 2
        first, last, spacing = int(first), int(last), int(spacing)
        if spacing == 0:
            raise ShapeError("arange: step must be nonzero (a fractional step in an integer dtype)")
        return _finish(xp.arange(first, last, spacing).astype(target), requires_grad)
    count = math.ceil((last - first) / spacing)
    values = ranges.arange_values(xp, float(first), float(spacing), count, target)
    return _finish(values.astype(target), requires_grad)


def _plain(value: Any) -> Any:
    """A Python number for a 0-d tensor or a NumPy scalar (np.int64(3) counts as an int)."""
    return value.item() if isinstance(value, Tensor) or is_numpy_scalar(value) else value


# `range` below is PyTorch's: this module spells Python's `builtins.range`.
def range(  # noqa: A001 - PyTorch's name
    start: float,
    end: float,
    step: float = 1,
    *,
    dtype: dtypes.dtype | None = None,
    device: Device | str | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """PyTorch's deprecated `torch.range`: start, start + step, ... up to and including `end`
    (floor((end - start) / step) + 1 values), of the default float dtype unless `dtype` says
    otherwise. Warns, as PyTorch does: `arange` excludes `end`.

    Args:
        start (number): the first value.
        end (number): the last value, included when reached.
        step (number): the spacing; may be negative.
        dtype (dtype, optional): default `get_default_dtype()`.
        device (device or str, optional): 'cpu' (default), 'cuda', 'fake'.
        requires_grad (bool): make the result a leaf that records operations.

    Returns:
        Tensor: 1-D.

    Example:
        >>> import warnings
        >>> import chainrule
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     chainrule.range(1, 4)
        tensor([1., 2., 3., 4.])
    """
    warnings.warn(
        "torch.range is deprecated and will be removed in a future release because its "
        "behavior is inconsistent with Python's range builtin. Instead, use torch.arange, "
        "which produces values in [start, end).",
        UserWarning,
        stacklevel=2,
    )
    first, last, spacing = _plain(start), _plain(end), _plain(step)
    if spacing == 0:
        raise DomainError("range: step must be nonzero")
    if (last - first) * spacing < 0:
        raise DomainError(
            f"range: upper bound and lower bound inconsistent with step sign (start {first}, "
            f"end {last}, step {spacing})"
        )
    count = int(math.floor((last - first) / spacing)) + 1
    backend = backend_for_device(device)
    target = as_dtype(dtype or dtypes.get_default_dtype()).numpy
    values = first + backend.xp.arange(count, dtype="float64") * spacing
    return _finish(values.astype(target), requires_grad)


def _check_bounds_fit(name: str, bounds: tuple, target: Any) -> None:
    """PyTorch converts a range's bounds to its dtype as checked scalars: linspace(0, 300)
    in uint8 or (0, 1e10) in float16 raises, though the values in between would wrap."""
    kind = dtypes.from_numpy_dtype(target)
    for bound in bounds:
        checked_fill(name, _plain(bound), kind)


def linspace(
    start: float,
    end: float,
    steps: int,
    *,
    dtype: dtypes.dtype | None = None,
    device: Device | str | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """`steps` evenly spaced values from `start` to `end`, both included.

    Args:
        start (float): the first value.
        end (float): the last value.
        steps (int): how many values (at least 0).
        dtype (dtype, optional): default `get_default_dtype()`.
        device (device or str, optional): 'cpu' (default), 'cuda', 'fake'.
        requires_grad (bool): make the result a leaf that records operations.

    Returns:
        Tensor: 1-D, of `steps` values.

    Example:
        >>> import chainrule
        >>> chainrule.linspace(0, 1, steps=5)
        tensor([0.0000, 0.2500, 0.5000, 0.7500, 1.0000])
    """
    if steps < 0:
        raise DomainError(f"linspace: number of steps must be non-negative, got {steps}")
    backend = backend_for_device(device)
    first, last = _plain(start), _plain(end)
    bounds_complex = isinstance(first, complex) or isinstance(last, complex)
    default = dtypes.get_default_dtype()
    if bounds_complex:  # PyTorch's default for complex bounds: the default's complex dtype
        default = dtypes.complex_of(default)
    target = _numpy_dtype(dtype) or default.numpy
    if steps and not bounds_complex:
        _check_bounds_fit("linspace", (first, last), target)
    if bounds_complex or target.kind == "c":
        values = backend.xp.linspace(first, last, steps).astype(target)
    else:  # PyTorch's kernel (ops/ranges.py)
        values = ranges.linspace_values(backend.xp, first, last, steps, target)
    return _finish(values, requires_grad)


def logspace(
    start: float,
    end: float,
    steps: int,
    base: float = 10.0,
    *,
    dtype: dtypes.dtype | None = None,
    device: Device | str | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """`steps` values base ** t, t evenly spaced from `start` to `end` (both included).

    Args:
        start (float): the first exponent.
        end (float): the last exponent.
        steps (int): how many values.
        base (float): the base of the powers.
        dtype (dtype, optional): default `get_default_dtype()`.
        device (device or str, optional): 'cpu' (default), 'cuda', 'fake'.
        requires_grad (bool): make the result a leaf that records operations.

    Returns:
        Tensor: 1-D, of `steps` values.

    Example:
        >>> import chainrule
        >>> chainrule.logspace(0, 2, steps=3)
        tensor([  1.,  10., 100.])
    """
    if steps < 0:
        raise DomainError(f"logspace: number of steps must be non-negative, got {steps}")
    backend = backend_for_device(device)
    xp = backend.xp
    if isinstance(_plain(start), complex) or isinstance(_plain(end), complex):
        exponents = linspace(start, end, steps, dtype=dtypes.complex128, device=device)._array
        default = dtypes.complex_of(dtypes.get_default_dtype())
        target = _numpy_dtype(dtype) or default.numpy
        values = xp.power(xp.asarray(_plain(base), dtype=xp.complex128), exponents)
        return _finish(values.astype(target), requires_grad)
    target = _numpy_dtype(dtype) or dtypes.get_default_dtype().numpy
    if steps == 1:  # PyTorch checks the one value it makes, else the bounds
        try:
            value = math.pow(float(_plain(base)), float(_plain(start)))
        except OverflowError:
            value = math.inf
        except ValueError:  # a negative base to a fractional power
            value = math.nan
        checked_fill("logspace", value, as_dtype(target))
    elif steps > 1:
        _check_bounds_fit("logspace", (start, end), target)
    # PyTorch's kernel: the exponents counted up from start for the first half, down from end
    # for the rest, in double from the bounds as the result's dtype, each rounded per operation
    # (one step: base ** start, the start uncast)
    first = xp.asarray(_plain(start)).astype(target if steps > 1 else xp.float64)
    first = first.astype(xp.float64)
    last = xp.asarray(_plain(end)).astype(target).astype(xp.float64)
    step = (last - first) / builtins.max(steps - 1, 1)
    index = xp.arange(steps, dtype=xp.float64)
    rising = index < builtins.max(steps // 2, 1)  # one step: the start
    exponents = xp.where(rising, first + step * index, last - step * (steps - 1 - index))
    with quiet_float_errors():  # an overflow is inf, as PyTorch's
        values = xp.power(xp.asarray(_plain(base), dtype=xp.float64), exponents)
        if target.kind in "iu":  # PyTorch's cast (x86's): through int32 for 32 bits or
            # fewer, wrapping (inf is -2**31), or int64
            values = values.astype(xp.int64 if target.itemsize == 8 else xp.int32)
    return _finish(values.astype(target), requires_grad)


def eye(
    n: int,
    m: int | None = None,
    *,
    dtype: dtypes.dtype | None = None,
    device: Device | str | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """The n x m identity matrix (m defaults to n): ones on the diagonal, zeros elsewhere.

    Args:
        n (int): the number of rows.
        m (int, optional): the number of columns; default n.
        dtype (dtype, optional): default `get_default_dtype()`.
        device (device or str, optional): 'cpu' (default), 'cuda', 'fake'.
        requires_grad (bool): make the result a leaf that records operations.

    Returns:
        Tensor: (n, m).

    Example:
        >>> import chainrule
        >>> chainrule.eye(2, 3)
        tensor([[1., 0., 0.],
                [0., 1., 0.]])
    """
    backend = backend_for_device(device)
    target = _numpy_dtype(dtype) or dtypes.get_default_dtype().numpy
    return _finish(backend.xp.eye(n, m, dtype=target), requires_grad)


# ---- window functions (torch.signal's classics, as PyTorch's top level has them) -------------


def _window(
    name: str,
    window_length: int,
    periodic: bool,
    dtype: Any,
    device: Any,
    requires_grad: bool,
    values: Any,
) -> Tensor:
    """A window of `window_length` points: `values(xp, n, denominator)` of the float64 sample
    positions n = 0, 1, ... over denominator N - 1 (N + 1 - 1 when periodic: the symmetric
    window one point longer, its last point dropped)."""
    target = as_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    if not target.is_floating_point:
        raise DTypeError(f"{name}: expected a floating point dtype, got {target.name}")
    if window_length < 0:
        raise DomainError(f"{name} requires non-negative window_length, got {window_length}")
    xp = backend_for_device(device).xp
    if window_length <= 1:
        array = xp.ones(window_length, dtype=target.numpy)
        return _finish(array, requires_grad)
    length = window_length + 1 if periodic else window_length
    n = xp.arange(window_length, dtype=xp.float64)
    return _finish(values(xp, n, length - 1).astype(target.numpy), requires_grad)


def _raised_cosine(alpha: float, beta: float) -> Any:
    """The values of Hamming's family of windows: alpha - beta cos(2 pi n / (N - 1))."""

    def values(xp: Any, n: Array, denominator: int) -> Array:
        return alpha - beta * xp.cos(2 * xp.pi * n / denominator)

    return values


def hann_window(
    window_length: int,
    periodic: bool = True,
    *,
    dtype: dtypes.dtype | None = None,
    device: Device | str | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """The Hann window, 0.5 - 0.5 cos(2 pi n / (N - 1)); periodic (the default, for spectral
    analysis) is the symmetric window of N + 1 points without its last.

    Args:
        window_length (int): N, the number of points.
        periodic (bool): drop the last point of a window one longer.
        dtype (dtype, optional): floating; default `get_default_dtype()`.
        device (device or str, optional): 'cpu' (default), 'cuda', 'fake'.
        requires_grad (bool): make the result a leaf that records operations.

    Returns:
        Tensor: 1-D, of N values.

    Example:
        >>> import chainrule
        >>> chainrule.hann_window(4)
        tensor([0.0000, 0.5000, 1.0000, 0.5000])
    """
    values = _raised_cosine(0.5, 0.5)
    return _window("hann_window", window_length, periodic, dtype, device, requires_grad, values)


def hamming_window(
    window_length: int,
    periodic: bool = True,
    alpha: float = 0.54,
    beta: float = 0.46,
    *,
    dtype: dtypes.dtype | None = None,
    device: Device | str | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """The Hamming window, alpha - beta cos(2 pi n / (N - 1)); periodic as `hann_window`.

    Args:
        window_length (int): N, the number of points.
        periodic (bool): drop the last point of a window one longer.
        alpha (float): the constant term.
        beta (float): the cosine's weight.
        dtype (dtype, optional): floating; default `get_default_dtype()`.
        device (device or str, optional): 'cpu' (default), 'cuda', 'fake'.
        requires_grad (bool): make the result a leaf that records operations.

    Returns:
        Tensor: 1-D, of N values.

    Example:
        >>> import chainrule
        >>> chainrule.hamming_window(3, periodic=False)
        tensor([0.0800, 1.0000, 0.0800])
    """
    values = _raised_cosine(alpha, beta)
    return _window("hamming_window", window_length, periodic, dtype, device, requires_grad, values)


def blackman_window(
    window_length: int,
    periodic: bool = True,
    *,
    dtype: dtypes.dtype | None = None,
    device: Device | str | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """The Blackman window, 0.42 - 0.5 cos(2 pi n / (N - 1)) + 0.08 cos(4 pi n / (N - 1));
    periodic as `hann_window`.

    Args:
        window_length (int): N, the number of points.
        periodic (bool): drop the last point of a window one longer.
        dtype (dtype, optional): floating; default `get_default_dtype()`.
        device (device or str, optional): 'cpu' (default), 'cuda', 'fake'.
        requires_grad (bool): make the result a leaf that records operations.

    Returns:
        Tensor: 1-D, of N values.

    Example:
        >>> import chainrule
        >>> chainrule.blackman_window(5, periodic=False)[1:4]
        tensor([0.3400, 1.0000, 0.3400])
    """

    def values(xp: Any, n: Array, denominator: int) -> Array:
        phase = 2 * xp.pi * n / denominator
        return 0.42 - 0.5 * xp.cos(phase) + 0.08 * xp.cos(2 * phase)

    return _window("blackman_window", window_length, periodic, dtype, device, requires_grad, values)


def bartlett_window(
    window_length: int,
    periodic: bool = True,
    *,
    dtype: dtypes.dtype | None = None,
    device: Device | str | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """The Bartlett (triangular) window, 1 - |2 n / (N - 1) - 1|; periodic as `hann_window`.

    Args:
        window_length (int): N, the number of points.
        periodic (bool): drop the last point of a window one longer.
        dtype (dtype, optional): floating; default `get_default_dtype()`.
        device (device or str, optional): 'cpu' (default), 'cuda', 'fake'.
        requires_grad (bool): make the result a leaf that records operations.

    Returns:
        Tensor: 1-D, of N values.

    Example:
        >>> import chainrule
        >>> chainrule.bartlett_window(5, periodic=False)
        tensor([0.0000, 0.5000, 1.0000, 0.5000, 0.0000])
    """

    def values(xp: Any, n: Array, denominator: int) -> Array:
        return 1 - xp.abs(2 * n / denominator - 1)

    return _window("bartlett_window", window_length, periodic, dtype, device, requires_grad, values)


def kaiser_window(
    window_length: int,
    periodic: bool = True,
    beta: float = 12.0,
    *,
    dtype: dtypes.dtype | None = None,
    device: Device | str | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """The Kaiser window, I0(beta sqrt(1 - (2 n / (N - 1) - 1)^2)) / I0(beta), with I0 the
    modified Bessel function of order 0; periodic as `hann_window`.

    Args:
        window_length (int): N, the number of points.
        periodic (bool): drop the last point of a window one longer.
        beta (float): the shape parameter (larger: narrower).
        dtype (dtype, optional): floating; default `get_default_dtype()`.
        device (device or str, optional): 'cpu' (default), 'cuda', 'fake'.
        requires_grad (bool): make the result a leaf that records operations.

    Returns:
        Tensor: 1-D, of N values.

    Example:
        >>> import chainrule
        >>> chainrule.kaiser_window(3, periodic=False, beta=0.0)
        tensor([1., 1., 1.])
    """

    def values(xp: Any, n: Array, denominator: int) -> Array:
        ratio = 2 * n / denominator - 1
        scale = xp.asarray(beta, dtype=xp.float64)
        return xp.i0(scale * xp.sqrt(xp.clip(1 - ratio * ratio, 0, None))) / xp.i0(scale)

    return _window("kaiser_window", window_length, periodic, dtype, device, requires_grad, values)


def scalar_tensor(
    s: float | bool | complex,
    *,
    dtype: dtypes.dtype | None = None,
    device: Device | str | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """A 0-d tensor holding the number `s`, of the default dtype (float32) unless `dtype` says
    otherwise: even an int makes a float tensor, unlike `tensor(s)`.

    Args:
        s (number): the value.
        dtype (dtype, optional): default `get_default_dtype()`.
        device (device or str, optional): 'cpu' (default), 'cuda', 'fake'.
        requires_grad (bool): make the result a leaf that records operations.

    Returns:
        Tensor: 0-d.

    Example:
        >>> import chainrule
        >>> chainrule.scalar_tensor(3)
        tensor(3.)
    """
    return full((), s, dtype=dtype or dtypes.get_default_dtype(), device=device,
                requires_grad=requires_grad)  # fmt: skip


def empty_permuted(
    size: Sequence[int],
    physical_layout: Sequence[int],
    *,
    dtype: dtypes.dtype | None = None,
    device: Device | str | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """An uninitialized tensor of `size`, as `empty`: PyTorch lays its memory out in the
    order `physical_layout` gives, which chainrule checks (a permutation of the dimensions)
    and leaves to the backend (its strides are row-major).

    Args:
        size (list of int): the shape.
        physical_layout (list of int): the dimensions from outermost to innermost in memory.
        dtype (dtype, optional): default `get_default_dtype()`.
        device (device or str, optional): 'cpu' (default), 'cuda', 'fake'.
        requires_grad (bool): make the result a leaf that records operations.

    Returns:
        Tensor: of `size`, values unspecified.

    Example:
        >>> import chainrule
        >>> chainrule.empty_permuted((2, 3, 4), (0, 2, 1)).shape
        chainrule.Size([2, 3, 4])
    """
    if sorted(physical_layout) != list(builtins.range(len(size))):
        raise ValueError(
            f"empty_permuted: physical_layout {list(physical_layout)} is not a permutation of "
            f"the {len(size)} dimensions of size {list(size)}"
        )
    return empty(tuple(size), dtype=dtype, device=device, requires_grad=requires_grad)


def frombuffer(
    buffer: object,
    *,
    dtype: dtypes.dtype,
    count: int = -1,
    offset: int = 0,
    requires_grad: bool = False,
) -> Tensor:
    """A 1-D CPU tensor over the bytes of an object with the buffer protocol (bytes,
    bytearray, array.array, memoryview), without copying: it shares that memory.

    Args:
        buffer (object): anything exposing the buffer protocol.
        dtype (dtype): how to read the bytes.
        count (int): how many elements to read; -1 for all after `offset`.
        offset (int): how many bytes to skip first.
        requires_grad (bool): make the result a leaf that records operations.

    Returns:
        Tensor: 1-D, of `count` elements.

    Example:
        >>> import array
        >>> import chainrule
        >>> chainrule.frombuffer(array.array("i", [1, 2, 3]), dtype=chainrule.int32, offset=4)
        tensor([2, 3], dtype=chainrule.int32)
    """
    xp = backend_for_device("cpu").xp  # a host buffer's memory: on the CPU, as PyTorch's
    target = as_dtype(dtype).numpy
    size = memoryview(buffer).nbytes
    if offset < 0 or offset >= size and size:
        raise ValueError(f"frombuffer: offset must be in [0, {size}), got {offset}")
    if size == 0:
        raise ValueError("frombuffer: both buffer length (0) and count (-1) must not be 0")
    return _finish(xp.frombuffer(buffer, dtype=target, count=count, offset=offset), requires_grad)


# ---- triangle indices ------------------------------------------------------------------------


def _triangle_indices(name: str, row: int, col: int, offset: int, dtype: Any, device: Any) -> Any:
    for label, size in (("row", row), ("col", col)):
        if size < 0:
            raise ShapeError(f"{name}: {label} must be non-negative, got {size}")
    target = as_dtype(dtype)
    if target.category != dtypes.INTEGER:
        raise DTypeError(f"{name}: not implemented for {target.name} (expected an integer dtype)")
    xp = backend_for_device(device).xp
    rows, cols = getattr(xp, name)(row, offset, col)  # NumPy's names and order of results
    return _finish(xp.stack((rows, cols)).astype(target.numpy), False)


def tril_indices(
    row: int,
    col: int,
    offset: int = 0,
    *,
    dtype: dtypes.dtype = dtypes.int64,
    device: Device | str | None = None,
    layout: object = None,
) -> Tensor:
    """The (2, N) coordinates (rows, then columns) of the lower triangle of a row x col matrix, row
    by row; `offset` moves the diagonal up (> 0) or down (< 0).

    Args:
        row (int): the number of rows.
        col (int): the number of columns.
        offset (int): the diagonal the triangle starts from (0 the main one).
        dtype (dtype): the index dtype (int64 or int32).
        device (device or str, optional): 'cpu' (default), 'cuda', 'fake'.
        layout (optional): accepted for compatibility (strided only).

    Returns:
        Tensor: (2, N) integer coordinates.

    Example:
        >>> import chainrule
        >>> chainrule.tril_indices(3, 3, -1)
        tensor([[1, 2, 2],
                [0, 0, 1]])
    """
    return _triangle_indices("tril_indices", row, col, offset, dtype, device)


def triu_indices(
    row: int,
    col: int,
    offset: int = 0,
    *,
    dtype: dtypes.dtype = dtypes.int64,
    device: Device | str | None = None,
    layout: object = None,
) -> Tensor:
    """The (2, N) coordinates (rows, then columns) of the upper triangle of a row x col matrix, row
    by row; `offset` moves the diagonal up (> 0) or down (< 0).

    Args:
        row (int): the number of rows.
        col (int): the number of columns.
        offset (int): the diagonal the triangle starts from (0 the main one).
        dtype (dtype): the index dtype (int64 or int32).
        device (device or str, optional): 'cpu' (default), 'cuda', 'fake'.
        layout (optional): accepted for compatibility (strided only).

    Returns:
        Tensor: (2, N) integer coordinates.

    Example:
        >>> import chainrule
        >>> chainrule.triu_indices(2, 3, 1)
        tensor([[0, 0, 1],
                [1, 2, 2]])
    """
    return _triangle_indices("triu_indices", row, col, offset, dtype, device)


# ---- random ----------------------------------------------------------------------------------


class Generator:
    """A random number generator: `Generator().manual_seed(0)` gives a reproducible stream.

    Pass one as `generator=` to the random factories and `nn.init` functions to draw from a
    stream of its own, unaffected by `manual_seed` elsewhere.

    Args:
        device (device or str): where the numbers it draws are made.

    Example:
        >>> import chainrule
        >>> g = chainrule.Generator().manual_seed(0)
        >>> first = chainrule.rand(3, generator=g)
        >>> _ = g.manual_seed(0)
        >>> bool((chainrule.rand(3, generator=g) == first).all())
        True
    """

    def __init__(self, device: Device | str = "cpu") -> None:
        self._backend = backend_for_device(device)
        self._seed = 67280421310721  # PyTorch's default seed
        self._rng: Any = None  # made on first use: numpy.random is slow to import

    def manual_seed(self, seed: int) -> Generator:
        """Seed this generator (an int in [-2**63, 2**64), as PyTorch); returns it."""
        active = observers.get()
        if active is not None:  # chainrule.compile replays the reseeding
            return observed_effect(active, self, "manual_seed", seed)
        seed = int(seed)
        if not -(2**63) <= seed < 2**64:
            raise ValueError(f"manual_seed: seed must be in [-2**63, 2**64), got {seed}")
        self._seed = seed % 2**64  # a negative seed wraps around as a uint64, as in PyTorch
        self._rng = self._backend.rng(self._seed)
        return self

    def seed(self) -> int:
        """Seed from a non-deterministic source; returns the seed used."""
        import secrets

        return self.manual_seed(secrets.randbits(63))._seed

    def initial_seed(self) -> int:
        """The seed this generator was last seeded with."""
        return self._seed

    def get_state(self) -> Tensor:
        """The full state as a 1-D uint8 tensor (PyTorch's ByteTensor), to restore with
        `set_state` and replay the same numbers; it holds the seed too, as PyTorch's does."""
        state = self.rng.bit_generator.state
        if state.get("bit_generator") != "PCG64":  # another backend's stream: its own form
            return state
        return tensor(list(_pack_pcg64_state(self._seed, state)), dtype=dtypes.uint8)

    def set_state(self, new_state: Tensor | dict[str, object]) -> Generator:
        """Restore a state from `get_state` (or the dict that earlier chainrule versions returned,
        so old checkpoints load); returns this generator."""
        if isinstance(new_state, dict) and "bit_generator" in new_state:
            self.rng.bit_generator.state = new_state
            return self
        seed, state = _unpack_pcg64_state(new_state)
        self.rng.bit_generator.state = state
        self._seed = seed
        return self

    def clone_state(self) -> Generator:
        """A new generator of the same device in this one's state: both draw the same numbers
        from here on, independently."""
        clone = Generator(self._backend.device)
        clone._seed = self._seed
        clone._rng = self._backend.rng(self._seed)
        clone.set_state(self.get_state())
        return clone

    def get_offset(self) -> int:
        """PyTorch's Philox offset, which only its CUDA generators have: RuntimeError here."""
        raise RuntimeError(f"{self._backend.device.type.upper()} Generator does not use offset")

    def set_offset(self, offset: int) -> Generator:  # noqa: ARG002 - PyTorch's signature
        """PyTorch's Philox offset, which only its CUDA generators have: RuntimeError here."""
        raise RuntimeError(f"{self._backend.device.type.upper()} Generator does not use offset")

    @property
    def device(self) -> Device:
        """The device the numbers it draws are made on (a chainrule.device, as torch's)."""
        return self._backend.device

    @property
    def rng(self) -> Any:
        if self._rng is None:
            self._rng = self._backend.rng(self._seed)
        return self._rng


# The generator state as bytes, little-endian: the seed (8), PCG64's 128-bit state and
# increment (16 + 16), whether a 32-bit half is buffered and that half (4 + 4).
_PCG64_STATE_FIELDS = (("seed", 8), ("state", 16), ("inc", 16), ("has_uint32", 4), ("uinteger", 4))
_PCG64_STATE_SIZE = sum(width for _, width in _PCG64_STATE_FIELDS)


def _pack_pcg64_state(seed: int, state: dict[str, Any]) -> bytes:
    values = {**state, **state["state"], "seed": seed}
    return b"".join(
        int(values[name]).to_bytes(width, "little") for name, width in _PCG64_STATE_FIELDS
    )


def _unpack_pcg64_state(new_state: Any) -> tuple[int, dict[str, Any]]:
    """The seed and NumPy's PCG64 state dict from a `get_state` tensor; PyTorch's errors
    for anything else (a TypeError for a tensor of another dtype, a RuntimeError for a size)."""
    if not isinstance(new_state, Tensor):
        raise TypeError(f"expected a torch.ByteTensor, but got {type(new_state).__name__}")
    if new_state.dtype != dtypes.uint8:
        raise TypeError("RNG state must be a torch.ByteTensor")
    if new_state.numel() != _PCG64_STATE_SIZE:
        raise RuntimeError(
            f"Expected a chainrule generator state of size {_PCG64_STATE_SIZE} but found the "
            f"input RNG state size to be {new_state.numel()}"
        )
    blob = bytes(new_state.reshape(-1).tolist())
    values, start = {}, 0
    for name, width in _PCG64_STATE_FIELDS:
        values[name] = int.from_bytes(blob[start : start + width], "little")
        start += width
    state = {
        "bit_generator": "PCG64",
        "state": {"state": values["state"], "inc": values["inc"]},
        "has_uint32": values["has_uint32"],
        "uinteger": values["uinteger"],
    }
    return values["seed"], state


default_generator = Generator()
# Each other device type draws from a default generator of its own, on the device (as CUDA has
# its own in PyTorch), made on first use with the seed manual_seed gave last.
_device_generators: dict[str, Generator] = {}
_last_seed = [default_generator.initial_seed()]


def device_generator(backend: Any) -> Generator:
    """The default generator of `backend`'s device."""
    if backend is default_generator._backend:
        return default_generator
    kind = backend.device.type
    generator = _device_generators.get(kind)
    if generator is None:
        generator = _device_generators[kind] = Generator(kind).manual_seed(_last_seed[0])
    return generator


def manual_seed(seed: int) -> Generator:
    """Seed the default generator of every device, so every random op after it is reproducible
    (PyTorch's torch.manual_seed seeds CUDA's too).

    Args:
        seed (int): the seed.

    Returns:
        Generator: the default generator.

    Example:
        >>> import chainrule
        >>> _ = chainrule.manual_seed(0)
        >>> a = chainrule.rand(2)
        >>> _ = chainrule.manual_seed(0)
        >>> bool((chainrule.rand(2) == a).all())
        True
    """
    _last_seed[0] = int(seed)
    for generator in _device_generators.values():
        generator.manual_seed(seed)
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the default generator from a non-deterministic source.

    Returns:
        int: the seed used (`initial_seed()` gives it back).

    Example:
        >>> import chainrule
        >>> chainrule.seed() == chainrule.initial_seed()
        True
    """
    return default_generator.seed()


def initial_seed() -> int:
    """The seed the default generator was last seeded with (by `manual_seed` or `seed`).

    Returns:
        int: the seed.

    Example:
        >>> import chainrule
        >>> _ = chainrule.manual_seed(7)
        >>> chainrule.initial_seed()
        7
    """
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    """The default generator's state, to restore with `set_rng_state` (so a run can be replayed).

    Returns:
        Tensor: a 1-D uint8 tensor, as PyTorch's (its bytes are chainrule's own stream's
        state, so they differ from PyTorch's).

    Example:
        >>> import chainrule
        >>> state = chainrule.get_rng_state()
        >>> a = chainrule.rand(2)
        >>> chainrule.set_rng_state(state)
        >>> bool((chainrule.rand(2) == a).all())
        True
    """
    return default_generator.get_state()


def set_rng_state(new_state: Tensor | dict) -> None:
    """Restore the default generator to a state from `get_rng_state`.

    Args:
        new_state (Tensor): what `get_rng_state` returned (a dict from an older chainrule
            is accepted too).

    Example:
        >>> import chainrule
        >>> state = chainrule.get_rng_state()
        >>> a = chainrule.randn(3)
        >>> chainrule.set_rng_state(state)
        >>> bool((chainrule.randn(3) == a).all())
        True
    """
    default_generator.set_state(new_state)


def _rng(generator: Generator | None, device: Device | str | None = None) -> Any:
    """The stream to draw from: `generator`, else the default one of `device` (a device
    name or object, or a backend)."""
    active = observers.get()
    if active is not None:  # vmap's randomness modes
        for observer in active:
            observer.random_draw()
    if generator is not None:
        return generator.rng
    if device is None:
        device = _default_device_if_set()
        if device is None:
            return default_generator.rng
    backend = device if hasattr(device, "array_type") else backend_for_device(device)
    return device_generator(backend).rng


def _draw_levels() -> list:
    """The active vmap levels with randomness='different' (outermost first): a random draw
    inside them is made once per example of each."""
    active = observers.get()
    if active is None:
        return []
    return [o for o in active if o.per_example_draws() is not None]


def _per_example(draw: Any, shape: tuple) -> Tensor:
    """draw(shape), a tensor of random numbers; inside vmap(randomness='different'), one draw
    per example: draw((*batch sizes, *shape)) seen as each example's tensor."""
    levels = _draw_levels()
    if not levels:
        return draw(shape)
    draws = draw(tuple(level.per_example_draws() for level in levels) + shape)
    for level in levels:
        draws = level.as_per_example(draws)
    return draws


def random_input(tensor: Tensor) -> Tensor:
    """A parameter of a random draw (bernoulli's probabilities): inside vmap, refused where
    it is batched under randomness='same' (as PyTorch), made batched under 'different' (so
    the draw's batch rule draws per example)."""
    active = observers.get()
    if active is None:
        return tensor
    for observer in active:
        tensor = observer.random_input(tensor)
    return tensor


def _random_float(
    kind: str, size: Sequence, generator: Any, dtype: Any, device: Any, requires_grad: bool
) -> Any:
    shape = normalize_size(size)
    target = _numpy_dtype(dtype) or dtypes.get_default_dtype().numpy
    if target.kind not in "fcV":
        raise DTypeError(f"{kind}: expected a floating point or complex dtype, got {target}")

    def draw(shape: tuple) -> Tensor:
        return _finish(_float_draws(kind, shape, generator, target, device), False)

    result = _per_example(draw, shape)
    return result.requires_grad_(True) if requires_grad else result


def _float_draws(kind: str, shape: tuple, generator: Any, target: Any, device: Any) -> Array:
    """rand's or randn's numbers of `shape` and NumPy dtype `target`, on `device`."""
    if target.kind == "c":  # PyTorch's: each part drawn so that E|z|^2 is 1 (randn), or U[0, 1)
        parts = dtypes.real_of(dtypes.from_numpy_dtype(target)).numpy
        real = _float_draws(kind, shape, generator, parts, device)
        imag = _float_draws(kind, shape, generator, parts, device)
        scale = 1.0 if kind == "rand" else 0.5**0.5
        return (real * scale + 1j * (imag * scale)).astype(target, copy=False)
    rng = _rng(generator, device)
    work = target if target.itemsize >= 4 else dtypes.float32.numpy
    if kind == "rand":
        array = rng.random(shape, dtype=work)
    else:
        array = rng.standard_normal(shape, dtype=work)
    return _on_device(array.astype(target, copy=False), device)


def _default_device_if_set() -> Device | None:
    """The device set_default_device set, or None while it is the CPU."""
    default = get_default_device()
    return None if default.type == "cpu" else default


def _on_device(array: Array, device: Any) -> Array:
    """`array` (drawn by a generator, on its device) moved to `device` when one is named (or
    set_default_device set one)."""
    if device is None:
        device = _default_device_if_set()
        if device is None:
            return array
    backend = backend_for_device(device)
    source = backend_of_array(array)
    if source is backend:
        return array
    return backend.from_numpy(source.to_numpy(array))


def rand(
    *size: int | Sequence[int],
    generator: Generator | None = None,
    dtype: dtypes.dtype | None = None,
    device: Device | str | None = None,
    requires_grad: bool = False,
    **kwargs: object,
) -> Tensor:
    """Samples drawn uniformly from [0, 1).

    Args:
        size (int...): the shape, as separate ints or one sequence.
        generator (Generator, optional): draw from this generator instead of the default one.
        dtype (dtype, optional): floating point; default `get_default_dtype()`.
        device (device or str, optional): 'cpu' (default), 'cuda', 'fake'.
        requires_grad (bool): make the result a leaf that records operations.
        **kwargs: `size=` (PyTorch's keyword form of the shape), `out=` (as `zeros`'s), and
            PyTorch's `layout` and `pin_memory`, accepted and ignored.

    Returns:
        Tensor: of shape `size`.

    Example:
        >>> import chainrule
        >>> _ = chainrule.manual_seed(0)
        >>> chainrule.rand(2, 3).shape
        chainrule.Size([2, 3])
    """
    out = kwargs.get("out")
    dtype, device = (
        (dtype or out.dtype, device or out.device) if out is not None else (dtype, device)
    )
    result = _random_float(
        "rand", _factory_size("rand", size, kwargs), generator, dtype, device, requires_grad
    )
    return _into("rand", result, out)


def randn(
    *size: int | Sequence[int],
    generator: Generator | None = None,
    dtype: dtypes.dtype | None = None,
    device: Device | str | None = None,
    requires_grad: bool = False,
    **kwargs: object,
) -> Tensor:
    """Samples from the standard normal distribution (mean 0, variance 1).

    Args:
        size (int...): the shape, as separate ints or one sequence.
        generator (Generator, optional): draw from this generator instead of the default one.
        dtype (dtype, optional): floating point; default `get_default_dtype()`.
        device (device or str, optional): 'cpu' (default), 'cuda', 'fake'.
        requires_grad (bool): make the result a leaf that records operations.
        **kwargs: `size=` (PyTorch's keyword form of the shape), `out=` (as `zeros`'s), and
            PyTorch's `layout` and `pin_memory`, accepted and ignored.

    Returns:
        Tensor: of shape `size`.

    Example:
        >>> import chainrule
        >>> _ = chainrule.manual_seed(0)
        >>> chainrule.randn(2, 3).shape
        chainrule.Size([2, 3])
    """
    out = kwargs.get("out")
    dtype, device = (
        (dtype or out.dtype, device or out.device) if out is not None else (dtype, device)
    )
    result = _random_float(
        "randn", _factory_size("randn", size, kwargs), generator, dtype, device, requires_grad
    )
    return _into("randn", result, out)


def rand_like(
    input: Tensor,  # noqa: A002
    *,
    generator: Generator | None = None,
    dtype: dtypes.dtype | None = None,
    requires_grad: bool = False,
    **kwargs: object,
) -> Tensor:
    """Uniform samples on [0, 1) with the shape (and by default the dtype and device) of `input`.

    Args:
        input (Tensor): the tensor whose shape, dtype and device are copied.
        generator (Generator, optional): draw from this generator instead of the default one.
        dtype (dtype, optional): override `input`'s dtype (floating point).
        requires_grad (bool): make the result a leaf that records operations.
        **kwargs: `device` overrides `input`'s device; `memory_format` as `zeros_like`'s
            (a transposed `input` gives a transposed result); PyTorch's others are ignored.

    Returns:
        Tensor: of `input`'s shape.

    Example:
        >>> import chainrule
        >>> chainrule.rand_like(chainrule.zeros(2, 2)).shape
        chainrule.Size([2, 2])
    """
    device = kwargs.get("device") or input.device
    out = rand(input.shape, generator=generator, dtype=dtype or input.dtype, device=device)
    out = _in_layout_of(out, input, kwargs.get("memory_format"))
    return out.requires_grad_(True) if requires_grad else out


def randn_like(
    input: Tensor,  # noqa: A002
    *,
    generator: Generator | None = None,
    dtype: dtypes.dtype | None = None,
    requires_grad: bool = False,
    **kwargs: object,
) -> Tensor:
    """Standard normal samples with the shape (and by default the dtype and device) of `input`.

    Args:
        input (Tensor): the tensor whose shape, dtype and device are copied.
        generator (Generator, optional): draw from this generator instead of the default one.
        dtype (dtype, optional): override `input`'s dtype (floating point).
        requires_grad (bool): make the result a leaf that records operations.
        **kwargs: `device` overrides `input`'s device; `memory_format` as `zeros_like`'s
            (a transposed `input` gives a transposed result); PyTorch's others are ignored.

    Returns:
        Tensor: of `input`'s shape.

    Example:
        >>> import chainrule
        >>> chainrule.randn_like(chainrule.zeros(2, 2)).shape
        chainrule.Size([2, 2])
    """
    device = kwargs.get("device") or input.device
    out = randn(input.shape, generator=generator, dtype=dtype or input.dtype, device=device)
    out = _in_layout_of(out, input, kwargs.get("memory_format"))
    return out.requires_grad_(True) if requires_grad else out


def randint(
    low: int | None = None,
    high: int | Sequence[int] | None = None,
    size: Sequence[int] | None = None,
    *,
    generator: Generator | None = None,
    dtype: dtypes.dtype | None = None,
    device: Device | str | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """Integers drawn uniformly from [low, high); `randint(high, size)` starts at 0, as PyTorch.

    Args:
        low (int, optional): the smallest value, default 0 (or `high`, when `high` is not
            given).
        high (int): the bound, excluded (`randint(high=5, size=(2,))` as PyTorch takes it).
        size (sequence of ints): the shape.
        generator (Generator, optional): draw from this generator instead of the default one.
        dtype (dtype, optional): default int64.
        device (device or str, optional): 'cpu' (default), 'cuda', 'fake'.
        requires_grad (bool): make the result a leaf that records operations.

    Returns:
        Tensor: of shape `size`.

    Example:
        >>> import chainrule
        >>> x = chainrule.randint(5, 10, (3,))
        >>> x.dtype, bool(((x >= 5) & (x < 10)).all())
        (chainrule.int64, True)
        >>> chainrule.randint(3, (2, 2)).shape
        chainrule.Size([2, 2])
    """
    if isinstance(high, (tuple, list)):  # randint(high, size)
        if size is not None or low is None:
            raise TypeError("randint() received an invalid combination of arguments")
        low, high, size = 0, low, high
    elif high is None:
        if low is None:
            raise TypeError('randint() missing 1 required positional arguments: "high"')
        low, high = 0, low
    elif low is None:  # randint(high=5, size=...)
        low = 0
    if size is None:
        raise TypeError('randint() missing 1 required positional arguments: "size"')
    if low >= high:
        raise DomainError(
            f"randint: random_ expects 'from' to be less than 'to', but got from={low} >= to={high}"
        )
    check_random_bounds(low, high, dtype or dtypes.int64)
    target = _numpy_dtype(dtype) or dtypes.int64.numpy

    def draw(shape: tuple) -> Tensor:
        array = _rng(generator, device).integers(low, high, size=shape).astype(target)
        return _finish(_on_device(array, device), False)

    result = _per_example(draw, normalize_size((size,)))
    return result.requires_grad_(True) if requires_grad else result


_FLOAT_DIGITS = {"float16": 11, "bfloat16": 8, "float32": 24, "float64": 53}
# the integer dtypes' ranges, under the C names PyTorch's messages give them
_INT_BOUNDS = {
    "bool": ("bool", 0, 1),
    "uint8": ("unsigned char", 0, 255),
    "int8": ("signed char", -(2**7), 2**7 - 1),
    "int16": ("short", -(2**15), 2**15 - 1),
    "int32": ("int", -(2**31), 2**31 - 1),
    "int64": ("long", -(2**63), 2**63 - 1),
}


def check_random_bounds(low: int, high: int, dtype: dtypes.dtype) -> None:
    """PyTorch's check of random_'s [low, high) against `dtype` (randint, randint_like and
    random_ share it): an integer dtype must hold low and high - 1; a floating one holds
    integers exactly only up to 2 ** digits, which is a warning; complex is refused."""
    name = as_dtype(dtype).name
    if name in _FLOAT_DIGITS:
        bound = 2 ** _FLOAT_DIGITS[name]
        for what, value in (("from", low), ("to - 1", high - 1)):
            if not -bound <= value <= bound:
                warnings.warn(
                    f"{what} is out of bounds [-(2^{_FLOAT_DIGITS[name]}), "
                    f"2^{_FLOAT_DIGITS[name]}]. Due to precision limitations {name} can support "
                    "discrete uniform distribution only within this range.",
                    UserWarning,
                    stacklevel=3,
                )
        return
    if name not in _INT_BOUNDS:
        raise DTypeError(
            "check_random_bounds handles only integral, floating-point and boolean types"
        )
    c_name, smallest, largest = _INT_BOUNDS[name]
    if not smallest <= low <= largest:
        raise DomainError(f"from is out of bounds for {c_name}")
    if not smallest <= high - 1 <= largest:
        raise DomainError(f"to - 1 is out of bounds for {c_name}")


def randint_like(
    input: Tensor,  # noqa: A002
    low: int,
    high: int | None = None,
    *,
    generator: Generator | None = None,
    requires_grad: bool = False,
    **kwargs: object,
) -> Tensor:
    """Random integers in [low, high) (in [0, low) when `high` is None) with the shape, dtype and
    device of `input`.

    Args:
        input (Tensor): the tensor whose shape, dtype and device are copied.
        low (int): the smallest value (or `high`, when `high` is not given).
        high (int, optional): the bound, excluded.
        generator (Generator, optional): draw from this generator instead of the default one.
        requires_grad (bool): make the result a leaf that records operations (floating only).
        **kwargs: `dtype` and `device` override `input`'s; `memory_format` as `zeros_like`'s.

    Returns:
        Tensor: of `input`'s shape.

    Example:
        >>> import chainrule
        >>> chainrule.randint_like(chainrule.tensor([1, 2, 3]), 10).shape
        chainrule.Size([3])
    """
    dtype = kwargs.get("dtype") or input.dtype
    device = kwargs.get("device") or input.device
    out = randint(low, high, input.shape, generator=generator, dtype=dtype, device=device)
    out = _in_layout_of(out, input, kwargs.get("memory_format"))
    return out.requires_grad_(True) if requires_grad else out


def randperm(
    n: int,
    *,
    generator: Generator | None = None,
    dtype: dtypes.dtype | None = None,
    device: Device | str | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """A random permutation of 0, ..., n - 1 (int64 by default).

    Args:
        n (int): the length.
        generator (Generator, optional): draw from this generator instead of the default one.
        dtype (dtype, optional): default int64.
        device (device or str, optional): 'cpu' (default), 'cuda', 'fake'.
        requires_grad (bool): make the result a leaf that records operations.

    Returns:
        Tensor: 1-D, of n values.

    Example:
        >>> import chainrule
        >>> sorted(chainrule.randperm(4).tolist())
        [0, 1, 2, 3]
    """
    target = _numpy_dtype(dtype) or dtypes.int64.numpy

    def draw(shape: tuple) -> Tensor:
        rng = _rng(generator, device)
        if len(shape) == 1:
            order = rng.permutation(n)
        else:  # one permutation per example (vmap): the order of independent uniform keys
            order = rng.random(shape).argsort(axis=-1)
        return _finish(_on_device(order.astype(target), device), False)

    result = _per_example(draw, (n,))
    return result.requires_grad_(True) if requires_grad else result


def normal(
    mean: float | Tensor = 0.0,
    std: float | Tensor = 1.0,
    size: Sequence[int] | None = None,
    *,
    generator: Generator | None = None,
    dtype: dtypes.dtype | None = None,
    requires_grad: bool = False,
    **kwargs: object,
) -> Tensor:
    """Normal samples with the given mean and standard deviation; `mean` and `std` may be tensors
    (broadcast together, one sample each), as PyTorch's overloads, or numbers with a `size`.

    Args:
        mean (float or Tensor): the means.
        std (float or Tensor): the standard deviations (not negative).
        size (sequence of ints, optional): the shape, when `mean` and `std` are numbers.
        generator (Generator, optional): draw from this generator instead of the default one.
        dtype (dtype, optional): for number `mean` and `std`; default `get_default_dtype()`
            (tensors keep their dtype).
        requires_grad (bool): make the result a leaf that records operations.
        **kwargs: `out=` (as `zeros`'s), and PyTorch's `device`, `layout` and `pin_memory`,
            accepted and ignored.

    Returns:
        Tensor: of the broadcast shape of `mean` and `std`, or `size`.

    Example:
        >>> import chainrule
        >>> chainrule.normal(chainrule.tensor([0.0, 10.0]), 0.0)
        tensor([ 0., 10.])
        >>> chainrule.normal(2.0, 1.0, (2, 3)).shape
        chainrule.Size([2, 3])
    """
    check_std(std)
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        mean = random_input(mean) if isinstance(mean, Tensor) else mean
        std = random_input(std) if isinstance(std, Tensor) else std
        shape = mean.shape if isinstance(mean, Tensor) else std.shape
        if isinstance(mean, Tensor) and isinstance(std, Tensor):
            shape = broadcast_shapes(mean.shape, std.shape)
        like = mean if isinstance(mean, Tensor) else std
        noise = randn(shape, generator=generator, dtype=like.dtype)
        return (noise * std + mean).detach().to(like.dtype)  # (mean's dtype, as PyTorch's)
    if size is None:
        raise TypeError("normal: size is required when mean and std are numbers")
    into = kwargs.get("out")
    if into is not None:
        dtype = dtype or into.dtype
    out = randn(size, generator=generator, dtype=dtype) * std + mean
    out = out.requires_grad_(True) if requires_grad else out
    return _into("normal", out, into)


def check_std(std: float | Tensor) -> None:
    """PyTorch's refusal of a negative (or NaN) standard deviation, a number or each element
    of a tensor, before anything is drawn (normal, Tensor.normal_, init.normal_)."""
    if isinstance(std, Tensor):
        if not bool((std.detach() >= 0).all()):
            raise DomainError("normal expects all elements of std >= 0.0")
    elif not std >= 0:
        raise DomainError(f"normal expects std >= 0.0, but found std {std:g}")


def bernoulli(
    input: Tensor,  # noqa: A002
    p: float | None = None,
    *,
    generator: Generator | None = None,
) -> Tensor:
    """1 with probability `input` (elementwise), else 0, in the dtype of `input` (not
    differentiable).

    Args:
        input (Tensor): probabilities in [0, 1].
        p (float, optional): use this probability for every element instead.
        generator (Generator, optional): draw from this generator instead of the default one.

    Returns:
        Tensor: the shape and dtype of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.bernoulli(chainrule.tensor([0.0, 1.0]))
        tensor([0., 1.])
    """
    input = random_input(input)  # noqa: A001
    backend = input._backend
    if p is None and not (input.is_floating_point() or input.is_complex()):
        raise DTypeError(f"bernoulli: not implemented for {input.dtype.name} tensors")
    check_probability(input if p is None else p)

    def draw(shape: tuple) -> Tensor:
        return Tensor._from_array(_rng(generator, backend).random(shape), backend)

    draws = _per_example(draw, tuple(input.shape))
    hits = draws < (input.detach() if p is None else p)
    return hits.to(input.dtype)


def check_probability(p: Any) -> None:
    """bernoulli's probabilities lie in [0, 1] (PyTorch's RuntimeErrors, its messages)."""
    if isinstance(p, Tensor):
        array = p._array
        if type(array) is p._backend.array_type and array.size and array.dtype.kind in "fiu":
            if not bool(((array >= 0) & (array <= 1)).all()):
                raise DomainError(
                    "Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this "
                    "error message be improved?  If so, please report an enhancement request "
                    "to PyTorch.)"
                )
    elif isinstance(p, (int, float)) and not 0 <= p <= 1:
        raise DomainError(f"bernoulli_ expects p to be in [0, 1], but got p={p}")


def poisson(input: Tensor, generator: Generator | None = None) -> Tensor:  # noqa: A002
    """A draw from the Poisson distribution of rate `input`, elementwise, in the dtype of
    `input` (not differentiable).

    Args:
        input (Tensor): the rates, non-negative.
        generator (Generator, optional): draw from this generator instead of the default one.

    Returns:
        Tensor: the shape and dtype of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.poisson(chainrule.tensor([0.0, 0.0]))
        tensor([0., 0.])
    """
    input = random_input(input)  # noqa: A001
    backend = input._backend
    rates = input.detach()._array

    def draw(shape: tuple) -> Tensor:
        counts = _rng(generator, backend).poisson(backend.xp.broadcast_to(rates, shape))
        counts = backend.xp.asarray(counts)  # a Python int for a 0-d rate
        return Tensor._from_array(counts.astype(rates.dtype), backend)

    return _per_example(draw, tuple(input.shape))


def binomial(count: Tensor, prob: Tensor, generator: Generator | None = None) -> Tensor:
    """Draws from Binomial(count, prob), elementwise (count and prob broadcast), in count's
    floating dtype (not differentiable). As PyTorch, a negative count draws 0 and a
    probability outside [0, 1] is clamped to it.

    Args:
        count (Tensor): the numbers of trials, floating point (whole numbers).
        prob (Tensor): the success probabilities, of count's dtype.
        generator (Generator, optional): draw from this generator instead of the default one.

    Returns:
        Tensor: the broadcast shape, count's dtype.

    Example:
        >>> import chainrule
        >>> chainrule.binomial(chainrule.tensor([4.0, 0.0]), chainrule.tensor([1.0, 0.5]))
        tensor([4., 0.])
    """
    if not count.is_floating_point():  # PyTorch's ValueError
        raise ValueError(
            "binomial only supports floating-point dtypes for count, got: "
            f"{scalar_type_name(count.dtype)}"
        )
    if prob.dtype != count.dtype:
        raise DTypeError(
            f"binomial: Found dtype {scalar_type_name(prob.dtype)} but expected "
            f"{scalar_type_name(count.dtype)}"
        )
    count, prob = random_input(count), random_input(prob)
    backend = count._backend
    xp = backend.xp
    trials, chances = xp.broadcast_arrays(count.detach()._array, prob.detach()._array)
    trials = xp.maximum(xp.nan_to_num(trials), 0).astype(xp.int64)
    chances = xp.clip(chances, 0, 1)

    def draw(shape: tuple) -> Tensor:
        draws = _rng(generator, backend).binomial(
            xp.broadcast_to(trials, shape), xp.broadcast_to(chances, shape)
        )
        draws = xp.asarray(draws)  # a Python int for 0-d operands
        return Tensor._from_array(draws.astype(count._array.dtype), backend)

    return _per_example(draw, tuple(trials.shape))


def multinomial(
    input: Tensor,  # noqa: A002
    num_samples: int,
    replacement: bool = False,
    *,
    generator: Generator | None = None,
) -> Tensor:
    """Indices drawn from each row's (unnormalised) probabilities.

    Without replacement, categories are taken in the order of the keys p / Exponential(1) (an
    exponential race, as PyTorch does): a zero-probability category comes only after every
    positive one has been drawn.

    Args:
        input (Tensor): (C,) or (N, C) non-negative weights, each row with a positive sum.
        num_samples (int): how many per row (at most C without replacement).
        replacement (bool): draw with replacement.
        generator (Generator, optional): draw from this generator instead of the default one.

    Returns:
        Tensor: int64 (num_samples,) or (N, num_samples).

    Example:
        >>> import chainrule
        >>> chainrule.multinomial(chainrule.tensor([0.0, 1.0, 0.0]), 2, replacement=True)
        tensor([1, 1])
    """
    if input.ndim not in (1, 2):
        raise ShapeError(
            f"multinomial: prob_dist must be 1 or 2 dim, got shape {tuple(input.shape)}"
        )
    if not input.dtype.is_floating_point:  # PyTorch does not read integer counts as weights
        raise DTypeError(
            "multinomial only supports floating-point dtypes for input, got: "
            f"{scalar_type_name(input.dtype)}"
        )
    if num_samples <= 0:
        raise DomainError(f"multinomial: cannot sample n_sample <= 0 samples (got {num_samples})")
    if not replacement and num_samples > input.shape[-1]:
        raise ShapeError(
            f"multinomial: cannot sample n_sample > prob_dist.size(-1) samples without "
            f"replacement (n_sample {num_samples}, size {input.shape[-1]})"
        )
    input = random_input(input)  # noqa: A001
    rng = _rng(generator)  # drawn on the host, where the categories are chosen
    return apply(Multinomial, (input.detach(),), num_samples, replacement, rng)


class Multinomial(Op):
    """`num_samples` category indices drawn from each row of weights (..., C) with `rng`, on
    the host: with replacement, the first category whose cumulative weight exceeds a uniform
    draw; without, the order of the keys weight / Exponential(1) (an exponential race, as
    PyTorch's). Not differentiable."""

    differentiable = False

    @staticmethod
    def forward(ctx: Any, x: Array, num_samples: int, replacement: bool, rng: Any) -> Array:
        backend = backend_of_array(x)
        weights = backend.to_numpy(x).astype("float64")
        rows = weights.reshape(-1, weights.shape[-1])
        if not ((rows >= 0) & (rows < float("inf"))).all():
            raise ValueError("probability tensor contains either `inf`, `nan` or element < 0")
        totals = rows.sum(-1, keepdims=True)
        if not (totals > 0).all():
            raise ValueError("invalid multinomial distribution (sum of probabilities <= 0)")
        if replacement:
            cumulative = rows.cumsum(-1)
            draws = rng.random((rows.shape[0], num_samples)) * totals
            samples = draws.astype(dtypes.int64.numpy)
            for i in builtins.range(rows.shape[0]):  # the first category whose cumulative
                samples[i] = cumulative[i].searchsorted(draws[i], side="right")  # weight exceeds
            samples = samples.clip(0, rows.shape[-1] - 1)  # a draw rounded up to the total
        else:
            keys = rows / rng.exponential(size=rows.shape)
            samples = (-keys).argsort(-1, kind="stable")[:, :num_samples]
        shape = weights.shape[:-1] + (num_samples,)
        return backend.from_numpy(samples.astype(dtypes.int64.numpy).reshape(shape))

    @staticmethod
    def batch(b: Any, x: Any, num_samples: int, replacement: bool, rng: Any) -> Any:
        """vmap: each example's rows are more rows (random_input batched the weights under
        randomness='different', so each example draws its own)."""
        return apply(Multinomial, (x,), num_samples, replacement, rng)


# ---- devices ---------------------------------------------------------------------------------


def to_device(input: Any, device: Any) -> Any:  # noqa: A002
    target = backend_for_device(device)
    if target is input._backend:
        return input
    return apply(ToDevice, (input,), target)
