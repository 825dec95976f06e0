"""torch.func written the way JAX users write it: a model's params and buffers as dicts through
`functional_call((params, buffers), ...)` with `strict=True` (and an extra name set as an
attribute for the call), a loss over a flattened parameter vector whose `hessian` (and
`jacfwd(jacrev)`) is compared with the Gauss-Newton matrix that drives Levenberg-Marquardt
steps, `vmap(grad(f), in_dims=(None, 0, 0))` per-example gradients, nested `vmap(vmap(...))`
with `out_dims` tuples, `randomness="different"/"same"` dropout masks, `jacfwd` vs `jacrev` on
R^n -> R^m with `argnums` tuples, `jvp` / `vjp` / `grad` with `has_aux=True`, `linearize`, the
RuntimeError of `jacrev` on a complex output, `torch.vmap` and `torch.func.grad_and_value`; the
old `torch.autograd.functional` API with `strategy="forward-mode"`, `vectorize=True`,
`create_graph=True`, `hvp` / `vhp`; `torch.autograd.grad(..., is_grads_batched=True)`,
`allow_unused` / `materialize_grads`; forward-mode AD by `torch.autograd.forward_ad`
(`dual_level`, `make_dual`, `unpack_dual`); and implicit differentiation of a fixed point (a
custom `torch.autograd.Function` whose backward solves the adjoint fixed point), checked against
unrolled iterations, with `gradcheck` / `gradgradcheck` in float64.
Run: python func_jax_style_implicit.py CHECKPOINT [--deterministic].
"""

import argparse
import json

import torch
import torch.nn as nn
from torch.autograd import forward_ad
from torch.func import (
    functional_call,
    grad,
    grad_and_value,
    hessian,
    jacfwd,
    jacrev,
    jvp,
    linearize,
    vjp,
    vmap,
)


def r(values, digits=5):
    return [round(v, digits) for v in torch.as_tensor(values).double().flatten().tolist()]


class Regressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(3, 4)
        self.out = nn.Linear(4, 1)
        self.register_buffer("scale", torch.tensor([1.0, 2.0, 0.5]))

    def forward(self, x):
        temperature = getattr(self, "temperature", 1.0)  # set by functional_call, if at all
        return self.out(torch.tanh(self.hidden(x * self.scale) / temperature)).squeeze(-1)


class FixedPoint(torch.autograd.Function):
    """z* = tanh(W z* + x), differentiated implicitly: the backward solves
    u = g + W^T (diag(1 - z*^2) u) by the same fixed-point iteration."""

    @staticmethod
    def forward(ctx, weight, x):
        z = torch.zeros_like(x)
        for _ in range(60):
            z = torch.tanh(weight @ z + x)
        ctx.save_for_backward(weight, z)
        return z

    @staticmethod
    def backward(ctx, g):
        weight, z = ctx.saved_tensors
        d = 1 - z**2
        u = g
        for _ in range(60):
            u = g + weight.T @ (d * u)
        v = d * u
        return torch.outer(v, z), v


