"""Differential fuzzing against PyTorch, round six: what rounds one to five leave out:
torch.func's transforms over random programs (vmap of random op chains with random in_dims
and out_dims, None and negative dims, nesting, chunk_size and tuple outputs, and what vmap
refuses; grad, grad_and_value, vjp, jvp, jacrev, jacfwd, hessian and linearize with argnums
tuples and has_aux, composed with each other and with vmap; torch.autograd.functional with
its options); the reducing scatters (scatter_reduce and index_reduce with every reduction and
include_self, over integer and float dtypes, in place too); the composite utilities
(tensordot, kron, cov, diff, vander, renorm, the addmm family and more); complex autograd and
the FFTs; random factories' dtypes, shapes and refusals; nn.utils (gradient clipping,
parameter vectors, padded and packed sequences); products, decompositions and multi-operand
kernels over every dtype; and dtype conversions. Each case runs one random program on
chainrule and on PyTorch and compares values, dtype, shape, requires_grad and gradients, or
the exception type when PyTorch raises (see `check_program`). REGRESSIONS keeps each program
this round found, fixed. Where PyTorch 2.13 itself crashes or is inconsistent, the draw steers
clear, with a comment saying why.

Seeded: a failure names its case (`pytest -k 'vmap-case_17'`), and
`python -m tests.test_fuzz_torch_round6 FAMILY START COUNT` runs more cases of a family than
the suite does."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest
import torch

from tests.test_fuzz_torch_families import check_program, family_cases, main, run_family_case
from tests.test_fuzz_torch_op_families import _with_gradients
from tests.test_fuzz_torch_round3 import _dense
from tests.test_fuzz_torch_round4 import Raised


def _normal(seed: int, shape: tuple, scale: float = 1.0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape) * scale


# ---- the op chains the transforms map and differentiate --------------------------------------
# A step takes the running tensor t (and the second argument y, of the first's per-example
# shape) to a new tensor. Dims are drawn when the step runs, from t's shape, by a generator
# seeded alike in both libraries: the same draws as long as the shapes agree.

STEPS = ["sin", "exp_tanh", "mul_y", "add_y", "sum_dim", "mean_keepdim", "softmax", "matmul",
         "transpose", "flatten", "unsqueeze", "select", "slice_step", "where", "clamp",
         "cumsum", "amax", "cat", "stack", "max_values", "sort", "gather", "index_tensor",
         "pow", "vector_norm", "new_ones", "expand", "movedim", "diagonal", "outer",
         "logsumexp", "var", "split", "flip", "roll", "repeat", "index_select", "masked_fill",
         "einsum", "float32", "prod", "abs", "atan2_y", "lerp_y", "maximum_y", "addcmul_y",
         "triu", "chunk", "narrow", "squeeze", "std_mean"]  # fmt: skip


def _dim(rng, t) -> int:
    return int(rng.integers(-t.dim(), t.dim())) if t.dim() else 0


def _step(lib, name: str, t, y, rng):
    """One step of a chain (t itself where the step needs a dimension t lacks)."""
    d = _dim(rng, t)
    sized = t.dim() > 0 and t.shape[d] > 0
    if name == "sin":
        return t.sin()
    if name == "exp_tanh":
        return t.tanh().exp()
    if name in ("mul_y", "add_y", "atan2_y", "lerp_y", "maximum_y", "addcmul_y"):
        other = y if tuple(y.shape) == tuple(t.shape) else y.mean()
        if name == "mul_y":
            return t * other
        if name == "add_y":
            return t.add(other, alpha=-0.5)
        if name == "atan2_y":
            return lib.atan2(t, other.to(t.dtype))
        if name == "lerp_y":
            return lib.lerp(t, other.to(t.dtype), 0.25)
        if name == "maximum_y":
            return lib.maximum(t, other.to(t.dtype))
        return lib.addcmul(t, other.to(t.dtype), t, value=0.5)
    if name == "sum_dim":
        return t.sum(d) if t.dim() else t.sum()
    if name == "mean_keepdim":
        return t.mean(d, keepdim=True) if t.dim() else t
    if name == "softmax":
        return lib.softmax(t, d)
    if name == "matmul":
        if t.dim() == 0:
            return t
        w = lib.tensor(_normal(int(rng.integers(0, 99)), (t.shape[-1], 2)), dtype=t.dtype)
        return t @ w
    if name == "transpose":
        return t.transpose(0, -1) if t.dim() >= 2 else t.t()
    if name == "flatten":
        return t.reshape(-1)
    if name == "unsqueeze":
        return t.unsqueeze(int(rng.integers(-t.dim() - 1, t.dim() + 1)))
    if name == "select":
        return t[-1] if sized and d % max(t.dim(), 1) == 0 else (t.select(d, 0) if sized else t)
    if name == "slice_step":
        return t[..., ::2] if t.dim() else t
    if name == "where":
        return lib.where(t > 0, t, t * 0.5)
    if name == "clamp":
        return t.clamp(-0.5, 0.75)
    if name == "cumsum":
        return t.cumsum(d)
    if name == "amax":
        return t.amax(d) if sized or not t.dim() else t
    if name == "cat":
        return lib.cat([t, t * 2], d) if t.dim() else t
    if name == "stack":
        return lib.stack([t, t.cos()], int(rng.integers(-t.dim() - 1, t.dim() + 1)))
    if name == "max_values":
        return t.max(d).values if sized or not t.dim() else t
    if name == "sort":
        return t.sort(d, descending=bool(rng.random() < 0.5)).values
    if name == "gather":
        index = lib.zeros(tuple(t.shape), dtype=lib.int64)
        return t.gather(d, index) if sized or not t.dim() else t
    if name == "index_tensor":
        return t[lib.tensor([0, -1, 0])] if sized and t.shape[0] > 0 else t
    if name == "pow":
        return t.pow(2)
    if name == "vector_norm":
        return lib.linalg.vector_norm(t, dim=d) if t.dim() else t.abs()
    if name == "new_ones":
        return t + t.new_ones(tuple(t.shape))
    if name == "expand":
        return t.unsqueeze(0).expand(2, *t.shape)
    if name == "movedim":
        return t.movedim(0, -1) if t.dim() else t
    if name == "diagonal":  # (never empty: PyTorch's chunked vmap trips over empty examples)
        offset = int(rng.integers(-1, 2))
        if t.dim() < 2:
            return t
        return t.diagonal(offset=max(min(offset, t.shape[1] - 1), 1 - t.shape[0]))
    if name == "outer":
        return lib.outer(t.reshape(-1)[:3], y.reshape(-1)[:2].to(t.dtype))
    if name == "logsumexp":
        return t.logsumexp(d) if t.dim() else t
    if name == "var":
        return t.var(d) if t.dim() and t.shape[d] > 1 else t
    if name == "split":
        return t.split(1, d)[0] if sized else t
    if name == "flip":
        return t.flip(d) if t.dim() else t
    if name == "roll":
        return t.roll(1, d) if t.dim() else t
    if name == "repeat":
        return t.repeat(2, *([1] * t.dim()))
    if name == "index_select":
        return t.index_select(d, lib.tensor([0, 0])) if sized else t
    if name == "masked_fill":
        return t.masked_fill(t > 0.5, 0.25)
    if name == "einsum":
        return lib.einsum("...i,...i->...", t, t) if t.dim() else t
    if name == "float32":
        return t.float()
    if name == "prod":
        return t.prod(d) if t.dim() else t
    if name == "abs":
        return t.abs()
    if name == "triu":
        return t.triu(int(rng.integers(-1, 2))) if t.dim() >= 2 else t
    if name == "chunk":
        return t.chunk(2, d)[-1] if sized else t
    if name == "narrow":
        return t.narrow(d, 0, 1) if sized else t
    if name == "squeeze":
        return t.squeeze()
    if name == "std_mean":
        # (not over one element: the derivative of a zero std is a kink, nan in PyTorch's
        # double backward trick (autograd.functional.jvp), 0 in its forward mode)
        wide = t.dim() and t.shape[d] > 1
        std, mean = lib.std_mean(t, d, correction=0) if wide else (t, t)
        return std + mean
    raise AssertionError(name)


def _chain(lib, names: list, t, y, seed: int):
    rng = np.random.default_rng(seed)
    for name in names:
        t = _step(lib, name, t, y, rng)
    return t


# ---- family: vmap ----------------------------------------------------------------------------
# vmap (or two nested) of a drawn chain of two arguments: each level draws each argument's
# in_dim (an int, maybe negative, or None: shared), its out_dims, maybe a chunk_size, and maybe
# a second output; the batched arguments are built by inserting each level's batch dimension
# where its in_dim says. Then the gradient of a weighted sum reaches the leaves through vmap.
# Some draws are out of range on purpose: vmap's refusal is then compared.


def _insert(shape: tuple, dim: int | None, size: int) -> tuple:
    if dim is None:
        return shape
    position = dim % (len(shape) + 1)
    return shape[:position] + (size,) + shape[position:]


def _draw_vmap(seed: int):
    rng = np.random.default_rng(seed)
    example = tuple(int(s) for s in rng.integers(1, 4, int(rng.integers(0, 4))))
    names = [str(n) for n in rng.choice(STEPS, int(rng.integers(1, 4)))]
    depth = 1 if rng.random() < 0.7 else 2
    levels = []
    shapes = [example, example]
    for _ in range(depth):  # innermost first: its batch dim is inserted first
        size = int(rng.integers(1, 4))
        in_dims = []
        for argument in range(2):
            rank = len(shapes[argument]) + 1
            none = rng.random() < (0.25 if argument == 0 else 0.5)
            in_dims.append(None if none else int(rng.integers(-rank, rank)))
        if rng.random() < 0.03:
            in_dims[0] = len(shapes[0]) + 1  # out of range
        if rng.random() < 0.02:
            size_of_y = size + 1  # batch sizes that disagree
        else:
            size_of_y = size
        shapes = [
            _insert(shapes[0], in_dims[0], size),
            _insert(shapes[1], in_dims[1], size_of_y),
        ]
        two_outputs = bool(rng.random() < 0.3)
        # (out_dims=-2 for a 0-d output, a lower bound out of range, crashes PyTorch 2.13:
        # only an outer level, whose outputs have the inner batch dimension, draws it. And
        # PyTorch 2.13 mangles an output that does not depend on the batched inputs, x
        # shared, unless out_dims is 0: its batch size turns to garbage on the way out.)
        lowest = -2 if levels else -1
        highest = 3 if in_dims[0] is not None else 1
        choices = [0, 0, -1, 1, 2, lowest] if highest > 1 else [0]
        out_dims = int(rng.choice(choices))
        if two_outputs and rng.random() < 0.5:
            out_dims = (out_dims, int(rng.choice(choices[:4])))
        chunk_size = int(rng.integers(1, 4)) if rng.random() < 0.25 else None
        # (a list of in_dims is refused: only an int or a tuple, as PyTorch)
        packing = str(rng.choice(["tuple"] * 12 + ["int"] * 7 + ["list"]))
        levels.append((tuple(in_dims), out_dims, chunk_size, two_outputs, packing))
    dtype = str(rng.choice(["float64", "float64", "float32"]))
    if "float32" in names:  # (compared at float32's precision: a float32 step rounds)
        dtype = "float32"

    def program(lib):
        x = lib.tensor(_normal(seed, shapes[0]), dtype=getattr(lib, dtype), requires_grad=True)
        y = lib.tensor(_normal(seed + 1, shapes[1]), dtype=getattr(lib, dtype))

        def body(a, b):
            out = _chain(lib, names, a, b, seed)
            # (an empty example: PyTorch 2.13's vmap mangles the batch size of an empty output
            # under a negative out_dims; its sum, 0, is compared instead)
            return out if out.numel() else out.sum()

        func = body
        for in_dims, out_dims, chunk_size, two_outputs, packing in levels:
            inner = func

            def func(a, b, inner=inner, two_outputs=two_outputs):
                out = inner(a, b)
                if not two_outputs:
                    return out
                first = out[0] if isinstance(out, tuple) else out
                return first, a.sum() * b.mean()

            if packing == "int" and in_dims[0] == in_dims[1]:
                dims = in_dims[0]
            elif packing == "list":
                dims = list(in_dims)
            else:
                dims = in_dims
            func = lib.func.vmap(func, in_dims=dims, out_dims=out_dims, chunk_size=chunk_size)
        out = func(x, y)
        outputs = out if isinstance(out, tuple) else (out,)
        flat = []
        for item in outputs:
            flat.extend(item if isinstance(item, tuple) else (item,))
        return _with_gradients(lib, tuple(flat), [x], seed)

    return f"{names} x{shapes[0]} y{shapes[1]} levels={levels} ({dtype})", program


# ---- family: transforms ----------------------------------------------------------------------
# torch.func's transforms of a drawn chain f(x, y) (or of its weighted sum, where the transform
# wants a scalar), with argnums (an int, maybe negative or out of range, or a tuple) and
# has_aux (the chain's output beside a dict of auxiliaries); composed (grad of grad, jacrev of
# jacfwd, vmap of grad over per-sample x); torch.autograd.functional's forms with their
# options. Compared: every value, tangent and cotangent, and whether it requires grad.

TRANSFORMS = ["grad", "grad_and_value", "jacrev", "jacfwd", "hessian", "vjp", "jvp",
              "linearize", "vmap_grad", "grad_grad", "jacrev_jacfwd", "jacfwd_jacrev",
              "vmap_jacrev", "functional_jacobian", "functional_hessian", "functional_vjp",
              "functional_jvp", "functional_hvp", "functional_vhp"]  # fmt: skip
SCALAR_TRANSFORMS = {"grad", "grad_and_value", "hessian", "vmap_grad", "grad_grad",
                     "functional_hessian", "functional_hvp", "functional_vhp"}  # fmt: skip


def _tree(value):
    """A result with dicts as (key, value) pairs in key order and PyTorch's ZeroTensors as
    zeros, for `check_program`."""
    if isinstance(value, dict):
        return tuple((key, _tree(value[key])) for key in sorted(value))
    if isinstance(value, (list, tuple)):
        return tuple(_tree(item) for item in value)
    return _dense(torch, value)


def _draw_transforms(seed: int):
    rng = np.random.default_rng(seed)
    name = str(rng.choice(TRANSFORMS))
    example = tuple(int(s) for s in rng.integers(1, 4, int(rng.integers(0, 3))))
    names = [str(n) for n in rng.choice(STEPS, int(rng.integers(1, 3)))]
    argnums = [0, 1, (0, 1), (1, 0), (0,), -1, 2, (), (0, -2), 1.0][int(rng.integers(0, 10))]
    if rng.random() < 0.5:
        argnums = 0  # the default, half the time
    if "jacfwd" in name or name == "hessian":
        # (PyTorch 2.13's jacfwd differentiates with respect to nothing, returning zeros, for
        # a negative argnums: the same argument counted from the front instead)
        argnums = 1 if argnums == -1 else argnums
    has_aux = bool(rng.random() < 0.3)
    create_graph = bool(rng.random() < 0.4)
    strict = bool(rng.random() < 0.2)
    batch = int(rng.integers(1, 4))

    def program(lib):
        # (x does not require grad for torch.func: whether a transform's result stays attached
        # to an enclosing graph where it is constant in x, a Hessian of a quadratic say, is how
        # functorch's wrappers happen to record, not a semantics to match)
        functional_form = name.startswith("functional")
        kind = lib.float32 if "float32" in names else lib.float64  # (compared at float32's)
        x = lib.tensor(_normal(seed, example), dtype=kind, requires_grad=functional_form)
        y = lib.tensor(_normal(seed + 1, example), dtype=kind)
        weights = _normal(seed + 2, (7,))

        def f(a, b):
            out = _chain(lib, names, a, b, seed)
            if name in SCALAR_TRANSFORMS:
                # a weighted sum: the chain's output, weighted by position, then summed
                flat = out.reshape(-1)
                scale = lib.tensor(weights[: min(flat.numel(), 7)], dtype=flat.dtype)
                out = (flat[: scale.numel()] * scale).sum() + (flat * flat).sum()
            if has_aux:
                return out, {"double": out * 2, "shape": lib.tensor(list(b.shape))}
            return out

        tx = lib.tensor(_normal(seed + 3, example), dtype=x.dtype)
        ty = lib.tensor(_normal(seed + 4, example), dtype=x.dtype)
        fn = lib.func
        functional = lib.autograd.functional
        if name == "grad":
            return _tree(fn.grad(f, argnums=argnums, has_aux=has_aux)(x, y))
        if name == "grad_and_value":
            return _tree(fn.grad_and_value(f, argnums=argnums, has_aux=has_aux)(x, y))
        if name == "jacrev":
            return _tree(fn.jacrev(f, argnums=argnums, has_aux=has_aux)(x, y))
        if name == "jacfwd":
            return _tree(fn.jacfwd(f, argnums=argnums, has_aux=has_aux)(x, y))
        if name == "hessian":
            return _tree(fn.hessian(f, argnums=argnums)(x, y))
        if name == "vjp":
            result = fn.vjp(f, x, y, has_aux=has_aux)
            out = result[0]
            cotangent = lib.tensor(_normal(seed + 5, tuple(out.shape)), dtype=out.dtype)
            return _tree((out, *result[2:], result[1](cotangent)))
        if name == "jvp":
            return _tree(fn.jvp(f, (x, y), (tx, ty), has_aux=has_aux))
        if name == "linearize":
            out, jvp_fn = fn.linearize(f, x, y)
            return _tree((out, jvp_fn(tx, ty), jvp_fn(ty, tx)))
        if name == "vmap_grad":
            xs = lib.tensor(_normal(seed, (batch, *example)), dtype=x.dtype)
            per_sample = fn.vmap(fn.grad(f, argnums=argnums, has_aux=has_aux), in_dims=(0, None))
            return _tree(per_sample(xs, y))
        if name == "grad_grad":
            inner = fn.grad(f)
            return _tree(fn.grad(lambda a, b: inner(a, b).sum(), argnums=argnums)(x, y))
        if name == "jacrev_jacfwd":
            return _tree(fn.jacrev(fn.jacfwd(f, argnums=0), argnums=argnums)(x, y))
        if name == "jacfwd_jacrev":
            return _tree(fn.jacfwd(fn.jacrev(f, argnums=0), argnums=argnums)(x, y))
        if name == "vmap_jacrev":
            xs = lib.tensor(_normal(seed, (batch, *example)), dtype=x.dtype)
            return _tree(fn.vmap(fn.jacrev(f, argnums=argnums), in_dims=(0, None))(xs, y))
        y.requires_grad_(True)
        g = (lambda a, b: f(a, b)[0]) if has_aux else f
        if g(x, y).numel() == 0:  # (PyTorch's jacobian cannot stack no rows; chainrule can)
            return ("an empty output",)
        options = {"create_graph": create_graph, "strict": strict}
        if name == "functional_jacobian":
            # (PyTorch has forward mode only with vectorize=True, and not yet with strict or
            # create_graph, which chainrule computes; its forward-mode results stay attached
            # to inputs that require grad even without create_graph: given detached inputs.
            # A misspelt strategy is refused by both.)
            strategy = ["forward-mode", "reverse-mode", "reverse-mode", "sideways"][seed % 4]
            if "prod" in names and strategy == "forward-mode":
                strategy = "reverse-mode"  # (PyTorch's vectorized forward-mode prod fails)
            inputs = (x, y)
            if strategy == "forward-mode":
                options, inputs = {"vectorize": True}, (x.detach(), y.detach())
            result = functional.jacobian(g, inputs, strategy=strategy, **options)
        elif name == "functional_hessian":
            strategy = ["forward-mode", "reverse-mode", "reverse-mode", "sideways"][seed % 4]
            inputs = (x, y)
            if strategy == "forward-mode":
                options, inputs = {"vectorize": True}, (x.detach(), y.detach())
            result = functional.hessian(g, inputs, outer_jacobian_strategy=strategy, **options)
            if strategy == "forward-mode":  # (PyTorch's requires grad even so: not compared)
                result = tuple(tuple(block.detach() for block in row) for row in result)
        elif name == "functional_vjp":
            out = g(x, y)
            v = lib.tensor(_normal(seed + 5, tuple(out.shape)), dtype=out.dtype)
            result = functional.vjp(g, (x, y), v, **options)
        elif name == "functional_jvp":
            result = functional.jvp(g, (x, y), (tx, ty), **options)
        elif name == "functional_hvp":
            result = functional.hvp(g, (x, y), (tx, ty), **options)
        else:
            result = functional.vhp(g, (x, y), (tx, ty), **options)
        return _tree(result)

    label = (
        f"{name} of {names} x{example} argnums={argnums} has_aux={has_aux} "
        f"create_graph={create_graph} strict={strict} batch={batch}"
    )
    return label, program


def _outcome(thunk):
    """What `thunk()` returns, or the exception it raised as a `Raised` (compared by type)."""
    try:
        return thunk()
    except Exception as error:  # noqa: BLE001 - compared by check_program
        return Raised(error)


def _reduced_in_place_0_dim(lib):
    """scatter_reduce_ and index_reduce_ into a 0-dim tensor, then backward through both."""
    results = []
    for reduce in ("prod", "amax", "mean"):
        x = lib.tensor(2.0, requires_grad=True)
        source = lib.tensor(3.0, requires_grad=True)
        y = x.clone()
        y.scatter_reduce_(0, lib.tensor(0), source, reduce)
        z = x.clone()
        z.index_reduce_(0, lib.tensor([0]), source, reduce)
        results.append((y, z, lib.autograd.grad(y + z * 2, (x, source))))
    return tuple(results)


def _addmm_family_in_half_precision(lib):
    """(exact: PyTorch's half kernels sum in float32 and round once)"""
    rng = np.random.default_rng(1)
    results = []
    for kind in (lib.float16, lib.bfloat16):
        a, b, c = (lib.tensor(rng.standard_normal(shape), dtype=kind) for shape in
                   [(4, 32), (32, 4), (4, 4)])  # fmt: skip
        v = lib.tensor(rng.standard_normal(32), dtype=kind)
        results.append((
            lib.addmm(c, a, b, beta=0.5, alpha=3).tolist(),
            lib.addmv(c[0], a, v, beta=0.5, alpha=3).tolist(),
            lib.baddbmm(c[None], a[None], b[None], beta=0.5, alpha=3).tolist(),
            lib.addbmm(c, a[None], b[None], beta=-1, alpha=0.25).tolist(),
        ))  # fmt: skip
    return tuple(results)


def _renorm_of_a_zero_slice(lib):
    """(in float16, where renorm's 1e-7 guard underflows: maxnorm / 0 in the unused branch)"""
    results = []
    for p in (1, 2, 3.5):
        x = lib.tensor([[0.0, 0.0], [3.0, -4.0]], dtype=lib.float16, requires_grad=True)
        out = lib.renorm(x, p, 0, 1.0)
        weights = lib.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=lib.float16)
        results.append((out, lib.autograd.grad((out * weights).sum(), x)))
    return tuple(results)


