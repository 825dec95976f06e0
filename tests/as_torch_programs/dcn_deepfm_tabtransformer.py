"""Recommender and tabular models as larger codebases assemble them: a config of towers in an
`nn.ModuleDict` and per-field scales in an `nn.ParameterDict`, DeepFM's first- and
second-order terms over `nn.EmbeddingBag(mode="sum")` with `offsets` and
`per_sample_weights` for a multi-hot field, DCN-v2 cross layers `x0 * (W x + b) + x`, a
TabTransformer column encoder (one `nn.Embedding` per column, `torch.cat`, a
TransformerEncoderLayer), a focal loss and `binary_cross_entropy_with_logits(pos_weight=)`,
`apply(init_fn)` with `trunc_normal_` / `kaiming_uniform_(nonlinearity=)` /
`orthogonal_`, `clip_grad_norm_(foreach=True)`, a non-persistent buffer, and a partial
`load_state_dict(strict=False)` whose missing and unexpected keys are reported.

Run: python dcn_deepfm_tabtransformer.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json

import torch
import torch.nn.functional as F
from torch import nn

CARDS, TAGS, DIM = (5, 4, 3), 7, 4


class CrossLayer(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.linear = nn.Linear(d, d)

    def forward(self, x0, x):
        return x0 * self.linear(x) + x


class RecModel(nn.Module):
    def __init__(self, towers=("ctr", "cvr")):
        super().__init__()
        self.columns = nn.ModuleList([nn.Embedding(c, DIM) for c in CARDS])
        self.first_order = nn.ModuleList([nn.Embedding(c, 1) for c in CARDS])
        self.tags = nn.EmbeddingBag(TAGS, DIM, mode="sum")
        self.field_scale = nn.ParameterDict(
            {f"f{i}": nn.Parameter(torch.ones(1)) for i in range(4)}
        )
        self.encoder = nn.TransformerEncoderLayer(DIM, 2, 8, dropout=0.0, batch_first=True)
        d = 4 * DIM + 2
        self.cross = nn.ModuleList([CrossLayer(d) for _ in range(2)])
        self.towers = nn.ModuleDict(
            {name: nn.Sequential(nn.Linear(d, 8), nn.ReLU(), nn.Linear(8, 1)) for name in towers}
        )
        self.register_buffer("calls", torch.zeros((), dtype=torch.long), persistent=False)

    def forward(self, cats, tag_ids, offsets, tag_weights, dense):
        self.calls += 1
        fields = [emb(cats[:, i]) for i, emb in enumerate(self.columns)]
        fields.append(self.tags(tag_ids, offsets, per_sample_weights=tag_weights))
        fields = [f * self.field_scale[f"f{i}"] for i, f in enumerate(fields)]
        stacked = torch.stack(fields, dim=1)  # (B, F, D)
        fm = 0.5 * (stacked.sum(1).pow(2) - stacked.pow(2).sum(1)).sum(1, keepdim=True)
        linear = sum(emb(cats[:, i]) for i, emb in enumerate(self.first_order))
        contextual = self.encoder(stacked).flatten(1)
        x0 = torch.cat([contextual, dense], dim=1)
        x = x0
        for layer in self.cross:
            x = layer(x0, x)
        return {name: tower(x) + fm + linear for name, tower in self.towers.items()}


def init_fn(module):
    if isinstance(module, nn.Linear):
        if module.out_features == module.in_features:
            nn.init.orthogonal_(module.weight, gain=0.5)
        else:
            nn.init.kaiming_uniform_(module.weight, a=0.1, nonlinearity="leaky_relu")
        nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.Embedding, nn.EmbeddingBag)):
        nn.init.trunc_normal_(module.weight, std=0.1, a=-0.2, b=0.2)


def fixed_(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            ramp = torch.arange(p.numel(), dtype=torch.float32) * (0.53 + 0.17 * i)
            p.copy_(torch.cos(ramp).view_as(p) * 0.25)


def focal_loss(logits, targets, gamma=2.0, alpha=0.25):
    ce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    p_t = torch.exp(-ce)
    alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
    return (alpha_t * (1 - p_t) ** gamma * ce).mean()


def make_data(n=16):
    i = torch.arange(n)
    cats = torch.stack([i % CARDS[0], (i * 3) % CARDS[1], (i // 2) % CARDS[2]], dim=1)
    bag_sizes = (i % 3) + 1
    offsets = torch.cat([torch.zeros(1, dtype=torch.long), bag_sizes.cumsum(0)[:-1]])
    tag_ids = (torch.arange(int(bag_sizes.sum())) * 5) % TAGS
    tag_weights = 1.0 / bag_sizes.repeat_interleave(bag_sizes).float()
    dense = torch.stack([torch.sin(i * 0.4), torch.log1p(i.float())], dim=1)
    click = ((cats[:, 0] + cats[:, 1]) % 3 == 0).float()[:, None]
    convert = click * (cats[:, 2] == 1).float()[:, None]
    return cats, tag_ids, offsets, tag_weights, dense, click, convert


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(4)
    det = args.deterministic
    cats, tag_ids, offsets, tag_weights, dense, click, convert = make_data()
    model = RecModel()
    model.apply(init_fn)
    init_ok = bool(model.tags.weight.abs().max() <= 0.2)
    if det:
        fixed_(model)
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    pos_weight = torch.tensor([3.0])
    losses, norms = [], []
    for _ in range(12):
        out = model(cats, tag_ids, offsets, tag_weights, dense)
        loss = focal_loss(out["ctr"], click) + F.binary_cross_entropy_with_logits(
            out["cvr"], convert, pos_weight=pos_weight
        )
        opt.zero_grad()
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0, foreach=True)
        opt.step()
        losses.append(loss.item())
        norms.append(norm.item())
    with torch.no_grad():
        out = model(cats, tag_ids, offsets, tag_weights, dense)
    state = model.state_dict()
    torch.save(state, args.checkpoint)
    loaded = torch.load(args.checkpoint)
    smaller = RecModel(towers=("ctr", "dwell"))
    result = smaller.load_state_dict(loaded, strict=False)
    same_ctr = torch.equal(smaller.towers["ctr"][0].weight, model.towers["ctr"][0].weight)
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "grad_norms": norms if det else [],
                "init_ok": init_ok,
                "ctr": [v for v in out["ctr"].flatten()[:6].tolist()] if det else [],
                "cvr": [v for v in out["cvr"].flatten()[:6].tolist()] if det else [],
                "field_scale": [p.item() for p in model.field_scale.values()] if det else [],
                "calls": model.calls.item(),
                "calls_saved": "calls" in state,
                "missing": result.missing_keys,
                "unexpected": result.unexpected_keys,
                "same_ctr": same_ctr,
                "module_names": [n for n, _ in model.named_modules()][:8],
                "param_dict_keys": list(model.field_scale.keys()),
                "offsets": offsets.tolist(),
            }
        )
    )


if __name__ == "__main__":
    main()
