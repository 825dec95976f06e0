"""Tensor's math methods: the one table that binds the functions of `chainrule.ops` to Tensor.

`Tensor` (chainrule/_tensor.py) sits below the ops, which import it to wrap their results; the
ops cannot sit below Tensor's methods in turn. So the methods are written here, in the class
body of `TensorMethods`, as they would be in Tensor's own (`__add__ = elementwise.add`), and
`attach_methods` copies every one of them onto Tensor once, when chainrule is imported.
`x.tanh()` and `chainrule.tanh(x)` are the same code.
"""

from __future__ import annotations

import builtins
import copy
import functools
import numbers
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, SupportsIndex, overload

from chainrule._tensor import LEGACY_TYPE_BY_DTYPE, Size, Tensor
from chainrule.autograd import grad_mode
from chainrule.autograd.node import InferenceVersionCounter
from chainrule.backend import device, dtypes, formats, is_array, shared
from chainrule.backend.dtypes import as_dtype, display_namespace
from chainrule.errors import DomainError, DTypeError, GradError, ShapeError, warn_once
from chainrule.ops import (
    activation,
    composites,
    conversion,
    creation,
    decompositions,
    elementwise,
    indexing,
    linalg,
    linalg_extra,
    method_extras,
    reduction,
    shape,
    sparse,
    special,
    spectral,
    strided,
    views,
)
from chainrule.ops import complex as complex_ops
from chainrule.ops.arguments import Number, normalize_size, size_by_keyword
from chainrule.ops.op import named

if TYPE_CHECKING:  # annotations only
    from chainrule._typing import IndexKey, _bool, _float, _int
    from chainrule.backend import device as Device
    from chainrule.backend.dtypes import dtype
    from chainrule.ops.creation import Generator


_TYPED_STORAGE_DEPRECATION = (
    "TypedStorage is deprecated. It will be removed in the future and UntypedStorage will be the "
    "only storage class. This should only matter to you if you are using storages directly.  To "
    "access UntypedStorage directly, use tensor.untyped_storage() instead of tensor.storage()"
)


_IDENTITY = "This function is the identity in these cases."
_USE_CONJ = "Consider using x.conj()."
_T_BEYOND_MATRICES = (
    "The use of `x.T` on tensors of dimension other than 2 to reverse their shape is deprecated "
    "and it will throw an error in a future release. Consider `x.mT` to transpose batches of "
    "matrices or `x.permute(*torch.arange(x.ndim - 1, -1, -1))` to reverse the dimensions of a "
    "tensor."
)


def _warn_zero_dim(name: str, advice: str) -> None:
    """PyTorch's deprecation of the matrix transposes of a 0-D tensor (which it still answers),
    once per process as its TORCH_WARN_ONCE."""
    warn_once(f"{name} is deprecated on 0-D tensors. {advice}", stacklevel=4)


def _require_matrices(tensor: Tensor, name: str) -> None:
    if tensor._array.ndim < 2:
        raise ShapeError(
            f"{name} is only supported on matrices or batches of matrices. Got "
            f"{tensor._array.ndim}-D tensor."
        )


def _reflected(function: Callable, arrays_only: bool = False) -> Callable:
    """A reflected operator (`2 * x` runs `x.__rmul__(2)`) that answers NotImplemented for an
    operand that is no tensor, array or number (or, `arrays_only`, for `@`, no tensor or
    array), as PyTorch's: Python then goes on with its own rules (`"a" * x` repeats the
    string by x's `__index__`, `None + x` is its TypeError)."""

    def operator(self: Tensor, other: Any) -> Any:
        if arrays_only:
            accepted = isinstance(other, Tensor) or is_array(other)
        else:
            accepted = elementwise.is_operand(other)
        return function(self, other) if accepted else NotImplemented

    return functools.update_wrapper(operator, function)  # its name, doc and typed signature


def _new_filled(
    tensor: Tensor,
    name: str,
    make: Callable[..., Tensor],
    size: tuple,
    dtype: dtype | None,
    device: Device | str | None,
    requires_grad: _bool,
    keywords: dict,
) -> Tensor:
    """new_zeros / new_ones / new_empty: `size` positionally or as PyTorch's `size=`; the
    tensor's dtype and device unless given; a leaf that requires grad when asked (an
    adversarial `delta = x.new_zeros(x.shape, requires_grad=True)`)."""
    if "size" in keywords:  # PyTorch's keyword form, `x.new_zeros(size=(2, 3))`
        size = size_by_keyword(name, "size", size, {"size": keywords.pop("size")})
    out = make(
        *size,
        dtype=dtype or tensor.dtype,
        device=device or tensor.device,
        requires_grad=requires_grad,
    )
    return creation.batched_like(out, tensor)  # under vmap: per example, as torch


def _fill_with(op_name: str, x: Tensor, sample: Tensor) -> Tensor:
    """Write random draws into x in place, as PyTorch's uniform_ and friends: a leaf that
    requires grad refuses in grad mode, and x's old history gets a zero gradient."""
    return x._inplace(op_name, elementwise.copy_from, sample)


