"""Tensor methods real PyTorch programs call, each checked against torch by running both: the
in-place arithmetic of hand-written optimizers, the random fills (PyTorch's distributions,
parameter rules and errors, drawn from chainrule's generator), the in-place shape changes,
and the facts about a tensor that programs branch on."""

import warnings

import numpy as np
import pytest
import torch

import chainrule
from chainrule.errors import DTypeError, GradError


def _pair(array):
    return chainrule.tensor(array), torch.tensor(array)


def _same(ours, theirs, **tolerance):
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), **tolerance)


RNG = np.random.default_rng(0)
A, B, C = (RNG.standard_normal((3, 4)).astype(np.float32) for _ in range(3))
POSITIVE = RNG.uniform(0.5, 2.0, (3, 4)).astype(np.float32)
INTS = RNG.integers(-8, 9, (3, 4))
MORE_INTS = RNG.integers(0, 4, (3, 4))

# ---- in-place arithmetic: the same values as torch, written into self, self returned --------

IN_PLACE = [
    ("addcmul_", A, (B, C), {"value": 0.5}),
    ("addcdiv_", A, (B, POSITIVE), {"value": -2.0}),
    ("addmm_", A[:, :2].copy(), (B, C.T[:, :2].copy()), {"beta": 0.5, "alpha": 2.0}),
    ("addmv_", A[:, 0].copy(), (B, C[0]), {}),
    ("addr_", A, (B[:, 0].copy(), C[0]), {"alpha": 3.0}),
    ("baddbmm_", np.stack([A[:, :2]] * 2), (np.stack([B] * 2), np.stack([C.T[:, :2]] * 2)), {}),
    ("addbmm_", A[:, :2].copy(), (np.stack([B] * 2), np.stack([C.T[:, :2]] * 2)), {}),
    ("bitwise_and_", INTS, (MORE_INTS,), {}),
    ("bitwise_or_", INTS, (MORE_INTS,), {}),
    ("bitwise_xor_", INTS, (MORE_INTS,), {}),
    ("bitwise_not_", INTS, (), {}),
    ("bitwise_left_shift_", INTS, (MORE_INTS,), {}),
    ("bitwise_right_shift_", INTS, (MORE_INTS,), {}),
    ("fix_", A * 4, (), {}),
    ("greater_equal_", A, (B,), {}),
    ("less_equal_", A, (B,), {}),
    ("not_equal_", A, (np.where(RNG.random((3, 4)) < 0.5, A, B),), {}),
    ("heaviside_", np.round(A), (B,), {}),
    ("float_power_", POSITIVE.astype(np.float64), (A.astype(np.float64),), {}),
    ("renorm_", A, (2, 0, 1.0), {}),
    ("fill_diagonal_", A, (5.0,), {"wrap": True}),
]


