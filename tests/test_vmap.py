"""chainrule.func.vmap against torch.func.vmap: the same function, written once for both
libraries, mapped over the same inputs; per-sample gradients; nesting; in_dims / out_dims;
randomness; the fallback for ops without a batching rule; PyTorch's error messages."""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF  # noqa: N812
from torch.func import grad as torch_grad
from torch.func import hessian as torch_hessian
from torch.func import jacfwd as torch_jacfwd
from torch.func import jacrev as torch_jacrev
from torch.func import jvp as torch_jvp
from torch.func import vmap as torch_vmap

import chainrule
import chainrule.nn.functional as CF  # noqa: N812
from chainrule.autograd import graph
from chainrule.func import grad, hessian, jacfwd, jacrev, jvp
from chainrule.func.vmap import vmap

# vmap batches op by op through the observers' `intercept` hook (autograd/graph.py); without
# it, vmap still gives the right values by calling the function once per example.
BATCHING = hasattr(graph.Observer, "intercept")
needs_batching = pytest.mark.skipif(not BATCHING, reason="needs Observer.intercept")

B = 3


def _array(rng: np.random.Generator, spec: tuple) -> np.ndarray:
    kind, shape = spec[0], spec[1]
    if kind == "f":
        return rng.standard_normal(shape)
    if kind == "pos":
        return rng.uniform(0.5, 2.0, shape)
    if kind == "i":
        return rng.integers(0, spec[2], shape)
    if kind == "b":
        return rng.random(shape) < 0.5
    raise ValueError(kind)


def _compare(ours: object, theirs: object, atol: float = 1e-9) -> None:
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, (tuple, list)) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _compare(a, b, atol)
        return
    if isinstance(theirs, dict):
        assert set(ours) == set(theirs)
        for key in theirs:
            _compare(ours[key], theirs[key], atol)
        return
    expected = theirs.detach().numpy()
    actual = ours.detach().numpy()
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    assert actual.dtype.kind == expected.dtype.kind or expected.dtype == np.float32
    np.testing.assert_allclose(actual, expected, rtol=1e-7, atol=atol)


def _run_both(function, specs, in_dims=0, out_dims=0, seed=0, **kwargs):
    rng = np.random.default_rng(seed)
    arrays = [_array(rng, spec) for spec in specs]
    ours = vmap(
        lambda *a: function(chainrule, CF, *a), in_dims=in_dims, out_dims=out_dims, **kwargs
    )(*[chainrule.tensor(a) for a in arrays])
    theirs = torch_vmap(
        lambda *a: function(torch, TF, *a), in_dims=in_dims, out_dims=out_dims, **kwargs
    )(*[torch.tensor(a) for a in arrays])
    return ours, theirs


