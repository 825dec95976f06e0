"""A character-level GPT written the way nanoGPT writes it: a `@dataclass` GPTConfig, a
CausalSelfAttention whose `c_attn(x).split(n_embd, dim=2)` gives q, k, v, reshaped with
`view(B, T, nh, hs).transpose(1, 2)`, attention either by
`F.scaled_dot_product_attention(..., is_causal=True)` or by hand against a registered
`torch.tril` "bias" buffer (`masked_fill(bias[:, :, :T, :T] == 0, float("-inf"))`), checked to
agree; `nn.GELU(approximate="tanh")`, weight tying (`wte.weight = lm_head.weight`),
`_init_weights` through `self.apply` plus the scaled `c_proj.weight` init, parameter counting
without the position embedding, `configure_optimizers` splitting by `p.dim() >= 2` into AdamW
groups, a hand-written cosine learning-rate with warm-up set into each `param_group["lr"]`,
`get_batch` with `torch.randint`, `estimate_loss` under `@torch.no_grad()`,
`F.cross_entropy(..., ignore_index=-1)`, `crop_block_size`, and generation with temperature,
`torch.topk` filtering and `torch.multinomial` from a seeded `torch.Generator`.

Run: python nanogpt_char_model.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import inspect
import json
import math
from dataclasses import dataclass

import torch
import torch.nn as nn
from torch.nn import functional as F


@dataclass
class GPTConfig:
    block_size: int = 16
    vocab_size: int = 12
    n_layer: int = 2
    n_head: int = 2
    n_embd: int = 16
    dropout: float = 0.0
    bias: bool = True


class CausalSelfAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        assert config.n_embd % config.n_head == 0
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.attn_dropout = nn.Dropout(config.dropout)
        self.resid_dropout = nn.Dropout(config.dropout)
        self.n_head = config.n_head
        self.n_embd = config.n_embd
        self.dropout = config.dropout
        self.flash = hasattr(torch.nn.functional, "scaled_dot_product_attention")
        size = config.block_size
        self.register_buffer("bias", torch.tril(torch.ones(size, size)).view(1, 1, size, size))

    def forward(self, x):
        B, T, C = x.size()  # noqa: N806 - nanoGPT's names
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        if self.flash:
            y = torch.nn.functional.scaled_dot_product_attention(
                q,
                k,
                v,
                attn_mask=None,
                dropout_p=self.dropout if self.training else 0,
                is_causal=True,
            )
        else:
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
            att = F.softmax(att, dim=-1)
            att = self.attn_dropout(att)
            y = att @ v
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU(approximate="tanh")
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict(
            dict(
                wte=nn.Embedding(config.vocab_size, config.n_embd),
                wpe=nn.Embedding(config.block_size, config.n_embd),
                drop=nn.Dropout(config.dropout),
                h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
                ln_f=nn.LayerNorm(config.n_embd, bias=config.bias),
            )
        )
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # weight tying
        self.apply(self._init_weights)
        for pn, p in self.named_parameters():
            if pn.endswith("c_proj.weight"):
                torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    def get_num_params(self, non_embedding=True):
        n_params = sum(p.numel() for p in self.parameters())
        if non_embedding:
            n_params -= self.transformer.wpe.weight.numel()
        return n_params

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, idx, targets=None):
        b, t = idx.size()
        pos = torch.arange(0, t, dtype=torch.long, device=idx.device)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
        for block in self.transformer.h:
            x = block(x)
        x = self.transformer.ln_f(x)
        if targets is not None:
            logits = self.lm_head(x)
            loss = F.cross_entropy(
                logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1
            )
        else:
            logits = self.lm_head(x[:, [-1], :])
            loss = None
        return logits, loss

    def crop_block_size(self, block_size):
        self.config.block_size = block_size
        self.transformer.wpe.weight = nn.Parameter(self.transformer.wpe.weight[:block_size])
        for block in self.transformer.h:
            block.attn.bias = block.attn.bias[:, :, :block_size, :block_size]

    def configure_optimizers(self, weight_decay, learning_rate, betas):
        param_dict = {pn: p for pn, p in self.named_parameters() if p.requires_grad}
        decay_params = [p for n, p in param_dict.items() if p.dim() >= 2]
        nodecay_params = [p for n, p in param_dict.items() if p.dim() < 2]
        optim_groups = [
            {"params": decay_params, "weight_decay": weight_decay},
            {"params": nodecay_params, "weight_decay": 0.0},
        ]
        fused_available = "fused" in inspect.signature(torch.optim.AdamW).parameters
        extra_args = dict(fused=False) if fused_available else dict()
        optimizer = torch.optim.AdamW(optim_groups, lr=learning_rate, betas=betas, **extra_args)
        return optimizer, [len(decay_params), len(nodecay_params)]

    @torch.no_grad()
    def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None, generator=None):
        for _ in range(max_new_tokens):
            cond = (
                idx if idx.size(1) <= self.config.block_size else idx[:, -self.config.block_size :]
            )
            logits, _ = self(cond)
            logits = logits[:, -1, :] / temperature
            if top_k is not None:
                v, _ = torch.topk(logits, min(top_k, logits.size(-1)))
                logits[logits < v[:, [-1]]] = -float("Inf")
            probs = F.softmax(logits, dim=-1)
            idx_next = torch.multinomial(probs, num_samples=1, generator=generator)
            idx = torch.cat((idx, idx_next), dim=1)
        return idx


def fixed_init(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            k = torch.arange(p.numel(), dtype=torch.float32)
            p.copy_(torch.sin(k * 0.57 + i).view_as(p) * 0.2)


def get_lr(it, warmup_iters=3, lr_decay_iters=12, learning_rate=3e-3, min_lr=3e-4):
    if it < warmup_iters:
        return learning_rate * (it + 1) / (warmup_iters + 1)
    if it > lr_decay_iters:
        return min_lr
    decay_ratio = (it - warmup_iters) / (lr_decay_iters - warmup_iters)
    coeff = 0.5 * (1.0 + math.cos(math.pi * decay_ratio))
    return min_lr + coeff * (learning_rate - min_lr)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(1337)

    text = "the quick brown fox jumps over the lazy dog " * 6
    chars = sorted(set(text))[:12]
    stoi = {ch: i for i, ch in enumerate(chars)}
    data = torch.tensor([stoi.get(c, 0) for c in text], dtype=torch.long)
    config = GPTConfig(vocab_size=len(chars))
    model = GPT(config)
    init_std = round(model.transformer.h[0].attn.c_proj.weight.std().item(), 2)
    if args.deterministic:
        fixed_init(model)
    optimizer, group_sizes = model.configure_optimizers(0.1, 3e-3, (0.9, 0.95))

    def get_batch(it):
        if args.deterministic:
            ix = (torch.arange(4) * 37 + it * 11) % (len(data) - config.block_size)
        else:
            ix = torch.randint(len(data) - config.block_size, (4,))
        x = torch.stack([data[i : i + config.block_size] for i in ix])
        y = torch.stack([data[i + 1 : i + 1 + config.block_size] for i in ix])
        y[:, :2] = -1  # too little context: ignored by the loss
        return x, y

    @torch.no_grad()
    def estimate_loss():
        model.eval()
        losses = torch.zeros(3)
        for k in range(3):
            _, loss = model(*get_batch(100 + k))
            losses[k] = loss.item()
        model.train()
        return losses.mean().item()

    losses, lrs = [], []
    for it in range(12):
        lr = get_lr(it)
        for param_group in optimizer.param_groups:
            param_group["lr"] = lr
        _, loss = model(*get_batch(it))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
        lrs.append(round(lr, 6))

    # The hand-written causal attention agrees with scaled_dot_product_attention.
    model.eval()
    probe = data[: config.block_size].view(1, -1)
    flash_logits, _ = model(probe, probe)
    for block in model.transformer.h:
        block.attn.flash = False
    manual_logits, _ = model(probe, probe)
    tied = model.transformer.wte.weight is model.lm_head.weight

    torch.save({"model": model.state_dict(), "config": vars(config)}, args.checkpoint)
    state = torch.load(args.checkpoint)
    restored = GPT(GPTConfig(**state["config"]))
    restored.load_state_dict(state["model"])
    restored.crop_block_size(8)
    restored.eval()
    generator = torch.Generator().manual_seed(0)
    sample = restored.generate(probe[:, :4], 6, temperature=0.8, top_k=3, generator=generator)
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "lrs": lrs,
                "eval_loss": estimate_loss(),
                "init_std": init_std,
                "params": [model.get_num_params(), model.get_num_params(False)],
                "group_sizes": group_sizes,
                "flash_equals_manual": torch.allclose(flash_logits, manual_logits, atol=1e-5),
                "tied": tied,
                "state_keys": len(state["model"]),
                "cropped": list(restored.transformer.wpe.weight.shape),
                "sample_shape": list(sample.shape),
                "sample_in_vocab": bool((sample < len(chars)).all()),
            }
        )
    )


if __name__ == "__main__":
    main()
