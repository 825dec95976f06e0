"""chainrule.distributions.transforms and constraint_registry against torch's: each transform's
forward and inverse values, log |det J| (and against the Jacobian taken numerically), its
gradients (against torch, and float64 finite differences to second order), its shapes,
domain and codomain; biject_to / transform_to for every constraint torch registers (the same
transform, landing inside the constraint); the Transform protocol (inv, caching, equality);
and TransformedDistribution's shapes and densities when transforms couple dimensions."""

import copy
import math
import pickle

import numpy as np
import pytest
import torch
import torch.distributions as TD
import torch.distributions.transforms as TT

import chainrule
import chainrule.distributions as D
import chainrule.distributions.transforms as T
from chainrule.autograd import gradcheck, gradgradcheck

RNG = np.random.default_rng(0)


def _both(build):
    """build(library, distributions module, transforms module) in chainrule and in torch."""
    return build(chainrule, D, T), build(torch, TD, TT)


def _tensor(lib, array, requires_grad=False):
    return lib.tensor(np.asarray(array), dtype=lib.float64, requires_grad=requires_grad)


# name -> (build(lib, d, t) -> transform, an input inside its domain)
TRANSFORMS = {
    "exp": (lambda lib, d, t: t.ExpTransform(), RNG.normal(size=(2, 3))),
    "sigmoid": (lambda lib, d, t: t.SigmoidTransform(), RNG.normal(size=(2, 3))),
    "softplus": (lambda lib, d, t: t.SoftplusTransform(), RNG.normal(size=(2, 3)) * 3),
    "tanh": (lambda lib, d, t: t.TanhTransform(), RNG.normal(size=(2, 3))),
    "power": (
        lambda lib, d, t: t.PowerTransform(_tensor(lib, [0.5, 2.0, -1.5])),
        RNG.uniform(0.2, 3.0, (2, 3)),
    ),
    "affine vector": (
        lambda lib, d, t: t.AffineTransform(
            _tensor(lib, [1.0, -2.0, 0.5]), _tensor(lib, [2.0, -0.5, 3.0]), event_dim=1
        ),
        RNG.normal(size=(2, 3)),
    ),
    "affine number": (lambda lib, d, t: t.AffineTransform(1.0, -3.0), RNG.normal(size=(2, 3))),
    "compose exp then stick breaking": (
        lambda lib, d, t: t.ComposeTransform(
            [t.AffineTransform(0.5, 2.0), t.StickBreakingTransform(), t.PowerTransform(1.0)]
        ),
        RNG.normal(size=(2, 3)),
    ),
    "compose corr cholesky then elementwise": (
        lambda lib, d, t: t.ComposeTransform(
            [t.AffineTransform(0.0, 0.5), t.CorrCholeskyTransform(), t.AffineTransform(0.0, 2.0)]
        ),
        RNG.normal(size=(2, 3)),
    ),
    "independent sigmoid": (
        lambda lib, d, t: t.IndependentTransform(t.SigmoidTransform(), 2),
        RNG.normal(size=(4, 2, 3)),
    ),
    "reshape": (lambda lib, d, t: t.ReshapeTransform((6,), (2, 3)), RNG.normal(size=(4, 6))),
    "stick breaking": (lambda lib, d, t: t.StickBreakingTransform(), RNG.normal(size=(2, 4))),
    "corr cholesky": (lambda lib, d, t: t.CorrCholeskyTransform(), RNG.normal(size=(2, 6))),
    "cat along an event dim": (
        lambda lib, d, t: t.CatTransform(
            [t.ExpTransform(), t.AffineTransform(1.0, 2.0, event_dim=1)], dim=-1, lengths=[2, 3]
        ),
        RNG.normal(size=(4, 5)),
    ),
    "cat along a batch dim": (
        lambda lib, d, t: t.CatTransform(
            [t.AffineTransform(1.0, -2.0, event_dim=1), t.ExpTransform()], dim=0, lengths=[1, 2]
        ),
        RNG.normal(size=(3, 2)),
    ),
    "stack": (
        lambda lib, d, t: t.StackTransform(
            [t.ExpTransform(), t.TanhTransform(), t.identity_transform], dim=1
        ),
        RNG.normal(size=(2, 3)),
    ),
    "cdf of a normal": (
        lambda lib, d, t: t.CumulativeDistributionTransform(
            d.Normal(_tensor(lib, [0.5, -1.0, 0.0]), _tensor(lib, [1.0, 2.0, 0.5]))
        ),
        RNG.normal(size=(2, 3)),
    ),
    "inverse of sigmoid": (
        lambda lib, d, t: t.SigmoidTransform().inv,
        RNG.uniform(0.05, 0.95, (2, 3)),
    ),
}

