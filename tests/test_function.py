"""Custom autograd Functions, specified against PyTorch: each Function below is defined once
against a module `lib` and run on chainrule and on torch."""

from __future__ import annotations

import gc
import weakref

import pytest
import torch

import chainrule
from chainrule.errors import GradError
from tests.test_engine import on_both


def exp_function(lib):
    class Exp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            out = x.exp()
            ctx.save_for_backward(out)
            return out

        @staticmethod
        def backward(ctx, grad_out):
            (out,) = ctx.saved_tensors
            return grad_out * out  # chainrule ops: differentiable again

    return Exp


def test_forward_and_backward_with_saved_tensors():
    def program(lib):
        x = lib.tensor([0.5, -1.0], dtype=lib.float64, requires_grad=True)
        y = exp_function(lib).apply(x)
        y.sum().backward()
        name = type(y.grad_fn).__name__ if lib is torch else y.grad_fn.name()
        return y, x.grad, name, y.requires_grad

    on_both(program)


def test_double_backward_through_a_differentiable_backward():
    def program(lib):
        x = lib.tensor([0.5, -1.0], dtype=lib.float64, requires_grad=True)
        y = exp_function(lib).apply(x * x)
        (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        (h,) = lib.autograd.grad(g.sum(), x)
        return g, h

    on_both(program)


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_forward_sees_recording_off_and_backward_sees_create_graph():
    def program(lib):
        seen = []

        class Probe(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                seen.append(("forward", lib.is_grad_enabled()))
                return x * 2

            @staticmethod
            def backward(ctx, g):
                seen.append(("backward", lib.is_grad_enabled()))
                return g * 2

        x = lib.tensor([1.0], requires_grad=True)
        Probe.apply(x).sum().backward()
        Probe.apply(x).sum().backward(create_graph=True)
        x.grad = None
        return seen

    on_both(program)


def test_non_tensor_arguments_and_needs_input_grad():
    def program(lib):
        recorded = []

        class Scale(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, factor, y):
                recorded.append(ctx.needs_input_grad)
                ctx.factor = factor
                ctx.save_for_backward(x, y)
                return x * factor * y

            @staticmethod
            def backward(ctx, g):
                x, y = ctx.saved_tensors
                grad_x = g * ctx.factor * y if ctx.needs_input_grad[0] else None
                grad_y = g * ctx.factor * x if ctx.needs_input_grad[2] else None
                return grad_x, None, grad_y

        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([3.0, 4.0])
        Scale.apply(a, 3.0, b).sum().backward()
        return recorded, a.grad, b.grad

    on_both(program)


def test_keyword_arguments_are_bound_to_forwards_positions():
    def program(lib):
        class Scale(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, factor=2.0):
                ctx.factor = factor
                return x * factor

            @staticmethod
            def backward(ctx, g):
                return g * ctx.factor, None  # factor=5.0 became input 1: it gets a gradient slot

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        Scale.apply(x, factor=5.0).sum().backward()
        Scale.apply(x).sum().backward()
        return x.grad

    on_both(program)


def test_with_setup_context_defaults_are_inputs_too():
    def program(lib):
        class Scale(lib.autograd.Function):
            @staticmethod
            def forward(x, factor=3.0):
                return x * factor

            @staticmethod
            def setup_context(ctx, inputs, output):
                ctx.factor = inputs[1]

            @staticmethod
            def backward(ctx, g):
                return g * ctx.factor, None

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        Scale.apply(x).sum().backward()
        return x.grad

    on_both(program)


def test_multiple_outputs_and_mark_non_differentiable():
    def program(lib):
        received = []

        class SplitSign(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                positive = x > 0
                ctx.mark_non_differentiable(positive)
                return x * 2, x * 3, positive

            @staticmethod
            def backward(ctx, g_double, g_triple, g_positive):
                received.append((g_double, g_triple))
                return g_double * 2 + g_triple * 3

        x = lib.tensor([1.0, -2.0], requires_grad=True)
        double, triple, positive = SplitSign.apply(x)
        double.sum().backward()  # triple got no gradient: it arrives as zeros
        return x.grad, received, positive.requires_grad, triple.requires_grad

    on_both(program)


def test_set_materialize_grads_false_passes_none_for_unused_outputs():
    def program(lib):
        received = []

        class Two(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.set_materialize_grads(False)
                return x * 2, x * 3

            @staticmethod
            def backward(ctx, g_double, g_triple):
                received.append(g_triple)
                return g_double * 2 if g_triple is None else g_double * 2 + g_triple * 3

        x = lib.tensor([1.0, -2.0], requires_grad=True)
        Two.apply(x)[0].sum().backward()
        return x.grad, received

    on_both(program)


def test_non_tensor_outputs_pass_through_and_get_no_gradient():
    def program(lib):
        received = []

        class WithCount(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2, 3

            @staticmethod
            def backward(ctx, g, g_count):
                received.append(g_count)
                return g * 2

        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y, count = WithCount.apply(x)
        y.sum().backward()
        return count, received, x.grad

    on_both(program)


def test_returning_an_input_unchanged_gives_a_new_tensor_with_history():
    def program(lib):
        class Identity(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x

            @staticmethod
            def backward(ctx, g):
                return g * 5

        x = lib.tensor([1.0, -2.0], requires_grad=True)
        y = Identity.apply(x)
        y.sum().backward()
        return y is x, y.grad_fn is not None, x.is_leaf, x.grad

    on_both(program)


def test_setup_context_style():
    def program(lib):
        class Scale(lib.autograd.Function):
            @staticmethod
            def forward(x, factor):
                return x * factor

            @staticmethod
            def setup_context(ctx, inputs, output):
                x, factor = inputs
                ctx.factor = factor
                ctx.save_for_backward(x)

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g * ctx.factor * x / x, None

        x = lib.tensor([1.0, -2.0], requires_grad=True)
        Scale.apply(x, 4.0).sum().backward()
        return x.grad

    on_both(program)


def test_once_differentiable_backward_raises_on_double_backward():
    def make(lib):
        class Square(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            @lib.autograd.function.once_differentiable
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return 2 * x * g

        return Square

    def first_order(lib):
        x = lib.tensor([1.0, -2.0], requires_grad=True)
        y = make(lib).apply(x)
        (g,) = lib.autograd.grad((y * y).sum(), x, create_graph=True)
        return g

    on_both(first_order)
    x = chainrule.tensor([1.0, -2.0], requires_grad=True)
    y = make(chainrule).apply(x)
    (g,) = chainrule.autograd.grad((y * y).sum(), x, create_graph=True)
    with pytest.raises(GradError, match="once_differentiable"):
        chainrule.autograd.grad(g.sum(), x)


def test_wrong_number_of_gradients_raises():
    def program(lib):
        class Product(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, y):
                return x * y

            @staticmethod
            def backward(ctx, g):
                return g

        x = lib.tensor([1.0, -2.0], requires_grad=True)
        Product.apply(x, x).sum().backward()

    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        program(torch)
    with pytest.raises(GradError, match=r"ProductBackward .*expected 2, got 1"):
        program(chainrule)


def test_a_gradient_for_a_non_tensor_argument_raises():
    def program(lib):
        class Scale(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, factor):
                return x * factor

            @staticmethod
            def backward(ctx, g):
                return g, g

        Scale.apply(lib.tensor([1.0], requires_grad=True), 2.0).sum().backward()

    with pytest.raises(RuntimeError, match="different than None at position 2"):
        program(torch)
    with pytest.raises(GradError, match="different than None at position 2"):
        program(chainrule)


def test_extra_trailing_none_gradients_are_accepted():
    def program(lib):
        class Double(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2

            @staticmethod
            def backward(ctx, g):
                return g * 2, None

        x = lib.tensor([1.0, -2.0], requires_grad=True)
        Double.apply(x).sum().backward()
        return x.grad

    on_both(program)


def test_a_gradient_of_the_wrong_shape_blames_the_backward():
    class Broken(chainrule.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g.sum()

    x = chainrule.tensor([1.0, -2.0], requires_grad=True)
    with pytest.raises(GradError, match=r"Broken\.backward returned shape \(\) for input 0"):
        Broken.apply(x).sum().backward()


def test_saved_tensors_are_freed_after_backward_unless_retain_graph():
    def program(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = exp_function(lib).apply(x).sum()
        y.backward(retain_graph=True)
        y.backward()
        y.backward()

    with pytest.raises(RuntimeError, match="second time"):
        program(torch)
    with pytest.raises(GradError, match="retain_graph"):
        program(chainrule)


def test_modifying_a_saved_tensor_in_place_is_detected():
    def program(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = exp_function(lib).apply(x)
        y.add_(1)
        y.sum().backward()

    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        program(torch)
    with pytest.raises(GradError, match=r"ExpBackward.*version 0.*version 1"):
        program(chainrule)


def test_a_function_that_saves_its_output_leaves_no_reference_cycle():
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    exp = exp_function(chainrule)
    gc.collect()
    gc.disable()
    try:
        y = exp.apply(x)
        node, array = weakref.ref(y.grad_fn), weakref.ref(y._array)
        (y * 2).sum().backward()
        del y
        assert node() is None and array() is None
    finally:
        gc.enable()


def test_nothing_is_recorded_when_no_input_requires_grad_or_under_no_grad():
    def program(lib):
        exp = exp_function(lib)
        plain = exp.apply(lib.tensor([1.0]))
        with lib.no_grad():
            quiet = exp.apply(lib.tensor([1.0], requires_grad=True))
        return plain.requires_grad, plain.grad_fn, quiet.requires_grad, quiet.grad_fn

    on_both(program)


def _doubling_in_place(lib):
    class DoubleInPlace(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.mul_(2)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2

    return DoubleInPlace.apply


def test_mark_dirty_on_a_leaf_that_requires_grad_is_refused_as_in_torch():
    """A forward that writes into a leaf requiring grad (or a view of one) is PyTorch's
    RuntimeError; chainrule recorded it, so the leaf's gradient was of values overwritten. A
    non-leaf is fine, in both: its history gets the gradient through the in-place node."""
    for lib in (chainrule, torch):
        leaf = lib.ones(2, requires_grad=True)
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad has been"):
            _doubling_in_place(lib)(leaf)
        base = lib.ones(4, requires_grad=True)
        with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
            _doubling_in_place(lib)(base[:2])
        source = lib.tensor([1.0, 3.0], requires_grad=True)
        out = _doubling_in_place(lib)(source * 1)
        (grad,) = lib.autograd.grad((out * lib.tensor([1.0, 2.0])).sum(), source)
        assert out.tolist() == [2.0, 6.0] and grad.tolist() == [2.0, 4.0]
