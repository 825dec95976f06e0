"""Specs for chainrule.ops.reduction.

Each op is checked over dims given as an int, a negative int, a tuple and None, with keepdim
both ways. Tie specs draw repeated values (make_inputs) and skip finite differences, which
cannot see a convention at a tie; they still compare values, indices and gradients to torch.
"""

import math

import numpy as np
import torch

import chainrule
from chainrule.testing import OpSpec

CUBE = [((2, 3, 4),)]


def _ties(shape, values=3):
    """Inputs with many equal elements: small integers as floats."""
    return lambda rng: (rng.integers(0, values, size=shape).astype(np.float64),)


def _with_zeros(shape, positions):
    """Inputs away from 0 except for exact zeros at `positions` (flat indices)."""

    def make(rng):
        x = rng.uniform(0.5, 1.5, size=shape) * rng.choice([-1.0, 1.0], size=shape)
        x.reshape(-1)[list(positions)] = 0.0
        return (x,)

    return make


def _both(name, call, **options):
    """A spec for `call(module, x)`, run with module = chainrule and module = torch."""
    options.setdefault("shapes", CUBE)
    return OpSpec(name, lambda *x: call(chainrule, *x), lambda *x: call(torch, *x), **options)


SPECS: list[OpSpec] = []

# ---- sum, mean -----------------------------------------------------------------------------------
SPECS += [
    OpSpec("sum", chainrule.sum, torch.sum, shapes=[((2, 3),), ((4,),), ((),)]),
    OpSpec(
        "sum_dim",
        lambda x: chainrule.sum(x, dim=1, keepdim=True),
        lambda x: torch.sum(x, dim=1, keepdim=True),
        shapes=[((2, 3, 4),)],
    ),
    OpSpec(
        "mean", lambda x: x.mean(dim=(0, -1)), lambda x: x.mean(dim=(0, -1)), shapes=[((2, 3, 4),)]
    ),
    _both("sum_negative_dim", lambda m, x: m.sum(x, -1)),
    _both("sum_tuple_keepdim", lambda m, x: m.sum(x, (0, 2), keepdim=True)),
    _both("mean_none_keepdim", lambda m, x: m.mean(x, None, keepdim=True)),
    _both("mean_dim", lambda m, x: m.mean(x, 1)),
]

# ---- prod ----------------------------------------------------------------------------------------
SPECS += [
    _both("prod", lambda m, x: m.prod(x), shapes=[((2, 3),), ((4,),), ((),)]),
    _both("prod_dim", lambda m, x: m.prod(x, 1)),
    _both("prod_negative_dim_keepdim", lambda m, x: m.prod(x, -1, keepdim=True)),
    _both("prod_scalar_dim", lambda m, x: m.prod(x, 0), shapes=[((),)]),
    _both("prod_one_zero", lambda m, x: m.prod(x), make_inputs=_with_zeros((2, 3), [4])),
    _both("prod_dim_one_zero", lambda m, x: m.prod(x, 1), make_inputs=_with_zeros((3, 4), [1, 6])),
    _both(
        "prod_dim_zeros",
        lambda m, x: m.prod(x, 1),
        make_inputs=_with_zeros((3, 4), [0, 2, 5, 6, 7]),
    ),
    _both(
        "prod_dim0_zeros_keepdim",
        lambda m, x: m.prod(x, 0, keepdim=True),
        make_inputs=_with_zeros((4, 3), [0, 3, 4]),
    ),
    # torch's full prod sends a zero gradient (and so a zero second derivative) when two or more
    # elements are 0: the first derivative matches it, the exact second one is checked by FD
    _both(
        "prod_two_zeros",
        lambda m, x: m.prod(x),
        make_inputs=_with_zeros((2, 3), [1, 4]),
        second_order=False,
    ),
    OpSpec("prod_two_zeros_exact", chainrule.prod, None, make_inputs=_with_zeros((2, 3), [1, 4])),
    OpSpec(
        "prod_three_zeros_exact", chainrule.prod, None, make_inputs=_with_zeros((5,), [0, 2, 3])
    ),
]

# ---- extremes ------------------------------------------------------------------------------------
for name in ("amax", "amin"):
    SPECS += [
        _both(f"{name}_all", lambda m, x, n=name: getattr(m, n)(x), shapes=[((2, 3),), ((),)]),
        _both(f"{name}_dim", lambda m, x, n=name: getattr(m, n)(x, 1)),
        _both(f"{name}_negative_keepdim", lambda m, x, n=name: getattr(m, n)(x, -1, keepdim=True)),
        _both(f"{name}_tuple", lambda m, x, n=name: getattr(m, n)(x, (0, 2))),
        _both(
            f"{name}_ties",
            lambda m, x, n=name: getattr(m, n)(x, 1),
            make_inputs=_ties((3, 4), 2),
            finite_differences=False,
        ),
        _both(
            f"{name}_ties_all",
            lambda m, x, n=name: getattr(m, n)(x),
            make_inputs=_ties((3, 4), 2),
            finite_differences=False,
        ),
    ]
