"""gradcheck and gradgradcheck pass on correct derivatives and catch wrong ones, as PyTorch's do.

Each Function is defined against a module `lib`, so the same wrong backward is shown to be
caught by torch.autograd.gradcheck too.
"""

from __future__ import annotations

import math

import pytest
import torch

import chainrule
from chainrule.errors import GradError

LIBS = pytest.mark.parametrize("lib", [chainrule, torch], ids=["chainrule", "torch"])


def square(lib):
    class Square(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * g * x

    return Square


def wrong_exp(lib):
    class WrongExp(lib.autograd.Function):
        """exp whose backward is off by 10%."""

        @staticmethod
        def forward(ctx, x):
            out = x.exp()
            ctx.save_for_backward(out)
            return out

        @staticmethod
        def backward(ctx, g):
            (out,) = ctx.saved_tensors
            return g * out * 1.1

    return WrongExp


def cube_with_constant_derivative(lib):
    class Cube(lib.autograd.Function):
        """x**3 whose first derivative is right but is not itself differentiable in x."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 3 * g * x.detach() ** 2

    return Cube


def step_with_residual(lib):
    class StepWithResidual(lib.autograd.Function):
        """Doubles x and reports a residual marked non-differentiable, as a solver's Function
        does: the residual moves with x but carries no gradient."""

        @staticmethod
        def forward(ctx, x):
            residual = (x * x).sum().reshape(1)
            ctx.mark_non_differentiable(residual)
            return x * 2, residual

        @staticmethod
        def backward(ctx, g, g_residual):
            return 2 * g

    return StepWithResidual


def sine_with_jvp(lib, jvp_factor=1.0):
    class Sine(lib.autograd.Function):
        """sin(x) with a backward and a jvp; `jvp_factor` != 1 makes only the jvp wrong."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            ctx.save_for_forward(x)
            return x.sin()

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x.cos()

        @staticmethod
        def jvp(ctx, t):
            (x,) = ctx.saved_tensors
            return t * x.cos() * jvp_factor

    return Sine


def inputs(lib):
    x = lib.tensor([0.3, -0.7, 1.2], dtype=lib.float64, requires_grad=True)
    y = lib.tensor([[0.5, 1.5], [-0.4, 0.9]], dtype=lib.float64, requires_grad=True)
    return x, y


@LIBS
def test_gradcheck_passes_on_correct_derivatives(lib):
    x, y = inputs(lib)
    check = lib.autograd.gradcheck
    assert check(square(lib).apply, (x,))
    assert check(lambda a, b: (a.sin() * a).sum() * b, (x, y))
    assert check(lambda a: (a.exp(), a * 2), (x,))  # several outputs
    assert check(lambda a, factor: a * factor, (x, 3.0))  # a non-tensor argument
    assert check(lambda a, b: a * 2, (x, y))  # an input no output depends on


@LIBS
def test_gradcheck_raises_on_a_wrong_backward(lib):
    x, _ = inputs(lib)
    with pytest.raises(
        RuntimeError, match="Jacobian mismatch for output 0 with respect to input 0"
    ):
        lib.autograd.gradcheck(wrong_exp(lib).apply, (x,))


@LIBS
def test_gradcheck_returns_false_when_asked_not_to_raise(lib):
    x, _ = inputs(lib)
    assert lib.autograd.gradcheck(wrong_exp(lib).apply, (x,), raise_exception=False) is False


def test_gradcheck_raises_a_grad_error():
    x, _ = inputs(chainrule)
    with pytest.raises(GradError, match="numerical"):
        chainrule.autograd.gradcheck(wrong_exp(chainrule).apply, (x,))


@LIBS
def test_gradgradcheck_passes_on_correct_second_derivatives(lib):
    x, y = inputs(lib)
    check = lib.autograd.gradgradcheck
    assert check(square(lib).apply, (x,))
    assert check(lambda a: a.sin() * a, (x,))
    assert check(lambda a, b: (a.exp() * a).sum() * b * b, (x, y))


@LIBS
def test_gradgradcheck_catches_a_backward_that_is_not_differentiable(lib):
    x, _ = inputs(lib)
    cube = cube_with_constant_derivative(lib).apply
    assert lib.autograd.gradcheck(cube, (x,))  # the first derivative is right
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        lib.autograd.gradgradcheck(cube, (x,))
    assert lib.autograd.gradgradcheck(cube, (x,), raise_exception=False) is False


def test_gradcheck_works_in_the_inputs_dtype():
    # As in PyTorch, float32 inputs are perturbed in float32, where eps=1e-6 is too small for
    # central differences to be accurate: such a check fails, which is why inputs are float64.
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    assert not chainrule.autograd.gradcheck(lambda a: a * 2, (x,), raise_exception=False)
    assert chainrule.autograd.gradcheck(lambda a: a * 2, (x.double(),))


def complex_scale(lib, *, backward_factor):
    class ComplexScale(lib.autograd.Function):
        """x -> (1 + 2j) x, whose backward is conj(1 + 2j) g (times backward_factor), the
        real part for a real x."""

        @staticmethod
        def forward(ctx, x):
            ctx.was_real = not x.is_complex()
            return x * (1 + 2j)

        @staticmethod
        def backward(ctx, g):
            grad = g * (1 - 2j) * backward_factor
            return grad.real if ctx.was_real else grad

    return ComplexScale


@LIBS
@pytest.mark.parametrize("complex_input", [False, True], ids=["real-in", "complex-in"])
def test_gradcheck_checks_complex_outputs_and_inputs(lib, complex_input):
    """Complex functions are checked as functions of real pairs (real and imaginary parts of
    each output, each input perturbed along both axes): a wrong backward is caught, where
    skipping complex outputs let it pass."""
    x = lib.tensor([0.5, -1.25], dtype=lib.float64)
    if complex_input:
        x = x + 0.75j * lib.tensor([1.0, -2.0], dtype=lib.float64)
    x.requires_grad_()
    right = complex_scale(lib, backward_factor=1.0).apply
    wrong = complex_scale(lib, backward_factor=1.5).apply
    assert lib.autograd.gradcheck(right, (x,))
    assert not lib.autograd.gradcheck(wrong, (x,), raise_exception=False)
    for f in (lib.fft.fft, lambda t: t * t.conj() + t.abs(), lambda t: (t.exp(), t.angle())):
        assert lib.autograd.gradcheck(f, (x,)) and lib.autograd.gradgradcheck(f, (x,))


def _wrong_backward(lib):
    """x[:2] * (2, 3) whose backward says 2.5 and leaks into x[2]: a Jacobian mismatch."""

    class Wrong(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x[:2] * lib.tensor([2.0, 3.0], dtype=lib.float64)

        @staticmethod
        def backward(ctx, g):
            return lib.cat([g * 2.5, g[:1]])

    return Wrong.apply


def test_a_mismatch_raises_pytorchs_gradcheck_error_with_its_report():
    """`from torch.autograd.gradcheck import GradcheckError` imports under as_torch, the error
    is raised (a RuntimeError), and its message prints both Jacobians as PyTorch's does:
    tensors with a row per input element and a column per output element."""
    import importlib

    import chainrule.as_torch

    module = importlib.import_module(chainrule.as_torch.ALIASES["torch.autograd.gradcheck"])
    assert module.GradcheckError is chainrule.errors.GradcheckError
    assert issubclass(module.GradcheckError, RuntimeError) and module.gradcheck is not None
    messages = []
    errors = (
        module.GradcheckError,
        importlib.import_module("torch.autograd.gradcheck").GradcheckError,
    )
    for lib, error in zip((chainrule, torch), errors):
        x = lib.tensor([0.1, 0.5, 0.7], dtype=lib.float64, requires_grad=True)
        with pytest.raises(error) as caught:
            lib.autograd.gradcheck(_wrong_backward(lib), (x,))
        messages.append(str(caught.value).replace("chainrule.", "torch."))
        assert lib.autograd.gradcheck(_wrong_backward(lib), (x,), raise_exception=False) is False
    assert messages[0] == messages[1]


@pytest.mark.parametrize("check", ["gradcheck", "gradgradcheck"])
def test_nothing_requiring_grad_is_pytorchs_value_error(check):
    """chainrule returned True, having checked nothing."""
    for lib in (chainrule, torch):
        x = lib.tensor([0.1, 0.5], dtype=lib.float64)
        with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
            getattr(lib.autograd, check)(lib.sin, (x,))


def test_a_single_precision_input_is_warned_about_as_in_pytorch():
    import warnings

    for lib in (chainrule, torch):
        x = lib.tensor([0.1, 0.5], requires_grad=True)
        y = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert lib.autograd.gradcheck(lambda a, b: a.sin() * b, (x, y), eps=1e-3, atol=1e-2)
        found = [str(w.message) for w in caught if "double precision" in str(w.message)]
        assert found and found[0].startswith("Input #0 requires gradient and is not a double")


@LIBS
def test_outputs_that_do_not_require_grad_are_skipped(lib):
    """chainrule compared them with a zero analytical Jacobian, so a Function's
    non-differentiable residual, or a detached diagnostic, failed where PyTorch passes."""
    x, _ = inputs(lib)
    assert lib.autograd.gradcheck(step_with_residual(lib).apply, (x,))
    assert lib.autograd.gradcheck(lambda a: [a.sin(), a.detach() ** 2], (x,))
    assert lib.autograd.gradcheck(lambda a: (a.detach().to(lib.complex128), a.exp()), (x,))
    assert lib.autograd.gradgradcheck(lambda a: step_with_residual(lib).apply(a * a), (x,))


@LIBS
def test_with_no_output_requiring_grad_the_function_must_be_constant(lib):
    """PyTorch then checks that the numerical Jacobian is zero, with its own message."""
    x, _ = inputs(lib)
    assert lib.autograd.gradcheck(lambda a: lib.zeros(2, dtype=lib.float64), (x,))
    with pytest.raises(RuntimeError, match="^Numerical gradient for function expected to be zero"):
        lib.autograd.gradcheck(lambda a: a.detach() * 2, (x,))
    assert lib.autograd.gradcheck(lambda a: a.detach() * 2, (x,), raise_exception=False) is False


@LIBS
def test_check_forward_ad_checks_a_functions_jvp(lib):
    """The option was accepted and ignored, so a wrong jvp passed."""
    x, _ = inputs(lib)
    wrong = sine_with_jvp(lib, jvp_factor=2.0).apply
    assert lib.autograd.gradcheck(wrong, (x,))  # reverse mode alone is right
    with pytest.raises(RuntimeError, match="^Jacobian computed with forward mode mismatch"):
        lib.autograd.gradcheck(wrong, (x,), check_forward_ad=True)
    assert not lib.autograd.gradcheck(
        wrong, (x,), check_forward_ad=True, check_backward_ad=False, raise_exception=False
    )
    assert lib.autograd.gradcheck(sine_with_jvp(lib).apply, (x,), check_forward_ad=True)
    z = lib.tensor([0.3 + 0.1j, 1.2 - 0.5j], dtype=lib.complex128, requires_grad=True)
    assert lib.autograd.gradcheck(lambda a: (a.exp(), a.abs()), (z,), check_forward_ad=True)
    with pytest.raises(AssertionError, match="at least one of check_forward_ad or check_backward"):
        lib.autograd.gradcheck(lib.sin, (x,), check_backward_ad=False)


def sine_with_a_wrong_jvp_in_its_backward(lib):
    wrong_sine = sine_with_jvp(lib, jvp_factor=2.0).apply

    class Sine(lib.autograd.Function):
        """sin(x) whose backward, g cos(x), is computed as g sin(x + pi/2) by a Function with
        a wrong jvp: right under reverse over reverse, wrong under forward over reverse."""

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            ctx.save_for_forward(x)
            return x.sin()

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * wrong_sine(x + math.pi / 2)

        @staticmethod
        def jvp(ctx, t):
            (x,) = ctx.saved_tensors
            return t * x.cos()

    return Sine


@LIBS
def test_gradgradcheck_checks_forward_over_reverse_on_request(lib):
    """check_fwd_over_rev was accepted and ignored."""
    x, _ = inputs(lib)
    assert lib.autograd.gradgradcheck(lambda a: a.sin() * a, (x,), check_fwd_over_rev=True)
    sine = sine_with_a_wrong_jvp_in_its_backward(lib).apply
    assert lib.autograd.gradgradcheck(sine, (x,))
    assert not lib.autograd.gradgradcheck(
        sine, (x,), check_fwd_over_rev=True, raise_exception=False
    )
