"""PyTorch's top-level functions that have no derivative (or whose derivative is checked in
tests/op_specs), specified against torch 2.x: each program runs on both libraries and must give
the same values, dtypes and shapes, or errors of the same kind (PyTorch's RuntimeError may be
a ValueError here, as chainrule's ShapeError and DTypeError are both)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import chainrule
from tests.test_tensor import dtype_name

NAN, INF = math.nan, math.inf


def run(program, lib):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return program(lib)


def assert_same(ours, theirs) -> None:
    """Equal results: tensors in shape, dtype and values (nan equal to nan), tuples
    elementwise, dtypes by name, anything else by ==."""
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, chainrule.Tensor), type(ours)
        assert tuple(ours.shape) == tuple(theirs.shape), (ours.shape, theirs.shape)
        assert dtype_name(ours.dtype) == dtype_name(theirs.dtype), (ours.dtype, theirs.dtype)
        assert ours.requires_grad == theirs.requires_grad or not theirs.is_floating_point()
        np.testing.assert_allclose(
            ours.detach().numpy().astype(np.float64),
            theirs.detach().numpy().astype(np.float64),
            rtol=1e-6,
            atol=0,
        )
    elif isinstance(theirs, (tuple, list)):
        assert isinstance(ours, (tuple, list)) and len(ours) == len(theirs), (ours, theirs)
        for mine, expected in zip(ours, theirs):
            assert_same(mine, expected)
    elif isinstance(theirs, torch.dtype):
        assert dtype_name(ours) == dtype_name(theirs)
    else:
        assert ours == theirs, (ours, theirs)


def t(lib, data, dtype=None):
    return lib.tensor(data, dtype=None if dtype is None else getattr(lib, dtype))


S = [1.0, 3.0, 5.0, 7.0]  # a sorted sequence

CASES = {
    # triangle indices
    "tril_indices": lambda lib: lib.tril_indices(3, 4, 1),
    "tril_indices_far_below": lambda lib: lib.tril_indices(3, 4, -5),
    "tril_indices_empty": lambda lib: lib.tril_indices(0, 3),
    "triu_indices": lambda lib: lib.triu_indices(3, 3),
    "triu_indices_offset": lambda lib: lib.triu_indices(4, 2, -1),
    "triu_indices_int32": lambda lib: lib.triu_indices(3, 3, dtype=lib.int32),
    # isin
    "isin": lambda lib: lib.isin(t(lib, [1, 2, 3]), t(lib, [2, 5])),
    "isin_invert": lambda lib: lib.isin(t(lib, [1, 2, 3]), t(lib, [2, 5]), invert=True),
    "isin_scalar_element": lambda lib: lib.isin(2, t(lib, [2, 5])),
    "isin_scalar_test": lambda lib: lib.isin(t(lib, [1, 2]), 2),
    "isin_float_scalar": lambda lib: lib.isin(2.5, t(lib, [2, 3])),
    "isin_promotes": lambda lib: lib.isin(t(lib, [1.0, 2.5]), t(lib, [2, 1])),
    "isin_nan": lambda lib: lib.isin(t(lib, [NAN, 1.0]), t(lib, [NAN, 1.0])),
    "isin_2d": lambda lib: lib.isin(t(lib, [[1, 2], [5, 6]]), t(lib, [[2, 5]])),
    # unique
    "unique": lambda lib: lib.unique(t(lib, [3, 1, 3, 2])),
    "unique_all": lambda lib: lib.unique(
        t(lib, [[3, 1], [3, 2]]), return_inverse=True, return_counts=True
    ),
    "unique_unsorted_is_sorted": lambda lib: lib.unique(t(lib, [3, 1, 3, 2]), sorted=False),
    "unique_dim0": lambda lib: lib.unique(
        t(lib, [[3, 1], [3, 1], [2, 0]]), dim=0, return_inverse=True, return_counts=True
    ),
    "unique_dim1": lambda lib: lib.unique(
        t(lib, [[3, 1, 3], [3, 1, 3]]), dim=1, return_inverse=True, return_counts=True
    ),
    "unique_negative_dim": lambda lib: lib.unique(
        t(lib, [[1, 2], [1, 2]]), dim=-1, return_counts=True
    ),
    "unique_nan_each_distinct": lambda lib: lib.unique(t(lib, [1.0, NAN, NAN, 0.0])),
    "unique_0d": lambda lib: lib.unique(t(lib, 3), return_inverse=True),
    "unique_bool": lambda lib: lib.unique(t(lib, [True, False, True])),
    "unique_float16": lambda lib: lib.unique(t(lib, [1.0, 1.0], "float16")),
    "unique_empty": lambda lib: lib.unique(t(lib, []), return_inverse=True, return_counts=True),
    "unique_empty_dim": lambda lib: lib.unique(
        lib.zeros(0, 3), dim=0, return_inverse=True, return_counts=True
    ),
    "unique_method": lambda lib: t(lib, [2, 2, 1]).unique(return_counts=True),
    "unique_consecutive": lambda lib: lib.unique_consecutive(
        t(lib, [1, 1, 2, 2, 3, 1, 1, 2]), return_inverse=True, return_counts=True
    ),
    "unique_consecutive_dim": lambda lib: lib.unique_consecutive(
        t(lib, [[1, 1], [1, 1], [2, 2]]), dim=0, return_inverse=True, return_counts=True
    ),
    "unique_consecutive_dim1": lambda lib: lib.unique_consecutive(
        t(lib, [[1, 1, 2], [3, 3, 2]]), dim=1, return_inverse=True, return_counts=True
    ),
    "unique_consecutive_2d_flat": lambda lib: lib.unique_consecutive(
        t(lib, [[1, 1], [2, 2]]), return_inverse=True
    ),
    "unique_consecutive_0d": lambda lib: lib.unique_consecutive(
        t(lib, 2), return_inverse=True, return_counts=True
    ),
    "unique_consecutive_nan": lambda lib: lib.unique_consecutive(t(lib, [NAN, NAN, 1.0])),
    "unique_consecutive_method": lambda lib: t(lib, [5, 5, 4]).unique_consecutive(),
    # searchsorted and bucketize
    "searchsorted": lambda lib: lib.searchsorted(t(lib, S), t(lib, [3.0, 6.0, 9.0, 0.0])),
    "searchsorted_right": lambda lib: lib.searchsorted(t(lib, S), t(lib, [3.0, 6.0]), right=True),
    "searchsorted_side": lambda lib: lib.searchsorted(t(lib, S), t(lib, [3.0, 6.0]), side="right"),
    "searchsorted_side_left": lambda lib: lib.searchsorted(t(lib, S), t(lib, [3.0]), side="left"),
    "searchsorted_int_scalar": lambda lib: lib.searchsorted(t(lib, S), 3),
    "searchsorted_float_scalar": lambda lib: lib.searchsorted(t(lib, S), 3.5),
    "searchsorted_int32": lambda lib: lib.searchsorted(t(lib, S), t(lib, [3.0]), out_int32=True),
    "searchsorted_promotes": lambda lib: lib.searchsorted(t(lib, [1, 3, 5]), t(lib, [3.5, 3.0])),
    "searchsorted_rows": lambda lib: lib.searchsorted(
        t(lib, [[1.0, 3.0], [2.0, 4.0]]), t(lib, [[2.0, 5.0], [3.0, 0.0]])
    ),
    "searchsorted_2d_values": lambda lib: lib.searchsorted(t(lib, S), t(lib, [[2.0], [6.0]])),
    "searchsorted_sorter": lambda lib: lib.searchsorted(
        t(lib, [5.0, 1.0, 3.0]), t(lib, [2.0, 4.0]), sorter=t(lib, [1, 2, 0])
    ),
    "bucketize": lambda lib: lib.bucketize(t(lib, [3.0, 6.0, 9.0]), t(lib, S)),
    "bucketize_right": lambda lib: lib.bucketize(t(lib, [3.0, 6.0, 9.0]), t(lib, S), right=True),
    "bucketize_scalar": lambda lib: lib.bucketize(3, t(lib, S)),
    "bucketize_2d_input_int32": lambda lib: lib.bucketize(
        t(lib, [[3.0, 0.0]]), t(lib, S), out_int32=True
    ),
    # histc
    "histc": lambda lib: lib.histc(t(lib, [1.0, 2.0, 1.0]), bins=4, min=0, max=3),
    "histc_data_range": lambda lib: lib.histc(t(lib, [1.0, 2.0, 1.0, 5.0])),
    "histc_constant_data": lambda lib: lib.histc(t(lib, [1.0, 1.0]), bins=4),
    "histc_outside_ignored": lambda lib: lib.histc(t(lib, [-1.0, 2.0, 3.0, 4.0]), 3, 0, 3),
    "histc_edges": lambda lib: lib.histc(t(lib, [0.0, 0.1, 0.2, 0.3, 0.7, 1.0]), 10, 0, 1),
    "histc_nan_ignored": lambda lib: lib.histc(t(lib, [1.0, NAN]), bins=3, min=0, max=3),
    "histc_empty": lambda lib: lib.histc(t(lib, []), bins=3),
    "histc_float64_2d": lambda lib: lib.histc(
        t(lib, [[0.5, 2.5], [2.9, 1.0]], "float64"), bins=3, min=0, max=3
    ),
    "histc_method": lambda lib: t(lib, [0.25, 0.5, 0.75]).histc(2, 0, 1),
    # predicates and metadata
    "isposinf": lambda lib: lib.isposinf(t(lib, [1.0, INF, -INF, NAN])),
    "isneginf": lambda lib: t(lib, [1.0, INF, -INF, NAN]).isneginf(),
    "isposinf_int": lambda lib: lib.isposinf(t(lib, [1, 2])),
    "isneginf_bool": lambda lib: lib.isneginf(t(lib, [True])),
    "isreal": lambda lib: lib.isreal(t(lib, [1.0, NAN])),
    "isreal_int_method": lambda lib: t(lib, [[1, 2]]).isreal(),
    "numel": lambda lib: lib.numel(t(lib, [[1.0, 2.0]])),
    "is_floating_point": lambda lib: (
        lib.is_floating_point(t(lib, [1])),
        lib.is_floating_point(t(lib, [1.0], "float16")),
    ),
    "is_complex": lambda lib: (lib.is_complex(t(lib, [1.0])), t(lib, [1]).is_complex()),
    "can_cast": lambda lib: [
        lib.can_cast(a, b)
        for a in (lib.bool, lib.uint8, lib.int8, lib.int64, lib.float16, lib.float64)
        for b in (lib.bool, lib.uint8, lib.int32, lib.float16, lib.float32)
    ],
    # heaviside (no derivative)
    "heaviside": lambda lib: lib.heaviside(t(lib, [-1.0, 0.0, 2.0, NAN, -0.0]), t(lib, 0.5)),
    "heaviside_int": lambda lib: lib.heaviside(t(lib, [-1, 0, 1]), t(lib, [7])),
    "heaviside_broadcast_method": lambda lib: t(lib, [[-1.0], [0.0]]).heaviside(
        t(lib, [0.25, 0.75])
    ),
    # sgn, frexp, ldexp, copysign, xlogy, erfc: dtypes and special values
    "sgn_int": lambda lib: lib.sgn(t(lib, [-2, 0, 3])),
    "sgn_bool": lambda lib: lib.sgn(t(lib, [True, False])),
    "frexp": lambda lib: tuple(lib.frexp(t(lib, [8.0, 0.5, -3.0, 0.0, 1e-30]))),
    "frexp_float16": lambda lib: tuple(lib.frexp(t(lib, [8.0, 6e-8, -3e-5], "float16"))),
    "frexp_float64_0d": lambda lib: tuple(lib.frexp(t(lib, 6.0, "float64"))),
    "frexp_fields": lambda lib: (lambda r: (r.mantissa, r.exponent))(lib.frexp(t(lib, [3.0]))),
    "ldexp_int_int": lambda lib: lib.ldexp(t(lib, [1, 2]), t(lib, [3, 4])),
    "ldexp_float16": lambda lib: lib.ldexp(t(lib, [1.0], "float16"), t(lib, [-20])),
    "ldexp_float64_int": lambda lib: lib.ldexp(t(lib, [1.0], "float64"), t(lib, [3])),
    "ldexp_float_exponent": lambda lib: lib.ldexp(t(lib, [1.0, 2.0]), t(lib, [3.5, 4.0])),
    "ldexp_0d_float64_exponent": lambda lib: lib.ldexp(
        t(lib, 1.0, "float16"), t(lib, [3.0], "float64")
    ),
    "copysign_int": lambda lib: lib.copysign(t(lib, [1, -2]), t(lib, [-1, 1])),
    "copysign_negative_zero": lambda lib: lib.copysign(t(lib, [1.0, -2.0]), -0.0),
    "copysign_int_scalar": lambda lib: lib.copysign(t(lib, [1, -2]), 1),
    "copysign_float16_float32": lambda lib: lib.copysign(
        t(lib, [1.0, -2.0], "float16"), t(lib, [1.0])
    ),
    "xlogy_special": lambda lib: lib.xlogy(
        t(lib, [0.0, 0.0, 1.0, 2.0, 0.0]), t(lib, [0.0, NAN, 0.0, 3.0, -1.0])
    ),
    "xlogy_int": lambda lib: lib.xlogy(t(lib, [0, 1]), t(lib, [2, 3])),
    "xlogy_scalar_input": lambda lib: lib.xlogy(2, t(lib, [2.0, 3.0])),
    "erfc_tail": lambda lib: lib.erfc(t(lib, [0.0, 5.0, 10.0, -10.0, 26.0])),
    "erfc_float64_tail": lambda lib: lib.erfc(t(lib, [10.0, 20.0, 26.0], "float64")),
    "erfc_int": lambda lib: lib.erfc(t(lib, [0, 1])),
    "clamp_min_int": lambda lib: lib.clamp_min(t(lib, [1, 5]), 3),
    "clamp_min_float_bound": lambda lib: lib.clamp_min(t(lib, [1, 5]), 3.5),
    "clamp_max_tensor_bound": lambda lib: lib.clamp_max(t(lib, [1, 5]), t(lib, [3.5, 3.0])),
    "true_divide_int": lambda lib: lib.true_divide(t(lib, [1, 5]), 2),
    "float_power_int": lambda lib: lib.float_power(t(lib, [2]), 2),
    # shape functions: integer dtypes, views and edge sizes
    "tensor_split_empty_indices": lambda lib: lib.tensor_split(lib.arange(4), []),
    "tensor_split_tensor_sections": lambda lib: lib.tensor_split(lib.arange(10), t(lib, 3)),
    "tensor_split_tensor_indices": lambda lib: lib.tensor_split(lib.arange(10), t(lib, [3, 4])),
    "tensor_split_more_sections": lambda lib: lib.tensor_split(lib.arange(2), 4),
    "repeat_interleave_counts_only": lambda lib: lib.repeat_interleave(t(lib, [1, 0, 3])),
    "repeat_interleave_single_count": lambda lib: lib.repeat_interleave(
        t(lib, [[1, 2]]), t(lib, [2]), dim=1
    ),
    "repeat_interleave_0d": lambda lib: lib.repeat_interleave(t(lib, 5.0), 3),
    "diff_bool": lambda lib: lib.diff(t(lib, [True, False, False])),
    "diff_bool_int_prepend": lambda lib: lib.diff(t(lib, [True, False]), prepend=t(lib, [1])),
    "diff_int_float_prepend": lambda lib: lib.diff(
        t(lib, [[1, 2]], "int32"), prepend=t(lib, [[0.5]])
    ),
    "diff_order_zero": lambda lib: lib.diff(lib.arange(3), n=0),
    "diff_order_past_length": lambda lib: lib.diff(lib.arange(3), n=5),
    "meshgrid_0d": lambda lib: lib.meshgrid(t(lib, 1.0), lib.arange(2.0), indexing="ij"),
    "meshgrid_xy_int": lambda lib: lib.meshgrid(
        lib.arange(2), lib.arange(3), lib.arange(4), indexing="xy"
    ),
    "cartesian_prod_int": lambda lib: lib.cartesian_prod(lib.arange(2), lib.arange(3)),
    "diagflat_empty_offset": lambda lib: lib.diagflat(lib.zeros(0), 1),
    "column_stack_int": lambda lib: lib.column_stack([t(lib, 1), lib.arange(1)]),
    "rot90_int": lambda lib: lib.rot90(lib.arange(6).reshape(2, 3), -1),
    "select_negative": lambda lib: lib.select(lib.arange(6).reshape(2, 3), 1, -3),
    "ravel_int": lambda lib: lib.ravel(lib.arange(6).reshape(2, 3).t()),
    # nn.functional aliases at the top level
    "threshold": lambda lib: lib.threshold(t(lib, [1.0, 2.0, 3.0]), 1.5, -1.0),
    "hardshrink": lambda lib: lib.hardshrink(t(lib, [-1.0, 0.2, 0.7]), 0.5),
    "selu": lambda lib: lib.selu(t(lib, [-1.0, 2.0])),
    "celu": lambda lib: lib.celu(t(lib, [-1.0, 2.0]), 0.5),
    "dropout_eval": lambda lib: lib.dropout(t(lib, [1.0, 2.0]), 0.5, False),
    "rrelu_eval": lambda lib: lib.rrelu(t(lib, [-1.0, 2.0])),
    "cosine_similarity": lambda lib: lib.cosine_similarity(
        t(lib, [[1.0, 2.0], [0.0, 1.0]]), t(lib, [[2.0, 1.0], [0.0, 3.0]])
    ),
    "pairwise_distance": lambda lib: lib.pairwise_distance(
        t(lib, [[1.0, 2.0], [0.0, 1.0]]), t(lib, [[2.0, 1.0], [0.0, 3.0]])
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_matches_torch(case):
    assert_same(run(CASES[case], chainrule), run(CASES[case], torch))


ERRORS = {
    "tril_indices_negative_row": lambda lib: lib.tril_indices(-1, 3),
    "triu_indices_float_dtype": lambda lib: lib.triu_indices(3, 3, dtype=lib.float32),
    "isin_two_numbers": lambda lib: lib.isin(1, 2),
    "isin_bool": lambda lib: lib.isin(t(lib, [True]), t(lib, [1])),
    "unique_dim_of_0d": lambda lib: lib.unique(t(lib, 3), dim=0),
    "unique_unselected_empty_dim": lambda lib: lib.unique(lib.zeros(2, 0), dim=0),
    "searchsorted_opposite_sides": lambda lib: lib.searchsorted(
        t(lib, S), t(lib, [3.0]), right=True, side="left"
    ),
    "searchsorted_bad_side": lambda lib: lib.searchsorted(t(lib, S), t(lib, [3.0]), side="mid"),
    "searchsorted_0d_sequence": lambda lib: lib.searchsorted(t(lib, 1.0), t(lib, [2.0])),
    "searchsorted_rows_mismatch": lambda lib: lib.searchsorted(
        t(lib, [[1.0, 3.0], [2.0, 4.0]]), t(lib, [[2.0], [3.0], [4.0]])
    ),
    "searchsorted_sorter_size": lambda lib: lib.searchsorted(
        t(lib, [5.0, 1.0, 3.0]), t(lib, [2.0]), sorter=t(lib, [1, 2])
    ),
    "searchsorted_bool": lambda lib: lib.searchsorted(t(lib, [False, True]), t(lib, [True])),
    "bucketize_2d_boundaries": lambda lib: lib.bucketize(t(lib, [3.0]), t(lib, [[1.0, 2.0]])),
    "histc_int": lambda lib: lib.histc(t(lib, [1, 2]), bins=4, min=0, max=3),
    "histc_max_below_min": lambda lib: lib.histc(t(lib, [1.0, 2.0]), bins=3, min=3, max=0),
    "histc_zero_bins": lambda lib: lib.histc(t(lib, [1.0, 2.0]), bins=0),
    "histc_nan_range": lambda lib: lib.histc(t(lib, [1.0, NAN]), bins=3),
    "histc_inf_range": lambda lib: lib.histc(t(lib, [1.0, INF]), bins=3),
    "numel_of_list": lambda lib: lib.numel([1]),
    "is_floating_point_of_list": lambda lib: lib.is_floating_point([1.0]),
    "can_cast_number": lambda lib: lib.can_cast(1, lib.int8),
    "set_default_dtype_int": lambda lib: lib.set_default_dtype(lib.int64),
    "set_default_dtype_python_float": lambda lib: lib.set_default_dtype(float),
    "heaviside_mixed_dtypes": lambda lib: lib.heaviside(t(lib, [1]), t(lib, [0.5])),
    "heaviside_number_values": lambda lib: lib.heaviside(t(lib, [1.0]), 0.5),
    "frexp_int": lambda lib: lib.frexp(t(lib, [8])),
    "ldexp_number_exponent": lambda lib: lib.ldexp(t(lib, [1.0]), 3),
    "rrelu_int": lambda lib: lib.rrelu(t(lib, [-1, 2])),
    # shape functions
    "fliplr_1d": lambda lib: lib.fliplr(lib.arange(3)),
    "flipud_0d": lambda lib: lib.flipud(t(lib, 1.0)),
    "rot90_1d": lambda lib: lib.rot90(lib.arange(3)),
    "rot90_three_dims": lambda lib: lib.rot90(lib.zeros(2, 2), 1, [0, 1, 1]),
    "rot90_same_dims": lambda lib: lib.rot90(lib.zeros(2, 2), 1, [1, 1]),
    "rot90_dim_out_of_range": lambda lib: lib.rot90(lib.zeros(2, 2), 1, [0, 2]),
    "select_out_of_range": lambda lib: lib.select(lib.arange(3), 0, 3),
    "select_0d": lambda lib: lib.select(t(lib, 1.0), 0, 0),
    "select_bad_dim": lambda lib: lib.select(lib.arange(3), 1, 0),
    "column_stack_empty": lambda lib: lib.column_stack([]),
    "tensor_split_zero_sections": lambda lib: lib.tensor_split(lib.arange(3), 0),
    "tensor_split_0d": lambda lib: lib.tensor_split(t(lib, 1.0), 2),
    "tensor_split_float_tensor": lambda lib: lib.tensor_split(lib.arange(3), t(lib, [1.0])),
    "tensor_split_2d_tensor": lambda lib: lib.tensor_split(lib.arange(3), t(lib, [[1]])),
    "hsplit_indivisible": lambda lib: lib.hsplit(lib.arange(10), 3),
    "hsplit_zero": lambda lib: lib.hsplit(lib.arange(4), 0),
    "hsplit_0d": lambda lib: lib.hsplit(t(lib, 1.0), 1),
    "vsplit_1d": lambda lib: lib.vsplit(lib.arange(4), 2),
    "dsplit_2d": lambda lib: lib.dsplit(lib.zeros(2, 2), 1),
    "repeat_interleave_negative": lambda lib: lib.repeat_interleave(lib.arange(2), -1),
    "repeat_interleave_negative_tensor": lambda lib: lib.repeat_interleave(
        lib.zeros(2, 3), t(lib, [-1, 2]), dim=0
    ),
    "repeat_interleave_wrong_length": lambda lib: lib.repeat_interleave(
        lib.zeros(2, 3), t(lib, [1, 2, 3]), dim=0
    ),
    "repeat_interleave_float_counts": lambda lib: lib.repeat_interleave(
        lib.zeros(2, 3), t(lib, [1.0, 2.0]), dim=0
    ),
    "repeat_interleave_2d_counts": lambda lib: lib.repeat_interleave(
        lib.zeros(2, 3), t(lib, [[1, 2]]), dim=0
    ),
    "repeat_interleave_output_size": lambda lib: lib.repeat_interleave(
        lib.zeros(2), 2, output_size=5
    ),
    "repeat_interleave_0d_with_dim": lambda lib: lib.repeat_interleave(t(lib, 5.0), 3, dim=0),
    "repeat_interleave_2d_counts_only": lambda lib: lib.repeat_interleave(t(lib, [[1, 2]])),
    "diff_0d": lambda lib: lib.diff(t(lib, 1.0)),
    "diff_negative_order": lambda lib: lib.diff(lib.arange(3), n=-1),
    "diff_number_prepend": lambda lib: lib.diff(lib.arange(3.0), prepend=1.0),
    "diff_prepend_fewer_dims": lambda lib: lib.diff(lib.zeros(2, 3), dim=0, append=lib.zeros(3)),
    "diff_prepend_wrong_size": lambda lib: lib.diff(lib.zeros(2, 3), dim=0, append=lib.zeros(1, 2)),
    "meshgrid_bad_indexing": lambda lib: lib.meshgrid(lib.arange(2), indexing="foo"),
    "meshgrid_2d": lambda lib: lib.meshgrid(lib.zeros(2, 2), indexing="ij"),
    "meshgrid_mixed_dtypes": lambda lib: lib.meshgrid(
        lib.arange(2), lib.arange(2.0), indexing="ij"
    ),
    "meshgrid_nothing": lambda lib: lib.meshgrid(indexing="ij"),
    "cartesian_prod_2d": lambda lib: lib.cartesian_prod(lib.zeros(2, 2)),
    "cartesian_prod_0d": lambda lib: lib.cartesian_prod(lib.arange(2), t(lib, 3)),
}


def _same_kind(ours: BaseException, theirs: type) -> bool:
    """PyTorch's RuntimeError is chainrule's ShapeError/DTypeError (both RuntimeErrors) or a
    ValueError for a bad argument value; NotImplementedError (a dtype a kernel lacks) is
    DTypeError, also a RuntimeError; IndexError and TypeError are the same."""
    if theirs is NotImplementedError or theirs is RuntimeError:
        return isinstance(ours, (RuntimeError, ValueError))
    return isinstance(ours, theirs)


@pytest.mark.parametrize("case", ERRORS)
def test_errors_match_torch(case):
    with pytest.raises(Exception) as expected:
        run(ERRORS[case], torch)
    with pytest.raises(Exception) as raised:
        run(ERRORS[case], chainrule)
    assert _same_kind(raised.value, expected.type), (raised.value, expected.value)


@pytest.mark.filterwarnings("ignore:.*batching rule")
@pytest.mark.parametrize("bounds", [(0.0, 3.0), (0.0, 0.0)], ids=["given range", "own range"])
def test_histc_under_vmap_counts_each_example_in_its_own_range(bounds):
    """vmap(histc) is one histogram per example (with min == max, over that example's own
    range), as PyTorch's per-example fallback gives, never the whole batch's counts."""
    rows = [[0.5, 1.5, 1.6], [2.5, 4.5, 0.1]]
    results = [
        lib.func.vmap(lambda a, lib=lib: lib.histc(a, 4, *bounds))(lib.tensor(rows))
        for lib in (chainrule, torch)
    ]
    assert_same(*results)


HISTOGRAMS_UNDER_VMAP = {
    "own range": lambda lib, a: lib.histogram(a, 3),
    "given range": lambda lib, a: lib.histogram(a, 3, range=(0.0, 3.0)).hist,
    "edges, weights": lambda lib, a: lib.histogram(a, lib.tensor([0.0, 1.0, 5.0]), weight=a.abs()),
    "own edges": lambda lib, a: lib.histogram(a, a.sort().values[1:], density=True).hist,
}


@pytest.mark.filterwarnings("ignore:.*batching rule")
@pytest.mark.parametrize("histogram", HISTOGRAMS_UNDER_VMAP.values(), ids=HISTOGRAMS_UNDER_VMAP)
def test_histogram_under_vmap_counts_each_example_as_pytorchs(histogram):
    """vmap(histogram) is one histogram (and one set of edges) per example, never the whole
    batch's counts for every example."""
    rows = [[0.5, 1.5, 1.6, -2.0], [2.5, 4.5, 0.1, 0.0]]
    results = [
        lib.func.vmap(lambda a, lib=lib: histogram(lib, a))(lib.tensor(rows))
        for lib in (chainrule, torch)
    ]
    assert_same(*results)