F = ("f", (B, 3, 4))  # a batch of 3x4 examples
# (name, function(lib, functional, *inputs), input specs (batch first unless in_dims says), in_dims)
CASES = [
    # elementwise, with broadcasting between batched and shared operands
    ("add_shared", lambda lib, nnf, x, y: x + y * 2 - 1, [F, ("f", (4,))], (0, None)),
    ("binary_batched", lambda lib, nnf, x, y: x * y / (y.abs() + 1), [F, ("f", (B, 1))], 0),
    ("shared_higher_rank", lambda lib, nnf, x, y: x - y, [("f", (B, 4)), ("f", (3, 4))], (0, None)),
    ("scalar_example", lambda lib, nnf, x, y: x * y, [("f", (B,)), ("f", (2, 3))], (0, None)),
    (
        "unary_chain",
        lambda lib, nnf, x: (x.abs() + 0.5).log().exp().sin().cos().tanh().sigmoid().sqrt(),
        [F],
        0,
    ),
    ("pow", lambda lib, nnf, x: x.abs() ** 1.5 + 2**x + x**2, [F], 0),
    ("where", lambda lib, nnf, x, y: lib.where(x > 0, x, y), [F, ("f", (4,))], (0, None)),
    ("clamp", lambda lib, nnf, x: x.clamp(-0.5, 0.5), [F], 0),
    ("clamp_tensor", lambda lib, nnf, x, y: lib.clamp(x, min=y), [F, ("f", (4,))], (0, None)),
    ("compare", lambda lib, nnf, x, y: (x > y) & (x < 1) | (x == x), [F, ("f", (4,))], (0, None)),
    ("maximum", lambda lib, nnf, x, y: lib.maximum(x, y), [F, ("f", (B, 4))], 0),
    ("lerp", lambda lib, nnf, x, y: lib.lerp(x, y, 0.3), [F, ("f", (4,))], (0, None)),
    ("cast", lambda lib, nnf, x: (x * 10).long().double(), [F], 0),
    (
        "activations",
        lambda lib, nnf, x: (
            nnf.relu(x)
            + nnf.gelu(x)
            + nnf.silu(x)
            + nnf.softplus(x)
            + nnf.leaky_relu(x, 0.1)
            + nnf.elu(x)
            + nnf.hardtanh(x)
            + nnf.logsigmoid(x)
            + nnf.mish(x)
            + nnf.hardswish(x)
        ),
        [F],
        0,
    ),
    # reductions, dims in per-example terms
    ("sum_dim", lambda lib, nnf, x: x.sum(-1) + x.sum(0).sum(), [F], 0),
    ("sum_all_keepdim", lambda lib, nnf, x: x.sum((0, 1), keepdim=True), [F], 0),
    (
        "mean_var_std",
        lambda lib, nnf, x: x.mean(0) + x.var(1).sum() + x.std(0, unbiased=False),
        [F],
        0,
    ),
    ("prod", lambda lib, nnf, x: x.prod(1) + x.prod(), [F], 0),
    ("amax_amin", lambda lib, nnf, x: x.amax(0) - x.amin(-1, keepdim=True), [F], 0),
    ("max_dim", lambda lib, nnf, x: tuple(x.max(1)), [F], 0),
    ("min_dim_keepdim", lambda lib, nnf, x: tuple(x.min(0, keepdim=True)), [F], 0),
    ("max_all", lambda lib, nnf, x: x.max(), [F], 0),
    ("argmax", lambda lib, nnf, x: (x.argmax(), x.argmax(1), x.argmin(0, keepdim=True)), [F], 0),
    ("softmax", lambda lib, nnf, x: nnf.softmax(x, -1) + nnf.log_softmax(x, 0), [F], 0),
    ("logsumexp", lambda lib, nnf, x: lib.logsumexp(x, 1) + lib.logsumexp(x, (0, 1)), [F], 0),
    ("cumsum_cumprod", lambda lib, nnf, x: x.cumsum(1) + x.cumprod(0), [F], 0),
    ("norm", lambda lib, nnf, x: x.norm() + x.norm(p=1, dim=1).sum(), [F], 0),
    ("sort_topk", lambda lib, nnf, x: (*x.sort(1), *x.topk(2, 0)), [F], 0),
    ("all_any", lambda lib, nnf, x: ((x > 0).all(1), (x > 1).any()), [F], 0),
    # shapes
    ("reshape_view", lambda lib, nnf, x: x.reshape(-1) + x.view(2, 6).flatten(), [F], 0),
    ("transpose_permute", lambda lib, nnf, x: x.t() + x.transpose(0, 1) + x.permute(1, 0), [F], 0),
    ("permute3", lambda lib, nnf, x: x.permute(2, 0, 1).mT, [("f", (B, 2, 3, 4))], 0),
    ("squeeze", lambda lib, nnf, x: x.unsqueeze(0).unsqueeze(-1).squeeze(), [F], 0),
    ("expand", lambda lib, nnf, x: x.unsqueeze(0).expand(2, 3, 4), [F], 0),
    ("expand_1d", lambda lib, nnf, x: x.expand(3, 4), [("f", (B, 4))], 0),
    ("cat", lambda lib, nnf, x, y: lib.cat([x, y, x], 1), [F, ("f", (3, 2))], (0, None)),
    ("stack", lambda lib, nnf, x, y: lib.stack([x, y], 1), [F, ("f", (3, 4))], (0, None)),
    ("split", lambda lib, nnf, x: x.split([1, 3], 1), [F], 0),
    ("chunk_unbind", lambda lib, nnf, x: (*x.chunk(2, 1), *x.unbind(0)), [F], 0),
    ("movedim", lambda lib, nnf, x: lib.movedim(x, 0, -1), [("f", (B, 2, 3, 4))], 0),
    ("flip_roll", lambda lib, nnf, x: x.flip(1) + x.roll(1) + x.roll(1, 0), [F], 0),
    ("repeat_tile", lambda lib, nnf, x: (x.repeat(2, 1, 1), x.tile((2,))), [F], 0),
    ("narrow", lambda lib, nnf, x: x.narrow(1, 1, 2), [F], 0),
    ("pad", lambda lib, nnf, x: nnf.pad(x, (1, 2)) + 0, [F], 0),
    # indexing
    ("basic_index", lambda lib, nnf, x: (x[0], x[:, 1:3], x[..., ::2], x[None, 1]), [F], 0),
    ("shared_index", lambda lib, nnf, x, i: x[i], [F, ("i", (2, 2), 3)], (0, None)),
    ("batched_index", lambda lib, nnf, x, i: x[i], [F, ("i", (B, 2), 3)], 0),
    (
        "index_shared_x",
        lambda lib, nnf, x, i: x[:, i],
        [("f", (3, 4)), ("i", (B, 5), 4)],
        (None, 0),
    ),
    ("index_second_dim", lambda lib, nnf, x, i: x[:, i], [F, ("i", (B, 2), 4)], 0),
    (
        "index_nonadjacent",
        lambda lib, nnf, x, i: x[i, :, i],
        [("f", (B, 3, 2, 3)), ("i", (2,), 3)],
        (0, None),
    ),
    (  # an int next to an index array (apart, NumPy and PyTorch place the result differently)
        "index_int_array",
        lambda lib, nnf, x, i: (x[:, 0, i], x[1, i]),
        [("f", (B, 2, 3, 4)), ("i", (B, 2), 3)],
        0,
    ),
    ("index_mask_shared", lambda lib, nnf, x, m: x[m], [F, ("b", (3, 4))], (0, None)),
    ("gather", lambda lib, nnf, x, i: lib.gather(x, 1, i), [F, ("i", (B, 3, 2), 4)], 0),
    (
        "gather_shared_x",
        lambda lib, nnf, x, i: lib.gather(x, 0, i),
        [("f", (3, 4)), ("i", (B, 2, 4), 3)],
        (None, 0),
    ),
    (
        "scatter_add",
        lambda lib, nnf, x, i, s: x.scatter_add(1, i, s),
        [F, ("i", (B, 3, 2), 4), ("f", (3, 2))],
        (0, 0, None),
    ),
    ("index_select", lambda lib, nnf, x, i: x.index_select(1, i), [F, ("i", (3,), 4)], (0, None)),
    ("index_select_batched", lambda lib, nnf, x, i: x.index_select(1, i), [F, ("i", (B, 5), 4)], 0),
    (
        "take_along_dim",
        lambda lib, nnf, x, i: lib.take_along_dim(x, i, 1),
        [F, ("i", (B, 3, 2), 4)],
        0,
    ),
    ("masked_fill", lambda lib, nnf, x, m: x.masked_fill(m, 0.5), [F, ("b", (B, 3, 4))], 0),
    ("setitem", lambda lib, nnf, x, v: _setitem(x, v), [F, ("f", (B, 4))], 0),
    # linear algebra
    ("matmul_shared", lambda lib, nnf, x, w: x @ w, [F, ("f", (4, 5))], (0, None)),
    ("matmul_batched", lambda lib, nnf, x, w: lib.matmul(x, w), [F, ("f", (B, 4, 2))], 0),
    ("matmul_shared_left", lambda lib, nnf, w, x: w @ x, [("f", (2, 3)), F], (None, 0)),
    ("matvec", lambda lib, nnf, x, v: (x @ v, v[:3] @ x), [F, ("f", (B, 4))], 0),
    (
        "matvec_shared_matrix",
        lambda lib, nnf, w, v: (w @ v, v[:3] @ w),
        [F, ("f", (B, 4))],
        (None, 0),
    ),
    (
        "matvec_shared_vector",
        lambda lib, nnf, x, v: (x @ v, v[:3] @ x),
        [F, ("f", (4,))],
        (0, None),
    ),
    (
        "dot_outer",
        lambda lib, nnf, x, y: (lib.dot(x, y), lib.outer(x, y)),
        [("f", (B, 4)), ("f", (4,))],
        (0, None),
    ),
    (
        "bmm",
        lambda lib, nnf, x, y: lib.bmm(x, y),
        [("f", (B, 2, 3, 4)), ("f", (2, 4, 5))],
        (0, None),
    ),
    ("einsum", lambda lib, nnf, x, y: lib.einsum("ij,jk->ik", x, y), [F, ("f", (B, 4, 2))], 0),
    ("diagonal_tril", lambda lib, nnf, x: (x.diagonal(), x.tril(), x.triu(1)), [F], 0),
    (
        "inv_det_solve",
        lambda lib, nnf, a, y: (
            lib.linalg.inv(a + 3 * lib.eye(3, dtype=a.dtype)),
            lib.linalg.det(a),
            lib.linalg.solve(a + 3 * lib.eye(3, dtype=a.dtype), y),
        ),
        [("f", (B, 3, 3)), ("f", (3,))],
        (0, None),
    ),
    # nn.functional
    (
        "linear",
        lambda lib, nnf, x, w, b: nnf.linear(x, w, b),
        [F, ("f", (5, 4)), ("f", (5,))],
        (0, None, None),
    ),
    (
        "linear_batched_w",
        lambda lib, nnf, x, w, b: nnf.linear(x, w, b),
        [F, ("f", (B, 5, 4)), ("f", (5,))],
        (0, 0, None),
    ),
    (
        "layer_norm",
        lambda lib, nnf, x, w, b: nnf.layer_norm(x, (4,), w, b),
        [F, ("f", (4,)), ("f", (4,))],
        (0, None, None),
    ),
    (
        "cross_entropy",
        lambda lib, nnf, x, t: nnf.cross_entropy(x, t),
        [("f", (B, 5)), ("i", (B,), 5)],
        0,
    ),
    (
        "cross_entropy_rows",
        lambda lib, nnf, x, t: nnf.cross_entropy(x, t, reduction="none"),
        [("f", (B, 2, 5)), ("i", (B, 2), 5)],
        0,
    ),
    (
        "nll_loss",
        lambda lib, nnf, x, t: nnf.nll_loss(nnf.log_softmax(x, -1), t),
        [("f", (B, 2, 5)), ("i", (B, 2), 5)],
        0,
    ),
    ("mse_loss", lambda lib, nnf, x, y: nnf.mse_loss(x, y), [F, ("f", (3, 4))], (0, None)),
    (
        "embedding",
        lambda lib, nnf, i, w: nnf.embedding(i, w),
        [("i", (B, 2), 5), ("f", (5, 3))],
        (0, None),
    ),
    (
        "embedding_batched_table",
        lambda lib, nnf, i, w: nnf.embedding(i, w),
        [("i", (B, 2), 5), ("f", (B, 5, 3))],
        0,
    ),
    ("one_hot", lambda lib, nnf, i: nnf.one_hot(i, 5), [("i", (B, 2), 5)], 0),
    (
        "conv2d",
        lambda lib, nnf, x, w, b: nnf.conv2d(x, w, b, padding=1),
        [("f", (B, 2, 5, 5)), ("f", (3, 2, 3, 3)), ("f", (3,))],
        (0, None, None),
    ),
    (
        "conv2d_batched_w",
        lambda lib, nnf, x, w: nnf.conv2d(x, w, stride=2),
        [("f", (B, 1, 2, 5, 5)), ("f", (B, 3, 2, 3, 3))],
        0,
    ),
    (
        "pools",
        lambda lib, nnf, x: nnf.max_pool2d(x, 2) + nnf.avg_pool2d(x, 2),
        [("f", (B, 2, 4, 4))],
        0,
    ),
]


