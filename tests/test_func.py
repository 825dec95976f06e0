"""chainrule.func against torch.func, the same functions on the same inputs: grad, vjp, jvp,
jacrev, jacfwd, hessian, linearize, vmap of grad, functional_call, with argnums, has_aux and
pytrees; transforms composed; NumPy in, NumPy out."""

import numpy as np
import pytest
import torch
import torch.func as tf

import chainrule
import chainrule.func as cf
from chainrule.errors import GradError, ShapeError

RNG = np.random.default_rng(0)
A = RNG.uniform(-1.0, 1.0, size=(3,))
B = RNG.uniform(-1.0, 1.0, size=(3,))
M = RNG.uniform(-1.0, 1.0, size=(2, 3))
U = RNG.standard_normal(3)
V = RNG.standard_normal(3)


def mine(array):
    return chainrule.from_numpy(np.array(array, dtype=np.float64))


def theirs(array):
    return torch.from_numpy(np.array(array, dtype=np.float64))


def as_numpy(value):
    if hasattr(value, "detach"):
        value = value.detach()
    return np.asarray(value.numpy() if hasattr(value, "numpy") else value)


def assert_same_tree(actual, expected):
    """Same nesting (tuples, lists, dicts) and the same values at every leaf."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and actual.keys() == expected.keys()
        for key in expected:
            assert_same_tree(actual[key], expected[key])
    elif isinstance(expected, (tuple, list)):
        assert type(actual) is type(expected) and len(actual) == len(expected), (actual, expected)
        for a, e in zip(actual, expected):
            assert_same_tree(a, e)
    else:
        a, e = as_numpy(actual), as_numpy(expected)
        assert a.shape == e.shape, (a.shape, e.shape)
        np.testing.assert_allclose(a, e, rtol=1e-10, atol=1e-12)


def scalar_f(lib, x, y):
    return (lib.sin(x) * y).sum() + (x**2).sum() * y[0]


def vector_f(lib, x, y):
    return lib.tanh(x * y) + x.sum() * y


def tree_f(lib, params, x):
    """A pytree in (a dict of tensors) and out (a dict holding a tuple)."""
    hidden = lib.tanh(params["w"] @ x + params["b"])
    return {"out": hidden, "extra": (hidden.sum(), x * params["b"][0])}


def both(function):
    """The same function for chainrule and for torch."""
    return (lambda *a: function(chainrule, *a)), (lambda *a: function(torch, *a))


# ---- grad --------------------------------------------------------------------------------


@pytest.mark.parametrize("argnums", [0, 1, (0, 1), (1,), -1])
def test_grad_argnums(argnums):
    f, g = both(scalar_f)
    assert_same_tree(
        cf.grad(f, argnums)(mine(A), mine(B)), tf.grad(g, argnums)(theirs(A), theirs(B))
    )


def test_grad_has_aux_and_grad_and_value():
    def f(lib, x):
        return (x**3).sum(), {"mean": x.mean()}

    mine_f, torch_f = both(f)
    assert_same_tree(
        cf.grad(mine_f, has_aux=True)(mine(A)), tf.grad(torch_f, has_aux=True)(theirs(A))
    )
    assert_same_tree(
        cf.grad_and_value(mine_f, has_aux=True)(mine(A)),
        tf.grad_and_value(torch_f, has_aux=True)(theirs(A)),
    )


def test_grad_of_a_pytree_argument():
    def loss(lib, params, x):
        return tree_f(lib, params, x)["out"].pow(2).sum()

    params = {"w": M, "b": A[:2]}
    f, g = both(loss)
    assert_same_tree(
        cf.grad(f)({k: mine(v) for k, v in params.items()}, mine(B)),
        tf.grad(g)({k: theirs(v) for k, v in params.items()}, theirs(B)),
    )


@pytest.mark.parametrize(
    "transform",
    [
        lambda f: f.grad(lambda x: x.sum()),
        lambda f: f.jacrev(lambda x: x * 2),
        lambda f: lambda x: f.vjp(lambda y: y * 2, x),
    ],
)
def test_reverse_transforms_refuse_integer_inputs_with_torchs_runtime_error(transform):
    """An integer input cannot require grad: PyTorch raises RuntimeError (from requires_grad_),
    so a script's `except RuntimeError` must catch ours too."""
    with pytest.raises(RuntimeError, match="only Tensors of floating point"):
        transform(tf)(torch.tensor([1, 2]))
    with pytest.raises(RuntimeError, match="only Tensors of floating point"):
        transform(cf)(chainrule.tensor([1, 2]))