def _reductions_of_0_dim_examples(lib):
    """The gradient and tangent of reductions over 0-dim examples under vmap (their backward
    sees no reduced axes, which must not mean every axis, the batch's included)."""
    results = []
    for reduce in [
        lambda a: a.amax(0), lambda a: a.amin(-1), lambda a: a.logsumexp(0),
        lambda a: lib.linalg.vector_norm(a, float("inf"), dim=0), lambda a: a.std(0, correction=0),
        lambda a: lib.var_mean(a, 0, correction=0)[0], lambda a: lib.linalg.vector_norm(a, 3),
    ]:  # fmt: skip
        x = lib.tensor([1.0, 2.0, 2.0], requires_grad=True)
        out = lib.func.vmap(reduce)(x)
        (gradient,) = lib.autograd.grad((out * lib.tensor([1.0, 2.0, 3.0])).sum(), x)
        tangent = lib.func.jvp(lib.func.vmap(reduce), (x.detach(),), (lib.tensor([1.0, 3.0, 5.0]),))
        results.append((out, gradient, tangent[1]))
    return tuple(results)


def _make_dual_of_an_integer_tangent(lib):
    fwAD = lib.autograd.forward_ad
    with fwAD.dual_level():
        return fwAD.make_dual(lib.ones(2), lib.tensor([1, 2]))


