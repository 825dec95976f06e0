"""chainrule.nn modules against torch.nn: every layer is built in torch, its state_dict copied
into the chainrule layer (the keys must match exactly), and outputs, parameter gradients and
input gradients (random cotangent) compared; then the Module API itself (registration,
state_dict, hooks, modes, conversion, repr) and the containers and utils."""

from __future__ import annotations

import copy
import dataclasses
import math
import pickle
import re
import warnings
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import chainrule
import chainrule.backend.dtypes
from chainrule import nn
from chainrule.errors import ShapeError

# torch's own performance notes, irrelevant here.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel:UserWarning"),
    pytest.mark.filterwarnings("ignore:LSTM with projections is not supported:UserWarning"),
    pytest.mark.filterwarnings("ignore:enable_nested_tensor is True:UserWarning"),
]

# ---- helpers -----------------------------------------------------------------------------------


def to_chainrule(value: torch.Tensor) -> chainrule.Tensor:
    return chainrule.tensor(value.detach().numpy())


def to_numpy(value: Any) -> np.ndarray:
    return np.asarray(value.detach().cpu().numpy())


def copy_state(mine: nn.Module, theirs: torch.nn.Module) -> None:
    """Load torch's state_dict into the chainrule module; the keys must be identical."""
    state = theirs.state_dict()
    assert list(mine.state_dict().keys()) == list(state.keys())
    result = mine.load_state_dict({key: to_chainrule(value) for key, value in state.items()})
    assert result.missing_keys == [] and result.unexpected_keys == []


def flatten(value: Any) -> list:
    if isinstance(value, (tuple, list)):
        return [item for part in value for item in flatten(part)]
    return [value]


def assert_close(actual: Any, expected: Any, atol: float, rtol: float, what: str) -> None:
    actual = to_numpy(actual) if hasattr(actual, "detach") else np.asarray(actual)
    expected = to_numpy(expected) if hasattr(expected, "detach") else np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    np.testing.assert_allclose(actual, expected, atol=atol, rtol=rtol, err_msg=what)


@dataclasses.dataclass
class Case:
    """One layer check: `make(lib)` builds the layer from torch.nn or chainrule.nn;
    `inputs(rng)` draws NumPy inputs; `call(module, *inputs)` runs it (default module(*x))."""

    name: str
    make: Callable[[Any], Any]
    inputs: Callable[[np.random.Generator], tuple]
    call: Callable[..., Any] | None = None
    grad_inputs: tuple | None = None  # which inputs require grad (default: every float one)
    train: bool = True
    atol: float = 1e-5
    rtol: float = 1e-4
    float64: bool = False

    def __str__(self) -> str:
        return self.name


def check_case(case: Case, dtype: str = "float32", seed: int = 0, device: str = "cpu") -> None:
    """`device`: where the chainrule layer runs (tests/test_devices.py runs every case on the
    device under test); torch stays on the CPU as the reference."""
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    theirs = case.make(torch.nn)
    mine = case.make(nn)
    if dtype == "float64":
        theirs = theirs.double()
        mine = mine.double()
    theirs.train(case.train)
    mine.train(case.train)
    copy_state(mine, theirs)
    mine = mine.to(device)
    arrays = case.inputs(rng)
    grad_inputs = case.grad_inputs
    if grad_inputs is None:
        grad_inputs = tuple(i for i, a in enumerate(arrays) if np.asarray(a).dtype.kind == "f")
    my_inputs, their_inputs = [], []
    for index, array in enumerate(arrays):
        array = np.asarray(array)
        if array.dtype.kind == "f":
            array = array.astype(dtype)
        needs_grad = index in grad_inputs
        my_inputs.append(chainrule.tensor(array, requires_grad=needs_grad, device=device))
        their_inputs.append(torch.tensor(array, requires_grad=needs_grad))
    call = case.call or (lambda module, *xs: module(*xs))
    my_outputs = flatten(call(mine, *my_inputs))
    their_outputs = flatten(call(theirs, *their_inputs))
    assert len(my_outputs) == len(their_outputs)
    tol = {"atol": case.atol, "rtol": case.rtol}
    if dtype == "float64":
        tol = {"atol": 1e-10, "rtol": 1e-8}
    for index, (a, b) in enumerate(zip(my_outputs, their_outputs)):
        assert (a is None) == (b is None), f"output {index}: None in one library only"
        if a is not None:
            assert a.dtype.name == str(b.dtype).replace("torch.", ""), f"output {index} dtype"
            assert_close(a, b, what=f"{case.name}: output {index}", **tol)
            # contiguous where torch's is, so a program's `.view` on it works here too
            assert a.is_contiguous() or not b.is_contiguous(), (
                f"{case.name}: output {index} strides {a.stride()}, torch's contiguous"
            )
    my_loss, their_loss = 0, 0
    for a, b in zip(my_outputs, their_outputs):
        if a is not None and b.requires_grad:
            cotangent = rng.standard_normal(b.shape).astype(dtype)
            my_loss = my_loss + (a * chainrule.tensor(cotangent, device=device)).sum()
            their_loss = their_loss + (b * torch.tensor(cotangent)).sum()
    if isinstance(their_loss, torch.Tensor):
        my_loss.backward()
        their_loss.backward()
        for index in grad_inputs:
            assert_close(
                my_inputs[index].grad,
                their_inputs[index].grad,
                what=f"{case.name}: gradient of input {index}",
                **tol,
            )
        their_params = dict(theirs.named_parameters())
        for name, param in mine.named_parameters():
            expected = their_params[name].grad
            if expected is None:
                assert param.grad is None or not param.grad.abs().sum().item()
                continue
            assert param.grad is not None, f"{case.name}: no gradient for {name}"
            assert_close(param.grad, expected, what=f"{case.name}: gradient of {name}", **tol)
    # Buffers (running statistics) must have moved the same way.
    their_state = theirs.state_dict()
    for name, value in mine.state_dict().items():
        assert_close(value, their_state[name], what=f"{case.name}: state {name}", **tol)


def normal(*shape: int) -> Callable:
    return lambda rng: (rng.standard_normal(shape),)


def integers(high: int, *shape: int) -> Callable:
    return lambda rng: (rng.integers(0, high, size=shape),)


# ---- the layer cases ----------------------------------------------------------------------------


def _positive(rng: np.random.Generator, *shape: int) -> np.ndarray:
    return rng.uniform(0.1, 0.9, size=shape)


ACTIVATIONS = [
    Case("ReLU", lambda n: n.ReLU(), normal(3, 4)),
    Case("ReLU6", lambda n: n.ReLU6(), lambda r: (r.uniform(-3, 9, (3, 4)),)),
    Case("LeakyReLU", lambda n: n.LeakyReLU(0.2), normal(3, 4)),
    Case("ELU", lambda n: n.ELU(alpha=0.7), normal(3, 4)),
    Case("CELU", lambda n: n.CELU(alpha=0.7), normal(3, 4)),
    Case("SELU", lambda n: n.SELU(), normal(3, 4)),
    Case("GELU", lambda n: n.GELU(), normal(3, 4)),
    Case("GELU-tanh", lambda n: n.GELU(approximate="tanh"), normal(3, 4)),
    Case("SiLU", lambda n: n.SiLU(), normal(3, 4)),
    Case("Mish", lambda n: n.Mish(), normal(3, 4)),
    Case("Sigmoid", lambda n: n.Sigmoid(), normal(3, 4)),
    Case("Tanh", lambda n: n.Tanh(), normal(3, 4)),
    Case("Softplus", lambda n: n.Softplus(beta=2.0, threshold=3.0), normal(3, 4)),
    Case("Softsign", lambda n: n.Softsign(), normal(3, 4)),
    Case("Hardtanh", lambda n: n.Hardtanh(-0.5, 0.7), normal(3, 4)),
    Case("Hardswish", lambda n: n.Hardswish(), lambda r: (r.uniform(-5, 5, (3, 4)),)),
    Case("Hardsigmoid", lambda n: n.Hardsigmoid(), lambda r: (r.uniform(-5, 5, (3, 4)),)),
    Case("LogSigmoid", lambda n: n.LogSigmoid(), normal(3, 4)),
    Case("Softmax", lambda n: n.Softmax(dim=1), normal(3, 4)),
    Case("Softmax-dim0", lambda n: n.Softmax(dim=0), normal(3, 4)),
    Case("LogSoftmax", lambda n: n.LogSoftmax(dim=-1), normal(3, 4)),
    Case("Softmin", lambda n: n.Softmin(dim=1), normal(3, 4)),
    Case("Softmax2d", lambda n: n.Softmax2d(), normal(2, 3, 2, 2)),
    Case("GLU", lambda n: n.GLU(dim=1), normal(3, 4)),
    Case("Threshold", lambda n: n.Threshold(0.1, 20.0), normal(3, 4)),
    Case("Hardshrink", lambda n: n.Hardshrink(0.3), normal(3, 4)),
    Case("Softshrink", lambda n: n.Softshrink(0.3), normal(3, 4)),
    Case("Tanhshrink", lambda n: n.Tanhshrink(), normal(3, 4)),
    Case("PReLU", lambda n: n.PReLU(), normal(3, 4)),
    Case("PReLU-channels", lambda n: n.PReLU(3, init=0.1), normal(2, 3, 4)),
]

LINEAR_AND_SHAPE = [
    Case("Linear", lambda n: n.Linear(5, 3), normal(4, 5), float64=True),
    Case("Linear-3d-input", lambda n: n.Linear(5, 3), normal(2, 4, 5)),
    Case("Linear-no-bias", lambda n: n.Linear(5, 3, bias=False), normal(4, 5)),
    Case("Linear-1d-input", lambda n: n.Linear(5, 3), normal(5)),
    Case(
        "Bilinear",
        lambda n: n.Bilinear(3, 4, 2),
        lambda r: (r.standard_normal((5, 3)), r.standard_normal((5, 4))),
        float64=True,
    ),
    Case("Identity", lambda n: n.Identity(3, foo=1), normal(2, 3)),
    Case("Flatten", lambda n: n.Flatten(), normal(2, 3, 4)),
    Case("Flatten-range", lambda n: n.Flatten(0, 1), normal(2, 3, 4)),
    Case("Unflatten", lambda n: n.Unflatten(1, (2, 3)), normal(2, 6)),
    Case(
        "Sequential",
        lambda n: n.Sequential(n.Linear(4, 6), n.Tanh(), n.Linear(6, 2)),
        normal(3, 4),
        float64=True,
    ),
]

CONVOLUTIONS = [
    Case("Conv1d", lambda n: n.Conv1d(3, 4, 3, stride=2, padding=1), normal(2, 3, 9)),
    Case(
        "Conv1d-same-dilated",
        lambda n: n.Conv1d(2, 3, 3, padding="same", dilation=2),
        normal(2, 2, 8),
    ),
    Case("Conv1d-unbatched", lambda n: n.Conv1d(2, 3, 2), normal(2, 6)),
    Case("Conv2d", lambda n: n.Conv2d(3, 4, 3, padding=1), normal(2, 3, 6, 5), float64=True),
    Case(
        "Conv2d-strided-groups",
        lambda n: n.Conv2d(4, 6, (3, 2), stride=(2, 1), groups=2),
        normal(2, 4, 7, 5),
    ),
    Case("Conv2d-same", lambda n: n.Conv2d(2, 3, (4, 3), padding="same"), normal(1, 2, 6, 5)),
    Case(
        "Conv2d-valid-no-bias",
        lambda n: n.Conv2d(2, 3, 3, padding="valid", bias=False),
        normal(1, 2, 5, 5),
    ),
    Case("Conv2d-dilation", lambda n: n.Conv2d(2, 2, 3, dilation=2, padding=2), normal(1, 2, 7, 7)),
    Case(
        "Conv1d-same-reflect",
        lambda n: n.Conv1d(2, 3, 4, padding="same", padding_mode="reflect"),
        normal(2, 2, 7),
    ),
    Case(
        "Conv2d-reflect",
        lambda n: n.Conv2d(2, 3, 3, padding=1, padding_mode="reflect"),
        normal(2, 2, 5, 5),
    ),
    Case(
        "Conv2d-replicate",
        lambda n: n.Conv2d(2, 3, 3, padding=(1, 2), padding_mode="replicate"),
        normal(1, 2, 5, 5),
    ),
    Case(
        "Conv2d-circular",
        lambda n: n.Conv2d(2, 3, 3, padding=1, padding_mode="circular"),
        normal(1, 2, 5, 5),
    ),
    Case(
        "ConvTranspose1d",
        lambda n: n.ConvTranspose1d(3, 2, 3, stride=2, padding=1),
        normal(2, 3, 5),
    ),
    Case(
        "ConvTranspose2d",
        lambda n: n.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1),
        normal(2, 3, 4, 4),
        float64=True,
    ),
    Case(
        "ConvTranspose2d-groups",
        lambda n: n.ConvTranspose2d(4, 2, 2, stride=2, groups=2),
        normal(1, 4, 3, 3),
    ),
    Case(
        "ConvTranspose2d-output_size",
        lambda n: n.ConvTranspose2d(2, 3, 3, stride=2, padding=1),
        normal(1, 2, 3, 3),
        call=lambda m, x: m(x, output_size=[6, 6]),
    ),
    Case(  # the smallest sizes allowed, for an unbatched input of unequal height and width
        "ConvTranspose2d-output_size-unbatched-smallest",
        lambda n: n.ConvTranspose2d(2, 3, 3, stride=2, padding=1),
        normal(2, 3, 4),
        call=lambda m, x: m(x, output_size=[5, 7]),
    ),
    Case(
        "ConvTranspose1d-output_size",
        lambda n: n.ConvTranspose1d(2, 3, 3, stride=3),
        normal(2, 2, 4),
        call=lambda m, x: m(x, output_size=[14]),
    ),
]

