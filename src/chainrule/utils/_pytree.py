"""torch.utils._pytree: PyTorch's pytree API, on chainrule.func.pytree's one engine.

Lists, tuples, dicts, namedtuples, OrderedDicts, defaultdicts and deques are nodes, and so is
any type given to `register_pytree_node`; everything else is a leaf, **None included** (the
func transforms take None as an empty node instead: see chainrule.func.pytree).

    >>> import chainrule.utils._pytree as pytree
    >>> leaves, spec = pytree.tree_flatten({"a": 1, "b": (2, None)})
    >>> leaves
    [1, 2, None]
    >>> pytree.tree_map(lambda v: v * 10, [1, (2, 3)])
    [10, (20, 30)]
"""

from __future__ import annotations

import dataclasses
import functools
import types
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from chainrule.func.pytree import (
    LEAF,
    SUPPORTED_NODES,
    GetAttrKey,
    LeafSpec,
    MappingKey,
    NodeDef,
    SequenceKey,
    TreeSpec,
    flatten_tree,
    is_namedtuple_class,
    node_type,
    register_pytree_node,
)
from chainrule.func.pytree import (
    tree_unflatten as _unflatten,
)

__all__ = [
    "PyTree",
    "Context",
    "GetAttrKey",
    "KeyEntry",
    "KeyPath",
    "LeafSpec",
    "MappingKey",
    "SequenceKey",
    "key_get",
    "keystr",
    "register_dataclass",
    "tree_flatten_with_path",
    "tree_leaves_with_path",
    "tree_map_with_path",
    "NodeDef",
    "SUPPORTED_NODES",
    "TreeSpec",
    "PyTreeSpec",
    "is_namedtuple",
    "is_namedtuple_class",
    "is_namedtuple_instance",
    "map_only",
    "register_pytree_node",
    "tree_all",
    "tree_all_only",
    "tree_any",
    "tree_any_only",
    "tree_flatten",
    "tree_is_leaf",
    "tree_iter",
    "tree_leaves",
    "tree_map",
    "tree_map_",
    "tree_map_only",
    "tree_map_only_",
    "tree_structure",
    "tree_unflatten",
    "treespec_dict",
    "treespec_leaf",
    "treespec_tuple",
]

PyTree = Any
Context = Any
PyTreeSpec = TreeSpec
KeyEntry = Any  # SequenceKey, MappingKey, GetAttrKey or a registered type's own
KeyPath = tuple

# PyTorch's private spelling, still called by libraries written for torch < 2.2.
_register_pytree_node = register_pytree_node


def is_namedtuple(obj: object) -> bool:
    """Whether `obj` is a namedtuple class or instance."""
    cls = obj if isinstance(obj, type) else type(obj)
    return is_namedtuple_class(cls)


def is_namedtuple_instance(obj: object) -> bool:
    """Whether `obj` is a namedtuple instance."""
    return is_namedtuple_class(type(obj))


def tree_is_leaf(tree: PyTree, is_leaf: Callable[[PyTree], bool] | None = None) -> bool:
    """Whether `tree` is a leaf: not a registered node type, or picked out by `is_leaf`.

    Example:
        >>> from chainrule.utils._pytree import tree_is_leaf
        >>> tree_is_leaf(None), tree_is_leaf([1, 2])
        (True, False)
    """
    if is_leaf is not None and is_leaf(tree):
        return True
    return node_type(tree) not in SUPPORTED_NODES


def tree_flatten(
    tree: PyTree, is_leaf: Callable[[PyTree], bool] | None = None
) -> tuple[list[Any], TreeSpec]:
    """The leaves of `tree`, depth first, and the TreeSpec that `tree_unflatten` rebuilds it
    from (None is a leaf).

    Example:
        >>> from chainrule.utils._pytree import tree_flatten
        >>> tree_flatten([1, {"x": None}])
        ([1, None], TreeSpec(list, None, [*,
          TreeSpec(dict, ['x'], [*])]))
    """
    return flatten_tree(tree, is_leaf=is_leaf, none_is_leaf=True)


def tree_unflatten(leaves: Iterable[Any], treespec: TreeSpec) -> PyTree:
    """The pytree of `treespec`'s structure holding `leaves` (the arguments may come swapped,
    as PyTorch allows)."""
    if not isinstance(treespec, TreeSpec) and isinstance(leaves, TreeSpec):
        leaves, treespec = treespec, leaves
    return _unflatten(leaves, treespec)


def tree_iter(tree: PyTree, is_leaf: Callable[[PyTree], bool] | None = None) -> Iterator[Any]:
    """An iterator over the leaves of `tree`, depth first."""
    return iter(tree_flatten(tree, is_leaf=is_leaf)[0])


def tree_leaves(tree: PyTree, is_leaf: Callable[[PyTree], bool] | None = None) -> list[Any]:
    """The leaves of `tree`, depth first."""
    return tree_flatten(tree, is_leaf=is_leaf)[0]


