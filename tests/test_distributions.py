"""chainrule.distributions against torch.distributions on the same parameters: log_prob, cdf,
icdf, entropy, mean, mode, variance and kl_divergence, with their gradients with respect to the
parameters; sample shapes and statistics (chainrule's random stream is not PyTorch's, so samples
are checked by their moments with a fixed seed); reparameterised gradients; and validation
errors with PyTorch's messages."""

import math
import os
import warnings

import numpy as np
import pytest
import torch

import chainrule
import chainrule.distributions as D

TD = torch.distributions
RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _pytorch_validates_arguments():
    """PyTorch checks distribution arguments by default, but torch.compile's first use in a
    process turns that off for good (torch/_dynamo/eval_frame.py): these tests compare with
    its ValueErrors whatever ran before them in the process (pytest-xdist's order too)."""
    torch.distributions.Distribution.set_default_validate_args(True)


def _spd(n, batch=()):
    a = RNG.standard_normal(batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def _simplex(shape):
    p = RNG.uniform(0.1, 1.0, size=shape)
    return p / p.sum(-1, keepdims=True)


# name -> (family name, parameters (positional or keyword), values inside the support)
CASES = {
    "normal": (
        "Normal",
        {"loc": RNG.normal(size=(2, 3)), "scale": RNG.uniform(0.5, 2, (3,))},
        RNG.normal(size=(4, 2, 3)),
    ),
    "lognormal": (
        "LogNormal",
        {"loc": RNG.normal(size=(3,)), "scale": RNG.uniform(0.2, 0.6, (3,))},
        RNG.uniform(0.1, 3, (4, 3)),
    ),
    "uniform": (
        "Uniform",
        {"low": RNG.uniform(-2, -1, (3,)), "high": RNG.uniform(1, 2, (3,))},
        RNG.uniform(-0.9, 0.9, (4, 3)),
    ),
    "exponential": (
        "Exponential",
        {"rate": RNG.uniform(0.5, 2, (3,))},
        RNG.uniform(0.1, 3, (4, 3)),
    ),
    "laplace": (
        "Laplace",
        {"loc": RNG.normal(size=(3,)), "scale": RNG.uniform(0.5, 2, (3,))},
        RNG.normal(size=(4, 3)),
    ),
    "gamma": (
        "Gamma",
        {"concentration": RNG.uniform(0.5, 3, (3,)), "rate": RNG.uniform(0.5, 2, (3,))},
        RNG.uniform(0.1, 3, (4, 3)),
    ),
    "beta": (
        "Beta",
        {"concentration1": RNG.uniform(0.5, 3, (3,)), "concentration0": RNG.uniform(0.5, 3, (3,))},
        RNG.uniform(0.05, 0.95, (4, 3)),
    ),
    "dirichlet": ("Dirichlet", {"concentration": RNG.uniform(0.5, 3, (2, 4))}, _simplex((5, 2, 4))),
    "bernoulli_probs": (
        "Bernoulli",
        {"probs": RNG.uniform(0.1, 0.9, (3,))},
        RNG.integers(0, 2, (4, 3)).astype(float),
    ),
    "bernoulli_logits": (
        "Bernoulli",
        {"logits": RNG.normal(size=(3,))},
        RNG.integers(0, 2, (4, 3)).astype(float),
    ),
    "categorical_probs": ("Categorical", {"probs": _simplex((2, 4))}, RNG.integers(0, 4, (5, 2))),
    "categorical_logits": (
        "Categorical",
        {"logits": RNG.normal(size=(2, 4))},
        RNG.integers(0, 4, (5, 2)),
    ),
    "onehot_categorical": (
        "OneHotCategorical",
        {"logits": RNG.normal(size=(2, 4))},
        np.eye(4)[RNG.integers(0, 4, (5, 2))],
    ),
    "mvn_covariance": (
        "MultivariateNormal",
        {"loc": RNG.normal(size=(2, 3)), "covariance_matrix": _spd(3)},
        RNG.normal(size=(4, 2, 3)),
    ),
    "mvn_precision": (
        "MultivariateNormal",
        {"loc": RNG.normal(size=(3,)), "precision_matrix": _spd(3, (2,))},
        RNG.normal(size=(4, 2, 3)),
    ),
    "mvn_scale_tril": (
        "MultivariateNormal",
        {"loc": RNG.normal(size=(3,)), "scale_tril": np.linalg.cholesky(_spd(3))},
        RNG.normal(size=(4, 3)),
    ),
}
CASES.update(
    {
        "halfnormal": (
            "HalfNormal",
            {"scale": RNG.uniform(0.5, 2, (3,))},
            RNG.uniform(0, 3, (4, 3)),
        ),
        "gumbel": (
            "Gumbel",
            {"loc": RNG.normal(size=(3,)), "scale": RNG.uniform(0.5, 2, (3,))},
            RNG.normal(size=(4, 3)),
        ),
        "poisson": (
            "Poisson",
            {"rate": RNG.uniform(0.5, 4, (3,))},
            RNG.integers(0, 6, (4, 3)).astype(float),
        ),
    }
)
# The count families and the families built on others (Chi2, StudentT, Pareto, Weibull).
CASES.update(
    {
        "binomial_probs": (
            "Binomial",
            {"total_count": np.array([5.0, 40.0, 200.0]), "probs": RNG.uniform(0.1, 0.9, (3,))},
            RNG.integers(0, 6, (4, 3)).astype(float),
        ),
        "binomial_logits": (
            "Binomial",
            {"total_count": np.array(7.0), "logits": RNG.normal(size=(2, 3))},
            RNG.integers(0, 8, (4, 2, 3)).astype(float),
        ),
        "geometric_probs": (
            "Geometric",
            {"probs": RNG.uniform(0.2, 0.9, (3,))},
            RNG.integers(0, 6, (4, 3)).astype(float),
        ),
        "geometric_logits": (
            "Geometric",
            {"logits": RNG.normal(size=(3,))},
            RNG.integers(0, 6, (4, 3)).astype(float),
        ),
        "negative_binomial": (
            "NegativeBinomial",
            {"total_count": RNG.uniform(1, 5, (3,)), "probs": RNG.uniform(0.1, 0.8, (3,))},
            RNG.integers(0, 8, (4, 3)).astype(float),
        ),
        "multinomial": (
            "Multinomial",
            {"total_count": 6, "logits": RNG.normal(size=(2, 4))},
            RNG.multinomial(6, [0.25] * 4, size=(5, 2)).astype(float),
        ),
        "chi2": ("Chi2", {"df": RNG.uniform(1, 6, (3,))}, RNG.uniform(0.1, 5, (4, 3))),
        "student_t": (
            "StudentT",
            {
                "df": RNG.uniform(8, 12, (3,)),
                "loc": RNG.normal(size=(3,)),
                "scale": RNG.uniform(0.5, 2, (3,)),
            },
            RNG.normal(size=(4, 3)),
        ),
        "pareto": (
            "Pareto",
            {"scale": RNG.uniform(0.5, 2, (3,)), "alpha": RNG.uniform(5, 8, (3,))},
            RNG.uniform(2.1, 5, (4, 3)),
        ),
        "weibull": (
            "Weibull",
            {"scale": RNG.uniform(0.5, 2, (3,)), "concentration": RNG.uniform(0.8, 3, (3,))},
            RNG.uniform(0.1, 3, (4, 3)),
        ),
    }
)
CASES["lowrank_mvn"] = (
    "LowRankMultivariateNormal",
    {
        "loc": RNG.normal(size=(2, 3)),
        "cov_factor": RNG.normal(size=(3, 2)),
        "cov_diag": RNG.uniform(0.5, 2, (2, 3)),
    },
    RNG.normal(size=(5, 2, 3)),
)
CASES["lowrank_mvn_batched_factor"] = (
    "LowRankMultivariateNormal",
    {
        "loc": RNG.normal(size=(3,)),
        "cov_factor": RNG.normal(size=(2, 3, 1)),
        "cov_diag": RNG.uniform(0.5, 2, (3,)),
    },
    RNG.normal(size=(5, 2, 3)),
)
CASES["von_mises"] = (
    "VonMises",
    {"loc": RNG.uniform(-3, 3, (3,)), "concentration": np.array([0.5, 3.0, 20.0])},
    RNG.uniform(-np.pi, np.pi, (4, 3)),
)


def _correlation_cholesky(n, batch=()):
    """Cholesky factors of random correlation matrices (inside LKJCholesky's support)."""
    covariance = _spd(n, batch)
    scale = np.sqrt(np.diagonal(covariance, axis1=-2, axis2=-1))
    return np.linalg.cholesky(covariance / scale[..., :, None] / scale[..., None, :])


# The families PyTorch builds on others: transformed, ratios, inverse-cdf, over matrices.
_GPD_LOC, _GPD_SCALE = RNG.normal(size=(3,)), RNG.uniform(0.5, 2, (3,))
CASES.update(
    {
        "half_cauchy": (
            "HalfCauchy",
            {"scale": RNG.uniform(0.5, 2, (3,))},
            RNG.uniform(0, 3, (4, 3)),
        ),
        "inverse_gamma": (
            "InverseGamma",
            # above 4: the sample variance's own variance is finite (moments test)
            {"concentration": RNG.uniform(8, 10, (3,)), "rate": RNG.uniform(0.5, 2, (3,))},
            RNG.uniform(0.05, 1, (4, 3)),
        ),
        "kumaraswamy": (
            "Kumaraswamy",
            {"concentration1": RNG.uniform(1, 3, (3,)), "concentration0": RNG.uniform(1, 3, (3,))},
            RNG.uniform(0.05, 0.95, (4, 3)),
        ),
        "logistic_normal": (
            "LogisticNormal",
            {"loc": RNG.normal(size=(2, 3)), "scale": RNG.uniform(0.5, 1.5, (3,))},
            _simplex((4, 2, 4)),
        ),
        "fisher_snedecor": (
            "FisherSnedecor",
            {"df1": RNG.uniform(3, 6, (3,)), "df2": RNG.uniform(20, 30, (3,))},
            RNG.uniform(0.1, 3, (4, 3)),
        ),
        "continuous_bernoulli_probs": (
            "ContinuousBernoulli",
            # 0.5003 is inside the Taylor branch around 1/2, the others outside
            {"probs": np.array([0.2, 0.5003, 0.93])},
            RNG.uniform(0.02, 0.98, (4, 3)),
        ),
        "continuous_bernoulli_logits": (
            "ContinuousBernoulli",
            {"logits": RNG.normal(size=(2, 3))},
            RNG.uniform(0.02, 0.98, (4, 2, 3)),
        ),
        "generalized_pareto": (
            "GeneralizedPareto",
            # a negative, a zero (the exponential branch) and a positive concentration
            {"loc": _GPD_LOC, "scale": _GPD_SCALE, "concentration": np.array([-0.2, 0.0, 0.1])},
            _GPD_LOC + _GPD_SCALE * RNG.uniform(0.05, 4, (4, 3)),
        ),
        "wishart_covariance": (
            "Wishart",
            {"df": RNG.uniform(4, 6, (2,)), "covariance_matrix": _spd(3) / 3},
            _spd(3, (4, 2)),
        ),
        "wishart_scale_tril": (
            "Wishart",
            {"df": RNG.uniform(5, 6, (2,)), "scale_tril": np.linalg.cholesky(_spd(2, (2,)) / 2)},
            _spd(2, (4, 2)),
        ),
        "wishart_precision": (
            "Wishart",
            {"df": RNG.uniform(3, 4, (2,)), "precision_matrix": _spd(2, (2,))},
            _spd(2, (4, 2)) / 4,
        ),
        "lkj_cholesky": (
            "LKJCholesky",
            {"dim": 3, "concentration": np.array([0.5, 1.0, 2.5])},
            _correlation_cholesky(3, (4, 3)),
        ),
    }
)

# cdf and icdf where torch.distributions defines them (its Gamma has cdf only).
CDF = {"normal", "lognormal", "uniform", "exponential", "laplace", "gamma", "halfnormal", "gumbel"}
ICDF = {"normal", "lognormal", "uniform", "exponential", "laplace", "halfnormal", "gumbel"}
CDF |= {"pareto", "weibull", "chi2"}
ICDF |= {"pareto", "weibull"}
CDF |= {"half_cauchy", "continuous_bernoulli_probs", "continuous_bernoulli_logits"}
CDF |= {"generalized_pareto"}
ICDF |= {"half_cauchy", "continuous_bernoulli_probs", "continuous_bernoulli_logits"}
ICDF |= {"generalized_pareto"}


def _make(case, library, wrt=None, dtype=np.float64):
    family, params, _ = CASES[case]
    tensors = {}
    plain = {}  # a Python int parameter (Multinomial's total_count) stays one
    for name, value in params.items():
        requires_grad = wrt is None or name in wrt
        if isinstance(value, int):
            plain[name] = value
        elif library is torch:
            tensors[name] = torch.tensor(value.astype(dtype), requires_grad=requires_grad)
        else:
            tensors[name] = chainrule.tensor(value.astype(dtype), requires_grad=requires_grad)
    module = TD if library is torch else D
    return getattr(module, family)(**plain, **tensors), tensors


def _value(case, library, dtype=np.float64):
    value = CASES[case][2]
    value = value.astype(dtype) if value.dtype == np.float64 else value
    if library is torch:
        return torch.tensor(value)
    return chainrule.tensor(value)


# torch's GeneralizedPareto.log_prob and cdf fail on float64 parameters (they compare with a
# float32 zero: "Double did not match Float"): those are checked against torch in float32.
TORCH_FLOAT32_ONLY = {"generalized_pareto"}


def _compare(case, what, wrt=None, rtol=1e-9, float64=False):
    """what(dist, value) in both libraries: values (to `rtol`), and gradients of a random
    weighting of the result with respect to every parameter (those named in `wrt` only, when
    given). In float64, unless torch fails there (TORCH_FLOAT32_ONLY) and `float64` is off."""
    dtype, grad_rtol, atol = np.float64, 1e-8, 1e-10
    if case in TORCH_FLOAT32_ONLY and not float64:
        dtype, rtol, grad_rtol, atol = np.float32, max(rtol, 1e-5), 1e-4, 1e-5
    ours, our_params = _make(case, chainrule, wrt, dtype)
    theirs, their_params = _make(case, torch, wrt, dtype)
    expected = what(theirs, _value(case, torch, dtype))
    actual = what(ours, _value(case, chainrule, dtype))
    assert tuple(actual.shape) == tuple(expected.shape)
    np.testing.assert_allclose(
        actual.detach().numpy(), expected.detach().numpy(), rtol=rtol, atol=min(atol, 1e-12)
    )
    if not expected.requires_grad:
        return
    weights = RNG.standard_normal(tuple(expected.shape)).astype(dtype)
    names = [n for n in their_params if their_params[n].requires_grad]
    their_grads = torch.autograd.grad(
        (expected * torch.tensor(weights)).sum(),
        [their_params[n] for n in names],
        allow_unused=True,
    )
    our_grads = chainrule.autograd.grad(
        (actual * chainrule.tensor(weights)).sum(),
        [our_params[n] for n in names],
        allow_unused=True,
    )
    for name, mine, reference in zip(names, our_grads, their_grads):
        if reference is None:
            continue
        np.testing.assert_allclose(
            mine.numpy(), reference.numpy(), rtol=grad_rtol, atol=atol, err_msg=f"d/d{name}"
        )


@pytest.mark.parametrize("case", CASES)
def test_log_prob_and_its_gradients_match_torch(case):
    _compare(case, lambda d, v: d.log_prob(v))


@pytest.mark.parametrize("case", CASES)
def test_entropy_and_its_gradients_match_torch(case):
    theirs, _ = _make(case, torch)
    try:
        theirs.entropy()
    except NotImplementedError:
        pytest.skip(f"torch's {CASES[case][0]} has no entropy")
    # torch's Multinomial takes lgamma(n + 1) of an int64 tensor, so in float32: 1e-8 off.
    rtol = 1e-7 if CASES[case][0] == "Multinomial" else 1e-9
    _compare(case, lambda d, v: d.entropy(), rtol=rtol)


@pytest.mark.parametrize("case", sorted(CDF))
def test_cdf_matches_torch(case):
    # Gamma's cdf is gammainc, which torch (and chainrule) cannot differentiate in the shape.
    wrt = {"gamma": ("rate",), "chi2": ()}.get(case)
    _compare(case, lambda d, v: d.cdf(v), wrt)


@pytest.mark.parametrize("case", sorted(ICDF))
def test_icdf_matches_torch(case):
    if case in TORCH_FLOAT32_ONLY:  # torch's icdf works in float64, its cdf does not
        probabilities = RNG.uniform(0.01, 0.99, (4, 3))

        def icdf(d, v):
            library = torch if isinstance(v, torch.Tensor) else chainrule
            return d.icdf(library.tensor(probabilities))

        _compare(case, icdf, float64=True)
        return
    _compare(case, lambda d, v: d.icdf(d.cdf(v)))


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("moment", ["mean", "mode", "variance", "stddev"])
def test_moments_match_torch(case, moment):
    theirs, _ = _make(case, torch)
    try:
        getattr(theirs, moment)
    except NotImplementedError:
        pytest.skip(f"torch's {CASES[case][0]} has no {moment}")
    _compare(case, lambda d, v: getattr(d, moment) * 1.0)


@pytest.mark.parametrize(
    "family, params",
    [
        ("Cauchy", (0.2, 1.5)),
        ("HalfCauchy", (1.5,)),
        ("HalfNormal", (1.5,)),
        ("Exponential", (1.5,)),
        ("Normal", (0.2, 1.5)),
    ],
)
def test_constant_moments_carry_no_gradient_as_torchs(family, params):
    """A Cauchy's nan mean and infinite variance, and the zero mode of a HalfNormal or an
    Exponential, are constants in PyTorch (no grad_fn): a loss made of them has nothing to
    differentiate, where `loc * nan` gave loc a nan gradient."""
    for name in ("mean", "mode", "variance", "stddev"):
        flags, values = [], []
        for lib in (torch, chainrule):
            leaves = [lib.tensor([p, p + 1], dtype=lib.float64, requires_grad=True) for p in params]
            moment = getattr(getattr(lib.distributions, family)(*leaves), name)
            flags.append(moment.requires_grad)
            values.append(moment.detach().numpy())
        assert flags[0] == flags[1], (name, flags)
        np.testing.assert_array_equal(values[1], values[0])


@pytest.mark.parametrize(
    "family, params",
    [
        ("Gamma", (2.0, 1.5)),
        ("Chi2", (3.0,)),
        ("StudentT", (4.0,)),
        ("InverseGamma", (3.0, 2.0)),
        ("FisherSnedecor", (3.0, 5.0)),
        ("Poisson", (2.5,)),
        ("NegativeBinomial", (3.0, 0.4)),
        ("Binomial", (5.0, 0.3)),
        ("Beta", (2.0, 3.0)),
    ],
)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_scalar_parameters_sample_a_scalar_as_torch(family, params, dtype):
    """Gamma(torch.tensor(2.0), ...).sample(): with 0-d parameters the generator returns a
    Python number rather than an array; the sample must still be a 0-d tensor of the
    parameters' dtype (and rsample differentiable), as PyTorch's."""
    shapes = []
    for lib in (torch, chainrule):
        lib.manual_seed(0)
        leaves = [lib.tensor(p, dtype=getattr(lib, dtype)) for p in params]
        d = getattr(lib.distributions, family)(*leaves)
        draws = [d.sample(), d.sample((3,))]
        if d.has_rsample:
            leaf = leaves[0].requires_grad_()
            draw = getattr(lib.distributions, family)(leaf, *leaves[1:]).rsample()
            (grad,) = lib.autograd.grad(draw, leaf)
            draws.append(grad)
        shapes.append([(tuple(x.shape), str(x.dtype).split(".")[-1]) for x in draws])
        assert all(bool(lib.isfinite(x).all()) for x in draws)
    assert shapes[1] == shapes[0]


def test_mixture_same_family_expands_as_torchs():
    """expand broadcasts the weights to the new batch shape and the components to it plus
    their own last dimension; it was the base class's, which left the result unusable."""
    results = []
    for lib in (torch, chainrule):
        D_ = lib.distributions
        logits = lib.tensor([[0.0, 1.0, -1.0], [0.5, 0.0, 0.2]], dtype=lib.float64)
        locs = lib.tensor([[-1.0, 0.0, 2.0], [0.5, 1.5, -2.0]], dtype=lib.float64)
        components = D_.Independent(D_.Normal(locs.unsqueeze(-1), lib.ones(2, 3, 2)), 1)
        mixture = D_.MixtureSameFamily(D_.Categorical(logits=logits), components)
        wide = mixture.expand((4, 2))
        value = lib.tensor([[0.3, -0.2]], dtype=lib.float64)
        results.append(
            [
                tuple(wide.batch_shape),
                tuple(wide.event_shape),
                tuple(wide.sample((5,)).shape),
                wide.log_prob(value).numpy(),
                wide.mean.numpy(),
                tuple(wide.component_distribution.batch_shape),
            ]
        )
    for ours, theirs in zip(*results[::-1]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


@pytest.mark.parametrize("case", CASES)
def test_shapes_match_torch(case):
    ours, _ = _make(case, chainrule)
    theirs, _ = _make(case, torch)
    assert ours.batch_shape == tuple(theirs.batch_shape)
    assert ours.event_shape == tuple(theirs.event_shape)
    assert ours.has_rsample == theirs.has_rsample
    chainrule.manual_seed(0)
    sample = ours.sample((5, 2))
    assert sample.shape == tuple(theirs.sample((5, 2)).shape)
    assert not sample.requires_grad
    assert bool(ours.support.check(sample).all())
    expanded = ours.expand((6,) + tuple(ours.batch_shape))
    assert expanded.batch_shape == tuple(theirs.expand((6,) + theirs.batch_shape).batch_shape)
    assert expanded.sample().shape == (6,) + tuple(ours.batch_shape) + tuple(ours.event_shape)
    one = _value(case, chainrule)[0]  # batch_shape + event_shape
    rows = expanded.log_prob(one).detach().numpy()
    assert rows.shape == (6,) + tuple(ours.batch_shape)
    np.testing.assert_allclose(
        rows, np.broadcast_to(ours.log_prob(one).detach().numpy(), rows.shape)
    )


# ---- samples: statistics and reparameterised gradients ------------------------------------------

SAMPLES = 40000


# Families whose samples a test of their own checks (no finite mean and variance to compare).
OWN_SAMPLE_TESTS = {
    "VonMises": "angles: test_von_mises_samples_have_its_circular_moments checks them",
    "HalfCauchy": "no mean: test_half_cauchy_samples_have_its_quantiles checks them",
    "LogisticNormal": "no closed-form mean: test_logistic_normal_samples_* checks them",
    "LKJCholesky": "no mean: test_lkj_cholesky_samples_* checks them",
}


@pytest.mark.parametrize("case", CASES)
def test_sample_moments_are_the_distributions(case):
    """Mean and variance over 40,000 draws (fixed seed) within 5 standard errors of the
    distribution's own (checked against torch above)."""
    if CASES[case][0] in OWN_SAMPLE_TESTS:
        pytest.skip(OWN_SAMPLE_TESTS[CASES[case][0]])
    ours, _ = _make(case, chainrule)
    chainrule.manual_seed(0)
    draws = ours.sample((SAMPLES,)).double().numpy()
    mean = ours.mean.detach().numpy()
    variance = ours.variance.detach().numpy()
    if CASES[case][0] == "Categorical":  # indices: compare the frequencies with the probs
        probs = ours.probs.detach().numpy()
        frequencies = (draws[..., None] == np.arange(probs.shape[-1])).mean(0)
        standard_error = np.sqrt(probs * (1 - probs) / SAMPLES)
        assert np.all(np.abs(frequencies - probs) < 5 * standard_error)
        return
    standard_error = np.sqrt(variance / SAMPLES)
    assert np.all(np.abs(draws.mean(0) - mean) < 5 * standard_error), (draws.mean(0), mean)
    np.testing.assert_allclose(draws.var(0), variance, rtol=0.1)


DISCRETE = ("Bernoulli", "Categorical", "OneHotCategorical", "Poisson")
DISCRETE += ("Binomial", "Geometric", "NegativeBinomial", "Multinomial")
RSAMPLE_CASES = [c for c in CASES if CASES[c][0] not in DISCRETE + tuple(OWN_SAMPLE_TESTS)]


@pytest.mark.parametrize("case", RSAMPLE_CASES)
def test_rsample_gradients_are_unbiased(case):
    """The mean of the pathwise gradients d x / d theta over many draws is d E[x] / d theta,
    the gradient of the distribution's mean (Gamma, Beta and Dirichlet through the implicit
    reparameterisation gradient)."""
    ours, params = _make(case, chainrule)
    weights = RNG.standard_normal(tuple(ours.mean.shape))
    if CASES[case][0] == "ContinuousBernoulli":
        # Inside the Taylor region around 1/2 a sample is the uniform draw itself (PyTorch's
        # icdf), which does not move with probs while the mean does: left out here.
        weights = weights * ours._outside_unstable_region().numpy()
    if CASES[case][0] == "GeneralizedPareto":
        # At concentration 0 a sample is the exponential branch's, which does not move with
        # the concentration while the mean does (PyTorch's too): left out here.
        weights = weights * (ours.concentration != 0).numpy()
    weights = chainrule.tensor(weights)
    chainrule.manual_seed(1)
    draws = ours.rsample((SAMPLES,))
    assert draws.requires_grad
    names = list(params)
    estimated = chainrule.autograd.grad(  # retained: Weibull's 1 / concentration is shared
        (draws.mean(0) * weights).sum(),
        [params[n] for n in names],
        allow_unused=True,
        retain_graph=True,
    )
    exact = chainrule.autograd.grad(
        (ours.mean * weights).sum(), [params[n] for n in names], allow_unused=True
    )
    for name, estimate, value in zip(names, estimated, exact):
        value = np.zeros(params[name].shape) if value is None else value.numpy()
        estimate = estimate.numpy()
        if name in ("covariance_matrix", "precision_matrix"):
            # only symmetric perturbations are covariances: compare the symmetric parts (the
            # mean's gradient need not be symmetric, the Cholesky factor's is)
            value = (value + np.swapaxes(value, -1, -2)) / 2
            estimate = (estimate + np.swapaxes(estimate, -1, -2)) / 2
        scale = np.abs(weights.numpy()).sum() * max(1.0, float(np.abs(value).max()))
        np.testing.assert_allclose(estimate, value, atol=0.04 * scale, err_msg=name)


def test_normal_rsample_is_loc_plus_scale_times_noise():
    loc = chainrule.tensor([0.5, -1.0], requires_grad=True)
    scale = chainrule.tensor([2.0, 0.5], requires_grad=True)
    x = D.Normal(loc, scale).rsample((3,))
    grad_loc, grad_scale = chainrule.autograd.grad(x.sum(), [loc, scale])
    np.testing.assert_allclose(grad_loc.numpy(), [3.0, 3.0])
    noise = (x.detach() - loc.detach()) / scale.detach()
    np.testing.assert_allclose(grad_scale.numpy(), noise.sum(0).numpy(), rtol=1e-6)


def test_gamma_rsample_gradient_is_torchs_at_the_same_sample():
    concentration = chainrule.tensor([0.3, 1.0, 4.0], dtype=chainrule.float64, requires_grad=True)
    rate = chainrule.tensor([2.0, 1.0, 0.5], dtype=chainrule.float64, requires_grad=True)
    chainrule.manual_seed(2)
    x = D.Gamma(concentration, rate).rsample((100,))
    grad_c, grad_rate = chainrule.autograd.grad(x.sum(), [concentration, rate])
    standard = torch.tensor((x * rate).detach().numpy())  # the Gamma(c, 1) draws
    alpha = torch.tensor(concentration.detach().numpy()).expand(100, 3)
    expected = torch._standard_gamma_grad(alpha, standard) / torch.tensor(rate.detach().numpy())
    np.testing.assert_allclose(grad_c.numpy(), expected.sum(0).numpy(), rtol=2e-3)
    np.testing.assert_allclose(grad_rate.numpy(), (-x / rate).detach().sum(0).numpy(), rtol=1e-9)


def test_samples_are_reproducible_with_manual_seed():
    d = D.Dirichlet(chainrule.tensor([0.5, 1.0, 2.0]))
    chainrule.manual_seed(7)
    first = d.sample((4,))
    chainrule.manual_seed(7)
    np.testing.assert_array_equal(first.numpy(), d.sample((4,)).numpy())


# ---- kl_divergence ------------------------------------------------------------------------------

KL_PAIRS = [
    ("normal", "normal"),
    ("lognormal", "lognormal"),
    ("bernoulli_probs", "bernoulli_logits"),
    ("categorical_probs", "categorical_logits"),
    ("onehot_categorical", "onehot_categorical"),
    ("exponential", "exponential"),
    ("gamma", "gamma"),
    ("beta", "beta"),
    ("dirichlet", "dirichlet"),
    ("uniform", "uniform"),
    ("laplace", "laplace"),
    ("mvn_covariance", "mvn_precision"),
    ("mvn_scale_tril", "mvn_covariance"),
    ("binomial_probs", "binomial_probs"),
    ("geometric_probs", "geometric_logits"),
    ("poisson", "poisson"),
    ("pareto", "pareto"),
    ("halfnormal", "halfnormal"),
    ("gumbel", "gumbel"),
    ("chi2", "chi2"),  # Gamma's closed form, by the class hierarchy
    ("chi2", "gamma"),
    ("lowrank_mvn", "lowrank_mvn"),
    ("mvn_covariance", "lowrank_mvn"),
    ("lowrank_mvn_batched_factor", "mvn_scale_tril"),
    ("lowrank_mvn_batched_factor", "lowrank_mvn"),
    ("continuous_bernoulli_probs", "continuous_bernoulli_logits"),
    ("continuous_bernoulli_logits", "continuous_bernoulli_logits"),
]


def _other(case, library):
    """A second distribution of the same family with other parameter values."""
    family, params, _ = CASES[case]
    shifted = {}
    for name, value in params.items():
        if name == "cov_factor":
            shifted[name] = value * 0.7 + 0.1
        elif name in ("covariance_matrix", "precision_matrix"):
            shifted[name] = value + np.eye(value.shape[-1])
        elif name == "scale_tril":
            shifted[name] = value * 1.3
        elif name == "total_count":
            shifted[name] = value  # Binomial's KL needs p's count at least q's
        elif name in ("probs",):
            vectors = family in ("Categorical", "OneHotCategorical")
            shifted[name] = _simplex(value.shape) if vectors else value[::-1].copy()
        elif name in ("low",):
            shifted[name] = value - 0.5
        elif name in ("high",):
            shifted[name] = value + 0.5
        elif name in ("loc", "logits"):
            shifted[name] = value[..., ::-1].copy()
        else:
            shifted[name] = value[..., ::-1] * 1.5
    module, tensor = (TD, torch.tensor) if library is torch else (D, chainrule.tensor)
    tensors = {n: tensor(v, requires_grad=True) for n, v in shifted.items()}
    return getattr(module, family)(**tensors), tensors


@pytest.mark.parametrize("pair", KL_PAIRS, ids="-".join)
def test_kl_divergence_and_its_gradients_match_torch(pair):
    p_case, q_case = pair
    results = {}
    for library in (chainrule, torch):
        p, p_params = _make(p_case, library)
        q, q_params = _other(q_case, library) if p_case == q_case else _make(q_case, library)
        module = TD if library is torch else D
        kl = module.kl_divergence(p, q)
        leaves = list(p_params.values()) + list(q_params.values())
        weights = np.linspace(0.5, 1.5, int(np.prod(tuple(kl.shape))) or 1).reshape(tuple(kl.shape))
        weighted = kl * (torch.tensor(weights) if library is torch else chainrule.tensor(weights))
        grads = (torch.autograd.grad if library is torch else chainrule.autograd.grad)(
            weighted.sum(), leaves, allow_unused=True
        )
        results[library] = (kl, grads)
    (ours, our_grads), (theirs, their_grads) = results[chainrule], results[torch]
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-9)
    for mine, reference in zip(our_grads, their_grads):
        if reference is None:
            assert mine is None or not np.any(mine.numpy())
            continue
        np.testing.assert_allclose(mine.numpy(), reference.numpy(), rtol=1e-8, atol=1e-10)


def test_kl_is_infinite_where_q_misses_mass_as_torch():
    for ours, theirs in [
        (
            D.kl_divergence(D.Uniform(0.0, 2.0), D.Uniform(0.5, 3.0)),
            TD.kl_divergence(TD.Uniform(0.0, 2.0), TD.Uniform(0.5, 3.0)),
        ),
        (
            D.kl_divergence(
                D.Bernoulli(chainrule.tensor([0.0, 0.5, 1.0])),
                D.Bernoulli(chainrule.tensor([0.5, 0.0, 1.0])),
            ),
            TD.kl_divergence(
                TD.Bernoulli(torch.tensor([0.0, 0.5, 1.0])),
                TD.Bernoulli(torch.tensor([0.5, 0.0, 1.0])),
            ),
        ),
        (
            D.kl_divergence(
                D.Categorical(chainrule.tensor([0.5, 0.5, 0.0])),
                D.Categorical(chainrule.tensor([0.0, 0.5, 0.5])),
            ),
            TD.kl_divergence(
                TD.Categorical(torch.tensor([0.5, 0.5, 0.0])),
                TD.Categorical(torch.tensor([0.0, 0.5, 0.5])),
            ),
        ),
    ]:
        np.testing.assert_allclose(ours.numpy(), theirs.numpy())


def test_independent_kl_sums_the_reinterpreted_dimensions():
    p = D.Independent(D.Normal(chainrule.zeros(2, 3), 1.0), 1)
    q = D.Independent(D.Normal(chainrule.ones(2, 3), 2.0), 1)
    kl = D.kl_divergence(p, q)
    assert kl.shape == (2,)
    expected = D.kl_divergence(p.base_dist, q.base_dist).sum(-1)
    np.testing.assert_allclose(kl.numpy(), expected.numpy())
    with pytest.raises(NotImplementedError):
        D.kl_divergence(p, D.Independent(D.Normal(chainrule.zeros(2, 3), 1.0), 2))


def test_kl_of_an_unregistered_pair_raises_as_torch():
    with pytest.raises(
        NotImplementedError,
        match="No KL\\(p \\|\\| q\\) is implemented for p type Normal and q type Cauchy",
    ):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Cauchy(0.0, 1.0))


