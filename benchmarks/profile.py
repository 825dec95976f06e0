"""Where each chainrule workload's step spends its time: the top entries of a cProfile run,
and the time inside the ops' forwards (the raw NumPy/BLAS work) against the whole step, so a
note on a missed speed target can quote the measured figure and its profile.

    python -m benchmarks.profile [--only W2,W4] [--steps N] [--top 12] [--out PATH]

Writes benchmarks/profiles.md (or PATH). Each workload is built as the benchmark builds it
(benchmarks.workloads), warmed up, timed with perf_counter over N steps (by default about a
second's worth), run under cProfile for N more, then run N more times with every Op
subclass's `forward` wrapped in a timer. W6 is profiled as three steps: hvp, jvp and grad.
`make profile` runs it with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, as `make bench`
does. Run it with -m: run as a script, this file would shadow the standard `profile` module.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import gc
import os
import platform
import pstats
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

import chainrule
from benchmarks import workloads
from benchmarks.run import ENVIRONMENT, blas_description, cpu_model
from chainrule.ops.op import Op

HERE = Path(__file__).resolve().parent
CHAINRULE_DIR = Path(chainrule.__file__).resolve().parent

PASS_SECONDS = 1.0  # the default length of each of the three passes' plain steps
WARM_UP_SECONDS = 0.3
MIN_STEPS = 5  # a slow step still gets a sample that one noisy step cannot dominate

HOW_TO_READ = (
    "How to read: ms/step is plain wall time, measured before profiling; array work is "
    "measured in a later pass and shared out of that pass's own step time. *Own* time is spent "
    "in the function itself, *cumulative* time includes its callees; both are per step and in "
    "% of the profiled total (cProfile slows Python code, not C code, so Python's share reads "
    "high). *Op forwards* is the time inside each Op's `forward` (and `fused_jvp`): the raw "
    "NumPy/BLAS work; the rest of the step is Python overhead (graph, engine, modules) plus "
    "raw-array work outside ops (optimizer updates). Names without a file are C functions."
)


# ---- the steps profiled --------------------------------------------------------------------

Step = Callable[[], object]
Described = tuple[Step, str]  # a step closure and a line saying what it computes


def w1_step() -> Described:
    return workloads.w1_setup(chainrule), _summary(workloads.w1)


def train_step(name: str) -> Callable[[], Described]:
    def build() -> Described:
        return workloads.SETUPS[name](chainrule), _summary(workloads.WORKLOADS[name])

    return build


def w6_step(entry: str) -> Callable[[], Described]:
    """One closure of workloads.w6_setup, described by the API it uses."""

    def build() -> Described:
        closures = workloads.w6_setup("chainrule")
        api = closures.get(f"{entry}_api", "func.grad")
        return closures[entry], f"W6 {entry} by {api}: f(x) = sum(tanh(W @ x) ** 2), W 512x512."

    return build


def _summary(workload: Callable) -> str:
    return (workload.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")


@dataclass(frozen=True)
class Target:
    name: str
    build: Callable[[], Described]


TARGETS = [
    Target("W1", w1_step),
    Target("W2", train_step("W2")),
    Target("W3", train_step("W3")),
    Target("W4", train_step("W4")),
    Target("W6 hvp", w6_step("hvp")),
    Target("W6 jvp", w6_step("jvp")),
    Target("W6 grad", w6_step("grad")),
    Target("W7", train_step("W7")),
    Target("W8", train_step("W8")),
]
WORKLOAD_NAMES = sorted({t.name.split()[0] for t in TARGETS})


# ---- timing the ops' forwards --------------------------------------------------------------


def op_classes() -> list[type]:
    """Every subclass of Op loaded so far, found with an explicit stack."""
    found: list[type] = []
    stack = [Op]
    while stack:
        for subclass in stack.pop().__subclasses__():
            if subclass not in found:
                found.append(subclass)
                stack.append(subclass)
    return found


class ForwardTimer:
    """Seconds and calls inside each op's `forward` (and `fused_jvp`, which forward mode runs
    instead), by op. Only the outermost is timed, so a forward that applies other ops is
    counted once."""

    def __init__(self) -> None:
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.calls: Counter[str] = Counter()
        self._depth = 0

    def wrap(self, original: Callable, label: str) -> Callable:
        def timed(*args, **kwargs):
            if self._depth:
                return original(*args, **kwargs)
            self._depth += 1
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - start
                self.calls[label] += 1
                self._depth -= 1

        return timed

    @contextmanager
    def installed(self) -> Iterator[ForwardTimer]:
        """Wrap the forwards of every Op subclass, and put the originals back afterwards. All
        originals are read before any wrapper is set, so an inherited forward is never wrapped
        twice."""
        missing = object()
        originals = []
        for cls in op_classes():
            for attribute in ("forward", "fused_jvp"):
                function = getattr(cls, attribute)
                own = cls.__dict__.get(attribute, missing)
                if function is not None:
                    originals.append((cls, attribute, function, own))
        try:
            for cls, attribute, function, _ in originals:
                label = f"{_module_file(cls.__module__)}:{cls.__qualname__}.{attribute}"
                setattr(cls, attribute, staticmethod(self.wrap(function, label)))
            yield self
        finally:
            for cls, attribute, _, own in originals:
                if own is missing:
                    delattr(cls, attribute)
                else:
                    setattr(cls, attribute, own)


# ---- naming functions ----------------------------------------------------------------------

BUILTIN_PATTERNS = [
    (re.compile(r"^<method '(\w+)' of '([\w.]+)' objects>$"), r"\2.\1"),
    (re.compile(r"^<built-in (?:method|function) ([\w.]+)>$"), r"\1"),
]


@cache
def _short_path(filename: str) -> str:
    """Relative to chainrule's package, else to the sys.path entry holding it (so NumPy's
    files read numpy/...), else the name itself."""
    path = Path(filename)
    if not path.is_absolute():
        return filename
    path = path.resolve()
    if path.is_relative_to(CHAINRULE_DIR):
        return path.relative_to(CHAINRULE_DIR).as_posix()
    roots = [Path(entry or ".").resolve() for entry in sys.path]
    holding = [root for root in roots if path.is_relative_to(root)]
    if holding:
        return path.relative_to(max(holding, key=lambda root: len(root.parts))).as_posix()
    return path.name


def _module_file(module_name: str) -> str:
    module = sys.modules.get(module_name)
    filename = getattr(module, "__file__", None)
    return _short_path(filename) if filename else module_name


@cache
def _qualified_names(filename: str) -> dict[int, str]:
    """First line -> qualified name (Class.method) of every function in a source file, since
    cProfile only knows the bare name and many ops share `forward` and `vjp`."""
    try:
        code = compile(Path(filename).read_text(), filename, "exec")
    except (OSError, SyntaxError, ValueError):
        return {}
    names: dict[int, str] = {}
    stack = [code]
    while stack:
        current = stack.pop()
        names.setdefault(current.co_firstlineno, getattr(current, "co_qualname", current.co_name))
        stack.extend(c for c in current.co_consts if hasattr(c, "co_firstlineno"))
    return names


def function_name(key: tuple[str, int, str]) -> str:
    """`module:function` for a pstats key, e.g. `ops/linalg.py:Matmul.forward`."""
    filename, line, name = key
    if filename == "~":
        for pattern, replacement in BUILTIN_PATTERNS:
            if pattern.match(name):
                return pattern.sub(replacement, name)
        return name
    qualified = _qualified_names(filename).get(line, name) if name != "<module>" else name
    return f"{_short_path(filename)}:{qualified}"


@cache
def _in_chainrule(filename: str) -> bool:
    return filename != "~" and Path(filename).resolve().is_relative_to(CHAINRULE_DIR)


def is_chainrule(key: tuple[str, int, str]) -> bool:
    return _in_chainrule(key[0])


# ---- one workload --------------------------------------------------------------------------


@dataclass
class Profile:
    name: str
    summary: str
    steps: int
    step_seconds: float  # plain perf_counter, no profiler: the measured figure
    timed_step_seconds: float  # the same, in the pass that timed the forwards
    stats: pstats.Stats
    forward_seconds: dict[str, float]
    forward_calls: dict[str, int]

    @property
    def profiled_seconds(self) -> float:
        return self.stats.total_tt

    @property
    def array_seconds(self) -> float:
        """Seconds per step inside op forwards."""
        return sum(self.forward_seconds.values()) / self.steps


def warm_up(step: Step) -> float:
    """Run `step` until warm (two calls, then at least three more and WARM_UP_SECONDS); the
    mean seconds of the later calls."""
    step()
    step()
    calls = 0
    start = time.perf_counter()
    while calls < 3 or time.perf_counter() - start < WARM_UP_SECONDS:
        step()
        calls += 1
    return (time.perf_counter() - start) / calls


def profile(target: Target, steps: int | None) -> Profile:
    """Warm up, time N plain steps, profile N more, time the forwards of N more. N defaults to
    about PASS_SECONDS of plain steps, so every workload gets a comparable sample."""
    step, summary = target.build()
    warm_seconds = warm_up(step)
    if steps is None:
        steps = max(MIN_STEPS, round(PASS_SECONDS / warm_seconds))
    start = time.perf_counter()
    for _ in range(steps):
        step()
    step_seconds = (time.perf_counter() - start) / steps

    # A collection of garbage made before this workload (a long-lived process: the test
    # suite's worker) would be billed to whichever function triggered it: collect it first.
    gc.collect()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(steps):
        step()
    profiler.disable()
    stats = pstats.Stats(profiler)

    timer = ForwardTimer()
    with timer.installed():
        start = time.perf_counter()
        for _ in range(steps):
            step()
        timed_step_seconds = (time.perf_counter() - start) / steps
    return Profile(
        target.name,
        summary,
        steps,
        step_seconds,
        timed_step_seconds,
        stats,
        dict(timer.seconds),
        dict(timer.calls),
    )


# ---- the report ----------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    milliseconds = seconds * 1e3
    return f"{milliseconds:.3g}" if milliseconds < 1000 else f"{milliseconds:.0f}"


def _percent(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def _calls(calls: float) -> str:
    return f"{calls:.3g}"


def array_work(result: Profile) -> str:
    """Against the time of the same steps (the pass that timed the forwards), so a noisy
    machine cannot push the share past 100% as a comparison across passes could."""
    array, step = result.array_seconds, result.timed_step_seconds
    return f"array work {_ms(array)} ms of {_ms(step)} ms per step ({_percent(array, step)})"


def array_work_line(result: Profile) -> str:
    return f"{result.name}: {array_work(result)}; plain step {_ms(result.step_seconds)} ms"


def function_table(result: Profile, entries: list, top: int) -> list[str]:
    """The first `top` pstats entries as rows, per step and in % of the profiled total."""
    total, steps = result.profiled_seconds, result.steps
    lines = [
        "| # | function | calls/step | own ms/step | own % | cum ms/step | cum % |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for rank, (key, (_, calls, own, cumulative, _)) in enumerate(entries[:top], 1):
        lines.append(
            f"| {rank} | `{function_name(key)}` | {_calls(calls / steps)} | "
            f"{_ms(own / steps)} | {_percent(own, total)} | {_ms(cumulative / steps)} | "
            f"{_percent(cumulative, total)} |"
        )
    return lines


def own_time_table(result: Profile, top: int) -> list[str]:
    entries = sorted(result.stats.stats.items(), key=lambda item: item[1][2], reverse=True)
    return function_table(result, entries, top)


def cumulative_table(result: Profile, top: int) -> list[str]:
    """chainrule's own functions only: the question is which of ours the time goes through."""
    entries = [item for item in result.stats.stats.items() if is_chainrule(item[0])]
    entries.sort(key=lambda item: item[1][3], reverse=True)
    return function_table(result, entries, top)


