"""Specs for chainrule.ops.special (torch.special): one or more per differentiable op.

Domains are where PyTorch defines the derivative and finite differences apply: lgamma and the
polygammas away from their poles, erfinv and ndtri inside (-1, 1) and (0, 1), entr on x > 0.
zeta and gammainc have no derivative in their first argument in PyTorch, so their specs hold
it at a constant; the `*_at_zero` specs put the Bessel functions' 0/0 limits exactly at 0
and compare with PyTorch only (the value there is a limit, not a difference quotient).
"""

import numpy as np
import torch

import chainrule
from chainrule.ops import special
from chainrule.testing import OpSpec

UNARY_SHAPES = [((2, 3),), ((5,),), ((),)]
BINARY_SHAPES = [((2, 3), (2, 3)), ((2, 3), (3,)), ((4, 1), (1, 5)), ((), (2, 3))]
WIDE = (-2.0, 2.0)
POSITIVE = (0.5, 3.0)


def _unary(name, fn, torch_fn, domain=WIDE, **options):
    return OpSpec(name, fn, torch_fn, shapes=UNARY_SHAPES, domains=[domain], **options)


def _with_zero(rng):
    return (np.array([0.0, 0.5, -1.5, 2.5, 0.0]),)


SPECS = [
    _unary("lgamma", chainrule.lgamma, torch.lgamma, POSITIVE),
    _unary("lgamma_negative", chainrule.lgamma, torch.lgamma, (-2.8, -2.2)),
    _unary("digamma", chainrule.digamma, torch.digamma, POSITIVE),
    _unary("digamma_negative", chainrule.digamma, torch.digamma, (-1.8, -1.2)),
    _unary("special_psi", chainrule.special.psi, torch.special.psi, POSITIVE),
    _unary(
        "polygamma_0",
        lambda x: chainrule.polygamma(0, x),
        lambda x: torch.polygamma(0, x),
        POSITIVE,
    ),
    _unary(
        "polygamma_1",
        lambda x: chainrule.polygamma(1, x),
        lambda x: torch.polygamma(1, x),
        POSITIVE,
    ),
    _unary(
        "polygamma_3",
        lambda x: chainrule.polygamma(3, x),
        lambda x: torch.polygamma(3, x),
        (1.0, 3.0),
        rtol=1e-4,
    ),
    _unary(
        "multigammaln",
        lambda x: chainrule.special.multigammaln(x, 3),
        lambda x: torch.special.multigammaln(x, 3),
        (1.5, 4.0),
    ),
    _unary("erfinv", chainrule.erfinv, torch.erfinv, (-0.9, 0.9)),
    _unary("erfcx", chainrule.special.erfcx, torch.special.erfcx, (-1.5, 3.0)),
    _unary("erfcx_tail", chainrule.special.erfcx, torch.special.erfcx, (10.0, 30.0)),
    _unary("ndtr", chainrule.special.ndtr, torch.special.ndtr, (-3.0, 3.0)),
    _unary("ndtri", chainrule.special.ndtri, torch.special.ndtri, (0.05, 0.95)),
    _unary("log_ndtr", chainrule.special.log_ndtr, torch.special.log_ndtr, (-3.0, 3.0)),
    _unary("log_ndtr_lower_tail", chainrule.special.log_ndtr, torch.special.log_ndtr, (-40, -20)),
    _unary("i0", chainrule.i0, torch.i0, (-3.0, 3.0)),
    _unary("i0e", chainrule.special.i0e, torch.special.i0e, (0.2, 3.0)),
    _unary("i0e_negative", chainrule.special.i0e, torch.special.i0e, (-3.0, -0.2)),
    _unary("i1", chainrule.special.i1, torch.special.i1, (-3.0, 3.0)),
    _unary("i1e", chainrule.special.i1e, torch.special.i1e, (0.2, 3.0)),
    _unary("i1e_negative", chainrule.special.i1e, torch.special.i1e, (-3.0, -0.2)),
    OpSpec(
        "i1_at_zero",
        chainrule.special.i1,
        torch.special.i1,
        make_inputs=_with_zero,
        finite_differences=False,
    ),
    OpSpec(
        "i1e_at_zero",
        chainrule.special.i1e,
        torch.special.i1e,
        make_inputs=_with_zero,
        finite_differences=False,
        second_order=False,  # sign(x)'s kink at 0: PyTorch's second derivative is its own
    ),
    _unary("entr", chainrule.special.entr, torch.special.entr, (0.2, 2.0)),
    OpSpec(
        "xlog1py",
        chainrule.special.xlog1py,
        torch.special.xlog1py,
        shapes=BINARY_SHAPES,
        domains=[WIDE, (-0.5, 2.0)],
    ),
    OpSpec(
        "xlog1py_zero_x",  # PyTorch's masks where x == 0: a convention, torch only
        chainrule.special.xlog1py,
        torch.special.xlog1py,
        make_inputs=lambda rng: (
            rng.choice(np.asarray([0.0, 0.7, -1.3]), size=(3, 4)),
            rng.choice(np.asarray([-1.0, 0.5, 1.5]), size=(3, 4)),
        ),
        finite_differences=False,
    ),
    _unary(
        "zeta_in_q",
        lambda q: chainrule.special.zeta(3.0, q),
        lambda q: torch.special.zeta(3.0, q),
        POSITIVE,
    ),
    _unary(
        "gammainc_in_x",
        lambda x: chainrule.special.gammainc(2.5, x),
        lambda x: torch.special.gammainc(torch.tensor(2.5, dtype=x.dtype), x),
        (0.2, 5.0),
    ),
    _unary(
        "gammaincc_in_x",
        lambda x: chainrule.special.gammaincc(0.7, x),
        lambda x: torch.special.gammaincc(torch.tensor(0.7, dtype=x.dtype), x),
        (0.2, 5.0),
    ),
]

# The ops these specs exercise, for the coverage test (tests/test_special.py).
COVERED_ELSEWHERE = {special.StandardGamma, special.StandardGammaGrad}
