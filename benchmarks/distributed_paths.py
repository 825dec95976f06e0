"""DDP's two all-reduce paths side by side in one job: W3 (784-1024-1024-10 MLP, SGD) on 2
ranks, 256 rows each, built three times (DDP with buckets in shared memory, DDP through MPI's
all-reduce, and no DDP) and stepped in turn, so that the machine's drift hits all three alike.

    mpiexec -n 2 python -m benchmarks.distributed_paths [--rounds 60]

Prints the median and the fastest wall time per step (the slower rank's) of each. One BLAS
thread per rank (set OMP_NUM_THREADS=1 too). Three models in turn keep the caches colder than
one model does, so the steps take longer than benchmarks.distributed's: compare the three rows
with each other, not with that benchmark.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import chainrule
import chainrule.distributed as dist
from benchmarks import common
from chainrule import nn
from chainrule.nn.parallel import DistributedDataParallel

WARMUP = 5


def mlp() -> nn.Module:
    layers: list = []
    for fan_in, fan_out in zip(common.W3_SIZES[:-1], common.W3_SIZES[1:]):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def wrapped(shared_memory: bool) -> nn.Module:
    """DDP whose buckets are shared memory or private (the switch is read at construction)."""
    os.environ["CHAINRULE_DISTRIBUTED_SHARED_MEMORY"] = "1" if shared_memory else "0"
    return DistributedDataParallel(mlp(), gradient_as_bucket_view=True)


def main(rounds: int) -> None:
    dist.init_process_group()
    chainrule.set_num_threads(1)
    models = {"shared memory": wrapped(True), "MPI": wrapped(False), "no DDP": mlp()}
    optimizers = {name: chainrule.optim.SGD(m.parameters(), lr=0.01) for name, m in models.items()}
    global_batch = 512
    inputs, labels = common.classification_data(global_batch, common.W3_SIZES[:1], 10)
    rows, scale = dist.batch_share(global_batch)
    x, y = chainrule.from_numpy(inputs[rows]), chainrule.from_numpy(labels[rows])
    times: dict[str, list[float]] = {name: [] for name in models}
    for index in range(WARMUP + rounds):
        for name, model in models.items():
            dist.barrier()
            start = time.perf_counter()
            optimizers[name].zero_grad()
            loss = nn.functional.cross_entropy(model(x), y, reduction="sum") * scale
            loss.backward()
            optimizers[name].step()
            if name == "no DDP":
                dist.barrier()  # ends together, as a synchronised DDP step does
            if index >= WARMUP:
                times[name].append(time.perf_counter() - start)
    mine = {name: (statistics.median(t), min(t)) for name, t in times.items()}
    everyone: list = [None] * dist.get_world_size()
    dist.all_gather_object(everyone, mine)
    if dist.get_rank() == 0:
        for name in models:
            median = max(rank[name][0] for rank in everyone) * 1e3
            fastest = max(rank[name][1] for rank in everyone) * 1e3
            print(f"{name}: median {median:.2f} ms, fastest {fastest:.2f} ms per step")
    dist.destroy_process_group()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=60)
    main(parser.parse_args().rounds)