# Not bijections: forward and their right inverse, no log |det J|.
SURJECTIONS = {
    "abs": (lambda lib, d, t: t.AbsTransform(), RNG.normal(size=(2, 3))),
    "softmax": (lambda lib, d, t: t.SoftmaxTransform(), RNG.normal(size=(2, 4))),
    "lower cholesky": (lambda lib, d, t: t.LowerCholeskyTransform(), RNG.normal(size=(2, 3, 3))),
    "positive definite": (
        lambda lib, d, t: t.PositiveDefiniteTransform(),
        RNG.normal(size=(2, 3, 3)),
    ),
}


def _build(table, name):
    build, x = table[name]
    (ours, theirs) = _both(build)
    return ours, theirs, x


@pytest.mark.parametrize("name", TRANSFORMS)
def test_a_bijection_maps_inverts_and_reports_its_jacobian_as_torch(name):
    ours, theirs, x = _build(TRANSFORMS, name)
    y = ours(_tensor(chainrule, x))
    expected_y = theirs(_tensor(torch, x))
    np.testing.assert_allclose(y.numpy(), expected_y.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ours.inv(y).numpy(), x, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(
        ours.inv(y).numpy(), theirs.inv(expected_y).numpy(), rtol=1e-9, atol=1e-12
    )
    log_det = ours.log_abs_det_jacobian(_tensor(chainrule, x), y)
    expected = theirs.log_abs_det_jacobian(_tensor(torch, x), expected_y)
    assert log_det.shape == tuple(expected.shape)
    np.testing.assert_allclose(log_det.numpy(), expected.numpy(), rtol=1e-10, atol=1e-12)
    inverse_log_det = ours.inv.log_abs_det_jacobian(y, _tensor(chainrule, x))
    np.testing.assert_allclose(inverse_log_det.numpy(), -expected.numpy(), rtol=1e-10, atol=1e-12)
    assert ours.bijective and theirs.bijective


@pytest.mark.parametrize("name", TRANSFORMS)
def test_a_bijection_has_torchs_shapes_domain_codomain_and_sign(name):
    ours, theirs, x = _build(TRANSFORMS, name)
    y_shape = tuple(theirs(_tensor(torch, x)).shape)
    assert ours.forward_shape(x.shape) == tuple(theirs.forward_shape(torch.Size(x.shape)))
    assert ours.forward_shape(x.shape) == y_shape
    assert ours.inverse_shape(y_shape) == tuple(theirs.inverse_shape(torch.Size(y_shape)))
    assert ours.inverse_shape(y_shape) == x.shape
    y_tuple = tuple(y_shape)  # a plain tuple in: a Size out where PyTorch's makes one
    for mine, reference in (
        (ours.forward_shape(tuple(x.shape)), theirs.forward_shape(tuple(x.shape))),
        (ours.inverse_shape(y_tuple), theirs.inverse_shape(y_tuple)),
    ):
        expected_type = "Size" if isinstance(reference, torch.Size) else type(reference).__name__
        assert (type(mine).__name__, tuple(mine)) == (expected_type, tuple(reference))
    for side in ("domain", "codomain"):
        mine, reference = getattr(ours, side), getattr(theirs, side)
        assert mine.event_dim == reference.event_dim, side
        assert mine.is_discrete == reference.is_discrete, side
        assert repr(mine) == repr(reference), side
    try:
        expected_sign = theirs.sign
    except NotImplementedError:
        with pytest.raises(NotImplementedError):
            ours.sign  # noqa: B018
    else:
        np.testing.assert_array_equal(np.asarray(ours.sign), np.asarray(expected_sign))


@pytest.mark.parametrize("name", TRANSFORMS)
def test_gradients_through_a_bijection_match_torch(name):
    """d/dx of <c, t(x)> + sum log |det J| and d/dy of <c, t.inv(y)>, c a random cotangent."""
    grads = []
    for lib, d, t in ((chainrule, D, T), (torch, TD, TT)):
        build, x = TRANSFORMS[name]
        transform = build(lib, d, t)
        x = _tensor(lib, x, requires_grad=True)
        y = transform(x)
        cotangent = _tensor(lib, np.random.default_rng(1).normal(size=tuple(y.shape)))
        log_det = transform.log_abs_det_jacobian(x, y)
        ((y * cotangent).sum() + log_det.sum()).backward()
        y_leaf = _tensor(lib, y.detach().numpy(), requires_grad=True)
        (transform.inv(y_leaf) * _tensor(lib, np.cos(x.detach().numpy()))).sum().backward()
        grads.append((x.grad.numpy(), y_leaf.grad.numpy()))
    np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=1e-9, atol=1e-12)
    # The last entry of a simplex or the diagonal of a correlation factor is not read by the
    # inverse, so both give it a zero gradient; elsewhere the gradients agree.
    np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    "name", ["softplus", "power", "compose exp then stick breaking", "corr cholesky", "stack"]
)
def test_a_bijection_passes_finite_differences_to_second_order(name):
    transform = TRANSFORMS[name][0](chainrule, D, T)
    x = _tensor(chainrule, TRANSFORMS[name][1], requires_grad=True)

    def forward_and_log_det(x):
        y = transform(x)
        return y, transform.log_abs_det_jacobian(x, y)

    assert gradcheck(forward_and_log_det, (x,))
    assert gradgradcheck(forward_and_log_det, (x,))
    y = transform(x).detach().requires_grad_()
    assert gradcheck(transform.inv, (y,))


