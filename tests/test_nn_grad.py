"""torch.nn.grad: a convolution's gradients with respect to its input and its weight, given
the gradient of its output, compared with PyTorch's (values, and a double backward)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule
import chainrule.nn.grad

CASES = {
    # name: (dims, input shape, weight shape, stride, padding, dilation, groups)
    "conv1d": (1, (2, 3, 9), (4, 3, 3), 1, 0, 1, 1),
    "conv1d_strided_grouped": (1, (2, 4, 10), (6, 2, 3), 2, 1, 2, 2),
    "conv2d": (2, (2, 3, 7, 6), (5, 3, 3, 2), 1, 1, 1, 1),
    "conv2d_strided_grouped": (2, (2, 4, 7, 6), (6, 2, 3, 2), 2, (1, 0), 1, 2),
    "conv3d": (3, (1, 2, 5, 4, 4), (3, 2, 2, 2, 3), 1, 0, (1, 2, 1), 1),
}


def _grads(lib, module, case, arrays):
    dims, _, _, stride, padding, dilation, groups = case
    x, w, g = (lib.tensor(a, requires_grad=True) for a in arrays)
    options = (stride, padding, dilation, groups)
    grad_input = getattr(module, f"conv{dims}d_input")(x.shape, w, g, *options)
    grad_weight = getattr(module, f"conv{dims}d_weight")(x, w.shape, g, *options)
    # a double backward through both
    second = lib.autograd.grad((grad_input**2).sum() + (grad_weight**2).sum(), (x, w, g))
    return grad_input, grad_weight, second


@pytest.mark.parametrize("name", CASES)
def test_convolution_gradients_match_torch(name):
    case = CASES[name]
    dims, x_shape, w_shape, stride, padding, dilation, groups = case
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    convolution = getattr(torch.nn.functional, f"conv{dims}d")
    out_shape = convolution(
        torch.tensor(x), torch.tensor(w), None, stride, padding, dilation, groups
    ).shape
    arrays = (x, w, rng.standard_normal(tuple(out_shape)))
    ours = _grads(chainrule, chainrule.nn.grad, case, arrays)
    theirs = _grads(torch, torch.nn.grad, case, arrays)
    for mine, reference in zip((ours[0], ours[1], *ours[2]), (theirs[0], theirs[1], *theirs[2])):
        assert tuple(mine.shape) == tuple(reference.shape)
        np.testing.assert_allclose(mine.detach().numpy(), reference.detach().numpy(), atol=1e-10)


def test_a_grad_output_of_the_wrong_shape_is_refused():
    weight = chainrule.ones(2, 1, 3)
    with pytest.raises(RuntimeError, match="grad_output"):
        chainrule.nn.grad.conv1d_input((1, 1, 5), weight, chainrule.ones(1, 2, 4))
