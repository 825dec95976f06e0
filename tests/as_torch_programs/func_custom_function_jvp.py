"""torch.func in depth, as JAX-style research code writes it in PyTorch: a custom
`torch.autograd.Function` with `setup_context` (forward without ctx), `save_for_backward`,
`once_differentiable`-free double backward, a `jvp` staticmethod for forward mode and a `vmap`
staticmethod, a second Function with `generate_vmap_rule=True`; `torch.func.functional_call`
with a params dict (and a tuple of dicts), `vmap(jacrev(f))` per-sample Jacobians checked
against `jacfwd`, `hessian` of a scalar potential, `torch.func.jvp` / `vjp` / `linearize`,
`grad_and_value` with `has_aux`, `vmap` with `in_dims`/`out_dims` and `chunk_size`, and
per-sample gradients of a small model from `vmap(grad(loss), in_dims=(None, 0, 0))` used to
clip and average them by hand (DP-SGD style) for a few training steps.
Run: python func_custom_function_jvp.py CHECKPOINT [--deterministic] (see cnn_custom_dataset).
"""

import argparse
import json

import torch
import torch.nn as nn
from torch.autograd import forward_ad
from torch.autograd.function import once_differentiable
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


class SoftClip(torch.autograd.Function):
    """y = x / (1 + |x|), written the new-style way (forward without ctx)."""

    @staticmethod
    def forward(x, scale):
        return scale * x / (1 + x.abs())

    @staticmethod
    def setup_context(ctx, inputs, output):
        x, scale = inputs
        ctx.save_for_backward(x)
        ctx.scale = scale
        ctx.save_for_forward(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * ctx.scale / (1 + x.abs()) ** 2, None

    @staticmethod
    def jvp(ctx, x_t, scale_t):
        (x,) = ctx.saved_tensors
        return x_t * ctx.scale / (1 + x.abs()) ** 2

    @staticmethod
    def vmap(info, in_dims, x, scale):
        x_bdim, _ = in_dims
        x = x.movedim(x_bdim, 0) if x_bdim is not None else x
        return SoftClip.apply(x, scale), 0


class Cube(torch.autograd.Function):
    generate_vmap_rule = True

    @staticmethod
    def forward(x):
        return x**3

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0])
        ctx.save_for_forward(inputs[0])

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return 3 * g * x**2

    @staticmethod
    def jvp(ctx, t):
        (x,) = ctx.saved_tensors
        return 3 * t * x**2


class SortWithIndex(torch.autograd.Function):
    """Sorted values (differentiable) and their indices (marked non-differentiable), with
    `once_differentiable`, `needs_input_grad` and `set_materialize_grads(False)`."""

    @staticmethod
    def forward(ctx, x):
        values, index = x.sort()
        ctx.mark_non_differentiable(index)
        ctx.set_materialize_grads(False)
        ctx.save_for_backward(index)
        ctx.size = x.shape[0]
        return values, index

    @staticmethod
    @once_differentiable
    def backward(ctx, g_values, g_index):
        (index,) = ctx.saved_tensors
        if g_values is None or not ctx.needs_input_grad[0]:
            return None
        return torch.zeros(ctx.size, dtype=g_values.dtype).scatter(0, index, g_values)