NAN = float("nan")


@pytest.mark.parametrize(
    "sequence",
    [
        [1.0, 2.0, NAN],
        [1.0, NAN, 3.0],
        [NAN, NAN, NAN],
        [NAN, 1.0, 2.0, 3.0, 4.0],
        [1.0, 2.0, 3.0, 4.0, NAN, NAN],
        [1.0, 2.0, 3.0],
    ],
)
@pytest.mark.parametrize("right", [False, True])
def test_searchsorted_with_nan_lands_where_pytorchs_binary_search_does(sequence, right):
    """PyTorch bisects with `row[mid] >= value` (`>` with right=True), false for any NaN: a
    NaN query goes past the end, and a NaN met on the way counts as smaller (NumPy's
    searchsorted orders NaN last instead). A NaN from a 0 / 0 in an inverse-CDF sampler's
    weights, say, then picks the bins PyTorch's does."""
    queries = [NAN, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 5.0]
    results = []
    for lib in (chainrule, torch):
        boundaries = lib.tensor(sequence)
        values = lib.tensor(queries)
        results.append(
            (
                lib.searchsorted(boundaries, values, right=right).tolist(),
                lib.bucketize(values, boundaries, right=right).tolist(),
                lib.searchsorted(boundaries.expand(2, -1), values.view(2, 4), right=right).tolist(),
            )
        )
    assert results[0] == results[1]


