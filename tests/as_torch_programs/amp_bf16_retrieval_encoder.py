"""A dual-encoder retrieval model evaluated in bfloat16, as embedding / RAG code on CPUs writes
it: a small attention encoder trained in float32 (an HF-style additive padding mask from
`torch.finfo(dtype).min`, in float32 however the model is cast), then evaluated two ways in
bfloat16: under `torch.autocast("cpu", dtype=torch.bfloat16)` and after
`model.to(torch.bfloat16)` with the float32 mask still passed to
`F.scaled_dot_product_attention`. Under autocast the program leans on PyTorch's float32 list:
`torch.cdist` retrieval scores, `torch.quantile` of the distances, a `triplet_margin_loss`,
`torch.fft.rfft` features, rotary phases by `torch.polar` / `view_as_complex`, whitening by
`torch.linalg.eigh` of the covariance and `torch.linalg.solve`; it prints their dtypes and
checks each against the float32 run within bfloat16's precision.

Run: python amp_bf16_retrieval_encoder.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json

import torch
import torch.nn as nn
import torch.nn.functional as F

VOCAB, DIM, HEADS, PAD = 20, 16, 2, 0


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, DIM, padding_idx=PAD)
        self.qkv = nn.Linear(DIM, 3 * DIM)
        self.out = nn.Linear(DIM, DIM)
        self.norm = nn.LayerNorm(DIM)

    def forward(self, tokens, mask):
        h = self.embed(tokens)
        b, t, _ = h.shape
        q, k, v = self.qkv(h).view(b, t, 3, HEADS, DIM // HEADS).permute(2, 0, 3, 1, 4)
        attn = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        h = self.norm(h + self.out(attn.transpose(1, 2).reshape(b, t, DIM)))
        keep = (tokens != PAD).unsqueeze(-1).to(h.dtype)
        return F.normalize((h * keep).sum(1) / keep.sum(1), dim=-1)


def additive_mask(tokens):
    """(B, 1, 1, T): 0 where a key is a real token, the float32 minimum at padding."""
    pad = (tokens == PAD)[:, None, None, :]
    return torch.zeros(pad.shape).masked_fill(pad, torch.finfo(torch.float32).min)


def make_pairs(n=8, length=6):
    i = torch.arange(n)[:, None]
    j = torch.arange(length)[None, :]
    queries = (i * 3 + j * 5) % (VOCAB - 1) + 1
    documents = (queries + 1) % (VOCAB - 1) + 1
    queries[i.squeeze(1) % 3 == 0, -2:] = PAD  # some shorter queries
    return queries, documents


def fixed_init(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            wave = torch.sin(torch.arange(p.numel(), dtype=torch.float64) * 0.77 + i)
            p.copy_((0.4 * wave).view_as(p))
        model.embed.weight[PAD] = 0.0


def within(low, exact, tol):
    return bool((low.float() - exact.float()).abs().max() <= tol)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    queries, documents = make_pairs()
    model = Encoder()
    if args.deterministic:
        fixed_init(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.03)
    labels = torch.arange(len(queries))
    losses = []
    for _ in range(6):
        zq = model(queries, additive_mask(queries))
        zd = model(documents, additive_mask(documents))
        loss = F.cross_entropy(zq @ zd.T / 0.1, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())

    model.eval()
    facts, dtypes = {}, {}
    with torch.no_grad():
        zq = model(queries, additive_mask(queries))
        zd = model(documents, additive_mask(documents))
        exact = {
            "cdist": torch.cdist(zq, zd),
            "quantile": torch.quantile(torch.cdist(zq, zd), torch.tensor([0.1, 0.5, 0.9])),
            "triplet": F.triplet_margin_loss(zq, zd, zd.roll(1, 0), margin=0.5),
            "spectrum": torch.fft.rfft(zq).abs(),
        }
        facts["top1"] = torch.cdist(zq, zd).argmin(1).tolist()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            aq = model(queries, additive_mask(queries))
            ad = model(documents, additive_mask(documents))
            scores = torch.cdist(aq, ad)
            low = {
                "cdist": scores,
                "quantile": torch.quantile(scores, torch.tensor([0.1, 0.5, 0.9])),
                "triplet": F.triplet_margin_loss(aq, ad, ad.roll(1, 0), margin=0.5),
                "spectrum": torch.fft.rfft(aq).abs(),
            }
            dtypes["embedding"] = str(aq.dtype)
            dtypes["logits"] = str((aq @ ad.T).dtype)
            phases = torch.polar(torch.ones(4, DIM // 2), aq[:4, : DIM // 2])
            rotated = torch.view_as_complex(aq[:4].float().reshape(4, -1, 2)) * phases
            dtypes["rotary"] = [str(phases.dtype), str(rotated.dtype)]
            centred = aq - aq.mean(0)
            cov = centred.T @ centred / (len(aq) - 1) + 0.1 * torch.eye(DIM)
            evals, _ = torch.linalg.eigh(cov)
            solved = torch.linalg.solve(cov, centred.T)
            dtypes["cov"] = str(cov.dtype)
            dtypes["eigh"] = str(evals.dtype)
            dtypes["solve"] = str(solved.dtype)
        for name, value in low.items():
            dtypes[name] = str(value.dtype)
        facts["autocast_close"] = {name: within(low[name], exact[name], 0.08) for name in low}
        facts["eig_positive"] = bool((evals > 0).all())
        half = Encoder()
        half.load_state_dict(model.state_dict())
        half.to(torch.bfloat16).eval()
        hq = half(queries, additive_mask(queries))  # a float32 mask with bfloat16 q, k, v
        hd = half(documents, additive_mask(documents))
        dtypes["cast_model"] = str(hq.dtype)
        facts["cast_close"] = within(hq, zq, 0.08) and within(hd, zd, 0.08)
    facts["dtypes"] = dtypes
    torch.save(model.state_dict(), args.checkpoint)
    state = torch.load(args.checkpoint, weights_only=True)
    facts["state_dtypes"] = sorted({str(v.dtype) for v in state.values()})
    print(json.dumps({"library": torch.__name__, "losses": losses, **facts}))


if __name__ == "__main__":
    main()
