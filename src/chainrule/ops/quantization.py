# ruff: noqa: A002 - `input` is PyTorch's argument name throughout
"""Fake quantisation for quantisation-aware training (torch.fake_quantize_per_tensor_affine and
torch.fake_quantize_per_channel_affine): round x to the integer grid of an affine quantiser,
clamp it to [quant_min, quant_max] and map it back to floating point, so a float model sees
the rounding error it will have once quantised. The gradient is the straight-through
estimator: g where the rounded value lies inside the range, 0 where it was clamped.
"""

from __future__ import annotations

from typing import Any

from chainrule._tensor import Tensor
from chainrule.autograd import grad_mode
from chainrule.autograd.node import Node
from chainrule.backend import Array
from chainrule.backend.dtypes import scalar_type_name
from chainrule.ops.elementwise import where
from chainrule.ops.op import Op, apply, unary_elementwise_jvp


def _rounded_to_grid(
    xp: Any, x: Array, inv_scale: Array, zero_point: Any, float_zero_point: bool
) -> Array:
    """x / scale rounded half to even and shifted by the zero point, as PyTorch's kernels do:
    x * (1 / scale) (the reciprocal in float32), the integer zero point added after rounding,
    a floating one before."""
    scaled = x * inv_scale
    if float_zero_point:
        return xp.rint(scaled + zero_point)
    return xp.rint(scaled) + zero_point


def _clamped(xp: Any, levels: Array, quant_min: int, quant_max: int) -> tuple[Array, Array]:
    """The levels clamped to the range, and where they were inside it (a nan level is
    outside: PyTorch's integer cast sends it to quant_min)."""
    inside = (levels >= quant_min) & (levels <= quant_max)
    clamped = xp.clip(levels, quant_min, quant_max)
    return xp.where(xp.isnan(levels), quant_min, clamped), inside


class FakeQuantizePerTensorAffine(Op):
    """(clamp(round(x / scale) + zero_point, quant_min, quant_max) - zero_point) * scale, with a
    Python float scale and int zero point. Rounds half to even. Derivative (straight-through):
    g where round(x / scale) + zero_point is within [quant_min, quant_max], else 0."""

    @classmethod
    def node_name(cls) -> str:
        return "FakeQuantizePerTensorAffineCachemaskBackward0"  # PyTorch's name

    label = "fake_quantize_per_tensor_affine"

    @staticmethod
    def forward(
        ctx: Node, x: Array, scale: float, zero_point: int, quant_min: int, quant_max: int
    ) -> Array:
        xp = ctx.xp
        scale32 = xp.float32(scale)
        inv_scale = xp.float32(1.0) / scale32
        levels = _rounded_to_grid(xp, x, inv_scale, zero_point, False)
        clamped, inside = _clamped(xp, levels, quant_min, quant_max)
        ctx.save(inside=inside)
        out = (clamped - zero_point).astype(xp.float32) * scale32  # PyTorch's float32 product
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (where(ctx.inside, g, 0.0),)

    jvp = unary_elementwise_jvp


class FakeQuantizePerTensorAffineTensorQparams(FakeQuantizePerTensorAffine):
    """The same with scale and zero_point given as one-element tensors (its own node name)."""

    @classmethod
    def node_name(cls) -> str:
        return "FakeQuantizePerTensorAffineCachemaskTensorQparamsBackward0"  # PyTorch's name


class FakeQuantizePerChannelAffine(Op):
    """Fake quantisation with one scale and zero point per slice along `axis`, broadcast from
    (C,) arrays reshaped to reach that axis. An integer zero point is added after rounding, a
    floating one before (PyTorch's two kernels). Derivative: g where the level is in range."""

    @classmethod
    def node_name(cls) -> str:
        return "FakeQuantizePerChannelAffineCachemaskBackward0"  # PyTorch's name

    label = "fake_quantize_per_channel_affine"

    @staticmethod
    def forward(
        ctx: Node,
        x: Array,
        scale: Array,
        zero_point: Array,
        axis: int,
        quant_min: int,
        quant_max: int,
    ) -> Array:
        xp = ctx.xp
        along_axis = (-1,) + (1,) * (x.ndim - axis - 1)
        # (the per-channel parameters arrive as host arrays: on a device, they move to it)
        scale = xp.asarray(scale).reshape(along_axis)
        float_zero_point = zero_point.dtype.kind == "f"
        zero_point = xp.asarray(zero_point).reshape(along_axis)
        inv_scale = (xp.float32(1.0) / scale.astype(xp.float32)).astype(x.dtype)
        levels = _rounded_to_grid(xp, x, inv_scale, zero_point.astype(x.dtype), float_zero_point)
        clamped, inside = _clamped(xp, levels, quant_min, quant_max)
        ctx.save(inside=inside)
        # (level - zero point) * scale in float64, rounded once to x's dtype: PyTorch's value
        # for a floating zero point (for an integer one the product is exact either way)
        wide = xp.float64
        out = (clamped.astype(wide) - zero_point.astype(wide)) * scale.astype(wide)
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (where(ctx.inside, g, 0.0),)

    jvp = unary_elementwise_jvp


def _check_range(zero_points: Any, quant_min: int, quant_max: int) -> None:
    if quant_min > quant_max:
        raise RuntimeError("`quant_min` should be less than or equal to `quant_max`.")
    if any(not quant_min <= z <= quant_max for z in zero_points):
        raise RuntimeError("`zero_point` must be between `quant_min` and `quant_max`.")


def _check_input(kernel: str, input: Tensor) -> None:
    if input._array.dtype.kind not in "fV":
        name = scalar_type_name(input._array.dtype)
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{name}'")


