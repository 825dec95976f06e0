"""torch.func's differentiation transforms: grad, grad_and_value, vjp, jacrev (reverse mode)
and jvp, linearize, jacfwd, hessian (forward mode).

Reverse transforms run on the same recording engine as `backward()`, differentiating with
respect to fresh aliases of their inputs; forward transforms push tangents through dual
tensors (chainrule.autograd.forward_ad), each in a dual level of its own, so forward transforms
nest (jacfwd(jacfwd(f)), jvp of jvp) as reverse ones do.
"""

from __future__ import annotations

import contextlib
import functools
import math
from collections.abc import Callable
from typing import Any

from chainrule._tensor import Tensor
from chainrule.autograd import api, grad_mode
from chainrule.autograd import forward_ad as fwAD
from chainrule.backend import is_array
from chainrule.errors import DTypeError, DTypeValueError, ShapeError, TransformError
from chainrule.func._inputs import (
    argnums_tuple,
    as_tensor,
    closes_over_graph,
    detached,
    differentiable_alias,
    finish,
    in_kind,
    is_traced,
    keep_graph,
    output_tensors,
    plain_tensor,
    restore_kind,
    restricted_to,
    split_output,
)
from chainrule.func.pytree import holds_none, tree_flatten, tree_map, tree_unflatten
from chainrule.ops.creation import zeros, zeros_like
from chainrule.ops.shape import stack

__all__ = [
    "functionalize",
    "grad",
    "grad_and_value",
    "hessian",
    "jacfwd",
    "jacrev",
    "jet",
    "jvp",
    "linearize",
    "vjp",
]


# ---- reverse mode ----------------------------------------------------------------------------


def _refuse_none(name: str, spec: Any) -> None:
    """A None among f's outputs: PyTorch's transforms take only tensors there."""
    if holds_none(spec):
        raise TransformError(
            f"{name}(f, *primals): expected f(*primals) to return only tensors, got unsupported "
            "type <class 'NoneType'>"
        )


def _scalar_output(output: Any) -> None:
    """Refuse what `grad` cannot differentiate: a value that is not a Tensor (a Python bool,
    as `cnp.allclose` returns; a TransformError, both PyTorch's RuntimeError and JAX's and
    HIPS autograd's TypeError) or a Tensor with dimensions, even one element (a ShapeError,
    as PyTorch)."""
    if not isinstance(output, Tensor):
        kind = type(output).__name__
        raise TransformError(
            f"grad: f must return a scalar Tensor (a floating-point value to differentiate), "
            f"got a {kind}"
            + (" (a comparison has no derivative)" if isinstance(output, bool) else "")
        )
    if output.ndim != 0:
        raise ShapeError(
            f"grad: f must return a scalar tensor, got shape {tuple(output.shape)}; maybe you "
            "wanted vjp or jacrev"
        )