class TensorMethods:
    """Not a base class: the table of Tensor's methods, copied onto Tensor by `attach_methods`."""

    # ---- views of the layout ------------------------------------------------------------
    @property
    def T(self) -> Tensor:  # noqa: N802 - PyTorch's name
        """The dimensions reversed: deprecated (PyTorch warns once) except on matrices."""
        ndim = self._array.ndim
        if ndim == 0:
            _warn_zero_dim("Tensor.T", _IDENTITY)
        elif ndim != 2:
            warn_once(_T_BEYOND_MATRICES)
        return shape.permute(self, tuple(range(ndim - 1, -1, -1)))

    @property
    def mT(self) -> Tensor:  # noqa: N802
        """The last two dimensions swapped; a 0-D tensor itself (deprecated, as PyTorch)."""
        if self._array.ndim == 0:
            _warn_zero_dim("Tensor.mT", _IDENTITY)
            return self
        _require_matrices(self, "tensor.mT")
        return shape.transpose(self, -2, -1)

    @property
    def H(self) -> Tensor:  # noqa: N802 - the conjugate transpose (of a matrix)
        """The conjugate transpose of a matrix (the transpose, for real dtypes); the conjugate
        of a 0-D tensor (deprecated: PyTorch warns once); an error otherwise, as PyTorch."""
        ndim = self._array.ndim
        if ndim == 0:
            _warn_zero_dim("Tensor.H", _USE_CONJ)
            return complex_ops.conj(self)
        if ndim != 2:
            advice = " For batches of matrices, consider using tensor.mH" if ndim > 2 else ""
            raise ShapeError(
                "tensor.H is only supported on matrices (2-D tensors). Got "
                f"{ndim}-D tensor.{advice}"
            )
        return complex_ops.conj(shape.transpose(self, 0, 1))

    @property
    def mH(self) -> Tensor:  # noqa: N802
        """The conjugate transpose of the last two dimensions (a batch of matrices)."""
        if self._array.ndim == 0:
            _warn_zero_dim("Tensor.mH", _USE_CONJ)
            return complex_ops.conj(self)
        _require_matrices(self, "tensor.mH")
        return complex_ops.conj(shape.transpose(self, -2, -1))

    adjoint = composites.adjoint

    # ---- complex numbers ----------------------------------------------------------------
    real = property(complex_ops.real)
    imag = property(complex_ops.imag)
    conj = complex_ops.conj
    conj_physical = complex_ops.conj_physical
    resolve_conj = complex_ops.resolve_conj
    resolve_neg = complex_ops.resolve_neg
    is_conj = complex_ops.is_conj
    angle = elementwise.angle

    # ---- conversions ----------------------------------------------------------------------
    @overload
    def to(self, dtype: dtype, non_blocking: _bool = False, copy: _bool = False) -> Tensor: ...
    @overload
    def to(
        self,
        device: Device | str | _int | None = None,
        dtype: dtype | None = None,
        non_blocking: _bool = False,
        copy: _bool = False,
    ) -> Tensor: ...
    @overload
    def to(self, other: Tensor, non_blocking: _bool = False, copy: _bool = False) -> Tensor: ...
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
            result = creation.to_device(result, target_device)
        if target_dtype is not None:
            result = conversion.cast(result, as_dtype(target_dtype))
        memory_format = kwargs.get("memory_format")
        if memory_format is not None and memory_format is not formats.preserve_format:
            result = shape.contiguous(result, memory_format)  # a copy, unless laid out so
        if copy and result is self:
            result = self.clone()
        return result

    def type(self, dtype: Any = None, non_blocking: _bool = False, **kwargs: Any) -> Any:
        """Without an argument, PyTorch's legacy type name ('chainrule.FloatTensor'); with a
        dtype, a legacy type (`chainrule.DoubleTensor`) or its name ('torch.DoubleTensor',
        'torch.cuda.FloatTensor'), this tensor converted to it."""
        if dtype is None:
            return f"{display_namespace()}.{LEGACY_TYPE_BY_DTYPE[self.dtype.name].__name__}"
        if isinstance(dtype, str):
            return _to_legacy_type_name(self, dtype)
        legacy = getattr(dtype, "dtype_name", None)
        if legacy is not None:
            return self.to(as_dtype(legacy))
        return self.to(dtype)

    def type_as(self, other: Tensor) -> Tensor:
        """This tensor converted to `other`'s dtype."""
        return self.to(other.dtype)

    def float(self) -> Tensor:
        """This tensor converted to float32: `self.to(chainrule.float32)`."""
        return conversion.cast(self, dtypes.float32)

    def double(self) -> Tensor:
        """This tensor converted to float64: `self.to(chainrule.float64)`."""
        return conversion.cast(self, dtypes.float64)

    def half(self) -> Tensor:
        """This tensor converted to float16: `self.to(chainrule.float16)`."""
        return conversion.cast(self, dtypes.float16)

    def bfloat16(self) -> Tensor:
        """This tensor converted to bfloat16: `self.to(chainrule.bfloat16)`."""
        return conversion.cast(self, dtypes.bfloat16)

    def long(self) -> Tensor:
        """This tensor converted to int64: `self.to(chainrule.int64)`."""
        return conversion.cast(self, dtypes.int64)

    def int(self) -> Tensor:
        """This tensor converted to int32: `self.to(chainrule.int32)`."""
        return conversion.cast(self, dtypes.int32)

    def short(self) -> Tensor:
        """This tensor converted to int16: `self.to(chainrule.int16)`."""
        return conversion.cast(self, dtypes.int16)

    def char(self) -> Tensor:
        """This tensor converted to int8: `self.to(chainrule.int8)`."""
        return conversion.cast(self, dtypes.int8)

    def byte(self) -> Tensor:
        """This tensor converted to uint8: `self.to(chainrule.uint8)`."""
        return conversion.cast(self, dtypes.uint8)

    def bool(self) -> Tensor:
        """This tensor converted to bool: `self.to(chainrule.bool)`."""
        return conversion.cast(self, dtypes.bool_)

    def cpu(self) -> Tensor:
        """This tensor on the CPU: a differentiable copy from a device, else `self`."""
        return self.to("cpu")

    def cuda(self, device: Device | str | _int | None = None) -> Tensor:
        """This tensor on a CUDA GPU (the current one, or `device`): a differentiable copy."""
        return self.to("cuda" if device is None else device)

    def __iter__(self) -> Iterator[Tensor]:
        if self._array.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(shape.unbind(self, 0))

    def __reversed__(self) -> Tensor:
        """`reversed(x)`: x flipped along its first dimension (a 0-d tensor is itself), as
        PyTorch's, a tensor rather than an iterator."""
        return self if self._array.ndim == 0 else shape.flip(self, (0,))

    def __contains__(self, element: object) -> _bool:
        """`element in x`: whether any element of x equals it (a tensor broadcasts against
        x), as PyTorch's; other objects are refused."""
        if not isinstance(element, (Tensor, numbers.Number)):
            raise RuntimeError(
                f"Tensor.__contains__ only supports Tensor or scalar, but you passed in a "
                f"{type(element)}."
            )
        return builtins.bool(elementwise.eq(self, element).any())

    def __deepcopy__(self, memo: dict) -> Tensor:
        """A copy with its own memory, requires_grad and a copy of `.grad`, as PyTorch's:
        refused for a tensor with history (a copy could not share it)."""
        if not self.is_leaf:
            raise GradError(
                "Only Tensors created explicitly by the user (graph leaves) support the "
                "deepcopy protocol at the moment.  If you were attempting to deepcopy a "
                "module, this may be because of a torch.nn.utils.weight_norm usage, see "
                "https://github.com/pytorch/pytorch/pull/103001"
            )
        if id(self) in memo:
            return memo[id(self)]
        rebuild, arguments = self.__reduce_ex__(4)[:2]
        new = rebuild(*arguments)
        memo[id(self)] = new
        if self.grad is not None:
            new.grad = copy.deepcopy(self.grad, memo)
        return new

    def __reduce_ex__(self, protocol: SupportsIndex) -> tuple:
        return (creation.tensor_from_state, (self.tolist(), self.dtype.name, self._requires_grad))

    # ---- views under in-place writes (ops/views.py), called from Tensor's in-place code ----
    _refresh_view = views.refresh_view
    _rebase_view = views.rebase_view
    _check_view_write = views.check_view_write
    _check_overlap = views.check_overlap
    _write_view_tangents = views.write_view_tangents

    # ---- in-place ops: the out-of-place op, written back by Tensor._inplace ----------------
    def add_(
        self, other: Tensor | Number, _other: Tensor | None = None, *, alpha: Number = 1
    ) -> Tensor:
        """In place: self += alpha * other. Returns self. PyTorch's deprecated
        add_(alpha, other), still common in older optimizers, is taken with its warning."""
        if _other is not None:
            alpha, other = _deprecated_scalar_first("add_", "alpha", other, _other)
        return self._inplace("add_", elementwise.add, other, alpha=alpha)

    def sub_(
        self, other: Tensor | Number, _other: Tensor | None = None, *, alpha: Number = 1
    ) -> Tensor:
        """In place: self -= alpha * other. Returns self (the deprecated sub_(alpha, other)
        too, with PyTorch's warning)."""
        if _other is not None:
            alpha, other = _deprecated_scalar_first("sub_", "alpha", other, _other)
        return self._inplace("sub_", elementwise.sub, other, alpha=alpha)

    def addcmul_(
        self,
        tensor1: Tensor | Number,
        tensor2: Tensor,
        _tensor2: Tensor | None = None,
        *,
        value: Number = 1,
    ) -> Tensor:
        """In place: self += value * tensor1 * tensor2. Returns self. PyTorch's deprecated
        addcmul_(value, tensor1, tensor2), as Adam implementations long wrote it, is taken
        with its warning."""
        if _tensor2 is not None:
            value, (tensor1, tensor2) = _deprecated_scalar_first(
                "addcmul_", "value", tensor1, (tensor2, _tensor2)
            )
        return self._inplace("addcmul_", linalg.addcmul, tensor1, tensor2, value=value)

    def addcdiv_(
        self,
        tensor1: Tensor | Number,
        tensor2: Tensor,
        _tensor2: Tensor | None = None,
        *,
        value: Number = 1,
    ) -> Tensor:
        """In place: self += value * tensor1 / tensor2. Returns self (the deprecated
        addcdiv_(value, tensor1, tensor2) too, with PyTorch's warning)."""
        if _tensor2 is not None:
            value, (tensor1, tensor2) = _deprecated_scalar_first(
                "addcdiv_", "value", tensor1, (tensor2, _tensor2)
            )
        return self._inplace("addcdiv_", linalg.addcdiv, tensor1, tensor2, value=value)

    def mul_(self, other: Tensor | Number) -> Tensor:
        """In place: self *= other. Returns self."""
        return self._inplace("mul_", elementwise.mul, other)

    def div_(self, other: Tensor | Number, *, rounding_mode: str | None = None) -> Tensor:
        """In place: self /= other (rounded as `rounding_mode` says). Returns self."""
        return self._inplace("div_", elementwise.div, other, rounding_mode=rounding_mode)

    def pow_(self, exponent: Tensor | Number) -> Tensor:
        """In place: self = self ** exponent. Returns self."""
        return self._inplace("pow_", elementwise.pow, exponent)

    def clamp_(
        self,
        min: Tensor | Number | None = None,  # noqa: A002
        max: Tensor | Number | None = None,  # noqa: A002
    ) -> Tensor:
        """In place: clamp to [min, max] (`clip_` is the same). Returns self."""
        return self._inplace("clamp_", elementwise.clamp, min, max)

    clip_ = clamp_

    def copy_(self, src: Tensor | Number, non_blocking: _bool = False) -> Tensor:
        """In place: copy `src`'s values (broadcast, converted to this dtype and device)."""
        return self._inplace("copy_", _copied, src)

    def zero_(self) -> Tensor:
        """In place: fill with zeros. Returns self."""
        return self._inplace("zero_", _zeroed, 0)

    def fill_(self, value: Tensor | Number) -> Tensor:
        """In place: fill every element with `value`. Returns self."""
        return self._inplace("fill_", _filled, value)

    def masked_fill_(self, mask: Tensor, value: Tensor | Number) -> Tensor:
        """In place: set the elements where `mask` is True to `value`. Returns self."""
        return self._inplace("masked_fill_", indexing.masked_fill, mask, value)

    def __setitem__(self, key: IndexKey, value: Tensor | Number) -> None:
        if self._repeats_memory() and _is_basic_key(key):
            # PyTorch writes the view a basic key makes (copy_): into an expanded tensor, that
            # is allowed where the view itself repeats nothing (x.expand(2, 3)[0] = ...)
            view = self[key]
            view._check_write_overlap("__setitem__", False)
            view._inplace("__setitem__", _put, Ellipsis, value)
            return
        try:
            self._inplace("__setitem__", _put, key, value)
        except GradError:
            # PyTorch indexes before it writes: a bad index is its IndexError, not the refusal
            with grad_mode.no_grad():
                self[key]
            raise

    def index_add_(self, dim: _int, index: Tensor, source: Tensor, *, alpha: Number = 1) -> Tensor:
        """In place: add alpha * source's slices at `index` along `dim` (repeats add up)."""
        return self._inplace("index_add_", indexing.index_add, dim, index, source, alpha=alpha)

    def scatter_(
        self, dim: _int, index: Tensor, src: Tensor | Number, **kwargs: str | Number | None
    ) -> Tensor:
        """In place: `scatter(dim, index, src)` written into this tensor. Returns self."""
        return self._inplace("scatter_", indexing.scatter, dim, index, src, **kwargs)

    def scatter_add_(self, dim: _int, index: Tensor, src: Tensor) -> Tensor:
        """In place: `scatter_add(dim, index, src)` written into this tensor. Returns self."""
        return self._inplace("scatter_add_", indexing.scatter_add, dim, index, src)

    def scatter_reduce_(
        self, dim: _int, index: Tensor, src: Tensor, reduce: str, *, include_self: _bool = True
    ) -> Tensor:
        """In place: `scatter_reduce(dim, index, src, reduce)` written into this tensor."""
        return self._inplace(
            "scatter_reduce_",
            indexing.scatter_reduce,
            dim,
            index,
            src,
            reduce,
            include_self=include_self,
        )

    def index_reduce_(
        self, dim: _int, index: Tensor, source: Tensor, reduce: str, *, include_self: _bool = True
    ) -> Tensor:
        """In place: `index_reduce(dim, index, source, reduce)` written into this tensor."""
        warn_once(indexing.INDEX_REDUCE_BETA)  # blames the caller, not the in-place machinery
        return self._inplace(
            "index_reduce_",
            indexing.index_reduce,
            dim,
            index,
            source,
            reduce,
            include_self=include_self,
        )

    def __iadd__(self, other: Tensor | Number) -> Tensor:
        return self.add_(other)

    def __isub__(self, other: Tensor | Number) -> Tensor:
        return self.sub_(other)

    def __imul__(self, other: Tensor | Number) -> Tensor:
        return self.mul_(other)

    def __itruediv__(self, other: Tensor | Number) -> Tensor:
        return self.div_(other)

    def __ipow__(self, other: Tensor | Number) -> Tensor:
        return self.pow_(other)

    # `x %= y` and friends write x in place, as PyTorch's (Python fell back to `x = x % y`,
    # a new tensor that could change dtype: an int x %= 1.0 became a float tensor)
    def __imod__(self, other: Tensor | Number) -> Tensor:
        return self._inplace("__imod__", elementwise.remainder, other)

    def __ifloordiv__(self, other: Tensor | Number) -> Tensor:
        return self._inplace("__ifloordiv__", elementwise.floor_divide, other)

    def __iand__(self, other: Tensor | Number) -> Tensor:
        return self._inplace("__iand__", elementwise.bitwise_and, other)

    def __ior__(self, other: Tensor | Number) -> Tensor:
        return self._inplace("__ior__", elementwise.bitwise_or, other)

    def __ixor__(self, other: Tensor | Number) -> Tensor:
        return self._inplace("__ixor__", elementwise.bitwise_xor, other)

    # ---- math: the functions of chainrule.ops ---------------------------------------------
    __add__ = elementwise.add
    __radd__ = _reflected(elementwise.radd)
    __sub__ = elementwise.sub
    __rsub__ = _reflected(elementwise.rsub)
    __mul__ = elementwise.mul
    __rmul__ = _reflected(elementwise.rmul)
    __truediv__ = elementwise.div
    __rtruediv__ = _reflected(elementwise.rdiv)
    __floordiv__ = elementwise.floor_divide
    __rfloordiv__ = _reflected(elementwise.rfloordiv)
    __mod__ = elementwise.remainder
    __rmod__ = _reflected(elementwise.rremainder)
    __pow__ = elementwise.pow
    __rpow__ = _reflected(elementwise.rpow)
    __neg__ = elementwise.neg
    __pos__ = elementwise.positive
    __abs__ = elementwise.abs
    __matmul__ = linalg.matmul
    __rmatmul__ = _reflected(linalg.rmatmul, arrays_only=True)
    __eq__ = elementwise.eq  # type: ignore[assignment]
    __ne__ = elementwise.ne  # type: ignore[assignment]
    __lt__ = elementwise.lt
    __le__ = elementwise.le
    __gt__ = elementwise.gt
    __ge__ = elementwise.ge
    __and__ = elementwise.bitwise_and
    __rand__ = _reflected(elementwise.bitwise_and)
    __or__ = elementwise.bitwise_or
    __ror__ = _reflected(elementwise.bitwise_or)
    __xor__ = elementwise.bitwise_xor
    __rxor__ = _reflected(elementwise.bitwise_xor)
    __invert__ = elementwise.bitwise_not
    __lshift__ = elementwise.bitwise_left_shift
    __rshift__ = elementwise.bitwise_right_shift

    def __rlshift__(self, other: Tensor | Number) -> Tensor:
        if not elementwise.is_operand(other):
            return NotImplemented
        return elementwise.bitwise_left_shift(other, self)

    def __rrshift__(self, other: Tensor | Number) -> Tensor:
        if not elementwise.is_operand(other):
            return NotImplemented
        return elementwise.bitwise_right_shift(other, self)

    def __ilshift__(self, other: Tensor | Number) -> Tensor:
        return self._inplace("__ilshift__", elementwise.bitwise_left_shift, other)

    def __irshift__(self, other: Tensor | Number) -> Tensor:
        return self._inplace("__irshift__", elementwise.bitwise_right_shift, other)

    __getitem__ = indexing.getitem

    add = elementwise.add
    sub = elementwise.sub
    subtract = elementwise.sub
    mul = elementwise.mul
    multiply = elementwise.mul
    div = elementwise.div
    divide = elementwise.div
    true_divide = elementwise.div
    floor_divide = elementwise.floor_divide
    remainder = elementwise.remainder
    fmod = elementwise.fmod
    pow = elementwise.pow
    neg = elementwise.neg
    negative = elementwise.neg
    reciprocal = elementwise.reciprocal
    abs = elementwise.abs
    absolute = elementwise.abs
    sign = elementwise.sign
    exp = elementwise.exp
    exp2 = elementwise.exp2
    expm1 = elementwise.expm1
    log = elementwise.log
    log1p = elementwise.log1p
    log2 = elementwise.log2
    log10 = elementwise.log10
    sqrt = elementwise.sqrt
    rsqrt = elementwise.rsqrt
    square = elementwise.square
    sin = elementwise.sin
    cos = elementwise.cos
    tan = elementwise.tan
    asin = elementwise.asin
    arcsin = elementwise.asin
    acos = elementwise.acos
    arccos = elementwise.acos
    atan = elementwise.atan
    arctan = elementwise.atan
    atan2 = elementwise.atan2
    arctan2 = elementwise.atan2
    sinh = elementwise.sinh
    asinh = elementwise.asinh
    arcsinh = elementwise.asinh
    acosh = elementwise.acosh
    arccosh = elementwise.acosh
    atanh = elementwise.atanh
    arctanh = elementwise.atanh
    sinc = elementwise.sinc
    logaddexp = elementwise.logaddexp
    logaddexp2 = elementwise.logaddexp2
    hypot = elementwise.hypot
    deg2rad = elementwise.deg2rad
    rad2deg = elementwise.rad2deg
    cosh = elementwise.cosh
    tanh = elementwise.tanh
    erf = elementwise.erf
    sigmoid = elementwise.sigmoid
    logit = elementwise.logit
    relu = activation.relu
    clamp = elementwise.clamp
    clip = elementwise.clamp
    maximum = elementwise.maximum
    minimum = elementwise.minimum
    where = elementwise.tensor_where
    lerp = elementwise.lerp
    floor = elementwise.floor
    ceil = elementwise.ceil
    round = elementwise.round
    trunc = elementwise.trunc
    frac = elementwise.frac
    eq = elementwise.eq
    ne = elementwise.ne
    lt = elementwise.lt
    le = elementwise.le
    gt = elementwise.gt
    ge = elementwise.ge
    greater = elementwise.gt
    less = elementwise.lt
    logical_and = elementwise.logical_and
    logical_or = elementwise.logical_or
    logical_not = elementwise.logical_not
    logical_xor = elementwise.logical_xor
    isnan = elementwise.isnan
    isinf = elementwise.isinf
    isfinite = elementwise.isfinite
    allclose = elementwise.allclose
    isclose = elementwise.isclose
    equal = elementwise.equal
    clone = conversion.clone
    nan_to_num = elementwise.nan_to_num

    sum = reduction.sum
    mean = reduction.mean
    prod = reduction.prod
    max = reduction.max
    min = reduction.min
    amax = reduction.amax
    amin = reduction.amin
    argmax = reduction.argmax
    argmin = reduction.argmin
    var = reduction.var
    std = reduction.std
    norm = linalg_extra.norm
    logsumexp = reduction.logsumexp
    cumsum = reduction.cumsum
    cumprod = reduction.cumprod
    all = reduction.all
    any = reduction.any
    sort = reduction.sort
    argsort = reduction.argsort
    topk = reduction.topk
    kthvalue = reduction.kthvalue
    mode = reduction.mode
    median = reduction.median
    softmax = reduction.softmax
    log_softmax = reduction.log_softmax
    count_nonzero = reduction.count_nonzero
    nansum = reduction.nansum
    nanmean = reduction.nanmean
    aminmax = reduction.aminmax
    logcumsumexp = reduction.logcumsumexp
    cummax = reduction.cummax
    cummin = reduction.cummin
    msort = reduction.msort
    nanmedian = reduction.nanmedian
    quantile = reduction.quantile
    nanquantile = reduction.nanquantile
    dist = reduction.dist

    matmul = linalg.matmul
    mm = linalg.mm
    bmm = linalg.bmm
    dot = linalg.dot
    outer = linalg.outer
    trace = linalg.trace
    diagonal = linalg.diagonal
    tril = linalg.tril
    triu = linalg.triu
    det = decompositions.det
    inverse = linalg.inv

    reshape = shape.reshape
    view = shape.view
    view_as = shape.view_as
    reshape_as = shape.reshape_as
    flatten = shape.flatten
    unflatten = shape.unflatten
    squeeze = shape.squeeze
    unsqueeze = shape.unsqueeze
    transpose = shape.transpose
    swapaxes = shape.swapaxes
    t = shape.t
    permute = shape.permute
    movedim = shape.movedim
    moveaxis = shape.movedim
    expand = shape.expand
    expand_as = shape.expand_as
    broadcast_to = shape.broadcast_to
    repeat = shape.repeat
    tile = shape.tile
    flip = shape.flip
    roll = shape.roll
    chunk = shape.chunk
    unbind = shape.unbind
    narrow = indexing.narrow
    contiguous = shape.contiguous
    ravel = shape.ravel
    swapdims = shape.transpose
    fliplr = shape.fliplr
    flipud = shape.flipud
    rot90 = shape.rot90
    select = indexing.select
    tensor_split = indexing.tensor_split
    hsplit = indexing.hsplit
    vsplit = indexing.vsplit
    dsplit = indexing.dsplit
    repeat_interleave = indexing.repeat_interleave
    unfold = indexing.unfold
    diff = indexing.diff
    diagflat = linalg.diagflat

    gather = indexing.gather
    scatter = indexing.scatter
    scatter_add = indexing.scatter_add
    scatter_reduce = indexing.scatter_reduce
    index_reduce = indexing.index_reduce
    index_select = indexing.index_select
    index_add = indexing.index_add
    masked_fill = indexing.masked_fill
    take_along_dim = indexing.take_along_dim
    nonzero = elementwise.nonzero
    argwhere = elementwise.argwhere
    take = indexing.take
    masked_select = indexing.masked_select
    index_put = indexing.index_put
    unique = indexing.unique
    unique_consecutive = indexing.unique_consecutive
    histc = indexing.histc

    fmax = elementwise.fmax
    fmin = elementwise.fmin
    float_power = elementwise.float_power
    signbit = elementwise.signbit
    bitwise_and = elementwise.bitwise_and
    bitwise_or = elementwise.bitwise_or
    bitwise_xor = elementwise.bitwise_xor
    bitwise_left_shift = elementwise.bitwise_left_shift
    bitwise_right_shift = elementwise.bitwise_right_shift
    bitwise_not = elementwise.bitwise_not
    greater_equal = elementwise.ge
    less_equal = elementwise.le
    not_equal = elementwise.ne
    positive = elementwise.positive
    fix = elementwise.trunc
    sgn = elementwise.sgn
    erfc = elementwise.erfc
    xlogy = elementwise.xlogy
    copysign = elementwise.copysign
    ldexp = elementwise.ldexp
    frexp = elementwise.frexp
    heaviside = elementwise.heaviside
    isposinf = elementwise.isposinf
    isneginf = elementwise.isneginf
    isreal = elementwise.isreal
    is_complex = elementwise.is_complex
    lgamma = special.lgamma
    digamma = special.digamma
    erfinv = special.erfinv
    i0 = special.i0
    mvlgamma = special.mvlgamma
    igamma = special.gammainc
    igammac = special.gammaincc

    def polygamma(self, n: _int) -> Tensor:
        """The n-th derivative of the digamma function at each element."""
        return special.polygamma(n, self)

    addmm = linalg.addmm
    diag = linalg.diag
    diag_embed = linalg.diag_embed
    ger = linalg.outer
    inner = linalg.inner
    mv = linalg.mv
    vdot = linalg.vdot
    logdet = linalg.logdet
    slogdet = linalg.slogdet
    matrix_power = linalg.matrix_power
    addcmul = linalg.addcmul
    addcdiv = linalg.addcdiv
    addmv = linalg.addmv
    addr = linalg.addr
    baddbmm = linalg.baddbmm
    addbmm = linalg.addbmm
    kron = linalg.kron
    cross = linalg.cross

    # ---- the rest of PyTorch's methods ------------------------------------------------------
    def multinomial(
        self, num_samples: _int, replacement: _bool = False, *, generator: Generator | None = None
    ) -> Tensor:
        """Sample `num_samples` category indices per row, with chances proportional to the row."""
        return creation.multinomial(self, num_samples, replacement, generator=generator)

    def bernoulli(
        self, p: Tensor | _float | None = None, *, generator: Generator | None = None
    ) -> Tensor:
        """Sample 1 with probability `p` (default: this tensor's values), else 0."""
        return creation.bernoulli(self, p, generator=generator)

    def index_put_(
        self, indices: Sequence[Tensor | None], values: Tensor | Number, accumulate: _bool = False
    ) -> Tensor:
        """In place: `self[indices] = values` (or `+=` with accumulate=True). Returns self."""
        return self._inplace(
            "index_put_", indexing.index_put, indices, values, accumulate=accumulate
        )

    def clamp_min(self, min: Tensor | Number) -> Tensor:  # noqa: A002
        """`clamp(self, min=min)`: every element at least `min`."""
        return elementwise.clamp(self, min=min)

    def clamp_max(self, max: Tensor | Number) -> Tensor:  # noqa: A002
        """`clamp(self, max=max)`: every element at most `max`."""
        return elementwise.clamp(self, max=max)

    def sum_to_size(self, *size: _int | Sequence[_int], **keywords: Sequence[_int]) -> Tensor:
        """Sum over the broadcast dimensions down to `size` (the transpose of `expand`)."""
        if keywords:
            size = size_by_keyword("sum_to_size", "size", size, keywords)
        return shape.sum_to(self, normalize_size(size))

    def split(self, split_size: _int | Sequence[_int], dim: _int = 0) -> tuple[Tensor, ...]:
        """torch.split as a method; PyTorch names its first argument `split_size` here (and
        `split_size_or_sections` in the function)."""
        return shape.split(self, split_size, dim)

    def new_tensor(
        self,
        data: object,
        *,
        dtype: dtype | None = None,
        device: Device | str | None = None,
        requires_grad: _bool = False,
        **kwargs: object,
    ) -> Tensor:
        """A new tensor from `data`, with this tensor's dtype and device by default."""
        out = creation.tensor(
            data,
            dtype=dtype or self.dtype,
            device=device or self.device,
            requires_grad=requires_grad,
        )
        return out

    def new_zeros(
        self,
        *size: _int | Sequence[_int],
        dtype: dtype | None = None,
        device: Device | str | None = None,
        requires_grad: _bool = False,
        **kwargs: object,
    ) -> Tensor:
        """Zeros of shape `size`, with this tensor's dtype and device by default."""
        return _new_filled(
            self, "new_zeros", creation.zeros, size, dtype, device, requires_grad, kwargs
        )

    def new_ones(
        self,
        *size: _int | Sequence[_int],
        dtype: dtype | None = None,
        device: Device | str | None = None,
        requires_grad: _bool = False,
        **kwargs: object,
    ) -> Tensor:
        """Ones of shape `size`, with this tensor's dtype and device by default."""
        return _new_filled(
            self, "new_ones", creation.ones, size, dtype, device, requires_grad, kwargs
        )

    def new_full(
        self,
        size: Sequence[_int],
        fill_value: Number,
        *,
        dtype: dtype | None = None,
        device: Device | str | None = None,
        requires_grad: _bool = False,
        **kwargs: object,
    ) -> Tensor:
        """A tensor of shape `size` filled with `fill_value`, of this dtype and device."""
        out = creation.full(
            size,
            fill_value,
            dtype=dtype or self.dtype,
            device=device or self.device,
            requires_grad=requires_grad,
        )
        return creation.batched_like(out, self)  # under vmap: per example, as torch

    def new_empty(
        self,
        *size: _int | Sequence[_int],
        dtype: dtype | None = None,
        device: Device | str | None = None,
        requires_grad: _bool = False,
        **kwargs: object,
    ) -> Tensor:
        """An uninitialised tensor of shape `size`, with this tensor's dtype and device."""
        return _new_filled(
            self, "new_empty", creation.empty, size, dtype, device, requires_grad, kwargs
        )

    def uniform_(
        self, a: _float = 0.0, b: _float = 1.0, generator: Generator | None = None
    ) -> Tensor:
        """In place: fill with samples from U(a, b), no gradient (complex: each part
        from U(a, b), as PyTorch's). Returns self."""
        if a > b:  # PyTorch's check, before anything is drawn
            raise DomainError(
                f"uniform_ expects to return a [from, to) range, but found from={a:g} > to={b:g}"
            )
        with grad_mode.no_grad():
            low = complex(a, a) if self.is_complex() else a
            sample = creation.rand_like(self, generator=generator) * (b - a) + low
        return _fill_with("uniform_", self, sample)

    def normal_(
        self, mean: _float = 0.0, std: _float = 1.0, generator: Generator | None = None
    ) -> Tensor:
        """In place: fill with samples from N(mean, std**2), no gradient (complex: mean
        in each part and E|z - mean(1 + i)|^2 = std**2, as PyTorch's). Returns self."""
        creation.check_std(std)
        with grad_mode.no_grad():
            centre = complex(mean, mean) if self.is_complex() else mean
            sample = creation.randn_like(self, generator=generator) * std + centre
        return _fill_with("normal_", self, sample)

    def bernoulli_(self, p: _float = 0.5, generator: Generator | None = None) -> Tensor:
        """In place: fill with 1 with probability p, else 0, no gradient. Returns self."""
        creation.check_probability(p)
        with grad_mode.no_grad():
            sample = creation.rand_like(self, generator=generator) < p
        return _fill_with("bernoulli_", self, sample)

    # ---- index_fill, index_copy, masked_scatter, put; apply_, map_; memory facts -------------
    def index_fill(self, dim: _int, index: Tensor, value: Tensor | Number) -> Tensor:
        """A copy with the slices at `index` along `dim` set to `value`."""
        return composites.index_fill(self, dim, index, value)

    def index_fill_(self, dim: _int, index: Tensor, value: Tensor | Number) -> Tensor:
        """In place: set the slices at `index` along `dim` to `value`. Returns self."""
        return self._inplace("index_fill_", composites.index_fill, dim, index, value)

    def index_copy(self, dim: _int, index: Tensor, source: Tensor) -> Tensor:
        """A copy with the slices at `index` along `dim` replaced by source's slices."""
        return composites.index_copy(self, dim, index, source)

    def index_copy_(self, dim: _int, index: Tensor, source: Tensor) -> Tensor:
        """In place: replace the slices at `index` along `dim` by source's. Returns self."""
        return self._inplace("index_copy_", composites.index_copy, dim, index, source)

    def masked_scatter(self, mask: Tensor, source: Tensor) -> Tensor:
        """A copy whose elements where `mask` is True are source's first elements, in order."""
        return composites.masked_scatter(self, mask, source)

    def masked_scatter_(self, mask: Tensor, source: Tensor) -> Tensor:
        """In place: write source's first elements where `mask` is True. Returns self."""
        return self._inplace("masked_scatter_", composites.masked_scatter, mask, source)

    def put(self, index: Tensor, source: Tensor, accumulate: _bool = False) -> Tensor:
        """A copy with flat positions `index` set to (or, accumulating, increased by) source."""
        return composites.put(self, index, source, accumulate)

    def put_(self, index: Tensor, source: Tensor, accumulate: _bool = False) -> Tensor:
        """In place: `put(index, source, accumulate)` written into this tensor. Returns self."""
        return self._inplace("put_", composites.put, index, source, accumulate)

    def apply_(self, callable: Callable[[Any], Any]) -> Tensor:  # noqa: A002
        """In place: each element replaced by callable(element), a Python function called once
        per element. As PyTorch: CPU tensors only, and never part of autograd (a tensor that
        requires grad raises)."""
        return _elementwise_python("apply_", self, callable)

    def map_(self, tensor: Tensor, callable: Callable[[Any, Any], Any]) -> Tensor:  # noqa: A002
        """In place: each element replaced by callable(element, other's element), with
        `tensor` broadcast to this shape; CPU only and outside autograd, as `apply_`."""
        return _elementwise_python("map_", self, callable, tensor)

    def storage_offset(self) -> _int:
        """How many elements into its memory block this tensor starts (0 unless a view);
        inside vmap, the batched tensor's, as torch's (its first example's)."""
        array = self._array
        if hasattr(type(array), "first_example"):  # vmap's stand-in
            array = array.first_example()
        return strided.memory_block(self._backend, array)[1]

    def untyped_storage(self) -> strided.UntypedStorage:
        """The memory block this tensor's elements live in, as bytes: views of one tensor
        share its `data_ptr()` and `nbytes()`."""
        return strided.UntypedStorage(
            strided.memory_block(self._backend, self._array)[0], self._backend
        )

    def storage(self) -> strided.TypedStorage:
        """The memory block as elements of this tensor's dtype (deprecated in PyTorch, which
        warns the same way)."""
        warnings.warn(_TYPED_STORAGE_DEPRECATION, UserWarning, stacklevel=2)
        block = strided.memory_block(self._backend, self._array)[0]
        return strided.TypedStorage(block, self._backend, self.dtype)

    @property
    def nbytes(self) -> _int:
        """The bytes the elements take: numel() * element_size()."""
        return int(self._array.size) * self._array.itemsize

    def as_strided(
        self, size: Sequence[_int], stride: Sequence[_int], storage_offset: _int | None = None
    ) -> Tensor:
        """A view of this tensor's memory with the given size, stride and storage offset."""
        return strided.as_strided(self, size, stride, storage_offset)

    def stft(self, n_fft: _int, *args: Any, **kwargs: Any) -> Tensor:
        """`chainrule.stft(self, ...)`: the short-time Fourier transform."""
        return spectral.stft(self, n_fft, *args, **kwargs)

    def istft(self, n_fft: _int, *args: Any, **kwargs: Any) -> Tensor:
        """`chainrule.istft(self, ...)`: the inverse short-time Fourier transform."""
        return spectral.istft(self, n_fft, *args, **kwargs)

    @property
    def itemsize(self) -> _int:
        """The bytes one element takes (`element_size()`)."""
        return self._array.itemsize

    # ---- in-place forms that need more than the out-of-place op ------------------------------
    def float_power_(self, exponent: Tensor | Number) -> Tensor:
        """In place: self = self ** exponent in float64; self must be float64 (complex128),
        as PyTorch's, since the result is never narrowed. Returns self."""
        wanted = dtypes.complex128 if self.is_complex() else dtypes.float64
        if self.dtype is not wanted:
            raise DTypeError(
                f"the base given to float_power_ has dtype {self.dtype.name} but the "
                f"operation's result requires dtype {wanted.name}"
            )
        return self._inplace("float_power_", elementwise.float_power, exponent)

    def renorm_(self, p: _float, dim: _int, maxnorm: _float) -> Tensor:
        """In place: `renorm(p, dim, maxnorm)` written into this tensor. Returns self."""
        return self._inplace("renorm_", method_extras.renorm_of_copy, p, dim, maxnorm)

    def fill_diagonal_(self, fill_value: Number, wrap: _bool = False) -> Tensor:
        """In place: set the main diagonal (every index equal) to `fill_value`; a tall matrix
        with wrap=True starts it again every N + 1 rows. Returns self."""
        return self._inplace("fill_diagonal_", method_extras.fill_diagonal, fill_value, wrap)

    # ---- in-place shape changes: this tensor becomes a view of its own memory ---------------
    def squeeze_(self, dim: _int | Sequence[_int] | None = None) -> Tensor:
        """In place: `squeeze(dim)`; this tensor takes the new shape. Returns self."""
        return method_extras.restride_("squeeze_", self, shape.squeeze, dim)

    def unsqueeze_(self, dim: _int) -> Tensor:
        """In place: `unsqueeze(dim)`; this tensor takes the new shape. Returns self."""
        return method_extras.restride_("unsqueeze_", self, shape.unsqueeze, dim)

    def transpose_(self, dim0: _int, dim1: _int) -> Tensor:
        """In place: `transpose(dim0, dim1)`; this tensor takes the new layout. Returns self."""
        return method_extras.restride_("transpose_", self, shape.transpose, dim0, dim1)

    swapdims_ = transpose_

    def swapaxes_(self, axis0: _int, axis1: _int) -> Tensor:
        """In place: `swapaxes(axis0, axis1)`, NumPy's name for `transpose_`. Returns self."""
        return method_extras.restride_("swapaxes_", self, shape.transpose, axis0, axis1)

    def t_(self) -> Tensor:
        """In place: `t()`, the transpose of a matrix (<= 2 dimensions). Returns self."""
        return method_extras.restride_("t_", self, shape.t)

    def as_strided_(
        self, size: Sequence[_int], stride: Sequence[_int], storage_offset: _int | None = None
    ) -> Tensor:
        """In place: `as_strided(size, stride, storage_offset)`; this tensor takes that view of
        its memory. Returns self."""
        return method_extras.restride_(
            "as_strided_", self, strided.as_strided, size, stride, storage_offset
        )

    def resize_(
        self,
        *sizes: _int | Sequence[_int],
        memory_format: object = None,
        **keywords: Sequence[_int],
    ) -> Tensor:
        """In place: take shape `sizes`; the first elements (row-major) keep their values, any
        new ones are uninitialised. Refused for tensors that require grad. Returns self."""
        if keywords:
            sizes = size_by_keyword("resize_", "size", sizes, keywords)
        return method_extras.resize_(self, normalize_size(sizes))

    def set_(
        self,
        source: Tensor | None = None,
        storage_offset: _int = 0,
        size: Sequence[_int] | None = None,
        stride: Sequence[_int] | None = None,
    ) -> Tensor:
        """In place: take `source`'s memory, shape and strides without a copy (or, with
        `size`, a strided view of its memory), or with no source become empty. Returns self.

        Example:
            >>> import chainrule
            >>> shared, x = chainrule.arange(4.0), chainrule.zeros(1)
            >>> x.set_(shared)[0] = 7.0
            >>> shared
            tensor([7., 1., 2., 3.])
        """
        return method_extras.set_(self, source, storage_offset, size, stride)

    def resize_as_(self, the_template: Tensor, memory_format: object = None) -> Tensor:
        """In place: `resize_(the_template.shape)`. Returns self."""
        return method_extras.resize_(self, tuple(the_template.shape))

    # ---- random fills: chainrule's generator, PyTorch's distributions and rules ----------------
    def exponential_(self, lambd: _float = 1.0, *, generator: Generator | None = None) -> Tensor:
        """In place: fill with samples from Exponential(rate=lambd) (floating dtypes only),
        outside the graph: the old values get a zero gradient. Returns self."""
        return method_extras.exponential_(self, lambd, generator=generator)

    def geometric_(self, p: _float, *, generator: Generator | None = None) -> Tensor:
        """In place: fill with the number of Bernoulli(p) trials up to the first success
        (1, 2, ...; integer dtypes too). Returns self."""
        return method_extras.geometric_(self, p, generator=generator)

    def log_normal_(
        self, mean: _float = 1.0, std: _float = 2.0, *, generator: Generator | None = None
    ) -> Tensor:
        """In place: fill with exp(N(mean, std**2)) samples (floating dtypes only). Returns
        self."""
        return method_extras.log_normal_(self, mean, std, generator=generator)

    def cauchy_(
        self, median: _float = 0.0, sigma: _float = 1.0, *, generator: Generator | None = None
    ) -> Tensor:
        """In place: fill with samples from Cauchy(median, sigma) (floating dtypes only).
        Returns self."""
        return method_extras.cauchy_(self, median, sigma, generator=generator)

    def random_(
        self,
        from_: _int | None = None,
        to: _int | None = None,
        *,
        generator: Generator | None = None,
    ) -> Tensor:
        """In place: fill with integers drawn uniformly from [from, to); random_(to) starts at
        0, random_() covers [0, the largest integer the dtype holds exactly]. Returns self."""
        return method_extras.random_(self, from_, to, generator=generator)

    # ---- more math: the functions of chainrule.ops under PyTorch's method names -----------------
    prelu = activation.prelu
    hardshrink = activation.hardshrink
    cov = composites.cov
    corrcoef = composites.corrcoef
    matrix_exp = decompositions.matrix_exp
    # the twins of top-level functions: the method is the function, self its first argument
    renorm = composites.renorm
    split_with_sizes = composites.split_with_sizes
    unsafe_split_with_sizes = composites.unsafe_split_with_sizes
    unsafe_split = composites.unsafe_split
    unsafe_chunk = composites.unsafe_chunk
    diagonal_scatter = composites.diagonal_scatter
    select_scatter = composites.select_scatter
    slice_scatter = composites.slice_scatter
    gcd = elementwise.gcd
    lcm = elementwise.lcm
    nextafter = elementwise.nextafter
    nonzero_static = elementwise.nonzero_static
    is_signed = elementwise.is_signed
    is_nonzero = elementwise.is_nonzero
    is_same_size = elementwise.is_same_size
    get_device = elementwise.get_device
    bincount = reduction.bincount
    histogram = reduction.histogram
    pinverse = linalg_extra.pinverse
    cholesky = linalg_extra.cholesky
    symeig = linalg_extra.symeig  # removed from PyTorch: raises, naming the replacement
    eig = linalg_extra.eig
    lstsq = linalg_extra.lstsq
    solve = linalg_extra.solve
    cholesky_solve = linalg_extra.cholesky_solve
    cholesky_inverse = linalg_extra.cholesky_inverse
    triangular_solve = linalg_extra.triangular_solve
    svd = linalg_extra.svd
    qr = linalg_extra.qr
    lu = linalg_extra.lu
    lu_solve = linalg_extra.lu_solve
    geqrf = linalg_extra.geqrf
    orgqr = linalg_extra.orgqr
    ormqr = linalg_extra.ormqr

    def narrow_copy(self, dim: _int, start: _int, length: _int) -> Tensor:
        """`narrow(dim, start, length)` as a tensor of its own memory (not a view)."""
        return conversion.clone(indexing.narrow(self, dim, start, length))

    def new_empty_strided(
        self,
        size: Sequence[_int],
        stride: Sequence[_int],
        *,
        dtype: dtype | None = None,
        device: Device | str | None = None,
        requires_grad: _bool = False,
        **kwargs: object,
    ) -> Tensor:
        """An uninitialised tensor of this size and stride, of this tensor's dtype and device
        by default."""
        return strided.empty_strided(
            size,
            stride,
            dtype=dtype or self.dtype,
            device=device or self.device,
            requires_grad=requires_grad,
        )

    def new(self, *args: object) -> Tensor:
        """PyTorch's legacy constructor with this tensor's dtype and device: new(data) copies,
        new(*sizes) is uninitialised, new() is empty."""
        if len(args) == 1 and isinstance(args[0], Tensor):
            if args[0].dtype is not self.dtype:
                raise TypeError(
                    f"new(): expected a tensor of dtype {self.dtype.name}, got {args[0].dtype.name}"
                )
            return args[0]
        if len(args) == 1 and isinstance(args[0], Size):  # a Size is sizes, not data
            args = tuple(args[0])
        return Tensor(*args, dtype=self.dtype, device=self.device)

    def as_subclass(self, cls: builtins.type[Tensor]) -> Tensor:
        """This tensor as an instance of the Tensor subclass `cls`: the same memory and place
        in the graph (gradients reach this tensor's history)."""
        return method_extras.as_subclass(self, cls)

    def cfloat(self) -> Tensor:
        """This tensor converted to complex64: `self.to(chainrule.complex64)`."""
        return conversion.cast(self, dtypes.complex64)

    def cdouble(self) -> Tensor:
        """This tensor converted to complex128: `self.to(chainrule.complex128)`."""
        return conversion.cast(self, dtypes.complex128)

    # ---- facts about the tensor and its memory -------------------------------------------------
    @property
    def is_cpu(self) -> _bool:
        """Whether the tensor lives in host memory."""
        return self.device.type == "cpu"

    def is_set_to(self, tensor: Tensor) -> _bool:
        """Whether both tensors view the same memory with one shape, stride and offset."""
        mine, theirs = self._array, tensor._array
        return (
            self._backend.data_ptr(mine) == tensor._backend.data_ptr(theirs)
            and mine.shape == theirs.shape
            and mine.strides == theirs.strides
        )

    @property
    def output_nr(self) -> _int:
        """Which output of its grad_fn this tensor is (0 for a leaf)."""
        return self._output_nr

    def dim_order(self, *, ambiguity_check: _bool | Sequence[object] = False) -> tuple[_int, ...]:
        """The dimensions from the outermost in memory to the innermost (largest stride
        first): (0, 1, ..., n-1) for a contiguous tensor."""
        strides = self.stride()
        return tuple(sorted(range(self.ndim), key=lambda d: -strides[d]))

    def is_inference(self) -> _bool:
        """Whether this tensor was made inside `inference_mode()` (or is a view of one that
        was): the tensors PyTorch's inference rules apply to."""
        return type(self._version_counter) is InferenceVersionCounter

    def is_neg(self) -> _bool:
        """False: chainrule negates eagerly, never lazily through a neg bit."""
        return False

    def is_pinned(self) -> _bool:
        """False: chainrule has no page-locked host memory."""
        return False

    def pin_memory(self, device: Device | str | None = None) -> Tensor:
        """This tensor: host memory needs no pinning for chainrule's device copies."""
        return self

    def is_shared(self) -> _bool:
        """Whether the tensor's memory is shared between processes (`share_memory_()`)."""
        marked = self._extra is not None and self._extra.get("shared", False)
        return marked or shared.location(self._array) is not None

    def share_memory_(self) -> Tensor:
        """Move the tensor's data into shared memory, as PyTorch's: processes forked after
        this, or sent the tensor through multiprocessing (a spawned Process's arguments, a
        Queue), write the same memory, as Hogwild training needs. Returns self."""
        if self._extra is None:
            self._extra = {}
        self._extra["shared"] = True
        if shared.location(self._array) is None:
            self._array = shared.share(self._array)
            shared.send_shared_by_name(Tensor, _reduce_for_processes)
        return self

    def record_stream(self, stream: object) -> None:
        """Nothing to do: chainrule frees device memory only when the tensor is gone."""

    def const_data_ptr(self) -> _int:
        """The address of the first element, as `data_ptr()`."""
        return self.data_ptr()

    @property
    def layout(self) -> formats.layout:
        """The memory layout: `strided` (a sparse tensor, ops/sparse.py, says `sparse_coo`)."""
        return formats.strided

    def to_dense(self, dtype: dtype | None = None, *, masked_grad: _bool | None = None) -> Tensor:
        """This tensor (already dense), converted to `dtype` if given."""
        return self if dtype is None else self.to(dtype)

    to_sparse = sparse.to_sparse

    def to_sparse_coo(self) -> Tensor:
        """This tensor as a sparse COO tensor of its nonzero entries (`to_sparse()`)."""
        return sparse.to_sparse(self)

    to_sparse_csr = sparse.to_sparse_csr
    to_sparse_csc = sparse.to_sparse_csc
    sparse_mask = sparse.sparse_mask

    def is_distributed(self) -> _bool:
        """False: a chainrule tensor lives in one process."""
        return False

    # What chainrule tensors never are: sparse, quantized, nested, or on these devices.
    is_sparse_csr = property(method_extras.never, doc="False: a dense tensor (ops/sparse.py: CSR).")
    is_quantized = property(method_extras.never, doc="False: no quantized tensors.")
    is_nested = property(method_extras.never, doc="False: no nested tensors.")
    is_mkldnn = property(method_extras.never, doc="False: no MKL-DNN layout.")
    is_mps = property(method_extras.never, doc="False: no Apple GPU backend.")
    is_xpu = property(method_extras.never, doc="False: no Intel GPU backend.")
    is_xla = property(method_extras.never, doc="False: no XLA backend.")
    is_ipu = property(method_extras.never, doc="False: no IPU backend.")
    is_maia = property(method_extras.never, doc="False: no MAIA backend.")
    is_mtia = property(method_extras.never, doc="False: no MTIA backend.")
    is_vulkan = property(method_extras.never, doc="False: no Vulkan backend.")

    # ---- the in-place forms, as static tools see them ------------------------------------------
    # attach_methods makes `name_` for each name of _ELEMENTWISE_INPLACE when chainrule is
    # imported; these lines declare them for mypy and editors (tests/test_typing.py checks that
    # the two lists agree).
    if TYPE_CHECKING:
        abs_ = abs  # noqa: A003 - the class attribute, not the builtin
        absolute_ = absolute
        acos_ = acos
        acosh_ = acosh
        arccos_ = arccos
        arccosh_ = arccosh
        arcsin_ = arcsin
        arcsinh_ = arcsinh
        arctan_ = arctan
        arctan2_ = arctan2
        arctanh_ = arctanh
        asin_ = asin
        asinh_ = asinh
        atan_ = atan
        atan2_ = atan2
        atanh_ = atanh
        ceil_ = ceil
        cos_ = cos
        cosh_ = cosh
        cumprod_ = cumprod
        cumsum_ = cumsum
        deg2rad_ = deg2rad
        hypot_ = hypot
        rad2deg_ = rad2deg
        sinc_ = sinc
        divide_ = divide
        eq_ = eq
        erf_ = erf
        exp_ = exp
        exp2_ = exp2
        expm1_ = expm1
        floor_ = floor
        floor_divide_ = floor_divide
        fmod_ = fmod
        frac_ = frac
        ge_ = ge
        greater_ = greater
        gt_ = gt
        le_ = le
        lerp_ = lerp
        less_ = less
        log_ = log
        log10_ = log10
        log1p_ = log1p
        log2_ = log2
        logical_and_ = logical_and
        logical_not_ = logical_not
        logical_or_ = logical_or
        logical_xor_ = logical_xor
        logit_ = logit
        lt_ = lt
        multiply_ = multiply
        nan_to_num_ = nan_to_num
        ne_ = ne
        neg_ = neg
        negative_ = negative
        reciprocal_ = reciprocal
        relu_ = relu
        remainder_ = remainder
        round_ = round  # noqa: A003
        rsqrt_ = rsqrt
        sigmoid_ = sigmoid
        sign_ = sign
        sin_ = sin
        sinh_ = sinh
        sqrt_ = sqrt
        square_ = square
        subtract_ = subtract
        tan_ = tan
        tanh_ = tanh
        tril_ = tril
        triu_ = triu
        true_divide_ = true_divide
        trunc_ = trunc
        clamp_min_ = clamp_min
        clamp_max_ = clamp_max
        copysign_ = copysign
        erfc_ = erfc
        ldexp_ = ldexp
        sgn_ = sgn
        xlogy_ = xlogy
        lgamma_ = lgamma
        digamma_ = digamma
        polygamma_ = polygamma
        erfinv_ = erfinv
        i0_ = i0
        mvlgamma_ = mvlgamma
        igamma_ = igamma
        igammac_ = igammac
        addmm_ = addmm
        addmv_ = addmv
        addr_ = addr
        baddbmm_ = baddbmm
        addbmm_ = addbmm
        bitwise_and_ = bitwise_and
        bitwise_or_ = bitwise_or
        bitwise_xor_ = bitwise_xor
        bitwise_not_ = bitwise_not
        bitwise_left_shift_ = bitwise_left_shift
        bitwise_right_shift_ = bitwise_right_shift
        fix_ = fix
        heaviside_ = heaviside
        greater_equal_ = greater_equal
        less_equal_ = less_equal
        not_equal_ = not_equal
        conj_physical_ = conj_physical
        gcd_ = gcd
        lcm_ = lcm
        nextafter_ = nextafter