def test_grad_refuses_non_scalar_outputs_and_bad_argnums():
    with pytest.raises(ShapeError):
        cf.grad(lambda x: x * 2)(mine(A))
    with pytest.raises(ValueError):
        cf.grad(lambda x: x.sum(), argnums=2)(mine(A))
    with pytest.raises(TypeError):
        cf.grad(lambda x: x.sum(), has_aux=True)(mine(A))


def test_numpy_in_numpy_out():
    def f(x):
        return (chainrule.sin(x) ** 2).sum()

    gradient = cf.grad(f)(A)
    assert isinstance(gradient, np.ndarray)
    np.testing.assert_allclose(gradient, 2 * np.sin(A) * np.cos(A), rtol=1e-12)
    for transform in (cf.jacrev, cf.jacfwd):
        jacobian = transform(chainrule.sin)(A)
        assert isinstance(jacobian, np.ndarray)
        np.testing.assert_allclose(jacobian, np.diag(np.cos(A)), rtol=1e-12)
    curvature = cf.hessian(f)(A)
    assert isinstance(curvature, np.ndarray)
    np.testing.assert_allclose(curvature, np.diag(2 * np.cos(2 * A)), rtol=1e-12, atol=1e-15)
    output, tangent = cf.jvp(chainrule.sin, (A,), (U,))
    assert isinstance(output, np.ndarray) and isinstance(tangent, np.ndarray)
    np.testing.assert_allclose(tangent, np.cos(A) * U, rtol=1e-12)
    output, jvp_fn = cf.linearize(chainrule.sin, A)
    assert isinstance(output, np.ndarray)
    np.testing.assert_allclose(jvp_fn(U), np.cos(A) * U, rtol=1e-12)
    (gradient,) = cf.vjp(chainrule.sin, A)[1](V)
    assert isinstance(gradient, np.ndarray)
    assert isinstance(cf.grad(lambda x: x**3)(2.0), float)


# ---- vjp and jvp -------------------------------------------------------------------------


def test_vjp_of_a_pytree_function_with_aux():
    def f(lib, params, x):
        out = tree_f(lib, params, x)
        return out, out["out"].sum()

    params = {"w": M, "b": A[:2]}
    mine_f, torch_f = both(f)
    out, vjp_fn, aux = cf.vjp(
        mine_f, {k: mine(v) for k, v in params.items()}, mine(B), has_aux=True
    )
    t_out, t_vjp_fn, t_aux = tf.vjp(
        torch_f, {k: theirs(v) for k, v in params.items()}, theirs(B), has_aux=True
    )
    assert_same_tree(out, t_out)
    assert_same_tree(aux, t_aux)
    mine_cot = {"out": mine(V[:2]), "extra": (mine(1.5), mine(U))}
    torch_cot = {"out": theirs(V[:2]), "extra": (theirs(1.5), theirs(U))}
    assert_same_tree(vjp_fn(mine_cot), t_vjp_fn(torch_cot))


def test_jvp_of_a_pytree_function_with_aux():
    def f(lib, params, x):
        out = tree_f(lib, params, x)
        return out, x.exp()

    params, tangents = {"w": M, "b": A[:2]}, {"w": M[::-1].copy(), "b": V[:2]}
    mine_f, torch_f = both(f)
    result = cf.jvp(
        mine_f,
        ({k: mine(v) for k, v in params.items()}, mine(B)),
        ({k: mine(v) for k, v in tangents.items()}, mine(U)),
        has_aux=True,
    )
    expected = tf.jvp(
        torch_f,
        ({k: theirs(v) for k, v in params.items()}, theirs(B)),
        ({k: theirs(v) for k, v in tangents.items()}, theirs(U)),
        has_aux=True,
    )
    assert len(result) == 3
    assert_same_tree(result, expected)


def test_jvp_checks_its_arguments():
    with pytest.raises(TypeError, match="tuple"):
        cf.jvp(chainrule.sin, mine(A), mine(U))
    with pytest.raises(ShapeError, match="structure"):
        cf.jvp(chainrule.sin, (mine(A),), (mine(U), mine(V)))
    with pytest.raises(ShapeError):
        cf.jvp(chainrule.sin, (mine(A),), (mine(U[:2]),))


def test_linearize_matches_jvp_at_the_same_point():
    mine_f, torch_f = both(vector_f)
    output, jvp_fn = cf.linearize(mine_f, mine(A), mine(B))
    t_output, t_jvp_fn = tf.linearize(torch_f, theirs(A), theirs(B))
    assert_same_tree(output, t_output)
    for u, v in ((U, V), (V, U)):
        assert_same_tree(jvp_fn(mine(u), mine(v)), t_jvp_fn(theirs(u), theirs(v)))
    with pytest.raises(ShapeError):
        jvp_fn(mine(U))