def _setitem(x, v):
    y = x.clone()
    y[1] = v
    y[0, 1:3] = 0.0
    return y


@pytest.mark.parametrize("name, function, specs, in_dims", CASES, ids=[c[0] for c in CASES])
def test_matches_torch_vmap(name, function, specs, in_dims):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no op in these functions may fall back to the loop
        ours, theirs = _run_both(function, specs, in_dims)
    _compare(ours, theirs)


NESTED = [
    "add_shared",
    "sum_dim",
    "max_dim",
    "batched_index",
    "matmul_shared",
    "cross_entropy",
    "linear",
    "gather",
    "conv2d",
    "softmax",
    "setitem",
]


@pytest.mark.parametrize("name", NESTED)
def test_nested_vmap_matches_torch(name):
    """vmap(vmap(f)): a second batch dimension in front of every batched input."""
    _, function, specs, in_dims = next(c for c in CASES if c[0] == name)
    dims = in_dims if isinstance(in_dims, tuple) else (in_dims,) * len(specs)
    outer = [
        ("f" if s[0] != "i" else "i", (2, *s[1]), *s[2:]) if d is not None else s
        for s, d in zip(specs, dims)
    ]
    rng = np.random.default_rng(1)
    arrays = [_array(rng, spec) for spec in outer]

    def nested(lib, functional, vmapper):
        inner = vmapper(lambda *a: function(lib, functional, *a), in_dims=in_dims)
        return vmapper(inner, in_dims=in_dims)

    ours = nested(chainrule, CF, vmap)(*[chainrule.tensor(a) for a in arrays])
    theirs = nested(torch, TF, torch_vmap)(*[torch.tensor(a) for a in arrays])
    _compare(ours, theirs)


