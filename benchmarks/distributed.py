"""Data-parallel scaling: W3 (784-1024-1024-10 MLP, SGD) at a global batch of 512, trained with
DistributedDataParallel on 1 rank and on 2 ranks (each 256 rows), one BLAS thread per rank.

    python -m benchmarks.distributed [--steps 20] [--passes 3] [--no-bucket-view] [--ceiling]
                                     [--comm-hook {none,fp16,bf16}] [--quick]

prints one JSON line: steps/s on 1 and 2 ranks, the scaling efficiency
(steps/s on 2 ranks / (2 x steps/s on 1 rank), 1.0 being perfect), the time each rank of the
2-rank run spent per step waiting on communication (the all-reduces backward could not hide),
and the machine's load average around the runs (the ranks share the machine's cores with
whatever else runs). On a busy machine the wall-clock figure mostly measures the contention;
the CPU-time efficiency (CPU seconds per step on 1 rank / (2 x the slower rank's on 2 ranks))
is less sensitive to it, though a rank spinning while its peer is descheduled still counts.
Each run is
`mpiexec -n N python -m benchmarks.distributed --worker` and reports the median over its timed
steps, after warm-up steps; the figures are the medians over the passes. The best-step
efficiency (the fastest step of each run) shows what the code does in the least disturbed
moments of a shared machine; it is not the figure the target is set on.

DDP runs with `gradient_as_bucket_view=True`, as a user after speed would (each `.grad` is a
view of its bucket, so the averaged gradients need no copy back; `--no-bucket-view` measures
the default). `--ceiling` adds a pair of runs per pass without DDP (each rank trains the bare
model on its rows, no communication at all): the efficiency the machine allows before any
communication, which separates the cost of the all-reduces from the step's own scaling (the
per-step work that does not halve with the batch, and the two ranks sharing memory bandwidth).

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
import time
from pathlib import Path

from benchmarks import common

GLOBAL_BATCH = 512
ROOT = Path(__file__).resolve().parents[1]


HOOKS = {"none": None, "fp16": "fp16_compress_hook", "bf16": "bf16_compress_hook"}


def worker(steps: int, warmup: int, mode: str, hook: str = "none") -> None:
    """One rank: time `steps` train steps on this rank's share of the global batch. `mode`:
    "view" (DDP with gradient_as_bucket_view), "copy" (DDP's default), "bare" (no DDP);
    `hook`: the communication hook DDP runs (a key of HOOKS)."""
    import chainrule
    import chainrule.distributed as dist
    from chainrule import nn
    from chainrule.distributed.algorithms.ddp_comm_hooks import default_hooks
    from chainrule.nn.parallel import DistributedDataParallel

    dist.init_process_group()
    chainrule.set_num_threads(1)
    sizes = common.W3_SIZES
    layers: list = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    model = nn.Sequential(*layers[:-1])
    shapes = [(name, tuple(p.shape)) for name, p in model.named_parameters()]
    arrays = common.initial_parameters(shapes)
    model.load_state_dict({name: chainrule.from_numpy(a) for name, a in arrays.items()})
    ddp = (
        model
        if mode == "bare"
        else DistributedDataParallel(model, gradient_as_bucket_view=mode == "view")
    )
    if mode != "bare" and HOOKS[hook] is not None:
        ddp.register_comm_hook(None, getattr(default_hooks, HOOKS[hook]))
    optimizer = chainrule.optim.SGD(ddp.parameters(), lr=common.LEARNING_RATE)
    inputs, labels = common.classification_data(GLOBAL_BATCH, sizes[:1], sizes[-1])
    rows, scale = dist.batch_share(GLOBAL_BATCH)
    x = chainrule.from_numpy(inputs[rows])
    y = chainrule.from_numpy(labels[rows])

    def step() -> None:
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(ddp(x), y, reduction="sum") * scale
        loss.backward()
        optimizer.step()

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


def run_ranks(ranks: int, steps: int, warmup: int, mode: str, hook: str = "none") -> list[dict]:
    environment = dict(os.environ)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        environment[name] = "1"
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "src"), str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    command = [_mpiexec(), "-n", str(ranks), sys.executable, "-m", "benchmarks.distributed"]
    command += ["--worker", mode, "--steps", str(steps), "--warmup", str(warmup)]
    command += ["--comm-hook", hook]
    result = subprocess.run(
        command, capture_output=True, text=True, env=environment, cwd=ROOT, timeout=600
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


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
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument(
        "--no-bucket-view",
        action="store_true",
        help="DDP's default gradient_as_bucket_view=False (averages copied back into .grad)",
    )
    parser.add_argument(
        "--ceiling", action="store_true", help="also time the same runs without DDP"
    )
    parser.add_argument(
        "--comm-hook",
        choices=tuple(HOOKS),
        default="none",
        help="DDP communication hook: fp16/bf16 compress the gradients (changes the numerics)",
    )
    parser.add_argument("--quick", action="store_true", help="1 step, no warm-up: a smoke run")
    parser.add_argument("--worker", choices=("view", "copy", "bare"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    steps, warmup, passes = (1, 0, 1) if args.quick else (args.steps, args.warmup, args.passes)
    if args.worker:
        worker(steps, warmup, args.worker, args.comm_hook)
        return
    view = not args.no_bucket_view
    print(json.dumps(measure(steps, warmup, passes, view, args.ceiling, args.comm_hook)))


if __name__ == "__main__":
    main()
