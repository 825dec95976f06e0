"""Robot kinematics as robotics research code writes it in PyTorch: a 3-D serial arm whose
joint rotations are `torch.linalg.matrix_exp` of skew-symmetric matrices (product of
exponentials, twists built with `torch.linalg.cross`), homogeneous transforms chained by
`torch.linalg.multi_dot` / `@` (checked against Rodrigues'
formula from `sin` / `cos`), the end-effector orientation as a quaternion (branch-free
from the rotation matrix with `torch.copysign` / `torch.clamp_min`) and as roll-pitch-yaw by
`torch.atan2` / `torch.asin`, the geometric Jacobian from `torch.func.jacrev` and batched over
configurations by `torch.func.vmap`, manipulability from `torch.linalg.svdvals` and
`torch.linalg.det`, inverse kinematics by damped least squares (Levenberg-Marquardt with
`torch.linalg.solve`), a Gauss-Newton step by `torch.linalg.lstsq` and one by `torch.linalg.pinv`,
joint limits enforced by `torch.clamp` with tensor bounds, and a trajectory whose joint
angles are tracked by Adam with a smoothness penalty from `torch.diff`.
Run: python robot_arm_kinematics_ik.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json

import torch
from torch.func import jacrev, vmap

DTYPE = torch.float64


def r(values, digits=6):
    return [round(v, digits) for v in torch.as_tensor(values).detach().flatten().tolist()]


def skew(w):
    """The 3 x 3 matrix [w]x with [w]x v = w x v."""
    zero = torch.zeros((), dtype=w.dtype)
    return torch.stack(
        [
            torch.stack([zero, -w[2], w[1]]),
            torch.stack([w[2], zero, -w[0]]),
            torch.stack([-w[1], w[0], zero]),
        ]
    )


def twist_matrix(axis, point, theta):
    """exp of the 4 x 4 twist of a revolute joint about `axis` through `point`."""
    v = -torch.linalg.cross(axis, point)
    top = torch.cat([skew(axis), v[:, None]], dim=1)
    xi = torch.cat([top, torch.zeros(1, 4, dtype=axis.dtype)], dim=0)
    return torch.linalg.matrix_exp(xi * theta)


def joint_transform(axis, point, theta):
    """The same motion in closed form: Rodrigues' rotation about a unit axis through `point`."""
    K = skew(axis)
    eye = torch.eye(3, dtype=axis.dtype)
    R = eye + torch.sin(theta) * K + (1 - torch.cos(theta)) * (K @ K)
    top = torch.cat([R, ((eye - R) @ point)[:, None]], dim=1)
    bottom = torch.tensor([[0.0, 0.0, 0.0, 1.0]], dtype=axis.dtype)
    return torch.cat([top, bottom], dim=0)


class Arm:
    """A 5-joint arm in product-of-exponentials form."""

    def __init__(self):
        self.axes = torch.tensor(
            [[0, 0, 1], [0, 1, 0], [0, 1, 0], [1, 0, 0], [0, 1, 0]], dtype=DTYPE
        )
        self.points = torch.tensor(
            [[0, 0, 0], [0, 0, 0.4], [0.35, 0, 0.4], [0.6, 0, 0.4], [0.6, 0, 0.4]], dtype=DTYPE
        )
        home = torch.eye(4, dtype=DTYPE)
        home[:3, 3] = torch.tensor([0.75, 0.0, 0.4], dtype=DTYPE)
        self.home = home
        self.lower = torch.tensor([-2.8, -1.6, -2.2, -3.0, -1.9], dtype=DTYPE)
        self.upper = torch.tensor([2.8, 1.6, 2.2, 3.0, 1.9], dtype=DTYPE)

    def pose(self, q, exponential=twist_matrix):
        joints = zip(self.axes, self.points, q.unbind())
        factors = [exponential(a, p, t) for a, p, t in joints]
        return torch.linalg.multi_dot(factors + [self.home])

    def position(self, q):
        return self.pose(q, joint_transform)[:3, 3]


def quaternion(rot):
    """(w, x, y, z) from a rotation matrix, sign fixed so w >= 0."""
    trace = rot.diagonal().sum()
    w = 0.5 * torch.clamp_min(1 + trace, 0).sqrt()
    x = 0.5 * torch.clamp_min(1 + rot[0, 0] - rot[1, 1] - rot[2, 2], 0).sqrt()
    y = 0.5 * torch.clamp_min(1 - rot[0, 0] + rot[1, 1] - rot[2, 2], 0).sqrt()
    z = 0.5 * torch.clamp_min(1 - rot[0, 0] - rot[1, 1] + rot[2, 2], 0).sqrt()
    x = torch.copysign(x, rot[2, 1] - rot[1, 2])
    y = torch.copysign(y, rot[0, 2] - rot[2, 0])
    z = torch.copysign(z, rot[1, 0] - rot[0, 1])
    return torch.stack([w, x, y, z])