# ---- Jacobians and Hessians ----------------------------------------------------------------


@pytest.mark.parametrize("transform", ["jacrev", "jacfwd"])
@pytest.mark.parametrize("argnums", [0, 1, (0, 1)])
def test_jacobians_match_torch(transform, argnums):
    f, g = both(vector_f)
    assert_same_tree(
        getattr(cf, transform)(f, argnums)(mine(A), mine(B)),
        getattr(tf, transform)(g, argnums)(theirs(A), theirs(B)),
    )


@pytest.mark.parametrize("transform", ["jacrev", "jacfwd"])
@pytest.mark.parametrize("argnums", [0, (0, 1)])
def test_jacobians_of_pytrees_with_aux_match_torch(transform, argnums):
    def f(lib, params, x):
        out = tree_f(lib, params, x)
        return out, out["extra"][0] * 2

    params = {"w": M, "b": A[:2]}
    mine_f, torch_f = both(f)
    assert_same_tree(
        getattr(cf, transform)(mine_f, argnums, has_aux=True)(
            {k: mine(v) for k, v in params.items()}, mine(B)
        ),
        getattr(tf, transform)(torch_f, argnums, has_aux=True)(
            {k: theirs(v) for k, v in params.items()}, theirs(B)
        ),
    )


@pytest.mark.parametrize("argnums", [0, 1, (0, 1)])
def test_hessian_is_forward_over_reverse_and_matches_torch(argnums):
    f, g = both(scalar_f)
    assert_same_tree(
        cf.hessian(f, argnums)(mine(A), mine(B)), tf.hessian(g, argnums)(theirs(A), theirs(B))
    )


def test_hessian_of_a_matrix_argument():
    def f(lib, w):
        return lib.logsumexp(w @ lib.from_numpy(B.copy()), 0) + (w**4).sum()

    mine_f, torch_f = both(f)
    curvature = cf.hessian(mine_f)(mine(M))
    assert curvature.shape == (2, 3, 2, 3)
    assert_same_tree(curvature, tf.hessian(torch_f)(theirs(M)))


def test_jacobian_of_a_function_of_no_elements():
    assert cf.jacfwd(lambda x: x * 2)(mine(np.zeros(0))).shape == (0, 0)
    assert cf.jacrev(lambda x: x.sum())(mine(np.zeros(0))).shape == (0,)


# ---- composition -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "compose",
    [
        lambda m, f: m.jacfwd(m.jacrev(f)),
        lambda m, f: m.jacrev(m.jacfwd(f)),
        lambda m, f: m.jacrev(m.jacrev(f)),
        lambda m, f: m.jacfwd(m.grad(f)),
        lambda m, f: m.grad(lambda x: m.grad(f)(x).sum()),
    ],
    ids=["jacfwd(jacrev)", "jacrev(jacfwd)", "jacrev(jacrev)", "jacfwd(grad)", "grad(grad)"],
)
def test_transforms_compose_as_in_torch(compose):
    def f(lib, x):
        return (lib.tanh(x) ** 3).sum() * x[0]

    mine_f, torch_f = both(f)
    assert_same_tree(compose(cf, mine_f)(mine(A)), compose(tf, torch_f)(theirs(A)))


def test_jvp_of_grad_is_the_hessian_vector_product():
    f, g = both(lambda lib, x: (lib.tanh(x) ** 2).sum() * x.sum())
    assert_same_tree(
        cf.jvp(cf.grad(f), (mine(A),), (mine(U),)),
        tf.jvp(tf.grad(g), (theirs(A),), (theirs(U),)),
    )
    assert_same_tree(
        cf.jvp(cf.grad_and_value(f), (mine(A),), (mine(U),)),
        tf.jvp(tf.grad_and_value(g), (theirs(A),), (theirs(U),)),
    )


def test_grad_of_a_jvp_differentiates_through_the_tangent():
    def f(lib, functional, x):
        return functional.jvp(lib.sin, (x,), (x * x,))[1].sum()

    assert_same_tree(
        cf.grad(lambda x: f(chainrule, cf, x))(mine(A)),
        tf.grad(lambda x: f(torch, tf, x))(theirs(A)),
    )


def test_third_order_grad_grad_grad():
    def f(x):
        return x**4

    assert_same_tree(
        cf.grad(cf.grad(cf.grad(f)))(mine(1.5)), tf.grad(tf.grad(tf.grad(f)))(theirs(1.5))
    )


