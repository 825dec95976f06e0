"""chainrule.utils._pytree against torch.utils._pytree: the same trees flattened, specs printed
and compared, maps and predicates run under both. The func transforms' None rule (an empty
node) is the one difference, and is tested in tests/test_func.py's pytree tests."""

import collections

import pytest
import torch.utils._pytree as theirs

import chainrule.func.pytree as func_pytree
import chainrule.utils._pytree as ours

Point = collections.namedtuple("Point", "x y")

TREES = [
    1,
    None,
    [],
    (),
    {},
    [1, None, (2, 3)],
    {"b": 4, "a": [5, 6], "c": None},
    Point(1, [2, 3]),
    collections.OrderedDict(z=1, a=(2, None)),
    collections.defaultdict(list, {"k": [1, 2], "j": 3}),
    collections.deque([1, (2, 3)], maxlen=4),
    [{"deep": [(1,), [2, [3, [4, None]]]]}, "leaf", 2.5],
]


@pytest.mark.parametrize("tree", TREES, ids=repr)
def test_flatten_gives_torchs_leaves_spec_and_counts(tree):
    our_leaves, our_spec = ours.tree_flatten(tree)
    their_leaves, their_spec = theirs.tree_flatten(tree)
    assert our_leaves == their_leaves
    assert repr(our_spec) == repr(their_spec)
    assert str(our_spec) == str(their_spec)
    for name in ("num_leaves", "num_nodes", "num_children"):
        assert getattr(our_spec, name) == getattr(their_spec, name)
    assert our_spec.is_leaf() == their_spec.is_leaf()


@pytest.mark.parametrize("tree", TREES, ids=repr)
def test_unflatten_rebuilds_the_same_types(tree):
    leaves, spec = ours.tree_flatten(tree)
    rebuilt = ours.tree_unflatten(leaves, spec)
    expected = theirs.tree_unflatten(*theirs.tree_flatten(tree))
    assert rebuilt == expected
    assert type(rebuilt) is type(expected)
    if isinstance(tree, collections.defaultdict):
        assert rebuilt.default_factory is tree.default_factory
    if isinstance(tree, collections.deque):
        assert rebuilt.maxlen == tree.maxlen
    assert spec.unflatten(leaves) == expected


def test_specs_are_equal_when_structures_are_and_hash_alike():
    def spec(tree):
        return ours.tree_structure(tree)

    assert spec([1, (2, 3)]) == spec(["a", ("b", None)])
    assert hash(spec({"a": 1, "b": [2]})) == hash(spec({"a": 0, "b": [0]}))
    assert spec({"a": 1, "b": 2}) != spec({"b": 1, "a": 2})  # key order is structure
    assert spec((1, 2)) != spec([1, 2])
    assert spec(1) == ours.LeafSpec() == ours.treespec_leaf()
    assert ours.treespec_tuple([spec(1), spec(1)]) == spec((0, 0))
    assert ours.treespec_dict(a=spec(1)) == spec({"a": 0})
    for left, right in (([1, (2, 3)], [1, [2, 3]]), ({"a": 1}, {"a": 2})):
        same_ours = spec(left) == spec(right)
        same_theirs = theirs.tree_structure(left) == theirs.tree_structure(right)
        assert same_ours == same_theirs


def test_tree_map_with_several_trees_and_prefix_structures_as_torch():
    def join(x, y):
        return [x] + y

    first, second = [5, 6], [[7, 9], [1, 2]]
    assert ours.tree_map(join, first, second) == theirs.tree_map(join, first, second)
    tree = {"x": 7, "y": (42, 64), "z": None}
    assert ours.tree_map(lambda x: x is None, tree) == theirs.tree_map(lambda x: x is None, tree)
    # A dict of another standard dict type lines up by keys, in the first tree's order.
    other = collections.OrderedDict(z=0, y=(1, 1), x=2)
    assert ours.tree_map(lambda a, b: (a, b), tree, other) == theirs.tree_map(
        lambda a, b: (a, b), tree, other
    )