@pytest.mark.parametrize(
    ("name", "self_value", "args", "kwargs"),
    IN_PLACE,
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_in_place_methods_write_torchs_values_into_self(name, self_value, args, kwargs):
    ours, theirs = _pair(self_value)
    our_args = [chainrule.tensor(a) if isinstance(a, np.ndarray) else a for a in args]
    their_args = [torch.tensor(a) if isinstance(a, np.ndarray) else a for a in args]
    result = getattr(ours, name)(*our_args, **kwargs)
    getattr(theirs, name)(*their_args, **kwargs)
    assert result is ours
    assert ours._version == 1
    _same(ours, theirs, rtol=1e-5, atol=1e-6)


def test_a_hand_written_adam_step_moves_parameters_as_torchs():
    """The update research code writes: lerp_, mul_, addcmul_, addcdiv_ on optimizer state,
    under no_grad, on a Parameter."""
    results = []
    for lib in (chainrule, torch):
        p = lib.nn.Parameter(lib.tensor(A))
        grad = lib.tensor(B)
        exp_avg, exp_avg_sq = lib.zeros_like(p), lib.zeros_like(p)
        with lib.no_grad():
            for _ in range(3):
                exp_avg.lerp_(grad, 0.1)
                exp_avg_sq.mul_(0.999).addcmul_(grad, grad, value=0.001)
                p.addcdiv_(exp_avg, exp_avg_sq.sqrt().add_(1e-8), value=-0.01)
        results.append(p.detach().numpy())
    np.testing.assert_allclose(*results, rtol=1e-6)


def test_in_place_methods_refuse_what_torch_refuses():
    with pytest.raises(DTypeError, match="float_power_ has dtype float32"):
        chainrule.ones(3).float_power_(2)
    with pytest.raises(DTypeError):
        chainrule.ones(3).bitwise_and_(1)
    with pytest.raises(GradError, match="leaf Variable that requires grad"):
        chainrule.ones(3, requires_grad=True).addcmul_(chainrule.ones(3), chainrule.ones(3))
    with pytest.raises(TypeError, match="must be Number, not Tensor"):
        chainrule.zeros(3, 3).fill_diagonal_(chainrule.tensor(1.0))
    with pytest.raises(RuntimeError, match="all dimensions of input must be of equal length"):
        chainrule.zeros(2, 3, 2).fill_diagonal_(1)
    with pytest.raises(RuntimeError, match="dimensions must larger than 1"):
        chainrule.zeros(3).fill_diagonal_(1)


@pytest.mark.parametrize(("p", "maxnorm"), [(0, 1.0), (-1, 1.0), (2, -1.0)])
def test_renorm_refuses_a_bad_norm_or_bound(p, maxnorm):
    with pytest.raises(RuntimeError):
        chainrule.ones(2, 2).renorm(p, 0, maxnorm)
    with pytest.raises(RuntimeError):
        torch.ones(2, 2).renorm(p, 0, maxnorm)


def test_renorm_needs_two_dimensions():
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        chainrule.ones(3).renorm(2, 0, 1.0)


# ---- random fills ----------------------------------------------------------------------------

DISTRIBUTIONS = [
    # name, args, (mean, variance) of the distribution (None: not finite)
    ("exponential_", (), (1.0, 1.0)),
    ("exponential_", (4.0,), (0.25, 1 / 16)),
    ("geometric_", (0.25,), (4.0, 0.75 / 0.25**2)),
    ("log_normal_", (0.0, 0.5), (np.exp(0.125), (np.exp(0.25) - 1) * np.exp(0.25))),
    ("cauchy_", (1.0, 2.0), None),
]


@pytest.mark.parametrize("dtype", [chainrule.float32, chainrule.float64])
@pytest.mark.parametrize(("name", "args", "moments"), DISTRIBUTIONS, ids=lambda v: str(v))
def test_random_fills_draw_from_torchs_distribution(name, args, moments, dtype):
    chainrule.manual_seed(0)
    x = chainrule.empty(200_000, dtype=dtype)
    assert getattr(x, name)(*args) is x
    assert x.dtype == dtype
    values = x.double().numpy()
    if moments is None:  # Cauchy: no mean; its median and quartiles are median -+ sigma
        median, sigma = args
        quartiles = np.quantile(values, [0.25, 0.5, 0.75])
        np.testing.assert_allclose(quartiles, [median - sigma, median, median + sigma], atol=0.05)
        return
    mean, variance = moments
    assert values.mean() == pytest.approx(mean, rel=0.02)
    assert values.var() == pytest.approx(variance, rel=0.05)


def test_geometric_counts_trials_from_one_and_fills_integers_too():
    chainrule.manual_seed(1)
    counts = chainrule.zeros(50_000, dtype=chainrule.int64).geometric_(0.5)
    values = counts.numpy()
    assert values.min() == 1
    assert (values == 1).mean() == pytest.approx(0.5, abs=0.01)


def test_random_fills_use_chainrules_generator():
    first = chainrule.empty(5).exponential_(generator=chainrule.Generator().manual_seed(3))
    again = chainrule.empty(5).exponential_(generator=chainrule.Generator().manual_seed(3))
    assert chainrule.equal(first, again)
    chainrule.manual_seed(4)
    a = chainrule.empty(5).cauchy_()
    chainrule.manual_seed(4)
    assert chainrule.equal(a, chainrule.empty(5).cauchy_())


@pytest.mark.parametrize(
    ("dtype", "bounds", "low", "high"),
    [
        (chainrule.float32, (), 0, 2**24),
        (chainrule.float16, (), 0, 2**11),
        (chainrule.int8, (), 0, 127),
        (chainrule.uint8, (), 0, 255),
        (chainrule.bool, (), 0, 1),
        (chainrule.float32, (10,), 0, 9),
        (chainrule.int64, (-5, 0), -5, -1),
        (chainrule.float64, (3, 7), 3, 6),
    ],
    ids=str,
)
def test_random_draws_integers_in_torchs_ranges(dtype, bounds, low, high):
    chainrule.manual_seed(0)
    values = chainrule.zeros(20_000, dtype=dtype).random_(*bounds).double().numpy()
    assert values.min() >= low and values.max() <= high
    assert np.array_equal(values, np.round(values))
    span = high - low + 1
    if span <= 256:  # small ranges: every value turns up
        assert len(np.unique(values)) == span


def test_random_on_int64_spans_the_whole_positive_range():
    chainrule.manual_seed(0)
    values = chainrule.zeros(1000, dtype=chainrule.int64).random_().numpy()
    assert values.min() >= 0 and values.max() > 2**62


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda lib: lib.zeros(3).exponential_(0), RuntimeError),
        (lambda lib: lib.zeros(3).exponential_(-1), RuntimeError),
        (lambda lib: lib.zeros(3, dtype=lib.int64).exponential_(), RuntimeError),
        (lambda lib: lib.zeros(3).geometric_(0), RuntimeError),
        (lambda lib: lib.zeros(3).geometric_(1), RuntimeError),
        (lambda lib: lib.zeros(3).log_normal_(1, 0), RuntimeError),
        (lambda lib: lib.zeros(3, dtype=lib.int32).log_normal_(), NotImplementedError),
        (lambda lib: lib.zeros(3).cauchy_(0, -1), RuntimeError),
        (lambda lib: lib.zeros(3, dtype=lib.int32).cauchy_(), RuntimeError),
        (lambda lib: lib.zeros(3, dtype=lib.complex64).random_(), NotImplementedError),
        (lambda lib: lib.zeros(3).random_(5, 5), RuntimeError),
        (lambda lib: lib.zeros(3, dtype=lib.uint8).random_(-5, 0), RuntimeError),
        (lambda lib: lib.zeros(3, dtype=lib.uint8).random_(0, 300), RuntimeError),
        (lambda lib: lib.zeros(3, requires_grad=True).exponential_(), RuntimeError),
    ],
)
def test_random_fills_refuse_what_torch_refuses(make, error):
    with pytest.raises(error):
        make(torch)
    with pytest.raises(error):
        make(chainrule)


