"""Multi-view geometry and mesh processing as vision and graphics notebooks write them in
PyTorch: a pinhole camera calibrated by the direct linear transform (the homogeneous system's
null vector is `torch.linalg.svd(A).Vh[-1]`, the projection split into intrinsics and pose by
an RQ decomposition built from `torch.linalg.qr` and `torch.flip`), the pose refined by
Gauss-Newton on the reprojection error with the rotation as `torch.linalg.matrix_exp` of a
skew matrix and the Jacobian from `torch.autograd.functional.jacobian`; quaternion algebra
(Hamilton product, `torch.atan2` for the angle, `F.normalize`) checked against the rotation
matrices; a Kabsch alignment with the reflection fixed by `torch.linalg.det`; and a
triangle mesh (an icosphere) whose edges come from `torch.unique(dim=0)`, face normals and
areas from `torch.cross(dim=)` and `torch.linalg.vecdot`, vertex normals and a uniform
Laplacian from `index_add_` / `scatter_add`, smoothed by a few explicit steps and by one
implicit step through `torch.linalg.solve`.
Run: python camera_calibration_mesh_geometry.py CHECKPOINT [--deterministic]
(see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn.functional as F
from torch.autograd.functional import jacobian

DT = torch.float64


def r(values, digits=5):
    return [round(v, digits) for v in torch.as_tensor(values).double().flatten().tolist()]


def skew(w):
    zero = torch.zeros_like(w[..., 0])
    return torch.stack(
        [
            torch.stack([zero, -w[..., 2], w[..., 1]], -1),
            torch.stack([w[..., 2], zero, -w[..., 0]], -1),
            torch.stack([-w[..., 1], w[..., 0], zero], -1),
        ],
        -2,
    )


def project(K, R, t, points):  # noqa: N803 - the camera names
    cam = points @ R.T + t
    pix = cam @ K.T
    return pix[:, :2] / pix[:, 2:]


def dlt(world, pixels):
    rows = []
    for X, (u, v) in zip(torch.cat([world, torch.ones(len(world), 1, dtype=DT)], 1), pixels):
        zero = torch.zeros(4, dtype=DT)
        rows.append(torch.cat([X, zero, -u * X]))
        rows.append(torch.cat([zero, X, -v * X]))
    A = torch.stack(rows)
    _, S, Vh = torch.linalg.svd(A)
    return Vh[-1].reshape(3, 4), S


def rq(M):  # noqa: N803
    """M = R Q with R upper triangular (positive diagonal) and Q orthogonal."""
    Q, R = torch.linalg.qr(torch.flip(M, [0, 1]).T)
    R = torch.flip(R.T, [0, 1])
    Q = torch.flip(Q.T, [0, 1])
    signs = torch.diag(torch.sign(torch.diagonal(R)))
    return R @ signs, signs @ Q


def quat_mul(a, b):
    aw, ax, ay, az = a.unbind(-1)
    bw, bx, by, bz = b.unbind(-1)
    return torch.stack(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ],
        -1,
    )


def quat_to_matrix(q):
    w, x, y, z = F.normalize(q, dim=-1).unbind(-1)
    return torch.stack(
        [
            torch.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
            torch.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
            torch.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
        ],
        -2,
    )


def icosphere():
    phi = (1 + math.sqrt(5)) / 2
    v = torch.tensor(
        [
            [-1, phi, 0],
            [1, phi, 0],
            [-1, -phi, 0],
            [1, -phi, 0],
            [0, -1, phi],
            [0, 1, phi],
            [0, -1, -phi],
            [0, 1, -phi],
            [phi, 0, -1],
            [phi, 0, 1],
            [-phi, 0, -1],
            [-phi, 0, 1],
        ],
        dtype=DT,
    )
    f = torch.tensor(
        [
            [0, 11, 5],
            [0, 5, 1],
            [0, 1, 7],
            [0, 7, 10],
            [0, 10, 11],
            [1, 5, 9],
            [5, 11, 4],
            [11, 10, 2],
            [10, 7, 6],
            [7, 1, 8],
            [3, 9, 4],
            [3, 4, 2],
            [3, 2, 6],
            [3, 6, 8],
            [3, 8, 9],
            [4, 9, 5],
            [2, 4, 11],
            [6, 2, 10],
            [8, 6, 7],
            [9, 8, 1],
        ]
    )
    return F.normalize(v, dim=1), f


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    report = {"library": torch.__name__, "losses": []}

    # A calibration target: a 3-D grid seen by a known camera, then DLT.
    K_true = torch.tensor([[800.0, 0.5, 320.0], [0.0, 780.0, 240.0], [0.0, 0.0, 1.0]], dtype=DT)
    R_true = torch.linalg.matrix_exp(skew(torch.tensor([0.1, -0.2, 0.05], dtype=DT)))
    t_true = torch.tensor([0.2, -0.1, 5.0], dtype=DT)
    g = torch.arange(3, dtype=DT) - 1
    world = torch.cartesian_prod(g, g, g * 0.5)
    pixels = project(K_true, R_true, t_true, world)
    noise = 0.3 * torch.sin(torch.arange(pixels.numel(), dtype=DT) * 2.3).reshape(pixels.shape)
    if not args.deterministic:
        noise = 0.3 * torch.randn(pixels.shape, dtype=DT)
    observed = pixels + noise
    P, S = dlt(world, observed)
    P = P / torch.linalg.norm(P[2, :3]) * torch.sign(torch.linalg.det(P[:, :3]))
    K_est, R_est = rq(P[:, :3])
    K_est = K_est / K_est[2, 2]
    t_est = torch.linalg.solve(K_est, P[:, 3:]).squeeze(1) * 1.0
    report["dlt"] = {
        "K": r(K_est, 2),
        "det_R": round(torch.linalg.det(R_est).item(), 8),
        "smallest_singular": float(f"{S[-1].item():.4e}"),
        "rank_gap": round((S[-2] / S[-1]).item(), 3),
    }

    # Gauss-Newton on the pose (axis-angle w, translation t), intrinsics fixed.
    def residual(params):
        R = torch.linalg.matrix_exp(skew(params[:3])) @ R_est
        return (project(K_est, R, params[3:], world) - observed).flatten()

    params = torch.cat([torch.zeros(3, dtype=DT), t_est])
    for _ in range(4):
        res = residual(params)
        J = jacobian(residual, params)
        step = torch.linalg.solve(J.T @ J + 1e-9 * torch.eye(6, dtype=DT), J.T @ res)
        params = params - step
        report["losses"].append(round(0.5 * res.pow(2).mean().item(), 6))
    R_refined = torch.linalg.matrix_exp(skew(params[:3])) @ R_est
    angle = torch.arccos(((R_refined.T @ R_true).trace() - 1).clamp(-2, 2) / 2)
    report["pose"] = {
        "t": r(params[3:], 3),
        "angle_error_deg": round(math.degrees(angle.item()), 3),
    }

    # Quaternions against rotation matrices.
    q1 = F.normalize(torch.tensor([0.9, 0.1, -0.3, 0.2], dtype=DT), dim=0)
    q2 = F.normalize(torch.tensor([0.5, 0.5, 0.5, -0.5], dtype=DT), dim=0)
    q12 = quat_mul(q1, q2)
    half = torch.atan2(q12[1:].norm(), q12[0])
    report["quaternion"] = {
        "product": r(q12),
        "angle": round(2 * half.item(), 8),
        "agree": bool(torch.allclose(quat_to_matrix(q12), quat_to_matrix(q1) @ quat_to_matrix(q2))),
        "batch": list(quat_to_matrix(torch.stack([q1, q2, q12])).shape),
    }

    # Kabsch: the rotation that best aligns two point sets, a reflection ruled out.
    source = world[:10] - world[:10].mean(0)
    target = source @ quat_to_matrix(q1).T + 0.01 * noise[:10, :1]
    U, _, Vh = torch.linalg.svd(source.T @ target)
    d = torch.sign(torch.linalg.det(Vh.T @ U.T))
    R_k = Vh.T @ torch.diag(torch.tensor([1.0, 1.0, d.item()], dtype=DT)) @ U.T
    report["kabsch"] = {"error": round((R_k - quat_to_matrix(q1)).abs().max().item(), 5)}

    # A mesh: edges, normals, areas, and Laplacian smoothing of a noisy sphere.
    verts, faces = icosphere()
    edges = torch.cat([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    edges = torch.unique(torch.sort(edges, dim=1).values, dim=0)
    a, b, c = verts[faces].unbind(1)
    cross = torch.cross(b - a, c - a, dim=1)
    areas = 0.5 * torch.linalg.vector_norm(cross, dim=1)
    centroid_dir = torch.linalg.vecdot(cross, (a + b + c) / 3)
    vertex_normals = torch.zeros_like(verts).index_add_(
        0, faces.flatten(), cross.repeat_interleave(3, 0)
    )
    vertex_normals = F.normalize(vertex_normals, dim=1)
    degree = torch.zeros(len(verts), dtype=DT).scatter_add(
        0, edges.flatten(), torch.ones(edges.numel(), dtype=DT)
    )
    noisy = verts * (1 + 0.1 * torch.cos(torch.arange(12, dtype=DT) * 1.7))[:, None]
    if not args.deterministic:
        noisy = verts * (1 + 0.1 * torch.rand(12, 1, dtype=DT))

    def laplacian(x):
        summed = torch.zeros_like(x)
        summed.index_add_(0, edges[:, 0], x[edges[:, 1]])
        summed.index_add_(0, edges[:, 1], x[edges[:, 0]])
        return summed / degree[:, None] - x

    smooth = noisy.clone()
    for _ in range(3):
        smooth = smooth + 0.5 * laplacian(smooth)
        report["losses"].append(round(smooth.norm(dim=1).std().item(), 6))
    L = torch.zeros(12, 12, dtype=DT)
    L[edges[:, 0], edges[:, 1]] = 1.0
    L = L + L.T
    L = torch.diag(degree) - L
    implicit = torch.linalg.solve(torch.eye(12, dtype=DT) + 0.2 * L, noisy)
    report["mesh"] = {
        "edges": list(edges.shape),
        "degree": degree.unique().tolist(),
        "area": round(areas.sum().item(), 6),
        "outward": bool((centroid_dir > 0).all()),
        "normal_dot": round(torch.linalg.vecdot(vertex_normals, verts).min().item(), 6),
        "implicit_radius_std": round(implicit.norm(dim=1).std().item(), 6),
        "explicit_radius": r(smooth.norm(dim=1)[:4]),
        "longitude": r(torch.atan2(verts[:4, 1], verts[:4, 0])),
    }
    torch.save({"K": K_est, "pose": params, "mesh": smooth}, args.checkpoint)
    state = torch.load(args.checkpoint)
    report["state"] = {name: list(v.shape) for name, v in state.items()}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
