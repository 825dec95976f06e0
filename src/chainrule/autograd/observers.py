"""Observers: what watches op calls and backward steps (anomaly mode, saved-tensor hooks, the
profiler, `viz.record_gradients`, vmap levels).

Rather than each adding a check to the hot path, they share one ContextVar, `observers`: None in
the common case, so `ops.op.apply` and the engine pay a single `is None` test; while any of them
is active it holds a tuple of `Observer`s, and apply and the engine divert to `observed_call` /
`observed_backward` below. This module is part of the autograd core: it knows no Tensor class.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextvars import ContextVar
from typing import Any

from chainrule.autograd.node import Node

# None while nothing observes; else the active observers, outermost first.
observers: ContextVar[tuple | None] = ContextVar("chainrule_observers", default=None)


class Observer:
    """Something that watches op calls and backward steps while it is registered.

    Every method does nothing by default. `forward_begin` returns a state handed back to
    `forward_end`; likewise for backward. Ops the observers themselves run are not observed.
    """

    # An observer that runs op calls itself (a vmap level) sets `intercept` to a method
    # intercept(op, inputs, params) -> the result, or NotImplemented to let the call go on. It is
    # asked before the others are told of the call, with observation still on.
    intercept: Any = None
    # Likewise for custom autograd.Functions: intercept_function(function, args, kwargs) -> the
    # result, or NotImplemented (vmap runs a Function's own `vmap` staticmethod this way).
    intercept_function: Any = None
    # An observer that records op calls to replay them (compile's tracer) sets this: random
    # numbers are then drawn inside an op (dropout's DropoutMask), where it can see them.
    records_random_ops = False

    def random_draw(self) -> None:
        """A random number generator is about to be used (vmap's `randomness` checks it)."""

    # vmap levels: how random functions draw inside vmap(randomness='same' | 'different').
    def per_example_draws(self) -> int | None:
        """How many independent draws a random function must make, one per example (a vmap
        level with randomness='different': its batch size); None for one shared draw."""
        return None

    def as_per_example(self, draws: Any) -> Any:
        """`draws`, whose first dimension holds per_example_draws() independent draws, as the
        tensor of one example (batched at this level)."""
        return draws

    def random_input(self, tensor: Any) -> Any:
        """`tensor` is a parameter of a random draw (bernoulli's probabilities, a normal's
        mean): vmap's randomness='same' refuses one batched at its level (as PyTorch);
        'different' returns it batched at its level, so the draw is made per example."""
        return tensor

    def forward_begin(self, op: type, inputs: Sequence[Any]) -> Any:
        return None

    def forward_end(
        self, op: type, inputs: Sequence[Any], outputs: tuple, node: Node | None, state: Any
    ) -> None:
        """`node` is the Node recorded for this call, or None when nothing was recorded."""

    def backward_begin(self, node: Node, grads: list) -> Any:
        return None

    def backward_end(self, node: Node, grads: list, input_grads: Any, state: Any) -> None:
        """`grads` are the cotangents of node's outputs; `input_grads` what its vjp returned
        (None for a leaf's AccumulateGrad)."""

    def backward_error(self, node: Node, error: BaseException, state: Any) -> None:
        """The step of `node` raised `error` (which is re-raised after every observer)."""

    # What happens to tensors outside op calls, for `chainrule.compile`'s tracer: it replays
    # array work without running the Python around it, so it must see every write and read.
    def host_read(self, tensor: Any, what: str) -> None:
        """Python is about to read `tensor`'s values (`item`, `tolist`, `numpy`, printing)."""

    def host_constant(self, array: Any) -> None:
        """A constant tensor is being made from a raw array computed outside ops (a mask)."""

    def inplace_write(self, target: Any, source: Any) -> None:
        """An in-place op is about to copy `source`'s values into `target`'s memory."""

    def grad_set(self, tensor: Any, value: Any) -> None:
        """`tensor.grad` is about to be assigned `value` (a Tensor or None)."""

    def effect(self, owner: Any, name: str, args: tuple) -> None:
        """`owner.<name>(*args)` is about to update arrays or `.grad`s outside ops (an
        optimizer's step, zero_grad); it then runs unobserved (see `observed_effect`)."""


def add_observer(observer: Observer) -> None:
    """Register `observer` in the current context (thread); innermost last."""
    current = observers.get() or ()
    observers.set((*current, observer))


def remove_observer(observer: Observer) -> None:
    """Unregister `observer` (by identity; a no-op if it is not registered)."""
    current = observers.get() or ()
    remaining = tuple(o for o in current if o is not observer)
    observers.set(remaining or None)


def observed_call(
    active: tuple, op: type, inputs: Sequence[Any], function: Callable, params: tuple
) -> Any:
    """`function(op, inputs, *params)` (ops.op.apply) with each observer told of its begin and
    end. The call itself and the observers' work run with observation off, so they are not seen
    twice or recursively."""
    for index in range(len(active) - 1, -1, -1):  # innermost first
        intercept = active[index].intercept
        if intercept is not None:
            result = intercept(op, inputs, params)
            if result is not NotImplemented:
                return result
    token = observers.set(None)
    try:
        states = [observer.forward_begin(op, inputs) for observer in active]
        results = function(op, inputs, *params)
        outputs = results if type(results) is tuple else (results,)
        node = None
        for output in outputs:
            node = getattr(output, "_node", None)
            if node is not None:
                break
        for index in range(len(active) - 1, -1, -1):  # innermost first, like nested `with`s
            active[index].forward_end(op, inputs, outputs, node, states[index])
    finally:
        observers.reset(token)
    return results


def observed_function(active: tuple, function: type, inputs: Sequence[Any], run: Callable) -> Any:
    """A custom autograd.Function's call, `run()`, told to each observer as `observed_call`
    tells an op's: saved-tensor hooks pack what its ctx saved, anomaly mode keeps its forward
    trace, the profiler times it as one event. Its forward runs unobserved, as an op's does
    (under no_grad its ops record and save nothing), except by an observer that takes over op
    calls (vmap), which must see them."""
    token = observers.set(None)
    try:
        states = [observer.forward_begin(function, inputs) for observer in active]
    finally:
        observers.reset(token)
    intercepting = tuple(o for o in active if o.intercept is not None)
    token = observers.set(intercepting or None)
    try:
        results = run()
    finally:
        observers.reset(token)
    outputs = tuple(
        output
        for output in (results if type(results) is tuple else (results,))
        if hasattr(output, "_array")  # Tensors only: a Function may also return other values
    )
    node = next((o._node for o in outputs if o._node is not None), None)
    token = observers.set(None)
    try:
        for index in range(len(active) - 1, -1, -1):  # innermost first, like nested `with`s
            active[index].forward_end(function, inputs, outputs, node, states[index])
    finally:
        observers.reset(token)
    return results


def tell(active: tuple, method: str, *args: Any) -> None:
    """Call `method(*args)` of each active observer (`host_read`, `inplace_write`, ...)."""
    for observer in active:
        getattr(observer, method)(*args)


def observed_effect(active: tuple, owner: Any, name: str, *args: Any) -> Any:
    """`owner.<name>(*args)`, a call that updates raw arrays outside ops (`Optimizer.step`),
    told to each observer first and run with observation off (so it runs plainly)."""
    tell(active, "effect", owner, name, args)
    token = observers.set(None)
    try:
        return getattr(owner, name)(*args)
    finally:
        observers.reset(token)


def observed_backward(active: tuple, node: Node, grads: list, step: Callable, *args: Any) -> Any:
    """One engine step, `step(*args)`, seen by each observer. Ops inside the step (the vjp's own
    ops) stay observed: the profiler files them under this node, anomaly mode records them."""
    states = [observer.backward_begin(node, grads) for observer in active]
    try:
        result = step(*args)
    except BaseException as error:
        for index in range(len(active) - 1, -1, -1):
            active[index].backward_error(node, error, states[index])
        raise
    raised = None
    for index in range(len(active) - 1, -1, -1):  # every observer ends, even if one raises
        try:
            active[index].backward_end(node, grads, result, states[index])
        except Exception as error:  # e.g. anomaly mode's NaN check
            raised = raised or error
    if raised is not None:
        raise raised
    return result
