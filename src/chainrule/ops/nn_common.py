# ruff: noqa: A002 - `input` is PyTorch's argument name throughout
"""What the nn kernel files share: operand checks that name the op and every operand, raw
arrays wrapped as constants, and the vmap rules' folding of the batch into the samples.
"""

from __future__ import annotations

from typing import Any

from chainrule._tensor import Tensor
from chainrule.autograd.grad_mode import is_grad_enabled
from chainrule.autograd.observers import observers, tell
from chainrule.backend import Array, dtypes
from chainrule.errors import DTypeError, ShapeError
from chainrule.ops.shape import reshape


def constant(array: Array) -> Any:
    """A raw array as a Tensor that needs no gradient (masks, weights, matrices). Made from
    raw arrays outside ops, so `chainrule.compile` cannot replay how: it is told (a graph
    break)."""
    active = observers.get()
    if active is not None:
        tell(active, "host_constant", array)
    return Tensor._from_array(array)


def shape_constant(array: Array) -> Any:
    """A constant made from sizes and Python values only, never from a tensor's values (a
    causal mask, an interpolation matrix): `chainrule.compile` keeps it as it is."""
    return Tensor._from_array(array)


def check_floating(
    op_name: str, *, complex_ok: bool = False, integer_ok: bool = False, **tensors: Any
) -> None:
    """PyTorch's nn ops want floating inputs (or complex ones, where `complex_ok`: the ops
    PyTorch has complex kernels for; or integer ones, not bool, where `integer_ok`: its CPU
    convolutions) of one dtype; say which operand is off."""
    dtype = None
    for name, tensor in tensors.items():
        if tensor is None:
            continue
        kind = tensor.dtype
        if not (
            kind.is_floating_point
            or (complex_ok and kind.is_complex)
            or (integer_ok and kind.category == dtypes.INTEGER)
        ):
            kinds = "floating point or complex" if complex_ok else "floating point"
            raise DTypeError(f"{op_name}: expected a {kinds} {name}, got {tensor.dtype}")
        if dtype is None:
            dtype = tensor.dtype
        elif tensor.dtype != dtype:
            names = ", ".join(f"{n} {t.dtype}" for n, t in tensors.items() if t is not None)
            raise DTypeError(f"{op_name}: operands must have the same dtype, got {names}")


def refuse_complex_autograd(op_name: str, *tensors: Any) -> None:
    """PyTorch's refusal of ops that compute complex values but have no complex derivative
    (embedding, bilinear, soft_margin_loss): a complex operand is refused where the output
    would be recorded for backward (grad mode on, an operand requiring grad)."""
    present = [t for t in tensors if t is not None]
    if not any(t.dtype.is_complex for t in present) or not is_grad_enabled():
        return
    if any(t.requires_grad for t in present):
        raise DTypeError(
            f"{op_name}: does not support automatic differentiation for outputs with complex "
            "dtype (as PyTorch); run it under no_grad or on real tensors"
        )


def check_vector(op_name: str, name: str, tensor: Any, shape: tuple) -> None:
    if tensor is not None and tuple(tensor.shape) != tuple(shape):
        raise ShapeError(
            f"{op_name}: expected {name} of shape {tuple(shape)}, got {tuple(tensor.shape)}"
        )


def check_indices(op_name: str, index: Any) -> None:
    if index.dtype.is_floating_point or index.dtype == dtypes.bool_:
        raise DTypeError(
            f"{op_name}: expected an integer index tensor (Long or Int), got {index.dtype}"
        )


def merge_batch(x: Any) -> Any:
    """vmap: the batch dimension merged into the (N, ...) sample dimension after it."""
    return reshape(x, (-1, *x.shape[2:]))


def split_batch(out: Any, size: int) -> Any:
    """vmap: the batch dimension split back out of the sample dimension."""
    return reshape(out, (size, -1, *out.shape[1:]))