def _slogdet_of_jacobian(function, x):
    jacobian = chainrule.func.jacrev(function)(_tensor(chainrule, x)).numpy()
    size = x.size
    return np.linalg.slogdet(jacobian.reshape(size, size))[1]


@pytest.mark.parametrize(
    "name, flatten_output",
    [
        ("affine vector", lambda y: y),
        ("softplus", lambda y: y),
        ("reshape", lambda y: y.reshape(4, 6)),
        ("cat along an event dim", lambda y: y),
        ("stack", lambda y: y),
        ("compose exp then stick breaking", lambda y: y[..., :-1]),
        # The factor's strictly lower entries are its free coordinates.
        ("corr cholesky", lambda y: y[..., [1, 2, 2, 3, 3, 3], [0, 0, 1, 0, 1, 2]]),
    ],
)
def test_log_abs_det_jacobian_is_the_jacobians_log_determinant(name, flatten_output):
    """log |det dy/dx| of the whole batch (a block-diagonal Jacobian, one block per event, so
    its log-determinant is the events' sum), taken numerically from jacrev."""
    transform, x = TRANSFORMS[name][0](chainrule, D, T), TRANSFORMS[name][1]
    y = transform(_tensor(chainrule, x))
    log_det = transform.log_abs_det_jacobian(_tensor(chainrule, x), y).sum().item()
    expected = _slogdet_of_jacobian(lambda v: flatten_output(transform(v)), x)
    assert math.isclose(log_det, expected, rel_tol=1e-9, abs_tol=1e-9)


def test_an_affine_scale_broadcast_over_the_event_counts_once_per_entry():
    """A deliberate difference: y = 2x on 3-vectors has log |det J| = 3 log 2. torch sums the
    scale's own entries before broadcasting, so a scale of shape (1,) gives log 2."""
    transform = T.AffineTransform(0.0, chainrule.tensor([2.0], dtype=chainrule.float64), 1)
    x = RNG.normal(size=(2, 3))
    log_det = transform.log_abs_det_jacobian(
        _tensor(chainrule, x), transform(_tensor(chainrule, x))
    )
    np.testing.assert_allclose(log_det.numpy(), [3 * math.log(2.0)] * 2, rtol=1e-12)
    assert math.isclose(log_det.sum().item(), _slogdet_of_jacobian(transform, x), rel_tol=1e-12)


@pytest.mark.parametrize("name", SURJECTIONS)
def test_a_surjection_maps_and_right_inverts_as_torch(name):
    ours, theirs, x = _build(SURJECTIONS, name)
    y, expected_y = ours(_tensor(chainrule, x)), theirs(_tensor(torch, x))
    np.testing.assert_allclose(y.numpy(), expected_y.numpy(), rtol=1e-12, atol=1e-14)
    x_back, expected_x_back = ours.inv(y), theirs.inv(expected_y)
    np.testing.assert_allclose(x_back.numpy(), expected_x_back.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours(x_back).numpy(), y.numpy(), rtol=1e-9, atol=1e-12)
    assert not ours.bijective and not theirs.bijective
    assert repr(ours.codomain) == repr(theirs.codomain)
    assert ours.domain.event_dim == theirs.domain.event_dim
    with pytest.raises(NotImplementedError):
        ours.log_abs_det_jacobian(_tensor(chainrule, x), y)
    if name == "positive definite":
        x64 = _tensor(chainrule, x, requires_grad=True)
        assert gradcheck(ours, (x64,)) and gradgradcheck(ours, (x64,))


