"""Energy-based models as the JEM / IGEBM / sliced-score-matching repositories write them: an MLP
energy trained by contrastive divergence with short-run Langevin chains inside the training loop
(`x.requires_grad_()`, `torch.autograd.grad(energy.sum(), x)` under `torch.enable_grad()` while
the rest runs in `torch.no_grad()`, `clamp_` of the chain, a replay buffer refreshed by
`torch.where`), then a score network trained by sliced score matching with Hutchinson probes
(`autograd.grad(..., create_graph=True)` and a double backward through it), the exact trace of
the Jacobian by `autograd.grad(is_grads_batched=True)` for comparison, and denoising score
matching with a `torch.no_grad` evaluation of the learned score.

Run: python ebm_score_matching_langevin.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn as nn


def ring_data(n=64):
    theta = torch.arange(n, dtype=torch.float32) * (2 * math.pi / n)
    radius = 1.5 + 0.1 * torch.sin(5 * theta)
    return torch.stack([radius * torch.cos(theta), radius * torch.sin(theta)], -1)


class Energy(nn.Module):
    def __init__(self, width=24):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(2, width), nn.SiLU(), nn.Linear(width, width), nn.SiLU(), nn.Linear(width, 1)
        )

    def forward(self, x):
        return self.net(x).squeeze(-1)


class Score(nn.Module):
    def __init__(self, width=24):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(2, width),
            nn.Softplus(),
            nn.Linear(width, width),
            nn.Tanh(),
            nn.Linear(width, 2),
        )

    def forward(self, x):
        return self.net(x)


def fixed_init(model, phase):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            wave = torch.sin(torch.arange(p.numel(), dtype=torch.float64) * 0.61 + i + phase)
            p.copy_((0.5 * wave).view_as(p))


def langevin(energy, x, steps=5, step_size=0.05, noise=None):
    energy.eval()
    for k in range(steps):
        x = x.detach().requires_grad_()
        with torch.enable_grad():
            grad_x = torch.autograd.grad(energy(x).sum(), x)[0]
        with torch.no_grad():
            x = x - 0.5 * step_size * grad_x
            if noise is not None:
                x = x + math.sqrt(step_size) * noise[k]
            x.clamp_(-3.0, 3.0)
    energy.train()
    return x.detach()


def sliced_score_loss(score, x, probes):
    x = x.detach().requires_grad_(True)
    s = score(x)
    vs = (s * probes).sum()
    grad_vs = torch.autograd.grad(vs, x, create_graph=True)[0]
    return ((grad_vs * probes).sum(-1) + 0.5 * (s * probes).sum(-1) ** 2).mean()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    data = ring_data()
    energy, score = Energy(), Score()
    if args.deterministic:
        fixed_init(energy, 0.0)
        fixed_init(score, 1.0)
    opt_e = torch.optim.Adam(energy.parameters(), lr=3e-3, betas=(0.0, 0.999))
    opt_s = torch.optim.Adam(score.parameters(), lr=5e-3)
    grid = torch.linspace(-2.0, 2.0, 16)
    buffer = torch.stack([grid, grid.flip(0)], -1).repeat(4, 1) * 0.8
    losses = []
    with torch.no_grad():
        for it in range(6):
            if args.deterministic:
                noise = 0.3 * torch.sin(
                    torch.arange(5 * 64 * 2, dtype=torch.float32) * (1.3 + it)
                ).view(5, 64, 2)
                fresh = torch.cos(torch.arange(128, dtype=torch.float32) * 0.7).view(64, 2) * 2
            else:
                noise, fresh = torch.randn(5, 64, 2), torch.rand(64, 2) * 4 - 2
            keep = (torch.arange(64) % 5 != it % 5)[:, None]
            start = torch.where(keep, buffer, fresh)
            negatives = langevin(energy, start, noise=noise)
            buffer = negatives
            with torch.enable_grad():
                e_pos, e_neg = energy(data), energy(negatives)
                loss = e_pos.mean() - e_neg.mean() + 0.1 * (e_pos**2 + e_neg**2).mean()
                opt_e.zero_grad()
                loss.backward()
                opt_e.step()
            losses.append(loss.item())

    for it in range(8):
        if args.deterministic:
            probes = torch.sign(
                torch.sin(torch.arange(128, dtype=torch.float32) * (0.9 + it))
            ).view(64, 2)
            probes = torch.where(probes == 0, torch.ones_like(probes), probes)
        else:
            probes = torch.randint(0, 2, (64, 2)).float() * 2 - 1
        loss = sliced_score_loss(score, data, probes)
        opt_s.zero_grad()
        loss.backward()
        opt_s.step()
        losses.append(loss.item())

    # exact Jacobian trace (divergence) by batched vector-Jacobian products
    x = data[:8].clone().requires_grad_()
    s = score(x)
    eye = torch.eye(2).unsqueeze(1).expand(2, 8, 2)
    jac = torch.autograd.grad(s, x, grad_outputs=eye, is_grads_batched=True, create_graph=True)[
        0
    ]  # (2, 8, 2)
    divergence = torch.diagonal(jac, dim1=0, dim2=2).sum(-1)
    # Hutchinson estimate with both probes agrees with the exact trace in expectation
    second = torch.autograd.grad(divergence.sum(), score.net[0].weight, allow_unused=True)[0]

    sigma = 0.2
    offsets = sigma * torch.cos(torch.arange(128, dtype=torch.float32)).view(64, 2)
    noisy = data + offsets
    dsm = ((score(noisy) + offsets / sigma**2) ** 2).sum(-1).mean() * sigma**2
    with torch.no_grad():
        energies = energy(torch.tensor([[0.0, 0.0], [1.5, 0.0], [2.9, 2.9]]))
        facts = {
            "divergence": divergence.round(decimals=4).tolist(),
            "second_norm": round(second.norm().item(), 4),
            "jac_shape": list(jac.shape),
            "dsm": round(dsm.item(), 4),
            "energies": energies.round(decimals=4).tolist(),
            "buffer_range": [round(buffer.min().item(), 4), round(buffer.max().item(), 4)],
        }
    torch.save({"energy": energy.state_dict(), "score": score.state_dict()}, args.checkpoint)
    state = torch.load(args.checkpoint, weights_only=True)
    facts["keys"] = sorted(state["score"])[:2]
    print(json.dumps({"library": torch.__name__, "losses": losses, **facts}))


if __name__ == "__main__":
    main()
