"""Model-agnostic meta-learning on sinusoid regression as MAML / learn2learn code writes it:
an inner loop of `torch.autograd.grad(create_graph=True)` steps on fast weights run through
`torch.func.functional_call` (parameters and buffers passed as two dicts), per-parameter
learned inner learning rates (Meta-SGD) in an `nn.ParameterDict`, the second-order outer
update and the first-order variant (`.detach()` of the inner gradients) compared on the same
meta-batch, `allow_unused=True` for a head the loss never reaches, `retain_grad` on a fast
weight, `parameters_to_vector` / `vector_to_parameters` to snapshot and restore the
meta-weights, `torch.autograd.functional.hvp` of the query loss, `Adam` on the
meta-parameters with `clip_grad_value_`, and `torch.save` of meta-state into an
`io.BytesIO`.

Run: python maml_sinusoid_meta_sgd.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import io
import json

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call
from torch.nn.utils import parameters_to_vector, vector_to_parameters

TASKS, SHOTS, INNER_STEPS = 3, 5, 2


def sample_task(index, step):
    """Task `index` at meta-step `step`: y = a sin(x + phase) on support and query points."""
    amplitude = 1.0 + 0.5 * ((index + step) % 3)
    phase = 0.7 * index + 0.3 * step
    x = torch.linspace(-3.0, 3.0, 2 * SHOTS).view(-1, 1) + 0.1 * index
    y = amplitude * torch.sin(x + phase)
    return (x[::2], y[::2]), (x[1::2], y[1::2])


class Regressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(1, 16)
        self.out = nn.Linear(16, 1)
        self.unused = nn.Linear(16, 2)
        self.register_buffer("scale", torch.tensor(0.5))

    def forward(self, x):
        return self.out(torch.tanh(self.hidden(x * self.scale)))


def adapt(model, inner_lrs, support, first_order):
    params = dict(model.named_parameters())
    buffers = dict(model.named_buffers())
    for _ in range(INNER_STEPS):
        prediction = functional_call(model, (params, buffers), (support[0],))
        loss = F.mse_loss(prediction, support[1])
        grads = torch.autograd.grad(
            loss, list(params.values()), create_graph=not first_order, allow_unused=True
        )
        new_params = {}
        for (name, weight), grad in zip(params.items(), grads):
            if grad is None:
                new_params[name] = weight
                continue
            if first_order:
                grad = grad.detach()
            new_params[name] = weight - inner_lrs[name.replace(".", "_")] * grad
        params = new_params
    return params, buffers


def meta_loss(model, inner_lrs, step, first_order):
    total = 0.0
    for index in range(TASKS):
        support, query = sample_task(index, step)
        params, buffers = adapt(model, inner_lrs, support, first_order)
        total = total + F.mse_loss(functional_call(model, (params, buffers), (query[0],)), query[1])
    return total / TASKS


def fixed_init(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            values = torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.93 + i)
            p.copy_(0.6 * values.view_as(p))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)

    model = Regressor()
    if args.deterministic:
        fixed_init(model)
    inner_lrs = nn.ParameterDict(
        {
            name.replace(".", "_"): nn.Parameter(torch.full_like(p, 0.1))
            for name, p in model.named_parameters()
        }
    )
    meta_parameters = list(model.parameters()) + list(inner_lrs.parameters())
    optimizer = torch.optim.Adam(meta_parameters, lr=0.01)
    losses, gaps = [], []
    for step in range(6):
        snapshot = parameters_to_vector(meta_parameters).detach().clone()
        first = meta_loss(model, inner_lrs, step, first_order=True)
        first_grads = torch.autograd.grad(first, list(model.parameters()), allow_unused=True)
        loss = meta_loss(model, inner_lrs, step, first_order=False)
        optimizer.zero_grad()
        loss.backward()
        second = model.hidden.weight.grad
        gaps.append(round((second - first_grads[0]).abs().max().item(), 5))
        nn.utils.clip_grad_value_(meta_parameters, 0.5)
        optimizer.step()
        losses.append(loss.item())
        if step == 2:  # a rejected step: restore the snapshot, keep Adam's moments
            rejected = parameters_to_vector(meta_parameters).detach()
            vector_to_parameters(snapshot, meta_parameters)
            restored = (parameters_to_vector(meta_parameters) - snapshot).abs().max().item()

    support, query = sample_task(0, 0)
    params, buffers = adapt(model, inner_lrs, support, first_order=False)
    fast = params["hidden.weight"]
    fast.retain_grad()
    adapted = F.mse_loss(functional_call(model, (params, buffers), (query[0],)), query[1])
    adapted.backward()

    def query_loss(weight):
        hidden = torch.tanh(F.linear(query[0] * 0.5, weight, model.hidden.bias))
        return F.mse_loss(model.out(hidden), query[1])

    weight = model.hidden.weight.detach()
    _, hvp = torch.autograd.functional.hvp(
        query_loss, weight, torch.cos(torch.arange(16.0))[:, None]
    )
    buffer = io.BytesIO()
    torch.save(
        {
            "model": model.state_dict(),
            "inner_lrs": inner_lrs.state_dict(),
            "optimizer": optimizer.state_dict(),
        },
        buffer,
    )
    buffer.seek(0)
    state = torch.load(buffer)
    restored_model = Regressor()
    restored_model.load_state_dict(state["model"])
    torch.save(state, args.checkpoint)
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "second_minus_first": gaps,
                "adapted_query_loss": round(adapted.item(), 5),
                "fast_grad_norm": round(fast.grad.norm().item(), 5),
                "unused_grad": model.unused.weight.grad is None,
                "inner_lr_mean": round(inner_lrs["hidden_weight"].mean().item(), 5),
                "restored": restored,
                "moved": round((rejected - snapshot).abs().max().item(), 5),
                "hvp": [round(v, 5) for v in hvp[:4, 0].tolist()],
                "optimizer_keys": sorted(state["optimizer"]["param_groups"][0])[:4],
                "same_after_load": bool(torch.equal(restored_model(query[0]), model(query[0]))),
            }
        )
    )


if __name__ == "__main__":
    main()