# ---- family: reducing scatters -----------------------------------------------------------------
# scatter_reduce and index_reduce with every reduction and include_self, over float and integer
# dtypes, with duplicate indices, ties (amax/amin split the gradient among equal values) and
# zeros (prod's gradient), negative dims and indices, 0-d and empty operands, the in-place
# forms, and what they refuse (indices out of range, a source of another dtype, an int32 index
# where int64 is needed); scatter's reduce='add'/'multiply', index_add's alpha, index_copy,
# index_fill with a 0-d tensor, put_ and take with negative indices. The gradient of a random
# weighting reaches the input and the source.

REDUCING = ["scatter_reduce", "scatter_reduce_", "index_reduce", "index_reduce_", "scatter_add_",
            "scatter_reduce_mode", "index_add_alpha", "index_copy", "index_fill_tensor",
            "put_", "take", "index_select_negative"]  # fmt: skip
REDUCING_DTYPES = ["float64", "float64", "float32", "int64", "int32", "uint8", "float16", "bool"]


def _draw_reducing(seed: int):
    rng = np.random.default_rng(seed)
    name = str(rng.choice(REDUCING))
    shape = tuple(int(s) for s in rng.integers(1, 4, int(rng.integers(0, 4))))
    ndim = len(shape)
    dim = int(rng.integers(-max(ndim, 1), max(ndim, 1)))
    size = shape[dim] if ndim else 1
    dtype = str(rng.choice(REDUCING_DTYPES))
    if name.startswith("index_reduce") and dtype == "float16":
        dtype = "float32"  # (PyTorch 2.13's float16 prod backward trips an internal assert)
    source_dtype = dtype if rng.random() < 0.9 else str(rng.choice(REDUCING_DTYPES))
    index_dtype = "int64" if rng.random() < 0.9 else "int32"
    reduce = str(rng.choice(["sum", "prod", "mean", "amax", "amin"]))
    include_self = bool(rng.random() < 0.5)
    if name.startswith("index_reduce") and not include_self:
        # (PyTorch refuses int32 here only through an index_fill_ it runs inside)
        index_dtype = "int64"
    # small integers: ties and zeros are common (an array: a negative wraps into uint8)
    values = np.asarray(rng.integers(-2, 3, shape), dtype=float)
    reach = size + (1 if rng.random() < 0.05 else 0)  # sometimes one past the end
    count = int(rng.integers(0, 5))
    vector = rng.integers(-reach if rng.random() < 0.3 else 0, reach, count)
    index_shape = tuple(int(rng.integers(1, s + 1)) for s in shape)
    index_values = rng.integers(0, reach, index_shape)
    alpha = [2, -1, 0.5][int(rng.integers(0, 3))]

    def program(lib):
        floating = dtype.startswith("float")
        x = lib.tensor(values, dtype=getattr(lib, dtype), requires_grad=floating)
        sizes = list(shape)
        if ndim:
            sizes[dim] = count
        elif name.startswith("index"):
            sizes = [count] if count != 1 else []
        rows = np.arange(int(np.prod(sizes))).reshape(sizes) % 5 - 2.0
        source_floating = source_dtype.startswith("float")
        leaves = [x]
        picks = lib.tensor(vector, dtype=getattr(lib, index_dtype))
        if name in ("scatter_reduce", "scatter_reduce_", "scatter_add_", "scatter_reduce_mode"):
            index = lib.tensor(index_values, dtype=getattr(lib, index_dtype))
            source_values = np.arange(int(np.prod(index_shape))).reshape(index_shape) % 4 - 1.0
            source = lib.tensor(
                source_values, dtype=getattr(lib, source_dtype), requires_grad=source_floating
            )
            leaves.append(source)
            if name == "scatter_reduce":
                out = x.scatter_reduce(dim, index, source, reduce, include_self=include_self)
            elif name == "scatter_add_":
                out = x.clone().scatter_add_(dim, index, source)
            elif name == "scatter_reduce_mode":
                # (values only: PyTorch has no derivative for scatter_ with reduce=)
                mode = "add" if reduce in ("sum", "mean") else "multiply"
                out = x.detach().clone().scatter_(dim, index, source.detach(), reduce=mode)
            else:
                out = x.clone()
                out.scatter_reduce_(dim, index, source, reduce, include_self=include_self)
        elif name in ("index_reduce", "index_reduce_", "index_add_alpha", "index_copy"):
            source = lib.tensor(
                rows, dtype=getattr(lib, source_dtype), requires_grad=source_floating
            )
            leaves.append(source)
            if name == "index_reduce":
                index_reduce = "prod" if reduce == "sum" else reduce
                out = x.index_reduce(dim, picks, source, index_reduce, include_self=include_self)
            elif name == "index_reduce_":
                index_reduce = "amax" if reduce == "sum" else reduce
                out = x.clone()
                out.index_reduce_(dim, picks, source, index_reduce, include_self=include_self)
            elif name == "index_add_alpha":
                out = x.index_add(dim, picks, source, alpha=alpha)
            else:
                # (index_copy with a repeated index writes in an undefined order: first ones)
                unique = lib.tensor(list(dict.fromkeys(vector.tolist())), dtype=picks.dtype)
                source = source.narrow(dim if ndim else 0, 0, len(unique)) if ndim else source
                out = x.index_copy(dim, unique, source)
                if not ndim:  # (PyTorch's backward of a 0-dim index_copy fails: values only)
                    return (out.detach(),)
        elif name == "index_fill_tensor":
            out = x.index_fill(dim, picks, lib.tensor(alpha))
        elif name == "put_":
            out = x.clone().put_(picks, lib.ones(count, dtype=x.dtype), accumulate=bool(seed % 2))
        elif name == "take":
            out = lib.take(x, picks)
        else:
            out = x.index_select(dim, picks)
        return _with_gradients(lib, (out,), leaves, seed)

    label = (
        f"{name} dim={dim} x{shape} ({dtype}) source ({source_dtype}) index{index_shape} "
        f"vector={list(vector)} ({index_dtype}) reduce={reduce} include_self={include_self} "
        f"alpha={alpha}"
    )
    return label, program


# ---- family: composite utilities -------------------------------------------------------------
# The functions PyTorch composes from others, each with its options drawn: tensordot (int and
# list dims), kron, cartesian_prod, meshgrid (both indexings), block_diag, combinations,
# diff (n, prepend, append), trapezoid and cumulative_trapezoid (x or dx), cov (correction,
# fweights, aweights), corrcoef, cross, vander, rot90, the stacks, atleast_nd, cummax/cummin,
# renorm, logcumsumexp, flatten/unflatten, tril/triu, roll over several dims, diag_embed,
# diagflat, histc, bincount (weights, minlength). Values, dtypes, and gradients.

COMPOSITES = ["tensordot", "kron", "cartesian_prod", "meshgrid", "block_diag", "combinations",
              "diff", "trapezoid", "cumulative_trapezoid", "cov", "corrcoef", "cross", "vander",
              "rot90", "stacks", "atleast", "cummax", "renorm", "logcumsumexp", "unflatten",
              "tril_triu", "roll_dims", "diag_embed", "diagflat", "histc", "bincount", "inner",
              "outer_dtypes", "addmv", "baddbmm", "chain_matmul", "trace", "cumprod",
              "count_nonzero", "aminmax", "nan_to_num", "frexp_ldexp", "flip_dims"]  # fmt: skip
COMPOSITE_DTYPES = ["float64", "float64", "float32", "int64", "int32", "bool", "float16"]


