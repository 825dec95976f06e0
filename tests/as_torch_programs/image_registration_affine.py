"""Image registration as medical-imaging and microscopy code writes it in PyTorch, in float64
by `torch.set_default_dtype`: a synthetic moving image (sums of Gaussian blobs on a
`torch.meshgrid(indexing="xy")` grid) warped by a known affine map with `F.affine_grid` +
`F.grid_sample(mode="bilinear", padding_mode="border", align_corners=False)`, a translation
initialised by FFT phase correlation (`torch.fft.fft2`, `torch.conj`, `torch.fft.fftshift`,
`torch.unravel_index` of the peak), the affine parameters then fitted by Adam on a normalised
cross-correlation loss over a Gaussian pyramid (`F.avg_pool2d`, `F.interpolate(mode=
"bilinear")`), a smoothness penalty on a dense displacement field from `torch.diff`, image
gradients from `torch.gradient`, the other sampling modes (`nearest`, `bicubic`,
`padding_mode="reflection"`, `"zeros"`, `align_corners=True`), and the Jacobian determinant
of the recovered map.
Run: python image_registration_affine.py CHECKPOINT [--deterministic] (see
cnn_custom_dataset).
"""

import argparse
import json

import torch
import torch.nn.functional as F

SIZE = 32


def r(values, digits=5):
    return [round(v, digits) for v in torch.as_tensor(values).detach().flatten().tolist()]


def blobs(centres, widths, weights):
    """A (1, 1, SIZE, SIZE) image of Gaussian blobs in [-1, 1]^2 coordinates."""
    axis = torch.linspace(-1, 1, SIZE)
    xs, ys = torch.meshgrid(axis, axis, indexing="xy")
    image = torch.zeros(SIZE, SIZE)
    for (cx, cy), w, a in zip(centres.tolist(), widths.tolist(), weights.tolist()):
        image = image + a * torch.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * w**2))
    return image[None, None]


def warp(image, theta, **options):
    grid = F.affine_grid(theta, list(image.shape), align_corners=options.get("align", False))
    return F.grid_sample(
        image,
        grid,
        mode=options.get("mode", "bilinear"),
        padding_mode=options.get("padding", "border"),
        align_corners=options.get("align", False),
    )


def ncc(a, b):
    a = a.flatten(1) - a.flatten(1).mean(1, keepdim=True)
    b = b.flatten(1) - b.flatten(1).mean(1, keepdim=True)
    return (a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1) + 1e-8)


def affine(params):
    """(rotation, log-scale x/y, shear, shift x/y) -> a (1, 2, 3) affine matrix."""
    angle, sx, sy, shear, tx, ty = params.unbind()
    c, s = torch.cos(angle), torch.sin(angle)
    rot = torch.stack([torch.stack([c, -s]), torch.stack([s, c])])
    scale_shear = torch.stack(
        [torch.stack([sx.exp(), shear]), torch.stack([torch.zeros_like(sy), sy.exp()])]
    )
    linear = rot @ scale_shear
    return torch.cat([linear, torch.stack([tx, ty])[:, None]], dim=1)[None]


