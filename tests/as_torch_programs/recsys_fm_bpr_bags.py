"""Recommender models as RecSys tutorials and DLRM-style code write them: a user's history
as a bag of item ids through `nn.EmbeddingBag(mode="mean", padding_idx=)` with `offsets`
(including an empty bag), multi-hot categorical features with weights through
`nn.EmbeddingBag(mode="sum", include_last_offset=True)` and `per_sample_weights`, a
factorisation machine's pairwise term by the (sum^2 - sum of squares) / 2 identity, a DCN
cross layer, matrix factorisation trained with the BPR loss (`-F.logsigmoid(pos - neg)`) on
negatives from `torch.multinomial` of a popularity^0.75 table (a fixed rotation when
deterministic), a click-through head with `binary_cross_entropy_with_logits(pos_weight=)`;
`Adagrad(lr_decay=, initial_accumulator_value=)` for the dense weights and Adagrad on a
`sparse=True` embedding's sparse gradient; seen items masked by `index_put_` with -inf before
`topk`; Recall@k by `torch.isin`, NDCG@k by `torch.log2` discounts, AUC by the ranks of
`argsort().argsort()`.

Run: python recsys_fm_bpr_bags.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json

import torch
import torch.nn as nn
import torch.nn.functional as F

USERS, ITEMS, DIM, FEATURES, PAD = 6, 12, 4, 7, 0


class Recommender(nn.Module):
    def __init__(self):
        super().__init__()
        self.user = nn.Embedding(USERS, DIM, sparse=True)
        self.item = nn.Embedding(ITEMS, DIM)
        self.history = nn.EmbeddingBag(ITEMS, DIM, mode="mean", padding_idx=PAD)
        self.features = nn.EmbeddingBag(FEATURES, DIM, mode="sum", include_last_offset=True)
        self.linear = nn.EmbeddingBag(FEATURES, 1, mode="sum", include_last_offset=True)
        self.cross_w = nn.Linear(3 * DIM, 3 * DIM)
        self.ctr = nn.Linear(3 * DIM, 1)

    def user_vector(self, users, hist, hist_offsets):
        return self.user(users) + self.history(hist, hist_offsets)

    def score(self, users, items, hist, hist_offsets):
        return (self.user_vector(users, hist, hist_offsets) * self.item(items)).sum(-1)

    def click_logit(self, users, items, hist, hist_offsets, feats, feat_offsets, weights):
        u = self.user_vector(users, hist, hist_offsets)
        v = self.item(items)
        f = self.features(feats, feat_offsets, per_sample_weights=weights)
        fields = torch.stack([u, v, f], dim=1)  # (B, 3, DIM)
        fm = 0.5 * (fields.sum(1).pow(2) - fields.pow(2).sum(1)).sum(1)
        x0 = fields.flatten(1)
        crossed = x0 * self.cross_w(x0) + x0  # one DCN cross layer
        first_order = self.linear(feats, feat_offsets, per_sample_weights=weights).squeeze(1)
        return self.ctr(crossed).squeeze(1) + fm + first_order


def fixed_init(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            wave = torch.cos(torch.arange(p.numel(), dtype=torch.float32) * 0.83 + i)
            p.copy_(0.3 * wave.view_as(p))
        model.history.weight[PAD] = 0.0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    generator = torch.Generator().manual_seed(7)
    model = Recommender()
    if args.deterministic:
        fixed_init(model)

    users = torch.arange(USERS).repeat_interleave(2)
    positives = (users * 5 + torch.arange(12) % 2 * 3 + 1) % (ITEMS - 1) + 1
    hist = torch.tensor([1, 2, 3, 4, PAD, 5, 6, 7, 8, 9, 10, 11, 2, 4])
    hist_offsets = torch.tensor([0, 3, 5, 5, 8, 10])  # user 3 has an empty history
    hist_ids = [hist[hist_offsets[u] : (hist_offsets.tolist() + [len(hist)])[u + 1]] for u in users]
    flat_hist = torch.cat(hist_ids)
    offsets = torch.tensor([0] + [len(h) for h in hist_ids]).cumsum(0)[:-1]
    feats = torch.arange(12 * 3) % FEATURES
    feat_offsets = torch.arange(0, 12 * 3 + 1, 3)  # include_last_offset
    weights = 1.0 / (1.0 + torch.arange(12 * 3) % 3).float()
    clicks = ((users + positives) % 3 == 0).float()
    popularity = torch.bincount(positives, minlength=ITEMS).float().pow(0.75) + 0.1

    dense = [p for n, p in model.named_parameters() if not n.startswith("user.")]
    optimizer = torch.optim.Adagrad(dense, lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)
    sparse_opt = torch.optim.Adagrad(model.user.parameters(), lr=0.1)
    losses = []
    for step in range(10):
        if args.deterministic:
            negatives = (positives + 1 + step) % ITEMS
        else:
            negatives = torch.multinomial(popularity, 12, replacement=True, generator=generator)
        pos = model.score(users, positives, flat_hist, offsets)
        neg = model.score(users, negatives, flat_hist, offsets)
        bpr = -F.logsigmoid(pos - neg).mean()
        logit = model.click_logit(
            users, positives, flat_hist, offsets, feats, feat_offsets, weights
        )
        ctr = F.binary_cross_entropy_with_logits(logit, clicks, pos_weight=torch.tensor(2.0))
        loss = bpr + 0.5 * ctr
        optimizer.zero_grad()
        sparse_opt.zero_grad()
        loss.backward()
        optimizer.step()
        sparse_opt.step()
        losses.append(loss.item())

    facts = {
        "user_grad_sparse": model.user.weight.grad.is_sparse,
        "user_grad_rows": model.user.weight.grad.coalesce().indices().flatten().tolist(),
        "pad_row": model.history.weight[PAD].abs().sum().item(),
        "adagrad_state": sorted(optimizer.state_dict()["state"][0].keys()),
        "adagrad_step": float(optimizer.state_dict()["state"][0]["step"]),
    }
    with torch.no_grad():
        all_items = torch.arange(ITEMS)
        u_vecs = model.user_vector(torch.arange(USERS), hist, hist_offsets)
        scores = u_vecs @ model.item(all_items).T
        seen_rows = torch.arange(USERS).repeat_interleave(
            torch.diff(hist_offsets, append=torch.tensor([len(hist)]))
        )
        masked = scores.clone()
        masked.index_put_((seen_rows, hist), torch.tensor(float("-inf")))
        top = masked.topk(3, dim=1).indices
        truth = positives.view(USERS, 2)
        hits = torch.stack([torch.isin(top[u], truth[u]) for u in range(USERS)]).float()
        discounts = 1.0 / torch.log2(torch.arange(2, 5).float())
        ideal = discounts[:2].sum()
        ranks = scores.argsort(dim=1).argsort(dim=1).float()
        pos_rank = ranks.gather(1, truth)
        auc = (pos_rank / (ITEMS - 1)).mean()
        facts.update(
            {
                "top3": top.tolist(),
                "recall@3": round(hits.sum(1).div(2).mean().item(), 4),
                "ndcg@3": round(((hits * discounts).sum(1) / ideal).mean().item(), 4),
                "auc": round(auc.item(), 4),
                "masked_inf": int(torch.isinf(masked).sum()),
                "empty_bag": model.history(
                    torch.tensor([], dtype=torch.long), torch.tensor([0])
                ).tolist(),
            }
        )
    torch.save(model.state_dict(), args.checkpoint)
    again = Recommender()
    again.load_state_dict(torch.load(args.checkpoint, weights_only=True))
    facts["reloaded"] = bool(torch.equal(again.item.weight, model.item.weight))
    print(json.dumps({"library": torch.__name__, "losses": losses, **facts}))


if __name__ == "__main__":
    main()