def _draw_composites(seed: int):
    rng = np.random.default_rng(seed)
    name = str(rng.choice(COMPOSITES))
    dtype = str(rng.choice(COMPOSITE_DTYPES))
    other_dtype = dtype if rng.random() < 0.8 else str(rng.choice(COMPOSITE_DTYPES))
    rank = int(rng.integers(0, 4))
    shape = tuple(int(s) for s in rng.integers(0 if rng.random() < 0.1 else 1, 4, rank))
    numbers = [int(n) for n in rng.integers(-3, 4, 6)]
    flags = [bool(b) for b in rng.random(4) < 0.5]
    if name in ("inner", "addmv", "baddbmm", "tensordot"):
        # (not empty: PyTorch's dtype refusals live in kernels an empty product never runs,
        # and its addmv backward fails on a 0-dim gradient)
        shape = tuple(max(s, 1) for s in shape)

    def make(lib, shape, kind, offset=0):
        values = np.round(_normal(seed + offset, shape) * 2) / 2
        floating = kind.startswith("float")
        if kind == "bool":
            values = values > 0
        return lib.tensor(values, dtype=getattr(lib, kind), requires_grad=floating)

    def program(lib):
        x = make(lib, shape, dtype)
        leaves = [x]
        n0, n1, n2 = numbers[0], numbers[1], numbers[2]
        if name == "tensordot":
            y = make(lib, shape[::-1] + (2,), other_dtype, 1)
            leaves.append(y)
            dims = [abs(n0) % (rank + 1), ([0], [rank - 1]) if rank else 0][int(flags[0])]
            out = lib.tensordot(x, y, dims=dims)
        elif name == "kron":
            y = make(lib, shape[:2][::-1], other_dtype, 1)
            leaves.append(y)
            out = lib.kron(x, y)
        elif name == "cartesian_prod":
            tensors = [make(lib, (abs(n) % 3 + 1,), dtype, i) for i, n in enumerate(numbers[:3])]
            leaves = tensors
            out = lib.cartesian_prod(*tensors[: abs(n0) % 3 + 1])
        elif name == "meshgrid":
            tensors = [make(lib, (abs(n) % 3,), dtype, i) for i, n in enumerate(numbers[:3])]
            leaves = tensors
            grids = lib.meshgrid(*tensors[: abs(n0) % 3 + 1], indexing=["ij", "xy"][flags[0]])
            out = lib.stack(grids)
        elif name == "block_diag":
            tensors = [x, make(lib, shape[:2], other_dtype, 1), make(lib, (), dtype, 2)]
            leaves = tensors
            out = lib.block_diag(*tensors[: abs(n0) % 3 + 1])
        elif name == "combinations":
            vector = x.reshape(-1)[:4]
            out = lib.combinations(vector, r=abs(n0) % 4, with_replacement=flags[0])
        elif name == "diff":
            options = {"n": abs(n0) % 3, "dim": n1 % max(rank, 1) - (1 if flags[2] else 0)}
            if flags[0] and rank:
                prepend_shape = list(shape)
                prepend_shape[options["dim"]] = 1
                options["prepend"] = make(lib, tuple(prepend_shape), dtype, 3)
            if flags[1]:
                options["append"] = make(lib, shape, dtype, 4)
            out = lib.diff(x, **options)
        elif name in ("trapezoid", "cumulative_trapezoid"):
            function = getattr(lib, name)
            dim = n1 % max(rank, 1) - 1 if rank else -1
            if flags[0]:
                points = make(lib, shape if flags[1] else shape[dim:][:1], other_dtype, 5)
                leaves.append(points)
                out = function(x, points, dim=dim)
            else:
                out = function(x, dx=[0.5, 2, -1][abs(n2) % 3], dim=dim)
        elif name in ("cov", "corrcoef"):
            # (a copy: PyTorch's cov writes in place into a view of its input where the degrees
            # of freedom are not positive, refused for a view of a leaf)
            table = (x.reshape(-1, x.shape[-1]) if rank >= 2 else x).clone()
            if name == "corrcoef":
                out = lib.corrcoef(table)
            else:
                columns = table.shape[-1] if table.dim() else 1
                options = {"correction": abs(n0) % 3}
                if flags[0]:
                    options["fweights"] = lib.tensor(
                        np.abs(numbers[:columns] + [1] * columns)[:columns]
                    )
                if flags[1]:
                    options["aweights"] = make(lib, (columns,), other_dtype, 6).abs().detach()
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    out = lib.cov(table, **options)
                if any("degrees of freedom" in str(w.message) for w in caught):
                    # (a division by zero: how its infinite or nan gradient comes out is the
                    # order of the kernel's operations, not a semantics)
                    return (out.detach(),)
        elif name == "cross":
            y = make(lib, shape[:-1] + (3,), other_dtype, 1)
            z = make(lib, shape[:-1] + (3,), dtype, 2)
            leaves = [y, z]
            out = lib.linalg.cross(z, y, dim=-1) if flags[0] else lib.cross(z, y, dim=-1)
        elif name == "vander":
            vector = x.reshape(-1)[:3]
            options = {"increasing": flags[0]}
            if flags[1]:
                options["N"] = abs(n0) % 4
            # (values only: PyTorch's vander backward trips over its own in-place cumprod)
            out = lib.vander(vector.detach(), **options)
        elif name == "rot90":
            dims = [0, 1] if rank < 2 or flags[0] else [-1, 0]
            out = lib.rot90(x, n0, dims)
        elif name == "stacks":
            y = make(lib, shape, other_dtype, 1)
            leaves.append(y)
            function = ["hstack", "vstack", "dstack", "column_stack", "row_stack"][abs(n0) % 5]
            out = getattr(lib, function)([x, y])
        elif name == "atleast":
            out = getattr(lib, f"atleast_{abs(n0) % 3 + 1}d")(x)
        elif name == "cummax":
            function = lib.cummax if flags[0] else lib.cummin
            values, indices = function(x, n1 % max(rank, 1) - (1 if flags[1] else 0))
            return _with_gradients(lib, (values, indices), leaves, seed)
        elif name == "renorm":
            out = lib.renorm(x, [1, 2, 3.5][abs(n0) % 3], n1 % max(rank, 1), [0.5, 2.0][flags[0]])
        elif name == "logcumsumexp":
            out = lib.logcumsumexp(x, n1 % max(rank, 1))
        elif name == "unflatten":
            flat = x.flatten(start_dim=0, end_dim=-1)
            size = flat.shape[0]
            sizes = (-1, 1) if flags[0] else (1, size)
            out = flat.unflatten(0, sizes)
        elif name == "tril_triu":
            out = (lib.tril if flags[0] else lib.triu)(x, n0)
        elif name == "roll_dims":
            dims = tuple(range(rank))[: abs(n0) % (rank + 1)]
            shifts = tuple(numbers[1 : 1 + len(dims)])
            out = lib.roll(x, shifts if dims else n1, dims if dims else None)
        elif name == "diag_embed":
            out = lib.diag_embed(x, offset=n0 % 3 - 1, dim1=-1 if flags[0] else 0, dim2=-2)
        elif name == "diagflat":
            out = lib.diagflat(x, offset=n0)
        elif name == "histc":
            out = lib.histc(x, bins=abs(n0) + 1, min=n1 if flags[0] else 0, max=n2)
        elif name == "bincount":
            counts = lib.tensor(np.abs(np.asarray(numbers)), dtype=lib.int64)
            weights = make(lib, (6,), dtype, 1) if flags[0] else None
            # (values only: PyTorch has no derivative for bincount's weights)
            weights = weights.detach() if weights is not None else None
            out = lib.bincount(counts, weights=weights, minlength=abs(n0) * 2)
        elif name == "inner":
            y = make(lib, shape[-1:] if flags[0] else shape, other_dtype, 1)
            leaves.append(y)
            out = lib.inner(x, y)
        elif name == "outer_dtypes":
            y = make(lib, (abs(n0) % 3 + 1,), other_dtype, 1)
            leaves.append(y)
            out = lib.outer(x.reshape(-1), y) if flags[0] else lib.ger(x.reshape(-1), y)
        elif name == "addmv":
            matrix = make(lib, (2, shape[-1] if rank else 1), other_dtype, 1)
            bias = make(lib, (2,)[: abs(n0) % 2], dtype, 2)
            leaves += [matrix, bias]
            vector = x.reshape(-1)[: matrix.shape[1]]
            out = lib.addmv(bias, matrix, vector, beta=[1, 0, 0.5][abs(n1) % 3], alpha=n2)
        elif name == "baddbmm":
            first = make(lib, (2, 3, 2), dtype, 1)
            second = make(lib, (2, 2, 4), other_dtype, 2)
            leaves = [first, second, x]
            out = lib.baddbmm(x, first, second, beta=[1, 0, 0.5][abs(n1) % 3], alpha=n2)
        elif name == "chain_matmul":
            matrices = [make(lib, (2, 3), dtype, 1), make(lib, (3, 2), dtype, 2)]
            matrices += [make(lib, (2, 2), other_dtype, 3)][: abs(n0) % 2]
            leaves = matrices
            out = lib.linalg.multi_dot(matrices)
        elif name == "trace":
            out = lib.trace(x)
        elif name == "cumprod":
            out = lib.cumprod(x, n1 % max(rank, 1), dtype=lib.float64 if flags[0] else None)
        elif name == "count_nonzero":
            out = lib.count_nonzero(x, dim=tuple(range(rank))[: abs(n0) % (rank + 1)] or None)
        elif name == "aminmax":
            low, high = lib.aminmax(x, dim=n1 % max(rank, 1) if flags[0] and rank else None)
            return _with_gradients(lib, (low, high), leaves, seed)
        elif name == "nan_to_num":
            y = x / x.detach().round() if x.dtype.is_floating_point else x
            out = lib.nan_to_num(y, nan=n0, posinf=n1 if flags[0] else None, neginf=None)
        elif name == "frexp_ldexp":
            mantissa, exponent = lib.frexp(x)
            return (mantissa, exponent, lib.ldexp(mantissa, exponent))
        else:
            out = lib.flip(x, tuple(range(rank))[: abs(n0) % (rank + 1)])
        return _with_gradients(lib, (out,), leaves, seed)

    label = f"{name} x{shape} ({dtype}, other {other_dtype}) numbers={numbers} flags={flags}"
    return label, program


# ---- family: complex autograd and FFTs --------------------------------------------------------
# A chain of complex ops (and the ops between real and complex: abs, angle, real, imag,
# view_as_real/complex, polar, complex, the FFTs with n, dim and norm) on a complex or real
# leaf; the gradient of a real loss (the real part of a weighted sum, or a sum of abs) with
# PyTorch's conjugate Wirtinger convention; values and dtypes (complex64 beside float64
# promotes to complex128).

COMPLEX_STEPS = ["abs", "angle", "real", "imag", "conj", "view_as_real", "polar", "complex",
                 "exp", "log", "sqrt", "sin", "tanh", "reciprocal", "pow_complex", "pow_real",
                 "mul_real64", "div_real", "matmul", "sum", "mean", "prod", "cumsum", "sgn",
                 "vector_norm", "mul_conj", "fft", "ifft", "rfft", "irfft", "fft2", "fftn",
                 "hfft", "ihfft", "fftshift", "sigmoid", "square", "add_int", "where_real",
                 "cumprod", "logsumexp", "conj_physical", "outer"]  # fmt: skip


def _complex_step(lib, name: str, t, rng):
    d = _dim(rng, t)
    is_complex = t.is_complex()
    norm = [None, "ortho", "forward", "backward"][int(rng.integers(0, 4))]
    size = int(rng.integers(1, 5)) if rng.random() < 0.4 else None
    if name == "abs":
        return t.abs()
    if name == "angle":  # (complex: off the real axis, whose zero's sign picks +pi or -pi)
        return (t + 0.5j).angle() if is_complex else t.angle()
    if name == "real":
        return t.real if is_complex else t
    if name == "imag":
        return t.imag if is_complex else t
    if name == "conj":
        return t.conj()
    if name == "view_as_real":
        # (resolved: PyTorch's conj() is a lazy view its view_as_real refuses; chainrule's
        # conj() is a copy, so there is nothing to refuse)
        return lib.view_as_real(t.resolve_conj()) if is_complex else t
    if name == "polar":
        magnitude = t.abs() if not is_complex else t.abs() + 0.5
        return lib.polar(magnitude, t.real if is_complex else t)
    if name == "complex":
        real = t.real if is_complex else t
        return lib.complex(real, real.flip(-1) if real.dim() else real * 2)
    if name == "exp":
        return (t * 0.5).exp()
    if name == "log":
        # (a complex input shifted off the real axis: on the branch cut the sign of a zero
        # imaginary part, which FFT libraries leave as they like, picks +pi or -pi)
        return (t + 0.5j).log() if is_complex else (t.abs() + 0.5).log()
    if name == "sqrt":
        return t.sqrt() if is_complex else t.abs().sqrt()
    if name in ("sin", "tanh", "sigmoid", "square", "sgn", "conj_physical"):
        return getattr(lib, name)(t)
    if name == "reciprocal":
        return t.reciprocal() if is_complex else (t.abs() + 1).reciprocal()
    if name == "pow_complex":
        return t.pow(0.5 + 1j) if is_complex else t
    if name == "pow_real":
        return t.pow(2.5) if is_complex else t.abs().pow(2.5)
    if name == "mul_real64":
        return t * lib.tensor(_normal(int(rng.integers(0, 9)), tuple(t.shape)), dtype=lib.float64)
    if name == "div_real":
        return t / 3.0
    if name == "matmul":
        if t.dim() == 0:
            return t
        w = lib.tensor(_normal(int(rng.integers(0, 9)), (t.shape[-1], 2)), dtype=t.dtype)
        return t @ w
    if name == "sum":
        return t.sum(d) if t.dim() else t.sum()
    if name == "mean":
        return t.mean()
    if name == "prod":
        return t.prod(d) if t.dim() else t
    if name == "cumsum":
        return t.cumsum(d)
    if name == "cumprod":
        return t.cumprod(d)
    if name == "logsumexp":
        return t.logsumexp(d) if t.dim() and not is_complex else t
    if name == "vector_norm":
        return lib.linalg.vector_norm(t, ord=[2, 1, 3, float("inf")][int(rng.integers(0, 4))])
    if name == "mul_conj":
        return t * t.conj()
    if name == "add_int":
        return t + lib.tensor(2)
    if name == "where_real":
        real = t.real if is_complex else t
        return lib.where(real > 0, t, t * 2)
    if name == "outer":
        return lib.outer(t.reshape(-1)[:3], t.reshape(-1)[:2].conj())
    if name == "fftshift":
        return lib.fft.fftshift(t) if t.dim() else t
    if t.dim() == 0:
        return t
    fft = lib.fft
    if name in ("fft", "ifft", "hfft"):
        return getattr(fft, name)(t, n=size, dim=d, norm=norm)
    if name in ("rfft", "ihfft"):
        return getattr(fft, name)(t.real if is_complex else t, n=size, dim=d, norm=norm)
    if name == "irfft":
        return fft.irfft(t, n=size, dim=d, norm=norm)
    if name == "fft2":
        return fft.fft2(t, norm=norm) if t.dim() >= 2 else fft.fft(t, norm=norm)
    return fft.fftn(t, dim=tuple(range(t.dim()))[-2:], norm=norm)