SEARCHES_UNDER_VMAP = {
    "shared sequence": lambda lib, a: lib.bucketize(a, lib.tensor([0.0, 1.0, 2.0]), right=True),
    "own sequence": lambda lib, a: lib.searchsorted(a.sort().values, lib.tensor([0.0, 1.0])),
    "own queries": lambda lib, a: lib.searchsorted(a.sort().values, a, out_int32=True),
    "rows": lambda lib, a: lib.searchsorted(lib.tensor([[0.0, 1.0], [1.0, 2.0]]), a.view(2, 2)),
    "sorter": lambda lib, a: lib.searchsorted(a, lib.tensor([1.0]), sorter=a.argsort()),
    "isin shared": lambda lib, a: lib.isin(a, lib.tensor([0.5, 0.1])),
    "isin own": lambda lib, a: lib.isin(lib.tensor([0.5, 0.1, 4.5]), a, invert=True),
}


@pytest.mark.parametrize("search", SEARCHES_UNDER_VMAP.values(), ids=SEARCHES_UNDER_VMAP)
def test_searchsorted_bucketize_and_isin_run_under_vmap_as_pytorchs(search):
    """Interpolation code looks up each example's points in a grid inside vmap: the search
    batches (a shared sequence, each example's own, or rows) as torch.vmap's does; so does
    a membership test."""
    rows = [[0.5, 1.5, 1.6, -2.0], [2.5, 4.5, 0.1, 0.0]]
    results = [
        lib.func.vmap(lambda a, lib=lib: search(lib, a))(lib.tensor(rows))
        for lib in (chainrule, torch)
    ]
    assert_same(*results)


