"""Computed tomography and deconvolution as imaging code writes them in PyTorch: a Radon
transform from rotations by `F.affine_grid` / `F.grid_sample` (bilinear, zeros padding,
`align_corners=False`) summed along one axis, a filtered back-projection with a Ram-Lak
filter applied by `torch.fft.rfft` / `irfft(n=)`, then a reconstruction by gradient descent
on the sinogram misfit plus an isotropic total variation written with
`torch.diff(prepend=)` / `torch.diff(append=)` and `torch.hypot`, projected onto x >= 0 with
`clamp_` under `no_grad`; and Wiener deconvolution by `torch.fft.fft2` with `torch.conj`,
the transfer function built from (re, im) pairs by `torch.view_as_complex` and read back by
`torch.view_as_real`, with a learned regulariser trained through the complex spectrum.
Run: python ct_radon_tv_wiener_deconvolution.py CHECKPOINT [--deterministic]
(see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
import torch.nn.functional as F


def r(values, digits=5):
    return [round(v, digits) for v in torch.as_tensor(values).detach().double().flatten().tolist()]


def rotation_grids(angles, size):
    cos, sin = torch.cos(angles), torch.sin(angles)
    zeros = torch.zeros_like(angles)
    theta = torch.stack([torch.stack([cos, -sin, zeros], 1), torch.stack([sin, cos, zeros], 1)], 1)
    return F.affine_grid(theta, (len(angles), 1, size, size), align_corners=False)


def radon(image, grids):
    """Sinogram (angles x detectors): rotate the image by each angle, sum along rows."""
    batch = image.expand(grids.shape[0], 1, *image.shape[-2:])
    rotated = F.grid_sample(
        batch, grids, mode="bilinear", padding_mode="zeros", align_corners=False
    )
    return rotated.sum(dim=2).squeeze(1)


def total_variation(u, eps=1e-3):
    dx = torch.diff(u, dim=-1, append=u[..., -1:])
    dy = torch.diff(u, dim=-2, prepend=u[..., :1, :])
    return torch.hypot(dx, torch.sqrt(dy**2 + eps**2)).sum()


def phantom(n):
    y, x = torch.meshgrid(torch.linspace(-1, 1, n), torch.linspace(-1, 1, n), indexing="ij")
    body = ((x / 0.7) ** 2 + (y / 0.85) ** 2 < 1).float()
    spot = ((x - 0.2) ** 2 + (y + 0.3) ** 2 < 0.04).float()
    bar = ((x.abs() < 0.4) & ((y - 0.35).abs() < 0.08)).float()
    return (0.6 * body + 0.8 * spot - 0.3 * bar)[None, None]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(2)
    report = {"library": torch.__name__, "losses": []}

    n, n_angles = 24, 12
    truth = phantom(n)
    angles = torch.arange(n_angles) * (math.pi / n_angles)
    grids = rotation_grids(angles, n)
    sinogram = radon(truth, grids)
    if not args.deterministic:
        sinogram = sinogram + 0.05 * torch.randn_like(sinogram)
    report["sinogram"] = [list(sinogram.shape), r(sinogram.sum(1), 3), r(sinogram[3, 8:14], 4)]

    freqs = torch.fft.rfftfreq(n)
    filtered = torch.fft.irfft(torch.fft.rfft(sinogram, dim=1) * (2 * freqs.abs()), n=n, dim=1)
    inverse_grids = rotation_grids(-angles, n)
    smeared = filtered[:, None, None, :].expand(n_angles, 1, n, n)
    fbp = F.grid_sample(smeared, inverse_grids, align_corners=False).mean(0, keepdim=True)
    fbp = fbp * (math.pi / 2)
    report["fbp_corr"] = round(
        torch.corrcoef(torch.stack([fbp.flatten(), truth.flatten()]))[0, 1].item(), 4
    )

    recon = torch.zeros_like(truth, requires_grad=True)
    optimizer = torch.optim.SGD([recon], lr=2e-3, momentum=0.8, nesterov=True)
    for step in range(40):
        optimizer.zero_grad()
        misfit = 0.5 * (radon(recon, grids) - sinogram).pow(2).sum()
        loss = misfit + 0.05 * total_variation(recon)
        loss.backward()
        optimizer.step()
        with torch.no_grad():
            recon.clamp_(min=0)
        if step % 8 == 0:
            report["losses"].append(round(loss.item(), 4))
    report["recon"] = [
        round((recon - truth).abs().mean().item(), 4),
        round(total_variation(recon.detach()).item(), 3),
        r(recon[0, 0, 12, 6:12], 3),
    ]

    # Wiener deconvolution of a motion-blurred image; kernel centred at the origin.
    image = truth[0, 0].double()
    kernel = torch.zeros(n, n, dtype=torch.float64)
    kernel[0, :5] = 0.2
    kernel = torch.roll(kernel, shifts=-1, dims=1)
    pairs = torch.view_as_real(torch.fft.fft2(kernel))
    H = torch.view_as_complex(pairs.contiguous())
    blurred = torch.fft.ifft2(torch.fft.fft2(image) * H).real
    if args.deterministic:
        blurred = blurred + 0.01 * torch.cos(torch.arange(n * n, dtype=torch.float64) * 0.7).view(
            n, n
        )
    else:
        blurred = blurred + 0.01 * torch.randn_like(blurred)
    log_snr = torch.zeros((), dtype=torch.float64, requires_grad=True)
    adam = torch.optim.Adam([log_snr], lr=0.3)
    for _ in range(15):
        adam.zero_grad()
        wiener = torch.conj(H) / (H.abs() ** 2 + torch.exp(-log_snr))
        restored = torch.fft.ifft2(torch.fft.fft2(blurred) * wiener).real
        err = F.mse_loss(restored, image)
        err.backward()
        adam.step()
    report["wiener"] = {
        "mse": round(err.item(), 6),
        "log_snr": round(log_snr.item(), 4),
        "H_dtype": str(H.dtype),
        "pairs": [list(pairs.shape), r(pairs[0, 1], 6)],
        "conj_real_imag": r(torch.conj(H)[0, 1:3].imag, 6),
    }

    torch.save({"recon": recon.detach(), "transfer": H}, args.checkpoint)
    state = torch.load(args.checkpoint)
    report["state"] = {k: [str(v.dtype), list(v.shape)] for k, v in state.items()}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