# Parameters of each family for the cross-family pairs, three entries each, so one batch holds
# the finite, the tie and the infinite cases: Uniform(0, 1) touches Beta's support ends and
# starts at Exponential's and Gamma's 0, Uniform(-0.5, 2) leaves them; a Pareto of alpha 1 or
# 2 has no mean or no variance (KL infinite against Exponential, Gamma, Normal).
CROSS_PARAMS = {
    "Normal": ([0.3, -1.0, 2.0], [1.2, 0.4, 2.0]),
    "Laplace": ([0.3, -1.0, 2.0], [1.2, 0.4, 2.0]),
    "Gumbel": ([0.3, -1.0, 2.0], [1.2, 0.4, 2.0]),
    "Exponential": ([1.5, 0.5, 3.0],),
    "Gamma": ([2.0, 0.7, 3.0], [1.5, 0.5, 4.0]),
    "Beta": ([2.0, 0.7, 1.0], [3.0, 0.5, 1.0]),
    "Uniform": ([0.2, 0.0, -0.5], [0.9, 1.0, 2.0]),
    "Pareto": ([1.0, 0.5, 2.0], [3.0, 1.0, 2.0]),
    "Poisson": ([2.0, 0.5, 4.0],),
    "Bernoulli": ([0.3, 0.9, 0.5],),
}
CROSS_KL_PAIRS = [
    ("Beta", "Exponential"),
    ("Beta", "Gamma"),
    ("Beta", "Normal"),
    ("Beta", "Uniform"),
    ("Exponential", "Gamma"),
    ("Exponential", "Gumbel"),
    ("Exponential", "Normal"),
    ("Gamma", "Exponential"),
    ("Gamma", "Gumbel"),
    ("Gamma", "Normal"),
    ("Gumbel", "Normal"),
    ("Laplace", "Normal"),
    ("Normal", "Gumbel"),
    ("Normal", "Laplace"),
    ("Pareto", "Exponential"),
    ("Pareto", "Gamma"),
    ("Pareto", "Normal"),
    ("Uniform", "Beta"),
    ("Uniform", "Exponential"),
    ("Uniform", "Gamma"),
    ("Uniform", "Gumbel"),
    ("Uniform", "Normal"),
    ("Uniform", "Pareto"),
    ("Bernoulli", "Poisson"),
]