for name in ("max", "min"):
    SPECS += [
        _both(
            f"{name}_all", lambda m, x, n=name: getattr(m, n)(x), shapes=[((2, 3),), ((5,),), ((),)]
        ),
        _both(f"{name}_dim", lambda m, x, n=name: getattr(m, n)(x, 1)),
        _both(f"{name}_negative_keepdim", lambda m, x, n=name: getattr(m, n)(x, -1, keepdim=True)),
        _both(
            f"{name}_dim_keyword", lambda m, x, n=name: getattr(m, n)(x, dim=0), shapes=[((3,),)]
        ),
        _both(f"{name}_scalar_dim", lambda m, x, n=name: getattr(m, n)(x, 0), shapes=[((),)]),
        _both(
            f"{name}_ties_dim",
            lambda m, x, n=name: getattr(m, n)(x, 1),
            make_inputs=_ties((3, 5), 2),
            finite_differences=False,
        ),
        _both(
            f"{name}_ties_all",
            lambda m, x, n=name: getattr(m, n)(x),
            make_inputs=_ties((3, 4), 2),
            finite_differences=False,
        ),
        _both(
            f"{name}_other", lambda m, x, y, n=name: getattr(m, n)(x, y), shapes=[((2, 3), (3,))]
        ),
        _both(f"{name}_method_dim", lambda m, x, n=name: getattr(x, n)(dim=1, keepdim=True)),
    ]
for name in ("argmax", "argmin"):
    SPECS += [
        _both(f"{name}_all", lambda m, x, n=name: getattr(m, n)(x), shapes=[((2, 3),), ((),)]),
        _both(f"{name}_dim", lambda m, x, n=name: getattr(m, n)(x, -2)),
        _both(f"{name}_keepdim", lambda m, x, n=name: getattr(m, n)(x, 1, keepdim=True)),
        _both(f"{name}_all_keepdim", lambda m, x, n=name: getattr(m, n)(x, keepdim=True)),
        _both(
            f"{name}_ties", lambda m, x, n=name: getattr(m, n)(x, 1), make_inputs=_ties((4, 5), 2)
        ),
    ]

# ---- var, std ------------------------------------------------------------------------------------
for name in ("var", "std"):
    SPECS += [
        _both(f"{name}", lambda m, x, n=name: getattr(m, n)(x), shapes=[((2, 3),), ((5,),)]),
        _both(f"{name}_dim", lambda m, x, n=name: getattr(m, n)(x, 1)),
        _both(f"{name}_negative_keepdim", lambda m, x, n=name: getattr(m, n)(x, -1, keepdim=True)),
        _both(
            f"{name}_tuple_correction0", lambda m, x, n=name: getattr(m, n)(x, (0, 2), correction=0)
        ),
        _both(
            f"{name}_none_correction2",
            lambda m, x, n=name: getattr(m, n)(x, None, correction=2, keepdim=True),
        ),
        _both(
            f"{name}_unbiased_false",
            lambda m, x, n=name: getattr(m, n)(x, False),
            shapes=[((2, 3),)],
        ),
        _both(
            f"{name}_dim_unbiased_keepdim", lambda m, x, n=name: getattr(m, n)(x, 1, False, True)
        ),
        _both(f"{name}_method", lambda m, x, n=name: getattr(x, n)(dim=0, unbiased=True)),
    ]


def _constant_row(rng):
    x = rng.uniform(-2, 2, size=(3, 4))
    x[1] = 0.7
    return (x,)


SPECS += [
    # zero variance: PyTorch masks the std gradient to 0 there (not nan)
    _both(
        "std_zero_variance",
        lambda m, x: m.std(x, 1),
        make_inputs=_constant_row,
        finite_differences=False,
    ),
]

# ---- norms ---------------------------------------------------------------------------------------
ORDERS = [2, 1, math.inf, -math.inf, 0, 3, 1.5, 0.5, -1]
for order in ORDERS:
    SPECS += [
        _both(
            f"vector_norm_{order}",
            lambda m, x, o=order: _vector_norm(m)(x, o),
            shapes=[((2, 3),), ((4,),)],
        ),
        _both(f"vector_norm_{order}_dim", lambda m, x, o=order: _vector_norm(m)(x, o, -1)),
        _both(
            f"vector_norm_{order}_tuple_keepdim",
            lambda m, x, o=order: _vector_norm(m)(x, o, (0, 2), keepdim=True),
        ),
    ]