def test_vmap_of_grad_and_of_jacfwd():
    f, g = both(scalar_f)
    batch = RNG.standard_normal((4, 3))
    assert_same_tree(
        cf.vmap(cf.grad(f), in_dims=(0, None))(mine(batch), mine(B)),
        tf.vmap(tf.grad(g), in_dims=(0, None))(theirs(batch), theirs(B)),
    )
    assert_same_tree(
        cf.vmap(cf.jacfwd(lambda x: chainrule.sin(x) * x.sum()))(mine(batch)),
        tf.vmap(tf.jacfwd(lambda x: torch.sin(x) * x.sum()))(theirs(batch)),
    )


# ---- forward over forward ------------------------------------------------------------------

W1 = RNG.standard_normal((3, 3))
W2 = RNG.standard_normal((2, 3))
KERNEL = RNG.standard_normal((2, 1, 2))


def nested_cases():
    """Vector functions of a (3,) input, chainrule and torch spelled alike."""

    def polynomial(lib, x):
        return x**3 * x[0] - 2.0 * x**2 + x[1] * x[2]

    def tanh_exp_log(lib, x):
        return lib.log(1.0 + lib.exp(lib.tanh(x) * x)) * lib.exp(-x)

    def matmul(lib, x):
        return lib.from_numpy(W2.copy()) @ lib.tanh(lib.from_numpy(W1.copy()) @ x)

    def softmax(lib, x):
        return lib.softmax(x * x[0], 0)

    def norms(lib, x):
        return x / lib.linalg.vector_norm(x) + lib.linalg.vector_norm(x, 3) * x

    def conv(lib, x):
        image = lib.tanh(x).reshape(1, 1, 3)
        return lib.nn.functional.conv1d(image, lib.from_numpy(KERNEL.copy())).reshape(-1) ** 2

    return [polynomial, tanh_exp_log, matmul, softmax, norms, conv]


NESTED = nested_cases()


@pytest.mark.parametrize("function", NESTED, ids=[f.__name__ for f in NESTED])
def test_jvp_of_jvp_matches_torch(function):
    """The second directional derivative D^2 f(x)[u, v]: a jvp (in v) inside a jvp (in u)."""
    f, g = both(function)

    def inner(functional, f, direction):
        return lambda x: functional.jvp(f, (x,), (direction,))[1]

    assert_same_tree(
        cf.jvp(inner(cf, f, mine(V)), (mine(A),), (mine(U),)),
        tf.jvp(inner(tf, g, theirs(V)), (theirs(A),), (theirs(U),)),
    )


@pytest.mark.parametrize("function", NESTED, ids=[f.__name__ for f in NESTED])
def test_jacfwd_of_jacfwd_matches_torch_and_reverse_over_reverse(function):
    f, g = both(function)
    second = cf.jacfwd(cf.jacfwd(f))(mine(A))
    assert second.shape == tuple(f(mine(A)).shape) + (3, 3)
    assert_same_tree(second, tf.jacfwd(tf.jacfwd(g))(theirs(A)))
    assert_same_tree(second, cf.jacrev(cf.jacrev(f))(mine(A)))
    assert_same_tree(cf.jacrev(cf.jacfwd(f))(mine(A)), second)  # reverse over forward


@pytest.mark.parametrize("function", NESTED, ids=[f.__name__ for f in NESTED])
def test_hessian_matches_torch_and_forward_over_forward(function):
    f, g = both(lambda lib, x: (function(lib, x) ** 2).sum())
    curvature = cf.hessian(f)(mine(A))
    assert_same_tree(curvature, tf.hessian(g)(theirs(A)))
    assert_same_tree(curvature, cf.jacfwd(cf.jacfwd(f))(mine(A)))


def test_forward_over_forward_is_exact():
    """A polynomial's derivatives, to the third, are the exact numbers (no rounding to see)."""
    x = mine([1.0, 2.0, -3.0])

    def f(x):
        return (x**3).sum() + x[0] * x[1] * x[2]

    hessian = cf.jacfwd(cf.jacfwd(f))(x)
    expected = np.diag([6.0, 12.0, -18.0]) + np.array([[0, -3, 2], [-3, 0, 1], [2, 1, 0]])
    np.testing.assert_array_equal(hessian.numpy(), expected)
    third = cf.jacfwd(cf.jacfwd(cf.jacfwd(f)))(x).numpy()
    expected_third = np.zeros((3, 3, 3))
    for i in range(3):
        expected_third[i, i, i] = 6.0
    for i, j, k in ((0, 1, 2), (0, 2, 1), (1, 0, 2), (1, 2, 0), (2, 0, 1), (2, 1, 0)):
        expected_third[i, j, k] = 1.0
    np.testing.assert_array_equal(third, expected_third)
    _, second = cf.jvp(lambda x: cf.jvp(f, (x,), (mine([1.0, 0, 0]),))[1], (x,), (x,))
    assert second.item() == 6.0 * 1.0 + 0 * 1.0 + (-3.0) * 2.0 + 2.0 * -3.0  # e0^T H x


