"""Reduction semantics the shared op checker does not reach: named results, dtypes, errors,
NaN and empty inputs, ties where torch's index choice is unspecified, zeros in products,
numerical stability, and conventions at kinks."""

import math
import warnings

import numpy as np
import pytest
import torch

import chainrule
from chainrule.errors import DTypeError, ShapeError


def pair(values, dtype=np.float64, requires_grad=True):
    """The same data as a chainrule and a torch tensor (float ones requiring grad)."""
    array = np.asarray(values, dtype=dtype)
    grad = requires_grad and array.dtype.kind == "f"
    mine = chainrule.from_numpy(array.copy()).requires_grad_(grad)
    theirs = torch.from_numpy(array.copy()).requires_grad_(grad)
    return mine, theirs


def close(mine, theirs, atol=1e-10):
    expected = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    np.testing.assert_allclose(np.asarray(mine.detach().numpy()), expected, atol=atol, rtol=1e-7)


# ---- named results -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, call",
    [
        ("max", lambda m, x: m.max(x, 1)),
        ("min", lambda m, x: m.min(x, 1)),
        ("sort", lambda m, x: m.sort(x, 1)),
        ("topk", lambda m, x: m.topk(x, 2)),
        ("kthvalue", lambda m, x: m.kthvalue(x, 2)),
        ("median", lambda m, x: m.median(x, 1)),
    ],
)
def test_value_index_results_are_named_tuples(name, call):
    x, t = pair([[3.0, 1.0, 2.0], [0.5, 4.0, -1.0]])
    result, expected = call(chainrule, x), call(torch, t)
    values, indices = result
    assert type(result).__name__ == name
    assert result.values is values and result.indices is indices
    assert result[0] is values and result[1] is indices
    assert indices.dtype == chainrule.int64
    close(values, expected.values)
    close(indices, expected.indices)


def test_max_and_min_with_a_tensor_are_elementwise():
    x, t = pair([1.0, 5.0, 3.0])
    y, u = pair([2.0, 4.0, 3.0])
    close(chainrule.max(x, y), torch.max(t, u))
    close(x.max(y), t.max(u))
    close(chainrule.max(x, other=y), torch.maximum(t, u))
    close(chainrule.min(x, y), torch.min(t, u))


def test_full_max_is_zero_dim():
    x, t = pair([[1.0, 7.0], [3.0, 2.0]])
    assert chainrule.max(x).shape == () and x.max().item() == 7.0
    assert x.min().item() == 1.0


# ---- dtypes --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda m, x: m.sum(x),
        lambda m, x: m.prod(x),
        lambda m, x: m.prod(x, 0),
        lambda m, x: m.cumsum(x, 0),
        lambda m, x: m.cumprod(x, 0),
        lambda m, x: m.cumsum(x, 0, dtype=m.int32),
        lambda m, x: m.cumprod(x, 0, dtype=m.float64),
        lambda m, x: m.all(x),
        lambda m, x: m.any(x, 0),
        lambda m, x: m.count_nonzero(x),
        lambda m, x: m.argmax(x),
        lambda m, x: m.amax(x),
        lambda m, x: m.max(x, 0).values,
        lambda m, x: m.sort(x).values,
        lambda m, x: m.logsumexp(x, 0),
        lambda m, x: m.median(x),
        lambda m, x: m.median(x, 0).values,
        lambda m, x: m.topk(x, 2).values,
        lambda m, x: m.kthvalue(x, 2).values,
        lambda m, x: m.argsort(x),
    ],
)
@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.bool_, np.uint8])
def test_result_dtypes_follow_torch(call, dtype):
    x, t = pair([1, 0, 3, 2], dtype=dtype)
    try:
        theirs = call(torch, t)
    except RuntimeError:
        with pytest.raises(DTypeError):
            call(chainrule, x)
        return
    mine = call(chainrule, x)
    assert mine.dtype.name == str(theirs.dtype).replace("torch.", "")
    close(mine, theirs, atol=1e-6)


def test_indices_are_int64_and_not_differentiable():
    x, _ = pair([[1.0, 2.0], [4.0, 3.0]])
    for indices in (chainrule.argmax(x, 1), chainrule.max(x, 1).indices, chainrule.argsort(x)):
        assert indices.dtype == chainrule.int64
        assert not indices.requires_grad


# ---- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda x: chainrule.max(x, 2), IndexError),
        (lambda x: chainrule.sum(x, (0, -2)), ShapeError),
        (lambda x: chainrule.softmax(x, -3), IndexError),
        (lambda x: chainrule.topk(x, 4), IndexError),
        (lambda x: chainrule.topk(x, -1), IndexError),
        (lambda x: chainrule.kthvalue(x, 0), IndexError),
        (lambda x: chainrule.kthvalue(x, 4, 1), IndexError),
        (lambda x: chainrule.prod(x, (0, 1)), TypeError),
        (lambda x: chainrule.var(x, 1, True, correction=0), ValueError),
        (lambda x: chainrule.norm(x, "fro", (0, 1, 0)), ShapeError),
        (lambda x: chainrule.var(x.to(chainrule.int64)), DTypeError),
        (lambda x: chainrule.std(x.to(chainrule.int64)), DTypeError),
        (lambda x: chainrule.softmax(x.to(chainrule.int64), 0), DTypeError),
        (lambda x: chainrule.vector_norm(x.to(chainrule.int64)), DTypeError),
    ],
)
def test_bad_arguments_raise_typed_errors(call, error):
    x, _ = pair([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=False)
    with pytest.raises(error):
        call(x)


@pytest.mark.parametrize(
    "call",
    [
        lambda lib, x: lib.quantile(x, 1.5),
        lambda lib, x: lib.quantile(x, -0.25),
        lambda lib, x: lib.quantile(x, lib.tensor([0.5, 1.5], dtype=lib.float64)),
        lambda lib, x: lib.nanquantile(x, lib.tensor([-0.5], dtype=lib.float64)),
        lambda lib, x: lib.quantile(x, 0.5, interpolation="foo"),
        lambda lib, x: lib.quantile(x, lib.tensor([0.5], dtype=lib.float32)),
        lambda lib, x: lib.quantile(x.to(lib.int64), 0.5),
    ],
)
def test_quantile_argument_errors_are_torchs_runtime_errors(call):
    """PyTorch raises RuntimeError for a q outside [0, 1], an unknown interpolation, a q of
    another dtype and an integer input: `except RuntimeError` must catch ours too."""
    mine, theirs = pair([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=False)
    with pytest.raises(RuntimeError) as expected:
        call(torch, theirs)
    with pytest.raises(RuntimeError) as raised:
        call(chainrule, mine)
    ours = str(raised.value).removeprefix("nan")  # torch names nanquantile "quantile()"
    assert ours.split(",")[0] == str(expected.value).split(",")[0]


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.histogram(lib.ones(3), 0),
        lambda lib: lib.histogram(lib.tensor([1.0, float("inf")]), 2),
        lambda lib: lib.histogram(lib.ones(3), 2, range=(1.0, 0.0)),
        lambda lib: lib.histogramdd(lib.ones(3, 2), bins=[2]),
        lambda lib: lib.histogramdd(lib.ones(3, 2), bins=2, range=[1.0, 0.0, 0.0, 1.0]),
    ],
)
def test_histogram_argument_errors_are_runtime_errors_as_in_torch(call):
    with pytest.raises(RuntimeError):
        call(torch)
    with pytest.raises(RuntimeError):
        call(chainrule)