def _cross(family, library, reverse=False):
    module = TD if library is torch else D
    params = [
        library.tensor(v[::-1] if reverse else v, dtype=library.float64)
        for v in CROSS_PARAMS[family]
    ]
    leaves = [t.requires_grad_() for t in params]
    return getattr(module, family)(*leaves), leaves


@pytest.mark.parametrize("pair", CROSS_KL_PAIRS, ids="-".join)
def test_kl_across_families_and_its_gradients_match_torch(pair):
    """KL(p || q) for p and q of different families, as torch.distributions.kl registers them:
    -H(p) - E_p[log q], infinite where p has mass outside q's support, with PyTorch's ties."""
    results = {}
    for library in (chainrule, torch):
        p, p_leaves = _cross(pair[0], library)
        q, q_leaves = _cross(pair[1], library, reverse=True)
        kl = (TD if library is torch else D).kl_divergence(p, q)
        finite = library.isfinite(kl)
        weights = library.tensor([0.5, 1.0, 1.5], dtype=library.float64)
        objective = library.where(finite, kl, 0.0) * weights
        grads = (torch.autograd.grad if library is torch else chainrule.autograd.grad)(
            objective.sum(), p_leaves + q_leaves, allow_unused=True
        )
        results[library] = (kl, [None if g is None else g.numpy() for g in grads])
    (ours, our_grads), (theirs, their_grads) = results[chainrule], results[torch]
    assert tuple(ours.shape) == tuple(theirs.shape) and ours.dtype == chainrule.float64
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-10)
    for mine, reference in zip(our_grads, their_grads):
        if reference is None:
            assert mine is None or not np.any(mine)
            continue
        np.testing.assert_allclose(mine, reference, rtol=1e-7, atol=1e-12)  # polygamma


