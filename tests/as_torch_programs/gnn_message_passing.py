"""A graph neural network without torch_geometric, as blog posts write message passing by
hand: an edge_index of shape (2, E) made symmetric with `torch.cat` / `flip`, self-loops
from `torch.arange`, degrees by `torch.bincount` and `index_add_`, symmetric GCN
normalisation with `pow(-0.5)` and `masked_fill_` of infinities, messages summed with
`index_add_`, max- and mean-aggregated with `scatter_reduce(..., include_self=False)`,
a graph-level readout over a `batch` vector with `scatter_reduce("amax")` and
`torch.zeros(...).index_add_`, `torch.unique(return_counts=True)`, `repeat_interleave`,
`torch.sort`/`argsort(stable=True)`, and node classification under a boolean train mask.

Run: python gnn_message_passing.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json

import torch
import torch.nn as nn
import torch.nn.functional as F


def ring_graphs(sizes):
    """Rings of the given sizes with a chord each, batched into one disconnected graph."""
    edges, batch, offset = [], [], 0
    for g, n in enumerate(sizes):
        nodes = torch.arange(n) + offset
        edges.append(torch.stack([nodes, nodes.roll(-1)]))
        edges.append(torch.tensor([[offset], [offset + n // 2]]))
        batch.append(torch.full((n,), g, dtype=torch.long))
        offset += n
    edge_index = torch.cat(edges, dim=1)
    edge_index = torch.cat([edge_index, edge_index.flip(0)], dim=1)  # undirected
    return edge_index, torch.cat(batch)


class GCNLayer(nn.Module):
    def __init__(self, fin, fout):
        super().__init__()
        self.lin = nn.Linear(fin, fout, bias=False)
        self.bias = nn.Parameter(torch.zeros(fout))

    def forward(self, x, edge_index):
        n = x.size(0)
        loops = torch.arange(n).unsqueeze(0).repeat(2, 1)
        src, dst = torch.cat([edge_index, loops], dim=1)
        deg = torch.zeros(n).index_add_(0, dst, torch.ones(dst.numel()))
        norm = deg.pow(-0.5)
        norm.masked_fill_(torch.isinf(norm), 0.0)
        weight = norm[src] * norm[dst]
        h = self.lin(x)
        out = torch.zeros_like(h).index_add_(0, dst, h[src] * weight.unsqueeze(-1))
        return out + self.bias


class SAGEMax(nn.Module):
    def __init__(self, fin, fout):
        super().__init__()
        self.self_lin = nn.Linear(fin, fout)
        self.neigh_lin = nn.Linear(2 * fin, fout)

    def forward(self, x, edge_index):
        src, dst = edge_index
        index = dst.unsqueeze(-1).expand(-1, x.size(1))
        neigh_max = torch.zeros_like(x).scatter_reduce(0, index, x[src], "amax", include_self=False)
        neigh_mean = x.new_zeros(x.shape).scatter_reduce(
            0, index, x[src], reduce="mean", include_self=False
        )
        return self.self_lin(x) + self.neigh_lin(torch.cat([neigh_max, neigh_mean], dim=-1))


class GNN(nn.Module):
    def __init__(self, fin=3, hidden=8, classes=3):
        super().__init__()
        self.conv1 = GCNLayer(fin, hidden)
        self.conv2 = SAGEMax(hidden, hidden)
        self.node_head = nn.Linear(hidden, classes)
        self.graph_head = nn.Linear(2 * hidden, 1)

    def forward(self, x, edge_index, batch, graphs):
        h = F.relu(self.conv1(x, edge_index))
        h = F.dropout(h, p=0.1, training=self.training)
        h = F.elu(self.conv2(h, edge_index))
        index = batch.unsqueeze(-1).expand_as(h)
        pooled_max = torch.full((graphs, h.size(1)), -1e9).scatter_reduce(0, index, h, "amax")
        counts = torch.bincount(batch, minlength=graphs).clamp(min=1).unsqueeze(-1)
        pooled_mean = torch.zeros(graphs, h.size(1)).index_add_(0, batch, h) / counts
        graph_out = self.graph_head(torch.cat([pooled_max, pooled_mean], dim=-1)).squeeze(-1)
        return self.node_head(h), graph_out


def fixed_init(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(
                0.4 * torch.cos(torch.arange(p.numel(), dtype=torch.float32) * 0.77 + i).view_as(p)
            )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(5)

    sizes = [5, 6, 7, 8]
    edge_index, batch = ring_graphs(sizes)
    n = batch.numel()
    position = torch.cat([torch.arange(s) for s in sizes]).float()
    x = torch.stack([torch.sin(position), torch.cos(position), batch.float() / 4], dim=1)
    labels = position.long() % 3
    graph_targets = torch.tensor(sizes, dtype=torch.float32) / 8
    train_mask = torch.arange(n) % 4 != 0

    nodes, counts = torch.unique(batch, return_counts=True)
    degree = torch.bincount(edge_index[0], minlength=n)
    order = torch.argsort(degree, descending=True, stable=True)
    sorted_deg, sort_idx = torch.sort(degree, stable=True)
    expanded = torch.repeat_interleave(nodes, counts)

    model = GNN()
    if args.deterministic:
        fixed_init(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02, weight_decay=5e-4)
    losses = []
    for _ in range(25):
        model.train()
        node_logits, graph_pred = model(x, edge_index, batch, len(sizes))
        if args.deterministic:
            model.eval()
            node_logits, graph_pred = model(x, edge_index, batch, len(sizes))
        loss = F.cross_entropy(node_logits[train_mask], labels[train_mask])
        loss = loss + F.mse_loss(graph_pred, graph_targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())

    model.eval()
    with torch.no_grad():
        node_logits, graph_pred = model(x, edge_index, batch, len(sizes))
        pred = node_logits.argmax(dim=1)
        test_acc = (pred[~train_mask] == labels[~train_mask]).sum().item() / int(
            (~train_mask).sum()
        )
    torch.save(model.state_dict(), args.checkpoint)
    again = GNN()
    again.load_state_dict(torch.load(args.checkpoint, weights_only=True))
    again.eval()
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses,
                "test_acc": test_acc,
                "graph_pred": graph_pred.tolist(),
                "edges": list(edge_index.shape),
                "counts": counts.tolist(),
                "degree": degree.tolist(),
                "order": order.tolist(),
                "sorted": [sorted_deg.tolist(), sort_idx.tolist()],
                "expanded": torch.equal(expanded, batch),
                "mask_dtype": str(train_mask.dtype),
                "reloaded": torch.equal(again(x, edge_index, batch, 4)[0], node_logits),
            }
        )
    )


if __name__ == "__main__":
    main()
