"""What a ported PyTorch program prints: a tensor's repr names its grad_fn as PyTorch does.

Each test runs the same lines in chainrule and in torch on the same numbers and asserts that
`print(result)` writes the same text, values and `grad_fn=<...>` included.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import chainrule
import chainrule.nn.functional as F

LOGITS = np.array(
    [[0.5, -1.25, 2.0, 0.0, 1.0], [1.5, 0.25, -0.5, 2.5, -2.0], [0.0, 1.0, 0.5, -1.0, 3.0]],
    dtype=np.float32,
)
TARGETS = np.array([2, 3, 4])


def both(array):
    """The same leaf in chainrule and in torch, requiring grad."""
    return (
        chainrule.tensor(array.copy(), requires_grad=True),
        torch.tensor(array.copy(), requires_grad=True),
    )


def assert_prints_as_torch(mine, theirs):
    assert repr(mine) == repr(theirs)
    assert str(mine) == str(theirs)


def test_cross_entropy_loss_prints_nll_loss_backward():
    x, tx = both(LOGITS)
    loss = F.cross_entropy(x, chainrule.tensor(TARGETS))
    torch_loss = TF.cross_entropy(tx, torch.tensor(TARGETS))
    assert_prints_as_torch(loss, torch_loss)  # tensor(0.6386, grad_fn=<NllLossBackward0>)
    assert loss.grad_fn.name() == "NllLossBackward0"


def test_mse_loss_prints_mse_loss_backward():
    x, tx = both(LOGITS)
    target = np.full(LOGITS.shape, 0.5, dtype=np.float32)
    loss = F.mse_loss(x, chainrule.tensor(target))
    assert_prints_as_torch(loss, TF.mse_loss(tx, torch.tensor(target)))
    assert loss.grad_fn.name() == "MseLossBackward0"


def test_linear_layer_output_prints_addmm_backward():
    layer, torch_layer = chainrule.nn.Linear(5, 2), torch.nn.Linear(5, 2)
    weight = np.array([[0.5, -0.25, 0.0, 1.0, 0.75], [-1.0, 0.5, 0.25, 0.0, 0.5]], np.float32)
    bias = np.array([0.125, -0.5], dtype=np.float32)
    with chainrule.no_grad():
        layer.weight.copy_(chainrule.tensor(weight))
        layer.bias.copy_(chainrule.tensor(bias))
    with torch.no_grad():
        torch_layer.weight.copy_(torch.tensor(weight))
        torch_layer.bias.copy_(torch.tensor(bias))
    out = layer(chainrule.tensor(LOGITS))
    assert_prints_as_torch(out, torch_layer(torch.tensor(LOGITS)))
    assert out.grad_fn.name() == "AddmmBackward0"


def test_reductions_and_views_print_as_torch():
    x, tx = both(LOGITS)
    assert_prints_as_torch(x.sum(0), tx.sum(0))  # SumBackward1
    assert_prints_as_torch(x.sum(), tx.sum())  # SumBackward0
    assert_prints_as_torch(x.mean(1), tx.mean(1))  # MeanBackward1
    assert_prints_as_torch(x.t(), tx.t())  # TBackward0
    assert_prints_as_torch(x.transpose(0, 1), tx.transpose(0, 1))  # TransposeBackward0
    assert_prints_as_torch(x[0], tx[0])  # SelectBackward0
    assert_prints_as_torch(x[1:], tx[1:])  # SliceBackward0
    assert_prints_as_torch(x.unsqueeze(0), tx.unsqueeze(0))  # UnsqueezeBackward0
    assert_prints_as_torch(x.max(), tx.max())  # MaxBackward1
    assert_prints_as_torch(x.max(1).values, tx.max(1).values)  # MaxBackward0


def test_autograd_tutorial_chain_prints_as_torch():
    # PyTorch's autograd tutorial: y = x + 2, z = y * y * 3, out = z.mean(); and x * 2 + 1
    x = chainrule.ones(2, 2, requires_grad=True)
    tx = torch.ones(2, 2, requires_grad=True)
    y, ty = x + 2, tx + 2
    z, tz = y * y * 3, ty * ty * 3
    assert_prints_as_torch(y, ty)  # AddBackward0
    assert_prints_as_torch(z, tz)  # MulBackward0
    assert_prints_as_torch(z.mean(), tz.mean())  # MeanBackward0
    assert_prints_as_torch(x * 2 + 1, tx * 2 + 1)
    assert_prints_as_torch(2 - x, 2 - tx)  # RsubBackward1
    assert_prints_as_torch(x**2, tx**2)  # PowBackward0


def test_grad_fn_name_survives_backward():
    x, tx = both(LOGITS)
    loss = F.cross_entropy(x, chainrule.tensor(TARGETS))
    torch_loss = TF.cross_entropy(tx, torch.tensor(TARGETS))
    loss.backward()
    torch_loss.backward()
    assert_prints_as_torch(loss, torch_loss)
    assert repr(loss.grad_fn).startswith("<NllLossBackward0 object at ")


CATALOGUE = {
    "small and large": lambda lib: lib.tensor([1e-3, 1.0, 1e3]),
    "sci mode": lambda lib: lib.tensor([1e-5, 1.0]),
    "huge": lambda lib: lib.tensor([1e10, 1.0]),
    "float64": lambda lib: lib.tensor([0.1, 0.25], dtype=lib.float64),
    "ints": lambda lib: lib.tensor([1, -2, 300]),
    "bools": lambda lib: lib.tensor([[True], [False]]),
    "complex": lambda lib: lib.tensor([1.5 + 2j, -1j]),
    "summarized": lambda lib: lib.arange(2000.0),
    "3-D": lambda lib: lib.arange(24).view(2, 3, 4),
    "0-dim": lambda lib: lib.tensor(-0.0),
    "nan and inf": lambda lib: lib.tensor([float("nan"), 1.0, float("-inf")]),
    "empty": lambda lib: lib.zeros(2, 0, 3),
    "float16": lambda lib: lib.tensor([1.0, 2.0], dtype=lib.float16),
    "bfloat16": lambda lib: lib.tensor([1.0, 2.5], dtype=lib.bfloat16),
    "uint8": lambda lib: lib.ones(3, dtype=lib.uint8) * 200,
    "linspace": lambda lib: lib.linspace(-1, 1, 7),
    "power of two": lambda lib: lib.tensor([2.0]) ** 40,
    "expanded": lambda lib: lib.tensor([3.0]).expand(2, 3),
    "thirds": lambda lib: lib.tensor([1, 2]).double() / 3,
    "requires grad": lambda lib: lib.tensor([100.0, 2.5], requires_grad=True),
    "parameter": lambda lib: lib.nn.Parameter(lib.ones(2)),
}


@pytest.mark.parametrize("make", CATALOGUE.values(), ids=CATALOGUE.keys())
def test_a_catalogue_of_tensors_prints_as_pytorch(make):
    ours, theirs = make(chainrule), make(torch)
    assert repr(ours).replace("chainrule.", "torch.") == repr(theirs)


MODULES = {
    "bidirectional LSTM": lambda nn: nn.LSTM(3, 4, num_layers=2, batch_first=True, dropout=0.1),
    "embedding with padding": lambda nn: nn.Embedding(10, 3, padding_idx=0),
    "batch norm without momentum": lambda nn: nn.BatchNorm1d(4, momentum=None),
    "grouped dilated conv": lambda nn: nn.Conv2d(
        4, 8, (3, 5), stride=(2, 1), padding=(1, 2), dilation=2, groups=2, bias=False
    ),
    "transposed conv": lambda nn: nn.ConvTranspose2d(3, 2, 3, stride=2, output_padding=1),
    "ceil-mode pool": lambda nn: nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),
    "layer norm": lambda nn: nn.LayerNorm([4, 5], elementwise_affine=False),
    "attention": lambda nn: nn.MultiheadAttention(8, 2, batch_first=True),
    "encoder layer": lambda nn: nn.TransformerEncoderLayer(8, 2, 16, batch_first=True),
    "parameter list": lambda nn: nn.ParameterList([nn.Linear(2, 2).weight]),
    "module dict": lambda nn: nn.ModuleDict({"a": nn.ReLU(), "b": nn.LeakyReLU(0.1)}),
    "loss": lambda nn: nn.CrossEntropyLoss(label_smoothing=0.1),
}


@pytest.mark.parametrize("make", MODULES.values(), ids=MODULES.keys())
def test_modules_print_as_pytorch(make):
    assert repr(make(chainrule.nn)).replace("chainrule.", "torch.") == repr(make(torch.nn))
