"""Semantics of the shape and indexing ops beyond what the OpSpecs check: errors (type and
PyTorch's message), views versus copies, in-place writes and their history, dtype promotion,
and that each vjp's own vjp is the op it transposes (Gather <-> ScatterAdd and friends).
Every expectation is checked against PyTorch where PyTorch can run the same program."""

import warnings

import numpy as np
import pytest
import torch
import torch.func as tf
import torch.nn.functional as F

import chainrule
import chainrule.func as cf
from chainrule import DTypeError, GradError, ShapeError


def _pair(*shape, seed=0, requires_grad=False):
    """The same float64 values as a chainrule and a torch tensor."""
    data = np.random.default_rng(seed).uniform(-2.0, 2.0, size=shape)
    mine = chainrule.tensor(data, dtype=chainrule.float64, requires_grad=requires_grad)
    theirs = torch.tensor(data, dtype=torch.float64, requires_grad=requires_grad)
    return mine, theirs


def _close(mine, theirs):
    expected = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else theirs
    actual = mine.detach().numpy() if isinstance(mine, chainrule.Tensor) else mine
    assert actual.shape == np.shape(expected)
    np.testing.assert_allclose(actual, expected, rtol=1e-10, atol=1e-12)


def _index(values, dtype=np.int64):
    return chainrule.tensor(np.asarray(values, dtype=dtype)), torch.tensor(
        np.asarray(values, dtype=dtype)
    )


# ---- dimensions out of range: IndexError with PyTorch's message --------------------------------

OUT_OF_RANGE = [
    ("squeeze", lambda x: x.squeeze(2)),
    ("unsqueeze", lambda x: x.unsqueeze(3)),
    ("transpose", lambda x: x.transpose(0, 2)),
    ("permute", lambda x: x.permute(0, 2)),
    ("movedim", lambda x: x.movedim(2, 0)),
    ("flatten", lambda x: x.flatten(0, 2)),
    ("flip", lambda x: x.flip(2)),
    ("roll", lambda x: x.roll(1, 2)),
    ("split", lambda x: x.split(1, 2)),
    ("chunk", lambda x: x.chunk(2, -3)),
    ("unbind", lambda x: x.unbind(2)),
    ("narrow", lambda x: x.narrow(2, 0, 1)),
    ("cat", lambda x: (chainrule if isinstance(x, chainrule.Tensor) else torch).cat([x, x], 2)),
    ("stack", lambda x: (chainrule if isinstance(x, chainrule.Tensor) else torch).stack([x], 3)),
    ("gather", lambda x: x.gather(2, (x > 9).long())),
    ("index_select", lambda x: x.index_select(-3, (x > 9).long()[0])),
    ("size", lambda x: x.size(2)),
]


@pytest.mark.parametrize("name, fn", OUT_OF_RANGE, ids=[n for n, _ in OUT_OF_RANGE])
def test_dimension_out_of_range_is_an_index_error_like_pytorch(name, fn):
    mine, theirs = _pair(2, 3)
    with pytest.raises(IndexError) as expected:
        fn(theirs)
    with pytest.raises(IndexError) as raised:
        fn(mine)
    assert str(expected.value).splitlines()[0] in str(raised.value)


@pytest.mark.parametrize("fn", [lambda x: x.unbind(0), lambda x: x.roll(1, 0)])
def test_a_dimension_of_a_0d_tensor_is_an_index_error(fn):
    with pytest.raises(IndexError, match="Dimension specified as 0 but tensor has no dimensions"):
        fn(chainrule.tensor(1.0))
    with pytest.raises(IndexError):
        fn(torch.tensor(1.0))


# ---- reshape and views -----------------------------------------------------------------------


def test_reshape_errors_name_the_shapes():
    x = chainrule.zeros(2, 3)
    with pytest.raises(ShapeError, match=r"reshape: shape \[4, 2\] is invalid for input of size 6"):
        x.reshape(4, 2)
    with pytest.raises(ShapeError, match="only one dimension can be inferred"):
        x.reshape(-1, -1)
    with pytest.raises(ShapeError, match="view size is not compatible"):
        x.t().view(6)
    assert chainrule.zeros(0, 3).reshape(-1, 3).shape == (0, 3)


def test_reshape_is_a_view_where_possible_and_a_copy_otherwise():
    x = chainrule.arange(6.0).reshape(2, 3)
    flat = x.reshape(-1)
    assert np.shares_memory(flat.numpy(), x.numpy())
    assert flat._version_counter is x._version_counter
    copied = x.t().reshape(-1)
    assert not np.shares_memory(copied.numpy(), x.numpy())
    assert copied.tolist() == [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]
    y = chainrule.ones(2, 3, requires_grad=True) * 1
    assert y.reshape(6).grad_fn.name() == "ViewBackward0"
    assert y.t().reshape(6).grad_fn.name() == "UnsafeViewBackward0"


def test_writing_through_a_reshape_invalidates_saved_values():
    a = chainrule.ones(2, 3, requires_grad=True)
    out = a.exp()  # saves its output
    with chainrule.no_grad():
        out.reshape(-1).mul_(2)
    with pytest.raises(GradError, match="modified by an inplace operation"):
        out.sum().backward()


def test_squeeze_unsqueeze_flatten_shapes_match_pytorch():
    mine, theirs = _pair(2, 1, 3, 1)
    for fn in (
        lambda x: x.squeeze(),
        lambda x: x.squeeze((1, 2)),
        lambda x: x.squeeze(-1),
        lambda x: x.unsqueeze(-1),
        lambda x: x.flatten(1),
        lambda x: x.unflatten(2, (3, 1)),
        lambda x: x.movedim((0, 2), (3, 0)),
    ):
        assert fn(mine).shape == tuple(fn(theirs).shape)
    assert chainrule.flatten(chainrule.tensor(2.0)).shape == (1,)


@pytest.mark.parametrize(
    "shape, start, end",
    [((0, 12, 1, 1), 1, -1), ((0, 3), 0, -1), ((2, 0, 3), 1, 2), ((2, 0, 3), 0, 1), ((3, 0), 0, 1)],
)
def test_flatten_of_an_empty_tensor_keeps_the_other_sizes_as_pytorch(shape, start, end):
    """An empty batch's pooled features (0, C, 1, 1) flatten to (0, C): the merged size is the
    product of the sizes merged, where reshape's -1 would be ambiguous over 0 elements."""
    mine, theirs = _pair(*shape, requires_grad=True)
    ours, expected = chainrule.flatten(mine, start, end), torch.flatten(theirs, start, end)
    assert ours.shape == tuple(expected.shape)
    assert chainrule.nn.Flatten(start, end)(mine).shape == tuple(expected.shape)
    assert ours.grad_fn.name() == expected.grad_fn.name()
    ours.sum().backward()
    expected.sum().backward()
    assert mine.grad.shape == tuple(theirs.grad.shape) == shape


def test_expand_errors():
    x = chainrule.zeros(3, 1)
    with pytest.raises(ShapeError, match="must match the existing size"):
        x.expand(2, 4)
    with pytest.raises(ShapeError, match="must be greater or equal"):
        x.expand(3)
    with pytest.raises(ShapeError, match="not allowed in a leading"):
        x.expand(-1, 3, 2)
    with pytest.raises(ShapeError, match=r"\(2, 3\), \(4,\) cannot be broadcast"):
        chainrule.broadcast_tensors(chainrule.zeros(2, 3), chainrule.zeros(4))


