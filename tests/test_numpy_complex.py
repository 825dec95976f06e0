"""chainrule.numpy on complex data: complex64/complex128 arrays and Python complex numbers go in
with NumPy's promotion, the complex helpers (`real`, `imag`, `conj`, `angle`, `iscomplex`,
`isreal`, `iscomplexobj`, `isrealobj`, `real_if_close`, `nan_to_num`, ...) give NumPy's values
and dtypes, and gradients follow PyTorch's convention (the conjugate Wirtinger derivative: the
gradient of a real loss L(z) is dL/dx + i dL/dy), checked against torch and against finite
differences in both real directions, to second order."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import chainrule
import chainrule.numpy as cnp

RNG = np.random.default_rng(16)
Z = RNG.normal(size=(3, 4)) + 1j * RNG.normal(size=(3, 4))
W = RNG.normal(size=(3, 4)) + 1j * RNG.normal(size=(3, 4))
VEC = Z[0]
SHORT = W[1, :3]
NEAR_REAL = RNG.normal(size=5) + 1e-17j
SPECIAL = np.array([complex(np.nan, 1.0), complex(np.inf, -np.inf), complex(2.0, np.nan), 1 - 2j])


def _assert_same(mine, theirs, label):
    if isinstance(theirs, (tuple, list)):
        assert len(mine) == len(theirs), label
        for index, (a, b) in enumerate(zip(mine, theirs)):
            _assert_same(a, b, f"{label}[{index}]")
        return
    if isinstance(theirs, (bool, np.bool_)) and not isinstance(mine, chainrule.Tensor):
        assert type(mine) is bool and mine == theirs, label
        return
    theirs = np.asarray(theirs)
    actual = np.asarray(mine.detach().numpy() if isinstance(mine, chainrule.Tensor) else mine)
    assert actual.shape == theirs.shape, f"{label}: shape {actual.shape} != {theirs.shape}"
    assert actual.dtype == theirs.dtype, f"{label}: dtype {actual.dtype} != {theirs.dtype}"
    np.testing.assert_allclose(actual, theirs, rtol=1e-12, atol=1e-12, err_msg=label)


VALUE_CASES = [
    ("real", (Z,), {}),
    ("real", (Z.astype(np.complex64),), {}),
    ("imag", (Z,), {}),
    ("imag", (1 + 2j,), {}),
    ("conj", (Z,), {}),
    ("conjugate", (Z.astype(np.complex64),), {}),
    ("angle", (Z,), {}),
    ("angle", (np.array([1j, -1 + 0j, -1 - 0j, 0j]),), {"deg": True}),
    ("iscomplex", (np.array([1 + 0j, 2 + 1e-300j, 3j]),), {}),
    ("isreal", (np.array([1 + 0j, 2 + 1e-300j, 3j]),), {}),
    ("iscomplexobj", (np.array([1 + 0j]),), {}),
    ("iscomplexobj", (1j,), {}),
    ("isrealobj", (Z,), {}),
    ("real_if_close", (NEAR_REAL,), {}),
    ("real_if_close", (Z,), {}),
    ("real_if_close", (np.array([1 + 1e-8j], dtype=np.complex64),), {"tol": 1e-6}),
    ("nan_to_num", (SPECIAL,), {}),
    ("nan_to_num", (SPECIAL,), {"nan": -1.0, "posinf": 9.0, "neginf": -9.0}),
    ("sign", (np.array([3 + 4j, 0j, -2j]),), {}),
    ("abs", (Z,), {}),
    ("round", (Z * 3.3, 1), {}),
    ("isclose", (Z, Z + 1e-9j), {}),
    ("allclose", (Z, Z + 1e-3), {}),
    ("vdot", (Z, W), {}),
    ("dot", (VEC, VEC), {}),
    ("correlate", (VEC, SHORT), {"mode": "full"}),
    ("correlate", (SHORT, VEC), {"mode": "same"}),
    ("cov", (Z,), {}),
    ("corrcoef", (Z,), {}),
    ("var", (Z,), {"axis": 1}),
    ("std", (Z.astype(np.complex64),), {}),
    ("mean", (Z,), {"axis": 0}),
    ("interp", ([0.25, 1.5, 9.0], [0.0, 1.0, 2.0], SHORT), {"right": 2j}),
    ("exp", (Z,), {}),
    ("multiply", (Z.astype(np.complex64), 2.5), {}),
    ("add", (np.ones(2, dtype=np.float32), 1j), {}),  # a Python complex is weak: complex64
    ("sqrt", (Z,), {}),
    ("matmul", (Z, W.T), {}),
    # #16's NumPy names on complex data
    ("append", (VEC, SHORT), {}),
    ("diff", (Z,), {"axis": 0}),
    ("gradient", (VEC,), {}),
    ("cross", (Z[:, :3], W[:, :3]), {}),
    ("rot90", (Z,), {}),
    ("rollaxis", (Z[None], 2), {}),
    ("dsplit", (Z.reshape(1, 3, 4), 2), {}),
    ("select", ([Z.real > 0], [Z]), {"default": 1j}),
    ("vstack", ((VEC, VEC),), {}),
]


@pytest.mark.parametrize(
    ("name", "args", "kwargs"),
    VALUE_CASES,
    ids=[f"{case[0]}-{index}" for index, case in enumerate(VALUE_CASES)],
)
def test_values_and_dtypes_match_numpy(name, args, kwargs):
    _assert_same(getattr(cnp, name)(*args, **kwargs), getattr(np, name)(*args, **kwargs), name)


def test_ndarray_attributes_of_complex_data_are_numpys():
    z = cnp.asarray(Z)
    _assert_same(z.real, Z.real, "real")
    _assert_same(z.imag, Z.imag, "imag")
    _assert_same(z.conj(), Z.conj(), "conj")
    assert z.dtype == np.complex128


def test_complex_data_chainrule_has_no_type_for_is_refused():
    with pytest.raises(chainrule.DTypeError, match="complex256|clongdouble"):
        cnp.asarray(np.ones(2, dtype=np.clongdouble))


def test_orderings_of_complex_numbers_are_refused_naming_the_function():
    """NumPy orders complex numbers lexicographically; chainrule's sort and max refuse them."""
    with pytest.raises(chainrule.DTypeError, match="sort"):
        cnp.sort(VEC)
    with pytest.raises(chainrule.DTypeError, match="amax"):
        cnp.max(VEC)


