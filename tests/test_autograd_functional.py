"""chainrule.autograd.functional against torch.autograd.functional: the same functions and
inputs, every combination of Tensor / tuple inputs and outputs, create_graph (the results
differentiated again), strict mode, and the errors."""

import numpy as np
import pytest
import torch
import torch.autograd.functional as TAF

import chainrule
import chainrule.autograd.functional as AF

RNG = np.random.default_rng(0)
X = RNG.uniform(-1.0, 1.0, size=(3,))
Y = RNG.uniform(-1.0, 1.0, size=(2, 3))
U = RNG.standard_normal(3)
W = RNG.standard_normal((2, 3))


def mine(array, requires_grad=False):
    return chainrule.from_numpy(np.array(array, dtype=np.float64)).requires_grad_(requires_grad)


def theirs(array, requires_grad=False):
    return torch.from_numpy(np.array(array, dtype=np.float64)).requires_grad_(requires_grad)


def convert(tree, to):
    if isinstance(tree, tuple):
        return tuple(convert(t, to) for t in tree)
    return to(tree)


def assert_same(actual, expected, graph=True):
    """Same nesting and values, and (with `graph`) requires_grad as torch's. torch's
    forward-mode jacobian nests lists where its documentation (and chainrule) says tuples, and
    leaves them in the graph without create_graph, so those are compared with graph=False."""
    if isinstance(expected, (tuple, list)):
        assert isinstance(actual, tuple) and len(actual) == len(expected), (actual, expected)
        for a, e in zip(actual, expected):
            assert_same(a, e, graph)
        return
    assert not isinstance(actual, tuple)
    a, e = actual.detach().numpy(), expected.detach().numpy()
    assert a.shape == e.shape, (a.shape, e.shape)
    np.testing.assert_allclose(a, e, rtol=1e-10, atol=1e-12)
    if graph:
        assert actual.requires_grad == expected.requires_grad


# Functions of one input or two, returning one tensor or a tuple; `lib` is chainrule or torch.
def one_to_one(lib, x):
    return lib.tanh(x) * x.sum()


def one_to_two(lib, x):
    return lib.sin(x), (x**2).sum()


def two_to_one(lib, x, y):
    return (y * lib.exp(x)).sum(0)


def two_to_two(lib, x, y):
    return x * y[0], lib.cos(y) @ x


CASES = {
    "tensor->tensor": (one_to_one, X, U),
    "tensor->tuple": (one_to_two, X, U),
    "tuple->tensor": (two_to_one, (X, Y), (U, W)),
    "tuple->tuple": (two_to_two, (X, Y), (U, W)),
}


def scalar_one(lib, x):
    return (lib.tanh(x) ** 3).sum() * x[0]


def scalar_two(lib, x, y):
    return (lib.sin(x) * y).sum() ** 2


SCALAR_CASES = {"tensor": (scalar_one, X, U), "tuple": (scalar_two, (X, Y), (U, W))}


def call(function, lib):
    return lambda *args: function(lib, *args)


def outputs_of(function, inputs):
    """v for vjp: one cotangent per output, as the output is a tensor or a tuple."""
    out = function(np, *inputs) if isinstance(inputs, tuple) else function(np, inputs)
    if isinstance(out, tuple):
        return tuple(RNG.standard_normal(np.shape(o)) for o in out)
    return RNG.standard_normal(np.shape(out))


# ---- vjp, jvp ---------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("create_graph", [False, True])
def test_vjp(case, create_graph):
    function, inputs, _ = CASES[case]
    v = outputs_of(function, inputs)
    result = AF.vjp(
        call(function, chainrule),
        convert(inputs, lambda a: mine(a, True)),
        convert(v, mine),
        create_graph=create_graph,
    )
    expected = TAF.vjp(
        call(function, torch),
        convert(inputs, lambda a: theirs(a, True)),
        convert(v, theirs),
        create_graph=create_graph,
    )
    assert_same(result, expected)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("create_graph", [False, True])
