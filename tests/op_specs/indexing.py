"""Specs for chainrule.ops.indexing: every indexing op against PyTorch and finite differences.

Index inputs come from `make_inputs` as int64 (or int32) arrays and include repeated indices,
so gradients must accumulate. Writes (index_put, scatter) use distinct indices where a repeat
would make the result depend on which write wins: there the gradient is a convention that
finite differences cannot see. The `*_squared` specs square the output so the second-order
check runs each op's vjp through its own vjp (Gather <-> ScatterAdd, IndexSelect <-> IndexAdd,
Index <-> IndexAddIntoZeros).
"""

import numpy as np
import torch

import chainrule
from chainrule.testing import OpSpec


def _squared(fn):
    def squared(*args, **kwargs):
        out = fn(*args, **kwargs)
        return out * out

    return squared


def _spec(name, fn, torch_fn, shapes=((),), **options):
    return OpSpec(name, fn, torch_fn, shapes=shapes, **options)


def _both(name, fn, torch_fn, shapes=((),), **options):
    """A spec and its `_squared` twin (second order through the op's vjp)."""
    return [
        _spec(name, fn, torch_fn, shapes, **options),
        _spec(f"{name}_squared", _squared(fn), _squared(torch_fn), shapes, **options),
    ]


def _values(rng, *shape):
    return rng.uniform(-2.0, 2.0, size=shape)


def _distinct_along(rng, dim, index_shape, size):
    """An index of `index_shape` whose entries along `dim` are distinct (a partial permutation
    of range(size) in every line), so scatter never writes one place twice."""
    moved = np.moveaxis(np.empty(index_shape, dtype=np.int64), dim, -1)
    lines = moved.reshape(-1, moved.shape[-1])
    for line in lines:
        line[:] = rng.permutation(size)[: line.shape[0]]
    return np.moveaxis(lines.reshape(moved.shape), -1, dim)


REPEATS = np.array([2, 0, 2, 1, 2], dtype=np.int64)  # repeated and out of order

# ---- x[key] ----------------------------------------------------------------------------------

BASIC = [
    _spec("getitem_int", lambda x: x[1], lambda x: x[1], [((3, 4),), ((3,),)]),
    _spec("getitem_negative_int", lambda x: x[-1, -2], lambda x: x[-1, -2], [((3, 4),)]),
    _spec("getitem_slice", lambda x: x[1:], lambda x: x[1:], [((3, 4),)]),
    _spec("getitem_step", lambda x: x[::2, 1:4:2], lambda x: x[::2, 1:4:2], [((5, 4),)]),
    _spec(
        "getitem_negative_slice",
        lambda x: x[-3:-1, :-1],
        lambda x: x[-3:-1, :-1],
        [((4, 3),)],
    ),
    _spec("getitem_past_end", lambda x: x[2:10], lambda x: x[2:10], [((4, 3),)]),
    _spec(
        "getitem_none_ellipsis",
        lambda x: x[None, ..., 1, None],
        lambda x: x[None, ..., 1, None],
        [((2, 3, 4),)],
    ),
    _spec("getitem_ellipsis_only", lambda x: x[...], lambda x: x[...], [((2, 3),), ((),)]),
    _spec("getitem_0d_result", lambda x: x[1, 2], lambda x: x[1, 2], [((2, 3),)]),
    _spec("getitem_none_on_0d", lambda x: x[None], lambda x: x[None], [((),)]),
    _spec(
        "getitem_tensor_int",
        lambda x: x[chainrule.tensor(1)],
        lambda x: x[torch.tensor(1)],
        [((3, 2),)],
    ),
    _spec(
        "getitem_tensor_slice_bounds",
        lambda x: x[chainrule.tensor(1) : chainrule.tensor(3)],
        lambda x: x[torch.tensor(1) : torch.tensor(3)],
        [((4, 2),)],
    ),
]

