"""Function transforms with torch.func's names: grad, grad_and_value, vjp, jvp, jacrev, jacfwd,
hessian, linearize, vmap, functional_call.

Reverse transforms (grad, vjp, jacrev) run on the same recording engine as `backward()`: each
differentiates with respect to fresh aliases of its inputs and keeps the graph whenever an
enclosing transform (or the caller) may differentiate the result again. Forward transforms
(jvp, jacfwd, linearize) push tangents through dual tensors (chainrule.autograd.forward_ad),
each op's jvp rule running next to its forward. The two compose: `hessian` is
`jacfwd(jacrev(f))` (forward over reverse, as torch.func), and `grad(grad(f))`,
`jacrev(jacfwd(f))`, `vmap(grad(f))` work. Forward over forward (`jacfwd(jacfwd(f))`,
`jvp` inside `jvp`) is not supported: one dual level at a time, as torch.autograd.forward_ad.

Inputs may be tensors, NumPy arrays or Python numbers, in nested tuples / lists / dicts.
Where an input was a NumPy array, the matching result is a NumPy array too, as HIPS autograd
users expect.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable, Sequence
from typing import Any

import chainrule
from chainrule._tensor import Tensor
from chainrule.autograd import api, grad_mode
from chainrule.autograd import forward_ad as fwAD
from chainrule.backend import is_array
from chainrule.errors import GradError, ShapeError
from chainrule.func.pytree import tree_flatten, tree_map, tree_unflatten

__all__ = [
    "functional_call",
    "grad",
    "grad_and_value",
    "hessian",
    "jacfwd",
    "jacrev",
    "jvp",
    "linearize",
    "tree_flatten",
    "tree_map",
    "tree_unflatten",
    "vjp",
    "vmap",
]


# ---- inputs and results ----------------------------------------------------------------------


def _as_tensor(value: Any) -> Tensor:
    if isinstance(value, Tensor):
        return value
    if is_array(value):
        return chainrule.from_numpy(value) if value.dtype.kind == "f" else chainrule.tensor(value)
    return chainrule.tensor(value, dtype=chainrule.float64 if isinstance(value, float) else None)


def _with_tangent_of(source: Tensor, alias: Tensor) -> Tensor:
    """`alias` (the same values as `source`) given `source`'s tangent, so a reverse transform
    run inside a forward one (jvp of grad) still sees the tangent its inputs carry."""
    tangent = fwAD.tangent_of(source)
    if tangent is not None:
        fwAD.set_tangent(alias, tangent)
    return alias


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
    return _with_tangent_of(tensor, tensor.detach().requires_grad_(True))


def _detached(value: Any) -> Any:
    """`value` cut from the graph, keeping its tangent (if any) for an enclosing jvp."""
    if not isinstance(value, Tensor):
        return value
    return _with_tangent_of(value, value.detach())


def _restore_kind(result: Any, original: Any) -> Any:
    """NumPy in, NumPy out: a result for an ndarray input is returned as an ndarray (and a
    float for a float), unless an enclosing transform still differentiates it."""
    if result is None or not isinstance(result, Tensor) or _is_traced(result):
        return result
    if is_array(original):
        return result.numpy()
    if isinstance(original, float):
        return result.item()
    return result


def _is_traced(tensor: Tensor) -> bool:
    return tensor.requires_grad or fwAD.tangent_of(tensor) is not None


def _argnums_tuple(argnums: int | tuple[int, ...], n_args: int) -> tuple[int, ...]:
    numbers = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not numbers:
        raise ValueError("argnums must be a non-empty tuple of integers")
    for number in numbers:
        if not isinstance(number, int):
            raise TypeError(f"argnums must be int or tuple of ints, got {type(number).__name__}")
        if not -n_args <= number < n_args:
            raise ValueError(
                f"argnums {number} is out of range for a function of {n_args} arguments"
            )
    normalized = tuple(n % n_args for n in numbers)
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"argnums must not repeat an argument, got {numbers}")
    return normalized


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


def _restricted(func: Callable, args: tuple, kwargs: dict, numbers: tuple) -> Callable:
    """func as a function of the arguments `numbers` only, the others fixed."""

    def restricted(*chosen: Any) -> Any:
        new_args = list(args)
        for number, value in zip(numbers, chosen):
            new_args[number] = value
        return func(*new_args, **kwargs)

    return restricted


def _output_tensors(leaves: list, name: str) -> list:
    for leaf in leaves:
        if not isinstance(leaf, Tensor):
            raise TypeError(
                f"{name}: f must return tensors (or pytrees of them), got {type(leaf).__name__}"
            )
    return leaves


# ---- reverse mode ----------------------------------------------------------------------------


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
        for leaves, spec in flat:
            count = len(leaves)
            chunk = [
                _restore_kind(g, o) for g, o in zip(grads[position : position + count], leaves)
            ]
            results.append(tree_unflatten(chunk, spec))
            position += count
        gradient = results[0] if isinstance(argnums, int) else tuple(results)
        value = output if keep else _detached(output)
        if has_aux and not keep:
            aux = tree_map(_detached, aux)
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


def _vjp_tensors(func: Callable, primals: tuple, has_aux: bool) -> tuple:
    """vjp's work: (output, aux, vjp_fn returning one flat list of Tensors per primal, the
    primals' flattened leaves and specs, keep)."""
    flat = [tree_flatten(p) for p in primals]
    keep = _keep_graph([leaf for leaves, _ in flat for leaf in leaves])
    aliases = [[_differentiable_alias(leaf) for leaf in leaves] for leaves, _ in flat]
    new_primals = [tree_unflatten(leaves, spec) for leaves, (_, spec) in zip(aliases, flat)]
    with grad_mode.enable_grad():
        output, aux = _split_output(func(*new_primals), has_aux, "vjp")
    out_leaves, out_spec = tree_flatten(output)
    _output_tensors(out_leaves, "vjp")
    wanted = [leaf for leaves in aliases for leaf in leaves]

    def vjp_flat(cotangents: Any) -> list:
        cot_leaves, cot_spec = tree_flatten(cotangents)
        if cot_spec != out_spec:
            raise ShapeError("vjp: the cotangents must have the same structure as the output")
        pairs = []
        for index, (o, c) in enumerate(zip(out_leaves, cot_leaves)):
            cotangent = _as_tensor(c)
            if tuple(cotangent.shape) != tuple(o.shape):
                raise ShapeError(
                    f"vjp: cotangent {index} has shape {tuple(cotangent.shape)} for an output "
                    f"of shape {tuple(o.shape)}"
                )
            if o.requires_grad:
                pairs.append((o, cotangent))
        if not pairs:
            return [chainrule.zeros_like(w) for w in wanted]
        with grad_mode.enable_grad():
            return list(
                api.grad(
                    [o for o, _ in pairs],
                    wanted,
                    [c for _, c in pairs],
                    retain_graph=True,
                    create_graph=keep or _keep_graph(cot_leaves),
                    allow_unused=True,
                    materialize_grads=True,
                )
            )

    return output, aux, vjp_flat, flat, keep