def test_extremes_of_empty_inputs_raise():
    """PyTorch raises RuntimeError for max() and IndexError for argmax() and max(dim); the
    error is both (tests/test_torch_errors.py checks each against PyTorch)."""
    empty = chainrule.zeros(0, 3)
    with pytest.raises(RuntimeError, match="max"):
        chainrule.max(empty)
    with pytest.raises(IndexError, match="non-zero size"):
        chainrule.max(empty, 0)
    with pytest.raises(IndexError):
        chainrule.amax(empty, 0)
    with pytest.raises(IndexError):
        chainrule.argmax(empty)
    with pytest.raises(ShapeError):
        chainrule.vector_norm(empty, math.inf)
    assert chainrule.max(empty, 1).values.shape == (0,)
    assert chainrule.amax(empty, 1).shape == (0,)


def test_empty_inputs_follow_torch():
    x, t = pair(np.zeros((0, 3)))
    close(chainrule.logsumexp(x, 0), torch.logsumexp(t, 0))
    close(chainrule.prod(x), torch.prod(t))
    close(chainrule.sum(x, 0), torch.sum(t, 0))
    assert math.isnan(chainrule.median(x).item())
    assert chainrule.softmax(x, 0).shape == (0, 3)
    assert chainrule.sort(x, 0).values.shape == (0, 3)
    close(chainrule.vector_norm(x, 2, 0), torch.linalg.vector_norm(t, 2, 0))


# ---- ties where torch leaves the index unspecified -----------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda m, x: m.topk(x, 3, 1),
        lambda m, x: m.topk(x, 2, 0, largest=False),
        lambda m, x: m.topk(x, 4, 1, sorted=False),
        lambda m, x: m.topk(x, 3, 0, largest=False, sorted=False),
        lambda m, x: m.kthvalue(x, 3, 1),
        lambda m, x: m.kthvalue(x, 2, 0, keepdim=True),
        lambda m, x: m.median(x, 1),
        lambda m, x: m.median(x, 0, keepdim=True),
    ],
)
def test_ties_select_the_elements_torchs_cpu_kernels_select(call):
    """torch documents the index among equal values as unspecified, but its CPU kernels are
    deterministic (quickselect for kthvalue, nth_element / sort for topk, the first equal
    element for median): chainrule picks the same elements, in the same order (sorted=False
    too), and the gradient goes to exactly those."""
    data = np.random.default_rng(1).integers(0, 3, size=(5, 7)).astype(np.float64)
    x, t = pair(data)
    (values, indices), (expected_values, expected_indices) = call(chainrule, x), call(torch, t)
    close(values, expected_values)
    np.testing.assert_array_equal(indices.numpy(), expected_indices.numpy())
    weights = np.arange(values.numel(), dtype=np.float64).reshape(tuple(values.shape)) + 1
    (grad,) = chainrule.autograd.grad(values, x, chainrule.from_numpy(weights))
    (expected,) = torch.autograd.grad(expected_values, t, torch.from_numpy(weights))
    np.testing.assert_array_equal(grad.numpy(), expected.numpy())


def test_topk_and_kthvalue_ties_and_nans_fuzzed_against_torch():
    """Small integer values (many ties), NaNs (the largest, equal to each other), every k,
    both directions, sorted or not, short slices and long ones (topk's partial_sort for
    k * 64 <= n, and std::sort's introsort beyond 16 elements)."""
    rng = np.random.default_rng(0)
    for _ in range(200):
        n = int(rng.choice([rng.integers(1, 20), rng.integers(20, 200)]))
        data = rng.integers(0, int(rng.choice([2, 5, 100])), size=(3, n)).astype(np.float32)
        data[rng.random(data.shape) < 0.1] = np.nan
        k = int(rng.integers(0, (n if rng.random() < 0.5 else min(n, 2)) + 1))
        largest, is_sorted = bool(rng.random() < 0.5), bool(rng.random() < 0.5)
        ours = chainrule.topk(chainrule.tensor(data), k, largest=largest, sorted=is_sorted)
        theirs = torch.topk(torch.tensor(data), k, largest=largest, sorted=is_sorted)
        np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
        np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
        ours = chainrule.kthvalue(chainrule.tensor(data), max(k, 1))
        theirs = torch.kthvalue(torch.tensor(data), max(k, 1))
        np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())