# ---- cat, stack and friends ------------------------------------------------------------------


def test_cat_errors_name_op_and_shapes():
    a, b = chainrule.zeros(2, 3), chainrule.zeros(3, 4)
    with pytest.raises(ShapeError, match=r"cat: Sizes of tensors must match except in dimension 1"):
        chainrule.cat([a, b], 1)
    with pytest.raises(ShapeError, match=r"\(2, 3\), \(3, 4\)"):
        chainrule.cat([a, b], 1)
    with pytest.raises(ShapeError, match="same number of dimensions: got 2 and 1"):
        chainrule.cat([a, chainrule.zeros(3)])
    with pytest.raises(ShapeError, match="zero-dimensional tensor"):
        chainrule.cat([chainrule.tensor(1.0), chainrule.tensor(2.0)])
    with pytest.raises(ShapeError, match="non-empty list"):
        chainrule.cat([])
    with pytest.raises(TypeError):
        chainrule.cat(a)


@pytest.mark.parametrize(
    "dtypes",
    [("int64", "float32"), ("bool", "int32"), ("float32", "float64"), ("uint8", "int8")],
)
def test_cat_and_stack_promote_like_pytorch(dtypes):
    mine = [chainrule.ones(2, 2, dtype=getattr(chainrule, d)) for d in dtypes]
    theirs = [torch.ones(2, 2, dtype=getattr(torch, d)) for d in dtypes]
    assert chainrule.cat(mine).dtype.name == str(torch.cat(theirs).dtype).replace("torch.", "")
    assert chainrule.stack(mine).dtype.name == str(torch.stack(theirs).dtype).replace("torch.", "")


def test_cat_gives_each_input_a_gradient_of_its_own_dtype():
    x = chainrule.ones(2, dtype=chainrule.float32, requires_grad=True)
    y = chainrule.ones(3, dtype=chainrule.float64, requires_grad=True)
    out = chainrule.cat([x, y])
    assert out.dtype is chainrule.float64
    out.backward(chainrule.arange(5.0, dtype=chainrule.float64))
    assert x.grad.dtype is chainrule.float32 and x.grad.tolist() == [0.0, 1.0]
    assert y.grad.tolist() == [2.0, 3.0, 4.0]


def test_cat_skips_legacy_empty_tensors_like_pytorch():
    out = chainrule.cat([chainrule.ones(2, 3), chainrule.zeros(0, dtype=chainrule.float64)], 1)
    assert out.shape == (2, 3) and out.dtype is chainrule.float64


def test_stack_errors():
    with pytest.raises(
        ShapeError,
        match=r"stack expects each tensor to be equal size, but got "
        r"\[2, 3\] at entry 0 and \[2, 4\] at entry 1",
    ):
        chainrule.stack([chainrule.zeros(2, 3), chainrule.zeros(2, 4)])
    with pytest.raises(ShapeError, match="non-empty"):
        chainrule.stack([])


def test_hstack_vstack_dstack_shapes_match_pytorch():
    cases = [[(), (2,)], [(3,), (3,)], [(2, 1), (2, 3)], [(2, 3), (2, 3)], [(1, 2, 3), (1, 2, 1)]]
    for shapes in cases:
        for name in ("hstack", "vstack", "dstack"):
            mine = [chainrule.zeros(s) for s in shapes]
            theirs = [torch.zeros(s) for s in shapes]
            try:
                expected = getattr(torch, name)(theirs).shape
            except RuntimeError:
                with pytest.raises(ShapeError):
                    getattr(chainrule, name)(mine)
                continue
            assert getattr(chainrule, name)(mine).shape == tuple(expected), (name, shapes)


# ---- split, chunk, unbind, narrow ------------------------------------------------------------


@pytest.mark.parametrize(
    "shape, args",
    [
        ((5, 2), (2,)),
        ((5, 2), (7,)),
        ((0, 2), (2,)),
        ((0, 2), (0,)),
        ((5, 2), ([2, 3],)),
        ((5, 2), ([5, 0],)),
        ((2, 6), (4, 1)),
    ],
)
def test_split_pieces_match_pytorch(shape, args):
    mine = [p.shape for p in chainrule.zeros(*shape).split(*args)]
    assert mine == [tuple(p.shape) for p in torch.zeros(*shape).split(*args)]


@pytest.mark.parametrize(
    "shape, chunks", [((5, 2), 3), ((6,), 4), ((0, 2), 3), ((1,), 5), ((7,), 7)]
)
def test_chunk_pieces_match_pytorch(shape, chunks):
    mine = [p.shape for p in chainrule.zeros(*shape).chunk(chunks)]
    assert mine == [tuple(p.shape) for p in torch.zeros(*shape).chunk(chunks)]


def test_split_chunk_narrow_errors():
    x = chainrule.zeros(5, 2)
    with pytest.raises(
        ShapeError, match=r"split_sizes to sum exactly to 5 .* split_sizes=\[2, 2\]"
    ):
        x.split([2, 2])
    with pytest.raises(ShapeError, match="non-negative"):
        x.split([6, -1])
    with pytest.raises(ShapeError, match="split_size can only be 0"):
        x.split(0)
    with pytest.raises(ShapeError, match="at least a 1-dimensional"):
        chainrule.tensor(1.0).split(1)
    with pytest.raises(ShapeError, match="greater than 0"):
        x.chunk(0)
    with pytest.raises(
        IndexError, match=r"start out of range \(expected to be in range of \[-5, 5\]"
    ):
        x.narrow(0, 6, 0)
    with pytest.raises(
        ShapeError, match=r"start \(4\) \+ length \(2\) exceeds dimension size \(5\)"
    ):
        x.narrow(0, 4, 2)
    with pytest.raises(ShapeError, match="length must be non-negative"):
        x.narrow(0, 1, -1)
    with pytest.raises(ShapeError, match="0-dim"):
        chainrule.tensor(1.0).narrow(0, 0, 1)
    assert x.narrow(0, chainrule.tensor(-2), 2).shape == (2, 2)


def test_split_and_unbind_give_views_that_refuse_recorded_inplace_writes():
    x = chainrule.arange(6.0).reshape(3, 2)
    first, _ = x.split(2)
    rows = x.unbind()
    assert np.shares_memory(first.numpy(), x.numpy()) and np.shares_memory(
        rows[2].numpy(), x.numpy()
    )
    with chainrule.no_grad():
        rows[2].add_(10)  # an untracked write goes through and bumps the shared version
    assert x.tolist()[2] == [14.0, 15.0] and x._version == 1
    y = chainrule.ones(3, 2, requires_grad=True) * 1
    with pytest.raises(GradError):
        y.split(2)[0].mul_(2)
    with pytest.raises(GradError):
        y.unbind(1)[0].mul_(2)


def test_unused_split_pieces_get_zero_gradient():
    x = chainrule.ones(5, 2, requires_grad=True)
    pieces = x.split(2)
    (pieces[1] * 3).sum().backward()
    assert x.grad.tolist() == [[0.0, 0.0]] * 2 + [[3.0, 3.0]] * 2 + [[0.0, 0.0]]


