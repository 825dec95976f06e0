"""The margin, ranking, multi-label and likelihood losses as PyTorch programs use them: each
nn module against torch's (values and input gradients), and the edge rules and errors of the
functional forms. Their derivatives to second order are checked in tests/op_specs/losses_extra.py.
"""

import warnings

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
    with pytest.raises(ValueError, match="not (a )?valid"):
        F.gaussian_nll_loss(x, x, chainrule.ones(3, 4), reduction="average")  # not a valid


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


# ---- CTC -----------------------------------------------------------------------------------

CTC_LOGITS = R.standard_normal((8, 3, 5))
CTC_TARGETS = np.array([[1, 2, 2, 0], [3, 1, 4, 4], [4, 4, 4, 4]])
CTC_INPUT_LENGTHS = [8, 6, 3]  # the third cannot fit its 4 repeated labels: infinite loss
CTC_TARGET_LENGTHS = [3, 2, 4]


def _ctc_both(targets, target_lengths, dtype=np.float64, **kwargs):
    logits = CTC_LOGITS.astype(dtype)
    mine = chainrule.tensor(logits, requires_grad=True)
    theirs = torch.tensor(logits, requires_grad=True)
    ours = F.ctc_loss(
        F.log_softmax(mine, 2),
        chainrule.tensor(targets),
        CTC_INPUT_LENGTHS,
        target_lengths,
        **kwargs,
    )
    reference = TF.ctc_loss(
        torch.log_softmax(theirs, 2),
        torch.tensor(targets),
        CTC_INPUT_LENGTHS,
        target_lengths,
        **kwargs,
    )
    return mine, theirs, ours, reference


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("zero_infinity", [False, True])
def test_ctc_loss_and_gradient_match_torch(reduction, zero_infinity):
    mine, theirs, ours, reference = _ctc_both(
        CTC_TARGETS, CTC_TARGET_LENGTHS, reduction=reduction, zero_infinity=zero_infinity
    )
    np.testing.assert_allclose(ours.detach().numpy(), reference.detach().numpy(), rtol=1e-10)
    ours.sum().backward()
    reference.sum().backward()
    np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_ctc_loss_takes_concatenated_targets_and_float32():
    lengths = CTC_TARGET_LENGTHS[:2] + [1]
    flat = np.concatenate([CTC_TARGETS[i, :n] for i, n in enumerate(lengths)])
    mine, theirs, ours, reference = _ctc_both(flat, lengths, dtype=np.float32, blank=0)
    np.testing.assert_allclose(ours.detach().numpy(), reference.detach().numpy(), rtol=1e-5)
    ours.backward()
    reference.backward()
    np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_ctc_gradient_with_respect_to_log_probs_is_torchs():
    """PyTorch's CTC backward assumes log_softmax inputs (exp(lp) minus the alignment
    posterior): the gradient on log_probs itself is that formula, not the plain derivative."""
    log_probs = np.log(np.full((4, 1, 3), 1 / 3))
    mine = chainrule.tensor(log_probs, requires_grad=True)
    theirs = torch.tensor(log_probs, requires_grad=True)
    nn.CTCLoss(blank=2)(mine, chainrule.tensor([[0, 1]]), [4], [2]).backward()
    torch.nn.CTCLoss(blank=2)(theirs, torch.tensor([[0, 1]]), [4], [2]).backward()
    np.testing.assert_allclose(mine.grad.numpy(), theirs.grad.numpy(), rtol=1e-10)