def tree_structure(tree: PyTree, is_leaf: Callable[[PyTree], bool] | None = None) -> TreeSpec:
    """The TreeSpec of `tree`."""
    return tree_flatten(tree, is_leaf=is_leaf)[1]


def tree_map(
    func: Callable[..., Any],
    tree: PyTree,
    *rests: PyTree,
    is_leaf: Callable[[PyTree], bool] | None = None,
) -> PyTree:
    """`tree`'s structure holding `func` of each leaf; with further trees, `func` takes one
    argument from each, and they need only have `tree`'s structure as a prefix.

    Example:
        >>> from chainrule.utils._pytree import tree_map
        >>> tree_map(lambda x, y: [x] + y, [5, 6], [[7, 9], [1, 2]])
        [[5, 7, 9], [6, 1, 2]]
    """
    leaves, treespec = tree_flatten(tree, is_leaf=is_leaf)
    flat_args = [leaves] + [treespec.flatten_up_to(rest) for rest in rests]
    return treespec.unflatten(map(func, *flat_args))


def tree_map_(
    func: Callable[..., Any],
    tree: PyTree,
    *rests: PyTree,
    is_leaf: Callable[[PyTree], bool] | None = None,
) -> PyTree:
    """Call `func` on every leaf (for its effect, an in-place update, say); returns `tree`."""
    leaves, treespec = tree_flatten(tree, is_leaf=is_leaf)
    flat_args = [leaves] + [treespec.flatten_up_to(rest) for rest in rests]
    for args in zip(*flat_args):
        func(*args)
    return tree


def map_only(type_or_types_or_pred: Any, /) -> Callable[[Callable], Callable]:
    """A decorator: the function runs on values of the given type(s) (or those a predicate
    accepts) and passes every other value through unchanged."""
    if isinstance(type_or_types_or_pred, (type, tuple, types.UnionType)):

        def pred(value: Any) -> bool:
            return isinstance(value, type_or_types_or_pred)

    elif callable(type_or_types_or_pred):
        pred = type_or_types_or_pred
    else:
        raise TypeError("Argument must be a type, a tuple of types, or a callable.")

    def wrapper(func: Callable[[Any], Any]) -> Callable[[Any], Any]:
        @functools.wraps(func)
        def wrapped(value: Any) -> Any:
            return func(value) if pred(value) else value

        return wrapped

    return wrapper


def tree_map_only(
    type_or_types_or_pred: Any,
    /,
    func: Callable[[Any], Any],
    tree: PyTree,
    is_leaf: Callable[[PyTree], bool] | None = None,
) -> PyTree:
    """tree_map over the leaves of the given type(s); other leaves are kept as they are.

    Example:
        >>> from chainrule.utils._pytree import tree_map_only
        >>> tree_map_only(int, lambda v: v + 1, [1, "a", (2.5, 3)])
        [2, 'a', (2.5, 4)]
    """
    return tree_map(map_only(type_or_types_or_pred)(func), tree, is_leaf=is_leaf)


def tree_map_only_(
    type_or_types_or_pred: Any,
    /,
    func: Callable[[Any], Any],
    tree: PyTree,
    is_leaf: Callable[[PyTree], bool] | None = None,
) -> PyTree:
    """tree_map_ over the leaves of the given type(s); returns `tree`."""
    return tree_map_(map_only(type_or_types_or_pred)(func), tree, is_leaf=is_leaf)


def tree_all(
    pred: Callable[[Any], bool], tree: PyTree, is_leaf: Callable[[PyTree], bool] | None = None
) -> bool:
    """Whether `pred` holds for every leaf."""
    return all(map(pred, tree_iter(tree, is_leaf=is_leaf)))


def tree_any(
    pred: Callable[[Any], bool], tree: PyTree, is_leaf: Callable[[PyTree], bool] | None = None
) -> bool:
    """Whether `pred` holds for some leaf."""
    return any(map(pred, tree_iter(tree, is_leaf=is_leaf)))


def tree_all_only(
    type_or_types: Any,
    /,
    pred: Callable[[Any], bool],
    tree: PyTree,
    is_leaf: Callable[[PyTree], bool] | None = None,
) -> bool:
    """Whether `pred` holds for every leaf of the given type(s) (others are not asked)."""
    leaves = tree_iter(tree, is_leaf=is_leaf)
    return all(pred(leaf) for leaf in leaves if isinstance(leaf, type_or_types))


def tree_any_only(
    type_or_types: Any,
    /,
    pred: Callable[[Any], bool],
    tree: PyTree,
    is_leaf: Callable[[PyTree], bool] | None = None,
) -> bool:
    """Whether `pred` holds for some leaf of the given type(s)."""
    leaves = tree_iter(tree, is_leaf=is_leaf)
    return any(pred(leaf) for leaf in leaves if isinstance(leaf, type_or_types))


def treespec_leaf() -> LeafSpec:
    """The spec of a single leaf."""
    return LEAF


def treespec_tuple(iterable: Iterable[TreeSpec] = (), /) -> TreeSpec:
    """The spec of a tuple whose children have the given specs."""
    return TreeSpec(tuple, None, list(iterable))