def test_iterating_a_tensor_yields_rows_with_gradients():
    x = chainrule.ones(3, 2, requires_grad=True)
    total = sum((row * i).sum() for i, row in enumerate(x))
    total.backward()
    assert x.grad.tolist() == [[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]]


# ---- flip, roll, repeat, tile ----------------------------------------------------------------


def test_reorderings_are_copies():
    x = chainrule.arange(6.0).reshape(2, 3)
    for out in (x.flip(0), x.roll(1, 1), x.repeat(1, 1), chainrule.tile(x, (1,))):
        assert not np.shares_memory(out.numpy(), x.numpy())


def test_reordering_errors_match_pytorch():
    x = chainrule.zeros(2, 3)
    with pytest.raises(ShapeError, match="appears multiple times"):
        x.flip(0, 0)
    with pytest.raises(ShapeError, match="shifts and dimensions must align. shifts: 2, dims:1"):
        x.roll((1, 2), 0)
    with pytest.raises(ShapeError, match="shifts: 2, dims:0"):
        x.roll((1, 2))
    with pytest.raises(ShapeError, match="can not be smaller than number of dimensions"):
        x.repeat(2)
    with pytest.raises(ShapeError, match="non-negative"):
        x.repeat(-1, 2)
    with pytest.raises(TypeError):
        x.repeat()


def test_roll_and_tile_values_match_pytorch():
    mine, theirs = _pair(2, 3, 4)
    _close(mine.roll((1, -5), (0, 2)), theirs.roll((1, -5), (0, 2)))
    _close(mine.roll(7), theirs.roll(7))
    _close(mine.roll((1, 2), (1, 1)), theirs.roll((1, 2), (1, 1)))
    _close(chainrule.tile(mine, (2, 1)), torch.tile(theirs, (2, 1)))
    _close(mine.tile(()), theirs.tile(()))
    _close(chainrule.roll(chainrule.zeros(0, 3), 1, 0), torch.roll(torch.zeros(0, 3), 1, 0))


# ---- pad ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pad, mode",
    [
        ((1, 2), "reflect"),
        ((-1, 3), "reflect"),
        ((2, -2), "reflect"),
        ((-1, 2), "replicate"),
        ((-5, 2), "replicate"),
        ((5, 5), "replicate"),
        ((-1, 3), "circular"),
        ((4, 0), "circular"),
        ((0, 0), "reflect"),
        ((-4, 0), "constant"),
        ((1, 1, -1, 2), "constant"),
    ],
)
def test_pad_values_match_pytorch(pad, mode):
    mine, theirs = _pair(2, 4)
    _close(chainrule.pad(mine, pad, mode=mode), F.pad(theirs, pad, mode=mode))


def test_pad_keeps_the_dtype_and_casts_the_value():
    mine = chainrule.pad(chainrule.arange(3), (1, 1), value=2.7)
    theirs = F.pad(torch.arange(3), (1, 1), value=2.7)
    assert mine.tolist() == theirs.tolist() and mine.dtype is chainrule.int64
    assert chainrule.pad(chainrule.arange(3.0)[None], [1, 0]).shape == (1, 4)
    assert chainrule.pad(chainrule.tensor(1.0), ()).shape == ()


@pytest.mark.parametrize(
    "widths", [(-2, 1, -1, -1), (-1, 0), (-1, 1), (-2, 2), (0, -2), (1, -2), (0, 0, -2, 1)]
)
def test_constant_pad_cuts_negative_widths_before_padding_as_torch(widths):
    """PyTorch narrows by the negative widths first: (-2, 2) on a dimension of 1 is refused
    though the padded size would be 1 (chainrule padded it)."""
    results = []
    for lib in (chainrule, torch):
        try:
            results.append(tuple(lib.nn.functional.pad(lib.ones(4, 2, 1), widths).shape))
        except RuntimeError as error:
            results.append("narrow(): length must be non-negative" in str(error))
    assert results[0] == results[1]


def test_pad_errors():
    x = chainrule.zeros(2, 3)
    with pytest.raises(ShapeError, match="divisible by 2"):
        chainrule.pad(x, (1,))
    with pytest.raises(ShapeError, match="padding length 6 and input of dimension 2"):
        chainrule.pad(x, (1,) * 6)
    with pytest.raises(ShapeError, match="Padding size should be less than the corresponding"):
        chainrule.pad(x, (3, 1), mode="reflect")
    with pytest.raises(ShapeError, match="wrapping around more than once"):
        chainrule.pad(x, (4, 0), mode="circular")
    with pytest.raises(ShapeError, match="narrow\\(\\): length must be non-negative"):
        chainrule.pad(x, (-2, -2))  # PyTorch's words: it cuts the negative widths off first
    with pytest.raises(ValueError, match="doesn't take in value"):
        chainrule.pad(x, (1, 1), mode="reflect", value=1.0)
    with pytest.raises(NotImplementedError, match="Unrecognised padding mode foo"):
        chainrule.pad(x, (1, 1), mode="foo")


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("ndim, pad_length", [(1, 2), (4, 2), (2, 4), (5, 4), (3, 6)])
def test_a_non_constant_pad_refuses_the_ranks_pytorch_has_no_kernel_for(mode, ndim, pad_length):
    """PyTorch pads n dimensions of an (n + 1)- or (n + 2)-dimensional input only."""
    for lib in (torch, chainrule):
        with pytest.raises(NotImplementedError, match=f"Padding size {pad_length} is not"):
            lib.nn.functional.pad(lib.ones((3,) * ndim), (1,) * pad_length, mode=mode)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize(
    "shape, pad",
    [
        ((1, 0, 4), (1, 1)),  # an empty channel dimension
        ((0, 4), (1, 1)),  # unbatched: nothing may be empty
        ((1, 2, 0), (0, 0)),  # the padded dimension empty
        ((1, 0, 3, 4), (1, 1, 1, 1)),
        ((0, 2, 4), (1, 1)),  # an empty batch is fine
        ((0, 1, 3, 4), (1, 1, 1, 1)),
    ],
)
def test_reflect_and_replicate_pads_allow_only_an_empty_batch_as_torch(mode, shape, pad):
    """PyTorch's reflection and replication kernels refuse an empty non-batch dimension
    (circular pads what it can); an empty batch pads to an empty result."""
    outcomes = []
    for lib in (torch, chainrule):
        try:
            outcomes.append(tuple(lib.nn.functional.pad(lib.zeros(shape), pad, mode=mode).shape))
        except RuntimeError as error:
            outcomes.append("non-zero dimensions" in str(error))
    assert outcomes[0] == outcomes[1]


# ---- x[key] -------------------------------------------------------------------------------------

BAD_KEYS = [
    ("int", lambda x, t: x[5]),
    ("negative_int", lambda x, t: x[-3]),
    ("second_dim", lambda x, t: x[0, 3]),
    ("index_tensor", lambda x, t: x[t.tensor([0, 5])]),
    ("index_tensor_negative", lambda x, t: x[:, t.tensor([-4])]),
    ("too_many", lambda x, t: x[0, 0, 0]),
    ("mask_shape", lambda x, t: x[t.tensor([True, False, True])]),
    ("float_index", lambda x, t: x[t.tensor([0.0])]),
    ("int16_index", lambda x, t: x[t.tensor([0], dtype=t.int16)]),
    ("0d", lambda x, t: x[0][0][0]),
]


