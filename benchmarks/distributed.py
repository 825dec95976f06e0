"""Data-parallel scaling: W3 (784-1024-1024-10 MLP, SGD) at a global batch of 512, trained with
DistributedDataParallel on 2 ranks (each 256 rows) against 1 rank, one BLAS thread per rank.

    python -m benchmarks.distributed [--rounds 30] [--no-bucket-view] [--comm-hook {none,fp16,bf16}]
    python -m benchmarks.distributed --separate [--steps 20] [--passes 3] [--ceiling] [...]
                                     [--quick]

prints one JSON line: steps/s on 1 and 2 ranks, the scaling efficiency (steps/s on 2 ranks /
(2 x steps/s on 1 rank), 1.0 being perfect), the time each rank of the 2-rank run spent per step
waiting on communication (the all-reduces backward could not hide), the same efficiency
without DDP (each rank trains the bare model on its rows, no communication at all: the
efficiency the machine allows before any communication), and the load average around the run.

**Interleaved (the default).** One `mpiexec -n 2` job steps four trainers in turn, a few steps
each, round after round: DDP on 2 ranks (256 rows each), the bare model on rank 0 alone (512
rows; rank 1 sleeps in a barrier meanwhile, leaving its core idle as a 1-rank run does), DDP
on a group of rank 0 alone (512 rows), and the bare model on 2 ranks without DDP. Each round
gives one efficiency (its 1-rank time over twice its 2-rank time, a 2-rank block lasting from
the barrier before it until the slower rank ends); the figure is the median over the rounds,
with the quartiles. On a VM whose speed moves
within seconds (this one: separate runs a few seconds apart disagree by up to 2x), comparing
1-rank and 2-rank steps taken within the same second is what measures the code and not the
drift. The headline's 1-rank trainer has no DDP wrapper at all, so any cost DDP has on one rank
cannot flatter it; the efficiency against DDP on one rank (the same program on 1 and 2 ranks,
as `--separate` measures) is reported beside it.

**Separate (`--separate`).** Each pass is a 1-rank and a 2-rank `mpiexec` job of DDP, one after
the other (the order flips every pass), and reports their median steps after warm-up steps;
the figures are the medians over the passes, with the CPU-time efficiency (CPU seconds per step
on 1 rank / (2 x the slower rank's on 2 ranks)) and the best-step efficiency (the fastest step
of each run). `--ceiling` adds the same pair without DDP. This is the first method the figure
was recorded with; on a drifting VM its passes scatter widely.

DDP runs with `gradient_as_bucket_view=True`, as a user after speed would (each `.grad` is a
view of its bucket, so the averaged gradients need no copy back; `--no-bucket-view` measures
the default).

`--comm-hook fp16` (or `bf16`) registers PyTorch's fp16_compress_hook (bf16_compress_hook) on
the DDP runs: the gradients travel as 16-bit floats, half the bytes. That changes the numerics
(each rank's gradient is rounded to 16 bits), so it is opt-in, as in PyTorch, and the headline
figure is the default, `none`. The JSON says which hook ran.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import common

GLOBAL_BATCH = 512
ROOT = Path(__file__).resolve().parents[1]


HOOKS = {"none": None, "fp16": "fp16_compress_hook", "bf16": "bf16_compress_hook"}


def _library(name: str) -> Any:
    """chainrule or torch: the two spell everything this benchmark calls the same."""
    import importlib

    return importlib.import_module(name)


def _w3_model(lib: Any) -> Any:
    """W3's MLP with the benchmarks' fixed initial parameters."""
    nn = lib.nn
    layers: list = []
    for fan_in, fan_out in zip(common.W3_SIZES[:-1], common.W3_SIZES[1:]):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    model = nn.Sequential(*layers[:-1])
    shapes = [(name, tuple(p.shape)) for name, p in model.named_parameters()]
    arrays = common.initial_parameters(shapes)
    model.load_state_dict({name: lib.from_numpy(a) for name, a in arrays.items()})
    return model


def _ddp(lib: Any, model: Any, view: bool, hook: str, group: Any = None) -> Any:
    from importlib import import_module

    wrapped = lib.nn.parallel.DistributedDataParallel(
        model, process_group=group, gradient_as_bucket_view=view
    )
    if HOOKS[hook] is not None:
        hooks = import_module(f"{lib.__name__}.distributed.algorithms.ddp_comm_hooks.default_hooks")
        wrapped.register_comm_hook(group, getattr(hooks, HOOKS[hook]))  # state: its group
    return wrapped


def _trainer(lib: Any, model: Any, rows: slice, scale: float) -> Callable[[], None]:
    """One SGD step of `model` on rows `rows` of the global batch, its summed loss times
    `scale` (distributed.batch_share's convention: the mean over the global batch)."""
    optimizer = lib.optim.SGD(model.parameters(), lr=common.LEARNING_RATE)
    inputs, labels = common.classification_data(GLOBAL_BATCH, common.W3_SIZES[:1], 10)
    x, y = lib.from_numpy(inputs[rows]), lib.from_numpy(labels[rows])
    cross_entropy = lib.nn.functional.cross_entropy

    def step() -> None:
        optimizer.zero_grad()
        loss = cross_entropy(model(x), y, reduction="sum") * scale
        loss.backward()
        optimizer.step()

    return step


def _init(lib: Any, rendezvous: str | None) -> Any:
    """The library's process group over this mpiexec job: chainrule's MPI backend, or
    PyTorch's gloo with a file rendezvous (mpiexec tells each rank its place)."""
    dist = lib.distributed
    if lib.__name__ == "torch":
        rank, size = int(os.environ["PMI_RANK"]), int(os.environ["PMI_SIZE"])
        dist.init_process_group(
            "gloo", init_method=f"file://{rendezvous}", rank=rank, world_size=size
        )
    else:
        dist.init_process_group()
    lib.set_num_threads(1)
    return dist


def interleaved_worker(
    library: str, rounds: int, steps: int, warmup: int, view: bool, hook: str, rendezvous: str
) -> None:
    """Both ranks: `rounds` rounds of `steps` steps of each trainer in turn (the order rotates
    every round), after `warmup` such rounds; rank 0 prints the per-block times as JSON."""
    lib = _library(library)
    dist = _init(lib, rendezvous)
    rank, size = dist.get_rank(), dist.get_world_size()
    alone = dist.new_group([0])
    share = GLOBAL_BATCH // size  # 2 ranks: 256 rows each (distributed.batch_share's split)
    rows, scale = slice(rank * share, (rank + 1) * share), size / GLOBAL_BATCH
    trainers = {
        "ddp": _trainer(lib, _ddp(lib, _w3_model(lib), view, hook), rows, scale),
        "bare": _trainer(lib, _w3_model(lib), rows, scale),
    }
    if rank == 0:
        trainers["one"] = _trainer(lib, _w3_model(lib), slice(None), 1 / GLOBAL_BATCH)
        one_ddp = _ddp(lib, _w3_model(lib), view, hook, group=alone)
        trainers["one ddp"] = _trainer(lib, one_ddp, slice(None), 1 / GLOBAL_BATCH)
    waited_so_far = getattr(dist, "wait_seconds", lambda: 0.0)  # chainrule's counter only
    names = ["ddp", "one", "bare", "one ddp"]
    blocks: dict[str, list] = {name: [] for name in names}
    waits: list[float] = []
    for index in range(warmup + rounds):
        turn = index % len(names)
        for name in names[turn:] + names[:turn]:
            dist.barrier()
            waited, start = waited_so_far(), time.perf_counter()
            if name in trainers:  # rank 1 has no 1-rank trainers: it waits in the next barrier
                for _ in range(steps):
                    trainers[name]()
            end = time.perf_counter()
            if index >= warmup:
                blocks[name].append((start, end))
                if name == "ddp":
                    waits.append((waited_so_far() - waited) / steps)
    everyone: list = [None] * size
    dist.all_gather_object(everyone, {"blocks": blocks, "waits": waits})
    if rank == 0:
        print(json.dumps(everyone), flush=True)
    dist.destroy_process_group()
    if library == "torch":
        # PyTorch 2.13's gloo now and then aborts at interpreter exit once all is done
        # (tests/distributed/hooks_script.py): leave without the interpreter's teardown.
        sys.stdout.flush()
        os._exit(0)


def interleaved_figures(ranks: list[dict], steps: int) -> dict[str, Any]:
    """The JSON figures from both ranks' block times (perf_counter is the machine's monotonic
    clock, the same in both processes)."""
    median = statistics.median

    def block_seconds(name: str) -> list[float]:
        pairs = zip(*(rank["blocks"][name] for rank in ranks if rank["blocks"][name]))
        return [max(end for _, end in block) - min(start for start, _ in block) for block in pairs]

    one, ddp, bare, one_ddp = map(block_seconds, ("one", "ddp", "bare", "one ddp"))
    efficiency = [a / (2 * b) for a, b in zip(one, ddp)]
    of_ddp = [a / (2 * b) for a, b in zip(one_ddp, ddp)]
    ceiling = [a / (2 * b) for a, b in zip(one, bare)]

    def spread(values: list[float]) -> dict:
        quartiles = (
            statistics.quantiles(values, n=4, method="inclusive") if len(values) > 1 else values * 3
        )
        return common.row(
            median(values),
            "x ideal",
            "higher",
            quartiles=[round(q, 3) for q in quartiles],
            rounds=len(values),
        )

    label = "W3 DDP global batch 512"
    return {
        f"{label}, 1 rank": common.row(steps / median(one), "steps/s", "higher"),
        f"{label}, 1 rank under DDP": common.row(steps / median(one_ddp), "steps/s", "higher"),
        f"{label}, 2 ranks": common.row(steps / median(ddp), "steps/s", "higher"),
        "scaling efficiency": spread(efficiency),
        "scaling efficiency against 1 rank under DDP": spread(of_ddp),
        "comm wait per step, 2 ranks": common.row(
            [round(median(rank["waits"]) * 1e3, 2) for rank in ranks],
            "ms (rank 0, rank 1)",
            "lower",
        ),
        "without DDP (no communication): scaling efficiency": spread(ceiling),
        "method": "interleaved: 1-rank and 2-rank steps in turn in one job, median over rounds",
    }


def run_interleaved(
    rounds: int, steps: int, warmup: int, view: bool, hook: str, library: str = "chainrule"
) -> dict:
    load_before = os.getloadavg()[0]
    command = ["--interleaved-worker", library, "--rounds", str(rounds), "--steps", str(steps)]
    command += ["--warmup", str(warmup), "--comm-hook", hook]
    if not view:
        command.append("--no-bucket-view")
    with tempfile.TemporaryDirectory() as scratch:
        command += ["--rendezvous", os.path.join(scratch, "rendezvous")]
        result = interleaved_figures(_run_job(2, command), steps)
    result["library"] = library
    result["gradient_as_bucket_view"] = view
    result["comm hook"] = HOOKS[hook] or "none (DDP's all-reduce, float32)"
    load_after = os.getloadavg()[0]
    result["load average (1 min) before, after"] = [round(load_before, 2), round(load_after, 2)]
    result["cores"] = os.cpu_count()
    return result


def worker(steps: int, warmup: int, mode: str, hook: str = "none") -> None:
    """One rank: time `steps` train steps on this rank's share of the global batch. `mode`:
    "view" (DDP with gradient_as_bucket_view), "copy" (DDP's default), "bare" (no DDP);
    `hook`: the communication hook DDP runs (a key of HOOKS)."""
    import chainrule

    dist = _init(chainrule, None)
    model = _w3_model(chainrule)
    if mode != "bare":
        model = _ddp(chainrule, model, mode == "view", hook)
    rows, scale = dist.batch_share(GLOBAL_BATCH)
    step = _trainer(chainrule, model, rows, scale)

    for _ in range(warmup):
        step()
    dist.barrier()
    times, cpu_times, waits = [], [], []
    for _ in range(steps):
        waited = dist.wait_seconds()
        start, cpu_start = time.perf_counter(), time.process_time()
        step()
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
        waits.append(dist.wait_seconds() - waited)
    median = statistics.median
    mine = {
        "step_s": median(times),
        "best_step_s": min(times),
        "cpu_s": median(cpu_times),
        "wait_s": median(waits),
    }
    everyone: list = [None] * dist.get_world_size()
    dist.all_gather_object(everyone, mine)
    if dist.get_rank() == 0:
        print(json.dumps(everyone), flush=True)
    dist.destroy_process_group()


def _mpiexec() -> str:
    beside = Path(sys.executable).parent / "mpiexec"
    return str(beside) if beside.exists() else "mpiexec"


def _run_job(ranks: int, arguments: list[str]) -> list[dict]:
    """`mpiexec -n ranks python -m benchmarks.distributed *arguments`, one BLAS thread per
    rank: the JSON its rank 0 printed last."""
    environment = dict(os.environ)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        environment[name] = "1"
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "src"), str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    command = [_mpiexec(), "-n", str(ranks), sys.executable, "-m", "benchmarks.distributed"]
    command += arguments
    result = subprocess.run(
        command, capture_output=True, text=True, env=environment, cwd=ROOT, timeout=600
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def run_ranks(ranks: int, steps: int, warmup: int, mode: str, hook: str = "none") -> list[dict]:
    arguments = ["--worker", mode, "--steps", str(steps), "--warmup", str(warmup)]
    return _run_job(ranks, arguments + ["--comm-hook", hook])


def _efficiencies(runs: dict[int, list[dict]]) -> dict[str, float]:
    """One pass's figures from its 1-rank and 2-rank runs (a 2-rank step goes at the pace of
    the slower rank)."""
    one, two = runs[1][0], runs[2]
    return {
        "one": 1 / one["step_s"],
        "two": 1 / max(rank["step_s"] for rank in two),
        "wall": one["step_s"] / (2 * max(rank["step_s"] for rank in two)),
        "best": one["best_step_s"] / (2 * max(rank["best_step_s"] for rank in two)),
        "cpu": one["cpu_s"] / (2 * max(rank["cpu_s"] for rank in two)),
    }


def measure(
    steps: int, warmup: int, passes: int, view: bool, ceiling: bool, hook: str = "none"
) -> dict:
    """`passes` pairs of runs (1 rank, 2 ranks; the order flips every pass, so a drift in the
    machine's load hits both alike), with `ceiling` a pair without DDP right after each; the
    medians over the passes, and each pass's efficiency."""
    mode = "view" if view else "copy"
    load_before = os.getloadavg()[0]
    figures: list[dict] = []
    bare: list[dict] = []
    waits = []
    for index in range(passes):
        order = (1, 2) if index % 2 == 0 else (2, 1)
        runs = {ranks: run_ranks(ranks, steps, warmup, mode, hook) for ranks in order}
        figures.append(_efficiencies(runs))
        waits.append([rank["wait_s"] * 1e3 for rank in runs[2]])
        if ceiling:
            bare.append(_efficiencies({r: run_ranks(r, steps, warmup, "bare") for r in order}))
    load_after = os.getloadavg()[0]
    median = statistics.median

    def efficiency(key: str, among: list[dict]) -> dict:
        values = [pass_[key] for pass_ in among]
        return common.row(median(values), "x ideal", "higher", passes=[round(v, 3) for v in values])

    label = "W3 DDP global batch 512"
    result = {
        f"{label}, 1 rank": common.row(median(f["one"] for f in figures), "steps/s", "higher"),
        f"{label}, 2 ranks": common.row(median(f["two"] for f in figures), "steps/s", "higher"),
        "scaling efficiency": efficiency("wall", figures),
        "CPU-time scaling efficiency": efficiency("cpu", figures),
        "best-step scaling efficiency": efficiency("best", figures),
        "comm wait per step, 2 ranks": common.row(
            [round(median(w[r] for w in waits), 2) for r in range(2)],
            "ms (rank 0, rank 1)",
            "lower",
        ),
    }
    if ceiling:
        result["without DDP (no communication): scaling efficiency"] = efficiency("wall", bare)
        result["without DDP: best-step scaling efficiency"] = efficiency("best", bare)
    result["gradient_as_bucket_view"] = view
    result["comm hook"] = HOOKS[hook] or "none (DDP's all-reduce, float32)"
    result["load average (1 min) before, after"] = [round(load_before, 2), round(load_after, 2)]
    result["cores"] = os.cpu_count()
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30, help="interleaved rounds (default)")
    parser.add_argument(
        "--separate", action="store_true", help="separate 1-rank and 2-rank jobs, in passes"
    )
    parser.add_argument("--steps", type=int, default=None, help="steps per run (per block)")
    parser.add_argument("--warmup", type=int, default=None)
    parser.add_argument("--passes", type=int, default=3, help="with --separate")
    parser.add_argument(
        "--no-bucket-view",
        action="store_true",
        help="DDP's default gradient_as_bucket_view=False (averages copied back into .grad)",
    )
    parser.add_argument(
        "--ceiling", action="store_true", help="with --separate: also time runs without DDP"
    )
    parser.add_argument(
        "--comm-hook",
        choices=tuple(HOOKS),
        default="none",
        help="DDP communication hook: fp16/bf16 compress the gradients (changes the numerics)",
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run of a step or two")
    parser.add_argument("--worker", choices=("view", "copy", "bare"), help=argparse.SUPPRESS)
    parser.add_argument(
        "--torch", action="store_true", help="also PyTorch's DDP (gloo), interleaved, same job size"
    )
    parser.add_argument(
        "--interleaved-worker", choices=("chainrule", "torch"), help=argparse.SUPPRESS
    )
    parser.add_argument("--rendezvous", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    view = not args.no_bucket_view
    separate = args.separate or args.worker is not None
    steps = args.steps if args.steps is not None else (20 if separate else 3)
    warmup = args.warmup if args.warmup is not None else (3 if separate else 2)
    rounds, passes = args.rounds, args.passes
    if args.quick:
        steps, warmup, rounds, passes = 1, 0, 2, 1
    if args.worker:
        worker(steps, warmup, args.worker, args.comm_hook)
    elif args.interleaved_worker:
        interleaved_worker(
            args.interleaved_worker, rounds, steps, warmup, view, args.comm_hook, args.rendezvous
        )
    elif separate:
        print(json.dumps(measure(steps, warmup, passes, view, args.ceiling, args.comm_hook)))
    else:
        print(json.dumps(run_interleaved(rounds, steps, warmup, view, args.comm_hook)))
        if args.torch:
            figures = run_interleaved(rounds, steps, warmup, view, args.comm_hook, "torch")
            del figures["comm wait per step, 2 ranks"]  # PyTorch does not count it
            print(json.dumps(figures))


if __name__ == "__main__":
    main()
