"""`torch.nn.grad`: the gradients of a convolution with respect to its input and to its weight,
given the gradient of its output, for custom autograd Functions that call them in their
backward. A convolution is linear in each argument, so each is the vjp of the convolution at
any value of that argument (zeros here); the result is differentiable (a double backward works)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from chainrule._tensor import Tensor
from chainrule.autograd.api import grad
from chainrule.autograd.grad_mode import enable_grad
from chainrule.nn import functional as F
from chainrule.ops.creation import zeros

_Size = int | Sequence[int]


def _vjp(
    convolution: Callable,
    size: Sequence[int],
    other: Tensor,
    grad_output: Tensor,
    swap: bool,
    options: tuple,
) -> Tensor:
    """d<grad_output, conv(input, weight)> / d(the argument of shape `size`), taken at zeros;
    `other` is the given argument (the weight for an input gradient, with `swap` the input)."""
    with enable_grad():
        variable = zeros(tuple(size), dtype=other.dtype, device=other.device).requires_grad_()
        inputs = (other, variable) if swap else (variable, other)
        output = convolution(*inputs, None, *options)
        if tuple(output.shape) != tuple(grad_output.shape):
            raise RuntimeError(
                f"{convolution.__name__}: grad_output of shape {tuple(grad_output.shape)} does "
                f"not match the convolution's output shape {tuple(output.shape)}"
            )
        create_graph = grad_output.requires_grad or other.requires_grad
        (result,) = grad(output, variable, grad_output, create_graph=create_graph)
    return result


def _named(function: Callable, name: str, argument: str) -> Callable:
    function.__name__ = function.__qualname__ = name
    function.__doc__ = (
        f"The gradient of {name.split('_')[0]} with respect to its {argument}, given "
        "grad_output (the gradient of its output), as torch.nn.grad's."
    )
    return function


def _input_grad(convolution: Callable, name: str) -> Callable:
    def input_grad(
        input_size: Sequence[int],
        weight: Tensor,
        grad_output: Tensor,
        stride: _Size = 1,
        padding: Any = 0,
        dilation: _Size = 1,
        groups: int = 1,
    ) -> Tensor:
        options = (stride, padding, dilation, groups)
        return _vjp(convolution, input_size, weight, grad_output, False, options)

    return _named(input_grad, name, "input")


def _weight_grad(convolution: Callable, name: str) -> Callable:
    def weight_grad(
        input: Tensor,  # noqa: A002
        weight_size: Sequence[int],
        grad_output: Tensor,
        stride: _Size = 1,
        padding: Any = 0,
        dilation: _Size = 1,
        groups: int = 1,
    ) -> Tensor:
        options = (stride, padding, dilation, groups)
        return _vjp(convolution, weight_size, input, grad_output, True, options)

    return _named(weight_grad, name, "weight")


conv1d_input = _input_grad(F.conv1d, "conv1d_input")
conv2d_input = _input_grad(F.conv2d, "conv2d_input")
conv3d_input = _input_grad(F.conv3d, "conv3d_input")
conv1d_weight = _weight_grad(F.conv1d, "conv1d_weight")
conv2d_weight = _weight_grad(F.conv2d, "conv2d_weight")
conv3d_weight = _weight_grad(F.conv3d, "conv3d_weight")

__all__ = [
    "conv1d_input",
    "conv1d_weight",
    "conv2d_input",
    "conv2d_weight",
    "conv3d_input",
    "conv3d_weight",
]