def _reduce_for_processes(tensor: Tensor) -> tuple:
    """How multiprocessing sends a tensor once any was shared (backend/shared.py): one in
    shared memory by its block's name, so the receiver writes the same memory, as PyTorch's
    reductions; any other by value, as pickle."""
    place = shared.location(tensor._array)
    if place is None:
        return tensor.__reduce_ex__(4)
    array = tensor._array
    block, offset = place
    details = (array.shape, array.strides, array.dtype, tensor._requires_grad)
    return (creation.tensor_from_shared, (block, offset, *details))


def _to_legacy_type_name(x: Tensor, name: str) -> Tensor:
    """x converted to the legacy type called `name` ('torch.cuda.LongTensor' and the like)."""
    parts = name.split(".")
    by_name = {kind.__name__: kind.dtype_name for kind in LEGACY_TYPE_BY_DTYPE.values()}
    known = parts[0] in ("torch", "chainrule") and parts[-1] in by_name
    if not known or len(parts) not in (2, 3) or (len(parts) == 3 and parts[1] != "cuda"):
        raise ValueError(f"invalid type: {name!r}")
    target = x.to(as_dtype(by_name[parts[-1]]))
    return target.to("cuda") if len(parts) == 3 else target.to("cpu")


def _deprecated_scalar_first(
    name: str, scalar_name: str, scalar: object, rest: object
) -> tuple[Number, Any]:
    """The scalar and the tensors of PyTorch's deprecated scalar-first overloads
    (`add_(alpha, other)`, `addcmul_(value, tensor1, tensor2)`), with its warning."""
    if isinstance(scalar, Tensor):
        raise TypeError(
            f"{name}() received an invalid combination of arguments: the first of three "
            f"positional arguments must be the Number {scalar_name}"
        )
    usual = "Tensor tensor1, Tensor tensor2" if name.startswith("addc") else "Tensor other"
    warnings.warn(
        f"This overload of {name} is deprecated:\n\t{name}(Number {scalar_name}, {usual})\n"
        f"Consider using one of the following signatures instead:\n\t{name}({usual}, *, "
        f"Number {scalar_name} = 1)",
        UserWarning,
        stacklevel=3,
    )
    return scalar, rest


