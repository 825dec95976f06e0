"""Complex numbers through `chainrule.nn`, as PyTorch 2.13 on the CPU: the layers PyTorch has
complex kernels for (Linear, the convolutions, the recurrent layers, tanh-like activations,
RMSNorm, ...) take `dtype=chainrule.cfloat` parameters and complex inputs, initialise them as
PyTorch does, and give PyTorch's values and gradients (grad = dL/da + i dL/db for z = a + ib);
the rest refuse complex tensors with a DTypeError naming the op, where PyTorch refuses them.
The kernels' derivatives to second order are checked by the complex op specs
(tests/op_specs/complex.py, section nn)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import chainrule
import chainrule.nn.functional as F
from chainrule import nn
from chainrule.errors import DTypeError

pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections is not supported")


def _complex_normal(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


def _numpy(value: Any) -> np.ndarray:
    return np.asarray(value.detach().cpu().numpy())


def _flatten(value: Any) -> list:
    if isinstance(value, (tuple, list)):
        return [item for part in value for item in _flatten(part)]
    return [value]


def _copy_state(mine: Any, theirs: Any, device: str) -> None:
    state = {k: chainrule.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()}
    assert list(mine.state_dict()) == list(state)
    mine.load_state_dict(state)
    mine.to(device)


def _compare_with_torch(
    make: Callable[[Any], Any],
    shapes: list[tuple],
    call: Callable[..., Any] | None = None,
    device: str = "cpu",
    train: bool = True,
) -> None:
    """make(torch.nn) and make(chainrule.nn) in complex128, torch's parameters copied over: the
    outputs, and the gradients of a real loss Re <out, c> for every input and parameter."""
    torch.manual_seed(0)
    theirs = make(torch.nn, torch.cdouble).train(train)
    mine = make(nn, chainrule.cdouble).train(train)
    _copy_state(mine, theirs, device)
    rng = np.random.default_rng(0)
    arrays = [_complex_normal(rng, shape) for shape in shapes]
    my_inputs = [chainrule.tensor(a, requires_grad=True, device=device) for a in arrays]
    their_inputs = [torch.tensor(a, requires_grad=True) for a in arrays]
    call = call or (lambda module, *xs: module(*xs))
    my_outputs = _flatten(call(mine, *my_inputs))
    their_outputs = _flatten(call(theirs, *their_inputs))
    assert len(my_outputs) == len(their_outputs)
    my_loss, their_loss = 0.0, 0.0
    for a, b in zip(my_outputs, their_outputs):
        assert a.dtype.name == str(b.dtype).replace("torch.", "")
        np.testing.assert_allclose(_numpy(a), _numpy(b), rtol=1e-10, atol=1e-12)
        cotangent = _complex_normal(rng, tuple(b.shape))
        my_loss = my_loss + (a * chainrule.tensor(cotangent, device=device)).real.sum()
        their_loss = their_loss + (b * torch.tensor(cotangent)).real.sum()
    my_loss.backward()
    their_loss.backward()
    for index, (a, b) in enumerate(zip(my_inputs, their_inputs)):
        np.testing.assert_allclose(
            _numpy(a.grad), _numpy(b.grad), rtol=1e-9, atol=1e-12, err_msg=f"input {index}"
        )
    their_parameters = dict(theirs.named_parameters())
    for name, parameter in mine.named_parameters():
        assert parameter.dtype is chainrule.complex128
        expected = their_parameters[name].grad
        np.testing.assert_allclose(
            _numpy(parameter.grad), _numpy(expected), rtol=1e-9, atol=1e-12, err_msg=name
        )


# ---- layers with complex kernels: values and gradients against PyTorch -------------------------

LAYERS = {
    "Linear": (lambda m, d: m.Linear(4, 3, dtype=d), [(2, 5, 4)]),
    "Linear(bias=False)": (lambda m, d: m.Linear(4, 3, bias=False, dtype=d), [(4,)]),
    "Conv1d": (lambda m, d: m.Conv1d(2, 3, 3, stride=2, padding=1, dtype=d), [(2, 2, 7)]),
    "Conv2d(groups, dilation)": (
        lambda m, d: m.Conv2d(4, 6, (3, 2), dilation=(1, 2), groups=2, dtype=d),
        [(2, 4, 6, 6)],
    ),
    **{
        f"Conv2d(padding_mode={mode})": (
            lambda m, d, mode=mode: m.Conv2d(2, 3, 3, padding=1, padding_mode=mode, dtype=d),
            [(1, 2, 5, 4)],
        )
        for mode in ("zeros", "reflect", "replicate", "circular")
    },
    "Conv3d": (lambda m, d: m.Conv3d(2, 2, 2, padding=(1, 0, 1), dtype=d), [(1, 2, 3, 4, 3)]),
    "ConvTranspose1d": (lambda m, d: m.ConvTranspose1d(3, 2, 3, stride=2, dtype=d), [(2, 3, 4)]),
    "ConvTranspose2d": (
        lambda m, d: m.ConvTranspose2d(4, 3, 3, stride=2, padding=1, output_padding=1, dtype=d),
        [(2, 4, 3, 3)],
    ),
    "ConvTranspose3d": (lambda m, d: m.ConvTranspose3d(2, 2, 2, dtype=d), [(1, 2, 2, 3, 2)]),
    "RNNCell": (lambda m, d: m.RNNCell(3, 4, dtype=d), [(2, 3), (2, 4)]),
    "LSTMCell": (
        lambda m, d: m.LSTMCell(3, 4, dtype=d),
        [(2, 3), (2, 4), (2, 4)],
    ),
    "GRUCell": (lambda m, d: m.GRUCell(3, 4, dtype=d), [(3,)]),
    "RNN(2 layers, batch_first)": (
        lambda m, d: m.RNN(3, 4, num_layers=2, batch_first=True, dtype=d),
        [(2, 5, 3)],
    ),
    "LSTM(bidirectional, proj_size)": (
        lambda m, d: m.LSTM(3, 4, bidirectional=True, proj_size=2, dtype=d),
        [(5, 2, 3)],
    ),
    "GRU(2 layers, bidirectional)": (
        lambda m, d: m.GRU(3, 4, num_layers=2, bidirectional=True, dtype=d),
        [(5, 2, 3)],
    ),
    "RMSNorm": (lambda m, d: m.RMSNorm(4, dtype=d), [(2, 3, 4)]),
    "Sequential(Linear, Tanh, Linear, Sigmoid, Softsign, Tanhshrink)": (
        lambda m, d: m.Sequential(
            m.Linear(3, 4, dtype=d),
            m.Tanh(),
            m.Linear(4, 4, dtype=d),
            m.Sigmoid(),
            m.Softsign(),
            m.Tanhshrink(),
        ),
        [(2, 3)],
    ),
}


@pytest.mark.parametrize("device", ["cpu", "fake"])
@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_with_complex_parameters_matches_torch(name, device):
    make, shapes = LAYERS[name]

    def call(module, first, *rest):
        if not rest:
            return module(first)
        if isinstance(module, (torch.nn.LSTMCell, nn.LSTMCell)):
            return module(first, tuple(rest))
        return module(first, *rest)

    _compare_with_torch(make, shapes, call, device)


def test_recurrent_layer_in_eval_mode_skips_its_dropout():
    """PyTorch has no complex dropout (its mask is bernoulli_'s): a recurrent layer with dropout
    between layers runs complex only in eval mode, and refuses in training, as PyTorch's."""
    make = lambda m, d: m.LSTM(3, 4, num_layers=2, dropout=0.5, dtype=d)  # noqa: E731
    _compare_with_torch(make, [(5, 2, 3)], train=False)
    layer = make(nn, chainrule.cfloat)
    with pytest.raises(DTypeError, match="dropout"):
        layer(chainrule.randn(5, 2, 3, dtype=chainrule.cfloat))


def test_lazy_layers_materialise_complex_parameters():
    linear = nn.LazyLinear(4, dtype=chainrule.cfloat)
    conv = nn.LazyConv1d(4, 2, dtype=chainrule.cfloat)
    assert linear(chainrule.randn(2, 3, dtype=chainrule.cfloat)).dtype is chainrule.complex64
    assert conv(chainrule.randn(1, 2, 5, dtype=chainrule.cfloat)).dtype is chainrule.complex64
    assert linear.weight.dtype is chainrule.complex64 and linear.weight.shape == (4, 3)


def test_spectral_norm_of_a_complex_weight_matches_torch():
    """The power iteration multiplies by W^H (PyTorch's parametrization), sigma = u^H W v."""

    def make(m, dtype):
        return m.utils.parametrizations.spectral_norm(m.Linear(4, 3, dtype=dtype))

    _compare_with_torch(make, [(2, 4)])


# ---- functions both libraries take complex inputs to -----------------------------------------

FUNCTIONS = {
    "linear (bias of one element)": (
        lambda lib, x, w, b: lib.nn.functional.linear(x, w, b),
        [(2, 3), (4, 3), (1,)],
    ),
    "normalize": (lambda lib, x: lib.nn.functional.normalize(x, dim=1), [(2, 3)]),
    "normalize(p=1)": (lambda lib, x: lib.nn.functional.normalize(x, p=1.0, dim=0), [(2, 3)]),
    "l1_loss": (lambda lib, x, y: lib.nn.functional.l1_loss(x, y), [(2, 3), (2, 3)]),
    "pairwise_distance": (
        lambda lib, x, y: lib.nn.functional.pairwise_distance(x, y),
        [(2, 3), (2, 3)],
    ),
    "triplet_margin_loss": (
        lambda lib, a, p, n: lib.nn.functional.triplet_margin_loss(a, p, n, margin=4.0),
        [(2, 3), (2, 3), (2, 3)],
    ),
    "poisson_nll_loss": (
        lambda lib, x, y: lib.nn.functional.poisson_nll_loss(x, y),
        [(2, 3), (2, 3)],
    ),
    "gaussian_nll_loss (real var)": (
        lambda lib, x, y: lib.nn.functional.gaussian_nll_loss(
            x, y, lib.full((2, 3), 0.5, dtype=lib.float64)
        ),
        [(2, 3), (2, 3)],
    ),
    "rms_norm": (lambda lib, x, w: lib.nn.functional.rms_norm(x, (3,), w), [(2, 3), (3,)]),
    "pixel_shuffle": (lambda lib, x: lib.nn.functional.pixel_shuffle(x, 2), [(1, 4, 2, 3)]),
    "unfold": (lambda lib, x: lib.nn.functional.unfold(x, 2), [(1, 2, 3, 3)]),
    "fold": (lambda lib, x: lib.nn.functional.fold(x, (3, 3), 2), [(1, 4, 4)]),
    **{
        f"pad({mode})": (
            lambda lib, x, mode=mode: lib.nn.functional.pad(x, (1, 2), mode=mode),
            [(1, 2, 4)],
        )
        for mode in ("constant", "reflect", "replicate", "circular")
    },
}


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_function_on_complex_inputs_matches_torch(name):
    function, shapes = FUNCTIONS[name]
    rng = np.random.default_rng(1)
    arrays = [_complex_normal(rng, shape) for shape in shapes]
    mine = [chainrule.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    my_out, their_out = function(chainrule, *mine), function(torch, *theirs)
    assert my_out.dtype.name == str(their_out.dtype).replace("torch.", "")
    np.testing.assert_allclose(_numpy(my_out), _numpy(their_out), rtol=1e-10, atol=1e-12)
    cotangent = _complex_normal(rng, tuple(their_out.shape))
    if not their_out.is_complex():
        cotangent = cotangent.real
    (my_out * chainrule.tensor(cotangent)).real.sum().backward()
    (their_out * torch.tensor(cotangent)).real.sum().backward()
    for a, b in zip(mine, theirs):
        np.testing.assert_allclose(_numpy(a.grad), _numpy(b.grad), rtol=1e-9, atol=1e-12)


# ---- initialisation: each part drawn as PyTorch draws it ---------------------------------------


def _parts(tensor: Any) -> tuple[np.ndarray, np.ndarray]:
    array = _numpy(tensor)
    return array.real, array.imag


@pytest.mark.parametrize(
    ("make", "name", "bound"),
    [
        (lambda: nn.Linear(300, 200, dtype=chainrule.cfloat), "weight", 1 / math.sqrt(300)),
        (lambda: nn.Linear(300, 200, dtype=chainrule.cfloat), "bias", 1 / math.sqrt(300)),
        (lambda: nn.Conv2d(8, 16, 3, dtype=chainrule.cfloat), "weight", 1 / math.sqrt(72)),
        (lambda: nn.ConvTranspose1d(8, 200, 3, dtype=chainrule.cfloat), "bias", 1 / math.sqrt(600)),
        (lambda: nn.GRUCell(3, 100, dtype=chainrule.cfloat), "weight_hh", 1 / math.sqrt(100)),
        (lambda: nn.Bilinear(30, 5, 40, dtype=chainrule.cfloat), "weight", 1 / math.sqrt(30)),
    ],
)
def test_uniform_initialisation_draws_each_part_in_torchs_bounds(make, name, bound):
    """kaiming_uniform_ and uniform_ on a complex tensor draw the real and the imaginary part
    each from U(-bound, bound) (torch.Tensor.uniform_ on complex)."""
    chainrule.manual_seed(0)
    parameter = getattr(make(), name)
    assert parameter.dtype is chainrule.complex64
    for part in _parts(parameter):
        assert np.abs(part).max() <= bound
        assert part.min() < -0.8 * bound and part.max() > 0.8 * bound  # the whole interval


def test_normal_initialisation_of_complex_tensors_is_torchs():
    """normal_(mean, std) on complex: mean in each part, E|z - mean (1 + i)|^2 = std**2; so
    an Embedding's complex rows have E|w|^2 = 1, and kaiming_normal_ has PyTorch's std."""
    chainrule.manual_seed(0)
    table = nn.Embedding(1000, 100, dtype=chainrule.cfloat).weight
    assert abs(float((table.abs() ** 2).mean()) - 1.0) < 0.02
    shifted = chainrule.empty(200000, dtype=chainrule.cdouble).normal_(2.0, 3.0)
    real, imag = _parts(shifted)
    assert abs(real.mean() - 2.0) < 0.03 and abs(imag.mean() - 2.0) < 0.03
    assert abs(real.var() - 4.5) < 0.1 and abs(imag.var() - 4.5) < 0.1
    weight = nn.init.kaiming_normal_(chainrule.empty(400, 500, dtype=chainrule.cfloat))
    expected_std = math.sqrt(2 / 500)  # torch: the modulus's RMS, each part std / sqrt(2)
    assert abs(float((weight.abs() ** 2).mean()) ** 0.5 - expected_std) < 0.02 * expected_std
    uniform = chainrule.empty(100000, dtype=chainrule.cfloat).uniform_(2.0, 3.0)
    for part in _parts(uniform):
        assert 2.0 <= part.min() and part.max() <= 3.0  # float32 rounding may reach b


@pytest.mark.parametrize("name", ["trunc_normal_", "orthogonal_"])
def test_init_functions_pytorch_refuses_for_complex_are_refused(name):
    with pytest.raises(DTypeError, match=name):
        getattr(nn.init, name)(chainrule.empty(3, 4, dtype=chainrule.cfloat))
    with pytest.raises((RuntimeError, NotImplementedError)):
        getattr(torch.nn.init, name)(torch.empty(3, 4, dtype=torch.cfloat))


# ---- what PyTorch refuses for complex tensors --------------------------------------------------


def _z(*shape: int, requires_grad: bool = False) -> Any:
    return chainrule.randn(*shape, dtype=chainrule.cfloat, requires_grad=requires_grad)


REFUSED = {
    "relu": lambda: nn.ReLU()(_z(3)),
    "gelu": lambda: F.gelu(_z(3)),
    "silu": lambda: F.silu(_z(3)),
    "elu": lambda: F.elu(_z(3)),
    "leaky_relu": lambda: F.leaky_relu(_z(3)),
    "softplus": lambda: F.softplus(_z(3)),
    "hardtanh": lambda: F.hardtanh(_z(3)),
    "logsigmoid": lambda: F.logsigmoid(_z(3)),
    "mish": lambda: F.mish(_z(3)),
    "prelu": lambda: nn.PReLU(dtype=chainrule.cfloat)(_z(2, 3)),
    "threshold": lambda: F.threshold(_z(3), 0.1, 0.0),
    "hardshrink": lambda: F.hardshrink(_z(3)),
    "softshrink": lambda: F.softshrink(_z(3)),
    "glu": lambda: F.glu(_z(2, 4)),
    "softmax": lambda: nn.Softmax(dim=1)(_z(2, 3)),
    "log_softmax": lambda: F.log_softmax(_z(2, 3), 1),
    "relu (RNNCell(nonlinearity='relu'))": lambda: nn.RNNCell(
        3, 4, nonlinearity="relu", dtype=chainrule.cfloat
    )(_z(2, 3)),
    "dropout": lambda: F.dropout(_z(4, 4), 0.5),
    "dropout2d": lambda: nn.Dropout2d(0.5)(_z(2, 3, 4, 4)),
    "alpha_dropout": lambda: F.alpha_dropout(_z(4), 0.5, training=True),
    "feature_alpha_dropout": lambda: F.feature_alpha_dropout(_z(2, 3, 4), 0.5, training=True),
    "mse_loss": lambda: nn.MSELoss()(_z(3), _z(3)),
    "huber_loss": lambda: F.huber_loss(_z(3), _z(3)),
    "smooth_l1_loss": lambda: F.smooth_l1_loss(_z(3), _z(3)),
    "kl_div": lambda: F.kl_div(_z(3), _z(3), reduction="batchmean"),
    "binary_cross_entropy": lambda: F.binary_cross_entropy(_z(3), _z(3)),
    "cross_entropy": lambda: F.cross_entropy(_z(2, 3), chainrule.tensor([0, 1])),
    "nll_loss": lambda: F.nll_loss(_z(2, 3), chainrule.tensor([0, 1])),
    "cosine_similarity": lambda: F.cosine_similarity(_z(2, 3), _z(2, 3)),
    "pdist": lambda: F.pdist(_z(3, 2)),
    "layer_norm": lambda: nn.LayerNorm(4, dtype=chainrule.cfloat)(_z(2, 4)),
    "group_norm": lambda: nn.GroupNorm(2, 4, dtype=chainrule.cfloat)(_z(2, 4, 3)),
    "batch_norm": lambda: nn.BatchNorm1d(4, dtype=chainrule.cfloat)(_z(3, 4)),
    "instance_norm": lambda: nn.InstanceNorm1d(4)(_z(3, 4, 5)),
    "avg_pool1d": lambda: nn.AvgPool1d(2)(_z(1, 2, 4)),
    "max_pool2d": lambda: F.max_pool2d(_z(1, 2, 4, 4), 2),
    "adaptive_avg_pool2d": lambda: F.adaptive_avg_pool2d(_z(1, 2, 4, 4), 2),
    "interpolate": lambda: F.interpolate(_z(1, 2, 4), scale_factor=2),
    "embedding_bag": lambda: F.embedding_bag(chainrule.tensor([[1, 2]]), _z(4, 2)),
    "scaled_dot_product_attention": lambda: F.scaled_dot_product_attention(
        _z(1, 3, 4), _z(1, 3, 4), _z(1, 3, 4)
    ),
    "softmax (MultiheadAttention)": lambda: nn.MultiheadAttention(4, 2, dtype=chainrule.cfloat)(
        _z(3, 1, 4), _z(3, 1, 4), _z(3, 1, 4)
    ),
    "weight_norm": lambda: nn.utils.parametrizations.weight_norm(
        nn.Linear(3, 2, dtype=chainrule.cfloat)
    )(_z(2, 3)),
    # a complex forward, but no complex backward: refused where autograd would record it
    "embedding": lambda: nn.Embedding(4, 2, dtype=chainrule.cfloat)(chainrule.tensor([1, 3])),
    "bilinear": lambda: nn.Bilinear(3, 2, 4, dtype=chainrule.cfloat)(_z(2, 3), _z(2, 2)),
    "soft_margin_loss": lambda: F.soft_margin_loss(_z(3, requires_grad=True), _z(3)),
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_what_torch_refuses_for_complex_is_refused_naming_the_op(name):
    op_name = name.split(" (")[0]
    with pytest.raises(DTypeError, match=op_name):
        REFUSED[name]()


def test_the_refusal_list_is_torchs():
    """Each refused call, written with torch, raises in PyTorch too (so the list above does not
    refuse anything PyTorch supports)."""
    import torch.nn.functional as TF  # noqa: N812

    def z(*shape, requires_grad=False):
        return torch.randn(*shape, dtype=torch.cfloat, requires_grad=requires_grad)

    calls = [
        lambda: torch.nn.ReLU()(z(3)),
        lambda: TF.gelu(z(3)),
        lambda: TF.glu(z(2, 4)),
        lambda: TF.threshold(z(3), 0.1, 0.0),
        lambda: TF.dropout(z(4, 4), 0.5),
        lambda: TF.alpha_dropout(z(4), 0.5, training=True),
        lambda: torch.nn.MSELoss()(z(3), z(3)),
        lambda: TF.huber_loss(z(3), z(3)),
        lambda: TF.smooth_l1_loss(z(3), z(3)),
        lambda: TF.kl_div(z(3), z(3), reduction="batchmean"),
        lambda: TF.binary_cross_entropy(z(3), z(3)),
        lambda: TF.cosine_similarity(z(2, 3), z(2, 3)),
        lambda: TF.pdist(z(3, 2)),
        lambda: torch.nn.LayerNorm(4, dtype=torch.cfloat)(z(2, 4)),
        lambda: TF.scaled_dot_product_attention(z(1, 3, 4), z(1, 3, 4), z(1, 3, 4)),
        lambda: torch.nn.utils.parametrizations.weight_norm(
            torch.nn.Linear(3, 2, dtype=torch.cfloat)
        )(z(2, 3)),
        lambda: torch.nn.Embedding(4, 2, dtype=torch.cfloat)(torch.tensor([1, 3])),
        lambda: torch.nn.Bilinear(3, 2, 4, dtype=torch.cfloat)(z(2, 3), z(2, 2)),
        lambda: TF.soft_margin_loss(z(3, requires_grad=True), z(3)),
        lambda: torch.nn.RNNCell(3, 4, nonlinearity="relu", dtype=torch.cfloat)(z(2, 3)),
    ]
    for call in calls:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises((RuntimeError, NotImplementedError)):
                call()


def test_forward_only_complex_ops_run_without_autograd_as_torchs():
    """embedding, bilinear and soft_margin_loss compute complex values when nothing records
    them (no_grad, or no operand requiring grad), as PyTorch's."""
    rng = np.random.default_rng(0)
    table, x1, x2 = (_complex_normal(rng, s) for s in ((4, 2), (2, 3), (2, 2)))
    weight, target = _complex_normal(rng, (4, 3, 2)), _complex_normal(rng, (2, 3))
    index = [1, 3, 1]
    pairs = [
        (
            F.embedding(chainrule.tensor(index), chainrule.tensor(table)),
            torch.nn.functional.embedding(torch.tensor(index), torch.tensor(table)),
        ),
        (
            F.bilinear(*(chainrule.tensor(a) for a in (x1, x2, weight))),
            torch.nn.functional.bilinear(*(torch.tensor(a) for a in (x1, x2, weight))),
        ),
        (
            F.soft_margin_loss(chainrule.tensor(x1), chainrule.tensor(target)),
            torch.nn.functional.soft_margin_loss(torch.tensor(x1), torch.tensor(target)),
        ),
    ]
    with chainrule.no_grad():
        layer = nn.Embedding(4, 2, dtype=chainrule.cdouble)
        looked_up = layer(chainrule.tensor(index))
    assert looked_up.dtype is chainrule.complex128 and not looked_up.requires_grad
    for mine, theirs in pairs:
        np.testing.assert_allclose(_numpy(mine), _numpy(theirs), rtol=1e-12)


@pytest.mark.parametrize(
    "call",
    [
        lambda z: F.dropout(z, 0.0),
        lambda z: F.dropout(z, 1.0),
        lambda z: F.dropout(z, 0.5, training=False),
        lambda z: nn.Dropout(0.5).eval()(z),
        lambda z: F.dropout1d(z, 1.0),
        lambda z: F.alpha_dropout(z, 0.0, training=True),
        lambda z: F.feature_alpha_dropout(z, 1.0, training=True),
    ],
)
def test_dropout_of_complex_tensors_runs_where_it_draws_nothing(call):
    """PyTorch refuses complex dropout only where it draws a mask (0 < p < 1, training)."""
    z = _z(2, 3, 4)
    out = call(z)
    assert out.dtype is chainrule.complex64 and out.shape == z.shape