# ---- in_dims, out_dims, structures --------------------------------------------------------------


def test_in_dims_other_than_zero():
    ours, theirs = _run_both(
        lambda lib, nnf, x, y: x * y.sum(), [("f", (3, B, 4)), ("f", (4, B))], in_dims=(1, -1)
    )
    _compare(ours, theirs)


@pytest.mark.parametrize("out_dims", [1, -1, (2, 1), (1, 0)])
def test_out_dims(out_dims):
    ours, theirs = _run_both(lambda lib, nnf, x: (x * 2, x.sum(0)), [F], out_dims=out_dims)
    _compare(ours, theirs)


def test_out_dims_none_for_an_unbatched_output():
    x = chainrule.ones(B, 2)
    out, shared = vmap(lambda x: (x * 2, chainrule.ones(3)), out_dims=(0, None))(x)
    assert tuple(out.shape) == (B, 2) and tuple(shared.shape) == (3,)


def test_unbatched_output_is_broadcast():
    out = vmap(lambda x: chainrule.ones(2))(chainrule.ones(B, 4))
    assert tuple(out.shape) == (B, 2)


def test_pytree_inputs_and_outputs():
    def function(lib, functional, inputs):
        return {"sum": inputs["a"] + inputs["b"], "pair": (inputs["a"] * 2, inputs["b"].sum())}

    rng = np.random.default_rng(2)
    a, b = rng.standard_normal((B, 3)), rng.standard_normal(3)
    in_dims = ({"a": 0, "b": None},)
    ours = vmap(lambda d: function(chainrule, CF, d), in_dims=in_dims)(
        {"a": chainrule.tensor(a), "b": chainrule.tensor(b)}
    )
    theirs = torch_vmap(lambda d: function(torch, TF, d), in_dims=in_dims)(
        {"a": torch.tensor(a), "b": torch.tensor(b)}
    )
    _compare(ours, theirs)


def test_keyword_arguments_are_not_mapped():
    out = vmap(lambda x, scale=1.0: x * scale)(chainrule.ones(B, 2), scale=chainrule.tensor(3.0))
    assert out.tolist() == [[3.0, 3.0]] * B


def test_chunk_size_gives_the_same_result():
    x = chainrule.randn(7, 3, dtype=chainrule.float64)
    full = vmap(lambda r: r.softmax(0) @ r)(x)
    for chunk in (1, 2, 3, 7, 10):
        np.testing.assert_allclose(
            vmap(lambda r: r.softmax(0) @ r, chunk_size=chunk)(x).numpy(), full.numpy()
        )


# ---- gradients ----------------------------------------------------------------------------------


def _mlp_params(lib, rng, sizes=(6, 16, 4)):
    shapes = {
        "w1": (sizes[1], sizes[0]),
        "b1": (sizes[1],),
        "w2": (sizes[2], sizes[1]),
        "b2": (sizes[2],),
    }
    return {k: rng.standard_normal(s) * 0.5 for k, s in shapes.items()}


def _mlp_loss(lib, functional, params, x, y):
    hidden = functional.relu(functional.linear(x, params["w1"], params["b1"]))
    return functional.cross_entropy(functional.linear(hidden, params["w2"], params["b2"]), y)


def test_per_sample_gradients_of_an_mlp():
    """vmap(grad(loss)) over (x, y) with shared parameters: one gradient per example, equal to a
    loop of grad over the examples and to torch.func's."""
    rng = np.random.default_rng(3)
    params = _mlp_params(np, rng)
    x, y = rng.standard_normal((5, 6)), rng.integers(0, 4, 5)
    ours_params = {k: chainrule.tensor(v) for k, v in params.items()}

    def loss(p, xs, ys):
        return _mlp_loss(chainrule, CF, p, xs, ys)

    ours = vmap(grad(loss), in_dims=(None, 0, 0))(
        ours_params, chainrule.tensor(x), chainrule.tensor(y)
    )
    theirs = torch_vmap(
        torch_grad(lambda p, a, b: _mlp_loss(torch, TF, p, a, b)), in_dims=(None, 0, 0)
    )({k: torch.tensor(v) for k, v in params.items()}, torch.tensor(x), torch.tensor(y))
    _compare(ours, theirs, atol=1e-12)
    loop = [
        grad(loss)(ours_params, chainrule.tensor(x[i]), chainrule.tensor(y[i])) for i in range(5)
    ]
    for key in params:
        np.testing.assert_allclose(
            ours[key].numpy(), np.stack([g[key].numpy() for g in loop]), atol=1e-12
        )
    assert all(not v.requires_grad for v in ours.values())


