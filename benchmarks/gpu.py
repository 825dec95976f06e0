"""GPU figures: W3 and W7 at GPU-sized batches, chainrule on CuPy against PyTorch CUDA eager,
in the same process, alternating the two over several passes; medians and ratios.

    python -m benchmarks.gpu [--device cuda] [--passes 3]

Run by benchmarks/gpu.sh on a machine with a GPU. `--device fake` runs the same code on the
fake device (CuPy's rules on the CPU, tiny sizes) so the script is tested without a GPU.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from benchmarks.workloads import mlp_setup, transformer_setup

# (name, batch, shapes) at the sizes the GPU issue names, and tiny ones for the fake device.
GPU_SIZES = {"W3": (4096, (784, 1024, 1024, 10)), "W7": (64, 256, 512)}
FAKE_SIZES = {"W3": (64, (32, 64, 64, 10)), "W7": (2, 16, 32)}


def _synchronize(lib) -> Callable[[], None]:
    """Wait for the device's queue: a step's time is its work, not its launch."""
    return lib.cuda.synchronize if lib.cuda.is_available() else (lambda: None)


def _steps_per_second(step: Callable, synchronize: Callable, repeats: int, warmup: int) -> float:
    for _ in range(warmup):
        step()
    synchronize()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        synchronize()
        times.append(time.perf_counter() - start)
    return 1.0 / statistics.median(times)


def measure(workload: str, lib, device: str, sizes: dict, repeats: int) -> float:
    if workload == "W3":
        batch, widths = sizes["W3"]
        step = mlp_setup(lib, batch, widths, device=device)
    else:
        batch, seq, d = sizes["W7"]
        step = transformer_setup(lib, batch=batch, seq=seq, d=d, device=device)
    return _steps_per_second(step, _synchronize(lib), repeats, warmup=3)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args(argv)

    import torch

    import chainrule

    sizes = FAKE_SIZES if args.device == "fake" else GPU_SIZES
    torch_device = "cuda" if args.device == "cuda" else "cpu"
    print(
        f"| workload | chainrule ({args.device}) steps/s | torch ({torch_device}) steps/s | ratio |"
    )
    print("|---|---|---|---|")
    for workload in ("W3", "W7"):
        ours, theirs = [], []
        for _ in range(args.passes):
            ours.append(measure(workload, chainrule, args.device, sizes, args.repeats))
            theirs.append(measure(workload, torch, torch_device, sizes, args.repeats))
        mine, reference = statistics.median(ours), statistics.median(theirs)
        spread = f"{min(ours):.1f}-{max(ours):.1f} / {min(theirs):.1f}-{max(theirs):.1f}"
        print(
            f"| {workload} {sizes[workload]} | {mine:.2f} | {reference:.2f} | "
            f"{mine / reference:.2f} (ranges {spread}) |",
            flush=True,
        )


if __name__ == "__main__":
    main()
