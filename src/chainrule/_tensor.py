"""Tensor: an n-dimensional array that remembers the op that made it.

A Tensor wraps a backend array (`_array`) and, when it requires grad and was computed, the
graph Node that produced it (`grad_fn`). Math methods are the functions of `chainrule.ops`
bound as methods, so `x.tanh()` and `chainrule.tanh(x)` are the same code.
"""

from __future__ import annotations

import sys
import weakref
from collections.abc import Callable, Iterator
from typing import Any

from chainrule.autograd import forward_ad as _forward_ad
from chainrule.autograd import grad_mode
from chainrule.autograd import node as node_module
from chainrule.autograd.node import AccumulateGrad, Node, VersionCounter
from chainrule.backend import Array, backend_for_device, backend_of_array, device, dtypes
from chainrule.backend.dtypes import as_dtype, from_numpy_dtype
from chainrule.backend.printing import format_tensor
from chainrule.errors import DTypeError, GradError, ShapeError
from chainrule.ops import creation as _cr
from chainrule.ops import elementwise as _ew
from chainrule.ops import indexing as _idx
from chainrule.ops import linalg as _la
from chainrule.ops import op as _op
from chainrule.ops import reduction as _red
from chainrule.ops import shape as _shp

_grad_enabled = grad_mode._grad_enabled.get
_dual_level = _forward_ad._current_level.get

_LEGACY_TYPE_NAMES = {
    "float16": "Half",
    "float32": "Float",
    "float64": "Double",
    "uint8": "Byte",
    "int8": "Char",
    "int16": "Short",
    "int32": "Int",
    "int64": "Long",
    "bool": "Bool",
}


class RemovableHandle:
    """Returned by the register_*hook methods; `remove()` unregisters the hook."""

    def __init__(self, hooks: list, entry: Any) -> None:
        self._hooks = hooks
        self._entry = entry

    def remove(self) -> None:
        for index, entry in enumerate(self._hooks):
            if entry is self._entry:
                del self._hooks[index]
                return

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


