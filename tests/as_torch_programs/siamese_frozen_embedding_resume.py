"""A Siamese text encoder fine-tuned as adapter / PEFT scripts do it: a frozen
`nn.Embedding` (`requires_grad_(False)`), encoder blocks run through reentrant
`torch.utils.checkpoint.checkpoint(use_reentrant=True)` (so, as in PyTorch, nothing inside
trains until the embedding's output is made to require grad by a forward hook, Hugging Face's
`enable_input_require_grads`), mean pooling under a padding mask, `F.normalize`, a
contrastive loss on pair distances plus `TripletMarginLoss(swap=True)` and
`CosineEmbeddingLoss`, `clip_grad_value_`, `CosineAnnealingWarmRestarts` stepped with
fractional epochs, and a resume from an `io.BytesIO` checkpoint loaded with the older
`map_location=lambda storage, loc: storage` and with a `{"cuda:0": "cpu"}` dict.

Run: python siamese_frozen_embedding_resume.py CHECKPOINT [--deterministic] (see
cnn_custom_dataset).
"""

import argparse
import io
import json

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

VOCAB, DIM, LENGTH = 12, 8, 6


def make_pairs():
    """Token sequences (0 pads) of three 'topics'; pairs of the same topic are similar."""
    sequences, topics = [], []
    for i in range(9):
        topic = i % 3
        length = 3 + i % 4
        tokens = [1 + topic * 3 + (i + j) % 3 for j in range(length)]
        sequences.append(tokens + [0] * (LENGTH - length))
        topics.append(topic)
    return torch.tensor(sequences), torch.tensor(topics)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm = nn.LayerNorm(DIM)
        self.ff = nn.Sequential(nn.Linear(DIM, 16), nn.GELU(), nn.Linear(16, DIM))

    def forward(self, x):
        return x + self.ff(self.norm(x))


class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, DIM, padding_idx=0)
        self.blocks = nn.ModuleList([Block(), Block()])
        self.head = nn.Linear(DIM, DIM)

    def forward(self, tokens):
        x = self.embed(tokens)
        for block in self.blocks:
            x = checkpoint(block, x, use_reentrant=True)
        mask = (tokens != 0).unsqueeze(-1).float()
        pooled = (x * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return F.normalize(self.head(pooled), dim=-1)


def contrastive(a, b, same, margin=0.8):
    distance = F.pairwise_distance(a, b)
    return torch.where(same, distance.pow(2), F.relu(margin - distance).pow(2)).mean()


def fixed_init(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            values = torch.sin(torch.arange(p.numel(), dtype=torch.float64) * 0.67 + i)
            p.copy_((0.4 * values).float().view_as(p))


def train(model, optimizer, scheduler, tokens, topics, steps, start):
    losses = []
    anchor, positive, negative = tokens[:3], tokens[3:6], tokens[[1, 2, 0]]
    same = topics[:3] == topics[[1, 2, 0]]
    triplet = nn.TripletMarginLoss(margin=0.5, swap=True)
    cosine = nn.CosineEmbeddingLoss(margin=0.1)
    for step in range(steps):
        emb_a, emb_p, emb_n = model(anchor), model(positive), model(negative)
        loss = contrastive(emb_a, emb_n, same) + triplet(emb_a, emb_p, emb_n)
        loss = loss + cosine(emb_a, emb_p, torch.ones(3))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_value_(model.parameters(), 0.5)
        optimizer.step()
        scheduler.step(start + (step + 1) / steps)
        losses.append(loss.item())
    return losses


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)

    tokens, topics = make_pairs()
    model = Encoder()
    if args.deterministic:
        fixed_init(model)
        with torch.no_grad():
            model.embed.weight[0].zero_()
    model.embed.requires_grad_(False)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=0.02, weight_decay=0.01)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(optimizer, T_0=2, T_mult=2)

    # Reentrant checkpointing of a frozen embedding's output: no block weight gets a gradient.
    model(tokens[:2]).sum().backward()
    frozen_grads = sum(p.grad is not None for p in model.blocks.parameters())
    optimizer.zero_grad()
    handle = model.embed.register_forward_hook(lambda module, inputs, out: out.requires_grad_(True))

    losses = train(model, optimizer, scheduler, tokens, topics, 4, 0)
    block_grads = sum(p.grad is not None for p in model.blocks.parameters())
    buffer = io.BytesIO()
    torch.save(
        {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "epoch": 1,
        },
        buffer,
    )
    buffer.seek(0)
    state = torch.load(buffer, map_location=lambda storage, loc: storage)
    buffer.seek(0)
    same_state = torch.load(buffer, map_location={"cuda:0": "cpu"})

    resumed = Encoder()
    resumed.load_state_dict(state["model"])
    resumed.embed.requires_grad_(False)
    resumed.embed.register_forward_hook(lambda module, inputs, out: out.requires_grad_(True))
    resumed_optimizer = torch.optim.AdamW(
        [p for p in resumed.parameters() if p.requires_grad], lr=0.02, weight_decay=0.01
    )
    resumed_optimizer.load_state_dict(state["optimizer"])
    resumed_scheduler = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
        resumed_optimizer, T_0=2, T_mult=2
    )
    resumed_scheduler.load_state_dict(state["scheduler"])
    losses += train(resumed, resumed_optimizer, resumed_scheduler, tokens, topics, 4, 1)
    handle.remove()

    with torch.no_grad():
        emb = resumed(tokens)
        similarity = emb @ emb.T
        nearest = similarity.fill_diagonal_(-2.0).argmax(1)
    torch.save(resumed.state_dict(), args.checkpoint)
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "frozen_block_grads": frozen_grads,
                "block_grads_with_hook": block_grads,
                "embedding_unchanged": bool(torch.equal(resumed.embed.weight, model.embed.weight)),
                "same_loads": bool(
                    torch.equal(same_state["model"]["head.weight"], state["model"]["head.weight"])
                ),
                "nearest_topic_match": round((topics[nearest] == topics).float().mean().item(), 4),
                "lr": [round(v, 6) for v in resumed_scheduler.get_last_lr()],
                "T_i": resumed_scheduler.T_i,
                "epoch": state["epoch"],
            }
        )
    )


if __name__ == "__main__":
    main()