ADVANCED = [
    *_both(
        "getitem_index_repeats",
        lambda x, i: x[i],
        lambda x, i: x[i],
        make_inputs=lambda rng: (_values(rng, 3, 4), REPEATS),
    ),
    _spec(
        "getitem_index_int32",
        lambda x, i: x[:, i],
        lambda x, i: x[:, i],
        make_inputs=lambda rng: (_values(rng, 2, 3), REPEATS.astype(np.int32)),
    ),
    _spec(
        "getitem_index_negative",
        lambda x, i: x[i],
        lambda x, i: x[i],
        make_inputs=lambda rng: (_values(rng, 4, 2), np.array([-1, 0, -4, -1])),
    ),
    _spec(
        "getitem_index_2d",
        lambda x, i: x[i],
        lambda x, i: x[i],
        make_inputs=lambda rng: (_values(rng, 4, 3), rng.integers(0, 4, (2, 3))),
    ),
    _spec(
        "getitem_two_indices",
        lambda x, i, j: x[i, j],
        lambda x, i, j: x[i, j],
        make_inputs=lambda rng: (_values(rng, 3, 4), REPEATS, np.array([3, 1, 3, 0, 3])),
    ),
    _spec(
        "getitem_indices_broadcast",
        lambda x, i, j: x[i, :, j],
        lambda x, i, j: x[i, :, j],
        make_inputs=lambda rng: (
            _values(rng, 3, 2, 4),
            np.array([[0], [2], [0]]),
            np.array([1, 3]),
        ),
    ),
    _spec(
        "getitem_index_after_slice",
        lambda x, i: x[1:, i, None],
        lambda x, i: x[1:, i, None],
        make_inputs=lambda rng: (_values(rng, 3, 4), REPEATS.clip(0, 3)),
    ),
    _spec(
        "getitem_list",
        lambda x: x[[0, 2, 0]],
        lambda x: x[[0, 2, 0]],
        [((3, 2),)],
    ),
    _spec("getitem_empty_list", lambda x: x[[]], lambda x: x[[]], [((3, 2),)]),
    *_both(
        "getitem_mask",
        lambda x, m: x[m],
        lambda x, m: x[m],
        make_inputs=lambda rng: (_values(rng, 3, 4), rng.uniform(size=(3, 4)) > 0.4),
    ),
    _spec(
        "getitem_row_mask",
        lambda x, m: x[m],
        lambda x, m: x[m],
        make_inputs=lambda rng: (_values(rng, 4, 2), np.array([True, False, True, True])),
    ),
    _spec(
        "getitem_mask_then_slice",
        lambda x, m: x[..., m, 1:],
        lambda x, m: x[..., m, 1:],
        make_inputs=lambda rng: (_values(rng, 2, 3, 4), np.array([True, False, True])),
    ),
    _spec(
        "getitem_comparison_mask",
        lambda x: x[x > 0.5],
        lambda x: x[x > 0.5],
        [((3, 4),)],
    ),
    _spec("getitem_bool_scalar", lambda x: x[True], lambda x: x[True], [((2, 3),)]),
]

# ---- writes: index_put, __setitem__, masked_fill ----------------------------------------------


def _setitem(key):
    """A function that writes `v` at `key` into a non-leaf copy of x, the way users do."""

    def fn(x, v, *index):
        y = x * 1
        y[key(*index)] = v
        return y

    return fn


def _scale_in_place(x, w):
    """mul_ saves the old value of y for its vjp: a snapshot, tangents included."""
    y = x * 1
    y.mul_(w)
    return y


def _scale_rows_in_place(x, w):
    """A write into a slice of a non-leaf: the base's history becomes CopySlices."""
    y = x * 1
    y[1:3].mul_(w)
    return y


def _add_into_plain_in_place(x, w):
    """`d[i] += v` into a tensor that does not require grad makes it part of the graph."""
    d = x.new_zeros(x.shape)
    d.t()[1:3] += (x[:, 1:3] * w[:3, None]).t()
    return d


def _earlier_view_after_write(x, w):
    """A view taken before a write into its base reads the written values (AsStrided)."""
    y = x * 1
    column = y[:, 1]
    y[1].mul_(w)
    return column * 1


