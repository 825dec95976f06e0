"""What a ported PyTorch program prints: a tensor's repr names its grad_fn as PyTorch does.

Each test runs the same lines in chainrule and in torch on the same numbers and asserts that
`print(result)` writes the same text, values and `grad_fn=<...>` included.
"""

import numpy as np
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