@pytest.mark.parametrize(
    "pair",
    [
        ("Bernoulli", "Poisson"),
        ("Poisson", "Bernoulli"),
        ("Beta", "Pareto"),
        ("Exponential", "Uniform"),
        ("Gamma", "Beta"),
        ("Gumbel", "Exponential"),
        ("Laplace", "Uniform"),
        ("Normal", "Gamma"),
        ("Pareto", "Uniform"),
    ],
    ids="-".join,
)
def test_kl_across_supports_is_registered_as_in_torch(pair):
    """Every pair torch registers, including those it sets infinite (p's support leaves q's)."""
    ours = D.kl_divergence(_cross(pair[0], chainrule)[0], _cross(pair[1], chainrule)[0])
    theirs = TD.kl_divergence(_cross(pair[0], torch)[0], _cross(pair[1], torch)[0])
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-10)


def test_register_kl_dispatches_to_the_most_derived_pair():
    class Wide(D.Normal):
        pass

    @D.register_kl(Wide, D.Normal)
    def _kl_wide_normal(p, q):
        return p.loc * 0 + 42.0

    assert float(D.kl_divergence(Wide(0.0, 1.0), D.Normal(0.0, 1.0))) == 42.0
    assert float(D.kl_divergence(D.Normal(0.0, 1.0), Wide(0.0, 1.0))) == 0.0  # Normal-Normal
    with pytest.raises(TypeError):
        D.register_kl(int, D.Normal)


# ---- validation: PyTorch's errors ---------------------------------------------------------------


def _message(build, library):
    with pytest.raises(ValueError) as error:
        build(library, TD if library is torch else D)
    return str(error.value).replace("torch.Size", "chainrule.Size")


INVALID = {
    "negative_scale": lambda lib, m: m.Normal(lib.tensor([0.0, 1.0]), lib.tensor([1.0, -1.0])),
    "probs_above_one": lambda lib, m: m.Bernoulli(lib.tensor([0.5, 1.5])),
    "probs_and_logits": lambda lib, m: m.Bernoulli(lib.tensor([0.5]), lib.tensor([0.0])),
    "neither": lambda lib, m: m.Categorical(),
    "not_a_simplex": lambda lib, m: m.Categorical(lib.tensor([0.5, -0.5])),
    "low_not_below_high": lambda lib, m: m.Uniform(lib.tensor([0.0, 2.0]), lib.tensor([1.0, 1.0])),
    "negative_concentration": lambda lib, m: m.Dirichlet(lib.tensor([1.0, -1.0])),
    "scalar_concentration": lambda lib, m: m.Dirichlet(lib.tensor(1.0)),
    "not_positive_definite": lambda lib, m: m.MultivariateNormal(
        lib.zeros(2), lib.tensor([[1.0, 2.0], [2.0, 1.0]])
    ),
    "two_matrices": lambda lib, m: m.MultivariateNormal(
        lib.zeros(2), lib.eye(2), scale_tril=lib.eye(2)
    ),
    "scalar_loc": lambda lib, m: m.MultivariateNormal(lib.tensor(0.0), lib.eye(2)),
    "too_many_dims": lambda lib, m: m.Independent(m.Normal(lib.zeros(3), 1.0), 2),
    "value_outside_support": lambda lib, m: m.Exponential(lib.tensor([1.0])).log_prob(
        lib.tensor([-1.0])
    ),
    "value_wrong_event_shape": lambda lib, m: m.Dirichlet(lib.ones(3)).log_prob(lib.ones(2) / 2),
    "value_not_broadcastable": lambda lib, m: m.Normal(lib.zeros(3), 1.0).log_prob(lib.zeros(2)),
    "value_not_a_tensor": lambda lib, m: m.Normal(0.0, 1.0).log_prob(0.5),
    "category_out_of_range": lambda lib, m: m.Categorical(lib.ones(3) / 3).log_prob(lib.tensor(3)),
    "geometric_probs_zero": lambda lib, m: m.Geometric(lib.tensor([0.5, 0.0])),
    "binomial_count_not_an_integer": lambda lib, m: m.Binomial(
        lib.tensor([2.5]), lib.tensor([0.5])
    ),
    "binomial_value_above_count": lambda lib, m: m.Binomial(3, lib.tensor([0.5])).log_prob(
        lib.tensor([4.0])
    ),
    "pareto_value_below_scale": lambda lib, m: m.Pareto(lib.ones(2), 2.0).log_prob(
        lib.tensor([0.5, 2.0])
    ),
    "multinomial_counts_above_total": lambda lib, m: m.Multinomial(2, lib.ones(3)).log_prob(
        lib.tensor([1.0, 1.0, 1.0])
    ),
    "student_t_negative_df": lambda lib, m: m.StudentT(lib.tensor([-1.0, 2.0])),
}


@pytest.mark.parametrize("name", INVALID)
def test_invalid_arguments_raise_torchs_value_error(name):
    assert _message(INVALID[name], chainrule) == _message(INVALID[name], torch)


def test_validation_can_be_turned_off_as_in_torch():
    d = D.Normal(0.0, -1.0, validate_args=False)
    assert math.isnan(float(d.log_prob(chainrule.tensor(0.0))))
    D.Distribution.set_default_validate_args(False)
    try:
        assert D.Exponential(-1.0).rate.item() == -1.0
    finally:
        D.Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        D.Exponential(-1.0)


@pytest.mark.parametrize(
    "name",
    [
        "real",
        "positive",
        "nonnegative",
        "unit_interval",
        "simplex",
        "boolean",
        "lower_cholesky",
        "positive_definite",
        "real_vector",
        "one_hot",
        "multinomial",
        "square",
        "symmetric",
        "positive_semidefinite",
        "corr_cholesky",
    ],
)
def test_constraints_check_and_repr_as_torch(name):
    ours, theirs = getattr(D.constraints, name), getattr(TD.constraints, name)
    if name == "multinomial":  # a constraint family: the instance for an upper bound of 2
        ours, theirs = ours(2), theirs(2)
    assert repr(ours) == repr(theirs)
    assert ours.event_dim == theirs.event_dim and ours.is_discrete == theirs.is_discrete
    values = [
        np.array([[0.2, 0.8], [0.5, 0.5]]),
        np.array([[1.0, 0.0], [0.3, 2.0]]),
        np.array([[2.0, 1.0], [1.0, 2.0]]),
        np.array([[-1.0, np.nan], [0.0, 1.0]]),
        np.array([[0.0, 1.0], [1.0, 0.0]]),
    ]
    for value in values:
        np.testing.assert_array_equal(
            ours.check(chainrule.tensor(value)).numpy(), theirs.check(torch.tensor(value)).numpy()
        )


def test_enumerate_support_matches_torch():
    for family, params in [
        ("Bernoulli", [0.3, 0.6]),
        ("Categorical", [[0.2, 0.8], [0.5, 0.5]]),
        ("OneHotCategorical", [[0.2, 0.8], [0.5, 0.5]]),
        ("Binomial", [[0.2, 0.8], [0.5, 0.5]]),
    ]:
        count = {"total_count": 4} if family == "Binomial" else {}
        ours = getattr(D, family)(probs=chainrule.tensor(params), **count).enumerate_support()
        theirs = getattr(TD, family)(probs=torch.tensor(params), **count).enumerate_support()
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        assert ours.dtype.name == str(theirs.dtype).replace("torch.", "")


def test_repr_as_torch():
    for build in [
        lambda lib, m: m.Normal(0.0, 1.0),
        lambda lib, m: m.Gamma(lib.ones(3), lib.ones(3)),
        lambda lib, m: m.Independent(m.Normal(lib.zeros(2, 3), lib.ones(2, 3)), 1),
        lambda lib, m: m.Binomial(lib.tensor([2.0, 3.0]), lib.tensor([0.5, 0.5])),
        lambda lib, m: m.StudentT(3.0),
        lambda lib, m: m.Pareto(1.0, 2.0),
        lambda lib, m: m.Weibull(lib.ones(2), 2.0),
        lambda lib, m: m.Chi2(lib.ones(2)),
        lambda lib, m: m.Multinomial(3, lib.tensor([0.5, 0.5])),
        lambda lib, m: m.NegativeBinomial(3.0, logits=lib.tensor(0.5)),
        # Parameters held by a base distribution are not listed: "LogNormal()".
        lambda lib, m: m.LogNormal(0.0, lib.ones(2)),
        lambda lib, m: m.TransformedDistribution(
            m.Normal(lib.zeros(2), 1.0), [m.transforms.ExpTransform()]
        ),
    ]:
        ours, theirs = build(chainrule, D), build(torch, TD)
        assert repr(ours) == repr(theirs).replace("torch.Size", "chainrule.Size")


# ---- transformed distributions, mixtures and Cauchy ------------------------------------------


def _both(build):
    """build(library, distributions module, transforms module) in chainrule and in torch."""
    import torch.distributions.transforms as TT

    import chainrule.distributions.transforms as T

    return build(chainrule, D, T), build(torch, TD, TT)


