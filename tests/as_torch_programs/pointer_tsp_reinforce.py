"""Attention-model pointer networks for the travelling salesman problem, as the Kool et al. and
pointer-network repositories write them: a transformer encoder over city coordinates, a decoder
that points at cities with `-inf` masking of visited nodes (`masked_fill`, a bool mask grown by
`scatter_`), tanh clipping of the logits, tours decoded by sampling from `Categorical(logits=)`
and greedily under `torch.no_grad()` as a rollout baseline, the tour length by `torch.gather`
along the tour and `torch.roll`, REINFORCE with the baseline's advantage, the log-probability
of fixed actions re-scored by `Categorical.log_prob`, the masked entropy (finite with `-inf`
logits), and 2-opt improvement by `torch.flip` of a tour segment.

Run: python pointer_tsp_reinforce.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn as nn
from torch.distributions import Categorical

CITIES, BATCH, DIM = 7, 8, 16


def cities(batch, phase):
    k = torch.arange(batch * CITIES * 2, dtype=torch.float32)
    return (0.5 + 0.5 * torch.sin(k * 1.37 + phase) * torch.cos(k * 0.41)).view(batch, CITIES, 2)


class PointerNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(2, DIM)
        layer = nn.TransformerEncoderLayer(
            DIM, 2, dim_feedforward=32, dropout=0.0, batch_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, num_layers=1, enable_nested_tensor=False)
        self.query = nn.Linear(3 * DIM, DIM, bias=False)
        self.key = nn.Linear(DIM, DIM, bias=False)
        self.start = nn.Parameter(torch.zeros(2 * DIM))

    def forward(self, xy, actions=None, greedy=False):
        h = self.encoder(self.embed(xy))
        graph = h.mean(1)
        keys = self.key(h)
        batch = xy.shape[0]
        visited = torch.zeros(batch, CITIES, dtype=torch.bool)
        context = self.start.expand(batch, -1)
        first = last = None
        log_probs, entropies, tour = [], [], []
        for step in range(CITIES):
            q = self.query(torch.cat([graph, context], -1))
            logits = torch.einsum("bd,bnd->bn", q, keys) / math.sqrt(DIM)
            logits = 10.0 * torch.tanh(logits)
            logits = logits.masked_fill(visited, float("-inf"))
            dist = Categorical(logits=logits)
            if actions is not None:
                choice = actions[:, step]
            elif greedy:
                choice = logits.argmax(-1)
            else:
                choice = dist.sample()
            log_probs.append(dist.log_prob(choice))
            entropies.append(dist.entropy())
            tour.append(choice)
            visited = visited.clone().scatter_(1, choice[:, None], True)
            chosen = h.gather(1, choice[:, None, None].expand(-1, 1, DIM)).squeeze(1)
            first = chosen if first is None else first
            last = chosen
            context = torch.cat([first, last], -1)
        return torch.stack(tour, 1), torch.stack(log_probs, 1).sum(1), torch.stack(entropies, 1)


def tour_length(xy, tour):
    ordered = xy.gather(1, tour[..., None].expand(-1, -1, 2))
    return (ordered - torch.roll(ordered, -1, dims=1)).norm(dim=-1).sum(-1)


def two_opt(xy, tour):
    best = tour.clone()
    best_len = tour_length(xy[None], best[None])[0]
    for i in range(1, CITIES - 1):
        for j in range(i + 1, CITIES):
            candidate = best.clone()
            candidate[i : j + 1] = torch.flip(best[i : j + 1], dims=[0])
            length = tour_length(xy[None], candidate[None])[0]
            if length < best_len - 1e-6:
                best, best_len = candidate, length
    return best, best_len


def fixed_init(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            wave = torch.sin(torch.arange(p.numel(), dtype=torch.float64) * 0.67 + i)
            p.copy_((0.3 * wave).view_as(p))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    policy = PointerNet()
    if args.deterministic:
        fixed_init(policy)
    baseline = PointerNet()
    baseline.load_state_dict(policy.state_dict())
    optimizer = torch.optim.Adam(policy.parameters(), lr=1e-3)
    losses, advantages = [], []
    for it in range(4):
        xy = cities(BATCH, float(it))
        if args.deterministic:
            # fixed actions: a rotation of the identity tour, rescored by the policy
            actions = (torch.arange(CITIES)[None] + torch.arange(BATCH)[:, None]) % CITIES
            tour, log_prob, entropy = policy(xy, actions=actions)
        else:
            tour, log_prob, entropy = policy(xy)
        with torch.no_grad():
            baseline.eval()
            greedy_tour, _, _ = baseline(xy, greedy=True)
            advantage = tour_length(xy, tour) - tour_length(xy, greedy_tour)
        loss = (advantage * log_prob).mean() - 0.01 * entropy.mean()
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(policy.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
        advantages.append(round(advantage.mean().item(), 4))
    baseline.load_state_dict(policy.state_dict())
    policy.eval()
    with torch.no_grad():
        xy = cities(4, 9.0)
        greedy_tour, greedy_lp, entropy = policy(xy, greedy=True)
        lengths = tour_length(xy, greedy_tour)
        improved, improved_len = two_opt(xy[0], greedy_tour[0])
        facts = {
            "advantages": advantages,
            "greedy_tour": greedy_tour[0].tolist(),
            "is_permutation": bool((greedy_tour.sort(-1).values == torch.arange(CITIES)).all()),
            "lengths": lengths.round(decimals=4).tolist(),
            "greedy_logp": greedy_lp.round(decimals=4).tolist(),
            "last_entropy": entropy[:, -1].tolist(),
            "entropy0": round(entropy[:, 0].mean().item(), 4),
            "two_opt": [improved.tolist(), round(improved_len.item(), 4)],
        }
    torch.save(policy.state_dict(), args.checkpoint)
    state = torch.load(args.checkpoint, weights_only=True)
    facts["keys"] = sorted(state)[:3]
    print(json.dumps({"library": torch.__name__, "losses": losses, **facts}))


if __name__ == "__main__":
    main()
