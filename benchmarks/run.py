"""Run every workload for chainrule and PyTorch in fresh processes, alternating the two over
several passes, and report the median of each and their ratio.

    python -m benchmarks.run [--only W1,W5] [--passes 3]

Writes benchmarks/results.md. `make bench` runs it with OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE
unset (they slow a current NumPy on this machine), for that command only.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

from benchmarks.workloads import WORKLOADS

HERE = Path(__file__).resolve().parent
FRAMEWORKS = ("chainrule", "torch")


def measure(workload: str, framework: str) -> dict:
    command = [sys.executable, "-m", "benchmarks.workloads", workload, framework]
    output = subprocess.run(command, check=True, capture_output=True, text=True, cwd=HERE.parent)
    return json.loads(output.stdout.strip().splitlines()[-1])


def blas_description() -> str:
    try:
        import numpy  # noqa: F401 - loads the BLAS threadpoolctl reports
        from threadpoolctl import threadpool_info

        info = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        return (
            ", ".join(
                f"{p['internal_api']} {p.get('version')} ({p.get('architecture')}, "
                f"{p['num_threads']} threads)"
                for p in info
            )
            or "unknown"
        )
    except ImportError:
        return "unknown (threadpoolctl not installed)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", default=",".join(WORKLOADS))
    parser.add_argument("--passes", type=int, default=3)
    args = parser.parse_args()
    names = [n.strip() for n in args.only.split(",") if n.strip()]

    results: dict[str, dict[str, list[dict]]] = {n: {f: [] for f in FRAMEWORKS} for n in names}
    for _ in range(args.passes):
        for name in names:
            for framework in FRAMEWORKS:
                results[name][framework].append(measure(name, framework))

    import torch

    lines = [
        f"Measured {datetime.date.today()} on {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores; NumPy BLAS: {blas_description()}; PyTorch {torch.__version__} "
        f"with {torch.get_num_threads()} threads. Median of {args.passes} fresh-process passes.",
        "",
        "| workload | chainrule | PyTorch | unit | chainrule / PyTorch |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name in names:
        mine = statistics.median(r["value"] for r in results[name]["chainrule"])
        theirs = statistics.median(r["value"] for r in results[name]["torch"])
        unit = results[name]["chainrule"][0]["unit"]
        lines.append(f"| {name} | {mine:.3g} | {theirs:.3g} | {unit} | {mine / theirs:.2f} |")
    table = "\n".join(lines)
    print(table)
    (HERE / "results.md").write_text(table + "\n")


if __name__ == "__main__":
    main()