def test_a_random_fill_cuts_the_old_history_with_a_zero_gradient():
    w = chainrule.ones(3, requires_grad=True)
    y = w * 2
    y.exponential_()
    y.sum().backward()
    assert chainrule.equal(w.grad, chainrule.zeros(3))  # as torch's ExponentialBackward


# ---- in-place shape changes ---------------------------------------------------------------


def test_in_place_shape_changes_take_torchs_shapes_and_strides():
    ours, theirs = _pair(np.arange(6.0, dtype=np.float32).reshape(2, 3))
    for name, args in [
        ("unsqueeze_", (0,)),
        ("squeeze_", (0,)),
        ("t_", ()),
        ("transpose_", (0, 1)),
        ("swapdims_", (1, 0)),
        ("swapaxes_", (0, 1)),
        ("unsqueeze_", (-1,)),
        ("squeeze_", ()),
    ]:
        assert getattr(ours, name)(*args) is ours
        getattr(theirs, name)(*args)
        assert ours.stride() == theirs.stride()
        _same(ours, theirs)
    assert ours._version == theirs._version == 8


def test_as_strided_in_place_views_the_same_memory():
    ours = chainrule.arange(6.0)
    ours.as_strided_((2, 2), (1, 2), 1)
    assert chainrule.equal(ours, torch_like(torch.arange(6.0).as_strided_((2, 2), (1, 2), 1)))


def torch_like(tensor):
    return chainrule.tensor(tensor.numpy())


def test_an_in_place_shape_change_keeps_the_gradient_flowing():
    a = chainrule.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = a * 2
    b.unsqueeze_(0).t_()
    assert b.shape == (3, 1)
    (b * chainrule.tensor([[1.0], [2.0], [3.0]])).sum().backward()
    assert a.grad.tolist() == [2.0, 4.0, 6.0]


def test_a_graph_tensor_reshaped_in_place_under_no_grad_still_backpropagates():
    """PyTorch keeps the old history and sums its gradient to shape: the same numbers."""
    grads = []
    for lib in (chainrule, torch):
        a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        b = a * 2
        with lib.no_grad():
            b.unsqueeze_(0)
        assert tuple(b.shape) == (1, 3)
        (b * lib.tensor([[1.0, 2.0, 3.0]])).sum().backward()
        grads.append(a.grad.tolist())
    assert grads[0] == grads[1]