WRITES = [
    _spec(
        "index_put",
        lambda x, v, i: chainrule.index_put(x, (i,), v),
        lambda x, v, i: torch.index_put(x, (i,), v),
        make_inputs=lambda rng: (_values(rng, 5, 2), _values(rng, 3, 2), np.array([3, 0, 1])),
    ),
    _spec(
        "index_put_broadcast_value",
        lambda x, v, i: chainrule.index_put(x, (i,), v),
        lambda x, v, i: torch.index_put(x, (i,), v),
        make_inputs=lambda rng: (_values(rng, 5, 3), _values(rng, 3), np.array([4, 1])),
    ),
    *_both(
        "index_put_accumulate",
        lambda x, v, i: chainrule.index_put(x, (i,), v, accumulate=True),
        lambda x, v, i: torch.index_put(x, (i,), v, accumulate=True),
        make_inputs=lambda rng: (_values(rng, 3, 2), _values(rng, 5, 2), REPEATS),
    ),
    _spec(
        "setitem_slice",
        _setitem(lambda: (slice(None), slice(1, 3))),
        _setitem(lambda: (slice(None), slice(1, 3))),
        [((3, 4), (3, 2))],
    ),
    _spec(
        "setitem_int_broadcast",
        _setitem(lambda: 1),
        _setitem(lambda: 1),
        [((3, 4), (4,)), ((3, 4), ()), ((3, 4), (1, 4))],
    ),
    _spec(
        "setitem_index",
        _setitem(lambda i: i),
        _setitem(lambda i: i),
        make_inputs=lambda rng: (_values(rng, 4, 3), _values(rng, 2, 3), np.array([3, 1])),
    ),
    _spec(
        "setitem_mask",
        _setitem(lambda m: m),
        _setitem(lambda m: m),
        make_inputs=lambda rng: (
            _values(rng, 2, 3),
            _values(rng, 3),
            np.array([[True, False, True], [False, True, False]]),
        ),
    ),
    *_both(
        "in_place_mul_of_a_non_leaf_it_saved",
        _scale_in_place,
        _scale_in_place,
        [((4, 3), (4, 3))],
    ),
    *_both(
        "view_write_scales_rows_of_a_non_leaf",
        _scale_rows_in_place,
        _scale_rows_in_place,
        [((4, 3), (2, 3))],
    ),
    *_both(
        "view_write_into_a_plain_tensor",
        _add_into_plain_in_place,
        _add_into_plain_in_place,
        [((3, 4), (4,))],
    ),
    *_both(
        "view_write_seen_by_an_earlier_view",
        _earlier_view_after_write,
        _earlier_view_after_write,
        [((3, 4), (4,))],
    ),
    _spec(
        "setitem_value_used_twice",
        lambda x, v: _setitem(lambda: (0,))(x, v) * v.sum(),
        lambda x, v: _setitem(lambda: (0,))(x, v) * v.sum(),
        [((2, 3), (3,))],
    ),
    _spec(
        "masked_fill_scalar",
        lambda x, m: x.masked_fill(m, 0.5),
        lambda x, m: x.masked_fill(m, 0.5),
        make_inputs=lambda rng: (_values(rng, 3, 4), rng.uniform(size=(3, 4)) > 0.5),
    ),
    _spec(
        "masked_fill_tensor_value",  # the 0-dim value gets the summed gradient of the fills
        lambda x, v, m: chainrule.masked_fill(x, m, v),
        lambda x, v, m: torch.masked_fill(x, m, v),
        make_inputs=lambda rng: (_values(rng, 3, 4), _values(rng), rng.uniform(size=4) > 0.5),
    ),
    _spec(
        "masked_fill_broadcast_result",
        lambda x, m: chainrule.masked_fill(x, m, -1.0),
        lambda x, m: torch.masked_fill(x, m, -1.0),
        make_inputs=lambda rng: (_values(rng, 4), rng.uniform(size=(3, 4)) > 0.5),
    ),
]

# ---- gather and scatter -----------------------------------------------------------------------

