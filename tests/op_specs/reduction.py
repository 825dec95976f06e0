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
    # second derivative is torch's nan by reverse over reverse (0 * inf through the masked
    # division) and finite by the forward passes (the mask drops the tangent): those cannot
    # agree there, so only reverse over reverse is checked, against torch
    _both(
        "vector_norm_zero_slice",
        lambda m, x: _vector_norm(m)(x, 2, 1),
        make_inputs=_zeros_and_row,
        finite_differences=False,
        nested_forward=False,
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
    # the most frequent of a few small integers: ties between values and between positions
    # (slices of at most 16, where PyTorch's sort is stable, so its index is the last one)
    _both("mode", lambda m, x: m.mode(x), make_inputs=_ties((3, 5), 3), finite_differences=False),
    _both(
        "mode_dim0_keepdim",
        lambda m, x: m.mode(x, 0, keepdim=True),
        make_inputs=_ties((4, 3, 2), 2),
        finite_differences=False,
    ),
    _both("mode_scalar", lambda m, x: m.mode(x), shapes=[((),)]),
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

# ---- statistics with their mean, NaN-ignoring reductions -----------------------------------------
for name in ("std_mean", "var_mean"):
    SPECS += [
        _both(f"{name}", lambda m, x, n=name: getattr(m, n)(x), shapes=[((2, 3),), ((5,),)]),
        _both(f"{name}_dim", lambda m, x, n=name: getattr(m, n)(x, 1)),
        _both(
            f"{name}_tuple_keepdim_correction0",
            lambda m, x, n=name: getattr(m, n)(x, (0, -1), keepdim=True, correction=0),
        ),
        _both(f"{name}_unbiased_false", lambda m, x, n=name: getattr(m, n)(x, False)),
        _both(
            f"{name}_dim_unbiased_keepdim", lambda m, x, n=name: getattr(m, n)(x, -1, True, True)
        ),
    ]


def _with_nans(shape, positions):
    """Inputs in (-2, 2) with NaN at `positions` (flat indices)."""

    def make(rng):
        x = rng.uniform(-2.0, 2.0, size=shape)
        x.reshape(-1)[list(positions)] = math.nan
        return (x,)

    return make


NANS = _with_nans((3, 4), [1, 4, 5, 6, 7, 11])  # row 1 is all NaN
SOME_NANS = _with_nans((3, 4), [1, 4, 6, 11])  # every row and column keeps a number
SPECS += [
    _both("nansum", lambda m, x: m.nansum(x), make_inputs=NANS),
    _both("nansum_dim_keepdim", lambda m, x: m.nansum(x, 1, keepdim=True), make_inputs=NANS),
    _both("nansum_tuple", lambda m, x: m.nansum(x, (0, 1))),
    _both("nansum_method", lambda m, x: x.nansum(0), make_inputs=NANS),
    _both("nanmean", lambda m, x: m.nanmean(x), make_inputs=NANS),
    # an all-NaN slice has a NaN mean; its gradient is 0 here but NaN in torch (0 / 0 there)
    _both("nanmean_dim", lambda m, x: m.nanmean(x, -1), make_inputs=SOME_NANS),
    _both("nanmean_dim0_keepdim", lambda m, x: x.nanmean(0, keepdim=True), make_inputs=SOME_NANS),
    _both("nanmean_no_nans", lambda m, x: m.nanmean(x, (0, 2))),
]

# ---- aminmax, msort, nanmedian -------------------------------------------------------------------
SPECS += [
    _both("aminmax", lambda m, x: m.aminmax(x), shapes=[((2, 3),), ((),)]),
    _both("aminmax_dim", lambda m, x: m.aminmax(x, dim=1)),
    _both("aminmax_keepdim", lambda m, x: m.aminmax(x, dim=-1, keepdim=True)),
    _both("aminmax_all_keepdim", lambda m, x: x.aminmax(keepdim=True)),
    _both(
        "aminmax_ties",
        lambda m, x: m.aminmax(x, dim=0),
        make_inputs=_ties((4, 3), 2),
        finite_differences=False,
    ),
    _both("msort", lambda m, x: m.msort(x), shapes=[((4, 3),), ((5,),)]),
    _both("msort_method", lambda m, x: x.msort()),
    _both("nanmedian", lambda m, x: m.nanmedian(x), make_inputs=_with_nans((3, 4), [1, 6, 7])),
    _both("nanmedian_no_nans", lambda m, x: m.nanmedian(x), shapes=[((3, 4),), ((5,),), ((),)]),
    # all NaN: the NaN result's gradient is split between the NaNs (finite differences of a NaN
    # output say nothing)
    _both(
        "nanmedian_all_nan",
        lambda m, x: m.nanmedian(x),
        make_inputs=_with_nans((3,), [0, 1, 2]),
        finite_differences=False,
    ),
    _both(
        "nanmedian_ties",
        lambda m, x: m.nanmedian(x),
        make_inputs=_ties((3, 4)),
        finite_differences=False,
    ),
    _both(
        "nanmedian_dim",
        lambda m, x: m.nanmedian(x, 1),
        make_inputs=_with_nans((3, 5), [1, 7, 8, 9]),
    ),
    _both("nanmedian_dim_keepdim", lambda m, x: m.nanmedian(x, -1, keepdim=True)),
    _both("nanmedian_method_dim0", lambda m, x: x.nanmedian(0)),
]

# ---- quantiles -----------------------------------------------------------------------------------


def _quantile_inputs(shape, count):
    """Inputs and `count` levels q in (0, 1) (a differentiable input too, as in torch)."""
    return lambda rng: (rng.uniform(-2.0, 2.0, size=shape), rng.uniform(0.02, 0.98, size=count))


for name in ("quantile", "nanquantile"):
    SPECS += [
        _both(f"{name}", lambda m, x, n=name: getattr(m, n)(x, 0.3), shapes=[((3, 4),), ((5,),)]),
        _both(f"{name}_dim", lambda m, x, n=name: getattr(m, n)(x, 0.6, 1)),
        _both(
            f"{name}_dim_keepdim",
            lambda m, x, n=name: getattr(m, n)(x, 0.25, dim=-1, keepdim=True),
        ),
        _both(
            f"{name}_q_tensor",
            lambda m, x, q, n=name: getattr(m, n)(x, q, dim=0),
            make_inputs=_quantile_inputs((5, 3), 4),
        ),
        _both(
            f"{name}_q_tensor_all_keepdim",
            lambda m, x, q, n=name: getattr(x, n)(q, keepdim=True),
            make_inputs=_quantile_inputs((2, 3), 3),
        ),
        _both(
            f"{name}_q_scalar_tensor",
            lambda m, x, q, n=name: getattr(m, n)(x, q.reshape(()), 1),
            make_inputs=_quantile_inputs((2, 5), 1),
        ),
        _both(
            f"{name}_ties",
            lambda m, x, n=name: getattr(m, n)(x, 0.4, 1),
            make_inputs=_ties((3, 6)),
            finite_differences=False,
        ),
        _both(
            f"{name}_nans",
            lambda m, x, n=name: getattr(m, n)(x, 0.7, 1),
            make_inputs=NANS,
            finite_differences=False,
        ),
    ]
    for interpolation in ("lower", "higher", "nearest", "midpoint"):
        SPECS += [
            _both(
                f"{name}_{interpolation}",
                lambda m, x, q, n=name, i=interpolation: getattr(m, n)(x, q, 1, interpolation=i),
                make_inputs=_quantile_inputs((3, 6), 5),
            ),
        ]

# ---- scans: logcumsumexp, cummax, cummin ---------------------------------------------------------
SPECS += [
    _both("logcumsumexp", lambda m, x: m.logcumsumexp(x, 1)),
    _both(
        "logcumsumexp_negative",
        lambda m, x: m.logcumsumexp(x, -1),
        shapes=[((3, 4),), ((5,),), ((),)],
    ),
    _both("logcumsumexp_method_dim0", lambda m, x: x.logcumsumexp(0)),
    _both(
        "logcumsumexp_spread",
        lambda m, x: m.logcumsumexp(x, 1),
        domains=[(-40.0, 40.0)],
        shapes=[((2, 6),)],
        fd_atol=1e-4,
    ),
    _both("logcumsumexp_large", lambda m, x: m.logcumsumexp(x, 0), domains=[(999.0, 1001.0)]),
]


def _scan_nans(rng):
    x = rng.uniform(-2.0, 2.0, size=(2, 6))
    x[0, 2] = x[0, 4] = x[1, 5] = math.nan
    return (x,)


for name in ("cummax", "cummin"):
    SPECS += [
        _both(f"{name}", lambda m, x, n=name: getattr(m, n)(x, 1)),
        _both(
            f"{name}_negative",
            lambda m, x, n=name: getattr(m, n)(x, -1),
            shapes=[((3, 4),), ((5,),), ((),)],
        ),
        _both(f"{name}_method_dim0", lambda m, x, n=name: getattr(x, n)(0)),
        _both(
            f"{name}_ties",
            lambda m, x, n=name: getattr(m, n)(x, 1),
            make_inputs=_ties((3, 6)),
            finite_differences=False,
        ),
        _both(
            f"{name}_nans",
            lambda m, x, n=name: getattr(m, n)(x, 1),
            make_inputs=_scan_nans,
            finite_differences=False,
        ),
    ]

# ---- distances, integration ----------------------------------------------------------------------
for order in (2, 1, math.inf, 3, 0.5):
    SPECS += [
        _both(
            f"dist_{order}",
            lambda m, x, y, o=order: m.dist(x, y, o),
            shapes=[((2, 3), (2, 3)), ((4, 3), (3,)), ((), ())],
        ),
    ]
SPECS += [
    # p=0 counts the nonzero differences: no derivative. torch.dist's backward raises for p=0,
    # so the reference is the same norm written out
    OpSpec(
        "dist_0",
        lambda x, y: chainrule.dist(x, y, 0),
        lambda x, y: torch.linalg.vector_norm(x - y, 0),
        shapes=[((2, 3), (2, 3)), ((4, 3), (3,))],
        second_order=False,
    ),
]
SPECS += [
    _both("dist_default", lambda m, x, y: m.dist(x, y), shapes=[((2, 3), (3,))]),
    _both("dist_method", lambda m, x, y: x.dist(y, 3), shapes=[((2, 3), (2, 3))]),
    _both("trapezoid", lambda m, y: m.trapezoid(y), shapes=[((3, 4),), ((5,),), ((1,),)]),
    _both("trapezoid_dx_dim", lambda m, y: m.trapezoid(y, dx=0.3, dim=1)),
    _both(
        "trapezoid_x",
        lambda m, y, x: m.trapezoid(y, x),
        shapes=[((3, 4), (4,)), ((3, 4), (3, 4)), ((2, 3, 4), (3, 4)), ((2, 3), (1, 3))],
    ),
    _both("trapezoid_x_dim", lambda m, y, x: m.trapezoid(y, x, dim=0), shapes=[((4, 3), (4,))]),
    _both("trapz", lambda m, y: m.trapz(y, dim=0), shapes=[((3, 4),)]),
    _both("trapz_x", lambda m, y, x: m.trapz(y, x), shapes=[((3, 4), (4,))]),
]
