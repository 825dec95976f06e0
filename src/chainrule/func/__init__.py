"""Function transforms with torch.func's names: grad, grad_and_value, vjp, jacrev, hessian,
vmap, functional_call.

Transforms run on the same recording engine as `backward()`. Each transform differentiates
with respect to fresh aliases of its inputs and keeps the graph whenever an enclosing
transform (or the caller) may differentiate the result again, so transforms nest:
`grad(grad(f))`, `jacrev(jacrev(f))`, `vmap(grad(f))`.

Inputs may be tensors, NumPy arrays or Python numbers, in nested tuples / lists / dicts.
Where an input was a NumPy array, the matching result is a NumPy array too, as HIPS autograd
users expect.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import chainrule
from chainrule._tensor import Tensor
from chainrule.autograd import api, grad_mode
from chainrule.backend import is_array
from chainrule.errors import ShapeError
from chainrule.func.pytree import tree_flatten, tree_map, tree_unflatten

__all__ = [
    "functional_call",
    "grad",
    "grad_and_value",
    "hessian",
    "jacrev",
    "tree_flatten",
    "tree_map",
    "tree_unflatten",
    "vjp",
    "vmap",
]


def _as_tensor(value: Any) -> Tensor:
    if isinstance(value, Tensor):
        return value
    if is_array(value):
        return chainrule.from_numpy(value) if value.dtype.kind == "f" else chainrule.tensor(value)
    return chainrule.tensor(value, dtype=chainrule.float64 if isinstance(value, float) else None)


def _differentiable_alias(value: Any) -> Tensor:
    """A tensor to differentiate with respect to: connected to `value`'s graph when `value`
    is already being differentiated by an enclosing transform, a fresh leaf otherwise."""
    tensor = _as_tensor(value)
    if not tensor.is_floating_point():
        raise TypeError(
            f"can only differentiate with respect to floating tensors, got {tensor.dtype}"
        )
    if tensor.requires_grad:
        return tensor.view_as(tensor)
    return tensor.detach().requires_grad_(True)


def _restore_kind(result: Any, original: Any) -> Any:
    """NumPy in, NumPy out: a gradient for an ndarray input is returned as an ndarray."""
    if result is not None and is_array(original) and not result.requires_grad:
        return result.numpy()
    if result is not None and isinstance(original, float) and not result.requires_grad:
        return result.item()
    return result


def _argnums_tuple(argnums: int | tuple[int, ...], n_args: int) -> tuple[int, ...]:
    numbers = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for number in numbers:
        if not -n_args <= number < n_args:
            raise ValueError(
                f"argnums {number} is out of range for a function of {n_args} arguments"
            )
    return tuple(n % n_args for n in numbers)


def _split_output(output: Any, has_aux: bool, name: str) -> tuple[Any, Any]:
    if not has_aux:
        return output, None
    if not isinstance(output, tuple) or len(output) != 2:
        raise TypeError(f"{name}(f, has_aux=True): f must return a (output, aux) tuple")
    return output


def _keep_graph(leaves: Sequence[Any]) -> bool:
    """Record the derivative computation when something outside may differentiate it."""
    return grad_mode.is_grad_enabled() and any(
        isinstance(v, Tensor) and v.requires_grad for v in leaves
    )


def grad_and_value(
    func: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False
) -> Callable:
    """Like `grad`, but the wrapped function returns `(gradient, value)` (or
    `(gradient, (value, aux))` with has_aux)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        numbers = _argnums_tuple(argnums, len(args))
        originals = [args[n] for n in numbers]
        flat = [tree_flatten(a) for a in originals]
        keep = _keep_graph([leaf for leaves, _ in flat for leaf in leaves])
        aliases = [[_differentiable_alias(leaf) for leaf in leaves] for leaves, _ in flat]
        new_args = list(args)
        for number, leaves, (_, spec) in zip(numbers, aliases, flat):
            new_args[number] = tree_unflatten(leaves, spec)
        with grad_mode.enable_grad():
            output, aux = _split_output(func(*new_args, **kwargs), has_aux, "grad")
            if not isinstance(output, Tensor) or output.numel() != 1:
                shape = getattr(output, "shape", type(output).__name__)
                raise ShapeError(f"grad: f must return a scalar tensor, got {shape}")
            wanted = [leaf for leaves in aliases for leaf in leaves]
            grads = (
                api.grad(
                    output, wanted, create_graph=keep, allow_unused=True, materialize_grads=True
                )
                if output.requires_grad
                else [chainrule.zeros_like(w) for w in wanted]
            )
        results, position = [], 0
        for (leaves, spec), original_leaves in zip(flat, (f for f, _ in flat)):
            count = len(leaves)
            chunk = [
                _restore_kind(g, o)
                for g, o in zip(grads[position : position + count], original_leaves)
            ]
            results.append(tree_unflatten(chunk, spec))
            position += count
        gradient = results[0] if isinstance(argnums, int) else tuple(results)
        value = output if keep else output.detach()
        return (gradient, (value, aux)) if has_aux else (gradient, value)

    return wrapper


