"""What every workload shares: timing, peak memory, the workload shapes, the data and the
initial parameters, so chainrule, PyTorch and the NumPy floor start from identical numbers.

Only NumPy is imported here: a chainrule process must never load torch (it would distort the
import time and the memory figures), and the other way round.
"""

from __future__ import annotations

import resource
import statistics
import sys
import time
from collections.abc import Callable, Iterable

import numpy as np

# ---- shapes --------------------------------------------------------------------------------

W2_BATCH, W2_SIZES = 128, (64, 256, 256, 10)
W3_BATCH, W3_SIZES = 256, (784, 1024, 1024, 10)
W4_BATCH, W4_CLASSES = 64, 10
W4_CHANNELS, W4_KERNEL, W4_PAD = (1, 16, 32), 5, 2
W7_BATCH, W7_SEQ, W7_MODEL, W7_HEADS, W7_VOCAB = 16, 64, 128, 4, 65
W8_BATCH, W8_SEQ, W8_EMBED, W8_HIDDEN, W8_VOCAB = 32, 50, 64, 256, 65
LEARNING_RATE = 0.01


# ---- timing and memory ---------------------------------------------------------------------


def median_seconds(step: Callable[[], object], repeats: int, warmup: int = 3) -> float:
    """The median wall time of `repeats` calls of `step`, after `warmup` untimed calls."""
    for _ in range(warmup):
        step()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def budget(repeats: int, warmup: int, quick: bool) -> tuple[int, int]:
    """(repeats, warmup), cut to one timed call, no warm-up, for smoke runs (their figures
    mean nothing)."""
    return (1, 0) if quick else (repeats, warmup)


def peak_rss_mib() -> float:
    """The peak resident set size of this process so far (ru_maxrss: KiB on Linux, bytes on
    macOS), in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def row(value: float, unit: str, better: str, **extra: object) -> dict:
    """One figure of a workload: `better` is "higher" or "lower"."""
    return {"value": value, "unit": unit, "better": better, **extra}


def train_figures(
    name: str, step: Callable[[], object], repeats: int, warmup: int, quick: bool, memory: bool
) -> dict:
    """Steps/s of a train step, and with `memory` the process's peak RSS after the steps."""
    repeats, warmup = budget(repeats, warmup, quick)
    figures = {name: row(1 / median_seconds(step, repeats, warmup), "steps/s", "higher")}
    if memory:
        figures[f"{name} peak RSS"] = row(peak_rss_mib(), "MiB", "lower")
    return figures


# ---- data and initial parameters -----------------------------------------------------------


def classification_data(
    batch: int, features: tuple[int, ...], classes: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A float32 input batch and int64 labels, the same for every framework."""
    rng = np.random.default_rng(seed)
    inputs = rng.standard_normal((batch, *features)).astype(np.float32)
    labels = rng.integers(0, classes, size=batch).astype(np.int64)
    return inputs, labels


def initial_parameters(
    named_shapes: Iterable[tuple[str, tuple[int, ...]]], seed: int = 1
) -> dict[str, np.ndarray]:
    """float32 parameters by name, drawn in order: matrices and kernels uniform in
    +-1/sqrt(fan_in) (PyTorch's default bound), 1-D weights (norm scales) ones, biases zeros."""
    rng = np.random.default_rng(seed)
    parameters = {}
    for name, shape in named_shapes:
        if len(shape) >= 2:
            bound = 1 / np.sqrt(np.prod(shape[1:]))
            parameters[name] = rng.uniform(-bound, bound, size=shape).astype(np.float32)
        elif name.endswith("weight"):
            parameters[name] = np.ones(shape, dtype=np.float32)
        else:
            parameters[name] = np.zeros(shape, dtype=np.float32)
    return parameters


def mlp_shapes(sizes: tuple[int, ...]) -> list[tuple[str, tuple[int, ...]]]:
    """Parameter names and shapes of Sequential(Linear, ReLU, Linear, ReLU, ..., Linear)."""
    shapes = []
    for layer, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        shapes += [(f"{2 * layer}.weight", (fan_out, fan_in)), (f"{2 * layer}.bias", (fan_out,))]
    return shapes


def cnn_shapes() -> list[tuple[str, tuple[int, ...]]]:
    """Parameter names and shapes of the W4 Sequential (conv, relu, pool, conv, relu, pool,
    flatten, linear)."""
    c0, c1, c2 = W4_CHANNELS
    k = W4_KERNEL
    return [
        ("0.weight", (c1, c0, k, k)),
        ("0.bias", (c1,)),
        ("3.weight", (c2, c1, k, k)),
        ("3.bias", (c2,)),
        ("7.weight", (W4_CLASSES, c2 * 7 * 7)),
        ("7.bias", (W4_CLASSES,)),
    ]
