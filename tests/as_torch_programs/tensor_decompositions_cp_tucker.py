"""Multilinear algebra as chemometrics and signal-processing notebooks write it in PyTorch:
CP decomposition by alternating least squares with Khatri-Rao products built by `torch.einsum`
and checked against `torch.kron`, each factor solved through `torch.linalg.pinv(hermitian=True)`
of the Hadamard product of Gram matrices; Tucker by HOSVD with
`torch.linalg.svd(full_matrices=False)` on the unfoldings and the core contracted by
`torch.tensordot(dims=...)`; the numerical rank by `torch.linalg.matrix_rank(atol=, rtol=)`,
`torch.svd_lowrank` / `torch.pca_lowrank` spectra (values only: the sketch is random),
`torch.linalg.matrix_norm(ord="nuc")` and `torch.linalg.cond`; and low-rank matrix completion
by gradient descent on a nuclear-norm penalty (the SVD's backward) with `torch.optim.Adam`.
Run: python tensor_decompositions_cp_tucker.py CHECKPOINT [--deterministic] (as cnn_custom_dataset).
"""

import argparse
import json

import torch

DT = torch.float64


def r(t, n=6):
    return [round(v, n) for v in torch.as_tensor(t).detach().double().flatten().tolist()]


def khatri_rao(a, b):
    """Column-wise Kronecker product: (I*J, R) from (I, R) and (J, R)."""
    return torch.einsum("ir,jr->ijr", a, b).reshape(-1, a.shape[1])


def unfold(tensor, mode):
    return torch.movedim(tensor, mode, 0).reshape(tensor.shape[mode], -1)


def cp_reconstruct(factors):
    a, b, c = factors
    return torch.einsum("ir,jr,kr->ijk", a, b, c)


def cp_als(tensor, rank, iters):
    factors = [
        torch.cos(torch.arange(n * rank, dtype=DT).reshape(n, rank) * 0.37 + 0.1)
        for n in tensor.shape
    ]
    errors = []
    norm = torch.linalg.vector_norm(tensor)
    for _ in range(iters):
        for mode in range(3):
            others = [factors[m] for m in range(3) if m != mode]
            gram = (others[0].T @ others[0]) * (others[1].T @ others[1])
            kr = khatri_rao(others[0], others[1])
            factors[mode] = unfold(tensor, mode) @ kr @ torch.linalg.pinv(gram, hermitian=True)
        errors.append(
            round((torch.linalg.vector_norm(tensor - cp_reconstruct(factors)) / norm).item(), 8)
        )
    # Normalise the columns, collecting their scales as weights sorted by size.
    scales = [torch.linalg.vector_norm(f, dim=0) for f in factors]
    weights = scales[0] * scales[1] * scales[2]
    return weights.sort(descending=True).values, errors


