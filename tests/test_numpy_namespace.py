"""chainrule.numpy: NumPy's names, arguments and dtypes over chainrule ops.

Three kinds of check:
- values and dtypes against NumPy itself, on NumPy inputs (float64, float32, integers, Python
  numbers and mixtures), for every supported function;
- gradients through chainrule.testing.check_op (value and vjp against the equivalent torch
  program, vjp against finite differences, second order, jvp, float32, non-contiguous input);
- whole NumPy-style programs (logistic regression, Rosenbrock, a small MLP) differentiated with
  chainrule.func.grad on NumPy arrays, against torch.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

import chainrule
import chainrule.numpy as cnp
from chainrule.errors import DTypeError
from chainrule.func import grad, hessian, jacrev
from chainrule.testing import OpSpec, check_op

RNG = np.random.default_rng(0)
F64 = RNG.uniform(0.2, 1.8, size=(3, 4))
F32 = RNG.uniform(0.2, 1.8, size=(3, 4)).astype(np.float32)
VEC = RNG.uniform(-1.5, 1.5, size=(4,))
INT = np.array([[3, -1, 4, 1], [-5, 9, 2, 6], [5, 3, -5, 8]])
BOOL = INT > 2
SQUARE = RNG.uniform(-1, 1, size=(3, 3)) + 3 * np.eye(3)
SPD = SQUARE @ SQUARE.T
UNIT = RNG.uniform(-0.9, 0.9, size=(3, 4))
ABOVE1 = RNG.uniform(1.1, 3.0, size=(3, 4))


def _value(result):
    if isinstance(result, chainrule.Tensor):
        return result.detach().numpy()
    return result


def _assert_matches_numpy(mine, theirs, label):
    if isinstance(theirs, (tuple, list)):
        assert isinstance(mine, (tuple, list)), f"{label}: expected a sequence, got {type(mine)}"
        assert len(mine) == len(theirs), f"{label}: {len(mine)} results, NumPy gives {len(theirs)}"
        for index, (a, b) in enumerate(zip(mine, theirs)):
            _assert_matches_numpy(a, b, f"{label}[{index}]")
        return
    if isinstance(theirs, (bool, int, float)) and not isinstance(mine, chainrule.Tensor):
        assert mine == theirs, f"{label}: {mine} != {theirs}"
        return
    theirs = np.asarray(theirs)
    assert isinstance(mine, chainrule.Tensor), f"{label}: expected a Tensor, got {type(mine)}"
    actual = _value(mine)
    assert actual.shape == theirs.shape, f"{label}: shape {actual.shape} != {theirs.shape}"
    assert actual.dtype == theirs.dtype, f"{label}: dtype {actual.dtype} != {theirs.dtype}"
    tolerance = 1e-5 if theirs.dtype in (np.float32, np.float16) else 1e-12
    np.testing.assert_allclose(actual, theirs, rtol=tolerance, atol=tolerance, err_msg=label)


# name, arguments, keyword arguments: run as cnp.<name>(*args, **kwargs) and np.<name>(...).
VALUE_CASES = [
    # arithmetic, with NumPy's dtype rules (int / int is float64, Python numbers are weak)
    ("add", (F64, VEC), {}),
    ("add", (F32, 1.5), {}),
    ("add", (INT, 2), {}),
    ("add", (INT, 0.5), {}),
    ("add", (F32, F64), {}),
    ("subtract", (F64, INT), {}),
    ("multiply", (F32, 3), {}),
    ("divide", (INT, 4), {}),
    ("true_divide", (F64, VEC), {}),
    ("floor_divide", (INT, 3), {}),
    ("power", (F64, 2.5), {}),
    ("power", (INT, 2), {}),
    ("float_power", (F32, 2), {}),
    ("mod", (INT, 4), {}),
    ("remainder", (VEC, 0.7), {}),
    ("fmod", (VEC, 0.7), {}),
    ("negative", (INT,), {}),
    ("positive", (F32,), {}),
    ("absolute", (VEC,), {}),
    ("abs", (INT,), {}),
    ("fabs", (INT,), {}),
    ("sign", (VEC,), {}),
    ("square", (INT,), {}),
    ("reciprocal", (F32,), {}),
    ("sqrt", (INT * INT,), {}),
    ("sqrt", (F32,), {}),
    ("cbrt", (VEC,), {}),
    ("maximum", (F64, 1.0), {}),
    ("minimum", (INT, VEC), {}),
    ("fmax", (VEC, np.array([np.nan, 0.0, 1.0, np.nan])), {}),
    ("fmin", (VEC, np.array([np.nan, 0.0, 1.0, np.nan])), {}),
    ("hypot", (F64, VEC), {}),
    ("exp", (INT,), {}),
    ("exp", (F32,), {}),
    ("exp", (np.array([1, 2], dtype=np.int8),), {}),
    ("exp2", (VEC,), {}),
    ("expm1", (VEC,), {}),
    ("log", (F64,), {}),
    ("log2", (F32,), {}),
    ("log10", (F64,), {}),
    ("log1p", (F64,), {}),
    ("logaddexp", (VEC, np.array([800.0, -800.0, 0.5, 1.0])), {}),
    ("logaddexp2", (VEC, F64), {}),
    ("sin", (VEC,), {}),
    ("cos", (F32,), {}),
    ("tan", (VEC,), {}),
    ("arcsin", (UNIT,), {}),
    ("arccos", (UNIT,), {}),
    ("arctan", (VEC,), {}),
    ("arctan2", (VEC, F64), {}),
    ("sinh", (VEC,), {}),
    ("cosh", (VEC,), {}),
    ("tanh", (INT,), {}),
    ("arcsinh", (VEC,), {}),
    ("arccosh", (ABOVE1,), {}),
    ("arctanh", (UNIT,), {}),
    ("deg2rad", (INT,), {}),
    ("rad2deg", (VEC,), {}),
    ("radians", (F32,), {}),
    ("degrees", (F64,), {}),
    ("floor", (VEC,), {}),
    ("ceil", (VEC,), {}),
    ("trunc", (VEC,), {}),
    ("rint", (np.array([0.5, 1.5, 2.5, -0.5]),), {}),
    ("round", (np.array([0.125, 1.5, 2.5, -0.5]),), {}),
    ("round", (np.array([0.125, 1.555, 2.5]),), {"decimals": 2}),
    ("round", (INT,), {}),
    ("sinc", (np.array([0.0, 0.5, -1.5, 2.0]),), {}),
    ("clip", (VEC, -0.5, 0.5), {}),
    ("clip", (INT, 0, None), {}),
    ("clip", (F64, VEC, 1.2), {}),
    ("where", (BOOL, F64, 0.0), {}),
    ("where", (VEC > 0, VEC, INT[0]), {}),
    ("real", (VEC,), {}),
    ("conj", (F32,), {}),
    # comparisons and logic
    ("equal", (INT, 3), {}),
    ("not_equal", (F64, F64), {}),
    ("less", (VEC, 0), {}),
    ("less_equal", (INT, 2.5), {}),
    ("greater", (F32, 1.0), {}),
    ("greater_equal", (INT, INT.T[0][:, None]), {}),
    ("logical_and", (BOOL, INT), {}),
    ("logical_or", (BOOL, VEC), {}),
    ("logical_xor", (BOOL, True), {}),
    ("logical_not", (INT,), {}),
    ("isnan", (np.array([np.nan, 1.0, np.inf]),), {}),
    ("isinf", (np.array([np.nan, 1.0, -np.inf]),), {}),
    ("isfinite", (np.array([np.nan, 1.0, np.inf]),), {}),
    ("signbit", (VEC,), {}),
    ("isclose", (F64, F64 + 1e-9), {}),
    ("allclose", (F64, F64 + 1e-9), {}),
    ("array_equal", (INT, INT.copy()), {}),
    ("array_equal", (INT, INT[:2]), {}),
    # reductions and statistics
    ("sum", (F64,), {}),
    ("sum", (INT,), {"axis": 0}),
    ("sum", (BOOL,), {}),
    ("sum", (F32,), {"axis": (0, 1), "keepdims": True}),
    ("sum", (F64,), {"axis": ()}),
    ("sum", (INT,), {"axis": -1, "dtype": np.float32}),
    ("sum", (F64,), {"axis": 1, "initial": 2.0}),
    ("mean", (INT,), {}),
    ("mean", (F32,), {"axis": 1, "keepdims": True}),
    ("prod", (F64,), {"axis": 0}),
    ("prod", (F64,), {"axis": (0, 1), "keepdims": True}),
    ("prod", (INT,), {}),
    ("max", (F64,), {}),
    ("amax", (INT,), {"axis": 1}),
    ("min", (F32,), {"axis": (0, 1)}),
    ("amin", (F64,), {"axis": 0, "keepdims": True}),
    ("max", (F64,), {"axis": 0, "initial": 1.0}),
    ("ptp", (F64,), {"axis": 1}),
    ("argmax", (INT,), {}),
    ("argmax", (F64,), {"axis": 1}),
    ("argmin", (F64,), {"axis": 0, "keepdims": True}),
    ("argmin", (INT,), {"keepdims": True}),
    ("var", (F64,), {}),
    ("var", (INT,), {"axis": 0, "ddof": 1}),
    ("var", (F32,), {"axis": 1, "keepdims": True}),
    ("std", (F64,), {"axis": (0, 1), "ddof": 2}),
    ("std", (F64,), {"axis": 1}),
    ("cumsum", (F64,), {}),
    ("cumsum", (INT,), {"axis": 1}),
    ("cumsum", (np.array([1, 2, 3], dtype=np.int32),), {}),
    ("cumprod", (F64,), {"axis": 0}),
    ("all", (INT,), {}),
    ("all", (BOOL,), {"axis": 1}),
    ("any", (F64 - 1,), {"axis": 0, "keepdims": True}),
    ("count_nonzero", (INT - 3,), {}),
    ("count_nonzero", (INT - 3,), {"axis": 0}),
    ("median", (F64,), {}),
    ("median", (INT,), {"axis": 1}),
    ("median", (F64,), {"axis": 0, "keepdims": True}),
    ("median", (np.array([1.0, np.nan, 3.0]),), {}),
    ("average", (F64,), {"axis": 1, "weights": VEC + 2}),
    ("average", (F64,), {"weights": F64}),
    ("average", (INT,), {}),
    ("sort", (F64,), {}),
    ("sort", (INT,), {"axis": 0}),
    ("sort", (F64,), {"axis": None}),
    ("argsort", (INT,), {"kind": "stable"}),
    ("argsort", (VEC,), {"axis": None}),
    # products and matrices
    ("dot", (VEC, VEC), {}),
    ("dot", (F64, VEC), {}),
    ("dot", (F64.T, F64), {}),
    ("dot", (RNG.normal(size=(2, 3, 4)), RNG.normal(size=(5, 4, 2))), {}),
    ("dot", (RNG.normal(size=(2, 3, 4)), VEC), {}),
    ("dot", (2.0, F64), {}),
    ("vdot", (F64, F64), {}),
    ("inner", (F64, F64), {}),
    ("inner", (VEC, 3.0), {}),
    ("outer", (VEC, F64), {}),
    ("matmul", (RNG.normal(size=(2, 3, 4)), RNG.normal(size=(4, 5))), {}),
    ("matmul", (VEC, F64.T), {}),
    ("tensordot", (RNG.normal(size=(2, 3, 4)), RNG.normal(size=(3, 4, 5))), {}),
    ("tensordot", (F64, F64), {"axes": ([0], [0])}),
    ("tensordot", (F64, VEC), {"axes": (1, 0)}),
    ("tensordot", (F64, F64), {"axes": 0}),
    ("einsum", ("ij,kj->ik", F64, F64), {}),
    ("einsum", ("ii", SQUARE), {}),
    ("einsum", ("...j,j->...", F64, VEC), {}),
    ("einsum", (F64, [0, 1], F64, [2, 1], [0, 2]), {}),
    ("kron", (SQUARE, F64), {}),
    ("kron", (VEC, INT), {}),
    ("trace", (SQUARE,), {}),
    ("trace", (INT,), {"offset": 1}),
    ("trace", (RNG.normal(size=(2, 3, 3)),), {"axis1": 1, "axis2": 2}),
    ("diag", (VEC,), {}),
    ("diag", (VEC,), {"k": -1}),
    ("diag", (F64,), {"k": 1}),
    ("diagonal", (F64,), {}),
    ("diagonal", (RNG.normal(size=(2, 3, 3)),), {"offset": -1, "axis1": 1, "axis2": 2}),
    ("tril", (F64,), {}),
    ("triu", (F64,), {"k": 1}),
    ("tril", (RNG.normal(size=(2, 3, 3)),), {"k": -1}),
    ("triu", (VEC,), {}),
    # shapes
    ("reshape", (F64, (2, 6)), {}),
    ("reshape", (F64, (4, -1)), {"order": "F"}),
    ("reshape", (F64, 12), {}),
    ("ravel", (F64,), {}),
    ("ravel", (F64,), {"order": "F"}),
    ("transpose", (RNG.normal(size=(2, 3, 4)),), {}),
    ("transpose", (RNG.normal(size=(2, 3, 4)), (1, 2, 0)), {}),
    ("swapaxes", (RNG.normal(size=(2, 3, 4)), 0, 2), {}),
    ("moveaxis", (RNG.normal(size=(2, 3, 4)), 0, -1), {}),
    ("moveaxis", (RNG.normal(size=(2, 3, 4)), (0, 1), (2, 0)), {}),
    ("expand_dims", (F64, 1), {}),
    ("expand_dims", (F64, (0, 3)), {}),
    ("expand_dims", (VEC, -1), {}),
    ("squeeze", (np.ones((1, 3, 1, 2)),), {}),
    ("squeeze", (np.ones((1, 3, 1, 2)),), {"axis": 2}),
    ("concatenate", ([F64, F64 * 2],), {"axis": 1}),
    ("concatenate", ([F64, INT],), {}),
    ("concatenate", ([F64, VEC],), {"axis": None}),
    ("concatenate", ([F32, F32],), {"axis": -1}),
    ("stack", ([VEC, VEC + 1, VEC * 2],), {}),
    ("stack", ([F64, F64],), {"axis": -1}),
    ("hstack", ([VEC, VEC],), {}),
    ("hstack", ([F64, F64],), {}),
    ("vstack", ([VEC, VEC],), {}),
    ("vstack", ([F64, VEC],), {}),
    ("dstack", ([F64, F64],), {}),
    ("column_stack", ([VEC, VEC],), {}),
    ("split", (F64, 3), {}),
    ("split", (F64, [1, 3]), {"axis": 1}),
    ("array_split", (VEC, 3), {}),
    ("array_split", (F64, [1, -1, 10]), {"axis": 1}),
    ("hsplit", (F64, 2), {}),
    ("vsplit", (F64, [1]), {}),
    ("repeat", (F64, 2), {}),
    ("repeat", (F64, 2), {"axis": 1}),
    ("repeat", (F64, [1, 0, 2]), {"axis": 0}),
    ("tile", (VEC, 2), {}),
    ("tile", (F64, (2, 1, 2)), {}),
    ("flip", (F64,), {}),
    ("flip", (F64,), {"axis": 1}),
    ("fliplr", (F64,), {}),
    ("flipud", (F64,), {}),
    ("roll", (F64, 2), {}),
    ("roll", (F64, -1), {"axis": 1}),
    ("roll", (F64, (1, 2)), {"axis": (0, 1)}),
    ("broadcast_to", (VEC, (3, 4)), {}),
    ("broadcast_arrays", (VEC, INT[:, :1]), {}),
    ("atleast_1d", (2.0,), {}),
    ("atleast_2d", (VEC,), {}),
    ("atleast_3d", (VEC,), {}),
    ("atleast_3d", (F64,), {}),
    ("atleast_1d", (VEC, 3.0), {}),
    ("pad", (F64, 1), {}),
    ("pad", (F64, ((0, 1), (2, 0))), {"constant_values": 3.0}),
    ("shape", (F64,), {}),
    ("ndim", (F64,), {}),
    ("size", (F64,), {}),
    ("size", (F64,), {"axis": 1}),
    # indexing helpers
    ("take", (F64, [0, 5, -1]), {}),
    ("take", (F64, [[0, 2], [1, 1]]), {"axis": 1}),
    ("take", (VEC, [5, -7]), {"mode": "wrap"}),
    ("take", (VEC, [5, -7]), {"mode": "clip"}),
    ("take_along_axis", (F64, np.argsort(F64, axis=1)), {"axis": 1}),
    ("take_along_axis", (F64, np.argmax(F64, axis=0, keepdims=True)), {"axis": 0}),
    ("take_along_axis", (VEC, np.array([3, 0])), {"axis": None}),
    ("nonzero", (INT - 3,), {}),
    ("where", (INT > 3,), {}),
    ("argwhere", (INT > 3,), {}),
    ("flatnonzero", (INT - 3,), {}),
    # creation, with NumPy's default dtypes
    ("array", ([1.0, 2.0, 3.0],), {}),
    ("array", ([1, 2, 3],), {}),
    ("array", ([[1, 2], [3, 4]],), {"dtype": np.float32}),
    ("array", (F64,), {"ndmin": 4}),
    ("asarray", ([True, False],), {}),
    ("asarray", (F32,), {"dtype": np.float64}),
    ("copy", (F64,), {}),
    ("zeros", ((2, 3),), {}),
    ("zeros", (3,), {"dtype": np.int32}),
    ("ones", ((2,),), {}),
    ("full", ((2, 2), 7), {}),
    ("full", ((2, 2), 7.0), {"dtype": np.float32}),
    ("zeros_like", (INT,), {}),
    ("ones_like", (F32,), {}),
    ("full_like", (F64, 0.5), {}),
    ("full_like", (INT, 0.5), {}),
    ("arange", (5,), {}),
    ("arange", (1.0, 2.0, 0.25), {}),
    ("arange", (1, 10, 3), {"dtype": np.float32}),
    ("linspace", (0.0, 1.0, 5), {}),
    ("linspace", (0, 1, 4), {"endpoint": False}),
    ("linspace", (VEC, 2.0, 3), {"axis": 1}),
    ("logspace", (0.0, 2.0, 3), {}),
    ("eye", (3,), {}),
    ("eye", (2, 3), {"k": 1, "dtype": np.int64}),
    ("identity", (3,), {}),
    ("meshgrid", (VEC, VEC[:3]), {}),
    ("meshgrid", (VEC, VEC[:3], VEC[:2]), {"indexing": "ij"}),
    ("meshgrid", (VEC, VEC[:3]), {"sparse": True}),
]


@pytest.mark.parametrize(
    "name, args, kwargs", VALUE_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(VALUE_CASES)]
)
def test_values_and_dtypes_match_numpy(name, args, kwargs):
    expected = getattr(np, name)(*args, **kwargs)
    actual = getattr(cnp, name)(*args, **kwargs)
    _assert_matches_numpy(actual, expected, name)


LINALG_CASES = [
    ("inv", (SQUARE,), {}),
    ("inv", (np.array([[2, 1], [1, 3]]),), {}),
    ("det", (SQUARE,), {}),
    ("det", (np.stack([SQUARE, SPD]),), {}),
    ("slogdet", (SQUARE,), {}),
    ("solve", (SQUARE, VEC[:3]), {}),
    ("solve", (SQUARE, F64), {}),
    ("solve", (np.stack([SQUARE, SPD]), F64[:, :3]), {}),  # b is a matrix in NumPy 2
    ("cholesky", (SPD,), {}),
    ("cholesky", (SPD,), {"upper": True}),
    ("norm", (F64,), {}),
    ("norm", (VEC,), {"ord": 1}),
    ("norm", (VEC,), {"ord": np.inf}),
    ("norm", (F64,), {"axis": 1}),
    ("norm", (F64,), {"axis": 0, "ord": 3, "keepdims": True}),
    ("norm", (F64,), {"ord": "fro"}),
    ("norm", (F64,), {"ord": 1}),
    ("norm", (F64,), {"ord": -np.inf}),
    ("norm", (INT,), {"axis": (1, 0)}),
    ("matrix_power", (SQUARE, 3), {}),
    ("matrix_power", (SQUARE, -2), {}),
    ("multi_dot", ([F64, F64.T, SQUARE],), {}),
    # decompositions: NumPy's own LAPACK routines underneath, so even the vectors' signs agree
    ("norm", (F64,), {"ord": "nuc"}),
    ("norm", (F64,), {"ord": 2}),
    ("norm", (np.stack([F64, 2 * F64]),), {"ord": -2, "axis": (2, 1)}),
    ("matrix_norm", (np.stack([F64, F64]),), {"ord": "nuc", "keepdims": True}),
    ("svd", (F64,), {}),
    ("svd", (np.stack([F64.T, F64.T]),), {"full_matrices": False}),
    ("svd", (INT,), {"compute_uv": False}),
    ("svdvals", (F64,), {}),
    ("eigh", (SPD,), {}),
    ("eigh", (SQUARE,), {"UPLO": "U"}),
    ("eigvalsh", (np.stack([SPD, SQUARE]),), {}),
    ("qr", (F64,), {}),
    ("qr", (F64.T,), {"mode": "complete"}),
    ("qr", (F64.T,), {"mode": "r"}),
    ("pinv", (F64,), {}),
    ("pinv", (np.diag([2.0, 1e-3, 0.0]),), {"rcond": 1e-2}),
    ("pinv", (SPD,), {"hermitian": True}),
    ("lstsq", (F64.T, VEC), {}),
    ("lstsq", (F64.T, F64.T[:, :2]), {}),
    ("lstsq", (F64, F64[:, :2]), {}),
    ("lstsq", (np.diag([2.0, 1e-3, 0.0]), np.ones(3)), {"rcond": 1e-2}),
    ("matrix_rank", (F64,), {}),
    ("matrix_rank", (np.diag([2.0, 1e-3, 0.0]),), {"tol": 1e-2}),
    ("matrix_rank", (np.stack([SPD, np.zeros((3, 3))]),), {"hermitian": True}),
    ("matrix_rank", (VEC,), {}),
    ("cond", (SQUARE,), {}),
    ("cond", (SQUARE,), {"p": "fro"}),
    ("cond", (F64,), {"p": -2}),
]


@pytest.mark.parametrize(
    "name, args, kwargs", LINALG_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(LINALG_CASES)]
)
def test_linalg_values_match_numpy(name, args, kwargs):
    expected = getattr(np.linalg, name)(*args, **kwargs)
    actual = getattr(cnp.linalg, name)(*args, **kwargs)
    _assert_matches_numpy(actual, expected, f"linalg.{name}")


# ---- gradients: each function against the equivalent torch program (chainrule.testing) -----


def _well_conditioned(*shape):
    def draw(rng):
        n = shape[-1]
        return rng.uniform(-1, 1, size=shape) + n * np.eye(n)

    return draw


def _inputs(*draws):
    def make(rng):
        return tuple(
            draw(rng) if callable(draw) else rng.uniform(-2, 2, size=draw) for draw in draws
        )

    return make


def _cnp_cholesky_of_gram(x):
    return cnp.linalg.cholesky(
        cnp.matmul(x, cnp.swapaxes(x, -1, -2)) + 3 * cnp.eye(3, dtype=x.dtype)
    )


def _torch_cholesky_of_gram(x):
    return torch.linalg.cholesky(x @ x.mT + 3 * torch.eye(3, dtype=x.dtype))


def _torch_median(x, dim):
    ordered = torch.sort(x, dim).values
    count = x.shape[dim]
    lower = ordered.select(dim, (count - 1) // 2)
    upper = ordered.select(dim, count // 2)
    return (lower + upper) / 2


def _torch_dot_nd(a, b):
    return torch.tensordot(a, b, dims=([a.ndim - 1], [b.ndim - 2]))


def _torch_reshape_f(x, shape):
    reverse = tuple(range(x.ndim - 1, -1, -1))
    flipped = x.permute(reverse).reshape(tuple(reversed(shape)))
    return flipped.permute(tuple(range(flipped.ndim - 1, -1, -1)))


def _cbrt(x):
    return torch.sign(x) * torch.abs(x) ** (1 / 3)


POSITIVE = [(0.3, 2.0)]
SPECS = [
    # elementwise, unary
    OpSpec("exp", cnp.exp, torch.exp, shapes=[((2, 3),), ((),)]),
    OpSpec("exp2", cnp.exp2, torch.exp2),
    OpSpec("expm1", cnp.expm1, torch.expm1),
    OpSpec("log", cnp.log, torch.log, domains=POSITIVE),
    OpSpec("log2", cnp.log2, torch.log2, domains=POSITIVE),
    OpSpec("log10", cnp.log10, torch.log10, domains=POSITIVE),
    OpSpec("log1p", cnp.log1p, torch.log1p, domains=[(-0.5, 2.0)]),
    OpSpec("sqrt", cnp.sqrt, torch.sqrt, domains=POSITIVE),
    OpSpec("cbrt", cnp.cbrt, _cbrt, shapes=[((2, 3),)], domains=POSITIVE),
    OpSpec("cbrt (negative)", cnp.cbrt, _cbrt, domains=[(-2.0, -0.3)]),
    OpSpec("square", cnp.square, torch.square),
    OpSpec("reciprocal", cnp.reciprocal, torch.reciprocal, domains=POSITIVE),
    OpSpec("negative", cnp.negative, torch.neg),
    OpSpec("positive", cnp.positive, torch.positive),
    OpSpec("absolute", cnp.absolute, torch.abs, shapes=[((2, 3),)]),
    OpSpec("sign", cnp.sign, torch.sign),
    OpSpec("sin", cnp.sin, torch.sin),
    OpSpec("cos", cnp.cos, torch.cos),
    OpSpec("tan", cnp.tan, torch.tan, domains=[(-1.2, 1.2)]),
    OpSpec("arcsin", cnp.arcsin, torch.asin, domains=[(-0.9, 0.9)]),
    OpSpec("arccos", cnp.arccos, torch.acos, domains=[(-0.9, 0.9)]),
    OpSpec("arctan", cnp.arctan, torch.atan),
    OpSpec("sinh", cnp.sinh, torch.sinh),
    OpSpec("cosh", cnp.cosh, torch.cosh),
    OpSpec("tanh", cnp.tanh, torch.tanh, shapes=[((2, 3),)]),
    OpSpec("arcsinh", cnp.arcsinh, torch.asinh, shapes=[((2, 3),)]),
    OpSpec("arccosh", cnp.arccosh, torch.acosh, domains=[(1.2, 3.0)]),
    OpSpec("arctanh", cnp.arctanh, torch.atanh, domains=[(-0.9, 0.9)]),
    OpSpec("deg2rad", cnp.deg2rad, torch.deg2rad),
    OpSpec("rad2deg", cnp.rad2deg, torch.rad2deg),
    OpSpec("sinc", cnp.sinc, torch.sinc, shapes=[((2, 3),)], domains=[(0.1, 2.0)]),
    OpSpec("floor", cnp.floor, torch.floor),
    OpSpec("rint", cnp.rint, torch.round),
    OpSpec(
        "clip",
        lambda x: cnp.clip(x, -0.5, 0.7),
        lambda x: torch.clamp(x, -0.5, 0.7),
        shapes=[((2, 3),)],
    ),
    # elementwise, binary (broadcasting like NumPy)
    OpSpec("add", cnp.add, torch.add, shapes=[((2, 3), (3,)), ((), (2, 1))]),
    OpSpec("subtract", cnp.subtract, torch.sub, shapes=[((2, 3), (2, 1))]),
    OpSpec("multiply", cnp.multiply, torch.mul, shapes=[((2, 3), (3,))]),
    OpSpec("divide", cnp.divide, torch.div, shapes=[((2, 3), (3,))], domains=[(-2, 2), (0.5, 2)]),
    OpSpec("power", cnp.power, torch.pow, shapes=[((2, 3), (3,))], domains=[(0.3, 2), (-2, 2)]),
    OpSpec(
        "float_power",
        cnp.float_power,
        torch.float_power,
        shapes=[((3,), (3,))],
        domains=[(0.3, 2), (-2, 2)],
    ),
    OpSpec("mod", cnp.mod, torch.remainder, shapes=[((2, 3), (3,))], domains=[(-2, 2), (0.5, 2)]),
    OpSpec("fmod", cnp.fmod, torch.fmod, shapes=[((2, 3), (3,))], domains=[(-2, 2), (0.5, 2)]),
    OpSpec("arctan2", cnp.arctan2, torch.atan2, shapes=[((2, 3), (3,))]),
    OpSpec("hypot", cnp.hypot, torch.hypot, shapes=[((2, 3), (3,)), ((), (2,))]),
    OpSpec("logaddexp", cnp.logaddexp, torch.logaddexp, shapes=[((2, 3), (3,)), ((), (2,))]),
    OpSpec("logaddexp2", cnp.logaddexp2, torch.logaddexp2, shapes=[((2, 3), (2, 1))]),
    OpSpec("maximum", cnp.maximum, torch.maximum, shapes=[((2, 3), (3,))]),
    OpSpec("minimum", cnp.minimum, torch.minimum, shapes=[((2, 3), (3,))]),
    OpSpec("fmax", cnp.fmax, torch.fmax, shapes=[((2, 3), (3,))]),
    OpSpec("fmin", cnp.fmin, torch.fmin, shapes=[((2, 3), (3,))]),
    OpSpec(
        "where",
        lambda c, x, y: cnp.where(c, x, y),
        torch.where,
        make_inputs=_inputs(lambda rng: rng.uniform(size=(2, 3)) > 0.5, (2, 3), (3,)),
    ),
    # reductions and statistics
    OpSpec("sum", cnp.sum, torch.sum, shapes=[((2, 3),)]),
    OpSpec("sum axis", cnp.sum, torch.sum, shapes=[((2, 3, 2),)], kwargs={"axis": (0, 2)}),
    OpSpec("mean", lambda x: cnp.mean(x, axis=1), lambda x: torch.mean(x, 1), shapes=[((2, 3),)]),
    OpSpec("prod", cnp.prod, torch.prod, shapes=[((2, 3),)], domains=POSITIVE),
    OpSpec(
        "prod two axes",
        lambda x: cnp.prod(x, axis=(0, 2), keepdims=True),
        lambda x: x.prod(2, keepdim=True).prod(0, keepdim=True),
        shapes=[((2, 3, 2),)],
        domains=POSITIVE,
    ),
    OpSpec("max", cnp.max, torch.amax, shapes=[((2, 3),)]),
    OpSpec("amin axis", lambda x: cnp.amin(x, 0), lambda x: torch.amin(x, 0), shapes=[((2, 3),)]),
    OpSpec("ptp", lambda x: cnp.ptp(x, 1), lambda x: x.amax(1) - x.amin(1), shapes=[((2, 3),)]),
    OpSpec("var", cnp.var, lambda x: torch.var(x, correction=0), shapes=[((2, 3),)]),
    OpSpec(
        "var ddof=1 axis",
        lambda x: cnp.var(x, axis=0, ddof=1),
        lambda x: torch.var(x, 0, correction=1),
        shapes=[((3, 2),)],
    ),
    OpSpec(
        "std keepdims",
        lambda x: cnp.std(x, axis=1, keepdims=True),
        lambda x: torch.std(x, 1, keepdim=True, correction=0),
        shapes=[((2, 3),)],
    ),
    OpSpec("cumsum", cnp.cumsum, lambda x: torch.cumsum(x.reshape(-1), 0), shapes=[((2, 3),)]),
    OpSpec(
        "cumprod",
        lambda x: cnp.cumprod(x, axis=1),
        lambda x: torch.cumprod(x, 1),
        shapes=[((2, 3),)],
    ),
    OpSpec(
        "median (even count)",
        lambda x: cnp.median(x, axis=1),
        lambda x: _torch_median(x, 1),
        shapes=[((2, 4),)],
    ),
    OpSpec("median (odd count)", cnp.median, lambda x: _torch_median(x.reshape(-1), 0)),
    OpSpec(
        "average weights",
        lambda x, w: cnp.average(x, axis=1, weights=w),
        lambda x, w: (x * w).sum(1) / w.sum(),
        shapes=[((2, 3), (3,))],
        domains=[(-2, 2), (0.5, 2)],
    ),
    OpSpec(
        "sort",
        lambda x: cnp.sort(x, axis=0),
        lambda x: torch.sort(x, 0).values,
        shapes=[((3, 2),)],
    ),
    # products and matrices
    OpSpec("dot (vectors)", cnp.dot, torch.dot, shapes=[((3,), (3,))]),
    OpSpec("dot (matrices)", cnp.dot, torch.mm, shapes=[((2, 3), (3, 4))]),
    OpSpec("dot (matrix, vector)", cnp.dot, torch.mv, shapes=[((2, 3), (3,))]),
    OpSpec("dot (N-d)", cnp.dot, _torch_dot_nd, shapes=[((2, 2, 3), (4, 3, 2))]),
    OpSpec("vdot", cnp.vdot, lambda a, b: (a * b).sum(), shapes=[((2, 3), (2, 3))]),
    OpSpec("inner", cnp.inner, torch.inner, shapes=[((2, 3), (4, 3))]),
    OpSpec("outer", cnp.outer, lambda a, b: torch.outer(a.reshape(-1), b), shapes=[((2, 2), (3,))]),
    OpSpec("matmul", cnp.matmul, torch.matmul, shapes=[((2, 2, 3), (3, 4)), ((3,), (3, 2))]),
    OpSpec("tensordot", cnp.tensordot, torch.tensordot, shapes=[((2, 3, 2), (3, 2, 4))]),
    OpSpec(
        "tensordot axes",
        lambda a, b: cnp.tensordot(a, b, axes=([0, 2], [1, 0])),
        lambda a, b: torch.tensordot(a, b, dims=([0, 2], [1, 0])),
        shapes=[((2, 3, 4), (4, 2))],
    ),
    OpSpec(
        "einsum",
        lambda a, b: cnp.einsum("bij,jk->bik", a, b),
        lambda a, b: torch.einsum("bij,jk->bik", a, b),
        shapes=[((2, 2, 3), (3, 2))],
    ),
    OpSpec("kron", cnp.kron, torch.kron, shapes=[((2, 2), (2, 3))]),
    OpSpec("trace", cnp.trace, torch.trace, shapes=[((3, 3),)]),
    OpSpec("diag", cnp.diag, torch.diag, shapes=[((3,),), ((3, 4),)]),
    OpSpec(
        "diagonal",
        lambda x: cnp.diagonal(x, 1, 1, 2),
        lambda x: torch.diagonal(x, 1, 1, 2),
        shapes=[((2, 3, 3),)],
    ),
    OpSpec("tril", cnp.tril, torch.tril, shapes=[((3, 4),)]),
    OpSpec("triu", lambda x: cnp.triu(x, 1), lambda x: torch.triu(x, 1), shapes=[((3, 3),)]),
    # shapes
    OpSpec(
        "reshape order F",
        lambda x: cnp.reshape(x, (3, 4), order="F"),
        lambda x: _torch_reshape_f(x, (3, 4)),
        shapes=[((2, 6),)],
    ),
    OpSpec("transpose", cnp.transpose, lambda x: x.permute(2, 1, 0), shapes=[((2, 3, 2),)]),
    OpSpec(
        "moveaxis",
        lambda x: cnp.moveaxis(x, 0, -1),
        lambda x: torch.movedim(x, 0, -1),
        shapes=[((2, 3, 2),)],
    ),
    OpSpec(
        "expand_dims",
        lambda x: cnp.expand_dims(x, (0, 2)),
        lambda x: x.unsqueeze(0).unsqueeze(2),
        shapes=[((2, 3),)],
    ),
    OpSpec("squeeze", lambda x: cnp.squeeze(x, 1), lambda x: x.squeeze(1), shapes=[((2, 1, 3),)]),
    OpSpec(
        "concatenate",
        lambda a, b: cnp.concatenate([a, b], axis=1),
        lambda a, b: torch.cat([a, b], 1),
        shapes=[((2, 3), (2, 2))],
    ),
    OpSpec(
        "stack",
        lambda a, b: cnp.stack([a, b], axis=-1),
        lambda a, b: torch.stack([a, b], -1),
        shapes=[((2, 3), (2, 3))],
    ),
    OpSpec(
        "vstack",
        lambda a, b: cnp.vstack([a, b]),
        lambda a, b: torch.vstack([a, b]),
        shapes=[((3,), (2, 3))],
    ),
    OpSpec(
        "split",
        lambda x: cnp.split(x, [1, 3], axis=1),
        lambda x: torch.split(x, [1, 2, 1], 1),
        shapes=[((2, 4),)],
    ),
    OpSpec(
        "repeat",
        lambda x: cnp.repeat(x, 2, axis=1),
        lambda x: torch.repeat_interleave(x, 2, 1),
        shapes=[((2, 3),)],
    ),
    OpSpec(
        "repeat counts",
        lambda x: cnp.repeat(x, [2, 0, 1]),
        lambda x: torch.repeat_interleave(x.reshape(-1), torch.tensor([2, 0, 1])),
        shapes=[((3,),)],
    ),
    OpSpec(
        "tile", lambda x: cnp.tile(x, (2, 1, 2)), lambda x: x.tile((2, 1, 2)), shapes=[((2, 3),)]
    ),
    OpSpec("flip", cnp.flip, lambda x: x.flip((0, 1)), shapes=[((2, 3),)]),
    OpSpec("roll", lambda x: cnp.roll(x, 2), lambda x: torch.roll(x, 2), shapes=[((2, 3),)]),
    OpSpec(
        "broadcast_to",
        lambda x: cnp.broadcast_to(x, (2, 3)),
        lambda x: x.expand(2, 3),
        shapes=[((3,),)],
    ),
    OpSpec(
        "pad",
        lambda x: cnp.pad(x, ((1, 0), (0, 2))),
        lambda x: torch.nn.functional.pad(x, (0, 2, 1, 0)),
        shapes=[((2, 3),)],
    ),
    OpSpec(
        "take",
        lambda x: cnp.take(x, [[0, 2], [2, 2]], axis=1),
        lambda x: x[:, torch.tensor([[0, 2], [2, 2]])],
        shapes=[((2, 3),)],
    ),
    OpSpec(
        "take_along_axis",
        lambda x, i: cnp.take_along_axis(x, i, axis=1),
        lambda x, i: torch.take_along_dim(x, i, 1),
        make_inputs=_inputs((2, 3), lambda rng: rng.integers(0, 3, size=(2, 4))),
    ),
    OpSpec(
        "array of tensors",
        lambda a, b: cnp.array([[a, b], [b, a]]),
        lambda a, b: torch.stack([torch.stack([a, b]), torch.stack([b, a])]),
        shapes=[((), ())],
    ),
    OpSpec(
        "linspace",
        lambda a, b: cnp.linspace(a, b, 4),
        lambda a, b: a + (b - a) * torch.linspace(0, 1, 4, dtype=a.dtype),
        shapes=[((), ())],
    ),
    OpSpec(
        "meshgrid",
        lambda a, b: cnp.meshgrid(a, b),
        lambda a, b: torch.meshgrid(a, b, indexing="xy"),
        shapes=[((3,), (2,))],
    ),
    # linear algebra
    OpSpec(
        "linalg.inv",
        cnp.linalg.inv,
        torch.linalg.inv,
        make_inputs=_inputs(_well_conditioned(3, 3)),
    ),
    OpSpec(
        "linalg.det",
        cnp.linalg.det,
        torch.linalg.det,
        make_inputs=_inputs(_well_conditioned(2, 3, 3)),
    ),
    OpSpec(
        "linalg.slogdet",
        cnp.linalg.slogdet,
        torch.linalg.slogdet,
        make_inputs=_inputs(_well_conditioned(3, 3)),
    ),
    OpSpec(
        "linalg.solve",
        cnp.linalg.solve,
        torch.linalg.solve,
        make_inputs=_inputs(_well_conditioned(3, 3), (3, 2)),
    ),
    OpSpec(
        "linalg.solve (vector)",
        cnp.linalg.solve,
        torch.linalg.solve,
        make_inputs=_inputs(_well_conditioned(3, 3), (3,)),
    ),
    OpSpec(
        "linalg.cholesky",
        _cnp_cholesky_of_gram,
        _torch_cholesky_of_gram,
        shapes=[((3, 3),)],
    ),
    OpSpec("linalg.norm", cnp.linalg.norm, torch.linalg.norm, shapes=[((2, 3),)]),
    OpSpec(
        "linalg.norm axis ord",
        lambda x: cnp.linalg.norm(x, ord=3, axis=0),
        lambda x: torch.linalg.vector_norm(x, 3, 0),
        shapes=[((2, 3),)],
    ),
    OpSpec(
        "linalg.norm matrix ord 1",
        lambda x: cnp.linalg.norm(x, ord=1),
        lambda x: torch.linalg.matrix_norm(x, 1),
        shapes=[((2, 3),)],
    ),
    OpSpec(
        "linalg.matrix_power",
        lambda x: cnp.linalg.matrix_power(x, 3),
        lambda x: torch.linalg.matrix_power(x, 3),
        shapes=[((3, 3),)],
    ),
    OpSpec(
        "linalg.svd (compute_uv=False)",
        lambda x: cnp.linalg.svd(x, compute_uv=False),
        torch.linalg.svdvals,
        shapes=[((3, 4),)],
    ),
    OpSpec(
        "linalg.svd (U diag(S) Vh)",
        lambda x: _reconstructed(*cnp.linalg.svd(x, full_matrices=False)),
        lambda x: _reconstructed(*torch.linalg.svd(x, full_matrices=False)),
        shapes=[((4, 3),)],
    ),
    OpSpec(
        "linalg.lstsq",
        lambda a, b: cnp.linalg.lstsq(a, b)[:2],
        lambda a, b: torch.linalg.lstsq(a, b, driver="gelsd")[:2],
        shapes=[((4, 3), (4, 2))],
    ),
    OpSpec("linalg.pinv", cnp.linalg.pinv, torch.linalg.pinv, shapes=[((3, 4),)]),
    OpSpec(
        "linalg.norm nuc",
        lambda x: cnp.linalg.norm(x, "nuc"),
        lambda x: torch.linalg.matrix_norm(x, "nuc"),
        shapes=[((3, 4),)],
    ),
]


def _reconstructed(u, s, vh):
    return (u * s) @ vh


def _as_tensors(value):
    """chainrule.numpy's ndarrays as plain Tensors: the op checker reads PyTorch's API."""
    if isinstance(value, cnp.ndarray):
        return value.as_tensor()
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a named tuple (slogdet, svd)
        return type(value)(*(_as_tensors(v) for v in value))
    if isinstance(value, (tuple, list)):
        return type(value)(_as_tensors(v) for v in value)
    return value


def _tensor_results(function):
    def wrapper(*args, **kwargs):
        return _as_tensors(function(*args, **kwargs))

    return wrapper


@pytest.mark.parametrize("spec", SPECS, ids=str)
def test_gradients_match_torch_and_finite_differences(spec):
    # NumPy's functions, against equivalent torch programs rather than the same calls: their
    # grad_fn names are not PyTorch's to match (torch_grad_fn=False)
    check_op(dataclasses.replace(spec, fn=_tensor_results(spec.fn), torch_grad_fn=False))


# ---- whole NumPy-style programs, differentiated on NumPy arrays -----------------------------


def _logistic_loss(np_module, weights, inputs, targets):
    """A plain NumPy program: mean binary cross-entropy of a logistic regression, written
    against whichever NumPy-like module is passed (numpy names only)."""
    logits = np_module.dot(inputs, weights)
    log_probs = -np_module.logaddexp(0.0, -logits)  # log sigmoid, stable
    log_not_probs = -np_module.logaddexp(0.0, logits)
    return -np_module.mean(targets * log_probs + (1 - targets) * log_not_probs)


def _torch_logistic_loss(weights, inputs, targets):
    logits = inputs @ weights
    return torch.nn.functional.binary_cross_entropy_with_logits(logits, targets)


def _rosenbrock(np_module, x):
    return np_module.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def test_grad_of_a_logistic_regression_program_matches_torch():
    rng = np.random.default_rng(1)
    inputs = rng.normal(size=(20, 3))
    targets = (rng.uniform(size=20) > 0.5).astype(np.float64)
    weights = rng.normal(size=3)

    gradient = grad(lambda w: _logistic_loss(cnp, w, inputs, targets))(weights)

    torch_weights = torch.from_numpy(weights.copy()).requires_grad_(True)
    loss = _torch_logistic_loss(torch_weights, torch.from_numpy(inputs), torch.from_numpy(targets))
    loss.backward()
    assert isinstance(gradient, np.ndarray) and gradient.dtype == np.float64
    np.testing.assert_allclose(gradient, torch_weights.grad.numpy(), rtol=1e-12, atol=1e-14)
    value = _logistic_loss(cnp, weights, inputs, targets)
    np.testing.assert_allclose(value.item(), _logistic_loss(np, weights, inputs, targets))


def test_gradient_descent_on_numpy_arrays_fits_the_logistic_regression():
    rng = np.random.default_rng(2)
    inputs = rng.normal(size=(100, 2))
    targets = (inputs @ np.array([2.0, -3.0]) > 0).astype(np.float64)
    weights = np.zeros(2)
    gradient = grad(lambda w: _logistic_loss(cnp, w, inputs, targets))
    start = _logistic_loss(np, weights, inputs, targets)
    for _ in range(100):
        weights = weights - 1.0 * gradient(weights)
    assert isinstance(weights, np.ndarray)
    assert _logistic_loss(np, weights, inputs, targets) < 0.3 * start


def test_grad_and_hessian_of_rosenbrock_match_torch():
    x = np.array([-1.2, 1.0, 0.5, 2.0])
    gradient = grad(lambda v: _rosenbrock(cnp, v))(x)
    torch_x = torch.from_numpy(x.copy())
    torch_gradient = torch.func.grad(lambda v: _rosenbrock(torch, v))(torch_x)
    np.testing.assert_allclose(gradient, torch_gradient.numpy(), rtol=1e-12)
    curvature = jacrev(grad(lambda v: _rosenbrock(cnp, v)))(x)  # reverse over reverse
    torch_curvature = torch.func.hessian(lambda v: _rosenbrock(torch, v))(torch_x)
    np.testing.assert_allclose(np.asarray(curvature), torch_curvature.numpy(), rtol=1e-12)
    assert np.allclose(grad(lambda v: _rosenbrock(cnp, v))(np.ones(4)), 0.0)  # the minimum


def test_hessian_forward_over_reverse_of_rosenbrock():
    x = np.array([-1.2, 1.0, 0.5, 2.0])
    curvature = hessian(lambda v: _rosenbrock(cnp, v))(x)
    torch_curvature = torch.func.hessian(lambda v: _rosenbrock(torch, v))(torch.from_numpy(x))
    np.testing.assert_allclose(np.asarray(curvature), torch_curvature.numpy(), rtol=1e-12)


def test_grad_of_a_numpy_mlp_with_several_arguments_matches_torch():
    rng = np.random.default_rng(3)
    params = {"w1": rng.normal(size=(3, 5)), "b1": rng.normal(size=5), "w2": rng.normal(size=5)}
    inputs, targets = rng.normal(size=(7, 3)), rng.normal(size=7)

    def loss(params, inputs, targets):
        hidden = cnp.tanh(cnp.dot(inputs, params["w1"]) + params["b1"])
        predictions = cnp.dot(hidden, params["w2"])
        return cnp.mean((predictions - targets) ** 2) + 0.01 * cnp.sum(params["w1"] ** 2)

    gradients = grad(loss)(params, inputs, targets)

    torch_params = {k: torch.from_numpy(v.copy()).requires_grad_(True) for k, v in params.items()}
    hidden = torch.tanh(torch.from_numpy(inputs) @ torch_params["w1"] + torch_params["b1"])
    predictions = hidden @ torch_params["w2"]
    torch_loss = ((predictions - torch.from_numpy(targets)) ** 2).mean()
    torch_loss = torch_loss + 0.01 * (torch_params["w1"] ** 2).sum()
    torch_loss.backward()
    for key, value in gradients.items():
        assert isinstance(value, np.ndarray)
        np.testing.assert_allclose(value, torch_params[key].grad.numpy(), rtol=1e-12, err_msg=key)


def test_arrays_tensors_and_numbers_mix():
    weights = chainrule.tensor([1.0, -2.0, 0.5], dtype=chainrule.float64, requires_grad=True)
    data = np.array([[1.0, 2.0, 3.0], [0.5, 0.0, -1.0]])
    out = cnp.sum(cnp.exp(cnp.dot(data, weights)) * 2 + 1)
    assert isinstance(out, chainrule.Tensor) and out.dtype == np.float64
    out.backward()
    expected = 2 * data.T @ np.exp(data @ weights.detach().numpy())
    np.testing.assert_allclose(weights.grad.numpy(), expected, rtol=1e-12)
    # a float32 tensor with a float64 array promotes as NumPy does; the gradient keeps float32
    small = chainrule.tensor([1.0, 2.0], requires_grad=True)
    total = cnp.sum(small * np.array([3.0, 4.0]))
    assert total.dtype == np.float64
    total.backward()
    assert small.grad.dtype == chainrule.float32
    np.testing.assert_allclose(small.grad.numpy(), [3.0, 4.0])
    # Python numbers are weak: they keep a float32 tensor float32
    assert cnp.multiply(small, 2.5).dtype == np.float32
    assert cnp.add(np.float32(1.0), 2.0).dtype == np.float32


def test_array_of_tensors_is_differentiable():
    def f(x):
        return cnp.sum(cnp.array([x[0] * x[1], x[1] ** 2, 3.0]) ** 2)

    x = np.array([2.0, 3.0])
    gradient = grad(f)(x)
    a, b = x
    expected = [2 * a * b * b, 2 * a * a * b + 4 * b**3]
    np.testing.assert_allclose(gradient, expected)


def test_numpy_semantics_where_torch_differs():
    x = np.arange(6.0).reshape(2, 3)
    # repeat repeats elements (torch.repeat tiles)
    assert _value(cnp.repeat(np.array([1, 2]), 2)).tolist() == [1, 1, 2, 2]
    # split takes indices (torch.split takes sizes)
    pieces = cnp.split(np.arange(6), [2, 5])
    assert [p.shape for p in pieces] == [(2,), (3,), (1,)]
    # ddof defaults to 0 (torch's var defaults to the unbiased estimate)
    np.testing.assert_allclose(_value(cnp.var(x)), np.var(x))
    # median of an even count is the mean of the two middle values (torch takes the lower)
    assert cnp.median(np.array([1.0, 2.0, 3.0, 4.0])).item() == 2.5
    # transpose reverses every axis
    assert cnp.transpose(np.ones((2, 3, 4))).shape == (4, 3, 2)
    # dot of N-d arrays is not matmul
    a, b = np.ones((2, 3, 4)), np.ones((5, 4, 6))
    assert cnp.dot(a, b).shape == np.dot(a, b).shape == (2, 3, 5, 6)
    # float64 by default (results' dtypes are NumPy's dtypes)
    assert cnp.array([1.0, 2.0]).dtype == np.float64
    assert cnp.zeros(2).dtype == np.float64
    assert cnp.exp(np.array([1, 2])).dtype == np.float64
    assert cnp.divide(np.array([1, 2]), 2).dtype == np.float64
    # constants and dtypes are NumPy's
    assert cnp.pi == math.pi and cnp.newaxis is None and cnp.float32 is np.float32
    assert cnp.ones(2, dtype=cnp.float32).dtype == np.float32
    assert cnp.ones(2, dtype=chainrule.float16).dtype == np.float16


def test_ties_and_kinks_follow_the_documented_conventions():
    def max_of(x):
        return cnp.max(x)

    np.testing.assert_allclose(grad(max_of)(np.array([1.0, 3.0, 3.0])), [0.0, 0.5, 0.5])
    np.testing.assert_allclose(grad(lambda x: cnp.sum(cnp.abs(x)))(np.zeros(2)), [0.0, 0.0])
    split = grad(lambda x: cnp.sum(cnp.maximum(x, 1.0)))(np.array([1.0, 2.0]))
    np.testing.assert_allclose(split, [0.5, 1.0])
    np.testing.assert_allclose(grad(lambda x: cnp.sinc(x))(np.array(0.0)), 0.0)
    np.testing.assert_allclose(
        grad(lambda x: cnp.sum(cnp.linalg.norm(x)))(np.zeros(3)), np.zeros(3)
    )


def test_logaddexp_is_stable_where_the_naive_formula_overflows():
    x = np.array([1000.0, -1000.0])
    np.testing.assert_allclose(_value(cnp.logaddexp(x, x)), x + math.log(2))
    np.testing.assert_allclose(grad(lambda v: cnp.sum(cnp.logaddexp(v, 0.0)))(x), [1.0, 0.0])


def test_unsupported_arguments_and_inputs_raise_clear_errors():
    x = np.ones(3)
    with pytest.raises(NotImplementedError, match="out= argument"):
        cnp.exp(x, out=np.empty(3))
    with pytest.raises(NotImplementedError, match="out= argument"):
        cnp.sum(x, out=np.empty(()))
    with pytest.raises(NotImplementedError, match="where= argument"):
        cnp.add(x, x, where=x > 0)
    with pytest.raises(DTypeError, match="complex64/complex128 arrays, got dtype <U1"):
        cnp.asarray(np.array(["a"]))
    with pytest.raises(ValueError, match="size not equal to one"):
        cnp.squeeze(np.ones((2, 1)), axis=0)
    with pytest.raises(ValueError, match="equal division"):
        cnp.split(np.ones(5), 2)
    with pytest.raises(np.exceptions.AxisError):
        cnp.sum(np.ones((2, 2)), axis=2)
    with pytest.raises(NotImplementedError, match="mode"):
        cnp.pad(x, 1, mode="reflect")
    with pytest.raises(DTypeError, match="floor_divide: ufunc"):
        cnp.floor_divide(x, np.array(["a"]))


def test_namespace_lists_only_real_functions():
    for name in cnp.__all__:
        assert hasattr(cnp, name), name
    assert len(cnp.__all__) == len(set(cnp.__all__))
    assert {"linalg", "random", "sum", "dot", "einsum", "logaddexp"} <= set(cnp.__all__)
    assert isinstance(cnp.random.randn(2), np.ndarray)
