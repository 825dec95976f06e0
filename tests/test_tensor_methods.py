"""Tensor methods mirror torch.Tensor's: the in-place variants and the bound ops."""

import numpy as np
import pytest
import torch

import chainrule

UNARY_INPLACE = (
    "abs acos asin atan ceil cos cosh erf exp exp2 expm1 floor frac log log10 log1p log2 "
    "neg reciprocal relu round rsqrt sigmoid sign sin sinh sqrt square tan tanh trunc"
).split()


def _inputs(name):
    rng = np.random.default_rng(0)
    low, high = (
        (0.2, 0.9)
        if name in {"acos", "asin", "log", "log10", "log1p", "log2", "rsqrt", "sqrt", "reciprocal"}
        else (-0.9, 0.9)
    )
    return rng.uniform(low, high, size=(2, 3))


@pytest.mark.parametrize("name", UNARY_INPLACE)
def test_inplace_unary_matches_torch_in_value_and_gradient(name):
    data = _inputs(name)
    ours = chainrule.tensor(data, requires_grad=True)
    theirs = torch.tensor(data, requires_grad=True)
    our_result = getattr(ours * 1, name + "_")()  # in place on a non-leaf records history
    their_result = getattr(theirs * 1, name + "_")()
    np.testing.assert_allclose(
        our_result.detach().numpy(), their_result.detach().numpy(), rtol=1e-12
    )
    weights = np.random.default_rng(1).standard_normal(data.shape)
    (our_result * chainrule.tensor(weights)).sum().backward()
    (their_result * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_inplace_binary_and_clamp_variants():
    x = chainrule.tensor([1.0, -2.0, 3.0])
    x.clamp_min_(0.0).mul_(2).sub_(1).remainder_(4.0)
    expected = torch.tensor([1.0, -2.0, 3.0]).clamp_min_(0.0).mul_(2).sub_(1).remainder_(4.0)
    np.testing.assert_allclose(x.numpy(), expected.numpy())


def test_inplace_on_a_leaf_that_requires_grad_is_refused():
    leaf = chainrule.ones(3, requires_grad=True)
    with pytest.raises(chainrule.GradError, match="leaf"):
        leaf.exp_()


@pytest.mark.parametrize("name", ["fmax", "fmin", "inner", "vdot", "float_power"])
def test_bound_binary_methods(name):
    a, b = np.array([1.0, -2.0, 3.0]), np.array([0.5, 4.0, -1.0])
    ours = getattr(chainrule.tensor(a), name)(chainrule.tensor(b))
    theirs = getattr(torch.tensor(a), name)(torch.tensor(b))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy())