# A program written against PyTorch catches these with `except RuntimeError`: chainrule's error
# must be a RuntimeError too (a DomainError is that and a ValueError).
RUNTIME_ERRORS = {
    "histc_zero_bins": lambda lib: lib.histc(t(lib, [1.0, 2.0]), bins=0),
    "histc_max_below_min": lambda lib: lib.histc(t(lib, [1.0, 2.0]), bins=3, min=3, max=1),
    "histc_nan_range": lambda lib: lib.histc(t(lib, [1.0, NAN]), bins=3),
    "bincount_negative_minlength": lambda lib: lib.bincount(t(lib, [1, 2]), minlength=-1),
    "bincount_short_weights": lambda lib: lib.bincount(t(lib, [1, 2]), weights=t(lib, [1.0])),
    "searchsorted_bad_side": lambda lib: lib.searchsorted(t(lib, [1.0]), t(lib, [1.0]), side="up"),
    "searchsorted_opposite_side": lambda lib: lib.searchsorted(
        t(lib, [1.0]), t(lib, [1.0]), side="left", right=True
    ),
    "range_zero_step": lambda lib: lib.range(0, 1, 0),
    "range_wrong_sign": lambda lib: lib.range(0, 1, -1),
    "scatter_bad_reduce": lambda lib: lib.zeros(3).scatter(
        0, t(lib, [0]), lib.ones(1), reduce="max"
    ),
    "scatter_reduce_bad_reduce": lambda lib: lib.zeros(3).scatter_reduce(
        0, t(lib, [0]), lib.ones(1), reduce="maximum"
    ),
    "hann_window_negative": lambda lib: lib.hann_window(-1),
    "gradient_edge_order_3": lambda lib: lib.gradient(lib.ones(3), edge_order=3),
    "gradient_too_short": lambda lib: lib.gradient(lib.ones(2), edge_order=2),
    "gradient_spacing_length": lambda lib: lib.gradient(lib.ones(3), spacing=[1.0, 2.0]),
    "gradient_repeated_dim": lambda lib: lib.gradient(lib.ones(3, 3), dim=(0, -2)),
    "combinations_negative": lambda lib: lib.combinations(lib.ones(3), r=-1),
    "slice_scatter_zero_step": lambda lib: lib.slice_scatter(lib.zeros(4), lib.ones(2), step=0),
    "nonzero_static_negative": lambda lib: lib.nonzero_static(lib.ones(3), size=-1),
}


