"""HIPS autograd's way to declare a function with its own derivative: `primitive`, `defvjp`,
`defjvp` (and their `_argnum` forms).

`@primitive` wraps a function written on raw NumPy (or SciPy, or anything): called on Tensors,
it runs on their NumPy values and returns a Tensor; `defvjp` gives, for each argument, a
`vjpmaker(ans, *args, **kwargs)` returning `lambda g: gradient`, and `defjvp` a
`jvpfun(g, ans, *args, **kwargs)` returning the output's tangent. The rules receive Tensors:
written with `chainrule.numpy` they are differentiable, so higher derivatives follow (`ans` is
then recomputed in the graph, as HIPS passes a boxed `ans`).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Sequence
from typing import Any

from chainrule._tensor import Tensor
from chainrule.autograd import forward_ad as fwAD
from chainrule.autograd import grad_mode
from chainrule.autograd.custom_rule import RuleCall, differentiated, has_tangents
from chainrule.numpy._core import as_dtype, plain, tensor_of
from chainrule.numpy._ndarray import numpy_results


def primitive(f_raw: Callable) -> Callable:
    """Wrap `f_raw` (a function of NumPy values) so its derivative comes from `defvjp` and
    `defjvp` instead of tracing it, as HIPS autograd's `primitive`. Called on Tensors (or
    chainrule.numpy arrays), it runs `f_raw` on their NumPy values and returns an ndarray;
    called on plain NumPy data, it is `f_raw`.

    Args:
        f_raw (Callable): the function, written on raw NumPy values (never traced).

    Returns:
        Callable: the wrapped function, to give derivatives with `defvjp` and `defjvp`.

    Example:
        >>> import numpy as np
        >>> import chainrule.numpy as cnp
        >>> from chainrule.func import grad
        >>> @cnp.primitive
        ... def logsumexp(x):
        ...     m = np.max(x)
        ...     return m + np.log(np.sum(np.exp(x - m)))
        >>> cnp.defvjp(logsumexp, lambda ans, x: lambda g: g * cnp.exp(x - ans))
        >>> grad(logsumexp)(np.zeros(2))
        array([0.5, 0.5])
    """

    @functools.wraps(f_raw)
    def f_wrapped(*args: Any, **kwargs: Any) -> Any:
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        if not positions:
            return f_raw(*args, **kwargs)
        args = tuple(plain(a) for a in args)
        tensors = [args[i] for i in positions]
        values = list(args)
        for i in positions:
            values[i] = args[i].detach().numpy(force=True)
        answer = tensor_of(f_raw(*values, **kwargs), f_raw.__name__)
        device = tensors[0].device
        if answer.device != device:
            answer = answer.to(device)
        if differentiated(tensors):
            answer = _recorded(f_wrapped, answer, args, kwargs, positions)
        if has_tangents(tensors):
            answer = fwAD.make_dual(answer, _tangent(f_wrapped, answer, args, kwargs, positions))
        return numpy_results(answer)

    f_wrapped.fun = f_raw  # type: ignore[attr-defined]
    f_wrapped.vjps = {}  # type: ignore[attr-defined] - argnum -> vjpmaker(argnum, ans, ...)
    f_wrapped.jvps = {}  # type: ignore[attr-defined] - argnum -> jvpmaker(argnum, g, ans, ...)
    f_wrapped._is_autograd_primitive = True  # type: ignore[attr-defined]
    return f_wrapped


def _recorded(
    f_wrapped: Callable, answer: Tensor, args: tuple, kwargs: dict, positions: list
) -> Tensor:
    name = f_wrapped.__name__
    constant = answer
    tensors = [args[i] for i in positions]

    def vjp(grads: list) -> list:
        (g,) = grads
        # The answer as the rules see it: in the graph when this backward is differentiated
        # (by reverse mode, or by an enclosing forward mode: forward over reverse).
        traced = grad_mode._grad_enabled.get() or has_tangents(tensors)  # no wrapper call
        ans = f_wrapped(*args, **kwargs) if traced else constant
        results = []
        for i in positions:
            argument = args[i]
            if not argument.requires_grad:
                results.append(None)
                continue
            maker = f_wrapped.vjps.get(i)
            if maker is None:
                raise NotImplementedError(f"VJP of {name} wrt argnum {i} not defined")
            gradient = as_dtype(maker(i, ans, args, kwargs)(g), argument.dtype.numpy, name)
            results.append(gradient)
        return results

    return RuleCall([answer], vjp, name).record(tensors)[0]


def _tangent(
    f_wrapped: Callable, answer: Tensor, args: tuple, kwargs: dict, positions: list
) -> Tensor:
    name = f_wrapped.__name__
    unpacked = list(args)
    tangents = {}
    for i in positions:
        primal, tangent = fwAD.unpack_dual(args[i])
        unpacked[i] = primal
        if tangent is not None:
            tangents[i] = tangent
    ans = fwAD.unpack_dual(answer).primal
    total = None
    for i, tangent in tangents.items():
        maker = f_wrapped.jvps.get(i)
        if maker is None:
            raise NotImplementedError(f"JVP of {name} wrt argnum {i} not defined")
        term = tensor_of(maker(i, tangent, ans, tuple(unpacked), kwargs), name)
        total = term if total is None else total + term
    return as_dtype(total, answer.dtype.numpy, name).broadcast_to(answer.shape)


def defvjp_argnum(fun: Callable, vjpmaker: Callable) -> None:
    """One maker for every argument: `vjpmaker(argnum, ans, args, kwargs)` returns
    `lambda g: gradient`.

    Args:
        fun (Callable): a function wrapped by `primitive`.
        vjpmaker (Callable): `vjpmaker(argnum, ans, args, kwargs)` returning `lambda g: gradient`
            for argument argnum.

    Example:
        >>> import chainrule.numpy as cnp
        >>> @cnp.primitive
        ... def product(x, y):
        ...     return x * y
        >>> cnp.defvjp_argnum(product, lambda i, ans, args, kwargs: lambda g: g * args[1 - i])
        >>> from chainrule.func import grad
        >>> grad(product, argnums=(0, 1))(2.0, 5.0)
        (5.0, 2.0)
    """
    _check_primitive(fun, "defvjp_argnum")
    fun.vjps = _EveryArgnum(vjpmaker)  # type: ignore[attr-defined]


def defvjp(
    fun: Callable, *vjpmakers: Callable | None, argnums: Sequence[int] | None = None
) -> None:
    """The vjp of primitive `fun`: `vjpmakers[k](ans, *args, **kwargs)` returns `lambda g:
    gradient` for argument `argnums[k]` (0, 1, ... by default); None means a zero gradient.

    Args:
        fun (Callable): a function wrapped by `primitive`.
        *vjpmakers (Callable | None): one maker per argument: `maker(ans, *args, **kwargs)` returns
            `lambda g: gradient` (None: a zero gradient).
        argnums (Sequence[int], optional): the arguments the makers are for (0, 1, ... when None).

    Example:
        >>> import chainrule.numpy as cnp
        >>> @cnp.primitive
        ... def cube(x):
        ...     return x ** 3
        >>> cnp.defvjp(cube, lambda ans, x: lambda g: 3 * g * x ** 2)
        >>> from chainrule.func import grad
        >>> grad(cube)(2.0)
        12.0
    """
    _check_primitive(fun, "defvjp")
    numbers = itertools.count() if argnums is None else argnums
    vjps = dict(fun.vjps) if isinstance(fun.vjps, dict) else {}  # type: ignore[attr-defined]
    for number, maker in zip(numbers, vjpmakers):
        vjps[number] = _translated_vjp(maker)
    fun.vjps = vjps  # type: ignore[attr-defined]


def defjvp_argnum(fun: Callable, jvpmaker: Callable) -> None:
    """One tangent rule for every argument: `jvpmaker(argnum, g, ans, args, kwargs)`.

    Args:
        fun (Callable): a function wrapped by `primitive`.
        jvpmaker (Callable): `jvpmaker(argnum, g, ans, args, kwargs)` returning the output's tangent
            for tangent g of argument argnum.

    Example:
        >>> import chainrule.numpy as cnp
        >>> @cnp.primitive
        ... def product(x, y):
        ...     return x * y
        >>> cnp.defjvp_argnum(product, lambda i, g, ans, args, kwargs: g * args[1 - i])
        >>> from chainrule.func import jvp
        >>> jvp(product, (2.0, 5.0), (1.0, 0.0))
        (tensor(10., dtype=chainrule.float64), tensor(5., dtype=chainrule.float64))
    """
    _check_primitive(fun, "defjvp_argnum")
    fun.jvps = _EveryArgnum(jvpmaker)  # type: ignore[attr-defined]


def defjvp(
    fun: Callable, *jvpfuns: Callable | str | None, argnums: Sequence[int] | None = None
) -> None:
    """The jvp of primitive `fun`: `jvpfuns[k](g, ans, *args, **kwargs)` is the output's
    tangent for tangent `g` of argument `argnums[k]`; None means zero, and 'same' means `fun`
    is linear in that argument (the tangent is `fun` applied to `g` in its place).

    Args:
        fun (Callable): a function wrapped by `primitive`.
        *jvpfuns (Callable | str | None): one rule per argument: `rule(g, ans, *args, **kwargs)`
            returns the output's tangent for the argument's tangent g (None: zero; 'same': fun is
            linear in it).
        argnums (Sequence[int], optional): the arguments the rules are for (0, 1, ... when None).

    Example:
        >>> import chainrule.numpy as cnp
        >>> @cnp.primitive
        ... def cube(x):
        ...     return x ** 3
        >>> cnp.defjvp(cube, lambda g, ans, x: 3 * g * x ** 2)
        >>> from chainrule.func import jvp
        >>> jvp(cube, (2.0,), (1.0,))
        (tensor(8., dtype=chainrule.float64), tensor(12., dtype=chainrule.float64))
    """
    _check_primitive(fun, "defjvp")
    numbers = itertools.count() if argnums is None else argnums
    jvps = dict(fun.jvps) if isinstance(fun.jvps, dict) else {}  # type: ignore[attr-defined]
    for number, rule in zip(numbers, jvpfuns):
        jvps[number] = _translated_jvp(fun, rule)
    fun.jvps = jvps  # type: ignore[attr-defined]


class _EveryArgnum:
    """The rule table of a `_argnum` definition: the same maker for every argument."""

    def __init__(self, maker: Callable) -> None:
        self.maker = maker

    def get(self, argnum: int) -> Callable:
        return self.maker


def _translated_vjp(maker: Callable | None) -> Callable:
    if maker is None:
        return _zero_vjp
    if not callable(maker):
        raise TypeError(f"defvjp: a vjpmaker must be callable or None, got {maker!r}")

    def translated(argnum: int, ans: Any, args: tuple, kwargs: dict) -> Callable:
        return maker(ans, *args, **kwargs)

    return translated


def _zero_vjp(argnum: int, ans: Any, args: tuple, kwargs: dict) -> Callable:
    argument = args[argnum]

    def vjp(g: Any) -> Any:
        return argument.detach() * 0

    return vjp


def _translated_jvp(fun: Callable, rule: Callable | str | None) -> Callable:
    if rule is None:

        def zero(argnum: int, g: Any, ans: Any, args: tuple, kwargs: dict) -> Any:
            return ans.detach() * 0

        return zero
    if rule == "same":

        def linear(argnum: int, g: Any, ans: Any, args: tuple, kwargs: dict) -> Any:
            replaced = list(args)
            replaced[argnum] = g
            return fun(*replaced, **kwargs)

        return linear
    if not callable(rule):
        raise TypeError(f"defjvp: a jvpfun must be callable, None or 'same', got {rule!r}")

    def translated(argnum: int, g: Any, ans: Any, args: tuple, kwargs: dict) -> Any:
        return rule(g, ans, *args, **kwargs)

    return translated


def _check_primitive(fun: Callable, name: str) -> None:
    if not getattr(fun, "_is_autograd_primitive", False):
        raise TypeError(f"{name}: {fun!r} is not a primitive; decorate it with @primitive first")


__all__ = ["defjvp", "defjvp_argnum", "defvjp", "defvjp_argnum", "primitive"]
