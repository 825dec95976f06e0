"""A masked autoencoder (MAE) as the reference code writes it: `patchify` with
`reshape` + `torch.einsum("nchpwq->nhwpqc")` and `unpatchify` back, checked against
`F.unfold` / `F.fold`; per-sample random masking by `torch.argsort(noise, dim=1)`, the kept
tokens taken by `torch.gather(x, 1, ids_keep.unsqueeze(-1).repeat(1, 1, D))`, `ids_restore`
from a second argsort, the binary mask unshuffled with `torch.gather`; a class token and
mask tokens `expand`ed and `torch.cat`ted, a fixed 2-D sin-cos position embedding copied into
a frozen `nn.Parameter(requires_grad=False)`, `nn.TransformerEncoderLayer(batch_first=True,
norm_first=True)` blocks, the per-patch normalised target (`mean`, `var(unbiased=False)`),
and the loss averaged over masked patches only; `torch.optim.AdamW` with betas=(0.9, 0.95)
and a `LambdaLR` warm-up then cosine.

Run: python mae_random_masking.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

IMG, PATCH, CH, EMB, DEC = 8, 2, 3, 16, 8


def sincos_pos_embed(dim, grid):
    """The 2-D sin-cos table of MAE's util/pos_embed.py, with a zero row for the cls token."""
    omega = 1.0 / 10000 ** (torch.arange(dim // 4, dtype=torch.float64) / (dim / 4.0))
    ys, xs = torch.meshgrid(torch.arange(float(grid)), torch.arange(float(grid)), indexing="ij")
    parts = []
    for pos in (ys.reshape(-1), xs.reshape(-1)):
        out = torch.einsum("m,d->md", pos.double(), omega)
        parts += [torch.sin(out), torch.cos(out)]
    table = torch.cat(parts, dim=1)
    return torch.cat([torch.zeros(1, dim, dtype=torch.float64), table]).float().unsqueeze(0)


class MAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.num_patches = (IMG // PATCH) ** 2
        self.patch_embed = nn.Conv2d(CH, EMB, PATCH, stride=PATCH)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, EMB))
        self.pos_embed = nn.Parameter(
            torch.zeros(1, self.num_patches + 1, EMB), requires_grad=False
        )
        self.blocks = nn.ModuleList(
            nn.TransformerEncoderLayer(EMB, 2, 32, 0.0, batch_first=True, norm_first=True)
            for _ in range(2)
        )
        self.norm = nn.LayerNorm(EMB)
        self.decoder_embed = nn.Linear(EMB, DEC)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, DEC))
        self.decoder_pos_embed = nn.Parameter(
            torch.zeros(1, self.num_patches + 1, DEC), requires_grad=False
        )
        self.decoder_block = nn.TransformerEncoderLayer(
            DEC, 2, 16, 0.0, activation="gelu", batch_first=True, norm_first=True
        )
        self.decoder_pred = nn.Linear(DEC, PATCH * PATCH * CH)
        self.pos_embed.data.copy_(sincos_pos_embed(EMB, IMG // PATCH))
        self.decoder_pos_embed.data.copy_(sincos_pos_embed(DEC, IMG // PATCH))

    def patchify(self, imgs):
        p, h = PATCH, IMG // PATCH
        x = imgs.reshape(shape=(imgs.shape[0], CH, h, p, h, p))
        x = torch.einsum("nchpwq->nhwpqc", x)
        return x.reshape(shape=(imgs.shape[0], h * h, p * p * CH))

    def unpatchify(self, x):
        p, h = PATCH, IMG // PATCH
        x = x.reshape(shape=(x.shape[0], h, h, p, p, CH))
        x = torch.einsum("nhwpqc->nchpwq", x)
        return x.reshape(shape=(x.shape[0], CH, h * p, h * p))

    def random_masking(self, x, mask_ratio, noise):
        N, L, D = x.shape  # noqa: N806
        len_keep = int(L * (1 - mask_ratio))
        ids_shuffle = torch.argsort(noise, dim=1)
        ids_restore = torch.argsort(ids_shuffle, dim=1)
        ids_keep = ids_shuffle[:, :len_keep]
        x_masked = torch.gather(x, dim=1, index=ids_keep.unsqueeze(-1).repeat(1, 1, D))
        mask = torch.ones([N, L], device=x.device)
        mask[:, :len_keep] = 0
        mask = torch.gather(mask, dim=1, index=ids_restore)
        return x_masked, mask, ids_restore

    def forward_encoder(self, imgs, mask_ratio, noise):
        x = self.patch_embed(imgs).flatten(2).transpose(1, 2)
        x = x + self.pos_embed[:, 1:, :]
        x, mask, ids_restore = self.random_masking(x, mask_ratio, noise)
        cls_token = self.cls_token + self.pos_embed[:, :1, :]
        x = torch.cat((cls_token.expand(x.shape[0], -1, -1), x), dim=1)
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x), mask, ids_restore

    def forward_decoder(self, x, ids_restore):
        x = self.decoder_embed(x)
        mask_tokens = self.mask_token.repeat(x.shape[0], ids_restore.shape[1] + 1 - x.shape[1], 1)
        x_ = torch.cat([x[:, 1:, :], mask_tokens], dim=1)
        index = ids_restore.unsqueeze(-1).expand(-1, -1, x.shape[2])
        x_ = torch.gather(x_, dim=1, index=index)
        x = torch.cat([x[:, :1, :], x_], dim=1) + self.decoder_pos_embed
        return self.decoder_pred(self.decoder_block(x))[:, 1:, :]

    def forward_loss(self, imgs, pred, mask):
        target = self.patchify(imgs)
        mean = target.mean(dim=-1, keepdim=True)
        var = target.var(dim=-1, keepdim=True, unbiased=False)
        target = (target - mean) / (var + 1.0e-6) ** 0.5
        loss = ((pred - target) ** 2).mean(dim=-1)
        return (loss * mask).sum() / mask.sum()

    def forward(self, imgs, mask_ratio=0.75, noise=None):
        if noise is None:
            noise = torch.rand(imgs.shape[0], self.num_patches, device=imgs.device)
        latent, mask, ids_restore = self.forward_encoder(imgs, mask_ratio, noise)
        pred = self.forward_decoder(latent, ids_restore)
        return self.forward_loss(imgs, pred, mask), pred, mask


def make_images(n):
    yy, xx = torch.meshgrid(torch.arange(float(IMG)), torch.arange(float(IMG)), indexing="ij")
    k = torch.arange(float(n)).view(n, 1, 1, 1)
    c = torch.arange(float(CH)).view(1, CH, 1, 1)
    return torch.sin(0.5 * xx + 0.3 * k * (c + 1)) * torch.cos(0.4 * yy - k) + 0.1 * c


def fixed_init(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            if p.requires_grad:
                values = torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.47 + i)
                p.copy_(values.view_as(p) * (0.3 if p.dim() > 1 else 0.02))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)

    model = MAE()
    if args.deterministic:
        fixed_init(model)
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=0.01, betas=(0.9, 0.95)
    )
    steps, warmup = 8, 2
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda s: (s + 1) / warmup if s < warmup else 0.5 * (1 + math.cos(math.pi * s / steps)),
    )
    images = make_images(4)
    losses = []
    for step in range(steps):
        noise = None
        if args.deterministic:
            noise = torch.sin(torch.arange(4 * 16, dtype=torch.float32) * 1.7 + step).view(4, 16)
        loss, pred, mask = model(images, noise=noise)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())

    patches = model.patchify(images)
    unfolded = F.unfold(images, kernel_size=PATCH, stride=PATCH)
    folded = F.fold(unfolded, output_size=IMG, kernel_size=PATCH, stride=PATCH)
    torch.save(model.state_dict(), args.checkpoint)
    again = MAE()
    again.load_state_dict(torch.load(args.checkpoint, weights_only=True))
    with torch.no_grad():
        noise = torch.cos(torch.arange(16.0)).expand(4, 16)
        loss, pred, mask = again(images, mask_ratio=0.5, noise=noise)
        recon = again.unpatchify(pred * mask.unsqueeze(-1) + patches * (1 - mask.unsqueeze(-1)))
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "eval_loss": loss.item(),
                "mask": mask[0].tolist(),
                "roundtrip": bool(torch.equal(model.unpatchify(patches), images)),
                "fold_roundtrip": bool(torch.allclose(folded, images)),
                "unfold_shape": list(unfolded.shape),
                "recon_mean": recon.mean().item(),
                "pos_embed": again.pos_embed[0, 5, :4].tolist(),
                "pos_frozen": not again.pos_embed.requires_grad,
                "lr": scheduler.get_last_lr(),
            }
        )
    )


if __name__ == "__main__":
    main()