TRANSFORMED = {
    "tanh-squashed normal": lambda lib, d, t: (
        d.TransformedDistribution(
            d.Normal(lib.tensor([0.3, -0.5]), lib.tensor([0.8, 1.2])), [t.TanhTransform()]
        ),
        lib.tensor([[0.5, -0.2], [-0.9, 0.1]]),
    ),
    "exp then affine": lambda lib, d, t: (
        d.TransformedDistribution(
            d.Normal(lib.tensor(0.2), lib.tensor(0.7)),
            [t.ExpTransform(), t.AffineTransform(1.0, 2.0)],
        ),
        lib.tensor([2.0, 3.5, 1.2]),
    ),
    "sigmoid of a batch": lambda lib, d, t: (
        d.TransformedDistribution(d.Normal(lib.zeros(3), lib.ones(3)), t.SigmoidTransform()),
        lib.tensor([0.2, 0.5, 0.9]),
    ),
    "decreasing affine": lambda lib, d, t: (
        d.TransformedDistribution(d.Uniform(0.0, 1.0), t.AffineTransform(0.0, -2.0)),
        lib.tensor([-1.0, -0.25]),
    ),
    "composed, over an Independent": lambda lib, d, t: (
        d.TransformedDistribution(
            d.Independent(d.Normal(lib.zeros(2, 3), lib.ones(2, 3)), 1),
            [t.ComposeTransform([t.AffineTransform(0.5, 0.5), t.TanhTransform()])],
        ),
        lib.full((2, 3), 0.3),
    ),
    "gaussian mixture": lambda lib, d, t: (
        d.MixtureSameFamily(
            d.Categorical(logits=lib.tensor([0.2, 1.0, -0.5])),
            d.Normal(lib.tensor([-1.0, 0.5, 2.0]), lib.tensor([0.5, 1.0, 0.3])),
        ),
        lib.tensor([0.0, 1.0, 2.5]),
    ),
    "mixture of 2-D normals, batched": lambda lib, d, t: (
        d.MixtureSameFamily(
            d.Categorical(lib.tensor([[1.0, 2.0, 1.0], [3.0, 1.0, 1.0]])),
            d.Independent(d.Normal(lib.arange(12.0).reshape(2, 3, 2) / 4, lib.ones(2, 3, 2)), 1),
        ),
        lib.ones(4, 2, 2),
    ),
    "cauchy": lambda lib, d, t: (
        d.Cauchy(lib.tensor([0.0, 1.0]), lib.tensor([1.0, 2.0])),
        lib.tensor([[0.5, 3.0], [-2.0, 1.0]]),
    ),
}


@pytest.mark.parametrize("case", TRANSFORMED)
def test_transformed_mixture_and_cauchy_densities_match_torch(case):
    (ours, our_value), (theirs, their_value) = _both(TRANSFORMED[case])
    assert ours.batch_shape == tuple(theirs.batch_shape)
    assert ours.event_shape == tuple(theirs.event_shape)
    np.testing.assert_allclose(
        ours.log_prob(our_value).numpy(), theirs.log_prob(their_value).numpy(), rtol=1e-5
    )
    for name in ("mean", "variance", "entropy", "cdf"):
        try:
            expected = getattr(theirs, name)
            expected = expected(their_value) if name == "cdf" else expected
            expected = expected() if callable(expected) else expected
        except NotImplementedError:
            continue
        actual = getattr(ours, name)
        actual = actual(our_value) if name == "cdf" else actual
        actual = actual() if callable(actual) else actual
        np.testing.assert_allclose(actual.numpy(), expected.numpy(), rtol=1e-5, err_msg=name)
    chainrule.manual_seed(0)
    assert tuple(ours.sample((5,)).shape) == tuple(theirs.sample((5,)).shape)


def test_a_tanh_squashed_policy_is_reparameterised_and_differentiable_as_torch():
    """SAC's policy: rsample through the tanh, log_prob of that sample (cached inverse), and
    the gradients of both reach loc and scale as in PyTorch."""
    import torch.distributions.transforms as TT

    import chainrule.distributions.transforms as T

    grads = []
    for lib, d, t in ((chainrule, D, T), (torch, TD, TT)):
        loc = lib.tensor([0.3, -0.5], requires_grad=True)
        scale = lib.tensor([0.8, 1.2], requires_grad=True)
        policy = d.TransformedDistribution(d.Normal(loc, scale), [t.TanhTransform(cache_size=1)])
        value = lib.tensor([0.5, -0.2])
        policy.log_prob(value).sum().backward()
        grads.append((loc.grad.numpy(), scale.grad.numpy()))
        assert policy.has_rsample
        action = policy.rsample((3,))
        assert tuple(action.shape) == (3, 2) and bool((action.abs() < 1).all())
        assert action.requires_grad
        assert policy.log_prob(action).shape == (3, 2)  # the cached inverse: no atanh(+-1)
    np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=1e-5)
    np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-5)


def test_transforms_invert_and_report_their_jacobians_as_torch():
    (ours, x), (theirs, tx) = _both(
        lambda lib, d, t: (
            [
                t.ComposeTransform([t.AffineTransform(0.0, 2.0), t.ExpTransform()]),
                t.PowerTransform(3.0),
                t.SigmoidTransform(),
                t.TanhTransform(),
            ],
            lib.tensor([0.1, 0.7]),
        )
    )
    for mine, reference in zip(ours, theirs):
        y, ty = mine(x), reference(tx)
        np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=1e-6)
        np.testing.assert_allclose(mine.inv(y).numpy(), x.numpy(), rtol=1e-5)
        np.testing.assert_allclose(
            mine.log_abs_det_jacobian(x, y).numpy(),
            reference.log_abs_det_jacobian(tx, ty).numpy(),
            rtol=1e-5,
        )
        np.testing.assert_allclose(
            mine.inv.log_abs_det_jacobian(y, x).numpy(),
            reference.inv.log_abs_det_jacobian(ty, tx).numpy(),
            rtol=1e-5,
        )


def test_torch_poisson_draws_counts_of_the_rates():
    chainrule.manual_seed(0)
    rates = chainrule.tensor([0.0, 3.0, 40.0])
    draws = chainrule.poisson(rates.expand(4000, 3))
    assert draws.dtype == chainrule.float32 and not draws.requires_grad
    assert draws[:, 0].eq(0).all() and draws.eq(draws.round()).all()
    np.testing.assert_allclose(draws.mean(0).numpy(), rates.numpy(), atol=0.4)


# ---- the count families and those built on others ---------------------------------------------


@pytest.mark.parametrize("total_count, probs", [(10**6, 0.3), (1000, 0.999), (37, 0.5), (200, 0.0)])
def test_binomial_draws_have_the_binomials_mean_and_variance(total_count, probs):
    """Large counts go through the Beta halving (exact), small ones are counted directly."""
    chainrule.manual_seed(3)
    d = D.Binomial(total_count, probs=chainrule.tensor(probs, dtype=chainrule.float64))
    draws = d.sample((20000,)).numpy()
    assert draws.dtype == np.float64
    assert np.all(draws == np.round(draws)) and draws.min() >= 0 and draws.max() <= total_count
    mean, variance = total_count * probs, total_count * probs * (1 - probs)
    assert abs(draws.mean() - mean) <= 5 * math.sqrt(variance / 20000) + 1e-12
    if variance:
        np.testing.assert_allclose(draws.var(), variance, rtol=0.05)


def test_binomial_draws_follow_the_probability_mass_function():
    """Frequencies of each count over 40,000 draws (n = 60 > the directly counted 16) against
    torch's pmf: every count within 5 standard errors."""
    chainrule.manual_seed(4)
    draws = D.Binomial(60, probs=chainrule.tensor(0.35)).sample((40000,)).numpy()
    pmf = TD.Binomial(60, probs=torch.tensor(0.35)).log_prob(torch.arange(61.0)).exp().numpy()
    frequencies = np.bincount(draws.astype(int), minlength=61) / 40000
    assert np.all(np.abs(frequencies - pmf) <= 5 * np.sqrt(pmf * (1 - pmf) / 40000) + 1e-4)


def test_binomial_edges_and_errors_as_torch():
    for probs in (0.0, 1.0):
        draws = D.Binomial(chainrule.tensor([0.0, 5.0, 300.0]), chainrule.tensor(probs)).sample()
        np.testing.assert_array_equal(draws.numpy(), np.array([0.0, 5.0, 300.0]) * probs)
    for build in (
        lambda lib, m: m.Binomial(lib.tensor([2.0, 3.0]), lib.tensor([0.5, 0.5])).entropy(),
        lambda lib, m: m.kl_divergence(
            m.Binomial(2, lib.tensor(0.5)), m.Binomial(3, lib.tensor(0.5))
        ),
        lambda lib, m: m.Multinomial(lib.tensor(3), lib.tensor([0.5, 0.5])),
    ):
        messages = []
        for library, module in ((chainrule, D), (torch, TD)):
            with pytest.raises(NotImplementedError) as error:
                build(library, module)
            messages.append(str(error.value))
        assert messages[0] == messages[1]
    kl = D.kl_divergence(
        D.Binomial(chainrule.tensor([3.0, 2.0]), chainrule.tensor(0.5)),
        D.Binomial(chainrule.tensor([2.0, 2.0]), chainrule.tensor(0.4)),
    )
    assert math.isinf(float(kl[0])) and math.isfinite(float(kl[1]))


@pytest.mark.parametrize("df", [0.5, 1.0, 1.5, 2.0, 4.0])
def test_student_t_moments_where_they_do_not_exist_as_torch(df):
    for name in ("mean", "variance"):
        ours_df = chainrule.tensor([df], requires_grad=True)
        theirs_df = torch.tensor([df], requires_grad=True)
        ours = getattr(D.StudentT(ours_df, 0.5, 2.0), name)
        theirs = getattr(TD.StudentT(theirs_df, 0.5, 2.0), name)
        np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy())
        if theirs.requires_grad:  # the gradient stays finite where the moment is not
            (their_grad,) = torch.autograd.grad(theirs.sum(), theirs_df)
            (our_grad,) = chainrule.autograd.grad(ours.sum(), ours_df)
            np.testing.assert_allclose(our_grad.numpy(), their_grad.numpy())


def test_multinomial_draws_count_total_count_draws_per_row():
    chainrule.manual_seed(5)
    probs = chainrule.tensor([[0.2, 0.3, 0.5], [0.9, 0.05, 0.05]])
    draws = D.Multinomial(7, probs).sample((3000,))
    assert draws.shape == (3000, 2, 3) and draws.dtype == chainrule.float32
    np.testing.assert_array_equal(draws.sum(-1).numpy(), np.full((3000, 2), 7.0))
    np.testing.assert_allclose(draws.mean(0).numpy(), 7 * probs.numpy(), atol=0.1)


def test_pareto_and_weibull_samples_are_reparameterised_through_their_transforms():
    scale = chainrule.tensor([1.0, 2.0], requires_grad=True)
    alpha = chainrule.tensor([3.0, 5.0], requires_grad=True)
    chainrule.manual_seed(6)
    x = D.Pareto(scale, alpha).rsample((5,))
    assert bool((x >= scale).all())
    grad_scale, grad_alpha = chainrule.autograd.grad(x.sum(), [scale, alpha])
    np.testing.assert_allclose(grad_scale.numpy(), (x / scale).detach().sum(0).numpy(), rtol=1e-5)
    # x = scale exp(E / alpha) with E ~ Exponential(1): dx/dalpha = -x log(x / scale) / alpha
    expected = (-x * (x / scale).log() / alpha).detach().sum(0)
    np.testing.assert_allclose(grad_alpha.numpy(), expected.numpy(), rtol=1e-4)


# ---- on the device under test ('fake': CuPy's behaviour on the CPU; see tests/test_devices.py) --

DEVICE = os.environ.get("CHAINRULE_TEST_DEVICE", "fake")