def test_ctc_loss_unbatched_and_its_errors():
    logits = R.standard_normal((5, 4))
    ours = F.ctc_loss(
        F.log_softmax(chainrule.tensor(logits), 1),
        chainrule.tensor([1, 2]),
        5,
        2,
        reduction="none",
    )
    reference = TF.ctc_loss(
        torch.log_softmax(torch.tensor(logits), 1),
        torch.tensor([1, 2]),
        torch.tensor(5),
        torch.tensor(2),
        reduction="none",
    )
    np.testing.assert_allclose(ours.numpy(), reference.numpy(), rtol=1e-10)
    log_probs = chainrule.zeros(5, 1, 4)
    with pytest.raises(RuntimeError, match="input_lengths"):
        F.ctc_loss(log_probs, chainrule.tensor([[1]]), [6], [1])
    with pytest.raises(RuntimeError, match="blank"):
        F.ctc_loss(log_probs, chainrule.tensor([[1]]), [5], [1], blank=4)


REGRESSION_LOSSES = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"]


@pytest.mark.parametrize("name", REGRESSION_LOSSES)
def test_a_target_that_broadcasts_warns_as_torch_and_the_loss_is_torchs(name):
    """A (N,) prediction against (N, 1) targets broadcasts to (N, N): PyTorch warns ("Using a
    target size ... that is different to the input size"), pointing at the caller; chainrule
    computed the same value silently."""
    values = []
    for lib, functional in ((chainrule, F), (torch, TF)):
        x = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
        y = lib.tensor([[0.0], [1.0], [3.0]])
        with pytest.warns(UserWarning) as caught:
            loss = getattr(functional, name)(x, y)
        loss.backward()
        assert [w.filename for w in caught] == [__file__]
        message = str(caught[0].message).replace(lib.__name__ + ".Size", "Size")
        values.append((message, loss.item(), x.grad.tolist()))
    (ours, our_loss, our_grad), (theirs, their_loss, their_grad) = values
    assert ours == theirs and "Size([3, 1])" in ours
    np.testing.assert_allclose(our_loss, their_loss, rtol=1e-6)
    np.testing.assert_allclose(our_grad, their_grad, rtol=1e-6)


@pytest.mark.parametrize("name", REGRESSION_LOSSES)
def test_a_target_of_the_inputs_shape_does_not_warn(name):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        getattr(F, name)(chainrule.ones(3, 1), chainrule.zeros(3, 1))
        getattr(nn, {"mse_loss": "MSELoss", "l1_loss": "L1Loss"}.get(name, "HuberLoss"))()(
            chainrule.ones(2), chainrule.zeros(2)
        )


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ({"size_average": False}, "sum"),
        ({"reduce": False}, "none"),
        ({"size_average": True, "reduce": True}, "mean"),
    ],
)
def test_the_deprecated_reduction_flags_warn_each_call_as_torch(flags, expected):
    """PyTorch warns on every call given size_average / reduce (its legacy_get_string),
    naming the reduction to use instead; the value is the one that reduction gives."""
    values = np.sin(np.arange(6.0)).reshape(2, 3)
    results = []
    for lib, functional in ((chainrule, F), (torch, TF)):
        x, y = lib.tensor(values), lib.tensor(values * 2)
        for _ in range(2):
            with pytest.warns(UserWarning, match=f"please use reduction='{expected}' instead"):
                out = functional.mse_loss(x, y, **flags)
        results.append(out.numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)


def test_kl_div_warns_that_mean_is_not_the_divergence_as_torch():
    """reduction='mean' (the default) divides by every element, not by the batch: PyTorch
    warns on each call, and not for 'batchmean' or with the legacy flags (those warn their
    own deprecation instead)."""
    for lib, functional in ((chainrule, F), (torch, TF)):
        log_q = lib.log_softmax(lib.tensor([[0.2, 0.5, 0.3]]), -1)
        p = lib.tensor([[0.3, 0.3, 0.4]])
        with pytest.warns(UserWarning, match="reduction: 'mean' divides the total loss by both"):
            functional.kl_div(log_q, p)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            functional.kl_div(log_q, p, reduction="batchmean")
        with pytest.warns(UserWarning) as caught:
            functional.kl_div(log_q, p, size_average=True)
        assert ["size_average" in str(w.message) for w in caught] == [True]
