"""Specs for chainrule.ops.reduction."""

import torch

import chainrule
from chainrule.testing import OpSpec

SPECS: list[OpSpec] = []
SPECS += [
    OpSpec("sum", chainrule.sum, torch.sum, shapes=[((2, 3),), ((4,),), ((),)]),
    OpSpec("sum_dim", lambda x: chainrule.sum(x, dim=1, keepdim=True), lambda x: torch.sum(x, dim=1, keepdim=True), shapes=[((2, 3, 4),)]),
    OpSpec("mean", lambda x: x.mean(dim=(0, -1)), lambda x: x.mean(dim=(0, -1)), shapes=[((2, 3, 4),)]),
]
