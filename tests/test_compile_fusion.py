"""chainrule.compile with elementwise fusion (compiler/fusion.py, numba installed): runs of
elementwise steps evaluated by one JIT-compiled call give what eager gives.

Bit for bit where the fused code does the same IEEE operations in the same order (+, -, *, /,
negation, tanh's backward); `tanh` itself is the C library's, which may differ from NumPy's
SIMD tanh in the last place, so anything downstream of a fused tanh is compared with a
tolerance of a few float32 ulps per step.
"""

import numpy as np
import pytest

import chainrule
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.compiler import fusion

pytest.importorskip("numba")


@pytest.fixture(autouse=True)
def _fusion_on(monkeypatch):
    monkeypatch.setattr(fusion, "JIT", True)


def _array(shape, dtype, seed=0, low=-2.0, high=2.0):
    rng = np.random.default_rng(seed)
    return chainrule.from_numpy(rng.uniform(low, high, shape).astype(dtype))


# Three-step chains (the shortest run that is fused): each step makes the next one's input.
ARITHMETIC = {
    "mul_scalar": lambda x, y: (x * 1.0001) * 3 * 0.7,
    "div_scalar": lambda x, y: (x / 3) / 7.5 / 0.1,
    "add_scalar": lambda x, y: (x + 0.001) + 5 + 1e-7,
    "sub_scalar": lambda x, y: (x - 0.25) - 2 - 1e-7,
    "add": lambda x, y: (x + y) + x + y,
    "sub": lambda x, y: (x - y) - y - x,
    "mul": lambda x, y: (x * y) * y * x,
    "neg": lambda x, y: (-(x * 2)).neg(),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ARITHMETIC)
def test_fused_arithmetic_equals_eager_bit_for_bit(name, dtype):
    function = ARITHMETIC[name]
    compiled = chainrule.compile(function)
    for seed in (0, 1, 2):  # capture, then two replays on new values
        x, y = _array((5, 7), dtype, seed), _array((5, 7), dtype, seed + 10)
        expected = function(x, y).numpy()
        actual = compiled(x, y).numpy()
        assert actual.dtype == expected.dtype
        np.testing.assert_array_equal(actual, expected)
    assert len(compiled.program.fused_groups) == 1


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_tanh_and_its_backward_are_within_an_ulp_of_eager(dtype):
    def step(x):
        y = chainrule.tanh(chainrule.tanh(x * 0.9) + 0.1)
        y.sum().backward()
        return y

    eager_x, compiled_x = _array((3, 300), dtype, 3), _array((3, 300), dtype, 3)
    eager_x.requires_grad_(True)
    compiled_x.requires_grad_(True)
    compiled = chainrule.compile(step)
    for _ in range(3):
        expected, actual = step(eager_x), compiled(compiled_x)
    assert compiled.program.fused_groups
    # An ulp of tanh's O(1) values, carried through `+ 0.1` (whose sum may cancel to near 0):
    # absolute error of a few eps, and relative error of a few eps for the larger values.
    eps = np.finfo(dtype).eps
    close = {"rtol": 4 * eps, "atol": 4 * eps}
    np.testing.assert_allclose(actual.detach().numpy(), expected.detach().numpy(), **close)
    np.testing.assert_allclose(compiled_x.grad.numpy(), eager_x.grad.numpy(), **close)


def test_the_w1_chain_fuses_into_two_calls_over_a_few_rows_and_accumulates_like_eager():
    """W1's shape: a chain of 60 small ops on a leaf, backward, no zero_grad: one fused call
    for the forward and one for the backward, their values in a handful of reused rows."""

    def make():
        x = chainrule.ones(8, requires_grad=True)

        def step():
            y = x
            for i in range(60):
                y = (y * 1.0001, y + 0.001, chainrule.tanh(y))[i % 3]
            y.sum().backward()

        return x, step

    eager_x, eager_step = make()
    compiled_x, compiled_step = make()
    compiled_step = chainrule.compile(compiled_step)
    for _ in range(4):
        eager_step()
        compiled_step()
    np.testing.assert_allclose(compiled_x.grad.numpy(), eager_x.grad.numpy(), rtol=1e-5)
    groups = compiled_step.program.fused_groups
    assert len(groups) == 2
    # The backward reads the forward's 20 tanh outputs, which keep their rows until then;
    # the other 40 values of the forward and the backward's own values share a few rows.
    assert groups[0].bank.rows <= 20 + 4


