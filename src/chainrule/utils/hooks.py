"""torch.utils.hooks: the handle the register_*hook methods return, for code that imports or
annotates with it, and `unserializable_hook`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from chainrule.nn.modules.module import RemovableHandle

__all__ = ["RemovableHandle", "unserializable_hook"]

F = TypeVar("F", bound=Callable)


def unserializable_hook(f: F) -> F:
    """Mark a hook as one a saved tensor may not carry (PyTorch warns when such a tensor is
    serialized with hooks; chainrule's checkpoints never hold hooks). Returns `f`.

    Args:
        f (callable): the hook.

    Example:
        >>> from chainrule.utils.hooks import unserializable_hook
        >>> @unserializable_hook
        ... def hook(grad):
        ...     return grad
        >>> hook.__torch_unserializable__
        True
    """
    f.__torch_unserializable__ = True  # type: ignore[attr-defined]
    return f