# ---------------------------------------------------------------- constraint registry


def _constraints(c):
    """Every constraint torch registers a transform for, one instance each (c: a module)."""
    return {
        "real": c.real,
        "real_vector": c.real_vector,
        "independent positive": c.independent(c.positive, 2),
        "positive": c.positive,
        "nonnegative": c.nonnegative,
        "greater_than": c.greater_than(1.5),
        "greater_than_eq": c.greater_than_eq(-2.0),
        "less_than": c.less_than(3.0),
        "unit_interval": c.unit_interval,
        "interval": c.interval(-1.0, 2.5),
        "half_open_interval": c.half_open_interval(0.0, 4.0),
        "simplex": c.simplex,
        "lower_cholesky": c.lower_cholesky,
        "positive_definite": c.positive_definite,
        "positive_semidefinite": c.positive_semidefinite,
        "corr_cholesky": c.corr_cholesky,
        "cat": c.cat([c.positive, c.interval(0.0, 2.0), c.real], dim=-1, lengths=[2, 1, 3]),
        "stack": c.stack([c.positive, c.less_than(0.0), c.real], dim=0),
        # constraints with no transform either way
        "boolean": c.boolean,
        "nonnegative_integer": c.nonnegative_integer,
        "one_hot": c.one_hot,
        "lower_triangular": c.lower_triangular,
        "square": c.square,
        "symmetric": c.symmetric,
    }


# an unconstrained input for each transform's domain
UNCONSTRAINED_SHAPES = {
    "real_vector": (3, 4),
    "independent positive": (2, 3, 4),
    "simplex": (2, 3),
    "lower_cholesky": (2, 3, 3),
    "positive_definite": (2, 3, 3),
    "positive_semidefinite": (3, 3),
    "corr_cholesky": (2, 6),
    "cat": (2, 6),
    "stack": (3, 4),
}


def _lookup(registry, constraint):
    try:
        return registry(constraint)
    except NotImplementedError as error:
        return error


@pytest.mark.parametrize("registry", ["biject_to", "transform_to"])
@pytest.mark.parametrize("name", list(_constraints(TD.constraints)))
def test_the_registries_give_torchs_transform_and_it_lands_inside(registry, name):
    ours = _lookup(getattr(D, registry), _constraints(D.constraints)[name])
    theirs = _lookup(getattr(TD, registry), _constraints(TD.constraints)[name])
    if isinstance(theirs, NotImplementedError):
        assert isinstance(ours, NotImplementedError) and str(ours) == str(theirs)
        return
    assert type(ours).__name__ == type(theirs).__name__
    assert repr(ours) == repr(theirs)
    assert ours.bijective == theirs.bijective
    x = RNG.normal(size=UNCONSTRAINED_SHAPES.get(name, (3, 4))) * 2
    y, expected = ours(_tensor(chainrule, x)), theirs(_tensor(torch, x))
    np.testing.assert_allclose(y.numpy(), expected.numpy(), rtol=1e-10, atol=1e-12)
    constraint = _constraints(D.constraints)[name]
    assert bool(constraint.check(y).all()), f"{registry}({name}) left the constraint"
    if ours.bijective:
        np.testing.assert_allclose(ours.inv(y).numpy(), x, rtol=1e-8, atol=1e-10)
        log_det = ours.log_abs_det_jacobian(_tensor(chainrule, x), y)
        reference = theirs.log_abs_det_jacobian(_tensor(torch, x), expected)
        np.testing.assert_allclose(log_det.numpy(), reference.numpy(), rtol=1e-10, atol=1e-12)


def test_a_tensor_bounded_interval_uses_an_affine_step_even_at_zero_and_one():
    """Only number bounds 0 and 1 give the bare sigmoid, as in torch."""
    for lib, d in ((chainrule, D), (torch, TD)):
        bounded = d.constraints.interval(lib.tensor(0.0), lib.tensor(1.0))
        assert isinstance(d.biject_to(bounded), d.transforms.ComposeTransform)
        assert isinstance(d.biject_to(d.constraints.unit_interval), d.SigmoidTransform)