POOLING = [
    Case("MaxPool1d", lambda n: n.MaxPool1d(2), normal(2, 3, 8)),
    Case("MaxPool1d-padded", lambda n: n.MaxPool1d(3, stride=2, padding=1), normal(2, 3, 9)),
    Case("MaxPool2d", lambda n: n.MaxPool2d(2), normal(2, 3, 6, 6)),
    Case(
        "MaxPool2d-ceil",
        lambda n: n.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
        normal(1, 2, 7, 6),
    ),
    Case("MaxPool2d-indices", lambda n: n.MaxPool2d(2, return_indices=True), normal(1, 2, 4, 4)),
    Case("AvgPool1d", lambda n: n.AvgPool1d(3, stride=2, padding=1), normal(2, 3, 9)),
    Case("AvgPool2d", lambda n: n.AvgPool2d(2), normal(2, 3, 6, 6)),
    Case(
        "AvgPool2d-exclude-pad",
        lambda n: n.AvgPool2d(3, stride=2, padding=1, count_include_pad=False),
        normal(1, 2, 5, 5),
    ),
    Case("AdaptiveAvgPool1d", lambda n: n.AdaptiveAvgPool1d(3), normal(2, 3, 7)),
    Case("AdaptiveAvgPool2d", lambda n: n.AdaptiveAvgPool2d((2, 3)), normal(2, 3, 5, 7)),
    Case("AdaptiveAvgPool2d-None", lambda n: n.AdaptiveAvgPool2d((None, 2)), normal(1, 2, 3, 5)),
    Case("AdaptiveMaxPool2d", lambda n: n.AdaptiveMaxPool2d(2), normal(1, 2, 5, 5)),
]

NORMALIZATION = [
    Case("BatchNorm3d-train", lambda n: n.BatchNorm3d(2), normal(2, 2, 2, 3, 2)),
    Case("BatchNorm1d-2d-train", lambda n: n.BatchNorm1d(4), normal(6, 4), float64=True),
    Case("BatchNorm1d-3d-train", lambda n: n.BatchNorm1d(3, momentum=0.3), normal(4, 3, 5)),
    Case("BatchNorm1d-eval", lambda n: n.BatchNorm1d(4), normal(6, 4), train=False),
    Case("BatchNorm2d-train", lambda n: n.BatchNorm2d(3), normal(2, 3, 4, 4), float64=True),
    Case("BatchNorm2d-eval", lambda n: n.BatchNorm2d(3), normal(2, 3, 4, 4), train=False),
    Case("BatchNorm2d-cumulative", lambda n: n.BatchNorm2d(3, momentum=None), normal(2, 3, 4, 4)),
    Case("BatchNorm2d-no-affine", lambda n: n.BatchNorm2d(3, affine=False), normal(2, 3, 3, 3)),
    Case(
        "BatchNorm2d-untracked",
        lambda n: n.BatchNorm2d(3, track_running_stats=False),
        normal(2, 3, 3, 3),
    ),
    Case(
        "BatchNorm2d-untracked-eval",
        lambda n: n.BatchNorm2d(3, track_running_stats=False),
        normal(2, 3, 3, 3),
        train=False,
    ),
    Case("LayerNorm", lambda n: n.LayerNorm(5), normal(3, 5), float64=True),
    Case("LayerNorm-2d-shape", lambda n: n.LayerNorm((3, 4), eps=1e-3), normal(2, 3, 4)),
    Case("LayerNorm-no-affine", lambda n: n.LayerNorm(4, elementwise_affine=False), normal(3, 4)),
    Case("LayerNorm-no-bias", lambda n: n.LayerNorm(4, bias=False), normal(3, 4)),
    Case("GroupNorm", lambda n: n.GroupNorm(2, 4), normal(2, 4, 3, 3), float64=True),
    Case("GroupNorm-no-affine", lambda n: n.GroupNorm(3, 6, affine=False), normal(2, 6, 5)),
    Case("RMSNorm", lambda n: n.RMSNorm(4), normal(3, 4)),
    Case("RMSNorm-eps", lambda n: n.RMSNorm((2, 4), eps=1e-3), normal(3, 2, 4)),
    Case("Dropout-eval", lambda n: n.Dropout(0.5), normal(4, 5), train=False),
    Case("Dropout-p0", lambda n: n.Dropout(0.0), normal(4, 5)),
    Case("Dropout2d-eval", lambda n: n.Dropout2d(0.3), normal(2, 3, 4, 4), train=False),
]


def _embedding_inputs(rng: np.random.Generator) -> tuple:
    return (rng.integers(0, 10, size=(3, 4)),)


EXTRA_LAYERS = [
    Case("Conv3d", lambda n: n.Conv3d(2, 3, (2, 3, 2), padding=(1, 0, 1)), normal(1, 2, 4, 5, 3)),
    Case(
        "ConvTranspose3d",
        lambda n: n.ConvTranspose3d(2, 3, 2, stride=2, padding=1),
        normal(1, 2, 3, 3, 2),
    ),
    Case("MaxPool3d", lambda n: n.MaxPool3d(2, stride=1), normal(1, 2, 3, 4, 3)),
    Case("AvgPool3d", lambda n: n.AvgPool3d(2, padding=1), normal(1, 2, 3, 4, 3)),
    Case("AdaptiveAvgPool3d", lambda n: n.AdaptiveAvgPool3d((1, 2, 3)), normal(1, 2, 3, 4, 5)),
    Case("AdaptiveMaxPool1d", lambda n: n.AdaptiveMaxPool1d(3), normal(2, 2, 7)),
    Case("Dropout3d-eval", lambda n: n.Dropout3d(), normal(1, 2, 2, 2, 2), train=False),
    Case("AlphaDropout-eval", lambda n: n.AlphaDropout(0.2), normal(3, 4), train=False),
    Case(
        "FeatureAlphaDropout-eval", lambda n: n.FeatureAlphaDropout(), normal(2, 3, 4), train=False
    ),
    Case("InstanceNorm1d", lambda n: n.InstanceNorm1d(3), normal(2, 3, 5)),
    Case(
        "InstanceNorm2d-affine-tracked",
        lambda n: n.InstanceNorm2d(3, affine=True, track_running_stats=True),
        normal(2, 3, 4, 4),
    ),
    Case(
        "InstanceNorm2d-tracked-eval",
        lambda n: n.InstanceNorm2d(3, track_running_stats=True),
        normal(2, 3, 4, 4),
        train=False,
    ),
    Case("InstanceNorm1d-unbatched", lambda n: n.InstanceNorm1d(3, affine=True), normal(3, 6)),
    Case("InstanceNorm3d", lambda n: n.InstanceNorm3d(2), normal(1, 2, 3, 3, 3)),
    Case("ZeroPad2d", lambda n: n.ZeroPad2d((1, 0, 2, 1)), normal(1, 2, 3, 3)),
    Case("ConstantPad1d", lambda n: n.ConstantPad1d(2, 0.5), normal(2, 3)),
    Case("ConstantPad3d", lambda n: n.ConstantPad3d(1, -1.0), normal(1, 1, 2, 2, 2)),
    Case("ReflectionPad1d", lambda n: n.ReflectionPad1d((2, 1)), normal(1, 2, 5)),
    Case("ReflectionPad2d", lambda n: n.ReflectionPad2d(1), normal(1, 2, 3, 4)),
    Case("ReplicationPad2d", lambda n: n.ReplicationPad2d((1, 2, 0, 1)), normal(1, 2, 3, 3)),
    Case("ReplicationPad3d", lambda n: n.ReplicationPad3d(1), normal(1, 1, 2, 2, 2)),
    Case("CircularPad1d", lambda n: n.CircularPad1d(2), normal(1, 2, 4)),
    Case("CircularPad2d", lambda n: n.CircularPad2d((1, 1, 2, 0)), normal(1, 2, 3, 3)),
    Case(
        "PairwiseDistance",
        lambda n: n.PairwiseDistance(p=3.0, keepdim=True),
        lambda r: (r.standard_normal((4, 5)), r.standard_normal((4, 5))),
    ),
    Case(
        "CosineSimilarity",
        lambda n: n.CosineSimilarity(dim=0),
        lambda r: (r.standard_normal((4, 5)), r.standard_normal((4, 5))),
    ),
    Case("Upsample-nearest", lambda n: n.Upsample(scale_factor=2), normal(1, 2, 3, 3)),
    Case(
        "Upsample-bilinear", lambda n: n.Upsample(size=(5, 4), mode="bilinear"), normal(1, 2, 3, 3)
    ),
    Case(
        "UpsamplingBilinear2d", lambda n: n.UpsamplingBilinear2d(scale_factor=2), normal(1, 2, 3, 2)
    ),
    Case(
        "Upsample-linear",
        lambda n: n.Upsample(scale_factor=1.5, mode="linear", align_corners=False),
        normal(2, 2, 4),
    ),
]

EMBEDDING = [
    Case(
        "Embedding-max-norm",
        lambda n: n.Embedding(10, 3, max_norm=0.5),
        lambda r: (np.array([[1, 4, 1], [7, 4, 2]]),),
    ),
    Case("Embedding", lambda n: n.Embedding(10, 3), _embedding_inputs),
    Case(
        "Embedding-padding",
        lambda n: n.Embedding(10, 3, padding_idx=2),
        lambda r: (np.array([[2, 1, 2], [3, 2, 9]]),),
    ),
    Case(
        "Embedding-negative-padding",
        lambda n: n.Embedding(10, 3, padding_idx=-1),
        lambda r: (np.array([[9, 1, 9]]),),
    ),
]


def _sequence(*shape: int) -> Callable:
    return lambda rng: (rng.standard_normal(shape) * 0.5,)


