"""Functions with derivatives written by hand, with JAX's names: `custom_vjp` (a forward that
saves residuals and a backward rule) and `custom_jvp` (a rule giving the output's tangent).

Both are built on `chainrule.autograd.Function`, so the engine needs nothing new: a call that
is being differentiated records one node (autograd/custom_rule.py's `RuleCall`) whose backward
asks the user's rule.
Rules written in chainrule ops are themselves differentiable, so derivatives of any order
follow: the residuals of `custom_vjp` are computed in the graph, and the reverse mode of a
`custom_jvp` function is the transpose of its (linear) tangent rule, taken by differentiating
the rule with respect to the tangents.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any

from chainrule._tensor import Tensor
from chainrule.autograd import api, grad_mode
from chainrule.autograd import forward_ad as fwAD
from chainrule.autograd.custom_rule import RuleCall, differentiated, has_tangents
from chainrule.errors import ShapeError
from chainrule.func._inputs import in_kind
from chainrule.func.pytree import tree_flatten, tree_unflatten
from chainrule.numpy._core import plain
from chainrule.ops.creation import zeros_like

__all__ = ["custom_jvp", "custom_vjp"]


# The custom_vjp functions whose fwd is running: a call of one inside its own fwd (as JAX's
# examples write `return f(x), residuals`) is just the function.
_IN_FWD: contextvars.ContextVar[frozenset] = contextvars.ContextVar("in_fwd", default=frozenset())


def _bound(fun: Callable, args: tuple, kwargs: dict) -> tuple:
    """Keyword arguments moved to their positions, as JAX resolves them."""
    if not kwargs:
        return args
    bound = inspect.signature(fun).bind(*args, **kwargs)
    bound.apply_defaults()
    if bound.kwargs:
        raise TypeError(f"{fun.__name__}: keyword-only arguments are not supported here")
    return bound.args


def _nondiff(nondiff_argnums: Sequence[int], count: int, name: str) -> tuple[int, ...]:
    numbers = tuple(n % count if -count <= n < count else n for n in nondiff_argnums)
    for number in numbers:
        if not 0 <= number < count:
            raise ValueError(f"{name}: nondiff_argnums {number} is out of range")
    return numbers


def _output_leaves(output: Any, name: str) -> tuple[list, Any]:
    leaves, spec = tree_flatten(output)
    for leaf in leaves:
        if not isinstance(leaf, Tensor):
            raise TypeError(
                f"{name}: the function must return Tensors (or pytrees of them), got "
                f"{type(leaf).__name__}"
            )
    return leaves, spec


def _gradients_for(
    result: Any, diff_args: Sequence[Any], arg_leaves: Sequence[list], name: str
) -> list:
    """The user's per-argument cotangents, flattened to one entry per Tensor leaf."""
    if not isinstance(result, (tuple, list)) or len(result) != len(diff_args):
        raise TypeError(
            f"{name}: the bwd rule must return a tuple with one cotangent per differentiable "
            f"argument ({len(diff_args)}), got "
            + (f"{len(result)}" if isinstance(result, (tuple, list)) else type(result).__name__)
        )
    grads = []
    for cotangent, leaves in zip(result, arg_leaves):
        if cotangent is None:
            grads.extend(None for leaf in leaves if isinstance(leaf, Tensor))
            continue
        cot_leaves = tree_flatten(cotangent)[0] if len(leaves) > 1 else [cotangent]
        if len(cot_leaves) != len(leaves):
            raise ShapeError(f"{name}: a cotangent does not have its argument's structure")
        for leaf, grad in zip(leaves, cot_leaves):
            if not isinstance(leaf, Tensor):
                continue
            if grad is not None and tuple(grad.shape) != tuple(leaf.shape):
                raise ShapeError(
                    f"{name}: the bwd rule returned a cotangent of shape {tuple(grad.shape)} "
                    f"for an argument of shape {tuple(leaf.shape)}"
                )
            grads.append(grad)
    return grads