def _resolved(t):
    """t with PyTorch's lazy conjugate and negative bits applied and a ZeroTensor as zeros
    (its numpy() refuses them)."""
    return _dense(torch, t).resolve_conj().resolve_neg()


def _draw_complex(seed: int):
    rng = np.random.default_rng(seed)
    shape = tuple(int(s) for s in rng.integers(1, 4, int(rng.integers(0, 3))))
    dtype = str(rng.choice(["complex128", "complex128", "complex64", "float64"]))
    names = [str(n) for n in rng.choice(COMPLEX_STEPS, int(rng.integers(1, 4)))]
    loss = str(rng.choice(["real", "abs", "imag"]))

    def program(lib):
        values = _normal(seed, shape) + (1j * _normal(seed + 1, shape) if "complex" in dtype else 0)
        x = lib.tensor(values, dtype=getattr(lib, dtype), requires_grad=True)
        step_rng = np.random.default_rng(seed)
        t = x
        for name in names:
            t = _complex_step(lib, name, t, step_rng)
        if not t.requires_grad:
            return (_resolved(t),)
        weights = lib.tensor(_normal(seed + 2, tuple(t.shape)))
        if loss == "abs":
            scalar = (t.abs() * weights.to(t.abs().dtype)).sum()
        elif t.is_complex():
            weighted = t * weights.to(t.real.dtype)
            scalar = weighted.sum().real if loss == "real" else weighted.sum().imag
        else:
            scalar = (t * weights.to(t.dtype)).sum()
        (gradient,) = lib.autograd.grad(scalar, x)
        results = (_resolved(t), _resolved(gradient))
        if dtype == "complex64":  # (compared at complex64's precision, its dtype kept)
            narrow = {"complex128": lib.complex64, "float64": lib.float32}
            results = tuple(
                (r.dtype, r.to(narrow.get(str(r.dtype).rsplit(".", 1)[-1], r.dtype)))
                for r in results
            )
        return results

    return f"{names} x{shape} ({dtype}) loss={loss}", program


# ---- family: random factories ------------------------------------------------------------------
# What a random draw's values cannot show: the dtype, shape, device and requires_grad of rand,
# randn, randint (bounds, dtype), randperm, rand_like/randn_like/randint_like, normal (each
# overload), bernoulli, multinomial (with and without replacement), poisson, exponential_,
# uniform_, random_ (bounds), geometric_, cauchy_, log_normal_; what each refuses (an integer
# dtype for randn, low >= high, more samples than categories, negative probabilities), with
# the values' range checked where a bound holds them.

RANDOM_CALLS = ["rand", "randn", "randint", "randperm", "rand_like", "randn_like",
                "randint_like", "normal_tensor_tensor", "normal_tensor_float",
                "normal_float_tensor", "normal_float_float", "bernoulli", "bernoulli_p",
                "multinomial", "poisson", "exponential_", "uniform_", "random_", "geometric_",
                "cauchy_", "log_normal_", "normal_"]  # fmt: skip
RANDOM_DTYPES = [None, None, "float32", "float64", "float16", "int64", "int32", "uint8", "bool",
                 "complex64"]  # fmt: skip


def _draw_random(seed: int):
    rng = np.random.default_rng(seed)
    name = str(rng.choice(RANDOM_CALLS))
    dtype = RANDOM_DTYPES[int(rng.integers(0, len(RANDOM_DTYPES)))]
    like_dtype = str(rng.choice(["float32", "float64", "int64", "bool", "float16"]))
    # (never empty: PyTorch's kernels check the dtype only when they run, so an empty tensor
    # passes where a filled one is refused)
    shape = tuple(int(s) for s in rng.integers(1, 4, int(rng.integers(0, 3))))
    low, high = sorted(int(n) for n in rng.integers(-5, 10, 2))
    if rng.random() < 0.1:
        low, high = high, low  # an empty or inverted range
    count = int(rng.integers(0, 6))
    replacement = bool(rng.random() < 0.5)
    requires_grad = bool(rng.random() < 0.2)

    def program(lib):
        lib.manual_seed(seed)
        kwargs = {} if dtype is None else {"dtype": getattr(lib, dtype)}
        like = lib.ones(shape, dtype=getattr(lib, like_dtype))
        if name == "rand":
            # (a shape, never nothing: chainrule's rand() is a 0-dim draw, PyTorch's a TypeError,
            # left so since code that unpacks a 0-dim shape, rand(*shape), relies on it)
            out = lib.rand(shape, requires_grad=requires_grad, **kwargs)
        elif name == "randn":
            out = lib.randn(shape, **kwargs)
        elif name == "randint":
            out = (
                lib.randint(low, high, shape, **kwargs)
                if count % 2
                else lib.randint(high, shape, **kwargs)
            )
        elif name == "randperm":
            out = lib.randperm(count, **kwargs)
            return (out.dtype, tuple(out.shape), sorted(out.tolist()))
        elif name in ("rand_like", "randn_like"):
            out = getattr(lib, name)(like, **kwargs)
        elif name == "randint_like":
            out = lib.randint_like(like, low, high, **kwargs)
        elif name == "normal_tensor_tensor":
            out = lib.normal(like.float() if dtype else like, lib.ones(shape))
        elif name == "normal_tensor_float":
            out = lib.normal(like, 2.0)
        elif name == "normal_float_tensor":
            out = lib.normal(0.5, like)
        elif name == "normal_float_float":
            out = lib.normal(0.0, 1.0, size=shape, **kwargs)
        elif name == "bernoulli":
            probabilities = lib.full(shape, 0.5, dtype=getattr(lib, like_dtype))
            out = lib.bernoulli(probabilities)
        elif name == "bernoulli_p":
            out = like.bernoulli(p=[0.25, 1.5][count % 2])
        elif name == "multinomial":
            weights = lib.tensor(
                np.abs(_normal(seed, shape[-1:] or (3,))), dtype=getattr(lib, like_dtype)
            )
            out = lib.multinomial(weights, count, replacement=replacement)
            return (out.dtype, tuple(out.shape))
        elif name == "poisson":
            out = lib.poisson(like * 2)
        else:
            target = like.clone()
            if name == "exponential_":
                out = target.exponential_(lambd=[1.0, 0.0, -1.0][count % 3])
            elif name == "uniform_":
                out = target.uniform_(low, high)
            elif name == "random_":
                out = target.random_(low, high) if count % 2 else target.random_(high)
            elif name == "geometric_":
                out = target.geometric_([0.5, 0.0, 1.5][count % 3])
            elif name == "cauchy_":
                out = target.cauchy_()
            elif name == "log_normal_":
                out = target.log_normal_(std=[1.0, 0.0, -1.0][count % 3])
            else:
                out = target.normal_(std=[1.0, 0.0, -1.0][count % 3])
            if out is not target:
                return ("not self",)
        values = out.detach().double() if out.numel() and not out.is_complex() else None
        inside = None
        if values is not None and name in ("randint", "randint_like", "uniform_", "random_"):
            # (randint(high, size) and random_(high) draw from [0, high))
            lowest = 0 if name in ("randint", "random_") and not count % 2 else low
            inside = bool(((values >= lowest) & (values <= high)).all())
        return (out.dtype, tuple(out.shape), out.requires_grad, inside)

    label = (
        f"{name} shape={shape} dtype={dtype} like={like_dtype} low={low} high={high} "
        f"count={count} replacement={replacement} requires_grad={requires_grad}"
    )
    return label, program


# ---- family: nn.utils -------------------------------------------------------------------------
# clip_grad_norm_ (every norm type, error_if_nonfinite, foreach, a lone tensor, gradients that
# are None, inf or nan), clip_grad_value_, get_total_norm and clip_grads_with_norm_,
# parameters_to_vector and vector_to_parameters (the vector's length checked), and the rnn
# helpers: pad_sequence (batch_first, padding_value, padding_side), pack_sequence and
# pack_padded_sequence (enforce_sorted, lengths as a list or a tensor), pad_packed_sequence
# (total_length), unpad_sequence and unpack_sequence; gradients through padding and packing.

NN_UTILS = ["clip_grad_norm_", "clip_grad_value_", "total_norm", "parameters_to_vector",
            "vector_to_parameters", "pad_sequence", "pack_sequence", "pack_padded_sequence",
            "unpad_sequence"]  # fmt: skip