def test_gradients_reach_unconstrained_parameters_through_biject_to():
    """The use: optimise a positive scale and a probability vector as unconstrained reals."""
    grads = []
    for lib, d in ((chainrule, D), (torch, TD)):
        raw_scale = _tensor(lib, [0.3, -0.2], requires_grad=True)
        raw_probs = _tensor(lib, [0.1, -0.4, 0.7], requires_grad=True)
        scale = d.biject_to(d.constraints.positive)(raw_scale)
        probs = d.biject_to(d.constraints.simplex)(raw_probs)
        value = _tensor(lib, [0.5, 1.5])
        loss = -d.Normal(0.0, scale).log_prob(value).sum()
        loss = loss - d.Categorical(probs=probs).log_prob(lib.tensor(2))
        loss.backward()
        grads.append((raw_scale.grad.numpy(), raw_probs.grad.numpy()))
    np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=1e-10)
    np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-10)


def test_register_accepts_a_class_an_instance_or_a_decorator_and_rejects_the_rest():
    class Even(D.constraints.Constraint):
        is_discrete = True

        def check(self, value):
            return value % 2 == 0

    registry = D.constraint_registry.ConstraintRegistry()
    with pytest.raises(NotImplementedError, match="Cannot transform Even constraints"):
        registry(Even())

    @registry.register(Even)
    def _doubling(constraint):
        return T.AffineTransform(0.0, 2.0)

    assert registry(Even())(chainrule.tensor(3.0)).item() == 6.0
    registry.register(Even(), lambda constraint: T.ExpTransform())  # an instance's class
    assert registry(Even()) == T.ExpTransform()
    with pytest.raises(TypeError, match="Expected constraint to be either a Constraint"):
        registry.register(int, lambda constraint: T.ExpTransform())
    with pytest.raises(TypeError):
        TD.constraint_registry.ConstraintRegistry().register(int, lambda c: TT.ExpTransform())
    assert isinstance(D.biject_to, D.constraint_registry.ConstraintRegistry)


# ---------------------------------------------------------------- the Transform protocol


def test_the_inverse_is_one_object_and_inverts_back():
    for t in (T.ExpTransform(), T.ComposeTransform([T.ExpTransform(), T.TanhTransform()])):
        assert t.inv is t.inv and t.inv.inv is t
    assert repr(T.ExpTransform().inv) == repr(TT.ExpTransform().inv)
    assert T.ExpTransform().inv == T.ExpTransform().inv
    assert T.ExpTransform().inv != T.ExpTransform()


def test_equality_is_by_the_map_as_torch():
    def pairs(t, lib):
        return [
            (t.ExpTransform(), t.ExpTransform()),
            (t.ExpTransform(), t.SigmoidTransform()),
            (t.AffineTransform(1.0, 2.0), t.AffineTransform(1.0, 2.0)),
            (t.AffineTransform(1.0, 2.0), t.AffineTransform(1.0, 3.0)),
            (
                t.AffineTransform(lib.tensor([1.0, 2.0]), 2.0),
                t.AffineTransform(lib.tensor([1.0, 2.0]), 2.0),
            ),
            (t.PowerTransform(2.0), t.PowerTransform(lib.tensor(2.0))),
            (t.PowerTransform(2.0), t.PowerTransform(3.0)),
            (t.ComposeTransform([t.ExpTransform()]), t.ComposeTransform([t.ExpTransform()])),
            (
                t.IndependentTransform(t.ExpTransform(), 1),
                t.IndependentTransform(t.ExpTransform(), 1),
            ),
            (t.ReshapeTransform((4,), (2, 2)), t.ReshapeTransform((4,), (2, 2))),
            (t.SoftplusTransform(), t.SoftplusTransform()),
            (t.CorrCholeskyTransform(), t.CorrCholeskyTransform()),
            (t.LowerCholeskyTransform(), t.PositiveDefiniteTransform()),
            (t.identity_transform, t.ComposeTransform([])),
        ]

    ours = [(a == b, a != b) for a, b in pairs(T, chainrule)]
    theirs = [(a == b, a != b) for a, b in pairs(TT, torch)]
    assert ours == theirs


def test_transforms_are_unhashable_as_torch():
    with pytest.raises(TypeError):
        hash(T.ExpTransform())
    with pytest.raises(TypeError):
        hash(TT.ExpTransform())