@pytest.mark.parametrize("case", RUNTIME_ERRORS)
def test_what_pytorch_raises_as_runtime_error_is_a_runtime_error(case):
    with pytest.raises(RuntimeError):
        run(RUNTIME_ERRORS[case], torch)
    with pytest.raises(RuntimeError):
        run(RUNTIME_ERRORS[case], chainrule)


# ---- default dtype ------------------------------------------------------------------------------

DEFAULT_DTYPE_PROGRAMS = {
    "zeros": lambda lib: lib.zeros(2),
    "ones": lambda lib: lib.ones(1, 2),
    "full_float": lambda lib: lib.full((2,), 1.5),
    "full_int": lambda lib: lib.full((2,), 1),
    "empty": lambda lib: lib.empty(2).zero_(),
    "tensor_from_floats": lambda lib: lib.tensor([1.5, 2.0]),
    "tensor_mixed": lambda lib: lib.tensor([1, 2.5]),
    "tensor_float32_array": lambda lib: lib.tensor(np.ones(2, np.float32)),
    "legacy_constructor": lambda lib: lib.Tensor([1, 2]),
    "arange_float": lambda lib: lib.arange(0.0, 2.0),
    "arange_int": lambda lib: lib.arange(3),
    "linspace": lambda lib: lib.linspace(0, 1, 3),
    "logspace": lambda lib: lib.logspace(0, 1, 2),
    "eye": lambda lib: lib.eye(2),
    "rand_dtype": lambda lib: lib.zeros_like(lib.rand(2)),
    "randn_dtype": lambda lib: lib.zeros_like(lib.randn(2)),
    "int_true_divide": lambda lib: lib.tensor([1, 2]) / 2,
    "int_times_float": lambda lib: lib.tensor([1, 2]) * 1.5,
    "exp_of_int": lambda lib: lib.exp(lib.tensor([0, 1])),
    "sqrt_of_bool": lambda lib: lib.sqrt(lib.tensor([True])),
    "atan2_of_ints": lambda lib: lib.atan2(lib.tensor([1]), lib.tensor([2])),
    "float32_tensor_times_float": lambda lib: lib.ones(2, dtype=lib.float32) * 1.5,
    "mean_of_float32": lambda lib: lib.ones(2, dtype=lib.float32).mean(),
    "erfc_of_int": lambda lib: lib.erfc(lib.tensor([1])),
    "xlogy_of_ints": lambda lib: lib.xlogy(lib.tensor([1]), lib.tensor([2])),
    "repr": lambda lib: [
        repr(x).replace("torch.", "")
        for x in (lib.zeros(2), lib.zeros(2, dtype=lib.float32), lib.zeros(0), lib.ones(0, 2))
    ],
}


