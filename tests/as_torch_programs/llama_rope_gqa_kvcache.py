"""A LLaMA-style decoder as Meta's reference code and its many re-implementations write it:
`nn.RMSNorm` (checked against the hand-written `x * torch.rsqrt(x.pow(2).mean(-1,
keepdim=True) + eps)`), rotary position embeddings from `torch.outer` + `torch.polar` applied
through `view_as_complex` / `view_as_real(...).flatten(3)` and `type_as`, grouped-query
attention (`repeat_kv` by `expand` + `reshape`, and `F.scaled_dot_product_attention(...,
enable_gqa=True)`), a SwiGLU feed-forward, tied input/output embeddings, a KV cache written
by slice assignment into buffers under `torch.inference_mode()` with the prefill mask built
by `torch.full(-inf).triu(1)` + `torch.hstack`, `is_causal=True` with fewer queries than keys
(aligned top-left, as PyTorch does), `scale=` and boolean `attn_mask=`, and top-p sampling
(`sort(descending=True)`, `cumsum`, masked zeroing, `torch.gather` back to token ids).

Run: python llama_rope_gqa_kvcache.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

DIM, HEADS, KV_HEADS, LAYERS, VOCAB, MAX_LEN = 16, 4, 2, 2, 11, 16
HEAD_DIM = DIM // HEADS


def precompute_freqs_cis(dim, end, theta=10000.0):
    freqs = 1.0 / (theta ** (torch.arange(0, dim, 2)[: (dim // 2)].float() / dim))
    t = torch.arange(end, device=freqs.device, dtype=torch.float32)
    freqs = torch.outer(t, freqs)
    return torch.polar(torch.ones_like(freqs), freqs)  # complex64


def apply_rotary_emb(xq, xk, freqs_cis):
    xq_ = torch.view_as_complex(xq.float().reshape(*xq.shape[:-1], -1, 2))
    xk_ = torch.view_as_complex(xk.float().reshape(*xk.shape[:-1], -1, 2))
    shape = [d if i == 1 or i == xq_.ndim - 1 else 1 for i, d in enumerate(xq_.shape)]
    freqs_cis = freqs_cis.view(*shape)
    xq_out = torch.view_as_real(xq_ * freqs_cis).flatten(3)
    xk_out = torch.view_as_real(xk_ * freqs_cis).flatten(3)
    return xq_out.type_as(xq), xk_out.type_as(xk)


def repeat_kv(x, n_rep):
    bs, slen, n_kv_heads, head_dim = x.shape
    if n_rep == 1:
        return x
    x = x[:, :, :, None, :].expand(bs, slen, n_kv_heads, n_rep, head_dim)
    return x.reshape(bs, slen, n_kv_heads * n_rep, head_dim)


class Attention(nn.Module):
    def __init__(self, max_batch):
        super().__init__()
        self.wq = nn.Linear(DIM, HEADS * HEAD_DIM, bias=False)
        self.wk = nn.Linear(DIM, KV_HEADS * HEAD_DIM, bias=False)
        self.wv = nn.Linear(DIM, KV_HEADS * HEAD_DIM, bias=False)
        self.wo = nn.Linear(HEADS * HEAD_DIM, DIM, bias=False)
        cache_shape = (max_batch, MAX_LEN, KV_HEADS, HEAD_DIM)
        self.register_buffer("cache_k", torch.zeros(cache_shape), persistent=False)
        self.register_buffer("cache_v", torch.zeros(cache_shape), persistent=False)

    def forward(self, x, start_pos, freqs_cis, mask, use_cache, gqa_kernel):
        bsz, seqlen, _ = x.shape
        xq = self.wq(x).view(bsz, seqlen, HEADS, HEAD_DIM)
        xk = self.wk(x).view(bsz, seqlen, KV_HEADS, HEAD_DIM)
        xv = self.wv(x).view(bsz, seqlen, KV_HEADS, HEAD_DIM)
        xq, xk = apply_rotary_emb(xq, xk, freqs_cis=freqs_cis)
        if use_cache:
            self.cache_k[:bsz, start_pos : start_pos + seqlen] = xk
            self.cache_v[:bsz, start_pos : start_pos + seqlen] = xv
            keys = self.cache_k[:bsz, : start_pos + seqlen]
            values = self.cache_v[:bsz, : start_pos + seqlen]
        else:
            keys, values = xk, xv
        xq = xq.transpose(1, 2)
        if gqa_kernel:
            keys, values = keys.transpose(1, 2), values.transpose(1, 2)
            out = F.scaled_dot_product_attention(
                xq,
                keys,
                values,
                attn_mask=mask,
                is_causal=mask is None and seqlen > 1,
                enable_gqa=True,
            )
        else:
            keys = repeat_kv(keys, HEADS // KV_HEADS).transpose(1, 2)
            values = repeat_kv(values, HEADS // KV_HEADS).transpose(1, 2)
            scores = torch.matmul(xq, keys.transpose(2, 3)) / math.sqrt(HEAD_DIM)
            if mask is not None:
                scores = scores + mask
            elif seqlen > 1:
                scores = scores + torch.full((seqlen, seqlen), float("-inf")).triu(1)
            out = torch.matmul(F.softmax(scores.float(), dim=-1).type_as(xq), values)
        out = out.transpose(1, 2).contiguous().view(bsz, seqlen, -1)
        return self.wo(out)


class FeedForward(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.w1 = nn.Linear(DIM, hidden, bias=False)
        self.w2 = nn.Linear(hidden, DIM, bias=False)
        self.w3 = nn.Linear(DIM, hidden, bias=False)

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class Block(nn.Module):
    def __init__(self, max_batch):
        super().__init__()
        self.attention = Attention(max_batch)
        self.feed_forward = FeedForward(hidden=int(2 * 4 * DIM / 3))
        self.attention_norm = nn.RMSNorm(DIM, eps=1e-6)
        self.ffn_norm = nn.RMSNorm(DIM, eps=1e-6)

    def forward(self, x, start_pos, freqs_cis, mask, use_cache, gqa_kernel):
        h = x + self.attention(
            self.attention_norm(x), start_pos, freqs_cis, mask, use_cache, gqa_kernel
        )
        return h + self.feed_forward(self.ffn_norm(h))


class Transformer(nn.Module):
    def __init__(self, max_batch=2):
        super().__init__()
        self.tok_embeddings = nn.Embedding(VOCAB, DIM)
        self.layers = nn.ModuleList(Block(max_batch) for _ in range(LAYERS))
        self.norm = nn.RMSNorm(DIM, eps=1e-6)
        self.output = nn.Linear(DIM, VOCAB, bias=False)
        self.output.weight = self.tok_embeddings.weight  # tied
        self.register_buffer(
            "freqs_cis", precompute_freqs_cis(HEAD_DIM, MAX_LEN * 2), persistent=False
        )

    def forward(self, tokens, start_pos=0, use_cache=False, gqa_kernel=False):
        _, seqlen = tokens.shape
        h = self.tok_embeddings(tokens)
        freqs_cis = self.freqs_cis[start_pos : start_pos + seqlen]
        mask = None
        if use_cache and seqlen > 1:
            mask = torch.full((seqlen, seqlen), float("-inf"), device=tokens.device)
            mask = torch.triu(mask, diagonal=1)
            mask = torch.hstack([torch.zeros((seqlen, start_pos)), mask]).type_as(h)
        for layer in self.layers:
            h = layer(h, start_pos, freqs_cis, mask, use_cache, gqa_kernel)
        return self.output(self.norm(h)).float()


def sample_top_p(probs, p, deterministic, generator):
    probs_sort, probs_idx = torch.sort(probs, dim=-1, descending=True)
    probs_sum = torch.cumsum(probs_sort, dim=-1)
    mask = probs_sum - probs_sort > p
    probs_sort[mask] = 0.0
    probs_sort.div_(probs_sort.sum(dim=-1, keepdim=True))
    if deterministic:
        next_token = probs_sort.argmax(dim=-1, keepdim=True)
    else:
        next_token = torch.multinomial(probs_sort, num_samples=1, generator=generator)
    return torch.gather(probs_idx, -1, next_token), int(mask.sum())


def fixed_init(model):
    with torch.no_grad():
        for i, (name, p) in enumerate(model.named_parameters()):
            if "norm" in name:
                p.fill_(1.0)
            else:
                pattern = torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.61 + i)
                p.copy_(0.3 * pattern.view_as(p))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    model = Transformer()
    if args.deterministic:
        fixed_init(model)
    # sequences counting up modulo VOCAB from different starts
    starts = torch.arange(6)
    data = (starts[:, None] + torch.arange(9)[None, :] * 2) % VOCAB
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.02, betas=(0.9, 0.95), weight_decay=0.1)
    losses = []
    for step in range(8):
        logits = model(data[:, :-1], gqa_kernel=step % 2 == 1)
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), data[:, 1:].reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())

    facts = {}
    x = torch.sin(torch.arange(24.0)).view(2, 3, 4) * 2
    rms = nn.RMSNorm([3, 4], elementwise_affine=False)
    by_hand = x * torch.rsqrt(x.pow(2).mean((-2, -1), keepdim=True) + torch.finfo(x.dtype).eps)
    facts["rmsnorm_eps_none"] = torch.allclose(rms(x), by_hand, atol=1e-6)
    facts["rms_params"] = [n for n, _ in model.norm.named_parameters()]
    facts["state_keys"] = len(model.state_dict())
    facts["buffers"] = sorted({n.split(".")[-1] for n, _ in model.named_buffers()})
    facts["freqs_dtype"] = str(model.freqs_cis.dtype)

    model.eval()
    with torch.no_grad():
        full_a = model(data[:2, :6])
        full_b = model(data[:2, :6], gqa_kernel=True)
        facts["gqa_agrees"] = torch.allclose(full_a, full_b, atol=1e-5)
        # is_causal with fewer queries than keys: PyTorch aligns the mask top-left
        q = torch.cos(torch.arange(2 * 4 * 2 * 4.0)).view(2, 4, 2, 4)
        kv = torch.sin(torch.arange(2 * 2 * 5 * 4.0)).view(2, 2, 5, 4)
        top_left = torch.ones(2, 5, dtype=torch.bool).tril(diagonal=0)
        causal = F.scaled_dot_product_attention(q, kv, kv, is_causal=True, enable_gqa=True)
        masked = F.scaled_dot_product_attention(
            q, kv, kv, attn_mask=top_left, enable_gqa=True, scale=0.5
        )
        facts["causal_rect"] = causal.sum(-1).round(decimals=4).flatten().tolist()
        facts["masked_scaled"] = masked.sum(-1).round(decimals=4).flatten().tolist()

    generator = torch.Generator().manual_seed(1)
    with torch.inference_mode():
        prompt = data[:2, :4]
        tokens = prompt.clone()
        logits = model(tokens, start_pos=0, use_cache=True)
        facts["prefill_matches"] = torch.allclose(logits, model(tokens), atol=1e-5)
        chosen, pruned = [], 0
        for pos in range(4, 9):
            probs = torch.softmax(logits[:, -1] / 0.8, dim=-1)
            next_token, n_pruned = sample_top_p(probs, 0.9, args.deterministic, generator)
            pruned += n_pruned
            chosen.append(next_token.squeeze(-1).tolist())
            tokens = torch.cat([tokens, next_token], dim=1)
            logits = model(next_token, start_pos=pos, use_cache=True)
        recomputed = model(tokens)[:, -1]
        facts["cache_matches_recompute"] = torch.allclose(logits[:, -1], recomputed, atol=1e-4)
        facts["cache_inference"] = model.layers[0].attention.cache_k.is_inference()
        facts["generated"] = chosen
        facts["pruned"] = pruned
        facts["last_logits"] = logits[:, -1].sum(-1).round(decimals=3).tolist()

    torch.save(model.state_dict(), args.checkpoint)
    again = Transformer()
    missing = again.load_state_dict(torch.load(args.checkpoint, weights_only=True))
    facts["load"] = [list(missing.missing_keys), list(missing.unexpected_keys)]
    facts["tied"] = again.output.weight is again.tok_embeddings.weight
    print(json.dumps({"library": torch.__name__, "losses": losses, **facts}))


if __name__ == "__main__":
    main()
