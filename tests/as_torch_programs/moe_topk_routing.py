"""A sparse mixture-of-experts layer routed the ways MoE codebases (Switch, Mixtral, fairseq's
MoE, Shazeer's noisy top-k) write it: top-k gating by `topk` and `softmax` over the chosen
logits, a dense gate by `scatter`, tokens dispatched per expert with `torch.nonzero(...,
as_tuple=True)` / one-argument `torch.where`, sorted by expert with `argsort(stable=True)`,
split by `bincount` counts and combined back with `index_add_` and `scatter_add_`; Switch's
capacity by a `cumsum` of `F.one_hot`, the load-balancing loss (fraction routed times mean
gate probability), the router z-loss by `logsumexp`, `torch.unique(return_counts=True)`,
`repeat_interleave`, and noisy gating with `F.softplus` noise (`torch.randn_like` when not
deterministic).

Run: python moe_topk_routing.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json

import torch
import torch.nn as nn
import torch.nn.functional as F

DIM, EXPERTS, TOP_K, CLASSES = 8, 4, 2, 3


class Expert(nn.Module):
    def __init__(self):
        super().__init__()
        self.w1, self.w2 = nn.Linear(DIM, 2 * DIM), nn.Linear(2 * DIM, DIM)

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)))


class MoE(nn.Module):
    def __init__(self, style):
        super().__init__()
        self.style = style
        self.gate = nn.Linear(DIM, EXPERTS, bias=False)
        self.noise = nn.Linear(DIM, EXPERTS, bias=False)
        self.experts = nn.ModuleList(Expert() for _ in range(EXPERTS))

    def forward(self, x, noise_sample):
        logits = self.gate(x)
        if self.training:  # noisy top-k gating
            logits = logits + noise_sample * F.softplus(self.noise(x))
        probs = F.softmax(logits, dim=-1, dtype=torch.float)
        top_logits, top_idx = torch.topk(logits, TOP_K, dim=-1)
        top_w = F.softmax(top_logits, dim=-1)
        out = torch.zeros_like(x)
        if self.style == "mixtral":  # loop over experts, tokens found by nonzero / where
            mask = F.one_hot(top_idx, num_classes=EXPERTS).permute(2, 1, 0)
            for e, expert in enumerate(self.experts):
                slot, token = torch.where(mask[e])
                if token.numel() == 0:
                    continue
                weighted = expert(x[token]) * top_w[token, slot, None]
                out.index_add_(0, token, weighted.to(x.dtype))
        else:  # sort tokens by expert, split by counts, scatter back
            flat_expert = top_idx.reshape(-1)
            order = torch.argsort(flat_expert, stable=True)
            token_of = torch.arange(x.size(0)).repeat_interleave(TOP_K)[order]
            counts = torch.bincount(flat_expert, minlength=EXPERTS)
            chunks = torch.split(x[token_of], counts.tolist())
            results = torch.cat([exp(c) for exp, c in zip(self.experts, chunks)])
            results = results * top_w.reshape(-1)[order].unsqueeze(1)
            out.scatter_add_(0, token_of.unsqueeze(1).expand(-1, DIM), results)
        dense_gates = torch.zeros_like(logits).scatter(1, top_idx, top_w)
        routed = F.one_hot(top_idx[:, 0], EXPERTS).float()
        balance = EXPERTS * torch.sum(routed.mean(0) * probs.mean(0))
        z_loss = torch.logsumexp(logits, dim=-1).pow(2).mean()
        return out, balance, z_loss, dense_gates, top_idx


def switch_capacity(top1, capacity):
    """Which token keeps its slot: position within its expert (a cumsum over the one-hot)
    below the capacity."""
    one_hot = F.one_hot(top1, EXPERTS)
    position = (torch.cumsum(one_hot, dim=0) - 1) * one_hot
    return (position.sum(-1) < capacity), position.max(dim=0).values


class Classifier(nn.Module):
    def __init__(self, style):
        super().__init__()
        self.embed = nn.Linear(4, DIM)
        self.moe = MoE(style)
        self.head = nn.Linear(DIM, CLASSES)

    def forward(self, x, noise_sample):
        h = torch.tanh(self.embed(x))
        moe_out, balance, z_loss, gates, idx = self.moe(h, noise_sample)
        return self.head(h + moe_out), balance, z_loss, gates, idx


def fixed_init(model, phase):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(
                0.5
                * torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 1.3 + i + phase).view_as(
                    p
                )
            )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)

    n = torch.arange(24, dtype=torch.float32)
    x = torch.stack([torch.sin(n), torch.cos(0.7 * n), torch.sin(1.9 * n + 1), n / 24], dim=1)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0.3).long()
    facts, losses = {}, []
    for style in ("mixtral", "sorted"):
        model = Classifier(style)
        if args.deterministic:
            fixed_init(model, 0.0)
        optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
        for step in range(10):
            if args.deterministic:
                noise = 0.3 * torch.cos(n[:, None] * 0.9 + torch.arange(EXPERTS) + step)
            else:
                noise = torch.randn_like(torch.empty(24, EXPERTS))
            logits, balance, z_loss, _, _ = model(x, noise)
            loss = F.cross_entropy(logits, y) + 0.01 * balance + 1e-3 * z_loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        model.eval()
        with torch.no_grad():
            logits, balance, z_loss, gates, idx = model(x, None)
        experts_used, uses = torch.unique(idx, return_counts=True)
        keep, fill = switch_capacity(idx[:, 0], capacity=4)
        dropped = torch.nonzero(~keep, as_tuple=True)[0]
        facts[style] = {
            "accuracy": (logits.argmax(1) == y).float().mean().item(),
            "balance": round(balance.item(), 5),
            "z_loss": round(z_loss.item(), 4),
            "gate_rows": gates.sum(1).round(decimals=5).tolist()[:3],
            "experts_used": [experts_used.tolist(), uses.tolist()],
            "bincount": torch.bincount(idx.flatten(), minlength=EXPERTS + 1).tolist(),
            "dropped": dropped.tolist(),
            "fill": fill.tolist(),
            "gate_grad_none": model.moe.noise.weight.grad is None,
        }
    torch.save(model.state_dict(), args.checkpoint)
    model.load_state_dict(torch.load(args.checkpoint, weights_only=True))
    print(json.dumps({"library": torch.__name__, "losses": losses, **facts}))


if __name__ == "__main__":
    main()