def _elementwise_python(name: str, x: Tensor, function: Callable, other: Any = None) -> Tensor:
    """apply_ / map_: a Python function per element, written back outside autograd."""
    if x.requires_grad:
        raise RuntimeError(
            f"Can't call {name}() on Variable that requires grad. Use var.detach().{name}() "
            "instead."
        )
    if x.device.type != "cpu":
        raise TypeError(f"{name} is only implemented on CPU tensors")
    values = x.reshape(-1).tolist()
    if other is None:
        results = [function(value) for value in values]
    else:
        others = shape.broadcast_to(other, tuple(x.shape)).reshape(-1).tolist()
        results = [function(value, o) for value, o in zip(values, others)]
    updated = creation.tensor(results, dtype=x.dtype, device=x.device)
    with grad_mode.no_grad():
        return x.copy_(shape.reshape(updated, tuple(x.shape)))


# The writes of copy_, zero_, fill_ and `x[key] = value`, their nodes named as PyTorch names
# them, which a printed tensor shows (`grad_fn=<CopySlices>` after `x[0] = 1`).
def _copied(x: Tensor, src: Tensor | Number) -> Tensor:
    return named(elementwise.copy_from(x, src), "CopyBackwards")


def _zeroed(x: Tensor, value: Number) -> Tensor:
    return named(elementwise.fill_like(x, value), "ZeroBackward0")