def test_jvp(case, create_graph):
    function, inputs, v = CASES[case]
    result = AF.jvp(
        call(function, chainrule),
        convert(inputs, lambda a: mine(a, True)),
        convert(v, mine),
        create_graph=create_graph,
    )
    expected = TAF.jvp(
        call(function, torch),
        convert(inputs, lambda a: theirs(a, True)),
        convert(v, theirs),
        create_graph=create_graph,
    )
    assert_same(result, expected)


def test_v_may_be_omitted_only_for_a_single_element():
    out, grad = AF.vjp(lambda x: (x**2).sum(), mine(X))
    assert_same((out, grad), TAF.vjp(lambda x: (x**2).sum(), theirs(X)))
    out, tangent = AF.jvp(lambda x: x * 3, mine([2.0]))
    assert_same((out, tangent), TAF.jvp(lambda x: x * 3, theirs([2.0])))
    with pytest.raises(RuntimeError, match="single element"):
        AF.vjp(lambda x: x * 2, mine(X))
    with pytest.raises(RuntimeError, match="single element"):
        AF.jvp(lambda x: x * 2, mine(X))


def test_errors_match_torch():
    with pytest.raises(TypeError, match="Tensor or a tuple of Tensors"):
        AF.vjp(lambda x: x, X)
    with pytest.raises(TypeError, match="Tensor or a tuple of Tensors"):
        TAF.vjp(lambda x: x, X)
    with pytest.raises(RuntimeError, match="invalid size"):
        AF.jvp(lambda x: x, mine(X), mine(U[:2]))
    with pytest.raises(RuntimeError, match="invalid size"):
        TAF.jvp(lambda x: x, theirs(X), theirs(U[:2]))
    with pytest.raises(RuntimeError, match="single Tensor"):
        AF.vjp(lambda x, y: x, (mine(X), mine(Y)), (mine(U), mine(U)))
    with pytest.raises(RuntimeError, match="invalid length"):
        AF.jvp(lambda x, y: x, (mine(X), mine(Y)), (mine(U),))
    with pytest.raises(RuntimeError, match="invalid length"):
        TAF.jvp(lambda x, y: x, (theirs(X), theirs(Y)), (theirs(U),))
    with pytest.raises(RuntimeError, match="single element"):
        AF.hessian(lambda x: x * 2, mine(X))
    with pytest.raises(RuntimeError, match="single element"):
        TAF.hessian(lambda x: x * 2, theirs(X))


def test_strict_mode_refuses_independent_outputs_as_torch():
    def independent(lib, x, y):
        return x * 2

    for lib, module, wrap in ((chainrule, AF, mine), (torch, TAF, theirs)):
        f = call(independent, lib)
        inputs = (wrap(X), wrap(Y))
        zeros = module.vjp(f, inputs, wrap(U))[1][1]
        assert not zeros.detach().numpy().any()  # not strict: a zero gradient
        with pytest.raises(RuntimeError, match="independent"):
            module.vjp(f, inputs, wrap(U), strict=True)
        with pytest.raises(RuntimeError, match="independent"):
            module.jacobian(f, inputs, strict=True)
        constant = wrap(U)
        with pytest.raises(RuntimeError, match="strict"):
            module.vjp(lambda x, u=constant: u, wrap(X), wrap(U), strict=True)


# ---- jacobian and hessian --------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("strategy", ["reverse-mode", "forward-mode"])
def test_jacobian(case, strategy):
    function, inputs, _ = CASES[case]
    result = AF.jacobian(
        call(function, chainrule), convert(inputs, mine), strategy=strategy, vectorize=True
    )
    expected = TAF.jacobian(
        call(function, torch), convert(inputs, theirs), strategy=strategy, vectorize=True
    )
    assert_same(result, expected, graph=strategy == "reverse-mode")
    assert not any(leaf.requires_grad for leaf in _leaves(result))


