"""Model ensembling and mixed precision as the torch.func and AMP tutorials write them:
`torch.func.stack_module_state` over several copies of a model, a "meta" base model from
`copy.deepcopy(...).to("meta")`, `functional_call` under `vmap(in_dims=(0, 0, None))` for all
members on the same batch and `in_dims=(0, 0, 0)` for a batch each, checked against a loop;
per-sample gradients with `vmap(grad(...))` and `jacrev`; an ensemble trained by optimizing
the stacked parameters directly; then `torch.autocast("cpu", dtype=torch.bfloat16)` forward
passes (the dtypes of matmul, conv, softmax, sum and loss outputs inside and outside it,
`torch.is_autocast_enabled`, nesting with `enabled=False`), and `torch.amp.GradScaler`
left disabled on the CPU as scripts do.

Run: python func_ensemble_autocast.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import copy
import json

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call, grad, jacrev, stack_module_state, vmap


class Small(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 3)

    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(x)))


def fixed_init(model, phase):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(
                0.5
                * torch.sin(
                    torch.arange(p.numel(), dtype=torch.float32) * 0.83 + i + phase
                ).view_as(p)
            )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(6)

    models = [Small() for _ in range(4)]
    if args.deterministic:
        for k, m in enumerate(models):
            fixed_init(m, k)
    x = torch.cos(torch.arange(40, dtype=torch.float32) * 0.37).view(10, 4)
    y = torch.arange(10) % 3
    params, buffers = stack_module_state(models)
    base = copy.deepcopy(models[0]).to("meta")

    def fmodel(params, buffers, x):
        return functional_call(base, (params, buffers), (x,))

    same_batch = vmap(fmodel, in_dims=(0, 0, None))(params, buffers, x)
    looped = torch.stack([m(x) for m in models])
    minibatches = x.view(4, -1, 4)[:, :2] if False else torch.stack([x[:5], x[5:], x[2:7], x[3:8]])
    each_batch = vmap(fmodel, in_dims=(0, 0, 0))(params, buffers, minibatches)
    looped_each = torch.stack([m(b) for m, b in zip(models, minibatches)])

    # Per-sample gradients of one model.
    single = {k: v.detach() for k, v in models[0].named_parameters()}

    def sample_loss(p, xi, yi):
        logits = functional_call(models[0], p, (xi.unsqueeze(0),))
        return F.cross_entropy(logits, yi.unsqueeze(0))

    per_sample = vmap(grad(sample_loss), in_dims=(None, 0, 0))(single, x, y)
    jac = jacrev(lambda inp: functional_call(models[0], single, (inp,)))(x[0])

    # Train the ensemble through its stacked parameters.
    leaves = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
    optimizer = torch.optim.Adam(leaves.values(), lr=0.05)
    losses = []
    for _ in range(15):
        logits = vmap(fmodel, in_dims=(0, 0, None))(leaves, buffers, x)
        loss = F.cross_entropy(logits.reshape(-1, 3), y.repeat(4))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())

    # Mixed precision on the CPU.
    net = nn.Sequential(nn.Conv1d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(16, 3))
    if args.deterministic:
        fixed_init(net, 0.5)
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    amp_opt = torch.optim.SGD(net.parameters(), lr=0.1)
    dtypes = {}
    for step in range(5):
        with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
            hidden = net[0](x.view(10, 1, 4))
            logits = net(x.view(10, 1, 4))
            probs = logits.softmax(dim=-1)
            loss = F.cross_entropy(logits, y)
            if step == 0:
                dtypes = {
                    "conv": str(hidden.dtype),
                    "logits": str(logits.dtype),
                    "softmax": str(probs.dtype),
                    "loss": str(loss.dtype),
                    "sum": str(logits.sum().dtype),
                    "add": str((logits + 1).dtype),
                    "matmul": str((x @ x.T).dtype),
                    "enabled": torch.is_autocast_enabled(),
                    "dtype": str(torch.get_autocast_dtype("cpu")),
                }
                with torch.autocast(device_type="cpu", enabled=False):
                    dtypes["inner"] = str((x @ x.T).dtype)
                    dtypes["inner_enabled"] = torch.is_autocast_enabled()
        amp_opt.zero_grad()
        scaler.scale(loss).backward()
        scaler.step(amp_opt)
        scaler.update()
        losses.append(loss.item())
    dtypes["outside"] = str(net(x.view(10, 1, 4)).dtype)
    dtypes["grad"] = str(net[0].weight.grad.dtype)
    dtypes["scale"] = scaler.get_scale()
    dtypes["scaler_enabled"] = scaler.is_enabled()

    torch.save({k: v.detach() for k, v in leaves.items()}, args.checkpoint)
    loaded = torch.load(args.checkpoint, weights_only=True)
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "stacked": {k: list(v.shape) for k, v in params.items()},
                "meta": [str(p.device) for p in base.parameters()][:1],
                "same_batch": torch.allclose(same_batch, looped, atol=1e-6),
                "each_batch": torch.allclose(each_batch, looped_each, atol=1e-6),
                "per_sample": {k: list(v.shape) for k, v in per_sample.items()},
                "per_sample_norm": sum(v.pow(2).sum() for v in per_sample.values()).item(),
                "jac": list(jac.shape),
                "dtypes": dtypes,
                "loaded": sorted(loaded),
            }
        )
    )


if __name__ == "__main__":
    main()