RECURRENT = [
    Case("RNN", lambda n: n.RNN(3, 4), _sequence(5, 2, 3), float64=True),
    Case(
        "RNN-relu-2-layers",
        lambda n: n.RNN(3, 4, num_layers=2, nonlinearity="relu"),
        _sequence(5, 2, 3),
    ),
    Case(
        "RNN-bidirectional-batch-first",
        lambda n: n.RNN(3, 4, bidirectional=True, batch_first=True),
        _sequence(2, 5, 3),
    ),
    Case(
        "RNN-h0",
        lambda n: n.RNN(3, 4, num_layers=2),
        lambda r: (r.standard_normal((5, 2, 3)), r.standard_normal((2, 2, 4))),
    ),
    Case("RNN-unbatched", lambda n: n.RNN(3, 4), _sequence(5, 3)),
    Case("RNN-no-bias", lambda n: n.RNN(3, 4, bias=False), _sequence(5, 2, 3)),
    Case("LSTM", lambda n: n.LSTM(3, 4), _sequence(5, 2, 3), float64=True),
    Case(
        "LSTM-2-layers-bidirectional",
        lambda n: n.LSTM(3, 4, num_layers=2, bidirectional=True),
        _sequence(4, 2, 3),
        float64=True,
    ),
    Case(
        "LSTM-states-batch-first",
        lambda n: n.LSTM(3, 4, batch_first=True),
        lambda r: (
            r.standard_normal((2, 5, 3)),
            r.standard_normal((1, 2, 4)),
            r.standard_normal((1, 2, 4)),
        ),
        call=lambda m, x, h, c: m(x, (h, c)),
    ),
    Case(
        "LSTM-proj-bidirectional-states",
        lambda n: n.LSTM(3, 5, proj_size=2, bidirectional=True),
        lambda r: (
            r.standard_normal((4, 2, 3)),
            r.standard_normal((2, 2, 2)),
            r.standard_normal((2, 2, 5)),
        ),
        call=lambda m, x, h, c: m(x, (h, c)),
    ),
    Case(
        "GRU-bidirectional-h0",
        lambda n: n.GRU(3, 4, num_layers=2, bidirectional=True),
        lambda r: (r.standard_normal((4, 2, 3)), r.standard_normal((4, 2, 4))),
    ),
    Case("LSTM-proj", lambda n: n.LSTM(3, 5, proj_size=2, num_layers=2), _sequence(4, 2, 3)),
    Case(
        "LSTM-unbatched-states",
        lambda n: n.LSTM(3, 4),
        lambda r: (r.standard_normal((5, 3)), r.standard_normal((1, 4)), r.standard_normal((1, 4))),
        call=lambda m, x, h, c: m(x, (h, c)),
    ),
    Case(
        "LSTM-dropout-eval",
        lambda n: n.LSTM(3, 4, num_layers=2, dropout=0.5),
        _sequence(4, 2, 3),
        train=False,
    ),
    Case("GRU", lambda n: n.GRU(3, 4), _sequence(5, 2, 3), float64=True),
    Case(
        "GRU-2-layers-bidirectional-batch-first",
        lambda n: n.GRU(3, 4, num_layers=2, bidirectional=True, batch_first=True),
        _sequence(2, 4, 3),
    ),
    Case(
        "GRU-h0",
        lambda n: n.GRU(3, 4),
        lambda r: (r.standard_normal((5, 2, 3)), r.standard_normal((1, 2, 4))),
    ),
    Case(
        "RNNCell",
        lambda n: n.RNNCell(3, 4),
        lambda r: (r.standard_normal((2, 3)), r.standard_normal((2, 4))),
    ),
    Case("RNNCell-relu-unbatched", lambda n: n.RNNCell(3, 4, nonlinearity="relu"), normal(3)),
    Case(
        "LSTMCell",
        lambda n: n.LSTMCell(3, 4),
        lambda r: (r.standard_normal((2, 3)), r.standard_normal((2, 4)), r.standard_normal((2, 4))),
        call=lambda m, x, h, c: m(x, (h, c)),
    ),
    Case("GRUCell", lambda n: n.GRUCell(3, 4), normal(2, 3)),
]


def _attention_inputs(batch_first: bool = False, s: int = 4) -> Callable:
    def draw(rng: np.random.Generator) -> tuple:
        shape = (2, 3, 8) if batch_first else (3, 2, 8)
        other = (2, s, 8) if batch_first else (s, 2, 8)
        return rng.standard_normal(shape), rng.standard_normal(other), rng.standard_normal(other)

    return draw


def _padding_mask(rng: np.random.Generator) -> np.ndarray:
    return np.array([[False, False, True, False], [False, True, True, False]])


ATTENTION = [
    Case("MHA", lambda n: n.MultiheadAttention(8, 2), _attention_inputs(), float64=True),
    Case(
        "MHA-self-batch-first",
        lambda n: n.MultiheadAttention(8, 4, batch_first=True),
        normal(2, 3, 8),
        call=lambda m, x: m(x, x, x),
    ),
    Case(
        "MHA-no-weights",
        lambda n: n.MultiheadAttention(8, 2),
        _attention_inputs(),
        call=lambda m, q, k, v: m(q, k, v, need_weights=False),
    ),
    Case(
        "MHA-per-head-weights",
        lambda n: n.MultiheadAttention(8, 2),
        _attention_inputs(),
        call=lambda m, q, k, v: m(q, k, v, average_attn_weights=False),
    ),
    Case(
        "MHA-key-padding-bool",
        lambda n: n.MultiheadAttention(8, 2),
        lambda r: (*_attention_inputs()(r), _padding_mask(r)),
        call=lambda m, q, k, v, mask: m(q, k, v, key_padding_mask=mask),
    ),
    Case(
        "MHA-key-padding-no-weights",
        lambda n: n.MultiheadAttention(8, 2, batch_first=True),
        lambda r: (*_attention_inputs(True)(r), _padding_mask(r)),
        call=lambda m, q, k, v, mask: m(q, k, v, key_padding_mask=mask, need_weights=False),
    ),
    Case(
        "MHA-attn-mask-float",
        lambda n: n.MultiheadAttention(8, 2),
        lambda r: (*_attention_inputs()(r), r.standard_normal((3, 4))),
        call=lambda m, q, k, v, mask: m(q, k, v, attn_mask=mask),
        grad_inputs=(0, 1, 2),
    ),
    Case(
        "MHA-attn-mask-3d-no-weights",
        lambda n: n.MultiheadAttention(8, 2),
        lambda r: (*_attention_inputs()(r), r.standard_normal((4, 3, 4))),
        call=lambda m, q, k, v, mask: m(q, k, v, attn_mask=mask, need_weights=False),
        grad_inputs=(0, 1, 2),
    ),
    Case(
        "MHA-causal-bool-mask",
        lambda n: n.MultiheadAttention(8, 2),
        lambda r: (r.standard_normal((4, 2, 8)), np.triu(np.ones((4, 4), dtype=bool), 1)),
        call=lambda m, x, mask: m(x, x, x, attn_mask=mask, is_causal=True),
    ),
    Case(
        "MHA-causal-no-weights",
        lambda n: n.MultiheadAttention(8, 2),
        lambda r: (r.standard_normal((4, 2, 8)), np.triu(np.ones((4, 4), dtype=bool), 1)),
        call=lambda m, x, mask: m(x, x, x, attn_mask=mask, is_causal=True, need_weights=False),
    ),
    Case(
        "MHA-kdim-vdim",
        lambda n: n.MultiheadAttention(8, 2, kdim=5, vdim=3),
        lambda r: (
            r.standard_normal((3, 2, 8)),
            r.standard_normal((4, 2, 5)),
            r.standard_normal((4, 2, 3)),
        ),
    ),
    Case(
        "MHA-bias-kv-zero-attn",
        lambda n: n.MultiheadAttention(8, 2, add_bias_kv=True, add_zero_attn=True),
        _attention_inputs(),
    ),
    Case(
        "MHA-bias-kv-padding",
        lambda n: n.MultiheadAttention(8, 2, add_bias_kv=True),
        lambda r: (*_attention_inputs()(r), _padding_mask(r)),
        call=lambda m, q, k, v, mask: m(q, k, v, key_padding_mask=mask),
    ),
    Case("MHA-no-bias", lambda n: n.MultiheadAttention(8, 2, bias=False), _attention_inputs()),
    Case(
        "MHA-unbatched",
        lambda n: n.MultiheadAttention(8, 2),
        lambda r: (r.standard_normal((3, 8)), r.standard_normal((4, 8)), r.standard_normal((4, 8))),
    ),
    Case(
        "MHA-dropout-eval",
        lambda n: n.MultiheadAttention(8, 2, dropout=0.5),
        _attention_inputs(),
        train=False,
    ),
]

TRANSFORMERS = [
    Case(
        "TransformerEncoderLayer",
        lambda n: n.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0),
        normal(3, 2, 8),
        float64=True,
    ),
    Case(
        "TransformerEncoderLayer-eval-gelu-norm-first",
        lambda n: n.TransformerEncoderLayer(
            8, 2, 16, activation="gelu", norm_first=True, batch_first=True
        ),
        normal(2, 3, 8),
        train=False,
    ),
    Case(
        "TransformerEncoderLayer-masks",
        lambda n: n.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True),
        lambda r: (
            r.standard_normal((2, 4, 8)),
            np.triu(np.ones((4, 4), dtype=bool), 1),
            _padding_mask(r),
        ),
        call=lambda m, x, mask, padding: m(x, src_mask=mask, src_key_padding_mask=padding),
    ),
    Case(
        "TransformerEncoderLayer-causal",
        lambda n: n.TransformerEncoderLayer(8, 2, 16, dropout=0.0),
        lambda r: (r.standard_normal((4, 2, 8)), np.triu(np.ones((4, 4), dtype=bool), 1)),
        call=lambda m, x, mask: m(x, src_mask=mask, is_causal=True),
    ),
    Case(
        "TransformerEncoderLayer-module-activation-no-bias",
        lambda n: n.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation=n.GELU(), bias=False),
        normal(3, 2, 8),
    ),
    Case(
        "TransformerEncoder",
        lambda n: n.TransformerEncoder(
            n.TransformerEncoderLayer(8, 2, 16, dropout=0.0),
            2,
            norm=n.LayerNorm(8),
            enable_nested_tensor=False,
        ),
        normal(3, 2, 8),
    ),
    Case(
        "TransformerDecoderLayer",
        lambda n: n.TransformerDecoderLayer(8, 2, 16, dropout=0.0),
        lambda r: (r.standard_normal((3, 2, 8)), r.standard_normal((4, 2, 8))),
    ),
    Case(
        "TransformerDecoderLayer-norm-first",
        lambda n: n.TransformerDecoderLayer(8, 2, 16, dropout=0.0, norm_first=True),
        lambda r: (r.standard_normal((3, 2, 8)), r.standard_normal((4, 2, 8))),
    ),
    Case(
        "Transformer",
        lambda n: n.Transformer(8, 2, 1, 1, 16, dropout=0.0, batch_first=True),
        lambda r: (r.standard_normal((2, 4, 8)), r.standard_normal((2, 3, 8))),
    ),
]


def _logits_and_classes(rng: np.random.Generator) -> tuple:
    return rng.standard_normal((4, 5)), rng.integers(0, 5, size=4)


def _probabilities(rng: np.random.Generator) -> tuple:
    return rng.uniform(0.05, 0.95, (3, 4)), rng.uniform(0, 1, (3, 4))