@pytest.mark.device
@pytest.mark.parametrize("case", CASES)
def test_log_prob_and_entropy_on_the_device_are_the_cpus(case):
    family, params, values = CASES[case]
    device = chainrule.device(DEVICE)
    on_cpu = getattr(D, family)(**_parameters(params, "cpu"))
    on_device = getattr(D, family)(**_parameters(params, device))
    value = chainrule.tensor(values)
    result = on_device.log_prob(value.to(device))
    assert result.device == device
    np.testing.assert_allclose(result.cpu().numpy(), on_cpu.log_prob(value).numpy(), rtol=1e-12)
    try:
        expected = on_cpu.entropy()
    except NotImplementedError:
        return
    np.testing.assert_allclose(on_device.entropy().cpu().numpy(), expected.numpy(), rtol=1e-12)


def _parameters(params, device):
    return {
        name: value if isinstance(value, int) else chainrule.tensor(value, device=device)
        for name, value in params.items()
    }


@pytest.mark.device
@pytest.mark.parametrize(
    "case",
    [
        # Counts above 16 draw Beta variates through standard_gamma, whose kernel
        # (ops/special.py, StandardGamma.forward) hands the device array to NumPy's Generator.
        pytest.param(
            "binomial_probs",
            marks=pytest.mark.xfail(raises=TypeError, strict=True, reason="standard_gamma"),
        ),
        "binomial_logits",
        "geometric_logits",
        "multinomial",
        "pareto",
        "weibull",
        "normal",
        "half_cauchy",
        "kumaraswamy",
        "logistic_normal",
        "continuous_bernoulli_logits",
        "generalized_pareto",
        *[
            pytest.param(
                case,  # Gamma draws (Chi2 for Wishart, Beta for LKJCholesky): as above
                marks=pytest.mark.xfail(raises=TypeError, strict=True, reason="standard_gamma"),
            )
            for case in ("inverse_gamma", "fisher_snedecor", "wishart_scale_tril", "lkj_cholesky")
        ],
    ],
)
def test_samples_on_the_device_stay_there_and_in_the_support(case):
    family, params, _ = CASES[case]
    device = chainrule.device(DEVICE)
    d = getattr(D, family)(**_parameters(params, device))
    chainrule.manual_seed(0)
    sample = d.sample((50,))
    assert sample.device == device
    assert bool(d.support.check(sample).all())


# ---- the relaxed families -----------------------------------------------------------------------

RELAXED = {
    "LogitRelaxedBernoulli": (
        {"temperature": np.array(0.7), "logits": RNG.normal(size=(3,))},
        RNG.normal(size=(4, 3)),
    ),
    "RelaxedBernoulli": (
        {"temperature": np.array([0.5, 1.0, 2.0]), "probs": RNG.uniform(0.1, 0.9, (3,))},
        RNG.uniform(0.05, 0.95, (4, 3)),
    ),
    "ExpRelaxedCategorical": (
        {"temperature": np.array(0.8), "probs": _simplex((2, 4))},
        np.log(_simplex((5, 2, 4))),
    ),
    "RelaxedOneHotCategorical": (
        {"temperature": np.array(0.6), "logits": RNG.normal(size=(2, 4))},
        _simplex((5, 2, 4)),
    ),
}


@pytest.mark.parametrize("family", RELAXED)
def test_relaxed_log_prob_and_its_gradients_match_torch(family):
    params, values = RELAXED[family]
    results = []
    for library in (chainrule, torch):
        tensors = {n: library.tensor(v, requires_grad=True) for n, v in params.items()}
        relaxed = (
            [TD.relaxed_bernoulli, TD.relaxed_categorical]
            if library is torch
            else [D.relaxed]  # PyTorch's two modules' classes are in one here
        )
        cls = next(getattr(m, family) for m in relaxed if hasattr(m, family))
        d = cls(**tensors)
        log_prob = d.log_prob(library.tensor(values))
        grads = (torch.autograd.grad if library is torch else chainrule.autograd.grad)(
            log_prob.sum(), list(tensors.values())
        )
        shapes = (tuple(d.batch_shape), tuple(d.event_shape), d.has_rsample)
        results.append((log_prob.detach().numpy(), [g.numpy() for g in grads], shapes))
    (ours, our_grads, our_shapes), (theirs, their_grads, their_shapes) = results
    assert our_shapes == their_shapes
    np.testing.assert_allclose(ours, theirs, rtol=1e-9)
    for mine, reference in zip(our_grads, their_grads):
        np.testing.assert_allclose(mine, reference, rtol=1e-7, atol=1e-12)  # polygamma


def test_relaxed_samples_follow_their_discrete_limits():
    """LogitRelaxedBernoulli draws are positive with probability probs (logistic noise), and
    the argmax of ExpRelaxedCategorical draws is Categorical(probs) (the Gumbel-max trick), at
    any temperature: both exact, checked within 5 standard errors over 40,000 draws."""
    chainrule.manual_seed(8)
    probs = chainrule.tensor([0.1, 0.5, 0.85], dtype=chainrule.float64)
    draws = D.relaxed.LogitRelaxedBernoulli(chainrule.tensor(1.7), probs=probs).sample((SAMPLES,))
    positive = (draws > 0).double().mean(0).numpy()
    tolerance = 5 * np.sqrt(probs.numpy() * (1 - probs.numpy()) / SAMPLES)
    assert np.all(np.abs(positive - probs.numpy()) < tolerance)
    weights = chainrule.tensor([0.2, 0.3, 0.5], dtype=chainrule.float64)
    d = D.RelaxedOneHotCategorical(chainrule.tensor(0.3), weights)
    draws = d.sample((SAMPLES,))
    np.testing.assert_allclose(draws.sum(-1).numpy(), 1.0, rtol=1e-9)
    frequencies = np.bincount(draws.argmax(-1).numpy(), minlength=3) / SAMPLES
    tolerance = 5 * np.sqrt(weights.numpy() * (1 - weights.numpy()) / SAMPLES)
    assert np.all(np.abs(frequencies - weights.numpy()) < tolerance)


def test_relaxed_samples_are_differentiable_in_the_probabilities_and_expand():
    logits = chainrule.tensor([0.3, -1.0], requires_grad=True)
    d = D.RelaxedBernoulli(chainrule.tensor(0.5), logits=logits)
    x = d.rsample((6,))
    assert x.shape == (6, 2) and bool(((x > 0) & (x < 1)).all())
    (grad,) = chainrule.autograd.grad(x.sum(), [logits])
    # x = sigmoid((noise + logits) / t): dx/dlogits = x (1 - x) / t
    np.testing.assert_allclose(grad.numpy(), (x * (1 - x) / 0.5).detach().sum(0).numpy(), 1e-5)
    wide = d.expand((3, 2))
    assert type(wide) is D.RelaxedBernoulli and wide.batch_shape == (3, 2)
    assert wide.sample().shape == (3, 2)
    onehot = D.RelaxedOneHotCategorical(chainrule.tensor(0.5), logits=chainrule.zeros(4))
    assert onehot.expand((5,)).rsample((2,)).shape == (2, 5, 4)


def test_straight_through_one_hot_samples_take_the_gradient_of_probs_as_torch():
    weights = RNG.normal(size=(2, 3))
    probs = _simplex((2, 3))
    grads = []
    for library, module in ((chainrule, D), (torch, TD)):
        leaf = library.tensor(probs, requires_grad=True)
        x = module.OneHotCategoricalStraightThrough(leaf).rsample((4,))
        assert tuple(x.shape) == (4, 2, 3) and bool((x.sum(-1) == 1).all())
        (x * library.tensor(weights)).sum().backward()
        grads.append(leaf.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)


def test_cauchy_kl_and_its_gradients_match_torch():
    params = [
        RNG.normal(size=3),
        RNG.uniform(0.5, 2, 3),
        RNG.normal(size=3),
        RNG.uniform(0.5, 2, 3),
    ]
    results = []
    for library, module in ((chainrule, D), (torch, TD)):
        leaves = [library.tensor(v, requires_grad=True) for v in params]
        kl = module.kl_divergence(module.Cauchy(*leaves[:2]), module.Cauchy(*leaves[2:]))
        grads = (torch.autograd.grad if library is torch else chainrule.autograd.grad)(
            kl.sum(), leaves
        )
        results.append([kl.detach().numpy()] + [g.numpy() for g in grads])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10)


def test_low_rank_kl_to_a_dense_normal_with_only_the_diagonal_batched():
    """PyTorch's closed form fails on this one (its batch shape leaves out cov_diag's); here
    it equals the dense MultivariateNormal's KL of the same covariance."""
    p = D.LowRankMultivariateNormal(
        chainrule.zeros(2, 3, dtype=chainrule.float64),
        chainrule.tensor(RNG.normal(size=(3, 2))),
        chainrule.tensor(RNG.uniform(0.5, 2, (2, 3))),
    )
    q = D.MultivariateNormal(
        chainrule.ones(3, dtype=chainrule.float64),
        scale_tril=2 * chainrule.eye(3, dtype=chainrule.float64),
    )
    dense = D.MultivariateNormal(p.loc, covariance_matrix=p.covariance_matrix)
    np.testing.assert_allclose(
        D.kl_divergence(p, q).numpy(), D.kl_divergence(dense, q).numpy(), rtol=1e-10
    )


def test_von_mises_samples_have_its_circular_moments():
    """E[cos(x - loc)] = I1/I0 = 1 - variance and E[sin(x - loc)] = 0, within 5 standard
    errors over 40,000 draws (float64 draws, as PyTorch's sampler), all in [-pi, pi)."""
    loc = chainrule.tensor([2.5, -1.0, 0.0], dtype=chainrule.float64)
    concentration = chainrule.tensor([0.3, 2.0, 40.0], dtype=chainrule.float64)
    d = D.VonMises(loc, concentration)
    chainrule.manual_seed(9)
    draws = d.sample((SAMPLES,))
    assert draws.dtype == chainrule.float64
    assert bool(((draws >= -math.pi) & (draws < math.pi)).all())
    cosines = (draws - loc).cos().numpy()
    sines = (draws - loc).sin().numpy()
    error = 5 / math.sqrt(SAMPLES)
    expected = 1 - d.variance.numpy()
    assert np.all(np.abs(cosines.mean(0) - expected) < error * cosines.std(0) + 1e-12)
    assert np.all(np.abs(sines.mean(0)) < error * sines.std(0) + 1e-12)


def test_cat_stack_and_mixture_constraints_check_as_torch():
    value = np.array([[0.5, -1.0, 2.0], [0.2, 0.3, -0.1]])
    for build in (
        lambda c: c.cat([c.positive, c.real, c.unit_interval], dim=1),
        lambda c: c.cat([c.positive, c.real], dim=-1, lengths=[1, 2]),
        lambda c: c.stack([c.positive, c.unit_interval], dim=0),
        lambda c: c.stack([c.real, c.positive, c.nonnegative], dim=-1),
        lambda c: c.MixtureSameFamilyConstraint(c.positive),
        lambda c: c.MixtureSameFamilyConstraint(c.simplex),
    ):
        ours, theirs = build(D.constraints), build(TD.constraints)
        assert ours.event_dim == theirs.event_dim and ours.is_discrete == theirs.is_discrete
        np.testing.assert_array_equal(
            ours.check(chainrule.tensor(value)).numpy(), theirs.check(torch.tensor(value)).numpy()
        )


# ---- the families PyTorch builds on others: their own sample checks, KL pairs and errors -------


def test_half_cauchy_samples_have_its_quantiles():
    """|Cauchy(0, scale)| draws: the fraction below each quartile of the distribution (its
    icdf, checked against torch) within 5 standard errors; rsample is |scale * c|, so
    d x / d scale = x / scale."""
    scale = chainrule.tensor([0.5, 2.0], dtype=chainrule.float64, requires_grad=True)
    d = D.HalfCauchy(scale)
    chainrule.manual_seed(10)
    draws = d.rsample((SAMPLES,))
    assert bool((draws >= 0).all())
    for q in (0.25, 0.5, 0.75):
        quantile = d.icdf(chainrule.tensor(q, dtype=chainrule.float64)).detach()
        below = (draws.detach() < quantile).double().mean(0).numpy()
        assert np.all(np.abs(below - q) < 5 * math.sqrt(q * (1 - q) / SAMPLES)), (q, below)
    (grad,) = chainrule.autograd.grad(draws.sum(), [scale])
    expected = (draws / scale).detach().sum(0)
    np.testing.assert_allclose(grad.numpy(), expected.numpy(), rtol=1e-9)


