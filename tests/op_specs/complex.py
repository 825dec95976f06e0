"""Specs with complex inputs (OpSpec(complex=...)): every op PyTorch supports for complex
tensors, checked against PyTorch's values and gradients (grad = dL/da + i dL/db for z = a + ib)
and against finite differences along the real and the imaginary parts.

Domains keep the parts in [-2, 2] (or away from branch cuts and poles where the op has them:
log, sqrt and the inverse functions have a cut on a half-line of the real axis, which a
finite difference must not straddle).
"""

import math

import numpy as np
import torch

import chainrule
from chainrule.testing import OpSpec

BINARY_SHAPES = [((2, 3), (2, 3)), ((2, 3), (3,)), ((), (2, 3))]
UNARY_SHAPES = [((2, 3),), ((),)]
WIDE = (-2.0, 2.0)
RIGHT = (0.5, 2.0)  # both parts positive: away from the cuts on the negative real axis
SMALL = (-0.6, 0.6)  # inside the unit disc: away from the cuts of asin, acos, atanh


def _unary(name, fn, torch_fn, domain=WIDE, shapes=UNARY_SHAPES, **options):
    options.setdefault("complex", True)
    return OpSpec(f"complex_{name}", fn, torch_fn, shapes=shapes, domains=[domain], **options)


def _binary(name, fn, torch_fn, domains=(WIDE, WIDE), shapes=BINARY_SHAPES, **options):
    options.setdefault("complex", True)
    return OpSpec(f"complex_{name}", fn, torch_fn, shapes=shapes, domains=list(domains), **options)


# ---- arithmetic --------------------------------------------------------------------------------

ARITHMETIC = [
    _binary("add", chainrule.add, torch.add),
    _binary("sub", chainrule.sub, torch.sub),
    _binary("mul", chainrule.mul, torch.mul),
    _binary("div", chainrule.div, torch.div, domains=(WIDE, RIGHT)),
    _binary("pow", chainrule.pow, torch.pow, domains=(RIGHT, WIDE)),
    # A real operand promotes: its gradient is the real part of the complex one.
    _binary("mul_real_by_complex", chainrule.mul, torch.mul, complex=(False, True)),
    _binary(
        "div_complex_by_real",
        chainrule.div,
        torch.div,
        domains=(WIDE, RIGHT),
        complex=(True, False),
    ),  # fmt: skip
    _unary("mul_python_complex", lambda z: z * (1.5 - 2j), lambda z: z * (1.5 - 2j)),
    _unary("add_python_complex", lambda z: 2j + z, lambda z: 2j + z),
    _unary("mul_python_float", lambda z: z * 2.5, lambda z: z * 2.5),
    _unary("real_times_1j", lambda x: x * 1j, lambda x: x * 1j, complex=False),
    OpSpec(
        "complex_lerp",
        chainrule.lerp,
        torch.lerp,
        shapes=[((2, 3), (2, 3), (2, 3)), ((3,), (3,), ())],
        complex=True,
    ),
    _unary(
        "lerp_scalar_weight",
        lambda z: chainrule.lerp(z, z * 2j, 0.3),
        lambda z: torch.lerp(z, z * 2j, 0.3),
    ),  # fmt: skip
    _unary("neg", chainrule.neg, torch.neg),
    _unary("square", chainrule.square, torch.square),
    _unary("reciprocal", chainrule.reciprocal, torch.reciprocal, domain=RIGHT),
    _unary("pow_scalar", lambda z: z**3, lambda z: z**3),
    _unary("pow_fractional", lambda z: z**1.5, lambda z: z**1.5, domain=RIGHT),
]

# ---- holomorphic functions --------------------------------------------------------------------

