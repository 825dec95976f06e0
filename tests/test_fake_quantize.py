"""torch.fake_quantize_per_tensor_affine and fake_quantize_per_channel_affine (quantisation-aware
training): values at rounding ties and the range's edges, the straight-through gradient, the
node names, and PyTorch's errors. Values and gradients on random inputs are the op specs'
(tests/op_specs/nn_ops.py)."""

import numpy as np
import pytest
import torch

import chainrule

TIES = [-1.3, -0.25, 0.0, 0.25, 0.75, 1.25, 3.0, 0.3, float("inf"), float("-inf"), float("nan")]


def _both(values, dtype="float32", requires_grad=True):
    mine = chainrule.tensor(values, dtype=getattr(chainrule, dtype), requires_grad=requires_grad)
    theirs = torch.tensor(values, dtype=getattr(torch, dtype), requires_grad=requires_grad)
    return mine, theirs


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_per_tensor_rounds_half_to_even_and_passes_gradient_only_inside_the_range(dtype):
    mine, theirs = _both(TIES, dtype)
    out = chainrule.fake_quantize_per_tensor_affine(mine, 0.5, 2, 0, 7)
    expected = torch.fake_quantize_per_tensor_affine(theirs, 0.5, 2, 0, 7)
    np.testing.assert_array_equal(out.detach().numpy(), expected.detach().numpy())
    assert out.dtype.name == dtype
    cotangent = np.arange(len(TIES), dtype=np.float64)
    out.backward(chainrule.tensor(cotangent, dtype=out.dtype))
    expected.backward(torch.tensor(cotangent, dtype=expected.dtype))
    np.testing.assert_array_equal(mine.grad.numpy(), theirs.grad.numpy())
    assert out.grad_fn.name() == type(expected.grad_fn).__name__


def test_per_tensor_with_tensor_qparams_has_torchs_node_and_float32_product():
    mine, theirs = _both([0.3, -0.71, 1.04], "float64")
    out = chainrule.fake_quantize_per_tensor_affine(
        mine, chainrule.tensor(0.1), chainrule.tensor(1, dtype=chainrule.int32), -8, 7
    )
    expected = torch.fake_quantize_per_tensor_affine(
        theirs, torch.tensor(0.1), torch.tensor(1, dtype=torch.int32), -8, 7
    )
    assert out.tolist() == expected.tolist()  # 0.30000001192...: the product is float32's
    assert out.grad_fn.name() == "FakeQuantizePerTensorAffineCachemaskTensorQparamsBackward0"


@pytest.mark.parametrize("zero_point_dtype", ["int32", "float32"])
def test_per_channel_values_and_gradient_match_torch(zero_point_dtype):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 4, 3)) * 2
    scale = rng.uniform(0.05, 0.4, size=4).astype(np.float32)
    zero_point = rng.uniform(-3, 3, size=4).round(2).astype(zero_point_dtype)
    mine, theirs = _both(x.tolist(), "float64")
    out = chainrule.fake_quantize_per_channel_affine(
        mine, chainrule.tensor(scale), chainrule.tensor(zero_point), 1, -8, 7
    )
    expected = torch.fake_quantize_per_channel_affine(
        theirs, torch.tensor(scale), torch.tensor(zero_point), 1, -8, 7
    )
    np.testing.assert_array_equal(out.detach().numpy(), expected.detach().numpy())
    cotangent = rng.normal(size=x.shape)
    out.backward(chainrule.tensor(cotangent))
    expected.backward(torch.tensor(cotangent))
    np.testing.assert_array_equal(mine.grad.numpy(), theirs.grad.numpy())
    assert 0 < int((mine.grad.numpy() == 0).sum()) < x.size  # some levels were clamped


def _error_of(call):
    try:
        call()
    except Exception as error:  # noqa: BLE001 - the type is what is compared
        return type(error), " ".join(str(error).split())
    return None


CHANNEL_ERRORS = [
    ({"scale": [0.3, 0.5, 0.25]}, "scale and zero-point need to have the same dimensions"),
    ({"scale": [0.3, 0.5, 0.25], "zero_point": [0, 0, 0]}, "not consistent with input"),
    ({"axis": 2}, "Dimension out of range"),
    ({"axis": -1}, "`axis` must be between 0"),
    ({"scale_dtype": "float64"}, "Scale must be Float or BFloat16, found Double"),
    ({"zero_point_dtype": "int64"}, "Zero-point must be Int32, Float or Half, found Long"),
    ({"zero_point": [0, 1, 2, 9]}, "`zero_point` must be between `quant_min` and `quant_max`"),
    ({"range": (4, -4)}, "`quant_min` should be less than or equal to `quant_max`"),
    ({"scale_requires_grad": True}, "not differentiable with respect to argument 'scale'"),
    ({"input_dtype": "int64"}, "not implemented for 'Long'"),
]


@pytest.mark.parametrize(("change", "message"), CHANNEL_ERRORS)
def test_per_channel_refuses_what_torch_refuses_with_its_exception(change, message):
    def call(lib):
        x = lib.ones(3, 4, dtype=getattr(lib, change.get("input_dtype", "float32")))
        scale = lib.tensor(
            change.get("scale", [0.3, 0.5, 0.25, 0.1]),
            dtype=getattr(lib, change.get("scale_dtype", "float32")),
            requires_grad=change.get("scale_requires_grad", False),
        )
        zero_point = lib.tensor(
            change.get("zero_point", [0, 1, 2, 3]),
            dtype=getattr(lib, change.get("zero_point_dtype", "int32")),
        )
        low, high = change.get("range", (-4, 4))
        axis = change.get("axis", 1)
        return lambda: lib.fake_quantize_per_channel_affine(x, scale, zero_point, axis, low, high)

    mine, theirs = _error_of(call(chainrule)), _error_of(call(torch))
    assert mine is not None and theirs is not None
    assert mine[0] is theirs[0]
    assert message in mine[1] and message in theirs[1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((0.5, 2, 7, 0), "`quant_min` should be less than or equal to `quant_max`"),
        ((0.5, 9, 0, 7), "`zero_point` must be between `quant_min` and `quant_max`"),
        (("tensor", "tensor", 0, 7), "not differentiable with respect to argument 'scale'"),
        (("two", "tensor", 0, 7), "a Tensor with 2 elements cannot be converted to Scalar"),
        (("tensor", 2, 0, 7), "invalid combination of arguments"),
    ],
)
def test_per_tensor_refuses_what_torch_refuses_with_its_exception(args, message):
    def call(lib):
        scale, zero_point, low, high = args
        if scale == "tensor":
            scale = lib.tensor(0.5, requires_grad=True)
        elif scale == "two":
            scale = lib.tensor([0.5, 0.4])
        if zero_point == "tensor":
            zero_point = lib.tensor(2, dtype=lib.int32)
        return lambda: lib.fake_quantize_per_tensor_affine(
            lib.ones(3), scale, zero_point, low, high
        )

    mine, theirs = _error_of(call(chainrule)), _error_of(call(torch))
    assert mine is not None and theirs is not None
    assert mine[0] is theirs[0]
    assert message in mine[1] and message in theirs[1]
