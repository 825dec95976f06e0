"""The inputs and results of the function transforms (chainrule.func).

Inputs may be tensors, NumPy arrays or Python numbers: `as_tensor` makes each a Tensor, and
`restore_kind` gives a result back in its input's kind (NumPy in, NumPy out). A reverse
transform differentiates with respect to a `differentiable_alias` of each input, and keeps the
graph of its result (`keep_graph`) when an enclosing transform may differentiate it again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from chainrule._tensor import Tensor
from chainrule.autograd import forward_ad as fwAD
from chainrule.autograd import grad_mode
from chainrule.backend import is_array
from chainrule.backend.dtypes import float64
from chainrule.ops.creation import from_numpy, tensor


def as_tensor(value: Any) -> Tensor:
    """A transform's input as a Tensor: a floating NumPy array shares its memory, a Python
    float becomes float64 (as NumPy would keep it)."""
    if isinstance(value, Tensor):
        return value
    if is_array(value):
        return from_numpy(value) if value.dtype.kind in "fc" else tensor(value)
    return tensor(value, dtype=float64 if isinstance(value, float) else None)


def with_tangent_of(source: Tensor, alias: Tensor) -> Tensor:
    """`alias` (the same values as `source`) given `source`'s tangent, so a reverse transform
    run inside a forward one (jvp of grad) still sees the tangent its inputs carry."""
    tangent = fwAD.tangent_of(source)
    if tangent is not None:
        fwAD.set_tangent(alias, tangent)
    return alias


def differentiable_alias(value: Any) -> Tensor:
    """A tensor to differentiate with respect to: connected to `value`'s graph when `value`
    is already being differentiated by an enclosing transform, a fresh leaf otherwise."""
    source = as_tensor(value)
    if not (source.is_floating_point() or source.is_complex()):
        raise TypeError(
            f"can only differentiate with respect to floating or complex tensors, got "
            f"{source.dtype}"
        )
    if source.requires_grad:
        return source.view_as(source)
    return with_tangent_of(source, source.detach().requires_grad_(True))


def detached(value: Any) -> Any:
    """`value` cut from the graph, keeping its tangent (if any) for an enclosing jvp."""
    if not isinstance(value, Tensor):
        return value
    return with_tangent_of(value, value.detach())


def restore_kind(result: Any, original: Any) -> Any:
    """NumPy in, NumPy out: a result for an ndarray input is returned as an ndarray (and a
    float for a float), unless an enclosing transform still differentiates it."""
    if result is None or not isinstance(result, Tensor) or is_traced(result):
        return result
    if is_array(original):
        return result.numpy()
    if isinstance(original, float):
        return result.item()
    return result


def is_traced(tensor: Tensor) -> bool:
    return tensor.requires_grad or fwAD.tangent_of(tensor) is not None


def argnums_tuple(argnums: int | tuple[int, ...], n_args: int) -> tuple[int, ...]:
    numbers = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not numbers:
        raise ValueError("argnums must be a non-empty tuple of integers")
    for number in numbers:
        if not isinstance(number, int):
            raise TypeError(f"argnums must be int or tuple of ints, got {type(number).__name__}")
        if not -n_args <= number < n_args:
            raise ValueError(
                f"argnums {number} is out of range for a function of {n_args} arguments"
            )
    normalized = tuple(n % n_args for n in numbers)
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"argnums must not repeat an argument, got {numbers}")
    return normalized


def split_output(output: Any, has_aux: bool, name: str) -> tuple[Any, Any]:
    if not has_aux:
        return output, None
    if not isinstance(output, tuple) or len(output) != 2:
        raise TypeError(f"{name}(f, has_aux=True): f must return a (output, aux) tuple")
    return output


def keep_graph(leaves: Sequence[Any]) -> bool:
    """Record the derivative computation when something outside may differentiate it."""
    return grad_mode.is_grad_enabled() and any(
        isinstance(v, Tensor) and v.requires_grad for v in leaves
    )


def restricted_to(func: Callable, args: tuple, kwargs: dict, numbers: tuple) -> Callable:
    """func as a function of the arguments `numbers` only, the others fixed."""

    def restricted(*chosen: Any) -> Any:
        new_args = list(args)
        for number, value in zip(numbers, chosen):
            new_args[number] = value
        return func(*new_args, **kwargs)

    return restricted


def output_tensors(leaves: list, name: str) -> list:
    for leaf in leaves:
        if not isinstance(leaf, Tensor):
            raise TypeError(
                f"{name}: f must return tensors (or pytrees of them), got {type(leaf).__name__}"
            )
    return leaves