@pytest.mark.parametrize("case", CASES)
def test_jacobian_with_create_graph_is_differentiable(case):
    function, inputs, _ = CASES[case]
    my_inputs = convert(inputs, lambda a: mine(a, True))
    torch_inputs = convert(inputs, lambda a: theirs(a, True))
    result = AF.jacobian(call(function, chainrule), my_inputs, create_graph=True)
    expected = TAF.jacobian(call(function, torch), torch_inputs, create_graph=True)
    assert_same(result, expected)
    flat = [r for r in _leaves(result)]
    torch_flat = [e for e in _leaves(expected)]
    leaves = _leaves(my_inputs)
    torch_leaves = _leaves(torch_inputs)
    total = sum((r * r).sum() for r in flat)
    torch_total = sum((e * e).sum() for e in torch_flat)
    assert_same(
        chainrule.autograd.grad(total, leaves, allow_unused=True, materialize_grads=True),
        torch.autograd.grad(torch_total, torch_leaves, allow_unused=True, materialize_grads=True),
    )


def _leaves(tree):
    if isinstance(tree, tuple):
        return tuple(leaf for part in tree for leaf in _leaves(part))
    return (tree,)


@pytest.mark.parametrize("case", SCALAR_CASES)
@pytest.mark.parametrize("outer", ["reverse-mode", "forward-mode"])
def test_hessian(case, outer):
    function, inputs, _ = SCALAR_CASES[case]
    result = AF.hessian(
        call(function, chainrule), convert(inputs, mine), outer_jacobian_strategy=outer
    )
    expected = TAF.hessian(
        call(function, torch),
        convert(inputs, theirs),
        outer_jacobian_strategy=outer,
        vectorize=outer == "forward-mode",
    )
    assert_same(result, expected, graph=outer == "reverse-mode")
    assert not any(leaf.requires_grad for leaf in _leaves(result))


def test_hessian_with_create_graph_gives_third_derivatives():
    x, torch_x = mine(X, True), theirs(X, True)
    result = AF.hessian(call(scalar_one, chainrule), x, create_graph=True)
    expected = TAF.hessian(call(scalar_one, torch), torch_x, create_graph=True)
    assert_same(result, expected)
    assert_same(
        chainrule.autograd.grad(result.sum(), x), torch.autograd.grad(expected.sum(), torch_x)
    )


# ---- hvp, vhp --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["hvp", "vhp"])
@pytest.mark.parametrize("case", SCALAR_CASES)
@pytest.mark.parametrize("create_graph", [False, True])
def test_hessian_vector_products(name, case, create_graph):
    function, inputs, v = SCALAR_CASES[case]
    my_inputs = convert(inputs, lambda a: mine(a, True))
    torch_inputs = convert(inputs, lambda a: theirs(a, True))
    result = getattr(AF, name)(
        call(function, chainrule), my_inputs, convert(v, mine), create_graph=create_graph
    )
    expected = getattr(TAF, name)(
        call(function, torch), torch_inputs, convert(v, theirs), create_graph=create_graph
    )
    assert_same(result, expected)
    if create_graph:  # differentiate H v once more: third derivatives, against torch
        total = sum((r**2).sum() for r in _leaves(result[1]))
        torch_total = sum((e**2).sum() for e in _leaves(expected[1]))
        assert_same(
            chainrule.autograd.grad(total, _leaves(my_inputs)),
            torch.autograd.grad(torch_total, _leaves(torch_inputs)),
        )


def test_hvp_of_a_function_whose_output_does_not_depend_on_an_input():
    def f(lib, x, y):
        return (x**3).sum()

    result = AF.hvp(call(f, chainrule), (mine(X), mine(Y)), (mine(U), mine(W)))
    expected = TAF.hvp(call(f, torch), (theirs(X), theirs(Y)), (theirs(U), theirs(W)))
    assert_same(result, expected)
    with pytest.raises(RuntimeError, match="independent"):
        AF.hvp(call(f, chainrule), (mine(X), mine(Y)), (mine(U), mine(W)), strict=True)
