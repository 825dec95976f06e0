"""Specs for chainrule.ops.special_functions (torch.special's Bessel and Airy functions and
orthogonal polynomials): values against torch only, since PyTorch gives them no derivative
(tests/test_special_functions.py checks every degree, point and edge)."""

import torch

import chainrule.special as cs
from chainrule.testing import OpSpec


def _values(name, make_inputs, fn=None, torch_fn=None):
    return OpSpec(
        name,
        fn or getattr(cs, name),
        torch_fn or getattr(torch.special, name),
        shapes=[()],
        make_inputs=make_inputs,
        finite_differences=False,
    )


def _points(rng):
    return (rng.uniform(0.1, 3.0, size=(3, 4)),)


def _points_and_degrees(rng):
    """Points inside and outside (-1, 1) against degrees on both sides of the switch to the
    trigonometric forms."""
    return rng.uniform(-1.5, 1.5, size=(3, 4)), rng.integers(-1, 12, size=(3, 4)).astype(float)


SPECS = [
    _values("bessel_j0", _points),  # BesselFunction: one op, SciPy's kernel by name
    _values("airy_ai", _points),
    _values("spherical_bessel_j0", _points),
    _values("chebyshev_polynomial_u", _points_and_degrees),  # Chebyshev: every kind, shifted
    _values("hermite_polynomial_h", _points_and_degrees),
    _values("hermite_polynomial_he", _points_and_degrees),
    _values("laguerre_polynomial_l", _points_and_degrees),
    _values("legendre_polynomial_p", _points_and_degrees),
]