def test_per_sample_gradients_of_a_conv_net():
    rng = np.random.default_rng(4)
    w, x = rng.standard_normal((3, 2, 3, 3)), rng.standard_normal((B, 2, 5, 5))

    def loss(lib, functional, w, x):
        return functional.conv2d(x.unsqueeze(0), w, padding=1).tanh().sum()

    ours = vmap(grad(lambda w, x: loss(chainrule, CF, w, x)), in_dims=(None, 0))(
        chainrule.tensor(w), chainrule.tensor(x)
    )
    theirs = torch_vmap(torch_grad(lambda w, x: loss(torch, TF, w, x)), in_dims=(None, 0))(
        torch.tensor(w), torch.tensor(x)
    )
    _compare(ours, theirs)


def test_second_derivatives_per_example():
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((B, 4)), rng.standard_normal(4)

    def f(lib, w, x):
        return (x * w).sin().sum() * (w * w).sum()

    ours = vmap(grad(lambda w, x: grad(lambda w: f(chainrule, w, x))(w).sum()), in_dims=(None, 0))(
        chainrule.tensor(w), chainrule.tensor(x)
    )
    theirs = torch_vmap(
        torch_grad(lambda w, x: torch_grad(lambda w: f(torch, w, x))(w).sum()), in_dims=(None, 0)
    )(torch.tensor(w), torch.tensor(x))
    _compare(ours, theirs)
    jac = vmap(jacrev(lambda x: (x * x).sin()))(chainrule.tensor(x))
    _compare(jac, torch_vmap(torch_jacrev(lambda x: (x * x).sin()))(torch.tensor(x)))


def test_forward_mode_inside_vmap():
    """jvp, jacfwd and hessian (forward over reverse) per example."""
    rng = np.random.default_rng(9)
    x, t = rng.standard_normal((B, 4)), rng.standard_normal((B, 4))

    def f(v):
        return (v.sin() * v).sum() * (v * v).sum()

    def g(v):
        return v.exp() * v.sum()

    ours = (
        vmap(lambda p, d: jvp(g, (p,), (d,))[1])(chainrule.tensor(x), chainrule.tensor(t)),
        vmap(jacfwd(g))(chainrule.tensor(x)),
        vmap(hessian(f))(chainrule.tensor(x)),
    )
    theirs = (
        torch_vmap(lambda p, d: torch_jvp(g, (p,), (d,))[1])(torch.tensor(x), torch.tensor(t)),
        torch_vmap(torch_jacfwd(g))(torch.tensor(x)),
        torch_vmap(torch_hessian(f))(torch.tensor(x)),
    )
    _compare(ours, theirs)


def test_gradients_flow_through_vmap():
    """The batched computation is ordinary chainrule: backward through vmap's output and
    grad(vmap(f)) work with the usual engine."""
    rng = np.random.default_rng(6)
    x, w = rng.standard_normal((B, 3, 4)), rng.standard_normal((4, 2))
    xc, wc = chainrule.tensor(x, requires_grad=True), chainrule.tensor(w, requires_grad=True)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    vmap(lambda a, b: (a @ b).tanh().sum(0), in_dims=(0, None))(xc, wc).pow(2).sum().backward()
    torch_vmap(lambda a, b: (a @ b).tanh().sum(0), in_dims=(0, None))(xt, wt).pow(
        2
    ).sum().backward()
    _compare((xc.grad, wc.grad), (xt.grad, wt.grad))
    outer = grad(lambda w: vmap(lambda a: (a @ w).softmax(-1)[:, 0].sum())(xc).sum())(wc)
    _compare(
        outer,
        torch_grad(lambda w: torch_vmap(lambda a: (a @ w).softmax(-1)[:, 0].sum())(xt).sum())(wt),
    )


def test_grad_of_vmap_of_grad():
    """MAML's shape: the per-example inner gradients are themselves differentiated outside."""
    rng = np.random.default_rng(7)
    w, x = rng.standard_normal(4), rng.standard_normal((B, 4))

    def meta(lib, gradient, vmapper, w, x):
        inner = vmapper(gradient(lambda w, x: ((w * x).sum() - 1) ** 2), in_dims=(None, 0))
        return (w - 0.1 * inner(w, x)).pow(2).sum()

    ours = grad(lambda w: meta(chainrule, grad, vmap, w, chainrule.tensor(x)))(chainrule.tensor(w))
    theirs = torch_grad(lambda w: meta(torch, torch_grad, torch_vmap, w, torch.tensor(x)))(
        torch.tensor(w)
    )
    _compare(ours, theirs)


# ---- the batching machinery ---------------------------------------------------------------------


@needs_batching
def test_function_runs_once_for_the_whole_batch():
    calls = []

    def f(x):
        calls.append(tuple(x.shape))
        return x.sum()

    out = vmap(f)(chainrule.ones(5, 3))
    assert calls == [(3,)] and out.tolist() == [3.0] * 5


@needs_batching
def test_batched_tensor_looks_like_one_example():
    seen = {}

    def f(x):
        seen.update(shape=tuple(x.shape), ndim=x.ndim, numel=x.numel(), repr=repr(x))
        return x

    vmap(f, in_dims=1)(chainrule.zeros(2, 5, 3))
    assert seen["shape"] == (2, 3) and seen["ndim"] == 2 and seen["numel"] == 6
    assert seen["repr"].startswith("BatchedTensor(lvl=")