def forwards_table(result: Profile, top: int) -> list[str]:
    ranked = sorted(result.forward_seconds.items(), key=lambda item: item[1], reverse=True)
    steps, step = result.steps, result.timed_step_seconds
    lines = [
        "| # | op | calls/step | ms/step | % of step |",
        "| --- | --- | --- | --- | --- |",
    ]
    for rank, (label, seconds) in enumerate(ranked[:top], 1):
        per_step = seconds / steps
        lines.append(
            f"| {rank} | `{label}` | {_calls(result.forward_calls[label] / steps)} | "
            f"{_ms(per_step)} | {_percent(per_step, step)} |"
        )
    rest = ranked[top:]
    rest_seconds = sum(seconds for _, seconds in rest) / steps
    rest_calls = sum(result.forward_calls[label] for label, _ in rest) / steps
    lines.append(
        f"| | {len(rest)} other ops | {_calls(rest_calls)} | {_ms(rest_seconds)} | "
        f"{_percent(rest_seconds, step)} |"
    )
    lines.append(
        f"| | **all op forwards** | {_calls(sum(result.forward_calls.values()) / steps)} | "
        f"**{_ms(result.array_seconds)}** | **{_percent(result.array_seconds, step)}** |"
    )
    return lines


def section(result: Profile, top: int) -> list[str]:
    profiled = result.profiled_seconds / result.steps
    return [
        f"## {result.name}",
        "",
        result.summary,
        "",
        f"**{_ms(result.step_seconds)} ms per step**, plain ({result.steps} steps). "
        f"**{array_work(result).capitalize()}**, in the steps that timed the op forwards. "
        f"{_ms(profiled)} ms per step under cProfile.",
        "",
        f"### Top {top} by own time",
        "",
        *own_time_table(result, top),
        "",
        f"### Top {top} chainrule functions by cumulative time",
        "",
        *cumulative_table(result, top),
        "",
        "### Op forwards",
        "",
        *forwards_table(result, top),
        "",
    ]


