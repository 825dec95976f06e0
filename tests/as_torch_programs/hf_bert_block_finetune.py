"""A BERT-style encoder and a GPT-style head written the Hugging Face way and fine-tuned as
its Trainer does: `get_extended_attention_mask` building an additive mask from
`torch.finfo(dtype).min`, attention by `matmul` and by `einsum` with `masked_fill`, the same
by `F.scaled_dot_product_attention(attn_mask=...)` (a float mask and a boolean causal one),
`nn.GELU(approximate="tanh")`, `LayerNorm(eps=1e-12)`, position ids from `cumsum` of the
padding mask, tied input/output embeddings, a `-100` ignored label, `get_linear_schedule_
with_warmup` written with `LambdaLR`, AdamW with a no-decay group for biases and LayerNorm
weights, gradient accumulation and `clip_grad_norm_`, then `save_pretrained`-style
`state_dict` saving with the tied weight shared; `_init_weights` through `Module.apply`
(`normal_`, `zero_`, the padding row zeroed), a non-persistent `position_ids` buffer,
`softmax(dtype=torch.float32).to(dtype)`, a bfloat16 copy's forward, and `generate`-style
decoding with top-k / top-p filtering (`topk`, `sort`, `cumsum`, `scatter`).

Run: python hf_bert_block_finetune.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.lr_scheduler import LambdaLR

VOCAB, HIDDEN, HEADS, LAYERS, MAXLEN = 23, 16, 4, 2, 12


def get_extended_attention_mask(attention_mask, dtype):
    extended = attention_mask[:, None, None, :].to(dtype=dtype)
    return (1.0 - extended) * torch.finfo(dtype).min


def get_linear_schedule_with_warmup(optimizer, warmup, total):
    def lr_lambda(step):
        if step < warmup:
            return float(step) / float(max(1, warmup))
        return max(0.0, float(total - step) / float(max(1, total - warmup)))

    return LambdaLR(optimizer, lr_lambda)


class SelfAttention(nn.Module):
    def __init__(self, causal=False):
        super().__init__()
        self.heads, self.head_dim, self.causal = HEADS, HIDDEN // HEADS, causal
        self.query, self.key, self.value = (nn.Linear(HIDDEN, HIDDEN) for _ in range(3))
        self.dense = nn.Linear(HIDDEN, HIDDEN)
        self.norm = nn.LayerNorm(HIDDEN, eps=1e-12)

    def split(self, x):
        new_shape = x.size()[:-1] + (self.heads, self.head_dim)
        return x.view(new_shape).permute(0, 2, 1, 3)

    def forward(self, hidden, extended_mask, kind):
        q, k, v = (
            self.split(self.query(hidden)),
            self.split(self.key(hidden)),
            self.split(self.value(hidden)),
        )
        if kind == "sdpa":
            mask = extended_mask
            if self.causal:
                causal = torch.ones(q.size(-2), k.size(-2), dtype=torch.bool).tril()
                mask = mask.masked_fill(~causal, torch.finfo(q.dtype).min)
            context = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        else:
            if kind == "einsum":
                scores = torch.einsum("bhqd,bhkd->bhqk", q, k)
            else:
                scores = torch.matmul(q, k.transpose(-1, -2))
            scores = scores / math.sqrt(self.head_dim) + extended_mask
            if self.causal:
                future = torch.triu(torch.ones_like(scores, dtype=torch.bool), diagonal=1)
                scores = scores.masked_fill(future, torch.finfo(scores.dtype).min)
            probs = nn.functional.softmax(scores, dim=-1, dtype=torch.float32).to(q.dtype)
            context = torch.matmul(probs, v)
        context = context.permute(0, 2, 1, 3).contiguous()
        context = context.view(context.size()[:-2] + (HIDDEN,))
        return self.norm(self.dense(context) + hidden)


class Layer(nn.Module):
    def __init__(self, causal):
        super().__init__()
        self.attention = SelfAttention(causal)
        self.intermediate = nn.Sequential(nn.Linear(HIDDEN, 2 * HIDDEN), nn.GELU("tanh"))
        self.output = nn.Linear(2 * HIDDEN, HIDDEN)
        self.norm = nn.LayerNorm(HIDDEN, eps=1e-12)

    def forward(self, hidden, mask, kind):
        hidden = self.attention(hidden, mask, kind)
        return self.norm(self.output(self.intermediate(hidden)) + hidden)


class TinyLM(nn.Module):
    def __init__(self, causal):
        super().__init__()
        self.word_embeddings = nn.Embedding(VOCAB, HIDDEN, padding_idx=0)
        self.position_embeddings = nn.Embedding(MAXLEN, HIDDEN)
        self.emb_norm = nn.LayerNorm(HIDDEN, eps=1e-12)
        self.layers = nn.ModuleList(Layer(causal) for _ in range(LAYERS))
        self.lm_head = nn.Linear(HIDDEN, VOCAB, bias=False)
        self.lm_head.weight = self.word_embeddings.weight  # tie_weights()
        self.register_buffer("position_ids", torch.arange(MAXLEN).expand((1, -1)), persistent=False)
        self.apply(self._init_weights)

    def _init_weights(self, module):
        if isinstance(module, nn.Linear):
            module.weight.data.normal_(mean=0.0, std=0.02)
            if module.bias is not None:
                module.bias.data.zero_()
        elif isinstance(module, nn.Embedding):
            module.weight.data.normal_(mean=0.0, std=0.02)
            if module.padding_idx is not None:
                module.weight.data[module.padding_idx].zero_()
        elif isinstance(module, nn.LayerNorm):
            module.bias.data.zero_()
            module.weight.data.fill_(1.0)

    def forward(self, input_ids, attention_mask, kind="matmul"):
        position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0).long()
        hidden = self.emb_norm(
            self.word_embeddings(input_ids) + self.position_embeddings(position_ids)
        )
        mask = get_extended_attention_mask(attention_mask, hidden.dtype)
        for layer in self.layers:
            hidden = layer(hidden, mask, kind)
        return self.lm_head(hidden)


def top_k_top_p_filtering(logits, top_k=0, top_p=1.0, filter_value=-float("Inf")):
    if top_k > 0:
        indices_to_remove = logits < torch.topk(logits, top_k)[0][..., -1, None]
        logits = logits.masked_fill(indices_to_remove, filter_value)
    if top_p < 1.0:
        sorted_logits, sorted_indices = torch.sort(logits, descending=True)
        cumulative_probs = torch.cumsum(F.softmax(sorted_logits, dim=-1), dim=-1)
        sorted_indices_to_remove = cumulative_probs > top_p
        sorted_indices_to_remove[..., 1:] = sorted_indices_to_remove[..., :-1].clone()
        sorted_indices_to_remove[..., 0] = 0
        indices_to_remove = sorted_indices_to_remove.scatter(
            1, sorted_indices, sorted_indices_to_remove
        )
        logits = logits.masked_fill(indices_to_remove, filter_value)
    return logits


@torch.no_grad()
def generate(model, ids, new_tokens, sample):
    for _ in range(new_tokens):
        mask = torch.ones_like(ids)
        logits = model(ids, mask, kind="sdpa")[:, -1, :]
        filtered = top_k_top_p_filtering(logits, top_k=5, top_p=0.9)
        if sample:
            next_ids = torch.multinomial(F.softmax(filtered, dim=-1), num_samples=1)
        else:
            next_ids = torch.argmax(filtered, dim=-1, keepdim=True)
        ids = torch.cat([ids, next_ids], dim=-1)
    return ids, torch.isinf(filtered).sum(dim=-1)


def fixed_init(model):
    with torch.no_grad():
        for i, (name, p) in enumerate(model.named_parameters()):
            values = torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.37 + i)
            p.copy_(values.view_as(p) * (0.02 if "norm" not in name else 0.1) * 10)
            if "norm" in name and name.endswith("weight"):
                p.add_(1.0)


def make_batch(step):
    lengths = torch.tensor([12, 9, 7, 11]) - (step % 3)
    ids = (torch.arange(48).view(4, 12) * 7 + step) % (VOCAB - 1) + 1
    attention_mask = (torch.arange(MAXLEN)[None, :] < lengths[:, None]).long()
    ids = ids.masked_fill(attention_mask == 0, 0)
    labels = ids.roll(-1, dims=1).masked_fill(attention_mask.roll(-1, dims=1) == 0, -100)
    return ids, attention_mask, labels


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)

    facts = {}
    for causal in (False, True):
        model = TinyLM(causal)
        if args.deterministic:
            fixed_init(model)
        no_decay = ["bias", "LayerNorm.weight", "norm.weight"]
        groups = [
            {
                "params": [
                    p for n, p in model.named_parameters() if not any(nd in n for nd in no_decay)
                ],
                "weight_decay": 0.01,
            },
            {
                "params": [
                    p for n, p in model.named_parameters() if any(nd in n for nd in no_decay)
                ],
                "weight_decay": 0.0,
            },
        ]
        optimizer = torch.optim.AdamW(groups, lr=3e-3, eps=1e-8)
        scheduler = get_linear_schedule_with_warmup(optimizer, warmup=2, total=6)
        accumulation, losses, lrs = 2, [], []
        for step in range(12):
            ids, mask, labels = make_batch(step)
            logits = model(ids, mask, kind=("matmul", "einsum", "sdpa")[step % 3])
            loss = F.cross_entropy(logits.view(-1, VOCAB), labels.view(-1), ignore_index=-100)
            (loss / accumulation).backward()
            losses.append(loss.item())
            if (step + 1) % accumulation == 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad()
                lrs.append(scheduler.get_last_lr()[0])
        model.eval()
        with torch.no_grad():
            ids, mask, _ = make_batch(1)
            outs = [model(ids, mask, kind=k) for k in ("matmul", "einsum", "sdpa")]
            half = TinyLM(causal).to(torch.bfloat16)
            half.load_state_dict(model.state_dict())
            half_logits = half(ids, mask, kind="sdpa")
        key = "gpt" if causal else "bert"
        facts[key] = {
            "losses": losses,
            "lrs": lrs,
            "kinds_agree": all(torch.allclose(outs[0], o, atol=1e-5) for o in outs[1:]),
            "logits": outs[2][1, :3, :4].round(decimals=4).tolist(),
            "decay_groups": [len(g["params"]) for g in optimizer.param_groups],
            "tied": model.lm_head.weight.data_ptr() == model.word_embeddings.weight.data_ptr(),
            "bf16": [
                str(half_logits.dtype),
                (half_logits.float() - outs[2]).abs().max().item() < 0.1,
            ],
        }
    generated, filtered_out = generate(model, make_batch(0)[0][:, :5], 4, not args.deterministic)
    facts["generated"] = generated[:, 5:].tolist() if args.deterministic else list(generated.shape)
    facts["filtered_out"] = filtered_out.tolist() if args.deterministic else None
    state = model.state_dict()
    torch.save(state, args.checkpoint)
    loaded = torch.load(args.checkpoint, weights_only=True)
    facts["saved_keys"] = [len(loaded), "position_ids" in loaded]
    facts["tied_after_load"] = torch.equal(
        loaded["lm_head.weight"], loaded["word_embeddings.weight"]
    )
    mask = get_extended_attention_mask(torch.tensor([[1, 1, 0]]), torch.float32)
    facts["mask"] = [mask.shape[1], mask[0, 0, 0, 2].item(), mask.dtype == torch.float32]
    facts["finfo"] = [torch.finfo(torch.float16).min, torch.finfo(torch.bfloat16).eps]
    print(json.dumps({"library": torch.__name__, "losses": facts["bert"]["losses"], **facts}))


if __name__ == "__main__":
    main()
