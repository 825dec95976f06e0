"""Specs for the losses composed in chainrule.ops.losses_extra (and the triplet losses in
nn.functional), each against torch.nn.functional. Random inputs keep every hinge away from
its kink, so finite differences see one smooth piece."""

import numpy as np
import torch
import torch.nn.functional as TF  # noqa: N812

import chainrule
import chainrule.nn.functional as F
from chainrule.testing import OpSpec

R = np.random.default_rng(4321)
CLASS_WEIGHT = R.uniform(0.5, 2.0, size=5)


def _mine(array, like):
    return chainrule.tensor(array, dtype=like.dtype, device=like.device)


def _theirs(array, like):
    return torch.tensor(array, dtype=like.dtype)


def _same(
    name, function_name, shapes=(), make_inputs=None, domains=None, second_order=True, **kwargs
):
    """F.<function_name>(*inputs, **kwargs) against torch's function of that name."""
    return OpSpec(
        name,
        lambda *inputs: getattr(F, function_name)(*inputs, **kwargs),
        lambda *inputs: getattr(TF, function_name)(*inputs, **kwargs),
        shapes=list(shapes) or [()],
        make_inputs=make_inputs,
        domains=domains,
        second_order=second_order,
    )


def _signs(rng, shape):
    return rng.choice([-1.0, 1.0], size=shape)


def _ranking(rng):
    return rng.standard_normal(6), rng.standard_normal(6), _signs(rng, 6)


def _hinge(rng):
    distances = rng.uniform(0.1, 2.0, size=(3, 4))
    distances[np.abs(distances - 1.2) < 0.05] += 0.1  # away from the margin's kink
    return distances, rng.choice([-1, 1], size=(3, 4))  # integers: no derivative to take


SIGNS = _signs(R, (3, 4))


def _multilabel(rng):
    return rng.standard_normal((3, 5)), rng.integers(0, 2, size=(3, 5)).astype(float)


def _counts(rng):
    return rng.uniform(-1.0, 1.0, size=(3, 4)), rng.integers(0, 5, size=(3, 4)).astype(float)


def _rates(rng):
    # counts from 2: at 0 PyTorch's target gradient is nan (0 * log(0) in the masked Stirling
    # term; chainrule's is finite), and at 1 the Stirling term jumps (finite differences)
    return rng.uniform(0.5, 3.0, size=(3, 4)), rng.integers(2, 6, size=(3, 4)).astype(float)


def _multi_class(rng):
    return rng.standard_normal((4, 5)), rng.integers(0, 5, size=4)


def _multi_label_targets(rng):
    scores = rng.standard_normal((3, 5))
    target = np.array([[3, 0, -1, 1, 4], [1, 2, 4, 0, 3], [-1, 2, 2, 0, 1]])
    return scores, target