def _check_not_differentiable(function: str, **qparams: Any) -> None:
    """PyTorch records no derivative for the quantisation parameters and refuses them."""
    for name, value in qparams.items():
        if isinstance(value, Tensor) and value.requires_grad and grad_mode.is_grad_enabled():
            raise RuntimeError(
                f"The function '{function}' is not differentiable with respect to argument "
                f"'{name}'. This input cannot have requires_grad True."
            )


def _one_number(value: Any) -> Any:
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise RuntimeError(
                f"a Tensor with {value.numel()} elements cannot be converted to Scalar"
            )
        return value.item()
    return value


def fake_quantize_per_tensor_affine(
    input: Tensor,
    scale: float | Tensor,
    zero_point: int | Tensor,
    quant_min: int,
    quant_max: int,
) -> Tensor:
    """Quantise and dequantise with one affine quantiser: (clamp(round(x / scale) + zero_point,
    quant_min, quant_max) - zero_point) * scale, rounding half to even. The gradient passes
    straight through where the level was in range and is 0 where it was clamped.

    Args:
        input (Tensor): floating point, any shape.
        scale (float or Tensor): the step of the grid (a one-element tensor is read as a
            number; it receives no gradient).
        zero_point (int or Tensor): the level that stands for 0.0, in [quant_min, quant_max].
        quant_min (int): the lowest level (say -128 or 0).
        quant_max (int): the highest level (say 127 or 255).

    Returns:
        Tensor: the shape and dtype of `input`.

    Example:
        >>> import chainrule
        >>> x = chainrule.tensor([-1.3, 0.26, 0.75, 3.0])
        >>> chainrule.fake_quantize_per_tensor_affine(x, 0.5, 2, 0, 7)
        tensor([-1.0000,  0.5000,  1.0000,  2.5000])
    """
    tensor_qparams = isinstance(scale, Tensor)
    if tensor_qparams != isinstance(zero_point, Tensor):
        raise TypeError(
            "fake_quantize_per_tensor_affine() received an invalid combination of arguments: "
            "scale and zero_point are both numbers or both tensors"
        )
    function = "_fake_quantize_per_tensor_affine_cachemask_tensor_qparams"
    if tensor_qparams:
        _check_not_differentiable(function, scale=scale, zero_point=zero_point)
    scale_value = float(_one_number(scale))
    zero_point_value = int(_one_number(zero_point))
    _check_range([zero_point_value], quant_min, quant_max)
    _check_input("fake_quantize_tensor_cachemask_kernel_type_handling", input)
    op = FakeQuantizePerTensorAffineTensorQparams if tensor_qparams else FakeQuantizePerTensorAffine
    return apply(op, (input,), scale_value, zero_point_value, int(quant_min), int(quant_max))


def fake_quantize_per_channel_affine(
    input: Tensor,
    scale: Tensor,
    zero_point: Tensor,
    axis: int,
    quant_min: int,
    quant_max: int,
) -> Tensor:
    """Fake quantisation with a scale and zero point per slice of `input` along `axis` (per
    output channel of a weight, typically). The gradient passes straight through where the
    level was in range, and is 0 where it was clamped.

    Args:
        input (Tensor): floating point, any shape.
        scale (Tensor): float32 (or bfloat16), shape (input.shape[axis],); no gradient.
        zero_point (Tensor): int32, float32 or float16, the shape of `scale`. A floating zero
            point is added before rounding, an integer one after.
        axis (int): the channel dimension, from 0 (negative values are refused, as PyTorch).
        quant_min (int): the lowest level.
        quant_max (int): the highest level.

    Returns:
        Tensor: the shape and dtype of `input`.

    Example:
        >>> import chainrule
        >>> w = chainrule.tensor([[0.3, -0.7], [0.04, 0.11]])
        >>> scale = chainrule.tensor([0.1, 0.05])
        >>> zero_point = chainrule.zeros(2, dtype=chainrule.int32)
        >>> chainrule.fake_quantize_per_channel_affine(w, scale, zero_point, 0, -4, 3)
        tensor([[ 0.3000, -0.4000],
                [ 0.0500,  0.1000]])
    """
    function = "fake_quantize_per_channel_affine_cachemask"
    _check_not_differentiable(function, scale=scale, zero_point=zero_point)
    if scale.dim() != 1:
        raise RuntimeError("scale should be a 1-D tensor")
    if zero_point.dim() != 1:
        raise RuntimeError("zero point should be a 1-D tensor")
    if scale.numel() != zero_point.numel():
        raise RuntimeError("scale and zero-point need to have the same dimensions")
    ndim = input.dim()
    if not -ndim <= axis < ndim:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], "
            f"but got {axis})"
        )
    if axis < 0:
        raise RuntimeError("`axis` must be between 0 and number of dimensions of input")
    if scale.numel() != input.shape[axis]:
        raise RuntimeError(
            "dimensions of scale and zero-point are not consistent with input tensor"
        )
    scale_dtype = scale._array.dtype
    if scale_dtype.name not in ("float32", "bfloat16"):
        raise RuntimeError(
            f"Scale must be Float or BFloat16, found {scalar_type_name(scale_dtype)}"
        )
    zero_point_dtype = zero_point._array.dtype
    if zero_point_dtype.name not in ("int32", "float32", "float16"):
        name = scalar_type_name(zero_point_dtype)
        raise RuntimeError(f"Zero-point must be Int32, Float or Half, found {name}")
    _check_range(zero_point.tolist(), quant_min, quant_max)
    _check_input("fake_quantize_channel_cachemask_cpu_type_handling", input)
    return apply(
        FakeQuantizePerChannelAffine,
        (input,),
        scale._array,
        zero_point._array,
        axis,
        int(quant_min),
        int(quant_max),
    )


__all__ = ["fake_quantize_per_channel_affine", "fake_quantize_per_tensor_affine"]