HOLOMORPHIC = [
    _unary("exp", chainrule.exp, torch.exp),
    _unary("exp2", chainrule.exp2, torch.exp2),
    _unary("expm1", chainrule.expm1, torch.expm1),
    _unary("log", chainrule.log, torch.log, domain=RIGHT),
    _unary("log1p", chainrule.log1p, torch.log1p, domain=RIGHT),
    _unary("log2", chainrule.log2, torch.log2, domain=RIGHT),
    _unary("log10", chainrule.log10, torch.log10, domain=RIGHT),
    _unary("sqrt", chainrule.sqrt, torch.sqrt, domain=RIGHT),
    _unary("rsqrt", chainrule.rsqrt, torch.rsqrt, domain=RIGHT),
    _unary("sin", chainrule.sin, torch.sin),
    _unary("cos", chainrule.cos, torch.cos),
    _unary("tan", chainrule.tan, torch.tan, domain=SMALL),
    _unary("asin", chainrule.asin, torch.asin, domain=SMALL),
    _unary("acos", chainrule.acos, torch.acos, domain=SMALL),
    _unary("atan", chainrule.atan, torch.atan, domain=SMALL),
    _unary("sinh", chainrule.sinh, torch.sinh),
    _unary("cosh", chainrule.cosh, torch.cosh),
    _unary("tanh", chainrule.tanh, torch.tanh, domain=SMALL),
    _unary("sigmoid", chainrule.sigmoid, torch.sigmoid, domain=SMALL),
    _unary("asinh", chainrule.asinh, torch.asinh, domain=SMALL),
    _unary("acosh", chainrule.acosh, torch.acosh, domain=RIGHT),
    _unary("atanh", chainrule.atanh, torch.atanh, domain=SMALL),
    _unary("sinc", chainrule.sinc, torch.sinc, domain=RIGHT),
]

# ---- parts, conjugate, modulus and argument ------------------------------------------------------

PARTS = [
    _unary("real", chainrule.real, torch.real),
    _unary("imag", chainrule.imag, torch.imag),
    _unary("real_property", lambda z: z.real * z.imag, lambda z: z.real * z.imag),
    _unary("conj", chainrule.conj, torch.conj),
    _unary("conj_physical", chainrule.conj_physical, torch.conj_physical),
    _unary("abs", chainrule.abs, torch.abs),
    _unary("sgn", chainrule.sgn, torch.sgn),
    _unary("angle", chainrule.angle, torch.angle),
    _unary("angle_of_real", chainrule.angle, torch.angle, complex=False),
    _unary("view_as_real", chainrule.view_as_real, torch.view_as_real),
    OpSpec(
        "view_as_complex",
        chainrule.view_as_complex,
        torch.view_as_complex,
        shapes=[((3, 2),), ((2, 4, 2),)],
        noncontiguous=False,  # torch's view needs the last dimension contiguous
    ),
    OpSpec("complex", chainrule.complex, torch.complex, shapes=[((2, 3), (2, 3)), ((3,), ())]),
    OpSpec(
        "polar",
        chainrule.polar,
        torch.polar,
        shapes=[((2, 3), (2, 3))],
        domains=[(0.5, 2.0), (-math.pi, math.pi)],
    ),
    _unary("abs_squared", lambda z: (z * z.conj()).real, lambda z: (z * z.conj()).real),
]

# ---- reductions, matrix products, shape and indexing -------------------------------------------

REDUCTIONS = [
    _unary("sum", chainrule.sum, torch.sum),
    _unary("sum_dim", lambda z: z.sum(1), lambda z: z.sum(1), shapes=[((2, 3),)]),
    _unary("mean", chainrule.mean, torch.mean),
    _unary("mean_dim", lambda z: z.mean(0), lambda z: z.mean(0), shapes=[((2, 3),)]),
    _unary("prod", lambda z: z.prod(1), lambda z: z.prod(1), shapes=[((2, 3),)]),
    _unary("cumprod", lambda z: z.cumprod(1), lambda z: z.cumprod(1), shapes=[((2, 3),)]),
    _unary("cumsum", lambda z: z.cumsum(0), lambda z: z.cumsum(0), shapes=[((2, 3),)]),
    _unary("var", chainrule.var, torch.var, shapes=[((2, 3),)]),
    _unary("std_dim", lambda z: z.std(1), lambda z: z.std(1), shapes=[((2, 3),)]),
    _unary(
        "vector_norm",
        lambda z: chainrule.linalg.vector_norm(z),
        lambda z: torch.linalg.vector_norm(z),
    ),
    _unary("norm", lambda z: z.norm(), lambda z: z.norm()),
    _unary(
        "matrix_norm_fro",
        lambda z: chainrule.linalg.matrix_norm(z),
        lambda z: torch.linalg.matrix_norm(z),
        shapes=[((2, 3),)],
    ),
    _unary(
        "matrix_norm_inf",
        lambda z: chainrule.linalg.matrix_norm(z, float("inf")),
        lambda z: torch.linalg.matrix_norm(z, float("inf")),
        shapes=[((2, 3),)],
    ),
]

