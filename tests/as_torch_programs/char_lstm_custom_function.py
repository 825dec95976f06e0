"""A char-level LSTM language model as posted in tutorials: a vocabulary built from a string,
`nn.Embedding` + `nn.LSTM(batch_first=True)` + `nn.Linear`, hidden state carried across
batches with `.detach()`, CrossEntropyLoss on `view(-1, vocab)`, `clip_grad_norm_` (its
returned total norm printed), `clip_grad_value_`, greedy generation with `argmax` and
`torch.multinomial` sampling; plus a custom `autograd.Function` (save_for_backward,
needs_input_grad, mark_dirty, once-per-call ctx attributes) and per-sample gradients with
`torch.func.vmap(grad(...))`, jacrev and functional_call.

Run: python char_lstm_custom_function.py CHECKPOINT [--deterministic].
"""

import argparse
import json

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.func import functional_call, grad, jacrev, vmap

TEXT = "hello world, hello chainrule; the quick brown fox jumps over the lazy dog. " * 2


class CharModel(nn.Module):
    def __init__(self, vocab, hidden=12):
        super().__init__()
        self.embed = nn.Embedding(vocab, 6)
        self.lstm = nn.LSTM(6, hidden, num_layers=2, batch_first=True, dropout=0.0)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x, state=None):
        out, state = self.lstm(self.embed(x), state)
        return self.head(out), state


class ScaledClamp(torch.autograd.Function):
    """clamp(x * scale, -1, 1), in place on x's copy; gradient passes where not clamped."""

    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        y = x.clone()
        y.mul_(scale)
        mask = (y > -1) & (y < 1)
        y.clamp_(-1, 1)
        ctx.save_for_backward(mask)
        ctx.mark_non_differentiable(mask)
        return y, mask

    @staticmethod
    def backward(ctx, grad_y, grad_mask):
        (mask,) = ctx.saved_tensors
        grad_x = grad_y * mask * ctx.scale if ctx.needs_input_grad[0] else None
        return grad_x, None


class AddOneInPlace(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        x.add_(1)
        ctx.mark_dirty(x)
        return x

    @staticmethod
    def backward(ctx, g):
        return g


def fixed_(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(torch.sin(torch.arange(p.numel(), dtype=torch.float32) * (0.3 + i)).view_as(p))
            p.mul_(0.3)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)

    chars = sorted(set(TEXT))
    stoi = {c: i for i, c in enumerate(chars)}
    itos = {i: c for c, i in stoi.items()}
    data = torch.tensor([stoi[c] for c in TEXT], dtype=torch.long)
    seq, batch = 10, 4
    n = (len(data) - 1) // (seq * batch) * seq * batch
    inputs = data[:n].view(batch, -1)
    targets = data[1 : n + 1].view(batch, -1)

    model = CharModel(len(chars))
    if args.deterministic:
        fixed_(model)
    optimizer = torch.optim.RMSprop(model.parameters(), lr=0.01, alpha=0.9)
    criterion = nn.CrossEntropyLoss()

    losses, norms = [], []
    state = None
    for epoch in range(2):
        for i in range(0, inputs.size(1) - seq + 1, seq):
            x, y = inputs[:, i : i + seq], targets[:, i : i + seq]
            if state is not None:
                state = tuple(s.detach() for s in state)
            logits, state = model(x, state)
            loss = criterion(logits.reshape(-1, len(chars)), y.reshape(-1))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            total = nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5)
            nn.utils.clip_grad_value_(model.parameters(), clip_value=0.1)
            optimizer.step()
            losses.append(loss.item())
            norms.append(total.item())
        print(f"epoch {epoch}: loss {loss.item():.4f} norm {total:.4f} perplexity {loss.exp():.3f}")

    model.eval()
    with torch.no_grad():
        start = torch.tensor([[stoi["h"]]])
        out, st = model(start)
        generated = ["h"]
        for _ in range(12):
            nxt = out[:, -1].argmax(-1, keepdim=True)
            generated.append(itos[nxt.item()])
            out, st = model(nxt, st)
        probs = F.softmax(out[:, -1] / 0.8, dim=-1)
        sampled = torch.multinomial(probs, num_samples=3, replacement=True)

    torch.save(model.state_dict(), args.checkpoint)
    restored = CharModel(len(chars))
    missing = restored.load_state_dict(torch.load(args.checkpoint), strict=False)

    # a custom Function, its non-differentiable mask and its in-place sibling
    w = torch.tensor([0.1, -0.4, 0.9, 2.0], requires_grad=True)
    clamped, mask = ScaledClamp.apply(w, 2.0)
    (clamped * torch.arange(1.0, 5.0)).sum().backward()
    leaf = torch.tensor([1.0, 2.0], requires_grad=True)
    bumped = AddOneInPlace.apply(leaf.clone())
    bumped.pow(2).sum().backward()

    # per-sample gradients of the head with torch.func
    params = {k: v.detach() for k, v in model.head.named_parameters()}
    feats = torch.cos(torch.arange(3 * 12, dtype=torch.float32).view(3, 12))
    labels = torch.tensor([0, 2, 1])

    def sample_loss(p, f, t):
        out = functional_call(model.head, p, (f.unsqueeze(0),))
        return F.cross_entropy(out, t.unsqueeze(0))

    per_sample = vmap(grad(sample_loss), in_dims=(None, 0, 0))(params, feats, labels)
    jac = jacrev(lambda v: torch.tanh(v) * v.sum())(torch.tensor([0.5, -1.0, 2.0]))

    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "norms": norms,
                "generated": "".join(generated) if args.deterministic else "",
                "sampled_shape": list(sampled.shape),
                "missing": [list(missing.missing_keys), list(missing.unexpected_keys)],
                "clamped": clamped.tolist(),
                "mask": mask.tolist(),
                "mask_requires_grad": mask.requires_grad,
                "w_grad": w.grad.tolist(),
                "leaf_grad": leaf.grad.tolist(),
                "bumped_grad_fn": type(bumped.grad_fn).__name__,
                "per_sample_shapes": {k: list(v.shape) for k, v in per_sample.items()},
                "per_sample_bias": per_sample["bias"].tolist() if args.deterministic else [],
                "jacobian": jac.tolist(),
                "lstm_weights": [n for n, _ in model.lstm.named_parameters()],
            }
        )
    )


if __name__ == "__main__":
    main()
