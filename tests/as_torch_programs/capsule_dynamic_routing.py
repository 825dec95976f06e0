"""A capsule network with dynamic routing (Sabour et al.) as its reimplementations write it:
primary capsules from a `Conv2d` reshaped by `view` / `permute`, the `squash`
non-linearity, prediction vectors by broadcasting `matmul` of (B, in, out, 1, d) against a
weight tensor, routing-by-agreement iterations with `softmax` over the output capsules and
agreement by `torch.einsum`, the margin loss with `F.relu(...) ** 2`, capsule lengths by
`norm(dim=-1)`, a reconstruction decoder fed through an `F.one_hot` mask, plus the losses
classifiers sometimes add (`MultiMarginLoss`, `MultiLabelSoftMarginLoss`,
`HingeEmbeddingLoss`), the shrink and threshold activations, `Softmin`, `LogSigmoid`,
`Softmax2d`, `LocalResponseNorm`, `torch.tensordot`, `baddbmm`, `block_diag`,
`masked_select` and `RMSprop` with `MultiStepLR`.

Run: python capsule_dynamic_routing.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json

import torch
import torch.nn as nn
import torch.nn.functional as F

CLASSES, IN_DIM, OUT_DIM, ROUTING = 3, 4, 6, 3


def make_images(count):
    rows = torch.arange(8, dtype=torch.float32).view(8, 1)
    cols = torch.arange(8, dtype=torch.float32).view(1, 8)
    images, labels = [], []
    for i in range(count):
        label = i % CLASSES
        pattern = [
            torch.sin(rows * 1.2 + 0.2 * i),
            torch.sin(cols * 1.2 + 0.2 * i),
            torch.sin((rows - cols) * 0.9 + 0.2 * i),
        ][label]
        images.append(pattern.expand(8, 8).unsqueeze(0))
        labels.append(label)
    return torch.stack(images), torch.tensor(labels)


def squash(s, dim=-1):
    squared = (s**2).sum(dim=dim, keepdim=True)
    return squared / (1 + squared) * s / torch.sqrt(squared + 1e-8)


class CapsuleNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3)
        self.lrn = nn.LocalResponseNorm(3, alpha=1e-3, beta=0.75, k=2.0)
        self.primary = nn.Conv2d(8, 2 * IN_DIM, 3, stride=2)
        self.routes = 2 * 2 * 2
        self.weight = nn.Parameter(torch.empty(1, self.routes, CLASSES, OUT_DIM, IN_DIM))
        self.decoder = nn.Sequential(
            nn.Linear(CLASSES * OUT_DIM, 16),
            nn.Softshrink(0.05),
            nn.Linear(16, 64),
            nn.Hardshrink(0.01),
            nn.Tanhshrink(),
            nn.Threshold(-0.5, -0.5),
            nn.Sigmoid(),
        )

    def forward(self, x, labels):
        features = F.rrelu(self.lrn(self.conv(x)), training=self.training)
        primary = self.primary(features)  # (B, 2 * IN_DIM, 2, 2)
        batch = primary.size(0)
        u = primary.view(batch, 2, IN_DIM, 2, 2).permute(0, 1, 3, 4, 2)
        u = squash(u.reshape(batch, self.routes, IN_DIM))
        u_hat = (self.weight @ u[:, :, None, :, None]).squeeze(-1)  # (B, routes, classes, out)
        logits = torch.zeros(batch, self.routes, CLASSES)
        for iteration in range(ROUTING):
            coupling = F.softmax(logits, dim=2)
            v = squash(torch.einsum("brc,brcd->bcd", coupling, u_hat))
            if iteration < ROUTING - 1:
                logits = logits + torch.einsum("brcd,bcd->brc", u_hat, v)
        lengths = v.norm(dim=-1)
        mask = F.one_hot(labels, CLASSES).unsqueeze(-1).float()
        reconstruction = self.decoder((v * mask).flatten(1))
        return lengths, reconstruction, coupling


def margin_loss(lengths, labels, m_plus=0.9, m_minus=0.1, down=0.5):
    target = F.one_hot(labels, CLASSES).float()
    present = target * F.relu(m_plus - lengths) ** 2
    absent = down * (1 - target) * F.relu(lengths - m_minus) ** 2
    return (present + absent).sum(dim=1).mean()


def fixed_init(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            values = torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.57 + i)
            p.copy_(0.4 * values.view_as(p))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)

    images, labels = make_images(9)
    model = CapsuleNet()
    nn.init.normal_(model.weight, std=0.5)
    if args.deterministic:
        fixed_init(model)
        model.eval()  # rrelu takes its mean slope, no random draws
    optimizer = torch.optim.RMSprop(model.parameters(), lr=0.005, alpha=0.9, momentum=0.5)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[3, 5], gamma=0.3)
    multi_margin = nn.MultiMarginLoss(p=2, margin=0.5)
    multi_label = nn.MultiLabelSoftMarginLoss()
    hinge = nn.HingeEmbeddingLoss(margin=0.8)
    losses = []
    for _ in range(7):
        lengths, reconstruction, coupling = model(images, labels)
        loss = margin_loss(lengths, labels) + 0.05 * F.mse_loss(reconstruction, images.flatten(1))
        loss = loss + 0.1 * multi_margin(lengths, labels)
        loss = loss + 0.1 * multi_label(lengths, F.one_hot(labels, CLASSES))
        same = torch.where(labels[:-1] == labels[1:], 1.0, -1.0)
        loss = loss + 0.1 * hinge((lengths[:-1] - lengths[1:]).norm(dim=1), same)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())

    model.eval()
    with torch.no_grad():
        lengths, reconstruction, coupling = model(images, labels)
        confident = torch.masked_select(lengths, lengths > 0.5)
        softmin = nn.Softmin(dim=1)(lengths)
        log_sigmoid = F.logsigmoid(lengths - 0.5)
        maps = nn.Softmax2d()(model.conv(images[:2]))
        projected = torch.tensordot(
            model.weight[0], torch.ones(OUT_DIM, IN_DIM), dims=([2, 3], [0, 1])
        )
        blocks = torch.block_diag(model.weight[0, 0, 0], torch.eye(2))
        columns = lengths[:2].unsqueeze(-1)
        scores = torch.baddbmm(
            torch.ones(2, 3, 3), columns, columns.transpose(1, 2), beta=0.5, alpha=2.0
        )
    torch.save({"model": model.state_dict(), "scheduler": scheduler.state_dict()}, args.checkpoint)
    state = torch.load(args.checkpoint)
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "predicted": lengths.argmax(1).tolist(),
                "lengths": [round(v, 4) for v in lengths[0].tolist()],
                "coupling_entropy": round(-(coupling * coupling.log()).sum(2).mean().item(), 4),
                "confident": confident.numel(),
                "softmin": [round(v, 4) for v in softmin[0].tolist()],
                "log_sigmoid": round(log_sigmoid.sum().item(), 4),
                "softmax2d": [list(maps.shape), round(maps.sum(1).mean().item(), 4)],
                "reconstruction": round(reconstruction.mean().item(), 5),
                "projected": list(projected.shape),
                "block_diag": [list(blocks.shape), round(blocks.sum().item(), 5)],
                "baddbmm": round(scores.sum().item(), 4),
                "milestones": sorted(state["scheduler"]["milestones"]),
                "lr": scheduler.get_last_lr(),
            }
        )
    )


if __name__ == "__main__":
    main()
