"""chainrule.nn.init: gains and fans equal torch's, and the statistics of every initialiser
(bounds, mean, standard deviation, orthogonality, truncation) match the formulas. Random
streams differ from torch's, so values are compared through their distributions."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import torch

import chainrule
from chainrule import nn
from chainrule.nn import init

NONLINEARITIES = [
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "selu",
]


@pytest.mark.parametrize("nonlinearity", NONLINEARITIES)
def test_calculate_gain_equals_torch(nonlinearity: str) -> None:
    assert init.calculate_gain(nonlinearity) == torch.nn.init.calculate_gain(nonlinearity)


@pytest.mark.parametrize("param", [None, 0, 0.2, 3, math.sqrt(5)])
def test_calculate_gain_leaky_relu_slope(param: float | None) -> None:
    mine = init.calculate_gain("leaky_relu", param)
    assert mine == torch.nn.init.calculate_gain("leaky_relu", param)


def test_calculate_gain_errors_like_torch() -> None:
    with pytest.raises(ValueError, match="Unsupported nonlinearity gelu"):
        init.calculate_gain("gelu")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", True)
    with pytest.raises(ValueError, match="not a valid number"):
        torch.nn.init.calculate_gain("leaky_relu", True)


@pytest.mark.parametrize("shape", [(3, 5), (4, 2, 3), (8, 4, 3, 3), (2, 6, 1, 2, 2)])
def test_fan_in_and_fan_out_equal_torch(shape: tuple) -> None:
    mine = init._calculate_fan_in_and_fan_out(chainrule.empty(shape))
    assert mine == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


def test_fans_need_two_dimensions() -> None:
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(chainrule.empty(4))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(chainrule.empty(3, 3), mode="fan_avg")


def _values(tensor: chainrule.Tensor) -> np.ndarray:
    return tensor.detach().numpy().astype(np.float64).ravel()


def _check_moments(values: np.ndarray, mean: float, std: float) -> None:
    """Sample mean and std within 5 standard errors of the expected ones."""
    n = values.size
    assert abs(values.mean() - mean) < 5 * std / math.sqrt(n), (values.mean(), mean)
    assert abs(values.std() - std) < 5 * std / math.sqrt(2 * n), (values.std(), std)


def _check_uniform(values: np.ndarray, bound: float) -> None:
    """Samples of U(-bound, bound): inside, reaching near the ends, std bound / sqrt(3)."""
    assert np.all(np.abs(values) <= bound * (1 + 1e-6))
    assert np.abs(values).max() > 0.97 * bound
    # The std of |U| is bound / sqrt(12): the spread of sample standard deviations is smaller.
    _check_moments(values, 0.0, bound / math.sqrt(3))


def _check_normal(values: np.ndarray, mean: float, std: float) -> None:
    _check_moments(values, mean, std)


def test_uniform_and_normal_statistics() -> None:
    chainrule.manual_seed(0)
    tensor = chainrule.empty(100, 100)
    assert init.uniform_(tensor, -2.0, 3.0) is tensor
    values = _values(tensor)
    assert values.min() >= -2.0 and values.max() < 3.0
    _check_moments(values, 0.5, 5 / math.sqrt(12))
    assert init.normal_(tensor, 1.5, 0.2) is tensor
    _check_normal(_values(tensor), 1.5, 0.2)


def test_constant_ones_zeros_eye_dirac_equal_torch() -> None:
    for fn, args in ((init.constant_, (0.25,)), (init.ones_, ()), (init.zeros_, ())):
        tensor = chainrule.empty(3, 4)
        assert fn(tensor, *args) is tensor
        theirs = getattr(torch.nn.init, fn.__name__)(torch.empty(3, 4), *args)
        assert np.array_equal(tensor.numpy(), theirs.numpy())
    for shape in ((3, 5), (5, 3)):
        assert np.array_equal(
            init.eye_(chainrule.empty(shape)).numpy(),
            torch.nn.init.eye_(torch.empty(shape)).numpy(),
        )
    for shape, groups in (((4, 2, 3), 1), ((6, 3, 3, 3), 2), ((4, 4, 3, 3, 3), 2)):
        mine = init.dirac_(chainrule.empty(shape), groups)
        theirs = torch.nn.init.dirac_(torch.empty(shape), groups)
        assert np.array_equal(mine.numpy(), theirs.numpy())
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        init.eye_(chainrule.empty(2, 2, 2))
    with pytest.raises(ValueError, match="3, 4, or 5 dimensions"):
        init.dirac_(chainrule.empty(2, 2))


@pytest.mark.parametrize("gain", [1.0, 2.0])
def test_xavier_statistics(gain: float) -> None:
    chainrule.manual_seed(1)
    tensor = chainrule.empty(200, 30, 2)  # fan_in 60, fan_out 400
    bound = gain * math.sqrt(6.0 / (60 + 400))
    _check_uniform(_values(init.xavier_uniform_(tensor, gain=gain)), bound)
    _check_normal(_values(init.xavier_normal_(tensor, gain=gain)), 0.0, bound / math.sqrt(3))


@pytest.mark.parametrize(
    "a, mode, nonlinearity",
    [
        (0, "fan_in", "leaky_relu"),
        (math.sqrt(5), "fan_in", "leaky_relu"),
        (0, "fan_out", "relu"),
        (0.1, "fan_out", "leaky_relu"),
        (0, "fan_in", "tanh"),
    ],
)
def test_kaiming_statistics(a: float, mode: str, nonlinearity: str) -> None:
    chainrule.manual_seed(2)
    tensor = chainrule.empty(60, 40, 3)  # fan_in 120, fan_out 180
    fan = 120 if mode == "fan_in" else 180
    std = torch.nn.init.calculate_gain(nonlinearity, a) / math.sqrt(fan)
    uniform = init.kaiming_uniform_(tensor, a=a, mode=mode, nonlinearity=nonlinearity)
    _check_uniform(_values(uniform), math.sqrt(3.0) * std)
    normal = init.kaiming_normal_(tensor, a=a, mode=mode, nonlinearity=nonlinearity)
    _check_normal(_values(normal), 0.0, std)


def test_kaiming_on_empty_tensor_warns_and_does_nothing() -> None:
    tensor = chainrule.empty(0, 3)
    with pytest.warns(UserWarning, match="zero-element"):
        assert init.kaiming_uniform_(tensor) is tensor


@pytest.mark.parametrize("shape", [(4, 6), (6, 4), (3, 2, 2, 2), (5, 5)])
def test_orthogonal(shape: tuple) -> None:
    chainrule.manual_seed(3)
    tensor = chainrule.empty(shape)
    assert init.orthogonal_(tensor, gain=2.0) is tensor
    matrix = tensor.numpy().reshape(shape[0], -1).astype(np.float64) / 2.0
    rows, cols = matrix.shape
    product = matrix @ matrix.T if rows <= cols else matrix.T @ matrix
    np.testing.assert_allclose(product, np.eye(min(rows, cols)), atol=1e-5)
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal_(chainrule.empty(3))


def _truncated_normal_moments(mean: float, std: float, a: float, b: float) -> tuple:
    alpha, beta = (a - mean) / std, (b - mean) / std
    pdf = lambda x: math.exp(-x * x / 2) / math.sqrt(2 * math.pi)  # noqa: E731
    cdf = lambda x: 0.5 * (1 + math.erf(x / math.sqrt(2)))  # noqa: E731
    z = cdf(beta) - cdf(alpha)
    mu = mean + std * (pdf(alpha) - pdf(beta)) / z
    var = std**2 * (
        1 + (alpha * pdf(alpha) - beta * pdf(beta)) / z - ((pdf(alpha) - pdf(beta)) / z) ** 2
    )
    return mu, math.sqrt(var)


@pytest.mark.parametrize(
    "mean, std, a, b",
    [
        (0.0, 1.0, -2.0, 2.0),  # most of the mass: normal proposals
        (0.0, 0.02, -2.0, 2.0),  # the common ViT call: effectively untruncated
        (1.0, 1.0, 1.5, 3.0),  # one-sided tail: uniform proposals
        (0.0, 1.0, -0.2, 0.3),
    ],  # a narrow window: uniform proposals
)
def test_trunc_normal_statistics(mean: float, std: float, a: float, b: float) -> None:
    chainrule.manual_seed(4)
    tensor = chainrule.empty(200, 100)
    assert init.trunc_normal_(tensor, mean, std, a, b) is tensor
    values = _values(tensor)
    assert values.min() >= a and values.max() <= b
    expected_mean, expected_std = _truncated_normal_moments(mean, std, a, b)
    _check_moments(values, expected_mean, expected_std)


def test_trunc_normal_warns_when_mean_is_far_from_the_window() -> None:
    with pytest.warns(UserWarning, match="more than 2 std"):
        init.trunc_normal_(chainrule.empty(10), mean=5.0, std=1.0, a=-1.0, b=1.0)


def test_sparse() -> None:
    chainrule.manual_seed(5)
    tensor = init.sparse_(chainrule.empty(10, 30), sparsity=0.3, std=0.5)
    zeros_per_column = (tensor.numpy() == 0).sum(axis=0)
    assert np.all(zeros_per_column == 3)
    _check_normal(tensor.numpy()[tensor.numpy() != 0].astype(np.float64), 0.0, 0.5)


def test_generator_makes_initialisation_reproducible() -> None:
    first = init.kaiming_normal_(
        chainrule.empty(5, 5), generator=chainrule.Generator().manual_seed(7)
    )
    second = init.kaiming_normal_(
        chainrule.empty(5, 5), generator=chainrule.Generator().manual_seed(7)
    )
    assert np.array_equal(first.numpy(), second.numpy())
    for fn in (
        init.uniform_,
        init.normal_,
        init.xavier_uniform_,
        init.orthogonal_,
        init.trunc_normal_,
    ):
        a = fn(chainrule.empty(4, 3), generator=chainrule.Generator().manual_seed(1))
        b = fn(chainrule.empty(4, 3), generator=chainrule.Generator().manual_seed(1))
        assert np.array_equal(a.numpy(), b.numpy()), fn.__name__


def test_initialisers_work_on_parameters_without_recording() -> None:
    param = nn.Parameter(chainrule.empty(3, 4))
    for fn in (
        init.uniform_,
        init.normal_,
        init.zeros_,
        init.ones_,
        init.xavier_uniform_,
        init.kaiming_uniform_,
        init.orthogonal_,
        init.trunc_normal_,
        init.eye_,
    ):
        assert fn(param) is param
        assert param.requires_grad and param.is_leaf and param.grad_fn is None
    assert isinstance(param, nn.Parameter)


def test_deprecated_names_warn() -> None:
    with pytest.warns(FutureWarning, match="deprecated in favor of `nn.init.normal_`"):
        init.normal(chainrule.empty(2))


# ---- default initialisation of the layers --------------------------------------------------------


def test_linear_and_conv_default_initialisation() -> None:
    chainrule.manual_seed(6)
    layer = nn.Linear(50, 400)
    bound = 1 / math.sqrt(50)  # kaiming_uniform_(a=sqrt(5)) gives 1/sqrt(fan_in)
    _check_uniform(_values(layer.weight), bound)
    assert np.all(np.abs(_values(layer.bias)) <= bound)
    conv = nn.Conv2d(4, 300, 3)
    bound = 1 / math.sqrt(4 * 9)
    _check_uniform(_values(conv.weight), bound)
    assert np.all(np.abs(_values(conv.bias)) <= bound)
    transposed = nn.ConvTranspose2d(300, 4, 3)  # weight (300, 4, 3, 3): fan_in is 4 * 9
    _check_uniform(_values(transposed.weight), 1 / math.sqrt(36))
    assert tuple(transposed.weight.shape) == tuple(torch.nn.ConvTranspose2d(300, 4, 3).weight.shape)


def test_other_default_initialisations() -> None:
    chainrule.manual_seed(7)
    lstm = nn.LSTM(10, 100)
    for param in lstm.parameters():
        assert np.all(np.abs(_values(param)) <= 0.1 + 1e-7)
    _check_uniform(_values(lstm.weight_hh_l0), 0.1)
    embedding = nn.Embedding(300, 40)
    _check_normal(_values(embedding.weight), 0.0, 1.0)
    norm = nn.BatchNorm1d(5)
    assert norm.weight.tolist() == [1.0] * 5 and norm.bias.tolist() == [0.0] * 5
    assert norm.running_var.tolist() == [1.0] * 5 and norm.num_batches_tracked.item() == 0
    attention = nn.MultiheadAttention(64, 4)
    _check_uniform(_values(attention.in_proj_weight), math.sqrt(6 / (64 + 192)))
    assert np.all(_values(attention.in_proj_bias) == 0)
    assert np.all(_values(attention.out_proj.bias) == 0)
    bilinear = nn.Bilinear(25, 3, 200)
    _check_uniform(_values(bilinear.weight), 1 / math.sqrt(25))
    prelu = nn.PReLU(3, init=0.3)
    assert np.allclose(_values(prelu.weight), 0.3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        transformer = nn.Transformer(16, 2, 1, 1, 32)
    weight = transformer.encoder.layers[0].linear1.weight  # xavier after construction
    assert np.all(np.abs(_values(weight)) <= math.sqrt(6 / (16 + 32)) + 1e-7)