def roll_pitch_yaw(rot):
    roll = torch.atan2(rot[2, 1], rot[2, 2])
    pitch = torch.asin(torch.clamp(-rot[2, 0], -1.0, 1.0))
    yaw = torch.atan2(rot[1, 0], rot[0, 0])
    return torch.stack([roll, pitch, yaw])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(3)
    report = {"library": torch.__name__}
    arm = Arm()
    if args.deterministic:
        q0 = 0.6 * torch.sin(torch.arange(1.0, 6.0, dtype=DTYPE) * 1.3)
        batch = 0.8 * torch.cos(torch.arange(20, dtype=DTYPE) * 0.77).view(4, 5)
    else:
        q0 = 0.6 * torch.randn(5, dtype=DTYPE)
        batch = 0.8 * torch.randn(4, 5, dtype=DTYPE)

    # Forward kinematics, orientation, and the matrix exponential's structure.
    T = arm.pose(q0)
    R = T[:3, :3]
    quat = quaternion(R)
    report["fk"] = {
        "position": r(T[:3, 3]),
        "orthonormal": bool(torch.allclose(R.T @ R, torch.eye(3, dtype=DTYPE), atol=1e-12)),
        "det": round(torch.linalg.det(R).item(), 10),
        "quat": r(quat),
        "quat_norm": round(quat.norm().item(), 10),
        "rpy": r(roll_pitch_yaw(R)),
        "bottom_row": r(T[3]),
        "closed_form_agrees": bool(torch.allclose(arm.pose(q0, joint_transform), T, atol=1e-12)),
    }

    # The position Jacobian by jacrev, batched by vmap; manipulability from singular values.
    J = jacrev(arm.position)(q0)
    Jb = vmap(jacrev(arm.position))(batch)
    sv = torch.linalg.svdvals(J)
    report["jacobian"] = {
        "J": r(J, 5),
        "batch_shape": list(Jb.shape),
        "batch_first_matches": bool(torch.allclose(Jb[0], jacrev(arm.position)(batch[0]))),
        "svdvals": r(sv, 5),
        "through_matrix_exp": bool(torch.allclose(jacrev(lambda q: arm.pose(q)[:3, 3])(q0), J)),
        "manipulability": round(torch.linalg.det(J @ J.T).sqrt().item(), 6),
        "condition": round((sv.max() / sv.min()).item(), 4),
    }
    q_leaf = q0.clone().requires_grad_()
    (dpos,) = torch.autograd.grad(arm.position(q_leaf).sum(), q_leaf)
    report["jacobian"]["grad_matches"] = bool(torch.allclose(dpos, J.sum(0)))

    # Inverse kinematics: Levenberg-Marquardt within joint limits.
    target = torch.tensor([0.3, 0.45, 0.55], dtype=DTYPE)
    q = torch.zeros(5, dtype=DTYPE)
    lam = 1e-2
    errors = []
    for _ in range(10):
        err = target - arm.position(q)
        J = jacrev(arm.position)(q)
        step = torch.linalg.solve(J.T @ J + lam * torch.eye(5, dtype=DTYPE), J.T @ err)
        trial = torch.clamp(q + step, arm.lower, arm.upper)
        if (target - arm.position(trial)).norm() < err.norm():
            q, lam = trial, max(lam / 3, 1e-7)
        else:
            lam = lam * 4
        errors.append(err.norm().item())
    report["ik"] = {
        "error": round((target - arm.position(q)).norm().item(), 8) < 1e-6,
        "first_errors": r(torch.tensor(errors[:6]), 6),
        "within_limits": bool(((q >= arm.lower) & (q <= arm.upper)).all()),
    }

    # One Gauss-Newton step by lstsq and by pinv agree (minimum-norm solution).
    err = target - arm.position(q0)
    J = jacrev(arm.position)(q0)
    by_lstsq = torch.linalg.lstsq(J, err[:, None], driver="gelsd").solution.squeeze(1)
    by_pinv = torch.linalg.pinv(J) @ err
    report["gauss_newton"] = {
        "pinv": r(by_pinv, 6),
        "agree": bool(torch.allclose(by_lstsq, by_pinv, atol=1e-10)),
        "null_space_dim": 5 - int(torch.linalg.matrix_rank(J)),
    }

    # Track a circle with smooth joint trajectories, learned by Adam.
    t = torch.linspace(0, 1, 12, dtype=DTYPE)
    circle = torch.stack(
        [0.45 + 0.1 * torch.cos(2 * torch.pi * t), 0.1 * torch.sin(2 * torch.pi * t), 0.5 + 0 * t],
        dim=1,
    )
    joints = q.detach().expand(12, 5).clone().requires_grad_(True)
    adam = torch.optim.Adam([joints], lr=0.05)
    losses = []
    for _ in range(25):
        adam.zero_grad()
        path = vmap(arm.position)(joints)
        track = (path - circle).pow(2).sum(1).mean()
        smooth = torch.diff(joints, dim=0).pow(2).sum(1).mean()
        loss = track + 0.01 * smooth
        loss.backward()
        adam.step()
        with torch.no_grad():
            joints.clamp_(arm.lower, arm.upper)
        losses.append(round(loss.item(), 8))
    report["losses"] = losses
    report["trajectory_end"] = r(joints[-1], 4)
    torch.save({"joints": joints.detach(), "limits": (arm.lower, arm.upper)}, args.checkpoint)
    state = torch.load(args.checkpoint)
    report["saved"] = [list(state["joints"].shape), len(state["limits"])]
    print(json.dumps(report))


if __name__ == "__main__":
    main()
