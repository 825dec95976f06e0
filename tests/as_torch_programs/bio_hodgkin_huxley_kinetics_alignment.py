"""Computational biology and chemistry as their PyTorch code is written: a Hodgkin-Huxley
neuron integrated by exponential Euler (Rush-Larsen), its gating rates through `torch.expm1`
(the removable singularity at V = -40 / -55 mV handled by `torch.where`), spikes counted by
sign changes and the sodium conductance differentiated through 200 steps; first-order
reaction networks solved exactly by `torch.linalg.matrix_exp` of a rate matrix, rate
constants (`F.softplus(beta=)`-parameterised) fitted to noisy concentrations, with
`torch.linalg.eig` giving the relaxation times; and a soft Needleman-Wunsch alignment score
computed over anti-diagonals (`torch.diagonal(offset=)` of the flipped score matrix placed by
`F.pad`, `torch.logsumexp` at temperature gamma), its gradient with respect to the
substitution scores being the expected alignment, checked against a hard DP.
Run: python bio_hodgkin_huxley_kinetics_alignment.py CHECKPOINT [--deterministic]
(see cnn_custom_dataset).
"""

import argparse
import json

import torch
import torch.nn.functional as F

DT = torch.float64


def r(values, digits=6):
    return [round(v, digits) for v in torch.as_tensor(values).detach().double().flatten().tolist()]


def vtrap(x, y):
    """x / (exp(x / y) - 1), finite at x = 0 where it tends to y."""
    safe = torch.where(x.abs() < 1e-7, torch.full_like(x, 1e-7), x)
    return torch.where(x.abs() < 1e-7, y * (1 - x / y / 2), safe / torch.expm1(safe / y))


def hh_rates(v):
    """Opening (alpha) and closing (beta) rates of the n, m, h gates, each of shape (3, batch)."""
    alpha_nm = torch.tensor([[0.01], [0.1]], dtype=DT) * vtrap(
        torch.stack([-(v + 55), -(v + 40)]), torch.tensor(10.0, dtype=DT)
    )
    decays = torch.exp(-(v + 65) / torch.tensor([[80.0], [18.0], [20.0]], dtype=DT))
    decays = decays * torch.tensor([[0.125], [4.0], [0.07]], dtype=DT)
    beta_h = torch.sigmoid((v + 35) / 10)
    alpha = torch.cat([alpha_nm, decays[2:]])
    beta = torch.cat([decays[:2], beta_h[None]])
    return alpha, beta


def simulate_neuron(g_na, current, steps=200, dt=0.05):
    """Exponential Euler (Rush-Larsen): gates relax exactly towards alpha / (alpha + beta)."""
    v = torch.full_like(current, -65.0)
    gates = torch.tensor([0.317, 0.053, 0.596], dtype=DT)[:, None].expand(3, current.shape[0])
    trace = []
    for _ in range(steps):
        alpha, beta = hh_rates(v)
        n, m, h = gates.unbind(0)
        i_ion = g_na * m**3 * h * (v - 50) + 36 * n**4 * (v + 77) + 0.3 * (v + 54.387)
        v = v + dt * (current - i_ion)
        steady = alpha / (alpha + beta)
        gates = steady + (gates - steady) * torch.exp(-dt * (alpha + beta))
        trace.append(v)
    return torch.stack(trace, 1)


def rate_matrix(k):
    """A <-> B -> C with rates k = (k_ab, k_ba, k_bc): d[c]/dt = M [c]."""
    k_ab, k_ba, k_bc = k.unbind()
    zero = torch.zeros((), dtype=DT)
    return torch.stack(
        [
            torch.stack([-k_ab, k_ba, zero]),
            torch.stack([k_ab, -k_ba - k_bc, zero]),
            torch.stack([zero, k_bc, zero]),
        ]
    )


def soft_nw(scores, gap, gamma):
    """Soft-max Needleman-Wunsch, one anti-diagonal i + j = d at a time, indexed by i."""
    n, m = scores.shape
    neg = -1e10
    i = torch.arange(n + 1)
    prev2 = torch.where(i == 0, 0.0, neg).to(DT)  # d = 0: R[0, 0]
    prev1 = torch.where(i <= 1, -gap, neg).to(DT)  # d = 1: R[0, 1], R[1, 0]
    flipped = scores.flip(1)  # anti-diagonals of the scores are diagonals of the flip

    def shift(v):
        return torch.cat([torch.full((1,), neg, dtype=DT), v[:-1]])

    for d in range(2, n + m + 1):
        j = d - i
        diag = torch.diagonal(flipped, offset=m + 1 - d)  # scores[r, d - 2 - r]
        first_row = max(0, d - m - 1)
        s = F.pad(diag, (first_row + 1, n - first_row - diag.shape[0]))
        moves = torch.stack([shift(prev2) + s, shift(prev1) - gap, prev1 - gap], -1)
        current = gamma * torch.logsumexp(moves / gamma, dim=-1)
        current = torch.where((i == 0) | (j == 0), -gap * d, current)
        prev2, prev1 = prev1, torch.where((j >= 0) & (j <= m), current, neg)
    return prev1[n]


