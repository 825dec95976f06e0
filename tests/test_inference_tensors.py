"""Inference tensors, specified against PyTorch: what inference_mode() makes is marked, may be
read anywhere, but outside inference mode is never saved for backward, written in place or
made to require grad; a clone is an ordinary tensor."""

from __future__ import annotations

import threading

import pytest
import torch

import chainrule

LIBS = pytest.mark.parametrize("lib", [chainrule, torch], ids=["chainrule", "torch"])
SAVED = "Inference tensors cannot be saved for backward"
WRITTEN = "Inplace update to inference tensor outside InferenceMode is not allowed"


def _made_in_inference_mode(lib):
    with lib.inference_mode():
        return lib.tensor([1.0, 2.0])


@LIBS
def test_tensors_made_inside_are_inference_tensors_and_views_follow_their_base(lib):
    normal = lib.ones(3)
    with lib.inference_mode():
        made = lib.ones(3) * 2
        view_of_normal = normal[:2]
        normal.add_(1)  # an ordinary tensor may be written inside
        with lib.inference_mode(False):
            nested = lib.ones(3)
            assert not lib.is_inference_mode_enabled() and lib.is_grad_enabled()
        assert lib.is_inference_mode_enabled()
    assert made.is_inference() and made[1:].is_inference() and made.detach().is_inference()
    assert lib.is_inference(made) and not lib.is_inference(normal)
    assert not view_of_normal.is_inference() and not normal.is_inference()
    assert not nested.is_inference()
    assert normal._version == 1


@LIBS
def test_an_op_or_clone_outside_gives_an_ordinary_tensor(lib):
    x = _made_in_inference_mode(lib)
    assert not x.clone().is_inference() and not (x * 2).is_inference()
    with lib.no_grad():
        assert not (x + 1).is_inference()
    w = lib.ones(2, requires_grad=True)
    y = (x.clone() * w).sum()
    y.backward()
    assert w.grad.tolist() == [1.0, 2.0]


@LIBS
def test_an_inference_tensor_cannot_be_saved_for_backward(lib):
    x = _made_in_inference_mode(lib)
    w = lib.ones(2, requires_grad=True)
    assert (x + w).requires_grad  # addition saves neither operand
    with pytest.raises(RuntimeError, match=SAVED):
        x * w
    with pytest.raises(RuntimeError, match=SAVED):
        lib.nn.functional.linear(x.unsqueeze(0), w.unsqueeze(0))
    with lib.inference_mode(), lib.inference_mode(False):  # nested: recording, not inference
        with pytest.raises(RuntimeError, match=SAVED):
            x * w


@LIBS
def test_a_custom_function_cannot_save_an_inference_tensor(lib):
    class Mul(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, grad):
            a, b = ctx.saved_tensors
            return grad * b, grad * a

    with pytest.raises(RuntimeError, match=SAVED):
        Mul.apply(_made_in_inference_mode(lib), lib.ones(2, requires_grad=True))


@LIBS
def test_in_place_writes_outside_inference_mode_are_refused_before_writing(lib):
    x = _made_in_inference_mode(lib)
    with pytest.raises(RuntimeError, match=WRITTEN):
        x.add_(1)
    with pytest.raises(RuntimeError, match=WRITTEN):
        x[0] = 5.0
    with lib.no_grad(), pytest.raises(RuntimeError, match=WRITTEN):
        x.mul_(3)
    with pytest.raises(RuntimeError, match=WRITTEN):
        lib.add(lib.ones(2), 1, out=x)
    with lib.inference_mode():
        x.add_(10)  # allowed inside
    if lib is chainrule:  # PyTorch has written x by the time it raises; chainrule refuses first
        assert x.tolist() == [11.0, 12.0]


@LIBS
def test_inference_tensors_cannot_require_grad_or_report_a_version_outside(lib):
    x = _made_in_inference_mode(lib)
    with pytest.raises(RuntimeError, match="Setting requires_grad=True on inference tensor"):
        x.requires_grad_()
    with pytest.raises(RuntimeError, match="Setting requires_grad=True on inference tensor"):
        lib.nn.Parameter(x)
    with pytest.raises(RuntimeError, match="do not track version counter"):
        _ = x._version
    assert x.requires_grad_(False) is x
    with lib.inference_mode():
        assert lib.ones(2, requires_grad=True).requires_grad


@LIBS
def test_a_decorated_function_makes_inference_tensors_and_threads_start_outside(lib):
    @lib.inference_mode()
    def predict(x):
        return x * 2

    assert predict(lib.ones(2)).is_inference()
    seen = []
    with lib.inference_mode():
        thread = threading.Thread(target=lambda: seen.append(lib.ones(1).is_inference()))
        thread.start()
        thread.join()
    assert seen == [False]


def test_a_model_evaluated_in_inference_mode_then_trained_on_a_clone():
    """The program PyTorch's error message asks for: features made under inference_mode,
    cloned, then used to train a head."""
    backbone = chainrule.nn.Linear(3, 4)
    head = chainrule.nn.Linear(4, 1)
    with chainrule.inference_mode():
        features = backbone(chainrule.ones(2, 3))
    assert features.is_inference() and not features.requires_grad
    with pytest.raises(RuntimeError, match=SAVED):
        head(features)
    head(features.clone()).sum().backward()
    assert head.weight.grad is not None and backbone.weight.grad is None
