"""chainrule.special (torch.special) beyond the op specs: special values against PyTorch, the
derivatives PyTorch refuses, the Gamma sampler and its implicit gradient, and SciPy loading
lazily with a clear error when it is missing."""

import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

import chainrule
import chainrule.special
from chainrule.ops import special as special_ops
from chainrule.ops.op import Op
from tests.op_specs.special import COVERED_ELSEWHERE, SPECS

EDGES = [-np.inf, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 7.5, 40.0, np.inf, np.nan]
PROBABILITIES = [-0.5, 0.0, 1e-30, 0.1, 0.5, 0.9, 1.0, 1.5, np.nan]


def _both(name, values, dtype):
    ours = getattr(chainrule.special, name)(chainrule.tensor(values, dtype=dtype))
    theirs = getattr(torch.special, name)(torch.tensor(values, dtype=getattr(torch, dtype.name)))
    return ours, theirs


@pytest.mark.parametrize("dtype", [chainrule.float32, chainrule.float64], ids=str)
@pytest.mark.parametrize(
    "name",
    [
        "gammaln",
        "digamma",
        "erfcx",
        "i0",
        "i0e",
        "i1",
        "i1e",
        "ndtr",
        "log_ndtr",
        "entr",
        "expit",
        "erf",
        "erfc",
        "sinc",
        "exp2",
        "expm1",
        "log1p",
        "round",
    ],
)
def test_values_at_the_edges_match_torch(name, dtype):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ours, theirs = _both(name, EDGES, dtype)
    assert ours.dtype == dtype
    rtol = 1e-5 if dtype == chainrule.float32 else 1e-12
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=rtol, atol=0)


@pytest.mark.parametrize("name", ["erfinv", "ndtri", "logit"])
def test_inverse_functions_at_the_edges_match_torch(name):
    values = PROBABILITIES if name != "erfinv" else [2 * p - 1 for p in PROBABILITIES]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ours, theirs = _both(name, values, chainrule.float64)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


def test_integer_inputs_promote_to_the_default_dtype_as_torch():
    ours = chainrule.lgamma(chainrule.tensor([1, 2, 5]))
    theirs = torch.lgamma(torch.tensor([1, 2, 5]))
    assert ours.dtype == chainrule.float32 and theirs.dtype == torch.float32
    np.testing.assert_allclose(ours.numpy(), theirs.numpy())
    assert chainrule.polygamma(1, chainrule.tensor([1, 2])).dtype == chainrule.float32


def test_polygamma_zeta_and_incomplete_gamma_values_match_torch():
    x = np.linspace(0.3, 6.0, 12)
    for n in range(5):
        np.testing.assert_allclose(
            chainrule.polygamma(n, chainrule.tensor(x)).numpy(),
            torch.polygamma(n, torch.tensor(x)).numpy(),
            rtol=1e-6,
        )
    q = chainrule.tensor(x)
    np.testing.assert_allclose(
        chainrule.special.zeta(chainrule.tensor(x + 1.5), q).numpy(),
        torch.special.zeta(torch.tensor(x + 1.5), torch.tensor(x)).numpy(),
        rtol=1e-10,
    )
    np.testing.assert_allclose(
        chainrule.igamma(chainrule.tensor(x), chainrule.tensor(x[::-1].copy())).numpy(),
        torch.igamma(torch.tensor(x), torch.tensor(x[::-1].copy())).numpy(),
        rtol=1e-10,
    )


def test_special_namespace_aliases_are_the_existing_functions():
    assert chainrule.special.expit is chainrule.sigmoid
    assert chainrule.special.psi is chainrule.digamma
    assert chainrule.special.gammaln is chainrule.lgamma
    assert chainrule.special.multigammaln is chainrule.mvlgamma
    assert chainrule.special.softmax is chainrule.softmax
    assert chainrule.special.logsumexp is chainrule.logsumexp
    x = chainrule.tensor([[1.0, 2.0], [0.5, -1.0]])
    np.testing.assert_allclose(
        chainrule.special.log_softmax(x, 1).numpy(),
        torch.special.log_softmax(torch.tensor(x.numpy()), 1).numpy(),
        rtol=1e-6,
    )


