"""The workloads, each written once per framework, timed in the process that runs them.

`python -m benchmarks.workloads W1 chainrule` prints one JSON line: {"value": ..., "unit": ...}.
Every workload is measured as the median of several timed repeats after a warm-up.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np


def _median_seconds(step: Callable[[], object], repeats: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _framework(name: str):
    if name == "torch":
        import torch

        return torch
    import chainrule

    return chainrule


# ---- W1: per-op overhead ------------------------------------------------------------------

W1_OPS = 200


def w1(framework: str) -> dict:
    """(8,) tensor with grad; 200 ops alternating y*1.0001, y+0.001, tanh(y); sum; backward."""
    lib = _framework(framework)
    x = lib.ones(8, requires_grad=True)

    def step() -> None:
        y = x
        for i in range(W1_OPS):
            kind = i % 3
            if kind == 0:
                y = y * 1.0001
            elif kind == 1:
                y = y + 0.001
            else:
                y = lib.tanh(y)
        y.sum().backward()

    seconds = _median_seconds(step, repeats=200, warmup=20)
    return {"value": seconds / W1_OPS * 1e6, "unit": "us/op", "better": "lower"}


# ---- W5: matmul gradient over the NumPy floor ------------------------------------------------


def w5(framework: str) -> dict:
    """A, B 1024x1024 float32; loss = (A @ B).sum(); grads of both; over 3 raw NumPy matmuls."""
    rng = np.random.default_rng(0)
    a_np = rng.standard_normal((1024, 1024)).astype(np.float32)
    b_np = rng.standard_normal((1024, 1024)).astype(np.float32)
    floor = _median_seconds(lambda: (a_np @ b_np, a_np @ b_np.T, a_np.T @ b_np), repeats=10)
    lib = _framework(framework)
    a = lib.tensor(a_np, requires_grad=True)
    b = lib.tensor(b_np, requires_grad=True)

    def step() -> None:
        a.grad = None
        b.grad = None
        (a @ b).sum().backward()

    seconds = _median_seconds(step, repeats=10)
    return {
        "value": seconds / floor,
        "unit": "x 3 NumPy matmuls",
        "better": "lower",
        "seconds": seconds,
        "floor_seconds": floor,
    }


WORKLOADS = {"W1": w1, "W5": w5}


def main(argv: list[str]) -> None:
    name, framework = argv
    if framework == "torch":
        import torch

        torch.manual_seed(0)
    print(json.dumps(WORKLOADS[name](framework)))


if __name__ == "__main__":
    main(sys.argv[1:])