class Tensor:
    """A multi-dimensional array with autograd.

    >>> import chainrule
    >>> x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([2., 4.])
    """

    __slots__ = (
        "_array",
        "_backend",
        "_requires_grad",
        "_grad",
        "_node",
        "_output_nr",
        "_version_counter",
        "_base",
        "_edge",
        "_extra",
        "__weakref__",
    )
    __array_ufunc__ = None  # NumPy defers to our reflected operators: np.ones(3) * t is a Tensor
    __array_priority__ = 1000

    # ---- construction ------------------------------------------------------------------
    def __init__(self, *args: Any, dtype: Any = None, device: Any = None) -> None:
        """The legacy constructor: `Tensor([1, 2])` copies data as float32; `Tensor(2, 3)` is
        an uninitialised 2x3 float32 tensor, as in PyTorch."""
        backend = backend_for_device(device)
        target = as_dtype(dtype).numpy if dtype is not None else dtypes.get_default_dtype().numpy
        if len(args) == 1 and not isinstance(args[0], int):
            array = _cr.to_array(args[0], backend, target)
        else:
            shape = _shp.normalize_size(args) if args else (0,)
            array = backend.xp.empty(shape, dtype=target)
        self._init(array, backend)

    def _init(self, array: Array, backend: Any) -> None:
        self._array = array
        self._backend = backend
        self._requires_grad = False
        self._grad = None
        self._node = None
        self._output_nr = 0
        self._version_counter = VersionCounter()
        self._base = None
        self._edge = None
        self._extra = None

    @classmethod
    def _wrap(cls, array: Array) -> Tensor:
        """A Tensor around `array` that does not require grad (no copy)."""
        tensor = object.__new__(Tensor)
        tensor._array = array
        tensor._backend = backend_of_array(array)
        tensor._requires_grad = False
        tensor._grad = None
        tensor._node = None
        tensor._output_nr = 0
        tensor._version_counter = VersionCounter()
        tensor._base = None
        tensor._edge = None
        tensor._extra = None
        return tensor

    @classmethod
    def _wrap_on(cls, array: Array, backend: Any) -> Tensor:
        """`_wrap` when the caller already knows the array's backend (the op hot path)."""
        tensor = object.__new__(Tensor)
        tensor._array = array
        tensor._backend = backend
        tensor._requires_grad = False
        tensor._grad = None
        tensor._node = None
        tensor._output_nr = 0
        tensor._version_counter = VersionCounter()
        tensor._base = None
        tensor._edge = None
        tensor._extra = None
        return tensor

    @classmethod
    def _make(cls, array: Array, node: Node, output_nr: int) -> Tensor:
        """An op's output: requires grad, produced by `node`."""
        tensor = object.__new__(Tensor)
        tensor._array = array
        tensor._backend = node.backend
        tensor._requires_grad = True
        tensor._grad = None
        tensor._node = node
        tensor._output_nr = output_nr
        tensor._version_counter = VersionCounter()
        tensor._base = None
        tensor._edge = None
        tensor._extra = None
        return tensor

    # ---- metadata ----------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self._array.shape

    def size(self, dim: int | None = None) -> Any:
        if dim is None:
            return self._array.shape
        return self._array.shape[_shp.normalize_dim("size", dim, self._array.ndim)]

    @property
    def dtype(self) -> dtypes.dtype:
        return from_numpy_dtype(self._array.dtype)

    @property
    def ndim(self) -> int:
        return self._array.ndim

    def dim(self) -> int:
        return self._array.ndim

    ndimension = dim

    def numel(self) -> int:
        return int(self._array.size)

    nelement = numel

    def element_size(self) -> int:
        return self._array.itemsize

    @property
    def device(self) -> device:
        return self._backend.device

    @property
    def is_cuda(self) -> bool:
        return self._backend.device.type == "cuda"

    def is_floating_point(self) -> bool:
        return self._array.dtype.kind == "f"

    def is_contiguous(self) -> bool:
        return bool(self._array.flags.c_contiguous)

    def stride(self, dim: int | None = None) -> Any:
        strides = tuple(s // self._array.itemsize for s in self._array.strides)
        return strides if dim is None else strides[dim]

    def data_ptr(self) -> int:
        return self._backend.data_ptr(self._array)

    @property
    def T(self) -> Tensor:  # noqa: N802 - PyTorch's name
        return _shp.permute(self, *range(self._array.ndim - 1, -1, -1))

    @property
    def mT(self) -> Tensor:  # noqa: N802
        if self._array.ndim < 2:
            raise ShapeError(
                "tensor.mT is only supported on matrices or batches of matrices. Got "
                f"{self._array.ndim}-D tensor."
            )
        return _shp.transpose(self, -2, -1)

    @property
    def H(self) -> Tensor:  # noqa: N802 - real dtypes only, so the conjugate is a no-op
        return self.T

    @property
    def mH(self) -> Tensor:  # noqa: N802
        return self.mT

    # ---- autograd state ----------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if self._node is not None:
            if requires_grad:
                return self
            raise GradError(
                "you can only change requires_grad flags of leaf variables. If you want to use "
                "a computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach()."
            )
        if requires_grad and self._array.dtype.kind != "f":
            raise GradError(
                f"only Tensors of floating point dtype can require gradients (got {self.dtype})"
            )
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def grad(self) -> Tensor | None:
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad must be a Tensor or None, not {type(value)}")
            if value.shape != self.shape:
                raise ShapeError(
                    f"assigned grad has data of a different size: {tuple(value.shape)} for a "
                    f"tensor of shape {tuple(self.shape)}"
                )
        self._grad = value

    @property
    def grad_fn(self) -> Node | None:
        return self._node

    @property
    def is_leaf(self) -> bool:
        return self._node is None

    @property
    def retains_grad(self) -> bool:
        node = self._node
        return node is not None and node.retained is not None and self._output_nr in node.retained

    @property
    def _version(self) -> int:
        return self._version_counter.value

    @property
    def data(self) -> Tensor:
        """The same memory as a tensor outside the graph; writes through it are not tracked."""
        return Tensor._wrap(self._array)

    @data.setter
    def data(self, value: Tensor) -> None:
        self._array = value._array
        self._backend = value._backend

    def _gradient_edge(self) -> tuple[Node, int]:
        """Where gradient for this tensor enters the graph: its grad_fn, or its accumulator."""
        node = self._node
        if node is not None:
            return (node, self._output_nr)
        edge = self._edge
        if edge is None:
            edge = self._edge = (AccumulateGrad(weakref.ref(self)), 0)
        return edge

    def _accumulate_grad(self, grad: Tensor, create_graph: bool) -> None:
        """Add one backward's gradient into `.grad` (called by the engine for leaves, after
        the hooks registered on them, which live on their AccumulateGrad node)."""
        extra = self._extra
        current = self._grad
        if current is None:
            if create_graph:
                self._grad = grad
            elif _is_sole_owner(grad):
                self._grad = grad  # nobody else can see this memory: keep it, as PyTorch does
            else:
                self._grad = Tensor._wrap(grad._array.copy())
        elif create_graph or current._requires_grad:
            self._grad = current + grad
        else:
            current._array += grad._array
        if extra is not None:
            for hook in extra.get("post_accumulate_hooks", ()):
                hook(self)

    def _retain_grad_from(self, grad: Tensor, create_graph: bool) -> None:
        if not create_graph:
            grad = Tensor._wrap(grad._array.copy())
        self._grad = grad if self._grad is None else self._grad + grad

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """hook(grad) runs when this tensor's gradient is computed; it may return a new one."""
        if not self._requires_grad:
            raise GradError("cannot register a hook on a tensor that doesn't require gradient")
        node, output_nr = self._gradient_edge()  # a leaf's hooks run on its AccumulateGrad
        entry = node.add_pre_hook(output_nr, hook)
        return RemovableHandle(node.pre_hooks, entry)

    def register_post_accumulate_grad_hook(self, hook: Callable[[Tensor], None]) -> Any:
        """hook(tensor) runs after this leaf's `.grad` has been updated by backward."""
        if self._node is not None:
            raise GradError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if self._extra is None:
            self._extra = {}
        hooks = self._extra.setdefault("post_accumulate_hooks", [])
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def retain_grad(self) -> None:
        """Keep `.grad` for this non-leaf tensor after backward (leaves always keep it)."""
        if not self._requires_grad:
            raise GradError("can't retain_grad on Tensor that has requires_grad=False")
        node = self._node
        if node is None:
            return
        if node.retained is None:
            node.retained = {}
        node.retained[self._output_nr] = weakref.ref(self)

    def backward(
        self,
        gradient: Tensor | None = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
        inputs: Any = None,
    ) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's `.grad` (see autograd.backward)."""
        from chainrule.autograd.api import backward

        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self) -> Tensor:
        """The same memory and version counter, cut out of the graph."""
        result = Tensor._wrap(self._array)
        result._version_counter = self._version_counter
        return result

    def detach_(self) -> Tensor:
        self._node = None
        self._output_nr = 0
        self._requires_grad = False
        return self

    # ---- conversion --------------------------------------------------------------------
    def item(self) -> Any:
        if self._array.size != 1:
            raise ShapeError(
                f"item: a Tensor with {self._array.size} elements cannot be converted to Scalar"
            )
        array = (
            self._array if self._backend.name == "numpy" else self._backend.to_numpy(self._array)
        )
        return array.reshape(()).item()

    def tolist(self) -> Any:
        return self._backend.to_numpy(self._array).tolist()

    def numpy(self, *, force: bool = False) -> Any:
        """The NumPy array sharing this tensor's memory (on CPU), as PyTorch does."""
        if self._requires_grad and not force:
            raise GradError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead."
            )
        return self._backend.to_numpy(self._array)

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        array = self.numpy()
        if dtype is not None and array.dtype != dtype:
            return array.astype(dtype)
        return array.copy() if copy else array

    def __dlpack__(self, **kwargs: Any) -> Any:
        if self._requires_grad:
            raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
        return self._array.__dlpack__(**kwargs)

    def __dlpack_device__(self) -> Any:
        return self._array.__dlpack_device__()

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """to(dtype), to(device), to(device, dtype), to(other): PyTorch's overloads."""
        target_dtype = kwargs.get("dtype")
        target_device = kwargs.get("device")
        copy = kwargs.get("copy", False)
        for arg in args:
            if isinstance(arg, Tensor):
                target_dtype, target_device = arg.dtype, arg.device
            elif isinstance(arg, (str, device)):
                target_device = arg
            elif arg is not None:
                target_dtype = arg
        result = self
        if target_device is not None:
            result = _cr.to_device(result, target_device)
        if target_dtype is not None:
            result = _ew.cast(result, as_dtype(target_dtype))
        if copy and result is self:
            result = self.clone()
        return result

    def type(self, dtype: Any = None) -> Any:
        """Without an argument, PyTorch's legacy type name ('chainrule.FloatTensor')."""
        if dtype is None:
            return f"chainrule.{_LEGACY_TYPE_NAMES[self.dtype.name]}Tensor"
        return self.to(dtype)

    def type_as(self, other: Tensor) -> Tensor:
        return self.to(other.dtype)

    def float(self) -> Tensor:
        return _ew.cast(self, dtypes.float32)

    def double(self) -> Tensor:
        return _ew.cast(self, dtypes.float64)

    def half(self) -> Tensor:
        return _ew.cast(self, dtypes.float16)

    def long(self) -> Tensor:
        return _ew.cast(self, dtypes.int64)

    def int(self) -> Tensor:
        return _ew.cast(self, dtypes.int32)

    def short(self) -> Tensor:
        return _ew.cast(self, dtypes.int16)

    def char(self) -> Tensor:
        return _ew.cast(self, dtypes.int8)

    def byte(self) -> Tensor:
        return _ew.cast(self, dtypes.uint8)

    def bool(self) -> Tensor:
        return _ew.cast(self, dtypes.bool_)

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self, device: Any = None) -> Tensor:
        return self.to("cuda" if device is None else device)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._array.dtype.kind not in "iub" or self._array.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self) -> bool:
        if self._array.size != 1:
            raise ShapeError(
                f"Boolean value of Tensor with more than one value is ambiguous "
                f"(shape {tuple(self.shape)})"
            )
        return bool(self.item())

    def __len__(self) -> int:
        if self._array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._array.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if self._array.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(_shp.unbind(self, 0))

    def __hash__(self) -> int:
        return id(self)

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (_cr.tensor_from_state, (self.tolist(), self.dtype.name, self._requires_grad))

    def __repr__(self) -> str:
        return format_tensor(self)

    def __format__(self, spec: str) -> str:
        if self._array.ndim == 0:
            return self.item().__format__(spec)
        return repr(self)

    # ---- in-place machinery --------------------------------------------------------------
    def _check_inplace(self, op_name: str, others: tuple = ()) -> bool:
        """Refuse in-place writes PyTorch refuses; True when the write must be recorded."""
        recording = _grad_enabled() and (
            self._requires_grad or any(isinstance(o, Tensor) and o._requires_grad for o in others)
        )
        if recording and self._node is None and self._requires_grad:
            raise GradError(
                f"{op_name}: a leaf Variable that requires grad is being used in an in-place "
                "operation."
            )
        if recording and self._base is not None:
            raise GradError(
                f"{op_name}: in-place writes to a view of a tensor that is part of the graph are "
                "not supported by chainrule; write to the base tensor (e.g. with indexing "
                "assignment) or clone the view first."
            )
        return recording

    def _commit_inplace(self, op_name: str, result: Tensor, recording: bool) -> Tensor:
        """Write `result` into this tensor's memory and, if recorded, make it its history."""
        if result.shape != self.shape:
            raise ShapeError(
                f"{op_name}: output with shape {tuple(self.shape)} doesn't match the broadcast "
                f"shape {tuple(result.shape)}"
            )
        if result.dtype is not self.dtype:
            if result.dtype.category > self.dtype.category:
                raise DTypeError(
                    f"{op_name}: result type {result.dtype.name} can't be cast to the desired "
                    f"output type {self.dtype.name}"
                )
        node = result._node
        if recording and node is not None and node._saved is not None:
            # The op saved this tensor as an input: keep a copy of its old contents instead.
            for value in node._saved.values():
                if type(value) is node_module.SavedValue and value.value is self:
                    value.value = self._snapshot()
                    value.counter = None
        if _dual_level() is not None:
            _forward_ad.inplace_tangent(self, result)
        self._backend.xp.copyto(self._array, result._array, casting="unsafe")
        self._version_counter.value += 1
        if recording and result._requires_grad:
            if result.dtype is not self.dtype:
                result = _ew.cast(result, self.dtype)
                node = result._node
            self._node = node
            self._output_nr = result._output_nr
            self._requires_grad = True
            self._edge = None
        elif recording and self._node is not None:
            # The new contents depend on nothing that requires grad (fill_, zero_): cut the old
            # history, so no gradient reaches it through this tensor.
            self._node = None
            self._output_nr = 0
            self._requires_grad = False
        return self

    def _snapshot(self) -> Tensor:
        """This tensor's current value and graph position, in memory of its own."""
        copy = Tensor._wrap(self._array.copy())
        copy._requires_grad = self._requires_grad
        copy._node = self._node
        copy._output_nr = self._output_nr
        if self._node is None and self._requires_grad:
            copy._edge = self._gradient_edge()
        return copy

    def _inplace(self, op_name: str, function: Callable, *args: Any, **kwargs: Any) -> Tensor:
        recording = self._check_inplace(op_name, args)
        if recording:
            result = function(self, *args, **kwargs)
        else:
            with grad_mode.no_grad():
                result = function(self, *args, **kwargs)
        return self._commit_inplace(op_name, result, recording)

    def add_(self, other: Any, *, alpha: Any = 1) -> Tensor:
        return self._inplace("add_", _ew.add, other, alpha=alpha)

    def sub_(self, other: Any, *, alpha: Any = 1) -> Tensor:
        return self._inplace("sub_", _ew.sub, other, alpha=alpha)

    def mul_(self, other: Any) -> Tensor:
        return self._inplace("mul_", _ew.mul, other)

    def div_(self, other: Any, *, rounding_mode: str | None = None) -> Tensor:
        return self._inplace("div_", _ew.div, other, rounding_mode=rounding_mode)

    def pow_(self, exponent: Any) -> Tensor:
        return self._inplace("pow_", _ew.pow, exponent)

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
        return self._inplace("clamp_", _ew.clamp, min, max)

    clip_ = clamp_

    def copy_(self, src: Any, non_blocking: bool = False) -> Tensor:
        return self._inplace("copy_", _ew.copy_from, src)

    def zero_(self) -> Tensor:
        return self._inplace("zero_", _ew.fill_like, 0)

    def fill_(self, value: Any) -> Tensor:
        return self._inplace("fill_", _ew.fill_like, value)

    def masked_fill_(self, mask: Tensor, value: Any) -> Tensor:
        return self._inplace("masked_fill_", _idx.masked_fill, mask, value)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._inplace("__setitem__", _idx.index_put, key, value)

    def index_add_(self, dim: int, index: Tensor, source: Tensor, *, alpha: Any = 1) -> Tensor:
        return self._inplace("index_add_", _idx.index_add, dim, index, source, alpha=alpha)

    def scatter_(self, dim: int, index: Tensor, src: Any, **kwargs: Any) -> Tensor:
        return self._inplace("scatter_", _idx.scatter, dim, index, src, **kwargs)

    def scatter_add_(self, dim: int, index: Tensor, src: Tensor) -> Tensor:
        return self._inplace("scatter_add_", _idx.scatter_add, dim, index, src)

    def __iadd__(self, other: Any) -> Tensor:
        return self.add_(other)

    def __isub__(self, other: Any) -> Tensor:
        return self.sub_(other)

    def __imul__(self, other: Any) -> Tensor:
        return self.mul_(other)

    def __itruediv__(self, other: Any) -> Tensor:
        return self.div_(other)

    def __ipow__(self, other: Any) -> Tensor:
        return self.pow_(other)

    # ---- math: the functions of chainrule.ops, bound as methods ---------------------------
    __add__ = _ew.add
    __radd__ = _ew.radd
    __sub__ = _ew.sub
    __rsub__ = _ew.rsub
    __mul__ = _ew.mul
    __rmul__ = _ew.rmul
    __truediv__ = _ew.div
    __rtruediv__ = _ew.rdiv
    __floordiv__ = _ew.floor_divide
    __rfloordiv__ = _ew.rfloordiv
    __mod__ = _ew.remainder
    __rmod__ = _ew.rremainder
    __pow__ = _ew.pow
    __rpow__ = _ew.rpow
    __neg__ = _ew.neg
    __pos__ = _ew.positive
    __abs__ = _ew.abs
    __matmul__ = _la.matmul
    __rmatmul__ = _la.rmatmul
    __eq__ = _ew.eq  # type: ignore[assignment]
    __ne__ = _ew.ne  # type: ignore[assignment]
    __lt__ = _ew.lt
    __le__ = _ew.le
    __gt__ = _ew.gt
    __ge__ = _ew.ge
    __and__ = _ew.bitwise_and
    __rand__ = _ew.bitwise_and
    __or__ = _ew.bitwise_or
    __ror__ = _ew.bitwise_or
    __xor__ = _ew.bitwise_xor
    __rxor__ = _ew.bitwise_xor
    __invert__ = _ew.bitwise_not
    __getitem__ = _idx.getitem

    add = _ew.add
    sub = _ew.sub
    subtract = _ew.sub
    mul = _ew.mul
    multiply = _ew.mul
    div = _ew.div
    divide = _ew.div
    true_divide = _ew.div
    floor_divide = _ew.floor_divide
    remainder = _ew.remainder
    fmod = _ew.fmod
    pow = _ew.pow
    neg = _ew.neg
    negative = _ew.neg
    reciprocal = _ew.reciprocal
    abs = _ew.abs
    absolute = _ew.abs
    sign = _ew.sign
    exp = _ew.exp
    exp2 = _ew.exp2
    expm1 = _ew.expm1
    log = _ew.log
    log1p = _ew.log1p
    log2 = _ew.log2
    log10 = _ew.log10
    sqrt = _ew.sqrt
    rsqrt = _ew.rsqrt
    square = _ew.square
    sin = _ew.sin
    cos = _ew.cos
    tan = _ew.tan
    asin = _ew.asin
    arcsin = _ew.asin
    acos = _ew.acos
    arccos = _ew.acos
    atan = _ew.atan
    arctan = _ew.atan
    atan2 = _ew.atan2
    arctan2 = _ew.atan2
    sinh = _ew.sinh
    asinh = _ew.asinh
    arcsinh = _ew.asinh
    acosh = _ew.acosh
    arccosh = _ew.acosh
    atanh = _ew.atanh
    arctanh = _ew.atanh
    sinc = _ew.sinc
    logaddexp = _ew.logaddexp
    logaddexp2 = _ew.logaddexp2
    hypot = _ew.hypot
    deg2rad = _ew.deg2rad
    rad2deg = _ew.rad2deg
    cosh = _ew.cosh
    tanh = _ew.tanh
    erf = _ew.erf
    sigmoid = _ew.sigmoid
    logit = _ew.logit
    relu = _ew.relu
    clamp = _ew.clamp
    clip = _ew.clamp
    maximum = _ew.maximum
    minimum = _ew.minimum
    where = _ew.tensor_where
    lerp = _ew.lerp
    floor = _ew.floor
    ceil = _ew.ceil
    round = _ew.round
    trunc = _ew.trunc
    frac = _ew.frac
    eq = _ew.eq
    ne = _ew.ne
    lt = _ew.lt
    le = _ew.le
    gt = _ew.gt
    ge = _ew.ge
    greater = _ew.gt
    less = _ew.lt
    logical_and = _ew.logical_and
    logical_or = _ew.logical_or
    logical_not = _ew.logical_not
    logical_xor = _ew.logical_xor
    isnan = _ew.isnan
    isinf = _ew.isinf
    isfinite = _ew.isfinite
    allclose = _ew.allclose
    isclose = _ew.isclose
    equal = _ew.equal
    clone = _ew.clone
    nan_to_num = _ew.nan_to_num

    sum = _red.sum
    mean = _red.mean
    prod = _red.prod
    max = _red.max
    min = _red.min
    amax = _red.amax
    amin = _red.amin
    argmax = _red.argmax
    argmin = _red.argmin
    var = _red.var
    std = _red.std
    norm = _red.norm
    logsumexp = _red.logsumexp
    cumsum = _red.cumsum
    cumprod = _red.cumprod
    all = _red.all
    any = _red.any
    sort = _red.sort
    argsort = _red.argsort
    topk = _red.topk
    kthvalue = _red.kthvalue
    median = _red.median
    softmax = _red.softmax
    log_softmax = _red.log_softmax
    count_nonzero = _red.count_nonzero
    nansum = _red.nansum
    nanmean = _red.nanmean
    aminmax = _red.aminmax
    logcumsumexp = _red.logcumsumexp
    cummax = _red.cummax
    cummin = _red.cummin
    msort = _red.msort
    nanmedian = _red.nanmedian
    quantile = _red.quantile
    nanquantile = _red.nanquantile
    dist = _red.dist

    matmul = _la.matmul
    mm = _la.mm
    bmm = _la.bmm
    dot = _la.dot
    outer = _la.outer
    trace = _la.trace
    diagonal = _la.diagonal
    tril = _la.tril
    triu = _la.triu
    det = _la.det
    inverse = _la.inv

    reshape = _shp.reshape
    view = _shp.view
    view_as = _shp.view_as
    reshape_as = _shp.reshape_as
    flatten = _shp.flatten
    unflatten = _shp.unflatten
    squeeze = _shp.squeeze
    unsqueeze = _shp.unsqueeze
    transpose = _shp.transpose
    swapaxes = _shp.swapaxes
    t = _shp.t
    permute = _shp.permute
    movedim = _shp.movedim
    moveaxis = _shp.movedim
    expand = _shp.expand
    expand_as = _shp.expand_as
    broadcast_to = _shp.broadcast_to
    repeat = _shp.repeat
    tile = _shp.tile
    flip = _shp.flip
    roll = _shp.roll
    split = _shp.split
    chunk = _shp.chunk
    unbind = _shp.unbind
    narrow = _shp.narrow
    contiguous = _shp.contiguous
    ravel = _shp.ravel
    swapdims = _shp.transpose
    fliplr = _shp.fliplr
    flipud = _shp.flipud
    rot90 = _shp.rot90
    select = _shp.select
    tensor_split = _shp.tensor_split
    hsplit = _shp.hsplit
    vsplit = _shp.vsplit
    dsplit = _shp.dsplit
    repeat_interleave = _shp.repeat_interleave
    diff = _shp.diff
    diagflat = _shp.diagflat

    gather = _idx.gather
    scatter = _idx.scatter
    scatter_add = _idx.scatter_add
    index_select = _idx.index_select
    index_add = _idx.index_add
    masked_fill = _idx.masked_fill
    take_along_dim = _idx.take_along_dim
    nonzero = _idx.nonzero
    argwhere = _idx.argwhere
    take = _idx.take
    masked_select = _idx.masked_select
    index_put = _idx.index_put
    unique = _idx.unique
    unique_consecutive = _idx.unique_consecutive
    histc = _idx.histc

    fmax = _ew.fmax
    fmin = _ew.fmin
    float_power = _ew.float_power
    signbit = _ew.signbit
    bitwise_and = _ew.bitwise_and
    bitwise_or = _ew.bitwise_or
    bitwise_xor = _ew.bitwise_xor
    bitwise_not = _ew.bitwise_not
    greater_equal = _ew.ge
    less_equal = _ew.le
    not_equal = _ew.ne
    positive = _ew.positive
    fix = _ew.trunc
    sgn = _ew.sgn
    erfc = _ew.erfc
    xlogy = _ew.xlogy
    copysign = _ew.copysign
    ldexp = _ew.ldexp
    frexp = _ew.frexp
    heaviside = _ew.heaviside
    isposinf = _ew.isposinf
    isneginf = _ew.isneginf
    isreal = _ew.isreal
    is_complex = _ew.is_complex

    addmm = _la.addmm
    diag = _la.diag
    diag_embed = _la.diag_embed
    ger = _la.outer
    inner = _la.inner
    mv = _la.mv
    vdot = _la.vdot
    logdet = _la.logdet
    slogdet = _la.slogdet
    matrix_power = _la.matrix_power
    addcmul = _la.addcmul
    addcdiv = _la.addcdiv
    addmv = _la.addmv
    addr = _la.addr
    baddbmm = _la.baddbmm
    addbmm = _la.addbmm
    kron = _la.kron
    cross = _la.cross

    def multinomial(
        self, num_samples: int, replacement: bool = False, *, generator: Any = None
    ) -> Tensor:
        return _cr.multinomial(self, num_samples, replacement, generator=generator)

    def bernoulli(self, p: Any = None, *, generator: Any = None) -> Tensor:
        return _cr.bernoulli(self, p, generator=generator)

    def index_put_(self, indices: Any, values: Any, accumulate: bool = False) -> Tensor:
        return self._inplace("index_put_", _idx.index_put, indices, values, accumulate=accumulate)

    def clamp_min(self, min: Any) -> Tensor:  # noqa: A002
        return _ew.clamp(self, min=min)

    def clamp_max(self, max: Any) -> Tensor:  # noqa: A002
        return _ew.clamp(self, max=max)

    def sum_to_size(self, *size: Any) -> Tensor:
        return _shp.sum_to(self, _shp.normalize_size(size))

    def new_tensor(self, data: Any, **kwargs: Any) -> Tensor:
        return _cr.tensor(data, dtype=kwargs.get("dtype", self.dtype), device=self.device)

    def new_zeros(self, *size: Any, dtype: Any = None, **kwargs: Any) -> Tensor:
        return _cr.zeros(*size, dtype=dtype or self.dtype, device=self.device)

    def new_ones(self, *size: Any, dtype: Any = None, **kwargs: Any) -> Tensor:
        return _cr.ones(*size, dtype=dtype or self.dtype, device=self.device)

    def new_full(self, size: Any, fill_value: Any, dtype: Any = None, **kwargs: Any) -> Tensor:
        return _cr.full(size, fill_value, dtype=dtype or self.dtype, device=self.device)

    def new_empty(self, *size: Any, dtype: Any = None, **kwargs: Any) -> Tensor:
        return _cr.empty(*size, dtype=dtype or self.dtype, device=self.device)

    def uniform_(self, a: float = 0.0, b: float = 1.0, generator: Any = None) -> Tensor:
        with grad_mode.no_grad():
            return self.copy_(_cr.rand_like(self, generator=generator) * (b - a) + a)

    def normal_(self, mean: float = 0.0, std: float = 1.0, generator: Any = None) -> Tensor:
        with grad_mode.no_grad():
            return self.copy_(_cr.randn_like(self, generator=generator) * std + mean)

    def bernoulli_(self, p: float = 0.5, generator: Any = None) -> Tensor:
        with grad_mode.no_grad():
            return self.copy_(_cr.rand_like(self, generator=generator) < p)