# ---- gradients: PyTorch's convention ---------------------------------------------------------


def _torch_nan_to_num(z):
    """torch.nan_to_num of each part (torch's own refuses autograd for complex outputs)."""
    return torch.complex(torch.nan_to_num(z.real), torch.nan_to_num(z.imag))


# (name, chainrule.numpy function, the same function in torch, inputs). Each output is reduced
# to a real loss with random weights on its real and imaginary parts.
GRADIENT_CASES = [
    ("real", lambda z: cnp.real(z), torch.real, (Z,)),
    ("imag", lambda z: cnp.imag(z), torch.imag, (Z,)),
    ("conj", lambda z: cnp.conj(z) * z[0], lambda z: torch.conj(z) * z[0], (Z,)),
    ("conjugate", lambda z: cnp.conjugate(z) ** 2, lambda z: torch.conj(z) ** 2, (Z,)),
    ("angle", lambda z: cnp.angle(z), torch.angle, (Z,)),
    ("angle-deg", lambda z: cnp.angle(z, deg=True), lambda z: torch.rad2deg(torch.angle(z)), (Z,)),
    (
        "real_if_close",
        lambda z: cnp.real_if_close(z) ** 2,
        lambda z: torch.real(z) ** 2,
        (NEAR_REAL,),
    ),
    ("real_if_close-kept", lambda z: cnp.real_if_close(z) * z, lambda z: z * z, (Z,)),
    ("nan_to_num", lambda z: cnp.nan_to_num(z) * z, lambda z: _torch_nan_to_num(z) * z, (Z,)),
    ("abs", lambda z: cnp.abs(z), torch.abs, (Z,)),
    ("sign", lambda z: cnp.sign(z), torch.sgn, (Z,)),
    ("vdot", lambda a, b: cnp.vdot(a, b), lambda a, b: torch.vdot(a.ravel(), b.ravel()), (Z, W)),
    ("var", lambda z: cnp.var(z, axis=1), lambda z: torch.var(z, dim=1, correction=0), (Z,)),
    ("cov", lambda z: cnp.cov(z), lambda z: torch.cov(z), (Z,)),
    ("exp-mul", lambda a, b: cnp.exp(a) * b, lambda a, b: torch.exp(a) * b, (Z, W)),
]


