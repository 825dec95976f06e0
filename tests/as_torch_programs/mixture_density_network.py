"""A mixture density network for a multi-valued inverse problem (x = y + 0.3 sin(2 pi y),
predict y from x), as MDN tutorials write it: a head giving mixture logits, means and
log-scales, `MixtureSameFamily(Categorical(logits=...), Normal(...))` and its `log_prob` as
the loss, checked against a hand-written `logsumexp` form; `Independent` components for a
2-D variant; `mean`, `variance`, `cdf`, `sample` shapes; `Categorical` probs / entropy /
`enumerate_support`; `torch.distributions.Normal.icdf`; `validate_args` errors for bad
scales; a printed distribution, `arg_constraints` and `support`; `torch.nn.init` helpers
(xavier_uniform_, zeros_, kaiming_normal_) and `torch.nn.utils.parameters_to_vector`.

Run: python mixture_density_network.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Categorical, Independent, MixtureSameFamily, Normal

K = 3


class MDN(nn.Module):
    def __init__(self, hidden=16, out_dim=1):
        super().__init__()
        self.out_dim = out_dim
        self.body = nn.Sequential(
            nn.Linear(1, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh()
        )
        self.logits = nn.Linear(hidden, K)
        self.means = nn.Linear(hidden, K * out_dim)
        self.log_scales = nn.Linear(hidden, K * out_dim)

    def forward(self, x):
        h = self.body(x)
        means = self.means(h).view(-1, K, self.out_dim)
        scales = F.softplus(self.log_scales(h)).view(-1, K, self.out_dim) + 1e-3
        mix = Categorical(logits=self.logits(h))
        if self.out_dim == 1:
            return MixtureSameFamily(mix, Normal(means.squeeze(-1), scales.squeeze(-1)))
        return MixtureSameFamily(mix, Independent(Normal(means, scales), 1))


def fixed_init(model, phase=0.0):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(
                0.6
                * torch.sin(
                    torch.arange(p.numel(), dtype=torch.float32) * 0.57 + i + phase
                ).view_as(p)
            )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(12)

    y = torch.linspace(-1, 1, 96).unsqueeze(1)
    x = y + 0.3 * torch.sin(2 * math.pi * y)
    model = MDN()
    if args.deterministic:
        fixed_init(model)
    else:
        for m in model.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight, gain=nn.init.calculate_gain("tanh"))
                nn.init.zeros_(m.bias)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    losses, checks = [], []
    for step in range(40):
        dist = model(x)
        nll = -dist.log_prob(y.squeeze(1)).mean()
        if step % 10 == 0:
            comp = dist.component_distribution
            log_mix = torch.log_softmax(dist.mixture_distribution.logits, dim=-1)
            by_hand = -torch.logsumexp(log_mix + comp.log_prob(y), dim=-1).mean()
            checks.append(abs(nll.item() - by_hand.item()) < 1e-5)
        optimizer.zero_grad()
        nll.backward()
        optimizer.step()
        losses.append(nll.item())

    with torch.no_grad():
        dist = model(x[:4])
        mix = dist.mixture_distribution
        facts = {
            "mean": dist.mean.tolist(),
            "variance": dist.variance.tolist(),
            "cdf": dist.cdf(torch.zeros(4)).tolist(),
            "sample_shapes": [list(dist.sample().shape), list(dist.sample((5,)).shape)],
            "batch_event": [list(dist.batch_shape), list(dist.event_shape)],
            "probs_sum": mix.probs.sum(-1).tolist(),
            "entropy": mix.entropy().tolist(),
            "support": mix.enumerate_support().squeeze(-1).tolist()[:1],
            "support_shape": list(mix.enumerate_support().shape),
            "icdf": Normal(0.0, 1.0).icdf(torch.tensor([0.025, 0.5, 0.975])).tolist(),
            "printed": [str(mix), str(dist.component_distribution)],
            "constraints": sorted(Normal.arg_constraints),
            "support_repr": [str(Normal.support), str(Categorical(logits=torch.zeros(3)).support)],
        }
    errors = []
    for scale in (torch.tensor([-1.0]), torch.tensor([0.0])):
        try:
            Normal(torch.zeros(1), scale, validate_args=True)
        except ValueError as error:
            errors.append(type(error).__name__)
    try:
        Normal(0.0, 1.0, validate_args=True).log_prob(torch.tensor([float("nan")]))
        errors.append("no error")
    except ValueError as error:
        errors.append(type(error).__name__)
    facts["errors"] = errors

    # A 2-D variant with Independent components.
    model2 = MDN(out_dim=2)
    fixed_init(model2, 1.0)
    target2 = torch.cat([y, y.flip(0)], dim=1)
    opt2 = torch.optim.Adam(model2.parameters(), lr=0.01)
    for _ in range(10):
        loss = -model2(x).log_prob(target2).mean()
        opt2.zero_grad()
        loss.backward()
        opt2.step()
        losses.append(loss.item())
    with torch.no_grad():
        dist2 = model2(x[:3])
        facts["two_d"] = [list(dist2.batch_shape), list(dist2.event_shape), list(dist2.mean.shape)]
    vector = nn.utils.parameters_to_vector(model.parameters())
    facts["n_params"] = vector.numel()
    nn.utils.vector_to_parameters(vector * 1.0, model.parameters())
    w = torch.empty(4, 6)
    nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
    facts["init_shape"] = [list(w.shape), nn.init.calculate_gain("leaky_relu", 0.2)]
    torch.save(model.state_dict(), args.checkpoint)
    model.load_state_dict(torch.load(args.checkpoint, weights_only=True))
    print(json.dumps({"library": torch.__name__, "losses": losses, "checks": checks, **facts}))


if __name__ == "__main__":
    main()