def _filled(x: Tensor, value: Tensor | Number) -> Tensor:
    name = "FillBackward3" if isinstance(value, Tensor) else "FillBackward2"
    return named(elementwise.fill_like(x, value), name)


def _setitem_node_name(x: Tensor, key: IndexKey, value: Tensor | Number) -> str | None:
    """PyTorch's node for `x[key] = value`: CopySlices when the key's ints, None, bools or
    partial slices make a view to write into; else, with a tensor or list index,
    IndexPutBackward0 (None: the op's own name); else (full slices, ...) the whole tensor is
    written, by fill_ (FillBackward3) for a number or 0-dim value, by copy_ otherwise."""
    items = key if type(key) is tuple else (key,)
    consumed = [_dims_consumed(item) for item in items]
    after_ellipsis = x._array.ndim - sum(consumed)
    dim = 0
    advanced = False
    for item, count in zip(items, consumed):
        if item is Ellipsis:
            dim += after_ellipsis
        elif item is None or type(item) in (int, bool):
            return "CopySlices"
        elif type(item) is slice:
            if item.indices(x._array.shape[dim]) != (0, x._array.shape[dim], 1):
                return "CopySlices"
        else:
            advanced = True
        dim += count
    if advanced:
        return None
    if not isinstance(value, Tensor) or value._array.ndim == 0:
        return "FillBackward3"
    return "CopyBackwards"


