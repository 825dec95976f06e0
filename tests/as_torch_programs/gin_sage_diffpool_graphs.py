"""Graph classification beyond GCN/GAT as PyG-free research code writes it: a batch of small
graphs joined into one disjoint graph (`torch.block_diag` of adjacencies, a batch vector from
`torch.repeat_interleave`, node offsets by `cumsum`), edges from `nonzero().t()`, GIN layers
(sum aggregation by `index_add_` with a learnable `(1 + eps)`), GraphSAGE layers (mean and max
aggregation by `scatter_reduce(reduce="mean"/"amax", include_self=False)` followed by
`F.normalize`), a sparse `torch.sparse_coo_tensor(...).coalesce()` adjacency with duplicate
edges and `torch.sparse.mm`, global mean pooling by `torch.bincount` + `index_add`, a
to-dense-batch with padding masks, DiffPool (`softmax` assignments, `bmm` of S^T A S, the link
prediction and entropy auxiliary losses), and readout + `F.cross_entropy`.

Run: python gin_sage_diffpool_graphs.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json

import torch
import torch.nn as nn
import torch.nn.functional as F

FEATS, HIDDEN, CLUSTERS, MAX_NODES = 3, 12, 2, 6


def make_graphs():
    graphs, labels = [], []
    for g in range(6):
        n = 4 + g % 3
        adj = torch.zeros(n, n)
        idx = torch.arange(n)
        adj[idx, (idx + 1) % n] = 1.0  # a ring ...
        if g % 2 == 1:
            adj[0, 2:] = 1.0  # ... or a ring with a hub
        adj = ((adj + adj.t()) > 0).float()
        x = torch.stack(
            [adj.sum(1) / n, torch.sin(idx.float() + g), torch.cos(0.5 * idx.float())], 1
        )
        graphs.append((x, adj))
        labels.append(g % 2)
    return graphs, torch.tensor(labels)


def batch_graphs(graphs):
    x = torch.cat([g[0] for g in graphs])
    adj = torch.block_diag(*[g[1] for g in graphs])
    sizes = torch.tensor([g[0].shape[0] for g in graphs])
    batch = torch.repeat_interleave(torch.arange(len(graphs)), sizes)
    return x, adj, batch, sizes


class GINLayer(nn.Module):
    def __init__(self, d_in, d_out):
        super().__init__()
        self.eps = nn.Parameter(torch.zeros(1))
        self.mlp = nn.Sequential(nn.Linear(d_in, d_out), nn.ReLU(), nn.Linear(d_out, d_out))

    def forward(self, x, edges):
        src, dst = edges
        agg = torch.zeros_like(x).index_add_(0, dst, x[src])
        return self.mlp((1 + self.eps) * x + agg)


class SAGELayer(nn.Module):
    def __init__(self, d_in, d_out, reduce):
        super().__init__()
        self.reduce = reduce
        self.self_lin = nn.Linear(d_in, d_out)
        self.neigh_lin = nn.Linear(d_in, d_out, bias=False)

    def forward(self, x, edges):
        src, dst = edges
        index = dst[:, None].expand(-1, x.shape[1])
        agg = torch.zeros_like(x).scatter_reduce(
            0, index, x[src], reduce=self.reduce, include_self=False
        )
        return F.normalize(self.self_lin(x) + self.neigh_lin(agg), p=2, dim=-1)


def to_dense_batch(x, batch, sizes):
    starts = torch.cumsum(sizes, 0) - sizes
    position = torch.arange(x.shape[0]) - starts[batch]
    dense = x.new_zeros(len(sizes), MAX_NODES, x.shape[1])
    dense[batch, position] = x
    mask = torch.arange(MAX_NODES)[None] < sizes[:, None]
    return dense, mask


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.gin = GINLayer(FEATS, HIDDEN)
        self.sage_mean = SAGELayer(HIDDEN, HIDDEN, "mean")
        self.sage_max = SAGELayer(HIDDEN, HIDDEN, "amax")
        self.assign = nn.Linear(HIDDEN, CLUSTERS)
        self.head = nn.Linear(2 * HIDDEN, 2)

    def forward(self, x, adj, batch, sizes):
        edges = adj.nonzero().t()
        h = F.relu(self.gin(x, edges))
        h = self.sage_mean(h, edges) + self.sage_max(h, edges)
        counts = torch.bincount(batch, minlength=len(sizes)).clamp(min=1)
        mean_pool = h.new_zeros(len(sizes), HIDDEN).index_add(0, batch, h) / counts[:, None]
        dense_h, mask = to_dense_batch(h, batch, sizes)
        adjs = x.new_zeros(len(sizes), MAX_NODES, MAX_NODES)
        for b in range(len(sizes)):
            n = int(sizes[b])
            adjs[b, :n, :n] = adj[batch == b][:, batch == b]
        s = torch.softmax(self.assign(dense_h), dim=-1) * mask[..., None]
        pooled = torch.bmm(s.transpose(1, 2), dense_h)
        pooled_adj = torch.bmm(torch.bmm(s.transpose(1, 2), adjs), s)
        link = torch.norm(adjs - torch.bmm(s, s.transpose(1, 2)), p=2) / adjs.numel()
        entropy = (-s * torch.log(s + 1e-15)).sum(-1)[mask].mean()
        readout = torch.cat([mean_pool, pooled.amax(1)], -1)
        return self.head(readout), link, entropy, pooled_adj


def sparse_propagate(x, adj):
    edges = adj.nonzero().t()
    doubled = torch.cat([edges, edges[:, :3]], 1)  # duplicates that coalesce sums
    values = torch.ones(doubled.shape[1])
    sparse = torch.sparse_coo_tensor(doubled, values, adj.shape).coalesce()
    degree = torch.sparse.sum(sparse, dim=1).to_dense()
    return torch.sparse.mm(sparse, x) / degree[:, None], sparse.values().sum().item()


def fixed_init(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            wave = torch.sin(torch.arange(p.numel(), dtype=torch.float64) * 0.57 + i)
            p.copy_((0.35 * wave).view_as(p))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    graphs, labels = make_graphs()
    x, adj, batch, sizes = batch_graphs(graphs)
    model = Net()
    if args.deterministic:
        fixed_init(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(10):
        model.train()
        logits, link, entropy, _ = model(x, adj, batch, sizes)
        loss = F.cross_entropy(logits, labels) + link + 0.1 * entropy
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        logits, link, entropy, pooled_adj = model(x, adj, batch, sizes)
        propagated, total = sparse_propagate(x, adj)
        facts = {
            "accuracy": (logits.argmax(1) == labels).float().mean().item(),
            "link": round(link.item(), 5),
            "entropy": round(entropy.item(), 4),
            "pooled_adj": pooled_adj[0].round(decimals=4).tolist(),
            "eps": round(model.gin.eps.item(), 5),
            "propagated": propagated[:3, 0].round(decimals=4).tolist(),
            "sparse_total": total,
            "edges": int(adj.sum().item()),
            "gin_out": model.gin(x, adj.nonzero().t()).abs().mean().item(),
        }
    torch.save(model.state_dict(), args.checkpoint)
    state = torch.load(args.checkpoint, weights_only=True)
    facts["keys"] = sorted(state)[:3]
    print(json.dumps({"library": torch.__name__, "losses": losses, **facts}))


if __name__ == "__main__":
    main()
