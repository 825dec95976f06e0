"""A variational autoencoder and a RealNVP-style normalizing flow on 2-D toy data, written
with torch.distributions the way tutorials do: the encoder's Normal wrapped in
`Independent(..., 1)`, the reparameterised sample (`rsample`), the KL term from
`kl_divergence` against a standard-normal prior (checked against the closed form),
`log_prob` / `entropy` / `batch_shape` / `event_shape` and the printed distributions; the
flow's affine coupling layers with alternating binary masks, the log-determinant as a sum of
log-scales checked against `torch.slogdet` / `torch.linalg.slogdet` of the autograd Jacobian,
a `MultivariateNormal` base, and samples pushed back through the inverse.

Run: python vae_flow_distributions.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Independent, MultivariateNormal, Normal, kl_divergence


def make_data(n):
    """Two interleaved half-moons, made without randomness."""
    t = torch.linspace(0, torch.pi, n // 2)
    upper = torch.stack([torch.cos(t), torch.sin(t)], dim=1)
    lower = torch.stack([1 - torch.cos(t), 0.5 - torch.sin(t)], dim=1)
    wobble = 0.05 * torch.sin(torch.arange(n, dtype=torch.float32) * 2.3).unsqueeze(1)
    return torch.cat([upper, lower]) + wobble


def fixed_init(model, scale=0.3):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            values = torch.cos(torch.arange(p.numel(), dtype=torch.float32) * 0.37 + i)
            p.copy_(values.view_as(p) * scale)


class VAE(nn.Module):
    def __init__(self, data_dim=2, latent=2, hidden=16):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(data_dim, hidden), nn.ReLU())
        self.mu = nn.Linear(hidden, latent)
        self.logvar = nn.Linear(hidden, latent)
        self.decoder = nn.Sequential(
            nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, data_dim)
        )

    def posterior(self, x):
        h = self.encoder(x)
        return Independent(Normal(self.mu(h), torch.exp(0.5 * self.logvar(h))), 1)


class Coupling(nn.Module):
    def __init__(self, mask, hidden=16):
        super().__init__()
        self.register_buffer("mask", mask)
        self.scale = nn.Sequential(nn.Linear(2, hidden), nn.Tanh(), nn.Linear(hidden, 2), nn.Tanh())
        self.shift = nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, 2))

    def forward(self, x):
        kept = x * self.mask
        s = self.scale(kept) * (1 - self.mask)
        t = self.shift(kept) * (1 - self.mask)
        return kept + (1 - self.mask) * (x * torch.exp(s) + t), s.sum(dim=1)

    def inverse(self, y):
        kept = y * self.mask
        s = self.scale(kept) * (1 - self.mask)
        t = self.shift(kept) * (1 - self.mask)
        return kept + (1 - self.mask) * ((y - t) * torch.exp(-s))


class RealNVP(nn.Module):
    def __init__(self, layers=4):
        super().__init__()
        masks = [
            torch.tensor([1.0, 0.0]) if i % 2 == 0 else torch.tensor([0.0, 1.0])
            for i in range(layers)
        ]
        self.layers = nn.ModuleList(Coupling(m) for m in masks)
        self.base = MultivariateNormal(torch.zeros(2), torch.eye(2))

    def forward(self, x):
        log_det = torch.zeros(x.shape[0])
        for layer in self.layers:
            x, ld = layer(x)
            log_det = log_det + ld
        return x, log_det

    def log_prob(self, x):
        z, log_det = self(x)
        return self.base.log_prob(z) + log_det

    def inverse(self, z):
        for layer in reversed(self.layers):
            z = layer.inverse(z)
        return z


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(11)
    data = make_data(64)
    noise = 0.7 * torch.sin(torch.arange(128, dtype=torch.float32) * 1.7).view(64, 2)

    vae = VAE()
    flow = RealNVP()
    if args.deterministic:
        fixed_init(vae)
        fixed_init(flow, 0.2)
    prior = Independent(Normal(torch.zeros(2), torch.ones(2)), 1)
    optimizer = torch.optim.Adam(list(vae.parameters()) + list(flow.parameters()), lr=5e-3)
    losses = []
    for _ in range(30):
        q = vae.posterior(data)
        if args.deterministic:
            z = q.mean + q.stddev * noise  # the reparameterisation written out
        else:
            z = q.rsample()
        recon = vae.decoder(z)
        kl = kl_divergence(q, prior)
        vae_loss = F.mse_loss(recon, data, reduction="sum") / len(data) + kl.mean()
        flow_loss = -flow.log_prob(data).mean()
        loss = vae_loss + flow_loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())

    with torch.no_grad():
        q = vae.posterior(data[:5])
        base = q.base_dist
        closed_kl = 0.5 * (base.scale**2 + base.loc**2 - 1 - 2 * base.scale.log()).sum(-1)
        kl = kl_divergence(q, prior)
        kl_normal = kl_divergence(base, Normal(0.0, 1.0))
        facts = {
            "kl": kl.tolist(),
            "kl_matches": torch.allclose(kl, closed_kl, atol=1e-5),
            "kl_normal_shape": list(kl_normal.shape),
            "log_prob": q.log_prob(data[:5]).tolist(),
            "entropy": q.entropy().tolist(),
            "shapes": [list(q.batch_shape), list(q.event_shape), list(base.batch_shape)],
            "sample_shape": list(q.sample((3,)).shape),
            "variance": q.variance[0].tolist(),
            "printed": [repr(q), repr(base)[:20], str(prior), repr(flow.base)],
        }

    # The flow's log-det agrees with the Jacobian's determinant.
    point = data[:1].clone().requires_grad_(True)
    jac = torch.autograd.functional.jacobian(lambda p: flow(p)[0], point).reshape(2, 2)
    sign, logabsdet = torch.slogdet(jac)
    sign2, logabsdet2 = torch.linalg.slogdet(jac)
    _, log_det = flow(point)
    facts["slogdet"] = [sign.item(), logabsdet.item(), log_det.item()]
    facts["slogdet_agrees"] = abs(logabsdet.item() - log_det.item()) < 1e-4
    facts["linalg_slogdet_type"] = type(torch.linalg.slogdet(jac)).__name__
    facts["linalg_same"] = bool(torch.equal(logabsdet, logabsdet2) and sign2.item() == sign.item())
    with torch.no_grad():
        z, _ = flow(data)
        back = flow.inverse(z)
        facts["inverse_error"] = (back - data).abs().max().item() < 1e-4
        facts["flow_nll"] = -flow.log_prob(data).mean().item()
        samples = flow.inverse(flow.base.sample((10,)))
        facts["sample_shape_flow"] = list(samples.shape)

    torch.save({"vae": vae.state_dict(), "flow": flow.state_dict()}, args.checkpoint)
    state = torch.load(args.checkpoint, weights_only=True)
    flow2 = RealNVP()
    flow2.load_state_dict(state["flow"])
    with torch.no_grad():
        facts["reloaded"] = torch.allclose(flow2.log_prob(data), flow.log_prob(data))
    print(json.dumps({"library": torch.__name__, "losses": losses, **facts}))


if __name__ == "__main__":
    main()
