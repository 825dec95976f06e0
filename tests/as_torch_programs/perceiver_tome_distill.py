"""Vision transformers beyond ViT, written the way their reference code writes them: a
Perceiver-style latent array that cross-attends to pixels (`nn.MultiheadAttention` with
`kdim`/`vdim`), a Swin-style relative position bias table indexed through `meshgrid` +
`flatten` + `permute`, ToMe token merging (bipartite matching by `topk`/`max` over cosine
similarities, `argsort`, `gather` and `scatter_reduce(reduce="mean")`), a DeiT distillation
token trained against a frozen teacher with hard labels, stochastic depth written by hand
(`bernoulli_` / `div_`), `cross_entropy(label_smoothing=)`, `clip_grad_value_`, and AdamW
under CosineAnnealingWarmRestarts.

Run: python perceiver_tome_distill.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.lr_scheduler import CosineAnnealingWarmRestarts

DIM, HEADS, SIDE, CLASSES = 8, 2, 4, 3


def drop_path(x, p, training):
    """Stochastic depth: drop a whole residual branch per sample, rescale the survivors."""
    if p == 0.0 or not training:
        return x
    keep = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(1 - p)
    return x * keep.div_(1 - p)


class RelPosAttention(nn.Module):
    def __init__(self, side):
        super().__init__()
        self.qkv = nn.Linear(DIM, 3 * DIM)
        self.proj = nn.Linear(DIM, DIM)
        self.table = nn.Parameter(torch.zeros((2 * side - 1) ** 2, HEADS))
        coords = torch.stack(torch.meshgrid(torch.arange(side), torch.arange(side), indexing="ij"))
        flat = torch.flatten(coords, 1)
        rel = (flat[:, :, None] - flat[:, None, :]).permute(1, 2, 0).contiguous()
        rel[:, :, 0] += side - 1
        rel[:, :, 1] += side - 1
        rel[:, :, 0] *= 2 * side - 1
        self.register_buffer("index", rel.sum(-1), persistent=False)

    def forward(self, x):
        b, n, _ = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, HEADS, DIM // HEADS).permute(2, 0, 3, 1, 4)
        bias = self.table[self.index.view(-1)].view(n, n, -1).permute(2, 0, 1)
        attn = (q @ k.transpose(-2, -1)) * (DIM // HEADS) ** -0.5 + bias.unsqueeze(0)
        out = (attn.softmax(-1) @ v).transpose(1, 2).reshape(b, n, DIM)
        return self.proj(out), k.mean(1)


def tome_merge(x, keys, r):
    """Merge the r most similar (even -> odd) token pairs, averaging them (ToMe)."""
    keys = keys / keys.norm(dim=-1, keepdim=True)
    a, b = keys[:, ::2], keys[:, 1::2]
    scores = a @ b.transpose(-1, -2)
    node_max, node_idx = scores.max(dim=-1)
    edge_idx = node_max.argsort(dim=-1, descending=True)[..., None]
    unm_idx, src_idx = edge_idx[:, r:], edge_idx[:, :r]
    dst_idx = node_idx[..., None].gather(1, src_idx)
    src, dst = x[:, ::2], x[:, 1::2]
    c = x.shape[-1]
    unm = src.gather(1, unm_idx.expand(-1, -1, c))
    moved = src.gather(1, src_idx.expand(-1, -1, c))
    dst = dst.scatter_reduce(1, dst_idx.expand(-1, -1, c), moved, reduce="mean")
    return torch.cat([unm, dst], dim=1), node_max.topk(r, dim=-1).values


class PerceiverDeiT(nn.Module):
    def __init__(self, latents=4, p_drop=0.0):
        super().__init__()
        self.pixel_proj = nn.Linear(3, DIM)
        self.pos = nn.Parameter(torch.zeros(1, SIDE * SIDE, DIM))
        self.attn = RelPosAttention(SIDE)
        self.norm = nn.LayerNorm(DIM)
        self.latents = nn.Parameter(torch.zeros(latents, DIM))
        self.cross = nn.MultiheadAttention(DIM, 1, kdim=DIM, vdim=DIM, batch_first=True)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, DIM))
        self.dist_token = nn.Parameter(torch.zeros(1, 1, DIM))
        self.head = nn.Linear(DIM, CLASSES)
        self.head_dist = nn.Linear(DIM, CLASSES)
        self.p_drop = p_drop

    def forward(self, images):
        b = images.shape[0]
        x = self.pixel_proj(images.flatten(2).transpose(1, 2)) + self.pos
        branch, keys = self.attn(self.norm(x))
        x = x + drop_path(branch, self.p_drop, self.training)
        x, merged_scores = tome_merge(x, keys, r=3)
        lat = self.latents.expand(b, -1, -1)
        cls, dist = self.cls_token.expand(b, -1, -1), self.dist_token.expand(b, -1, -1)
        tokens = torch.cat([cls, dist, lat], 1)
        out, weights = self.cross(tokens, x, x)
        tokens = tokens + out
        return self.head(tokens[:, 0]), self.head_dist(tokens[:, 1]), weights, merged_scores


def make_images(n):
    i = torch.arange(n, dtype=torch.float32)[:, None, None, None]
    c = torch.arange(3, dtype=torch.float32)[None, :, None, None]
    yy = torch.arange(SIDE, dtype=torch.float32)[None, None, :, None]
    xx = torch.arange(SIDE, dtype=torch.float32)[None, None, None, :]
    labels = torch.arange(n) % CLASSES
    images = torch.sin(0.7 * i + 1.3 * c + 0.4 * yy * (labels[:, None, None, None] + 1) + 0.9 * xx)
    return images, labels


def fixed_(model, scale=0.3):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            ramp = torch.arange(p.numel(), dtype=torch.float32) * (0.37 * i + 0.5)
            p.copy_(torch.cos(ramp).view_as(p) * scale)


def values(t, deterministic):
    return t.flatten().tolist() if deterministic else []


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    images, labels = make_images(12)
    teacher = nn.Sequential(nn.Flatten(), nn.Linear(3 * SIDE * SIDE, CLASSES))
    student = PerceiverDeiT(p_drop=0.0 if args.deterministic else 0.2)
    if args.deterministic:
        fixed_(teacher, 0.1)
        fixed_(student)
    teacher.eval().requires_grad_(False)
    opt = torch.optim.AdamW(student.parameters(), lr=0.02, weight_decay=0.05)
    sched = CosineAnnealingWarmRestarts(opt, T_0=3, T_mult=2, eta_min=1e-3)
    losses, lrs = [], []
    for epoch in range(10):
        student.train()
        for start in range(0, 12, 6):
            x, y = images[start : start + 6], labels[start : start + 6]
            logits, dist_logits, _, _ = student(x)
            with torch.no_grad():
                teacher_labels = teacher(x).argmax(dim=1)
            loss = 0.5 * F.cross_entropy(logits, y, label_smoothing=0.1) + 0.5 * F.cross_entropy(
                dist_logits, teacher_labels
            )
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_value_(student.parameters(), clip_value=0.5)
            opt.step()
            sched.step(epoch + start / 12)
            losses.append(loss.item())
        lrs.append(round(sched.get_last_lr()[0], 8))
    student.eval()
    with torch.no_grad():
        logits, dist_logits, weights, merged = student(images)
        probs = (logits.softmax(-1) + dist_logits.softmax(-1)) / 2
    torch.save({"model": student.state_dict(), "sched": sched.state_dict()}, args.checkpoint)
    loaded = torch.load(args.checkpoint)
    again = PerceiverDeiT()
    again.load_state_dict(loaded["model"])
    again.eval()
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "lrs": lrs,
                "state_keys": sorted(loaded["model"])[:6],
                "n_state": len(loaded["model"]),
                "sched_T_i": loaded["sched"]["T_i"],
                "rel_index": student.attn.index[0, :6].tolist(),
                "weights_shape": list(weights.shape),
                "weights_row": values(weights[0, 0], args.deterministic),
                "merged": values(merged[0], args.deterministic),
                "probs": values(probs[:3], args.deterministic),
                "reloaded_same": bool(torch.allclose(again(images)[0], logits)),
                "accuracy": (probs.argmax(-1) == labels).float().mean().item(),
            }
        )
    )


if __name__ == "__main__":
    main()