@needs_batching
def test_op_without_rule_falls_back_with_one_warning():
    x = chainrule.tensor(np.random.default_rng(8).standard_normal((B, 5)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = vmap(lambda r: r.median())(x)
        second = vmap(lambda r: r.median() * 2)(x)
    messages = [str(w.message) for w in caught if "batching rule" in str(w.message)]
    assert len(messages) <= 1  # once per op per process (an earlier test may have seen it)
    if messages:
        assert "median" in messages[0]
    expected = torch.tensor(x.numpy()).median(1).values.numpy()
    np.testing.assert_allclose(first.numpy(), expected)
    np.testing.assert_allclose(second.numpy(), 2 * expected)


@needs_batching
def test_randomness_modes():
    x = chainrule.ones(B, 3)
    with pytest.raises(RuntimeError, match="randomness error mode"):
        vmap(lambda r: r + chainrule.rand(3))(x)
    with pytest.raises(RuntimeError, match="randomness error mode"):
        vmap(lambda r: CF.dropout(r, 0.5))(x)
    same = vmap(lambda r: r + chainrule.rand(3), randomness="same")(x)
    assert np.allclose(same.numpy(), same.numpy()[0])
    different = vmap(lambda r: r + chainrule.rand(3), randomness="different")(x)
    assert not np.allclose(different.numpy()[1:], different.numpy()[0])  # see test_vmap_randomness
    assert vmap(lambda r: CF.dropout(r, 0.5, training=False))(x).tolist() == x.tolist()


@needs_batching
def test_data_dependent_operations_are_refused():
    x = chainrule.randn(B, 3)
    with pytest.raises(RuntimeError, match=r"calling \.item\(\)"):
        vmap(lambda r: r.sum().item())(x)
    with pytest.raises(RuntimeError, match="data-dependent control flow"):
        vmap(lambda r: r if r.sum() > 0 else -r)(x)
    with pytest.raises(RuntimeError, match="boolean mask"):
        vmap(lambda r: r[r > 0])(x)
    with pytest.raises(RuntimeError, match="nonzero"):
        vmap(lambda r: r.nonzero())(x)
    with pytest.raises(RuntimeError, match="reads the values of a batched tensor"):
        vmap(lambda r: chainrule.ones(3).add_(r))(x)


@needs_batching
def test_inplace_on_a_batched_tensor_writes_every_example():
    x = chainrule.zeros(B, 3)
    vmap(lambda r: r.add_(chainrule.tensor([1.0, 2.0, 3.0])))(x)
    assert x.tolist() == [[1.0, 2.0, 3.0]] * B


# ---- errors, as PyTorch words them --------------------------------------------------------------


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda: vmap(chainrule.add)(chainrule.ones(3, 4), chainrule.ones(5, 4)),
            ValueError,
            r"same size in the mapped dimension, got sizes \[3, 5\]",
        ),
        (
            lambda: vmap(chainrule.sin, in_dims=2)(chainrule.ones(3, 4)),
            ValueError,
            r"Got in_dim=2 for some input, but that input is a Tensor of dimensionality 2 so "
            r"expected in_dim to satisfy -2 <= in_dim < 2",
        ),
        (
            lambda: vmap(chainrule.sin, in_dims=-3)(chainrule.ones(3, 4)),
            ValueError,
            "expected in_dim to satisfy",
        ),
        (
            lambda: vmap(chainrule.add, in_dims=(0,))(chainrule.ones(3), chainrule.ones(3)),
            ValueError,
            "in_dims is not compatible with the structure of `inputs`",
        ),
        (
            lambda: vmap(chainrule.add, in_dims=(None, None))(chainrule.ones(3), chainrule.ones(3)),
            ValueError,
            "Expected at least one Tensor to vmap over",
        ),
        (
            lambda: vmap(chainrule.mul, in_dims=(0, 0))(chainrule.ones(3), 1.0),
            ValueError,
            "Got in_dim=0 for an input but the input is of type <class 'float'>",
        ),
        (
            lambda: vmap(chainrule.sin, in_dims="a")(chainrule.ones(3)),
            ValueError,
            "expected `in_dims` to be int or a",
        ),
        (lambda: vmap(chainrule.sin)(), ValueError, "got no inputs"),
        (
            lambda: vmap(lambda x: 1.0)(chainrule.ones(3)),
            ValueError,
            "must only return Tensors, got type <class 'float'>",
        ),
        pytest.param(
            lambda: vmap(lambda x: x.sum(), out_dims=None)(chainrule.ones(3, 2)),
            ValueError,
            "can not return a BatchedTensor when out_dim is None",
            marks=needs_batching,
        ),
        (
            lambda: vmap(lambda x: x, out_dims=2)(chainrule.ones(3, 2)),
            IndexError,
            r"Dimension out of range \(expected to be in range of \[-2, 1\], but got 2\)",
        ),
        (
            lambda: vmap(chainrule.sin, out_dims="a")(chainrule.ones(3)),
            ValueError,
            "`out_dims` must be an int, None or a python collection of ints",
        ),
        (
            lambda: vmap(chainrule.sin, randomness="bad"),
            RuntimeError,
            "Only allowed values for randomness are 'error', 'different', or 'same'. Got bad",
        ),
        (
            lambda: vmap(chainrule.sin, chunk_size=0),
            ValueError,
            r"chunk_size should be None or greater than 0. \(got 0\)",
        ),
        (
            lambda: vmap(lambda x: x.sum(5))(chainrule.ones(3, 2)),
            IndexError,
            "Dimension out of range",
        ),
    ],
)
def test_errors_like_torch(call, error, message):
    with pytest.raises(error, match=message):
        call()