def _inplace_method(name: str, function: Callable) -> Callable:
    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        return self._inplace(name, function, *args, **kwargs)

    method.__name__ = name
    method.__qualname__ = f"Tensor.{name}"
    method.__doc__ = f"In-place `{name[:-1]}`: the result is written into this tensor's memory."
    return method


# `x.exp_()` and friends: the out-of-place op, written back by Tensor._inplace (which checks
# leaves, views and dtypes, and records history when needed).
for _name in (
    "abs absolute acos acosh arccos arccosh arcsin arcsinh arctan arctan2 arctanh asin asinh "
    "atan atan2 atanh ceil cos cosh cumprod cumsum deg2rad hypot rad2deg sinc "
    "divide eq erf exp exp2 expm1 floor floor_divide fmod frac ge greater gt le lerp less log "
    "log10 log1p log2 logical_and logical_not logical_or logical_xor logit lt multiply "
    "nan_to_num ne neg negative reciprocal relu remainder round rsqrt sigmoid sign sin sinh sqrt "
    "square subtract tan tanh tril triu true_divide trunc clamp_min clamp_max "
    "copysign erfc ldexp sgn xlogy"
).split():
    setattr(Tensor, _name + "_", _inplace_method(_name + "_", getattr(Tensor, _name)))


class _RefcountProbe:
    """Measures, once, the reference counts of a tensor and of its array that only the engine
    holds, along the same call shape as `run_backward`'s `leaf._accumulate_grad(grads[0], ...)`
    (counts differ between Python versions, so they are measured, not assumed)."""

    __slots__ = ("_array",)

    def probe(self, value: Any, flag: bool) -> tuple[int, int]:
        return sys.getrefcount(value), sys.getrefcount(value._array)


