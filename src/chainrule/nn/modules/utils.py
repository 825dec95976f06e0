"""torch.nn.modules.utils: the helpers layer code imports to take an int or a tuple
(`_pair(3) == (3, 3)`), and `consume_prefix_in_state_dict_if_present` (a `module.` prefix off a
DataParallel checkpoint's keys).

>>> from chainrule.nn.modules.utils import _pair, _triple
>>> _pair(3), _pair((1, 2)), _triple([4, 5, 6])
((3, 3), (1, 2), (4, 5, 6))
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["consume_prefix_in_state_dict_if_present"]


def _ntuple(n: int, name: str = "parse") -> Callable[[Any], tuple]:
    """A parser: an iterable as a tuple, anything else repeated n times."""

    def parse(value: Any) -> tuple:
        if isinstance(value, Iterable) and not isinstance(value, str):
            return tuple(value)
        return (value,) * n

    parse.__name__ = name
    return parse


_single = _ntuple(1, "_single")
_pair = _ntuple(2, "_pair")
_triple = _ntuple(3, "_triple")
_quadruple = _ntuple(4, "_quadruple")


def _reverse_repeat_tuple(values: tuple, n: int) -> tuple:
    """(a, b) -> (b, b, a, a) for n=2: F.pad's last-dimension-first order."""
    return tuple(x for x in reversed(values) for _ in range(n))


def _list_with_default(out_size: Any, defaults: list[int]) -> list[int]:
    """An adaptive pool's output size, None entries taken from `defaults`' last dimensions."""
    if isinstance(out_size, int):
        return [out_size]
    if len(defaults) <= len(out_size):
        raise ValueError(f"Input dimension should be at least {len(out_size) + 1}")
    return [v if v is not None else d for v, d in zip(out_size, defaults[-len(out_size) :])]


def consume_prefix_in_state_dict_if_present(state_dict: dict[str, Any], prefix: str) -> None:
    """Strip `prefix` from every key of `state_dict` (and its `_metadata`) that starts with it,
    in place, as PyTorch's: loads a DataParallel/DDP checkpoint into the bare model.

    Args:
        state_dict (dict): a state dict, edited in place.
        prefix (str): the prefix to remove, such as "module.".

    Example:
        >>> from chainrule.nn.modules.utils import consume_prefix_in_state_dict_if_present
        >>> sd = {"module.w": 1, "b": 2}
        >>> consume_prefix_in_state_dict_if_present(sd, "module.")
        >>> sd
        {'b': 2, 'w': 1}
    """
    for key in sorted(state_dict):
        if key.startswith(prefix):
            state_dict[key[len(prefix) :]] = state_dict.pop(key)
    metadata = getattr(state_dict, "_metadata", None)
    if metadata is not None:
        for key in list(metadata):
            if key == prefix.rstrip("."):
                metadata[""] = metadata.pop(key)
            elif key.startswith(prefix):
                metadata[key[len(prefix) :]] = metadata.pop(key)