@pytest.mark.parametrize(
    "function, in_dims, shapes",
    [
        (lambda a: a[a.argmax()], 0, [(3, 4)]),  # a 0-dim index computed per example
        (lambda a, i: a[i], (None, 0), [(5,), ()]),
        (lambda a, i: a[i, 0], (0, 0), [(3, 4, 2), ()]),
        (lambda a, i: a[:, i], (0, 0), [(3, 2, 4), ()]),
    ],
)
def test_a_batched_zero_dim_index_gathers_per_example_as_torch(function, in_dims, shapes):
    """A 0-dim integer tensor indexes as an int outside vmap; batched, each example takes its
    own element, as PyTorch's vmap does (not an error), and the gradient goes back there."""
    rng = np.random.default_rng(0)
    inputs = [
        rng.integers(0, 2, (3,)) if shape == () else rng.standard_normal(shape) for shape in shapes
    ]
    ours = [chainrule.tensor(v, requires_grad=v.dtype == np.float64) for v in inputs]
    theirs = [torch.tensor(v, requires_grad=v.dtype == np.float64) for v in inputs]
    out = vmap(function, in_dims=in_dims)(*ours)
    expected = torch_vmap(function, in_dims=in_dims)(*theirs)
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy())
    out.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(ours[0].grad.numpy(), theirs[0].grad.numpy())


def test_debug_unwrap_gives_the_physical_tensor_as_torch_func():
    seen = {}
    for lib, func in ((chainrule, chainrule.func), (torch, torch.func)):
        x = lib.arange(6.0).reshape(2, 3, 1)

        def inner(a, lib=lib, func=func):
            seen[lib.__name__] = (
                tuple(func.debug_unwrap(a).shape),
                tuple(func.debug_unwrap(a, recurse=False).shape),
            )
            return a

        func.vmap(func.vmap(inner))(x)
        assert func.debug_unwrap(x) is x
    assert seen["chainrule"] == seen["torch"] == ((2, 3, 1), (3, 1))


@pytest.mark.parametrize("in_dims", [0, 1])
def test_stride_inside_vmap_is_each_examples_as_torch(in_dims):
    def strides(lib):
        x = lib.zeros(3, 4, 5)
        return lib.func.vmap(lambda t: lib.tensor(t.stride()), in_dims=in_dims)(x).tolist()

    assert strides(chainrule) == strides(torch)


@pytest.mark.parametrize(
    "size, stride, offset", [((3, 2), (1, 3), 1), ((2,), (1,), None), ((2, 2), (5, 1), 2)]
)
def test_as_strided_inside_vmap_views_each_examples_memory_as_torch(size, stride, offset):
    values = np.random.default_rng(0).standard_normal((3, 2, 5))

    def run(lib, func):
        x = lib.tensor(values, requires_grad=True)
        out = func.vmap(lambda t: t.as_strided(size, stride, offset))(x[:, :, 1:])
        (out**2).sum().backward()
        return out.detach().numpy(), x.grad.numpy()

    for mine, expected in zip(run(chainrule, chainrule.func), run(torch, torch.func)):
        np.testing.assert_allclose(mine, expected)


def test_as_strided_inside_vmap_refuses_a_view_beyond_the_example_as_torch():
    for lib in (chainrule, torch):
        x = lib.arange(30.0).reshape(3, 2, 5)[:, :, 1:]
        with pytest.raises(RuntimeError, match=r"range \[0, 2\].*range \[1, 10\]"):
            lib.func.vmap(lambda t: t.as_strided((2,), (1,), 0))(x)


def test_index_fill_and_index_copy_take_a_batched_index_per_example():
    rng = np.random.default_rng(0)
    x, source = rng.standard_normal((3, 4, 5)), rng.standard_normal((3, 4, 2))
    index = np.array([[0, 2], [1, 3], [4, 0]])
    for name in ("index_fill", "index_copy"):

        def run(lib, name=name):
            def function(t, i, s):
                return t.index_fill(1, i, -1.0) if name == "index_fill" else t.index_copy(1, i, s)

            return lib.func.vmap(function)(lib.tensor(x), lib.tensor(index), lib.tensor(source))

        np.testing.assert_allclose(run(chainrule).numpy(), run(torch).numpy())


def _write_into_slice(lib, r):
    b = r.clone()
    b[0:2].mul_(3)
    return (b * b).sum()


def _setitem_of_a_computed_value(lib, r):
    b = r * 2
    b[1] = r[0] * r[2]
    return (b.sin() * b).sum()


def _write_into_a_view_of_a_view(lib, r):
    b = r.clone().reshape(2, 2)
    b[:, 1][0:1].add_(r[0] ** 2)
    return (b**3).sum()


def _view_read_after_a_write(lib, r):
    b = r * r
    view = b[1:]
    b[0:2].mul_(r[3])
    return (view * r[1:]).sum()


def _write_into_a_computed_tensor(lib, r):
    b = r * r
    b.mul_(r[3])
    return (b * r).sum()


def _augmented_assignment_into_a_slice(lib, r):
    b = r.clone()
    b.add_(r.sin())
    b[1:3] *= r[0]  # the view written, then written back into b by __setitem__
    return (b**2).sum()


def _writes_through_two_views(lib, r):
    b = lib.stack([r, r * 2])
    b[1].sub_(r.cos())
    b.transpose(0, 1)[0].mul_(3)
    return (b * b).sum()


def _write_into_a_strided_view_then_the_base(lib, r):
    b = r.clone()
    b[::2].pow_(2)
    b.unsqueeze(0).mul_(r)
    return b.sum()


def _stencil_update_from_an_overlapping_view(lib, r):
    """u[1:] = 2 u[1:] + u[:-1]: the sum's operand u[:-1] is written by the assignment; a
    sum's derivative reads no values, so PyTorch's backward does not mind (chainrule's
    per-example graph raised "modified by an inplace operation")."""
    u = r.clone()
    u[1:] = u[1:] * 2 + u[:-1]
    v = r * 3
    v[:2] = -v[1:3] - 0.5
    return (u * u).sum() + (v * r).sum()