def _vector_norm(module):
    return torch.linalg.vector_norm if module is torch else chainrule.vector_norm


def _zeros_and_row(rng):
    x = rng.uniform(-2, 2, size=(3, 4))
    x[0] = 0.0
    return (x,)


SPECS += [
    _both("norm", lambda m, x: m.norm(x), shapes=[((2, 3),), ((4,),)]),
    _both("norm_fro_dims", lambda m, x: m.norm(x, "fro", (0, 1))),
    _both("norm_p1_dim", lambda m, x: m.norm(x, 1, 1, keepdim=True)),
    _both("norm_inf_negative_dim", lambda m, x: m.norm(x, math.inf, -1)),
    _both("norm_p3", lambda m, x: x.norm(3)),
    _both("norm_method_dim", lambda m, x: x.norm(dim=1)),
    # a zero slice: the 2-norm's gradient is 0 there (PyTorch's subgradient), not nan. Its
    # second derivative there is nan in torch and 0 here (tests/test_reduction_semantics.py)
    _both(
        "vector_norm_zero_slice",
        lambda m, x: _vector_norm(m)(x, 2, 1),
        make_inputs=_zeros_and_row,
        finite_differences=False,
        second_order=False,
    ),
    _both(
        "vector_norm_inf_ties",
        lambda m, x: _vector_norm(m)(x, math.inf, 1),
        make_inputs=_ties((3, 4)),
        finite_differences=False,
    ),
]

# ---- logsumexp -----------------------------------------------------------------------------------
SPECS += [
    _both("logsumexp_dim", lambda m, x: m.logsumexp(x, 1)),
    _both("logsumexp_negative_keepdim", lambda m, x: m.logsumexp(x, -1, keepdim=True)),
    _both("logsumexp_tuple", lambda m, x: m.logsumexp(x, (0, 2))),
    _both("logsumexp_scalar", lambda m, x: m.logsumexp(x, 0), shapes=[((),), ((5,),)]),
    _both("logsumexp_large", lambda m, x: m.logsumexp(x, 1), domains=[(999.0, 1001.0)]),
    _both("logsumexp_very_negative", lambda m, x: m.logsumexp(x, 0), domains=[(-1001.0, -999.0)]),
]

# ---- scans ---------------------------------------------------------------------------------------
SPECS += [
    _both("cumsum", lambda m, x: m.cumsum(x, 1)),
    _both("cumsum_negative", lambda m, x: m.cumsum(x, -1), shapes=[((3, 4),), ((5,),), ((),)]),
    _both("cumsum_dim0", lambda m, x: x.cumsum(0)),
    _both(
        "cumsum_dtype",
        lambda m, x: m.cumsum(x, 0, dtype=m.float32),
        shapes=[((4, 2),)],
        second_order=False,
        finite_differences=False,
        atol=1e-5,
    ),
    _both("cumprod", lambda m, x: m.cumprod(x, 1)),
    _both("cumprod_negative", lambda m, x: m.cumprod(x, -1), shapes=[((3, 4),), ((5,),), ((),)]),
    _both("cumprod_dim0", lambda m, x: x.cumprod(0)),
    _both(
        "cumprod_one_zero",
        lambda m, x: m.cumprod(x, 1),
        make_inputs=_with_zeros((3, 4), [1, 4, 11]),
    ),
    _both(
        "cumprod_zeros",
        lambda m, x: m.cumprod(x, 1),
        make_inputs=_with_zeros((3, 5), [0, 2, 6, 7, 13]),
    ),
    _both(
        "cumprod_zeros_dim0",
        lambda m, x: m.cumprod(x, 0),
        make_inputs=_with_zeros((5, 3), [0, 4, 6, 9]),
    ),
]

# ---- logic ---------------------------------------------------------------------------------------


def _some_zeros(rng):
    return (rng.integers(0, 3, size=(3, 4)).astype(np.float64),)


for name in ("all", "any"):
    SPECS += [
        _both(f"{name}", lambda m, x, n=name: getattr(m, n)(x), make_inputs=_some_zeros),
        _both(f"{name}_dim", lambda m, x, n=name: getattr(m, n)(x, 1), make_inputs=_some_zeros),
        _both(
            f"{name}_negative_keepdim",
            lambda m, x, n=name: getattr(m, n)(x, -2, keepdim=True),
            make_inputs=_some_zeros,
        ),
        _both(
            f"{name}_tuple", lambda m, x, n=name: getattr(m, n)(x, (0, 1)), make_inputs=_some_zeros
        ),
        _both(
            f"{name}_empty_tuple",
            lambda m, x, n=name: getattr(m, n)(x, ()),
            make_inputs=_some_zeros,
        ),
    ]