@pytest.mark.parametrize(
    "first, second",
    [([1, 2], [1, 2, 3]), ({"a": 1}, {"b": 1}), ((1, 2), [1, 2]), (Point(1, 2), (1, 2))],
)
def test_tree_map_over_mismatched_trees_raises_torchs_error(first, second):
    with pytest.raises(ValueError) as their_error:
        theirs.tree_map(lambda a, b: a, first, second)
    with pytest.raises(ValueError) as our_error:
        ours.tree_map(lambda a, b: a, first, second)
    assert str(our_error.value) == str(their_error.value)


def test_is_leaf_stops_the_walk_where_it_says():
    tree = [(1, 2), [3, (4, 5)]]

    def tuples(x):
        return isinstance(x, tuple)

    assert ours.tree_leaves(tree, is_leaf=tuples) == theirs.tree_leaves(tree, is_leaf=tuples)
    assert ours.tree_is_leaf((1,), is_leaf=tuples) and not ours.tree_is_leaf([1])
    assert ours.tree_is_leaf(None) == theirs.tree_is_leaf(None) is True


def test_map_only_and_predicates_as_torch():
    tree = [1, "a", (2.5, 3), {"k": None, "j": 4}]
    for kind in (int, (int, float), int | str, lambda x: x is None):
        assert ours.tree_map_only(kind, str, tree) == theirs.tree_map_only(kind, str, tree)
    for name in ("tree_all", "tree_any"):
        for pred in (lambda x: x is not None, lambda x: x == "a"):
            assert getattr(ours, name)(pred, tree) == getattr(theirs, name)(pred, tree)
    for name in ("tree_all_only", "tree_any_only"):
        for pred in (lambda x: x > 2, lambda x: x > 0):
            assert getattr(ours, name)(int, pred, tree) == getattr(theirs, name)(int, pred, tree)
    with pytest.raises(TypeError, match="Argument must be a type"):
        ours.map_only(3)


def test_tree_map_underscore_visits_every_leaf_and_returns_the_tree():
    seen = []
    tree = {"a": [1, 2], "b": None}
    assert ours.tree_map_(seen.append, tree) is tree
    assert seen == [1, 2, None]


def test_a_registered_type_is_a_node_for_both_rules():
    class Box:
        def __init__(self, items, tag):
            self.items, self.tag = items, tag

    ours.register_pytree_node(
        Box,
        lambda box: (list(box.items), box.tag),
        lambda values, tag: Box(list(values), tag),
        serialized_type_name="tests.Box",
    )
    try:
        leaves, spec = ours.tree_flatten(Box([1, None, [2]], "t"))
        assert leaves == [1, None, 2]
        assert repr(spec).startswith("TreeSpec(Box, t, [*,")
        rebuilt = ours.tree_unflatten([10, 20, 30], spec)
        assert (type(rebuilt), rebuilt.items, rebuilt.tag) == (Box, [10, 20, [30]], "t")
        # The func transforms' flattening sees the same node, with None an empty node.
        assert func_pytree.tree_flatten(Box([1, None], "t"))[0] == [1]
        with pytest.raises(ValueError, match="already registered as pytree node"):
            ours.register_pytree_node(Box, lambda b: ([], None), lambda v, c: Box([], c))
    finally:
        del ours.SUPPORTED_NODES[Box]


def test_unflatten_with_the_wrong_number_of_leaves_raises_as_torch():
    spec = ours.tree_structure([1, (2, 3)])
    with pytest.raises(ValueError, match="`leaves` has length 2 but the spec refers to a pytree"):
        ours.tree_unflatten([1, 2], spec)
    with pytest.raises(TypeError, match="Expected `treespec` to be an instance of PyTreeSpec"):
        ours.tree_unflatten([1], "spec")


def test_flattening_a_deep_tree_needs_no_recursion():
    tree = 0
    for _ in range(5000):
        tree = [tree]
    leaves, spec = ours.tree_flatten(tree)
    assert leaves == [0]
    assert spec.num_nodes == 5001
    rebuilt = ours.tree_unflatten([1], spec)
    for _ in range(5000):
        rebuilt = rebuilt[0]
    assert rebuilt == 1