def _is_index_put(key: IndexKey, value: Tensor) -> bool:
    """Whether PyTorch writes `x[key] = value` with index_put (a key with a tensor or list
    index), not with copy_ or masked_fill (a lone mask and a one-element value)."""
    items = key if type(key) is tuple else (key,)
    advanced = [item for item in items if isinstance(item, (Tensor, list)) or is_array(item)]
    if not advanced:
        return False
    lone_mask = len(items) == 1 and isinstance(key, Tensor) and key._array.dtype.kind == "b"
    return not (lone_mask and value._array.size == 1)


def _dims_consumed(item: Any) -> int:
    if item is None or item is Ellipsis or type(item) is bool:
        return 0
    if isinstance(item, Tensor) and item._array.dtype.kind == "b":
        return item._array.ndim
    return 1


def _is_basic_key(key: IndexKey) -> bool:
    """Whether `x[key]` is a view: ints, slices, None and Ellipsis only."""
    items = key if type(key) is tuple else (key,)
    return all(type(item) in (int, slice) or item is None or item is Ellipsis for item in items)


def _put(x: Tensor, key: IndexKey, value: Tensor | Number) -> Tensor:
    """`x[key] = value` as a function, its node named as PyTorch's (_setitem_node_name),
    refusing what PyTorch refuses: a number x's dtype cannot hold (-3.0 into uint8), and,
    through a tensor or list index, a tensor value of another dtype (only a one-element
    value through a lone mask is cast, as masked_fill)."""
    if isinstance(value, Tensor):
        if value._array.dtype != x._array.dtype and _is_index_put(key, value):
            raise DTypeError(
                "Index put requires the source and destination dtypes match, got "
                f"{x.dtype.name} for the destination and {value.dtype.name} for the source."
            )
    else:
        value = creation.checked_fill("index_put_", value, x.dtype)
    result = indexing.index_put_values(x, key, value)
    name = _setitem_node_name(x, key, value) if result._node is not None else None
    return result if name is None else named(result, name)


