"""Inverse rendering with a differentiable sphere tracer, as graphics researchers write one in
PyTorch: pinhole camera rays from `torch.meshgrid(indexing="xy")` (and the "ij" grid checked
against it), a scene of signed distance functions (a sphere and a box, smooth union by
`torch.logsumexp`), sphere tracing under `torch.no_grad()` followed by one differentiable
step (implicit differentiation of the hit point), surface normals by
`torch.autograd.grad(..., create_graph=True)`, Lambert shading, a soft silhouette by
`torch.sigmoid`, a checkerboard environment looked up with `F.grid_sample` (bilinear, border
padding), and Adam recovering the sphere's centre and radius from a rendered target image.
The scene module is also wrapped by `torch.compile` (never called: only its OptimizedModule
state is read back, `_orig_mod.`-prefixed keys included).
Run: python sdf_ray_marcher_inverse_render.py CHECKPOINT [--deterministic].
"""

import argparse
import json

import torch
import torch.nn as nn
import torch.nn.functional as F

RES = 24


def r(values, digits=5):
    return [round(v, digits) for v in torch.as_tensor(values).double().flatten().tolist()]


def camera_rays(res, fov=0.4):
    """Rays of a pinhole camera at z = -2.5 looking along +z, one per pixel."""
    u = torch.linspace(-fov, fov, res)
    xs, ys = torch.meshgrid(u, -u, indexing="xy")  # rows run down the image
    dirs = F.normalize(torch.stack([xs, ys, torch.ones_like(xs)], dim=-1), dim=-1)
    origins = torch.tensor([0.0, 0.0, -2.5]).expand_as(dirs)
    return origins, dirs


class SDFScene(nn.Module):
    def __init__(self, center, radius):
        super().__init__()
        self.center = nn.Parameter(torch.tensor(center))
        self.radius = nn.Parameter(torch.tensor(radius))
        self.register_buffer("box_center", torch.tensor([0.0, -0.75, 0.3]))
        self.register_buffer("box_half", torch.tensor([0.9, 0.12, 0.6]))
        self.register_buffer("light", F.normalize(torch.tensor([0.5, 0.8, -0.6]), dim=0))
        checker = (torch.arange(8)[:, None] + torch.arange(8)[None, :]) % 2
        self.register_buffer("sky", (0.05 + 0.15 * checker.float())[None, None])

    def sdf(self, p):
        sphere = (p - self.center).norm(dim=-1) - self.radius
        q = (p - self.box_center).abs() - self.box_half
        box = q.clamp(min=0).norm(dim=-1) + q.max(dim=-1).values.clamp(max=0)
        k = 12.0  # smooth union: -softmin
        return -torch.logsumexp(torch.stack([-k * sphere, -k * box]), dim=0) / k

    def forward(self, origins, dirs, steps=40):
        with torch.no_grad():  # march; keep each ray's closest approach for the silhouette
            t = torch.zeros(origins.shape[:-1])
            closest_t, closest_d = t.clone(), torch.full_like(t, float("inf"))
            for _ in range(steps):
                d = self.sdf(origins + t[..., None] * dirs)
                nearer = d < closest_d
                closest_t = torch.where(nearer, t, closest_t)
                closest_d = torch.minimum(d, closest_d)
                t = (t + d).clamp(max=6.0)
        # Differentiable from here: the silhouette from the distance at the closest approach,
        # the hit point by one Newton-like step (d t / d theta = -sdf_theta / (n . dir)).
        gap = self.sdf(origins + closest_t[..., None] * dirs)
        coverage = torch.sigmoid(-80.0 * (gap - 0.03))  # about 0.9 on the surface
        t = t + self.sdf(origins + t[..., None] * dirs)
        points = origins + t[..., None] * dirs
        with torch.enable_grad():  # normals even when rendering under no_grad
            surface = points.detach().requires_grad_(True)  # the normal's own dependence only
            (normals,) = torch.autograd.grad(self.sdf(surface).sum(), surface, create_graph=True)
        normals = F.normalize(normals, dim=-1)
        shade = 0.55 + 0.45 * (normals * self.light).sum(-1).clamp(min=0)
        grid = dirs[None, ..., :2] * 2.5  # environment lookup by ray direction
        sky = F.grid_sample(
            self.sky, grid, mode="bilinear", padding_mode="border", align_corners=False
        )[0, 0]
        return coverage * shade + (1 - coverage) * sky, t, normals


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(5)
    origins, dirs = camera_rays(RES)
    xi, yi = torch.meshgrid(
        torch.linspace(-0.9, 0.9, RES), torch.linspace(0.9, -0.9, RES), indexing="ij"
    )
    truth = SDFScene([0.15, 0.1, 0.0], 0.6)
    with torch.no_grad():
        target, depth, _ = truth(origins, dirs)
    start = [-0.1, 0.25, 0.1] if args.deterministic else (0.2 * torch.randn(3)).tolist()
    scene = SDFScene(start, 0.45)
    optimizer = torch.optim.Adam(scene.parameters(), lr=0.02)
    losses = []
    for _ in range(30):
        optimizer.zero_grad()
        image, _, _ = scene(origins, dirs)
        loss = F.mse_loss(image, target)
        loss.backward()
        optimizer.step()
        losses.append(round(loss.item(), 6))
    image, t, normals = scene(origins, dirs)

    compiled = torch.compile(scene)
    torch.save(compiled.state_dict(), args.checkpoint)
    restored = torch.compile(SDFScene([0.0, 0.0, 0.0], 0.1))
    result = restored.load_state_dict(torch.load(args.checkpoint))
    report = {
        "library": torch.__name__,
        "losses": losses,
        "center": r(scene.center.detach(), 3),
        "radius": round(scene.radius.item(), 3),
        "image_sum": round(image.sum().item(), 3),
        "depth": r(depth[::6, ::6], 3),
        "hit_fraction": round((t < 5.5).float().mean().item(), 4),
        "normal_z_mean": round(normals[..., 2].mean().item(), 4),
        "ij_is_xy_transposed": bool(
            torch.equal(
                xi.t(),
                torch.meshgrid(
                    torch.linspace(-0.9, 0.9, RES), torch.linspace(0.9, -0.9, RES), indexing="xy"
                )[0],
            )
        ),
        "compiled": [
            type(compiled).__name__,
            compiled._orig_mod is scene,
            isinstance(compiled, nn.Module),
            sorted(compiled.state_dict())[:3],
            str(result),
            restored._orig_mod.radius.item() == scene.radius.item(),
        ],
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
