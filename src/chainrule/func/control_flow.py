"""`torch.cond` and `torch.while_loop`: control flow written as functions, which PyTorch's
compiler captures whole. chainrule runs them eagerly, as plain Python control flow would:
gradients flow through the branch taken, or through every iteration of the loop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from chainrule._tensor import Tensor

__all__ = ["cond", "while_loop"]

_Out = TypeVar("_Out")
_Carried = Tensor | int | float | bool


def _truth(pred: Any, name: str) -> bool:
    """A Python bool, or a one-element tensor's value, as PyTorch's predicates."""
    if isinstance(pred, Tensor):
        if pred.numel() != 1:
            raise RuntimeError(
                f"Expected pred to be bool or single-element tensor, but got {pred!r}."
            )
        return bool(pred.item())
    if isinstance(pred, bool):
        return pred
    raise RuntimeError(f"{name}: expected pred to be bool or a tensor, got {type(pred).__name__}")


def cond(
    pred: bool | Tensor,
    true_fn: Callable[..., _Out],
    false_fn: Callable[..., _Out],
    operands: Sequence[_Carried] = (),
) -> _Out:
    """`true_fn(*operands)` if `pred` else `false_fn(*operands)`.

    Args:
        pred (bool or Tensor): a Python bool or a one-element tensor.
        true_fn (Callable): the branch taken when `pred` holds.
        false_fn (Callable): the other branch.
        operands (tuple or list): the branches' arguments.

    Returns:
        What the branch taken returns.

    Example:
        >>> import chainrule
        >>> x = chainrule.tensor([1.0, -2.0])
        >>> chainrule.cond(x.sum() > 0, lambda t: t + 1, lambda t: t - 1, (x,))
        tensor([ 0., -3.])
    """
    if not isinstance(operands, (tuple, list)):
        raise RuntimeError(f"Expect operands to be a tuple or list, but got {type(operands)}.")
    return (true_fn if _truth(pred, "cond") else false_fn)(*operands)


def while_loop(
    cond_fn: Callable[..., bool | Tensor],
    body_fn: Callable[..., Sequence[_Carried] | _Carried],
    carried_inputs: Sequence[_Carried],
) -> tuple[_Carried, ...]:
    """Run `carried = body_fn(*carried)` while `cond_fn(*carried)` holds.

    Args:
        cond_fn (Callable): the loop's condition: a bool or a one-element tensor.
        body_fn (Callable): one iteration: the new carried values, as many as before.
        carried_inputs (tuple or list): the values the loop starts from.

    Returns:
        tuple: the carried values when the condition fails.

    Example:
        >>> import chainrule
        >>> start = (chainrule.tensor(0), chainrule.ones(2))
        >>> chainrule.while_loop(lambda i, v: i < 3, lambda i, v: (i + 1, v * 2), start)
        (tensor(3), tensor([8., 8.]))
    """
    if not isinstance(carried_inputs, (tuple, list)):
        raise RuntimeError(
            f"carried_inputs must be a tuple or list, but got {type(carried_inputs)}"
        )
    carried = tuple(carried_inputs)
    while _truth(cond_fn(*carried), "while_loop"):
        result = body_fn(*carried)
        result = tuple(result) if isinstance(result, (tuple, list)) else (result,)
        if len(result) != len(carried):
            raise RuntimeError(
                f"while_loop: body_fn returned {len(result)} values for {len(carried)} carried "
                "inputs"
            )
        carried = result
    return carried
