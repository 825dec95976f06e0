"""Derivatives pricing as quant notebooks write it in PyTorch: Black-Scholes prices from
`torch.special.ndtr` with the greeks by autograd (delta and vega, then gamma, vanna and volga
by differentiating again under `create_graph=True`), far out-of-the-money tails by
`torch.special.log_ndtr`, implied volatilities recovered by a vectorised Newton iteration whose
`torch.where` guards freeze converged quotes and bisect when vega vanishes, a Monte Carlo price
with antithetic variates and pathwise delta and vega (stratified normals from
`torch.special.ndtri`), and an American put by Longstaff-Schwartz regression with
`torch.linalg.lstsq(driver="gelsd")` on the in-the-money paths.
Run: python option_greeks_lsm_implied_vol.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch

DT = torch.float64


def r(t, n=6):
    return [round(v, n) for v in torch.as_tensor(t).detach().double().flatten().tolist()]


def black_scholes(spot, strike, vol, rate, expiry, call=True):
    sd = vol * torch.sqrt(expiry)
    d1 = (torch.log(spot / strike) + (rate + 0.5 * vol**2) * expiry) / sd
    d2 = d1 - sd
    discount = torch.exp(-rate * expiry)
    if call:
        return spot * torch.special.ndtr(d1) - strike * discount * torch.special.ndtr(d2)
    return strike * discount * torch.special.ndtr(-d2) - spot * torch.special.ndtr(-d1)


def implied_vol(price, spot, strike, rate, expiry, iters=12):
    """Newton on sigma per quote; converged quotes stay put, tiny vega falls back to halving."""
    vol = torch.full_like(strike, 0.3)
    for _ in range(iters):
        v = vol.detach().requires_grad_()
        model = black_scholes(spot, strike, v, rate, expiry)
        (vega,) = torch.autograd.grad(model.sum(), v)
        gap = model.detach() - price
        newton = vol - gap / vega.clamp_min(1e-12)
        step = torch.where(vega > 1e-8, newton, 0.5 * vol)
        vol = torch.where(gap.abs() < 1e-12, vol, step.clamp(1e-4, 5.0))
    return vol


def normals(n, shift):
    """Stratified standard normals, shuffled by a fixed stride so paths are not sorted."""
    u = (torch.arange(n, dtype=DT) + 0.5) / n
    return torch.special.ndtri(u)[(torch.arange(n) * shift) % n]


def longstaff_schwartz(spot, strike, vol, rate, expiry, z):
    """American put: simulate log-normal paths, step back regressing continuation values on
    (1, S, S^2) over the paths that are in the money."""
    steps = z.shape[1]
    dt = expiry / steps
    log_paths = torch.cumsum((rate - 0.5 * vol**2) * dt + vol * math.sqrt(dt) * z, dim=1)
    paths = spot * torch.exp(log_paths)
    cash = torch.clamp_min(strike - paths[:, -1], 0.0)
    exercised = torch.zeros(z.shape[0], dtype=torch.bool)
    for t in range(steps - 2, -1, -1):
        cash = cash * math.exp(-rate * dt)
        s = paths[:, t]
        payoff = torch.clamp_min(strike - s, 0.0)
        itm = payoff > 0
        basis = torch.stack([torch.ones_like(s), s / strike, (s / strike) ** 2], 1)
        fit = torch.linalg.lstsq(basis[itm], cash[itm, None], driver="gelsd")
        continuation = (basis @ fit.solution).squeeze(1)
        exercise = itm & (payoff > continuation)
        cash = torch.where(exercise, payoff, cash)
        exercised |= exercise
    price = cash.mean() * math.exp(-rate * dt)
    return price, exercised.sum().item(), fit.rank.item(), r(fit.singular_values, 5)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    report = {"library": torch.__name__, "losses": []}

    # Greeks by autograd, second order through create_graph.
    spot = torch.tensor(100.0, dtype=DT, requires_grad=True)
    vol = torch.tensor(0.25, dtype=DT, requires_grad=True)
    strike, rate, expiry = torch.tensor(105.0, dtype=DT), 0.03, torch.tensor(0.75, dtype=DT)
    price = black_scholes(spot, strike, vol, rate, expiry)
    delta, vega = torch.autograd.grad(price, (spot, vol), create_graph=True)
    gamma, vanna = torch.autograd.grad(delta, (spot, vol), retain_graph=True)
    (volga,) = torch.autograd.grad(vega, vol)
    put = black_scholes(spot, strike, vol, rate, expiry, call=False)
    parity = price - put - (spot - strike * torch.exp(-rate * expiry))
    report["greeks"] = {
        "price": round(price.item(), 8),
        "delta_vega": [round(delta.item(), 8), round(vega.item(), 8)],
        "gamma_vanna_volga": [
            round(gamma.item(), 8),
            round(vanna.item(), 8),
            round(volga.item(), 8),
        ],
        "parity": round(parity.item(), 10),
        "requires_grad": [delta.requires_grad, gamma.requires_grad],
    }
    report["losses"].append(round(price.item(), 8))

    # Deep out of the money: log_ndtr stays finite where log(ndtr) underflows.
    d = torch.tensor([-40.0, -10.0, -1.0, 0.0, 3.0], dtype=DT, requires_grad=True)
    tail = torch.special.log_ndtr(d)
    (dtail,) = torch.autograd.grad(tail.sum(), d)
    report["tails"] = {
        "log_ndtr": r(tail, 6),
        "ndtr_zero": (torch.special.ndtr(d.detach()) == 0).tolist()[::2],
        "grad": r(dtail, 6),
        "float32": r(torch.special.log_ndtr(d.detach().float()), 3),
    }

    # A smile of quotes, inverted back to volatilities.
    strikes = torch.linspace(70.0, 140.0, 8, dtype=DT)
    true_vol = 0.2 + 0.1 * ((strikes - 100.0) / 50.0) ** 2
    if not args.deterministic:
        true_vol = true_vol + 0.001 * torch.rand(8, dtype=DT)
    quotes = black_scholes(torch.tensor(100.0, dtype=DT), strikes, true_vol, rate, expiry)
    recovered = implied_vol(quotes, torch.tensor(100.0, dtype=DT), strikes, rate, expiry)
    report["implied"] = {
        "vol": r(recovered, 6),
        "max_err": float(f"{(recovered - true_vol).abs().max().item():.1e}") < 1e-8,
    }
    report["losses"].append(round((recovered - true_vol).abs().max().item(), 8))

    # Monte Carlo with antithetic variates; pathwise delta and vega by autograd.
    n = 4000
    z = normals(n, 1237)
    if not args.deterministic:
        z = torch.randn(n, dtype=DT)
    s0 = torch.tensor(100.0, dtype=DT, requires_grad=True)
    sigma = torch.tensor(0.25, dtype=DT, requires_grad=True)
    both = torch.cat([z, -z])
    terminal = s0 * torch.exp((rate - 0.5 * sigma**2) * expiry + sigma * torch.sqrt(expiry) * both)
    payoff = torch.exp(-rate * expiry) * torch.relu(terminal - strike)
    mc = payoff.view(2, n).mean(0)
    mc_price = mc.mean()
    mc_delta, mc_vega = torch.autograd.grad(mc_price, (s0, sigma))
    report["monte_carlo"] = {
        "price": round(mc_price.item(), 5),
        "stderr": round((mc.std(unbiased=True) / math.sqrt(n)).item(), 6),
        "delta_vega": [round(mc_delta.item(), 5), round(mc_vega.item(), 4)],
        "close": bool(torch.isclose(mc_price, price.detach(), rtol=2e-2)),
    }
    report["losses"].append(round(mc_price.item(), 6))

    # American put by least-squares Monte Carlo.
    paths = 600
    steps = 10
    grid = normals(paths * steps, 7919).view(paths, steps)
    if not args.deterministic:
        grid = torch.randn(paths, steps, dtype=DT)
    amer, exercised, rank, singular = longstaff_schwartz(100.0, 105.0, 0.25, rate, 0.75, grid)
    european = black_scholes(
        torch.tensor(100.0, dtype=DT), torch.tensor(105.0, dtype=DT), 0.25, rate, expiry, call=False
    )
    report["american"] = {
        "price": round(amer.item(), 5),
        "premium_positive": bool(amer > european - 0.1),
        "exercised": exercised,
        "rank": rank,
        "singular": singular,
    }
    report["losses"].append(round(amer.item(), 6))

    torch.save({"vol": recovered, "strikes": strikes}, args.checkpoint)
    state = torch.load(args.checkpoint)
    report["state"] = {k: [list(v.shape), str(v.dtype)] for k, v in state.items()}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