def hosvd(tensor, ranks):
    bases = []
    for mode, rank in enumerate(ranks):
        u, s, _ = torch.linalg.svd(unfold(tensor, mode), full_matrices=False)
        bases.append(u[:, :rank])
    core = tensor
    for mode, basis in enumerate(bases):
        core = torch.movedim(torch.tensordot(core, basis, dims=([mode], [0])), -1, mode)
    return core, bases


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    report = {"library": torch.__name__, "losses": []}

    # A rank-3 tensor (fluorescence excitation x emission x sample) plus a little structure.
    i, j, k = (torch.linspace(0, 1, n, dtype=DT) for n in (7, 6, 5))
    a = torch.stack([torch.exp(-((i - c) ** 2) / 0.05) for c in (0.2, 0.5, 0.8)], 1)
    b = torch.stack([torch.exp(-((j - c) ** 2) / 0.08) for c in (0.3, 0.6, 0.9)], 1)
    c = torch.stack([1 + k, 2 - k, 0.5 + k**2], 1)
    tensor = cp_reconstruct([a, b, c]) + 1e-3 * torch.sin(
        torch.arange(210, dtype=DT).reshape(7, 6, 5)
    )
    if not args.deterministic:
        tensor = tensor + 1e-4 * torch.randn_like(tensor)
    kr = khatri_rao(a, b)
    kron_cols = torch.stack([torch.kron(a[:, r_], b[:, r_]) for r_ in range(3)], 1)
    weights, errors = cp_als(tensor, 3, 12)
    report["cp"] = {
        "weights": r(weights, 4),
        "error": errors[-1] < 1e-2,
        "khatri_rao_is_kron": bool(torch.allclose(kr, kron_cols)),
        "kron_shape": list(torch.kron(a, b[:2]).shape),
    }
    report["losses"] += errors[::3]

    # Tucker by HOSVD: core energy equals the tensor's for full ranks, truncated error otherwise.
    core, bases = hosvd(tensor, (3, 3, 3))
    approx = torch.einsum("abc,ia,jb,kc->ijk", core, *bases)
    full_core, _ = hosvd(tensor, (7, 6, 5))
    report["tucker"] = {
        "core_shape": list(core.shape),
        "rel_error": round((torch.linalg.vector_norm(tensor - approx) / tensor.norm()).item(), 6),
        "energy_kept": bool(torch.isclose(full_core.norm(), tensor.norm())),
        "orthonormal": [
            bool(torch.allclose(u.T @ u, torch.eye(u.shape[1], dtype=DT))) for u in bases
        ],
        "tensordot_int": torch.tensordot(
            torch.arange(6).reshape(2, 3), torch.arange(6).reshape(3, 2), dims=1
        ).tolist(),
        "tensordot_0": list(torch.tensordot(torch.ones(2, 3), torch.ones(4), dims=0).shape),
    }

    # Ranks, low-rank sketches, norms and conditioning of the mode-0 unfolding.
    m0 = unfold(tensor, 0)
    sv = torch.linalg.svdvals(m0)
    u_lr, s_lr, v_lr = torch.svd_lowrank(m0, q=5, niter=4)
    _, s_pca, _ = torch.pca_lowrank(m0, q=4, center=True, niter=4)
    centred_sv = torch.linalg.svdvals(m0 - m0.mean(0, keepdim=True))
    report["rank"] = {
        "svdvals": r(sv, 5),
        "rank_default": torch.linalg.matrix_rank(m0).item(),
        "rank_atol": torch.linalg.matrix_rank(m0, atol=1e-2).item(),
        "rank_rtol": torch.linalg.matrix_rank(m0, rtol=1e-2).item(),
        "rank_both": torch.linalg.matrix_rank(m0, atol=0.5, rtol=1e-6).item(),
        "rank_hermitian": torch.linalg.matrix_rank(m0 @ m0.T, hermitian=True, atol=1e-4).item(),
        "rank_batched": torch.linalg.matrix_rank(torch.stack([m0[:, :5], m0[:, :5] * 0])).tolist(),
        "lowrank_shapes": [list(u_lr.shape), list(s_lr.shape), list(v_lr.shape)],
        "lowrank_top": r(s_lr[:3], 5),
        "pca_top": r(s_pca[:3], 5),
        "pca_matches_centred": bool(torch.allclose(s_pca[:3], centred_sv[:3], rtol=1e-6)),
        "nuc": round(torch.linalg.matrix_norm(m0, ord="nuc").item(), 6),
        "norms": r(
            [torch.linalg.matrix_norm(m0, ord=o) for o in ("fro", 2, -2, 1, float("inf"))], 5
        ),
        "cond": r([torch.linalg.cond(m0[:, :3]), torch.linalg.cond(m0[:3, :3], p="fro")], 4),
        "cond_singular": torch.linalg.cond(m0[:, :7], p="nuc").item() > 1e12,
        "cond_square": r(
            torch.linalg.cond(torch.tensor([[2.0, 1.0], [1.0, 3.0]], dtype=DT), p=1), 6
        ),
        "pinv_herm": r(torch.linalg.pinv(m0 @ m0.T, hermitian=True, rtol=1e-8).trace(), 3),
    }

    # Matrix completion: half the entries seen, nuclear norm keeps the estimate low-rank.
    truth = a @ b.T
    mask = (torch.arange(42).reshape(7, 6) * 5 % 7) < 4
    start = truth.mean() + 0.1 * torch.sin(0.37 * torch.arange(42, dtype=DT).reshape(7, 6) ** 1.5)
    estimate = start.clone().requires_grad_()
    opt = torch.optim.Adam([estimate], lr=0.05)
    for step in range(60):
        opt.zero_grad()
        fit = ((estimate - truth)[mask] ** 2).sum()
        loss = fit + 0.01 * torch.linalg.matrix_norm(estimate, ord="nuc")
        loss.backward()
        opt.step()
        if step % 15 == 0:
            report["losses"].append(round(loss.item(), 6))
    with torch.no_grad():
        held_out = (estimate - truth)[~mask].abs().mean()
    report["completion"] = {
        "held_out": round(held_out.item(), 4),
        "rank": torch.linalg.matrix_rank(estimate.detach(), atol=0.05).item(),
    }

    torch.save({"core": core, "bases": bases}, args.checkpoint)
    state = torch.load(args.checkpoint)
    report["state"] = [list(state["core"].shape), [list(u.shape) for u in state["bases"]]]
    print(json.dumps(report))


if __name__ == "__main__":
    main()
