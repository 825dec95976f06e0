"""Numerical code that verifies itself, as research code does before trusting a solver: an
implicit-function `torch.autograd.Function` (Newton's method for a steady state of a reaction-
diffusion system) that also returns its residual marked by `ctx.mark_non_differentiable`,
checked by `torch.autograd.gradcheck` / `gradgradcheck` (outputs that do not require grad are
skipped, as PyTorch's checker skips them); a complex transfer function H(iw) of a damped
oscillator compared with `torch.testing.assert_close` (complex values by modulus, a `msg`
callable, nested dicts and lists, `check_dtype=False` across float32 and float64), with the
messages of deliberate failures printed as a test log would show them; and the steady state
fitted to data through the implicit derivative.
Run: python verified_implicit_solvers_gradcheck.py CHECKPOINT [--deterministic]
(see cnn_custom_dataset).
"""

import argparse
import json
import math

import torch
from torch.testing import assert_close

DT = torch.float64
N = 6


def laplacian(n):
    main = torch.full((n,), -2.0, dtype=DT)
    off = torch.ones(n - 1, dtype=DT)
    return (torch.diag(main) + torch.diag(off, 1) + torch.diag(off, -1)) * (n + 1) ** 2


def residual(u, source):
    """Steady reaction-diffusion: u'' - u**3 + source = 0 on a grid, u = 0 at the ends."""
    return laplacian(N) @ u - u**3 + source


class SteadyState(torch.autograd.Function):
    @staticmethod
    def forward(ctx, source):
        u = torch.zeros_like(source)
        for _ in range(20):
            jac = laplacian(N) - torch.diag(3 * u**2)
            u = u - torch.linalg.solve(jac, residual(u, source))
        norm = residual(u, source).norm().reshape(1)
        ctx.mark_non_differentiable(norm)
        ctx.save_for_backward(u)
        return u, norm

    @staticmethod
    def backward(ctx, grad_u, grad_norm):
        (u,) = ctx.saved_tensors
        jac = laplacian(N) - torch.diag(3 * u**2)
        # u(s) solves F(u, s) = 0: du/ds = -J^-1 dF/ds = -J^-1, so the vjp is -J^-T g
        return -torch.linalg.solve(jac.T, grad_u)


def transfer(omega, mass, damping, stiffness):
    s = 1j * omega
    return 1 / (mass * s**2 + damping * s + stiffness)


def failure(check):
    """The report's header and counts; its differences' last digits are left out."""
    try:
        check()
    except AssertionError as error:
        lines = str(error).splitlines()
        lines = [line.split(" but got")[0] for line in lines]
        return [line.split(":")[0] if "difference" in line else line for line in lines]
    return ["passed"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(9)
    report = {"library": torch.__name__, "losses": []}

    x = torch.linspace(0, 1, N + 2, dtype=DT)[1:-1]
    source = (50 * torch.sin(math.pi * x)).requires_grad_()
    u, norm = SteadyState.apply(source)
    report["solver"] = {
        "u": [round(v, 6) for v in u.tolist()],
        "converged": bool(norm.item() < 1e-9),
        "norm_requires_grad": norm.requires_grad,
        "gradcheck": torch.autograd.gradcheck(SteadyState.apply, (source,)),
        "gradgradcheck": torch.autograd.gradgradcheck(
            lambda s: SteadyState.apply(s)[0] * 1.0, (source,)
        ),
        "diagnostic_skipped": torch.autograd.gradcheck(
            lambda s: (s.exp(), s.detach() ** 2), (source[:3].detach().requires_grad_(),)
        ),
    }

    omega = torch.linspace(0.1, 3.0, 7, dtype=DT)
    H = transfer(omega, 1.0, 0.3, 2.0)
    H32 = transfer(omega.float(), 1.0, 0.3, 2.0)
    assert_close(H32, H, check_dtype=False, rtol=1e-5, atol=1e-6)
    assert_close({"H": [H, H.abs()]}, {"H": [H.clone(), H.abs().clone()]})
    wrong_phase = H * torch.exp(torch.tensor(0.01j, dtype=torch.complex128))
    report["checks"] = {
        "phase": failure(lambda: assert_close(wrong_phase, H)),
        "resonance": round(omega[H.abs().argmax()].item(), 4),
        "labelled": failure(
            lambda: assert_close(
                {"gain": [H.abs()[:3]]},
                {"gain": [H.abs()[:3] * 1.001]},
                msg=lambda m: "gain drifted: " + m.splitlines()[0],
            )
        ),
        "scalar": failure(lambda: assert_close(H.abs().max(), torch.tensor(1.0, dtype=DT))),
        "lengths": failure(lambda: assert_close([H], [H, H])),
    }

    # Fit the source amplitude so the steady state matches observations.
    target = SteadyState.apply(30 * torch.sin(math.pi * x))[0].detach()
    if not args.deterministic:
        target = target + 0.001 * torch.randn_like(target)
    amplitude = torch.tensor(10.0, dtype=DT, requires_grad=True)
    optimizer = torch.optim.LBFGS([amplitude], lr=1, max_iter=15, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = (SteadyState.apply(amplitude * torch.sin(math.pi * x))[0] - target).pow(2).sum()
        loss.backward()
        return loss

    for _ in range(2):
        report["losses"].append(round(optimizer.step(closure).item(), 10))
    report["amplitude"] = round(amplitude.item(), 4)

    torch.save({"u": u.detach(), "H": H}, args.checkpoint)
    state = torch.load(args.checkpoint)
    report["state"] = {k: [str(v.dtype), list(v.shape)] for k, v in state.items()}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