GATHER = [
    *_both(
        "gather_dim1",
        lambda x, i: chainrule.gather(x, 1, i),
        lambda x, i: torch.gather(x, 1, i),
        make_inputs=lambda rng: (_values(rng, 3, 4), rng.integers(0, 4, (3, 5))),
    ),
    *_both(
        "gather_dim0",
        lambda x, i: x.gather(0, i),
        lambda x, i: x.gather(0, i),
        make_inputs=lambda rng: (_values(rng, 3, 4), np.array([[2, 0, 2, 2], [0, 0, 1, 2]])),
    ),
    _spec(
        "gather_smaller_index",  # index no larger than input apart from dim
        lambda x, i: chainrule.gather(x, -1, i),
        lambda x, i: torch.gather(x, -1, i),
        make_inputs=lambda rng: (_values(rng, 3, 4, 5), rng.integers(0, 5, (2, 3, 7))),
    ),
    _spec(
        "gather_int32",
        lambda x, i: chainrule.gather(x, 1, i),
        lambda x, i: torch.gather(x, 1, i),
        make_inputs=lambda rng: (_values(rng, 2, 3), rng.integers(0, 3, (2, 4), dtype=np.int32)),
    ),
    _spec(
        "gather_1d",
        lambda x, i: chainrule.gather(x, 0, i),
        lambda x, i: torch.gather(x, 0, i),
        make_inputs=lambda rng: (_values(rng, 4), REPEATS),
    ),
    _spec(
        "gather_0d",
        lambda x, i: chainrule.gather(x, 0, i),
        lambda x, i: torch.gather(x, 0, i),
        make_inputs=lambda rng: (_values(rng), np.array(0)),
    ),
    *_both(
        "scatter_add",
        lambda x, s, i: chainrule.scatter_add(x, 1, i, s),
        lambda x, s, i: torch.scatter_add(x, 1, i, s),
        make_inputs=lambda rng: (
            _values(rng, 3, 4),
            _values(rng, 3, 6),
            rng.integers(0, 4, (3, 6)),
        ),
    ),
    _spec(
        "scatter_add_dim0_method",
        lambda x, s, i: x.scatter_add(0, i, s),
        lambda x, s, i: x.scatter_add(0, i, s),
        make_inputs=lambda rng: (
            _values(rng, 3, 2),
            _values(rng, 5, 2),
            np.stack([REPEATS] * 2, 1),
        ),
    ),
    _spec(
        "scatter_add_larger_src",  # only src's leading part is used; the rest gets zero gradient
        lambda x, s, i: chainrule.scatter_add(x, 0, i, s),
        None,  # PyTorch's backward rejects a src larger than index
        make_inputs=lambda rng: (
            _values(rng, 3, 3),
            _values(rng, 4, 5),
            rng.integers(0, 3, (2, 3)),
        ),
    ),
    _spec(
        "scatter_add_0d",
        lambda x, s, i: chainrule.scatter_add(x, 0, i, s),
        lambda x, s, i: torch.scatter_add(x, 0, i, s),
        make_inputs=lambda rng: (_values(rng), _values(rng), np.array(0)),
    ),
    *_both(
        "scatter",
        lambda x, s, i: chainrule.scatter(x, 1, i, s),
        lambda x, s, i: torch.scatter(x, 1, i, s),
        make_inputs=lambda rng: (
            _values(rng, 3, 5),
            _values(rng, 3, 3),
            _distinct_along(rng, 1, (3, 3), 5),
        ),
    ),
    _spec(
        "scatter_dim0_smaller_index",
        lambda x, s, i: x.scatter(0, i, s),
        lambda x, s, i: x.scatter(0, i, s),
        make_inputs=lambda rng: (
            _values(rng, 4, 3),
            _values(rng, 2, 2),
            _distinct_along(rng, 0, (2, 2), 4),
        ),
    ),
    _spec(
        "scatter_larger_src",  # only src's leading part is used; the rest gets zero gradient
        lambda x, s, i: x.scatter(0, i, s),
        None,  # PyTorch's backward rejects a src larger than index
        make_inputs=lambda rng: (
            _values(rng, 4, 3),
            _values(rng, 3, 4),
            _distinct_along(rng, 0, (2, 2), 4),
        ),
    ),
    _spec(
        "scatter_value",
        lambda x, i: chainrule.scatter(x, 0, i, 1.5),
        lambda x, i: torch.scatter(x, 0, i, 1.5),
        make_inputs=lambda rng: (_values(rng, 3, 4), rng.integers(0, 3, (4, 4))),
    ),
    _spec(
        "scatter_value_keyword",
        lambda x, i: x.scatter(1, i, value=-2.0),
        lambda x, i: x.scatter(1, i, value=-2.0),
        make_inputs=lambda rng: (_values(rng, 3, 4), REPEATS.clip(0, 3)[None].repeat(3, 0)),
    ),
    _spec(
        "scatter_reduce_add",
        lambda x, s, i: chainrule.scatter(x, 0, i, s, reduce="add"),
        lambda x, s, i: torch.scatter_add(x, 0, i, s),  # torch's reduce= form has no backward
        make_inputs=lambda rng: (
            _values(rng, 3, 2),
            _values(rng, 5, 2),
            np.stack([REPEATS] * 2, 1),
        ),
    ),
]

