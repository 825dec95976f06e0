"""Second derivatives through piecewise-linear ops are zero tensors, as PyTorch's (issue 11,
item 4): PyTorch writes their backward as a function of the op's input that is constant in
it, so the graph stays connected. Where PyTorch's backward does not depend on the input
(clamp, max over a dim, sort, ...) both libraries refuse the second `grad` alike."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule
import chainrule.nn.functional as F


def _functional(lib):
    return TF if lib is torch else F


CONNECTED = {
    "relu": lambda lib, h: lib.relu(h),
    "relu6": lambda lib, h: _functional(lib).relu6(h),
    "hardtanh": lambda lib, h: _functional(lib).hardtanh(h),
    "leaky_relu": lambda lib, h: _functional(lib).leaky_relu(h, 0.1),
    "rrelu in eval": lambda lib, h: _functional(lib).rrelu(h, training=False),
    "max_pool1d": lambda lib, h: _functional(lib).max_pool1d(h.unsqueeze(0), 2),
    "max_pool2d": lambda lib, h: _functional(lib).max_pool2d(h.reshape(1, 1, 3, 4), 2),
    "adaptive_max_pool1d": lambda lib, h: _functional(lib).adaptive_max_pool1d(h.unsqueeze(0), 2),
    "abs": lambda lib, h: h.abs(),
    "hardshrink": lambda lib, h: _functional(lib).hardshrink(h, 0.3),
    "softshrink": lambda lib, h: _functional(lib).softshrink(h, 0.3),
    "threshold": lambda lib, h: _functional(lib).threshold(h, 0.1, 2.0),
    "prelu": lambda lib, h: _functional(lib).prelu(h, lib.tensor([0.25], dtype=lib.float64)),
}
REFUSED = {
    "clamp": lambda lib, h: h.clamp(-0.5, 0.5),
    "max over a dim": lambda lib, h: h.max(dim=1)[0],
    "maximum": lambda lib, h: lib.maximum(h, lib.zeros(3, 4, dtype=lib.float64)),
    "sort": lambda lib, h: h.sort(dim=1)[0],
    "where": lambda lib, h: lib.where(h > 0, h, 0.0),
}
W = np.random.default_rng(0).standard_normal((2, 4))
X = np.random.default_rng(1).standard_normal((3, 2))


def _first_gradient(lib, f):
    x = lib.tensor(X, dtype=lib.float64, requires_grad=True)
    y = f(lib, x @ lib.tensor(W, dtype=lib.float64)).sum()
    (g,) = lib.autograd.grad(y, x, create_graph=True)
    return x, g


@pytest.mark.parametrize("name", sorted(CONNECTED))
def test_the_second_derivative_is_a_zero_tensor(name):
    x_t, g_t = _first_gradient(torch, CONNECTED[name])
    x_c, g_c = _first_gradient(chainrule, CONNECTED[name])
    np.testing.assert_allclose(g_c.detach().numpy(), g_t.detach().numpy())
    (expected,) = torch.autograd.grad(g_t.sum(), x_t)
    (second,) = chainrule.autograd.grad(g_c.sum(), x_c)
    assert second is not None
    np.testing.assert_array_equal(second.numpy(), expected.numpy())
    np.testing.assert_array_equal(second.numpy(), np.zeros_like(X))


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_where_pytorch_refuses_the_second_grad_so_does_chainrule(name):
    x_t, g_t = _first_gradient(torch, REFUSED[name])
    x_c, g_c = _first_gradient(chainrule, REFUSED[name])
    with pytest.raises(RuntimeError):
        torch.autograd.grad(g_t.sum(), x_t)
    with pytest.raises(RuntimeError):  # GradError is a RuntimeError, as PyTorch's
        chainrule.autograd.grad(g_c.sum(), x_c)