def test_logistic_normal_samples_are_its_normal_broken_onto_the_simplex():
    """Draws lie on the simplex (K + 1 entries); StickBreakingTransform's inverse takes them
    back to Normal(loc, scale) draws (mean and variance within 5 standard errors / 10%), and
    the pathwise derivative of that inverse with respect to loc is 1."""
    loc = chainrule.tensor([[0.3, -1.0, 2.0]], dtype=chainrule.float64, requires_grad=True)
    scale = chainrule.tensor([0.5, 1.0, 1.5], dtype=chainrule.float64)
    d = D.LogisticNormal(loc, scale)
    assert d.batch_shape == (1,) and d.event_shape == (4,)
    chainrule.manual_seed(11)
    draws = d.rsample((SAMPLES,))
    assert draws.shape == (SAMPLES, 1, 4)
    assert bool(D.constraints.simplex.check(draws).all())
    normals = D.transforms.StickBreakingTransform().inv(draws)
    values = normals.detach().numpy()
    standard_error = scale.numpy() / math.sqrt(SAMPLES)
    assert np.all(np.abs(values.mean(0) - loc.detach().numpy()) < 5 * standard_error)
    np.testing.assert_allclose(values.var(0)[0], scale.numpy() ** 2, rtol=0.1)
    (grad,) = chainrule.autograd.grad(normals.sum(), [loc])
    np.testing.assert_allclose(grad.numpy(), np.full((1, 3), SAMPLES), rtol=1e-6)


@pytest.mark.parametrize("concentration", [0.5, 1.0, 4.0])
def test_lkj_cholesky_samples_are_correlation_factors_with_its_marginals(concentration):
    """Each draw is the Cholesky factor of a correlation matrix, and each off-diagonal
    correlation r has LKJ's marginal (2 Beta(b, b) - 1, b = eta - 1 + d / 2): mean 0 and
    variance 1 / (2 eta + d - 1), within 5 standard errors / 10%."""
    dim = 4
    d = D.LKJCholesky(dim, chainrule.tensor(concentration, dtype=chainrule.float64))
    assert not d.has_rsample
    chainrule.manual_seed(12)
    factors = d.sample((SAMPLES,))
    assert factors.shape == (SAMPLES, dim, dim) and factors.dtype == chainrule.float64
    assert bool(d.support.check(factors).all())
    correlations = (factors @ factors.mT).numpy()
    np.testing.assert_allclose(np.diagonal(correlations, axis1=-2, axis2=-1), 1.0, rtol=1e-12)
    rows, cols = np.tril_indices(dim, -1)
    r = correlations[:, rows, cols]
    variance = 1 / (2 * concentration + dim - 1)
    assert np.all(np.abs(r.mean(0)) < 5 * math.sqrt(variance / SAMPLES))
    np.testing.assert_allclose(r.var(0), variance, rtol=0.1)


def test_kumaraswamy_rsample_moves_with_both_concentrations():
    """x = (1 - u^(1/b))^(1/a) for a Uniform u: dx/da = -x log(x) / a, and with
    v = 1 - x^a = u^(1/b), dx/db = x^(1-a) v log(v) / (a b) (negative: x falls as b grows)."""
    a = chainrule.tensor([0.7, 2.0], dtype=chainrule.float64, requires_grad=True)
    b = chainrule.tensor([1.5, 3.0], dtype=chainrule.float64, requires_grad=True)
    chainrule.manual_seed(13)
    x = D.Kumaraswamy(a, b).rsample((7,))
    assert bool(((x > 0) & (x < 1)).all())
    grad_a, grad_b = chainrule.autograd.grad(x.sum(), [a, b])
    x, a, b = x.detach(), a.detach(), b.detach()
    v = 1 - x**a
    np.testing.assert_allclose(grad_a.numpy(), (-x * x.log() / a).sum(0).numpy(), rtol=1e-7)
    expected_b = (x ** (1 - a) * v * v.log() / (a * b)).sum(0)
    np.testing.assert_allclose(grad_b.numpy(), expected_b.numpy(), rtol=1e-7)


def test_fisher_snedecor_and_inverse_gamma_draws_stay_positive_at_small_shapes():
    """Small degrees of freedom (or concentration) make float32 Gamma draws underflow to 0:
    FisherSnedecor clamps both Gammas and the ratio to the smallest normal, as PyTorch's."""
    chainrule.manual_seed(14)
    f = D.FisherSnedecor(chainrule.tensor([0.5, 3.0]), chainrule.tensor([0.5, 7.0]))
    draws = f.sample((2000,))
    assert draws.dtype == chainrule.float32 and bool((draws > 0).all())
    g = D.InverseGamma(chainrule.tensor(0.3), chainrule.tensor(2.0))
    assert bool((g.sample((2000,)) > 0).all())


def test_wishart_warns_of_low_df_and_rejects_df_at_most_p_minus_1_as_torch():
    for library, module in ((chainrule, D), (torch, TD)):
        with pytest.warns(UserWarning, match="Low df values detected"):
            module.Wishart(library.tensor([2.5]), library.eye(3))
    messages = []
    for library, module in ((chainrule, D), (torch, TD)):
        with pytest.raises(ValueError) as error:
            module.Wishart(2.0, library.eye(3))
        messages.append(str(error.value))
    assert messages[0] == messages[1]


def test_wishart_samples_with_fractional_df_are_redrawn_until_positive_definite():
    """df between p - 1 and p makes singular Bartlett draws likely: those are redrawn (with
    PyTorch's warning), and only those: a batch of well-conditioned draws does not warn."""
    chainrule.manual_seed(15)
    with pytest.warns(UserWarning, match="Low df values detected"):
        df = chainrule.tensor([2.05, 5.0], dtype=chainrule.float64)
        d = D.Wishart(df, chainrule.eye(3, dtype=chainrule.float64))
    with pytest.warns(UserWarning, match="Singular sample detected"):
        draws = d.rsample((2000,))
    assert draws.shape == (2000, 2, 3, 3)
    np.testing.assert_allclose(draws.numpy(), np.swapaxes(draws.numpy(), -1, -2))
    assert bool(d.support.check(draws).all())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        D.Wishart(chainrule.tensor(5.0), chainrule.eye(3)).rsample((100,))


