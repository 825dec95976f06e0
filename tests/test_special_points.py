"""Value, gradient and second derivative at the points random draws never produce: zeros,
ties, saturated probabilities, singular matrices, the edges of piecewise definitions. What
an op returns there is a convention (a subgradient, or a nan from a masked division one order
up), and the convention is PyTorch's: each case runs in both libraries and must agree,
nan for nan. Two kinds of torch answers are not compared: its refusal of a second derivative
(NotImplementedError; chainrule gives one) and its undefined zero gradients (a tensor with
no storage, which torch cannot read back; chainrule returns zeros)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF  # noqa: N812

import chainrule
import chainrule.nn.functional as F

ZEROS = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 2.0]])  # zeros beside ordinary values
TIES = np.array([[1.0, 1.0, 0.5], [2.0, 2.0, 2.0]])  # equal values in every row
ABS_ZEROS = np.abs(ZEROS)
PROBABILITIES = np.array([[0.0, 1.0, 0.5]])
SINGULAR = np.array([[1.0, 2.0], [2.0, 4.0]])
# A nan and the infinities beside ordinary values (kept to four elements: PyTorch's vectorised
# kernels treat a nan differently from its scalar ones in longer arrays, in hardtanh, relu6,
# selu and the shrinks; four elements take the scalar, definitional path).
NONFINITE = np.array([np.nan, np.inf, -np.inf, 0.5])


def _both(both, *inputs):
    """One case: `both(m)` is the function under test written with library m (chainrule or
    torch, with its nn.functional as m.F)."""
    return (both, inputs)


class _Library:
    """chainrule or torch, with its nn.functional as `.F`."""

    def __init__(self, module, functional):
        self.module, self.F = module, functional

    def __getattr__(self, name):
        return getattr(self.module, name)


CHAINRULE, TORCH = _Library(chainrule, F), _Library(torch, TF)


def _norm(m):
    return chainrule.vector_norm if m is CHAINRULE else torch.linalg.vector_norm


CASES = {
    "abs": _both(lambda m: lambda x: x.abs(), ZEROS),
    "sqrt": _both(lambda m: lambda x: x.sqrt(), ABS_ZEROS),
    "pow_half": _both(lambda m: lambda x: x**0.5, ABS_ZEROS),
    "pow_tensor_exponent": _both(lambda m: lambda x, y: x**y, ABS_ZEROS, TIES),
    "pow_zero_base": _both(lambda m: lambda x, y: x**y, np.zeros((2, 3)), ZEROS),
    "std_of_equal_values": _both(lambda m: lambda x: x.std(1), TIES),
    "prod_with_zeros": _both(lambda m: lambda x: x.prod(1), ZEROS),
    "cumprod_with_zeros": _both(lambda m: lambda x: x.cumprod(1), ZEROS),
    "max_ties": _both(lambda m: lambda x: x.max(), TIES),
    "amax_ties": _both(lambda m: lambda x: x.amax(1), TIES),
    "median_ties": _both(lambda m: lambda x: x.median(1).values, TIES),
    "topk_ties": _both(lambda m: lambda x: x.topk(2, 1).values, TIES),
    "clamp_edges": _both(lambda m: lambda x: x.clamp(0, 1), ZEROS),
    "maximum_ties": _both(lambda m: lambda x, y: m.maximum(x, y), TIES, TIES),
    "softplus_at_threshold": _both(lambda m: lambda x: m.F.softplus(x, threshold=1.0), TIES),
    "elu_at_zero": _both(lambda m: lambda x: m.F.elu(x), ZEROS),
    "celu_at_zero": _both(lambda m: lambda x: m.F.celu(x, 2.0), ZEROS),
    "selu_at_zero": _both(lambda m: lambda x: m.F.selu(x), ZEROS),
    "hardtanh_edges": _both(lambda m: lambda x: m.F.hardtanh(x, 0.0, 1.0), ZEROS),
    "log_of_zero": _both(lambda m: lambda x: x.log(), ABS_ZEROS),
    "xlogy_zeros": _both(lambda m: lambda x, y: m.xlogy(x, y), ABS_ZEROS, ABS_ZEROS),
    "atan2_origin": _both(lambda m: lambda x, y: m.atan2(x, y), ZEROS, ZEROS),
    "hypot_origin": _both(lambda m: lambda x, y: m.hypot(x, y), ZEROS, ZEROS),
    "norm_of_zeros": _both(lambda m: lambda x: x.norm(), np.zeros((2, 3))),
    "norm_dim_zero_column": _both(lambda m: lambda x: x.norm(dim=0), ZEROS),
    "norm_half_zero_elements": _both(lambda m: lambda x: _norm(m)(x, 0.5, 1), ZEROS),
    "normalize_zeros": _both(lambda m: lambda x: m.F.normalize(x, dim=1), np.zeros((2, 3))),
    "cosine_similarity_zeros": _both(
        lambda m: lambda x, y: m.F.cosine_similarity(x, y), np.zeros((2, 3)), TIES
    ),
    "div_by_zero": _both(lambda m: lambda x, y: x / y, ZEROS, ZEROS),
    "softmax_of_minus_inf": _both(lambda m: lambda x: x.log().softmax(1), ABS_ZEROS),
    "logsumexp_of_minus_inf": _both(lambda m: lambda x: x.log().logsumexp(1), ABS_ZEROS),
    "sinc_at_zero": _both(lambda m: lambda x: m.sinc(x), ZEROS),
    "logit_at_the_ends": _both(lambda m: lambda x: m.logit(x), PROBABILITIES),
    "asin_at_the_ends": _both(lambda m: lambda x: x.asin(), np.array([[1.0, -1.0, 0.0]])),
    "binary_cross_entropy_saturated": _both(
        lambda m: lambda x, y: m.F.binary_cross_entropy(x, y),
        PROBABILITIES,
        np.array([[0.0, 1.0, 1.0]]),
    ),
    "kl_div_zero_target": _both(
        lambda m: lambda x, y: m.F.kl_div(x, y, reduction="sum"), ZEROS, ABS_ZEROS
    ),
    "smooth_l1_at_beta": _both(
        lambda m: lambda x, y: m.F.smooth_l1_loss(x, y, beta=1.0, reduction="none"),
        ZEROS,
        ZEROS + 1,
    ),
    "huber_at_delta": _both(
        lambda m: lambda x, y: m.F.huber_loss(x, y, delta=1.0, reduction="none"),
        ZEROS,
        ZEROS + np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]),
    ),
    "layer_norm_of_equal_values": _both(lambda m: lambda x: m.F.layer_norm(x, (3,)), TIES),
    "max_pool_ties": _both(lambda m: lambda x: m.F.max_pool1d(x.reshape(1, 2, 3), 2, 1), TIES),
    "det_singular": _both(lambda m: lambda x: m.linalg.det(x), SINGULAR),
    "nuclear_norm_singular": _both(lambda m: lambda x: m.linalg.matrix_norm(x, "nuc"), SINGULAR),
    "cummax_ties": _both(lambda m: lambda x: x.cummax(1).values, TIES),
    "angle_at_zero": _both(lambda m: lambda x: x.angle(), ZEROS),
    "relu_of_nonfinite": _both(lambda m: lambda x: x.relu(), NONFINITE),
    "threshold_of_nonfinite": _both(lambda m: lambda x: m.F.threshold(x, 0.2, 2.0), NONFINITE),
    "hardshrink_of_nonfinite": _both(lambda m: lambda x: m.F.hardshrink(x), NONFINITE),
    "softshrink_of_nonfinite": _both(lambda m: lambda x: m.F.softshrink(x), NONFINITE),
    "softplus_of_nonfinite": _both(lambda m: lambda x: m.F.softplus(x), NONFINITE),
    "selu_of_nonfinite": _both(lambda m: lambda x: m.F.selu(x), NONFINITE),
    "hardtanh_of_nonfinite": _both(lambda m: lambda x: m.F.hardtanh(x), NONFINITE),
    "smooth_l1_of_nonfinite": _both(
        lambda m: lambda x, y: m.F.smooth_l1_loss(x, y, beta=0.5, reduction="none"),
        NONFINITE,
        np.zeros(4),
    ),
    "huber_of_nonfinite": _both(
        lambda m: lambda x, y: m.F.huber_loss(x, y, delta=0.5, reduction="none"),
        NONFINITE,
        np.zeros(4),
    ),
}


class _NoStorageError(Exception):
    """torch's undefined zero gradient: it has no storage to read."""


