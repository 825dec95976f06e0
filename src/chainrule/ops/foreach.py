"""PyTorch's `torch._foreach_*` functions: one op applied to every tensor of a list, what EMA
and optimizer code written for PyTorch's multi-tensor kernels calls (timm's ModelEmaV3 runs
`torch._foreach_lerp_(ema_params, model_params, weight=1 - decay)`).

chainrule has no multi-tensor kernel: each function loops over the per-tensor op, so values,
dtypes, gradients and in-place checks are that op's. The second operand may be one number or
tensor for all, a list of numbers, or a list of tensors (as PyTorch's overloads); the
out-of-place forms return a tuple, the in-place ones (trailing underscore) the list they were
given.

>>> import chainrule
>>> ema = [chainrule.zeros(2), chainrule.zeros(3)]
>>> chainrule._foreach_lerp_(ema, [chainrule.ones(2), chainrule.ones(3)], 0.1)
[tensor([0.1000, 0.1000]), tensor([0.1000, 0.1000, 0.1000])]
>>> chainrule._foreach_norm(ema)
(tensor(0.1414), tensor(0.1732))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from chainrule._tensor import Tensor
from chainrule.errors import ShapeError
from chainrule.ops import tensor_methods as _tensor_methods  # noqa: F401 - Tensor's methods
from chainrule.ops.elementwise import pow as _pow

_UNARY = (
    "abs acos asin atan ceil cos cosh erf erfc exp expm1 floor frac lgamma log log10 log1p "
    "log2 neg reciprocal round rsqrt sigmoid sign sin sinh sqrt tan tanh trunc"
).split()
_BINARY = "add sub mul div maximum minimum clamp_min clamp_max".split()


def _tensors(name: str, tensors: Any) -> list[Tensor]:
    tensors = list(tensors)
    if not tensors:
        raise ShapeError("Tensor list must have at least one tensor.")
    for tensor in tensors:
        if not isinstance(tensor, Tensor):
            raise TypeError(f"{name}(): expected a list of Tensors, got {type(tensor).__name__}")
    return tensors


def _per_tensor(tensors: list[Tensor], other: Any) -> list[Any]:
    """`other` for each tensor: a list's items (of the same length), else `other` itself."""
    if not isinstance(other, (list, tuple)):
        return [other] * len(tensors)
    if len(other) != len(tensors):
        if other and isinstance(other[0], Tensor):
            raise ShapeError(
                "Tensor lists must have the same number of tensors, got "
                f"{len(tensors)} and {len(other)}"
            )
        raise ShapeError("Tensor list must have same number of elements as scalar list.")
    return list(other)


def _scalars(tensors: list[Tensor], value: Any) -> list[Any]:
    """A per-tensor scalar: a number for all, a list of numbers, or a 1-D tensor of them."""
    if isinstance(value, Tensor):
        value = value.tolist() if value.ndim else value.item()
    return _per_tensor(tensors, value)


def _in_place(tensor: Tensor, method: str, result: Callable[[], Tensor], *args: Any) -> None:
    """`tensor.method_(*args)` where Tensor has that method, else the result copied in."""
    inplace = getattr(Tensor, method + "_", None)
    if inplace is not None:
        inplace(tensor, *args)
    else:
        tensor.copy_(result())


def _unary(method: str) -> tuple[Callable, Callable]:
    def out_of_place(self: Sequence[Tensor]) -> tuple[Tensor, ...]:
        return tuple(getattr(t, method)() for t in _tensors(f"_foreach_{method}", self))

    def in_place(self: Sequence[Tensor]) -> Sequence[Tensor]:
        for t in _tensors(f"_foreach_{method}_", self):
            getattr(t, method + "_")()
        return self

    return out_of_place, in_place


def _binary(method: str) -> tuple[Callable, Callable]:
    takes_alpha = method in ("add", "sub")

    def call(t: Tensor, other: Any, alpha: Any) -> Tensor:
        if takes_alpha:
            return getattr(t, method)(other, alpha=alpha)
        return getattr(t, method)(other)

    def out_of_place(self: Sequence[Tensor], other: Any, *, alpha: Any = 1) -> tuple:
        tensors = _tensors(f"_foreach_{method}", self)
        return tuple(call(t, o, alpha) for t, o in zip(tensors, _per_tensor(tensors, other)))

    def in_place(self: Sequence[Tensor], other: Any, *, alpha: Any = 1) -> Sequence[Tensor]:
        tensors = _tensors(f"_foreach_{method}_", self)
        for t, o in zip(tensors, _per_tensor(tensors, other)):
            if takes_alpha:
                getattr(t, method + "_")(o, alpha=alpha)
            else:
                _in_place(t, method, lambda t=t, o=o: getattr(t, method)(o), o)
        return self

    return out_of_place, in_place


def _pointwise(method: str) -> tuple[Callable, Callable]:
    """addcmul / addcdiv: self + value * (t1 op t2), value one scalar or one per tensor."""

    def out_of_place(self: Sequence[Tensor], tensor1: Any, tensor2: Any, value: Any = 1) -> tuple:
        tensors = _tensors(f"_foreach_{method}", self)
        rows = zip(
            tensors,
            _per_tensor(tensors, tensor1),
            _per_tensor(tensors, tensor2),
            _scalars(tensors, value),
        )
        return tuple(getattr(t, method)(a, b, value=v) for t, a, b, v in rows)

    def in_place(
        self: Sequence[Tensor], tensor1: Any, tensor2: Any, value: Any = 1
    ) -> Sequence[Tensor]:
        tensors = _tensors(f"_foreach_{method}_", self)
        rows = zip(
            tensors,
            _per_tensor(tensors, tensor1),
            _per_tensor(tensors, tensor2),
            _scalars(tensors, value),
        )
        for t, a, b, v in rows:
            getattr(t, method + "_")(a, b, value=v)
        return self

    return out_of_place, in_place