def _inplace_method(name: str, function: Callable) -> Callable:
    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        return self._inplace(name, function, *args, **kwargs)

    method.__name__ = name
    method.__qualname__ = f"Tensor.{name}"
    method.__doc__ = f"In-place `{name[:-1]}`: the result is written into this tensor's memory."
    return method


# `x.exp_()` and friends: the out-of-place op, written back by Tensor._inplace (which checks
# leaves, views and dtypes, and records history when needed).
_ELEMENTWISE_INPLACE = (
    "abs absolute acos acosh arccos arccosh arcsin arcsinh arctan arctan2 arctanh asin asinh "
    "atan atan2 atanh ceil cos cosh cumprod cumsum deg2rad hypot rad2deg sinc "
    "divide eq erf exp exp2 expm1 floor floor_divide fmod frac ge greater gt le lerp less log "
    "log10 log1p log2 logical_and logical_not logical_or logical_xor logit lt multiply "
    "nan_to_num ne neg negative reciprocal relu remainder round rsqrt sigmoid sign sin sinh sqrt "
    "square subtract tan tanh tril triu true_divide trunc clamp_min clamp_max "
    "copysign erfc ldexp sgn xlogy lgamma digamma polygamma erfinv i0 mvlgamma igamma igammac "
    "addmm addmv addr baddbmm addbmm bitwise_and bitwise_or bitwise_xor "
    "bitwise_not bitwise_left_shift bitwise_right_shift fix heaviside greater_equal less_equal "
    "not_equal conj_physical gcd lcm nextafter"
).split()

