"""Self-supervised contrastive pre-training then knowledge distillation, as SimCLR and
distillation tutorials write them: two deterministic "augmentations" of each sample, an
encoder + projection head, the NT-Xent / InfoNCE loss with `F.normalize`, a similarity
matrix over the temperature, the diagonal masked with `torch.eye(..., dtype=torch.bool)` and
`masked_fill(-inf)` (or `fill_diagonal_`), positives found by `torch.arange` labels and
`roll`, `F.cross_entropy` on it checked against a `logsumexp` form, `F.cosine_similarity`;
then a student distilled from the teacher with `F.kl_div(log_softmax, softmax,
reduction="batchmean")` and with `log_target=True`, a temperature-squared scale, a linear
probe on frozen features (`requires_grad_(False)`), `torch.inference_mode`, and top-k.

Run: python simclr_distillation.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

FEATURES, CLASSES = 10, 4


def make_data(n):
    idx = torch.arange(n, dtype=torch.float32)
    labels = torch.arange(n) % CLASSES
    centres = torch.cos(torch.arange(CLASSES * FEATURES, dtype=torch.float32)).view(
        CLASSES, FEATURES
    )
    x = centres[labels] + 0.3 * torch.sin(idx.unsqueeze(1) * 1.3 + torch.arange(FEATURES))
    return x, labels


def augment(x, k):
    """A deterministic 'augmentation': feature dropout by pattern, scaling and a shift."""
    keep = (torch.arange(x.size(1)) + k) % 3 != 0
    return x * keep * (1.0 + 0.1 * k) + 0.05 * k


def nt_xent(z1, z2, temperature=0.5):
    z = F.normalize(torch.cat([z1, z2], dim=0), dim=1)
    sim = z @ z.T / temperature
    n = z1.size(0)
    self_mask = torch.eye(2 * n, dtype=torch.bool)
    sim = sim.masked_fill(self_mask, float("-inf"))
    targets = torch.arange(2 * n).roll(n)
    loss = F.cross_entropy(sim, targets)
    by_hand = (-sim[torch.arange(2 * n), targets] + torch.logsumexp(sim, dim=1)).mean()
    return loss, by_hand


def fixed_init(model, phase=0.0):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(
                0.3
                * torch.sin(
                    torch.arange(p.numel(), dtype=torch.float32) * 0.53 + i + phase
                ).view_as(p)
            )


def mlp(sizes):
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.BatchNorm1d(b), nn.ReLU(inplace=True)]
    return nn.Sequential(*layers[:-2])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(9)

    x, y = make_data(64)
    encoder = mlp([FEATURES, 24, 16])
    projector = nn.Sequential(nn.ReLU(), nn.Linear(16, 8))
    if args.deterministic:
        fixed_init(encoder)
        fixed_init(projector, 1.0)
    loader = DataLoader(
        TensorDataset(x, y), batch_size=16, shuffle=not args.deterministic, drop_last=True
    )
    optimizer = torch.optim.SGD(
        list(encoder.parameters()) + list(projector.parameters()),
        lr=0.1,
        momentum=0.9,
        nesterov=True,
    )
    losses, agreements = [], []
    for _ in range(3):
        for batch, _ in loader:
            loss, by_hand = nt_xent(
                projector(encoder(augment(batch, 1))), projector(encoder(augment(batch, 2)))
            )
            agreements.append(abs(loss.item() - by_hand.item()) < 1e-4)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())

    # A linear probe on frozen features.
    encoder.eval()
    encoder.requires_grad_(False)
    probe = nn.Linear(16, CLASSES)
    if args.deterministic:
        fixed_init(probe, 2.0)
    probe_opt = torch.optim.Adam(probe.parameters(), lr=0.05)
    for _ in range(20):
        with torch.no_grad():
            feats = encoder(x)
        loss = F.cross_entropy(probe(feats), y)
        probe_opt.zero_grad()
        loss.backward()
        probe_opt.step()
        losses.append(loss.item())

    # Distil the teacher (encoder + probe) into a small student.
    teacher = nn.Sequential(encoder, probe).eval()
    student = nn.Sequential(
        nn.Linear(FEATURES, 12), nn.GELU(approximate="tanh"), nn.Linear(12, CLASSES)
    )
    if args.deterministic:
        fixed_init(student, 3.0)
    student_opt = torch.optim.AdamW(student.parameters(), lr=0.02)
    T, alpha = 3.0, 0.7
    for step in range(20):
        with torch.no_grad():
            teacher_logits = teacher(x)
        student_logits = student(x)
        if step % 2 == 0:
            soft = F.kl_div(
                F.log_softmax(student_logits / T, dim=1),
                F.softmax(teacher_logits / T, dim=1),
                reduction="batchmean",
            )
        else:
            soft = F.kl_div(
                F.log_softmax(student_logits / T, dim=-1),
                F.log_softmax(teacher_logits / T, dim=-1),
                reduction="batchmean",
                log_target=True,
            )
        loss = alpha * soft * T * T + (1 - alpha) * F.cross_entropy(student_logits, y)
        student_opt.zero_grad()
        loss.backward()
        student_opt.step()
        losses.append(loss.item())

    with torch.inference_mode():
        t_logits, s_logits = teacher(x), student(x)
        top2 = s_logits.topk(2, dim=1, largest=True, sorted=True)
        facts = {
            "teacher_acc": (t_logits.argmax(1) == y).float().mean().item(),
            "student_acc": (s_logits.argmax(1) == y).float().mean().item(),
            "top2_acc": (top2.indices == y.unsqueeze(1)).any(1).float().mean().item(),
            "agree": F.cosine_similarity(t_logits, s_logits, dim=1).mean().item(),
            "cos_pairs": F.cosine_similarity(x[:3], x[3:6]).tolist(),
            "pairwise": F.pairwise_distance(x[:3], x[3:6]).tolist(),
            "kl_sum": F.kl_div(
                F.log_softmax(s_logits, 1), F.softmax(t_logits, 1), reduction="sum"
            ).item(),
            "kl_none_shape": list(
                F.kl_div(s_logits.log_softmax(1), t_logits.softmax(1), reduction="none").shape
            ),
            "kl_loss": nn.KLDivLoss(reduction="batchmean", log_target=True)(
                s_logits.log_softmax(1), t_logits.log_softmax(1)
            ).item(),
            "inference": [s_logits.requires_grad, torch.is_inference_mode_enabled()],
        }
    sim = F.normalize(x[:4]) @ F.normalize(x[:4]).t()
    sim.fill_diagonal_(0.0)
    facts["fill_diagonal"] = sim.diagonal().tolist()
    facts["frozen"] = [p.requires_grad for p in encoder.parameters()][:2]
    torch.save({"student": student.state_dict(), "probe": probe.state_dict()}, args.checkpoint)
    state = torch.load(args.checkpoint, weights_only=True)
    student.load_state_dict(state["student"])
    print(
        json.dumps(
            {"library": torch.__name__, "losses": losses, "agreements": all(agreements), **facts}
        )
    )


if __name__ == "__main__":
    main()