def r(t, n=6):
    return [round(v, n) for v in t.detach().flatten().tolist()]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("checkpoint")
    parser.add_argument("--deterministic", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    report = {"library": torch.__name__}

    x = torch.linspace(-2, 2, 7, dtype=torch.float64, requires_grad=True)
    y = SoftClip.apply(x, 1.5)
    (gx,) = torch.autograd.grad(y.sum(), x, create_graph=True)
    (ggx,) = torch.autograd.grad(gx.sum(), x)
    _, tangent = jvp(
        lambda v: SoftClip.apply(v, 1.5),
        (x.detach(),),
        (torch.ones(7, dtype=torch.float64),),
    )
    batched = vmap(lambda v: SoftClip.apply(v, 2.0))(x.detach().reshape(7, 1))
    cube_jac = vmap(jacrev(lambda v: Cube.apply(v).sum()))(x.detach().reshape(7, 1))
    cube_fwd = jacfwd(lambda v: Cube.apply(v))(x.detach()[:3])
    with forward_ad.dual_level():
        dual = forward_ad.make_dual(x.detach(), torch.full((7,), 0.5, dtype=torch.float64))
        dual_tangent = forward_ad.unpack_dual(SoftClip.apply(dual, 1.5)).tangent
    values, index = SortWithIndex.apply(
        x * torch.tensor([1.0, -1.0] * 3 + [1.0], dtype=torch.float64)
    )
    (sort_grad,) = torch.autograd.grad(
        (values * torch.arange(7.0, dtype=torch.float64)).sum(), x, create_graph=True
    )
    try:
        torch.autograd.grad(sort_grad.sum(), x)
        once = "no error"
    except RuntimeError as error:
        once = "does not require grad" in str(error)
    jac_a, jac_b = jacrev(lambda a, b: (a * b).sin(), argnums=(0, 1))(
        x.detach()[:2], x.detach()[2:4]
    )
    f_hvp = torch.autograd.functional.hvp(
        lambda v: (v**3).sum(), x.detach()[:3], torch.ones(3, dtype=torch.float64)
    )
    f_jac = torch.autograd.functional.jacobian(
        lambda v: v.exp().cumsum(0),
        x.detach()[:3],
        vectorize=True,
        strategy="forward-mode",
    )
    report["custom"] = {
        "repr": repr(y),
        "dual": r(dual_tangent),
        "sorted": r(values),
        "index": index.tolist(),
        "index_grad": index.requires_grad,
        "sort_grad": r(sort_grad),
        "once_differentiable": once,
        "jac_argnums": [r(jac_a), r(jac_b)],
        "hvp": [r(f_hvp[0]), r(f_hvp[1])],
        "jac_forward": r(f_jac),
        "y": r(y),
        "grad": r(gx),
        "grad2": r(ggx),
        "jvp": r(tangent),
        "vmap": r(batched),
        "cube_jac": r(cube_jac),
        "cube_fwd": r(cube_fwd),
        "grad_fn": type(y.grad_fn).__name__,
    }

    def potential(q):
        return (q[0] ** 2 + 3 * q[1] ** 2 - q[0] * q[1]).exp() * torch.sin(q).sum()

    q0 = torch.tensor([0.3, -0.2], dtype=torch.float64)
    out, lin = linearize(potential, q0)
    _, pullback = vjp(potential, q0)
    (pulled,) = pullback(torch.tensor(1.0, dtype=torch.float64))
    g_val, (val, aux) = grad_and_value(lambda q: (potential(q), q.norm()), has_aux=True)(q0)
    report["potential"] = {
        "value": round(out.item(), 8),
        "hessian": r(hessian(potential)(q0)),
        "linearized": round(lin(torch.tensor([1.0, 2.0], dtype=torch.float64)).item(), 8),
        "vjp": r(pulled),
        "grad": r(g_val),
        "aux": round(aux.item(), 8),
    }

    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1)).double()
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(
                torch.linspace(-0.5, 0.5, p.numel(), dtype=torch.float64).reshape(p.shape)
                * (1 + 0.1 * i)
            )
    params = {k: v.detach() for k, v in model.named_parameters()}
    buffers = {k: v for k, v in model.named_buffers()}
    data = torch.linspace(-1, 1, 30, dtype=torch.float64).reshape(10, 3)
    if not args.deterministic:
        data = data + 0.01 * torch.randn_like(data)
    target = data.sin().sum(1, keepdim=True)

    def loss_fn(p, xb, yb):
        pred = functional_call(model, (p, buffers), (xb.unsqueeze(0),))
        return ((pred - yb.unsqueeze(0)) ** 2).mean()

    per_sample_jac = vmap(jacrev(lambda xb: functional_call(model, params, (xb,))))(data)
    per_sample_fwd = vmap(jacfwd(lambda xb: functional_call(model, params, (xb,))), chunk_size=3)(
        data
    )
    try:
        functional_call(model, {"0.weight": params["0.weight"]}, (data,), strict=True)
        strict = "no error"
    except RuntimeError as error:
        strict = str(error).splitlines()
    peaks = vmap(lambda row: row[row.abs().argmax()])(per_sample_jac.squeeze(1))
    report["jacobians"] = {
        "strict": strict,
        "peaks": r(peaks),
        "shape": list(per_sample_jac.shape),
        "match": bool(torch.allclose(per_sample_jac, per_sample_fwd)),
        "first": r(per_sample_jac[0]),
        "out_dims": list(vmap(lambda a: a * 2, in_dims=1, out_dims=1)(data).shape),
    }

    losses = []
    lr, clip = 0.2, 0.5
    for step in range(6):
        grads = vmap(grad(loss_fn), in_dims=(None, 0, 0))(params, data, target)
        norms = torch.sqrt(sum(g.flatten(1).pow(2).sum(1) for g in grads.values()))
        factor = (clip / (norms + 1e-6)).clamp(max=1.0)
        params = {
            k: p - lr * (grads[k] * factor.view(-1, *[1] * (grads[k].dim() - 1))).mean(0)
            for k, p in params.items()
        }
        fitted = functional_call(model, params, (data,))
        losses.append(round((fitted - target).pow(2).mean().item(), 8))
        if step == 0:
            report["clip_norms"] = r(norms, 5)
    report["losses"] = losses
    model.load_state_dict(params)
    torch.save(model.state_dict(), args.checkpoint)
    state = torch.load(args.checkpoint)
    report["state"] = {k: [str(v.dtype), list(v.shape)] for k, v in state.items()}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
