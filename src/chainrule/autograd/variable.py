"""`Variable`, the pre-0.4 PyTorch wrapper that old programs still import
(`from torch.autograd import Variable`). Since PyTorch 0.4 every tensor is a Variable: the call
returns a new leaf tensor sharing `data`'s memory, and `isinstance(t, Variable)` is true of
every tensor. chainrule keeps both so such a program ports unchanged."""

from __future__ import annotations

import warnings

from chainrule._tensor import Tensor

__all__ = ["Variable"]


class _VariableMeta(type):
    def __instancecheck__(cls, instance: object) -> bool:
        return isinstance(instance, Tensor)


class Variable(metaclass=_VariableMeta):
    """A new leaf tensor sharing `data`'s memory (PyTorch's Variable since 0.4).

    Args:
        data (Tensor): the values; anything else is a TypeError, as in PyTorch.
        requires_grad (bool): whether the new leaf records operations for autograd.
        volatile (bool): removed in PyTorch 0.4; accepted with its UserWarning, no effect.

    Returns:
        Tensor: a leaf, detached from `data`'s history.

    Example:
        >>> import chainrule
        >>> from chainrule.autograd import Variable
        >>> x = Variable(chainrule.ones(2), requires_grad=True)
        >>> x.requires_grad, isinstance(x, Variable)
        (True, True)
    """

    def __new__(cls, data: Tensor, requires_grad: bool = False, volatile: bool = False) -> Tensor:  # type: ignore[misc]
        if not isinstance(data, Tensor):
            raise TypeError(f"Variable data has to be a tensor, but got {type(data).__name__}")
        if volatile:
            warnings.warn(
                "volatile was removed and now has no effect. Use `with torch.no_grad():` instead.",
                UserWarning,
                stacklevel=2,
            )
        return data.detach().requires_grad_(requires_grad)
