"""Data-parallel scaling: W3 (784-1024-1024-10 MLP, SGD) at a global batch of 512, trained with
DistributedDataParallel on 1 rank and on 2 ranks (each 256 rows), one BLAS thread per rank.

    python -m benchmarks.distributed [--steps 20] [--passes 3] [--quick]

prints one JSON line: steps/s on 1 and 2 ranks, the scaling efficiency
(steps/s on 2 ranks / (2 x steps/s on 1 rank), 1.0 being perfect), the time each rank of the
2-rank run spent per step waiting on communication (the all-reduces backward could not hide),
and the machine's load average around the runs (the ranks share the machine's cores with
whatever else runs). On a busy machine the wall-clock figure mostly measures the contention;
the CPU-time efficiency (CPU seconds per step on 1 rank / (2 x the slower rank's on 2 ranks))
is less sensitive to it, though a rank spinning while its peer is descheduled still counts.
Each run is
`mpiexec -n N python -m benchmarks.distributed --worker` and reports the median over its timed
steps, after warm-up steps; the figures are the medians over the passes.
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


def worker(steps: int, warmup: int) -> None:
    """One rank: time `steps` DDP train steps on this rank's share of the global batch."""
    import chainrule
    import chainrule.distributed as dist
    from chainrule import nn
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
    ddp = DistributedDataParallel(model)
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
    mine = {"step_s": median(times), "cpu_s": median(cpu_times), "wait_s": median(waits)}
    everyone: list = [None] * dist.get_world_size()
    dist.all_gather_object(everyone, mine)
    if dist.get_rank() == 0:
        print(json.dumps(everyone), flush=True)
    dist.destroy_process_group()


def _mpiexec() -> str:
    beside = Path(sys.executable).parent / "mpiexec"
    return str(beside) if beside.exists() else "mpiexec"


def run_ranks(ranks: int, steps: int, warmup: int) -> list[dict]:
    environment = dict(os.environ)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        environment[name] = "1"
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "src"), str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    command = [_mpiexec(), "-n", str(ranks), sys.executable, "-m", "benchmarks.distributed"]
    command += ["--worker", "--steps", str(steps), "--warmup", str(warmup)]
    result = subprocess.run(
        command, capture_output=True, text=True, env=environment, cwd=ROOT, timeout=600
    )
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure(steps: int, warmup: int, passes: int) -> dict:
    """`passes` pairs of runs (1 rank, 2 ranks; the order flips every pass, so a drift in the
    machine's load hits both alike); the medians over the passes, and each pass's efficiency."""
    load_before = os.getloadavg()[0]
    one_rates, two_rates, efficiencies, cpu_efficiencies, waits = [], [], [], [], []
    for index in range(passes):
        order = (1, 2) if index % 2 == 0 else (2, 1)
        runs = {ranks: run_ranks(ranks, steps, warmup) for ranks in order}
        one_rate = 1 / runs[1][0]["step_s"]
        two_rate = 1 / max(rank["step_s"] for rank in runs[2])
        one_rates.append(one_rate)
        two_rates.append(two_rate)
        efficiencies.append(two_rate / (2 * one_rate))
        cpu_efficiencies.append(runs[1][0]["cpu_s"] / (2 * max(r["cpu_s"] for r in runs[2])))
        waits.append([rank["wait_s"] * 1e3 for rank in runs[2]])
    load_after = os.getloadavg()[0]
    median = statistics.median
    return {
        "W3 DDP global batch 512, 1 rank": common.row(median(one_rates), "steps/s", "higher"),
        "W3 DDP global batch 512, 2 ranks": common.row(median(two_rates), "steps/s", "higher"),
        "scaling efficiency": common.row(
            median(efficiencies),
            "x ideal",
            "higher",
            passes=[round(e, 3) for e in efficiencies],
        ),
        "CPU-time scaling efficiency": common.row(
            median(cpu_efficiencies),
            "x ideal",
            "higher",
            passes=[round(e, 3) for e in cpu_efficiencies],
        ),
        "comm wait per step, 2 ranks": common.row(
            [round(median(w[r] for w in waits), 2) for r in range(2)],
            "ms (rank 0, rank 1)",
            "lower",
        ),
        "load average (1 min) before, after": [round(load_before, 2), round(load_after, 2)],
        "cores": os.cpu_count(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="1 step, no warm-up: a smoke run")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    steps, warmup, passes = (1, 0, 1) if args.quick else (args.steps, args.warmup, args.passes)
    if args.worker:
        worker(steps, warmup)
        return
    print(json.dumps(measure(steps, warmup, passes)))


if __name__ == "__main__":
    main()
