"""Flatten parameters into one vector and back (for line searches, second-order methods)."""

from __future__ import annotations

from collections.abc import Iterable

from chainrule._tensor import Tensor
from chainrule.errors import BackendError, ShapeError
from chainrule.ops.shape import cat


def _check_same_device(param: Tensor, device: object) -> object:
    if device is None:
        return param.device
    if param.device != device:
        raise BackendError(
            f"Found two parameters on different devices, this is currently not supported "
            f"({device} and {param.device})"
        )
    return device


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """One 1-D tensor holding every parameter, flattened and concatenated (differentiable).

    Args:
        parameters (iterable of Tensors): typically `module.parameters()`.

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> from chainrule.nn.utils import parameters_to_vector
        >>> parameters_to_vector(nn.Linear(3, 2).parameters()).shape
        chainrule.Size([8])
    """
    device = None
    pieces = []
    for param in parameters:
        device = _check_same_device(param, device)
        pieces.append(param.reshape(-1))
    return cat(pieces)


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Overwrite the parameters' data with consecutive slices of `vec` (views of it).

    Args:
        vec (Tensor): 1-D, as many elements as the parameters together.
        parameters (iterable of Tensors): overwritten in order.

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> from chainrule.nn.utils import vector_to_parameters
        >>> layer = nn.Linear(2, 1)
        >>> vector_to_parameters(chainrule.tensor([1.0, 2.0, 3.0]), layer.parameters())
        >>> layer.weight.tolist(), layer.bias.tolist()
        ([[1.0, 2.0]], [3.0])
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected chainrule.Tensor, but got: {type(vec).__name__}")
    device = None
    pointer = 0
    for param in parameters:
        device = _check_same_device(param, device)
        count = param.numel()
        if pointer + count > vec.numel():
            raise ShapeError(
                f"vector_to_parameters: vec has {vec.numel()} elements, fewer than the "
                f"parameters need (at least {pointer + count})"
            )
        param.data = vec[pointer : pointer + count].view_as(param).data
        pointer += count