def test_tensor_methods_and_their_in_place_forms():
    x = chainrule.tensor([0.5, 1.5, 3.0])
    t = torch.tensor([0.5, 1.5, 3.0])
    for name in ["lgamma", "digamma", "i0"]:
        np.testing.assert_allclose(
            getattr(x, name)().numpy(), getattr(t, name)().numpy(), rtol=1e-5
        )
    np.testing.assert_allclose(x.polygamma(2).numpy(), t.polygamma(2).numpy(), rtol=1e-6)
    np.testing.assert_allclose(x.mvlgamma(1).numpy(), t.mvlgamma(1).numpy(), rtol=1e-6)
    np.testing.assert_allclose((x / 4).erfinv().numpy(), (t / 4).erfinv().numpy(), rtol=1e-6)
    y = x.clone()
    y.lgamma_()
    np.testing.assert_allclose(y.numpy(), t.lgamma().numpy())


def test_derivatives_torch_lacks_raise_not_implemented_as_torch():
    x = chainrule.tensor([2.0, 3.0], requires_grad=True)
    q = chainrule.tensor([1.5, 2.0], requires_grad=True)
    with pytest.raises(NotImplementedError, match="the derivative for 'zeta' is not implemented"):
        chainrule.autograd.grad(chainrule.special.zeta(x, q).sum(), [x])
    with pytest.raises(NotImplementedError, match="igamma: input"):
        chainrule.autograd.grad(chainrule.special.gammainc(x, q).sum(), [x])
    # PyTorch raises only when the gradient of x is needed; chainrule's engine does not tell
    # an op which of its inputs a grad() call asks for, so x must not require grad here.
    (grad_q,) = chainrule.autograd.grad(chainrule.special.gammainc(x.detach(), q).sum(), [q])
    xt = torch.tensor([2.0, 3.0])
    qt = torch.tensor([1.5, 2.0], requires_grad=True)
    (expected,) = torch.autograd.grad(torch.special.gammainc(xt, qt).sum(), [qt])
    np.testing.assert_allclose(grad_q.numpy(), expected.numpy(), rtol=1e-6)


def test_bad_arguments_raise_torchs_runtime_error_which_is_a_value_error_too():
    for lib in (torch, chainrule):
        with pytest.raises(RuntimeError, match="polygamma.* does not support negative n"):
            lib.polygamma(-1, lib.tensor([1.0]))
        with pytest.raises(TypeError, match="argument 'n'.* must be int, not float"):
            lib.special.polygamma(1.5, lib.tensor([1.0]))
        with pytest.raises(RuntimeError, match="p has to be greater than or equal to 1"):
            lib.mvlgamma(lib.tensor([3.0]), 0)
    with pytest.raises(ValueError, match="mvlgamma: p has to be greater than or equal to 1"):
        chainrule.mvlgamma(chainrule.tensor([3.0]), 0)


def test_every_special_op_has_a_spec():
    rng = np.random.default_rng(0)
    covered = set()
    for spec in SPECS:
        arrays = (
            spec.make_inputs(rng)
            if spec.make_inputs
            else [
                rng.uniform(*domain, size=shape)
                for shape, domain in zip(spec.shapes[0], spec.domains)
            ]
        )
        inputs = [chainrule.tensor(np.asarray(a), requires_grad=True) for a in arrays]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out = spec.fn(*inputs)
        stack = [out.grad_fn]
        while stack:
            node = stack.pop()
            if node is not None:
                covered.add(node.op)
                stack.extend(
                    edge[0] if isinstance(edge, tuple) else edge for edge in node.next_edges
                )
    ops = {
        value
        for value in vars(special_ops).values()
        if isinstance(value, type)
        and issubclass(value, Op)
        and value.__module__ == special_ops.__name__
    }
    missing = sorted(op.__name__ for op in ops - covered - COVERED_ELSEWHERE)
    assert not missing, f"ops without an OpSpec in tests/op_specs/special.py: {missing}"


# ---- the Gamma sampler --------------------------------------------------------------------------


def test_standard_gamma_samples_have_the_gamma_moments():
    chainrule.manual_seed(0)
    alpha = chainrule.tensor([0.3, 1.0, 4.0, 50.0])
    samples = special_ops.standard_gamma(alpha.expand(20000, 4))
    assert samples.shape == (20000, 4) and samples.dtype == chainrule.float32
    mean = samples.double().mean(0).numpy()
    var = samples.double().var(0).numpy()
    # Gamma(a, 1): mean a, variance a; 20,000 draws put the mean within 4 standard errors.
    standard_error = np.sqrt(alpha.numpy() / 20000)
    assert np.all(np.abs(mean - alpha.numpy()) < 4 * standard_error), mean
    np.testing.assert_allclose(var, alpha.numpy(), rtol=0.1)


