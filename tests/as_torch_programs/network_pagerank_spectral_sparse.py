"""Network science as graph-analysis code writes it in PyTorch: a two-community graph with
weighted edges held as `torch.sparse_coo_tensor` (duplicates coalesced) and as CSR; degrees from
`torch.sparse.sum`; PageRank by power iteration with `torch.mv` on the column-stochastic
operator (COO and CSR agreeing), its sensitivity to the edge weights by autograd through the
iteration, and personalised PageRank as a linear solve checked against it; heat-kernel
diffusion by `torch.linalg.matrix_exp` of the dense Laplacian; the Fiedler vector of the
normalised Laplacian from `torch.linalg.eigh` splitting the communities, with modularity;
label propagation with `vector @ sparse` products; and edge weights learned with Adam so that a
seed's PageRank mass stays in its community.
Run: python network_pagerank_spectral_sparse.py CHECKPOINT [--deterministic]
(see cnn_custom_dataset).
"""

import argparse
import json

import torch

DT = torch.float64
N = 16


def r(values, digits=5):
    return [round(v, digits) for v in torch.as_tensor(values).detach().double().flatten().tolist()]


def edges():
    """Two rings of 8 with chords, joined by two bridges; every edge listed once each way, and
    a few listed twice (coalesce sums them)."""
    pairs = []
    for base in (0, 8):
        pairs += [(base + i, base + (i + 1) % 8) for i in range(8)]
        pairs += [(base + i, base + (i + 3) % 8) for i in range(0, 8, 2)]
    pairs += [(3, 11), (6, 13), (0, 1), (9, 10)]
    src = torch.tensor([a for a, b in pairs] + [b for a, b in pairs])
    dst = torch.tensor([b for a, b in pairs] + [a for a, b in pairs])
    return torch.stack([src, dst])


def operator(index, weights):
    adjacency = torch.sparse_coo_tensor(index, weights, (N, N)).coalesce()
    degree = torch.sparse.sum(adjacency, dim=0).to_dense()
    rows, cols = adjacency.indices()
    transition = torch.sparse_coo_tensor(
        adjacency.indices(), adjacency.values() / degree[cols], (N, N)
    )
    return adjacency, degree, transition


def pagerank(transition, teleport, damping=0.85, iters=40):
    rank = torch.full((N,), 1.0 / N, dtype=DT)
    for _ in range(iters):
        rank = damping * torch.mv(transition, rank) + (1 - damping) * teleport
    return rank


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(6)
    report = {"library": torch.__name__, "losses": []}
    index = edges()
    half = 1.0 + 0.5 * torch.sin(torch.arange(index.shape[1] // 2, dtype=DT) * 1.7) ** 2
    if not args.deterministic:
        half = half * (1 + 0.01 * torch.rand(index.shape[1] // 2, dtype=DT))
    base = torch.cat([half, half])  # each edge's weight both ways: a symmetric adjacency
    weights = base.clone().requires_grad_(True)
    adjacency, degree, transition = operator(index, weights)
    uniform = torch.full((N,), 1.0 / N, dtype=DT)
    rank = pagerank(transition, uniform)
    csr_rank = pagerank(transition.detach().coalesce().to_sparse_csr(), uniform)
    (sensitivity,) = torch.autograd.grad(rank[0], weights)
    seed = torch.zeros(N, dtype=DT)
    seed[2] = 1.0
    dense_t = transition.detach().to_dense()
    personal = torch.linalg.solve(torch.eye(N, dtype=DT) - 0.85 * dense_t, 0.15 * seed)
    report["pagerank"] = {
        "rank": r(rank[:6], 6),
        "sums_to_one": bool(abs(rank.sum().item() - 1) < 1e-9),
        "csr_agrees": bool(torch.allclose(rank.detach(), csr_rank, atol=1e-12)),
        "sensitivity": r(sensitivity[:6], 6),
        "personal_matches": bool(torch.allclose(pagerank(dense_t, seed, iters=200), personal)),
        "nnz": adjacency._nnz(),
        "degree": r(degree[:4].detach(), 4),
    }

    A = adjacency.detach().to_dense()
    d = A.sum(1)
    laplacian = torch.diag(d) - A
    heat = torch.linalg.matrix_exp(-0.5 * laplacian)
    inv_sqrt = d.rsqrt()
    normalised = torch.eye(N, dtype=DT) - inv_sqrt[:, None] * A * inv_sqrt[None, :]
    values, vectors = torch.linalg.eigh(normalised)
    fiedler = vectors[:, 1] * inv_sqrt
    side = (fiedler * fiedler[0].sign() > 0).long()
    membership = torch.nn.functional.one_hot(side, 2).to(DT)
    m2 = A.sum()
    modularity = ((A - d[:, None] * d[None, :] / m2) * (membership @ membership.T)).sum() / m2
    report["spectral"] = {
        "eigenvalues": r(values[:4], 5),
        "split": side.tolist(),
        "modularity": round(modularity.item(), 5),
        "heat_row0": r(heat[0, :4], 5),
        "heat_stochastic": bool(torch.allclose(heat.sum(1), torch.ones(N, dtype=DT))),
    }

    labels = torch.zeros(N, 2, dtype=DT)
    labels[0, 0] = labels[15, 1] = 1.0
    row_stochastic = transition.detach().t().coalesce()
    spread = labels.clone()
    for _ in range(20):
        spread = torch.stack([spread[:, k] @ row_stochastic for k in range(2)], 1)
        spread[0], spread[15] = labels[0], labels[15]
    report["label_propagation"] = spread.argmax(1).tolist()

    log_w = torch.zeros(index.shape[1], dtype=DT, requires_grad=True)
    optimizer = torch.optim.Adam([log_w], lr=0.1)
    for step in range(10):
        optimizer.zero_grad()
        _, _, transition = operator(index, base * log_w.exp())
        mass = pagerank(transition, seed, iters=20)
        loss = -mass[:8].sum() + 0.01 * (log_w**2).sum()
        loss.backward()
        optimizer.step()
        if step % 2 == 0:
            report["losses"].append(round(loss.item(), 7))
    report["learned"] = r(log_w[-8:], 4)
    torch.save({"log_w": log_w.detach(), "index": index}, args.checkpoint)
    state = torch.load(args.checkpoint)
    report["state"] = {k: [str(v.dtype), list(v.shape)] for k, v in state.items()}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
