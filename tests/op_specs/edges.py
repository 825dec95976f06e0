"""Edge inputs the other families' random draws never produce (issue 17): reductions of a
single element and of nothing, and pooling windows whose maxima tie. The derivative there is a
convention (which tied element gets the gradient; nan for a variance of one element with
correction 1), compared with PyTorch's."""

import numpy as np
import torch
import torch.nn.functional as TF  # noqa: N812

import chainrule
import chainrule.nn.functional as F
from chainrule.testing import OpSpec


def _reduction(name, fn, torch_fn, shapes, **options):
    return OpSpec(name, fn, torch_fn, shapes=shapes, finite_differences=False, **options)


_ONE = [((1,),), ((1, 1),)]
_EMPTY = [((0,),), ((3, 0),)]

SINGLE_ELEMENT = [
    _reduction("var_one_element", lambda x: x.var(), lambda x: x.var(), _ONE),
    _reduction("std_one_element", lambda x: x.std(), lambda x: x.std(), _ONE, second_order=False),
    _reduction(
        "var_one_element_correction_0",
        lambda x: x.var(correction=0),
        lambda x: x.var(correction=0),
        _ONE,
    ),
    _reduction(
        "var_mean_one_element_dim",
        lambda x: chainrule.var_mean(x, dim=-1),
        lambda x: torch.var_mean(x, dim=-1),
        _ONE,
    ),
    _reduction("mean_one_element", lambda x: x.mean(), lambda x: x.mean(), _ONE),
    _reduction("prod_one_element", lambda x: x.prod(), lambda x: x.prod(), _ONE),
    _reduction("amax_one_element", lambda x: x.amax(), lambda x: x.amax(), _ONE),
    _reduction("max_dim_one_element", lambda x: x.max(-1), lambda x: x.max(-1), _ONE),
    _reduction("logsumexp_one_element", lambda x: x.logsumexp(-1), lambda x: x.logsumexp(-1), _ONE),
    _reduction("norm_one_element", lambda x: x.norm(), lambda x: x.norm(), _ONE),
    _reduction("median_one_element", lambda x: x.median(), lambda x: x.median(), _ONE),
    _reduction("cumsum_one_element", lambda x: x.cumsum(-1), lambda x: x.cumsum(-1), _ONE),
    _reduction("softmax_one_element", lambda x: x.softmax(-1), lambda x: x.softmax(-1), _ONE),
]

EMPTY = [
    _reduction("sum_empty", lambda x: x.sum(), lambda x: x.sum(), _EMPTY),
    _reduction("sum_empty_dim", lambda x: x.sum(-1), lambda x: x.sum(-1), _EMPTY),
    _reduction("mean_empty", lambda x: x.mean(), lambda x: x.mean(), _EMPTY),
    _reduction("prod_empty", lambda x: x.prod(), lambda x: x.prod(), _EMPTY),
    _reduction("var_empty", lambda x: x.var(), lambda x: x.var(), _EMPTY),
    _reduction("logsumexp_empty", lambda x: x.logsumexp(-1), lambda x: x.logsumexp(-1), _EMPTY),
    _reduction("norm_empty", lambda x: x.norm(), lambda x: x.norm(), _EMPTY),
    _reduction("cumsum_empty", lambda x: x.cumsum(-1), lambda x: x.cumsum(-1), _EMPTY),
    _reduction("amax_empty_kept_dim", lambda x: x.amax(1), lambda x: x.amax(1), [((0, 3),)]),
]


def _tied(shape):
    """Values from {-1, 0, 1}: most pooling windows hold their maximum more than once."""
    return lambda rng: (rng.integers(-1, 2, size=shape).astype(np.float64),)


def _pooling(name, fn, torch_fn, shape):
    return OpSpec(name, fn, torch_fn, shapes=[()], make_inputs=_tied(shape), **_NO_FD)


_NO_FD = {"finite_differences": False, "second_order": False}

POOLING_TIES = [
    _pooling(
        "max_pool1d_ties", lambda x: F.max_pool1d(x, 3, 2), lambda x: TF.max_pool1d(x, 3, 2), (2, 9)
    ),
    _pooling(
        "max_pool2d_ties",
        lambda x: F.max_pool2d(x, 2),
        lambda x: TF.max_pool2d(x, 2),
        (1, 2, 4, 6),
    ),
    _pooling(
        "max_pool2d_overlapping_ties",
        lambda x: F.max_pool2d(x, 3, stride=1, padding=1),
        lambda x: TF.max_pool2d(x, 3, stride=1, padding=1),
        (1, 1, 4, 5),
    ),
    _pooling(
        "max_pool2d_ties_with_indices",
        lambda x: F.max_pool2d(x, 2, return_indices=True),
        lambda x: TF.max_pool2d(x, 2, return_indices=True),
        (2, 4, 4),
    ),
    _pooling(
        "adaptive_max_pool2d_ties",
        lambda x: F.adaptive_max_pool2d(x, (2, 3)),
        lambda x: TF.adaptive_max_pool2d(x, (2, 3)),
        (1, 2, 5, 7),
    ),
    _pooling(
        "max_pool3d_ties",
        lambda x: F.max_pool3d(x, 2),
        lambda x: TF.max_pool3d(x, 2),
        (1, 1, 4, 4, 4),
    ),
]

SPECS = [*SINGLE_ELEMENT, *EMPTY, *POOLING_TIES]