def _loss_weights(shape, seed):
    rng = np.random.default_rng(seed)
    return rng.normal(size=shape), rng.normal(size=shape)


def _chainrule_gradients(function, arrays, create_graph=False):
    inputs = [chainrule.tensor(a, requires_grad=True) for a in arrays]
    out = function(*inputs)
    out = cnp.asarray(out)
    weights_re, weights_im = _loss_weights(tuple(out.shape), 0)
    loss = cnp.sum(cnp.real(out) * weights_re + cnp.imag(out) * weights_im)
    return inputs, chainrule.autograd.grad(loss, inputs, create_graph=create_graph)


def _torch_gradients(function, arrays):
    inputs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = function(*inputs)
    weights_re, weights_im = (torch.tensor(w) for w in _loss_weights(tuple(out.shape), 0))
    imaginary = out.imag if out.is_complex() else torch.zeros_like(out)
    loss = (out.real * weights_re + imaginary * weights_im).sum()
    return torch.autograd.grad(loss, inputs)


@pytest.mark.parametrize(
    ("function", "reference", "arrays"),
    [case[1:] for case in GRADIENT_CASES],
    ids=[case[0] for case in GRADIENT_CASES],
)
def test_gradients_match_torch(function, reference, arrays):
    _, mine = _chainrule_gradients(function, arrays)
    theirs = _torch_gradients(reference, arrays)
    for index, (a, b) in enumerate(zip(mine, theirs)):
        assert a.dtype == chainrule.complex128, f"input {index}: {a.dtype}"
        np.testing.assert_allclose(a.numpy(), b.resolve_conj().numpy(), rtol=1e-10, atol=1e-12)


def _real_loss(function, arrays, seed):
    out = np.asarray(function(*[cnp.asarray(a) for a in arrays]))
    weights_re, weights_im = _loss_weights(out.shape, seed)
    return float(np.sum(out.real * weights_re + out.imag * weights_im))


def _finite_difference_gradient(loss, arrays, eps=1e-6):
    """dL/dx + i dL/dy for each complex input, by central differences along both parts."""
    gradients = []
    for position, array in enumerate(arrays):
        gradient = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            for direction in (1.0, 1j):
                shifted = [a.copy() for a in arrays]
                shifted[position][index] += eps * direction
                up = loss(shifted)
                shifted[position][index] -= 2 * eps * direction
                down = loss(shifted)
                gradient[index] += direction * (up - down) / (2 * eps)
        gradients.append(gradient)
    return gradients


FINITE_DIFFERENCE_CASES = [
    (case[0], case[1], case[3]) for case in GRADIENT_CASES if case[0] != "real_if_close"
] + [
    ("correlate", lambda a, v: cnp.correlate(a, v, "full"), (VEC, SHORT)),
    ("corrcoef", lambda z: cnp.corrcoef(z), (Z,)),
    ("interp", lambda fp: cnp.interp([0.25, 1.5, 2.0], [0.0, 1.0, 2.0], fp), (SHORT,)),
    ("std", lambda z: cnp.std(z, axis=0), (Z,)),
    ("round-parts", lambda z: cnp.round(z, 1) + z, (Z,)),
    ("append", lambda a, b: cnp.append(a, b) ** 2, (VEC, SHORT)),
    ("diff", lambda z: cnp.diff(z, n=2) * z[0, 0], (Z,)),
    ("gradient", lambda z: cnp.gradient(z, 0.5, edge_order=2) ** 2, (VEC,)),
    ("cross", lambda a, b: cnp.cross(a, b), (Z[:, :3], W[:, :3])),
    ("rot90", lambda z: cnp.rot90(z, 3) ** 2, (Z,)),
    ("rollaxis", lambda z: cnp.rollaxis(z, 1) * z[0, 0], (Z,)),
    ("dsplit", lambda z: cnp.dsplit(cnp.reshape(z, (1, 3, 4)), 2)[1] ** 2, (Z,)),
    ("select", lambda a, b: cnp.select([Z.real > 0], [a * b], default=b), (Z, W)),
    ("r_", lambda a, b: cnp.r_[a, b, 0:2] ** 2, (VEC, SHORT)),
    ("c_", lambda a, b: cnp.c_[a, b] ** 2, (SHORT, SHORT)),
    ("row_stack", lambda a, b: cnp.row_stack([a, b]) ** 2, (VEC, VEC)),
]