PRODUCTS = [
    _binary("matmul", chainrule.matmul, torch.matmul, shapes=[((2, 3), (3, 4)), ((3,), (3, 2))]),
    _binary("mm", chainrule.mm, torch.mm, shapes=[((2, 3), (3, 4))]),
    _binary("bmm", chainrule.bmm, torch.bmm, shapes=[((2, 2, 3), (2, 3, 4))]),
    _binary(
        "einsum",
        lambda a, b: chainrule.einsum("ij,jk->ik", a, b),
        lambda a, b: torch.einsum("ij,jk->ik", a, b),
        shapes=[((2, 3), (3, 4))],
    ),
    _binary(
        "vecdot",
        lambda a, b: chainrule.linalg.vecdot(a, b),
        lambda a, b: torch.linalg.vecdot(a, b),
        shapes=[((2, 3), (2, 3))],
    ),
    _binary(
        "vdot",
        chainrule.vdot,
        torch.vdot,
        shapes=[((3,), (3,))],
    ),
    _binary("outer", chainrule.outer, torch.outer, shapes=[((3,), (2,))]),
]


def _well_conditioned(rng):
    """A complex matrix near 3 I (comfortably invertible) and a right-hand side."""
    noise = rng.uniform(-0.5, 0.5, (2, 3, 3)) + 1j * rng.uniform(-0.5, 0.5, (2, 3, 3))
    rhs = rng.uniform(-2, 2, (2, 3, 2)) + 1j * rng.uniform(-2, 2, (2, 3, 2))
    return noise + 3 * np.eye(3), rhs


LINALG = [
    OpSpec(
        "complex_linalg.inv",
        chainrule.linalg.inv,
        torch.linalg.inv,
        make_inputs=lambda rng: _well_conditioned(rng)[:1],
    ),
    OpSpec(
        "complex_linalg.det",
        chainrule.linalg.det,
        torch.linalg.det,
        make_inputs=lambda rng: _well_conditioned(rng)[:1],
    ),
    OpSpec(
        "complex_linalg.solve",
        chainrule.linalg.solve,
        torch.linalg.solve,
        make_inputs=_well_conditioned,
    ),
]

SHAPE = [
    _unary("reshape", lambda z: z.reshape(3, 2), lambda z: z.reshape(3, 2), shapes=[((2, 3),)]),
    _unary(
        "view", lambda z: z.view(-1), lambda z: z.view(-1), shapes=[((2, 3),)], noncontiguous=False
    ),  # fmt: skip
    _unary(
        "transpose", lambda z: z.transpose(0, 1), lambda z: z.transpose(0, 1), shapes=[((2, 3),)]
    ),  # fmt: skip
    _unary("mH", lambda z: z.mH, lambda z: z.mH, shapes=[((2, 3),)]),
    _unary("index", lambda z: z[1:, ::2], lambda z: z[1:, ::2], shapes=[((3, 4),)]),
    _binary(
        "cat",
        lambda a, b: chainrule.cat([a, b]),
        lambda a, b: torch.cat([a, b]),
        shapes=[((2, 3), (1, 3))],
    ),  # fmt: skip
    _binary(
        "stack",
        lambda a, b: chainrule.stack([a, b]),
        lambda a, b: torch.stack([a, b]),
        shapes=[((2, 3), (2, 3))],
    ),  # fmt: skip
    _binary(
        "where",
        lambda a, b: chainrule.where(chainrule.tensor([True, False, True], device=a.device), a, b),
        lambda a, b: torch.where(torch.tensor([True, False, True]), a, b),
        shapes=[((2, 3), (2, 3))],
    ),
]

SPECS = [*ARITHMETIC, *HOLOMORPHIC, *PARTS, *REDUCTIONS, *PRODUCTS, *LINALG, *SHAPE]