def _read(tensor):
    try:
        return np.asarray(tensor.detach().tolist(), dtype=np.float64)
    except RuntimeError as error:
        if "unallocated storage" in str(error):
            raise _NoStorageError from None
        raise


def _derivatives(module, build, arrays):
    """The value, the gradient of a weighted sum, and the gradient of a weighted sum of that
    gradient (None where it does not reach an input, or where torch refuses or cannot show
    it)."""
    inputs = [module.tensor(a, dtype=module.float64, requires_grad=True) for a in arrays]
    out = build(module)(*inputs)
    weights = np.linspace(0.3, 1.7, out.numel()).reshape(tuple(out.shape))
    total = (out * module.tensor(weights, dtype=module.float64)).sum()
    grads = module.autograd.grad(total, inputs, create_graph=True, allow_unused=True)
    results = [_read(out)] + [None if g is None else _read(g) for g in grads]
    differentiable = [g for g in grads if g is not None and g.requires_grad]
    if not differentiable:
        return results, None
    second_weights = [np.linspace(-1.0, 1.0, g.numel()).reshape(tuple(g.shape)) for g in grads]
    weighted = sum(
        (g * module.tensor(w, dtype=module.float64)).sum()
        for g, w in zip(grads, second_weights)
        if g is not None and g.requires_grad
    )
    try:
        seconds = module.autograd.grad(weighted, inputs, allow_unused=True)
        return results, [None if s is None else _read(s) for s in seconds]
    except (NotImplementedError, _NoStorageError):  # torch refuses, or cannot show, it
        return results, None


def _assert_same(mine, theirs, what):
    for index, (a, b) in enumerate(zip(mine, theirs)):
        if a is None or b is None:  # no gradient reached this input: zeros are the same
            present = a if b is None else b
            assert present is None or not np.any(present), f"{what}[{index}]"
            continue
        np.testing.assert_allclose(
            a, b, rtol=1e-7, atol=1e-9, equal_nan=True, err_msg=f"{what}[{index}]"
        )


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_value_gradient_and_second_derivative_at_special_points_are_torchs(case):
    build, arrays = CASES[case]
    mine, mine_second = _derivatives(CHAINRULE, build, arrays)
    theirs, theirs_second = _derivatives(TORCH, build, arrays)
    _assert_same(mine, theirs, "value and gradients")
    if mine_second is not None and theirs_second is not None:
        _assert_same(mine_second, theirs_second, "second derivatives")