def vjp(func: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """`(output, vjp_fn)` (or `(output, vjp_fn, aux)`); `vjp_fn(cotangents)` gives a tuple with
    one gradient (pytree) per primal.

    >>> import chainrule
    >>> from chainrule.func import vjp
    >>> out, vjp_fn = vjp(lambda x: x ** 2, chainrule.tensor([1.0, 3.0]))
    >>> vjp_fn(chainrule.ones(2))
    (tensor([2., 6.]),)
    """
    output, aux, vjp_flat, flat, keep = _vjp_tensors(func, primals, has_aux)

    def vjp_fn(cotangents: Any) -> tuple:
        grads = vjp_flat(cotangents)
        results, position = [], 0
        for leaves, spec in flat:
            chunk = [
                _restore_kind(g, o)
                for g, o in zip(grads[position : position + len(leaves)], leaves)
            ]
            results.append(tree_unflatten(chunk, spec))
            position += len(leaves)
        return tuple(results)

    result_output = output if keep else tree_map(_detached, output)
    if has_aux:
        return result_output, vjp_fn, (aux if keep else tree_map(_detached, aux))
    return result_output, vjp_fn


def _jacobian_tree(
    blocks: list, out_spec: Any, in_flat: list, argnums: int | tuple[int, ...]
) -> Any:
    """Arrange blocks[o][i] (output leaf o by input leaf i, input leaves of every argument in
    order) as torch.func does: the output's structure, each leaf holding the input's
    structure (a tuple of them, one per argument, when argnums is a tuple)."""
    per_output = []
    for row in blocks:
        pieces, position = [], 0
        for leaves, spec in in_flat:
            chunk = [
                _restore_kind(block, original)
                for block, original in zip(row[position : position + len(leaves)], leaves)
            ]
            pieces.append(tree_unflatten(chunk, spec))
            position += len(leaves)
        per_output.append(pieces[0] if isinstance(argnums, int) else tuple(pieces))
    return tree_unflatten(per_output, out_spec)


def jacrev(
    func: Callable,
    argnums: int | tuple[int, ...] = 0,
    *,
    has_aux: bool = False,
    chunk_size: int | None = None,
    _preallocate_and_copy: bool = False,
) -> Callable:
    """The Jacobian by reverse mode: one vjp per output element. For each output leaf and
    input leaf its shape is output.shape + input.shape, as in torch.func.

    >>> import chainrule
    >>> from chainrule.func import jacrev
    >>> jacrev(lambda x: x ** 2)(chainrule.tensor([1.0, 3.0]))
    tensor([[2., 0.],
            [0., 6.]])
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        numbers = _argnums_tuple(argnums, len(args))
        restricted = _restricted(func, args, kwargs, numbers)
        output, aux, vjp_flat, in_flat, keep = _vjp_tensors(
            restricted, tuple(args[n] for n in numbers), has_aux
        )
        out_leaves, out_spec = tree_flatten(output)
        in_leaves = [_as_tensor(leaf) for leaves, _ in in_flat for leaf in leaves]
        blocks = []
        for index, out in enumerate(out_leaves):
            rows = []
            for element in range(out.numel()):
                cotangents = [chainrule.zeros_like(o) for o in out_leaves]
                cotangents[index].view(-1)[element] = 1.0
                rows.append(vjp_flat(tree_unflatten(cotangents, out_spec)))
            row_blocks = []
            for position, leaf in enumerate(in_leaves):
                shape = tuple(out.shape) + tuple(leaf.shape)
                if rows:
                    stacked = chainrule.stack([row[position] for row in rows])
                else:
                    stacked = chainrule.zeros(shape, dtype=out.dtype)
                row_blocks.append(stacked.reshape(shape))
            blocks.append(row_blocks)
        jacobian = _jacobian_tree(blocks, out_spec, in_flat, argnums)
        if has_aux:
            return jacobian, (aux if keep else tree_map(_detached, aux))
        return jacobian

    return wrapper


# ---- forward mode ----------------------------------------------------------------------------


def _refuse_nested(name: str) -> None:
    if fwAD.current_level() is not None:
        raise GradError(
            f"{name}: nested forward-mode transforms (jvp or jacfwd inside jvp, jacfwd, hessian "
            "or a dual_level) are not supported; use jacrev for the inner or the outer one"
        )


def _jvp_flat(func: Callable, primals: tuple, tangents: tuple, has_aux: bool, name: str) -> tuple:
    """(output, output tangent leaves, aux): func at dual inputs, one dual level."""
    if not isinstance(primals, tuple):
        raise TypeError(
            f"{name}(f, primals, tangents): expected primals to be a tuple, e.g. (x,), so "
            "that f(*primals) is valid"
        )
    if not isinstance(tangents, tuple):
        raise TypeError(f"{name}(f, primals, tangents): expected tangents to be a tuple")
    primal_leaves, primal_spec = tree_flatten(primals)
    tangent_leaves, tangent_spec = tree_flatten(tangents)
    if primal_spec != tangent_spec:
        raise ShapeError(
            f"{name}(f, primals, tangents): primals and tangents must have the same structure"
        )
    _refuse_nested(name)
    with fwAD.dual_level():
        duals = [
            fwAD.make_dual(_as_tensor(p), _as_tensor(t))
            for p, t in zip(primal_leaves, tangent_leaves)
        ]
        output, aux = _split_output(func(*tree_unflatten(duals, primal_spec)), has_aux, name)
        out_leaves, out_spec = tree_flatten(output)
        _output_tensors(out_leaves, name)
        primals_out, tangents_out = [], []
        for leaf in out_leaves:
            primal, tangent = fwAD.unpack_dual(leaf)
            primals_out.append(primal)
            tangents_out.append(chainrule.zeros_like(leaf) if tangent is None else tangent)
        if has_aux:
            aux = tree_map(_primal_of, aux)
    return tree_unflatten(primals_out, out_spec), tangents_out, out_spec, aux


def _primal_of(value: Any) -> Any:
    return fwAD.unpack_dual(value).primal if isinstance(value, Tensor) else value


def jvp(
    func: Callable,
    primals: tuple,
    tangents: tuple,
    *,
    strict: bool = False,
    has_aux: bool = False,
) -> tuple:
    """`(func(*primals), J tangents)` (plus aux with has_aux): the Jacobian-vector product in
    one forward pass, each op's tangent computed next to its value.

    >>> import chainrule
    >>> from chainrule.func import jvp
    >>> jvp(lambda x: x ** 3, (chainrule.tensor([1.0, 2.0]),), (chainrule.ones(2),))
    (tensor([1., 8.]), tensor([ 3., 12.]))
    """
    output, tangent_leaves, out_spec, aux = _jvp_flat(func, primals, tangents, has_aux, "jvp")
    tangent_out = tree_unflatten(tangent_leaves, out_spec)
    if _all_numpy(primals):  # NumPy in, NumPy out
        output, tangent_out = tree_map(_as_numpy, output), tree_map(_as_numpy, tangent_out)
    return (output, tangent_out, aux) if has_aux else (output, tangent_out)


def _all_numpy(tree: Any) -> bool:
    leaves = tree_flatten(tree)[0]
    return bool(leaves) and all(is_array(leaf) for leaf in leaves)


def _as_numpy(value: Any) -> Any:
    if isinstance(value, Tensor) and not _is_traced(value):
        return value.numpy()
    return value


def linearize(func: Callable, *primals: Any) -> tuple:
    """`(func(*primals), jvp_fn)`: jvp_fn(*tangents) is the jvp of func at these primals
    (torch.func.linearize). Each call runs one forward pass with tangents.

    >>> import chainrule
    >>> from chainrule.func import linearize
    >>> out, jvp_fn = linearize(chainrule.sin, chainrule.tensor([0.0, 1.0]))
    >>> jvp_fn(chainrule.ones(2))
    tensor([1.0000, 0.5403])
    """
    primal_leaves, primal_spec = tree_flatten(primals)
    output = func(*tree_unflatten([_as_tensor(p) for p in primal_leaves], primal_spec))
    _output_tensors(tree_flatten(output)[0], "linearize")
    if _all_numpy(primals):
        output = tree_map(_as_numpy, output)

    def jvp_fn(*tangents: Any) -> Any:
        tangent_leaves, tangent_spec = tree_flatten(tangents)
        if tangent_spec != primal_spec:
            raise ShapeError("linearize: jvp_fn expects tangents with the primals' structure")
        for index, (p, t) in enumerate(zip(primal_leaves, tangent_leaves)):
            if tuple(_as_tensor(t).shape) != tuple(_as_tensor(p).shape):
                raise ShapeError(
                    f"linearize: tangent {index} has shape {tuple(_as_tensor(t).shape)} for a "
                    f"primal of shape {tuple(_as_tensor(p).shape)}"
                )
        return jvp(func, primals, tangents)[1]

    return output, jvp_fn


def jacfwd(
    func: Callable,
    argnums: int | tuple[int, ...] = 0,
    has_aux: bool = False,
    *,
    randomness: str = "error",
) -> Callable:
    """The Jacobian by forward mode: one jvp per input element (cheaper than jacrev when the
    inputs are fewer than the outputs). Shapes and structure as jacrev.

    >>> import chainrule
    >>> from chainrule.func import jacfwd
    >>> jacfwd(lambda x: x.sum() * x)(chainrule.tensor([1.0, 2.0]))
    tensor([[4., 1.],
            [2., 5.]])
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        numbers = _argnums_tuple(argnums, len(args))
        restricted = _restricted(func, args, kwargs, numbers)
        in_flat = [tree_flatten(args[n]) for n in numbers]
        in_leaves = [_as_tensor(leaf) for leaves, _ in in_flat for leaf in leaves]
        for leaf in in_leaves:
            if not leaf.is_floating_point():
                raise TypeError(
                    f"jacfwd: can only differentiate with respect to floating tensors, got "
                    f"{leaf.dtype}"
                )
        primals = tuple(
            tree_unflatten(_leaves_of(in_leaves, in_flat, i), spec)
            for i, (_, spec) in enumerate(in_flat)
        )
        zeros = [chainrule.zeros_like(leaf) for leaf in in_leaves]
        columns: list[list] = []  # columns[i][e]: the output tangent leaves for element e of i
        output = aux = out_spec = None
        for position, leaf in enumerate(in_leaves):
            columns.append([])
            for element in range(leaf.numel()):
                basis = list(zeros)
                one_hot = chainrule.zeros(leaf.numel(), dtype=leaf.dtype)
                one_hot[element] = 1.0
                basis[position] = one_hot.reshape(leaf.shape)
                tangents = tuple(
                    tree_unflatten(_leaves_of(basis, in_flat, i), spec)
                    for i, (_, spec) in enumerate(in_flat)
                )
                output, tangent_leaves, out_spec, aux = _jvp_flat(
                    restricted, primals, tangents, has_aux, "jacfwd"
                )
                columns[-1].append(tangent_leaves)
        if out_spec is None:  # no input element at all: evaluate once for the output's shape
            output, aux = _split_output(restricted(*primals), has_aux, "jacfwd")
        out_leaves, out_spec = tree_flatten(output)
        blocks = []
        for index, out in enumerate(_output_tensors(out_leaves, "jacfwd")):
            row = []
            for leaf, column in zip(in_leaves, columns):
                shape = tuple(out.shape) + tuple(leaf.shape)
                if column:
                    stacked = chainrule.stack([tangents[index] for tangents in column], dim=-1)
                else:
                    stacked = chainrule.zeros(shape, dtype=out.dtype)
                row.append(stacked.reshape(shape))
            blocks.append(row)
        jacobian = _jacobian_tree(blocks, out_spec, in_flat, argnums)
        return (jacobian, aux) if has_aux else jacobian

    return wrapper


def _leaves_of(flat_leaves: list, in_flat: list, argument: int) -> list:
    """The leaves of argument `argument` within the leaves of every argument, in order."""
    start = sum(len(leaves) for leaves, _ in in_flat[:argument])
    return flat_leaves[start : start + len(in_flat[argument][0])]


def hessian(func: Callable, argnums: int | tuple[int, ...] = 0) -> Callable:
    """The Hessian of a scalar function: jacfwd(jacrev(func)), forward over reverse, so each
    column costs about one gradient (as torch.func.hessian).

    >>> import chainrule
    >>> from chainrule.func import hessian
    >>> hessian(lambda x: (x ** 3).sum())(chainrule.tensor([1.0, 2.0]))
    tensor([[ 6.,  0.],
            [ 0., 12.]])
    """
    return jacfwd(jacrev(func, argnums), argnums)


# ---- vmap --------------------------------------------------------------------------------------


def _vmap_by_loop(
    func: Callable,
    in_dims: Any = 0,
    out_dims: Any = 0,
    randomness: str = "error",
    *,
    chunk_size: int | None = None,
) -> Callable:
    """Map `func` over a batch dimension of its inputs.

    This version evaluates `func` once per batch element and stacks the results (correct for
    any function, including transforms inside; not per-op batching rules).
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


def _batching_vmap() -> Callable | None:
    """vmap with per-op batching rules, from func/vmap.py once that defines it."""
    if importlib.util.find_spec("chainrule.func.vmap") is None:
        return None
    return getattr(importlib.import_module("chainrule.func.vmap"), "vmap", None)


vmap = _batching_vmap() or _vmap_by_loop


# ---- functional_call -------------------------------------------------------------------------


def _with_tied_names(module: Any, dicts: dict) -> dict:
    """Tied weights (one tensor under several names): a value given for one of the names
    replaces the tensor under all of them, as torch.func.functional_call(tie_weights=True)."""
    owners: dict[int, list[str]] = {}
    for prefix, submodule in module.named_modules(remove_duplicate=False):
        for table in (submodule._parameters, submodule._buffers):
            for attribute, tensor in table.items():
                if tensor is not None:
                    name = f"{prefix}.{attribute}" if prefix else attribute
                    owners.setdefault(id(tensor), []).append(name)
    result = dict(dicts)
    for names in owners.values():
        given = [name for name in names if name in dicts]
        if given:
            for name in names:
                result.setdefault(name, dicts[given[0]])
    return result


def functional_call(
    module: Any,
    parameter_and_buffer_dicts: Any,
    args: Any = None,
    kwargs: dict | None = None,
    *,
    tie_weights: bool = True,
    strict: bool = False,
) -> Any:
    """Call `module` with its parameters and buffers replaced by the given tensors, so a loss
    can be differentiated as a function of them. The module is restored afterwards."""
    dicts = parameter_and_buffer_dicts
    if isinstance(dicts, (tuple, list)):
        merged: dict = {}
        for item in dicts:
            repeated = set(merged) & set(item)
            if repeated:
                raise ValueError(
                    f"functional_call: {sorted(repeated)} appeared in multiple dictionaries"
                )
            merged.update(item)
        dicts = merged
    if strict:
        expected = set(dict(module.named_parameters())) | set(dict(module.named_buffers()))
        missing, unexpected = expected - set(dicts), set(dicts) - expected
        if missing or unexpected:
            raise KeyError(
                f"functional_call: missing keys {sorted(missing)}, unexpected {sorted(unexpected)}"
            )
    if tie_weights:
        dicts = _with_tied_names(module, dicts)
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
        positional = () if args is None else args if isinstance(args, tuple) else (args,)
        return module(*positional, **(kwargs or {}))
    finally:
        for table, attribute, original in reversed(saved):
            table[attribute] = original