def header(command: str, load_before: float) -> list[str]:
    environment = ", ".join(f"{k}={os.environ[k]}" for k in ENVIRONMENT if k in os.environ)
    return [
        "# chainrule profiles",
        "",
        f"- Date: {datetime.datetime.now().isoformat(timespec='minutes')}",
        f"- CPU: {cpu_model()}, {os.cpu_count()} logical cores",
        f"- NumPy {np.__version__} BLAS: {blas_description()}",
        f"- Python {platform.python_version()}; environment: {environment or 'no BLAS/OMP vars'}",
        f"- Load average (1 min) before the run: {load_before:.2f}",
        f"- Command: `{command}`",
        "",
        HOW_TO_READ,
        "",
    ]


def summary_table(results: list[Profile]) -> list[str]:
    lines = [
        "| workload | steps | ms/step | ms/step, forwards timed | array work ms/step | "
        "array % | ms/step under cProfile |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        lines.append(
            f"| {r.name} | {r.steps} | {_ms(r.step_seconds)} | {_ms(r.timed_step_seconds)} | "
            f"{_ms(r.array_seconds)} | {_percent(r.array_seconds, r.timed_step_seconds)} | "
            f"{_ms(r.profiled_seconds / r.steps)} |"
        )
    return [*lines, ""]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--only", default=",".join(WORKLOAD_NAMES), help="e.g. W2,W4 (W6 is hvp, jvp and grad)"
    )
    parser.add_argument("--steps", type=int, help="steps per pass (default: about 1 s of steps)")
    parser.add_argument("--top", type=int, default=12, help="rows per table")
    parser.add_argument("--out", type=Path, default=HERE / "profiles.md")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in WORKLOAD_NAMES]
    if unknown:
        parser.error(f"unknown workload(s) {unknown}; known: {', '.join(WORKLOAD_NAMES)}")
    if args.steps is not None and args.steps < 1:
        parser.error("--steps must be at least 1")

    command = " ".join(["python -m benchmarks.profile", *(sys.argv[1:] if argv is None else argv)])
    load_before = os.getloadavg()[0]
    results = []
    for target in TARGETS:
        if target.name.split()[0] in names:
            results.append(profile(target, args.steps))
            print(array_work_line(results[-1]), file=sys.stderr)
    lines = [*header(command, load_before), *summary_table(results)]
    for result in results:
        lines += section(result, args.top)
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
