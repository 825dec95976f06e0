"""Run every workload for chainrule and PyTorch (and the NumPy floor where there is one, and
chainrule.compile where it applies), each measurement in a fresh process, alternating the
frameworks over several passes; report the median of each figure, its spread (min-max over the
passes), and the ratios chainrule / PyTorch and compiled / PyTorch.

    python -m benchmarks.run [--only W2,W4] [--passes 5] [--quick] [--no-torch-compile]

Prints a markdown table and writes it to benchmarks/results.md, with a bar chart of the
ratios in benchmarks/results.png. `make bench` runs it with OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE unset (they slow a current NumPy on this machine), for that command only.
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

from benchmarks.numpy_floor import FLOORS
from benchmarks.workloads import COMPILED, TORCH_COMPILED, WORKLOADS

HERE = Path(__file__).resolve().parent
FRAMEWORKS = ("chainrule", "torch")
# The workloads whose step chainrule.compile captures (a "compiled" column and first-call rows).
COMPILED_WORKLOADS = ("W1", "W2", "W3", "W4", "W7", "W8")
ENVIRONMENT = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")

# The target for each ratio chainrule / PyTorch, by figure name, as text ("<= 3",
# ">= 0.5"). Figures without one show "-".
# The issues' targets for each ratio (chainrule / PyTorch): the core and nn issues first,
# then the speed issue's stricter ones.
TARGETS: dict[str, str] = {
    "W1": "<= 2.0 (core); <= 1.0 (speed)",
    "W2": ">= 0.7 (nn); >= 0.9 (speed)",
    "W3": ">= 0.9 (nn); >= 1.0 (speed)",
    "W3 peak RSS": "<= 0.5 (speed)",
    "W4": ">= 0.25 (nn); >= 0.5 (speed)",
    "W4 peak RSS": "<= 0.5 (speed)",
    "W5": "chainrule figure <= 1.15 (core); <= 1.05 (speed)",
    "W6 HVP / grad": "chainrule figure <= 3 and <= PyTorch's (func); <= 2.0 (speed)",
    "W6 jvp / f": "chainrule figure <= 3 (func)",
    "W7": ">= 0.4 (nn); >= 0.8 (speed)",
    "import": "<= 0.1 (speed)",
}

# The compile issue's targets for compiled / PyTorch eager (W1 is time per op: 8x faster).
COMPILED_TARGETS: dict[str, str] = {
    "W1": "<= 0.125",
    "W2": ">= 1.5",
    "W3": ">= 1.0",
    "W3 peak RSS": "<= 0.5",
    "W4": ">= 0.8",
    "W4 peak RSS": "<= 0.5",
    "W7": ">= 1.2",
    "W7 first call": "compiled figure < 2 s",
}

RATIO_CONVENTION = (
    "ratio = chainrule / PyTorch, each in the figure's own unit (steps/s / steps/s, "
    "us / us, MiB / MiB, s / s): where higher is better (steps/s) a ratio above 1 means "
    "chainrule is ahead; where lower is better (times, memory) a ratio below 1 means "
    "chainrule is ahead."
)


# ---- measuring -----------------------------------------------------------------------------


def measure(workload: str, framework: str, quick: bool) -> dict | None:
    """One fresh process: the workload's figures, or None (with its error shown) if it failed."""
    command = [sys.executable, "-m", "benchmarks.workloads", workload, framework]
    if quick:
        command.append("--quick")
    done = subprocess.run(command, capture_output=True, text=True, cwd=HERE.parent)
    if done.returncode != 0:
        print(f"{workload} {framework} failed:\n{done.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def torch_compile_available() -> bool:
    """Whether PyTorch is installed (torch.compile also needs a C compiler, which only the
    first measurement finds out: it is then reported as unavailable)."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def collect(
    names: list[str], passes: int, quick: bool, torch_compile: bool = False
) -> tuple[dict, list[str], list[str]]:
    """(figure -> framework -> one entry per successful measurement, the failed measurements,
    notes). The order of chainrule and PyTorch flips every pass, so a drift in machine speed
    hits both alike. With `torch_compile`, PyTorch's torch.compile of the same steps too,
    until it turns out unavailable here."""
    figures: dict[str, dict[str, list[dict]]] = {}
    failures = []
    notes: list[str] = []
    for number in range(passes):
        for name in names:
            order = FRAMEWORKS if number % 2 == 0 else FRAMEWORKS[::-1]
            if name in FLOORS:
                order = (*order, "numpy")
            if name in COMPILED_WORKLOADS:
                order = (*order, COMPILED)
                if torch_compile:
                    order = (*order, TORCH_COMPILED)
            for framework in order:
                print(f"pass {number + 1}/{passes}: {name} {framework}", file=sys.stderr)
                result = measure(name, framework, quick)
                if result is None:
                    failures.append(f"{name} {framework} (pass {number + 1})")
                    continue
                if "unavailable" in result:
                    notes.append(f"- torch.compile is not measured: {result['unavailable']}")
                    torch_compile = False
                    break
                for figure, entry in result.items():
                    figures.setdefault(figure, {}).setdefault(framework, []).append(entry)
    return figures, failures, notes


# ---- the machine ---------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def blas_description() -> str:
    """NumPy's BLAS as threadpoolctl sees it: library, version, kernel, threads."""
    try:
        import numpy  # noqa: F401 - loads the BLAS threadpoolctl reports
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl not installed)"
    info = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    described = [
        f"{p['internal_api']} {p.get('version')}, kernel {p.get('architecture')}, "
        f"{p['num_threads']} threads"
        for p in info
    ]
    return "; ".join(described) or "unknown"


