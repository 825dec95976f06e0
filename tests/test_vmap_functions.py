"""vmap over hand-written derivative rules, against torch.func.vmap: a custom
autograd.Function with `generate_vmap_rule = True` (its forward and backward run per example)
or with its own `vmap` staticmethod (called with the batch size, the randomness mode and the
in_dims, returning outputs and out_dims), and `func.custom_vjp` / `custom_jvp` (JAX's names,
on which torch has no counterpart: checked against the gradients they define). Gradients flow
both ways: per example inside vmap (vmap(grad(f))) and from outside through vmap
(vmap(f)(x).sum().backward()), where a shared input's gradient sums over the batch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule
from chainrule.func import custom_jvp, custom_vjp, grad, vmap


def _functions(lib):
    """The same three Functions written for chainrule or torch."""

    class ScaledExp(lib.autograd.Function):
        """exp(x) * k with a straight-through-like backward (g * exp(x) * k, then halved):
        deliberately not the derivative of forward, so a test sees whose rule ran."""

        generate_vmap_rule = True

        @staticmethod
        def forward(x, k):
            return x.exp() * k

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(output)

        @staticmethod
        def backward(ctx, g):
            (out,) = ctx.saved_tensors
            return g * out * 0.5, None

    class MulWithRule(lib.autograd.Function):
        """x * w (w shared or per example), batched by its own vmap staticmethod."""

        calls = []

        @staticmethod
        def forward(x, w):
            return x * w

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(*inputs)

        @staticmethod
        def backward(ctx, g):
            x, w = ctx.saved_tensors
            return g * w, g * x

        @staticmethod
        def vmap(info, in_dims, x, w):
            MulWithRule.calls.append((info.batch_size, info.randomness, tuple(in_dims)))
            x_dim, w_dim = in_dims  # a shared operand broadcasts against the batch as it is
            x = x.movedim(x_dim, 0) if x_dim is not None else x
            w = w.movedim(w_dim, 0) if w_dim is not None else w
            return MulWithRule.apply(x, w), 0

    class SplitSquare(lib.autograd.Function):
        """Two outputs, (x**2, x**3), with a hand-written backward."""

        generate_vmap_rule = True

        @staticmethod
        def forward(x):
            return x**2, x**3

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])

        @staticmethod
        def backward(ctx, g2, g3):
            (x,) = ctx.saved_tensors
            return 2 * x * g2 + 3 * x * x * g3

    return ScaledExp, MulWithRule, SplitSquare


RNG = np.random.default_rng(0)
X = RNG.uniform(-1, 1, (4, 3))
W = RNG.uniform(-1, 1, (3,))
W_PER_EXAMPLE = RNG.uniform(-1, 1, (4, 3))
COTANGENT = RNG.standard_normal((4, 3))


def _cases(lib):
    scaled_exp, mul, split = _functions(lib)
    return {
        "generate_vmap_rule": (lambda x, w: scaled_exp.apply(x, 2.0), (0, None)),
        "vmap staticmethod, shared w": (lambda x, w: mul.apply(x, w), (0, None)),
        "vmap staticmethod, w per example": (
            lambda x, w: mul.apply(x, w),
            (0, 0),
        ),
        "two outputs": (lambda x, w: sum(split.apply(x * w)), (0, None)),
    }


def _inputs(lib, name):
    w = W if "per example" not in name else W_PER_EXAMPLE
    return lib.tensor(X, requires_grad=True), lib.tensor(w, requires_grad=True)


@pytest.mark.parametrize("name", list(_cases(torch)))
def test_vmap_of_a_function_and_its_backward_from_outside_match_torch(name):
    results = []
    for lib, transform in ((chainrule, vmap), (torch, torch.func.vmap)):
        function, in_dims = _cases(lib)[name]
        x, w = _inputs(lib, name)
        out = transform(function, in_dims=in_dims)(x, w)
        (out * lib.tensor(COTANGENT)).sum().backward()
        w_grad = None if w.grad is None else w.grad.numpy()
        results.append([out.detach().numpy(), x.grad.numpy(), w_grad])
    for mine, theirs, what in zip(*results, ("value", "x.grad", "w.grad")):
        assert (mine is None) == (theirs is None), what
        if mine is not None:
            np.testing.assert_allclose(mine, theirs, rtol=1e-12, err_msg=what)


@pytest.mark.parametrize("name", list(_cases(torch)))
def test_per_example_gradients_through_a_function_match_torch(name):
    results = []
    for lib, transform, grad_of in (
        (chainrule, vmap, grad),
        (torch, torch.func.vmap, torch.func.grad),
    ):
        function, in_dims = _cases(lib)[name]
        x, w = _inputs(lib, name)
        x, w = x.detach(), w.detach()

        def loss(xi, wi, function=function, lib=lib):
            return (function(xi, wi) * lib.tensor(COTANGENT[0])).sum()

        per_example = transform(grad_of(loss, argnums=(0, 1)), in_dims=in_dims)(x, w)
        results.append([g.numpy() for g in per_example])
    for mine, theirs in zip(*results):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12)


def test_the_vmap_staticmethod_is_called_with_torchs_info():
    for lib, transform in ((chainrule, vmap), (torch, torch.func.vmap)):
        _, mul, _ = _functions(lib)
        transform(mul.apply, in_dims=(0, None), randomness="same")(lib.tensor(X), lib.tensor(W))
        assert mul.calls == [(4, "same", (0, None))], lib.__name__


def test_nested_vmap_of_a_function_matches_torch():
    results = []
    for lib, transform in ((chainrule, vmap), (torch, torch.func.vmap)):
        scaled_exp, mul, _ = _functions(lib)
        x, w = lib.tensor(X), lib.tensor(W)

        def row(r, mul=mul, scaled_exp=scaled_exp, w=w):
            return mul.apply(scaled_exp.apply(r, 2.0), w)

        results.append(transform(transform(row))(x[:, :, None].expand(4, 3, 3)).numpy())
    np.testing.assert_allclose(*results, rtol=1e-12)


def _clipped():
    @custom_vjp
    def clip_gradient(x, w):
        return x * w

    def fwd(x, w):
        return clip_gradient(x, w), (x, w)

    def bwd(residuals, g):
        x, w = residuals
        return (g * w).clamp(-0.1, 0.1), g * x

    clip_gradient.defvjp(fwd, bwd)
    return clip_gradient


def test_vmap_of_custom_vjp_uses_its_rule_per_example_and_from_outside():
    clip_gradient = _clipped()
    x = chainrule.tensor(X, requires_grad=True)
    w = chainrule.tensor(W, requires_grad=True)
    g = chainrule.tensor(COTANGENT)
    (vmap(clip_gradient, in_dims=(0, None))(x, w) * g).sum().backward()
    expected_x = np.clip(COTANGENT * W, -0.1, 0.1)
    np.testing.assert_allclose(x.grad.numpy(), expected_x, rtol=1e-12)
    np.testing.assert_allclose(w.grad.numpy(), (COTANGENT * X).sum(0), rtol=1e-12)
    per_example = vmap(grad(lambda xi, gi: (clip_gradient(xi, w.detach()) * gi).sum()))(
        x.detach(), g
    )
    np.testing.assert_allclose(per_example.numpy(), expected_x, rtol=1e-12)


def test_vmap_of_custom_jvp_uses_its_tangent_rule():
    @custom_jvp
    def soft_sign(x):
        return x / (1 + x.abs())

    @soft_sign.defjvp
    def soft_sign_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return soft_sign(x), t / (1 + x.abs()) ** 2

    x = chainrule.tensor(X)
    expected = 1 / (1 + np.abs(X)) ** 2
    per_example = vmap(grad(lambda r: soft_sign(r).sum()))(x)
    np.testing.assert_allclose(per_example.numpy(), expected, rtol=1e-12)
    _, tangents = vmap(lambda r: chainrule.func.jvp(soft_sign, (r,), (chainrule.ones_like(r),)))(x)
    np.testing.assert_allclose(tangents.numpy(), expected, rtol=1e-12)
    leaf = x.clone().requires_grad_(True)
    vmap(soft_sign)(leaf).sum().backward()
    np.testing.assert_allclose(leaf.grad.numpy(), expected, rtol=1e-12)


def test_a_backward_returning_a_broadcast_gradient_is_summed_to_the_input_as_torch():
    """What a vmap staticmethod relies on for a shared operand: PyTorch sums a Function's
    gradient of a broadcast shape down to the input's shape."""
    grads = []
    for lib in (chainrule, torch):

        class Broadcast(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, w):
                return x * w

            @staticmethod
            def backward(ctx, g):
                return g, g

        x = lib.ones(4, 3, requires_grad=True)
        w = lib.ones(1, 3, requires_grad=True)
        (Broadcast.apply(x, w) * lib.tensor(COTANGENT)).sum().backward()
        grads.append(w.grad.numpy())
    np.testing.assert_allclose(*grads, rtol=1e-6)