def test_a_cached_transform_returns_the_pair_it_computed():
    t = T.TanhTransform(cache_size=1)
    x = chainrule.tensor([30.0, 0.5], dtype=chainrule.float64)
    y = t(x)
    assert t(x) is y and t.inv(y) is x  # atanh(1.0) would be infinite
    assert T.TanhTransform().inv(y)[0].item() == math.inf
    with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
        T.ExpTransform(cache_size=2)


def test_with_cache_returns_a_caching_copy_and_reaches_the_parts():
    exp = T.ExpTransform()
    assert exp.with_cache(0) is exp
    cached = exp.with_cache(1)
    assert cached._cache_size == 1 and cached == exp
    assert exp.inv.with_cache(1).inv._cache_size == 1
    compose = T.ComposeTransform([T.AffineTransform(0.0, 2.0), T.ExpTransform()], cache_size=1)
    assert all(part._cache_size == 1 for part in compose.parts)
    for t in (
        T.AffineTransform(1.0, 2.0, event_dim=1),
        T.PowerTransform(2.0),
        T.IndependentTransform(T.ExpTransform(), 1),
        T.ReshapeTransform((4,), (2, 2)),
        T.CatTransform([T.ExpTransform()]),
        T.StackTransform([T.ExpTransform()]),
        T.CumulativeDistributionTransform(D.Normal(0.0, 1.0)),
    ):
        assert t.with_cache(1)._cache_size == 1 and type(t.with_cache(1)) is type(t)

    class Doubling(T.Transform):
        def __init__(self, factor, cache_size=0):
            super().__init__(cache_size=cache_size)

    with pytest.raises(NotImplementedError, match="with_cache is not implemented"):
        Doubling(2.0).with_cache(1)


def test_event_dim_needs_domain_and_codomain_to_agree_as_torch():
    assert T.AffineTransform(0.0, 1.0, event_dim=2).event_dim == 2
    assert T.StickBreakingTransform().event_dim == 1
    for t in (T.CorrCholeskyTransform(), TT.CorrCholeskyTransform()):
        with pytest.raises(ValueError, match="Please use either .domain.event_dim"):
            t.event_dim  # noqa: B018
    compose = T.ComposeTransform([T.ExpTransform(), T.StickBreakingTransform()])
    assert repr(compose.domain) == repr(
        TT.ComposeTransform([TT.ExpTransform(), TT.StickBreakingTransform()]).domain
    )
    assert compose.domain.event_dim == 1 and compose.codomain.event_dim == 1


def test_a_pickled_or_copied_transform_rebuilds_its_own_inverse():
    t = T.AffineTransform(1.0, 2.0)
    assert t.inv.inv is t
    for clone in (pickle.loads(pickle.dumps(t)), copy.deepcopy(t)):
        assert clone == t and clone.inv.inv is clone
    inverse = T.ExpTransform().inv  # torch's copy of an inverse loses what it inverts
    for clone in (pickle.loads(pickle.dumps(inverse)), copy.deepcopy(inverse)):
        assert clone == inverse and clone(chainrule.tensor(1.0)).item() == 0.0


def test_shape_errors_as_torch():
    cases = [
        (lambda t: t.ReshapeTransform((3,), (2, 2)), ValueError, "different numbers of elements"),
        (lambda t: t.ReshapeTransform((4,), (2, 2)).forward_shape((5,)), ValueError, "mismatch"),
        (lambda t: t.CorrCholeskyTransform().forward_shape((4,)), ValueError, "lower-diagonal"),
        (lambda t: t.CorrCholeskyTransform().inverse_shape((2, 3)), ValueError, "not square"),
        (lambda t: t.StickBreakingTransform().forward_shape(()), ValueError, "Too few"),
        (lambda t: t.CatTransform([t.ExpTransform(), 1.0]), AssertionError, "Transform instances"),
        (lambda t: t.CatTransform([t.ExpTransform()], lengths=[1, 2]), AssertionError, "match"),
    ]
    for build, error, message in cases:
        for t in (T, TT):
            with pytest.raises(error, match=message):
                build(t)
    for lib, t in ((chainrule, T), (torch, TT)):
        with pytest.raises(AssertionError, match="must equal length 3"):
            t.CatTransform([t.ExpTransform()], lengths=[3])(lib.zeros(2))
        with pytest.raises(AssertionError, match="must equal len"):
            t.StackTransform([t.ExpTransform()])(lib.zeros(2))
        with pytest.raises(ValueError, match="Too few dimensions"):
            t.IndependentTransform(t.ExpTransform(), 2)(lib.zeros(2))


# ---------------------------------------------------------------- TransformedDistribution