class custom_vjp:  # noqa: N801 - JAX's name
    """A function whose reverse-mode derivative is given by `defvjp(fwd, bwd)`, as JAX's
    `jax.custom_vjp`: `fwd(*args)` returns `(output, residuals)` and `bwd(*nondiff_args,
    residuals, cotangent)` returns a tuple with one cotangent per differentiable argument
    (None for zero). Arguments listed in `nondiff_argnums` are passed to `bwd` first and get
    no gradient. Forward mode alone (`jvp`, `jacfwd`) is refused, as in JAX; forward over
    reverse (`hessian`, `jacfwd(grad(f))`) pushes the tangents through `fwd` and `bwd`.

    Args:
        fun (Callable): the function; its positional arguments are Tensors or pytrees of
            them, except those in `nondiff_argnums`.
        nondiff_argnums (sequence of ints): positions of arguments that get no gradient
            (Python numbers, flags, functions).

    Example:
        >>> import chainrule
        >>> from chainrule.func import custom_vjp, grad
        >>> @custom_vjp
        ... def clip_gradient(x):
        ...     return x
        >>> def fwd(x):
        ...     return x, None
        >>> def bwd(residuals, g):
        ...     return (g.clamp(-1.0, 1.0),)
        >>> clip_gradient.defvjp(fwd, bwd)
        >>> grad(lambda x: 3 * clip_gradient(x))(chainrule.tensor(2.0))
        tensor(1.)
    """

    def __init__(self, fun: Callable, nondiff_argnums: Sequence[int] = ()) -> None:
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = tuple(nondiff_argnums)
        self.fwd: Callable | None = None
        self.bwd: Callable | None = None

    def defvjp(self, fwd: Callable, bwd: Callable, symbolic_zeros: bool = False) -> None:
        """Set the forward rule `fwd(*args) -> (output, residuals)` and the backward rule
        `bwd(*nondiff_args, residuals, cotangent) -> tuple of cotangents`. `symbolic_zeros`
        is accepted for JAX's signature and ignored."""
        self.fwd, self.bwd = fwd, bwd

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        name = f"custom_vjp {self.fun.__name__}"
        if self.fwd is None or self.bwd is None:
            raise AttributeError(f"No VJP defined for custom_vjp function {name} using defvjp.")
        args = _bound(self.fun, args, kwargs)
        nondiff = _nondiff(self.nondiff_argnums, len(args), name)
        diff_args = [a for i, a in enumerate(args) if i not in nondiff]
        arg_leaves = [tree_flatten(a)[0] for a in diff_args]
        leaves = [leaf for each in arg_leaves for leaf in each]
        reverse = differentiated(leaves)
        if has_tangents(leaves) and not reverse:
            raise TypeError(
                f"can't apply forward-mode autodiff (jvp) to a custom_vjp function ({name})."
            )
        running = _IN_FWD.get()
        if not reverse or id(self) in running:
            return self.fun(*args)
        token = _IN_FWD.set(running | {id(self)})
        try:
            output, residuals = self.fwd(*args)
        finally:
            _IN_FWD.reset(token)
        out_leaves, out_spec = _output_leaves(output, name)
        nondiff_args = [args[i] for i in nondiff]
        bwd = self.bwd

        def vjp(grads: list) -> list:
            cotangent = tree_unflatten(grads, out_spec)
            result = bwd(*nondiff_args, residuals, cotangent)
            return _gradients_for(result, diff_args, arg_leaves, name)

        tensors = [plain(leaf) for leaf in leaves if isinstance(leaf, Tensor)]
        outputs = _recorded_in_kind(
            RuleCall([plain(o) for o in out_leaves], vjp, name), tensors, out_leaves
        )
        # Forward over reverse (jacfwd of grad): the tangents fwd's own ops gave the output.
        for index, leaf in enumerate(out_leaves):
            tangent = fwAD.tangent_of(leaf) if fwAD.current_level() is not None else None
            if tangent is not None:
                outputs[index] = in_kind(fwAD.make_dual(plain(outputs[index]), tangent), leaf)
        return tree_unflatten(outputs, out_spec)