def test_nested_jvps_do_not_confuse_their_perturbations():
    """d/dx [x * d/dy (x + y)] = 1, not 2 (Siskind and Pearlmutter): the inner jvp's tangent
    belongs to its own level, x's outer tangent does not leak into it."""

    def f(x):
        return x * cf.jvp(lambda y: x + y, (mine(1.0),), (mine(1.0),))[1]

    assert cf.jvp(f, (mine(2.0),), (mine(1.0),))[1].item() == 1.0
    assert (
        tf.jvp(
            lambda x: x * tf.jvp(lambda y: x + y, (theirs(1.0),), (theirs(1.0),))[1],
            (theirs(2.0),),
            (theirs(1.0),),
        )[1].item()
        == 1.0
    )


def test_an_inner_tangent_that_carries_an_outer_tangent():
    """jvp(sin, (x,), (x,)) inside a jvp in x: the inner tangent x is itself dual."""

    def f(lib, functional, x):
        return functional.jvp(lib.sin, (x,), (x,))[1]

    assert_same_tree(
        cf.jvp(lambda x: f(chainrule, cf, x), (mine(A),), (mine(U),)),
        tf.jvp(lambda x: f(torch, tf, x), (theirs(A),), (theirs(U),)),
    )


def test_third_order_mixes_forward_and_reverse():
    def f(lib, x):
        return (lib.tanh(x) ** 2).sum() * x[0]

    mine_f, torch_f = both(f)
    assert_same_tree(
        cf.jacfwd(cf.jacfwd(cf.grad(mine_f)))(mine(A)),
        tf.jacfwd(tf.jacfwd(tf.grad(torch_f)))(theirs(A)),
    )
    assert_same_tree(
        cf.jacrev(cf.hessian(mine_f))(mine(A)), tf.jacrev(tf.hessian(torch_f))(theirs(A))
    )


@pytest.mark.parametrize(
    "compose",
    [
        lambda m, f: m.vmap(m.jacfwd(m.jacfwd(f))),
        lambda m, f: m.jacfwd(m.vmap(m.jacfwd(f))),
        lambda m, f: m.vmap(lambda x: m.jvp(lambda y: m.jvp(f, (y,), (y,))[1], (x,), (x * x,))[1]),
    ],
    ids=["vmap(jacfwd(jacfwd))", "jacfwd(vmap(jacfwd))", "vmap(jvp(jvp))"],
)
def test_forward_over_forward_inside_and_around_vmap_matches_torch(compose):
    def f(lib, x):
        return lib.sin(x) * x.sum()

    batch = RNG.standard_normal((4, 3))
    mine_f, torch_f = both(f)
    assert_same_tree(compose(cf, mine_f)(mine(batch)), compose(tf, torch_f)(theirs(batch)))


def test_jet_gives_the_derivatives_along_a_path_as_jax_documents():
    """JAX's example: for x(s) = x + t1 s + t2 s**2 / 2, f2 = f''(x) t1**2 + f'(x) t2."""
    x, t1, t2 = 1.5, 2.0, -0.5
    value, (f1, f2) = cf.jet(lambda z: z**3, (mine(x),), ((mine(t1), mine(t2)),))
    assert value.item() == x**3
    assert np.isclose(f1.item(), 3 * x**2 * t1, rtol=1e-14)
    assert np.isclose(f2.item(), 6 * x * t1**2 + 3 * x**2 * t2, rtol=1e-14)
    _, terms = cf.jet(chainrule.sin, (np.array(0.3),), ((np.array(1.0), 0.0, 0.0, 0.0),))
    assert all(isinstance(term, np.ndarray) for term in terms)  # NumPy in, NumPy out
    np.testing.assert_allclose(terms, [np.cos(0.3), -np.sin(0.3), -np.cos(0.3), np.sin(0.3)])


def test_jet_matches_nested_jvps_in_torch():
    """With x_1 = v and no other term, y_k is the k-th directional derivative."""
    f, g = both(lambda lib, x: lib.tanh(x) * lib.exp(x.sum()))
    zero = np.zeros(3)
    _, terms = cf.jet(f, (mine(A),), ((mine(U), mine(zero), mine(zero)),))
    direction = theirs(U)

    def along(function):
        return lambda x: tf.jvp(function, (x,), (direction,))[1]

    expected = [along(g), along(along(g)), along(along(along(g)))]
    for term, derivative in zip(terms, expected):
        assert_same_tree(term, derivative(theirs(A)))