LOSSES = [
    Case("MSELoss", lambda n: n.MSELoss(), lambda r: (r.standard_normal((3, 4)),) * 2),
    Case(
        "MSELoss-sum",
        lambda n: n.MSELoss(reduction="sum"),
        lambda r: (r.standard_normal((3, 4)), r.standard_normal((3, 4))),
    ),
    Case(
        "L1Loss",
        lambda n: n.L1Loss(),
        lambda r: (r.standard_normal((3, 4)), r.standard_normal((3, 4))),
    ),
    Case(
        "L1Loss-none",
        lambda n: n.L1Loss(reduction="none"),
        lambda r: (r.standard_normal((3, 4)), r.standard_normal((3, 4))),
    ),
    Case(
        "SmoothL1Loss",
        lambda n: n.SmoothL1Loss(beta=0.5),
        lambda r: (r.standard_normal((3, 4)), r.standard_normal((3, 4))),
    ),
    Case(
        "HuberLoss",
        lambda n: n.HuberLoss(delta=0.7),
        lambda r: (r.standard_normal((3, 4)), r.standard_normal((3, 4))),
    ),
    Case("CrossEntropyLoss", lambda n: n.CrossEntropyLoss(), _logits_and_classes, float64=True),
    Case(
        "CrossEntropyLoss-options",
        lambda n: n.CrossEntropyLoss(ignore_index=1, label_smoothing=0.1, reduction="sum"),
        _logits_and_classes,
    ),
    Case(
        "CrossEntropyLoss-probabilities",
        lambda n: n.CrossEntropyLoss(),
        lambda r: (r.standard_normal((4, 5)), r.dirichlet(np.ones(5), size=4)),
        grad_inputs=(0,),
    ),
    Case(
        "CrossEntropyLoss-weighted",
        lambda n: n.CrossEntropyLoss(weight=_weights(n)),
        _logits_and_classes,
    ),
    Case(
        "CrossEntropyLoss-spatial",
        lambda n: n.CrossEntropyLoss(),
        lambda r: (r.standard_normal((2, 5, 3, 3)), r.integers(0, 5, size=(2, 3, 3))),
    ),
    Case("NLLLoss", lambda n: n.NLLLoss(), _logits_and_classes),
    Case(
        "NLLLoss-weighted-ignore",
        lambda n: n.NLLLoss(weight=_weights(n), ignore_index=2),
        _logits_and_classes,
    ),
    Case("BCELoss", lambda n: n.BCELoss(), _probabilities, grad_inputs=(0,)),
    Case(
        "BCELoss-weighted",
        lambda n: n.BCELoss(weight=_weights(n, 4)),
        _probabilities,
        grad_inputs=(0,),
    ),
    Case(
        "BCEWithLogitsLoss",
        lambda n: n.BCEWithLogitsLoss(),
        lambda r: (r.standard_normal((3, 4)), r.uniform(0, 1, (3, 4))),
    ),
    Case(
        "BCEWithLogitsLoss-pos-weight",
        lambda n: n.BCEWithLogitsLoss(pos_weight=_weights(n, 4), reduction="sum"),
        lambda r: (r.standard_normal((3, 4)), r.uniform(0, 1, (3, 4))),
    ),
    Case(
        "KLDivLoss",
        lambda n: n.KLDivLoss(reduction="batchmean"),
        lambda r: (np.log(r.dirichlet(np.ones(4), size=3)), r.dirichlet(np.ones(4), size=3)),
    ),
    Case(
        "KLDivLoss-log-target",
        lambda n: n.KLDivLoss(reduction="sum", log_target=True),
        lambda r: (
            np.log(r.dirichlet(np.ones(4), size=3)),
            np.log(r.dirichlet(np.ones(4), size=3)),
        ),
    ),
    Case(
        "CosineEmbeddingLoss",
        lambda n: n.CosineEmbeddingLoss(margin=0.1),
        lambda r: (
            r.standard_normal((4, 5)),
            r.standard_normal((4, 5)),
            np.array([1.0, -1.0, 1.0, -1.0]),
        ),
        grad_inputs=(0, 1),
    ),
    Case(
        "MarginRankingLoss",
        lambda n: n.MarginRankingLoss(margin=0.3),
        lambda r: (r.standard_normal(4), r.standard_normal(4), np.array([1.0, -1.0, 1.0, -1.0])),
        grad_inputs=(0, 1),
    ),
    Case(
        "HingeEmbeddingLoss",
        lambda n: n.HingeEmbeddingLoss(margin=0.5),
        lambda r: (r.uniform(0, 1, (2, 3)), np.array([[1.0, -1.0, 1.0], [-1.0, -1.0, 1.0]])),
        grad_inputs=(0,),
    ),
    Case(
        "SoftMarginLoss",
        lambda n: n.SoftMarginLoss(),
        lambda r: (r.standard_normal(4), np.array([1.0, -1.0, 1.0, -1.0])),
        grad_inputs=(0,),
    ),
    Case(
        "MultiLabelSoftMarginLoss",
        lambda n: n.MultiLabelSoftMarginLoss(),
        lambda r: (r.standard_normal((3, 4)), r.integers(0, 2, (3, 4)).astype("float64")),
        grad_inputs=(0,),
    ),
    Case(
        "TripletMarginLoss",
        lambda n: n.TripletMarginLoss(margin=0.5, swap=True),
        lambda r: tuple(r.standard_normal((4, 3)) for _ in range(3)),
    ),
    Case(
        "PoissonNLLLoss",
        lambda n: n.PoissonNLLLoss(full=True),
        lambda r: (r.standard_normal((2, 3)), r.integers(0, 5, (2, 3)).astype("float64")),
        grad_inputs=(0,),
    ),
    Case(
        "GaussianNLLLoss",
        lambda n: n.GaussianNLLLoss(),
        lambda r: (r.standard_normal((3, 2)), r.standard_normal((3, 2)), r.uniform(0.5, 2, (3, 1))),
    ),
    Case("PixelShuffle", lambda n: n.PixelShuffle(2), normal(2, 8, 2, 3)),
    Case("Unfold", lambda n: n.Unfold(2, padding=1, stride=2), normal(1, 2, 4, 5)),
    Case("Fold", lambda n: n.Fold((3, 4), 2), normal(1, 8, 6)),
]


def _weights(lib: Any, size: int = 5) -> Any:
    values = np.linspace(0.5, 2.0, size).astype("float32")
    if lib is torch.nn:
        return torch.tensor(values)
    return chainrule.tensor(values)


ALL_CASES = (
    ACTIVATIONS
    + LINEAR_AND_SHAPE
    + CONVOLUTIONS
    + POOLING
    + NORMALIZATION
    + EXTRA_LAYERS
    + EMBEDDING
    + RECURRENT
    + ATTENTION
    + TRANSFORMERS
    + LOSSES
)


@pytest.mark.parametrize("case", ALL_CASES, ids=str)
def test_layer_matches_torch(case: Case) -> None:
    check_case(case)


@pytest.mark.parametrize("case", [c for c in ALL_CASES if c.float64], ids=str)
def test_layer_matches_torch_in_float64(case: Case) -> None:
    check_case(case, dtype="float64", seed=1)


def test_batchnorm_running_stats_over_several_steps_then_eval() -> None:
    rng = np.random.default_rng(3)
    for momentum in (0.1, None):
        theirs = torch.nn.BatchNorm2d(3, momentum=momentum)
        mine = nn.BatchNorm2d(3, momentum=momentum)
        for _ in range(3):
            batch = rng.standard_normal((4, 3, 2, 2)).astype("float32") * 2 + 1
            assert_close(
                mine(chainrule.tensor(batch)),
                theirs(torch.tensor(batch)),
                1e-5,
                1e-4,
                "train output",
            )
        for name, value in mine.state_dict().items():
            assert_close(value, theirs.state_dict()[name], 1e-6, 1e-5, name)
        assert mine.num_batches_tracked.item() == 3
        assert mine.num_batches_tracked.dtype is chainrule.int64
        mine.eval()
        theirs.eval()
        batch = rng.standard_normal((2, 3, 2, 2)).astype("float32")
        assert_close(
            mine(chainrule.tensor(batch)), theirs(torch.tensor(batch)), 1e-5, 1e-4, "eval output"
        )


def test_batchnorm_rejects_wrong_rank() -> None:
    with pytest.raises(ShapeError, match="expected 4D input"):
        nn.BatchNorm2d(3)(chainrule.ones(3, 4))
    with pytest.raises(ShapeError, match="expected 2D or 3D input"):
        nn.BatchNorm1d(3)(chainrule.ones(2, 3, 4, 5))


def test_dropout_in_training_zeroes_and_rescales() -> None:
    chainrule.manual_seed(0)
    layer = nn.Dropout(p=0.25)
    out = layer(chainrule.ones(200, 50))
    values = out.numpy()
    assert np.all((values == 0) | np.isclose(values, 1 / 0.75))
    assert abs((values == 0).mean() - 0.25) < 0.02
    layer.eval()
    assert (layer(chainrule.ones(3, 3)).numpy() == 1).all()
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


def test_rnn_dropout_between_layers_only_in_training() -> None:
    chainrule.manual_seed(0)
    lstm = nn.LSTM(3, 4, num_layers=2, dropout=0.9)
    x = chainrule.randn(5, 2, 3)
    first = lstm(x)[0].detach().numpy()
    second = lstm(x)[0].detach().numpy()
    assert not np.allclose(first, second)
    lstm.eval()
    assert np.allclose(lstm(x)[0].detach().numpy(), lstm(x)[0].detach().numpy())


@pytest.mark.parametrize("layer", ["RNN", "GRU", "LSTM"])
def test_recurrent_layers_word_a_4d_input_as_torch(layer) -> None:
    """PyTorch's RNN says '4D tensor instead', its GRU and LSTM '4D instead'."""
    messages = []
    for lib in (chainrule, torch):
        with pytest.raises(ValueError) as caught:
            getattr(lib.nn, layer)(3, 4)(lib.zeros(5, 2, 3, 1))
        messages.append(str(caught.value))
    assert messages[0] == messages[1]


def test_recurrent_layers_check_their_inputs() -> None:
    lstm = nn.LSTM(3, 4)
    with pytest.raises(ShapeError, match="input_size. Expected 3, got 5"):
        lstm(chainrule.randn(5, 2, 5))
    with pytest.raises(ShapeError, match=r"Expected hidden\[0\] size \(1, 2, 4\), got \[1, 3, 4\]"):
        lstm(chainrule.randn(5, 2, 3), (chainrule.zeros(1, 3, 4), chainrule.zeros(1, 2, 4)))
    with pytest.raises(ShapeError, match="Expected input to be 2D or 3D"):
        nn.GRU(3, 4)(chainrule.randn(5))
    with pytest.raises(ValueError, match="proj_size argument is only supported for LSTM"):
        nn.GRU(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="Unknown nonlinearity"):
        nn.RNN(3, 4, nonlinearity="gelu")
    with pytest.raises(chainrule.DTypeError, match="does not match weight dtype"):
        nn.RNN(3, 4)(chainrule.randn(2, 1, 3, dtype=chainrule.float64))


def test_recurrent_parameter_names_and_order_match_torch() -> None:
    for make in (
        lambda n: n.LSTM(3, 5, num_layers=2, bidirectional=True, proj_size=2),
        lambda n: n.GRU(3, 4, num_layers=2, bias=False),
        lambda n: n.RNN(3, 4, 2, "relu", bidirectional=True),
    ):
        mine, theirs = make(nn), make(torch.nn)
        shapes = [(k, tuple(v.shape)) for k, v in mine.named_parameters()]
        assert shapes == [(k, tuple(v.shape)) for k, v in theirs.named_parameters()]


