"""torch.special's Bessel and Airy functions and orthogonal polynomials, against torch: values
over ordinary points, the interval's ends, nan and inf, every degree from negative to past the
switch to the trigonometric forms, in float32 and float64; and, as PyTorch's, no derivative:
the result never requires grad."""

import numpy as np
import pytest
import torch

import chainrule
import chainrule.special as cs

BESSEL = [
    "airy_ai",
    "bessel_j0",
    "bessel_j1",
    "bessel_y0",
    "bessel_y1",
    "modified_bessel_i0",
    "modified_bessel_i1",
    "modified_bessel_k0",
    "modified_bessel_k1",
    "scaled_modified_bessel_k0",
    "scaled_modified_bessel_k1",
    "spherical_bessel_j0",
]
POLYNOMIALS = [
    "chebyshev_polynomial_t",
    "chebyshev_polynomial_u",
    "chebyshev_polynomial_v",
    "chebyshev_polynomial_w",
    "shifted_chebyshev_polynomial_t",
    "shifted_chebyshev_polynomial_u",
    "shifted_chebyshev_polynomial_v",
    "shifted_chebyshev_polynomial_w",
    "hermite_polynomial_h",
    "hermite_polynomial_he",
    "laguerre_polynomial_l",
    "legendre_polynomial_p",
]
DTYPES = [("float32", 2e-5), ("float64", 1e-11)]

POINTS = np.array(
    [-30.0, -5.0, -2.5, -1.0, -0.7, -0.5, -1e-3, 0.0, 1e-3, 0.25, 0.5, 0.9, 1.0, 1.5, 3.0, 12.0]
    + [40.0, np.inf, -np.inf, np.nan]
)


def _compare(ours, theirs, rtol):
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=rtol, atol=rtol)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", BESSEL)
def test_bessel_and_airy_functions_match_torch(name, dtype):
    """SciPy's Cephes kernels against PyTorch's own ports of them: float64 agrees to about 1e-9
    (PyTorch's Airy function to about 1e-6)."""
    rtol = 2e-5 if dtype == "float32" else (2e-6 if name == "airy_ai" else 1e-8)
    values = POINTS.astype(dtype)
    _compare(
        getattr(cs, name)(chainrule.tensor(values)),
        getattr(torch.special, name)(torch.tensor(values)),
        rtol,
    )


DEGREES = np.array([-3, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 20])


@pytest.mark.parametrize(("dtype", "rtol"), DTYPES)
@pytest.mark.parametrize("name", POLYNOMIALS)
def test_polynomials_match_torch_at_every_degree_and_point(name, dtype, rtol):
    """Every point against every degree: the recurrence, the trigonometric forms past degree
    4, 6 or 8 inside (-1, 1), the ends of the interval (0 and 1 when shifted), nan and inf."""
    points = np.concatenate([POINTS, [0.75, 0.125, 2.0, -2.0]]).astype(dtype)
    x = np.repeat(points[:, None], len(DEGREES), axis=1)
    n = np.broadcast_to(DEGREES.astype(dtype), x.shape).copy()
    ours = getattr(cs, name)(chainrule.tensor(x), chainrule.tensor(n))
    theirs = getattr(torch.special, name)(torch.tensor(x), torch.tensor(n))
    scale = np.maximum(1.0, np.abs(np.nan_to_num(theirs.numpy(), posinf=0, neginf=0)))
    np.testing.assert_allclose(
        ours.numpy() / scale, theirs.numpy() / scale, rtol=rtol, atol=rtol * 10
    )


@pytest.mark.parametrize("name", ["hermite_polynomial_h", "hermite_polynomial_he"])
@pytest.mark.parametrize(("dtype", "limit"), [("float32", 128), ("float64", 512)])
def test_hermite_is_nan_above_pytorchs_degree_limit(name, dtype, limit):
    x = chainrule.tensor([0.5, 0.5], dtype=getattr(chainrule, dtype))
    out = getattr(cs, name)(x, chainrule.tensor([limit, limit + 1]))
    theirs = getattr(torch.special, name)(
        torch.tensor([0.5, 0.5], dtype=getattr(torch, dtype)), torch.tensor([limit, limit + 1])
    )
    assert np.isnan(out[1].item()) and np.isnan(theirs[1].item())
    assert np.isfinite(out[0].item()) == np.isfinite(theirs[0].item())


@pytest.mark.parametrize(
    ("x", "n"),
    [
        (np.array([0.3, -0.6]), 3),  # a Python degree
        (np.array([0.3, -0.6]), 2.7),  # truncated to 2
        (0.4, np.array([1.0, 4.0])),  # a Python point, tensor degrees
        (np.array([[0.3], [-0.6]]), np.array([0, 1, 5])),  # broadcast
        (np.array([1, 2]), np.array([3])),  # integers: the default dtype
    ],
    ids=str,
)
def test_polynomial_arguments_broadcast_and_promote_as_torch(x, n):
    def wrap(lib, value):
        return lib.tensor(value) if isinstance(value, np.ndarray) else value

    for name in ("chebyshev_polynomial_t", "legendre_polynomial_p", "hermite_polynomial_he"):
        ours = getattr(cs, name)(wrap(chainrule, x), wrap(chainrule, n))
        theirs = getattr(torch.special, name)(wrap(torch, x), wrap(torch, n))
        _compare(ours, theirs, 1e-6)


@pytest.mark.parametrize("name", BESSEL + POLYNOMIALS)
def test_no_derivative_as_torch(name):
    """PyTorch's results never require grad; backward through them finds nothing."""
    x = chainrule.tensor([0.3, 0.6], requires_grad=True)
    tx = torch.tensor([0.3, 0.6], requires_grad=True)
    args = (x, 2) if name in POLYNOMIALS else (x,)
    targs = (tx, 2) if name in POLYNOMIALS else (tx,)
    assert not getattr(torch.special, name)(*targs).requires_grad
    out = getattr(cs, name)(*args)
    assert not out.requires_grad and out.grad_fn is None


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "complex64"])
@pytest.mark.parametrize("name", ["bessel_j0", "airy_ai", "chebyshev_polynomial_t"])
def test_half_and_complex_input_is_refused_as_torch(name, dtype):
    def call(lib):
        x = lib.tensor([0.5], dtype=getattr(lib, dtype))
        return getattr(lib.special, name)(*((x, 2) if "polynomial" in name else (x,)))

    with pytest.raises((NotImplementedError, TypeError)):
        call(torch)
    with pytest.raises((NotImplementedError, TypeError)):
        call(chainrule)
