"""chainrule.return_types, as torch.return_types: the named tuples that `max(dim=...)`,
`sort`, `linalg.qr`, `histogram`... return, by PyTorch's names, for `isinstance` checks and
annotations in ported code.

>>> import chainrule
>>> result = chainrule.max(chainrule.tensor([[1.0, 3.0], [4.0, 2.0]]), dim=1)
>>> isinstance(result, chainrule.return_types.max), result.indices
(True, tensor([1, 0]))
"""

from chainrule.ops import decompositions, elementwise, linalg, linalg_extra, reduction


def _named_tuples() -> dict[str, type]:
    """Each return type the ops modules define, by the name PyTorch gives it."""
    found: dict[str, type] = dict(vars(reduction.return_types))
    for module in (decompositions, elementwise, linalg, linalg_extra):
        for value in vars(module).values():
            if isinstance(value, type) and value.__qualname__.startswith("return_types."):
                found[value.__qualname__.removeprefix("return_types.")] = value
    return found


globals().update(_named_tuples())
__all__ = sorted(_named_tuples())