def test_in_place_shape_changes_refuse_a_leaf_that_requires_grad_and_t_refuses_3d():
    with pytest.raises(GradError, match="leaf Variable"):
        chainrule.ones(3, requires_grad=True).unsqueeze_(0)
    with pytest.raises(RuntimeError):
        chainrule.ones(2, 2, 2).t_()


def test_a_view_reshaped_in_place_still_writes_its_base():
    base = chainrule.zeros(2, 3)
    row = base[1]
    row.unsqueeze_(0)
    row.fill_(7.0)
    assert base.tolist() == [[0.0] * 3, [7.0] * 3]


@pytest.mark.parametrize("sizes", [(2, 3), (2, 2), (8,), (0,)])
def test_resize_keeps_the_leading_elements_as_torch(sizes):
    ours, theirs = _pair(np.arange(6.0, dtype=np.float32))
    ours.resize_(*sizes)
    theirs.resize_(*sizes)
    kept = min(6, int(np.prod(sizes)))
    assert tuple(ours.shape) == sizes
    np.testing.assert_array_equal(
        ours.reshape(-1)[:kept].numpy(), theirs.reshape(-1)[:kept].numpy()
    )


def _set_into(lib):
    """What set_ leaves: the memory shared both ways, the shape and strides taken, a strided
    view of the source's memory, the empty form, and the version counters."""
    source = lib.arange(4.0)
    x = lib.zeros(1)
    returned = x.set_(source)
    x[0] = 7.0
    shared = (returned is x, source.tolist(), x._version, source._version, x._base is None)
    view = lib.zeros(1).set_(source.view(2, 2).t())
    strided = lib.zeros(1).set_(source, 1, (2, 1), (1, 1))
    strided[1, 0] = -1.0
    empty = lib.ones(3, dtype=lib.float64).set_()
    layout = (view.tolist(), view.stride(), strided.tolist(), source.tolist())
    return shared, layout, (tuple(empty.shape), str(empty.dtype).split(".")[1])


def test_set_takes_the_sources_memory_as_torchs():
    assert _set_into(chainrule) == _set_into(torch)