def machine_lines(passes: int, quick: bool, load_before: float) -> list[str]:
    import numpy
    import torch

    environment = ", ".join(f"{k}={os.environ[k]}" for k in ENVIRONMENT if k in os.environ)
    budget = "QUICK SMOKE RUN, figures meaningless" if quick else f"median of {passes} passes"
    return [
        f"- Date: {datetime.datetime.now().isoformat(timespec='minutes')}",
        f"- CPU: {cpu_model()}, {os.cpu_count()} logical cores",
        f"- NumPy {numpy.__version__} BLAS: {blas_description()}",
        f"- PyTorch {torch.__version__}: {torch.get_num_threads()} intra-op threads",
        f"- Python {platform.python_version()}; environment: {environment or 'no BLAS/OMP vars'}",
        f"- Load average (1 min) before / after the run: {load_before:.2f} / "
        f"{os.getloadavg()[0]:.2f} (before the run, well above 0: other work shared the "
        "cores, noisy figures)",
        f"- Each measurement a fresh process, chainrule and PyTorch alternating; {budget}.",
    ]


# ---- reporting -----------------------------------------------------------------------------


def _median(entries: list[dict] | None) -> float | None:
    return statistics.median(e["value"] for e in entries) if entries else None


def _format(value: float | None) -> str:
    return "failed" if value is None else f"{value:.3g}"


def _spread(entries: list[dict] | None) -> str:
    """min-max over the passes, where there are several."""
    if not entries or len(entries) < 2:
        return ""
    values = [e["value"] for e in entries]
    return f" ({min(values):.3g}-{max(values):.3g})"


def _api_note(entries: list[dict]) -> str:
    """The API a workload chose at run time (W6), flagged when the passes disagree."""
    apis = sorted({e["api"] for e in entries if "api" in e})
    if len(apis) > 1:
        return " and ".join(apis) + " (MIXED across passes: the code changed during the run)"
    return apis[0] if apis else ""


def summarize(figures: dict[str, dict[str, list[dict]]]) -> list[dict]:
    rows = []
    for figure, by_framework in figures.items():
        first = next(iter(by_framework.values()))[0]
        mine = _median(by_framework.get("chainrule"))
        theirs = _median(by_framework.get("torch"))
        ratio = mine / theirs if mine is not None and theirs else None
        compiled = _median(by_framework.get(COMPILED))
        inductor = _median(by_framework.get(TORCH_COMPILED))
        rows.append(
            {
                "figure": figure,
                "chainrule": mine,
                "torch": theirs,
                "floor": _median(by_framework.get("numpy")),
                "unit": first["unit"],
                "better": first["better"],
                "ratio": ratio,
                "target": TARGETS.get(figure, "-"),
                "compiled": compiled,
                "compiled_ratio": compiled / theirs if compiled is not None and theirs else None,
                "compiled_target": COMPILED_TARGETS.get(figure, "-"),
                "torch_compiled": inductor,
                "torch_compiled_ratio": (
                    inductor / theirs if inductor is not None and theirs else None
                ),
                "spreads": {k: _spread(v) for k, v in by_framework.items()},
                "chainrule_api": _api_note(by_framework.get("chainrule", [])),
            }
        )
    return rows


