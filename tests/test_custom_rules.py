"""chainrule.func.custom_vjp and custom_jvp: JAX's names and semantics, ported from JAX's
documentation examples, checked against finite differences and closed forms, to higher order.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule
import chainrule.numpy as cnp
from chainrule.autograd import gradcheck, gradgradcheck
from chainrule.func import custom_jvp, custom_vjp, grad, hessian, jacfwd, jacrev, jvp


def _f64(values, requires_grad=False):
    return chainrule.tensor(values, dtype=chainrule.float64, requires_grad=requires_grad)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


# ---- custom_jvp: log1pexp, JAX's example of a numerically stable derivative -----------------


@custom_jvp
def log1pexp(x):
    return cnp.log(1.0 + cnp.exp(x))


@log1pexp.defjvp
def _log1pexp_jvp(primals, tangents):
    (x,), (t,) = primals, tangents
    return log1pexp(x), t * (1 - 1 / (1 + cnp.exp(x)))


def test_custom_jvp_replaces_the_unstable_derivative():
    plain = grad(lambda x: cnp.log(1.0 + cnp.exp(x)))(1000.0)
    assert math.isnan(plain)  # what autodiff of the formula gives: inf / inf
    assert grad(log1pexp)(1000.0) == 1.0
    primal, tangent = jvp(log1pexp, (np.array([1000.0, 0.0]),), (np.array([2.0, 2.0]),))
    np.testing.assert_allclose(tangent, [2.0, 1.0])
    assert np.isinf(primal[0])  # the primal is still the function's own value


def test_custom_jvp_derivatives_of_every_order_match_the_closed_forms():
    x = np.array([-1.3, 0.2, 2.5])
    s = _sigmoid(x)
    second = np.diag(s * (1 - s))
    total = lambda v: cnp.sum(log1pexp(v))  # noqa: E731
    np.testing.assert_allclose(grad(total)(x), s, rtol=1e-12)
    np.testing.assert_allclose(jacrev(grad(total))(x), second, rtol=1e-12)  # reverse of reverse
    np.testing.assert_allclose(hessian(total)(x), second, rtol=1e-12)  # forward over reverse
    np.testing.assert_allclose(jacfwd(log1pexp)(x), np.diag(s), rtol=1e-12)
    third = grad(grad(grad(lambda v: log1pexp(v))))(0.3)
    s3 = _sigmoid(0.3)
    assert third == pytest.approx(s3 * (1 - s3) * (1 - 2 * s3), rel=1e-12)
    assert gradgradcheck(log1pexp, [_f64(x, requires_grad=True)])


def test_custom_jvp_defjvps_and_nondiff_argnums():
    @custom_jvp
    def scaled_sin(x, scale):
        return cnp.sin(x) * scale

    scaled_sin.defjvps(lambda t, ans, x, scale: cnp.cos(x) * scale * t, None)
    x = np.array([0.1, 0.7])
    np.testing.assert_allclose(grad(lambda v: cnp.sum(scaled_sin(v, 3.0)))(x), 3 * np.cos(x))
    gx, gscale = grad(lambda v, c: cnp.sum(scaled_sin(v, c)), argnums=(0, 1))(x, 2.0)
    np.testing.assert_allclose(gx, 2 * np.cos(x))
    assert gscale == 0.0  # None: the rule says the scale does not move the output

    def power_jvp(n, primals, tangents):
        (x,), (t,) = primals, tangents
        return x**n, n * x ** (n - 1) * t

    power = custom_jvp(lambda n, x: x**n, nondiff_argnums=(0,))
    power.defjvp(power_jvp)
    np.testing.assert_allclose(grad(lambda v: cnp.sum(power(3, v)))(x), 3 * x**2)
    np.testing.assert_allclose(jacfwd(lambda v: power(3, v))(x), np.diag(3 * x**2))


def test_custom_jvp_without_a_rule_and_undifferentiated_calls():
    bare = custom_jvp(lambda x: x * 2)
    with pytest.raises(AttributeError, match="No JVP defined"):
        bare(_f64([1.0]))
    calls = []

    @custom_jvp
    def traced(x):
        calls.append(x)
        return x + 1

    traced.defjvp(lambda p, t: (p[0] + 1, t[0]))
    assert traced(1.0) == 2.0  # no differentiation: just the function
    assert len(calls) == 1


# ---- custom_vjp: clip_gradient, JAX's example, and a residual-carrying rule -------------------


@custom_vjp
def clip_gradient(low, high, x):
    return x


def _clip_fwd(low, high, x):
    return x, (low, high)


def _clip_bwd(residuals, g):
    low, high = residuals
    return (None, None, cnp.clip(g, low, high))


clip_gradient.defvjp(_clip_fwd, _clip_bwd)


def test_custom_vjp_clips_the_gradient():
    def f(x):
        return cnp.sum(clip_gradient(-0.75, 0.75, cnp.sin(x)) * 3)

    x = np.array([0.0, 1.0, 2.0])
    np.testing.assert_allclose(grad(f)(x), 0.75 * np.cos(x))
    np.testing.assert_allclose(f(x).item(), 3 * np.sin(x).sum())  # the value is untouched


def test_custom_vjp_nondiff_argnums_are_passed_to_bwd_first():
    def fwd(n, x):
        return x**n, x

    def bwd(n, x, g):
        return (g * n * x ** (n - 1),)

    power = custom_vjp(lambda n, x: x**n, nondiff_argnums=(0,))
    power.defvjp(fwd, bwd)
    x = np.array([0.5, -1.5])
    np.testing.assert_allclose(grad(lambda v: cnp.sum(power(3, v)))(x), 3 * x**2)
    # residuals computed in the graph: second derivatives through fwd and bwd
    np.testing.assert_allclose(jacrev(grad(lambda v: cnp.sum(power(3, v))))(x), np.diag(6 * x))
    np.testing.assert_allclose(hessian(lambda v: cnp.sum(power(3, v)))(x), np.diag(6 * x))
    assert gradgradcheck(lambda v: power(3, v), [_f64(x, requires_grad=True)])


def test_custom_vjp_of_several_outputs_and_pytree_arguments():
    @custom_vjp
    def polar(point):
        radius = cnp.sqrt(point["x"] ** 2 + point["y"] ** 2)
        return radius, cnp.arctan2(point["y"], point["x"])

    def fwd(point):
        return polar(point), point

    def bwd(point, cotangents):
        g_radius, g_angle = cotangents
        x, y = point["x"], point["y"]
        squared = x**2 + y**2
        radius = cnp.sqrt(squared)
        return (
            {
                "x": g_radius * x / radius - g_angle * y / squared,
                "y": g_radius * y / radius + g_angle * x / squared,
            },
        )

    polar.defvjp(fwd, bwd)
    x, y = _f64([0.3, -1.2], requires_grad=True), _f64([0.8, 0.4], requires_grad=True)

    def both(x, y):
        radius, angle = polar({"x": x, "y": y})
        return radius * 2 + angle

    assert gradcheck(both, [x, y])
    assert gradgradcheck(both, [x, y])


def test_custom_vjp_refuses_forward_mode_and_checks_bwd():
    with pytest.raises(TypeError, match="forward-mode autodiff"):
        jvp(lambda x: clip_gradient(-1.0, 1.0, x), (np.ones(2),), (np.ones(2),))
    bad = custom_vjp(lambda x: x * 2)
    bad.defvjp(lambda x: (x * 2, None), lambda residuals, g: g * 2)  # not a tuple
    with pytest.raises(TypeError, match="one cotangent per differentiable argument"):
        grad(lambda x: cnp.sum(bad(x)))(np.ones(2))
    wrong_shape = custom_vjp(lambda x: x * 2)
    wrong_shape.defvjp(lambda x: (x * 2, None), lambda residuals, g: (g.sum(),))
    with pytest.raises(ValueError, match="shape"):
        grad(lambda x: cnp.sum(wrong_shape(x)))(np.ones(2))
    missing = custom_vjp(lambda x: x)
    with pytest.raises(AttributeError, match="No VJP defined"):
        missing(_f64([1.0]))