def hard_nw(scores, gap):
    n, m = scores.shape
    R = torch.zeros(n + 1, m + 1, dtype=DT)
    R[0, :] = -gap * torch.arange(m + 1)
    R[:, 0] = -gap * torch.arange(n + 1)
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            R[i, j] = torch.max(
                torch.stack(
                    [R[i - 1, j - 1] + scores[i - 1, j - 1], R[i - 1, j] - gap, R[i, j - 1] - gap]
                )
            )
    return R[n, m]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(6)
    report = {"library": torch.__name__, "losses": []}

    currents = torch.tensor([2.0, 10.0], dtype=DT)
    with torch.no_grad():
        target = simulate_neuron(torch.tensor(120.0, dtype=DT), currents)
    spikes = ((target[:, :-1] < 0) & (target[:, 1:] >= 0)).sum(1)
    g_na = torch.tensor(100.0, dtype=DT, requires_grad=True)
    loss = F.smooth_l1_loss(simulate_neuron(g_na, currents), target, beta=5.0)
    (slope,) = torch.autograd.grad(loss, g_na)
    report["losses"].append(round(loss.item(), 6))
    report["neuron"] = {
        "spikes": spikes.tolist(),
        "peak": r(target.amax(1), 4),
        "dloss_dg": round(slope.item(), 6),
        "vtrap_at_pole": r(
            vtrap(torch.tensor([0.0, 1e-9, 1.0], dtype=DT), torch.tensor(10.0, dtype=DT)), 8
        ),
    }

    true_k = torch.tensor([0.8, 0.3, 0.5], dtype=DT)
    times = torch.linspace(0.0, 6.0, 13, dtype=DT)
    c0 = torch.tensor([1.0, 0.0, 0.0], dtype=DT)
    observed = torch.linalg.matrix_exp(times[:, None, None] * rate_matrix(true_k)) @ c0
    if args.deterministic:
        observed = observed + 0.005 * torch.sin(7 * times)[:, None]
    else:
        observed = observed + 0.005 * torch.randn_like(observed)
    raw = torch.zeros(3, dtype=DT, requires_grad=True)
    adam = torch.optim.Adam([raw], lr=0.1)
    for step in range(40):
        adam.zero_grad()
        k = F.softplus(raw, beta=2.0)
        predicted = torch.linalg.matrix_exp(times[:, None, None] * rate_matrix(k)) @ c0
        loss = (predicted - observed).pow(2).sum()
        loss.backward()
        adam.step()
        if step % 10 == 0:
            report["losses"].append(round(loss.item(), 6))
    k = F.softplus(raw.detach(), beta=2.0)
    eigenvalues, _ = torch.linalg.eig(rate_matrix(k))
    rates = torch.sort(-eigenvalues.real).values
    report["kinetics"] = {
        "k": r(k, 3),
        "relaxation": r(1 / rates[1:], 4),
        "mass_conserved": bool(torch.allclose(predicted.sum(1), torch.ones(13, dtype=DT))),
    }

    a = torch.tensor([0, 1, 2, 1, 3, 0])
    b = torch.tensor([0, 2, 1, 3, 3])
    substitution = torch.full((4, 4), -1.0, dtype=DT).fill_diagonal_(2.0)
    scores = substitution[a][:, b].clone().requires_grad_(True)
    gap = torch.tensor(1.0, dtype=DT)
    values = []
    for gamma in (1.0, 0.1, 0.01):
        values.append(soft_nw(scores, gap, gamma))
    (expected_alignment,) = torch.autograd.grad(values[0], scores)
    report["alignment"] = {
        "soft": r(torch.stack(values), 5),
        "hard": round(hard_nw(scores.detach(), gap).item(), 5),
        "expected": r(expected_alignment.sum(1), 5),
        "matches": round(expected_alignment.sum().item(), 5),
    }

    torch.save(
        {"scores": scores.detach(), "observed": observed, "trace": target[:, ::50]}, args.checkpoint
    )
    state = torch.load(args.checkpoint)
    report["state"] = {k: [str(v.dtype), list(v.shape)] for k, v in state.items()}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