def test_standard_gamma_gradient_is_torchs_implicit_gradient():
    """Same (alpha, sample) pairs: our exact gradient against PyTorch's approximation, which is
    good to a few 1e-4 relative; and against the exact value by a high-order finite difference
    of the CDF in alpha (mpmath is not needed: the CDF of float64 sample is smooth in alpha)."""
    chainrule.manual_seed(1)
    alpha = chainrule.tensor([0.05, 0.4, 1.0, 2.5, 7.0, 30.0, 300.0], dtype=chainrule.float64)
    alpha = alpha.expand(50, 7).contiguous().requires_grad_(True)
    x = special_ops.standard_gamma(alpha)
    (grad,) = chainrule.autograd.grad(x.sum(), [alpha])
    theirs = torch._standard_gamma_grad(
        torch.tensor(alpha.detach().numpy()), torch.tensor(x.detach().numpy())
    )
    np.testing.assert_allclose(grad.numpy(), theirs.numpy(), rtol=2e-3, atol=1e-30)


def test_standard_gamma_second_derivative_is_refused_as_torch():
    alpha = chainrule.tensor([2.0], requires_grad=True)
    x = special_ops.standard_gamma(alpha)
    (grad,) = chainrule.autograd.grad(x.sum(), [alpha], create_graph=True)
    with pytest.raises(NotImplementedError, match="_standard_gamma_grad"):
        chainrule.autograd.grad(grad.sum(), [alpha])


# ---- SciPy is optional ------------------------------------------------------------------------


def _run(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_scipy_loads_on_first_use_only():
    result = _run(
        "import sys, chainrule, chainrule.special\n"
        "print('scipy' in sys.modules)\n"
        "chainrule.lgamma(chainrule.tensor([2.0]))\n"
        "print('scipy' in sys.modules)\n"
    )
    assert result.stdout.split() == ["False", "True"], result.stderr


def test_without_scipy_the_error_says_how_to_install_it():
    result = _run(
        "import sys\n"
        "sys.modules['scipy'] = None  # what Python does for a package that is not installed\n"
        "import chainrule\n"
        "print(chainrule.sigmoid(chainrule.tensor([0.0])))\n"
        "try:\n"
        "    chainrule.lgamma(chainrule.tensor([2.0]))\n"
        "except ModuleNotFoundError as error:\n"
        "    print(error)\n"
    )
    assert "tensor([0.5000])" in result.stdout, result.stderr
    assert "need SciPy: pip install scipy" in result.stdout


def _call_on_complex(lib, name):
    """chainrule.special.<name> or torch.special.<name> on a complex128 tensor (the reductions
    along dim 0, the two-argument functions with it twice)."""
    z = lib.tensor([0.3 + 0.2j, 0.5 - 0.1j], dtype=lib.complex128)
    function = getattr(lib.special, name)
    if name in ("gammainc", "gammaincc", "xlog1py", "xlogy", "zeta"):
        return function(z, z)
    if name == "polygamma":
        return function(1, z)
    if "_polynomial_" in name:  # chebyshev_polynomial_t(z, n) and the like take a degree
        return function(z, 2)
    if name == "multigammaln":
        return function(z, 1)
    if name in ("log_softmax", "softmax", "logsumexp"):
        return function(z, 0)
    return function(z)


@pytest.mark.parametrize("name", chainrule.special.__all__)
def test_complex_inputs_are_taken_exactly_where_torch_special_takes_them(name):
    """exp2, expit, expm1, log1p, sinc and logsumexp have complex kernels in PyTorch (their
    values and derivatives are the complex op specs'); every other function refuses complex
    tensors, as PyTorch's, with a DTypeError naming it."""
    try:
        expected = _call_on_complex(torch, name)
    except (NotImplementedError, RuntimeError):
        with pytest.raises(chainrule.errors.DTypeError):
            _call_on_complex(chainrule, name)
        return
    ours = _call_on_complex(chainrule, name)
    assert ours.dtype is chainrule.complex128
    np.testing.assert_allclose(ours.numpy(), expected.numpy(), rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_digamma_at_its_poles_is_pytorchs(dtype):
    """-inf at +0 and +inf at -0 (the limits from each side, as PyTorch), nan at the negative
    integers, finite between them."""
    values = np.array([0.0, -0.0, -1.0, -2.0, -0.5, 1e-30, -1e-30], dtype=dtype)
    ours = chainrule.digamma(chainrule.tensor(values)).numpy()
    theirs = torch.digamma(torch.tensor(values)).numpy()
    np.testing.assert_array_equal(ours[:4], theirs[:4])
    np.testing.assert_allclose(ours[4:], theirs[4:], rtol=1e-5)
    assert ours[0] == -np.inf and ours[1] == np.inf