@pytest.fixture
def default_float64():
    """float64 as both libraries' default dtype for one test, restored after it."""
    chainrule.set_default_dtype(chainrule.float64)
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        chainrule.set_default_dtype(chainrule.float32)
        torch.set_default_dtype(torch.float32)


@pytest.mark.parametrize("case", DEFAULT_DTYPE_PROGRAMS)
def test_default_dtype_float64_is_followed_like_torch(case, default_float64):
    assert dtype_name(chainrule.get_default_dtype()) == "float64"
    ours, theirs = (
        run(DEFAULT_DTYPE_PROGRAMS[case], chainrule),
        run(DEFAULT_DTYPE_PROGRAMS[case], torch),
    )
    if case == "repr":
        assert [text.replace("chainrule.", "") for text in ours] == theirs
    else:
        assert_same(ours, theirs)


def test_default_dtype_float16_and_back():
    try:
        chainrule.set_default_dtype(chainrule.float16)
        torch.set_default_dtype(torch.float16)
        assert_same(chainrule.tensor([1.5]), torch.tensor([1.5]))
        assert_same(chainrule.tensor([1]) / 3, torch.tensor([1]) / 3)
    finally:
        chainrule.set_default_dtype(chainrule.float32)
        torch.set_default_dtype(torch.float32)
    assert chainrule.get_default_dtype() is chainrule.float32
    assert chainrule.zeros(1).dtype is chainrule.float32


# ---- print options ------------------------------------------------------------------------------

PRINTED = [
    lambda lib: lib.tensor([1.123456, 2.5]),
    lambda lib: lib.tensor([1e-9, 1.123]),
    lambda lib: lib.tensor([1.0, 2.0]),
    lambda lib: lib.tensor([1.0, 1e5]),
    lambda lib: lib.zeros(3),
    lambda lib: lib.arange(30.0).reshape(5, 6) / 7,
    lambda lib: lib.arange(2000),
    lambda lib: lib.tensor([[1.5, -2.25], [3.0, 4.0]], requires_grad=True),
]
OPTIONS = {
    "precision_2": {"precision": 2},
    "precision_7": {"precision": 7},
    "sci_on": {"sci_mode": True},
    "sci_off": {"sci_mode": False},
    "threshold_and_edgeitems": {"threshold": 5, "edgeitems": 2},
    "linewidth": {"linewidth": 30},
    "profile_short": {"profile": "short"},
    "profile_full": {"profile": "full"},
    "profile_short_precision_3": {"profile": "short", "precision": 3},
}


@pytest.mark.parametrize("options", OPTIONS)
def test_set_printoptions_prints_like_torch(options):
    try:
        chainrule.set_printoptions(**OPTIONS[options])
        torch.set_printoptions(**OPTIONS[options])
        for program in PRINTED:
            assert repr(program(chainrule)) == repr(program(torch)).replace("torch.", "chainrule.")
    finally:
        chainrule.set_printoptions(profile="default")
        torch.set_printoptions(profile="default")


def test_set_printoptions_without_sci_mode_goes_back_to_automatic():
    try:
        chainrule.set_printoptions(sci_mode=True)
        chainrule.set_printoptions(precision=4)  # sci_mode=None again, as PyTorch
        assert repr(chainrule.tensor([1.5])) == "tensor([1.5000])"
    finally:
        chainrule.set_printoptions(profile="default")


# ---- behaviour beyond values ---------------------------------------------------------------------


def test_meshgrid_without_indexing_warns_and_uses_ij():
    with pytest.warns(UserWarning, match="it will be required to pass the indexing argument"):
        ours = chainrule.meshgrid(chainrule.arange(2), chainrule.arange(3))
    with pytest.warns(UserWarning):
        theirs = torch.meshgrid(torch.arange(2), torch.arange(3))
    assert_same(ours, theirs)


def test_non_differentiable_results_do_not_require_grad():
    """As PyTorch's (unique's values and histogram's counts are recorded, their backward
    raising: test_torch_gaps.py's RECORDED_WITHOUT_DERIVATIVE; unique's inverse and counts are
    not)."""
    for lib in (chainrule, torch):
        x = lib.tensor([3.0, 1.0, 3.0], requires_grad=True)
        results = [
            *lib.unique(x, return_inverse=True, return_counts=True)[1:],
            lib.searchsorted(lib.tensor([1.0, 2.0]), x),
            lib.histc(x, 3),
            lib.isin(x, x),
            lib.isposinf(x),
            lib.isreal(x),
            lib.frexp(x).exponent,
        ]
        assert not any(r.requires_grad for r in results)


def test_rrelu_training_draws_slopes_between_lower_and_upper():
    chainrule.manual_seed(0)
    x = chainrule.full((1000,), -1.0, requires_grad=True)
    y = chainrule.rrelu(x, 0.1, 0.3, training=True)
    slopes = -y.detach().numpy()
    assert 0.1 <= slopes.min() and slopes.max() <= 0.3 and slopes.std() > 0.03
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), slopes)  # the gradient is each element's slope
    positive = chainrule.rrelu(chainrule.tensor([2.0]), training=True)
    assert positive.tolist() == [2.0]