def _draw_nn_utils(seed: int):
    rng = np.random.default_rng(seed)
    name = str(rng.choice(NN_UTILS))
    count = int(rng.integers(1, 4))
    shapes = [
        tuple(int(s) for s in rng.integers(1, 4, int(rng.integers(0, 3)))) for _ in range(count)
    ]
    lengths = [int(n) for n in rng.integers(1, 5, count)]
    feature = tuple(int(s) for s in rng.integers(1, 3, int(rng.integers(0, 2))))
    norm_type = [2.0, 1.0, float("inf"), 0.5, 3, "inf", 0.0][int(rng.integers(0, 7))]
    max_norm = [1.0, 0.1, 100.0, 0.0][int(rng.integers(0, 4))]
    flags = [bool(b) for b in rng.random(5) < 0.5]
    special = [None, None, None, "none", "inf", "nan"][int(rng.integers(0, 6))]
    dtype = str(rng.choice(["float64", "float32"]))
    if name == "clip_grad_value_" and special == "none" and count == 1:
        special = None  # (PyTorch 2.13's foreach kernel fails on a list with no gradient at all)

    def program(lib):
        nn_utils = lib.nn.utils
        if name in ("clip_grad_norm_", "clip_grad_value_", "total_norm"):
            parameters = []
            for i, shape in enumerate(shapes):
                p = lib.nn.Parameter(
                    lib.tensor(_normal(seed + i, shape), dtype=getattr(lib, dtype))
                )
                p.grad = lib.tensor(_normal(seed + 10 + i, shape) * 3, dtype=p.dtype)
                parameters.append(p)
            if special == "none":
                parameters[0].grad = None
            elif special in ("inf", "nan"):
                parameters[-1].grad.view(-1)[0] = float(special)
            target = parameters[0] if flags[3] and count == 1 else parameters
            if name == "clip_grad_norm_":
                total = nn_utils.clip_grad_norm_(
                    target, max_norm, norm_type=norm_type, error_if_nonfinite=flags[0],
                    foreach=[None, True, False][int(flags[1]) + int(flags[2])],
                )  # fmt: skip
            elif name == "clip_grad_value_":
                total = nn_utils.clip_grad_value_(target, max_norm)
            else:
                grads = [p.grad for p in parameters if p.grad is not None]
                total = nn_utils.get_total_norm(grads, norm_type=norm_type,
                                                error_if_nonfinite=flags[0])  # fmt: skip
                nn_utils.clip_grads_with_norm_(parameters, max_norm, total)
            return (total, tuple(p.grad for p in parameters))
        if name in ("parameters_to_vector", "vector_to_parameters"):
            parameters = [
                lib.nn.Parameter(lib.tensor(_normal(seed + i, shape), dtype=getattr(lib, dtype)))
                for i, shape in enumerate(shapes)
            ]
            if name == "parameters_to_vector":
                vector = nn_utils.parameters_to_vector(parameters)
                return _with_gradients(lib, (vector,), parameters, seed)
            total = sum(int(np.prod(shape)) for shape in shapes) + (1 if flags[0] else 0)
            vector = lib.arange(float(total), dtype=getattr(lib, dtype))
            nn_utils.vector_to_parameters(vector, parameters)
            return tuple(p.detach() for p in parameters)
        rnn = nn_utils.rnn
        sequences = [
            lib.tensor(
                _normal(seed + i, (n, *feature)), dtype=getattr(lib, dtype), requires_grad=True
            )
            for i, n in enumerate(lengths)
        ]
        if name == "pad_sequence":
            options = {"batch_first": flags[0], "padding_value": [0.0, -1.5][int(flags[1])]}
            if flags[2]:
                options["padding_side"] = ["left", "right"][int(flags[3])]
            out = rnn.pad_sequence(sequences, **options)
            return _with_gradients(lib, (out,), sequences, seed)
        if name == "unpad_sequence":
            padded = rnn.pad_sequence(sequences, batch_first=flags[0])
            pieces = rnn.unpad_sequence(padded, lib.tensor(lengths), batch_first=flags[0])
            return _with_gradients(
                lib, (lib.cat([p.reshape(-1) for p in pieces]),), sequences, seed
            )
        if name == "pack_sequence":
            packed = rnn.pack_sequence(sequences, enforce_sorted=flags[0])
            unpacked = rnn.unpack_sequence(packed)
            data = packed.data
            return (*_with_gradients(lib, (data,), sequences, seed), packed.batch_sizes,
                    packed.sorted_indices, packed.unsorted_indices, tuple(unpacked))  # fmt: skip
        padded = rnn.pad_sequence(sequences, batch_first=flags[0])
        given = lib.tensor(lengths) if flags[1] else lengths
        packed = rnn.pack_padded_sequence(
            padded, given, batch_first=flags[0], enforce_sorted=flags[2]
        )
        total_length = max(lengths) + (1 if flags[3] else 0) if flags[4] else None
        out, out_lengths = rnn.pad_packed_sequence(
            packed, batch_first=flags[0], padding_value=-1.0, total_length=total_length
        )
        return (*_with_gradients(lib, (out,), sequences, seed), out_lengths, packed.batch_sizes)

    label = (
        f"{name} shapes={shapes} lengths={lengths} feature={feature} norm_type={norm_type} "
        f"max_norm={max_norm} flags={flags} special={special} ({dtype})"
    )
    return label, program


# ---- family: kernels over every dtype -----------------------------------------------------------
# Round three drew unary functions over every dtype; these are the products, decompositions,
# selections and multi-operand functions: the result's dtype and values, or PyTorch's refusal
# where it has no kernel for the dtype (bool products, integer norms and decompositions).

KERNEL_DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16",
                 "float32", "float64", "complex64", "complex128"]  # fmt: skip
KERNELS = ["matmul", "mm", "mv", "bmm", "dot", "inner", "outer", "kron", "einsum_sum",
           "einsum_contract", "einsum_diagonal", "tensordot", "cross", "det", "inv", "slogdet",
           "matrix_norm", "vector_norm", "cdist", "sum_dtype", "cumsum_dtype", "prod_dtype",
           "softmax_dtype", "topk", "kthvalue", "nanmedian", "quantile", "searchsorted",
           "bucketize", "histc", "diff", "clamp_tensors", "lerp", "addcmul", "addcdiv",
           "masked_fill", "scatter_add", "index_add", "gather", "take", "cummax", "logaddexp",
           "hypot", "atan2", "fmod_tensor", "remainder_tensor", "bitwise_and", "gcd", "minimum",
           "trapezoid", "cov", "var_mean", "nansum", "nanmean", "aminmax", "std_dtype",
           "renorm", "dist", "triu", "rot90", "vander", "block_diag", "cartesian_prod"]  # fmt: skip


def _draw_kernels(seed: int):
    rng = np.random.default_rng(seed)
    name = str(rng.choice(KERNELS))
    dtype = str(rng.choice(KERNEL_DTYPES))
    other_dtype = dtype if rng.random() < 0.8 else str(rng.choice(KERNEL_DTYPES))
    target = str(rng.choice(["float64", "int64", "float16", "complex64", "int32"]))

    def program(lib):
        kind, other_kind, to = getattr(lib, dtype), getattr(lib, other_dtype), getattr(lib, target)
        m = lib.tensor([[1, 2, 0], [0, 3, 1], [2, 0, 1]]).to(kind)
        o = lib.tensor([[2, 0, 1], [1, 1, 0], [0, 2, 3]]).to(other_kind)
        v = lib.tensor([1, 0, 2]).to(kind)
        w = lib.tensor([3, 1, 1]).to(other_kind)
        index = lib.tensor([0, 2, 2])
        calls = {
            "matmul": lambda: m @ o, "mm": lambda: lib.mm(m, o), "mv": lambda: lib.mv(m, w),
            "bmm": lambda: lib.bmm(m[None], o[None]), "dot": lambda: lib.dot(v, w),
            "inner": lambda: lib.inner(m, o), "outer": lambda: lib.outer(v, w),
            "kron": lambda: lib.kron(v, w), "einsum_sum": lambda: lib.einsum("ij->j", m),
            "einsum_contract": lambda: lib.einsum("ij,jk->ik", m, o),
            "einsum_diagonal": lambda: lib.einsum("ii->i", m),
            "tensordot": lambda: lib.tensordot(m, o, 1),
            "cross": lambda: lib.linalg.cross(m, o), "det": lambda: lib.linalg.det(m),
            "inv": lambda: lib.linalg.inv(m + lib.eye(3, dtype=kind)),
            "slogdet": lambda: tuple(lib.linalg.slogdet(m)),
            "matrix_norm": lambda: lib.linalg.matrix_norm(m),
            "vector_norm": lambda: lib.linalg.vector_norm(v),
            "cdist": lambda: lib.cdist(m[None], o[None]),
            "sum_dtype": lambda: lib.sum(m, 0, dtype=to),
            "cumsum_dtype": lambda: lib.cumsum(m, 1, dtype=to),
            "prod_dtype": lambda: lib.prod(m, dtype=to),
            "softmax_dtype": lambda: lib.softmax(m, 1, dtype=to),
            "topk": lambda: tuple(lib.topk(v, 2)), "kthvalue": lambda: tuple(lib.kthvalue(v, 2)),
            "nanmedian": lambda: lib.nanmedian(v), "quantile": lambda: lib.quantile(v, 0.5),
            "searchsorted": lambda: lib.searchsorted(lib.sort(v).values, w),
            "bucketize": lambda: lib.bucketize(w, lib.sort(v).values),
            "histc": lambda: lib.histc(v, bins=3), "diff": lambda: lib.diff(v),
            "clamp_tensors": lambda: lib.clamp(v, w - 2, w),
            "lerp": lambda: lib.lerp(v, w, 0.5), "addcmul": lambda: lib.addcmul(v, v, w),
            "addcdiv": lambda: lib.addcdiv(v, v, w),
            "masked_fill": lambda: v.masked_fill(v > 0, 2),
            "scatter_add": lambda: v.scatter_add(0, index, w),
            "index_add": lambda: v.index_add(0, index, w),
            "gather": lambda: lib.gather(v, 0, index), "take": lambda: lib.take(m, index),
            "cummax": lambda: tuple(lib.cummax(v, 0)), "logaddexp": lambda: lib.logaddexp(v, w),
            "hypot": lambda: lib.hypot(v, w), "atan2": lambda: lib.atan2(v, w),
            "fmod_tensor": lambda: lib.fmod(v, w), "remainder_tensor": lambda: lib.remainder(v, w),
            "bitwise_and": lambda: lib.bitwise_and(v, w), "gcd": lambda: lib.gcd(v, w),
            "minimum": lambda: lib.minimum(v, w), "trapezoid": lambda: lib.trapezoid(v),
            "cov": lambda: lib.cov(m), "var_mean": lambda: tuple(lib.var_mean(m, 0)),
            "nansum": lambda: lib.nansum(m), "nanmean": lambda: lib.nanmean(m),
            "aminmax": lambda: tuple(lib.aminmax(m)), "std_dtype": lambda: lib.std(m, 0),
            "renorm": lambda: lib.renorm(m, 2, 0, 1), "dist": lambda: lib.dist(v, w),
            "triu": lambda: lib.triu(m), "rot90": lambda: lib.rot90(m),
            "vander": lambda: lib.vander(v), "block_diag": lambda: lib.block_diag(m, o),
            "cartesian_prod": lambda: lib.cartesian_prod(v, w),
        }  # fmt: skip
        out = calls[name]()
        outs = out if isinstance(out, tuple) else (out,)
        return tuple(t.resolve_conj() for t in outs)

    label = f"{name}(<{dtype}>, <{other_dtype}>) to={target}"
    return label, program


# ---- family: conversions ----------------------------------------------------------------------
# A tensor of one dtype converted to another by .to, .type, a named method (.half(), .bool(),
# ...), copy_ into a tensor of the target dtype (broadcasting), or view(dtype) (the bits
# reinterpreted); values each pair defines: nan, infinities and signed zeros only between
# floating and complex types, an integer wrapping into a narrower or unsigned integer, anything
# nonzero into bool. (A float out of an integer's range converts as C++ leaves undefined.)

CONVERSIONS = ["to", "type", "method", "copy_", "copy_broadcast", "view_dtype", "to_copy"]
METHODS = {"float16": "half", "bfloat16": "bfloat16", "float32": "float", "float64": "double",
           "int8": "char", "uint8": "byte", "int16": "short", "int32": "int", "int64": "long",
           "bool": "bool", "complex64": "cfloat", "complex128": "cdouble"}  # fmt: skip


def _conversion_values(rng, source: str, target: str) -> list:
    values = [0, 1, 2, 7, 100]
    if source in ("int8", "int16", "int32", "int64"):
        values += [-1, -3, -100]
        if target in ("int8", "uint8", "int16", "int32", "int64", "bool"):
            values += [300, -300, 70000]  # integers wrap
    if source.startswith(("float", "bfloat", "complex")):
        values += [0.5, -0.0, 2.75, -1.5]
        if target.startswith(("float", "bfloat", "complex")):
            values += [float("nan"), float("inf"), -float("inf"), 1e-30, 1e30]
        if target in ("int8", "int16", "int32", "int64"):
            values += [-2.75, -100.5]
    if source.startswith("complex"):
        values += [1j, -2 + 0.5j] if target.startswith("complex") or target == "bool" else [1.5]
    if source == "bool":
        values = [0, 1]
    picked = rng.choice(len(values), size=min(len(values), 6), replace=False)
    return [values[i] for i in picked]