def _document(function: Callable, name: str, what: str) -> Callable:
    function.__name__ = function.__qualname__ = name
    function.__module__ = __name__
    returns = "the list given, its tensors overwritten" if name.endswith("_") else "a tuple"
    arguments = _EXAMPLE_ARGUMENTS.get(name.rstrip("_"), "")
    function.__doc__ = f"""PyTorch's `torch.{name}`: {what} for each tensor of a list ({returns}).

Example:
    >>> import chainrule
    >>> len(chainrule.{name}([chainrule.tensor([0.5, 2.0])]{arguments}))
    1
"""
    return function


_EXAMPLE_ARGUMENTS = {
    **{f"_foreach_{m}": ", 2.0" for m in _BINARY},
    "_foreach_pow": ", 2.0",
    "_foreach_lerp": ", [chainrule.ones(2)], 0.5",
    "_foreach_addcmul": ", [chainrule.ones(2)], [chainrule.ones(2)], 0.5",
    "_foreach_addcdiv": ", [chainrule.ones(2)], [chainrule.ones(2)], 0.5",
    "_foreach_copy": ", [chainrule.ones(2)]",
}

__all__: list[str] = []
_FUNCTIONS: dict[str, Callable] = {}

for _name in _UNARY:
    _FUNCTIONS[f"_foreach_{_name}"], _FUNCTIONS[f"_foreach_{_name}_"] = _unary(_name)
for _name in _BINARY:
    _FUNCTIONS[f"_foreach_{_name}"], _FUNCTIONS[f"_foreach_{_name}_"] = _binary(_name)
for _name in ("addcmul", "addcdiv"):
    _FUNCTIONS[f"_foreach_{_name}"], _FUNCTIONS[f"_foreach_{_name}_"] = _pointwise(_name)


def _foreach_pow(self: Any, exponent: Any) -> tuple[Tensor, ...]:
    if not isinstance(self, (list, tuple)):  # a number raised to each tensor
        return tuple(_pow(self, e) for e in _tensors("_foreach_pow", exponent))
    tensors = _tensors("_foreach_pow", self)
    return tuple(t.pow(e) for t, e in zip(tensors, _per_tensor(tensors, exponent)))


def _foreach_pow_(self: Sequence[Tensor], exponent: Any) -> Sequence[Tensor]:
    tensors = _tensors("_foreach_pow_", self)
    for t, e in zip(tensors, _per_tensor(tensors, exponent)):
        t.pow_(e)
    return self


def _foreach_lerp(self: Sequence[Tensor], tensors1: Any, weight: Any) -> tuple[Tensor, ...]:
    tensors = _tensors("_foreach_lerp", self)
    ends = _per_tensor(tensors, tensors1)
    return tuple(t.lerp(e, w) for t, e, w in zip(tensors, ends, _per_tensor(tensors, weight)))


def _foreach_lerp_(self: Sequence[Tensor], tensors1: Any, weight: Any) -> Sequence[Tensor]:
    tensors = _tensors("_foreach_lerp_", self)
    ends = _per_tensor(tensors, tensors1)
    for t, e, w in zip(tensors, ends, _per_tensor(tensors, weight)):
        t.lerp_(e, w)
    return self


def _foreach_norm(self: Sequence[Tensor], ord: Any = 2, dtype: Any = None) -> tuple:  # noqa: A002
    return tuple(
        t.norm(p=ord, dtype=dtype) if dtype is not None else t.norm(p=ord)
        for t in _tensors("_foreach_norm", self)
    )


def _foreach_max(self: Sequence[Tensor]) -> tuple[Tensor, ...]:
    return tuple(t.max() for t in _tensors("_foreach_max", self))


def _foreach_clone(self: Sequence[Tensor]) -> tuple[Tensor, ...]:
    return tuple(t.clone() for t in _tensors("_foreach_clone", self))


def _foreach_copy_(
    self: Sequence[Tensor], src: Sequence[Tensor], non_blocking: bool = False
) -> Sequence[Tensor]:
    tensors = _tensors("_foreach_copy_", self)
    for t, s in zip(tensors, _per_tensor(tensors, list(src))):
        t.copy_(s, non_blocking=non_blocking)
    return self


def _foreach_zero_(self: Sequence[Tensor]) -> Sequence[Tensor]:
    for t in _tensors("_foreach_zero_", self):
        t.zero_()
    return self


_DESCRIPTIONS = {
    "_foreach_pow": "tensor ** exponent (or a number ** each tensor)",
    "_foreach_lerp": "tensor + weight * (end - tensor)",
    "_foreach_norm": "the vector norm of order `ord`",
    "_foreach_max": "the largest element",
    "_foreach_clone": "a copy",
    "_foreach_copy": "src copied in",
    "_foreach_zero": "zeros written in",
    "_foreach_addcmul": "tensor + value * tensor1 * tensor2",
    "_foreach_addcdiv": "tensor + value * tensor1 / tensor2",
}
for _function in (
    _foreach_pow,
    _foreach_pow_,
    _foreach_lerp,
    _foreach_lerp_,
    _foreach_norm,
    _foreach_max,
    _foreach_clone,
    _foreach_copy_,
    _foreach_zero_,
):
    _FUNCTIONS[_function.__name__] = _function
for _name, _function in _FUNCTIONS.items():
    _op = _name.removeprefix("_foreach_").rstrip("_")
    _what = _DESCRIPTIONS.get(_name.rstrip("_"), f"`Tensor.{_op}`")
    globals()[_name] = _document(_function, _name, _what)
    __all__.append(_name)
__all__.sort()
del _name, _function, _op, _what
