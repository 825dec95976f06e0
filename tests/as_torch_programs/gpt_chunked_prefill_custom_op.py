"""A small decoder-only language model trained and served the way recent PyTorch code does
it: a SwiGLU feed-forward whose gate is a `torch.library.custom_op` with `register_fake` and
`register_autograd`, called as `torch.ops.tinylm.swiglu(...)`; attention through
`F.scaled_dot_product_attention`, `is_causal=True` in training on right-padded rows (their
targets ignored), in serving under `sdpa_kernel(SDPBackend.MATH)` with a key/value cache
filled by chunked prefill whose chunks attend with
`torch.nn.attention.bias.causal_lower_right(chunk, cached)`; the optimizer stepped inside
backward by
`register_post_accumulate_grad_hook` (one `Adafactor` per parameter), a
`register_module_forward_hook` counting calls, a `StackDataset` of named fields, and
keyword shapes (`reshape(shape=...)`, `permute(dims=...)`, `new_zeros(size=...)`).

Run: python gpt_chunked_prefill_custom_op.py CHECKPOINT [--deterministic] (see
cnn_custom_dataset).
"""

import argparse
import json

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.nn.attention.bias import causal_lower_right
from torch.utils.data import DataLoader, StackDataset

PAD, VOCAB, D, HEADS, SEQ = 0, 13, 16, 2, 12


@torch.library.custom_op("tinylm::swiglu", mutates_args=())
def swiglu(x: torch.Tensor, gate: torch.Tensor) -> torch.Tensor:
    return F.silu(gate) * x


@swiglu.register_fake
def _(x, gate):
    return torch.empty_like(x)


def _setup(ctx, inputs, output):
    ctx.save_for_backward(*inputs)


def _backward(ctx, grad):
    x, gate = ctx.saved_tensors
    s = torch.sigmoid(gate)
    return grad * gate * s, grad * x * s * (1 + gate * (1 - s))


swiglu.register_autograd(_backward, setup_context=_setup)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm1, self.norm2 = nn.RMSNorm(D), nn.RMSNorm(D)
        self.qkv = nn.Linear(D, 3 * D, bias=False)
        self.proj = nn.Linear(D, D, bias=False)
        self.up = nn.Linear(D, 4 * D, bias=False)
        self.down = nn.Linear(2 * D, D, bias=False)

    def attend(self, x, cache=None):
        b, t, _ = x.shape
        q, k, v = self.qkv(self.norm1(x)).reshape(shape=(b, t, 3, HEADS, D // HEADS)).unbind(2)
        q, k, v = (z.permute(dims=(0, 2, 1, 3)) for z in (q, k, v))
        if cache is None:
            out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            if cache:
                k, v = torch.cat([cache["k"], k], 2), torch.cat([cache["v"], v], 2)
            cache["k"], cache["v"] = k, v
            if t == 1:  # one new token sees every cached key
                mask = q.new_ones(size=(1, k.size(2))).bool()
                out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
            else:
                out = F.scaled_dot_product_attention(
                    q, k, v, attn_mask=causal_lower_right(t, k.size(2))
                )
        return self.proj(out.transpose(1, 2).reshape(b, t, D))

    def forward(self, x, cache=None):
        x = x + self.attend(x, cache)
        value, gate = self.up(self.norm2(x)).chunk(2, dim=-1)
        return x + self.down(torch.ops.tinylm.swiglu(value, gate))


class TinyLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, D)
        self.pos = nn.Embedding(SEQ, D)
        self.blocks = nn.ModuleList([Block(), Block()])
        self.head = nn.Linear(D, VOCAB, bias=False)

    def forward(self, tokens, caches=None, start=0):
        positions = torch.arange(start, start + tokens.size(1))
        x = self.embed(tokens) + self.pos(positions)
        for i, block in enumerate(self.blocks):
            x = block(x, None if caches is None else caches[i])
        return self.head(x)


def make_data(n):
    """Rows of 8..12 tokens (1..VOCAB-1) padded on the right; padded targets are ignored."""
    data = torch.full((n, SEQ + 1), PAD)
    for i in range(n):
        length = SEQ + 1 - i % 5
        data[i, :length] = torch.tensor(
            [1 + (i + 2 * t + (t * t) % 3) % (VOCAB - 1) for t in range(length)]
        )
    targets = data[:, 1:].masked_fill(data[:, 1:] == PAD, -100)
    return StackDataset(inputs=data[:, :-1], targets=targets)


def fixed_init(model):
    with torch.no_grad():
        for i, (name, p) in enumerate(model.named_parameters()):
            values = torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.59 + i).view_as(p)
            p.copy_(1 + 0.1 * values if "norm" in name else 0.3 * values)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)

    model = TinyLM()
    if args.deterministic:
        fixed_init(model)
    optimizers = {p: torch.optim.Adafactor([p], lr=0.02) for p in model.parameters()}

    def step_now(p):
        optimizers[p].step()
        optimizers[p].zero_grad()

    for p in model.parameters():
        p.register_post_accumulate_grad_hook(step_now)
    calls = []
    hook = nn.modules.module.register_module_forward_hook(
        lambda module, inputs, output: calls.append(type(module).__name__)
        if isinstance(module, Block) else None
    )  # fmt: skip
    loader = DataLoader(make_data(16), batch_size=8, shuffle=not args.deterministic)
    losses = []
    for _ in range(5):
        for batch in loader:
            logits = model(batch["inputs"])
            loss = F.cross_entropy(logits.reshape(-1, VOCAB), batch["targets"].reshape(-1))
            loss.backward()
            losses.append(loss.item())
    hook.remove()

    torch.save(model.state_dict(), args.checkpoint)
    again = TinyLM()
    again.load_state_dict(torch.load(args.checkpoint, weights_only=True))
    prompt = make_data(3)[2]["inputs"][:7].unsqueeze(0)
    with torch.inference_mode(), sdpa_kernel(SDPBackend.MATH):
        full = again(prompt)[:, -1]
        caches = [{}, {}]
        again(prompt[:, :4], caches)
        chunked = again(prompt[:, 4:], caches, start=4)[:, -1]
        tokens = prompt
        for _ in range(4):
            nxt = again(tokens[:, -1:], caches, start=tokens.size(1))[:, -1].argmax(-1, True)
            tokens = torch.cat([tokens, nxt], 1)
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "block_calls": len(calls),
                "prefill_matches": bool(torch.allclose(full, chunked, atol=1e-5)),
                "generated": tokens[0, 7:].tolist(),
                "cache_shape": list(caches[0]["k"].shape),
                "mask": causal_lower_right(2, 4)._materialize().tolist(),
                "adafactor_state": sorted(optimizers[model.head.weight].state[model.head.weight]),
            }
        )
    )


if __name__ == "__main__":
    main()
