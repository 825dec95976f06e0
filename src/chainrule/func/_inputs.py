"""The inputs and results of the function transforms (chainrule.func).

Inputs may be tensors, NumPy arrays or Python numbers: `as_tensor` makes each a Tensor, and
`restore_kind` gives a result back in its input's kind (NumPy in, NumPy out). NumPy data (an
ndarray, a Python float, or a chainrule.numpy.ndarray) reaches the function as a
chainrule.numpy.ndarray, so the code inside sees NumPy's behaviour (`x[::-1]`, `x.size`);
a Tensor reaches it as a Tensor (PyTorch's behaviour, as torch.func). A reverse
transform differentiates with respect to a `differentiable_alias` of each input, and keeps the
graph of its result (`keep_graph`) when an enclosing transform may differentiate it again.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import Any

from chainrule._tensor import Tensor
from chainrule.autograd import forward_ad as fwAD
from chainrule.autograd import grad_mode
from chainrule.autograd.node import AccumulateGrad
from chainrule.backend import is_array
from chainrule.backend.dtypes import float64
from chainrule.errors import DomainError, DTypeError, TransformError
from chainrule.numpy._core import alias_as, is_numpy_behaving
from chainrule.numpy._ndarray import ndarray
from chainrule.ops.creation import from_numpy, tensor


def as_tensor(value: Any) -> Tensor:
    """A transform's input as a Tensor: a floating NumPy array shares its memory, a Python
    float becomes float64 (as NumPy would keep it)."""
    if isinstance(value, Tensor):
        return value
    if is_array(value):
        return from_numpy(value) if value.dtype.kind in "fcV" else tensor(value)
    return tensor(value, dtype=float64 if isinstance(value, float) else None)


def plain_tensor(value: Any) -> Tensor:
    """A transform's input as a Tensor with PyTorch's behaviour (a cnp.ndarray's alias)."""
    source = as_tensor(value)
    return alias_as(source, Tensor) if is_numpy_behaving(source) else source


def is_numpy_data(value: Any) -> bool:
    """Whether `value` belongs to the NumPy world: an ndarray, a float, a cnp.ndarray."""
    return is_array(value) or isinstance(value, float) or is_numpy_behaving(value)


def in_kind(tensor: Any, original: Any) -> Any:
    """`tensor` as the function should see it: a chainrule.numpy.ndarray for NumPy data."""
    if isinstance(tensor, Tensor) and type(tensor) is Tensor and is_numpy_data(original):
        return alias_as(tensor, ndarray)
    return tensor


def with_tangent_of(source: Tensor, alias: Tensor) -> Tensor:
    """`alias` (the same values as `source`) given `source`'s tangents, so a reverse transform
    run inside a forward one (jvp of grad) still sees the tangents its inputs carry."""
    return fwAD.copy_tangents(source, alias)


def differentiable_alias(value: Any) -> Tensor:
    """A tensor to differentiate with respect to: connected to `value`'s graph when `value`
    is already being differentiated by an enclosing transform, a fresh leaf otherwise."""
    source = as_tensor(value)
    if not (source.is_floating_point() or source.is_complex()):
        raise DTypeError(  # PyTorch: a RuntimeError from requires_grad_
            f"only Tensors of floating point and complex dtype can require gradients: "
            f"cannot differentiate with respect to a {source.dtype} tensor"
        )
    if is_numpy_behaving(source):
        source = alias_as(source, Tensor)
    if source.requires_grad:
        return source.view_as(source)
    return with_tangent_of(source, source.detach().requires_grad_(True))


def detached(value: Any) -> Any:
    """`value` cut from the graph, keeping its tangent (if any) for an enclosing jvp."""
    if not isinstance(value, Tensor):
        return value
    result = with_tangent_of(value, value.detach())
    return in_kind(result, value)


def restore_kind(result: Any, original: Any) -> Any:
    """NumPy in, NumPy out: a result for an ndarray input is returned as an ndarray, and one
    for a Python float as a float when it is a scalar and an ndarray otherwise (a Jacobian of
    a vector function of a float, as HIPS autograd returns), unless an enclosing transform
    still differentiates it."""
    if result is None or not isinstance(result, Tensor):
        return result
    if is_traced(result) or is_numpy_behaving(original):
        return in_kind(result, original)
    if is_array(original):
        return result.numpy()
    if isinstance(original, float):
        return result.item() if result.ndim == 0 else result.numpy()
    return result


def is_traced(tensor: Tensor) -> bool:
    return tensor.requires_grad or fwAD.has_tangent(tensor)


def argnums_tuple(argnums: int | tuple[int, ...], n_args: int) -> tuple[int, ...]:
    """`argnums` as a tuple of non-negative argument numbers; what PyTorch refuses with a
    RuntimeError is refused with errors that are RuntimeErrors too."""
    if not isinstance(argnums, (int, tuple, list)):
        raise TransformError(
            f"argnums must be int or Tuple[int, ...], got: {type(argnums).__name__}"
        )
    numbers = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not numbers:
        raise DomainError("argnums must be a non-empty tuple of integers")
    for number in numbers:
        if not isinstance(number, int):
            raise TransformError(
                f"argnums must be int or Tuple[int, ...], got: {type(number).__name__}"
            )
        if not -n_args <= number < n_args:
            raise DomainError(
                f"argnums {number} is out of range for a function of {n_args} arguments"
            )
    normalized = tuple(n % n_args for n in numbers)
    if len(set(normalized)) != len(normalized):
        raise DomainError(f"argnums must not repeat an argument, got {numbers}")
    return normalized


def split_output(output: Any, has_aux: bool, name: str) -> tuple[Any, Any]:
    if not has_aux:
        return output, None
    if not isinstance(output, tuple) or len(output) != 2:
        raise TransformError(f"{name}(f, has_aux=True): f must return a (output, aux) tuple")
    return output


def keep_graph(leaves: Sequence[Any]) -> bool:
    """Record the derivative computation when something outside may differentiate it."""
    return grad_mode.is_grad_enabled() and any(
        isinstance(v, Tensor) and v.requires_grad for v in leaves
    )


# The leaves that finished reverse transforms differentiated with respect to: constants to
# every later transform (torch.func unwraps them as its level exits), though a result whose
# graph was kept still reaches them.
_FINISHED_ALIASES: weakref.WeakSet = weakref.WeakSet()


def finish(aliases: Sequence[Tensor]) -> None:
    """Mark a reverse transform's aliases as no longer differentiated by anyone."""
    _FINISHED_ALIASES.update(alias for alias in aliases if alias._node is None)


def closes_over_graph(outputs: Sequence[Any], aliases: Sequence[Tensor]) -> bool:
    """Whether `outputs` depend on a tensor that requires grad other than `aliases` (the fresh
    leaves a reverse transform differentiates with respect to) and the aliases of finished
    transforms: a tensor the function closes over, such as a module's parameter or an
    enclosing transform's input. The transform then records its derivatives, so they stay
    differentiable with respect to that tensor, as torch.func's do (jacrev of a function of
    w that takes grad of a function closing over w)."""
    own = {id(alias) for alias in aliases}
    own.update(id(alias) for alias in _FINISHED_ALIASES)
    stack = []
    for output in outputs:
        if isinstance(output, Tensor) and output.requires_grad:
            if output._node is None:
                if id(output) not in own:
                    return True
            else:
                stack.append(output._node)
    seen = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if type(node) is AccumulateGrad:
            variable = node.variable  # None once collected: no one can differentiate it
            if variable is not None and id(variable) not in own:
                return True
            continue
        stack.extend(edge[0] for edge in node.next_edges if edge is not None)
    return False


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
            raise TransformError(
                f"{name}: f must return tensors (or pytrees of them), got {type(leaf).__name__}"
            )
    return leaves
