"""autograd.grad(is_grads_batched=True): the first dimension of the grad_outputs is a batch of
cotangents, and each result holds one gradient per entry, as PyTorch's (which vmaps)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule


def _jacobian_rows(lib):
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    unused = lib.ones(2, requires_grad=True)
    y = x**2
    total = (x * x.sin()).sum()
    eye = lib.eye(3)
    (jacobian,) = lib.autograd.grad(y, x, eye, is_grads_batched=True, retain_graph=True)
    pair = lib.autograd.grad(
        [y, total], [x, unused], [eye, lib.tensor([1.0, 10.0, 100.0])],
        is_grads_batched=True, allow_unused=True, retain_graph=True,
    )  # fmt: skip
    materialized = lib.autograd.grad(
        y, [x, unused], eye, is_grads_batched=True, materialize_grads=True
    )
    return [jacobian, pair[0], pair[1], *materialized]


def test_batched_cotangents_give_pytorchs_rows():
    ours = _jacobian_rows(chainrule)
    theirs = _jacobian_rows(torch)
    assert len(ours) == len(theirs) == 5
    for mine, reference in zip(ours, theirs):
        if reference is None:
            assert mine is None
        else:
            np.testing.assert_allclose(mine.tolist(), reference.tolist(), rtol=1e-6)
    assert tuple(ours[4].shape) == (2,)  # unused and materialized: unbatched zeros, as PyTorch


def test_the_graph_is_freed_after_the_batch_unless_retained():
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    chainrule.autograd.grad(y, x, chainrule.eye(2), is_grads_batched=True)
    with pytest.raises(RuntimeError, match="second time"):
        chainrule.autograd.grad(y, x, chainrule.eye(2), is_grads_batched=True)


def test_batched_grad_refuses_what_it_cannot_do():
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    with pytest.raises(RuntimeError, match="batched tensor for every output"):
        chainrule.autograd.grad(y, x, None, is_grads_batched=True)


def test_batched_rows_with_create_graph_are_a_differentiable_hessian():
    """The Hessian's rows in one call (grad of the gradient with the identity as batched
    grad_outputs), create_graph=True as PyTorch allows: values, and their own derivative (the
    gradient of the Hessian's trace) as torch's. chainrule refused create_graph here."""
    results = []
    for lib in (chainrule, torch):
        x = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        (g,) = lib.autograd.grad((x**3).prod() + x[0] * x[1], x, create_graph=True)
        eye = lib.eye(3, dtype=lib.float64)
        (hessian,) = lib.autograd.grad(g, x, eye, create_graph=True, is_grads_batched=True)
        (third,) = lib.autograd.grad(hessian.trace(), x)
        assert hessian.requires_grad
        results.append((hessian.detach().numpy(), third.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-13)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-13)