def grad_and_value(
    func: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False
) -> Callable:
    """Like `grad`, but the wrapped function returns the value it differentiated too, from the
    same forward pass (torch.func.grad_and_value).

    Args:
        func (Callable): returns a one-element Tensor (or `(output, aux)` with `has_aux`).
        argnums (int or tuple of ints): the positional argument(s) to differentiate with
            respect to; a tuple gives a tuple of gradients.
        has_aux (bool): `func` returns `(output, aux)`; aux is passed through undifferentiated.

    Returns:
        Callable: taking `func`'s arguments and returning `(gradient, value)`, or
        `(gradient, (value, aux))` with `has_aux`. Each gradient has its argument's structure.

    Example:
        >>> import chainrule
        >>> from chainrule.func import grad_and_value
        >>> grad_and_value(lambda x: (x ** 2).sum())(chainrule.tensor([1.0, 2.0]))
        (tensor([2., 4.]), tensor(5.))
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        numbers = argnums_tuple(argnums, len(args))
        originals = [args[n] for n in numbers]
        flat = [tree_flatten(a) for a in originals]
        recording = grad_mode.is_grad_enabled()
        keep = keep_graph([leaf for leaves, _ in flat for leaf in leaves])
        aliases = [[differentiable_alias(leaf) for leaf in leaves] for leaves, _ in flat]
        new_args = list(args)
        for number, leaves, (given, spec) in zip(numbers, aliases, flat):
            seen = [in_kind(alias, original) for alias, original in zip(leaves, given)]
            new_args[number] = tree_unflatten(seen, spec)
        with grad_mode.enable_grad():
            output, aux = split_output(func(*new_args, **kwargs), has_aux, "grad")
            _scalar_output(output)
            wanted = [leaf for leaves in aliases for leaf in leaves]
            keep = keep or (recording and closes_over_graph([output], wanted))
            grads = (
                api.grad(
                    output, wanted, create_graph=keep, allow_unused=True, materialize_grads=True
                )
                if output.requires_grad and wanted
                else [zeros_like(w) for w in wanted]
            )
        finish(wanted)
        results, position = [], 0
        for leaves, spec in flat:
            count = len(leaves)
            chunk = [restore_kind(g, o) for g, o in zip(grads[position : position + count], leaves)]
            results.append(tree_unflatten(chunk, spec))
            position += count
        gradient = results[0] if isinstance(argnums, int) else tuple(results)
        value = output if keep else detached(output)
        if has_aux and not keep:
            aux = tree_map(detached, aux)
        return (gradient, (value, aux)) if has_aux else (gradient, value)

    return wrapper


def grad(func: Callable, argnums: int | tuple[int, ...] = 0, has_aux: bool = False) -> Callable:
    """The gradient of a scalar function with respect to argument(s) `argnums`
    (torch.func.grad). It composes with itself and the other transforms.

    Args:
        func (Callable): returns a one-element Tensor (or `(output, aux)` with `has_aux`).
            Its arguments may be Tensors, NumPy arrays or numbers in nested tuples, lists and
            dicts.
        argnums (int or tuple of ints): the positional argument(s) to differentiate with
            respect to; a tuple gives a tuple of gradients.
        has_aux (bool): `func` returns `(output, aux)`; the wrapper then returns
            `(gradient, aux)`.

    Returns:
        Callable: taking `func`'s arguments and returning the gradient, with the structure
        (and for a NumPy array, the kind) of the argument it belongs to.

    Example:
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
    recording = grad_mode.is_grad_enabled()
    keep = keep_graph([leaf for leaves, _ in flat for leaf in leaves])
    aliases = [[differentiable_alias(leaf) for leaf in leaves] for leaves, _ in flat]
    new_primals = [
        tree_unflatten([in_kind(a, o) for a, o in zip(leaves, originals)], spec)
        for leaves, (originals, spec) in zip(aliases, flat)
    ]
    with grad_mode.enable_grad():
        output, aux = split_output(func(*new_primals), has_aux, "vjp")
    out_leaves, out_spec = tree_flatten(output)
    _refuse_none("vjp", out_spec)
    for leaf in output_tensors(out_leaves, "vjp"):
        if not (leaf.is_floating_point() or leaf.is_complex()):  # no cotangent to pull back
            raise DTypeError(
                f"vjp(f, ...): All outputs of f must be floating-point or complex Tensors, got "
                f"Tensor with dtype {leaf.dtype}"
            )
    wanted = [leaf for leaves in aliases for leaf in leaves]
    keep = keep or (recording and closes_over_graph(out_leaves, wanted))
    finish(wanted)

    def vjp_flat(cotangents: Any) -> list:
        cot_leaves, cot_spec = tree_flatten(cotangents)
        if cot_spec != out_spec:
            raise ShapeError("vjp: the cotangents must have the same structure as the output")
        pairs = []
        for index, (o, c) in enumerate(zip(out_leaves, cot_leaves)):
            cotangent = as_tensor(c)
            if tuple(cotangent.shape) != tuple(o.shape):
                raise ShapeError(
                    f"vjp: cotangent {index} has shape {tuple(cotangent.shape)} for an output "
                    f"of shape {tuple(o.shape)}"
                )
            if o.requires_grad:
                pairs.append((o, cotangent))
        if not pairs or not wanted:
            return [zeros_like(w) for w in wanted]
        with grad_mode.enable_grad():
            return list(
                api.grad(
                    [o for o, _ in pairs],
                    wanted,
                    [c for _, c in pairs],
                    retain_graph=True,
                    create_graph=keep or keep_graph(cot_leaves),
                    allow_unused=True,
                    materialize_grads=True,
                )
            )

    return output, aux, vjp_flat, flat, keep