def test_embedding_padding_row_is_zero_and_gets_no_gradient() -> None:
    table = nn.Embedding(6, 3, padding_idx=4)
    assert (table.weight[4].detach().numpy() == 0).all()
    table(chainrule.tensor([[4, 1, 4]])).sum().backward()
    assert (table.weight.grad[4].numpy() == 0).all()
    assert (table.weight.grad[1].numpy() == 1).all()
    with pytest.raises(ValueError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(5, 2, padding_idx=5)


def test_embedding_from_pretrained_shares_and_freezes() -> None:
    weights = chainrule.arange(12.0).reshape(4, 3)
    table = nn.Embedding.from_pretrained(weights)
    assert not table.weight.requires_grad
    assert table.weight.data_ptr() == weights.data_ptr()
    assert table(chainrule.tensor([2])).tolist() == [[6.0, 7.0, 8.0]]
    trainable = nn.Embedding.from_pretrained(weights, freeze=False, padding_idx=0)
    assert trainable.weight.requires_grad and trainable.padding_idx == 0
    theirs = torch.nn.Embedding.from_pretrained(torch.arange(12.0).reshape(4, 3), padding_idx=0)
    assert repr(trainable) == repr(theirs)
    with pytest.raises(ShapeError, match="2-dimensional"):
        nn.Embedding.from_pretrained(chainrule.ones(3))


def test_activation_inplace_modifies_input() -> None:
    x = chainrule.tensor([-1.0, 2.0])
    out = nn.ReLU(inplace=True)(x)
    assert out is x and x.tolist() == [0.0, 2.0]
    assert repr(nn.ReLU(inplace=True)) == "ReLU(inplace=True)"


def test_multihead_attention_rejects_bad_shapes() -> None:
    mha = nn.MultiheadAttention(8, 2)
    with pytest.raises(ValueError, match="divisible by num_heads"):
        nn.MultiheadAttention(8, 3)
    x = chainrule.randn(3, 2, 8)
    # PyTorch names the mask's shape as a Size: "is torch.Size([3, 4]), but should be (3, 3)"
    with pytest.raises(
        ShapeError, match=r"2D attn_mask is \S*Size\(\[3, 4\]\), but should be \(3, 3\)"
    ):
        mha(x, x, x, attn_mask=chainrule.zeros(3, 4))
    with pytest.raises(ShapeError, match=r"3D attn_mask is \S*Size\(\[5, 3, 3\]\), but should be"):
        mha(x, x, x, attn_mask=chainrule.zeros(5, 3, 3))
    with pytest.raises(ValueError, match="Need attn_mask"):
        mha(x, x, x, is_causal=True)


def test_transformer_mask_helper_matches_torch() -> None:
    mine = nn.Transformer.generate_square_subsequent_mask(4)
    theirs = torch.nn.Transformer.generate_square_subsequent_mask(4)
    assert np.array_equal(mine.numpy(), theirs.numpy())


# ---- parameter counts, repr, state dict --------------------------------------------------------


def _big_model(lib: Any) -> Any:
    class Net(lib.Module):
        def __init__(self) -> None:
            super().__init__()
            self.features = lib.Sequential(
                lib.Conv2d(3, 8, 3, padding=1),
                lib.BatchNorm2d(8),
                lib.ReLU(inplace=True),
                lib.MaxPool2d(2),
                lib.Conv2d(8, 8, 3, stride=2, bias=False, padding_mode="reflect", padding=1),
                lib.AdaptiveAvgPool2d((1, 1)),
                lib.Flatten(),
            )
            self.embed = lib.Embedding(20, 8, padding_idx=0)
            self.rnn = lib.LSTM(8, 16, num_layers=2, batch_first=True, dropout=0.1)
            self.attention = lib.MultiheadAttention(16, 4, batch_first=True)
            self.encoder = lib.TransformerEncoderLayer(16, 4, 32, batch_first=True)
            self.blocks = lib.ModuleList([lib.Linear(16, 16) for _ in range(3)] + [lib.GELU()])
            self.heads = lib.ModuleDict({"cls": lib.Linear(16, 4), "reg": lib.Linear(16, 1)})
            self.norms = lib.ModuleList([lib.LayerNorm(16), lib.GroupNorm(4, 16)])
            self.dropout = lib.Dropout(0.2)
            self.loss = lib.CrossEntropyLoss(label_smoothing=0.1)

    return Net()


def test_parameter_and_buffer_names_shapes_and_counts_match_torch() -> None:
    mine, theirs = _big_model(nn), _big_model(torch.nn)
    assert [(k, tuple(v.shape)) for k, v in mine.state_dict().items()] == [
        (k, tuple(v.shape)) for k, v in theirs.state_dict().items()
    ]
    assert [k for k, _ in mine.named_parameters()] == [k for k, _ in theirs.named_parameters()]
    assert [k for k, _ in mine.named_buffers()] == [k for k, _ in theirs.named_buffers()]
    assert sum(p.numel() for p in mine.parameters()) == sum(p.numel() for p in theirs.parameters())
    assert [k for k, _ in mine.named_modules()] == [k for k, _ in theirs.named_modules()]


def test_repr_matches_torch() -> None:
    mine, theirs = _big_model(nn), _big_model(torch.nn)
    assert repr(mine) == repr(theirs)
    for make in (
        lambda n: n.Conv1d(2, 3, 3, stride=2, padding=1, dilation=2, groups=1),
        lambda n: n.Conv2d(4, 4, 3, groups=2, padding="same", padding_mode="circular"),
        lambda n: n.Conv2d(4, 4, 3, padding="valid"),
        lambda n: n.ConvTranspose2d(3, 2, 3, stride=2, output_padding=1),
        lambda n: n.MaxPool1d(3, 2, 1),
        lambda n: n.AvgPool1d(3),
        lambda n: n.AvgPool2d((2, 3), count_include_pad=False),
        lambda n: n.AdaptiveMaxPool2d((2, 3)),
        lambda n: n.BatchNorm1d(3, momentum=None, affine=False),
        lambda n: n.BatchNorm2d(3, track_running_stats=False, bias=False),
        lambda n: n.LayerNorm((3, 4), eps=1e-3, bias=False),
        lambda n: n.RMSNorm(4),
        lambda n: n.GroupNorm(2, 4, affine=False),
        lambda n: n.Embedding(5, 2, max_norm=1.0, norm_type=1.0, scale_grad_by_freq=True),
        lambda n: n.RNN(3, 4, 2, "relu", bias=False, batch_first=True, bidirectional=True),
        lambda n: n.LSTM(3, 4, proj_size=2, dropout=0.5, num_layers=2),
        lambda n: n.GRU(3, 4),
        lambda n: n.RNNCell(3, 4, nonlinearity="relu", bias=False),
        lambda n: n.LSTMCell(3, 4),
        lambda n: n.Bilinear(2, 3, 4, bias=False),
        lambda n: n.Unflatten(1, (2, 3)),
        lambda n: n.Flatten(0, -2),
        lambda n: n.Identity(),
        lambda n: n.TransformerDecoderLayer(8, 2, 16),
        lambda n: n.Transformer(8, 2, 1, 2, 16),
        lambda n: n.MultiheadAttention(8, 2, kdim=4, vdim=3, add_bias_kv=True),
        lambda n: n.Sequential(
            n.Conv3d(2, 4, 3, stride=(1, 2, 1), groups=2),
            n.ConvTranspose3d(4, 2, 2, bias=False),
            n.MaxPool3d(2),
            n.AvgPool3d(3, stride=1, padding=1),
            n.AdaptiveAvgPool3d(1),
            n.AdaptiveMaxPool1d(4),
            n.Dropout3d(),
            n.FeatureAlphaDropout(0.2),
            n.InstanceNorm1d(3),
            n.InstanceNorm2d(3, affine=True, track_running_stats=True),
            n.InstanceNorm3d(3, bias=False, affine=True),
            n.BatchNorm3d(2),
            n.ZeroPad1d(1),
            n.ZeroPad2d((1, 2, 0, 0)),
            n.ZeroPad3d(1),
            n.ConstantPad2d(1, 3.5),
            n.ReflectionPad3d(1),
            n.ReplicationPad1d((0, 2)),
            n.CircularPad3d(1),
            n.PairwiseDistance(),
            n.CosineSimilarity(dim=0, eps=1e-6),
            n.Upsample(scale_factor=(2, 3), mode="nearest"),
            n.Upsample(size=4, mode="linear"),
            n.UpsamplingNearest2d(size=(2, 2)),
            n.UpsamplingBilinear2d(scale_factor=2),
        ),
        lambda n: n.Sequential(
            n.Hardtanh(-2.0, 3.0, inplace=True),
            n.LeakyReLU(0.3, True),
            n.ELU(0.5),
            n.CELU(),
            n.Softplus(2, 10),
            n.GELU("tanh"),
            n.Softmax(1),
            n.LogSoftmax(),
            n.Softmin(0),
            n.GLU(),
            n.ReLU6(inplace=True),
            n.SELU(True),
            n.SiLU(),
            n.Mish(True),
            n.Hardswish(),
            n.Hardsigmoid(),
            n.Threshold(0.1, 0.0),
            n.Hardshrink(),
            n.Softshrink(0.2),
            n.PReLU(3),
            n.Sigmoid(),
            n.Tanh(),
            n.LogSigmoid(),
            n.Softsign(),
            n.Tanhshrink(),
            n.Softmax2d(),
            n.Dropout(0.3, inplace=True),
            n.Dropout1d(),
            n.Dropout2d(),
            n.AlphaDropout(0.1),
        ),
        lambda n: n.Sequential(
            n.MSELoss(),
            n.L1Loss(reduction="sum"),
            n.SmoothL1Loss(beta=2.0),
            n.HuberLoss(),
            n.NLLLoss(),
            n.BCELoss(),
            n.BCEWithLogitsLoss(),
            n.KLDivLoss(),
            n.CosineEmbeddingLoss(),
            n.TripletMarginWithDistanceLoss(),  # its default distance is a submodule
        ),
        lambda n: n.Sequential(
            n.MaxUnpool1d(2),  # sizes kept as tuples, unlike MaxPool's
            n.MaxUnpool2d(2, stride=1, padding=1),
            n.MaxUnpool3d((1, 2, 2)),
        ),
    ):
        assert repr(make(nn)) == repr(make(torch.nn))


def test_module_list_repr_compresses_repeats_like_torch() -> None:
    for make in (
        lambda n: n.ModuleList(),
        lambda n: n.ModuleList([n.ReLU(), n.ReLU(), n.Linear(2, 2), n.ReLU()]),
        lambda n: n.ModuleList([n.Sequential(n.Linear(2, 2), n.ReLU()) for _ in range(3)]),
    ):
        assert repr(make(nn)) == repr(make(torch.nn))


def test_parameter_containers_match_torch() -> None:
    def make(lib: Any, module: Any) -> Any:
        class Holder(lib.Module):
            def __init__(self) -> None:
                super().__init__()
                ones = module.ones
                self.plist = lib.ParameterList([lib.Parameter(ones(2, 3)), ones(4)])
                self.pdict = lib.ParameterDict({"b": lib.Parameter(ones(3)), "a": ones(1, 2)})

        return Holder()

    mine, theirs = make(nn, chainrule), make(torch.nn, torch)
    assert (
        list(mine.state_dict())
        == list(theirs.state_dict())
        == ["plist.0", "plist.1", "pdict.a", "pdict.b"]
    )
    normalise = lambda text: text.replace("torch.", "chainrule.")  # noqa: E731
    assert repr(mine) == normalise(repr(theirs))
    assert isinstance(mine.plist[1], nn.Parameter)
    assert len(mine.plist) == 2 and [tuple(p.shape) for p in mine.plist] == [(2, 3), (4,)]
    assert list(mine.pdict.keys()) == ["a", "b"] and "a" in mine.pdict
    assert tuple(mine.pdict["b"].shape) == (3,)
    with pytest.raises(RuntimeError, match="should not be called"):
        mine.plist()


def test_state_dict_round_trip_reproduces_outputs() -> None:
    chainrule.manual_seed(0)
    source = nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.Flatten(), nn.Linear(12, 2))
    source(chainrule.randn(4, 2, 4, 4))  # move the running statistics
    source.eval()
    target = nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3), nn.Flatten(), nn.Linear(12, 2))
    target.eval()
    state = source.state_dict()
    assert all(not t.requires_grad for t in state.values())
    assert state["0.weight"].data_ptr() == source[0].weight.data_ptr()  # shares memory
    assert repr(target.load_state_dict(state)) == "<All keys matched successfully>"
    x = chainrule.randn(2, 2, 4, 4)
    assert np.array_equal(source(x).detach().numpy(), target(x).detach().numpy())
    assert target[1].num_batches_tracked.item() == 1
    kept = source.state_dict(keep_vars=True)
    assert kept["0.weight"] is source[0].weight


def test_load_state_dict_strictness_and_errors() -> None:
    layer = nn.Linear(3, 2)
    good = {k: v.clone() for k, v in layer.state_dict().items()}
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "bias"') as info:
        layer.load_state_dict({"weight": good["weight"]})
    assert "Error(s) in loading state_dict for Linear" in str(info.value)
    with pytest.raises(RuntimeError, match=r'Unexpected key\(s\) in state_dict: "extra"'):
        layer.load_state_dict({**good, "extra": chainrule.ones(1)})
    result = layer.load_state_dict(
        {"weight": good["weight"], "extra": chainrule.ones(1)}, strict=False
    )
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["extra"]
    with pytest.raises(ShapeError) as info:
        layer.load_state_dict({**good, "weight": chainrule.ones(3, 2)}, strict=False)
    message = str(info.value)
    assert "size mismatch for weight" in message
    assert (
        "Size([3, 2]) from checkpoint" in message and "model is chainrule.Size([2, 3])" in message
    )
    # PyTorch's wording, shapes as Size reprs (torch.Size([3, 2]) under as_torch)
    with pytest.raises(RuntimeError) as theirs_info:
        torch.nn.Linear(3, 2).load_state_dict(
            {"weight": torch.ones(3, 2), "bias": torch.ones(2)}, strict=False
        )
    assert message == str(theirs_info.value).replace("torch.Size", "chainrule.Size")
    with pytest.raises(TypeError, match="dict-like"):
        layer.load_state_dict([1, 2])
    # torch raises the same way for the same mistakes.
    theirs = torch.nn.Linear(3, 2)
    with pytest.raises(RuntimeError, match=r'Missing key\(s\) in state_dict: "bias"'):
        theirs.load_state_dict({"weight": torch.ones(2, 3)})


def test_load_state_dict_nested_unexpected_keys_and_assign() -> None:
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    state = dict(model.state_dict())
    state["1.weight"] = chainrule.ones(2)
    state["2.bias"] = chainrule.ones(2)
    result = model.load_state_dict(state, strict=False)
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU())
    their_state = dict(theirs.state_dict(), **{"1.weight": torch.ones(2), "2.bias": torch.ones(2)})
    expected = theirs.load_state_dict(their_state, strict=False)
    assert result.unexpected_keys == expected.unexpected_keys == ["2.bias", "1.weight"]
    new_weight = chainrule.full((2, 2), 3.0)
    model.load_state_dict({"0.weight": new_weight, "0.bias": chainrule.zeros(2)}, assign=True)
    assert isinstance(model[0].weight, nn.Parameter) and model[0].weight.requires_grad
    assert model[0].weight.data_ptr() == new_weight.data_ptr()


def test_batchnorm_loads_old_checkpoints_without_num_batches_tracked() -> None:
    layer = nn.BatchNorm1d(2)
    state = {k: v for k, v in layer.state_dict().items() if k != "num_batches_tracked"}
    assert layer.load_state_dict(state).missing_keys == []


def test_load_state_dict_accepts_numpy_and_casts() -> None:
    layer = nn.Linear(2, 1)
    layer.load_state_dict({"weight": np.array([[1.0, 2.0]]), "bias": np.array([0.5])})
    assert layer.weight.dtype is chainrule.float32
    assert layer(chainrule.tensor([[1.0, 1.0]])).item() == 3.5
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    mine = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    assert not mine.load_state_dict(theirs.state_dict()).missing_keys  # torch tensors load too
    assert mine[1].num_batches_tracked.dtype is chainrule.int64
    assert np.array_equal(mine[0].weight.detach().numpy(), theirs[0].weight.detach().numpy())