def phase_correlation(fixed, moving):
    """The integer pixel shift moving -> fixed at the cross-power spectrum's peak."""
    cross = torch.fft.fft2(fixed) * torch.conj(torch.fft.fft2(moving))
    cross = cross / (cross.abs() + 1e-8)
    surface = torch.fft.fftshift(torch.fft.ifft2(cross).real)
    row, col = torch.unravel_index(surface.argmax(), surface.shape)
    return row.item() - SIZE // 2, col.item() - SIZE // 2, surface.max().item()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(11)
    torch.set_default_dtype(torch.float64)  # registration accuracy: every tensor in double
    report = {"library": torch.__name__}
    if args.deterministic:
        centres = 0.5 * torch.stack(
            [torch.sin(torch.arange(5.0) * 1.9), torch.cos(torch.arange(5.0) * 2.3)], 1
        )
        widths = 0.12 + 0.05 * (torch.arange(5.0) % 3)
        weights = 1.0 + 0.4 * torch.cos(torch.arange(5.0))
    else:
        centres = 0.5 * (2 * torch.rand(5, 2) - 1)
        widths = 0.12 + 0.1 * torch.rand(5)
        weights = 1.0 + 0.4 * torch.randn(5)
    fixed = blobs(centres, widths, weights)
    true_params = torch.tensor([0.15, 0.05, -0.08, 0.05, 0.12, -0.06])
    moving = warp(fixed, affine(true_params))

    # Sampling modes and borders on the same map.
    theta = affine(torch.tensor([0.3, 0.2, 0.2, 0.0, 0.3, 0.1]))
    report["sampling"] = {
        mode + "/" + padding + "/" + str(align): round(
            warp(fixed, theta, mode=mode, padding=padding, align=align).sum().item(), 3
        )
        for mode in ("bilinear", "nearest", "bicubic")
        for padding in ("border", "zeros", "reflection")
        for align in (False, True)
    }
    grid = F.affine_grid(theta, [1, 1, SIZE, SIZE], align_corners=False)
    report["grid"] = {
        "shape": list(grid.shape),
        "corner": r(grid[0, 0, 0]),
        "dtype": str(grid.dtype),
    }

    # Phase correlation finds an integer translation.
    shifted = torch.roll(fixed, shifts=(3, -5), dims=(2, 3))
    dy, dx, peak = phase_correlation(shifted[0, 0], fixed[0, 0])
    report["phase_correlation"] = {"shift": [dy, dx], "peak": round(peak, 4)}

    # Image gradients, two ways.
    gy, gx = torch.gradient(fixed[0, 0], spacing=2 / (SIZE - 1))
    fd = torch.diff(fixed[0, 0], dim=1) * (SIZE - 1) / 2
    report["gradient"] = {
        "gx_interior_matches": bool(
            torch.allclose(gx[:, 1:-1], (fd[:, 1:] + fd[:, :-1]) / 2, atol=1e-5)
        ),
        "edge_norm": round(torch.sqrt(gx**2 + gy**2).sum().item(), 3),
    }

    # Coarse-to-fine affine registration by NCC.
    params = torch.zeros(6, requires_grad=True)
    adam = torch.optim.Adam([params], lr=0.02)
    losses = []
    for level, iterations in ((2, 20), (1, 15), (0, 15)):
        small_fixed = F.avg_pool2d(fixed, 2**level) if level else fixed
        small_moving = F.avg_pool2d(moving, 2**level) if level else moving
        for _ in range(iterations):
            adam.zero_grad()
            warped = warp(small_fixed, affine(params))
            loss = 1 - ncc(warped, small_moving).mean()
            loss.backward()
            adam.step()
            losses.append(round(loss.item(), 6))
    final = affine(params.detach())[0, :, :2]
    report["losses"] = losses
    report["params"] = r(params, 3)
    report["jacobian_det"] = round(torch.linalg.det(final).item(), 4)
    upsampled = F.interpolate(F.avg_pool2d(fixed, 4), scale_factor=4, mode="bilinear")
    report["pyramid_error"] = round((upsampled - fixed).abs().mean().item(), 5)

    # A dense displacement field with a diffusion regulariser (finite differences).
    field = torch.zeros(1, SIZE, SIZE, 2, requires_grad=True)
    base = F.affine_grid(torch.eye(2, 3)[None], [1, 1, SIZE, SIZE], align_corners=False)
    sgd = torch.optim.SGD([field], lr=2.0, momentum=0.5)
    dense = []
    for _ in range(15):
        sgd.zero_grad()
        warped = F.grid_sample(fixed, base + field, padding_mode="border", align_corners=False)
        smooth = torch.diff(field, dim=1).pow(2).mean() + torch.diff(field, dim=2).pow(2).mean()
        loss = (warped - moving).pow(2).mean() + 0.5 * smooth
        loss.backward()
        sgd.step()
        dense.append(round(loss.item(), 7))
    report["dense_losses"] = dense[::3]
    report["field_abs"] = round(field.detach().abs().max().item(), 5)
    torch.save({"params": params.detach(), "field": field.detach()}, args.checkpoint)
    state = torch.load(args.checkpoint)
    report["saved"] = {k: list(v.shape) for k, v in state.items()}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