def test_jet_checks_its_arguments():
    with pytest.raises(TypeError, match="tuple"):
        cf.jet(chainrule.sin, mine(A), (mine(U),))
    with pytest.raises(ShapeError, match="series"):
        cf.jet(chainrule.mul, (mine(A), mine(B)), ((mine(U),),))
    with pytest.raises(ShapeError, match="same number"):
        cf.jet(chainrule.mul, (mine(A), mine(B)), ((mine(U),), (mine(U), mine(V))))


# ---- per-sample gradients with functional_call -------------------------------------------------


def _mlps():
    torch.manual_seed(0)
    torch_model = torch.nn.Sequential(
        torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 2)
    ).double()
    model = chainrule.nn.Sequential(
        chainrule.nn.Linear(3, 5), chainrule.nn.Tanh(), chainrule.nn.Linear(5, 2)
    ).double()
    for name, parameter in torch_model.named_parameters():
        dict(model.named_parameters())[name].data = mine(parameter.detach().numpy())
    return model, torch_model


def test_functional_call_matches_torch_and_restores_the_module():
    model, torch_model = _mlps()
    replaced = {name: mine(RNG.standard_normal(p.shape)) for name, p in model.named_parameters()}
    torch_replaced = {name: theirs(value.numpy()) for name, value in replaced.items()}
    x = RNG.standard_normal((4, 3))
    assert_same_tree(
        cf.functional_call(model, replaced, (mine(x),)),
        tf.functional_call(torch_model, torch_replaced, (theirs(x),)),
    )
    assert_same_tree(model(mine(x)), torch_model(theirs(x)))  # the originals are back
    first, second = dict(list(replaced.items())[:2]), dict(list(replaced.items())[2:])
    assert_same_tree(
        cf.functional_call(model, (first, second), mine(x)),
        tf.functional_call(torch_model, (torch_replaced,), theirs(x)),
    )
    for lib, f, wrap, names in ((chainrule, cf, mine, first), (torch, tf, theirs, torch_replaced)):
        partial = {name: names[name] for name in list(names)[:2]}
        with pytest.raises(RuntimeError) as error:  # PyTorch's error, naming the keys
            f.functional_call(
                model if lib is chainrule else torch_model,
                {**partial, "extra": names[next(iter(partial))]},
                (wrap(x),),
                strict=True,
            )
        message = str(error.value)
        assert message.startswith("Error(s) in reparametrizing for Sequential:")
        assert "Unexpected key(s): 'extra'." in message and "\tMissing key(s): '" in message


