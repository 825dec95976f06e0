"""chainrule eager, chainrule.compile and PyTorch eager on one workload, in CPU time per step,
one thread each, alternating in one process: a steadier measure than wall time when other work
shares the cores (wall-time runs of `benchmarks.run` on a busy host spread by 10x or more).

    OPENBLAS_NUM_THREADS=1 python -m benchmarks.cpu_compare W2 [--rounds 3] [--torch-compile]

prints one JSON line: per framework the median over rounds of CPU ms per step, and the spread.
`--torch-compile` adds PyTorch's torch.compile of the same step (its first call, the C++
compilation, can take minutes on a busy host; "torch first call s" reports it).
"""

from __future__ import annotations

import json
import statistics
import sys
import time

import chainrule
from benchmarks import workloads

STEPS = {"W1": 100, "W2": 100, "W3": 10, "W4": 5, "W7": 10, "W8": 3}


def _setup(name: str, lib):
    if name == "W1":
        return workloads.w1_setup(lib)
    return workloads.SETUPS[name](lib)


def _cpu_ms(step, count: int) -> float:
    start = time.process_time()
    for _ in range(count):
        step()
    return (time.process_time() - start) / count * 1e3


def main(argv: list[str]) -> None:
    import torch

    torch.set_num_threads(1)
    name = argv[0]
    rounds = int(argv[argv.index("--rounds") + 1]) if "--rounds" in argv else 3
    torch.manual_seed(0)
    steps = {
        "chainrule": _setup(name, chainrule),
        "compiled": chainrule.compile(_setup(name, chainrule)),
        "torch": _setup(name, torch),
    }
    start = time.perf_counter()
    steps["compiled"]()
    first = time.perf_counter() - start
    torch_first = None
    if "--torch-compile" in argv:
        steps["torch.compile"] = torch.compile(_setup(name, torch))
        start = time.perf_counter()
        steps["torch.compile"]()
        torch_first = time.perf_counter() - start
    count = STEPS[name]
    for step in steps.values():
        for _ in range(max(2, count // 10)):
            step()
    times: dict[str, list[float]] = {k: [] for k in steps}
    for number in range(rounds):
        order = list(steps) if number % 2 == 0 else list(steps)[::-1]
        for key in order:
            times[key].append(_cpu_ms(steps[key], count))
    result = {
        k: {"median": statistics.median(v), "min": min(v), "max": max(v)} for k, v in times.items()
    }
    result["first call s"] = first
    if torch_first is not None:
        result["torch first call s"] = torch_first
    print(json.dumps({name: result}))


if __name__ == "__main__":
    main(sys.argv[1:])