def grad(func: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False) -> Callable:
    """The gradient of a scalar function with respect to argument(s) `argnums`.

    >>> import chainrule
    >>> from chainrule.func import grad
    >>> grad(lambda x: (x ** 3).sum())(chainrule.tensor([1.0, 2.0]))
    tensor([ 3., 12.])
    >>> grad(grad(lambda x: x ** 3))(chainrule.tensor(2.0))   # 6x
    tensor(12.)
    """
    inner = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        gradient, value = inner(*args, **kwargs)
        return (gradient, value[1]) if has_aux else gradient

    return wrapper


def vjp(func: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """`(output, vjp_fn)`; `vjp_fn(cotangents)` gives one gradient per primal."""
    flat = [tree_flatten(p) for p in primals]
    keep = _keep_graph([leaf for leaves, _ in flat for leaf in leaves])
    aliases = [[_differentiable_alias(leaf) for leaf in leaves] for leaves, _ in flat]
    new_primals = [tree_unflatten(leaves, spec) for leaves, (_, spec) in zip(aliases, flat)]
    with grad_mode.enable_grad():
        output, aux = _split_output(func(*new_primals), has_aux, "vjp")
    out_leaves, out_spec = tree_flatten(output)

    def vjp_fn(cotangents: Any) -> tuple:
        cot_leaves, cot_spec = tree_flatten(cotangents)
        if cot_spec != out_spec:
            raise ShapeError("vjp: the cotangents must have the same structure as the output")
        wanted = [leaf for leaves in aliases for leaf in leaves]
        pairs = [(o, _as_tensor(c)) for o, c in zip(out_leaves, cot_leaves) if o.requires_grad]
        with grad_mode.enable_grad():
            grads = (
                api.grad(
                    [o for o, _ in pairs],
                    wanted,
                    [c for _, c in pairs],
                    retain_graph=True,
                    create_graph=keep or _keep_graph(cot_leaves),
                    allow_unused=True,
                    materialize_grads=True,
                )
                if pairs
                else [chainrule.zeros_like(w) for w in wanted]
            )
        results, position = [], 0
        for leaves, spec in flat:
            chunk = [
                _restore_kind(g, o)
                for g, o in zip(grads[position : position + len(leaves)], leaves)
            ]
            results.append(tree_unflatten(chunk, spec))
            position += len(leaves)
        return tuple(results)

    result_output = (
        output if keep else tree_map(lambda t: t.detach() if isinstance(t, Tensor) else t, output)
    )
    return (result_output, vjp_fn, aux) if has_aux else (result_output, vjp_fn)


def jacrev(func: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False) -> Callable:
    """The Jacobian by reverse mode: one vjp per output element. Its shape is
    output.shape + input.shape, as in torch.func."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        numbers = _argnums_tuple(argnums, len(args))

        def restricted(*chosen: Any) -> Any:
            new_args = list(args)
            for number, value in zip(numbers, chosen):
                new_args[number] = value
            return func(*new_args, **kwargs)

        primals = [args[n] for n in numbers]
        result = vjp(restricted, *primals, has_aux=has_aux)
        output, vjp_fn = result[0], result[1]
        if not isinstance(output, Tensor):
            raise TypeError("jacrev: f must return a single tensor")
        rows = []
        size = output.numel()
        for element in range(size):
            basis = chainrule.zeros(size, dtype=output.dtype)
            basis[element] = 1.0
            rows.append(vjp_fn(basis.reshape(output.shape)))
        jacobians = []
        for index, primal in enumerate(primals):
            primal_tensor = _as_tensor(primal)
            stacked = (
                chainrule.stack([_as_tensor(row[index]) for row in rows])
                if rows
                else (chainrule.zeros((0,) + tuple(primal_tensor.shape), dtype=output.dtype))
            )
            jacobian = stacked.reshape(tuple(output.shape) + tuple(primal_tensor.shape))
            jacobians.append(_restore_kind(jacobian, primal))
        jacobian = jacobians[0] if isinstance(argnums, int) else tuple(jacobians)
        return (jacobian, result[2]) if has_aux else jacobian

    return wrapper


def hessian(func: Callable, argnums: int | tuple[int, ...] = 0) -> Callable:
    """The Hessian of a scalar function: the Jacobian of its gradient."""
    return jacrev(jacrev(func, argnums), argnums)


def vmap(
    func: Callable,
    in_dims: Any = 0,
    out_dims: Any = 0,
    randomness: str = "error",
    *,
    chunk_size: int | None = None,
) -> Callable:
    """Map `func` over a batch dimension of its inputs.

    This version evaluates `func` once per batch element and stacks the results (correct for
    any function, including transforms inside; not yet per-op batching rules).
    """

    @functools.wraps(func)
    def wrapper(*args: Any) -> Any:
        dims = in_dims if isinstance(in_dims, (tuple, list)) else (in_dims,) * len(args)
        if len(dims) != len(args):
            raise ValueError(f"vmap: in_dims has {len(dims)} entries for {len(args)} arguments")
        sizes = {
            _as_tensor(leaf).shape[d]
            for arg, d in zip(args, dims)
            if d is not None
            for leaf in tree_flatten(arg)[0]
        }
        if len(sizes) != 1:
            raise ShapeError(f"vmap: inputs must share one batch size, got sizes {sorted(sizes)}")
        (size,) = sizes
        results = []
        for index in range(size):
            sliced = [
                arg
                if d is None
                else tree_map(lambda t, d=d, i=index: _select(_as_tensor(t), d, i), arg)
                for arg, d in zip(args, dims)
            ]
            results.append(func(*sliced))
        leaves_per_call = [tree_flatten(r) for r in results]
        spec = leaves_per_call[0][1]
        columns = list(zip(*(leaves for leaves, _ in leaves_per_call)))
        dims_out = out_dims if isinstance(out_dims, (tuple, list)) else (out_dims,) * len(columns)
        stacked = [
            chainrule.stack([_as_tensor(v) for v in column], dim=d)
            for column, d in zip(columns, dims_out)
        ]
        return tree_unflatten(stacked, spec)

    return wrapper


def _select(tensor: Tensor, dim: int, index: int) -> Tensor:
    dim = dim % tensor.ndim
    return tensor[(slice(None),) * dim + (index,)]


def functional_call(
    module: Any,
    parameter_and_buffer_dicts: Any,
    args: Any = (),
    kwargs: dict | None = None,
    *,
    strict: bool = False,
) -> Any:
    """Call `module` with its parameters and buffers replaced by the given tensors, so a loss
    can be differentiated as a function of them. The module is restored afterwards."""
    dicts = parameter_and_buffer_dicts
    if isinstance(dicts, (tuple, list)):
        merged: dict = {}
        for item in dicts:
            merged.update(item)
        dicts = merged
    if strict:
        expected = set(dict(module.named_parameters())) | set(dict(module.named_buffers()))
        missing, unexpected = expected - set(dicts), set(dicts) - expected
        if missing or unexpected:
            raise KeyError(
                f"functional_call: missing keys {sorted(missing)}, unexpected {sorted(unexpected)}"
            )
    saved = []
    try:
        for name, value in dicts.items():
            owner_path, _, attribute = name.rpartition(".")
            owner = module.get_submodule(owner_path) if owner_path else module
            table = owner._parameters if attribute in owner._parameters else owner._buffers
            if attribute not in table:
                raise KeyError(
                    f"functional_call: {type(module).__name__} has no parameter or buffer {name!r}"
                )
            saved.append((table, attribute, table[attribute]))
            table[attribute] = _as_tensor(value)
        positional = args if isinstance(args, tuple) else (args,)
        return module(*positional, **(kwargs or {}))
    finally:
        for table, attribute, original in reversed(saved):
            table[attribute] = original
