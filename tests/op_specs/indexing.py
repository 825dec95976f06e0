"""Specs for chainrule.ops.indexing."""

import torch

import chainrule
from chainrule.testing import OpSpec

SPECS: list[OpSpec] = []