def test_sort_is_stable_both_ways_with_nan_largest():
    data = [2.0, float("nan"), 1.0, 2.0, float("nan"), 1.0]
    x, t = pair(data)
    for descending in (False, True):
        mine = chainrule.sort(x, descending=descending)
        theirs = torch.sort(t, descending=descending, stable=True)
        close(mine.values, theirs.values)
        close(mine.indices, theirs.indices)
    close(chainrule.argmax(x), torch.argmax(t))
    close(chainrule.argmin(x), torch.argmin(t))


def test_nan_propagates_like_torch():
    data = [[1.0, float("nan"), 3.0, float("nan")], [2.0, 0.0, 5.0, 1.0]]
    x, t = pair(data)
    for call in (
        lambda m, v: m.max(v, 1),
        lambda m, v: m.median(v, 1),
        lambda m, v: m.kthvalue(v, 4, 1),
    ):
        mine, theirs = call(chainrule, x), call(torch, t)
        close(mine.values, theirs.values)
        close(mine.indices, theirs.indices)
    close(chainrule.median(x), torch.median(t))
    close(chainrule.amax(x, 1), torch.amax(t, 1))


@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_gradient_at_nan_extremes_follows_torch():
    data = [1.0, float("nan"), 3.0]
    for name in ("max", "amax"):
        x, t = pair(data)
        getattr(chainrule, name)(x).backward()
        getattr(torch, name)(t).backward()
        close(x.grad, t.grad)


def test_full_extremes_split_ties_evenly():
    x, t = pair([[2.0, 5.0, 5.0], [5.0, 1.0, 0.0]])
    for name in ("max", "amax"):
        x.grad = None
        getattr(chainrule, name)(x).backward()
        np.testing.assert_allclose(x.grad.numpy(), [[0, 1 / 3, 1 / 3], [1 / 3, 0, 0]])
    x, t = pair([1.0, 2.0, 2.0, 3.0])
    chainrule.median(x).backward()
    torch.median(t).backward()
    close(x.grad, t.grad)  # lower median 2, shared by two elements


def test_median_of_an_even_count_is_the_lower_one():
    x, t = pair([4.0, 1.0, 3.0, 2.0])
    assert chainrule.median(x).item() == 2.0 == torch.median(t).item()
    assert chainrule.median(x, 0).values.item() == 2.0


# ---- products with zeros -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [[2.0, 0.0, 3.0, -1.5], [0.0, 2.0, 0.0, 4.0], [0.0, 0.0, 0.0, 1.0], [5.0, 0.5, -2.0, 1.0]],
)
def test_prod_gradient_is_the_product_of_the_others(data):
    x, t = pair(data)
    chainrule.prod(x).backward()
    torch.prod(t).backward()
    close(x.grad, t.grad)
    others = [np.prod([v for j, v in enumerate(data) if j != i]) for i in range(len(data))]
    np.testing.assert_allclose(x.grad.numpy(), others)


def test_prod_second_derivative_with_two_zeros_is_exact():
    """d2 prod / dx_a dx_b = product of the rest, also when x_a = x_b = 0 (torch's full prod
    gives 0 there; its prod along a dim agrees with us)."""
    data = np.array([0.0, 2.0, 0.0, 3.0])
    x, t = pair(data)
    (grad,) = chainrule.autograd.grad(chainrule.prod(x), x, create_graph=True)
    hessian = np.stack(
        [chainrule.autograd.grad(grad[i], x, retain_graph=True)[0].numpy() for i in range(4)]
    )
    expected = np.zeros((4, 4))
    for a in range(4):
        for b in range(4):
            if a != b:
                expected[a, b] = np.prod([data[j] for j in range(4) if j not in (a, b)])
    np.testing.assert_allclose(hessian, expected)
    (grad_t,) = torch.autograd.grad(torch.prod(t.view(1, 4), 1).sum(), t, create_graph=True)
    hessian_t = np.stack(
        [torch.autograd.grad(grad_t[i], t, retain_graph=True)[0].numpy() for i in range(4)]
    )
    np.testing.assert_allclose(hessian_t, expected)


def test_cumprod_gradient_with_zeros_agrees_with_and_without_a_graph():
    data = np.array([[1.5, 0.0, 2.0, 0.0, -1.0], [0.0, 3.0, 0.5, 2.0, 1.0]])
    cotangent = np.random.default_rng(0).standard_normal(data.shape)
    x, t = pair(data)
    (torch_grad,) = torch.autograd.grad(torch.cumprod(t, 1), t, torch.from_numpy(cotangent))
    for create_graph in (False, True):
        (grad,) = chainrule.autograd.grad(
            chainrule.cumprod(x, 1), x, chainrule.from_numpy(cotangent), create_graph=create_graph
        )
        close(grad, torch_grad)


# ---- stability and conventions at kinks ----------------------------------------------------------


def test_logsumexp_is_stable_for_large_and_infinite_inputs():
    x, t = pair([[1000.0, 1000.0, 999.0], [-1000.0, -1001.0, -1000.0]])
    value = chainrule.logsumexp(x, 1)
    close(value, torch.logsumexp(t, 1))
    assert np.isfinite(value.detach().numpy()).all()
    value.sum().backward()
    torch.logsumexp(t, 1).sum().backward()
    close(x.grad, t.grad)
    infinite, t_infinite = pair([-math.inf, -math.inf], requires_grad=False)
    close(chainrule.logsumexp(infinite, 0), torch.logsumexp(t_infinite, 0))


def test_softmax_is_stable_for_large_inputs():
    x, t = pair([[1000.0, 0.0, -1000.0], [1e4, 1e4, 1e4]])
    close(chainrule.softmax(x, 1), torch.softmax(t, 1))
    close(chainrule.log_softmax(x, 1), torch.log_softmax(t, 1))
    assert np.isfinite(chainrule.log_softmax(x, 1).detach().numpy()).all()


