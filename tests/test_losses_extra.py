"""The margin, ranking, multi-label and likelihood losses as PyTorch programs use them: each
nn module against torch's (values and input gradients), and the edge rules and errors of the
functional forms. Their derivatives to second order are checked in tests/op_specs/losses_extra.py.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF  # noqa: N812

import chainrule
import chainrule.nn.functional as F
from chainrule import nn

R = np.random.default_rng(7)


def _pair(array, requires_grad=True):
    mine = chainrule.tensor(array, requires_grad=requires_grad and array.dtype.kind == "f")
    theirs = torch.tensor(array, requires_grad=requires_grad and array.dtype.kind == "f")
    return mine, theirs


def _run_both(make_module, arrays, differentiated):
    """The module made by make_module(namespace) on the same inputs: values and the gradients
    of the first `differentiated` inputs (torch refuses some targets' gradients)."""
    pairs = [_pair(array, i < differentiated) for i, array in enumerate(arrays)]
    mine = make_module(nn)(*[p[0] for p in pairs])
    theirs = make_module(torch.nn)(*[p[1] for p in pairs])
    np.testing.assert_allclose(mine.detach().numpy(), theirs.detach().numpy(), rtol=1e-6, atol=1e-9)
    mine.sum().backward()
    theirs.sum().backward()
    for m, t in pairs:
        if t.requires_grad:
            np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), rtol=1e-6, atol=1e-9)


SIGNS = R.choice([-1.0, 1.0], size=6)
VECTORS = [R.standard_normal((4, 3)) for _ in range(3)]
CLASS_WEIGHTS = R.uniform(0.5, 2.0, size=5)
MODULE_CASES = {
    "MarginRankingLoss": (
        lambda ns: ns.MarginRankingLoss(margin=0.2),
        (R.standard_normal(6), R.standard_normal(6), SIGNS),
    ),
    "HingeEmbeddingLoss": (
        lambda ns: ns.HingeEmbeddingLoss(margin=0.9, reduction="sum"),
        (R.uniform(0.1, 2.0, size=6), SIGNS.astype(np.int64)),
    ),
    "SoftMarginLoss": (lambda ns: ns.SoftMarginLoss(), (R.standard_normal(6), SIGNS)),
    "MultiLabelSoftMarginLoss": (
        lambda ns: ns.MultiLabelSoftMarginLoss(
            weight=(chainrule if ns is nn else torch).tensor(CLASS_WEIGHTS)
        ),
        (R.standard_normal((3, 5)), R.integers(0, 2, size=(3, 5)).astype(float)),
    ),
    "MultiMarginLoss": (
        lambda ns: ns.MultiMarginLoss(p=2, margin=0.5, reduction="none"),
        (R.standard_normal((4, 5)), R.integers(0, 5, size=4)),
    ),
    "MultiLabelMarginLoss": (
        lambda ns: ns.MultiLabelMarginLoss(),
        (R.standard_normal((2, 4)), np.array([[1, 3, -1, 0], [2, -1, 1, 1]])),
    ),
    "PoissonNLLLoss": (
        lambda ns: ns.PoissonNLLLoss(log_input=False, full=True),
        # counts from 1: at 0 torch's target gradient is nan, chainrule's finite
        (R.uniform(0.5, 2.0, size=(3, 4)), R.integers(1, 6, size=(3, 4)).astype(float)),
    ),
    "GaussianNLLLoss": (
        lambda ns: ns.GaussianNLLLoss(full=True),
        (R.standard_normal((3, 4)), R.standard_normal((3, 4)), R.uniform(0.5, 2.0, size=(3, 1))),
    ),
    "TripletMarginLoss": (lambda ns: ns.TripletMarginLoss(margin=1.5, swap=True), VECTORS),
    "TripletMarginWithDistanceLoss": (
        lambda ns: ns.TripletMarginWithDistanceLoss(margin=0.5, reduction="none"),
        VECTORS,
    ),
}


@pytest.mark.parametrize("name", sorted(MODULE_CASES))
def test_loss_module_matches_torch(name):
    make_module, arrays = MODULE_CASES[name]
    _run_both(make_module, arrays, 1 if name == "SoftMarginLoss" else len(arrays))


def test_poisson_nll_full_adds_stirling_only_above_one():
    rates = np.array([0.5, 1.5, 2.0, 3.0])
    counts = np.array([0.0, 1.0, 2.0, 7.0])
    mine = F.poisson_nll_loss(
        chainrule.tensor(rates), chainrule.tensor(counts), False, True, reduction="none"
    )
    theirs = TF.poisson_nll_loss(
        torch.tensor(rates), torch.tensor(counts), False, True, reduction="none"
    )
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-12)


def test_gaussian_nll_takes_a_float_variance_and_clamps_it_at_eps():
    x, y = R.standard_normal(5), R.standard_normal(5)
    for var in (0.5, 0.0):
        mine = F.gaussian_nll_loss(chainrule.tensor(x), chainrule.tensor(y), var)
        theirs = TF.gaussian_nll_loss(torch.tensor(x), torch.tensor(y), var)
        np.testing.assert_allclose(mine.item(), theirs.item(), rtol=1e-12)


def test_gaussian_nll_rejects_what_torch_rejects():
    x = chainrule.zeros(3, 4)
    with pytest.raises(ValueError, match="negative"):
        F.gaussian_nll_loss(x, x, -chainrule.ones(3, 4))
    with pytest.raises(ValueError, match="incorrect size"):
        F.gaussian_nll_loss(x, x, chainrule.ones(2, 4))
    with pytest.raises(ValueError, match="not valid"):
        F.gaussian_nll_loss(x, x, chainrule.ones(3, 4), reduction="average")


def test_margin_losses_raise_as_torch():
    x = chainrule.randn(3, 4)
    with pytest.raises(ValueError, match="margin must be greater than 0"):
        F.triplet_margin_loss(x, x, x, margin=0)
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        F.triplet_margin_loss(x, x[0], x)
    with pytest.raises(RuntimeError, match="same dimension"):
        F.margin_ranking_loss(x, x, chainrule.ones(4))
    with pytest.raises(RuntimeError, match="target out of range"):
        F.multi_margin_loss(x, chainrule.tensor([0, 4, 1]))
    with pytest.raises(RuntimeError, match="target out of range"):
        F.multilabel_margin_loss(x, chainrule.tensor([[0, 5, 1, 1]] * 3))
    with pytest.raises(ValueError, match="only p == 1 and p == 2"):
        F.multi_margin_loss(x, chainrule.tensor([0, 1, 2]), p=3)
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.soft_margin_loss(x, x, reduction="average")


def test_multilabel_margin_reads_targets_up_to_the_first_minus_one():
    scores = R.standard_normal((2, 4))
    target = np.array([[2, -1, 0, 1], [3, 3, -1, 2]])  # after -1 nothing counts; repeats once
    mine = F.multilabel_margin_loss(
        chainrule.tensor(scores), chainrule.tensor(target), reduction="none"
    )
    theirs = TF.multilabel_margin_loss(torch.tensor(scores), torch.tensor(target), reduction="none")
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-12)
