"""Pytrees: nested containers (lists, tuples, dicts, namedtuples, OrderedDicts, defaultdicts,
deques and registered types) whose leaves are tensors (or anything).

The one implementation of flattening behind both torch.func's transforms (here) and
`torch.utils._pytree` (chainrule.utils._pytree, PyTorch's full API on the same engine). The
two differ in one rule: PyTorch's pytree holds None as a leaf; the func transforms, following
JAX and torch.func's documented convention, take None as an empty node (no leaves), so an
optional output of None needs no cotangent. `flatten_tree` takes the rule as an argument.

`tree_flatten` returns the leaves in a fixed order and a TreeSpec; `tree_unflatten` rebuilds
the same structure from new leaves. Both walk with explicit stacks (no recursion limit).
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple


@dataclasses.dataclass(frozen=True)
class SequenceKey:
    """The key of a list, tuple or deque child: its index (prints `[0]`)."""

    idx: int

    def __str__(self) -> str:
        return f"[{self.idx!r}]"

    def get(self, sequence: Any) -> Any:
        return sequence[self.idx]


@dataclasses.dataclass(frozen=True)
class MappingKey:
    """The key of a dict child (prints `['name']`)."""

    key: Any

    def __str__(self) -> str:
        return f"[{self.key!r}]"

    def get(self, mapping: Any) -> Any:
        return mapping[self.key]


@dataclasses.dataclass(frozen=True)
class GetAttrKey:
    """The key of a namedtuple or dataclass child: its attribute (prints `.name`)."""

    name: str

    def __str__(self) -> str:
        return f".{self.name}"

    def get(self, obj: Any) -> Any:
        return getattr(obj, self.name)


class NodeDef(NamedTuple):
    """How a container type splits into (children, context) and is rebuilt from them."""

    type: Any
    flatten_fn: Callable[[Any], tuple[list, Any]]
    unflatten_fn: Callable[[Iterable, Any], Any]
    flatten_with_keys_fn: Callable[[Any], tuple[list, Any]] | None = None


# Container types that are nodes, as torch.utils._pytree.SUPPORTED_NODES. Namedtuples of every
# class are nodes under the key `collections.namedtuple`, as in PyTorch.
SUPPORTED_NODES: dict[Any, NodeDef] = {}


def register_pytree_node(
    cls: type,
    flatten_fn: Callable[[Any], tuple[list, Any]],
    unflatten_fn: Callable[[Iterable, Any], Any],
    *,
    serialized_type_name: str | None = None,
    to_dumpable_context: Callable[[Any], Any] | None = None,
    from_dumpable_context: Callable[[Any], Any] | None = None,
    flatten_with_keys_fn: Callable[[Any], tuple[list, Any]] | None = None,
) -> None:
    """Make `cls` a pytree node: `flatten_fn(obj)` gives `(children, context)` and
    `unflatten_fn(children, context)` rebuilds it, as torch.utils._pytree.register_pytree_node.

    The serialization arguments are accepted for PyTorch's signature; chainrule does not
    serialize specs (torch.export's use). Registering a type twice raises ValueError.

    Example:
        >>> from chainrule.func.pytree import register_pytree_node, tree_flatten
        >>> class Pair:
        ...     def __init__(self, a, b):
        ...         self.a, self.b = a, b
        >>> register_pytree_node(Pair, lambda p: ([p.a, p.b], None), lambda v, c: Pair(*v))
        >>> tree_flatten(Pair(1, [2, 3]))[0]
        [1, 2, 3]
    """
    if cls in SUPPORTED_NODES:
        raise ValueError(f"{cls} is already registered as pytree node.")
    SUPPORTED_NODES[cls] = NodeDef(cls, flatten_fn, unflatten_fn, flatten_with_keys_fn)


def _tuple_flatten(value: tuple) -> tuple[list, Any]:
    return list(value), None


def _list_flatten(value: list) -> tuple[list, Any]:
    return value, None


def _dict_flatten(value: dict) -> tuple[list, Any]:
    return list(value.values()), list(value.keys())


def _namedtuple_flatten(value: tuple) -> tuple[list, Any]:
    return list(value), type(value)


def _defaultdict_flatten(value: collections.defaultdict) -> tuple[list, Any]:
    return list(value.values()), [value.default_factory, list(value.keys())]


def _deque_flatten(value: collections.deque) -> tuple[list, Any]:
    return list(value), value.maxlen


def _defaultdict_unflatten(values: Iterable, context: Any) -> collections.defaultdict:
    default_factory, keys = context
    return collections.defaultdict(default_factory, zip(keys, values))


def _keyed(
    flatten: Callable[[Any], tuple[list, Any]], key: Callable[[Any, Any, int], Any]
) -> Callable[[Any], tuple[list, Any]]:
    """A flatten_with_keys_fn: `flatten`'s children, each paired with key(value, context, i)."""

    def flatten_with_keys(value: Any) -> tuple[list, Any]:
        children, context = flatten(value)
        return [(key(value, context, i), child) for i, child in enumerate(children)], context

    return flatten_with_keys


def _index_key(value: Any, context: Any, i: int) -> SequenceKey:
    return SequenceKey(i)


def _dict_key(value: Any, context: Any, i: int) -> MappingKey:
    keys = context[1] if isinstance(value, collections.defaultdict) else context
    return MappingKey(keys[i])


def _field_key(value: Any, context: Any, i: int) -> GetAttrKey:
    return GetAttrKey(value._fields[i])


for _node in (
    NodeDef(
        tuple,
        _tuple_flatten,
        lambda values, context: tuple(values),
        _keyed(_tuple_flatten, _index_key),
    ),
    NodeDef(
        list,
        _list_flatten,
        lambda values, context: list(values),
        _keyed(_list_flatten, _index_key),
    ),
    NodeDef(
        dict,
        _dict_flatten,
        lambda values, context: dict(zip(context, values)),
        _keyed(_dict_flatten, _dict_key),
    ),
    NodeDef(
        collections.namedtuple,
        _namedtuple_flatten,
        lambda values, context: context(*values),
        _keyed(_namedtuple_flatten, _field_key),
    ),
    NodeDef(
        collections.OrderedDict,
        _dict_flatten,
        lambda values, context: collections.OrderedDict(zip(context, values)),
        _keyed(_dict_flatten, _dict_key),
    ),
    NodeDef(
        collections.defaultdict,
        _defaultdict_flatten,
        _defaultdict_unflatten,
        _keyed(_defaultdict_flatten, _dict_key),
    ),
    NodeDef(
        collections.deque,
        _deque_flatten,
        lambda values, context: collections.deque(values, maxlen=context),
        _keyed(_deque_flatten, _index_key),
    ),
):
    SUPPORTED_NODES[_node.type] = _node

# The func transforms' None: a node with no children (see the module docstring).
_NONE_NODE = NodeDef(
    type(None), lambda value: ([], None), lambda values, context: None, lambda value: ([], None)
)


def is_namedtuple_class(cls: type) -> bool:
    """Whether `cls` is a namedtuple class (a tuple subclass with `_fields`)."""
    return isinstance(cls, type) and issubclass(cls, tuple) and hasattr(cls, "_fields")


def node_type(value: Any) -> Any:
    """The registry key of `value`'s type: the type itself, or `collections.namedtuple`."""
    cls = type(value)
    if is_namedtuple_class(cls):
        return collections.namedtuple
    return cls


class TreeSpec:
    """The structure of a pytree, as torch.utils._pytree.TreeSpec: the root's node `type` (None
    for a leaf), its `context` (dict keys, namedtuple class, ...), and its children's specs.

    Example:
        >>> from chainrule.func.pytree import tree_flatten
        >>> spec = tree_flatten({"a": 1, "b": (2, 3)})[1]
        >>> spec.num_leaves, spec.num_children
        (3, 2)
    """

    __slots__ = ("type", "_context", "_children", "num_nodes", "num_leaves", "num_children")

    def __init__(
        self,
        type: Any,  # noqa: A002 (PyTorch's argument name)
        context: Any,
        children_specs: list[TreeSpec],
    ) -> None:
        self.type = type
        self._context = context
        self._children = list(children_specs)
        self.num_children = len(self._children)
        self.num_nodes = 1 + sum(child.num_nodes for child in self._children)
        self.num_leaves = sum(child.num_leaves for child in self._children)

    @property
    def context(self) -> Any:
        return self._context

    @property
    def children_specs(self) -> list[TreeSpec]:
        return self._children

    def is_leaf(self) -> bool:
        """Whether this spec is a single leaf."""
        return self.num_nodes == 1 and self.num_leaves == 1

    def children(self) -> list[TreeSpec]:
        """The children's specs (a new list)."""
        return list(self._children)

    def child(self, index: int) -> TreeSpec:
        """The spec of child `index`."""
        return self._children[index]

    def unflatten(self, leaves: Iterable[Any]) -> Any:
        """The tree of this structure holding `leaves` (see tree_unflatten)."""
        return tree_unflatten(leaves, self)

    def flatten_up_to(self, tree: Any) -> list:
        """The subtrees of `tree` where this spec has its leaves (`tree` must have this
        structure as a prefix): how tree_map lines up its further trees with the first."""
        subtrees: list = []
        stack = [(self, tree)]
        while stack:
            spec, value = stack.pop()
            if spec.is_leaf():
                subtrees.append(value)
                continue
            children = _children_like(spec, value)
            stack.extend(reversed(list(zip(spec._children, children))))
        return subtrees

    def __repr__(self, indent: int = 0) -> str:
        """PyTorch's layout: children after the first on lines of their own, indented."""
        name = self.type.__name__
        if not self._children:
            return f"TreeSpec({name}, {self._context}, [])"
        indent += 2
        parts = [child.__repr__(indent) for child in self._children]
        separator = ",\n" + " " * indent
        return f"TreeSpec({name}, {self._context}, [{separator.join(parts)}])"

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if other.__class__ is not self.__class__:
            return NotImplemented
        return (
            str(self.type) == str(other.type)
            and self._context == other._context
            and self._children == other._children
        )

    def __hash__(self) -> int:
        context = self._context
        if self.type is collections.defaultdict:
            context = (context[0], tuple(context[1]))
        elif isinstance(context, list):
            context = tuple(context)
        elif self.type not in _BUILTIN_TYPES:
            context = None  # a user type's context may not be hashable; equal specs still agree
        return hash((self.type, context, tuple(self._children)))


class LeafSpec(TreeSpec):
    """The spec of a single leaf; prints as `*`."""

    __slots__ = ()

    def __init__(self) -> None:
        self.type = None
        self._context = None
        self._children = []
        self.num_nodes = 1
        self.num_leaves = 1
        self.num_children = 0

    def __repr__(self, indent: int = 0) -> str:
        return "*"


LEAF = LeafSpec()
_BUILTIN_TYPES = frozenset(SUPPORTED_NODES) | {type(None)}
_DICT_TYPES = (dict, collections.OrderedDict, collections.defaultdict)


def _children_like(spec: TreeSpec, value: Any) -> list:
    """The children of `value`, a node that must match `spec`'s root (PyTorch's checks and
    messages: the dict types are interchangeable, keys taken in the spec's order)."""
    kind = node_type(value)
    both_dicts = spec.type in _DICT_TYPES and kind in _DICT_TYPES
    if not both_dicts and kind != spec.type:
        raise ValueError(f"Node type mismatch; expected {spec.type!r}, but got {kind!r}.")
    node = _NONE_NODE if kind is type(None) else SUPPORTED_NODES[kind]
    children, context = node.flatten_fn(value)
    if len(children) != spec.num_children:
        raise ValueError(
            f"Node arity mismatch; expected {spec.num_children}, but got {len(children)}."
        )
    if both_dicts:
        keys = spec._context[1] if spec.type is collections.defaultdict else spec._context
        missing, extra = set(keys) - set(value), set(value) - set(keys)
        if missing or extra:
            message = f"; missing key(s): {missing}" if missing else ""
            message += f"; extra key(s): {extra}" if extra else ""
            raise ValueError(f"Node keys mismatch{message}.")
        return [value[key] for key in keys]
    if kind is not collections.deque and context != spec._context:
        raise ValueError(
            f"Node context mismatch for node type {spec.type!r}; expected "
            f"{spec._context!r}, but got {context!r}."
        )
    return children


def flatten_tree(
    tree: Any,
    is_leaf: Callable[[Any], bool] | None = None,
    none_is_leaf: bool = True,
    with_paths: bool = False,
) -> tuple[list, TreeSpec]:
    """The leaves of `tree`, depth first, and its TreeSpec, walking with an explicit stack.

    Args:
        tree (Any): the pytree.
        is_leaf (Callable, optional): a value for which it returns True is a leaf even if it
            is a container.
        none_is_leaf (bool): PyTorch's pytree rule (True); False makes None an empty node, the
            func transforms' rule.
        with_paths (bool): give each leaf as (key path, leaf), the path a tuple of keys
            (SequenceKey, MappingKey, GetAttrKey) from the root.
    """
    leaves: list = []
    nodes: list = []  # in pre-order: None for a leaf, else (type, context, number of children)
    stack: list = [((), tree)]
    while stack:
        path, value = stack.pop()
        if is_leaf is not None and is_leaf(value):
            node = None
        elif value is None:
            node = None if none_is_leaf else _NONE_NODE
        else:
            node = SUPPORTED_NODES.get(node_type(value))
        if node is None:
            leaves.append((path, value) if with_paths else value)
            nodes.append(None)
            continue
        if with_paths:
            if node.flatten_with_keys_fn is None:
                raise ValueError(
                    f"Did not find a flatten_with_keys_fn for type: {node.type}. Please pass a "
                    "flatten_with_keys_fn argument to register_pytree_node."
                )
            keyed, context = node.flatten_with_keys_fn(value)
            children = [(path + (key,), child) for key, child in keyed]
        else:
            bare, context = node.flatten_fn(value)
            children = [((), child) for child in bare]
        nodes.append((node.type, context, len(children)))
        stack.extend(reversed(children))
    # Backwards through the pre-order, each node's children's specs are on top of `built`,
    # the first child uppermost.
    built: list[TreeSpec] = []
    for node in reversed(nodes):
        if node is None:
            built.append(LEAF)
            continue
        type_, context, count = node
        children = [built.pop() for _ in range(count)]
        built.append(TreeSpec(type_, context, children))
    return leaves, built[0]


def tree_unflatten(leaves: Iterable[object], spec: TreeSpec) -> Any:
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
    if not isinstance(spec, TreeSpec):
        raise TypeError(
            f"Expected `treespec` to be an instance of PyTreeSpec but got item of type "
            f"{type(spec)}."
        )
    leaves = list(leaves)
    if len(leaves) != spec.num_leaves:
        raise ValueError(
            f"treespec.unflatten(leaves): `leaves` has length {len(leaves)} but the spec refers "
            f"to a pytree that holds {spec.num_leaves} items ({spec})."
        )
    if spec.is_leaf():
        return leaves[0]
    if spec.num_leaves == spec.num_children == spec.num_nodes - 1:  # one node of leaves
        return tuple(leaves) if spec.type is tuple else _rebuild(spec, leaves)
    order: list[TreeSpec] = []  # pre-order
    stack = [spec]
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(reversed(node._children))
    remaining = reversed(leaves)
    built: list = []
    for node in reversed(order):
        if node.is_leaf():
            built.append(next(remaining))
            continue
        values = [built.pop() for _ in range(node.num_children)]
        built.append(_rebuild(node, values))
    return built[0]


def _rebuild(spec: TreeSpec, values: list) -> Any:
    """The node `spec` describes, holding `values` as its children."""
    node = _NONE_NODE if spec.type is type(None) else SUPPORTED_NODES[spec.type]
    return node.unflatten_fn(values, spec._context)


def tree_flatten(tree: Any) -> tuple[list, TreeSpec]:
    """The leaves of `tree`, depth first, and its TreeSpec; None is an empty node (the func
    transforms' rule: chainrule.utils._pytree.tree_flatten is PyTorch's, None a leaf).

    Args:
        tree (Any): nested containers (see SUPPORTED_NODES); anything else is a leaf, and
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
    if type(tree) is tuple and not any(_is_node(item) for item in tree):
        # The common case of every transform call: (x,) or a lone tensor, without the walk.
        return list(tree), TreeSpec(tuple, None, [LEAF] * len(tree))
    if not _is_node(tree):
        return [tree], LEAF
    return flatten_tree(tree, none_is_leaf=False)


def holds_none(spec: TreeSpec) -> bool:
    """Whether a tree of this structure holds a None: an empty node here, as in JAX, where
    PyTorch's pytree has a leaf its transforms refuse in an output."""
    stack = [spec]
    while stack:
        node = stack.pop()
        if node.type is type(None):
            return True
        stack.extend(node._children)
    return False


def _is_node(value: Any) -> bool:
    """Whether the func transforms take `value` as a node (None included); the checks
    cheapest first, as every transform call asks it of each argument."""
    if value is None or type(value) in SUPPORTED_NODES:
        return True
    return isinstance(value, tuple) and hasattr(type(value), "_fields")  # a namedtuple


def tree_map(function: Callable[[Any], Any], tree: Any) -> Any:
    """A tree of the same structure with `function` applied to every leaf, as
    torch.utils._pytree.tree_map but with None an empty node (the func transforms' rule).

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