def test_functional_call_sets_other_names_as_attributes_for_the_call_as_torch():
    """A name that is no parameter or buffer is a plain attribute during the call (a new one is
    removed afterwards, a tensor attribute replaced and put back), as torch.func's; replacing a
    non-tensor attribute is a TypeError, naming a missing submodule an AttributeError."""

    def build(lib):
        class Scaled(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = lib.nn.Linear(2, 1).double()
                self.gain = lib.ones(1, dtype=lib.float64)
                self.label = "plain"

            def forward(self, x):
                extra = getattr(self.lin, "offset", 0.0)
                return self.lin(x) * self.gain + extra

        model = Scaled()
        with lib.no_grad():
            model.lin.weight.copy_(lib.tensor([[0.5, -1.0]]))
            model.lin.bias.fill_(0.25)
        return model

    x = RNG.standard_normal((3, 2))
    results = []
    for lib, f in ((chainrule, cf), (torch, tf)):
        model = build(lib)
        gain = lib.tensor([3.0], dtype=lib.float64, requires_grad=True)
        offset = lib.tensor([0.5], dtype=lib.float64)
        out = f.functional_call(model, {"gain": gain, "lin.offset": offset}, (lib.tensor(x),))
        (grad,) = lib.autograd.grad(out.sum(), gain)
        results.append([out.detach().numpy(), grad.numpy(), model(lib.tensor(x)).detach().numpy()])
        assert not hasattr(model.lin, "offset") and model.gain.tolist() == [1.0]
        with pytest.raises(TypeError, match="attribute `label`: plain is not an instance"):
            f.functional_call(model, {"label": offset}, (lib.tensor(x),))
        with pytest.raises(AttributeError, match="has no attribute `nope`"):
            f.functional_call(model, {"nope.weight": offset}, (lib.tensor(x),))
        assert model.label == "plain"
    for ours, theirs_ in zip(*results):
        np.testing.assert_allclose(ours, theirs_, rtol=1e-12)


def test_per_sample_gradients_of_an_mlp_by_vmap_of_grad():
    model, torch_model = _mlps()
    inputs, targets = RNG.standard_normal((6, 3)), RNG.standard_normal((6, 2))

    def loss(functional, lib, module, params, x, y):
        prediction = functional.functional_call(module, params, (x.unsqueeze(0),))
        return ((prediction - y.unsqueeze(0)) ** 2).mean()

    params = {name: p.detach() for name, p in model.named_parameters()}
    torch_params = {name: p.detach() for name, p in torch_model.named_parameters()}
    per_sample = cf.vmap(
        cf.grad(lambda p, x, y: loss(cf, chainrule, model, p, x, y)), in_dims=(None, 0, 0)
    )(params, mine(inputs), mine(targets))
    expected = tf.vmap(
        tf.grad(lambda p, x, y: loss(tf, torch, torch_model, p, x, y)), in_dims=(None, 0, 0)
    )(torch_params, theirs(inputs), theirs(targets))
    assert_same_tree(per_sample, expected)
    assert per_sample["0.weight"].shape == (6, 5, 3)


def test_functional_call_ties_weights_as_torch():
    def tied(nn):
        model = nn.Sequential(nn.Linear(3, 3), nn.Tanh(), nn.Linear(3, 3)).double()
        model[2].weight = model[0].weight
        return model

    model, torch_model = tied(chainrule.nn), tied(torch.nn)
    weight = RNG.standard_normal((3, 3))
    x = RNG.standard_normal((2, 3))
    for tie in (True, False):
        params = {
            "0.weight": weight,
            "0.bias": A,
            "2.bias": B,
        }
        mine_out = cf.functional_call(
            model, {k: mine(v) for k, v in params.items()}, (mine(x),), tie_weights=tie
        )
        torch_out = tf.functional_call(
            torch_model, {k: theirs(v) for k, v in params.items()}, (theirs(x),), tie_weights=tie
        )
        if tie:
            assert_same_tree(mine_out, torch_out)
        else:  # the other name keeps the module's own (random) weight in both libraries
            expected = np.tanh(x @ weight.T + A) @ model[2].weight.detach().numpy().T + B
            assert_same_tree(mine_out, expected)


@pytest.mark.parametrize(
    "name, f",
    [
        ("z * c", lambda lib, z, c: (z * c).sum()),
        ("z * c * z", lambda lib, z, c: (z * c * z).sum()),
        ("c * z", lambda lib, z, c: (c * z).sum()),
        ("addcmul(z, c, z)", lambda lib, z, c: lib.addcmul(z, c, z).sum()),
        ("where(c > 1, z, c) ** 3", lambda lib, z, c: (lib.where(c > 1, z, c) ** 3).sum()),
    ],
)
def test_a_constant_sharing_the_points_memory_is_a_constant(name, f):
    """c = x.detach() shares x's memory; it must not be differentiated as if it were z (issue:
    the saved value was matched to the input by its array, so it took z's tangent)."""
    x = chainrule.tensor([1.0, 2.0, 3.0], dtype=chainrule.float64)
    c = x.detach()
    mine = cf.hessian(lambda z: f(chainrule, z, c))(x)
    x_t = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    c_t = x_t.detach()
    theirs = tf.hessian(lambda z: f(torch, z, c_t))(x_t)
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), err_msg=name)
    np.testing.assert_allclose(cf.jacrev(cf.grad(lambda z: f(chainrule, z, c)))(x).numpy(), theirs)


def test_stack_module_state_and_an_ensemble_through_vmap_match_torch():
    rng = np.random.default_rng(0)
    weights = [(rng.standard_normal((2, 3)), rng.standard_normal(2)) for _ in range(4)]

    def models(lib):
        built = []
        for w, b in weights:
            layer = lib.nn.Linear(3, 2)
            with lib.no_grad():
                layer.weight.copy_(lib.tensor(w, dtype=lib.float32))
                layer.bias.copy_(lib.tensor(b, dtype=lib.float32))
            built.append(layer)
        return built

    x = rng.standard_normal((5, 3)).astype(np.float32)
    outputs = []
    for lib, func in ((torch, tf), (chainrule, cf)):
        ensemble = models(lib)
        params, buffers = func.stack_module_state(ensemble)
        assert params["weight"].is_leaf and params["weight"].requires_grad
        assert tuple(params["weight"].shape) == (4, 2, 3) and not buffers

        def run(p, b, inputs, base=ensemble[0], func=func):
            return func.functional_call(base, (p, b), (inputs,))

        outputs.append(func.vmap(run, in_dims=(0, 0, None))(params, buffers, lib.tensor(x)))
    np.testing.assert_allclose(outputs[1].detach().numpy(), outputs[0].detach().numpy(), rtol=1e-6)
    with pytest.raises(GradError, match="at least one model"):
        cf.stack_module_state([])


