"""A tiny Swin Transformer as the reference implementation writes it: windows cut by
`view` / `permute` / `contiguous` and stitched back, the shifted windows of every second block
by `torch.roll(shifts=(-s, -s), dims=(1, 2))` with the attention mask built from `slice` regions
on an `img_mask`, `masked_fill(mask != 0, -100.0)`, a relative position bias table
indexed through a `relative_position_index` buffer (`torch.meshgrid(indexing="ij")`,
`torch.flatten`, broadcast differences, `register_buffer(persistent=False)`), `nn.init
.trunc_normal_(std=.02)` through `self.apply(self._init_weights)`, patch merging of the strided
slices `x[:, 0::2, 1::2, :]`, `F.scaled_dot_product_attention` with a float mask checked
against the written-out softmax, `torch.no_grad()` evaluation and a `state_dict` without the
non-persistent buffer.

Run: python swin_shifted_window_attention.py CHECKPOINT [--deterministic] (see
cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def window_partition(x, ws):
    b, h, w, c = x.shape
    x = x.view(b, h // ws, ws, w // ws, ws, c)
    return x.permute(0, 1, 3, 2, 4, 5).contiguous().view(-1, ws, ws, c)


def window_reverse(windows, ws, h, w):
    b = int(windows.shape[0] / (h * w / ws / ws))
    x = windows.view(b, h // ws, w // ws, ws, ws, -1)
    return x.permute(0, 1, 3, 2, 4, 5).contiguous().view(b, h, w, -1)


class WindowAttention(nn.Module):
    def __init__(self, dim, ws, heads):
        super().__init__()
        self.ws, self.heads = ws, heads
        self.scale = (dim // heads) ** -0.5
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * ws - 1) ** 2, heads))
        coords = torch.stack(torch.meshgrid(torch.arange(ws), torch.arange(ws), indexing="ij"))
        coords = torch.flatten(coords, 1)
        relative = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0).contiguous()
        relative[:, :, 0] += ws - 1
        relative[:, :, 1] += ws - 1
        relative[:, :, 0] *= 2 * ws - 1
        self.register_buffer("relative_position_index", relative.sum(-1), persistent=False)
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)

    def bias(self):
        table = self.relative_position_bias_table[self.relative_position_index.view(-1)]
        return table.view(self.ws * self.ws, self.ws * self.ws, -1).permute(2, 0, 1).contiguous()

    def forward(self, x, mask=None, fused=False):
        bw, n, c = x.shape
        qkv = self.qkv(x).reshape(bw, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        bias = self.bias().unsqueeze(0)
        if mask is not None:
            nw = mask.shape[0]
            bias = (
                (bias.view(1, 1, self.heads, n, n) + mask.unsqueeze(1).unsqueeze(0))
                .expand(bw // nw, nw, self.heads, n, n)
                .reshape(bw, self.heads, n, n)
            )
        if fused:
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        else:
            attn = (q * self.scale) @ k.transpose(-2, -1) + bias
            out = attn.softmax(dim=-1) @ v
        return self.proj(out.transpose(1, 2).reshape(bw, n, c))


class SwinBlock(nn.Module):
    def __init__(self, dim, res, ws, heads, shift):
        super().__init__()
        self.res, self.ws, self.shift = res, ws, shift
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(dim, ws, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))
        mask = None
        if shift > 0:
            img_mask = torch.zeros((1, res, res, 1))
            regions = (slice(0, -ws), slice(-ws, -shift), slice(-shift, None))
            cnt = 0
            for hs in regions:
                for wsl in regions:
                    img_mask[:, hs, wsl, :] = cnt
                    cnt += 1
            windows = window_partition(img_mask, ws).view(-1, ws * ws)
            mask = windows.unsqueeze(1) - windows.unsqueeze(2)
            mask = mask.masked_fill(mask != 0, -100.0).masked_fill(mask == 0, 0.0)
        self.register_buffer("attn_mask", mask, persistent=False)

    def forward(self, x, fused=False):
        b, length, c = x.shape
        shortcut = x
        x = self.norm1(x).view(b, self.res, self.res, c)
        if self.shift > 0:
            x = torch.roll(x, shifts=(-self.shift, -self.shift), dims=(1, 2))
        windows = window_partition(x, self.ws).view(-1, self.ws * self.ws, c)
        windows = self.attn(windows, self.attn_mask, fused)
        x = window_reverse(windows.view(-1, self.ws, self.ws, c), self.ws, self.res, self.res)
        if self.shift > 0:
            x = torch.roll(x, shifts=(self.shift, self.shift), dims=(1, 2))
        x = shortcut + x.reshape(b, length, c)
        return x + self.mlp(self.norm2(x))


class PatchMerging(nn.Module):
    def __init__(self, res, dim):
        super().__init__()
        self.res = res
        self.norm = nn.LayerNorm(4 * dim)
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)

    def forward(self, x):
        b, _, c = x.shape
        x = x.view(b, self.res, self.res, c)
        x0, x1 = x[:, 0::2, 0::2, :], x[:, 1::2, 0::2, :]
        x2, x3 = x[:, 0::2, 1::2, :], x[:, 1::2, 1::2, :]
        x = torch.cat([x0, x1, x2, x3], -1).view(b, -1, 4 * c)
        return self.reduction(self.norm(x))


class TinySwin(nn.Module):
    def __init__(self, classes=3, dim=8):
        super().__init__()
        self.patch_embed = nn.Conv2d(1, dim, kernel_size=2, stride=2)
        self.blocks = nn.ModuleList(
            [SwinBlock(dim, 4, 2, 2, shift=0), SwinBlock(dim, 4, 2, 2, shift=1)]
        )
        self.merge = PatchMerging(4, dim)
        self.norm = nn.LayerNorm(2 * dim)
        self.head = nn.Linear(2 * dim, classes)
        self.apply(self._init_weights)

    def _init_weights(self, m):
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.constant_(m.bias, 0)
        elif isinstance(m, nn.LayerNorm):
            nn.init.constant_(m.bias, 0)
            nn.init.constant_(m.weight, 1.0)

    def forward(self, x, fused=False):
        x = self.patch_embed(x).flatten(2).transpose(1, 2)
        for block in self.blocks:
            x = block(x, fused)
        x = self.norm(self.merge(x))
        return self.head(x.mean(dim=1))


def fixed_init(model):
    with torch.no_grad():
        for i, (name, p) in enumerate(model.named_parameters()):
            if "norm" in name:
                continue
            values = torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.71 + i)
            fan_in = p[0].numel() if p.dim() > 1 and "table" not in name else 4
            p.copy_(values.view_as(p) / math.sqrt(fan_in))


def make_images(count=24):
    rows = torch.arange(8, dtype=torch.float32).view(8, 1)
    cols = torch.arange(8, dtype=torch.float32).view(1, 8)
    images = []
    for i in range(count):
        label = i % 3
        angle = (label * 0.9 + 0.3) + 0.05 * math.sin(i)
        image = torch.cos(math.cos(angle) * rows + math.sin(angle) * cols + 0.2 * i)
        images.append(image.unsqueeze(0))
    return torch.stack(images), torch.arange(count) % 3


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(11)
    images, labels = make_images()
    model = TinySwin()
    if args.deterministic:
        fixed_init(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.05)
    losses = []
    for step in range(8):
        model.train()
        batch = slice((step % 3) * 8, (step % 3) * 8 + 8)
        loss = F.cross_entropy(model(images[batch], fused=step % 2 == 1), labels[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(round(loss.item(), 5))
    table_grad = model.blocks[1].attn.relative_position_bias_table.grad

    torch.save(model.state_dict(), args.checkpoint)
    state = torch.load(args.checkpoint)
    restored = TinySwin()
    restored.load_state_dict(state)
    restored.eval()
    block = restored.blocks[1]
    with torch.no_grad():
        logits = restored(images)
        fused = restored(images, fused=True)
        accuracy = (logits.argmax(-1) == labels).float().mean().item()
        tokens = (
            torch.randn(2, 16, 8)
            if not args.deterministic
            else torch.sin(torch.arange(256, dtype=torch.float32)).view(2, 16, 8)
        )
        rolled = torch.roll(tokens.view(2, 4, 4, 8), shifts=(-1, -1), dims=(1, 2))
        round_trip = window_reverse(window_partition(rolled, 2), 2, 4, 4)
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "accuracy": round(accuracy, 4),
                "logits": [round(v, 4) for v in logits[0].tolist()],
                "fused_matches": bool(torch.allclose(logits, fused, atol=1e-5)),
                "index": block.attn.relative_position_index[1].tolist(),
                "mask_rows": (block.attn_mask[3] != 0).sum(-1).tolist(),
                "mask_values": sorted(set(block.attn_mask.flatten().tolist())),
                "table_grad": [round(v, 6) for v in table_grad[:3].flatten().tolist()],
                "bias_shape": list(block.attn.bias().shape),
                "state_keys": sorted(k for k in state if "index" in k or "mask" in k),
                "buffers": sorted(n.split(".")[-1] for n, _ in restored.named_buffers())[:2],
                "round_trip": bool(torch.equal(round_trip, rolled)),
            }
        )
    )


if __name__ == "__main__":
    main()