def _writes_after_shape_ops_read_the_tensor(lib, r):
    """roll, flip, cat, stack, sum, cumsum, pad, clone, cast, repeat and index_select read u
    before it is doubled in place: their derivatives read no values of u (only where's
    condition, index_select's index), so PyTorch's backward allows the write."""
    u = r.clone()
    pieces = [
        lib.roll(u, 1),
        lib.flip(u, (0,)),
        lib.cat([u, u[:2]]),
        lib.stack([u, u]).reshape(-1),
        u.sum() * lib.ones(2, dtype=u.dtype),
        u.cumsum(0),
        lib.nn.functional.pad(u, (1, 1)),
        u.clone(),
        u.to(lib.float32).double(),
        u.repeat(2),
        u.index_select(0, lib.tensor([0, 2])),
        lib.where(lib.tensor([True, False, True, False]), u, 0.0),
    ]
    u.mul_(2)
    return sum((w * w).sum() for w in pieces) + (u * r).sum()


def _write_after_a_product_with_constants(lib, r):
    """u times, over, or towards a constant (elementwise, by a matrix, lerp): the derivative
    in u reads the constant, not u."""
    u = r.clone()
    scale = lib.linspace(0.5, 2.0, 4, dtype=u.dtype)
    w = u * scale + lib.ones(3, 4, dtype=u.dtype).sum(0) @ u + u / scale
    w = w + lib.lerp(u, lib.zeros_like(scale), 0.3)
    u.mul_(2)
    return (w * w).sum() + (u * r).sum()


def _contiguous_copy_of_a_transpose_then_writes(lib, r):
    """contiguous() of a transposed batched tensor is a copy (it was the view itself, so the
    copy's writes reached u and the view's region was read at garbage positions)."""
    u = r.clone()
    c = u.reshape(2, 2).t().contiguous()
    c.add_(1.0)
    w = u.reshape(2, 2).t().reshape(-1)
    u.mul_(2)
    return (c * c).sum() + (w * w).sum() + (u * r).sum()


@pytest.mark.parametrize(
    "program",
    [
        _writes_after_shape_ops_read_the_tensor,
        _write_after_a_product_with_constants,
        _contiguous_copy_of_a_transpose_then_writes,
        _stencil_update_from_an_overlapping_view,
        _write_into_slice,
        _setitem_of_a_computed_value,
        _write_into_a_view_of_a_view,
        _view_read_after_a_write,
        _write_into_a_computed_tensor,
        _augmented_assignment_into_a_slice,
        _writes_through_two_views,
        _write_into_a_strided_view_then_the_base,
    ],
    ids=lambda f: f.__name__.strip("_"),
)
def test_per_example_derivatives_see_in_place_writes_as_torch(program):
    """First and second derivatives per example through in-place writes (into views, into a
    view of a view, read through a view taken before the write): reverse over reverse and
    forward over reverse, against torch.func."""
    values = np.random.default_rng(0).standard_normal((3, 4))
    results = []
    for lib in (chainrule, torch):
        x = lib.tensor(values)
        func = lib.func
        f = functools.partial(program, lib)
        results.append(
            [
                func.vmap(transform)(x).numpy()
                for transform in (
                    func.grad(f),
                    func.jacrev(func.grad(f)),
                    func.jacfwd(func.grad(f)),
                )
            ]
        )
    for mine, expected in zip(*results):
        np.testing.assert_allclose(mine, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "make",
    [
        lambda lib, x: lib.zeros_like(x),
        lambda lib, x: lib.ones_like(x[0]),
        lambda lib, x: lib.full_like(x, 2.0),
        lambda lib, x: lib.empty_like(x).fill_(0),
        lambda lib, x: x.new_zeros(2, 4),
        lambda lib, x: x.new_ones((4,)),
        lambda lib, x: x.new_full((4,), 3.0),
        lambda lib, x: x.new_empty(4).zero_(),
    ],
)
def test_factories_of_a_batched_tensor_are_batched_as_torch(make):
    """zeros_like(x), x.new_zeros(n) and the like make each example its own tensor under
    vmap, so a batched value can be written into them."""

    def run(lib):
        def function(x):
            out = make(lib, x)
            out[0] = x[0, 0] * 2
            out.add_(x[1, 1])
            return out

        return lib.func.vmap(function)(lib.arange(24.0).reshape(2, 3, 4)).numpy()

    np.testing.assert_allclose(run(chainrule), run(torch))


def test_storage_offset_inside_vmap_is_the_batched_tensors_as_torch():
    def run(lib):
        x = lib.arange(30.0).reshape(3, 2, 5)[:, :, 1:]
        offsets = lib.func.vmap(lambda t: lib.tensor(t.storage_offset()))(x)
        views = lib.func.vmap(lambda t: t.as_strided((2,), (1,), t.storage_offset()))(x)
        return offsets.tolist(), views.tolist()

    assert run(chainrule) == run(torch)


def test_contiguous_of_a_batched_transpose_is_a_copy_as_in_torch():
    """Under vmap, contiguous() returned a transposed batched tensor itself, so writing into
    the "copy" wrote into the tensor it was taken from."""
    results = []
    for lib in (chainrule, torch):

        def program(p, lib=lib):
            u = p.reshape(2, 2).clone()
            c = u.t().contiguous()
            c.add_(100.0)
            return u, c.is_contiguous()

        u, contiguous = lib.func.vmap(program, out_dims=(0, None))(lib.arange(8.0).reshape(2, 4))
        results.append((u.tolist(), contiguous))
    assert results[0] == results[1]
