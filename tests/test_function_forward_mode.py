"""A custom autograd.Function in forward mode, as PyTorch: its `jvp` (reading what
`ctx.save_for_forward` kept) gives the outputs' tangents; forward itself sees no tangents."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule


def _straight_through(lib):
    """round() forward, identity-scaled derivatives: jvp and forward disagree on purpose."""

    class ScaledRound(lib.autograd.Function):
        @staticmethod
        def forward(x, scale):
            return (x * scale).round()

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, scale = inputs
            ctx.scale = scale
            ctx.save_for_backward(x)
            ctx.save_for_forward(x)

        @staticmethod
        def backward(ctx, grad):
            return grad * ctx.scale, None

        @staticmethod
        def jvp(ctx, tangent, scale_tangent):
            (x,) = ctx.saved_tensors  # what save_for_forward kept
            assert scale_tangent is None and tuple(x.shape) == tuple(tangent.shape)
            return tangent * ctx.scale

    return ScaledRound


def _forward_mode_run(lib):
    function = _straight_through(lib)
    forward_ad = lib.autograd.forward_ad
    primal = lib.tensor([1.2, 2.7], dtype=lib.float64)
    with forward_ad.dual_level():
        dual = forward_ad.make_dual(primal, lib.tensor([1.0, 3.0], dtype=lib.float64))
        out = function.apply(dual, 2.0)
        value, tangent = forward_ad.unpack_dual(out)
        chained = forward_ad.unpack_dual((function.apply(dual * 3, 2.0) ** 2).sum()).tangent
    return value.tolist(), tangent.tolist(), float(chained)


def test_forward_mode_uses_the_functions_jvp():
    ours = _forward_mode_run(chainrule)
    assert ours == _forward_mode_run(torch)
    assert ours[1] == [2.0, 6.0]  # jvp's tangent, not round's zero derivative


def test_func_jvp_uses_the_functions_jvp():
    function = _straight_through(chainrule)
    out, tangent = chainrule.func.jvp(
        lambda v: function.apply(v, 2.0), (chainrule.tensor([1.2, 2.7]),), (chainrule.ones(2),)
    )
    assert out.tolist() == [2.0, 5.0] and tangent.tolist() == [2.0, 2.0]


def test_a_jvp_with_the_wrong_shape_or_count_is_refused():
    class Bad(chainrule.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * 2

        @staticmethod
        def jvp(ctx, tangent):
            return tangent.sum()

    forward_ad = chainrule.autograd.forward_ad
    with forward_ad.dual_level():
        dual = forward_ad.make_dual(chainrule.ones(3), chainrule.ones(3))
        with pytest.raises(RuntimeError, match="Bad.jvp returned a tangent of shape"):
            Bad.apply(dual)


def test_reverse_mode_is_unchanged_by_a_jvp():
    function = _straight_through(chainrule)
    x = chainrule.tensor([1.2, 2.7], requires_grad=True)
    function.apply(x, 2.0).sum().backward()
    np.testing.assert_allclose(x.grad.tolist(), [2.0, 2.0])


def test_reverse_over_forward_through_the_jvp():
    """The jvp runs with recording as around the call, so the tangent it gives is itself
    differentiable (d/dx of 3x^2 t is 6x t)."""

    def run(lib):
        class Cube(lib.autograd.Function):
            @staticmethod
            def forward(x):
                return x**3

            @staticmethod
            def setup_context(ctx, inputs, output):
                ctx.save_for_backward(inputs[0])
                ctx.save_for_forward(inputs[0])

            @staticmethod
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return 3 * x**2 * grad

            @staticmethod
            def jvp(ctx, tangent):
                (x,) = ctx.saved_tensors
                return 3 * x**2 * tangent

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        forward_ad = lib.autograd.forward_ad
        with forward_ad.dual_level():
            dual = forward_ad.make_dual(x, lib.ones(2))
            tangent = forward_ad.unpack_dual(Cube.apply(dual)).tangent
        (second,) = lib.autograd.grad(tangent.sum(), x)
        return tangent.tolist(), second.tolist()

    assert run(chainrule) == run(torch) == ([3.0, 12.0], [6.0, 12.0])