def test_rrelu_inplace_and_functional_alias():
    x = chainrule.tensor([-1.0, 2.0])
    assert chainrule.nn.functional.rrelu(x, 0.2, 0.4, inplace=True) is x
    assert x.tolist() == pytest.approx([-0.3, 2.0])


def test_views_share_memory_like_torch():
    """select, ravel (of a contiguous tensor), tensor_split, hsplit and meshgrid return views,
    as PyTorch: they share the base's memory and version counter."""
    base = chainrule.arange(12.0).reshape(3, 4)
    views = [
        chainrule.select(base, 1, 2),
        chainrule.ravel(base),
        *chainrule.tensor_split(base, [1, 2]),
        *chainrule.tensor_split(base, 2, dim=1),
        *chainrule.hsplit(base, 2),
    ]
    assert all(view._version_counter is base._version_counter for view in views)
    base[0, 2] = 100.0
    assert views[0][0].item() == 100.0 and views[1][2].item() == 100.0
    xs = chainrule.arange(3.0)
    grid = chainrule.meshgrid(xs, chainrule.arange(2.0), indexing="ij")[0]
    assert grid._version_counter is xs._version_counter


def test_erfc_is_accurate_in_the_tail():
    x = chainrule.tensor([10.0, 20.0], dtype=chainrule.float64)
    expected = [math.erfc(10.0), math.erfc(20.0)]
    np.testing.assert_allclose(chainrule.erfc(x).numpy(), expected, rtol=1e-14)
    assert (1 - chainrule.erf(x)).tolist() == [0.0, 0.0]  # why erfc is its own op


def test_new_names_are_public():
    names = (
        "ravel moveaxis swapaxes swapdims fliplr flipud rot90 select column_stack tensor_split "
        "hsplit vsplit dsplit repeat_interleave diff meshgrid cartesian_prod diagflat "
        "tril_indices triu_indices isin unique unique_consecutive searchsorted bucketize histc "
        "numel is_floating_point is_complex can_cast get_default_dtype set_default_dtype "
        "set_printoptions clamp_min clamp_max true_divide copysign xlogy heaviside isposinf "
        "isneginf isreal sgn erfc frexp ldexp rrelu dropout selu celu threshold hardshrink "
        "cosine_similarity pairwise_distance"
    ).split()
    assert [name for name in names if name not in chainrule.__all__] == []
    methods = [
        name
        for name in names
        if hasattr(torch.Tensor, name) and not hasattr(chainrule.Tensor, name)
    ]
    assert methods == []


@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "int8", "uint8"])
def test_shifts_match_torch(dtype):
    values, counts = [8, -8, 5, 1, 0], [1, 2, 3, 0, 4]
    t_x, t_s = (torch.tensor(v).to(getattr(torch, dtype)) for v in (values, counts))
    c_x, c_s = (chainrule.tensor(v).to(getattr(chainrule, dtype)) for v in (values, counts))
    pairs = [
        (t_x << t_s, c_x << c_s),
        (t_x >> t_s, c_x >> c_s),
        (t_x << 2, c_x << 2),
        (1 << t_s, 1 << c_s),
        (torch.bitwise_right_shift(t_x, 1), chainrule.bitwise_right_shift(c_x, 1)),
        (t_x.bitwise_left_shift(t_s), c_x.bitwise_left_shift(c_s)),
    ]
    for theirs, mine in pairs:
        assert mine.tolist() == theirs.tolist() and mine.dtype.name == str(theirs.dtype)[6:]
    c_x <<= 1
    assert c_x.tolist() == (t_x << 1).tolist()
    with pytest.raises(TypeError):  # floats: torch raises NotImplementedError, both refuse
        chainrule.tensor([1.0]) << 1


def test_finfo_and_iinfo_match_torch():
    for name in ("float16", "float32", "float64"):
        theirs, mine = torch.finfo(getattr(torch, name)), chainrule.finfo(getattr(chainrule, name))
        for field in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
            assert getattr(mine, field) == getattr(theirs, field), (name, field)
        assert mine.dtype == theirs.dtype and repr(mine) == repr(theirs)
    assert chainrule.finfo().dtype == torch.finfo().dtype == "float32"
    for name in ("uint8", "int8", "int16", "int32", "int64"):
        theirs, mine = torch.iinfo(getattr(torch, name)), chainrule.iinfo(getattr(chainrule, name))
        assert (mine.bits, mine.min, mine.max, mine.dtype) == (
            theirs.bits,
            theirs.min,
            theirs.max,
            theirs.dtype,
        )
        assert repr(mine) == repr(theirs)
    with pytest.raises(TypeError):
        chainrule.iinfo(chainrule.float32)
    with pytest.raises(TypeError):
        chainrule.finfo(chainrule.int32)


@pytest.mark.parametrize(
    "name",
    [
        "FloatTensor",
        "DoubleTensor",
        "HalfTensor",
        "ByteTensor",
        "CharTensor",
        "ShortTensor",
        "IntTensor",
        "LongTensor",
        "BoolTensor",
    ],
)
def test_legacy_typed_constructors_match_torch(name):
    theirs, mine = getattr(torch, name)([1, 0, 2]), getattr(chainrule, name)([1, 0, 2])
    assert mine.tolist() == theirs.tolist() and mine.dtype.name == str(theirs.dtype)[6:]
    assert tuple(getattr(chainrule, name)(2, 3).shape) == (2, 3)
    assert tuple(getattr(chainrule, name)().shape) == (0,)
    assert isinstance(mine, getattr(chainrule, name)) and isinstance(mine, chainrule.Tensor)
    assert mine.type() == f"chainrule.{name}"
    other = "LongTensor" if name != "LongTensor" else "FloatTensor"
    assert not isinstance(mine, getattr(chainrule, other))


def test_testing_assert_close_passes_and_fails_where_torchs_does():
    from chainrule.testing import assert_close

    cases = [
        ([1.0, 2.0, 3.0], [1.0, 2.0 + 1e-6, 3.0], "float32", {}),
        ([1.0, 2.0, 3.0], [1.0, 2.0 + 1e-4, 3.0], "float32", {}),
        ([1.0, 2.0], [1.0, 2.0 + 1e-9], "float64", {}),
        ([1.0, 2.0], [1.0, 2.0 + 1e-6], "float64", {}),
        ([1, 2], [1, 3], "int64", {}),
        ([1.0, 2.0], [1.0, 2.1], "float32", {"rtol": 0.1, "atol": 0.0}),
        ([float("nan")], [float("nan")], "float32", {}),
        ([float("nan")], [float("nan")], "float32", {"equal_nan": True}),
        ([1.0, 2.0], [1.0, 2.0, 3.0], "float32", {}),
    ]
    for mine, theirs, dtype, options in cases:
        outcomes = []
        for lib, check in ((torch, torch.testing.assert_close), (chainrule, assert_close)):
            try:
                kind = getattr(lib, dtype)
                check(lib.tensor(mine, dtype=kind), lib.tensor(theirs, dtype=kind), **options)
                outcomes.append("close")
            except AssertionError as error:
                outcomes.append(str(error).splitlines()[0].replace("chainrule", "torch"))
        assert outcomes[0] == outcomes[1], (mine, theirs, dtype, options)
    with pytest.raises(AssertionError, match="attribute 'dtype'"):
        assert_close(chainrule.tensor([1.0]), chainrule.tensor([1.0], dtype=chainrule.float64))
    assert_close({"w": [chainrule.tensor(1.0)]}, {"w": [chainrule.tensor(1.0)]})
    assert_close(1.0, 1.0 + 1e-9)