def test_non_persistent_buffers_stay_out_of_state_dict() -> None:
    module = nn.Module()
    module.register_buffer("kept", chainrule.ones(2))
    module.register_buffer("scratch", chainrule.zeros(2), persistent=False)
    assert list(module.state_dict()) == ["kept"]
    assert [name for name, _ in module.named_buffers()] == ["kept", "scratch"]
    module.scratch = chainrule.ones(3)  # assigning a tensor keeps it a (non-persistent) buffer
    assert tuple(module.scratch.shape) == (3,) and list(module.state_dict()) == ["kept"]
    module.step = nn.Buffer(chainrule.zeros(()), persistent=False)
    module.total = nn.Buffer(chainrule.ones(2))
    assert list(module.state_dict()) == ["kept", "total"]
    assert [name for name, _ in module.named_buffers()] == ["kept", "scratch", "step", "total"]
    assert type(module.total + 1) is chainrule.Tensor and not module.total.requires_grad


# ---- Module registration and traversal ---------------------------------------------------------


class Shared(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Linear(2, 2)
        self.b = nn.Linear(2, 2)
        self.b.weight = self.a.weight  # tied
        self.c = self.a  # the same module twice


def test_named_parameters_deduplicate_shared_parameters_like_torch() -> None:
    class TorchShared(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = torch.nn.Linear(2, 2)
            self.b = torch.nn.Linear(2, 2)
            self.b.weight = self.a.weight
            self.c = self.a

    mine, theirs = Shared(), TorchShared()
    for kwargs in ({}, {"remove_duplicate": False}):
        assert [n for n, _ in mine.named_parameters(**kwargs)] == [
            n for n, _ in theirs.named_parameters(**kwargs)
        ]
    assert [n for n, _ in mine.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [n for n, _ in mine.named_modules(remove_duplicate=False)] == [
        n for n, _ in theirs.named_modules(remove_duplicate=False)
    ]
    assert [n for n, _ in mine.named_children()] == [n for n, _ in theirs.named_children()]
    assert list(mine.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in mine.named_parameters(prefix="model", recurse=False)] == []
    assert [n for n, _ in mine.a.named_parameters(prefix="a")] == ["a.weight", "a.bias"]
    assert len(list(mine.parameters())) == 3


def _registration_errors(lib):
    module = lib.nn.Linear(2, 2)
    module.register_buffer("running", lib.zeros(2))
    attempts = [
        lambda: setattr(module, "weight", lib.ones(2)),
        lambda: setattr(module, "weight", lib.ones(2, dtype=lib.long)),
        lambda: setattr(module, "running", 3),
        lambda: module.register_parameter("extra", lib.ones(1)),
        lambda: module.register_buffer("other", 3),
    ]
    module.child = lib.nn.ReLU()
    attempts.append(lambda: setattr(module, "child", lib.ones(1)))
    messages = []
    for attempt in attempts:
        with pytest.raises(TypeError) as caught:
            attempt()
        messages.append(str(caught.value))
    return messages


def test_registration_errors_read_as_pytorchs_under_as_torch(monkeypatch) -> None:
    """A wrong assignment names the value by torch.typename ('torch.FloatTensor') and the
    expected types in the namespace programs see (torch.nn.Parameter under as_torch)."""
    monkeypatch.setattr(chainrule.backend.dtypes, "_display_namespace", "torch")
    assert _registration_errors(chainrule) == _registration_errors(torch)


def test_attribute_registration_rules() -> None:
    module = nn.Module()
    module.weight = nn.Parameter(chainrule.ones(2))
    assert list(module._parameters) == ["weight"]
    with pytest.raises(TypeError, match="cannot assign 'chainrule.FloatTensor' as parameter"):
        module.weight = chainrule.ones(2)  # PyTorch's: 'torch.FloatTensor', torch.typename's
    module.weight = None
    assert module.weight is None and list(module.state_dict()) == []
    module.child = nn.Linear(1, 1)
    with pytest.raises(TypeError, match="as child module 'child'"):
        module.child = 3
    module.plain = 3  # an ordinary attribute
    assert module.plain == 3 and "plain" not in module._modules
    del module.child
    assert not hasattr(module, "child")
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'missing'"):
        _ = module.missing
    with pytest.raises(KeyError, match="attribute 'plain' already exists"):
        module.register_buffer("plain", chainrule.ones(1))
    with pytest.raises(KeyError, match="contain"):
        module.register_parameter("a.b", None)
    with pytest.raises(TypeError, match="is not a Module subclass"):
        module.add_module("x", 3)
    with pytest.raises(ValueError, match="non-leaf"):
        module.register_parameter("w", _non_leaf_parameter())

    class Broken(nn.Module):
        def __init__(self) -> None:
            self.weight = nn.Parameter(chainrule.ones(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Broken()
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(1)


def _non_leaf_parameter() -> nn.Parameter:
    param = nn.Parameter(chainrule.ones(1))
    computed = param * 2
    fake = nn.Parameter(chainrule.ones(1))
    fake._node = computed._node  # a Parameter that claims a history
    return fake


def test_get_submodule_parameter_and_buffer() -> None:
    model = nn.Sequential(OrderedDict(body=nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))))
    assert model.get_submodule("body.0") is model.body[0]
    assert model.get_submodule("") is model
    assert model.get_parameter("body.0.bias") is model.body[0].bias
    assert model.get_buffer("body.1.running_mean") is model.body[1].running_mean
    with pytest.raises(AttributeError, match="has no attribute `nope`"):
        model.get_submodule("body.nope")
    with pytest.raises(AttributeError, match="is not an nn.Parameter"):
        model.get_parameter("body.1.running_mean")
    with pytest.raises(AttributeError, match="is not an nn.Module"):
        model.get_submodule("body.0.weight")


def test_train_eval_and_requires_grad_propagate() -> None:
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(), nn.BatchNorm1d(2)))
    assert model.eval() is model
    assert all(not m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    with pytest.raises(ValueError, match="boolean"):
        model.train("no")
    model.requires_grad_(False)
    assert all(not p.requires_grad for p in model.parameters())


def test_zero_grad() -> None:
    layer = nn.Linear(2, 1)
    layer(chainrule.ones(3, 2)).sum().backward()
    layer.zero_grad(set_to_none=False)
    assert layer.weight.grad is not None and layer.weight.grad.abs().sum().item() == 0
    layer.zero_grad()
    assert layer.weight.grad is None and layer.bias.grad is None


def test_to_double_and_float_convert_in_place() -> None:
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    weight = model[0].weight
    model(chainrule.randn(4, 2)).sum().backward()
    assert model.to(chainrule.float64) is model
    assert model[0].weight is weight and weight.dtype is chainrule.float64
    assert weight.grad.dtype is chainrule.float64 and weight.requires_grad
    assert model[1].running_mean.dtype is chainrule.float64
    assert model[1].num_batches_tracked.dtype is chainrule.int64
    model.float()
    assert weight.dtype is chainrule.float32
    model.double()
    out = model(chainrule.randn(3, 2, dtype=chainrule.float64))
    assert out.dtype is chainrule.float64
    model.to("cpu", dtype=chainrule.float32)
    assert weight.dtype is chainrule.float32
    with pytest.raises(TypeError, match="floating point"):
        model.to(chainrule.int64)


def test_to_a_complex_dtype_and_complex_buffers_follow_torch() -> None:
    """Module.to takes complex dtypes too (floating and complex tensors convert, with PyTorch's
    warning), and a complex buffer taken to a floating dtype keeps its real part, as PyTorch's
    module.to does (a rotary table registered as a buffer, then `model.to(torch.float64)`)."""

    def build(lib):
        layer = lib.nn.Linear(2, 2)
        angles = lib.tensor([0.5, 1.0])
        layer.register_buffer("rotary", lib.polar(lib.ones(2), angles))
        layer.register_buffer("steps", lib.arange(2))
        with lib.no_grad():
            layer.weight.copy_(lib.tensor([[1.0, -2.0], [0.5, 3.0]]))
            layer.bias.copy_(lib.tensor([0.25, -1.0]))
        return layer

    ours, theirs = build(chainrule), build(torch)
    ours.to(chainrule.float64)
    theirs.to(torch.float64)
    assert ours.rotary.dtype is chainrule.float64 and ours.steps.dtype is chainrule.int64
    np.testing.assert_allclose(ours.rotary.numpy(), theirs.rotary.numpy(), rtol=1e-6)

    ours, theirs = build(chainrule), build(torch)
    with pytest.warns(UserWarning, match="Complex modules"):
        ours.to(chainrule.complex128)
    with pytest.warns(UserWarning, match="Complex modules"):
        theirs.to(torch.complex128)
    assert isinstance(ours.weight, nn.Parameter) and ours.weight.requires_grad
    assert ours.weight.dtype is chainrule.complex128 and ours.rotary.dtype is chainrule.complex128
    assert ours.steps.dtype is chainrule.int64
    x = np.array([[1 + 2j, -1j], [0.5, 2 - 1j]])
    out = ours(chainrule.tensor(x)) * ours.rotary
    expected = theirs(torch.tensor(x)) * theirs.rotary
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-6)
    out.abs().sum().backward()
    expected.abs().sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-6)


def test_apply_visits_children_first() -> None:
    visited = []
    model = nn.Sequential(nn.Linear(1, 1), nn.Sequential(nn.ReLU()))
    model.apply(lambda m: visited.append(type(m).__name__))
    assert visited == ["Linear", "ReLU", "Sequential", "Sequential"]

    def init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.constant_(module.weight, 0.5)

    model.apply(init_weights)
    assert model[0].weight.item() == 0.5


def test_deepcopy_and_pickle_keep_parameters() -> None:
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    clone = copy.deepcopy(model)
    assert isinstance(clone[0].weight, nn.Parameter)
    assert clone[0].weight is not model[0].weight
    assert np.array_equal(clone[0].weight.detach().numpy(), model[0].weight.detach().numpy())
    assert clone[1].num_batches_tracked.dtype is chainrule.int64
    restored = pickle.loads(pickle.dumps(model))
    assert isinstance(restored[0].bias, nn.Parameter) and restored[0].bias.requires_grad
    x = chainrule.randn(4, 2)
    assert np.allclose(restored(x).detach().numpy(), model(x).detach().numpy())


# ---- Parameter ---------------------------------------------------------------------------------


def test_parameter_basics() -> None:
    data = chainrule.tensor([1.0, 2.0])
    param = nn.Parameter(data)
    assert isinstance(param, chainrule.Tensor) and isinstance(param, nn.Parameter)
    assert param.requires_grad and param.is_leaf
    assert param.data_ptr() == data.data_ptr()
    assert repr(param) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    assert repr(param) == repr(torch.nn.Parameter(torch.tensor([1.0, 2.0])))
    result = param * 2
    assert type(result) is chainrule.Tensor
    assert type(param.detach()) is chainrule.Tensor
    with chainrule.no_grad():
        assert nn.Parameter(chainrule.ones(1)).requires_grad
    assert not nn.Parameter(chainrule.ones(1), requires_grad=False).requires_grad
    assert tuple(nn.Parameter().shape) == (0,)
    with pytest.raises(chainrule.GradError, match="floating point"):
        nn.Parameter(chainrule.tensor([1, 2]))
    frozen_int = nn.Parameter(chainrule.tensor([1, 2]), requires_grad=False)
    assert frozen_int.dtype is chainrule.int64
    copied = copy.deepcopy(param)
    assert isinstance(copied, nn.Parameter) and copied.data_ptr() != param.data_ptr()


# ---- hooks -------------------------------------------------------------------------------------


def test_forward_pre_hook_and_forward_hook() -> None:
    layer = nn.Linear(2, 2)
    calls = []

    def pre(module: nn.Module, args: tuple) -> tuple:
        calls.append("pre")
        return (args[0] * 0,)

    def post(module: nn.Module, args: tuple, output: chainrule.Tensor) -> chainrule.Tensor:
        calls.append("post")
        return output + 1

    pre_handle = layer.register_forward_pre_hook(pre)
    post_handle = layer.register_forward_hook(post)
    out = layer(chainrule.ones(1, 2))
    assert calls == ["pre", "post"]
    assert np.allclose(out.detach().numpy(), layer.bias.detach().numpy() + 1)
    pre_handle.remove()
    post_handle.remove()
    out = layer(chainrule.ones(1, 2))
    assert calls == ["pre", "post"]
    with layer.register_forward_hook(lambda m, a, k, o: calls.append(sorted(k)), with_kwargs=True):
        layer(input=chainrule.ones(1, 2))
    assert calls[-1] == ["input"]
    layer(chainrule.ones(1, 2))
    assert len(calls) == 3  # the context manager removed the hook


