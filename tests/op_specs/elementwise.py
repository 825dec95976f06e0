"""Specs for chainrule.ops.elementwise."""

import torch

import chainrule
from chainrule.testing import OpSpec

BINARY_SHAPES = [((2, 3), (2, 3)), ((2, 3), (3,)), ((4, 1), (1, 5)), ((), (2,)), ((), ())]
UNARY_SHAPES = [((2, 3),), ((5,),), ((),)]

SPECS = [
    OpSpec("add", chainrule.add, torch.add, shapes=BINARY_SHAPES),
    OpSpec("sub", chainrule.sub, torch.sub, shapes=BINARY_SHAPES),
    OpSpec("mul", chainrule.mul, torch.mul, shapes=BINARY_SHAPES),
    OpSpec("div", chainrule.div, torch.div, shapes=BINARY_SHAPES, domains=[(-2.0, 2.0), (0.5, 2.0)]),
    OpSpec("tanh", chainrule.tanh, torch.tanh, shapes=UNARY_SHAPES),
    OpSpec("exp", chainrule.exp, torch.exp, shapes=UNARY_SHAPES),
    OpSpec("log", chainrule.log, torch.log, shapes=UNARY_SHAPES, domains=[(0.5, 3.0)]),
    OpSpec("pow", chainrule.pow, torch.pow, shapes=BINARY_SHAPES, domains=[(0.5, 2.0), (-1.5, 1.5)]),
]
