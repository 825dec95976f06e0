"""torch.library.custom_op: a Python function made an operator with a registered derivative,
step for step against PyTorch's."""

import numpy as np
import pytest
import torch

import chainrule

_names = iter(range(10**6))


def _fresh(name):
    """A new operator name per test (both libraries keep a registry of names)."""
    return f"crtest::{name}_{next(_names)}"


def _numpy_sin(lib):
    name = _fresh("numpy_sin")

    @lib.library.custom_op(name, mutates_args=())
    def numpy_sin(x: lib.Tensor, scale: float = 1.0) -> lib.Tensor:
        return lib.from_numpy(np.sin(x.numpy()) * scale)

    def setup_context(ctx, inputs, output):
        x, scale = inputs
        ctx.save_for_backward(x)
        ctx.scale = scale

    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * x.cos() * ctx.scale, None

    numpy_sin.register_autograd(backward, setup_context=setup_context)
    return numpy_sin


def test_a_custom_op_runs_its_body_and_its_registered_backward_as_torch():
    results = {}
    for lib in (chainrule, torch):
        op = _numpy_sin(lib)
        x = lib.tensor([0.0, 0.5, 1.0], dtype=lib.float64, requires_grad=True)
        y = op(x, scale=2.0)
        (y * y).sum().backward()
        results[lib.__name__] = (y.detach().numpy(), x.grad.numpy(), type(y.grad_fn).__name__)
    ours, theirs = results["chainrule"], results["torch"]
    np.testing.assert_allclose(ours[0], theirs[0])
    np.testing.assert_allclose(ours[1], theirs[1])
    assert ours[2].startswith("GeneratedBackwardFor_crtest_numpy_sin_")
    assert ours[2].endswith("_defaultBackward") and theirs[2].endswith("_defaultBackward")


def test_a_custom_op_is_reached_through_torch_ops_as_torch():
    """After `@custom_op("mylib::f")`, tutorials call `torch.ops.mylib.f(x)` (or its
    `.default`): the same operator, values and gradients; a missing name in the namespace is
    an AttributeError naming it."""
    results = {}
    for lib in (chainrule, torch):
        op = _numpy_sin(lib)
        namespace, name = op._namespace, op._name
        packet = getattr(getattr(lib.ops, namespace), name)
        x = lib.tensor([0.0, 0.5, 1.0], dtype=lib.float64, requires_grad=True)
        y = packet(x, 3.0) + packet.default(x, 1.0)
        y.sum().backward()
        results[lib.__name__] = (y.detach().numpy(), x.grad.numpy())
        with pytest.raises(AttributeError, match=f"'{namespace}' object has no attribute 'nope'"):
            getattr(lib.ops, namespace).nope  # noqa: B018
    for ours, theirs in zip(results["chainrule"], results["torch"]):
        np.testing.assert_allclose(ours, theirs)


def test_the_body_is_not_recorded_and_runs_with_grad_mode_off():
    seen = {}

    def probe_of(lib):
        @lib.library.custom_op(_fresh("probe"), mutates_args=())
        def probe(x: lib.Tensor) -> lib.Tensor:
            seen[lib.__name__] = (lib.is_grad_enabled(), x.requires_grad)
            return x * 2

        return probe

    for lib in (chainrule, torch):
        probe_of(lib)(lib.ones(2, requires_grad=True))
    assert seen["chainrule"] == seen["torch"] == (False, True)


def test_backward_without_a_registered_formula_raises_as_torch():
    for lib in (chainrule, torch):

        @lib.library.custom_op(_fresh("no_grad_op"), mutates_args=())
        def doubled(x: lib.Tensor) -> lib.Tensor:
            return x * 2

        y = doubled(lib.ones(2, requires_grad=True))
        assert y.requires_grad
        with pytest.raises(RuntimeError, match="no autograd formula was registered"):
            y.sum().backward()


def test_several_outputs_and_keyword_defaults():
    grads = {}
    for lib in (chainrule, torch):

        @lib.library.custom_op(_fresh("two"), mutates_args=())
        def two(x: lib.Tensor, k: float = 2.0) -> tuple[lib.Tensor, lib.Tensor]:
            return x * k, x + k

        def setup_context(ctx, inputs, output):
            ctx.k = inputs[1]

        two.register_autograd(
            lambda ctx, ga, gb: (ga * ctx.k + gb, None), setup_context=setup_context
        )
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        a, b = two(x, k=3.0)
        (a.sum() + 2 * b.sum()).backward()
        grads[lib.__name__] = x.grad.tolist()
    assert grads["chainrule"] == grads["torch"] == [5.0, 5.0]


def test_refusals_match_torch():
    for lib in (chainrule, torch):
        with pytest.raises(ValueError, match="must have a type annotation"):

            @lib.library.custom_op(_fresh("bad"), mutates_args=())
            def unannotated(x):
                return x

        @lib.library.custom_op(_fresh("ident"), mutates_args=())
        def ident(x: lib.Tensor) -> lib.Tensor:
            return x

        with pytest.raises(RuntimeError, match="must not also be an input"):
            ident(lib.ones(2))


def test_a_mutating_op_writes_its_argument():
    for lib in (chainrule, torch):

        @lib.library.custom_op(_fresh("add_one_"), mutates_args=("x",))
        def add_one_(x: lib.Tensor) -> None:
            x.add_(1)

        a = lib.zeros(2)
        assert add_one_(a) is None
        assert a.tolist() == [1.0, 1.0]


def test_register_kernel_and_fake_and_the_free_functions():
    name = _fresh("kernel")

    @chainrule.library.custom_op(name, mutates_args=())
    def op(x: chainrule.Tensor) -> chainrule.Tensor:
        return x + 1

    @op.register_kernel("cpu")
    def _(x):
        return x + 10

    @chainrule.library.register_fake(name)
    def _(x):
        return chainrule.empty_like(x)

    chainrule.library.register_autograd(name, lambda ctx, g: g * 3)
    x = chainrule.zeros(2, requires_grad=True)
    y = op(x)
    y.sum().backward()
    assert y.tolist() == [10.0, 10.0] and x.grad.tolist() == [3.0, 3.0]