def vjp(func: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """Evaluate `func` and return a function that pulls cotangents back through it
    (torch.func.vjp): the vector-Jacobian product, by reverse mode.

    Args:
        func (Callable): returns a Tensor or a pytree of Tensors (or `(output, aux)`).
        primals (Any): the positional arguments of `func`, pytrees of Tensors allowed.
        has_aux (bool): `func` returns `(output, aux)`, and aux is returned third.

    Returns:
        tuple: `(output, vjp_fn)`, or `(output, vjp_fn, aux)`. `vjp_fn(cotangents)`, with
        cotangents shaped as `output`, returns a tuple holding one gradient per primal. It
        may be called more than once.

    Example:
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
                restore_kind(g, o) for g, o in zip(grads[position : position + len(leaves)], leaves)
            ]
            results.append(tree_unflatten(chunk, spec))
            position += len(leaves)
        return tuple(results)

    result_output = output if keep else tree_map(detached, output)
    if has_aux:
        return result_output, vjp_fn, (aux if keep else tree_map(detached, aux))
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
                restore_kind(block, original)
                for block, original in zip(row[position : position + len(leaves)], leaves)
            ]
            pieces.append(tree_unflatten(chunk, spec))
            position += len(leaves)
        per_output.append(pieces[0] if isinstance(argnums, int) else tuple(pieces))
    return tree_unflatten(per_output, out_spec)


def _refuse_complex(name: str, tree: Any, what: str) -> None:
    """torch.func's Jacobians are of real functions: a complex tensor among all the positional
    arguments (not only those in argnums) or among the outputs is PyTorch's RuntimeError,
    indexed by its place among the flattened leaves (aux is not checked)."""
    for index, leaf in enumerate(tree_flatten(tree)[0]):
        if isinstance(leaf, Tensor) and leaf.is_complex():
            raise DTypeError(
                f"{name}: Expected all {what} to be real but received complex tensor at "
                f"flattened input idx: {index}"
            )


def jacrev(
    func: Callable,
    argnums: int | tuple[int, ...] = 0,
    *,
    has_aux: bool = False,
    chunk_size: int | None = None,
    _preallocate_and_copy: bool = False,
) -> Callable:
    """The Jacobian by reverse mode: one vjp per output element (torch.func.jacrev), the cheaper
    way when outputs are fewer than inputs.

    Args:
        func (Callable): returns a Tensor or a pytree of Tensors (or `(output, aux)`).
        argnums (int or tuple of ints): the positional argument(s) to differentiate with
            respect to; a tuple gives one Jacobian per argument.
        has_aux (bool): `func` returns `(output, aux)`; the wrapper returns
            `(jacobian, aux)`.
        chunk_size (int, optional): accepted for torch.func's signature; the vjps always
            run one at a time.

    Returns:
        Callable: taking `func`'s arguments and returning the Jacobian. For each output leaf
        and input leaf its block has shape `output.shape + input.shape`.

    Example:
        >>> import chainrule
        >>> from chainrule.func import jacrev
        >>> jacrev(lambda x: x ** 2)(chainrule.tensor([1.0, 3.0]))
        tensor([[2., 0.],
                [0., 6.]])
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        numbers = argnums_tuple(argnums, len(args))
        _refuse_complex("jacrev", args, "inputs")
        restricted = restricted_to(func, args, kwargs, numbers)
        output, aux, vjp_flat, in_flat, keep = _vjp_tensors(
            restricted, tuple(args[n] for n in numbers), has_aux
        )
        _refuse_complex("jacrev", output, "outputs")
        out_leaves, out_spec = tree_flatten(output)
        in_leaves = [as_tensor(leaf) for leaves, _ in in_flat for leaf in leaves]
        blocks = []
        for index, out in enumerate(out_leaves):
            rows = []
            for element in range(out.numel()):
                # (row-major zeros: an output that is a transposed view has a zeros_like that
                # view(-1) cannot flatten)
                cotangents = [
                    zeros(tuple(o.shape), dtype=o.dtype, device=o.device) for o in out_leaves
                ]
                cotangents[index].view(-1)[element] = 1.0
                rows.append(vjp_flat(tree_unflatten(cotangents, out_spec)))
            row_blocks = []
            for position, leaf in enumerate(in_leaves):
                shape = tuple(out.shape) + tuple(leaf.shape)
                if rows:
                    stacked = stack([row[position] for row in rows])
                else:
                    stacked = zeros(shape, dtype=leaf.dtype)  # a vjp's dtype: the input's
                row_blocks.append(stacked.reshape(shape))
            blocks.append(row_blocks)
        jacobian = _jacobian_tree(blocks, out_spec, in_flat, argnums)
        if has_aux:
            return jacobian, (aux if keep else tree_map(detached, aux))
        return jacobian

    return wrapper


# ---- forward mode ----------------------------------------------------------------------------


def _jvp_flat(
    func: Callable, primals: tuple, tangents: tuple, has_aux: bool, name: str, strict: bool = False
) -> tuple:
    """(output, output tangent leaves, aux): func at dual inputs, in a dual level of its own
    (inside any enclosing one: the primals and tangents may carry the outer levels' tangents,
    and the results keep them, so jvp of jvp and jacfwd of jacfwd are exact). `strict`
    refuses an output independent of the inputs, as torch.func.jvp's."""
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
    with fwAD.dual_level():
        duals = [
            in_kind(fwAD.make_dual(plain_tensor(p), as_tensor(t)), p)
            for p, t in zip(primal_leaves, tangent_leaves)
        ]
        output, aux = split_output(func(*tree_unflatten(duals, primal_spec)), has_aux, name)
        out_leaves, out_spec = tree_flatten(output)
        _refuse_none(name, out_spec)
        output_tensors(out_leaves, name)
        primals_out, tangents_out = [], []
        for leaf in out_leaves:
            primal, tangent = fwAD.unpack_dual(leaf)
            if tangent is None and strict:
                raise RuntimeError(
                    f"{name}(f, primals, tangents, strict=True): The output of f is independent "
                    "of the inputs. This is not allowed with strict=True."
                )
            primals_out.append(primal)
            tangents_out.append(zeros_like(leaf) if tangent is None else tangent)
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
    """The Jacobian-vector product in one forward pass, each op's tangent computed next to
    its value (torch.func.jvp).

    Args:
        func (Callable): returns a Tensor or a pytree of Tensors (or `(output, aux)`).
        primals (tuple): the positional arguments of `func`.
        tangents (tuple): one tangent per primal, of the same structure and shapes.
        strict (bool): raise when an output does not depend on the inputs, as torch's.
        has_aux (bool): `func` returns `(output, aux)`, and aux is returned third.

    Returns:
        tuple: `(func(*primals), J @ tangents)`, plus aux with `has_aux`; NumPy primals
        give NumPy results.

    Example:
        >>> import chainrule
        >>> from chainrule.func import jvp
        >>> jvp(lambda x: x ** 3, (chainrule.tensor([1.0, 2.0]),), (chainrule.ones(2),))
        (tensor([1., 8.]), tensor([ 3., 12.]))
    """
    output, tangent_leaves, out_spec, aux = _jvp_flat(
        func, primals, tangents, has_aux, "jvp", strict
    )
    tangent_out = tree_unflatten(tangent_leaves, out_spec)
    if _all_numpy(primals):  # NumPy in, NumPy out
        output, tangent_out = tree_map(_as_numpy, output), tree_map(_as_numpy, tangent_out)
    return (output, tangent_out, aux) if has_aux else (output, tangent_out)


def _all_numpy(tree: Any) -> bool:
    leaves = tree_flatten(tree)[0]
    return bool(leaves) and all(is_array(leaf) for leaf in leaves)


def _as_numpy(value: Any) -> Any:
    if isinstance(value, Tensor) and not is_traced(value):
        return value.numpy()
    return value


def linearize(func: Callable, *primals: Any) -> tuple:
    """Evaluate `func` and return its jvp at these primals as a function
    (torch.func.linearize). Each call of `jvp_fn` runs one forward pass with tangents.

    Args:
        func (Callable): returns a Tensor or a pytree of Tensors.
        primals (Any): the positional arguments of `func`.

    Returns:
        tuple: `(func(*primals), jvp_fn)`; `jvp_fn(*tangents)`, one tangent per primal
        shaped as it, returns the output's tangent.

    Example:
        >>> import chainrule
        >>> from chainrule.func import linearize
        >>> out, jvp_fn = linearize(chainrule.sin, chainrule.tensor([0.0, 1.0]))
        >>> jvp_fn(chainrule.ones(2))
        tensor([1.0000, 0.5403])
    """
    primal_leaves, primal_spec = tree_flatten(primals)
    for leaf in primal_leaves:
        if isinstance(leaf, Tensor) and not (leaf.is_floating_point() or leaf.is_complex()):
            raise DTypeValueError(  # PyTorch: make_dual's ValueError, raised here already
                f"linearize: expected primal to be floating point or complex, but got {leaf.dtype}"
            )
    output = func(*tree_unflatten([in_kind(as_tensor(p), p) for p in primal_leaves], primal_spec))
    output_tensors(tree_flatten(output)[0], "linearize")
    if _all_numpy(primals):
        output = tree_map(_as_numpy, output)

    def jvp_fn(*tangents: Any) -> Any:
        tangent_leaves, tangent_spec = tree_flatten(tangents)
        if tangent_spec != primal_spec:
            raise ShapeError("linearize: jvp_fn expects tangents with the primals' structure")
        for index, (p, t) in enumerate(zip(primal_leaves, tangent_leaves)):
            if tuple(as_tensor(t).shape) != tuple(as_tensor(p).shape):
                raise ShapeError(
                    f"linearize: tangent {index} has shape {tuple(as_tensor(t).shape)} for a "
                    f"primal of shape {tuple(as_tensor(p).shape)}"
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
    """The Jacobian by forward mode: one jvp per input element (torch.func.jacfwd), cheaper than
    `jacrev` when the inputs are fewer than the outputs.

    Args:
        func (Callable): returns a Tensor or a pytree of Tensors (or `(output, aux)`).
        argnums (int or tuple of ints): the positional argument(s) to differentiate with
            respect to, each floating point; a tuple gives one Jacobian per argument.
        has_aux (bool): `func` returns `(output, aux)`; the wrapper returns
            `(jacobian, aux)`.
        randomness (str): accepted for torch.func's signature and not enforced: a random
            op in `func` draws afresh for each jvp.

    Returns:
        Callable: taking `func`'s arguments and returning the Jacobian, shaped as `jacrev`'s
        (`output.shape + input.shape` per block).

    Example:
        >>> import chainrule
        >>> from chainrule.func import jacfwd
        >>> jacfwd(lambda x: x.sum() * x)(chainrule.tensor([1.0, 2.0]))
        tensor([[4., 1.],
                [2., 5.]])
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        numbers = argnums_tuple(argnums, len(args))
        _refuse_complex("jacfwd", args, "inputs")
        restricted = restricted_to(func, args, kwargs, numbers)
        in_flat = [tree_flatten(args[n]) for n in numbers]
        in_leaves = [in_kind(as_tensor(leaf), leaf) for leaves, _ in in_flat for leaf in leaves]
        for leaf in in_leaves:
            if not leaf.is_floating_point():
                raise DTypeValueError(  # PyTorch: make_dual's ValueError
                    f"jacfwd: expected primal to be floating point or complex, but got {leaf.dtype}"
                )
        primals = tuple(
            tree_unflatten(_leaves_of(in_leaves, in_flat, i), spec)
            for i, (_, spec) in enumerate(in_flat)
        )
        zero_tangents = [zeros_like(leaf) for leaf in in_leaves]
        columns: list[list] = []  # columns[i][e]: the output tangent leaves for element e of i
        output = aux = out_spec = None
        for position, leaf in enumerate(in_leaves):
            columns.append([])
            for element in range(leaf.numel()):
                basis = list(zero_tangents)
                one_hot = zeros(leaf.numel(), dtype=leaf.dtype)
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
            output, aux = split_output(restricted(*primals), has_aux, "jacfwd")
        _refuse_complex("jacfwd", output, "outputs")
        out_leaves, out_spec = tree_flatten(output)
        blocks = []
        for index, out in enumerate(output_tensors(out_leaves, "jacfwd")):
            row = []
            for leaf, column in zip(in_leaves, columns):
                shape = tuple(out.shape) + tuple(leaf.shape)
                if column:
                    stacked = stack([tangents[index] for tangents in column], dim=-1)
                else:
                    stacked = zeros(shape, dtype=out.dtype)
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
    """The Hessian of a scalar function: `jacfwd(jacrev(func))`, forward over reverse, so each
    column costs about one gradient (as torch.func.hessian).

    Args:
        func (Callable): returns a one-element Tensor.
        argnums (int or tuple of ints): the positional argument(s) to differentiate with
            respect to.

    Returns:
        Callable: taking `func`'s arguments and returning the Hessian, of shape
        `input.shape + input.shape` for one argument.

    Example:
        >>> import chainrule
        >>> from chainrule.func import hessian
        >>> hessian(lambda x: (x ** 3).sum())(chainrule.tensor([1.0, 2.0]))
        tensor([[ 6.,  0.],
                [ 0., 12.]])
    """
    return jacfwd(jacrev(func, argnums), argnums)


def jet(func: Callable, primals: tuple, series: tuple) -> tuple:
    """Taylor mode, with the API of JAX's `jax.experimental.jet.jet`: `series` gives, for each
    primal, the derivatives x_1, ..., x_K of a path x(s) = x_0 + sum_k x_k s**k / k! through
    it; the result is `(func(*primals), [y_1, ..., y_K])`, the derivatives of y(s) =
    func(x(s)) at s = 0 (for a pytree output, each leaf holds its list). With x_1 = v and the
    other terms zero, y_k is the k-th directional derivative D^k f(x)[v, ..., v].

    Computed by nesting K dual levels along the scalar s, each op's jvp differentiated at the
    outer levels (exact, as every forward-over-forward): the cost grows as 2**K evaluations
    of func, where JAX's Taylor-mode rules grow as K**2, so it suits the small K it is used
    with.

    Args:
        func (Callable): returns a Tensor or a pytree of Tensors.
        primals (tuple): the point x_0, one entry per positional argument of `func`.
        series (tuple): for each primal, the tuple (x_1, ..., x_K) of its path's derivatives,
            each a Tensor shaped as the primal or a number; every primal has the same K.

    Returns:
        tuple: `(func(*primals), [y_1, ..., y_K])`.

    Example:
        >>> import chainrule
        >>> from chainrule.func import jet
        >>> x = chainrule.tensor(0.5, dtype=chainrule.float64)
        >>> value, (d1, d2, d3) = jet(chainrule.sin, (x,), ((chainrule.ones_like(x), 0.0, 0.0),))
        >>> [round(float(d), 6) for d in (d1, d2, d3)]      # cos, -sin, -cos at 0.5
        [0.877583, -0.479426, -0.877583]
    """
    if not isinstance(primals, tuple) or not isinstance(series, tuple):
        raise TypeError(
            "jet(f, primals, series): expected primals and series to be tuples, one series of "
            "derivatives per primal, e.g. jet(f, (x,), ((v, 0.0),))"
        )
    primal_leaves, primal_spec = tree_flatten(primals)
    if len(series) != len(primals):
        raise ShapeError(
            f"jet: {len(primals)} primals but {len(series)} series; give one series each"
        )
    terms: list[list] = []
    for primal, terms_of in zip(primals, series):
        flat = [tree_flatten(term)[0] for term in terms_of]
        if any(len(leaves) != len(tree_flatten(primal)[0]) for leaves in flat):
            raise ShapeError("jet: every term of a series must have its primal's structure")
        terms.append(flat)
    order = len(terms[0]) if terms else 0
    if any(len(flat) != order for flat in terms):
        raise ShapeError("jet: every series must have the same number of terms")
    leaf_terms = [  # leaf_terms[i][k - 1]: the k-th derivative of primal leaf i
        list(column) for flat in terms for column in zip(*flat)
    ] or [[] for _ in primal_leaves]
    inputs = [as_tensor(p) for p in primal_leaves]
    dtype = inputs[0].dtype if inputs else None
    with contextlib.ExitStack() as levels:
        s = zeros((), dtype=dtype)
        for _ in range(order):
            levels.enter_context(fwAD.dual_level())
            s = fwAD.make_dual(s, zeros((), dtype=dtype) + 1.0)
        path = []
        for x, derivatives in zip(inputs, leaf_terms):
            point, power = x, None
            for k, term in enumerate(derivatives, start=1):
                power = s if power is None else power * s  # s**k by products: exact at 0
                point = point + as_tensor(term) * (power / math.factorial(k))
            path.append(point)
        output = func(*tree_unflatten(path, primal_spec))
        out_leaves, out_spec = tree_flatten(output)
        output_tensors(out_leaves, "jet")
        values, coefficients = [], []
        for leaf in out_leaves:
            values.append(leaf.detach())
            coefficients.append([_derivative(leaf, k, order) for k in range(1, order + 1)])
    if _all_numpy(primals):
        values = [v.numpy() for v in values]
        coefficients = [[c.numpy() for c in row] for row in coefficients]
    return tree_unflatten(values, out_spec), tree_unflatten(coefficients, out_spec)


def _derivative(leaf: Tensor, k: int, order: int) -> Tensor:
    """The k-th derivative along s of `leaf`, dual along s at `order` nested levels: its
    tangent at the innermost level, that tangent's at the next one out, k times."""
    value = leaf
    for level in range(order - 1, order - 1 - k, -1):
        tangent = fwAD.unpack_dual(value, level=level).tangent
        if tangent is None:
            return zeros_like(leaf.detach())
        value = tangent
    return value.detach()


# ---- functionalize -------------------------------------------------------------------------

_REMOVE_OPTIONS = ("mutations", "mutations_and_views")


def functionalize(func: Callable, *, remove: str = "mutations") -> Callable:
    """`func` as torch.func.functionalize gives it: PyTorch rewrites the in-place ops of a
    traced program as out-of-place ones (so that compilers and vmap see pure functions) and
    copies the mutations of inputs back, which changes no result. chainrule's transforms take
    in-place ops as they are, so the function runs as written; `remove` is checked.

    Args:
        func (callable): the function.
        remove (str): 'mutations' or 'mutations_and_views'.

    Returns:
        callable: a function computing what `func` computes.

    Example:
        >>> import chainrule
        >>> def f(x):
        ...     y = x.clone()
        ...     y.add_(1)
        ...     return y
        >>> chainrule.func.functionalize(f)(chainrule.zeros(2))
        tensor([1., 1.])
    """
    if remove not in _REMOVE_OPTIONS:
        raise RuntimeError(
            f"functionalize(f, remove='mutations'): received invalid argument for remove={remove}."
            " Valid options are:\n     remove='mutations': all inplace and out= operators will be"
            " removed from the program, and replaced with their out-of-place equivalents.\n"
            "     remove='mutations_and_views': In addition to the above, all aliasing operators "
            "{view} will be replaced with their non-aliasing counterparts, {view}_copy.\n"
        )

    @functools.wraps(func)
    def functionalized(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return functionalized