def _assert_close_outcome(check, actual, expected, **options):
    try:
        check(actual, expected, **options)
    except (AssertionError, TypeError, ValueError) as error:
        return type(error).__name__, str(error).replace("chainrule", "torch")
    return "close", ""


ASSERT_CLOSE_CASES = {
    # chainrule compared complex values by their real parts alone, so these passed
    "complex": lambda t: (t.tensor([1 + 1j, 2j]), t.tensor([1 + 1j, 2.5j]), {}),
    "complex_within": lambda t: (t.tensor([1 + 1j]), t.tensor([1 + 1.000001j]), {}),
    "complex_scalar": lambda t: (t.tensor(1 + 1j), t.tensor(1 + 2j), {}),
    "complex_nan": lambda t: (
        t.tensor([complex(math.nan, 1)]),
        t.tensor([complex(math.nan, 2)]),
        {"equal_nan": True},
    ),
    # PyTorch's loosest tolerance of two dtypes, its promotion, its float32 ratios
    "mixed_dtypes": lambda t: (
        t.tensor([1.0, 2.0]),
        t.tensor([1.0, 2.00001], dtype=t.float64),
        {"check_dtype": False},
    ),
    "int_and_float": lambda t: (t.tensor([1, 2]), t.tensor([1.0, 2.5]), {"check_dtype": False}),
    "ints": lambda t: (t.tensor([[1, 2], [3, 4]]), t.tensor([[1, 2], [3, 5]]), {}),
    "bfloat16": lambda t: (
        t.tensor([1.0, 2.0], dtype=t.bfloat16),
        t.tensor([1.0, 2.1], dtype=t.bfloat16),
        {},
    ),
    # mismatches only: a matched zero's infinite ratio is not the worst
    "matched_zero": lambda t: (t.tensor([0.0, 1.0]), t.tensor([1e-6, 3.0]), {}),
    "nan": lambda t: (t.tensor([math.nan, 1.0]), t.tensor([1.0, 2.0]), {}),
    "zero_dim": lambda t: (t.tensor(1.0), t.tensor(1.1), {}),
    "numbers": lambda t: (1.0, 1.1, {}),
    "int_and_float_numbers": lambda t: (1, 1.0, {}),
    "booleans": lambda t: (True, False, {}),
    "nones": lambda t: (None, None, {}),
    "none_and_number": lambda t: (None, 1, {}),
    # the first failure in order (mappings by sorted key), named by its item
    "first_item": lambda t: ([t.ones(1), t.zeros(1)], [t.zeros(1), t.ones(1)], {}),
    "sorted_keys": lambda t: (
        {"b": t.ones(1), "a": t.ones(1)},
        {"b": t.zeros(1), "a": t.zeros(1)},
        {},
    ),
    "lengths": lambda t: ([t.ones(1)], [t.ones(1), t.ones(1)], {}),
    "keys": lambda t: ({"a": t.ones(1)}, {"b": t.ones(1)}, {}),
    "shape": lambda t: (t.ones(2, 3), t.ones(3, 2), {}),
    "stride": lambda t: (t.ones(2, 3).t(), t.ones(3, 2), {"check_stride": True}),
    "one_tolerance": lambda t: (t.ones(2), t.ones(2), {"rtol": 0.1}),
    "message": lambda t: (t.ones(1), t.zeros(1), {"msg": "custom"}),
    "message_function": lambda t: ([t.ones(1)], [t.zeros(1)], {"msg": lambda m: m + " (seen)"}),
}


@pytest.mark.parametrize("case", ASSERT_CLOSE_CASES)
def test_testing_assert_close_reports_as_torchs_does(case):
    from chainrule.testing import assert_close

    mine, reference = ASSERT_CLOSE_CASES[case](chainrule), ASSERT_CLOSE_CASES[case](torch)
    ours = _assert_close_outcome(assert_close, mine[0], mine[1], **mine[2])
    theirs = _assert_close_outcome(torch.testing.assert_close, *reference[:2], **reference[2])
    assert ours == theirs


def test_testing_assert_close_pairs_only_related_kinds_as_torchs():
    """A Tensor and a list, a NumPy array or a number is no pair PyTorch compares (chainrule
    compared them as arrays); two NumPy arrays are."""
    from chainrule.testing import assert_close

    for lib, check in ((chainrule, assert_close), (torch, torch.testing.assert_close)):
        for other in ([1.0, 2.0], np.array([1.0, 2.0], dtype=np.float32), 1.0):
            with pytest.raises(TypeError, match="No comparison pair was able to handle"):
                check(lib.tensor([1.0, 2.0]), other)
        with pytest.raises(AssertionError, match="Tensor-likes are not close"):
            check(np.array([1.0, 2.0]), np.array([1.0, 2.5]))


def test_modules_pytorch_exposes_as_attributes_are_attributes_here_too():
    for path in ("nn.attention", "utils.hooks", "utils.dlpack", "signal.windows", "types", "xpu"):
        ours, theirs = chainrule, torch
        for part in path.split("."):
            ours, theirs = getattr(ours, part), getattr(theirs, part)
        assert ours.__name__ == "chainrule." + path, path


def test_xpu_answers_as_a_pytorch_built_without_it():
    for lib in (chainrule, torch):
        assert (lib.xpu.is_available(), lib.xpu.device_count(), lib.xpu.is_initialized()) == (
            False,
            0,
            False,
        )
        lib.xpu.manual_seed(0)
        lib.xpu.empty_cache()
        with pytest.raises(AssertionError, match="Torch not compiled with XPU enabled"):
            lib.xpu.synchronize()


def test_dlpack_round_trips_through_another_library_sharing_memory():
    ours = chainrule.tensor([1.0, 2.0, 3.0])
    theirs = torch.utils.dlpack.from_dlpack(chainrule.utils.dlpack.to_dlpack(ours))
    theirs[0] = 7.0
    assert ours.tolist() == [7.0, 2.0, 3.0]
    back = chainrule.utils.dlpack.from_dlpack(torch.utils.dlpack.to_dlpack(theirs))
    assert back.tolist() == [7.0, 2.0, 3.0]