CORRELATION_COORDINATES = RNG.normal(size=(2, 3))

# name -> build(lib, d, t) -> (distribution, a value inside its support)
TRANSFORMED = {
    "a vector transform over a scalar batch": lambda lib, d, t: (
        d.TransformedDistribution(
            d.Normal(_tensor(lib, np.zeros((2, 3))), _tensor(lib, np.ones((2, 3)))),
            [t.StickBreakingTransform()],
        ),
        _tensor(lib, [[0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.25, 0.25]]),
    ),
    "a batched affine expands its base": lambda lib, d, t: (
        d.TransformedDistribution(
            d.Normal(_tensor(lib, 0.5), _tensor(lib, 2.0)),
            [t.AffineTransform(_tensor(lib, [1.0, 2.0, 3.0]), _tensor(lib, [1.0, 0.5, 2.0]))],
        ),
        _tensor(lib, [[0.3, 1.0, -2.0]]),
    ),
    "correlation factors from a vector": lambda lib, d, t: (
        d.TransformedDistribution(
            d.Normal(_tensor(lib, np.zeros((2, 3))), _tensor(lib, np.full((2, 3), 0.7))),
            [t.CorrCholeskyTransform()],
        ),
        t.CorrCholeskyTransform()(_tensor(lib, CORRELATION_COORDINATES)),
    ),
    "reshaped": lambda lib, d, t: (
        d.TransformedDistribution(
            d.Independent(d.Normal(_tensor(lib, np.zeros((5, 4))), _tensor(lib, np.ones(4))), 1),
            [t.ReshapeTransform((4,), (2, 2)), t.ExpTransform()],
        ),
        _tensor(lib, np.arange(1.0, 5.0).reshape(2, 2) / 3),
    ),
    "independent exp": lambda lib, d, t: (
        d.TransformedDistribution(
            d.Normal(_tensor(lib, np.zeros((3, 2))), _tensor(lib, np.ones((3, 2)))),
            [t.IndependentTransform(t.ExpTransform(), 1)],
        ),
        _tensor(lib, [[0.5, 2.0], [1.0, 1.0], [3.0, 0.1]]),
    ),
    "a gaussian copula": lambda lib, d, t: (
        d.TransformedDistribution(
            d.MultivariateNormal(_tensor(lib, np.zeros(2)), _tensor(lib, [[1.0, 0.6], [0.6, 1.0]])),
            [t.CumulativeDistributionTransform(d.Normal(_tensor(lib, 0.0), _tensor(lib, 1.0)))],
        ),
        _tensor(lib, [[0.3, 0.4], [0.9, 0.2]]),
    ),
}


@pytest.mark.parametrize("name", TRANSFORMED)
def test_transformed_shapes_support_and_densities_match_torch(name):
    (ours, value), (theirs, their_value) = _both(TRANSFORMED[name])
    assert ours.batch_shape == tuple(theirs.batch_shape)
    assert ours.event_shape == tuple(theirs.event_shape)
    assert type(ours.base_dist).__name__ == type(theirs.base_dist).__name__
    assert ours.base_dist.batch_shape == tuple(theirs.base_dist.batch_shape)
    assert repr(ours.support) == repr(theirs.support)
    np.testing.assert_allclose(
        ours.log_prob(value).numpy(), theirs.log_prob(their_value).numpy(), rtol=1e-9
    )
    chainrule.manual_seed(0)
    sample = ours.sample((4,))
    assert tuple(sample.shape) == tuple(theirs.sample((4,)).shape)
    assert bool(ours.support.check(sample).all())
    expanded = ours.expand((3,) + tuple(ours.batch_shape))
    their_expanded = theirs.expand((3,) + tuple(theirs.batch_shape))
    assert expanded.batch_shape == tuple(their_expanded.batch_shape)
    assert expanded.event_shape == tuple(their_expanded.event_shape)
    new_batch_dim = value.dim() - len(ours.batch_shape) - len(ours.event_shape)
    if new_batch_dim >= 0:  # value carries the batch dimensions: make room for the new one
        value, their_value = value.unsqueeze(new_batch_dim), their_value.unsqueeze(new_batch_dim)
    np.testing.assert_allclose(
        expanded.log_prob(value).numpy(), their_expanded.log_prob(their_value).numpy(), rtol=1e-9
    )