def test_continuous_bernoulli_rsample_is_its_icdf_at_uniform_noise_as_torch():
    """The same uniform noise through both libraries' icdf: samples and their gradients with
    respect to probs agree with torch, inside and outside the Taylor region."""
    probs = np.array([0.05, 0.4995, 0.7])
    noise = RNG.uniform(0, 1, (5, 3))
    results = []
    for library, module in ((chainrule, D), (torch, TD)):
        leaf = library.tensor(probs, requires_grad=True)
        x = module.ContinuousBernoulli(leaf).icdf(library.tensor(noise))
        (grad,) = (torch.autograd.grad if library is torch else chainrule.autograd.grad)(
            x.sum(), [leaf]
        )
        results.append((x.detach().numpy(), grad.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-9)
    assert results[0][1][1] == 0.0  # the Taylor region: the sample is the noise itself


CB_KL = {
    "beta||cb": lambda t, m: (m.Beta(t([0.7, 2.0, 1.2]), t([1.5, 0.9, 3.0])), "cb"),
    "uniform||cb": lambda t, m: (m.Uniform(t([0.1, 0.0, 0.3]), t([0.8, 0.5, 1.0])), "cb"),
    "cb||exponential": lambda t, m: ("cb", m.Exponential(t([0.5, 2.0, 1.0]))),
    "cb||normal": lambda t, m: ("cb", m.Normal(t([0.3, -1.0, 0.0]), t([0.5, 2.0, 1.0]))),
    "cb||uniform": lambda t, m: ("cb", m.Uniform(t([-0.5, 0.1, -1.0]), t([1.5, 2.0, 0.9]))),
    "cb||pareto": lambda t, m: ("cb", m.Pareto(t([1.0, 2.0, 1.0]), t([3.0, 1.0, 2.0]))),
    "exponential||cb": lambda t, m: (m.Exponential(t([0.5, 2.0, 1.0])), "cb"),
    "gamma||cb": lambda t, m: (m.Gamma(t([0.5, 2.0, 1.0]), t([1.0, 3.0, 1.0])), "cb"),
    "gumbel||cb": lambda t, m: (m.Gumbel(t([0.5, 2.0, 0.0]), t([1.0, 3.0, 1.0])), "cb"),
    "laplace||cb": lambda t, m: (m.Laplace(t([0.5, 2.0, 0.0]), t([1.0, 3.0, 1.0])), "cb"),
    "normal||cb": lambda t, m: (m.Normal(t([0.5, 2.0, 0.0]), t([1.0, 3.0, 1.0])), "cb"),
    "pareto||cb": lambda t, m: (m.Pareto(t([1.0, 2.0, 1.0]), t([3.0, 1.0, 2.0])), "cb"),
}


@pytest.mark.parametrize("pair", CB_KL)
def test_continuous_bernoulli_kl_pairs_and_their_gradients_match_torch(pair):
    """KL between ContinuousBernoulli (probs 0.3, 0.5002 in the Taylor region, 0.8) and the
    families PyTorch pairs it with, infinite where one has mass outside the other's support;
    the gradient with respect to probs where it is finite."""
    results = []
    for library, module in ((chainrule, D), (torch, TD)):

        def make(values, library=library):
            return library.tensor(values, dtype=library.float64)

        probs = make([0.3, 0.5002, 0.8]).requires_grad_(True)
        cb = module.ContinuousBernoulli(probs)
        p, q = CB_KL[pair](make, module)
        kl = module.kl_divergence(cb if p == "cb" else p, cb if q == "cb" else q)
        grad = None
        if kl.requires_grad:
            finite = kl.detach().isfinite()
            (grad,) = (torch.autograd.grad if library is torch else chainrule.autograd.grad)(
                kl.where(finite, 0.0).sum(), [probs]
            )
            grad = grad.numpy()
        results.append((kl.detach().numpy(), grad))
    (ours, our_grad), (theirs, their_grad) = results
    np.testing.assert_allclose(ours, theirs, rtol=1e-9)
    assert (our_grad is None) == (their_grad is None)
    if their_grad is not None:
        np.testing.assert_allclose(our_grad, their_grad, rtol=1e-8, atol=1e-12)


def test_stick_breaking_transform_inverts_and_reports_its_jacobian_as_torch():
    """log |det J| of the K -> K + 1 map on its K free coordinates, against torch and
    against the Jacobian determinant taken numerically."""
    import torch.distributions.transforms as TT

    import chainrule.distributions.transforms as T

    x = RNG.normal(size=(2, 3))
    ours, theirs = T.StickBreakingTransform(), TT.StickBreakingTransform()
    y, ty = ours(chainrule.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.inv(y).numpy(), x, rtol=1e-9)
    log_det = ours.log_abs_det_jacobian(chainrule.tensor(x), y)
    np.testing.assert_allclose(
        log_det.numpy(), theirs.log_abs_det_jacobian(torch.tensor(x), ty).numpy(), rtol=1e-12
    )
    for row, value in zip(x, log_det.numpy()):
        jacobian = chainrule.func.jacrev(lambda v: ours(v)[:-1])(chainrule.tensor(row))
        assert np.isclose(np.linalg.slogdet(jacobian.numpy())[1], value, rtol=1e-9)
    assert ours.forward_shape((5, 3)) == (5, 4) and ours.inverse_shape((5, 4)) == (5, 3)
    assert T.AbsTransform()(chainrule.tensor([-2.0, 1.0])).tolist() == [2.0, 1.0]
    assert T.AbsTransform() == T.AbsTransform() and ours == T.StickBreakingTransform()


NEW_INVALID = {
    "half_cauchy_negative_scale": lambda lib, m: m.HalfCauchy(lib.tensor([1.0, -1.0])),
    "half_cauchy_negative_value": lambda lib, m: m.HalfCauchy(lib.tensor([1.0])).log_prob(
        lib.tensor([-1.0])
    ),
    "inverse_gamma_zero_rate": lambda lib, m: m.InverseGamma(lib.tensor([1.0]), lib.tensor([0.0])),
    "kumaraswamy_value_above_one": lambda lib, m: m.Kumaraswamy(
        lib.tensor([1.0]), lib.tensor([2.0])
    ).log_prob(lib.tensor([1.5])),
    "logistic_normal_not_a_simplex": lambda lib, m: m.LogisticNormal(
        lib.zeros(2), lib.ones(2)
    ).log_prob(lib.tensor([0.5, 0.5, 0.5])),
    "fisher_snedecor_negative_df": lambda lib, m: m.FisherSnedecor(
        lib.tensor([-1.0]), lib.tensor([2.0])
    ),
    "continuous_bernoulli_both": lambda lib, m: m.ContinuousBernoulli(
        lib.tensor([0.5]), lib.tensor([0.0])
    ),
    "continuous_bernoulli_probs_above_one": lambda lib, m: m.ContinuousBernoulli(
        lib.tensor([1.5]), validate_args=True
    ),
    "generalized_pareto_below_loc": lambda lib, m: m.GeneralizedPareto(
        lib.tensor([1.0]), lib.tensor([1.0]), lib.tensor([0.5])
    ).log_prob(lib.tensor([0.5])),
    "generalized_pareto_above_its_bound": lambda lib, m: m.GeneralizedPareto(
        lib.tensor([0.0]), lib.tensor([1.0]), lib.tensor([-0.5])
    ).log_prob(lib.tensor([2.5])),
    "wishart_not_positive_definite": lambda lib, m: m.Wishart(
        lib.tensor(3.0), lib.tensor([[1.0, 2.0], [2.0, 1.0]])
    ),
    "wishart_vector": lambda lib, m: m.Wishart(lib.tensor(3.0), scale_tril=lib.ones(2)),
    "lkj_dim_one": lambda lib, m: m.LKJCholesky(1, 1.0),
    "lkj_negative_concentration": lambda lib, m: m.LKJCholesky(2, lib.tensor([-1.0])),
    "lkj_not_a_correlation_factor": lambda lib, m: m.LKJCholesky(2, 1.0).log_prob(lib.eye(2) * 2),
}


@pytest.mark.parametrize("name", NEW_INVALID)
def test_new_families_raise_torchs_value_errors(name):
    assert _message(NEW_INVALID[name], chainrule) == _message(NEW_INVALID[name], torch)


def test_new_families_repr_as_torch():
    for build in [
        lambda lib, m: m.HalfCauchy(lib.ones(2)),
        lambda lib, m: m.HalfNormal(lib.tensor(1.5)),  # its scale lives on a base Normal
        lambda lib, m: m.InverseGamma(2.0, lib.ones(2)),
        lambda lib, m: m.Kumaraswamy(lib.ones(2), 2.0),
        lambda lib, m: m.LogisticNormal(lib.zeros(3), 1.0),
        lambda lib, m: m.FisherSnedecor(3.0, 4.0),
        lambda lib, m: m.ContinuousBernoulli(logits=lib.tensor(0.5)),
        lambda lib, m: m.GeneralizedPareto(0.0, 1.0, 0.5),
        lambda lib, m: m.Wishart(lib.tensor(3.0), lib.eye(2)),
        lambda lib, m: m.LKJCholesky(3, 0.5),
    ]:
        ours, theirs = build(chainrule, D), build(torch, TD)
        assert repr(ours) == repr(theirs).replace("torch.Size", "chainrule.Size")


@pytest.mark.parametrize("pair", [("scale_tril", "precision_matrix"), ("covariance_matrix",) * 2])
def test_wishart_kl_and_its_gradients_match_torchs_one_pair_at_a_time(pair):
    """chainrule's closed form against PyTorch's exponential-family divergence, which is right
    for one pair of Wisharts but wrong for a batch (negative KLs): compared pair by pair."""
    n, batch = 3, 2
    matrices = {"p": _spd(n, (batch,)), "q": _spd(n) / 2}
    matrices = {
        "p": np.linalg.cholesky(matrices["p"]) if pair[0] == "scale_tril" else matrices["p"],
        "q": matrices["q"],
    }
    dfs = {"p": RNG.uniform(3, 6, (batch,)), "q": RNG.uniform(2.5, 5, (batch,))}
    weights = RNG.uniform(0.5, 1.5, batch)
    results = []
    for library, module in ((chainrule, D), (torch, TD)):
        leaves = [
            library.tensor(v, requires_grad=True)
            for v in (dfs["p"], matrices["p"], dfs["q"], matrices["q"])
        ]
        df_p, matrix_p, df_q, matrix_q = leaves
        if library is chainrule:
            p = module.Wishart(df_p, **{pair[0]: matrix_p})
            q = module.Wishart(df_q, **{pair[1]: matrix_q})
            kl = module.kl_divergence(p, q)
        else:
            kl = torch.stack(
                [
                    module.kl_divergence(
                        module.Wishart(df_p[i], **{pair[0]: matrix_p[i]}),
                        module.Wishart(df_q[i], **{pair[1]: matrix_q}),
                    )
                    for i in range(batch)
                ]
            )
        grads = (torch.autograd.grad if library is torch else chainrule.autograd.grad)(
            (kl * library.tensor(weights)).sum(), leaves, allow_unused=True
        )
        results.append([kl.detach().numpy()] + [g if g is None else g.numpy() for g in grads])
    assert np.all(results[0][0] > 0)
    for ours, theirs in zip(*results):
        if theirs is not None:  # PyTorch's divergence detaches p's parameters
            np.testing.assert_allclose(ours, theirs, rtol=1e-8, atol=1e-10)
    # d KL / d p.df, which PyTorch cannot give, by central differences
    step = 1e-6

    def kl_at(df_p):
        p = D.Wishart(chainrule.tensor(df_p), **{pair[0]: chainrule.tensor(matrices["p"])})
        q = D.Wishart(chainrule.tensor(dfs["q"]), **{pair[1]: chainrule.tensor(matrices["q"])})
        return D.kl_divergence(p, q).numpy()

    difference = (kl_at(dfs["p"] + step) - kl_at(dfs["p"] - step)) / (2 * step)
    np.testing.assert_allclose(results[0][1], weights * difference, rtol=1e-6)


# ---- ExponentialFamily --------------------------------------------------------------------------


def _exponential_families(module, lib):
    def t(*values):
        return lib.tensor(values, dtype=lib.float64)

    return [
        module.Normal(t(0.3, -1.0), t(1.2, 0.5)),
        module.Exponential(t(1.5, 0.4)),
        module.Bernoulli(t(0.3, 0.8)),
        module.Poisson(t(2.0, 0.5)),
        module.Gamma(t(2.0, 0.7), t(1.5, 3.0)),
        module.Dirichlet(t(1.0, 2.0, 3.0)),
        module.Beta(t(2.0, 0.7), t(3.0, 1.5)),
        module.ContinuousBernoulli(t(0.3, 0.5001, 0.8)),  # the middle one on the Taylor branch
        module.Wishart(t(4.0), covariance_matrix=lib.tensor([[2.0, 0.3], [0.3, 1.0]]).double()),
    ]


def test_exponential_families_and_their_natural_parameters_match_torch():
    """The nine families PyTorch derives from ExponentialFamily are ones here: the natural
    parameters, the log normalizer at them, and the generic (Bregman) entropy where the
    family has a mean carrier measure (NotImplementedError where it has none, as torch)."""
    ours, theirs = _exponential_families(D, chainrule), _exponential_families(TD, torch)
    for mine, reference in zip(ours, theirs):
        assert isinstance(mine, D.ExponentialFamily)
        assert isinstance(reference, TD.ExponentialFamily)
        for a, b in zip(mine._natural_params, reference._natural_params):
            np.testing.assert_allclose(np.asarray(a.numpy()), np.asarray(b.numpy()), rtol=1e-12)
        np.testing.assert_allclose(
            mine._log_normalizer(*mine._natural_params).numpy(),
            reference._log_normalizer(*reference._natural_params).numpy(),
            rtol=1e-10,
        )
        try:
            expected = TD.ExponentialFamily.entropy(reference)
        except NotImplementedError:
            with pytest.raises(NotImplementedError):
                D.ExponentialFamily.entropy(mine)
            continue
        generic = D.ExponentialFamily.entropy(mine)
        np.testing.assert_allclose(generic.detach().numpy(), expected.detach().numpy(), rtol=1e-9)
    assert not isinstance(D.Laplace(0.0, 1.0), D.ExponentialFamily)


def _rate_family(module):
    class Rate(module.ExponentialFamily):
        """Exponential(rate) written by its natural parameter, as a user would subclass."""

        arg_constraints = {}
        _mean_carrier_measure = 0

        def __init__(self, rate):
            self.rate = rate
            super().__init__(rate.shape)

        @property
        def _natural_params(self):
            return (-self.rate,)

        def _log_normalizer(self, x):
            return -(-x).log()

    return Rate


def test_a_users_exponential_family_gets_entropy_and_kl_from_its_log_normalizer():
    """A subclass giving only its natural parameters and log normalizer gets PyTorch's
    entropy and KL (Bregman divergences); p's parameters are detached in both, as torch."""
    results = {}
    for lib, module in ((chainrule, D), (torch, TD)):
        Rate = _rate_family(module)
        p_rate = lib.tensor([2.0, 0.5], dtype=lib.float64, requires_grad=True)
        q_rate = lib.tensor([1.0, 3.0], dtype=lib.float64, requires_grad=True)
        entropy = Rate(p_rate).entropy()
        kl = module.kl_divergence(Rate(p_rate), Rate(q_rate))
        p_grad, q_grad = lib.autograd.grad(kl.sum(), [p_rate, q_rate], allow_unused=True)
        results[lib] = (entropy.detach().numpy(), kl.detach().numpy(), p_grad, q_grad.numpy())
        with pytest.raises(NotImplementedError, match="different exponential families"):
            module.kl_divergence(Rate(p_rate), module.Exponential(q_rate))
        with pytest.raises(NotImplementedError, match="different exponential families"):
            module.kl_divergence(module.Normal(0.0, 1.0), module.Bernoulli(0.3))
    ours, theirs = results[chainrule], results[torch]
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12)
    expected_kl = np.log([2.0, 0.5]) - np.log([1.0, 3.0]) + np.array([1.0, 3.0]) / [2.0, 0.5] - 1
    np.testing.assert_allclose(ours[1], expected_kl, rtol=1e-12)
    assert ours[2] is None and theirs[2] is None  # detached, as torch
    np.testing.assert_allclose(ours[3], theirs[3], rtol=1e-12)


def test_a_distribution_validates_its_arguments_inside_vmap_as_torch():
    """Argument and support checks ask whether every element of every example is valid (as
    PyTorch's _is_all_true does under vmap), rather than failing as data-dependent control
    flow; an invalid example still raises ValueError."""
    loc = np.sin(np.arange(6.0)).reshape(2, 3)
    for lib, m in ((chainrule, D), (torch, TD)):
        out = lib.func.vmap(lambda x, m=m: m.Normal(x, 1.0).log_prob(2 * x))(lib.tensor(loc))
        np.testing.assert_allclose(
            out.numpy(), TD.Normal(torch.tensor(loc), 1.0).log_prob(torch.tensor(2 * loc)).numpy()
        )
        with pytest.raises(ValueError, match="scale"):
            lib.func.vmap(lambda s, m=m: m.Normal(0.0, s).mean)(lib.tensor([[1.0], [-1.0]]))