def test_softmax_legacy_implicit_dim():
    x, t = pair(np.arange(6.0).reshape(2, 3))
    close(chainrule.softmax(x), torch.nn.functional.softmax(t, dim=1))


@pytest.mark.parametrize("length", [2, 3, 5, 7, 12])
@pytest.mark.parametrize("value", [2.0, 0.1, 1 / 3])
def test_std_gradient_is_zero_at_zero_variance(length, value):
    """Equal elements have exactly zero variance even where their mean rounds (torch's Welford
    update gives exact 0), and std's gradient is masked to 0 there."""
    x, t = pair(np.full((2, length), value))
    assert (chainrule.var(x, 1).detach().numpy() == 0).all()
    chainrule.std(x, 1).sum().backward()
    torch.std(t, 1).sum().backward()
    close(x.grad, t.grad)
    assert (x.grad.numpy() == 0).all()


@pytest.mark.parametrize("create_graph", [False, True])
def test_prod_of_everything_with_two_zeros_and_a_nan_differentiates_as_torch(create_graph):
    """Two zeros in a full product: PyTorch's gradient is exactly 0 (even beside a nan) when it
    is not differentiated again, the exclusive products (nan there) when it is; the second
    derivative stays exact."""
    results = []
    for lib in (chainrule, torch):
        x = lib.tensor([0.0, 0.0, 1.0, 0.5, float("nan"), 1.0, 0.5, -2.0], requires_grad=True)
        (grad,) = lib.autograd.grad(x.reshape(2, 2, 2).prod(), x, create_graph=create_graph)
        y = lib.tensor([0.0, 0.0, 1.0, 0.5], requires_grad=True)
        (first,) = lib.autograd.grad(y.prod(), y, create_graph=True)
        (second,) = lib.autograd.grad(first.sum(), y)
        results.append((np.nan_to_num(grad.detach().numpy(), nan=7.0).tolist(), second.tolist()))
    assert results[0] == results[1]


@pytest.mark.parametrize("values", [[1.0], [2.0 + 1.0j, 2.0 + 1.0j]], ids=["one", "equal"])
def test_complex_std_gradient_is_zero_at_zero_spread(values):
    """A complex std of zero spread has a zero gradient, as the real std's and PyTorch's (it
    was nan: the square root of the parts' summed variances at 0)."""
    grads = []
    for lib in (chainrule, torch):
        x = lib.tensor(values, dtype=lib.complex64, requires_grad=True)
        (grad,) = lib.autograd.grad(lib.std(x, correction=0), x)
        grads.append(grad.tolist())
    assert grads[0] == grads[1] == [0j] * len(values)


@pytest.mark.filterwarnings("ignore::UserWarning")  # torch warns that dof <= 0
def test_var_with_no_degrees_of_freedom_follows_torch():
    x, t = pair([1.0, 2.0])
    close(chainrule.var(x, correction=2), torch.var(t, correction=2))
    close(chainrule.var(x, correction=3), torch.var(t, correction=3))
    y, u = pair([3.0])
    close(chainrule.var(y), torch.var(u))


def test_two_norm_of_zero_has_zero_gradient():
    x, t = pair([0.0, 0.0, 0.0])
    chainrule.vector_norm(x).backward()
    torch.linalg.vector_norm(t).backward()
    close(x.grad, t.grad)