def unrolled(weight, x, steps=60):
    z = torch.zeros_like(x)
    for _ in range(steps):
        z = torch.tanh(weight @ z + x)
    return z


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(11)
    report = {"library": torch.__name__}
    f64 = torch.float64

    model = Regressor().double()
    with torch.no_grad():  # deterministic weights, whatever the RNG stream
        for i, p in enumerate(model.parameters()):
            p.copy_(torch.sin(torch.arange(p.numel(), dtype=f64) * 0.7 + i).view_as(p) * 0.6)
    params = {k: v.detach() for k, v in model.named_parameters()}
    buffers = {k: v for k, v in model.named_buffers()}
    if args.deterministic:
        X = torch.cos(torch.arange(24, dtype=f64).view(8, 3) * 1.3)
    else:
        X = torch.randn(8, 3, dtype=f64)
    y = X[:, 0] - 0.5 * X[:, 1] ** 2

    def loss_fn(p, x, t):
        pred = functional_call(model, (p, buffers), (x,), strict=True)
        return ((pred - t) ** 2).mean()

    per_example = vmap(grad(loss_fn), in_dims=(None, 0, 0))(params, X[:, None], y[:, None])
    full = grad(loss_fn)(params, X, y)
    # A name that is no parameter or buffer is a plain attribute for the call only.
    hot = torch.tensor(2.0, dtype=f64, requires_grad=True)
    warm = functional_call(model, {**params, "temperature": hot}, (X,))
    (d_temperature,) = torch.autograd.grad(warm.sum(), hot)
    report["per_example"] = [
        sorted(per_example),
        list(per_example["hidden.weight"].shape),
        bool(torch.allclose(per_example["out.bias"].mean(0), full["out.bias"])),
        round(d_temperature.item(), 6),
        hasattr(model, "temperature"),
    ]
    try:  # Jacobians are of real functions
        jacrev(lambda t: t * (1 + 1j))(X[0])
        report["complex_jacobian"] = "none"
    except RuntimeError as error:
        report["complex_jacobian"] = str(error)

    # Flatten the parameters into one vector: Hessian, Gauss-Newton and a few Newton steps.
    names = list(params)
    shapes = [params[k].shape for k in names]
    sizes = [params[k].numel() for k in names]

    def unflatten(theta):
        return {k: t.view(s) for k, t, s in zip(names, theta.split(sizes), shapes)}

    def flat_loss(theta):
        return loss_fn(unflatten(theta), X, y)

    theta = torch.cat([params[k].flatten() for k in names])
    H = hessian(flat_loss)(theta)
    H2 = jacfwd(jacrev(flat_loss))(theta)
    residual_jac = jacrev(lambda th: functional_call(model, (unflatten(th), buffers), X))(theta)
    gauss_newton = 2 * residual_jac.T @ residual_jac / len(X)
    report["hessian"] = [
        list(H.shape),
        bool(torch.allclose(H, H2)),
        bool(torch.allclose(H, H.T)),
        round(torch.linalg.eigvalsh(H).max().item(), 4),
        round((H - gauss_newton).norm().item(), 4),
    ]
    losses = []
    for _ in range(6):  # Levenberg-Marquardt: the Gauss-Newton matrix, damped
        g, value = grad_and_value(flat_loss)(theta)
        J = jacrev(lambda th: functional_call(model, (unflatten(th), buffers), X))(theta)
        step = torch.linalg.solve(2 * J.T @ J / len(X) + 0.01 * torch.eye(len(theta), dtype=f64), g)
        theta = theta - step
        losses.append(value.item())
    report["losses"] = losses

    # Jacobians of R^3 -> R^2 both ways; argnums tuples; has_aux everywhere.
    def field(a, b):
        return torch.stack([a[0] * b.sum(), torch.sin(a).prod() + b[1] ** 2])

    a0 = torch.tensor([0.3, -0.7, 1.1], dtype=f64)
    b0 = torch.tensor([0.5, 2.0], dtype=f64)
    jf = jacfwd(field, argnums=(0, 1))(a0, b0)
    jr = jacrev(field, argnums=(0, 1))(a0, b0)

    def with_aux(a):
        out = field(a, b0)
        return out.sum(), {"norm": out.norm(), "first": out[0]}

    g_aux, aux = grad(with_aux, has_aux=True)(a0)
    out, tangent_out, aux_j = jvp(
        lambda a: (field(a, b0), a.sum()), (a0,), (b0[:1].expand(3),), has_aux=True
    )
    out_v, pullback, aux_v = vjp(lambda a: (field(a, b0), a.prod()), a0, has_aux=True)
    primal, lin = linearize(lambda a: field(a, b0), a0)
    report["jacobians"] = [
        [list(j.shape) for j in jf],
        all(torch.allclose(f_, r_) for f_, r_ in zip(jf, jr)),
        r(jf[0], 5),
        r(g_aux, 5),
        [round(aux["norm"].item(), 5), round(aux["first"].item(), 5)],
        r(tangent_out, 5),
        round(aux_j.item(), 5),
        r(pullback(torch.tensor([1.0, -1.0], dtype=f64))[0], 5),
        round(aux_v.item(), 5),
        bool(torch.allclose(lin(torch.ones(3, dtype=f64)), jf[0].sum(1))),
    ]

    # Nested vmap with out_dims; randomness modes of dropout under vmap.
    A = torch.arange(24, dtype=f64).view(2, 3, 4)
    outer = vmap(
        vmap(lambda row: (row.sum(), row * 2), out_dims=(0, 1)), in_dims=1, out_dims=(1, 0)
    )
    sums, doubled = outer(A)
    ones = torch.ones(4, 6)
    different = vmap(lambda t: torch.nn.functional.dropout(t, 0.5), randomness="different")(ones)
    same = vmap(lambda t: torch.nn.functional.dropout(t, 0.5), randomness="same")(ones)
    report["vmap"] = [
        list(sums.shape),
        list(doubled.shape),
        r(sums, 1),
        bool((same == same[0]).all()),
        sorted(set(different.flatten().tolist()) | {0.0, 2.0}),
        list(torch.vmap(torch.trace)(A[:, :3, :3]).shape),
    ]
    try:
        vmap(lambda t: torch.nn.functional.dropout(t, 0.5))(ones)
        report["vmap_error"] = "none"
    except RuntimeError as error:
        report["vmap_error"] = type(error).__name__

    # torch.autograd.functional, batched grads and forward-mode AD.
    AF = torch.autograd.functional

    def energy(q):
        return (q**2).sum() + q.prod().sin()

    q0 = torch.tensor([0.2, -0.4, 0.9], dtype=f64)
    jac_fwd = AF.jacobian(lambda q: q.sin() * q.sum(), q0, vectorize=True, strategy="forward-mode")
    jac_rev = AF.jacobian(lambda q: q.sin() * q.sum(), q0, vectorize=True)
    hess_cg = AF.hessian(energy, q0, create_graph=True)
    _, hv = AF.hvp(energy, q0, torch.ones(3, dtype=f64))
    _, vh = AF.vhp(energy, q0, torch.ones(3, dtype=f64))
    leaf = q0.clone().requires_grad_()
    unused = torch.zeros(1, dtype=f64, requires_grad=True)
    out_vec = leaf.sin() * leaf.sum()
    rows = torch.autograd.grad(
        out_vec, leaf, torch.eye(3, dtype=f64), retain_graph=True, is_grads_batched=True
    )[0]
    g_leaf, g_unused = torch.autograd.grad(
        out_vec.sum(), (leaf, unused), allow_unused=True, materialize_grads=True
    )
    with forward_ad.dual_level():
        dual = forward_ad.make_dual(q0, torch.tensor([1.0, 0.0, 0.0], dtype=f64))
        primal_out, tangent = forward_ad.unpack_dual(dual.sin() * dual.sum())
    report["autograd_functional"] = [
        bool(torch.allclose(jac_fwd, jac_rev)),
        bool(torch.allclose(rows, jac_rev)),
        hess_cg.requires_grad,
        r(hv, 5),
        bool(torch.allclose(hv, vh)),
        r(g_unused, 1),
        r(g_leaf, 5),
        r(tangent, 5),
        bool(torch.allclose(tangent, jac_rev[:, 0])),
        round(primal_out.sum().item(), 5),
    ]

    # Implicit differentiation of a fixed point against unrolling, and gradchecks.
    W = 0.3 * torch.cos(torch.arange(16, dtype=f64).view(4, 4))
    W.requires_grad_()
    x = torch.tensor([0.5, -0.2, 0.1, 0.8], dtype=f64, requires_grad=True)
    z = FixedPoint.apply(W, x)
    (z**2).sum().backward()
    implicit = (W.grad.clone(), x.grad.clone())
    W.grad, x.grad = None, None
    (unrolled(W, x) ** 2).sum().backward()
    report["implicit"] = [
        r(z.detach(), 5),
        bool(torch.allclose(implicit[0], W.grad)),
        bool(torch.allclose(implicit[1], x.grad)),
        r(implicit[1], 5),
        torch.autograd.gradcheck(FixedPoint.apply, (W, x)),
        torch.autograd.gradgradcheck(lambda w, v: unrolled(w, v, 8), (W, x)),
    ]
    torch.save({"theta": theta, "W": W.detach()}, args.checkpoint)
    report["saved"] = sorted(torch.load(args.checkpoint))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