def treespec_dict(mapping: Any = (), /, **kwargs: TreeSpec) -> TreeSpec:
    """The spec of a dict whose values have the given specs."""
    entries = dict(mapping, **kwargs)
    return TreeSpec(dict, list(entries.keys()), list(entries.values()))


def tree_flatten_with_path(
    tree: PyTree, is_leaf: Callable[[PyTree], bool] | None = None
) -> tuple[list[tuple[KeyPath, Any]], TreeSpec]:
    """tree_flatten, each leaf paired with its key path from the root (a registered type
    needs a flatten_with_keys_fn).

    Example:
        >>> from chainrule.utils._pytree import keystr, tree_flatten_with_path
        >>> [(keystr(path), leaf) for path, leaf in tree_flatten_with_path({"a": [1, 2]})[0]]
        [("['a'][0]", 1), ("['a'][1]", 2)]
    """
    return flatten_tree(tree, is_leaf=is_leaf, none_is_leaf=True, with_paths=True)


def tree_leaves_with_path(
    tree: PyTree, is_leaf: Callable[[PyTree], bool] | None = None
) -> list[tuple[KeyPath, Any]]:
    """The (key path, leaf) pairs of `tree`, depth first."""
    return tree_flatten_with_path(tree, is_leaf=is_leaf)[0]


def tree_map_with_path(
    func: Callable[..., Any],
    tree: PyTree,
    *rests: PyTree,
    is_leaf: Callable[[PyTree], bool] | None = None,
) -> PyTree:
    """tree_map whose function takes each leaf's key path first: func(path, leaf, *others)."""
    path_leaves, treespec = tree_flatten_with_path(tree, is_leaf=is_leaf)
    paths = [path for path, _ in path_leaves]
    leaves = [leaf for _, leaf in path_leaves]
    others = [treespec.flatten_up_to(rest) for rest in rests]
    return treespec.unflatten(func(*args) for args in zip(paths, leaves, *others))


def keystr(kp: KeyPath) -> str:
    """A key path as text: `['a'][0].x`."""
    return "".join(str(key) for key in kp)


def key_get(obj: Any, kp: KeyPath) -> Any:
    """The value at key path `kp` inside `obj`."""
    for key in kp:
        obj = key.get(obj)
    return obj


def register_dataclass(
    cls: type,
    *,
    field_names: list[str] | None = None,
    drop_field_names: list[str] | None = None,
    serialized_type_name: str | None = None,
) -> None:
    """Make a dataclass (or a class built from keyword arguments `field_names`) a pytree
    node whose children are those fields; a field holding None is kept out of the leaves and
    rebuilt as None, as PyTorch's.

    Example:
        >>> import dataclasses
        >>> from chainrule.utils._pytree import register_dataclass, tree_leaves
        >>> @dataclasses.dataclass
        ... class Batch:
        ...     x: int
        ...     y: int | None = None
        >>> register_dataclass(Batch)
        >>> tree_leaves(Batch(1, None)), tree_leaves(Batch(1, 2))
        ([1], [1, 2])
    """
    drop_field_names = drop_field_names or []
    if not dataclasses.is_dataclass(cls):
        if field_names is None:
            raise ValueError(
                "field_names must be specified with a list of all fields used to initialize "
                f"{cls}, as it is not a dataclass."
            )
    elif field_names is None:
        field_names = [f.name for f in dataclasses.fields(cls) if f.init]
    else:
        init_fields = {f.name for f in dataclasses.fields(cls) if f.init}
        init_fields.difference_update(drop_field_names)
        if init_fields != set(field_names):
            message = "field_names does not include all dataclass fields.\n"
            if missing := init_fields - set(field_names):
                message += (
                    f"Missing fields in `field_names`: {missing}. If you want to include these "
                    "fields in the pytree, please add them to `field_names`, otherwise please "
                    "add them to `drop_field_names`.\n"
                )
            if unexpected := set(field_names) - init_fields:
                message += (
                    f"Unexpected fields in `field_names`: {unexpected}. Please remove these "
                    "fields, or add them to `drop_field_names`.\n"
                )
            raise ValueError(message)
    names = list(field_names)

    def flatten(obj: Any) -> tuple[list, Context]:
        present = [name for name in names if getattr(obj, name) is not None]
        absent = [name for name in names if getattr(obj, name) is None]
        return [getattr(obj, name) for name in present], [present, absent]

    def unflatten(values: Iterable, context: Context) -> Any:
        present, absent = context
        return cls(**dict(zip(present, values, strict=True)), **dict.fromkeys(absent))

    def flatten_with_keys(obj: Any) -> tuple[list, Context]:
        # flatten's context, so a spec made with paths unflattens too (PyTorch's returns
        # the present names alone, and builds its specs without paths)
        children, context = flatten(obj)
        keys = [GetAttrKey(name) for name in context[0]]
        return list(zip(keys, children, strict=True)), context

    register_pytree_node(
        cls,
        flatten,
        unflatten,
        serialized_type_name=serialized_type_name,
        flatten_with_keys_fn=flatten_with_keys,
    )