def _measure_sole_owner_refcounts() -> tuple[int, int]:
    grads = [_RefcountProbe()]  # referenced by the list alone, like the engine's cotangents
    grads[0]._array = object()
    return _RefcountProbe().probe(grads[0], False)


_SOLE_TENSOR_REFS, _SOLE_ARRAY_REFS = _measure_sole_owner_refcounts()


def _is_sole_owner(grad: Tensor) -> bool:
    """True when backward's gradient for a leaf is referenced by the engine alone and owns its
    memory, so `.grad` may take it without a copy. One reference more than the engine's (a
    second leaf given the same tensor, a user's seed, a view's base) means copy.
    Called only from `_accumulate_grad`, at the same depth as the probe above."""
    array = grad._array
    return (
        array.base is None
        and sys.getrefcount(grad) <= _SOLE_TENSOR_REFS + 1
        and sys.getrefcount(array) <= _SOLE_ARRAY_REFS + 1
    )


def _make_tensor(array: Array, node: Node | None, output_nr: int, counter: Any) -> Tensor:
    """How a Node rebuilds a saved output (with itself as grad_fn) or a saved constant."""
    if node is None:
        return Tensor._wrap(array)
    tensor = Tensor._make(array, node, output_nr)
    tensor._version_counter = counter
    return tensor


node_module.make_tensor = _make_tensor
_op.Tensor = Tensor


def is_tensor(obj: Any) -> bool:
    """Whether `obj` is a chainrule Tensor (Parameters included), as torch.is_tensor."""
    return isinstance(obj, Tensor)


class Size(tuple):
    """torch.Size: a tuple of dimension sizes. `Tensor.shape` and `size()` return plain tuples,
    which compare equal to a Size of the same sizes."""

    def numel(self) -> int:
        count = 1
        for size in self:
            count *= size
        return count

    def __repr__(self) -> str:
        return f"chainrule.Size({list(self)})"
