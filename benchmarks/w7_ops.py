"""W7's costly ops one at a time, and its whole step, in CPU time at one thread: the figures of
benchmarks/README.md's eleventh session. CPU time, because on a shared host wall time loses
whole scheduler slices (a call reads 2 ms or 14 ms in turn).

    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 python -m benchmarks.w7_ops chainrule
    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 python -m benchmarks.w7_ops torch

prints one JSON line: per op (W7's shapes, float32) CPU ms per call, the mean of 150 calls
after 10 warm-ups, and "W7 step", CPU ms per training step over 30 steps. To compare two
versions, run each from its own checkout (`git archive COMMIT src | tar -x -C DIR`, then
PYTHONPATH=DIR/src) in alternating fresh processes.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable

import numpy as np

from benchmarks import workloads

CALLS = 150
STEPS = 30


def _cpu_ms(call: Callable[[], object], count: int = CALLS) -> float:
    for _ in range(10):
        call()
    start = time.process_time()
    for _ in range(count):
        call()
    return (time.process_time() - start) / count * 1e3


def measure(lib) -> dict:
    """CPU ms per call of each op and of the W7 step, with `lib` chainrule or torch."""
    functional = lib.nn.functional
    rng = np.random.default_rng(0)

    def leaf(array: np.ndarray):
        return lib.tensor(array, requires_grad=True)

    x = rng.standard_normal((16, 64, 128)).astype(np.float32)
    w = rng.standard_normal(128).astype(np.float32)
    x_, w_, b_, g = leaf(x), leaf(w), leaf(w.copy()), lib.tensor(x)
    q, k, v = (rng.standard_normal((16, 4, 64, 32)).astype(np.float32) for _ in range(3))
    q_, k_, v_, g_q = leaf(q), leaf(k), leaf(v), lib.tensor(q)
    scores = leaf(rng.standard_normal((16, 4, 64, 64)).astype(np.float32))
    hidden = (rng.standard_normal((16, 64, 512)) * 3).astype(np.float32)
    hidden_, g_hidden = leaf(hidden), lib.tensor(hidden.copy())

    def norm():
        return functional.layer_norm(x_, (128,), w_, b_)

    def attention():
        return functional.scaled_dot_product_attention(q_, k_, v_, is_causal=True)

    figures = {
        "layer_norm fwd": _cpu_ms(norm),
        "layer_norm fwd+bwd": _cpu_ms(lambda: norm().backward(g)),
        "causal sdpa fwd": _cpu_ms(attention),
        "causal sdpa fwd+bwd": _cpu_ms(lambda: attention().backward(g_q)),
        "softmax fwd": _cpu_ms(lambda: functional.softmax(scores, -1)),
        "gelu fwd+bwd": _cpu_ms(lambda: functional.gelu(hidden_).backward(g_hidden)),
        "W7 step": _cpu_ms(workloads.transformer_setup(lib), STEPS),
    }
    return {name: round(value, 3) for name, value in figures.items()}


def main(argv: list[str]) -> None:
    framework = argv[0] if argv else "chainrule"
    if framework == "torch":
        import torch

        torch.set_num_threads(1)
        lib = torch
    else:
        import chainrule as lib
    load = round(os.getloadavg()[0], 2)
    print(json.dumps({"framework": framework, **measure(lib), "load": load}))


if __name__ == "__main__":
    main(sys.argv[1:])