def test_func_transforms_keep_none_as_an_empty_node():
    assert func_pytree.tree_flatten([1, None])[0] == [1]
    assert ours.tree_flatten([1, None])[0] == [1, None]
    leaves, spec = func_pytree.tree_flatten({"a": None, "b": 2})
    assert func_pytree.tree_unflatten([5], spec) == {"a": None, "b": 5}


def test_key_paths_name_each_leaf_as_torch():
    tree = {"a": [1, (2, None)], "n": Point(3, [4]), "d": collections.deque([5]), "o": 6}
    ours_flat, our_spec = ours.tree_flatten_with_path(tree)
    theirs_flat, their_spec = theirs.tree_flatten_with_path(tree)
    assert repr(our_spec) == repr(their_spec)
    assert [(ours.keystr(p), leaf) for p, leaf in ours_flat] == [
        (theirs.keystr(p), leaf) for p, leaf in theirs_flat
    ]
    assert [tuple(map(repr, p)) for p, _ in ours_flat] == [
        tuple(map(repr, p)) for p, _ in theirs_flat
    ]
    for path, leaf in ours_flat:
        assert ours.key_get(tree, path) is leaf
    assert ours.tree_leaves_with_path(tree) == ours_flat

    def describe(path, leaf, other):
        return f"{ours.keystr(path)}={leaf}/{other}"

    def describe_theirs(path, leaf, other):
        return f"{theirs.keystr(path)}={leaf}/{other}"

    doubled = theirs.tree_map(lambda v: None if v is None else 2 * v, tree)
    assert ours.tree_map_with_path(describe, tree, doubled) == theirs.tree_map_with_path(
        describe_theirs, tree, doubled
    )


def test_a_type_without_keys_cannot_be_flattened_with_paths():
    class Pair:
        def __init__(self, a, b):
            self.a, self.b = a, b

    ours.register_pytree_node(Pair, lambda p: ([p.a, p.b], None), lambda v, c: Pair(*v))
    try:
        with pytest.raises(ValueError, match="Did not find a flatten_with_keys_fn"):
            ours.tree_flatten_with_path([Pair(1, 2)])
    finally:
        del ours.SUPPORTED_NODES[Pair]


def test_register_dataclass_flattens_its_fields_and_keeps_none_out_as_torch():
    import dataclasses

    @dataclasses.dataclass
    class Batch:
        x: object
        y: object = None
        z: object = dataclasses.field(default=0, init=False)

    for library in (ours, theirs):
        library.register_dataclass(Batch)
    try:
        for value in (Batch([1, 2], 3), Batch((4,), None)):
            our_leaves, our_spec = ours.tree_flatten(value)
            their_leaves, their_spec = theirs.tree_flatten(value)
            assert our_leaves == their_leaves
            assert our_spec.context == their_spec.context
            assert ours.tree_unflatten(our_leaves, our_spec) == value
            paths, spec = ours.tree_flatten_with_path(value)
            assert [ours.keystr(p) for p, _ in paths] == [
                theirs.keystr(p) for p, _ in theirs.tree_flatten_with_path(value)[0]
            ]
            assert ours.tree_unflatten([leaf for _, leaf in paths], spec) == value
        with pytest.raises(ValueError, match="Missing fields in `field_names`"):
            ours.register_dataclass(Batch, field_names=["x"])
        with pytest.raises(ValueError, match="field_names must be specified"):
            ours.register_dataclass(dict)
    finally:
        del ours.SUPPORTED_NODES[Batch]
        theirs._deregister_pytree_node(Batch)


@pytest.mark.parametrize(
    "tree",
    [None, (), [], {}, (1,), Point(1, 2), [None], (None,), {"a": None}, 5, [[]], ([None],)],
    ids=repr,
)
def test_both_rules_rebuild_trees_of_empty_nodes_exactly(tree):
    """The one-level shortcut of unflatten must not take an empty child for a leaf."""
    for module in (func_pytree, ours):
        rebuilt = module.tree_unflatten(*module.tree_flatten(tree))
        assert rebuilt == tree and type(rebuilt) is type(tree)