def _draw_conversions(seed: int):
    rng = np.random.default_rng(seed)
    source = str(rng.choice(KERNEL_DTYPES))
    target = str(rng.choice(KERNEL_DTYPES))
    how = str(rng.choice(CONVERSIONS))
    values = _conversion_values(rng, source, target)
    transposed = bool(rng.random() < 0.3)

    def program(lib):
        made = lib.tensor(values).to(getattr(lib, source))
        x = lib.stack([made, made.flip(0)]).t() if transposed else made
        kind = getattr(lib, target)
        if how == "to":
            out = x.to(kind)
        elif how == "to_copy":
            out = x.to(kind, copy=True)
            return (out, out.stride())
        elif how == "type":
            out = x.type(kind)
        elif how == "method":
            out = getattr(x, METHODS[target])()
        elif how == "copy_":
            out = lib.zeros(tuple(x.shape), dtype=kind).copy_(x)
        elif how == "copy_broadcast":
            out = lib.zeros((2, *x.shape), dtype=kind).copy_(x)
        else:
            out = x.view(kind)
            return (out, out.stride(), out.storage_offset())
        return (out.resolve_conj(),)

    label = f"{how} {source} -> {target} values={values} transposed={transposed}"
    return label, program


# ---- the tests -------------------------------------------------------------------------------

REGRESSIONS = {
    # vmap
    "max_and_argmax_along_dim_0_of_0_dim_examples": lambda lib: lib.func.vmap(
        lambda a: (a.max(0), a.argmin(-1, keepdim=True), a.max(-1, keepdim=True).indices)
    )(lib.tensor([3.0, -1.0, 2.0], requires_grad=True)),
    "vmap_refuses_a_none_output_with_an_int_out_dim": lambda lib: (
        _outcome(lambda: lib.func.vmap(lambda a: (a * 2, None))(lib.ones(2, 3))),
        _outcome(lambda: lib.func.vmap(lambda a: None)(lib.ones(2, 3))),
        lib.func.vmap(lambda a: (a * 2, None), out_dims=(0, None))(lib.ones(2, 3))[0],
    ),
    "reductions_over_0_dim_examples_keep_their_gradients": _reductions_of_0_dim_examples,
    "vmap_of_grad_through_an_in_place_op_on_a_copy": lambda lib: tuple(
        lib.func.vmap(lib.func.grad(f))(lib.tensor([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]]))
        for f in [
            lambda r: r.clone().mul_(2).sin().sum(),
            lambda r: (r * 1).exp_().sum(),
            lambda r: (lambda b: (b.__setitem__(1, r[2] ** 2), b.sum())[1])(r.clone()),
        ]
    ),
    # transforms: what they refuse, with PyTorch's exception types
    "transforms_refuse_a_none_output": lambda lib: tuple(
        _outcome(call)
        for call in [
            lambda: lib.func.jacrev(lambda a: (a * 2, None))(lib.ones(2)),
            lambda: lib.func.jacfwd(lambda a: (a * 2, None))(lib.ones(2)),
            lambda: lib.func.vjp(lambda a: (a * 2, None), lib.ones(2)),
            lambda: lib.func.jvp(lambda a: (a * 2, None), (lib.ones(2),), (lib.ones(2),)),
        ]
    ),
    "grad_of_a_tuple_output": lambda lib: lib.func.grad(lambda a: (a.sum(), a))(lib.ones(2)),
    "grad_of_a_one_element_vector": lambda lib: lib.func.grad(lambda a: a.sum().reshape(1))(
        lib.ones(2)
    ),
    "grad_without_the_aux_pair": lambda lib: lib.func.grad(lambda a: a.sum(), has_aux=True)(
        lib.ones(2)
    ),
    "argnums_out_of_range": lambda lib: lib.func.jacrev(lambda a, b: a * b, argnums=2)(
        lib.ones(2), lib.ones(2)
    ),
    "argnums_repeated": lambda lib: lib.func.grad(lambda a, b: (a * b).sum(), argnums=(0, -2))(
        lib.ones(2), lib.ones(2)
    ),
    "argnums_empty": lambda lib: lib.func.grad(lambda a: a.sum(), argnums=())(lib.ones(2)),
    "argnums_of_a_float": lambda lib: lib.func.grad(lambda a: a.sum(), argnums=0.0)(lib.ones(2)),
    "vjp_of_an_integer_output": lambda lib: lib.func.vjp(lambda a: (a * 2, a.long()), lib.ones(2)),
    "jacrev_of_an_integer_output": lambda lib: lib.func.jacrev(lambda a: a.argmax())(lib.ones(2)),
    "jacrev_of_an_empty_float32_output": lambda lib: lib.func.jacrev(
        lambda a: (a * 2, lib.tensor([]))
    )(lib.ones(2, dtype=lib.float64)),
    "forward_transforms_of_integer_primals": lambda lib: (
        _outcome(lambda: lib.func.jvp(lambda a: a * 1.0, (lib.tensor([1, 2]),), (lib.ones(2),))),
        _outcome(lambda: lib.func.jacfwd(lambda a: a * 1.0)(lib.tensor([1, 2]))),
        _outcome(lambda: lib.func.hessian(lambda a: a.sum())(lib.tensor([1, 2]))),
        _outcome(lambda: lib.func.linearize(lambda a: a * 1.0, lib.tensor([1, 2]))),
    ),
    "make_dual_of_an_integer_tangent": _make_dual_of_an_integer_tangent,
    "maximum_tangent_of_a_0_dim_operand_keeps_float64": lambda lib: tuple(
        lib.func.jvp(
            f,
            (lib.tensor([[-3.0, 1.0]], dtype=lib.float64), lib.tensor(0.1, dtype=lib.float64)),
            (lib.ones(1, 2, dtype=lib.float64), lib.tensor(-0.1234567890123, dtype=lib.float64)),
        )[1]
        for f in (lib.maximum, lib.minimum)
    ),  # fmt: skip
    "jacrev_of_a_transposed_output": lambda lib: (
        lib.func.jacrev(lambda a: a.movedim(0, -1) * 2)(lib.arange(6.0).reshape(2, 3)),
        lib.func.jacrev(lambda a: a.t().sin())(lib.arange(4.0).reshape(2, 2)),
    ),
    "functional_jvp_strict_refuses_a_constant_jacobian_with_create_graph": lambda lib: tuple(
        _outcome(
            lambda f=f: lib.autograd.functional.jvp(
                f, lib.tensor([0.5, 2.0]), lib.ones(2), create_graph=True, strict=True
            )
        )
        for f in (lambda a: a * 2, lambda a: lib.maximum(a, lib.ones(2)), lambda a: a.sin())
    ),  # fmt: skip
    "functional_jvp_strict_with_an_unused_input": lambda lib: lib.autograd.functional.jvp(
        lambda a, b: a * 2, (lib.ones(2), lib.ones(2)), (lib.ones(2), lib.ones(2)), strict=True
    ),
    "functional_jvp_strict_with_every_input_used": lambda lib: lib.autograd.functional.jvp(
        lambda a, b: a * b, (lib.ones(2), lib.ones(2)), (lib.ones(2), lib.ones(2)), strict=True
    ),
    "functional_jacobian_of_an_unknown_strategy": lambda lib: lib.autograd.functional.jacobian(
        lambda a: a * 2, lib.ones(2), strategy="sideways"
    ),
    "functional_hessian_of_an_unknown_strategy": lambda lib: lib.autograd.functional.hessian(
        lambda a: (a * a).sum(), lib.ones(2), outer_jacobian_strategy="sideways"
    ),
    # reducing scatters and index ops
    "index_add_casts_alpha_to_an_integer_dtype": lambda lib: tuple(
        lib.tensor(x, dtype=getattr(lib, dtype)).index_add(
            0, lib.tensor([0, 0]), lib.tensor([1, 2], dtype=getattr(lib, dtype)), alpha=alpha
        )
        for dtype, x, alpha in [
            ("int64", [3], 0.5),
            ("int64", [3], 1.7),
            ("int64", [3], -1.7),
            ("uint8", [200], 0.5),
            ("int32", [-1], -0.25),
            ("bool", [False], -1),
            ("bool", [True], 0.5),
        ]  # fmt: skip
    ),
    "take_refuses_an_int32_index": lambda lib: lib.take(
        lib.zeros(3), lib.tensor([0], dtype=lib.int32)
    ),
    "take_along_dim_refuses_an_int32_index": lambda lib: lib.take_along_dim(
        lib.zeros(3), lib.tensor([0], dtype=lib.int32), 0
    ),
    "put_refuses_an_int32_index": lambda lib: lib.zeros(3).put_(
        lib.tensor([0], dtype=lib.int32), lib.ones(1)
    ),
    "index_copy_refuses_an_int32_index_before_its_range": lambda lib: lib.zeros(3).index_copy(
        0, lib.tensor([5], dtype=lib.int32), lib.ones(1)
    ),
    "index_fill_refuses_an_int16_index": lambda lib: lib.zeros(3).index_fill(
        0, lib.tensor([0], dtype=lib.int16), 1.0
    ),
    "int32_indices_where_pytorch_takes_them": lambda lib: (
        lib.zeros(3).index_select(0, lib.tensor([2, 0], dtype=lib.int32)),
        lib.zeros(3).index_add(0, lib.tensor([2, 2], dtype=lib.int32), lib.ones(2)),
        lib.zeros(3).scatter_add(0, lib.tensor([1], dtype=lib.int32), lib.ones(1)),
        lib.arange(3.0).gather(0, lib.tensor([2], dtype=lib.int32)),
    ),
    "index_copy_into_a_0_dim_tensor": lambda lib: tuple(
        _outcome(
            lambda i=index, s=source: lib.tensor(5.0).index_copy(0, lib.tensor(i), lib.tensor(s))
        )
        for index, source in [
            ([0], 1.0),
            ([0], [1.0]),
            ([0, 0], [1.0, 2.0]),
            ([0], [1.0, 2.0]),
            ([0, 0], 1.0),
            ([-1], [1.0]),
        ]  # fmt: skip
    ),
    "index_copy_refuses_a_negative_index": lambda lib: lib.zeros(3).index_copy(
        0, lib.tensor([-1]), lib.ones(1)
    ),
    "scatter_and_index_reduce_in_place_on_a_0_dim_tensor": _reduced_in_place_0_dim,
    # composite utilities
    "addmm_family_truncates_float_scales_for_integer_inputs": lambda lib: (
        lib.addmm(*[lib.ones(2, 2, dtype=lib.int32)] * 3, beta=1.7, alpha=-1.7),
        lib.addmv(
            lib.ones(2, dtype=lib.int32),
            lib.ones(2, 2, dtype=lib.int32),
            lib.ones(2, dtype=lib.int32),
            beta=0.5,
        ),
        lib.baddbmm(*[lib.ones(2, 2, 2, dtype=lib.int64)] * 3, alpha=0.5),
        lib.addbmm(
            lib.ones(2, 2, dtype=lib.int64), *[lib.ones(2, 2, 2, dtype=lib.int64)] * 2, beta=0.5
        ),
        _outcome(
            lambda: lib.addr(
                lib.ones(2, 2, dtype=lib.int32),
                lib.ones(2, dtype=lib.int32),
                lib.ones(2, dtype=lib.int32),
                beta=0.5,
            )
        ),
    ),  # fmt: skip
    "addmm_family_in_half_precision_rounds_once": _addmm_family_in_half_precision,
    "diff_of_order_0_leaves_prepend_and_append_out": lambda lib: lib.diff(
        lib.tensor([1.0, 3.0], requires_grad=True), n=0, prepend=lib.zeros(1), append=lib.ones(2)
    ),
    "histc_refusals_are_runtime_errors": lambda lib: (
        _outcome(lambda: lib.histc(lib.ones(2), min=2, max=1)),
        _outcome(lambda: lib.histc(lib.ones(2), bins=0)),
    ),
    "cumulative_trapezoid_refuses_bool_and_0_dim": lambda lib: (
        _outcome(lambda: lib.cumulative_trapezoid(lib.tensor([True, False]))),
        _outcome(lambda: lib.cumulative_trapezoid(lib.ones(2), lib.tensor([True, False]))),
        _outcome(lambda: lib.cumulative_trapezoid(lib.tensor(1.0))),
    ),
    "vander_of_one_column_and_of_bools": lambda lib: (
        lib.vander(lib.tensor([1.0, 2.0], requires_grad=True), N=1),
        lib.vander(lib.tensor([3.0], requires_grad=True)),
        lib.vander(lib.tensor([True, False])),
        lib.vander(lib.tensor([], dtype=lib.bool)),
        lib.vander(lib.tensor([2, 3], dtype=lib.int32), N=1),
    ),
    "cov_and_corrcoef_of_integers": lambda lib: (
        lib.cov(lib.tensor([1, 2, 4])),
        lib.cov(lib.tensor([[1, 2, 5], [0, 1, 1]], dtype=lib.uint8)),
        lib.corrcoef(lib.tensor([[1, 2, 4], [3, 1, 0]])),
        lib.cov(lib.tensor([1, 2]), aweights=lib.tensor([1.0, 2.0], dtype=lib.float64)),
    ),
    "cov_weight_refusals": lambda lib: tuple(
        _outcome(lambda weights=weights: lib.cov(lib.tensor([1.0, 2.0]), **weights))
        for weights in [
            {"aweights": lib.tensor([1, 2])},
            {"fweights": lib.tensor([1.0, 2.0])},
            {"fweights": lib.tensor([True, True])},
            {"fweights": lib.tensor([-1, 2])},
            {"aweights": lib.tensor([-1.0, 2.0])},
            {"fweights": lib.tensor([0, 0])},
            {"fweights": lib.tensor([[1, 1]])},
            {"fweights": lib.tensor([1, 1, 1])},
        ]  # fmt: skip
    ),
    "cov_without_degrees_of_freedom_divides_by_positive_zero": lambda lib: lib.cov(
        lib.tensor([[1.0, 3.0], [2.0, -1.0]]), correction=2, aweights=lib.tensor([1.0, 3.0])
    ),
    "renorm_of_an_all_zero_slice_has_a_finite_gradient": _renorm_of_a_zero_slice,
    "tensordot_broadcasts_a_size_1_contracted_dim": lambda lib: (
        _with_gradients(
            lib,
            (
                lib.tensordot(
                    lib.arange(3.0).reshape(1, 3).requires_grad_(),
                    lib.arange(6.0).reshape(3, 1, 2),
                    dims=2,
                ),
            ),
            [],
            0,
        ),
        lib.tensordot(lib.ones(2, 1, dtype=lib.int32), lib.ones(3, 4, dtype=lib.int32), ([1], [0])),
    ),  # fmt: skip
    "inner_of_a_0_dim_operand_promotes": lambda lib: (
        lib.inner(lib.tensor(True), lib.tensor([1, 2], dtype=lib.int32)),
        lib.inner(lib.tensor([1.0, 2.0]), lib.tensor(2, dtype=lib.int32)),
        _outcome(lambda: lib.inner(lib.tensor([1.0]), lib.tensor([1], dtype=lib.int32))),
    ),
    "products_refuse_bool": lambda lib: tuple(
        _outcome(lambda call=call: call(lib.tensor([True, False]), lib.ones(2, 2, dtype=lib.bool)))
        for call in [
            lambda b, m: b @ b,
            lambda b, m: lib.mm(m, m),
            lambda b, m: lib.mv(m, b),
            lambda b, m: lib.bmm(m[None], m[None]),
            lambda b, m: lib.dot(b, b),
            lambda b, m: lib.vdot(b, b),
            lambda b, m: lib.inner(b, b),
            lambda b, m: lib.tensordot(b, b, 1),
            lambda b, m: lib.trace(m),
            lambda b, m: lib.linalg.multi_dot([m, m]),
            lambda b, m: lib.einsum("ij,jk->ik", m, m),
            lambda b, m: lib.outer(b, b),
            lambda b, m: lib.kron(b, b),
        ]  # fmt: skip
    ),
    "einsum_of_integers_sums_into_int64": lambda lib: (
        tuple(
            lib.einsum(equation, *[lib.ones(2, 3, dtype=getattr(lib, dtype))] * count).dtype
            for dtype in ("int32", "uint8", "bool")
            for equation, count in [("ij->", 1), ("ij->i", 1), ("ij,ij->ij", 2), ("ij->ji", 1)]
        )
        + (
            lib.einsum("ij,ij->i", *[lib.ones(2, 3, dtype=lib.int16)] * 2).dtype,
            lib.einsum("ii->", lib.ones(2, 2, dtype=lib.int32)).dtype,
        )
    ),  # fmt: skip
    "broadcast_shapes_takes_an_int_as_a_1_dim_shape": lambda lib: (
        tuple(lib.broadcast_shapes(3, (2, 1))),
        tuple(lib.broadcast_shapes((2, 1), 1)),
        _outcome(lambda: lib.broadcast_shapes(2, 3)),
    ),
    "vecdot_refuses_integers": lambda lib: lib.linalg.vecdot(
        lib.tensor([1, 2]), lib.tensor([1, 2])
    ),
    "float_only_binary_ops_refuse_two_integer_tensors": lambda lib: (
        tuple(
            _outcome(
                lambda name=name, kind=kind: getattr(lib, name)(
                    lib.tensor([1, 2], dtype=kind), lib.tensor([1, 2], dtype=kind)
                )
            )
            for name in ("hypot", "logaddexp", "logaddexp2")
            for kind in (lib.int64, lib.uint8, lib.bool)
        )
        + (lib.hypot(lib.tensor([3, 4]), lib.tensor([4.0, 3.0])),)
    ),  # fmt: skip
    "searchsorted_of_bool_beside_another_dtype": lambda lib: tuple(
        _outcome(
            lambda a=a, b=b: lib.searchsorted(
                lib.tensor([False, True]).to(a), lib.tensor([1, 0]).to(b)
            )
        )
        for a, b in [(lib.bool, lib.bool), (lib.bool, lib.float16), (lib.int64, lib.bool)]
    ),  # fmt: skip
    "complex_to_bool_asks_either_part": lambda lib: (
        lib.tensor([0j, 1j, 1 + 0j, complex(float("nan"), 0)]).bool(),
        lib.zeros(2, dtype=lib.bool).copy_(lib.tensor([1j, 0j])),
    ),
    "attention_refuses_a_mask_with_is_causal": lambda lib: (
        lib.nn.functional.scaled_dot_product_attention(
            *[lib.ones(1, 2, 3)] * 3, attn_mask=lib.ones(2, 2, dtype=lib.bool), is_causal=True
        )
    ),
    "matrix_norm_dtype_refusals": lambda lib: tuple(
        _outcome(lambda call=call: call(lib.eye(2, dtype=lib.float64)).dtype)
        for call in [
            lambda a: lib.linalg.matrix_norm(a, dtype=lib.float32),
            lambda a: lib.linalg.matrix_norm(a, "nuc", dtype=lib.float32),
            lambda a: lib.linalg.matrix_norm(a, dtype=lib.complex128),
            lambda a: lib.linalg.matrix_norm(a, dtype=lib.int64),
            lambda a: lib.linalg.matrix_norm(a.to(lib.complex64), dtype=lib.float64),
            lambda a: lib.linalg.matrix_norm(a.to(lib.complex64), dtype=lib.complex128),
            lambda a: lib.linalg.matrix_norm(a.long(), dtype=lib.float64),
            lambda a: lib.linalg.norm(a, dtype=lib.float32),
            lambda a: lib.linalg.norm(a, 2, dtype=lib.float32),
            lambda a: lib.linalg.norm(a.half(), dtype=lib.float32),
            lambda a: lib.linalg.matrix_norm(a.float(), dtype=lib.float64),
        ]
    ),
    # random factories
    "randint_bounds_for_the_dtype": lambda lib: tuple(
        _outcome(lambda call=call: call().dtype)
        for call in [
            lambda: lib.randint(-1, 5, (2,), dtype=lib.uint8),
            lambda: lib.randint(0, 3, (2,), dtype=lib.bool),
            lambda: lib.randint(0, 2, (2,), dtype=lib.bool),
            lambda: lib.randint(0, 200, (2,), dtype=lib.int8),
            lambda: lib.randint(0, 3, (2,), dtype=lib.complex64),
            lambda: lib.randint_like(lib.ones(2, dtype=lib.uint8), -1, 3),
            lambda: lib.zeros(2, dtype=lib.bool).random_(5, 8),
            lambda: lib.zeros(2, dtype=lib.float16).random_(0, 5000),
        ]
    ),
    "bernoulli_probabilities_outside_0_1": lambda lib: tuple(
        _outcome(lambda call=call: call().dtype)
        for call in [
            lambda: lib.ones(2).bernoulli(p=1.5),
            lambda: lib.ones(2).bernoulli_(-0.5),
            lambda: lib.bernoulli(lib.full((2,), 1.5)),
            lambda: lib.ones(2).bernoulli_(lib.tensor([0.5, 2.0])),
            lambda: lib.bernoulli(lib.ones(2, dtype=lib.int64)),
            lambda: lib.ones(2, dtype=lib.int64).bernoulli(0.5),
        ]
    ),
    "normal_of_two_tensors_keeps_the_mean_dtype": lambda lib: tuple(
        lib.normal(lib.ones(2, dtype=getattr(lib, a)), lib.ones(2, dtype=getattr(lib, b))).dtype
        for a, b in [("float16", "float32"), ("float16", "float64"), ("bfloat16", "float16")]
    ),
    # creation
    "negative_floats_into_uint8": lambda lib: tuple(
        _outcome(lambda data=data: lib.tensor(data, dtype=lib.uint8))
        for data in [
            -2.0,
            [1.0, -2.0],
            [1, -2.0],
            [[1, -2], [3, 4.0]],
            (-3, 1.0),
            [-1, 2.5],
            np.float64(-1.0),
            np.array([-2.0]),
        ]  # fmt: skip
    ),
}