INDEX_SELECT = [
    *_both(
        "index_select",
        lambda x, i: chainrule.index_select(x, 0, i),
        lambda x, i: torch.index_select(x, 0, i),
        make_inputs=lambda rng: (_values(rng, 3, 4), REPEATS),
    ),
    _spec(
        "index_select_dim",
        lambda x, i: x.index_select(-1, i),
        lambda x, i: x.index_select(-1, i),
        make_inputs=lambda rng: (_values(rng, 2, 3, 4), np.array([3, 3, 0], dtype=np.int32)),
    ),
    _spec(
        "index_select_0d_index",
        lambda x, i: chainrule.index_select(x, 1, i),
        lambda x, i: torch.index_select(x, 1, i),
        make_inputs=lambda rng: (_values(rng, 2, 3), np.array(2)),
    ),
    _spec(
        "index_select_0d_input",
        lambda x, i: chainrule.index_select(x, 0, i),
        lambda x, i: torch.index_select(x, 0, i),
        make_inputs=lambda rng: (_values(rng), np.array([0])),
    ),
    *_both(
        "index_add",
        lambda x, s, i: chainrule.index_add(x, 0, i, s),
        lambda x, s, i: torch.index_add(x, 0, i, s),
        make_inputs=lambda rng: (_values(rng, 3, 4), _values(rng, 5, 4), REPEATS),
    ),
    _spec(
        "index_add_alpha_dim",
        lambda x, s, i: x.index_add(1, i, s, alpha=-1.5),
        lambda x, s, i: x.index_add(1, i, s, alpha=-1.5),
        make_inputs=lambda rng: (_values(rng, 2, 3), _values(rng, 2, 5), REPEATS),
    ),
    _spec(
        "index_add_0d",
        lambda x, s, i: chainrule.index_add(x, 0, i, s),
        lambda x, s, i: torch.index_add(x, 0, i, s),
        make_inputs=lambda rng: (_values(rng), _values(rng), np.array([0])),
    ),
    *_both(
        "take_along_dim",
        lambda x, i: chainrule.take_along_dim(x, i, 1),
        lambda x, i: torch.take_along_dim(x, i, 1),
        make_inputs=lambda rng: (_values(rng, 3, 4), rng.integers(0, 4, (3, 6))),
    ),
    _spec(
        "take_along_dim_broadcast",
        lambda x, i: chainrule.take_along_dim(x, i, dim=2),
        lambda x, i: torch.take_along_dim(x, i, dim=2),
        make_inputs=lambda rng: (_values(rng, 2, 1, 3), rng.integers(-3, 3, (1, 4, 2))),
    ),
    _spec(
        "take_along_dim_flat",
        lambda x, i: chainrule.take_along_dim(x, i),
        lambda x, i: torch.take_along_dim(x, i),
        make_inputs=lambda rng: (_values(rng, 3, 4), np.array([11, 0, 3, 5, 5])),
    ),
    _spec(
        "take",
        lambda x, i: chainrule.take(x, i),
        lambda x, i: torch.take(x, i),
        make_inputs=lambda rng: (_values(rng, 3, 4), np.array([[11, 0], [-1, 11]])),
    ),
    _spec(
        "masked_select",
        lambda x, m: chainrule.masked_select(x, m),
        lambda x, m: torch.masked_select(x, m),
        make_inputs=lambda rng: (_values(rng, 3, 4), rng.uniform(size=4) > 0.5),
    ),
]


# scatter_reduce and index_reduce: repeated indices (several entries reduced into one place),
# include_self both ways. Smooth draws check against finite differences; the `_ties` specs draw
# small integers so amax/amin meet ties (the gradient split evenly, as PyTorch) and skip them;
# the `_zeros` specs put single zeros in the products (the division-free path).
def _small_integers(rng, *shape):
    return rng.integers(0, 3, size=shape).astype(np.float64)


