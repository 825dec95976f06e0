"""float16 computed as PyTorch's CPU computes it: in float32, rounded to float16 once per op.

NumPy's float16 loops round every step (a cumsum rounds each partial sum, x @ w.T + b rounds
the product before adding the bias), so a `.half()` model drifted from PyTorch's by a unit in
the last place per op. Op.apply widens float16 operands as it widens bfloat16 ones; these tests
pin the bits against torch for the ops where the two used to differ.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule
import chainrule.nn.functional as F

HALVES = ["float16", "bfloat16"]


def pair(array, dtype_name, requires_grad=False):
    """The float32 `array` rounded to `dtype_name`, as a chainrule and a torch tensor."""
    theirs = torch.tensor(array).to(getattr(torch, dtype_name))
    mine = chainrule.tensor(array).to(getattr(chainrule, dtype_name))
    return mine.requires_grad_(requires_grad), theirs.requires_grad_(requires_grad)


def assert_same_bits(mine, theirs):
    assert mine.dtype.name == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_array_equal(mine.detach().float().numpy(), theirs.detach().float().numpy())


def wave(*shape, scale=3.0):
    count = int(np.prod(shape))
    return (np.sin(np.arange(count) * 1.7) * scale).astype(np.float32).reshape(shape)


@pytest.mark.parametrize(
    "reduce",
    [
        lambda m, x, dim: m.cumsum(x, dim),
        lambda m, x, dim: m.cumprod(x / 2.5, dim),
        lambda m, x, dim: m.var(x, dim),
        lambda m, x, dim: m.std(x, dim, correction=0),
        lambda m, x, dim: m.linalg.vector_norm(x, dim=dim),
        lambda m, x, dim: m.linalg.vector_norm(x, ord=1, dim=dim),
        lambda m, x, dim: m.linalg.vector_norm(x, ord=3, dim=dim),
        lambda m, x, dim: m.var_mean(x, dim)[0],
    ],
    ids=["cumsum", "cumprod", "var", "std", "norm2", "norm1", "norm3", "var_mean"],
)
def test_half_reductions_and_scans_accumulate_in_float32_and_round_once(reduce):
    for shape in ((8, 12), (5, 37), (3, 4, 33)):
        mine, theirs = pair(wave(*shape), "float16")
        for dim in range(len(shape)):
            assert_same_bits(reduce(chainrule, mine, dim), reduce(torch, theirs, dim))


def test_a_half_linear_adds_the_bias_before_rounding_and_its_gradients_follow_torch():
    x, tx = pair(wave(6, 12), "float16", requires_grad=True)
    w, tw = pair(wave(5, 12, scale=0.4), "float16", requires_grad=True)
    b, tb = pair(np.linspace(-1, 1, 5).astype(np.float32), "float16", requires_grad=True)
    out, expected = F.linear(x, w, b), TF.linear(tx, tw, tb)
    assert_same_bits(out, expected)
    cotangent = wave(6, 5, scale=1.0)
    out.backward(chainrule.tensor(cotangent).half())
    expected.backward(torch.tensor(cotangent).half())
    for mine, theirs in ((x, tx), (w, tw), (b, tb)):
        assert mine.grad.dtype is chainrule.float16
        # one rounding on each side; the summation orders may differ by a unit
        np.testing.assert_allclose(
            mine.grad.float().numpy(), theirs.grad.float().numpy(), rtol=2**-10, atol=2**-10
        )


@pytest.mark.parametrize(
    "layer",
    [
        lambda f, x: f.layer_norm(x, (12,)),
        lambda f, x: f.group_norm(x.view(2, 4, 12), 2),
        lambda f, x: f.normalize(x),
        lambda f, x: f.cosine_similarity(x, x.flip(0)),
        lambda f, x: f.hardswish(x),
        lambda f, x: f.cross_entropy(x, x.argmin(1)),
    ],
    ids=["layer_norm", "group_norm", "normalize", "cosine_similarity", "hardswish", "ce"],
)
def test_half_nn_functions_give_torchs_bits(layer):
    mine, theirs = pair(wave(8, 12), "float16")
    assert_same_bits(layer(F, mine), layer(TF, theirs))


@pytest.mark.parametrize("dtype_name", HALVES)
def test_a_python_number_is_rounded_to_the_half_dtype_before_add_and_sub(dtype_name):
    """torch's add.Scalar rounds 0.1 to the tensor's dtype first (0.2 + 0.1 ties to 0.2998 in
    float16), while mul and div multiply by the float32 number."""
    mine, theirs = pair(np.linspace(-4, 4, 401).astype(np.float32), dtype_name)
    for apply_to in (
        lambda t: t + 0.1,
        lambda t: t - 0.1,
        lambda t: 0.1 + t,
        lambda t: 0.1 - t,
        lambda t: t * 0.1,
        lambda t: t / 0.3,
    ):
        assert_same_bits(apply_to(mine), apply_to(theirs))


@pytest.mark.parametrize("dtype_name", HALVES)
def test_nan_to_num_defaults_to_the_half_dtypes_finite_extremes(dtype_name):
    values = np.array([np.nan, np.inf, -np.inf, 1.0], dtype=np.float32)
    mine, theirs = pair(values, dtype_name, requires_grad=True)
    out, expected = chainrule.nan_to_num(mine), torch.nan_to_num(theirs)
    assert_same_bits(out, expected)
    out.sum().backward()
    expected.sum().backward()
    assert_same_bits(mine.grad, theirs.grad)


def test_float16_with_bfloat16_computes_and_stays_in_float32():
    a, ta = pair(wave(7), "float16")
    b, tb = pair(wave(7, scale=1.3), "bfloat16")
    assert_same_bits(a + b, ta + tb)
    assert_same_bits(a * b, ta * tb)
    assert (a + b).dtype is chainrule.float32


def test_a_half_training_step_matches_torch():
    """A .half() MLP: the loss to the bit, each gradient to a unit in the last place."""
    torch_model = torch.nn.Sequential(
        torch.nn.Linear(12, 16), torch.nn.GELU(), torch.nn.LayerNorm(16), torch.nn.Linear(16, 3)
    )
    model = chainrule.nn.Sequential(
        chainrule.nn.Linear(12, 16),
        chainrule.nn.GELU(),
        chainrule.nn.LayerNorm(16),
        chainrule.nn.Linear(16, 3),
    )
    with torch.no_grad():
        for index, p in enumerate(torch_model.parameters()):
            p.copy_(torch.tensor(wave(*p.shape, scale=0.5 + index / 10)))
    model.load_state_dict(
        {k: chainrule.tensor(v.numpy()) for k, v in torch_model.state_dict().items()}
    )
    model.half()
    torch_model.half()
    x, tx = pair(wave(10, 12), "float16")
    labels = np.arange(10) % 3
    loss = F.cross_entropy(model(x), chainrule.tensor(labels))
    expected = TF.cross_entropy(torch_model(tx), torch.tensor(labels))
    assert_same_bits(loss, expected)
    loss.backward()
    expected.backward()
    for (name, p), tp in zip(model.named_parameters(), torch_model.parameters()):
        assert p.grad.dtype is chainrule.float16, name
        np.testing.assert_allclose(
            p.grad.float().numpy(), tp.grad.float().numpy(), rtol=4e-3, atol=2e-3, err_msg=name
        )


@pytest.mark.parametrize("dtype_name", HALVES)
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_half_gelu_backward_recomputes_phi_in_float32_as_torch(dtype_name, approximate):
    """torch's gelu_backward evaluates Phi(x) in float32; the forward's saved Phi, rounded to
    the half dtype, gave gradients a unit off in about half the elements."""
    mine, theirs = pair(wave(400), dtype_name, requires_grad=True)
    cotangent = np.cos(np.arange(400) * 0.3).astype(np.float32)
    F.gelu(mine, approximate=approximate).backward(chainrule.tensor(cotangent).to(mine.dtype))
    TF.gelu(theirs, approximate=approximate).backward(torch.tensor(cotangent).to(theirs.dtype))
    assert_same_bits(mine.grad, theirs.grad)


ACTIVATIONS = {
    "silu": lambda f, x: f.silu(x),
    "mish": lambda f, x: f.mish(x),
    "elu": lambda f, x: f.elu(x, alpha=0.7),
    "selu": lambda f, x: f.selu(x),
    "celu": lambda f, x: f.celu(x, alpha=1.3),
    "softplus": lambda f, x: f.softplus(x, beta=2.0, threshold=3.0),
    "hardswish": lambda f, x: f.hardswish(x),
}


@pytest.mark.parametrize("dtype_name", HALVES)
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_half_activation_gradients_round_once_as_torchs_fused_backward(dtype_name, name):
    """torch's silu/mish/elu/softplus/hardswish_backward kernels compute g f'(x) in float32
    and round once; the composed vjp rounded after every op (a unit off in about half the
    elements). The kinks (-3 and 3 for hardswish, 0 for the elus, beta x = threshold for
    softplus) are in the grid."""
    grid = np.concatenate([wave(400), [-3.0, 3.0, 0.0, 1.5, -0.0, 30.0, -30.0]])
    mine, theirs = pair(grid.astype(np.float32), dtype_name, requires_grad=True)
    cotangent = np.cos(np.arange(grid.size) * 0.3).astype(np.float32)
    ACTIVATIONS[name](F, mine).backward(chainrule.tensor(cotangent).to(mine.dtype))
    ACTIVATIONS[name](TF, theirs).backward(torch.tensor(cotangent).to(theirs.dtype))
    assert_same_bits(mine.grad, theirs.grad)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_half_activation_second_derivatives_still_take_the_plain_rule(name):
    """With create_graph the plain, differentiable vjp runs: the second derivative of a
    float16 activation is its float64 one rounded (to a few units: several roundings)."""
    grid = np.linspace(-2.5, 2.5, 41).astype(np.float32)
    half = chainrule.tensor(grid).half().requires_grad_()
    wide = chainrule.tensor(grid).double().requires_grad_()
    seconds = []
    for x in (half, wide):
        (first,) = chainrule.autograd.grad(ACTIVATIONS[name](F, x).sum(), x, create_graph=True)
        (second,) = chainrule.autograd.grad(first.sum(), x)
        assert second.dtype is x.dtype
        seconds.append(second.double().numpy())
    np.testing.assert_allclose(seconds[0], seconds[1], rtol=2e-2, atol=2e-2)


@pytest.mark.parametrize("dtype_name", ["float16", "bfloat16"])
@pytest.mark.parametrize("weight_dtype", [None, "float32", "same"])
def test_half_rms_norm_computes_in_float32_with_its_eps_and_keeps_the_input_dtype(
    dtype_name, weight_dtype
):
    """PyTorch's rms_norm of a half input: float32 arithmetic with float32's eps by default
    (the half dtype's eps, 0.0078 for bfloat16, shifted every row's scale), the weight applied
    in float32 (a float32 weight too) and one rounding into the input's dtype: its bits."""
    rng = np.random.default_rng(17)
    x = rng.standard_normal((16, 64)).astype(np.float32) * 0.05  # small mean squares: eps shows
    w = rng.standard_normal(64).astype(np.float32)
    results = []
    for lib in (torch, chainrule):
        dtype = getattr(lib, dtype_name)
        inp = lib.tensor(x).to(dtype).requires_grad_()
        weight = None
        if weight_dtype is not None:
            weight = lib.tensor(w).to(dtype if weight_dtype == "same" else lib.float32)
            weight.requires_grad_()
        out = lib.nn.functional.rms_norm(inp, (64,), weight)
        assert str(out.dtype).split(".")[-1] == dtype_name
        out.float().sum().backward()
        grads = [inp.grad] + ([weight.grad] if weight is not None else [])
        results.append([t.detach().float().numpy() for t in [out, *grads]])
    theirs, mine = results
    np.testing.assert_array_equal(mine[0], theirs[0])
    for ours, reference in zip(mine[1:], theirs[1:], strict=True):
        np.testing.assert_allclose(ours, reference, rtol=2e-2, atol=2e-2)