def test_transformed_log_prob_gradients_match_torch():
    """Through a composed, coupled transform: gradients in the base's parameters and in the
    transforms' parameters."""
    grads = []
    for lib, d, t in ((chainrule, D, T), (torch, TD, TT)):
        loc = _tensor(lib, [0.2, -0.3, 0.1], requires_grad=True)
        shift = _tensor(lib, [0.5, -1.0, 0.0], requires_grad=True)
        transforms = [t.AffineTransform(shift, 1.5), t.StickBreakingTransform()]
        dist = d.TransformedDistribution(d.Normal(loc, _tensor(lib, 0.8)), transforms)
        value = _tensor(lib, [[0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.2, 0.1]])
        dist.log_prob(value).sum().backward()
        grads.append((loc.grad.numpy(), shift.grad.numpy()))
    np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=1e-10)
    np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-10)


def test_kl_between_transformed_distributions_is_the_bases_when_the_transforms_agree():
    """Equal transforms (compared by value, not identity) leave KL unchanged, as torch."""

    def squashed(lib, d, t, loc, scale):
        transforms = [t.AffineTransform(1.0, 2.0), t.ExpTransform()]
        return d.TransformedDistribution(d.Normal(loc, _tensor(lib, scale)), transforms)

    results = []
    for lib, d, t in ((chainrule, D, T), (torch, TD, TT)):
        loc = _tensor(lib, [0.1, -0.4], requires_grad=True)
        p = squashed(lib, d, t, loc, [1.0, 0.5])
        kl = d.kl_divergence(p, squashed(lib, d, t, _tensor(lib, [0.0, 0.0]), 1.0))
        kl.sum().backward()
        results.append((kl.detach().numpy(), loc.grad.numpy()))
        other = d.TransformedDistribution(d.Normal(0.0, 1.0), [t.TanhTransform()])
        with pytest.raises(NotImplementedError):
            d.kl_divergence(p, other)
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12)


def test_transformed_errors_as_torch():
    for d, t in ((D, T), (TD, TT)):
        with pytest.raises(ValueError, match="transforms must be a Transform or list"):
            d.TransformedDistribution(d.Normal(0.0, 1.0), (t.ExpTransform(),))
        with pytest.raises(ValueError, match="a Transform or a list of Transforms"):
            d.TransformedDistribution(d.Normal(0.0, 1.0), [1.0])
        with pytest.raises(ValueError, match="needs to have shape with size at least 1"):
            d.TransformedDistribution(d.Normal(0.0, 1.0), [t.StickBreakingTransform()])


# ---------------------------------------------------------------- constraints


def _parametrised(c):
    return {
        "independent": c.independent(c.simplex, 1),
        "cat": c.cat([c.positive, c.unit_interval], dim=-1, lengths=[1, 1]),
        "stack": c.stack([c.positive, c.unit_interval], dim=-1),
        "stack of vectors": c.stack([c.simplex, c.simplex], dim=0),
        "integer_interval": c.integer_interval(0, 3),
        "multinomial": c.multinomial(3),
        "greater_than_eq": c.greater_than_eq(1.0),
        "half_open_interval": c.half_open_interval(0.0, 1.0),
        "positive_integer": c.positive_integer,
        "nonnegative_integer": c.nonnegative_integer,
        "lower_triangular": c.lower_triangular,
        "boolean": c.boolean,
    }


@pytest.mark.parametrize("name", list(_parametrised(TD.constraints)))
def test_constraint_objects_match_torchs(name):
    ours, theirs = _parametrised(D.constraints)[name], _parametrised(TD.constraints)[name]
    assert ours.event_dim == theirs.event_dim and ours.is_discrete == theirs.is_discrete
    if name not in ("cat", "stack", "stack of vectors"):  # torch's repr is the object's default
        assert repr(ours) == repr(theirs)
    values = [
        [[0.0, 1.0], [1.0, 0.0]],
        [[0.5, 0.5], [2.0, 3.0]],
        [[1.0, 0.0], [0.25, 0.75]],
        [[-1.0, 0.0], [3.0, 0.0]],
    ]
    for value in values:
        np.testing.assert_array_equal(
            ours.check(_tensor(chainrule, value)).numpy(),
            theirs.check(_tensor(torch, value)).numpy(),
            err_msg=str(value),
        )


def test_every_torch_constraint_name_exists():
    assert set(TD.constraints.__all__) <= set(D.constraints.__all__)
    assert set(TT.__all__) <= set(T.__all__)
    for name in ("biject_to", "transform_to", "identity_transform", "CorrCholeskyTransform"):
        assert hasattr(D, name) and hasattr(TD, name)