@pytest.mark.parametrize(
    ("order", "data"), [(2, [[0.0, 0.0], [1.0, -2.0]]), (0.5, [[0.0, 2.0], [-1.0, 0.0]])]
)
def test_norm_second_derivative_at_its_kinks_is_torchs_nan(order, data):
    """torch's norm_backward masks a division by zero (x / norm at a zero norm, |x|^(ord-1) at
    a zero element for ord < 1): the gradient is 0 there, and the second derivative nan."""
    x, t = pair(data)
    weights = np.array([[1.0, 2.0], [3.0, 4.0]])
    seconds = []
    for module, value in ((chainrule, x), (torch, t)):
        norm = chainrule.vector_norm if module is chainrule else torch.linalg.vector_norm
        (grad,) = module.autograd.grad(norm(value, order, 1).sum(), value, create_graph=True)
        (second,) = module.autograd.grad((grad * module.tensor(weights)).sum(), value)
        seconds.append(np.asarray(second.tolist()))
    assert np.isnan(seconds[1]).any()
    np.testing.assert_allclose(seconds[0], seconds[1], atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("order", [1, 0.5, -1, 3, math.inf])
def test_norm_gradients_at_zero_elements_follow_torch(order):
    x, t = pair([0.0, 2.0, -1.0, 0.0])
    chainrule.vector_norm(x, order).backward()
    torch.linalg.vector_norm(t, order).backward()
    close(x.grad, t.grad)


def test_zero_norm_has_no_gradient():
    x, _ = pair([1.0, 0.0, 2.0])
    chainrule.vector_norm(x, 0).backward()
    assert x.grad is None


def test_var_accepts_torch_calling_conventions():
    x, t = pair(np.arange(12.0).reshape(3, 4) ** 1.5)
    for call in (
        lambda m, v: m.var(v, True),
        lambda m, v: m.var(v, 1, False),
        lambda m, v: m.var(v, 1, True, True),
        lambda m, v: m.var(v, dim=(0, 1), correction=0, keepdim=True),
        lambda m, v: v.std(0, unbiased=False),
    ):
        close(call(chainrule, x), call(torch, t))


def test_all_any_on_empty_dim_tuple_reduce_nothing():
    x, t = pair([[1.0, 0.0], [2.0, 3.0]])
    close(chainrule.all(x, ()), torch.all(t, ()))
    close(chainrule.any(x, dim=()), torch.any(t, dim=()))
    close(chainrule.count_nonzero(x, ()), torch.count_nonzero(t, ()))


def test_selection_gradients_have_every_order():
    """Selections are linear in x: the second derivative is zero, and create_graph works."""
    x, _ = pair([[3.0, 1.0, 2.0], [0.0, 5.0, 4.0]])
    values = chainrule.sort(x, 1, descending=True).values
    (grad,) = chainrule.autograd.grad((values * values).sum(), x, create_graph=True)
    close(grad, 2 * x.detach())
    (second,) = chainrule.autograd.grad(grad.sum(), x)
    np.testing.assert_allclose(second.numpy(), np.full((2, 3), 2.0))


def test_logsumexp_hessian_matches_torch():
    data = np.random.default_rng(3).standard_normal((2, 4))
    x, t = pair(data)
    (grad,) = chainrule.autograd.grad(chainrule.logsumexp(x, 1).sum(), x, create_graph=True)
    (grad_t,) = torch.autograd.grad(torch.logsumexp(t, 1).sum(), t, create_graph=True)
    weights = np.random.default_rng(4).standard_normal((2, 4))
    (second,) = chainrule.autograd.grad(grad, x, chainrule.from_numpy(weights))
    (second_t,) = torch.autograd.grad(grad_t, t, torch.from_numpy(weights))
    close(second, second_t)


@pytest.mark.parametrize(
    "call",
    [
        lambda x: chainrule.sum(x, (0, 2), keepdim=True),
        lambda x: chainrule.mean(x, -1),
        lambda x: chainrule.amax(x, 1),
        lambda x: chainrule.amin(x, (0, 1), keepdim=True),
        lambda x: chainrule.max(x),
        lambda x: chainrule.logsumexp(x, 1),
        lambda x: chainrule.cumsum(x, -1),
        lambda x: chainrule.softmax(x, 1),
        lambda x: chainrule.log_softmax(x, 0),
        lambda x: chainrule.sort(x, 1, descending=True).values,
        lambda x: chainrule.topk(x, 2, 0).values,
    ],
)
def test_jvp_is_the_transpose_of_the_vjp(call):
    """<jvp(t), c> = <t, vjp(c)> for the ops that define a jvp (no forward-mode API yet, so the
    rule is called on the recorded node directly)."""
    rng = np.random.default_rng(5)
    x = chainrule.from_numpy(rng.standard_normal((3, 4, 2))).requires_grad_(True)
    out = call(x)
    node = out.grad_fn
    assert node.op.jvp is not None
    tangent = rng.standard_normal(x.shape)
    cotangent = rng.standard_normal(out.shape)
    with chainrule.no_grad():
        forward = node.op.jvp(node, chainrule.from_numpy(tangent.copy()))
    (backward,) = chainrule.autograd.grad(out, x, chainrule.from_numpy(cotangent.copy()))
    np.testing.assert_allclose(
        np.sum(forward.numpy() * cotangent), np.sum(tangent * backward.numpy()), rtol=1e-10
    )


NUMPY_NAMED = [
    "sum", "mean", "prod", "amax", "amin", "max", "min", "argmax", "argmin", "std", "var",
    "logsumexp", "cumsum", "cumprod", "softmax", "log_softmax", "all", "any", "median", "norm",
    "nansum", "nanmean", "count_nonzero", "sort", "argsort", "std_mean", "var_mean", "cummax",
    "cummin", "logcumsumexp", "nanmedian",
]  # fmt: skip


@pytest.mark.parametrize("name", NUMPY_NAMED)
def test_numpy_names_axis_and_keepdims_are_accepted_where_torch_accepts_them(name):
    """PyTorch takes NumPy's `axis=` and `keepdims=` for `dim=` and `keepdim=`."""
    values = np.random.default_rng(0).random((3, 4)).astype(np.float32)
    for options in ({"axis": 1}, {"axis": 0, "keepdims": True}):
        outcomes = []
        for lib in (torch, chainrule):
            try:
                result = getattr(lib, name)(lib.tensor(values), **options)
            except (TypeError, RuntimeError):
                outcomes.append(None)
                continue
            parts = result if isinstance(result, tuple) else (result,)
            outcomes.append([np.asarray(part.numpy(), dtype=float) for part in parts])
        assert (outcomes[0] is None) == (outcomes[1] is None), (name, options)
        for theirs, mine in zip(outcomes[0] or (), outcomes[1] or ()):
            np.testing.assert_allclose(mine, theirs, rtol=1e-6, err_msg=f"{name} {options}")
    if hasattr(torch.Tensor, name) and outcomes[0] is not None:  # the method too
        method = getattr(chainrule.tensor(values), name)(axis=0)
        expected = getattr(torch.tensor(values), name)(axis=0)
        first = method[0] if isinstance(method, tuple) else method
        reference = expected[0] if isinstance(expected, tuple) else expected
        np.testing.assert_allclose(first.numpy(), reference.numpy(), rtol=1e-6)


AXIS_ELSEWHERE = {
    "squeeze": lambda lib, t: lib.squeeze(t, axis=1),
    "unsqueeze": lambda lib, t: lib.unsqueeze(t, axis=0),
    "cat": lambda lib, t: lib.cat([t, t], axis=2),
    "stack": lambda lib, t: lib.stack([t, t], axis=1),
    "chunk": lambda lib, t: lib.chunk(t, 2, axis=2),
    "unbind": lambda lib, t: lib.unbind(t, axis=0),
    "diff": lambda lib, t: lib.diff(t, axis=2),
    "tensor_split": lambda lib, t: lib.tensor_split(t, 2, axis=2),
    "repeat_interleave": lambda lib, t: lib.repeat_interleave(t, 2, axis=0),
    "take_along_dim": lambda lib, t: lib.take_along_dim(t, lib.tensor([[[0]]]), axis=2),
    "squeeze (method)": lambda lib, t: t.squeeze(axis=1),
    "split (refused by torch)": lambda lib, t: lib.split(t, 2, axis=2),
    "unique (refused by torch)": lambda lib, t: lib.unique(lib.tensor([[1, 2], [1, 2]]), axis=0),
}


@pytest.mark.parametrize("name", sorted(AXIS_ELSEWHERE))
def test_axis_alias_outside_reductions_follows_torch(name):
    values = np.random.default_rng(0).random((3, 1, 4)).astype(np.float32)
    outcomes = []
    for lib in (torch, chainrule):
        try:
            result = AXIS_ELSEWHERE[name](lib, lib.tensor(values))
        except TypeError:
            outcomes.append(None)
            continue
        parts = result if isinstance(result, (tuple, list)) else (result,)
        outcomes.append([np.asarray(part.numpy()) for part in parts])
    assert (outcomes[0] is None) == (outcomes[1] is None)
    for theirs, mine in zip(outcomes[0] or (), outcomes[1] or ()):
        np.testing.assert_allclose(mine, theirs)


def test_statistics_of_nothing_are_nan_without_a_numpy_warning():
    """PyTorch returns nan for the mean, variance and standard deviation of an empty tensor
    (or along an empty dim), warning only that var's degrees of freedom are <= 0; NumPy's
    'Mean of empty slice' must not leak out of chainrule's ops."""
    cases = [
        lambda m: m.zeros(0).mean(),
        lambda m: m.zeros(0).var(),
        lambda m: m.zeros(0, 3).mean(0),
        lambda m: m.zeros(0, 3).std(0),
        lambda m: m.var_mean(m.zeros(0, 2), 0)[0],
    ]
    for case in cases:
        with warnings.catch_warnings(record=True) as mine_said:
            warnings.simplefilter("always")
            mine = case(chainrule)
        with warnings.catch_warnings(record=True) as torch_said:
            warnings.simplefilter("always")
            theirs = case(torch)
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
        # only PyTorch's own warning (var's degrees of freedom), never NumPy's
        said = [str(w.message).split(" (Triggered internally")[0] for w in torch_said]
        assert [str(w.message) for w in mine_said] == said


@pytest.mark.parametrize(
    "call",
    [
        lambda lib: lib.tensor([[3.0, 1.0], [1.0, 3.0]]).max(dim=1),
        lambda lib: lib.sort(lib.tensor([2, 1, 3]), descending=True),
        lambda lib: lib.tensor([1.0, 4.0, 2.0]).topk(2),
        lambda lib: lib.aminmax(lib.tensor([1.0, 4.0])),
        lambda lib: lib.frexp(lib.tensor([8.0, -3.0])),
        lambda lib: lib.linalg.qr(lib.eye(2)),
        lambda lib: lib.linalg.eigh(lib.eye(2)),
    ],
)
def test_named_results_print_as_torch_return_types(call):
    """`print(x.max(dim=1))` is common in tutorials: PyTorch prints one field a line."""
    ours = repr(call(chainrule)).replace("chainrule.", "torch.")
    assert ours == repr(call(torch))


@pytest.mark.parametrize(
    "a, b",
    [
        (([1.0, 2.0], "float32"), ([3, 4], "int8")),
        (([1, 2], "int64"), ([3.0, 4.5], "float32")),
        (([1.0, 2.0], "float16"), ([3.0, 4.0], "float32")),
    ],
)
def test_dist_promotes_its_operands_as_torch(a, b):
    def result(lib):
        x = lib.tensor(a[0], dtype=getattr(lib, a[1]))
        y = lib.tensor(b[0], dtype=getattr(lib, b[1]))
        return lib.dist(x, y, p=3)

    ours, theirs = result(chainrule), result(torch)
    assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
    assert ours.item() == pytest.approx(theirs.item(), rel=1e-3)


def test_dist_of_integers_is_refused_as_torch():
    with pytest.raises(RuntimeError):
        torch.dist(torch.tensor([1, 2]), torch.tensor([3, 4]))
    with pytest.raises(RuntimeError, match="dist"):
        chainrule.dist(chainrule.tensor([1, 2]), chainrule.tensor([3, 4]))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_softmax_rounds_once_as_torch(dtype):
    """PyTorch's half-precision softmax accumulates in float32 and rounds the result once
    (log_softmax too, where its exp and log may still differ from NumPy's by an ulp)."""
    values = np.linspace(-3.0, 2.0, 24).reshape(4, 6)
    ours = chainrule.tensor(values).to(getattr(chainrule, dtype))
    theirs = torch.tensor(values).to(getattr(torch, dtype))
    assert ours.softmax(1).float().tolist() == theirs.softmax(1).float().tolist()
    np.testing.assert_allclose(
        ours.log_softmax(1).float().numpy(), theirs.log_softmax(1).float().numpy(), rtol=1e-2
    )


def test_topk_by_partial_selection_takes_torchs_elements_in_torchs_order():
    """topk selects before it sorts (a partition, then the few candidates): over random rows
    with ties, NaN and integers, every k, both directions, sorted or not, the same values and
    indices as PyTorch's."""
    rng = np.random.default_rng(11)
    for trial in range(240):
        size = int(rng.integers(1, 200))
        k = int(rng.integers(0, size + 1)) if trial % 2 else int(rng.integers(0, size // 8 + 1))
        kind = trial % 4
        if kind == 0:
            values = rng.standard_normal((3, size)).astype(np.float32)
        elif kind == 1:
            values = rng.integers(0, 5, (3, size)).astype(np.float32)
        elif kind == 2:
            values = rng.integers(-3, 3, (3, size))
        else:
            values = rng.standard_normal((3, size))
            values[rng.random((3, size)) < 0.1] = np.nan
        for largest in (True, False):
            for ordered in (True, False):
                ours = chainrule.topk(chainrule.tensor(values), k, largest=largest, sorted=ordered)
                theirs = torch.topk(torch.tensor(values), k, largest=largest, sorted=ordered)
                np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
                np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())


# ---- out= on the selections ----------------------------------------------------------------------

_SELECTIONS_WITH_OUT = [
    ("sort", lambda m, x, **o: m.sort(x, 1, descending=True, **o)),
    ("topk", lambda m, x, **o: m.topk(x, 2, largest=False, **o)),
    ("kthvalue", lambda m, x, **o: m.kthvalue(x, 2, 1, **o)),
    ("max", lambda m, x, **o: m.max(x, 1, **o)),
    ("min", lambda m, x, **o: m.min(x, 1, keepdim=True, **o)),
    ("median", lambda m, x, **o: m.median(x, 1, **o)),
    ("nanmedian", lambda m, x, **o: m.nanmedian(x, 0, **o)),
    ("mode", lambda m, x, **o: m.mode(x, 1, **o)),
    ("cummax", lambda m, x, **o: m.cummax(x, 1, **o)),
    ("cummin", lambda m, x, **o: m.cummin(x, 0, **o)),
    ("aminmax", lambda m, x, **o: m.aminmax(x, dim=1, **o)),
]


@pytest.mark.parametrize(
    "name, call", _SELECTIONS_WITH_OUT, ids=[n for n, _ in _SELECTIONS_WITH_OUT]
)
def test_a_selection_writes_its_named_tuple_into_out_as_torch(name, call):
    values = [[3.0, 1.0, 2.0, 1.0], [0.0, -1.0, 5.0, 5.0], [float("nan"), 2.0, 2.0, 0.0]]
    mine, theirs = pair(values, np.float32, requires_grad=False)
    second_dtype = torch.float32 if name == "aminmax" else torch.int64
    torch_out = (torch.empty(0), torch.empty(0, dtype=second_dtype))
    my_out = (
        chainrule.empty(0),
        chainrule.empty(0, dtype=getattr(chainrule, str(second_dtype)[6:])),
    )
    expected = call(torch, theirs, out=torch_out)
    result = call(chainrule, mine, out=list(my_out))  # a list as well as a tuple, as torch
    assert type(result).__name__ == type(expected).__name__  # e.g. sort_out
    assert result[0] is my_out[0] and result[1] is my_out[1]
    for written, reference in zip(my_out, torch_out):
        np.testing.assert_array_equal(written.numpy(), reference.numpy())


def test_out_of_a_selection_must_have_each_results_exact_dtype_before_any_write():
    x = chainrule.tensor([[3.0, 1.0], [0.0, 2.0]])
    values, indices = chainrule.zeros(2), chainrule.zeros(2, dtype=chainrule.int32)
    with pytest.raises(RuntimeError, match="Expected out tensor to have dtype long int, but got"):
        chainrule.max(x, 1, out=(values, indices))
    assert values.tolist() == [0.0, 0.0]  # nothing written
    with pytest.raises(RuntimeError, match="dtype float, but got double instead"):
        chainrule.sort(x, out=(chainrule.empty(0, dtype=chainrule.float64), chainrule.empty(0)))
    with pytest.raises(TypeError, match="tuple of Tensors"):
        chainrule.sort(x, out=chainrule.empty(0))
    with pytest.raises(TypeError, match="dim"):  # torch has no out= form of median()
        chainrule.median(x, out=chainrule.empty(0))
    with pytest.raises(RuntimeError, match="don't support automatic differentiation"):
        chainrule.topk(x.requires_grad_(), 1, out=(chainrule.empty(0), chainrule.empty(0)))


def test_out_of_another_shape_is_resized_with_torchs_warning():
    x = chainrule.tensor([[3.0, 1.0, 2.0], [0.0, 2.0, 1.0]])
    values, indices = chainrule.zeros(5), chainrule.zeros(5, dtype=chainrule.int64)
    with pytest.warns(UserWarning, match="was resized"):
        chainrule.sort(x, out=(values, indices))
    assert values.shape == (2, 3) and indices.tolist() == [[1, 2, 0], [0, 2, 1]]


# ---- PyTorch's CPU order among ties: std::sort, signed zeros and NaN -----------------------------


def _tied_values(size, seed, nan=False):
    rng = np.random.default_rng(seed)
    values = rng.integers(-3, 4, size).astype(np.float32)
    values[values == 0] *= rng.choice([1.0, -1.0], int((values == 0).sum()))  # both zeros
    if nan:
        values[rng.integers(0, size, 2)] = np.nan
    return values


@pytest.mark.parametrize("size", [5, 17, 40, 300])
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("nan", [False, True])
def test_an_unstable_sort_orders_ties_as_torchs_std_sort(size, descending, nan):
    """torch.sort(stable=False) keeps ties in input order only up to 16 elements; past that its
    introsort's arrangement (of indices and of -0.0 and 0.0) is what programs print."""
    mine, theirs = pair(_tied_values(size, size, nan), np.float32)
    expected = torch.sort(theirs, descending=descending)
    result = chainrule.sort(mine, descending=descending)
    assert result.indices.tolist() == expected.indices.tolist()
    np.testing.assert_array_equal(
        np.signbit(result.values.detach().numpy()), np.signbit(expected.values.detach().numpy())
    )
    assert chainrule.argsort(mine, descending=descending).tolist() == expected.indices.tolist()
    stable = torch.sort(theirs, descending=descending, stable=True).indices.tolist()
    assert chainrule.sort(mine, descending=descending, stable=True).indices.tolist() == stable
    cotangent = np.random.default_rng(1).standard_normal(size).astype(np.float32)
    result.values.backward(chainrule.from_numpy(cotangent))
    expected.values.backward(torch.from_numpy(cotangent))
    close(mine.grad, theirs.grad)


@pytest.mark.parametrize(
    "values",
    [
        [float("nan"), 1.0, float("nan"), 1.0, float("nan")],
        [2.0, float("nan"), 1.0, 1.0],
        [float("nan"), -0.0, 0.0, float("nan"), -0.0, 3.0, 3.0],
        [0.0, -0.0, 0.0, -0.0, 1.0],
        list(_tied_values(40, 3)),
        list(_tied_values(40, 4, nan=True)),
    ],
)
def test_mode_picks_torchs_value_and_index_with_nan_and_signed_zeros(values):
    mine, theirs = pair(values, np.float32)
    result, expected = chainrule.mode(mine), torch.mode(theirs)
    assert result.indices.item() == expected.indices.item()
    assert str(result.values.item()) == str(expected.values.item())  # nan, -0.0 and 0.0 apart
    result.values.backward()
    expected.values.backward()
    close(mine.grad, theirs.grad)


@pytest.mark.parametrize(
    "values", [[-0.0, 0.0, -0.0, 2.0], [0.0, -0.0, 1.0], [float("nan"), -0.0, 0.0, -0.0, 5.0]]
)
def test_median_of_all_elements_keeps_torchs_signed_zero(values):
    mine, theirs = pair(values, np.float32)
    for name in ("median", "nanmedian"):
        result, expected = getattr(chainrule, name)(mine), getattr(torch, name)(theirs)
        assert str(result.item()) == str(expected.item()), name


# ---- segment_reduce ----------------------------------------------------------------------------


@pytest.mark.parametrize("reduce", ["sum", "mean", "prod", "max", "min", "amax", "amin"])
@pytest.mark.parametrize("initial", [None, 2.0])
def test_segment_reduce_matches_torch_with_empty_segments_ties_and_initial(reduce, initial):
    """Empty segments hold initial (else 0, NaN, 1, -inf, inf); a max or min's gradient is
    shared among the tied elements and none goes to them where initial wins."""
    mine, theirs = pair([2.0, 2.0, 3.0, 0.0, 5.0, 6.0, 1.0])
    lengths = [2, 0, 3, 1, 1]
    result = chainrule.segment_reduce(
        mine, reduce, lengths=chainrule.tensor(lengths), initial=initial
    )
    expected = torch.segment_reduce(theirs, reduce, lengths=torch.tensor(lengths), initial=initial)
    close(result, expected)
    assert type(result.grad_fn).__name__ == type(expected.grad_fn).__name__
    cotangent = [1.0, 2.0, 3.0, 4.0, 5.0]
    result.backward(chainrule.tensor(cotangent, dtype=chainrule.float64))
    expected.backward(torch.tensor(cotangent, dtype=torch.float64))
    close(mine.grad, theirs.grad)


def test_segment_reduce_checks_its_lengths_as_torch_unless_unsafe():
    data = chainrule.arange(7.0)
    with pytest.raises(RuntimeError, match="sum to data.size"):
        chainrule.segment_reduce(data, "sum", lengths=chainrule.tensor([2, 2]))
    with pytest.raises(RuntimeError, match="negative"):
        chainrule.segment_reduce(data, "sum", lengths=chainrule.tensor([8, -1]))
    with pytest.raises(NotImplementedError, match="not implemented for 'Float'"):
        chainrule.segment_reduce(data, "sum", lengths=chainrule.tensor([2.0, 5.0]))
    with pytest.raises(NotImplementedError, match="not implemented for 'Long'"):
        chainrule.segment_reduce(chainrule.arange(7), "sum", lengths=chainrule.tensor([7]))
    with pytest.raises(RuntimeError, match="got median"):
        chainrule.segment_reduce(data, "median", lengths=chainrule.tensor([7]))
    with pytest.raises(RuntimeError, match="Either lengths or offsets"):
        chainrule.segment_reduce(data, "sum")
    unsafe = chainrule.segment_reduce(data, "sum", lengths=chainrule.tensor([2, 2]), unsafe=True)
    assert unsafe.tolist() == [1.0, 5.0]  # the elements past the segments are left out


# ---- complex logcumsumexp ------------------------------------------------------------------------

INF, NAN = math.inf, math.nan


@pytest.mark.parametrize(
    "values",
    [
        # imaginary parts off the principal branch: the larger real part keeps its branch
        [1 + 5j, 2 + 7j, -800 + 1j, 3 - 10j],
        # a tie in the real part: the later element keeps its branch
        [1 + 2j, 1 + 8j, 1 - 3j],
        # -inf gives -inf + 0j (its phase is undetermined), +inf + inf is nan, nan spreads
        [complex(-INF, 2), complex(-INF, -1), 1 + 1j, complex(INF, 2), complex(INF, -1), 1],
        [1 + 1j, complex(1, NAN), 2 + 0j],
        [1000 + 1j, 1000 - 1j, -1000 + 0j],
    ],
)
def test_complex_logcumsumexp_takes_torchs_branch_and_special_values(values):
    mine = chainrule.logcumsumexp(chainrule.tensor(values, dtype=chainrule.complex128), 0)
    theirs = torch.logcumsumexp(torch.tensor(values, dtype=torch.complex128), 0)
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-12, atol=1e-12)


def test_complex_logcumsumexp_gradients_are_torchs_conjugate_convention():
    """Large real parts (700, past exp's float64 range) stay finite in the backward too; the
    gradient of a real loss and of a complex cotangent, and the second derivative, as torch's."""
    values = [[1 + 1j, 2 - 1j, -3 + 0.5j, 700 + 3j], [0.2j, 1 - 2j, 705 + 0j, -1 + 1j]]
    results = {}
    for lib in (chainrule, torch):
        z = lib.tensor(values, dtype=lib.complex128, requires_grad=True)
        out = lib.logcumsumexp(z, 1)
        cotangent = lib.tensor([[1 + 0.5j, -1j, 2, 0]] * 2, dtype=lib.complex128)
        (by_cotangent,) = lib.autograd.grad(out, z, cotangent, retain_graph=True)
        (of_loss,) = lib.autograd.grad(out.abs().pow(2).sum(), z, create_graph=True)
        (second,) = lib.autograd.grad(of_loss.abs().sum(), z)
        results[lib] = [
            t.detach().resolve_conj().numpy() for t in (out, by_cotangent, of_loss, second)
        ]
        assert out.grad_fn.name() == "LogcumsumexpBackward0"
    for mine, theirs in zip(results[chainrule], results[torch], strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=1e-9, atol=1e-12)