@pytest.mark.parametrize("name, fn", BAD_KEYS, ids=[n for n, _ in BAD_KEYS])
def test_bad_keys_raise_index_error_like_pytorch(name, fn):
    mine, theirs = _pair(2, 3)
    with pytest.raises(IndexError) as expected:
        fn(theirs, torch)
    with pytest.raises(IndexError) as raised:
        fn(mine, chainrule)
    first_words = " ".join(str(expected.value).split()[:4])
    assert first_words in str(raised.value)


def test_slice_steps_must_be_positive_like_pytorch():
    x = chainrule.zeros(3)
    with pytest.raises(ValueError, match="step must be greater than zero"):
        x[::-1]
    with pytest.raises(ValueError, match="slice step cannot be zero"):
        x[::0]


def test_basic_indexing_gives_views_even_of_a_single_element():
    x = chainrule.zeros(2, 3)
    element = x[1, 2]
    assert element.shape == () and np.shares_memory(element.numpy(), x.numpy())
    element.fill_(5.0)
    x[0][1] = 7.0
    assert x.tolist() == [[0.0, 7.0, 0.0], [0.0, 0.0, 5.0]]
    assert x._version == 2


def test_advanced_indexing_copies():
    x = chainrule.zeros(2, 3)
    assert not np.shares_memory(x[[0]].numpy(), x.numpy())
    assert not np.shares_memory(x[x == 0].numpy(), x.numpy())


