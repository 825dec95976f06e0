"""Normalizing flows written with torch.distributions.transforms, as flow tutorials and
probabilistic-programming code do: a RealNVP affine coupling layer written as a custom
`Transform` subclass (`domain`/`codomain` constraints, `bijective`, `_call`, `_inverse`,
`log_abs_det_jacobian`, caching with `cache_size=1`), composed with `AffineTransform`,
`TanhTransform` and `SigmoidTransform` in a `ComposeTransform` over an
`Independent(Normal(...), 1)` base as a `TransformedDistribution`, trained a few Adam steps
by maximum likelihood on a two-moons-like set; the change of variables checked against the
autograd Jacobian's `slogdet`; `StickBreakingTransform` onto the simplex against a
`Dirichlet` (log_prob, `biject_to` / `transform_to` of constraints), `PowerTransform`,
`ExpTransform` (a `LogNormal` by hand), `CumulativeDistributionTransform`, `inv`, `sign`,
`forward_shape`, `event_dim`, and the repr of the composed transform.
Run: python normalizing_flow_transforms.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn as nn
from torch.distributions import (
    Dirichlet,
    Independent,
    LogNormal,
    Normal,
    TransformedDistribution,
    biject_to,
    constraints,
    transform_to,
)
from torch.distributions.transforms import (
    AffineTransform,
    ComposeTransform,
    CumulativeDistributionTransform,
    ExpTransform,
    PowerTransform,
    SigmoidTransform,
    StickBreakingTransform,
    TanhTransform,
    Transform,
)


class Coupling(Transform):
    """y_b = x_b * exp(s(x_a)) + t(x_a), y_a = x_a, with a mask choosing a."""

    domain = constraints.real_vector
    codomain = constraints.real_vector
    bijective = True

    def __init__(self, net, mask):
        super().__init__(cache_size=1)
        self.net = net
        self.mask = mask

    def _params(self, x):
        s, t = self.net(x * self.mask).chunk(2, dim=-1)
        return torch.tanh(s) * (1 - self.mask), t * (1 - self.mask)

    def _call(self, x):
        s, t = self._params(x)
        return x * s.exp() + t

    def _inverse(self, y):
        s, t = self._params(y)  # y_a == x_a
        return (y - t) * (-s).exp()

    def log_abs_det_jacobian(self, x, y):
        s, _ = self._params(x)
        return s.sum(-1)


def r(t, n=6):
    return [round(v, n) for v in torch.as_tensor(t).detach().flatten().tolist()]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    report = {"library": torch.__name__}
    dt = torch.float64

    nets = nn.ModuleList(
        [nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 4)) for _ in range(3)]
    ).double()
    with torch.no_grad():
        for i, p in enumerate(nets.parameters()):
            p.copy_(
                0.3
                * torch.sin(torch.arange(p.numel(), dtype=dt) * (0.7 + 0.1 * i)).reshape(p.shape)
            )
    masks = [torch.tensor([1.0, 0.0], dtype=dt), torch.tensor([0.0, 1.0], dtype=dt)]
    couplings = [Coupling(net, masks[i % 2]) for i, net in enumerate(nets)]
    flow = ComposeTransform(
        [
            *couplings,
            AffineTransform(torch.zeros(2, dtype=dt), torch.full((2,), 1.5, dtype=dt), event_dim=1),
        ]
    )
    base = Independent(Normal(torch.zeros(2, dtype=dt), torch.ones(2, dtype=dt)), 1)
    model = TransformedDistribution(base, flow)

    u = torch.linspace(0, math.pi, 40, dtype=dt)
    data = torch.cat(
        [
            torch.stack([u.cos(), u.sin()], 1),
            torch.stack([1 - u.cos(), 0.5 - u.sin()], 1),
        ]
    )
    if not args.deterministic:
        data = data + 0.05 * torch.randn_like(data)
    opt = torch.optim.Adam(nets.parameters(), lr=0.02)
    losses = []
    for _ in range(12):
        opt.zero_grad()
        loss = -model.log_prob(data).mean()
        loss.backward()
        opt.step()
        losses.append(round(loss.item(), 8))
    report["losses"] = losses

    # The change of variables against the autograd Jacobian.
    x0 = torch.tensor([0.3, -0.4], dtype=dt)
    jac = torch.autograd.functional.jacobian(lambda v: flow(v), x0)
    sign, logdet = torch.linalg.slogdet(jac)
    report["jacobian"] = {
        "ladj": round(flow.log_abs_det_jacobian(x0, flow(x0)).item(), 8),
        "slogdet": [sign.item(), round(logdet.item(), 8)],
        "roundtrip": r(flow.inv(flow(x0)) - x0, 10),
        "event_dim": [flow.domain.event_dim, flow.codomain.event_dim],
        "forward_shape": list(flow.forward_shape((5, 2))),
        "batch_event": [list(model.batch_shape), list(model.event_shape)],
        "sample": list(model.sample((3,)).shape),
        "rsample_grad": model.rsample((2,)).requires_grad,
    }

    # Bounded and simplex-valued variables.
    bounded = TransformedDistribution(
        Normal(torch.tensor(0.0, dtype=dt), 1.0),
        [AffineTransform(0.0, 0.5), TanhTransform()],
    )
    squashed = TransformedDistribution(Normal(torch.tensor(0.0, dtype=dt), 1.0), SigmoidTransform())
    pts = torch.tensor([-0.9, -0.2, 0.0, 0.5, 0.95], dtype=dt)
    sb = StickBreakingTransform()
    z = torch.tensor([[0.3, -1.0, 0.5], [0.0, 0.0, 0.0]], dtype=dt)
    simplex = sb(z)
    dirichlet = Dirichlet(torch.tensor([2.0, 3.0, 1.5, 1.0], dtype=dt))
    unconstrained = biject_to(dirichlet.support).inv(dirichlet.mean)
    logn = TransformedDistribution(Normal(torch.tensor(0.2, dtype=dt), 0.7), ExpTransform())
    cdf_t = CumulativeDistributionTransform(Normal(torch.tensor(0.0, dtype=dt), 1.0))
    report["bounded"] = {
        "tanh_log_prob": r(bounded.log_prob(pts)),
        "sigmoid_log_prob": r(squashed.log_prob(pts.abs().clamp(0.05, 0.95))),
        "simplex": r(simplex),
        "sums": r(simplex.sum(-1)),
        "sb_ladj": r(sb.log_abs_det_jacobian(z, simplex)),
        "sb_inv": r(sb.inv(simplex) - z, 10),
        "dirichlet_unconstrained": r(unconstrained),
        "dirichlet_log_prob": r(dirichlet.log_prob(simplex)),
        "interval": r(
            transform_to(constraints.interval(-1.0, 3.0))(torch.tensor([-2.0, 0.0, 2.0], dtype=dt))
        ),
        "positive": r(biject_to(constraints.positive)(torch.tensor([-1.0, 1.0], dtype=dt))),
        "lognormal": [
            round(logn.log_prob(torch.tensor(1.7, dtype=dt)).item(), 8),
            round(
                LogNormal(torch.tensor(0.2, dtype=dt), 0.7)
                .log_prob(torch.tensor(1.7, dtype=dt))
                .item(),
                8,
            ),
        ],
        "power": r(
            PowerTransform(torch.tensor(3.0, dtype=dt)).log_abs_det_jacobian(
                pts.abs() + 0.1, (pts.abs() + 0.1) ** 3
            )
        ),
        "cdf": r(cdf_t(pts)),
        "cdf_inv": r(cdf_t.inv(cdf_t(pts)) - pts, 10),
        "signs": [
            int(AffineTransform(0.0, -2.0).sign),
            int(TanhTransform().sign),
            int(ExpTransform().inv.sign),
        ],
        "repr": repr(ComposeTransform([AffineTransform(0.0, 0.5), TanhTransform()])).split("\n"),
    }
    torch.save(nets.state_dict(), args.checkpoint)
    state = torch.load(args.checkpoint)
    report["state"] = {k: [str(v.dtype), list(v.shape)] for k, v in list(state.items())[:2]}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
