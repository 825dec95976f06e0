"""Pytrees: nested tuples, lists, dicts and namedtuples whose leaves are tensors (or anything).

`tree_flatten` returns the leaves in a fixed order and a spec; `tree_unflatten` rebuilds the
same structure from new leaves. Transforms use them so inputs and outputs may be nested.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple


class TreeSpec(NamedTuple):
    """The structure of a pytree: its node kind, context (keys or type), and children specs."""

    kind: str  # "leaf", "tuple", "list", "dict", "namedtuple", "none"
    context: Any
    children: tuple


LEAF = TreeSpec("leaf", None, ())


def _is_namedtuple(value: Any) -> bool:
    return isinstance(value, tuple) and hasattr(value, "_fields")


def tree_flatten(tree: Any) -> tuple[list, TreeSpec]:
    """The leaves of `tree`, depth first, and its TreeSpec (iterative: no recursion limit).

    Args:
        tree (Any): nested tuples, lists, dicts and namedtuples; anything else is a leaf, and
            None is an empty node.

    Returns:
        tuple: `(leaves, spec)`, the leaves as a list and the structure as a TreeSpec that
        `tree_unflatten` turns back into a tree.

    Example:
        >>> from chainrule.func import tree_flatten
        >>> leaves, spec = tree_flatten({"a": 1, "b": (2, [3])})
        >>> leaves
        [1, 2, 3]
    """
    flat = _flat_tuple_spec(tree)
    if flat is not None:  # the common case of every transform call: (x,) or a lone tensor
        return (list(tree) if flat.kind == "tuple" else [tree]), flat
    leaves: list = []
    # Each frame: (value, list that will receive the child specs, slot index)
    root: list = [None]
    stack: list = [(tree, root, 0)]
    while stack:
        value, parent, slot = stack.pop()
        if _is_namedtuple(value):
            kind, context, items = "namedtuple", type(value), list(value)
        elif isinstance(value, tuple):
            kind, context, items = "tuple", None, list(value)
        elif isinstance(value, list):
            kind, context, items = "list", None, value
        elif isinstance(value, dict):
            kind, context, items = "dict", tuple(value.keys()), list(value.values())
        elif value is None:
            parent[slot] = TreeSpec("none", None, ())
            continue
        else:
            parent[slot] = LEAF
            leaves.append(value)
            continue
        children: list = [None] * len(items)
        parent[slot] = (kind, context, children)
        for index in range(len(items) - 1, -1, -1):
            stack.append((items[index], children, index))
    return leaves, _freeze(root[0])


_CONTAINERS = (tuple, list, dict, type(None))


def _flat_tuple_spec(tree: Any) -> TreeSpec | None:
    """The spec of a lone leaf, or of a plain tuple of leaves; None for anything else."""
    if not isinstance(tree, _CONTAINERS):
        return LEAF
    if type(tree) is not tuple:
        return None
    for item in tree:
        if isinstance(item, _CONTAINERS):
            return None
    return TreeSpec("tuple", None, (LEAF,) * len(tree))


def _freeze(node: Any) -> TreeSpec:
    """Turn the mutable (kind, context, children) frames into TreeSpecs, without recursion."""
    if isinstance(node, TreeSpec):
        return node
    order: list = []
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, TreeSpec):
            continue
        order.append(current)
        stack.extend(current[2])
    frozen: dict[int, TreeSpec] = {}
    for current in reversed(order):
        kind, context, children = current
        specs = tuple(c if isinstance(c, TreeSpec) else frozen[id(c)] for c in children)
        frozen[id(current)] = TreeSpec(kind, context, specs)
    return frozen[id(node)]


def tree_unflatten(leaves: list, spec: TreeSpec) -> Any:
    """Rebuild a pytree with `spec`'s structure from `leaves` (in tree_flatten's order).

    Args:
        leaves (list): one value per leaf of `spec`, depth first.
        spec (TreeSpec): a structure from `tree_flatten`.

    Returns:
        Any: the tree, its containers new and its leaves the given values.

    Example:
        >>> from chainrule.func import tree_flatten, tree_unflatten
        >>> leaves, spec = tree_flatten({"a": 1, "b": (2, [3])})
        >>> tree_unflatten([x * 10 for x in leaves], spec)
        {'a': 10, 'b': (20, [30])}
    """
    iterator = iter(leaves)

    def build(node: TreeSpec) -> Any:
        if node.kind == "leaf":
            return next(iterator)
        if node.kind == "none":
            return None
        values = [build(child) for child in node.children]
        if node.kind == "tuple":
            return tuple(values)
        if node.kind == "list":
            return values
        if node.kind == "namedtuple":
            return node.context(*values)
        return dict(zip(node.context, values))

    return build(spec)


def tree_map(function: Callable[[Any], Any], tree: Any) -> Any:
    """A tree of the same structure with `function` applied to every leaf (lists, tuples,
    namedtuples and dicts are nodes; everything else is a leaf), as torch.utils._pytree.tree_map.

    Args:
        function (Callable): called on each leaf.
        tree (Any): the pytree.

    Returns:
        Any: a tree of the same structure holding `function(leaf)` for each leaf.

    Example:
        >>> from chainrule.func import tree_map
        >>> tree_map(lambda v: v * 10, {"a": 1, "b": (2, [3])})
        {'a': 10, 'b': (20, [30])}
    """
    leaves, spec = tree_flatten(tree)
    return tree_unflatten([function(leaf) for leaf in leaves], spec)
