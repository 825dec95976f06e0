"""The `*_copy` functions (torch.view_copy, torch.permute_copy, ...): PyTorch's values, shapes
and row-major strides, memory of their own (a write to the copy leaves the input alone), the
view's gradient, and `out=`."""

import numpy as np
import pytest
import torch

import chainrule

# name -> (input shape, the call's arguments after the input, keyword arguments)
CASES = {
    "alias_copy": ((2, 3), (), {}),
    "as_strided_copy": ((2, 3), ((2, 2), (1, 2)), {"storage_offset": 1}),
    "diagonal_copy": ((3, 4), (), {"offset": 1}),
    "expand_copy": ((3, 1), ((2, 3, 4),), {}),
    "narrow_copy": ((4, 3), (0, 1, 2), {}),
    "permute_copy": ((2, 3, 4), (), {"dims": (2, 0, 1)}),
    "select_copy": ((3, 4), (1, -1), {}),
    "slice_copy": ((5, 4), (0, 1, 5, 2), {}),
    "squeeze_copy": ((1, 3, 1), (), {"dim": (0, 2)}),
    "t_copy": ((2, 3), (), {}),
    "transpose_copy": ((2, 3, 4), (0, 2), {}),
    "unfold_copy": ((2, 7), (1, 3, 2), {}),
    "unsqueeze_copy": ((2, 3), (1,), {}),
    "view_copy": ((2, 6), ((3, 4),), {}),
}
SPLITTING = {
    "split_copy": ((5, 2), (2,), {}),
    "split_with_sizes_copy": ((5, 2), ([1, 4],), {}),
    "unbind_copy": ((3, 2), (1,), {}),
}


def _inputs(shape):
    values = np.random.default_rng(7).standard_normal(shape)
    return (
        chainrule.tensor(values, requires_grad=True),
        torch.tensor(values, requires_grad=True),
    )


def _weights(shape):
    return np.random.default_rng(8).standard_normal(shape)


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_copy_has_the_views_values_its_own_row_major_memory_and_the_views_gradient(name):
    shape, args, kwargs = CASES[name]
    ours, theirs = _inputs(shape)
    result = getattr(chainrule, name)(ours, *args, **kwargs)
    expected = getattr(torch, name)(theirs, *args, **kwargs)
    np.testing.assert_allclose(result.detach().numpy(), expected.detach().numpy())
    assert result.shape == expected.shape
    assert result.stride() == expected.stride()
    weights = _weights(tuple(expected.shape))
    (result * chainrule.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy())
    before = ours.detach().numpy().copy()
    with chainrule.no_grad():
        result.fill_(100.0)
    np.testing.assert_array_equal(ours.detach().numpy(), before)


@pytest.mark.parametrize("name", sorted(SPLITTING))
def test_the_splitting_copies_return_a_tuple_of_fresh_pieces(name):
    shape, args, kwargs = SPLITTING[name]
    ours, theirs = _inputs(shape)
    results = getattr(chainrule, name)(ours, *args, **kwargs)
    expected = getattr(torch, name)(theirs, *args, **kwargs)
    assert isinstance(results, tuple) and len(results) == len(expected)
    loss_ours = loss_theirs = 0
    for k, (result, piece) in enumerate(zip(results, expected)):
        np.testing.assert_allclose(result.detach().numpy(), piece.detach().numpy())
        assert result.stride() == piece.stride()
        loss_ours = loss_ours + (k + 1) * result.sum()
        loss_theirs = loss_theirs + (k + 1) * piece.sum()
    loss_ours.backward()
    loss_theirs.backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy())


def test_view_copy_reshapes_a_tensor_no_view_could_show():
    values = np.arange(6.0).reshape(2, 3)
    ours = chainrule.view_copy(chainrule.tensor(values).t(), (6,))
    theirs = torch.view_copy(torch.tensor(values).t(), (6,))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_view_copy_to_a_dtype_follows_the_dtype_views_rules():
    values = np.arange(8.0, dtype=np.float32).reshape(2, 4)
    ours = chainrule.view_copy(chainrule.tensor(values), chainrule.int32)
    theirs = torch.view_copy(torch.tensor(values), torch.int32)
    assert ours.dtype == chainrule.int32
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    with pytest.raises(RuntimeError):
        chainrule.view_copy(chainrule.ones(2, 3), chainrule.int64)
    with pytest.raises(RuntimeError):
        torch.view_copy(torch.ones(2, 3), torch.int64)


def test_out_takes_the_copy_and_refuses_another_dtype():
    source = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    out = chainrule.empty(0)
    returned = chainrule.t_copy(chainrule.tensor(source), out=out)
    assert returned is out
    np.testing.assert_array_equal(out.numpy(), source.T)
    with pytest.raises(RuntimeError):
        chainrule.t_copy(
            chainrule.tensor(source), out=chainrule.empty(3, 2, dtype=chainrule.float64)
        )
    with pytest.raises(RuntimeError):
        torch.t_copy(torch.tensor(source), out=torch.empty(3, 2, dtype=torch.float64))


def test_the_splitting_copies_write_a_list_of_outs():
    source = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    outs = [chainrule.empty(1, 3), chainrule.empty(1, 3)]
    assert chainrule.split_copy(chainrule.tensor(source), 1, out=outs) is None
    theirs = [torch.empty(1, 3), torch.empty(1, 3)]
    torch.split_copy(torch.tensor(source), 1, out=theirs)
    for ours, expected in zip(outs, theirs):
        np.testing.assert_array_equal(ours.numpy(), expected.numpy())


def test_detach_copy_is_a_copy_outside_the_graph():
    x = chainrule.ones(2, requires_grad=True)
    copy = chainrule.detach_copy(x)
    assert not copy.requires_grad
    np.testing.assert_array_equal(copy.numpy(), [1.0, 1.0])


def test_a_copy_has_second_derivatives():
    ours, theirs = _inputs((3, 2))
    grads = []
    for library, x in ((chainrule, ours), (torch, theirs)):
        y = library.permute_copy(x, (1, 0)) ** 3
        (first,) = library.autograd.grad(y.sum(), x, create_graph=True)
        (second,) = library.autograd.grad(first.sum(), x)
        grads.append(second.detach().numpy())
    np.testing.assert_allclose(*grads)