# Of those, the comparisons: written in place they stay in the graph (x.lt_(y) is LtBackward0).
_COMPARISONS = frozenset(
    "eq ne lt le gt ge greater greater_equal less less_equal not_equal".split()
)


def attach_methods() -> None:
    """Copy the table's methods and properties onto Tensor, then add the `name_` in-place
    forms. What Python itself puts in a class body (`__module__`, `__doc__`, and `__hash__ =
    None` because the table defines `__eq__`) is neither, so Tensor keeps its own."""
    for name, value in vars(TensorMethods).items():
        if callable(value) or isinstance(value, property):
            setattr(Tensor, name, value)
    for name in _ELEMENTWISE_INPLACE:
        function = getattr(Tensor, name)
        if name in _COMPARISONS:
            function = elementwise.inplace_comparison(name)
        elif name in ("abs", "absolute"):
            function = _real_abs
        setattr(Tensor, name + "_", _inplace_method(name + "_", function))


def _real_abs(input: Tensor) -> Tensor:  # noqa: A002
    """abs for `abs_`, which PyTorch refuses for complex tensors (|z| is real: no complex
    tensor can hold it in place)."""
    if input._array.dtype.kind == "c":
        raise DTypeError("abs_: In-place abs is not supported for complex tensors.")
    return elementwise.abs(input)


attach_methods()
