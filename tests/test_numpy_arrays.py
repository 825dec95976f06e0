"""The rule of chainrule.numpy: values inside chainrule.numpy code behave as NumPy arrays.

Every function of the namespace returns a chainrule.numpy.ndarray (a Tensor with NumPy's
attributes, methods, operators and indexing), the func transforms hand NumPy data to the
function as ndarrays, and plain Tensors keep PyTorch's behaviour. Each idiom is checked
against NumPy itself, and its gradient against the same program written with explicit
chainrule.numpy calls or against finite differences.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule
import chainrule.numpy as cnp
from chainrule.autograd import gradcheck, gradgradcheck
from chainrule.func import grad, hessian, jacfwd, jacrev, jvp

RNG = np.random.default_rng(3)
DATA = RNG.uniform(-2, 2, size=(3, 4))


def _values(x):
    return x.detach().numpy() if isinstance(x, chainrule.Tensor) else np.asarray(x)


def _same(mine, theirs):
    theirs = np.asarray(theirs)
    actual = _values(mine)
    assert isinstance(mine, cnp.ndarray), f"expected a cnp.ndarray, got {type(mine).__name__}"
    assert actual.shape == theirs.shape and actual.dtype == theirs.dtype
    np.testing.assert_allclose(actual, theirs, rtol=1e-12, atol=1e-12)


def test_results_are_numpy_behaving_tensors():
    x = cnp.asarray(DATA)
    assert isinstance(x, cnp.ndarray) and isinstance(x, chainrule.Tensor)
    assert x.dtype == np.float64 and x.dtype.type is np.float64 and x.dtype.kind == "f"
    assert x.size == DATA.size and isinstance(x.size, int)
    assert (x.shape, x.ndim, x.itemsize, x.nbytes) == (
        DATA.shape,
        DATA.ndim,
        DATA.itemsize,
        DATA.nbytes,
    )
    assert len(x) == 3 and all(isinstance(row, cnp.ndarray) for row in x)
    assert repr(cnp.array([1.0, 2.0])) == repr(np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match="cnp.array"):
        cnp.ndarray((2, 3))


INDEXING_KEYS = [
    np.s_[::-1],
    np.s_[::-2],
    np.s_[1::-1],
    np.s_[-1:0:-1],
    np.s_[5:-9:-1],
    np.s_[:, ::-1],
    np.s_[::-1, 1:3],
    np.s_[::-1, ::-3],
    np.s_[None, ..., ::-1],
    np.s_[..., 2:0:-1],
    np.s_[1, ::-1],
    np.s_[::-1, [0, 2]],
    np.s_[DATA[:, 0] > 0, ::-1],
    np.s_[[2, 0], 1],
]


@pytest.mark.parametrize("key", INDEXING_KEYS, ids=[str(k) for k in range(len(INDEXING_KEYS))])
def test_indexing_follows_numpy_including_negative_steps(key):
    _same(cnp.asarray(DATA)[key], DATA[key])


def test_plain_tensors_keep_pytorch_semantics():
    t = chainrule.tensor([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(ValueError, match="step must be greater than zero"):
        t[::-1]
    assert t.size() == (2, 2) and t.size(1) == 2
    assert t.dtype is chainrule.float32
    assert (t == (1, 2)) is False  # PyTorch compares a tensor with a tuple as objects


def test_negative_step_gradient_matches_flip():
    def reversed_weights(x):
        return cnp.sum(x[::-1, ::-2] * np.arange(6.0).reshape(3, 2))

    def flipped(x):
        return cnp.sum(cnp.flip(x)[:, ::2] * np.arange(6.0).reshape(3, 2))

    np.testing.assert_array_equal(grad(reversed_weights)(DATA), grad(flipped)(DATA))
    tensor = chainrule.tensor(DATA, dtype=chainrule.float64, requires_grad=True)
    assert gradgradcheck(lambda x: cnp.asarray(x)[::-1, 1::-1] ** 3, [tensor])


def test_methods_take_numpy_arguments():
    x, a = cnp.asarray(DATA), DATA
    cases = [
        (x.sum(axis=0), a.sum(axis=0)),
        (x.mean(axis=1, keepdims=True), a.mean(axis=1, keepdims=True)),
        (x.max(axis=1), a.max(axis=1)),
        (x.min(), a.min()),
        (x.std(ddof=1), a.std(ddof=1)),
        (x.var(axis=0), a.var(axis=0)),
        (x.prod(axis=1), a.prod(axis=1)),
        (x.cumsum(axis=1), a.cumsum(axis=1)),
        (x.argmax(axis=0), a.argmax(axis=0)),
        (x.reshape(4, 3), a.reshape(4, 3)),
        (x.reshape((2, -1)), a.reshape((2, -1))),
        (x.reshape(4, 3, order="F"), a.reshape(4, 3, order="F")),
        (x.transpose(), a.transpose()),
        (x.transpose(1, 0), a.transpose(1, 0)),
        (x.T, a.T),
        (x.flatten(), a.flatten()),
        (x.ravel(), a.ravel()),
        (x.astype(np.float32), a.astype(np.float32)),
        (x.astype(int), a.astype(int)),
        (x.clip(-1, 1), a.clip(-1, 1)),
        (x.round(1), a.round(1)),
        (x.repeat(2, axis=1), a.repeat(2, axis=1)),
        (x.swapaxes(0, 1), a.swapaxes(0, 1)),
        (x.dot(a.T), a.dot(a.T)),
        (x.diagonal(), a.diagonal()),
        (x.trace(), a.trace()),
        (x.take([0, 5]), a.take([0, 5])),
        (x.copy(), a.copy()),
        (x.real, a.real),
        (x.imag, a.imag),
        (x.all(), a.all()),
        (x.any(axis=0), a.any(axis=0)),
    ]
    for mine, theirs in cases:
        _same(mine, theirs)


def test_operators_follow_numpy_promotion_and_compare_elementwise():
    ints = cnp.array([1, 2, 3])
    _same(ints / 2, np.array([1, 2, 3]) / 2)  # int / int is float64, as NumPy
    _same(ints // 2, np.array([1, 2, 3]) // 2)
    _same(2**ints, 2 ** np.array([1, 2, 3]))
    _same(cnp.asarray(DATA.astype(np.float32)) * 2.5, DATA.astype(np.float32) * 2.5)
    _same(ints == (1, 5, 3), np.array([True, False, True]))
    _same(ints != [1, 5, 3], np.array([False, True, False]))
    _same((ints > 1) & (ints < 3), np.array([False, True, False]))
    _same(~(ints > 1), np.array([True, False, False]))
    _same(-cnp.asarray(DATA), -DATA)
    _same(abs(cnp.asarray(DATA)), abs(DATA))
    _same(cnp.asarray(DATA) @ DATA.T, DATA @ DATA.T)
    _same(DATA.T @ cnp.asarray(DATA), DATA.T @ DATA)  # NumPy on the left: it defers to us
    _same(np.ones(4) + cnp.asarray(DATA), np.ones(4) + DATA)
    _same(
        chainrule.tensor(DATA, dtype=chainrule.float32) + cnp.asarray(DATA),
        DATA.astype(np.float32) + DATA,
    )
    x = cnp.asarray(DATA.copy())
    x += 1  # in place, as NumPy
    _same(x, DATA + 1)


def test_numpy_functions_on_ndarrays_run_chainrule_numpy():
    x = cnp.asarray(DATA)
    _same(np.sum(x, axis=0), np.sum(DATA, axis=0))
    _same(np.exp(x), np.exp(DATA))
    _same(np.linalg.norm(x), np.linalg.norm(DATA))
    _same(np.concatenate([x, x]), np.concatenate([DATA, DATA]))
    # and stay differentiable
    gradient = grad(lambda w: np.sum(np.tanh(w) * np.arange(4.0), axis=None))(DATA[0])
    np.testing.assert_allclose(gradient, (1 - np.tanh(DATA[0]) ** 2) * np.arange(4.0))
    # a NumPy function chainrule.numpy lacks runs on the values, unless they are differentiated
    assert np.add.reduce(cnp.asarray(DATA[0])) == pytest.approx(DATA[0].sum())
    with pytest.raises(TypeError, match=r"numpy.add.reduce is not in chainrule.numpy"):
        grad(lambda w: np.add.reduce(w))(DATA[0])


def test_the_transforms_hand_numpy_data_to_the_function_as_ndarrays():
    seen = []

    def f(x):
        seen.append(type(x))
        return (x[::-1] * x.size).sum()

    expected = np.full(3, 3.0)
    np.testing.assert_allclose(grad(f)(np.ones(3)), expected)
    np.testing.assert_allclose(jacrev(f)(np.ones(3)), expected)
    np.testing.assert_allclose(jacfwd(f)(np.ones(3)), expected)
    np.testing.assert_allclose(jvp(f, (np.ones(3),), (np.ones(3),))[1], 9.0)
    np.testing.assert_allclose(hessian(lambda x: (x[::-1] ** 3).sum())(np.ones(2)), 6 * np.eye(2))
    assert set(seen) == {cnp.ndarray}
    # a Tensor in: a Tensor inside, PyTorch's behaviour, as torch.func
    grad(lambda t: seen.append(type(t)) or t.sum())(chainrule.ones(2))
    assert seen[-1] is chainrule.Tensor


def test_gradients_reach_a_leaf_through_its_ndarray_alias():
    weights = chainrule.tensor([1.0, -2.0], dtype=chainrule.float64, requires_grad=True)
    x = cnp.asarray(weights)  # an alias: its gradient goes to `weights`
    loss = (x[::-1] * np.array([3.0, 4.0])).sum()
    loss.backward()
    np.testing.assert_array_equal(weights.grad.numpy(), [4.0, 3.0])
    leaf = cnp.array([1.0, 2.0])
    leaf.requires_grad_()
    (leaf**2).sum().backward()
    np.testing.assert_array_equal(leaf.grad.numpy(), [2.0, 4.0])


def test_item_assignment_is_recorded_as_numpy_writes():
    def f(w):
        out = cnp.zeros(4)
        out[::-2] = w**2  # out[3], out[1] = w[0]**2, w[1]**2
        out[0] = w[0] * w[1]
        return out

    w = np.array([1.5, -0.5])
    np.testing.assert_allclose(_values(f(w)), [-0.75, 0.25, 0.0, 2.25])
    np.testing.assert_allclose(jacrev(f)(w), [[-0.5, 1.5], [0, -1.0], [0, 0], [3.0, 0]])
    tensor = chainrule.tensor(w, dtype=chainrule.float64, requires_grad=True)
    assert gradcheck(f, [tensor])
    row = cnp.array([3.0, 1.0, 2.0])
    row.sort()
    _same(row, np.array([1.0, 2.0, 3.0]))


def test_tensor_methods_without_a_numpy_meaning_still_work():
    x = cnp.asarray(DATA)
    assert type(x.exp()) is chainrule.Tensor  # PyTorch's method, PyTorch's result
    assert x.as_tensor().dtype is chainrule.float64
    assert x.as_tensor().size() == DATA.shape
    np.testing.assert_allclose(x.exp().numpy(), np.exp(DATA))
    layer = chainrule.nn.Linear(4, 2).double()
    assert layer(x.as_tensor()).shape == (3, 2)


def test_a_custom_function_takes_an_ndarray():
    class Cube(chainrule.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * x * x * g

    values = np.array([0.5, -2.0])
    np.testing.assert_allclose(grad(lambda x: Cube.apply(x).sum())(values), 3 * values**2)