class custom_jvp:  # noqa: N801 - JAX's name
    """A function whose derivative is given by a tangent rule, as JAX's `jax.custom_jvp`:
    `@f.defjvp` decorates `rule(*nondiff_args, primals, tangents)` returning `(output,
    output_tangent)`, linear in the tangents; `f.defjvps(*rules)` gives one rule per argument
    instead, `rule(tangent, output, *args)` (None for an argument with zero derivative).
    Forward mode calls the rule; reverse mode uses its transpose (the rule differentiated with
    respect to the tangents), so write the rule in chainrule ops.

    Args:
        fun (Callable): the function, evaluated as written for the output.
        nondiff_argnums (sequence of ints): positions of arguments that get no tangent; they
            are passed to the rule first.

    Example:
        >>> import chainrule
        >>> from chainrule.func import custom_jvp, grad
        >>> @custom_jvp
        ... def log1pexp(x):
        ...     return chainrule.log(1 + chainrule.exp(x))
        >>> @log1pexp.defjvp
        ... def log1pexp_jvp(primals, tangents):
        ...     (x,), (t,) = primals, tangents
        ...     return log1pexp(x), t * chainrule.sigmoid(x)
        >>> grad(log1pexp)(chainrule.tensor(100.0))   # autodiff of the formula gives nan
        tensor(1.)
    """

    def __init__(self, fun: Callable, nondiff_argnums: Sequence[int] = ()) -> None:
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.nondiff_argnums = tuple(nondiff_argnums)
        self.jvp: Callable | None = None

    def defjvp(self, jvp: Callable, symbolic_zeros: bool = False) -> Callable:
        """Set the tangent rule; returns it, so `@f.defjvp` works as a decorator."""
        self.jvp = jvp
        return jvp

    def defjvps(self, *jvps: Callable | None) -> None:
        """One tangent rule per argument, `rule(tangent, output, *args)`, summed."""
        fun = self.fun

        def rule(primals: tuple, tangents: tuple) -> tuple:
            output = fun(*primals)
            total = None
            for each, tangent in zip(jvps, tangents):
                if each is None:
                    continue
                term = each(tangent, output, *primals)
                total = term if total is None else total + term
            return output, zeros_like(output) if total is None else total

        self.jvp = rule

    def _rule(self, nondiff_args: list, primals: list, tangents: list, name: str) -> tuple:
        out = self.jvp(*nondiff_args, tuple(primals), tuple(tangents))
        if not isinstance(out, (tuple, list)) or len(out) != 2:
            raise TypeError(f"{name}: the jvp rule must return a pair (output, output_tangent)")
        return out

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        name = f"custom_jvp {self.fun.__name__}"
        if self.jvp is None:
            raise AttributeError(f"No JVP defined for custom_jvp function {name} using defjvp.")
        args = _bound(self.fun, args, kwargs)
        nondiff = _nondiff(self.nondiff_argnums, len(args), name)
        nondiff_args = [args[i] for i in nondiff]
        diff_args = [a for i, a in enumerate(args) if i not in nondiff]
        arg_leaves = [tree_flatten(a)[0] for a in diff_args]
        specs = [tree_flatten(a)[1] for a in diff_args]
        leaves = [leaf for each in arg_leaves for leaf in each]
        reverse, forward = differentiated(leaves), has_tangents(leaves)
        if not reverse and not forward:
            return self.fun(*args)
        if forward:
            unpacked = [_unpack(leaf) for leaf in leaves]
            primal_leaves = [primal for primal, _ in unpacked]
            tangent_leaves = [tangent for _, tangent in unpacked]
        else:
            primal_leaves, tangent_leaves = leaves, None
        primals = _rebuild(primal_leaves, arg_leaves, specs)
        if reverse:
            output = self._recorded(nondiff_args, primals, leaves, arg_leaves, specs)
        else:
            output = None
        if not forward:
            return output
        tangents = _rebuild(tangent_leaves, arg_leaves, specs)
        rule_output, tangent_out = self._rule(nondiff_args, primals, tangents, name)
        out_leaves, out_spec = _output_leaves(output if reverse else rule_output, name)
        tangent_out_leaves = tree_flatten(tangent_out)[0]
        duals = [
            in_kind(fwAD.make_dual(plain(o), plain(t)), o)
            for o, t in zip(out_leaves, tangent_out_leaves)
        ]
        return tree_unflatten(duals, out_spec)

    def _recorded(
        self, nondiff_args: list, primals: list, leaves: list, arg_leaves: list, specs: list
    ) -> Any:
        """The output (computed from `primals`) as one node whose vjp transposes the tangent
        rule at the arguments `leaves` (which keep any tangent an enclosing jvp gave them, so
        forward over reverse sees how the vjp moves)."""
        arguments = _rebuild(leaves, arg_leaves, specs)
        name = f"custom_jvp {self.fun.__name__}"
        with grad_mode.no_grad():
            output = self._call_fun(nondiff_args, primals)
        out_leaves, out_spec = _output_leaves(output, name)
        tensors = [plain(leaf) for leaf in leaves if isinstance(leaf, Tensor)]

        def vjp(grads: list) -> list:
            tangents = [
                zeros_like(leaf).requires_grad_(True) if isinstance(leaf, Tensor) else 0.0
                for leaf in leaves
            ]
            keep = grad_mode.is_grad_enabled()
            with grad_mode.enable_grad():
                tangent_tree = _rebuild(tangents, arg_leaves, specs)
                _, tangent_out = self._rule(nondiff_args, arguments, tangent_tree, name)
                outs = tree_flatten(tangent_out)[0]
                pairs = [(o, g) for o, g in zip(outs, grads) if o.requires_grad]
                wanted = [t for t in tangents if isinstance(t, Tensor)]
                if not pairs:
                    return [None] * len(wanted)
                return list(
                    api.grad(
                        [o for o, _ in pairs],
                        wanted,
                        [g for _, g in pairs],
                        create_graph=keep,
                        allow_unused=True,
                    )
                )

        call = RuleCall([plain(o) for o in out_leaves], vjp, name)
        return tree_unflatten(_recorded_in_kind(call, tensors, out_leaves), out_spec)

    def _call_fun(self, nondiff_args: list, primals: list) -> Any:
        count = len(primals) + len(nondiff_args)
        positions = _nondiff(self.nondiff_argnums, count, self.fun.__name__)
        diff, nondiff = iter(primals), iter(nondiff_args)
        args = [next(nondiff) if i in positions else next(diff) for i in range(count)]
        return self.fun(*args)


def _recorded_in_kind(call: RuleCall, tensors: list, out_leaves: list) -> list:
    """The call's outputs as one graph node (plain Tensors for the engine), each given back
    in the kind the user's function returned (a chainrule.numpy.ndarray stays one)."""
    outputs = call.record(tensors)
    return [in_kind(output, leaf) for output, leaf in zip(outputs, out_leaves)]


def _unpack(leaf: Any) -> tuple[Any, Any]:
    """(primal, tangent) of a leaf; a zero tangent where it carries none."""
    if not isinstance(leaf, Tensor):
        return leaf, 0.0
    primal, tangent = fwAD.unpack_dual(leaf)
    return primal, zeros_like(leaf) if tangent is None else tangent


def _rebuild(flat: list, arg_leaves: list, specs: list) -> list:
    """The flat leaves regrouped into the arguments' structures."""
    arguments, position = [], 0
    for leaves, spec in zip(arg_leaves, specs):
        arguments.append(tree_unflatten(flat[position : position + len(leaves)], spec))
        position += len(leaves)
    return arguments