def test_set_refuses_as_torchs():
    """A leaf that requires grad in grad mode (under no_grad it takes the memory and keeps
    requiring grad), and a source of another dtype; a source that requires grad has no
    derivative (PyTorch's backward raises; here set_ refuses at once)."""
    for lib in (chainrule, torch):
        leaf = lib.zeros(2, requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            leaf.set_(lib.ones(3))
        with lib.no_grad():
            leaf.set_(lib.ones(3))
        assert leaf.requires_grad and leaf.tolist() == [1.0, 1.0, 1.0]
        with pytest.raises(RuntimeError, match="Could not set tensor of type"):
            lib.zeros(1).set_(lib.arange(3))
    with pytest.raises(GradError, match="derivative for set_ is not implemented"):
        chainrule.zeros(2).set_(chainrule.ones(2, requires_grad=True))


def test_resize_as_and_the_grad_refusal():
    x = chainrule.arange(6.0)
    assert x.resize_as_(chainrule.ones(3, 2)).shape == (3, 2)
    with pytest.raises(RuntimeError, match="cannot resize variables that require grad"):
        chainrule.ones(3, requires_grad=True).resize_(2)


# ---- more methods over existing ops --------------------------------------------------------


def test_legacy_linear_algebra_methods_return_torchs_forms():
    x = RNG.standard_normal((4, 3))
    ours, theirs = _pair(x)
    u, s, v = ours.svd()
    tu, ts, tv = theirs.svd()
    _same(s, ts, rtol=1e-6)
    _same(u @ chainrule.diag(s) @ v.mT, theirs, atol=1e-10)  # V, not V^H
    assert tuple(ours.svd(some=False).U.shape) == tuple(theirs.svd(some=False).U.shape)
    no_uv = ours.svd(compute_uv=False)
    assert not no_uv.U.any() and not no_uv.V.any()
    q, r = ours.qr(some=False)
    assert q.shape == (4, 4) and r.shape == (4, 3)
    square = chainrule.tensor(RNG.standard_normal((3, 3)))
    factors, pivots, info = square.lu(get_infos=True)
    rhs = chainrule.tensor(RNG.standard_normal((3, 2)))
    np.testing.assert_allclose((square @ rhs.lu_solve(factors, pivots)).numpy(), rhs.numpy())
    assert info.item() == 0 and pivots.dtype == chainrule.int32
    spd = square @ square.mT + chainrule.eye(3, dtype=chainrule.float64)
    _same(spd.cholesky(upper=True), torch.tensor(spd.numpy()).cholesky(upper=True))
    _same(ours.pinverse(), theirs.pinverse(), atol=1e-10)
    _same(square.matrix_exp(), torch.tensor(square.numpy()).matrix_exp(), rtol=1e-10)


def test_methods_over_existing_ops_match_torch():
    ours, theirs = _pair(A)
    _same(ours.hardshrink(0.3), theirs.hardshrink(0.3))
    _same(ours.prelu(chainrule.tensor([0.2])), theirs.prelu(torch.tensor([0.2])))
    _same(ours.cov(), theirs.cov(), rtol=1e-5)
    _same(ours.corrcoef(), theirs.corrcoef(), rtol=1e-5)
    _same(ours.narrow_copy(1, 1, 2), theirs.narrow_copy(1, 1, 2))
    for mine, reference in zip(
        ours.split_with_sizes([1, 3], 1), theirs.split_with_sizes([1, 3], 1)
    ):
        _same(mine, reference)
    for mine, reference in zip(ours.unsafe_chunk(2, 1), theirs.unsafe_chunk(2, 1)):
        _same(mine, reference)
    _same(ours.cfloat(), theirs.cfloat())
    _same(ours.cdouble(), theirs.cdouble())
    with pytest.raises(RuntimeError, match="split_with_sizes expects split_sizes to sum"):
        ours.split_with_sizes([1, 2], 1)


@pytest.mark.parametrize(("size", "fill_value"), [(2, -1), (5, -1), (6, 7)])
def test_nonzero_static_pads_or_cuts_as_torch(size, fill_value):
    ours, theirs = _pair(np.array([[1, 2], [0, 3]]))
    _same(
        ours.nonzero_static(size=size, fill_value=fill_value),
        theirs.nonzero_static(size=size, fill_value=fill_value),
    )


def test_new_is_torchs_legacy_constructor_with_this_dtype():
    x = chainrule.zeros(2, dtype=chainrule.float64)
    assert x.new([1, 2]).dtype == chainrule.float64
    assert x.new(2, 3).shape == (2, 3)
    assert x.new().shape == (0,)
    assert x.new(chainrule.Size([4])).shape == (4,)
    other = chainrule.ones(2, dtype=chainrule.float64)
    assert x.new(other) is other
    with pytest.raises(TypeError):
        x.new(chainrule.ones(2, dtype=chainrule.int64))


def _filled_with_a_half(tensor):
    tensor.detach().fill_(0.5)  # through a detached alias: the leaf stays a leaf
    return tensor


NEW_MAKERS = {
    "new_zeros": lambda x, **kw: x.new_zeros(3, **kw),
    "new_ones": lambda x, **kw: x.new_ones((3,), **kw),
    "new_empty": lambda x, **kw: _filled_with_a_half(x.new_empty(size=(3,), **kw)),
    "new_full": lambda x, **kw: x.new_full((3,), 2.0, **kw),
    "new_tensor": lambda x, **kw: x.new_tensor([1.0, -1.0, 0.0], **kw),
}


@pytest.mark.parametrize("make", NEW_MAKERS.values(), ids=NEW_MAKERS.keys())
def test_new_tensors_take_requires_grad_dtype_and_device_as_torch(make):
    """`delta = x.new_zeros(x.shape, requires_grad=True)` (an adversarial perturbation) is a
    leaf that requires grad and collects its gradient; dtype= and device= override this
    tensor's (requires_grad was ignored)."""
    results = []
    for lib in (chainrule, torch):
        x = lib.tensor([0.5, -2.0, 3.0], dtype=lib.float64)
        delta = make(x, requires_grad=True)
        assert delta.requires_grad and delta.is_leaf and delta.dtype == lib.float64
        ((x + delta) ** 2).sum().backward()
        other = make(x, dtype=lib.float32, device="cpu")
        assert other.dtype == lib.float32 and not other.requires_grad
        results.append((delta.grad.numpy(), other.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_array_equal(ours, theirs)


def test_new_empty_strided_has_the_strides_and_this_dtype():
    y = chainrule.zeros(1, dtype=chainrule.float64).new_empty_strided((2, 3), (1, 2))
    assert y.stride() == (1, 2) and y.dtype == chainrule.float64


# ---- facts about a tensor ------------------------------------------------------------------

FACTS = [
    lambda lib: lib.ones(2).is_cpu,
    lambda lib: [
        lib.ones(1, dtype=d).is_signed()
        for d in (lib.float32, lib.int64, lib.uint8, lib.bool, lib.complex64)
    ],
    lambda lib: lib.tensor([0.0]).is_nonzero(),
    lambda lib: lib.tensor([2]).is_nonzero(),
    lambda lib: lib.ones(2, 3).is_same_size(lib.ones(2, 3)),
    lambda lib: lib.ones(2, 3).is_same_size(lib.ones(3, 2)),
    lambda lib: lib.ones(2).get_device(),
    lambda lib: lib.ones(2, 3, 4).permute(2, 0, 1).dim_order(),
    lambda lib: lib.ones(2, 1, 4).dim_order(),
    lambda lib: lib.ones(2).max(0)[1].output_nr,
    lambda lib: lib.ones(2).is_inference(),
    lambda lib: lib.ones(2).is_neg(),
    lambda lib: lib.ones(2).is_pinned(),
    lambda lib: lib.ones(2).is_distributed(),
    lambda lib: [lib.ones(2).is_sparse, lib.ones(2).is_quantized, lib.ones(2).is_nested],
    lambda lib: [lib.ones(2).is_mps, lib.ones(2).is_xpu, lib.ones(2).is_xla, lib.ones(2).is_mkldnn],
    lambda lib: str(lib.ones(2).layout).split(".")[-1],
    lambda lib: lib.ones(2).to_dense().tolist(),
]


@pytest.mark.parametrize("fact", FACTS)
def test_facts_about_a_tensor_are_torchs(fact):
    assert fact(chainrule) == fact(torch)


@pytest.mark.parametrize("values", [[], [1.0, 2.0]])
def test_is_nonzero_refuses_all_but_one_element(values):
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with"):
        chainrule.tensor(values).is_nonzero()


def test_share_memory_marks_the_tensor_shared_and_returns_it():
    x = chainrule.ones(2)
    assert not x.is_shared()
    assert x.share_memory_() is x
    assert x.is_shared()


def test_pin_memory_is_harmless_on_the_host():
    x = chainrule.ones(2)
    assert x.pin_memory() is x
    assert x.const_data_ptr() == x.data_ptr()
    x.record_stream(None)
    assert x.is_set_to(x) and not x.is_set_to(x.clone())


def test_as_subclass_aliases_the_tensor_and_keeps_its_gradient_path():
    class Marked(chainrule.Tensor):
        pass

    leaf = chainrule.tensor([1.0, 2.0], requires_grad=True)
    marked = leaf.as_subclass(Marked)
    assert type(marked) is Marked and marked.requires_grad
    (marked * 3).sum().backward()
    assert leaf.grad.tolist() == [3.0, 3.0]
    with chainrule.no_grad():
        marked.mul_(2)  # the same memory
    assert leaf.tolist() == [2.0, 4.0]
    with pytest.raises(TypeError, match="does not inherit from Tensor"):
        leaf.as_subclass(int)


def test_the_deprecated_scalar_first_overloads_older_optimizers_use_still_work():
    """`p.data.add_(-lr, grad)`, `exp_avg_sq.mul_(b2).addcmul_(1 - b2, g, g)` and
    `p.addcdiv_(-step, m, denom)`: PyTorch 2 still takes them, with a deprecation warning
    (once per process; chainrule's, a UserWarning, once per calling line)."""
    results = []
    for lib in (chainrule, torch):
        p, g, m = lib.tensor(A), lib.tensor(B), lib.tensor(POSITIVE)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            p.add_(-0.1, g)
            p.sub_(0.5, g)
            m.mul_(0.9).addcmul_(0.1, g, g)
            p.addcdiv_(-0.01, g, m.sqrt())
        if lib is chainrule:
            said = [str(w.message).splitlines()[0] for w in caught]
            assert said == [
                f"This overload of {name} is deprecated:"
                for name in ("add_", "sub_", "addcmul_", "addcdiv_")
            ]
        results.append(p.numpy())
    np.testing.assert_allclose(*results, rtol=1e-6)


def test_a_tensor_in_the_scalars_place_is_refused():
    with pytest.raises(TypeError):
        chainrule.zeros(2).addcmul_(chainrule.ones(2), chainrule.ones(2), chainrule.ones(2))
