"""Common layers and ops, forward and backward, chainrule beside PyTorch in one process: the
sweep that finds the layers far behind PyTorch, which the workloads (benchmarks/workloads.py)
do not reach. Each case builds the same layer in both libraries, runs forward, a sum and
backward on a float32 input of the case's shape, and reports the best of `--repeats` timings
of `--calls` calls each, and the ratio chainrule / PyTorch (lower is better; `<<<` past 2.5).

    python -m benchmarks.layers [--only GELU,cumsum] [--threads 2] [--repeats 3] [--calls 3]

Results and what was done about them: benchmarks/README.md (fifteenth session).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

import chainrule

FLAG_RATIO = 2.5


# name -> (make(lib): an nn module or a function of one tensor, the input's shape)
CASES: dict[str, tuple[Callable, tuple]] = {
    "Conv2d 3x3 64->64": (lambda l: l.nn.Conv2d(64, 64, 3, padding=1), (16, 64, 32, 32)),
    "Conv2d 1x1 64->128": (lambda l: l.nn.Conv2d(64, 128, 1), (16, 64, 32, 32)),
    "Conv2d 7x7 stride 2": (lambda l: l.nn.Conv2d(3, 32, 7, stride=2, padding=3), (16, 3, 64, 64)),
    "Conv2d depthwise 3x3": (
        lambda l: l.nn.Conv2d(64, 64, 3, padding=1, groups=64),
        (32, 64, 32, 32),
    ),
    "ConvTranspose2d stride 2": (
        lambda l: l.nn.ConvTranspose2d(32, 16, 4, stride=2, padding=1),
        (16, 32, 16, 16),
    ),
    "Conv1d k5": (lambda l: l.nn.Conv1d(64, 64, 5, padding=2), (32, 64, 256)),
    "BatchNorm2d": (lambda l: l.nn.BatchNorm2d(64), (32, 64, 32, 32)),
    "GroupNorm 8": (lambda l: l.nn.GroupNorm(8, 64), (32, 64, 32, 32)),
    "LayerNorm 512": (lambda l: l.nn.LayerNorm(512), (64, 128, 512)),
    "InstanceNorm2d": (lambda l: l.nn.InstanceNorm2d(64, affine=True), (16, 64, 32, 32)),
    "MaxPool2d 3 stride 2": (lambda l: l.nn.MaxPool2d(3, 2, 1), (32, 64, 32, 32)),
    "AvgPool2d 2": (lambda l: l.nn.AvgPool2d(2), (32, 64, 32, 32)),
    "AdaptiveAvgPool2d 1": (lambda l: l.nn.AdaptiveAvgPool2d(1), (32, 64, 32, 32)),
    "Upsample bilinear x2": (
        lambda l: l.nn.Upsample(scale_factor=2, mode="bilinear"),
        (16, 32, 32, 32),
    ),
    "Upsample nearest x2": (lambda l: l.nn.Upsample(scale_factor=2), (16, 32, 32, 32)),
    "Softmax": (lambda l: l.nn.Softmax(-1), (64, 128, 512)),
    "GELU": (lambda l: l.nn.GELU(), (64, 128, 512)),
    "SiLU": (lambda l: l.nn.SiLU(), (64, 128, 512)),
    "Dropout": (lambda l: l.nn.Dropout(0.1), (64, 128, 512)),
    "MultiheadAttention 8 heads": (
        lambda l: (lambda m: lambda x: m(x, x, x)[0])(
            l.nn.MultiheadAttention(256, 8, batch_first=True)
        ),
        (16, 128, 256),
    ),
    "TransformerEncoderLayer": (
        lambda l: l.nn.TransformerEncoderLayer(256, 8, 1024, dropout=0.0, batch_first=True),
        (16, 64, 256),
    ),
    "PixelShuffle 2": (lambda l: l.nn.PixelShuffle(2), (16, 64, 32, 32)),
    "Linear 1024": (lambda l: l.nn.Linear(1024, 1024), (256, 1024)),
    "Bilinear": (lambda l: (lambda b: lambda x: b(x, x))(l.nn.Bilinear(64, 64, 64)), (256, 64)),
    "cross_entropy 1000 classes": (
        lambda l: lambda x: l.nn.functional.cross_entropy(x, l.arange(x.shape[0]) % 1000),
        (512, 1000),
    ),
    "cumsum": (lambda l: lambda x: l.cumsum(x, 1), (256, 4096)),
    "sort": (lambda l: lambda x: l.sort(x, -1)[0], (256, 4096)),
    "topk 10": (lambda l: lambda x: l.topk(x, 10, -1)[0], (256, 4096)),
    "index_select": (lambda l: lambda x: x.index_select(0, l.arange(0, 256, 2)), (256, 4096)),
    "gather": (
        lambda l: lambda x: x.gather(1, (l.arange(4096).repeat(256, 1) * 7) % 4096),
        (256, 4096),
    ),
    "scatter_add": (
        lambda l: (
            lambda x: l.zeros(256, 512).scatter_add(1, l.arange(4096).repeat(256, 1) % 512, x)
        ),
        (256, 4096),
    ),
    "einsum bij,bjk": (lambda l: lambda x: l.einsum("bij,bjk->bik", x, x), (64, 128, 128)),
    "norm over the last dim": (lambda l: lambda x: x.norm(dim=-1), (64, 128, 512)),
    "where": (lambda l: lambda x: l.where(x > 0, x, x * 0.1), (64, 128, 512)),
}


def _best_ms(step: Callable, repeats: int, calls: int) -> float:
    step()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            step()
        best = min(best, (time.perf_counter() - start) / calls * 1e3)
    return best


def _step(layer: Callable, x: object) -> Callable:
    def step() -> None:
        x.grad = None
        out = layer(x)
        out = out[0] if isinstance(out, tuple) else out
        out.float().sum().backward()

    return step


def measure(name: str, repeats: int = 3, calls: int = 3) -> dict[str, float]:
    """ms per forward and backward of one case in each library, and their ratio."""
    import torch

    make, shape = CASES[name]
    values = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    result: dict[str, float] = {}
    for library in (chainrule, torch):
        library.manual_seed(0)
        layer = make(library)
        x = library.tensor(values, requires_grad=True)

        result[library.__name__] = _best_ms(_step(layer, x), repeats, calls)
    result["ratio"] = result["chainrule"] / result["torch"]
    return result


def main(argv: list[str] | None = None) -> None:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated case names")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--calls", type=int, default=3)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    chainrule.set_num_threads(args.threads)
    names = args.only.split(",") if args.only else list(CASES)
    for name in names:
        figures = measure(name, args.repeats, args.calls)
        flag = "  <<<" if figures["ratio"] > FLAG_RATIO else ""
        print(
            f"{name:28s} chainrule {figures['chainrule']:8.2f} ms  torch {figures['torch']:8.2f} "
            f"ms  ratio {figures['ratio']:5.2f}{flag}"
        )


if __name__ == "__main__":
    main()