def _with_zeros(rng, shape, zeros):
    """Values away from 0 but for exact zeros at `zeros` (positions). PyTorch's second
    derivative of prod is defined for at most one zero of src per output place: so are these."""
    x = rng.uniform(0.5, 1.5, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    x[tuple(np.array(zeros).T)] = 0.0
    return x


SCATTER_INDEX = np.array([[0, 2], [0, 0], [3, 2], [0, 1], [2, 2]])  # (5, 2) into 4 rows: repeats


def _scatter_reduce_specs(reduce, include_self):
    name = f"scatter_reduce_{reduce}_{'self' if include_self else 'noself'}"

    def fn(x, s, i):
        return chainrule.scatter_reduce(x, 0, i, s, reduce, include_self=include_self)

    def torch_fn(x, s, i):
        return torch.scatter_reduce(x, 0, i, s, reduce, include_self=include_self)

    def method(x, s, i):
        return x.scatter_reduce(1, i, s, reduce, include_self=include_self)

    specs = [
        *_both(
            name,
            fn,
            torch_fn,
            make_inputs=lambda rng: (_values(rng, 4, 2), _values(rng, 5, 2), SCATTER_INDEX),
        ),
        _spec(
            f"{name}_dim1",
            method,
            method,
            make_inputs=lambda rng: (
                _values(rng, 2, 3),
                _values(rng, 2, 4),
                rng.integers(0, 3, (2, 4)),
            ),
        ),
        _spec(
            f"{name}_0d",
            fn,
            torch_fn,
            make_inputs=lambda rng: (_values(rng), _values(rng), np.array(0)),
        ),
        _spec(  # src larger than index: only its leading block is read. torch's derivatives
            # fail for such a src (a vjp of the index's shape), so torch is given the block.
            f"{name}_larger_src",
            fn,
            lambda x, s, i: torch_fn(x, s[: i.shape[0], : i.shape[1]], i),
            make_inputs=lambda rng: (_values(rng, 4, 3), _values(rng, 6, 4), SCATTER_INDEX),
        ),
    ]
    if reduce in ("amax", "amin"):
        specs += _both(
            f"{name}_ties",
            fn,
            torch_fn,
            make_inputs=lambda rng: (
                _small_integers(rng, 4, 2),
                _small_integers(rng, 5, 2),
                SCATTER_INDEX,
            ),
            finite_differences=False,
        )
    if reduce == "prod":
        specs += _both(
            f"{name}_zeros",
            fn,
            torch_fn,
            make_inputs=lambda rng: (
                _with_zeros(rng, (4, 2), [(1, 0), (0, 1), (2, 1)]),
                _with_zeros(rng, (5, 2), [(0, 0), (2, 1)]),  # into (0, 0) and (2, 1)
                SCATTER_INDEX,
            ),
        )
    return specs


def _index_reduce_specs(reduce, include_self):
    name = f"index_reduce_{reduce}_{'self' if include_self else 'noself'}"

    def fn(x, s, i):
        return x.index_reduce(0, i, s, reduce, include_self=include_self)

    def along_last(x, s, i):
        return x.index_reduce(-1, i, s, reduce, include_self=include_self)

    specs = [
        *_both(
            name,
            fn,
            fn,
            make_inputs=lambda rng: (_values(rng, 3, 2), _values(rng, 5, 2), REPEATS),
        ),
        _spec(
            f"{name}_last_dim",
            along_last,
            along_last,
            make_inputs=lambda rng: (_values(rng, 2, 4), _values(rng, 2, 5), REPEATS),
        ),
    ]
    if reduce in ("amax", "amin"):
        specs += _both(
            f"{name}_ties",
            fn,
            fn,
            make_inputs=lambda rng: (
                _small_integers(rng, 3, 2),
                _small_integers(rng, 5, 2),
                REPEATS,
            ),
            finite_differences=False,
        )
    if reduce == "prod":
        specs.append(
            _spec(
                f"{name}_zeros",
                fn,
                fn,
                make_inputs=lambda rng: (
                    _with_zeros(rng, (3, 2), [(2, 1), (0, 0)]),
                    _with_zeros(rng, (5, 2), [(0, 0), (3, 1)]),  # into rows 2 and 1
                    REPEATS,
                ),
            )
        )
    return specs


SCATTER_REDUCE = [
    spec
    for reduce in ("sum", "prod", "mean", "amax", "amin")
    for include_self in (True, False)
    for spec in _scatter_reduce_specs(reduce, include_self)
] + [
    spec
    for reduce in ("prod", "mean", "amax", "amin")
    for include_self in (True, False)
    for spec in _index_reduce_specs(reduce, include_self)
]


# Tensor.unfold: windows along a dimension (overlapping, disjoint, with gaps), as torch's.
UNFOLD = [
    OpSpec(
        f"unfold_{dimension}_{size}_{step}",
        lambda x, d=dimension, n=size, k=step: x.unfold(d, n, k),
        lambda x, d=dimension, n=size, k=step: x.unfold(d, n, k),
        shapes=[((3, 7),)],
    )
    for dimension, size, step in ((1, 3, 1), (1, 2, 2), (-1, 2, 3), (0, 3, 1))
]

SPECS: list[OpSpec] = [
    *BASIC,
    *ADVANCED,
    *WRITES,
    *GATHER,
    *INDEX_SELECT,
    *SCATTER_REDUCE,
    *UNFOLD,
]

assert len({spec.name for spec in SPECS}) == len(SPECS), "spec names must be unique"