SPECS = [
    _same("margin_ranking_loss_case2", "margin_ranking_loss", make_inputs=_ranking, margin=0.3),
    _same("hinge_embedding_loss_case2", "hinge_embedding_loss", make_inputs=_hinge, margin=1.2),
    _same(
        "hinge_embedding_loss_none",
        "hinge_embedding_loss",
        make_inputs=_hinge,
        margin=1.2,
        reduction="none",
    ),
    OpSpec(  # PyTorch does not differentiate soft_margin_loss's target: a constant here
        "soft_margin_loss_case2",
        lambda x: F.soft_margin_loss(x, _mine(SIGNS, x)),
        lambda x: TF.soft_margin_loss(x, _theirs(SIGNS, x)),
        shapes=[((3, 4),)],
    ),
    _same(
        "multilabel_soft_margin_loss_case2", "multilabel_soft_margin_loss", make_inputs=_multilabel
    ),
    OpSpec(
        "multilabel_soft_margin_loss_weight",
        lambda x, t: F.multilabel_soft_margin_loss(x, t, _mine(CLASS_WEIGHT, x), reduction="sum"),
        lambda x, t: TF.multilabel_soft_margin_loss(
            x, t, _theirs(CLASS_WEIGHT, x), reduction="sum"
        ),
        shapes=[()],
        make_inputs=_multilabel,
    ),
    _same("poisson_nll_loss_case2", "poisson_nll_loss", make_inputs=_counts),
    _same(
        "poisson_nll_loss_rate_full",
        "poisson_nll_loss",
        make_inputs=_rates,
        log_input=False,
        full=True,
        reduction="none",
    ),
    _same(
        "gaussian_nll_loss_case2",
        "gaussian_nll_loss",
        shapes=[((3, 4), (3, 4), (3, 4)), ((3, 4), (3, 4), (3,)), ((2, 3), (2, 3), (2, 1))],
        domains=[(-2.0, 2.0), (-2.0, 2.0), (0.5, 2.0)],
    ),
    _same(
        "gaussian_nll_loss_full_sum",
        "gaussian_nll_loss",
        shapes=[((3, 4), (3, 4), (3, 4))],
        domains=[(-2.0, 2.0), (-2.0, 2.0), (0.5, 2.0)],
        full=True,
        reduction="sum",
    ),
    _same(
        "triplet_margin_loss_case2",
        "triplet_margin_loss",
        shapes=[((4, 3), (4, 3), (4, 3)), ((3,), (3,), (3,))],
        margin=2.0,
    ),
    _same(
        "triplet_margin_loss_p1_swap",
        "triplet_margin_loss",
        shapes=[((4, 3), (4, 3), (4, 3))],
        margin=2.0,
        p=1,
        swap=True,
        reduction="none",
    ),
    OpSpec(
        "triplet_margin_with_distance_loss",
        lambda a, p, n: F.triplet_margin_with_distance_loss(
            a, p, n, distance_function=lambda x, y: 1 - F.cosine_similarity(x, y), margin=0.5
        ),
        lambda a, p, n: TF.triplet_margin_with_distance_loss(
            a, p, n, distance_function=lambda x, y: 1 - TF.cosine_similarity(x, y), margin=0.5
        ),
        shapes=[((4, 3), (4, 3), (4, 3))],
    ),
    # PyTorch has no second derivative of multi_margin_loss or multilabel_margin_loss to
    # compare with (piecewise linear in the input: chainrule's is the zero of the hinge's)
    _same("multi_margin_loss", "multi_margin_loss", make_inputs=_multi_class, second_order=False),
    OpSpec(
        "multi_margin_loss_p2_weight",
        lambda x, t: F.multi_margin_loss(
            x, t, p=2, margin=0.7, weight=_mine(CLASS_WEIGHT, x), reduction="none"
        ),
        lambda x, t: TF.multi_margin_loss(
            x, t, p=2, margin=0.7, weight=_theirs(CLASS_WEIGHT, x), reduction="none"
        ),
        shapes=[()],
        make_inputs=_multi_class,
        second_order=False,
    ),
    _same(
        "multi_margin_loss_unbatched",
        "multi_margin_loss",
        make_inputs=lambda rng: (rng.standard_normal(5), np.array(2)),
        second_order=False,
        reduction="none",
    ),
    _same(
        "multilabel_margin_loss",
        "multilabel_margin_loss",
        make_inputs=_multi_label_targets,
        second_order=False,
    ),
    _same(
        "multilabel_margin_loss_unbatched",
        "multilabel_margin_loss",
        make_inputs=lambda rng: (rng.standard_normal(4), np.array([2, 0, -1, 3])),
        second_order=False,
        reduction="none",
    ),
]


def _ctc_inputs(rng):
    return (rng.standard_normal((6, 2, 4)),)


def _ctc(lib_functional, log_softmax, tensor):
    def loss(logits):
        targets = tensor(np.array([[1, 3, 3], [2, 1, 0]]), logits)
        return lib_functional.ctc_loss(log_softmax(logits, 2), targets, [6, 5], [3, 2])

    return loss


# CTC through log_softmax, where PyTorch's CTC gradient is the true derivative. First order
# only: PyTorch has no derivative of the CTC gradient (chainrule's raises, as PyTorch's), and
# no forward-mode rule.
SPECS.append(
    OpSpec(
        "ctc_loss",
        _ctc(F, F.log_softmax, lambda a, like: chainrule.tensor(a, device=like.device)),
        _ctc(TF, torch.log_softmax, lambda a, like: torch.tensor(a)),
        shapes=[()],
        make_inputs=_ctc_inputs,
        second_order=False,
        forward_mode=False,
    )
)
