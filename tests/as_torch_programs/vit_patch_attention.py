"""A tiny Vision Transformer as tutorials write it: patches cut two ways (a strided Conv2d
patch embedding and `F.unfold` / `Tensor.unfold`, checked to agree), a learned [CLS] token
and position embedding joined with `torch.cat` / `expand`, an `nn.TransformerEncoder` of
`nn.TransformerEncoderLayer(batch_first=True, norm_first=True, activation="gelu")` with a
final LayerNorm and a `src_key_padding_mask`, an `nn.MultiheadAttention` pooling step with a
`key_padding_mask` whose averaged and per-head weights are returned, AdamW with a cosine
warm-up written as LambdaLR, `clip_grad_norm_`, and top-k accuracy under `torch.no_grad()`.

Run: python vit_patch_attention.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

PATCH, DIM, CLASSES = 4, 16, 4


class PatchEmbed(nn.Module):
    def __init__(self, channels=1, dim=DIM, patch=PATCH):
        super().__init__()
        self.proj = nn.Conv2d(channels, dim, kernel_size=patch, stride=patch)

    def forward(self, x):
        x = self.proj(x)  # B, D, H/p, W/p
        return x.flatten(2).transpose(1, 2)  # B, N, D


class ViT(nn.Module):
    def __init__(self, image=12, depth=2, heads=4):
        super().__init__()
        self.embed = PatchEmbed()
        patches = (image // PATCH) ** 2
        self.cls_token = nn.Parameter(torch.zeros(1, 1, DIM))
        self.pos_embed = nn.Parameter(torch.zeros(1, patches + 1, DIM))
        layer = nn.TransformerEncoderLayer(
            d_model=DIM,
            nhead=heads,
            dim_feedforward=2 * DIM,
            dropout=0.0,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(
            layer, num_layers=depth, norm=nn.LayerNorm(DIM), enable_nested_tensor=False
        )
        self.pool = nn.MultiheadAttention(DIM, num_heads=2, batch_first=True)
        self.query = nn.Parameter(torch.zeros(1, 1, DIM))
        self.head = nn.Linear(2 * DIM, CLASSES)

    def forward(self, x, drop_last_patches=0, per_head=False):
        tokens = self.embed(x)
        b, n, _ = tokens.shape
        cls = self.cls_token.expand(b, -1, -1)
        tokens = torch.cat((cls, tokens), dim=1) + self.pos_embed
        mask = torch.zeros(b, n + 1, dtype=torch.bool)
        if drop_last_patches:
            mask[1:, -drop_last_patches:] = True  # every sample but the first loses patches
        encoded = self.encoder(tokens, src_key_padding_mask=mask)
        pooled, weights = self.pool(
            self.query.expand(b, -1, -1),
            encoded,
            encoded,
            key_padding_mask=mask,
            need_weights=True,
            average_attn_weights=not per_head,
        )
        features = torch.cat((encoded[:, 0], pooled.squeeze(1)), dim=-1)
        return self.head(features), weights


def make_images(n):
    """Class k: a bright 4x4 block in quadrant k of a 12x12 image plus a ripple."""
    idx = torch.arange(n)
    labels = idx % CLASSES
    rows = torch.arange(12).view(1, 12, 1)
    cols = torch.arange(12).view(1, 1, 12)
    r0 = (labels // 2 * 6 + 1).view(n, 1, 1)
    c0 = (labels % 2 * 6 + 1).view(n, 1, 1)
    block = ((rows >= r0) & (rows < r0 + 4) & (cols >= c0) & (cols < c0 + 4)).float()
    ripple = 0.2 * torch.sin(rows * 0.7 + cols * 0.3 + idx.view(n, 1, 1) * 0.9)
    return (block + ripple).unsqueeze(1), labels


def fixed_init(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            values = torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.61 + i)
            p.copy_(values.view_as(p) * (0.3 if p.dim() > 1 else 0.05))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(3)

    images, labels = make_images(48)
    # The conv patch embedding equals a matmul over unfolded patches.
    model = ViT()
    if args.deterministic:
        fixed_init(model)
    cols = F.unfold(images, kernel_size=PATCH, stride=PATCH)  # B, C*p*p, N
    weight = model.embed.proj.weight.view(DIM, -1)
    by_unfold = (weight @ cols + model.embed.proj.bias.view(1, DIM, 1)).transpose(1, 2)
    by_tensor_unfold = images.unfold(2, PATCH, PATCH).unfold(3, PATCH, PATCH)
    unfold_agrees = torch.allclose(by_unfold, model.embed(images), atol=1e-5)

    loader = DataLoader(
        TensorDataset(images, labels), batch_size=12, shuffle=not args.deterministic
    )
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.05)
    total = 4 * len(loader)
    warmup = 3

    def lr_lambda(step):
        if step < warmup:
            return (step + 1) / warmup
        return 0.5 * (1 + math.cos(math.pi * (step - warmup) / (total - warmup)))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda)
    losses, norms, lrs = [], [], []
    for epoch in range(4):
        model.train()
        running = 0.0
        for x, y in loader:
            logits, _ = model(x, drop_last_patches=epoch % 2)
            loss = F.cross_entropy(logits, y, label_smoothing=0.1)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            norms.append(nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0).item())
            optimizer.step()
            scheduler.step()
            running += loss.item() * x.size(0)
        losses.append(running / len(loader.dataset))
        lrs.append(scheduler.get_last_lr()[0])

    model.eval()
    with torch.no_grad():
        logits, averaged = model(images[:6], drop_last_patches=2)
        _, per_head = model(images[:6], drop_last_patches=2, per_head=True)
        top2 = logits.topk(2, dim=1).indices
        top2_acc = (top2 == labels[:6, None]).any(dim=1).float().mean().item()
        top1_acc = (logits.argmax(dim=1) == labels[:6]).float().mean().item()
    torch.save(model.state_dict(), args.checkpoint)
    again = ViT()
    again.load_state_dict(torch.load(args.checkpoint, weights_only=True))
    again.eval()
    with torch.no_grad():
        reloaded = torch.allclose(again(images[:6])[0], model(images[:6])[0])
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "norms": norms[:: len(loader)],
                "lrs": lrs,
                "unfold_agrees": unfold_agrees,
                "tensor_unfold_shape": list(by_tensor_unfold.shape),
                "attn_shapes": [list(averaged.shape), list(per_head.shape)],
                "masked_weight": per_head[1, :, 0, -2:].sum().item(),
                "weight_rows": averaged.sum(-1).flatten().tolist(),
                "top1": top1_acc,
                "top2": top2_acc,
                "reloaded": reloaded,
                "state_keys": list(model.state_dict())[:8],
                "printed": str(model).splitlines(),
            }
        )
    )


if __name__ == "__main__":
    main()
