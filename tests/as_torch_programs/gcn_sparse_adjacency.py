"""A graph convolutional network in the style of Kipf & Welling's reference code (pygcn): the
normalised adjacency built with NumPy and handed over as a sparse COO tensor through the
legacy `torch.sparse.FloatTensor(indices, values, shape)`, `torch.spmm(adj, support)` in each
layer, `torch.sparse.sum(...).to_dense()` for degrees, `coalesce()`/`indices()`/`values()`,
`_nnz()`, `t()`, `to_dense()`, `to_sparse()`, the printed sparse tensor, and a second model
with learnable edge weights through `torch.sparse_coo_tensor(edge_index, weights)`,
`torch.sparse.softmax` over each node's edges and `torch.sparse.mm`, whose gradient reaches the
edge parameters.

Run: python gcn_sparse_adjacency.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json
import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def make_graph(rng, nodes=60, classes=3):
    """Three communities: dense inside, sparse between; features noisy class indicators."""
    labels = np.arange(nodes) % classes
    rows, cols = [], []
    for i in range(nodes):
        for j in range(i + 1, nodes):
            p = 0.25 if labels[i] == labels[j] else 0.02
            if rng.random() < p:
                rows += [i, j]
                cols += [j, i]
    features = np.eye(classes)[labels] + 0.8 * rng.standard_normal((nodes, classes))
    features = np.hstack([features, rng.standard_normal((nodes, 5))]).astype(np.float32)
    return np.array(rows), np.array(cols), features, labels


def normalized_adjacency(rows, cols, n):
    """D^-1/2 (A + I) D^-1/2 as COO arrays, as pygcn's preprocessing does."""
    rows = np.concatenate([rows, np.arange(n)])
    cols = np.concatenate([cols, np.arange(n)])
    degree = np.bincount(rows, minlength=n).astype(np.float32)
    values = (degree[rows] ** -0.5) * (degree[cols] ** -0.5)
    return rows, cols, values.astype(np.float32)


def sparse_mx_to_torch_sparse_tensor(rows, cols, values, n):
    indices = torch.from_numpy(np.vstack((rows, cols)).astype(np.int64))
    return torch.sparse.FloatTensor(indices, torch.from_numpy(values), torch.Size((n, n)))


class GraphConvolution(nn.Module):
    def __init__(self, in_features, out_features):
        super().__init__()
        self.weight = nn.Parameter(torch.FloatTensor(in_features, out_features))
        self.bias = nn.Parameter(torch.FloatTensor(out_features))
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.weight.size(1))
        self.weight.data.uniform_(-stdv, stdv)
        self.bias.data.uniform_(-stdv, stdv)

    def forward(self, input, adj):
        support = torch.mm(input, self.weight)
        return torch.spmm(adj, support) + self.bias


class GCN(nn.Module):
    def __init__(self, nfeat, nhid, nclass, dropout):
        super().__init__()
        self.gc1 = GraphConvolution(nfeat, nhid)
        self.gc2 = GraphConvolution(nhid, nclass)
        self.dropout = dropout

    def forward(self, x, adj):
        x = F.relu(self.gc1(x, adj))
        x = F.dropout(x, self.dropout, training=self.training)
        return F.log_softmax(self.gc2(x, adj), dim=1)


class EdgeWeightedGCN(nn.Module):
    """One layer whose edge weights are learned: a softmax over each node's in-edges."""

    def __init__(self, edge_index, n, nfeat, nclass):
        super().__init__()
        self.edge_index, self.n = edge_index, n
        self.edge_logits = nn.Parameter(torch.zeros(edge_index.size(1)))
        self.lin = nn.Linear(nfeat, nclass)

    def forward(self, x):
        scores = torch.sparse_coo_tensor(self.edge_index, self.edge_logits, (self.n, self.n))
        attention = torch.sparse.softmax(scores, dim=1)
        return F.log_softmax(torch.sparse.mm(attention, self.lin(x)), dim=1)


def fixed_init(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(0.3 * torch.sin(torch.arange(p.numel(), dtype=torch.float32) + i).view_as(p))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(3)
    rng = np.random.default_rng(0)

    rows, cols, features, labels = make_graph(rng)
    n = features.shape[0]
    adj = sparse_mx_to_torch_sparse_tensor(*normalized_adjacency(rows, cols, n), n)
    features, labels = torch.from_numpy(features), torch.from_numpy(labels)
    idx_train, idx_test = torch.arange(0, 30), torch.arange(30, n)

    degree = torch.sparse.sum(adj, dim=1).to_dense()
    coalesced = adj.coalesce()
    symmetric = torch.allclose(adj.to_dense(), adj.t().to_dense())
    small = torch.tensor([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]]).to_sparse()

    model = GCN(features.shape[1], 16, 3, dropout=0.5)
    if args.deterministic:
        fixed_init(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=5e-4)
    losses = []
    for _ in range(30):
        model.train(not args.deterministic)
        optimizer.zero_grad()
        output = model(features, adj)
        loss = F.nll_loss(output[idx_train], labels[idx_train])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        output = model(features, adj)
    accuracy = (output[idx_test].argmax(1) == labels[idx_test]).float().mean().item()

    edge_index = coalesced.indices()
    edge_model = EdgeWeightedGCN(edge_index, n, features.shape[1], 3)
    if args.deterministic:
        fixed_init(edge_model)
    edge_optimizer = torch.optim.SGD(edge_model.parameters(), lr=0.5)
    edge_losses = []
    for _ in range(10):
        edge_optimizer.zero_grad()
        loss = F.nll_loss(edge_model(features)[idx_train], labels[idx_train])
        loss.backward()
        edge_optimizer.step()
        edge_losses.append(loss.item())
    edge_grad_norm = edge_model.edge_logits.grad.norm().item()

    torch.save(model.state_dict(), args.checkpoint)
    print(
        json.dumps(
            {
                "library": torch.__name__,
                "losses": losses + edge_losses,
                "accuracy": accuracy,
                "nnz": [adj._nnz(), coalesced._nnz(), int(adj.is_sparse)],
                "degree": [round(d, 4) for d in degree[:6].tolist()],
                "values": [round(v, 4) for v in coalesced.values()[:5].tolist()],
                "symmetric": symmetric,
                "layout": str(adj.layout),
                "small": repr(small),
                "edge_grad_norm": edge_grad_norm,
            }
        )
    )


if __name__ == "__main__":
    main()
