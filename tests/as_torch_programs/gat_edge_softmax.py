"""Graph attention networks (GAT and GATv2) written without torch_geometric, as tutorials do:
an edge list cleaned with `torch.unique(dim=1, return_inverse=True)` (duplicate edges
counted with `bincount`), self-loops added, per-edge scores from `F.leaky_relu(...,
negative_slope=0.2)`, the edge softmax over each target node's incoming edges by
`scatter_reduce(reduce="amax", include_self=False)` for the max, `exp`, and `index_add_` for
the sum (checked against a dense masked softmax), messages aggregated with `index_add_` /
`scatter_add`, multi-head attention concatenated in the hidden layer and averaged in the
output layer, `F.elu`, attention dropout, `nn.init.xavier_uniform_(gain=1.414)` through
`module.apply`, the edge index kept as a buffer, a masked node-classification loss, and Adam
with weight decay.

Run: python gat_edge_softmax.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def edge_softmax(scores, target, num_nodes):
    """Softmax of (E, H) scores over the edges that share a target node."""
    heads = scores.shape[1]
    index = target.unsqueeze(-1).expand(-1, heads)
    node_max = torch.zeros(num_nodes, heads).scatter_reduce(
        0, index, scores, reduce="amax", include_self=False
    )
    exp = (scores - node_max[target]).exp()
    denom = torch.zeros(num_nodes, heads).index_add_(0, target, exp)
    return exp / denom[target]


class GATLayer(nn.Module):
    def __init__(self, cin, cout, heads, concat=True, v2=False, dropout=0.0):
        super().__init__()
        self.heads, self.cout, self.concat, self.v2, self.dropout = heads, cout, concat, v2, dropout
        self.lin = nn.Linear(cin, heads * cout, bias=False)
        self.att_src = nn.Parameter(torch.empty(1, heads, cout))
        self.att_dst = nn.Parameter(torch.empty(1, heads, cout))
        self.bias = nn.Parameter(torch.zeros(heads * cout if concat else cout))

    def forward(self, x, edge_index, return_attention=False):
        source, target = edge_index
        n = x.shape[0]
        h = self.lin(x).view(n, self.heads, self.cout)
        if self.v2:
            mixed = F.leaky_relu(h[source] + h[target], negative_slope=0.2)
            scores = (mixed * self.att_src).sum(-1)
        else:
            alpha_src = (h * self.att_src).sum(-1)
            alpha_dst = (h * self.att_dst).sum(-1)
            scores = F.leaky_relu(alpha_src[source] + alpha_dst[target], negative_slope=0.2)
        alpha = edge_softmax(scores, target, n)
        alpha = F.dropout(alpha, p=self.dropout, training=self.training)
        messages = h[source] * alpha.unsqueeze(-1)
        out = torch.zeros_like(h).index_add_(0, target, messages)
        out = out.flatten(1) if self.concat else out.mean(dim=1)
        out = out + self.bias
        return (out, alpha) if return_attention else out


class GAT(nn.Module):
    def __init__(self, cin, hidden, classes, heads=2, v2=False, dropout=0.0):
        super().__init__()
        self.layers = nn.ModuleList(
            [
                GATLayer(cin, hidden, heads, concat=True, v2=v2, dropout=dropout),
                GATLayer(hidden * heads, classes, heads, concat=False, v2=v2, dropout=dropout),
            ]
        )
        self.apply(self._init)

    @staticmethod
    def _init(module):
        if isinstance(module, GATLayer):
            nn.init.xavier_uniform_(module.lin.weight, gain=1.414)
            nn.init.xavier_uniform_(module.att_src, gain=1.414)
            nn.init.xavier_uniform_(module.att_dst, gain=1.414)

    def forward(self, x, edge_index):
        x = F.elu(self.layers[0](x, edge_index))
        return self.layers[1](x, edge_index)


def make_graph(n=18):
    """Three communities of six nodes: a ring inside each, a few bridges, repeated edges."""
    edges = []
    for c in range(3):
        for i in range(6):
            a, b = c * 6 + i, c * 6 + (i + 1) % 6
            edges += [(a, b), (b, a)]
        edges.append((c * 6, c * 6 + 3))
    edges += [(0, 6), (6, 12), (12, 0), (0, 6), (3, 9)]
    edge_index = torch.tensor(edges).t()
    edge_index, inverse = torch.unique(edge_index, dim=1, return_inverse=True)
    repeats = torch.bincount(inverse, minlength=edge_index.shape[1])
    loops = torch.arange(n).unsqueeze(0).repeat(2, 1)
    edge_index = torch.cat([edge_index, loops], dim=1)
    labels = torch.arange(n) // 6
    angles = torch.arange(n, dtype=torch.float32)
    features = torch.stack(
        [torch.sin(angles * 0.9 + labels), torch.cos(angles * 0.4), 0.3 * labels.float() - 0.3], 1
    )
    return features, edge_index, labels, repeats


def fixed_init(model):
    with torch.no_grad():
        for i, (_name, p) in enumerate(model.named_parameters()):
            values = torch.sin(torch.arange(p.numel(), dtype=torch.float32) * 0.91 + i)
            p.copy_(values.view_as(p) / math.sqrt(max(p.shape[-1], 2)))


class Graph(nn.Module):
    """A model holding its graph as a buffer, as a transductive script does."""

    def __init__(self, model, edge_index):
        super().__init__()
        self.model = model
        self.register_buffer("edge_index", edge_index)

    def forward(self, x):
        return self.model(x, self.edge_index)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(4)
    x, edge_index, labels, repeats = make_graph()
    train_mask = torch.zeros(len(labels), dtype=torch.bool)
    train_mask[::3] = True
    drop = 0.0 if args.deterministic else 0.2
    results = {}
    for v2 in (False, True):
        net = Graph(GAT(3, 4, 3, heads=2, v2=v2, dropout=drop), edge_index)
        if args.deterministic:
            fixed_init(net)
        optimizer = torch.optim.Adam(net.parameters(), lr=0.05, weight_decay=5e-4)
        losses = []
        for _step in range(10):
            net.train()
            out = net(x)
            loss = F.cross_entropy(out[train_mask], labels[train_mask])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(round(loss.item(), 5))
        net.eval()
        with torch.no_grad():
            hidden = F.elu(net.model.layers[0](x, edge_index))
            _, alpha = net.model.layers[1](hidden, edge_index, return_attention=True)
            accuracy = (net(x).argmax(1) == labels)[~train_mask].float().mean().item()
        results[v2] = (net, losses, alpha, accuracy)

    net, losses, alpha, accuracy = results[False]
    scores = torch.sin(torch.arange(edge_index.shape[1] * 2, dtype=torch.float32)).view(-1, 2)
    sparse = edge_softmax(scores, edge_index[1], len(labels))
    dense = torch.full((len(labels), len(labels), 2), float("-inf"))
    dense[edge_index[1], edge_index[0]] = scores
    dense = dense.softmax(dim=1)[edge_index[1], edge_index[0]]
    in_sum = torch.zeros(len(labels), 2).index_add_(0, edge_index[1], alpha)
    torch.save(net.state_dict(), args.checkpoint)
    state = torch.load(args.checkpoint)
    restored = Graph(GAT(3, 4, 3), torch.zeros_like(edge_index))
    restored.load_state_dict(state, assign=True)  # the buffer takes the saved graph
    restored.eval()
    with torch.no_grad():
        same = bool(torch.allclose(restored(x), net(x)))
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses + results[True][1],
                "edges": edge_index.shape[1],
                "repeats": repeats.max().item(),
                "accuracy": [round(accuracy, 4), round(results[True][3], 4)],
                "softmax_matches_dense": bool(torch.allclose(sparse, dense, atol=1e-6)),
                "incoming_sums": [round(v, 5) for v in in_sum[:3, 0].tolist()],
                "alpha": [round(v, 5) for v in alpha[:4, 1].tolist()],
                "alpha_v2": [round(v, 5) for v in results[True][2][:4, 0].tolist()],
                "state_keys": sorted(state)[:3],
                "assigned_edges": bool(torch.equal(restored.edge_index, edge_index)),
                "restored": same,
            }
        )
    )


if __name__ == "__main__":
    main()