def test_long_chains_of_arithmetic_stay_bit_for_bit_over_many_blocks():
    """More elements than one block of the interpreter, an input that is not contiguous,
    and a value read by a step outside the group (the sum) in the middle of the chain."""

    def function(x, w):
        a = (x * 2 + 1) * w
        total = a.sum()
        b = (a - w) / 3 - a
        return b, total

    x = _array((40, 30), np.float32, 5).t()  # (30, 40), transposed: not contiguous
    w = _array((30, 40), np.float32, 6)
    compiled = chainrule.compile(function)
    for _ in range(2):
        expected, actual = function(x, w), compiled(x, w)
    for e, a in zip(expected, actual):
        np.testing.assert_array_equal(a.numpy(), e.numpy())
    assert fusion.BLOCK < 30 * 40
    assert [len(g.numbers) for g in compiled.program.fused_groups] == [3, 3]


def test_switching_fusion_off_replays_without_groups(monkeypatch):
    monkeypatch.setattr(fusion, "JIT", False)
    compiled = chainrule.compile(lambda x: (x * 2) + 1 - x)
    compiled(chainrule.ones(3))
    assert compiled.program.fused_groups == []
    assert "_run_code" not in compiled.program.source


def test_a_run_of_two_steps_is_left_to_numpy():
    compiled = chainrule.compile(lambda x: (x * 2) + 1)
    compiled(chainrule.ones(3))
    assert fusion.MIN_STEPS == 3
    assert compiled.program.fused_groups == []


def _mlp_with_tanh(seed):
    chainrule.manual_seed(seed)
    layers = [nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 3)]
    return nn.Sequential(*layers)


def test_a_training_step_with_fused_steps_trains_like_eager():
    def make():
        model = _mlp_with_tanh(0)
        optimizer = chainrule.optim.Adam(model.parameters(), lr=1e-2)

        def step(x, y):
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x) * 0.5 + 0.1 - 0.05, y)
            loss.backward()
            optimizer.step()
            return loss

        return model, step

    (eager_model, eager_step), (compiled_model, compiled_step) = make(), make()
    compiled_step = chainrule.compile(compiled_step)
    rng = np.random.default_rng(1)
    for _ in range(5):
        x = chainrule.from_numpy(rng.standard_normal((8, 6)).astype(np.float32))
        y = chainrule.from_numpy(rng.integers(0, 3, size=8))
        expected, actual = eager_step(x, y), compiled_step(x, y)
        np.testing.assert_allclose(actual.item(), expected.item(), rtol=1e-5)
    assert compiled_step.program.fused_groups
    for p, q in zip(eager_model.parameters(), compiled_model.parameters()):
        np.testing.assert_allclose(q.detach().numpy(), p.detach().numpy(), rtol=1e-4, atol=1e-6)


def test_a_value_written_in_place_between_two_runs_is_read_afresh_by_the_second():
    """Each run copies the arrays it reads from outside when it starts: an in-place write to
    one of them between two runs is seen by the second, as in eager."""

    def function(x, w):
        a = (w * 2 + 1) * x
        w.add_(1)
        b = (w * 3 - 1) * x
        return a, b

    x = _array((4, 5), np.float32, 7)
    w_eager, w_compiled = _array((4, 5), np.float32, 8), _array((4, 5), np.float32, 8)
    compiled = chainrule.compile(function)
    for _ in range(3):
        expected, actual = function(x, w_eager), compiled(x, w_compiled)
        for e, a in zip(expected, actual):
            np.testing.assert_array_equal(a.numpy(), e.numpy())
    np.testing.assert_array_equal(w_compiled.numpy(), w_eager.numpy())
    assert len(compiled.program.fused_groups) == 2


def test_division_by_zero_infinities_and_nans_go_through_as_in_eager():
    def function(x):
        return (x / 0) * 2 - 1, (x * 0) / 0 + 1 - x

    x = chainrule.tensor([1.0, -2.0, 0.0, float("inf"), float("nan")])
    compiled = chainrule.compile(function)
    for _ in range(2):
        expected, actual = function(x), compiled(x)
    assert len(compiled.program.fused_groups) == 1  # the two expressions are one run
    for e, a in zip(expected, actual):
        np.testing.assert_array_equal(a.numpy(), e.numpy())
