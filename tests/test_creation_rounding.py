"""arange and linspace round their values as PyTorch's CPU kernels do, bit for bit: a grid's last
bits flow into everything computed from it (ops/ranges.py says how the kernels round)."""

from __future__ import annotations

import random
from fractions import Fraction

import numpy as np
import pytest
import torch

import chainrule
from chainrule.ops import ranges


def _bounds(seed: int, count: int) -> list[tuple[float, float]]:
    generator = random.Random(seed)
    picks = []
    for _ in range(count):
        start = generator.choice([0, 1, -1, 0.1, 3.7, -2.5, generator.uniform(-10, 10)])
        end = generator.choice(
            [1, 10, 0.3, generator.uniform(-10, 10), generator.uniform(-1e4, 1e4)]
        )
        picks.append((start, end))
    return picks


def _same_bits(ours: chainrule.Tensor, theirs: torch.Tensor) -> bool:
    return ours.dtype.is_floating_point == theirs.dtype.is_floating_point and np.array_equal(
        ours.numpy(), theirs.numpy()
    )


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32"])
def test_linspace_rounds_every_value_as_pytorch(dtype):
    generator = random.Random(5)
    for start, end in _bounds(1, 150):
        steps = generator.choice([2, 3, 5, 7, 12, 17, 33, 64, 65, 101, generator.randint(2, 3000)])
        ours = chainrule.linspace(start, end, steps, dtype=getattr(chainrule, dtype))
        theirs = torch.linspace(start, end, steps, dtype=getattr(torch, dtype))
        assert _same_bits(ours, theirs), (start, end, steps)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_arange_rounds_every_value_as_pytorch(dtype):
    generator = random.Random(6)
    for start, _ in _bounds(2, 150):
        step = generator.choice([0.1, 0.01, 0.25, 0.3, -0.7, 1.5, generator.uniform(0.001, 2)])
        end = start + step * generator.randint(1, 1500) + generator.random() * step
        ours = chainrule.arange(start, end, step, dtype=getattr(chainrule, dtype))
        theirs = torch.arange(start, end, step, dtype=getattr(torch, dtype))
        assert _same_bits(ours, theirs), (start, end, step)


def test_long_ranges_are_cut_into_one_chunk_per_thread_as_pytorch():
    previous = torch.get_num_threads()
    torch.set_num_threads(chainrule.get_num_threads())
    try:
        for count in (40_000, 100_003):
            ours = chainrule.arange(0.1, 0.1 + 0.37 * count, 0.37)
            assert _same_bits(ours, torch.arange(0.1, 0.1 + 0.37 * count, 0.37))
            ours = chainrule.linspace(-3.3, 7.1, count, dtype=chainrule.float64)
            assert _same_bits(ours, torch.linspace(-3.3, 7.1, count, dtype=torch.float64))
    finally:
        torch.set_num_threads(previous)


def test_the_fused_multiply_add_rounds_once():
    """Against exact rational arithmetic: scale * n + addend, rounded once to float64."""
    generator = random.Random(7)
    xp = np
    for _ in range(2000):
        scale = generator.uniform(-10, 10) / generator.choice([1, 3, 7, 1e3])
        count = float(generator.randint(0, 2**20))
        addend = generator.uniform(-1e3, 1e3)
        exact = float(Fraction(scale) * Fraction(count) + Fraction(addend))
        assert ranges.fused_multiply_add(xp, scale, xp.asarray([count]), addend)[0] == exact
