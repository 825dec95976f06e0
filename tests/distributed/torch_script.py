"""A PyTorch data-parallel training script, unmodified: tests/test_distributed_mpi.py runs it as
`mpiexec -n 2 python -m chainrule.as_torch torch_script.py`, where `torch` is chainrule."""

import torch
import torch.distributed as dist
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel as DDP  # noqa: N817 - as scripts say
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler


def main():
    dist.init_process_group(backend="gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(0)
    inputs = torch.randn(64, 5)
    targets = inputs @ torch.arange(1.0, 6.0).unsqueeze(1)
    dataset = TensorDataset(inputs, targets)
    sampler = DistributedSampler(dataset, num_replicas=world, rank=rank, shuffle=True)
    loader = DataLoader(dataset, batch_size=8, sampler=sampler)
    model = DDP(nn.Linear(5, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    for epoch in range(20):
        sampler.set_epoch(epoch)
        for x, y in loader:
            optimizer.zero_grad()
            loss = nn.functional.mse_loss(model(x), y)
            loss.backward()
            optimizer.step()
    total = torch.tensor([loss.item()])
    dist.all_reduce(total, op=dist.ReduceOp.AVG)
    weights = [torch.zeros(1, 5) for _ in range(world)]
    dist.all_gather(weights, model.module.weight.detach())
    same = all(torch.equal(w, weights[0]) for w in weights)
    if rank == 0:
        print(f"rank 0: final loss {total.item():.2e}, same weights on all ranks: {same}")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