def test_jacfwd_refuses_complex_inputs_with_torchs_runtime_error():
    z = [1 + 2j, 0.5 - 1j]
    with pytest.raises(RuntimeError, match="Expected all inputs to be real"):
        tf.jacfwd(lambda v: v * v)(torch.tensor(z))
    with pytest.raises(RuntimeError, match="Expected all inputs to be real .* idx: 0"):
        cf.jacfwd(lambda v: v * v)(chainrule.tensor(z))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda f, y, z: f.jacrev(lambda v: v.abs())(z), "jacrev: .* all inputs .* idx: 0"),
        (lambda f, y, z: f.jacrev(lambda v, w: v * w.abs())(y, z), "jacrev: .* inputs .* idx: 1"),
        (lambda f, y, z: f.jacfwd(lambda v, w: v * w.abs())(y, z), "jacfwd: .* inputs .* idx: 1"),
        (lambda f, y, z: f.jacrev(lambda v: v * 1j)(y), "jacrev: .* all outputs .* idx: 0"),
        (
            lambda f, y, z: f.jacrev(lambda v: {"r": v, "c": v * 1j})(y),
            "jacrev: .* outputs .* idx: 1",
        ),
        (lambda f, y, z: f.jacfwd(lambda v: (v, v * 1j))(y), "jacfwd: .* all outputs .* idx: 1"),
        (
            lambda f, y, z: f.hessian(lambda v: (v * 1j).sum())(y),
            "jacrev: .* all outputs .* idx: 0",
        ),
    ],
)
def test_jacobians_of_complex_functions_are_torchs_runtime_error(call, message):
    """torch.func's jacrev / jacfwd / hessian refuse a complex tensor among all positional
    arguments (argnums or not) and among the outputs, naming its flattened index; a complex
    aux is fine. (chainrule's jacrev returned the real part's Jacobian before.)"""
    for lib, f in ((torch, tf), (chainrule, cf)):
        y, z = lib.tensor([1.0, 2.0]), lib.tensor([1 + 2j, 3 - 1j])
        with pytest.raises(RuntimeError, match=message):
            call(f, y, z)
        jacobian, aux = f.jacrev(lambda v: (v * 2, v * 1j), has_aux=True)(y)
        assert jacobian.tolist() == [[2.0, 0.0], [0.0, 2.0]] and aux.is_complex()


@pytest.mark.parametrize(
    "loss",
    [
        lambda lib, a: (a * (1 + 2j)).real.sum(),
        lambda lib, a: a.to(lib.complex128).abs().sum(),
        lambda lib, a: lib.view_as_real(lib.complex(a, a * 2)).pow(2).sum(),
        lambda lib, a: lib.fft.rfft(a).abs().pow(2).sum() + lib.fft.fft(a).angle().sum(),
        lambda lib, a: lib.linalg.eigvals(lib.outer(a, a.flip(0)) + lib.diag(a)).abs().sum(),
    ],
)
def test_per_example_gradients_through_complex_intermediates_match_torch(loss):
    """vmap(grad(f)) where f goes real -> complex -> real (a spectrum, eigenvalues): the
    batched node must make complex outputs differentiable too, or every gradient is zero."""
    x = RNG.standard_normal((3, 4))
    ours = cf.vmap(cf.grad(lambda a: loss(chainrule, a)))(mine(x))
    expected = tf.vmap(tf.grad(lambda a: loss(torch, a)))(theirs(x))
    np.testing.assert_allclose(ours.numpy(), expected.numpy(), rtol=1e-10, atol=1e-12)
    z = RNG.standard_normal((3, 2)) + 1j * RNG.standard_normal((3, 2))
    ours = cf.vmap(cf.grad(lambda t: (t * t.conj() * 3).real.sum()))(chainrule.tensor(z))
    expected = tf.vmap(tf.grad(lambda t: (t * t.conj() * 3).real.sum()))(torch.tensor(z))
    np.testing.assert_allclose(ours.numpy(), expected.numpy(), rtol=1e-12)


def test_jvp_strict_refuses_an_output_independent_of_the_inputs_as_torch():
    for lib in (chainrule, torch):
        ones = lib.ones(2)
        out = lib.func.jvp(lambda x: x * 2, (ones,), (ones,), strict=True)
        assert out[1].tolist() == [2.0, 2.0]
        for function in (lambda x, lib=lib: lib.ones(2), lambda x, lib=lib: (x * 2, lib.ones(2))):
            with pytest.raises(RuntimeError, match="independent of the inputs"):
                lib.func.jvp(function, (ones,), (ones,), strict=True)
