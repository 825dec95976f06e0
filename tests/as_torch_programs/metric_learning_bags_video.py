"""Metric learning over two modalities, as retrieval and recommendation notebooks write it:
texts as bags of token ids through `nn.EmbeddingBag(mode="mean")` with `offsets` (and one
with `per_sample_weights` in "sum" mode), tiny video clips through `nn.Conv3d` +
`nn.BatchNorm3d` + `F.avg_pool3d` + `nn.AdaptiveAvgPool3d`, a projection head with
`spectral_norm` (`torch.nn.utils.spectral_norm`) and an `nn.ParameterList` of per-class
prototypes, an `nn.Bilinear` matching score, and three losses added together:
`TripletMarginLoss` on (anchor, positive, negative) picked by `torch.roll`,
`CosineEmbeddingLoss` with +1/-1 targets, and `F.binary_cross_entropy_with_logits` on the
bilinear score. RMSprop, MultiStepLR; retrieval accuracy by `torch.cdist` + `argmin`.

Run: python metric_learning_bags_video.py CHECKPOINT [--deterministic] (see
cnn_custom_dataset).
"""

import argparse
import json

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import spectral_norm

VOCAB, DIM, CLASSES = 20, 8, 3


def make_data(count):
    """Each sample: a bag of tokens and a 1x4x6x6 clip, both hinting at one of 3 classes."""
    tokens, offsets, clips, labels = [], [], [], []
    for n in range(count):
        label = n % CLASSES
        length = 2 + n % 3
        offsets.append(len(tokens))
        tokens.extend((label * 6 + (n * 5 + k) % 6) % VOCAB for k in range(length))
        t = torch.arange(4.0).view(4, 1, 1)
        y = torch.arange(6.0).view(1, 6, 1)
        x = torch.arange(6.0).view(1, 1, 6)
        clip = torch.sin(0.5 * (label + 1) * (x + y) + 0.3 * t + 0.1 * n)
        clips.append(clip.unsqueeze(0))
        labels.append(label)
    return torch.tensor(tokens), torch.tensor(offsets), torch.stack(clips), torch.tensor(labels)


class TextTower(nn.Module):
    def __init__(self):
        super().__init__()
        self.bag = nn.EmbeddingBag(VOCAB, DIM, mode="mean")
        self.weighted = nn.EmbeddingBag(VOCAB, DIM, mode="sum")
        self.proj = spectral_norm(nn.Linear(DIM, DIM))

    def forward(self, tokens, offsets):
        weights = torch.linspace(0.5, 1.5, tokens.numel())
        mixed = self.bag(tokens, offsets) + 0.1 * self.weighted(
            tokens, offsets, per_sample_weights=weights
        )
        return self.proj(torch.tanh(mixed))


class VideoTower(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv3d(1, 4, kernel_size=(2, 3, 3), padding=(0, 1, 1))
        self.bn = nn.BatchNorm3d(4)
        self.conv2 = nn.Conv3d(4, 8, kernel_size=3, padding=1)
        self.pool = nn.AdaptiveAvgPool3d(1)
        self.fc = nn.Linear(8, DIM)

    def forward(self, clip):
        x = F.relu(self.bn(self.conv(clip)))
        x = F.avg_pool3d(x, kernel_size=(1, 2, 2))
        x = self.pool(F.relu(self.conv2(x))).flatten(1)
        return self.fc(x)


class Matcher(nn.Module):
    def __init__(self):
        super().__init__()
        self.text = TextTower()
        self.video = VideoTower()
        self.score = nn.Bilinear(DIM, DIM, 1)
        self.prototypes = nn.ParameterList(
            [nn.Parameter(torch.full((DIM,), 0.1 * (c + 1))) for c in range(CLASSES)]
        )

    def forward(self, tokens, offsets, clip):
        return self.text(tokens, offsets), self.video(clip)


def fixed_init(model):
    with torch.no_grad():
        for i, (name, p) in enumerate(model.named_parameters()):
            if name.endswith("weight_orig") or name.endswith("weight"):
                values = torch.cos(torch.arange(p.numel(), dtype=torch.float32) * 0.61 + i)
                p.copy_(values.view_as(p) * 0.4)
            elif "prototypes" not in name:
                p.copy_(torch.linspace(-0.05, 0.05, p.numel()).view_as(p))
        for name, b in model.named_buffers():
            if name.endswith("weight_u") or name.endswith("weight_v"):  # spectral_norm's random
                values = torch.cos(torch.arange(b.numel(), dtype=torch.float32) + 0.5)
                b.copy_(F.normalize(values, dim=0))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(7)

    tokens, offsets, clips, labels = make_data(24)
    model = Matcher()
    if args.deterministic:
        fixed_init(model)
    triplet = nn.TripletMarginLoss(margin=0.5, p=2)
    cosine = nn.CosineEmbeddingLoss(margin=0.1)
    optimizer = torch.optim.RMSprop(model.parameters(), lr=0.005, alpha=0.9)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[3, 5], gamma=0.5)

    losses = []
    for _ in range(6):
        model.train()
        order = torch.arange(24) if args.deterministic else torch.randperm(24)
        total = 0.0
        for start in range(0, 24, 6):
            idx = order[start : start + 6]
            # the bags of this batch, cut out of the flat token list by their offsets
            ends = torch.cat([offsets[1:], torch.tensor([tokens.numel()])])
            pieces = [tokens[offsets[i] : ends[i]] for i in idx.tolist()]
            batch_offsets = torch.tensor([0] + [len(p) for p in pieces[:-1]]).cumsum(0)
            text, video = model(torch.cat(pieces), batch_offsets, clips[idx])
            negative = torch.roll(video, shifts=1, dims=0)
            same = (labels[idx] == torch.roll(labels[idx], 1)).float() * 2 - 1
            prototypes = torch.stack(list(model.prototypes))
            loss = (
                triplet(text, video, negative)
                + cosine(text, negative, same)
                + F.binary_cross_entropy_with_logits(
                    model.score(text, video).squeeze(1), torch.ones(len(idx))
                )
                + 0.1 * F.cross_entropy(text @ prototypes.t(), labels[idx])
            )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item()
        scheduler.step()
        losses.append(total / 4)

    torch.save(model.state_dict(), args.checkpoint)
    again = Matcher()
    again.load_state_dict(torch.load(args.checkpoint, weights_only=True))
    again.eval()
    with torch.no_grad():
        text, video = again(tokens, offsets, clips)
        nearest = torch.cdist(text, video).argmin(dim=1)
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "retrieval": (labels[nearest] == labels).float().mean().item(),
                "state_keys": sorted(k for k in again.state_dict() if "text.proj" in k),
                "lr": scheduler.get_last_lr(),
                "text_norm": round(text.norm().item(), 3),
            }
        )
    )


if __name__ == "__main__":
    main()