def test_forward_hook_order_prepend_and_kwargs_pre_hook() -> None:
    layer = nn.Identity()
    order = []
    layer.register_forward_hook(lambda m, a, o: order.append("first"))
    layer.register_forward_hook(lambda m, a, o: order.append("prepended"), prepend=True)
    layer.register_forward_pre_hook(
        lambda m, args, kwargs: ((args[0] + 1,), kwargs), with_kwargs=True
    )
    assert layer(chainrule.tensor(1.0)).item() == 2.0
    assert order == ["prepended", "first"]


def test_always_call_forward_hook_runs_on_error() -> None:
    class Failing(nn.Module):
        def forward(self, x: Any) -> Any:
            raise ValueError("boom")

    module = Failing()
    seen = []
    module.register_forward_hook(lambda m, a, o: seen.append(o), always_call=True)
    with pytest.raises(ValueError, match="boom"):
        module(1)
    assert seen == [None]


def _capture_backward_hooks(lib: Any, module: Any, inputs: list, cotangent: Any) -> list:
    captured = []

    def hook(mod: Any, grad_input: tuple, grad_output: tuple) -> None:
        captured.append(("hook", grad_input, grad_output))

    def pre_hook(mod: Any, grad_output: tuple) -> None:
        captured.append(("pre", grad_output))

    module.register_full_backward_hook(hook)
    module.register_full_backward_pre_hook(pre_hook)
    out = module(*inputs)
    (out * cotangent).sum().backward()
    return captured


def test_full_backward_hook_sees_the_same_gradients_as_torch() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4)).astype("float32")
    y = rng.standard_normal((3, 4)).astype("float32")
    cotangent = rng.standard_normal((3, 2)).astype("float32")

    torch.manual_seed(0)
    theirs = torch.nn.Bilinear(4, 4, 2)
    mine = nn.Bilinear(4, 4, 2)
    copy_state(mine, theirs)
    their_inputs = [torch.tensor(x, requires_grad=True), torch.tensor(y)]
    my_inputs = [chainrule.tensor(x, requires_grad=True), chainrule.tensor(y)]
    expected = _capture_backward_hooks(torch, theirs, their_inputs, torch.tensor(cotangent))
    actual = _capture_backward_hooks(nn, mine, my_inputs, chainrule.tensor(cotangent))
    assert [entry[0] for entry in actual] == [entry[0] for entry in expected] == ["pre", "hook"]
    assert_close(actual[0][1][0], expected[0][1][0], 1e-6, 1e-5, "pre-hook grad_output")
    _, grad_input, grad_output = actual[1]
    _, their_grad_input, their_grad_output = expected[1]
    assert len(grad_input) == len(their_grad_input) == 2
    assert_close(grad_input[0], their_grad_input[0], 1e-5, 1e-4, "grad_input")
    # An input that needs no gradient is reported as zeros, by both.
    assert_close(grad_input[1], their_grad_input[1], 0, 0, "grad_input of a constant")
    assert_close(grad_output[0], their_grad_output[0], 1e-6, 1e-5, "grad_output")


def test_full_backward_hook_can_replace_grad_input() -> None:
    layer = nn.Linear(3, 2)
    x = chainrule.randn(4, 3, requires_grad=True)
    layer.register_full_backward_hook(lambda m, gi, go: (gi[0] * 0 + 7,))
    layer(x).sum().backward()
    assert np.all(x.grad.numpy() == 7)
    assert layer.weight.grad is not None  # parameter gradients are untouched


def test_full_backward_hook_when_no_input_requires_grad() -> None:
    layer = nn.Linear(3, 2)
    seen = []
    layer.register_full_backward_hook(lambda m, gi, go: seen.append((gi, go)))
    with pytest.warns(UserWarning, match="no inputs require gradients") as caught:
        layer(chainrule.randn(4, 3)).sum().backward()  # torch warns so too, blaming this line
    assert caught[0].filename == __file__
    assert len(seen) == 1
    grad_input, grad_output = seen[0]
    assert grad_input == (None,)
    assert tuple(grad_output[0].shape) == (4, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an input that requires grad: hooks fire in order
        layer(chainrule.randn(4, 3, requires_grad=True)).sum().backward()
    assert len(seen) == 2


def test_full_backward_pre_hook_can_replace_grad_output() -> None:
    layer = nn.Linear(3, 2, bias=False)
    x = chainrule.randn(4, 3, requires_grad=True)
    layer.register_full_backward_pre_hook(lambda m, go: (go[0] * 0,))
    layer(x).sum().backward()
    assert x.grad.abs().sum().item() == 0 and layer.weight.grad.abs().sum().item() == 0


# ---- containers ----------------------------------------------------------------------------------


def test_sequential_behaves_like_torch() -> None:
    def build(lib: Any) -> Any:
        return lib.Sequential(lib.Linear(1, 2), lib.ReLU(), lib.Linear(2, 3), lib.Tanh())

    mine, theirs = build(nn), build(torch.nn)
    assert len(mine) == 4 and isinstance(mine[-1], nn.Tanh)
    assert repr(mine[1:3]) == repr(theirs[1:3])
    assert list(mine[::2]._modules) == list(theirs[::2]._modules) == ["0", "2"]
    with pytest.raises(IndexError, match="index 4 is out of range"):
        mine[4]
    del mine[1]
    del theirs[1]
    assert list(mine._modules) == list(theirs._modules) == ["0", "1", "2"]
    mine.append(nn.ReLU())
    theirs.append(torch.nn.ReLU())
    mine.insert(1, nn.Identity())
    theirs.insert(1, torch.nn.Identity())
    mine.extend([nn.Sigmoid()])
    theirs.extend([torch.nn.Sigmoid()])
    assert repr(mine) == repr(theirs)
    assert isinstance(mine.pop(0), nn.Linear)
    mine[0] = nn.Softsign()
    assert isinstance(mine[0], nn.Softsign)
    assert [type(m).__name__ for m in mine] == ["Softsign", "Linear", "Tanh", "ReLU", "Sigmoid"]
    doubled = nn.Sequential(nn.ReLU()) * 2
    assert len(doubled) == 2 and doubled[0] is doubled[1]
    joined = nn.Sequential(nn.ReLU()) + nn.Sequential(nn.Tanh())
    assert [type(m).__name__ for m in joined] == ["ReLU", "Tanh"]
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert list(named.state_dict()) == ["fc.weight", "fc.bias"] and isinstance(named.act, nn.ReLU)


def test_module_list_and_dict() -> None:
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(layers) == 3 and len(list(layers.parameters())) == 6
    layers.append(nn.ReLU())
    layers.insert(0, nn.Tanh())
    layers += [nn.Sigmoid()]
    assert [type(m).__name__ for m in layers] == [
        "Tanh",
        "Linear",
        "Linear",
        "Linear",
        "ReLU",
        "Sigmoid",
    ]
    assert isinstance(layers[-1], nn.Sigmoid) and isinstance(layers[1:3], nn.ModuleList)
    del layers[0]
    assert list(layers._modules) == [str(i) for i in range(5)]
    assert isinstance(layers.pop(-1), nn.Sigmoid)
    with pytest.raises(IndexError):
        layers[10]
    heads = nn.ModuleDict({"a": nn.Linear(1, 1)})
    heads["b"] = nn.ReLU()
    heads.update([("c", nn.Tanh())])
    assert list(heads) == ["a", "b", "c"] and "b" in heads and len(heads) == 3
    assert list(heads.state_dict()) == ["a.weight", "a.bias"]
    assert isinstance(heads.pop("c"), nn.Tanh)
    assert list(heads.keys()) == ["a", "b"]
    heads.clear()
    assert len(heads) == 0


# ---- utils -------------------------------------------------------------------------------------


def _grads_pair(rng: np.random.Generator) -> tuple[list, list]:
    arrays = [rng.standard_normal(shape).astype("float32") * 3 for shape in ((3, 4), (5,), (2,))]
    mine, theirs = [], []
    for array in arrays:
        a = nn.Parameter(chainrule.tensor(array))
        a.grad = chainrule.tensor(array * 2)
        b = torch.nn.Parameter(torch.tensor(array))
        b.grad = torch.tensor(array * 2)
        mine.append(a)
        theirs.append(b)
    no_grad = nn.Parameter(chainrule.ones(2))
    mine.append(no_grad)
    theirs.append(torch.nn.Parameter(torch.ones(2)))
    return mine, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1e4])
def test_clip_grad_norm_matches_torch(norm_type: float, max_norm: float) -> None:
    mine, theirs = _grads_pair(np.random.default_rng(0))
    total = nn.utils.clip_grad_norm_(mine, max_norm, norm_type=norm_type)
    their_total = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert_close(total, their_total, 1e-5, 1e-5, "total norm")
    for a, b in zip(mine, theirs):
        if b.grad is not None:
            assert_close(a.grad, b.grad, 1e-6, 1e-5, "clipped gradient")
        else:
            assert a.grad is None


def test_clip_grad_norm_edge_cases() -> None:
    assert nn.utils.clip_grad_norm_([nn.Parameter(chainrule.ones(2))], 1.0).item() == 0.0
    param = nn.Parameter(chainrule.ones(2))
    param.grad = chainrule.tensor([float("inf"), 1.0])
    with pytest.raises(RuntimeError, match="non-finite"):
        nn.utils.clip_grad_norm_(param, 1.0, error_if_nonfinite=True)


def test_clip_grad_norm_of_mixed_dtype_gradients_is_the_promoted_dtype_as_torch() -> None:
    """PyTorch stacks the per-tensor norms, so float32 and float64 gradients give a float64
    total (and the float32 gradients are scaled by it)."""
    grads = [np.array([3.0, 1.0]), np.array([4.0, -2.0]), np.array([0.5])]
    dtypes = ["float32", "float64", "float32"]
    totals = []
    for lib in (chainrule, torch):
        params = []
        for grad, dtype in zip(grads, dtypes):
            param = lib.nn.Parameter(lib.zeros(len(grad), dtype=getattr(lib, dtype)))
            param.grad = lib.tensor(grad, dtype=getattr(lib, dtype))
            params.append(param)
        total = lib.nn.utils.clip_grad_norm_(params, 1.0)
        totals.append((total.dtype.name if lib is chainrule else str(total.dtype), total.item()))
        totals.append([p.grad.tolist() for p in params])
    mine_total, mine_grads, their_total, their_grads = totals
    assert mine_total[0] == "float64" and their_total[0] == "torch.float64"
    assert mine_total[1] == pytest.approx(their_total[1], rel=1e-12)
    for a, b in zip(mine_grads, their_grads):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_clip_grad_value_matches_torch() -> None:
    mine, theirs = _grads_pair(np.random.default_rng(1))
    nn.utils.clip_grad_value_(mine, 1.5)
    torch.nn.utils.clip_grad_value_(theirs, 1.5)
    for a, b in zip(mine, theirs):
        if b.grad is not None:
            assert_close(a.grad, b.grad, 0, 0, "clamped gradient")


def test_parameters_to_vector_and_back() -> None:
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    vector = nn.utils.parameters_to_vector(model.parameters())
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Linear(2, 1))
    assert (
        tuple(vector.shape)
        == (11,)
        == tuple(torch.nn.utils.parameters_to_vector(theirs.parameters()).shape)
    )
    expected = np.concatenate([p.detach().numpy().ravel() for p in model.parameters()])
    assert np.array_equal(vector.detach().numpy(), expected)
    assert vector.requires_grad
    nn.utils.vector_to_parameters(chainrule.arange(11.0), model.parameters())
    assert model[0].weight.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert model[1].bias.tolist() == [10.0]
    assert isinstance(model[0].weight, nn.Parameter)
    with pytest.raises(TypeError, match="expected chainrule.Tensor"):
        nn.utils.vector_to_parameters([1.0], model.parameters())


def test_training_a_small_model_reduces_the_loss() -> None:
    chainrule.manual_seed(0)
    rng = np.random.default_rng(0)
    inputs = rng.standard_normal((32, 3)).astype("float32")
    x = chainrule.tensor(inputs)
    y = chainrule.tensor(np.sin(inputs @ np.ones((3, 1), dtype="float32")))
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    loss_fn = nn.MSELoss()
    first = None
    for _ in range(60):
        model.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        with chainrule.no_grad():
            for param in model.parameters():
                param -= 0.05 * param.grad
        first = first if first is not None else loss.item()
    assert loss.item() < 0.5 * first


