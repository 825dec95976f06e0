"""Robust time-series analysis as a forecaster writes it in PyTorch: a daily series with trend,
seasonality, AR(1) noise, outliers and missing days; the period from the `torch.fft.rfft`
power spectrum, a Hann moving average by `F.conv1d` over a reflect-padded series, spectral
gating by `torch.stft` / `torch.istft` with a `torch.quantile` threshold, robust location and
scale by `nanmedian` / `nanquantile`, an AR(1) coefficient by Huber regression, quantile
regression (pinball loss) checked against `torch.quantile`, drawdowns by `cummax` / `cummin`,
a running log-sum-exp, `histc` / `histogram` / `searchsorted` / `bucketize` for an
empirical CDF, weekly statistics by `torch.segment_reduce`, and rankings of the rounded
values (many ties: `sort`, `argsort`, `topk` and `mode`, `unique` with counts), some into
`out=` tensors.
Run: python robust_timeseries_spectral.py CHECKPOINT [--deterministic].
"""

import argparse
import json
import math

import torch
import torch.nn.functional as F

DAYS = 280


def r(values, digits=4):
    return [round(v, digits) for v in torch.as_tensor(values).double().flatten().tolist()]


def make_series(deterministic):
    t = torch.arange(DAYS, dtype=torch.float32)
    shocks = torch.sin(1.3 * t) * torch.cos(0.7 * t.sqrt()) if deterministic else torch.randn(DAYS)
    noise = torch.zeros(DAYS)
    for i in range(1, DAYS):  # AR(1) with phi = 0.6
        noise[i] = 0.6 * noise[i - 1] + 0.3 * shocks[i]
    series = 10 + 0.02 * t + 2.0 * torch.sin(2 * math.pi * t / 7) + noise
    series[::37] += 6.0  # outliers
    observed = series.clone()
    observed[50:53] = float("nan")  # a gap
    return t, series, observed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(7)
    t, series, observed = make_series(args.deterministic)
    filled = torch.where(observed.isnan(), observed.nanmedian(), observed)

    # Period from the power spectrum of the detrended series.
    centred = filled - filled.mean()
    power = torch.fft.rfft(centred).abs() ** 2
    freqs = torch.fft.rfftfreq(DAYS)
    period = 1 / freqs[1:][power[1:].argmax()]

    # Hann moving average (reflect padding keeps the ends).
    kernel = torch.hann_window(9, periodic=False)
    kernel = (kernel / kernel.sum()).view(1, 1, -1)
    smooth = F.conv1d(F.pad(filled.view(1, 1, -1), (4, 4), mode="reflect"), kernel)[0, 0]

    # Spectral gating: zero the weakest STFT bins, resynthesise.
    window = torch.hann_window(32)
    spec = torch.stft(centred, 32, hop_length=8, window=window, return_complex=True)
    gate = spec.abs() >= torch.quantile(spec.abs().flatten(), 0.6)
    denoised = torch.istft(spec * gate, 32, hop_length=8, window=window, length=DAYS)

    # Robust location and scale, then the outliers they flag.
    median = observed.nanmedian()
    mad = (observed - median).abs().nanmedian()
    q = torch.tensor([0.05, 0.25, 0.5, 0.75, 0.95])
    quartiles = torch.nanquantile(observed, q, interpolation="linear")

    # AR(1) by Huber regression on the residuals of the smooth fit.
    resid = (filled - smooth).detach()
    resid_mad = (resid - resid.median()).abs().median()
    flagged = (resid.abs() > 3 * 1.4826 * resid_mad).nonzero().flatten()
    phi = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.Adam([phi], lr=0.05)
    losses = []
    for _ in range(60):
        optimizer.zero_grad()
        loss = F.huber_loss(phi * resid[:-1], resid[1:], delta=0.5)
        loss.backward()
        optimizer.step()
        losses.append(round(loss.item(), 6))

    # Quantile regression (intercept only) against torch.quantile.
    levels = torch.tensor([0.1, 0.5, 0.9])
    theta = filled.mean().repeat(3).requires_grad_(True)
    optimizer = torch.optim.Adam([theta], lr=0.2)
    for _ in range(150):
        optimizer.zero_grad()
        err = filled[:, None] - theta[None, :]
        pinball = torch.maximum(levels * err, (levels - 1) * err).mean()
        pinball.backward()
        optimizer.step()
    losses.append(round(pinball.item(), 5))

    # Drawdowns, a running log-sum-exp, an empirical CDF.
    peak, peak_at = torch.cummax(filled, 0)
    trough, _ = torch.cummin(filled, 0)
    drawdown = (peak - filled) / peak
    running = torch.logcumsumexp(filled / 5, 0)
    hist = torch.histc(filled, bins=8, min=5.0, max=25.0)
    counts, edges = torch.histogram(filled, bins=6, density=True)
    ordered = torch.sort(filled).values
    cdf_at = torch.searchsorted(ordered, torch.tensor([10.0, 12.0, 15.0]), right=True) / DAYS
    buckets = torch.bucketize(filled[:10], torch.tensor([9.0, 11.0, 13.0]))

    # Weekly statistics (the last week is short).
    lengths = torch.tensor([7] * (DAYS // 7 - 1) + [7])
    weekly_mean = torch.segment_reduce(filled, "mean", lengths=lengths)
    weekly_max = torch.segment_reduce(filled, "max", lengths=lengths, initial=0.0)

    # Rankings of rounded values: ties everywhere, as PyTorch's CPU sort orders them.
    rounded = filled.round()
    values, order = torch.empty(0), torch.empty(0, dtype=torch.long)
    torch.sort(rounded, descending=True, out=(values, order))
    top_values, top_index = torch.topk(rounded, 5)
    best = (torch.empty(0), torch.empty(0, dtype=torch.long))
    torch.max(rounded.view(40, 7), 1, out=best)
    mode = torch.mode(rounded)
    uniq, inverse, uniq_counts = torch.unique(rounded, return_inverse=True, return_counts=True)

    torch.save({"phi": phi.detach(), "theta": theta.detach()}, args.checkpoint)
    state = torch.load(args.checkpoint)
    report = {
        "library": torch.__name__,
        "losses": losses,
        "period": round(period.item(), 3),
        "smooth": r(smooth[::40]),
        "denoise_error": round((denoised - (series - series.mean())).abs().mean().item(), 4),
        "median_mad": [round(median.item(), 4), round(mad.item(), 4)],
        "quartiles": r(quartiles),
        "flagged": flagged.tolist(),
        "phi": round(state["phi"].item(), 3),
        "quantile_fit": r(state["theta"], 2),
        "quantile_exact": r(torch.quantile(filled, levels), 2),
        "max_drawdown": [round(drawdown.max().item(), 4), peak_at[drawdown.argmax()].item()],
        "trough": round(trough[-1].item(), 4),
        "logcumsumexp": r(running[::70]),
        "histc": hist.tolist(),
        "histogram": [r(counts), r(edges)],
        "cdf": r(cdf_at),
        "buckets": buckets.tolist(),
        "weekly": [r(weekly_mean[:5]), r(weekly_max[-3:])],
        "sort_ties": order[:20].tolist(),
        "argsort_ties": torch.argsort(rounded)[:20].tolist(),
        "stable": torch.argsort(rounded, stable=True)[:10].tolist(),
        "topk": [top_values.tolist(), top_index.tolist()],
        "weekly_argmax": best[1][:12].tolist(),
        "mode": [mode.values.item(), mode.indices.item()],
        "unique": [uniq.tolist(), uniq_counts.tolist(), inverse[:10].tolist()],
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
