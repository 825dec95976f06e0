"""Specs for chainrule.ops.linalg."""

import torch

import chainrule
from chainrule.testing import OpSpec

SPECS: list[OpSpec] = []
SPECS += [
    OpSpec("matmul", chainrule.matmul, torch.matmul, shapes=[((2, 3), (3, 4)), ((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((5, 2, 3), (3, 4)), ((2, 1, 2, 3), (4, 3, 2))]),
]