def table(rows: list[dict]) -> list[str]:
    lines = [
        "| figure | chainrule | PyTorch | NumPy floor | compiled | unit | better | "
        "ratio chainrule / PyTorch | target | ratio compiled / PyTorch | compiled target | "
        "torch.compile | ratio torch.compile / PyTorch |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        spreads = r.get("spreads", {})
        floor = "" if r["floor"] is None else f"{r['floor']:.3g}"
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.3g}"
        compiled = "" if r.get("compiled") is None else f"{r['compiled']:.3g}"
        compiled += spreads.get(COMPILED, "")
        compiled_ratio = "-" if r.get("compiled_ratio") is None else f"{r['compiled_ratio']:.3g}"
        inductor = "" if r.get("torch_compiled") is None else f"{r['torch_compiled']:.3g}"
        inductor += spreads.get(TORCH_COMPILED, "")
        inductor_ratio = r.get("torch_compiled_ratio")
        inductor_ratio = "-" if inductor_ratio is None else f"{inductor_ratio:.3g}"
        mine = "" if r["chainrule"] is None and compiled else _format(r["chainrule"])
        theirs = "" if r["torch"] is None and compiled else _format(r["torch"])
        lines.append(
            f"| {r['figure']} | {mine}{spreads.get('chainrule', '')} | "
            f"{theirs}{spreads.get('torch', '')} | {floor} | {compiled} | {r['unit']} | "
            f"{r['better']} | {ratio} | {r['target']} | {compiled_ratio} | "
            f"{r.get('compiled_target', '-')} | {inductor} | {inductor_ratio} |"
        )
    return lines


def chart(rows: list[dict], path: Path, title: str) -> bool:
    """A horizontal bar from parity (1) to each ratio on a log axis, green where chainrule is
    ahead; False when matplotlib is missing (pip install matplotlib)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("no chart: matplotlib is not installed (pip install matplotlib)", file=sys.stderr)
        return False
    shown = [r for r in rows if r["ratio"] is not None][::-1]
    figure, axes = plt.subplots(figsize=(9, 0.45 * len(shown) + 1.6))
    ahead = [(r["ratio"] > 1) == (r["better"] == "higher") for r in shown]
    axes.barh(
        [r["figure"] for r in shown],
        [r["ratio"] - 1 for r in shown],
        left=1.0,
        color=["#3a923a" if a else "#c0392b" for a in ahead],
    )
    axes.axvline(1.0, color="black", linewidth=0.8)
    axes.set_xscale("log")
    for index, r in enumerate(shown):
        label = f" {r['ratio']:.3g} ({r['better']} is better)"
        axes.text(max(r["ratio"], 1.0), index, label, va="center", fontsize=8)
    axes.set_xlabel("chainrule / PyTorch, in each figure's unit (log scale)")
    axes.set_title(title, fontsize=9)
    axes.margins(x=0.35)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", default=",".join(WORKLOADS), help="e.g. W2,W4,import")
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="1 pass, smoke-sized repeats")
    parser.add_argument(
        "--no-torch-compile",
        action="store_true",
        help="leave out PyTorch's torch.compile column (its first call compiles C++: minutes "
        "with a cold cache)",
    )
    args = parser.parse_args()
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload(s) {unknown}; known: {', '.join(WORKLOADS)}")
    passes = 1 if args.quick else args.passes

    load_before = os.getloadavg()[0]
    torch_compile = not args.no_torch_compile and torch_compile_available()
    figures, failures, notes = collect(names, passes, args.quick, torch_compile)
    rows = summarize(figures)
    notes += [
        f"- {r['figure']}: chainrule used {r['chainrule_api']}" for r in rows if r["chainrule_api"]
    ]
    if failures:
        notes.append(f"- FAILED measurements (left out of the medians): {', '.join(failures)}")
    lines = [
        "# Benchmark results",
        "",
        *machine_lines(passes, args.quick, load_before),
        *notes,
        "",
        RATIO_CONVENTION,
        "",
        *table(rows),
    ]
    text = "\n".join(lines)
    print(text)
    (HERE / "results.md").write_text(text + "\n")
    title = f"chainrule / PyTorch, {datetime.date.today()}, {cpu_model()}"
    if chart(rows, HERE / "results.png", title):
        print(f"\nchart: {HERE / 'results.png'}", file=sys.stderr)


if __name__ == "__main__":
    main()
