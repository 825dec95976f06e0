"""DDP with each communication hook, written against PyTorch: tests/test_distributed_mpi.py runs
it under real PyTorch (gloo) and under `python -m chainrule.as_torch` (MPI), both as
`mpiexec -n 2 python ... hooks_script.py STORE`, and compares what rank 0 prints (one JSON
line: each hook's averaged gradients after one backward, and the parameters after 3 steps).

Inputs and parameters are formulas (no random numbers), so both libraries start alike; each
rank trains on its own half of the batch.
"""

import json
import math
import os
import sys

import torch
import torch.distributed as dist
import torch.distributed.algorithms.ddp_comm_hooks.default_hooks as default
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel as DDP  # noqa: N817 - as scripts say


def bf16_hook(state, bucket):
    """bf16_compress_hook under another name: PyTorch refuses that name without NCCL."""
    return default.bf16_compress_hook(state, bucket)


def sum_then_divide(state: object, bucket: dist.GradBucket) -> torch.futures.Future[torch.Tensor]:
    """A hook of one's own: the sum with get_future(), the division in a then() callback."""
    work = dist.all_reduce(bucket.buffer(), async_op=True)
    return work.get_future().then(lambda fut: fut.value()[0].div_(dist.get_world_size()))


HOOKS = {
    "none": None,
    "allreduce_hook": default.allreduce_hook,
    "fp16_compress_hook": default.fp16_compress_hook,
    "bf16_compress_hook": bf16_hook,
    "fp16_compress_wrapper(allreduce_hook)": default.fp16_compress_wrapper(default.allreduce_hook),
    "sum_then_divide": sum_then_divide,
}
# Not powerSGD_hook: PyTorch's waits on its second and third all-reduces inside Future callbacks,
# which gloo runs on its own worker thread, and that hung now and then (3 runs in 10).


def wave(*shape, phase):
    count = math.prod(shape)
    return torch.sin(torch.arange(count, dtype=torch.float32) * 0.7 + phase).reshape(shape)


def model():
    net = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 3))
    with torch.no_grad():
        for index, param in enumerate(net.parameters()):
            param.copy_(wave(*param.shape, phase=index) / 3)
    return net


def train(hook, inputs, targets):
    """3 SGD steps with `hook`: the gradients of the first, the parameters after the last."""
    ddp = DDP(model(), bucket_cap_mb=0.0001)
    if hook is not None:
        ddp.register_comm_hook(None, hook)
    optimizer = torch.optim.SGD(ddp.parameters(), lr=0.1)
    for step in range(3):
        optimizer.zero_grad()
        nn.functional.mse_loss(ddp(inputs), targets).backward()
        if step == 0:
            grads = torch.cat([p.grad.reshape(-1) for p in ddp.parameters()]).tolist()
        optimizer.step()
    params = torch.cat([p.detach().reshape(-1) for p in ddp.parameters()]).tolist()
    return {"grad": grads, "params": params}


def main():
    rank, size = int(os.environ["PMI_RANK"]), int(os.environ["PMI_SIZE"])
    dist.init_process_group("gloo", init_method=f"file://{sys.argv[1]}", rank=rank, world_size=size)
    inputs, targets = wave(16, 6, phase=0.3) * 2, wave(16, 3, phase=1.1)
    mine = slice(8 * rank, 8 * (rank + 1))
    report = {name: train(hook, inputs[mine], targets[mine]) for name, hook in HOOKS.items()}
    if rank == 0:
        print(json.dumps(report), flush=True)
    dist.destroy_process_group()
    if torch.__name__ == "torch":
        # PyTorch 2.13's gloo now and then aborts at interpreter exit ("terminate called without
        # an active exception") once all is done: leave without the interpreter's teardown.
        sys.stdout.flush()
        os._exit(0)


if __name__ == "__main__":
    main()
