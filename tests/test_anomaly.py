"""Anomaly mode: a planted NaN is blamed on the op that made it, with the forward line that
called it; other backward errors get the forward trace as a note."""

import inspect
import threading
import warnings

import pytest
import torch

import chainrule
from chainrule.autograd import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from chainrule.autograd.graph import observers
from chainrule.errors import GradError
from chainrule.ops.op import Op, apply

NAN = float("nan")


def _where(line: int) -> str:
    return f'File "{__file__}", line {line}'


def test_planted_nan_names_the_op_and_the_forward_line():
    w = chainrule.tensor([1.0, 2.0], requires_grad=True)
    data = chainrule.tensor([0.5, NAN])
    with detect_anomaly():
        product = w * data
        line = inspect.currentframe().f_lineno - 1
        loss = product.sum()
        with pytest.raises(GradError) as caught:
            loss.backward()
    message = str(caught.value)
    assert message.startswith("Function 'MulBackward0' returned nan values in its 0th output.")
    assert "Traceback of forward call that caused the error:" in message
    assert _where(line) in message
    assert "product = w * data" in message
    assert w.grad is None  # raised before anything reached the leaf


@pytest.mark.filterwarnings("ignore::UserWarning")  # torch warns as it enables the mode
def test_message_matches_torch():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    with torch.autograd.detect_anomaly(), pytest.raises(RuntimeError) as torch_error:
        (w * torch.tensor([0.5, NAN])).sum().backward()
    ours = chainrule.tensor([1.0, 2.0], requires_grad=True)
    with detect_anomaly(), pytest.raises(GradError) as our_error:
        (ours * chainrule.tensor([0.5, NAN])).sum().backward()
    assert str(our_error.value).splitlines()[0] == str(torch_error.value).splitlines()[0]


def test_nan_from_a_derivative_is_blamed_on_that_node():
    x = chainrule.tensor([0.0, 1.0], requires_grad=True)
    with detect_anomaly(), pytest.raises(GradError, match="'SqrtBackward0' returned nan"):
        (x.sqrt() * 0.0).sum().backward()  # 0 / 0, silently (no NumPy warning), as PyTorch


def test_without_anomaly_mode_nan_flows_silently():
    w = chainrule.tensor([1.0, 2.0], requires_grad=True)
    (w * chainrule.tensor([0.5, NAN])).sum().backward()
    assert chainrule.isnan(w.grad).any().item()


def test_check_nan_false_does_not_raise():
    w = chainrule.tensor([1.0, 2.0], requires_grad=True)
    with detect_anomaly(check_nan=False):
        (w * chainrule.tensor([0.5, NAN])).sum().backward()
    assert chainrule.isnan(w.grad).any().item()


def test_forward_check_is_opt_in_and_blames_the_op_that_made_the_nan():
    x = chainrule.tensor([-1.0, 4.0], requires_grad=True)
    with detect_anomaly():  # PyTorch's behaviour: the where trap is fine
        safe = chainrule.where(x > 0, x.log(), chainrule.zeros(2))
        safe.sum().backward()
    with detect_anomaly(check_forward=True):
        with pytest.raises(GradError) as caught:
            x.log()
        line = inspect.currentframe().f_lineno - 1
    message = str(caught.value)
    assert message.startswith("Function 'LogBackward0' returned nan values in its 0th output")
    assert "during forward" in message
    assert _where(line) in message


def test_forward_check_does_not_blame_an_op_for_nan_in_its_input():
    data = chainrule.tensor([1.0, NAN])
    w = chainrule.ones(2, requires_grad=True)
    with detect_anomaly(check_forward=True):
        y = w * data  # the NaN was in the data, not made by mul
    assert chainrule.isnan(y).any().item()


def test_other_backward_errors_get_the_forward_trace_as_a_note():
    class Broken(Op):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def vjp(ctx, g):
            raise ValueError("boom")

    x = chainrule.ones(2, requires_grad=True)
    with detect_anomaly():
        y = apply(Broken, (x,))
        line = inspect.currentframe().f_lineno - 1
        with pytest.raises(ValueError, match="boom") as caught:
            y.sum().backward()
    notes = "\n".join(getattr(caught.value, "__notes__", []))
    assert "Error detected in BrokenBackward0" in notes
    assert _where(line) in notes


def test_making_the_mode_warns_as_pytorch_blaming_the_caller():
    """detect_anomaly() warns that it slows the program each time it is made, as PyTorch's
    does; set_detect_anomaly stays silent, as PyTorch's."""
    for lib in (chainrule, torch):
        with pytest.warns(UserWarning, match="Anomaly Detection has been enabled") as caught:
            lib.autograd.detect_anomaly()
        assert caught[0].filename == __file__
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with lib.autograd.set_detect_anomaly(True):
                pass


def test_nodes_keep_their_forward_stack_only_in_anomaly_mode():
    x = chainrule.ones(2, requires_grad=True)
    with detect_anomaly():
        y = x.exp()
    stack = y.grad_fn.metadata["traceback_"]
    assert stack[-1].name != "apply"  # our own frames are trimmed
    assert any(frame.filename == __file__ for frame in stack)
    z = x.exp()
    assert "traceback_" not in z.grad_fn.metadata


def test_modes_nest_restore_and_decorate():
    assert not is_anomaly_enabled()
    with detect_anomaly():
        assert is_anomaly_enabled()
        assert chainrule.autograd.is_anomaly_check_nan_enabled()
        with detect_anomaly(check_nan=False):
            assert not chainrule.autograd.is_anomaly_check_nan_enabled()
        assert chainrule.autograd.is_anomaly_check_nan_enabled()
    assert not is_anomaly_enabled()
    assert observers.get() is None

    set_detect_anomaly(True)
    try:
        assert is_anomaly_enabled()
        with set_detect_anomaly(False):
            assert not is_anomaly_enabled()
        assert is_anomaly_enabled()
    finally:
        set_detect_anomaly(False)
    assert not is_anomaly_enabled()

    @detect_anomaly()
    def inside() -> bool:
        return is_anomaly_enabled()

    assert inside()
    assert not is_anomaly_enabled()


def test_mode_is_per_thread():
    seen = []
    with detect_anomaly():
        thread = threading.Thread(target=lambda: seen.append(is_anomaly_enabled()))
        thread.start()
        thread.join()
    assert seen == [False]


class _LogOfNegative(chainrule.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.log()

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad / x


def test_a_custom_function_that_makes_nan_is_named_with_its_forward_line():
    x = chainrule.tensor([-1.0, 2.0], requires_grad=True)
    with detect_anomaly(check_forward=True):
        with pytest.raises(GradError) as caught:
            _LogOfNegative.apply(x)
        line = inspect.currentframe().f_lineno - 1
    message = str(caught.value)
    assert "'_LogOfNegativeBackward' returned nan values in its 0th output during forward" in (
        message
    )
    assert _where(line) in message


class _NanGradient(chainrule.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        return grad * float("nan")


def test_a_custom_backward_that_returns_nan_is_named_with_its_forward_line():
    x = chainrule.tensor([1.0, 2.0], requires_grad=True)
    with detect_anomaly():
        out = _NanGradient.apply(x)
        line = inspect.currentframe().f_lineno - 1
        with pytest.raises(GradError) as caught:
            out.sum().backward()
    message = str(caught.value)
    assert message.startswith("Function '_NanGradientBackward' returned nan values in its 0th")
    assert _where(line) in message
    assert "out = _NanGradient.apply(x)" in message
