"""Two training recipes that lean on soft targets and complex numbers. (1) Mixup and CutMix as
timm writes them: lambda drawn from `torch.distributions.Beta(alpha, alpha).sample()` and used
as a plain float, partners from `torch.randperm` (or `flip(0)`), a box cut by
`torch.clamp` of centre +- half size, labels smoothed by `F.one_hot(...).float() * on +
off`, soft-target `nn.CrossEntropyLoss()` on probability targets and `SoftTargetCrossEntropy`
written by hand (`torch.sum(-target * F.log_softmax(x, dim=-1), dim=-1)`), a small CNN with
`nn.BatchNorm2d` and `channels_last`; (2) knowledge-graph embeddings: TransE with
`F.normalize` and `torch.norm(p=1)`, RotatE with relations as phases through `torch.polar`,
`torch.view_as_complex` / `view_as_real`, `nn.MarginRankingLoss` on corrupted triples, a
`torch.utils.checkpoint.checkpoint(use_reentrant=False)` scoring block, and `Adagrad`.

Run: python mixup_cutmix_rotate_kg.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Beta
from torch.utils.checkpoint import checkpoint

CLASSES, ENTITIES, RELATIONS, DIM = 4, 12, 3, 4


def smooth_one_hot(y, smoothing=0.1):
    off = smoothing / CLASSES
    return F.one_hot(y, CLASSES).float() * (1.0 - smoothing) + off


def rand_bbox(size, lam, centre):
    h, w = size[-2:]
    cut = math.sqrt(1.0 - lam)
    cut_h, cut_w = int(h * cut), int(w * cut)
    cy, cx = centre
    y1, y2 = torch.clamp(torch.tensor([cy - cut_h // 2, cy + cut_h // 2]), 0, h).tolist()
    x1, x2 = torch.clamp(torch.tensor([cx - cut_w // 2, cx + cut_w // 2]), 0, w).tolist()
    return y1, y2, x1, x2


def mix(x, y, step, deterministic):
    if deterministic:
        lam, perm, centre = 0.6 + 0.05 * (step % 4), x.size(0) - 1 - torch.arange(x.size(0)), (3, 4)
    else:
        lam = Beta(torch.tensor(0.8), torch.tensor(0.8)).sample().item()
        perm, centre = torch.randperm(x.size(0)), tuple(torch.randint(0, 8, (2,)).tolist())
    target = smooth_one_hot(y)
    if step % 2 == 0:  # mixup
        mixed = lam * x + (1 - lam) * x[perm]
    else:  # cutmix: the box's area fixes lambda
        y1, y2, x1, x2 = rand_bbox(x.shape, lam, centre)
        mixed = x.clone()
        mixed[:, :, y1:y2, x1:x2] = x[perm][:, :, y1:y2, x1:x2]
        lam = 1 - (y2 - y1) * (x2 - x1) / (x.size(-1) * x.size(-2))
    return mixed, lam * target + (1 - lam) * target[perm], lam


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
            nn.Conv2d(4, 6, 3, stride=2, padding=1), nn.BatchNorm2d(6), nn.ReLU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, CLASSES),
        )  # fmt: skip

    def forward(self, x):
        return self.body(x)


class RotatE(nn.Module):
    def __init__(self, gamma=4.0):
        super().__init__()
        self.entity = nn.Embedding(ENTITIES, 2 * DIM)
        self.phase = nn.Embedding(RELATIONS, DIM)
        self.gamma = gamma

    def score(self, h, r, t):
        head = torch.view_as_complex(self.entity(h).view(-1, DIM, 2))
        tail = torch.view_as_complex(self.entity(t).view(-1, DIM, 2))
        rotation = torch.polar(torch.ones_like(self.phase(r)), self.phase(r))
        diff = torch.view_as_real(head * rotation - tail)
        return self.gamma - diff.norm(dim=-1).sum(-1)

    def forward(self, h, r, t):
        return checkpoint(self.score, h, r, t, use_reentrant=False)


def transe_score(entity, relation, h, r, t):
    e = F.normalize(entity(torch.stack([h, t])), p=2, dim=-1)
    return -torch.norm(e[0] + relation(r) - e[1], p=1, dim=-1)


def make_images(n):
    yy, xx = torch.meshgrid(torch.arange(8.0), torch.arange(8.0), indexing="ij")
    labels = torch.arange(n) % CLASSES
    freq = (labels.float() + 1).view(n, 1, 1, 1)
    phase = torch.arange(float(n)).view(n, 1, 1, 1) * 0.2
    return torch.sin(freq * 0.4 * xx + phase) * torch.cos(0.3 * yy * freq), labels


def make_triples():
    h = torch.arange(ENTITIES).repeat_interleave(2)
    r = torch.arange(2 * ENTITIES) % RELATIONS
    t = (h * 5 + r + 1) % ENTITIES
    return h, r, t


def fixed_init(module, scale):
    with torch.no_grad():
        for i, (name, p) in enumerate(module.named_parameters()):
            values = torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.77 + i).view_as(p)
            if p.dim() > 1:
                p.copy_(scale * values)
            else:  # biases small, norm scales near one
                p.copy_(0.05 * values + float(name.endswith("weight")))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)

    images, labels = make_images(16)
    model = SmallCNN().to(memory_format=torch.channels_last)
    if args.deterministic:
        fixed_init(model, 0.5)
    soft_ce = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    losses, lams, gaps = [], [], []
    for step in range(6):
        mixed, target, lam = mix(images, labels, step, args.deterministic)
        logits = model(mixed.contiguous(memory_format=torch.channels_last))
        loss = soft_ce(logits, target)
        by_hand = torch.sum(-target * F.log_softmax(logits, dim=-1), dim=-1).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        lams.append(round(lam, 6))
        gaps.append(abs(by_hand.item() - loss.item()))
    model.eval()
    with torch.no_grad():
        accuracy = (model(images).argmax(1) == labels).float().mean().item()

    h, r, t = make_triples()
    rotate = RotatE()
    entity, relation = nn.Embedding(ENTITIES, DIM), nn.Embedding(RELATIONS, DIM)
    if args.deterministic:
        for module, scale in ((rotate, 0.5), (entity, 0.6), (relation, 0.3)):
            fixed_init(module, scale)
    params = [*rotate.parameters(), *entity.parameters(), *relation.parameters()]
    kg_optimizer = torch.optim.Adagrad(params, lr=0.1)
    ranking = nn.MarginRankingLoss(margin=1.0)
    for step in range(8):
        corrupt = (t + 1 + step % (ENTITIES - 1)) % ENTITIES
        pos, neg = rotate(h, r, t), rotate(h, r, corrupt)
        pos_e, neg_e = (
            transe_score(entity, relation, h, r, t),
            transe_score(entity, relation, h, r, corrupt),
        )
        target = torch.ones_like(pos)
        loss = ranking(pos, neg, target) + ranking(pos_e, neg_e, target)
        kg_optimizer.zero_grad()
        loss.backward()
        kg_optimizer.step()
        losses.append(loss.item())

    torch.save({"cnn": model.state_dict(), "rotate": rotate.state_dict()}, args.checkpoint)
    state = torch.load(args.checkpoint, weights_only=True)
    again = RotatE()
    again.load_state_dict(state["rotate"])
    with torch.no_grad():
        all_tails = torch.arange(ENTITIES)
        scores = again.score(h[:1].expand(ENTITIES), r[:1].expand(ENTITIES), all_tails)
        rank = (scores > scores[t[0]]).sum().item() + 1
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "lams": lams if args.deterministic else None,
                "soft_ce_matches": max(gaps) < 1e-5,
                "accuracy": accuracy,
                "bn_running_mean": state["cnn"]["body.1.running_mean"].tolist(),
                "channels_last": model.body[0].weight.is_contiguous(
                    memory_format=torch.channels_last
                ),
                "rank": rank,
                "polar": torch.view_as_real(
                    torch.polar(torch.tensor([2.0]), torch.tensor([0.5]))
                ).tolist(),
            }
        )
    )


if __name__ == "__main__":
    main()
