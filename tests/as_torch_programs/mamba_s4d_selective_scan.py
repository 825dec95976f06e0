"""A tiny state-space language model as the Mamba and S4D reference code write it: a block
with an input projection split by `chunk`, a depthwise causal `nn.Conv1d(groups=d,
padding=k-1)` trimmed back to the sequence length, `F.silu` gates, a selective scan whose
step size comes from `F.softplus(..., beta=, threshold=)` and whose state matrix is
`-torch.exp(A_log)`, discretised with `torch.exp(torch.einsum("...l,dn->...ldn"))`, scanned
with a Python loop and checked against a `torch.cumsum` / `torch.cumprod` closed form; beside it
an S4D layer whose convolution kernel comes from a Vandermonde `einsum` of complex numbers
(`torch.complex`, `.real`, `2 *`) applied by `torch.fft.rfft(n=2L)` / `irfft(n=2L)[..., :L]`;
RMSNorm written by hand with `torch.rsqrt`, weight tying, AdamW with a no-decay group, and
`torch.inference_mode` generation.

Run: python mamba_s4d_selective_scan.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB, D_MODEL, D_STATE, SEQ = 11, 12, 4, 10


class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def selective_scan(u, delta, a, b, c, d):
    """u, delta: (b, d, l); a: (d, n); b, c: (b, l, n). The recurrence h = dA h + dB u."""
    delta_a = torch.exp(torch.einsum("...dl,dn->...ldn", delta, a))
    delta_b_u = torch.einsum("bdl,bln,bdl->bldn", delta, b, u)
    h = torch.zeros(u.size(0), u.size(1), a.size(1))
    ys = []
    for i in range(u.size(2)):
        h = delta_a[:, i] * h + delta_b_u[:, i]
        ys.append(torch.einsum("bdn,bn->bd", h, c[:, i, :]))
    return torch.stack(ys, dim=2) + u * d.unsqueeze(-1)


def scan_closed_form(u, delta, a, b, c, d):
    """The same scan as prefix products: h_t = sum_s prod_{s<r<=t} dA_r dB_s u_s."""
    log_a = torch.einsum("bdl,dn->bldn", delta, a)
    cum = torch.cumsum(log_a, dim=1)
    delta_b_u = torch.einsum("bdl,bln,bdl->bldn", delta, b, u)
    h = torch.exp(cum) * torch.cumsum(delta_b_u * torch.exp(-cum), dim=1)
    y = torch.einsum("bldn,bln->bdl", h, c)
    decay = torch.cumprod(torch.exp(log_a), dim=1)
    return y + u * d.unsqueeze(-1), decay


class MambaBlock(nn.Module):
    def __init__(self, d, n, k=3):
        super().__init__()
        self.in_proj = nn.Linear(d, 2 * d, bias=False)
        self.conv1d = nn.Conv1d(d, d, kernel_size=k, groups=d, padding=k - 1)
        self.x_proj = nn.Linear(d, 1 + 2 * n, bias=False)
        self.dt_proj = nn.Linear(1, d)
        self.A_log = nn.Parameter(torch.log(torch.arange(1, n + 1).float().repeat(d, 1)))
        self.D = nn.Parameter(torch.ones(d))
        self.out_proj = nn.Linear(d, d, bias=False)
        self.n = n

    def forward(self, x):
        seqlen = x.shape[1]
        xz = self.in_proj(x)
        x, z = xz.chunk(2, dim=-1)
        x = self.conv1d(x.transpose(1, 2))[..., :seqlen]
        x = F.silu(x)
        dbc = self.x_proj(x.transpose(1, 2))
        dt, B, C = torch.split(dbc, [1, self.n, self.n], dim=-1)
        delta = F.softplus(self.dt_proj(dt), beta=2.0, threshold=4.0).transpose(1, 2)
        y = selective_scan(x, delta, -torch.exp(self.A_log.float()), B, C, self.D)
        return self.out_proj(y.transpose(1, 2) * F.silu(z))


class S4DKernel(nn.Module):
    def __init__(self, d, n):
        super().__init__()
        self.log_dt = nn.Parameter(torch.linspace(math.log(0.01), math.log(0.1), d))
        self.log_A_real = nn.Parameter(torch.log(0.5 * torch.ones(d, n // 2)))
        self.A_imag = nn.Parameter(math.pi * torch.arange(n // 2).float().repeat(d, 1))
        self.C_re = nn.Parameter(torch.cos(torch.arange(d * (n // 2)).float()).view(d, n // 2))
        self.C_im = nn.Parameter(torch.sin(torch.arange(d * (n // 2)).float()).view(d, n // 2))

    def forward(self, length):
        dt = torch.exp(self.log_dt)
        C = torch.complex(self.C_re, self.C_im)
        A = -torch.exp(self.log_A_real) + 1j * self.A_imag
        dtA = A * dt.unsqueeze(-1)
        K = dtA.unsqueeze(-1) * torch.arange(length, device=A.device)
        C = C * (torch.exp(dtA) - 1.0) / A
        return 2 * torch.einsum("dn,dnl->dl", C, torch.exp(K)).real


class S4D(nn.Module):
    def __init__(self, d, n):
        super().__init__()
        self.kernel = S4DKernel(d, n)
        self.D = nn.Parameter(torch.full((d,), 0.5))

    def forward(self, u):
        L = u.size(-1)
        k = self.kernel(L)
        k_f = torch.fft.rfft(k, n=2 * L)
        u_f = torch.fft.rfft(u, n=2 * L)
        y = torch.fft.irfft(u_f * k_f, n=2 * L)[..., :L]
        return F.gelu(y + u * self.D.unsqueeze(-1))


class TinySSM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, D_MODEL)
        self.norm1, self.norm2, self.norm_f = (RMSNorm(D_MODEL) for _ in range(3))
        self.mamba = MambaBlock(D_MODEL, D_STATE)
        self.s4d = S4D(D_MODEL, D_STATE)
        self.lm_head = nn.Linear(D_MODEL, VOCAB, bias=False)
        self.lm_head.weight = self.embedding.weight

    def forward(self, tokens):
        x = self.embedding(tokens)
        x = x + self.mamba(self.norm1(x))
        x = x + self.s4d(self.norm2(x).transpose(1, 2)).transpose(1, 2)
        return self.lm_head(self.norm_f(x))


def make_tokens(n):
    """Each sequence repeats a short motif, so the next token is predictable from context."""
    rows = [[(3 * i + (t % (2 + i % 3))) % VOCAB for t in range(SEQ + 1)] for i in range(n)]
    return torch.tensor(rows)


def fixed_init(model):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.startswith(("mamba.A_log", "s4d.kernel")):
                continue
            values = torch.cos(torch.arange(p.numel(), dtype=torch.float32) * 0.71 + len(name))
            p.copy_(values.view_as(p) * (0.3 if p.dim() > 1 else 0.05) + (p.dim() == 1) * 1.0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)

    model = TinySSM()
    if args.deterministic:
        fixed_init(model)
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.dim() < 2 or "A_log" in name else decay).append(p)
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
        lr=0.02,
    )
    data = make_tokens(12)
    if not args.deterministic:
        data = data[torch.randperm(len(data))]
    losses = []
    for _ in range(6):
        for batch in data.split(6):
            logits = model(batch[:, :-1])
            loss = F.cross_entropy(logits.reshape(-1, VOCAB), batch[:, 1:].reshape(-1))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        losses.append(loss.item())

    u = torch.sin(torch.arange(2 * 3 * 5, dtype=torch.float32)).view(2, 3, 5)
    delta = F.softplus(torch.cos(torch.arange(30, dtype=torch.float32)).view(2, 3, 5))
    A = -torch.exp(torch.linspace(-1, 1, 3 * 4).view(3, 4))
    B = torch.sin(torch.arange(40, dtype=torch.float32) * 0.3).view(2, 5, 4)
    C = torch.cos(torch.arange(40, dtype=torch.float32) * 0.7).view(2, 5, 4)
    looped = selective_scan(u, delta, A, B, C, torch.ones(3))
    closed, decay_prod = scan_closed_form(u, delta, A, B, C, torch.ones(3))

    torch.save(model.state_dict(), args.checkpoint)
    again = TinySSM()
    again.load_state_dict(torch.load(args.checkpoint, weights_only=True))
    with torch.inference_mode():
        tokens = data[:1, :3]
        for _ in range(5):
            nxt = again(tokens)[:, -1].argmax(-1, keepdim=True)
            tokens = torch.cat([tokens, nxt], dim=1)
        kernel = again.s4d.kernel(6)
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "scan_agrees": bool(torch.allclose(looped, closed, atol=1e-4)),
                "scan_sum": round(looped.sum().item(), 3),
                "decay_last": round(decay_prod[:, -1].mean().item(), 4),
                "generated": tokens.tolist(),
                "kernel": [round(v, 4) for v in kernel[0].tolist()],
                "tied": again.lm_head.weight is again.embedding.weight,
                "softplus_tail": F.softplus(torch.tensor([1.0, 2.5]), beta=2.0, threshold=4.0)
                .mul(1000)
                .round()
                .tolist(),
            }
        )
    )


if __name__ == "__main__":
    main()
