"""Specs for chainrule.ops.shape."""

import torch

import chainrule
from chainrule.testing import OpSpec

SPECS: list[OpSpec] = []