FAMILIES = {
    "vmap": (_draw_vmap, 200),
    "transforms": (_draw_transforms, 200),
    "reducing": (_draw_reducing, 200),
    "composites": (_draw_composites, 250),
    "complex": (_draw_complex, 250),
    "random": (_draw_random, 250),
    "nn_utils": (_draw_nn_utils, 200),
    "kernels": (_draw_kernels, 300),
    "conversions": (_draw_conversions, 200),
}


def test_vmap_of_grad_through_a_write_into_a_view_agrees_with_pytorch():
    def program(lib):
        def f(r):
            b = r.clone()
            b[0:2].mul_(3)
            return (b * b).sum()

        return lib.func.vmap(lib.func.grad(f))(lib.tensor([[0.5, -1.0, 2.0], [1.5, 0.3, -0.7]]))

    check_program("vmap_grad_write_into_a_view", program)


@pytest.mark.parametrize("name", sorted(REGRESSIONS))
def test_a_program_this_round_found_agrees_with_pytorch(name):
    check_program(name, REGRESSIONS[name])


@pytest.mark.parametrize("family, seed", **family_cases(FAMILIES))
def test_a_random_program_agrees_with_pytorch(family, seed):
    run_family_case(FAMILIES, family, seed)


if __name__ == "__main__":
    main(FAMILIES, sys.argv)