SPECS += [
    _both("count_nonzero", lambda m, x: m.count_nonzero(x), make_inputs=_some_zeros),
    _both("count_nonzero_dim", lambda m, x: m.count_nonzero(x, -1), make_inputs=_some_zeros),
    _both("count_nonzero_tuple", lambda m, x: m.count_nonzero(x, (0, 1)), make_inputs=_some_zeros),
]

# ---- order ---------------------------------------------------------------------------------------
SPECS += [
    _both("sort", lambda m, x: m.sort(x), shapes=[((3, 4),), ((5,),), ((),)]),
    _both("sort_dim_descending", lambda m, x: m.sort(x, 1, descending=True)),
    _both("sort_dim0_stable", lambda m, x: m.sort(x, dim=0, stable=True)),
    _both(
        "sort_ties", lambda m, x: m.sort(x, 1), make_inputs=_ties((3, 6)), finite_differences=False
    ),
    _both(
        "sort_ties_descending",
        lambda m, x: m.sort(x, dim=-1, descending=True, stable=True),
        make_inputs=_ties((3, 6)),
        finite_differences=False,
    ),
    _both("sort_method", lambda m, x: x.sort(dim=0, descending=True)),
    _both("argsort", lambda m, x: m.argsort(x, 1)),
    _both(
        "argsort_ties_descending",
        lambda m, x: m.argsort(x, dim=0, descending=True, stable=True),
        make_inputs=_ties((5, 3)),
    ),
    _both("topk", lambda m, x: m.topk(x, 2), shapes=[((3, 4),), ((5,),)]),
    _both("topk_smallest_dim", lambda m, x: m.topk(x, 3, 1, largest=False)),
    _both("topk_dim0", lambda m, x: m.topk(x, 1, dim=0)),
    _both("topk_all", lambda m, x: x.topk(4, -1)),
    _both("topk_scalar", lambda m, x: m.topk(x, 1), shapes=[((),)]),
    _both("kthvalue", lambda m, x: m.kthvalue(x, 2), shapes=[((3, 4),), ((5,),)]),
    _both("kthvalue_dim_keepdim", lambda m, x: m.kthvalue(x, 3, 1, keepdim=True)),
    _both("kthvalue_dim0", lambda m, x: m.kthvalue(x, 1, 0)),
    _both("kthvalue_scalar", lambda m, x: m.kthvalue(x, 1), shapes=[((),)]),
    _both("median", lambda m, x: m.median(x), shapes=[((3, 4),), ((5,),), ((),)]),
    _both("median_dim", lambda m, x: m.median(x, 1)),
    _both(
        "median_negative_keepdim",
        lambda m, x: m.median(x, -1, keepdim=True),
        shapes=[((3, 4),), ((3, 5),)],
    ),
    _both("median_method_dim0", lambda m, x: x.median(0)),
    _both(
        "median_ties", lambda m, x: m.median(x), make_inputs=_ties((3, 4)), finite_differences=False
    ),
]

# ---- softmax -------------------------------------------------------------------------------------
for name in ("softmax", "log_softmax"):
    SPECS += [
        _both(f"{name}", lambda m, x, n=name: getattr(m, n)(x, 1)),
        _both(
            f"{name}_negative",
            lambda m, x, n=name: getattr(m, n)(x, -1),
            shapes=[((3, 4),), ((5,),), ((),)],
        ),
        _both(f"{name}_dim0", lambda m, x, n=name: getattr(m, n)(x, 0)),
        _both(f"{name}_large", lambda m, x, n=name: getattr(m, n)(x, 1), domains=[(999.0, 1001.0)]),
        _both(
            f"{name}_spread",
            lambda m, x, n=name: getattr(m, n)(x, -1),
            domains=[(-40.0, 40.0)],
            shapes=[((2, 5),)],
            fd_atol=1e-4,
        ),
        _both(f"{name}_method", lambda m, x, n=name: getattr(x, n)(0)),
        _both(
            f"{name}_dtype",
            lambda m, x, n=name: getattr(m, n)(x, 1, dtype=m.float32),
            shapes=[((2, 3),)],
            second_order=False,
            finite_differences=False,
            atol=1e-5,
        ),
    ]