def test_uint8_masks_and_list_of_lists_keys_behave_like_pytorch():
    mine, theirs = _pair(2, 3)
    with pytest.warns(UserWarning, match="uint8"):
        selected = mine[chainrule.tensor([1, 0], dtype=chainrule.uint8)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _close(selected, theirs[torch.tensor([1, 0], dtype=torch.uint8)])
        expected = theirs[[[0, 1], [1, 0]]]
    with pytest.warns(UserWarning, match="non-tuple sequence"):
        _close(mine[[[0, 1], [1, 0]]], expected)
    _close(mine[[]], theirs[[]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _close(mine[[chainrule.tensor(1)]], theirs[[torch.tensor(1)]])


def test_repeated_indices_accumulate_gradients():
    x = chainrule.zeros(4, requires_grad=True)
    x[chainrule.tensor([0, 2, 0, 0])].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0, 0.0]


# ---- writes --------------------------------------------------------------------------------------


def test_setitem_on_a_non_leaf_records_its_history():
    a_mine, a_theirs = _pair(3, 2, requires_grad=True)
    v_mine, v_theirs = _pair(2, seed=1, requires_grad=True)
    results = []
    for a, v, lib in ((a_mine, v_mine, chainrule), (a_theirs, v_theirs, torch)):
        b = a * 2
        b[lib.tensor([2, 0])] = v  # value broadcast over the selected rows
        b[1, 0] = 4.0
        (b * b).sum().backward()
        results.append(b)
    # the last write, through ints, is PyTorch's CopySlices
    assert type(results[0].grad_fn).__name__ == type(results[1].grad_fn).__name__ == "CopySlices"
    _close(results[0], results[1])
    _close(a_mine.grad, a_theirs.grad)
    _close(v_mine.grad, v_theirs.grad)


def test_setitem_rules():
    leaf = chainrule.zeros(3, requires_grad=True)
    with pytest.raises(GradError, match="leaf Variable that requires grad"):
        leaf[0] = 1.0
    with chainrule.no_grad():
        leaf[0] = 1.0  # allowed outside the graph, as PyTorch
    assert leaf.tolist() == [1.0, 0.0, 0.0]
    x = chainrule.zeros(2, 3)
    with pytest.raises(ShapeError):
        x[[0, 1]] = chainrule.ones(3, 1)
    assert x.tolist() == [[0.0] * 3] * 2 and x._version == 0
    x[:, 1] = chainrule.tensor([1.0, 2.0], dtype=chainrule.float64)  # cast to x's dtype
    x[x == 0] = -1
    assert x.dtype is chainrule.float32
    assert x.tolist() == [[-1.0, 1.0, -1.0], [-1.0, 2.0, -1.0]]


def test_overwriting_a_saved_tensor_with_setitem_is_detected():
    a = chainrule.ones(3, requires_grad=True)
    b = a * 2
    c = b * b  # saves b
    b[0] = 5.0
    with pytest.raises(GradError, match="modified by an inplace operation"):
        c.sum().backward()


def test_index_put_accumulates_repeats():
    mine = chainrule.index_put(
        chainrule.zeros(3), (chainrule.tensor([0, 0, 2]),), chainrule.tensor(1.0), accumulate=True
    )
    assert mine.tolist() == [2.0, 0.0, 1.0]


def test_masked_fill_semantics_match_pytorch():
    mask_m, mask_t = chainrule.tensor([True, False, True]), torch.tensor([True, False, True])
    ints = chainrule.zeros(3, dtype=chainrule.int64).masked_fill(mask_m, chainrule.tensor(1.5))
    assert ints.dtype is chainrule.int64 and ints.tolist() == [1, 0, 1]
    wide = chainrule.zeros(3).masked_fill(chainrule.ones(2, 3, dtype=chainrule.bool), 1.0)
    assert wide.shape == tuple(
        torch.zeros(3).masked_fill(torch.ones(2, 3, dtype=torch.bool), 1.0).shape
    )
    with pytest.raises(DTypeError, match="only supports boolean masks"):
        chainrule.zeros(3).masked_fill(chainrule.ones(3), 1.0)
    with pytest.raises(ShapeError, match="0-dimensional value"):
        chainrule.zeros(3).masked_fill(mask_m, chainrule.ones(3))
    with pytest.raises(ShapeError):
        chainrule.zeros(3).masked_fill_(chainrule.ones(2, 3, dtype=chainrule.bool), 1.0)
    x = chainrule.zeros(3)
    x.masked_fill_(mask_m, 2.0)
    assert x.tolist() == torch.zeros(3).masked_fill_(mask_t, 2.0).tolist()


def test_nonzero_matches_pytorch_including_0d():
    for value in ([[1, 0], [0, 3]], [0, 2, 2], 5.0, 0.0, [[False]]):
        mine, theirs = chainrule.tensor(value), torch.tensor(value)
        assert chainrule.nonzero(mine).tolist() == torch.nonzero(theirs).tolist()
        assert chainrule.nonzero(mine).shape == tuple(torch.nonzero(theirs).shape)
        mine_tuple = chainrule.nonzero(mine, as_tuple=True)
        theirs_tuple = torch.nonzero(theirs, as_tuple=True)
        assert [t.tolist() for t in mine_tuple] == [t.tolist() for t in theirs_tuple]
        assert all(t.dtype is chainrule.int64 for t in mine_tuple)
    assert [t.tolist() for t in chainrule.where(chainrule.tensor([0, 1, 1]))] == [[1, 2]]


# ---- gather, scatter, index_select, index_add, take_along_dim ----------------------------------


def test_gather_scatter_errors():
    x = chainrule.zeros(2, 3)
    index = chainrule.tensor([[0, 1]])
    with pytest.raises(DTypeError, match="Expected dtype int32/int64 for index"):
        x.gather(1, index.float())
    with pytest.raises(ShapeError, match="same number of dimensions"):
        x.gather(1, chainrule.tensor([0, 1]))
    with pytest.raises(
        ShapeError, match=r"expected index \[3, 2\] to be no larger than self \[2, 3\]"
    ):
        x.gather(1, chainrule.zeros(3, 2, dtype=chainrule.int64))
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 1 with size 3"):
        x.gather(1, chainrule.tensor([[0, 5]]))
    with pytest.raises(IndexError, match="index -1 is out of bounds"):
        x.gather(1, chainrule.tensor([[-1]]))
    with pytest.raises(DTypeError, match="Expected self.dtype to be equal to src.dtype"):
        x.scatter(1, index, chainrule.ones(1, 2, dtype=chainrule.float64))
    with pytest.raises(ShapeError, match="no larger size than src"):
        x.scatter_add(1, index, chainrule.ones(1, 1))
    with pytest.raises(ValueError, match="add or multiply"):
        x.scatter(1, index, chainrule.ones(1, 2), reduce="mean")


def test_scatter_reduce_multiply_has_pytorchs_value_and_no_derivative():
    mine, theirs = _pair(2, 3, requires_grad=True)
    index_m, index_t = _index([[0, 0]])
    src_m, src_t = (
        chainrule.full((1, 2), 3.0, dtype=chainrule.float64),
        torch.full((1, 2), 3.0, dtype=torch.float64),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = torch.scatter(theirs, 1, index_t, src_t, reduce="multiply")
        added = torch.scatter(theirs, 1, index_t, src_t, reduce="add")
    out = chainrule.scatter(mine, 1, index_m, src_m, reduce="multiply")
    _close(out, expected)
    _close(chainrule.scatter(mine, 1, index_m, src_m, reduce="add"), added)
    with pytest.raises(GradError, match="not implemented"):
        out.sum().backward()


def test_index_select_and_index_add_errors():
    x = chainrule.zeros(2, 3)
    with pytest.raises(IndexError, match="Index is supposed to be a vector"):
        x.index_select(0, chainrule.tensor([[1]]))
    with pytest.raises(IndexError, match="index 2 is out of bounds"):
        x.index_select(0, chainrule.tensor([2]))
    with pytest.raises(IndexError, match="index -1 is out of bounds"):
        x.index_select(0, chainrule.tensor([-1]))
    with pytest.raises(DTypeError, match="int32/int64"):
        x.index_select(0, chainrule.tensor([True]))
    with pytest.raises(ShapeError, match=r"Got self.shape = \[2, 3\] source.shape = \[2, 4\]"):
        x.index_add(0, chainrule.tensor([1, 1]), chainrule.ones(2, 4))
    with pytest.raises(ShapeError, match=r"Number of indices \(2\) should be equal to source.size"):
        x.index_add(0, chainrule.tensor([1, 1]), chainrule.ones(3, 3))
    with pytest.raises(DTypeError, match="must have the same scalar type"):
        x.index_add(0, chainrule.tensor([1]), chainrule.ones(1, 3, dtype=chainrule.float64))
    with pytest.raises(ShapeError, match="same number of dimensions"):
        chainrule.take_along_dim(x, chainrule.tensor([0]), 1)


def test_inplace_forms_record_history_on_non_leaves():
    a_mine, a_theirs = _pair(3, 2, requires_grad=True)
    s_mine, s_theirs = _pair(2, 2, seed=1, requires_grad=True)
    i_mine, i_theirs = _index([[2, 0], [2, 2]])
    j_mine, j_theirs = _index([1, 1])
    for a, s, i, j in ((a_mine, s_mine, i_mine, j_mine), (a_theirs, s_theirs, i_theirs, j_theirs)):
        b = a * 1
        b.scatter_add_(0, i, s)
        b.index_add_(1, j, s[:1].expand(3, 2), alpha=2)
        b.scatter_(0, i[:1], s[1:] * 3)
        (b * b).sum().backward()
    _close(a_mine.grad, a_theirs.grad)
    _close(s_mine.grad, s_theirs.grad)


def test_zero_sized_indices():
    x = chainrule.ones(2, 3, requires_grad=True)
    empty = chainrule.zeros(0, 3, dtype=chainrule.int64)
    assert x.gather(0, empty).shape == (0, 3)
    assert x.scatter_add(0, empty, chainrule.ones(0, 3)).tolist() == [[1.0] * 3] * 2
    assert x.index_select(1, chainrule.zeros(0, dtype=chainrule.int64)).shape == (2, 0)
    assert x[chainrule.zeros(0, dtype=chainrule.int64)].shape == (0, 3)


# ---- each vjp's vjp is the op it transposes ------------------------------------------------------

VJP_OF_VJP = [
    ("gather", lambda lib, x, i: lib.gather(x, 1, i)),
    ("scatter_add", lambda lib, x, i: lib.scatter_add(x * 0, 1, i, x[:, [0, 1, 2, 3, 0]])),
    ("index_select", lambda lib, x, i: lib.index_select(x, 1, i[0])),
    ("index_add", lambda lib, x, i: lib.index_add(x, 1, i[0], x[:, [0, 1, 2, 3, 0]] * 2)),
    ("getitem", lambda lib, x, i: x[:, i[0]]),
    ("take_along_dim", lambda lib, x, i: lib.take_along_dim(x, i, 1)),
    ("cat", lambda lib, x, i: lib.cat([x, x[:, :2] * 3], 1)),
    ("stack", lambda lib, x, i: lib.stack([x, x * 2], 1)),
    ("split", lambda lib, x, i: lib.cat(lib.split(x, [1, 2, 1], 1)[::-1], 1)),
    ("unbind", lambda lib, x, i: lib.stack(lib.unbind(x, 1)[::-1], 0)),
    ("repeat", lambda lib, x, i: x.repeat(2, 1, 3)),
    ("flip_roll", lambda lib, x, i: lib.roll(lib.flip(x, (0,)), 2, 1)),
    (
        "pad_reflect",
        lambda lib, x, i: (lib.pad if lib is chainrule else F.pad)(x, (2, 3), mode="reflect"),
    ),
]


@pytest.mark.parametrize("name, fn", VJP_OF_VJP, ids=[n for n, _ in VJP_OF_VJP])
def test_vjp_is_differentiable_in_the_cotangent(name, fn):
    """d/dv <vjp(v), w> = J w: the vjp of the vjp (here in the cotangent v) is the op again."""
    grads = []
    for lib, tensor in ((chainrule, chainrule.tensor), (torch, torch.tensor)):
        rng = np.random.default_rng(3)
        x = tensor(rng.uniform(-1, 1, (3, 4)), requires_grad=True)
        index = tensor(np.array([[3, 0, 3, 1, 3], [0, 0, 2, 1, 3], [2, 2, 2, 2, 0]]))
        out = fn(lib, x, index)
        v = tensor(rng.standard_normal(tuple(out.shape)), requires_grad=True)
        (vjp,) = lib.autograd.grad(out, x, v, create_graph=True)
        w = tensor(rng.standard_normal((3, 4)))
        (jvp,) = lib.autograd.grad(vjp, v, w)
        grads.append(jvp)
    _close(grads[0], grads[1])


def test_grad_fn_names_match_pytorch():
    x_m, x_t = _pair(4, 3, requires_grad=True)
    i_m, i_t = _index([[0, 1, 0]])
    cases = [
        lambda lib, x, i: lib.cat([x, x]),
        lambda lib, x, i: lib.stack([x, x]),
        lambda lib, x, i: lib.split(x * 1, 2)[0],
        lambda lib, x, i: lib.unbind(x * 1)[0],
        lambda lib, x, i: lib.flip(x, (0,)),
        lambda lib, x, i: lib.roll(x, 1),
        lambda lib, x, i: x.repeat(2, 1),
        lambda lib, x, i: lib.gather(x, 0, i),
        lambda lib, x, i: lib.scatter_add(x, 0, i, x),
        lambda lib, x, i: lib.scatter(x, 0, i, x),
        lambda lib, x, i: lib.index_select(x, 0, i[0]),
        lambda lib, x, i: lib.index_add(x, 0, i[0], x[:3]),
        lambda lib, x, i: (lib.pad if lib is chainrule else F.pad)(x, (1, 1)),
        lambda lib, x, i: x.reshape(12),
        lambda lib, x, i: x[i],
        lambda lib, x, i: x.narrow(0, 1, 2),
        lambda lib, x, i: x.permute(1, 0),
        lambda lib, x, i: x.expand(2, 4, 3),
    ]
    for case in cases:
        mine = case(chainrule, x_m, i_m).grad_fn.name()
        theirs = case(torch, x_t, i_t).grad_fn.name()
        assert mine == theirs


JVPS = [
    ("flip", lambda x, y: chainrule.flip(x, (0,))),
    ("roll", lambda x, y: chainrule.roll(x, (1, 2), (0, 1))),
    ("roll_flat", lambda x, y: chainrule.roll(x, 5)),
    ("repeat", lambda x, y: x.repeat(2, 1, 2)),
    ("cat", lambda x, y: chainrule.cat([x, y])),
    ("stack", lambda x, y: chainrule.stack([x, y], 1)),
    ("split", lambda x, y: chainrule.split(x, [1, 2])),
    ("unbind", lambda x, y: chainrule.unbind(x, 1)),
    ("pad", lambda x, y: chainrule.pad(x, (1, -1, 2, 0))),
    ("gather", lambda x, y: chainrule.gather(x, 0, chainrule.tensor([[0, 2, 2, 1], [2, 2, 0, 0]]))),
    ("scatter_add", lambda x, y: chainrule.scatter_add(x, 0, chainrule.tensor([[0, 0, 2, 1]]), y)),
    ("scatter", lambda x, y: chainrule.scatter(x, 0, chainrule.tensor([[0, 1, 2, 0]]), y)),
    ("scatter_value", lambda x, y: chainrule.scatter(x, 1, chainrule.tensor([[0, 0]]), 2.0)),
    ("index_select", lambda x, y: chainrule.index_select(x, 1, chainrule.tensor([3, 3, 0]))),
    ("index_add", lambda x, y: chainrule.index_add(x, 0, chainrule.tensor([2, 2, 0]), y)),
    ("getitem", lambda x, y: x[chainrule.tensor([0, 0, 2])]),
    ("getitem_basic", lambda x, y: x[1:, None, 2]),
    ("index_put", lambda x, y: chainrule.index_put(x, (chainrule.tensor([0, 2, 1]),), y)),
    (
        "index_put_accumulate",
        lambda x, y: chainrule.index_put(x, (chainrule.tensor([0, 0, 1]),), y, True),
    ),
    ("sum_to", lambda x, y: chainrule.ops.shape.sum_to(x, (1, 4))),
    ("expand", lambda x, y: x.expand(2, 3, 4)),
    ("permute", lambda x, y: x.permute(1, 0)),
]


@pytest.mark.parametrize("name, fn", JVPS, ids=[n for n, _ in JVPS])
def test_jvp_agrees_with_vjp(name, fn):
    """<jvp(t), c> = <t, vjp(c)> for each op's jvp rule, called on its recorded node."""
    rng = np.random.default_rng(1)
    x = chainrule.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    y = chainrule.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    out = fn(x, y)
    outs = out if isinstance(out, tuple) else (out,)
    node = outs[0].grad_fn
    leaves = [x, y][: sum(edge is not None for edge in node.next_edges)]
    tangents = [chainrule.tensor(rng.standard_normal(t.shape)) for t in leaves]
    supplied = iter(tangents)
    tangent_out = node.op.jvp(node, *(next(supplied) if e else None for e in node.next_edges))
    tangent_outs = tangent_out if isinstance(tangent_out, tuple) else (tangent_out,)
    cotangents = [chainrule.tensor(rng.standard_normal(o.shape)) for o in outs]
    grads = chainrule.autograd.grad(list(outs), leaves, cotangents)
    forward = sum(float((t * c).sum()) for t, c in zip(tangent_outs, cotangents))
    backward = sum(float((g * t).sum()) for g, t in zip(grads, tangents))
    assert forward == pytest.approx(backward, rel=1e-10, abs=1e-12)


_A = np.arange(18.0).reshape(2, 3, 3)
_B = np.arange(144.0).reshape(6, 2, 3, 4)
MIXED_KEYS = [  # integers with advanced indices: PyTorch applies the integers first (issue 11)
    (_A, (0, slice(None), [0, 1, 2])),
    (_A, (0, slice(None), [0, 1])),
    (_A, (slice(None), 0, [0, 1])),
    (_A, (0, [0, 1], slice(None))),
    (_A, (0, [0, 1], [1, 2])),
    (_A, (0, [0, 0], [1, 1])),
    (_A, (0, None, slice(None), [0, 1])),
    (_A, (1, [True, False, True])),
    (_A, (0, True, [0, 2])),
    (_A, (Ellipsis, 0, [0, 1])),
    (_B, (slice(None), [0, 1], 0, [1, 2])),
    (_B, ([0, 1], 0, [1, 2])),
    (_B, (Ellipsis, [0, 1], 2)),
    (_B, (0, slice(None), 1, [[0, 1], [2, 3]])),
    (_B, (slice(None, 2), -2, [True, True, False], Ellipsis, [True, False, False, True])),
]


@pytest.mark.parametrize(
    "array, key", MIXED_KEYS, ids=lambda v: str(v) if isinstance(v, tuple) else ""
)
def test_integers_mixed_with_advanced_indices_follow_torch(array, key):
    rng = np.random.default_rng(0)
    x_t = torch.tensor(array, requires_grad=True)
    x_c = chainrule.tensor(array, requires_grad=True)
    y_t, y_c = x_t[key], x_c[key]
    assert tuple(y_c.shape) == tuple(y_t.shape)
    np.testing.assert_array_equal(y_c.detach().numpy(), y_t.detach().numpy())
    cotangent = rng.standard_normal(tuple(y_t.shape))
    (y_t * torch.tensor(cotangent)).sum().backward()
    (y_c * chainrule.tensor(cotangent)).sum().backward()
    np.testing.assert_allclose(x_c.grad.numpy(), x_t.grad.numpy())

    values = rng.standard_normal(tuple(y_t.shape))
    v_t = torch.tensor(values, requires_grad=True)
    v_c = chainrule.tensor(values, requires_grad=True)
    z_t, z_c = torch.tensor(array), chainrule.tensor(array)
    z_t[key] = v_t * 2
    z_c[key] = v_c * 2
    np.testing.assert_allclose(z_c.detach().numpy(), z_t.detach().numpy())
    (z_t * torch.tensor(array)).sum().backward()
    (z_c * chainrule.tensor(array)).sum().backward()
    np.testing.assert_allclose(v_c.grad.numpy(), v_t.grad.numpy())


def test_mixed_keys_under_vmap_follow_torch():

    batch = np.arange(72.0).reshape(4, 2, 3, 3)
    for f in (lambda x: x[0, :, [0, 1]], lambda x: x[:, 0, [0, 2]], lambda x: x[1, [0, 1], [1, 2]]):
        expected = tf.vmap(f)(torch.tensor(batch))
        actual = cf.vmap(f)(chainrule.tensor(batch))
        np.testing.assert_array_equal(actual.numpy(), expected.numpy())


def _random_key(rng: np.random.Generator, shape: tuple, lib) -> tuple:
    """A key of ints (either sign), slices, None, lists, tuples, ranges, index tensors and bool
    masks, with an Ellipsis one time in five, for an array of `shape`."""
    key, dim = [], 0
    for _ in range(rng.integers(1, 5)):
        if dim >= len(shape):
            break
        size = int(shape[dim])
        kinds = ["int", "negative", "slice", "list", "tuple", "range", "tensor", "mask", "none"]
        kind = rng.choice(kinds)
        if kind == "none":
            key.append(None)
            continue
        dim += 1
        if kind == "int":
            key.append(int(rng.integers(size)))
        elif kind == "negative":
            key.append(-int(rng.integers(1, size + 1)))
        elif kind == "slice":
            key.append(slice([None, 0, 1][rng.integers(3)], [None, size, 2][rng.integers(3)]))
        elif kind == "list":
            key.append([int(i) for i in rng.integers(size, size=2)])
        elif kind == "tuple":  # a tuple inside the key is a list of indices, as in PyTorch
            key.append(tuple(int(i) for i in rng.integers(size, size=2)))
        elif kind == "range":
            start = int(rng.integers(size - 1))
            key.append(range(start, start + 2))
        elif kind == "tensor":
            key.append(lib.tensor(rng.integers(size, size=2).tolist()))
        else:
            key.append(lib.tensor((rng.random(size) < 0.6).tolist()))
    if rng.random() < 0.2:
        key.insert(int(rng.integers(len(key) + 1)), Ellipsis)
    return tuple(key)


def test_random_mixed_keys_get_set_and_differentiate_as_torch():
    """300 random keys mixing every kind of index: value, gradient and assignment match."""
    assert chainrule.arange(6.0)[range(2, 4)].tolist() == [2.0, 3.0]  # a bare range, as torch
    shape = (4, 3, 5, 2)
    array = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    checked = 0
    for seed in range(300):
        key_t = _random_key(np.random.default_rng(seed), shape, torch)
        key_c = _random_key(np.random.default_rng(seed), shape, chainrule)
        x_t = torch.tensor(array, requires_grad=True)
        try:
            y_t = x_t[key_t]
        except IndexError:  # e.g. two masks that select different counts: refused alike
            with pytest.raises(IndexError):
                chainrule.tensor(array)[key_c]
            continue
        x_c = chainrule.tensor(array, requires_grad=True)
        y_c = x_c[key_c]
        assert tuple(y_c.shape) == tuple(y_t.shape), key_t
        np.testing.assert_array_equal(y_c.detach().numpy(), y_t.detach().numpy())
        values = np.random.default_rng(seed).standard_normal(tuple(y_t.shape))
        (y_t * torch.tensor(values)).sum().backward()
        (y_c * chainrule.tensor(values)).sum().backward()
        np.testing.assert_allclose(x_c.grad.numpy(), x_t.grad.numpy())
        z_t, z_c = torch.tensor(array), chainrule.tensor(array)
        z_t[key_t] = torch.tensor(values)
        z_c[key_c] = chainrule.tensor(values)
        np.testing.assert_array_equal(z_c.numpy(), z_t.numpy())
        checked += 1
    assert checked > 200


# ---- Tensor.unfold is a view ------------------------------------------------------------------


@pytest.mark.parametrize(("dim", "size", "step"), [(0, 2, 2), (1, 3, 1), (-1, 2, 3)])
def test_unfold_is_a_view_that_writes_through_as_in_pytorch(dim, size, step):
    results = []
    for lib in (chainrule, torch):
        x = lib.arange(35.0).reshape(5, 7).clone()
        windows = x.unfold(dim, size, step)
        windows[1] = -1.0  # overlapping windows share elements: the later write wins
        results.append((x, windows, windows.stride(), windows._base is x))
    (x, windows, strides, based), (x_t, windows_t, strides_t, based_t) = results
    _close(x, x_t)
    _close(windows, windows_t)
    assert strides == strides_t and based and based_t


def test_unfold_of_a_graph_tensor_refuses_in_place_writes_and_adds_overlaps_back():
    mine, theirs = _pair(2, 6, requires_grad=True)
    weights = np.random.default_rng(1).standard_normal((2, 4, 3))
    (mine.unfold(1, 3, 1) * chainrule.tensor(weights)).sum().backward()
    (theirs.unfold(1, 3, 1) * torch.tensor(weights)).sum().backward()
    _close(mine.grad, theirs.grad)
    windows = (mine * 1).unfold(1, 3, 2)
    with pytest.raises(ShapeError, match="overlap in memory"):
        windows.mul_(2)  # PyTorch runs it in memory order: element 2 is doubled twice
    apart = (mine * 1).unfold(1, 3, 3)  # windows that do not overlap are written through
    apart.mul_(2)
    assert apart.grad_fn.name() == "AsStridedBackward0"


# ---- scatter_reduce / index_reduce beyond the op specs ----------------------------------------


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin", "max", "min"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_on_integers_matches_pytorch(reduce, include_self):
    results = []
    for lib in (chainrule, torch):
        x = lib.tensor([[3, -7, 2], [0, 5, -1]], dtype=lib.int32)
        index = lib.tensor([[1, 1, 0], [1, 0, 0]])
        src = lib.tensor([[-3, 4, 9], [6, -5, 2]], dtype=lib.int32)
        results.append(x.scatter_reduce(0, index, src, reduce, include_self=include_self))
    mine, theirs = results
    assert mine.tolist() == theirs.tolist()  # integer 'mean' rounds down, as PyTorch


def test_scatter_reduce_in_place_and_index_reduce_match_pytorch():
    results = []
    for lib in (chainrule, torch):
        x = lib.zeros(3, 4)
        x.scatter_reduce_(1, lib.tensor([[0, 0], [1, 3], [3, 3]]), lib.ones(3, 2) * 2, "sum")
        y = lib.ones(3, 2)
        y.index_reduce_(0, lib.tensor([2, 0, 2]), lib.arange(6.0).reshape(3, 2), "amax")
        results.append((x, y))
    (x, y), (x_t, y_t) = results
    _close(x, x_t)
    _close(y, y_t)


def test_index_reduce_warns_once_that_it_is_beta_as_pytorch(monkeypatch):
    """PyTorch's TORCH_WARN_ONCE: the first index_reduce of a process says the op is beta
    (a ported program's stderr reads the same); later calls, in place or not, are silent."""
    monkeypatch.setattr(chainrule.errors, "_warned", set())
    x, index, source = chainrule.zeros(3), chainrule.tensor([0, 2]), chainrule.ones(2)
    with pytest.warns(UserWarning, match=r"^index_reduce\(\) is in beta and the API may change"):
        x.index_reduce(0, index, source, "amax")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        chainrule.index_reduce(x, 0, index, source, "amin")
        x.index_reduce_(0, index, source, "prod")


def test_reduce_names_outside_pytorchs_lists_are_refused():
    x, index = chainrule.zeros(3), chainrule.tensor([0, 1])
    with pytest.raises(ValueError, match="scatter_reduce: reduce argument must be one of"):
        x.scatter_reduce(0, index, chainrule.ones(2), "add")
    with pytest.raises(ValueError, match="index_reduce: reduce argument must be one of"):
        x.index_reduce(0, index, chainrule.ones(2), "sum")  # PyTorch has no index_reduce 'sum'


@pytest.mark.parametrize(
    "join",
    [
        lambda lib: lib.hstack([lib.tensor(1.0), lib.tensor([1.0, 2.0], dtype=lib.float16)]),
        lambda lib: lib.stack([lib.tensor(1.0), lib.tensor(2.0, dtype=lib.float16)]),
        lambda lib: lib.vstack([lib.tensor(1), lib.tensor([2.5], dtype=lib.float64)]),
        lambda lib: lib.column_stack([lib.tensor(1), lib.tensor([2.5], dtype=lib.float16)]),
    ],
)
def test_joining_promotes_zero_dim_tensors_like_any_other_as_torch(join):
    """hstack makes a 0-dim float32 a row before joining: float32 with float16 is float32
    (the 0-dim tier of binary ops does not apply)."""
    ours, theirs = join(chainrule), join(torch)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    assert ours.tolist() == theirs.tolist()


# ---- unique among signed zeros and NaN, as PyTorch's CPU sort leaves them ------------------------


@pytest.mark.parametrize(
    "values",
    [
        [3.0, 1.0, -0.0, 0.0, 1.0],
        [0.0, -0.0, 2.0],
        [-0.0, 0.0, 2.0],
        [0.0, -0.0] * 20 + [1.0, -0.0],
    ],
)
def test_unique_keeps_the_zero_torchs_sort_puts_first(values):
    mine, theirs = chainrule.tensor(values), torch.tensor(values)
    for sorted_ in (True, False):
        result = chainrule.unique(mine, sorted=sorted_, return_inverse=True, return_counts=True)
        expected = torch.unique(theirs, sorted=sorted_, return_inverse=True, return_counts=True)
        for got, want in zip(result, expected):
            assert [str(v) for v in got.tolist()] == [str(v) for v in want.tolist()]


@pytest.mark.parametrize(
    "rows",
    [
        [[0.0, 1.0], [-0.0, 1.0], [0.0, 1.0], [float("nan"), 2.0], [float("nan"), 2.0]],
        [[2.0, float("nan")], [1.0, 0.0], [2.0, float("nan")], [1.0, 0.0], [0.5, 3.0]],
        [[1.0, 2.0], [float("nan"), 0.0], [0.0, 5.0], [1.0, 2.0], [-1.0, 0.0]],
        [[-0.0, 1.0], [0.0, 1.0], [3.0, 1.0]],
    ],
)
def test_unique_along_a_dim_orders_and_groups_nan_and_signed_zero_slices_as_torch(rows):
    """Each NaN slice stays apart, a NaN compares neither way (the next element decides the
    order), and the slice standing for -0.0 and 0.0 is the first in PyTorch's sort order."""
    for dim, transform in ((0, lambda t: t), (1, lambda t: t.t())):
        mine, theirs = transform(chainrule.tensor(rows)), transform(torch.tensor(rows))
        result = chainrule.unique(mine, dim=dim, return_inverse=True, return_counts=True)
        expected = torch.unique(theirs, dim=dim, return_inverse=True, return_counts=True)
        assert str(result[0].tolist()) == str(expected[0].tolist())
        assert result[1].tolist() == expected[1].tolist()
        assert result[2].tolist() == expected[2].tolist()


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x: lib.unique(x),
        lambda lib, x: x.unique(return_counts=True)[0],
        lambda lib, x: lib.unique(x.view(4, 1), dim=0),
        lambda lib, x: lib.unique_consecutive(x, return_inverse=True)[0],
    ],
    ids=["unique", "unique_method", "unique_dim", "unique_consecutive"],
)
def test_unique_values_of_a_differentiated_input_are_in_the_graph_with_no_derivative(call):
    """As PyTorch's: the values require grad under its node's name (the inverse and counts
    do not), a backward through them raises NotImplementedError naming the op, and so does a
    tangent in forward mode."""
    outcomes = []
    for lib in (chainrule, torch):
        x = lib.tensor([1.0, 1.0, 3.0, 2.0], requires_grad=True)
        values = call(lib, x)
        with lib.no_grad():
            untracked = call(lib, x)
        with pytest.raises(NotImplementedError) as error:
            values.sum().backward()
        inverse = lib.unique_consecutive(x, return_inverse=True, return_counts=True)
        with lib.autograd.forward_ad.dual_level():  # no forward derivative either
            dual = lib.autograd.forward_ad.make_dual(x.detach(), lib.ones(4, dtype=x.dtype))
            with pytest.raises(NotImplementedError):
                call(lib, dual)
        outcomes.append(
            (
                values.requires_grad,
                values.grad_fn.name(),
                untracked.requires_grad,
                [t.requires_grad for t in inverse[1:]],
                str(error.value),
            )
        )
    assert outcomes[0] == outcomes[1]


def test_index_copy_with_a_repeated_index_keeps_the_last_slice_as_torch_cpu():
    values = np.random.default_rng(0).standard_normal((4, 5))
    source = np.random.default_rng(1).standard_normal((4, 3))
    results = []
    for lib in (chainrule, torch):
        x = lib.tensor(values, requires_grad=True)
        s = lib.tensor(source, requires_grad=True)
        out = x.index_copy(1, lib.tensor([3, 0, 3]), s)
        (out * lib.arange(20.0, dtype=lib.float64).reshape(4, 5)).sum().backward()
        results.append([t.detach().numpy() for t in (out, x.grad, s.grad)])
    for mine, expected in zip(*results):
        np.testing.assert_allclose(mine, expected)


@pytest.mark.parametrize("part", [None, slice(None), [1, 3]])
def test_index_put_takes_only_tensors_as_indices_as_torch(part):
    for lib in (chainrule, torch):
        with pytest.raises(TypeError, match="expected Tensor as element 0 in argument"):
            lib.index_put(lib.zeros(2, 4), (part, lib.tensor([1, 3])), lib.tensor(5.0))