@pytest.mark.parametrize(
    ("function", "arrays"),
    [case[1:] for case in FINITE_DIFFERENCE_CASES],
    ids=[case[0] for case in FINITE_DIFFERENCE_CASES],
)
def test_gradients_match_finite_differences_to_second_order(function, arrays):
    arrays = [np.array(a, dtype=np.complex128) for a in arrays]
    inputs, first = _chainrule_gradients(function, arrays, create_graph=True)
    expected = _finite_difference_gradient(lambda xs: _real_loss(function, xs, 0), arrays)
    for a, b in zip(first, expected):
        np.testing.assert_allclose(a.detach().numpy(), b, rtol=1e-6, atol=1e-6)

    # Second order: the gradient of a real function of the gradient, against differences of
    # the gradient computed by chainrule.
    probes = [np.random.default_rng(1).normal(size=a.shape) for a in arrays]

    def gradient_loss(xs):
        _, gradients = _chainrule_gradients(function, xs)
        return float(sum(np.sum(g.numpy().real * p) for g, p in zip(gradients, probes)))

    second_loss = sum(cnp.sum(cnp.real(g) * p) for g, p in zip(first, probes) if g.requires_grad)
    if not isinstance(second_loss, chainrule.Tensor):  # the gradient is constant (linear f)
        return
    second = chainrule.autograd.grad(second_loss, inputs, allow_unused=True)
    expected = _finite_difference_gradient(gradient_loss, arrays)
    for a, b in zip(second, expected):
        actual = np.zeros_like(b) if a is None else a.numpy()
        np.testing.assert_allclose(actual, b, rtol=1e-5, atol=1e-5)


def test_the_transforms_take_complex_numpy_data():
    from chainrule.func import grad

    gradient = grad(lambda z: cnp.sum(cnp.abs(z) ** 2))(VEC)
    assert isinstance(gradient, np.ndarray) and gradient.dtype == np.complex128
    np.testing.assert_allclose(gradient, 2 * VEC)  # PyTorch's convention: 2z for |z|^2


DEVICE_CASES = {
    "real": lambda z: cnp.real(z),
    "imag": lambda z: cnp.imag(z),
    "angle": lambda z: cnp.angle(z, deg=True),
    "iscomplex": lambda z: cnp.iscomplex(z),
    "real_if_close": lambda z: cnp.real_if_close(z),
    "nan_to_num": lambda z: cnp.nan_to_num(z / cnp.real(z)),
    "correlate": lambda z: cnp.correlate(z, z[:2], "full"),
    "interp": lambda z: cnp.interp(cnp.real(z), cnp.sort(cnp.real(z[:3])), z[:3]),
    "cov": lambda z: cnp.cov(cnp.reshape(z, (2, 2))),
}


@pytest.mark.parametrize("name", sorted(DEVICE_CASES))
def test_complex_helpers_stay_on_the_device(name):
    """CuPy's behaviour on the CPU (the fake device): nothing mixes a host array in."""
    function = DEVICE_CASES[name]
    host = chainrule.tensor(VEC)
    result = function(host.to("fake"))
    assert result.device.type == "fake"
    np.testing.assert_allclose(result.cpu().numpy(), function(host).numpy(), rtol=1e-12)