def test_no_warnings_on_plain_use() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.LSTM(2, 3)(chainrule.randn(2, 1, 2))
        nn.TransformerEncoderLayer(4, 2, 8)(chainrule.randn(2, 1, 4))


@pytest.mark.parametrize("batch", [(), (2,)], ids=["unbatched", "batched"])
def test_lstm_cell_with_a_given_state_matches_torch(batch) -> None:
    """LSTMCell(input, (h, c)) with the state passed in, for one example and for a batch."""
    torch.manual_seed(0)
    theirs = torch.nn.LSTMCell(3, 4).double()
    mine = nn.LSTMCell(3, 4).double()
    copy_state(mine, theirs)
    x, h, c = (torch.randn(*batch, n, dtype=torch.float64) for n in (3, 4, 4))
    expected = theirs(x, (h, c))
    got = mine(to_chainrule(x), (to_chainrule(h), to_chainrule(c)))
    for ours, torchs in zip(got, expected):
        assert ours.shape == tuple(torchs.shape)
        np.testing.assert_allclose(to_numpy(ours), to_numpy(torchs), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("cell", ["RNNCell", "GRUCell", "LSTMCell"])
@pytest.mark.parametrize(
    ("input_shape", "state_shapes", "message"),
    [
        ((2, 3), [(1, 4), (2, 4)], "Input batch size 2 doesn't match hidden0 batch size 1"),
        ((2, 3), [(3, 4), (3, 4)], "Input batch size 2 doesn't match hidden0 batch size 3"),
        ((2, 3), [(2, 5), (2, 5)], "hidden0 has inconsistent hidden_size: got 5, expected 4"),
        ((2, 5), [(2, 4), (2, 4)], "input has inconsistent input_size: got 5 expected 3"),
        ((3,), [(1, 4), (1, 4)], "hidden0 has inconsistent hidden_size: got 1, expected 4"),
        ((2, 3), [(2, 4), (1, 4)], "Input batch size 2 doesn't match hidden1 batch size 1"),
    ],
    ids=["state-batch-1", "state-batch-3", "hidden-size", "input-size", "unbatched-2d", "c"],
)
def test_rnn_cells_refuse_a_state_of_another_batch_or_size_as_torch(
    cell, input_shape, state_shapes, message
) -> None:
    """PyTorch checks a cell's input and state shapes before the step; a state of batch 1
    broadcast silently against the input's batch here, and a (1, hidden) state passed with an
    unbatched input gave a (1, hidden) result."""
    if cell != "LSTMCell" and message.startswith("Input batch size 2 doesn't match hidden1"):
        pytest.skip("only LSTMCell has a second state")
    for lib in (chainrule, torch):
        module = getattr(lib.nn, cell)(3, 4)
        states = [lib.zeros(shape) for shape in state_shapes]
        hx = tuple(states) if cell == "LSTMCell" else states[0]
        with pytest.raises(RuntimeError, match=re.escape(message)):
            module(lib.zeros(input_shape), hx)
    module = getattr(nn, cell)(3, 4)
    with pytest.raises(RuntimeError, match="input has inconsistent input_size: got 5 expected 3"):
        module(chainrule.zeros(2, 5))  # checked with no state given too, as PyTorch


# ---- TransformerEncoder's inference path for padded batches (PyTorch's nested tensors) ------


def _encoders(norm: bool = True, **layer_kwargs: Any) -> tuple[nn.Module, torch.nn.Module]:
    """The same batch-first encoder in both libraries, PyTorch's weights copied into ours."""

    def build(n: Any) -> Any:
        layer = n.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True, **layer_kwargs)
        return n.TransformerEncoder(layer, 2, norm=n.LayerNorm(8) if norm else None)

    torch.manual_seed(0)
    theirs = build(torch.nn)
    mine = build(nn)
    mine.load_state_dict(theirs.state_dict())
    return mine, theirs


@pytest.mark.parametrize(
    "padded",
    [[[False, False, True, True], [False] * 4], [[False, True, False, False], [False] * 4]],
    ids=["padding-at-the-end", "padding-between-tokens"],
)
@pytest.mark.parametrize("norm", [True, False], ids=["norm", "no-norm"])
def test_an_encoder_in_inference_gives_pytorchs_output_at_padded_positions(padded, norm) -> None:
    """PyTorch runs an eval encoder without gradients on a padded batch as nested tensors: the
    padded positions come out as zeros (then through the final norm). Padding that is not at
    the end of a sequence keeps the masked computation."""
    mine, theirs = _encoders(norm)
    mine.eval()
    theirs.eval()
    x = np.cos(np.arange(64, dtype=np.float32)).reshape(2, 4, 8)
    mask = np.array(padded)
    with torch.no_grad():
        expected = theirs(torch.tensor(x), src_key_padding_mask=torch.tensor(mask)).numpy()
    with chainrule.no_grad():
        ours = mine(chainrule.tensor(x), src_key_padding_mask=chainrule.tensor(mask))
    np.testing.assert_allclose(ours.numpy(), expected, rtol=1e-5, atol=1e-5)
    # With gradients wanted, both compute every position (nothing is zeroed).
    training_path = mine(chainrule.tensor(x), src_key_padding_mask=chainrule.tensor(mask))
    if padded[0][-1]:
        assert not np.allclose(training_path.detach().numpy()[0, -1], expected[0, -1])


@pytest.mark.parametrize(
    "layer_kwargs",
    [{}, {"norm_first": True}, {"activation": torch.tanh}, {"bias": False}, {"nhead": 1}],
    ids=["defaults", "norm_first", "activation=tanh", "no-bias", "one-head"],
)
def test_an_encoder_says_why_it_cannot_run_nested_as_pytorch_does(layer_kwargs) -> None:
    def build(n: Any) -> tuple[Any, list[str]]:
        kwargs = {"nhead": 2, **layer_kwargs}
        if kwargs.get("activation") is torch.tanh and n is nn:
            kwargs["activation"] = chainrule.tanh
        layer = n.TransformerEncoderLayer(8, dim_feedforward=16, batch_first=True, **kwargs)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            encoder = n.TransformerEncoder(layer, 1)
        return encoder.use_nested_tensor, [str(w.message) for w in caught]

    assert build(nn) == build(torch.nn)


def _mask_warnings(n: Any, lib: Any, call: str) -> list[str]:
    """The warnings one call with a bool padding mask and a float causal mask raises."""
    layer = n.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
    x = lib.zeros(2, 3, 8)
    padding = lib.tensor([[False, False, True], [False, False, False]])
    causal = n.Transformer.generate_square_subsequent_mask(3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if call == "encoder":
            n.TransformerEncoder(layer, 1, enable_nested_tensor=False)(
                x, mask=causal, src_key_padding_mask=padding
            )
        elif call == "layer":
            layer(x, src_mask=causal, src_key_padding_mask=padding)
        elif call == "attention":
            layer.self_attn(x, x, x, key_padding_mask=padding, attn_mask=causal)
        else:  # both bool: nothing to say
            layer.self_attn(x, x, x, key_padding_mask=padding, attn_mask=causal.isinf())
    return [str(w.message) for w in caught]


@pytest.mark.parametrize("call", ["encoder", "layer", "attention", "same-dtypes"])
def test_mismatched_mask_dtypes_warn_as_in_pytorch(call) -> None:
    """A bool key padding mask beside a float attention mask (the tutorials' pairing) is
    deprecated in PyTorch, which says so naming the two masks."""
    assert _mask_warnings(nn, chainrule, call) == _mask_warnings(torch.nn, torch, call)


def _legacy_hook_run(lib, module_type, make_input):
    """register_backward_hook on a module: what the hook sees (grad_output, each grad_input's
    shape or None), the input's gradient after the hook zeroes grad_input, and the warnings."""
    import warnings

    lib.manual_seed(0)
    module = module_type(lib)
    seen = []

    def hook(mod, grad_input, grad_output):
        seen.append((mod is module, grad_output[0].detach().numpy().copy()))
        return tuple(None if g is None else g * 0 for g in grad_input)

    module.register_backward_hook(hook)
    leaf, x = make_input(lib)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = module(x)
    (out * lib.arange(out.numel(), dtype=out.dtype).reshape(out.shape)).sum().backward()
    messages = [str(w.message)[:60] for w in caught if w.category is FutureWarning]
    return seen, leaf.grad.numpy(), messages


@pytest.mark.parametrize(
    "module_type",
    [
        lambda lib: lib.nn.ReLU(),
        lambda lib: lib.nn.Sigmoid(),
        lambda lib: lib.nn.Sequential(lib.nn.Tanh(), lib.nn.Softplus()),
    ],
    ids=["relu", "sigmoid", "two-ops"],
)
def test_register_backward_hook_runs_on_the_output_node_as_torch(module_type) -> None:
    data = np.random.default_rng(4).standard_normal((2, 3)).astype("float32")

    def computed(lib):  # the module's input has a graph node of its own
        leaf = lib.tensor(data, requires_grad=True)
        return leaf, leaf * 1.0

    def leaf(lib):
        leaf = lib.tensor(data, requires_grad=True)
        return leaf, leaf

    for builder in (leaf, computed):
        ours = _legacy_hook_run(chainrule, module_type, builder)
        theirs = _legacy_hook_run(torch, module_type, builder)
        assert [s[0] for s in ours[0]] == [s[0] for s in theirs[0]] == [True]
        np.testing.assert_allclose(ours[0][0][1], theirs[0][0][1], rtol=1e-6)
        np.testing.assert_array_equal(ours[1], theirs[1])  # the hook's zeros reach the input
        assert ours[2] == theirs[2]


def test_regular_and_full_backward_hooks_do_not_mix_as_torch() -> None:
    for lib in (chainrule, torch):
        layer = lib.nn.Linear(2, 2)
        layer.register_full_backward_hook(lambda *args: None)
        with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks"):
            layer.register_backward_hook(lambda *args: None)
        other = lib.nn.Linear(2, 2)
        other.register_backward_hook(lambda *args: None)
        with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks"):
            other.register_full_backward_hook(lambda *args: None)


# ---- CrossMapLRN2d: the legacy cross-channel LRN -------------------------------------------


def _cross_map_lrn(lib, size):
    values = np.cos(np.arange(2 * 6 * 3 * 3) * 0.37).reshape(2, 6, 3, 3)
    x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
    cotangent = lib.tensor(np.sin(np.arange(x.numel())).reshape(x.shape), dtype=lib.float64)
    layer = lib.nn.CrossMapLRN2d(size, alpha=0.3, beta=0.6, k=1.5)
    out = layer(x)
    (grad,) = lib.autograd.grad(out, x, cotangent)
    return out.detach().numpy(), grad.numpy(), type(out.grad_fn).__name__, repr(layer)


@pytest.mark.parametrize("size", [2, 3, 4, 5, 8])
def test_cross_map_lrn2d_gives_pytorchs_values_and_hand_written_gradient(size):
    """CrossMapLRN2d keeps PyTorch's lopsided forward window (channel 0 is never dropped)
    and its hand-written backward, which is not LocalResponseNorm's: both matched in
    float64, the node named CrossMapLRN2dBackward."""
    out, grad, node, text = _cross_map_lrn(chainrule, size)
    their_out, their_grad, their_node, their_text = _cross_map_lrn(torch, size)
    np.testing.assert_allclose(out, their_out, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(grad, their_grad, rtol=1e-12, atol=1e-14)
    assert node == their_node == "CrossMapLRN2dBackward" and text == their_text
    x = chainrule.tensor(np.cos(np.arange(2 * 6 * 3 * 3) * 0.37).reshape(2, 6, 3, 3))
    textbook = chainrule.nn.functional.local_response_norm(x, size, 0.3, 0.6, 1.5)
    assert not np.allclose(out, textbook.numpy())  # not LocalResponseNorm's numbers


def test_cross_map_lrn2d_takes_4d_input_only_and_size_1_fails_in_backward_as_pytorchs():
    for lib in (chainrule, torch):
        with pytest.raises(ValueError, match="Expected input to be 4D, got 3D instead"):
            lib.nn.CrossMapLRN2d(3)(lib.ones(2, 3, 4))
        out = lib.nn.CrossMapLRN2d(1)(lib.ones(1, 3, 2, 2, requires_grad=True))
        with pytest.raises(RuntimeError, match=r"start \(1\) \+ length \(3\) exceeds"):
            out.sum().backward()
