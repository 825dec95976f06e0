"""chainrule.numpy's breadth for HIPS autograd code: the NumPy names added for it (values and
dtypes against NumPy, gradients against finite differences to second order), the transforms
on Python floats and bool outputs, and HIPS's primitive / defvjp / defjvp."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule
import chainrule.numpy as cnp
from chainrule.autograd import gradcheck, gradgradcheck
from chainrule.func import grad, hessian, jacfwd, jacrev, jvp

RNG = np.random.default_rng(7)
MAT = RNG.uniform(-1.5, 1.5, size=(3, 4))
CUBE = RNG.uniform(-1.5, 1.5, size=(2, 3, 4))
VEC = RNG.uniform(-1.5, 1.5, size=(5,))
SHORT = RNG.uniform(-1.5, 1.5, size=(3,))
V3A = RNG.uniform(-1, 1, size=(4, 3))
V3B = RNG.uniform(-1, 1, size=(4, 3))
INT = np.array([[3, -1, 4, 1], [-5, 9, 2, 6], [5, 3, -5, 8]])
WITH_NAN = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, np.nan], [-2.0, 0.5, np.inf]])


def _numpy_of(result):
    if isinstance(result, chainrule.Tensor):
        return result.detach().numpy()
    return result


def _assert_same(mine, theirs, label):
    if isinstance(theirs, (tuple, list)):
        assert isinstance(mine, (tuple, list)), f"{label}: got {type(mine)}"
        assert len(mine) == len(theirs), label
        for index, (a, b) in enumerate(zip(mine, theirs)):
            _assert_same(a, b, f"{label}[{index}]")
        return
    if isinstance(theirs, (bool, np.bool_)) and not isinstance(mine, chainrule.Tensor):
        assert mine == theirs, label
        return
    theirs = np.asarray(theirs)
    actual = np.asarray(_numpy_of(mine))
    assert actual.shape == theirs.shape, f"{label}: shape {actual.shape} != {theirs.shape}"
    assert actual.dtype == theirs.dtype, f"{label}: dtype {actual.dtype} != {theirs.dtype}"
    np.testing.assert_allclose(actual, theirs, rtol=1e-12, atol=1e-12, err_msg=label)


VALUE_CASES = [
    ("append", (VEC, SHORT), {}),
    ("append", (MAT, MAT[:1]), {"axis": 0}),
    ("vstack", ((VEC, VEC),), {}),  # row_stack: a deprecated alias in NumPy 2
    ("diff", (VEC,), {}),
    ("diff", (MAT,), {"n": 2, "axis": 0}),
    ("diff", (VEC,), {"prepend": 0.0, "append": SHORT}),
    ("diff", (INT > 2,), {}),
    ("diff", (INT,), {}),
    ("ediff1d", (MAT,), {"to_begin": [1.0, 2.0], "to_end": 3.0}),
    ("gradient", (VEC,), {}),
    ("gradient", (VEC, 0.5), {"edge_order": 2}),
    ("gradient", (MAT,), {}),
    ("gradient", (MAT, 2.0), {"axis": 1}),
    ("nan_to_num", (WITH_NAN,), {}),
    ("nan_to_num", (WITH_NAN,), {"nan": -1.0, "posinf": 9.0}),
    ("nansum", (WITH_NAN,), {"axis": 1}),
    ("nanprod", (WITH_NAN,), {}),
    ("nanmax", (WITH_NAN[[0, 2]],), {"axis": 1}),
    ("nanmin", (WITH_NAN[[0, 2]],), {"axis": 0}),
    ("nanmean", (WITH_NAN[[0, 2]],), {"axis": 1}),
    ("rollaxis", (CUBE, 2), {}),
    ("rollaxis", (CUBE, 0, 3), {}),
    ("rollaxis", (CUBE, 1, -1), {}),
    ("cross", (V3A, V3B), {}),
    ("cross", (V3A.T, V3B), {"axisa": 0}),
    ("cross", (V3A, V3B), {"axisc": 0}),
    ("cross", (V3A, np.array([1.0, 2.0, 3.0])), {}),
    ("dsplit", (CUBE, 2), {}),
    ("dsplit", (CUBE, [1, 3]), {}),
    ("select", ([VEC > 0.5, VEC < -0.5], [VEC, VEC**2]), {"default": -1.0}),
    ("imag", (MAT,), {}),
    ("real", (MAT,), {}),
    ("real_if_close", (MAT,), {}),
    ("angle", (np.array([-2.0, -0.0, 0.0, 3.0, np.nan]),), {}),
    ("angle", (np.array([-2.0, 3.0]),), {"deg": True}),
    ("iscomplex", (MAT,), {}),
    ("isreal", (MAT,), {}),
    ("iscomplexobj", (MAT,), {}),
    ("isrealobj", (MAT,), {}),
    ("rot90", (MAT,), {}),
    ("rot90", (MAT, 2), {}),
    ("rot90", (MAT, 3), {}),
    ("rot90", (CUBE, -1, (2, 0)), {}),
    ("tril_indices", (4,), {}),
    ("triu_indices", (3, 1, 5), {}),
    ("tril_indices_from", (MAT,), {"k": -1}),
    ("triu_indices_from", (MAT,), {}),
    ("diag_indices", (3,), {}),
    ("diag_indices_from", (np.ones((3, 3)),), {}),
    ("indices", ((2, 3),), {}),
    ("unravel_index", (np.array([1, 5, 7]), (3, 4)), {}),
    ("ravel_multi_index", ((np.array([0, 2]), np.array([1, 3])), (3, 4)), {}),
    ("ix_", ([0, 2], [1, 3]), {}),
    ("trapezoid", (VEC,), {}),
    ("trapezoid", (MAT,), {"dx": 0.5, "axis": 0}),
    ("trapezoid", (MAT, np.array([0.0, 0.5, 2.0, 2.5])), {}),
    ("interp", (np.array([-3.0, -1.0, 0.2, 0.75, 2.0, 3.0]), [-1.0, 0.0, 1.0, 2.0], VEC[:4]), {}),
    ("interp", (np.array([-3.0, 0.5, 3.0]), [-1.0, 1.0], [2.0, 4.0]), {"left": 0, "right": 9}),
    ("convolve", (VEC, SHORT), {}),
    ("convolve", (VEC, SHORT), {"mode": "same"}),
    ("convolve", (SHORT, VEC), {"mode": "same"}),
    ("convolve", (VEC, SHORT[:2]), {"mode": "same"}),
    ("convolve", (VEC, SHORT), {"mode": "valid"}),
    ("correlate", (VEC, SHORT), {}),
    ("correlate", (VEC, SHORT), {"mode": "full"}),
    ("correlate", (SHORT, VEC), {"mode": "full"}),
    ("polyval", ([3.0, -2.0, 0.5], VEC), {}),
    ("polyval", (SHORT, 1.5), {}),
    ("diagflat", (MAT[:2, :2],), {}),
    ("diagflat", (SHORT,), {"k": -1}),
    ("vander", (SHORT,), {}),
    ("vander", (SHORT, 4), {"increasing": True}),
    ("cov", (MAT,), {}),
    ("cov", (MAT,), {"rowvar": False, "bias": True}),
    ("cov", (VEC, VEC**2), {}),
    ("corrcoef", (MAT,), {}),
    ("searchsorted", (np.sort(VEC), SHORT), {}),
    ("searchsorted", (np.array([1.0, 2.0, 2.0, 3.0]), 2.0), {"side": "right"}),
    ("digitize", (VEC, [-1.0, 0.0, 1.0]), {}),
    ("digitize", (VEC, [1.0, 0.0, -1.0]), {"right": True}),
    ("unique", (np.array([3.0, 1.0, 3.0, 2.0, 1.0]),), {}),
    (
        "unique",
        (np.array([3, 1, 3, 2, 1]),),
        {"return_index": True, "return_inverse": True, "return_counts": True},
    ),
    ("unique", (np.array([[1, 2], [1, 2], [0, 5]]),), {"axis": 0}),
    ("histogram", (VEC,), {"bins": 3}),
    ("argpartition", (VEC, 2), {}),
    ("isscalar", (1.5,), {}),
    ("isscalar", (VEC,), {}),
]


@pytest.mark.parametrize(
    ("name", "args", "kwargs"),
    VALUE_CASES,
    ids=[f"{case[0]}-{index}" for index, case in enumerate(VALUE_CASES)],
)
def test_values_and_dtypes_match_numpy(name, args, kwargs):
    theirs = getattr(np, name)(*args, **kwargs)
    mine = getattr(cnp, name)(*args, **kwargs)
    _assert_same(mine, theirs, name)


def test_partition_places_the_kth_element_as_numpy():
    result = cnp.partition(VEC, 2).numpy()
    assert result[2] == np.partition(VEC, 2)[2]
    assert np.all(result[:2] <= result[2]) and np.all(result[3:] >= result[2])


def test_index_tricks_r_and_c_match_numpy():
    cases = [
        (cnp.r_[VEC, SHORT], np.r_[VEC, SHORT]),
        (cnp.r_[1.5, VEC, 0:3], np.r_[1.5, VEC, 0:3]),
        (cnp.r_[0:1:5j], np.r_[0:1:5j]),
        (cnp.r_["0,2", SHORT, SHORT], np.r_["0,2", SHORT, SHORT]),
        (cnp.r_["1", MAT, MAT], np.r_["1", MAT, MAT]),
        (cnp.r_["0,2,0", SHORT, SHORT], np.r_["0,2,0", SHORT, SHORT]),
        (cnp.c_[SHORT, SHORT**2], np.c_[SHORT, SHORT**2]),
        (cnp.c_[MAT, MAT], np.c_[MAT, MAT]),
    ]
    for index, (mine, theirs) in enumerate(cases):
        _assert_same(mine, theirs, f"case {index}")


# Differentiable additions: gradcheck (vjp vs finite differences) and gradgradcheck (second
# order) in float64, on Tensors made from the arrays.
GRADIENT_CASES = [
    ("append", lambda a, b: cnp.append(a, b), (MAT, SHORT)),
    ("diff", lambda a: cnp.diff(a, n=2, axis=0), (MAT,)),
    ("ediff1d", lambda a: cnp.ediff1d(a, to_begin=a[:1]), (VEC,)),
    ("gradient", lambda a: cnp.gradient(a, 0.5, edge_order=2), (VEC,)),
    ("gradient-2d", lambda a: cnp.stack(cnp.gradient(a)), (MAT,)),
    ("nan_to_num", lambda a: cnp.nan_to_num(a), (MAT,)),
    ("nansum", lambda a: cnp.nansum(a * a, axis=0), (MAT,)),
    ("nanmean", lambda a: cnp.nanmean(a, axis=1), (MAT,)),
    ("nanmax", lambda a: cnp.nanmax(a, axis=1), (MAT,)),
    ("rollaxis", lambda a: cnp.rollaxis(a, 2) ** 2, (CUBE,)),
    ("cross", lambda a, b: cnp.cross(a, b), (V3A, V3B)),
    ("cross-2d", lambda a, b: cnp.cross(a[:, :2], b[:, :2]), (V3A, V3B)),
    ("dsplit", lambda a: cnp.dsplit(a, 2)[1] ** 2, (CUBE,)),
    ("select", lambda a, b: cnp.select([VEC > 0.5, VEC < -0.5], [a, b], a * b), (VEC, VEC)),
    ("rot90", lambda a: cnp.rot90(a, 1) ** 2, (MAT,)),
    ("rot90-k3", lambda a: cnp.rot90(a, 3, (0, 2)), (CUBE,)),
    ("trapezoid", lambda y, x: cnp.trapezoid(y**2, cnp.sort(x)), (VEC, VEC)),
    ("interp", lambda x, fp: cnp.interp(x, [-2.0, -0.3, 0.4, 2.0], fp), (VEC, SHORT[:1].repeat(4))),
    ("convolve", lambda a, v: cnp.convolve(a, v, "same"), (VEC, SHORT)),
    ("correlate", lambda a, v: cnp.correlate(a, v, "full"), (VEC, SHORT)),
    ("polyval", lambda p, x: cnp.polyval(p, x), (SHORT, VEC)),
    ("vander", lambda x: cnp.vander(x, 4), (SHORT,)),
    ("diagflat", lambda x: cnp.diagflat(x, 1), (SHORT,)),
    ("cov", lambda a: cnp.cov(a), (MAT,)),
    ("corrcoef", lambda a: cnp.corrcoef(a), (MAT,)),
    ("partition", lambda a: cnp.partition(a, 2), (VEC,)),
    ("unique", lambda a: cnp.unique(a) ** 2, (np.array([3.0, 1.0, 2.5, 2.0]),)),
    ("r_", lambda a, b: cnp.r_[a, b, 0:2], (VEC, SHORT)),
    ("c_", lambda a, b: cnp.c_[a, b] ** 2, (SHORT, SHORT)),
]


@pytest.mark.parametrize(
    ("function", "arrays"),
    [case[1:] for case in GRADIENT_CASES],
    ids=[case[0] for case in GRADIENT_CASES],
)
def test_gradients_match_finite_differences_to_second_order(function, arrays):
    inputs = [chainrule.tensor(a, dtype=chainrule.float64, requires_grad=True) for a in arrays]
    assert gradcheck(function, inputs)
    assert gradgradcheck(function, inputs)


def test_unique_values_take_the_gradient_of_their_first_occurrence():
    values = np.array([3.0, 1.0, 3.0, 2.0])
    gradient = grad(lambda a: cnp.sum(cnp.unique(a) * np.array([1.0, 10.0, 100.0])))(values)
    np.testing.assert_array_equal(gradient, [100.0, 1.0, 0.0, 10.0])


def test_angle_and_imag_of_real_data_have_zero_gradient():
    x = chainrule.tensor(VEC, dtype=chainrule.float64, requires_grad=True)
    gradient = grad(lambda x: cnp.sum(cnp.angle(x) + cnp.imag(x) + x))(x)
    np.testing.assert_array_equal(gradient.numpy(), np.ones_like(VEC))


# ---- the transforms on Python floats and non-differentiable outputs --------------------------


def test_jacobian_of_a_vector_function_of_a_python_float():
    def curve(x):
        return cnp.array([x, x**2, x**3])

    expected = np.array([1.0, 2 * 0.5, 3 * 0.5**2])
    for transform in (jacrev, jacfwd):
        result = transform(curve)(0.5)
        assert isinstance(result, np.ndarray)  # a float is NumPy data: NumPy out, as HIPS
        np.testing.assert_allclose(result, expected)
    scalar = grad(lambda x: x**3)(0.5)
    assert isinstance(scalar, float) and scalar == pytest.approx(0.75)
    np.testing.assert_allclose(hessian(lambda x: cnp.sum(curve(x)))(0.5), 2 + 6 * 0.5)


def test_grad_of_a_bool_output_is_a_type_error():
    with pytest.raises(TypeError, match="bool"):
        grad(lambda x: cnp.allclose(x, 1.0))(np.ones(3))
    with pytest.raises(TypeError, match="scalar Tensor"):
        grad(lambda x: 1.0)(np.ones(3))


# ---- HIPS autograd's primitive / defvjp / defjvp ---------------------------------------------


@cnp.primitive
def logsumexp(x):
    """A HIPS example: computed on raw NumPy, its derivative declared below."""
    largest = np.max(x)
    return largest + np.log(np.sum(np.exp(x - largest)))


cnp.defvjp(logsumexp, lambda ans, x: lambda g: g * cnp.exp(x - ans))
cnp.defjvp(logsumexp, lambda g, ans, x: cnp.sum(g * cnp.exp(x - ans)))


def _finite_difference_gradient(function, x, eps=1e-6):
    result = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = eps
        result[index] = (function(x + step) - function(x - step)) / (2 * eps)
    return result


def test_primitive_runs_on_raw_numpy_and_keeps_raw_values_raw():
    seen = []

    @cnp.primitive
    def spy(x):
        seen.append(type(x))
        return x * 2.0

    assert isinstance(spy(np.ones(2)), np.ndarray)  # no Tensor in: the raw function
    result = spy(chainrule.tensor([1.0, 2.0]))
    assert isinstance(result, chainrule.Tensor)
    assert seen == [np.ndarray, np.ndarray]


def test_primitive_gradients_of_any_order_match_finite_differences():
    x = RNG.normal(size=4)
    np.testing.assert_allclose(
        grad(logsumexp)(x), _finite_difference_gradient(lambda v: logsumexp(v), x), atol=1e-8
    )
    softmax = np.exp(x) / np.exp(x).sum()
    expected_hessian = np.diag(softmax) - np.outer(softmax, softmax)
    np.testing.assert_allclose(jacrev(grad(logsumexp))(x), expected_hessian, atol=1e-12)
    np.testing.assert_allclose(hessian(logsumexp)(x), expected_hessian, atol=1e-12)
    _, tangent = jvp(logsumexp, (x,), (np.ones(4),))
    np.testing.assert_allclose(tangent, 1.0)
    tensor = chainrule.tensor(x, dtype=chainrule.float64, requires_grad=True)
    assert gradgradcheck(logsumexp, [tensor])


def test_defvjp_per_argument_none_and_argnums():
    @cnp.primitive
    def scaled(x, y):
        return x * y

    cnp.defvjp(scaled, None, lambda ans, x, y: lambda g: g * x)
    gx, gy = grad(lambda x, y: cnp.sum(scaled(x, y)), argnums=(0, 1))(VEC, VEC**2)
    np.testing.assert_array_equal(gx, np.zeros_like(VEC))  # None: a zero gradient
    np.testing.assert_allclose(gy, VEC)

    @cnp.primitive
    def only_second(x, y):
        return x + y

    cnp.defvjp(only_second, lambda ans, x, y: lambda g: g, argnums=[1])
    assert grad(only_second, argnums=1)(1.0, 2.0) == 1.0
    with pytest.raises(NotImplementedError, match="argnum 0"):
        grad(only_second)(1.0, 2.0)


def test_defjvp_same_for_a_linear_primitive_and_argnum_forms():
    @cnp.primitive
    def double_sum(x):
        return 2.0 * np.sum(x)

    cnp.defjvp(double_sum, "same")
    cnp.defvjp_argnum(double_sum, lambda argnum, ans, args, kwargs: lambda g: 2.0 * g + 0 * args[0])
    np.testing.assert_allclose(jacfwd(double_sum)(VEC), 2.0 * np.ones_like(VEC))
    np.testing.assert_allclose(grad(double_sum)(VEC), 2.0 * np.ones_like(VEC))
    with pytest.raises(TypeError, match="not a primitive"):
        cnp.defvjp(lambda x: x, None)


DEVICE_CASES = {
    "diff": lambda a, b: cnp.diff(a, n=2),
    "gradient": lambda a, b: cnp.gradient(a, edge_order=2),
    "convolve": lambda a, b: cnp.convolve(a, b, "same"),
    "correlate": lambda a, b: cnp.correlate(a, b, "full"),
    "interp": lambda a, b: cnp.interp(a, cnp.sort(b), b),
    "polyval": lambda a, b: cnp.polyval(b, a),
    "unique": lambda a, b: cnp.unique(cnp.round(a, 1)),
    "trapezoid": lambda a, b: cnp.trapezoid(a),
    "nanmax": lambda a, b: cnp.nanmax(a),
    "r_": lambda a, b: cnp.r_[a, b, 0:2],
    "reversed": lambda a, b: cnp.asarray(a)[::-2],
}


@pytest.mark.parametrize("name", sorted(DEVICE_CASES))
def test_new_functions_stay_on_the_device(name):
    """CuPy's behaviour on the CPU (the fake device): nothing mixes a host array in."""
    function = DEVICE_CASES[name]
    host = [chainrule.tensor(a, dtype=chainrule.float64) for a in (VEC, SHORT)]
    device = [t.to("fake") for t in host]
    result = function(*device)
    assert result.device.type == "fake"
    np.testing.assert_allclose(result.cpu().numpy(), function(*host).numpy(), rtol=1e-12)
