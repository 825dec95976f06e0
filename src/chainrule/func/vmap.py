"""vmap: a function of one example mapped over a batch, with per-op batching rules
(torch.func.vmap's semantics).

Inside `vmap(f)(x)`, f sees a `BatchedTensor`: a Tensor whose shape is one example's (the
*logical* shape) while the whole batch lives in its physical tensor, the batch dimension first.
The batched tensor's `_array` is a `StandIn` carrying the logical shape and dtype, so the public
op functions validate and normalize their arguments per example (`dim=-1` is the example's last
dimension) exactly as outside vmap; any attempt to read its values raises. Every op call reaches
`ops.op.apply`, whose observers (autograd/observers.py) hand it to the active vmap level: the op's
`batch` rule, written next to its forward and vjp, computes the batched result from the
physical tensors with ordinary ops, and the result is wrapped again. An op without a rule runs
once per example, with a warning naming it.

Differentiation. The physical computation is ordinary chainrule, so `grad(vmap(f))` and
`vmap(f)(x).sum().backward()` need nothing special. A transform *inside* vmap (`vmap(grad(f))`,
per-sample gradients) differentiates per example: each batched op records a node in the
logical graph whose vjp recomputes the op's batch rule on inputs that require grad, with the
unbatched ones broadcast along the batch (so each example gets its own gradient, not their
sum), and runs that small physical graph backward. Higher derivatives recurse the same way.

    >>> import chainrule
    >>> from chainrule.func import vmap
    >>> x = chainrule.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    >>> vmap(lambda row: row.sum(0))(x)
    tensor([ 3.,  7., 11.])
    >>> vmap(chainrule.dot, in_dims=(0, None))(x, chainrule.tensor([1.0, -1.0]))
    tensor([-1., -1., -1.])
"""

from __future__ import annotations

import functools
import itertools
import operator
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from chainrule._tensor import Tensor
from chainrule.autograd import forward_ad as fwAD
from chainrule.autograd import grad_mode
from chainrule.autograd import observers as _observers
from chainrule.autograd.engine import apply_node
from chainrule.autograd.function import Function
from chainrule.autograd.node import AccumulateGrad, Node
from chainrule.backend.dtypes import from_numpy_dtype
from chainrule.errors import DTypeError, GradError, ShapeError
from chainrule.func.pytree import holds_none, tree_flatten, tree_unflatten
from chainrule.ops import creation as _creation
from chainrule.ops import indexing as _indexing
from chainrule.ops import shape as _shape
from chainrule.ops import views as _views
from chainrule.ops.creation import zeros_like
from chainrule.ops.op import Op, apply, op_label
from chainrule.ops.reduction import sum as _reduce_sum

__all__ = ["BatchedTensor", "vmap"]

_grad_enabled = grad_mode._grad_enabled.get
_dual_level = fwAD._current_level.get
_level_numbers = itertools.count(1)
# Ops whose missing batch rule has been reported (warn once per op, as PyTorch does).
_warned_fallback: set[type] = set()


# ---- batched tensors ---------------------------------------------------------------------------


def _value_error(what: str) -> RuntimeError:
    return RuntimeError(
        f"vmap: {what} reads the values of a batched tensor, which differ per example; vmap "
        "cannot batch that. Rewrite it with tensor operations, or move it out of vmap."
    )


class _Flags:
    """What the public op functions ask of an array's flags."""

    __slots__ = ("c_contiguous",)
    f_contiguous = False
    writeable = False

    def __init__(self, c_contiguous: bool) -> None:
        self.c_contiguous = c_contiguous


_CONTIGUOUS, _STRIDED = _Flags(True), _Flags(False)


def _example_is_contiguous(physical: Any) -> bool:
    """Whether one example of a physical array (batch first) is row-major contiguous: so
    `contiguous()` copies a transposed batched tensor and `reshape` does not call a copy a
    view, as under PyTorch's vmap. A nested level's stand-in answers for itself."""
    if type(physical) is StandIn:
        return physical.flags.c_contiguous
    expected = physical.itemsize
    for size, stride in zip(reversed(physical.shape[1:]), reversed(physical.strides[1:])):
        if size != 1:
            if stride != expected:
                return False
            expected *= size
    return True


class StandIn:
    """The `_array` of a BatchedTensor: the logical shape and dtype, the physical `value` (a
    tensor, batch dimension first) and the vmap `level`.

    The public op functions read an operand's `_array` for its shape and dtype, and a few read
    index values to validate them or to build index arrays (targets of cross_entropy, offsets of
    nll_loss). So a StandIn is a small batched array: elementwise arithmetic, comparisons,
    `astype`, `reshape` and `numpy.where` give new StandIns (per example, the batch lined up);
    `any`, `all`, `min` and `max` answer for the whole batch, which is what a validity check
    needs. Everything else that would read values (int(), bool(), item, iteration, other NumPy
    functions) raises, so code bypassing the ops fails loudly instead of computing garbage."""

    __slots__ = ("shape", "ndim", "dtype", "size", "itemsize", "value", "level")
    __array_ufunc__ = None  # NumPy defers `array + stand_in` to our reflected operators

    def __init__(self, value: Tensor, level: _Level) -> None:
        physical = value._array
        shape = physical.shape[1:]
        size = 1
        for extent in shape:
            size *= extent
        self.shape = shape
        self.ndim = len(shape)
        self.dtype = physical.dtype
        self.size = size
        self.itemsize = physical.itemsize
        self.value = value
        self.level = level

    @property
    def flags(self) -> _Flags:
        return _CONTIGUOUS if _example_is_contiguous(self.value._array) else _STRIDED

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        raise _value_error(f"`.{name}`")

    def __repr__(self) -> str:
        return f"StandIn(shape={self.shape}, dtype={self.dtype}, level={self.level.number})"

    def batched_like(self, tensor: Tensor) -> BatchedTensor:
        """`tensor` (made by a factory such as zeros_like of this batched tensor) copied into
        every example, batched at this level and the ones outside it (creation.batched_like)."""
        xp = tensor._backend.xp
        copies = xp.broadcast_to(tensor._array, (self.level.size, *tensor._array.shape)).copy()
        physical = Tensor._from_array(copies, tensor._backend)
        outer = getattr(type(self.value._array), "batched_like", None)
        if outer is not None:
            physical = self.value._array.batched_like(physical)
        return _wrap(physical, self.level)

    def first_example(self) -> Any:
        """The first example's physical array (of every vmap level's batch): a view of a
        batched tensor lies in its base the same way in every example, so one example's
        element positions (ops/views.py) serve all."""
        array, levels = self, 0
        while type(array) is StandIn:
            array = array.value._array
            levels += 1
        return array[(0,) * levels]

    @property
    def strides(self) -> tuple[int, ...]:
        """Each example's strides (bytes): the physical array's without the batch's, as
        torch's batched tensors answer stride() inside vmap."""
        return self.value._array.strides[1:]

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise _value_error("this operation")

    __array__ = __int__ = __float__ = __index__ = __bool__ = __len__ = __iter__ = _refuse
    __setitem__ = _refuse
    __hash__ = object.__hash__

    # ---- a batched array, for the public functions' own array code ----
    def _physical(self, ndim: int) -> Any:
        """The physical array with size-1 dims after the batch up to `ndim` per example."""
        physical = self.value._array
        missing = ndim - self.ndim
        if missing:
            physical = physical.reshape((self.level.size,) + (1,) * missing + self.shape)
        return physical

    def _map(self, function: Callable, *operands: Any) -> StandIn:
        """function(*operands) per example; operands are StandIns of this level, arrays and
        numbers shared by every example."""
        ndim = 0
        for operand in operands:
            if type(operand) is StandIn and operand.level is not self.level:
                raise _value_error("mixing batched tensors of different vmap levels here")
            ndim = max(ndim, getattr(operand, "ndim", 0))
        physical = [o._physical(ndim) if type(o) is StandIn else o for o in operands]
        out = function(*physical)
        value = _batched_tensor(out) if type(out) is StandIn else Tensor._from_array(out)
        return StandIn(value, self.level)

    def _binary(function: Callable) -> Callable:  # noqa: N805 - builds the operator methods
        def forward(self: StandIn, other: Any) -> Any:
            return self._map(function, self, other)

        def reflected(self: StandIn, other: Any) -> Any:
            return self._map(function, other, self)

        return forward, reflected

    __add__, __radd__ = _binary(operator.add)
    __sub__, __rsub__ = _binary(operator.sub)
    __mul__, __rmul__ = _binary(operator.mul)
    __truediv__, __rtruediv__ = _binary(operator.truediv)
    __floordiv__, __rfloordiv__ = _binary(operator.floordiv)
    __mod__, __rmod__ = _binary(operator.mod)
    __pow__, __rpow__ = _binary(operator.pow)
    __and__, __rand__ = _binary(operator.and_)
    __or__, __ror__ = _binary(operator.or_)
    __xor__, __rxor__ = _binary(operator.xor)
    __eq__ = _binary(operator.eq)[0]  # type: ignore[assignment]
    __ne__ = _binary(operator.ne)[0]  # type: ignore[assignment]
    __lt__ = _binary(operator.lt)[0]
    __le__ = _binary(operator.le)[0]
    __gt__ = _binary(operator.gt)[0]
    __ge__ = _binary(operator.ge)[0]
    del _binary

    def __neg__(self) -> StandIn:
        return self._map(operator.neg, self)

    def __invert__(self) -> StandIn:
        return self._map(operator.invert, self)

    def __abs__(self) -> StandIn:
        return self._map(operator.abs, self)

    def astype(self, dtype: Any, copy: bool = True) -> StandIn:
        return self._map(lambda a: a.astype(dtype), self)

    def copy(self) -> StandIn:
        return self._map(lambda a: a.copy(), self)

    def reshape(self, *shape: Any) -> StandIn:
        shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], tuple) else shape
        size = self.level.size
        return self._map(lambda a: a.reshape((size, *shape)), self)

    def __array_function__(self, function: Any, types: Any, args: tuple, kwargs: dict) -> Any:
        if function.__name__ == "where" and len(args) == 3 and not kwargs:
            return self._map(function, *args)
        raise _value_error(f"numpy.{function.__name__}")

    # whole-batch answers, for validity checks such as `if (index < 0).any(): raise ...`
    def any(self) -> Any:
        return self.value._array.any()

    def all(self) -> Any:
        return self.value._array.all()

    def min(self) -> Any:
        return self.value._array.min()

    def max(self) -> Any:
        return self.value._array.max()

    def __getitem__(self, mask: Any) -> Any:
        raise _value_error("indexing a batched array")


class BatchedTensor(Tensor):
    """One example's view of a batch inside vmap: the logical shape outside, the whole batch
    (`_array.value`, batch dimension first) inside. Ops on it go to their batch rules."""

    __slots__ = ()

    def __repr__(self) -> str:
        array = self._array
        value = "\n".join("    " + line for line in repr(array.value).splitlines())
        return f"BatchedTensor(lvl={array.level.number}, bdim=0, value=\n{value}\n)"

    def detach(self) -> Tensor:
        array = self._array
        result = _wrap(array.value.detach(), array.level)
        result._version_counter = self._version_counter
        return result

    @property
    def data(self) -> Tensor:  # type: ignore[override]
        return self.detach()

    def item(self) -> Any:
        raise RuntimeError(
            "vmap: It looks like you're calling .item() on a Tensor. We don't support vmap over "
            "calling .item() on a Tensor, please try to rewrite what you're doing with other "
            "operations."
        )

    def __bool__(self) -> bool:
        raise RuntimeError(
            "vmap: It looks like you're attempting to use a Tensor in some data-dependent "
            "control flow. We don't support that yet: use chainrule.where or move the "
            "condition out of vmap."
        )

    def tolist(self) -> Any:
        raise _value_error("tolist()")

    def numpy(self, *, force: bool = False) -> Any:
        raise _value_error("numpy()")

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        raise _value_error("converting to an array")

    def _accumulate_grad(self, grad: Tensor, create_graph: bool, owned: bool = False) -> None:
        self._grad = grad if self._grad is None else self._grad + grad

    def _commit_inplace(self, op_name: str, result: Tensor, recording: bool) -> Tensor:
        """Write `result` into every example of the batch (the underlying tensor, in place)."""
        if result.shape != self.shape:
            raise ShapeError(
                f"{op_name}: output with shape {tuple(self.shape)} doesn't match the broadcast "
                f"shape {tuple(result.shape)}"
            )
        if result.dtype is not self.dtype and result.dtype.category > self.dtype.category:
            raise DTypeError(
                f"{op_name}: result type {result.dtype.name} can't be cast to the desired output "
                f"type {self.dtype.name}"
            )
        array = self._array
        level = array.level
        if recording:
            _keep_read_values(result._node, self)
        if _dual_level() is not None:  # forward mode: the written tangents, as Tensor's
            if self._base is not None:
                _views.write_view_tangents(self, result)
            else:
                fwAD.inplace_tangent(self, result)
        array.value.copy_(level.physical(result))
        self._version_counter.value += 1
        if recording and self._base is not None:  # the base's history takes the write
            if result._requires_grad and result.dtype is not self.dtype:
                result = result.to(self.dtype)
            _views.rebase_view(self, result)
        elif recording and result._requires_grad:
            if result.dtype is not self.dtype:
                result = result.to(self.dtype)
            self._node = result._node
            self._output_nr = result._output_nr
            self._requires_grad = True
            self._edge = None
        elif recording and self._node is not None:
            self._node = None
            self._output_nr = 0
            self._requires_grad = False
        return self


def _keep_read_values(node: Any, target: Tensor) -> None:
    """Before an in-place write into `target`: where the logical node that computed the new
    values read target or a tensor sharing its memory (`b.mul_(2)` reads b; `b[1:3] *= 2`
    writes b[1:3] back into b), it keeps a copy of those inputs' old physical values, as
    Tensor._commit_inplace keeps an op's saved input, so its recomputing vjp does not find them
    modified; and each such logical input becomes a snapshot with its history before the
    write, so a vjp recorded under create_graph (second derivatives) connects to the old
    values' history, not to the write's."""
    if node is None or not issubclass(node.op, _Batched):
        return
    counter = target._version_counter
    inputs = list(node.__dict__.get("inputs", ()))
    if not any(logical._version_counter is counter for logical in inputs):
        return
    values, versions = list(node.values), list(node.versions)
    snapshots: dict[int, Tensor] = {}
    for index, logical in enumerate(inputs):
        if logical._version_counter is not counter or type(logical) is not BatchedTensor:
            continue
        values[index] = values[index].clone()
        versions[index] = values[index]._version_counter.value
        snapshot = snapshots.get(id(logical))
        if snapshot is None:
            snapshot = snapshots[id(logical)] = _wrap(values[index], logical._array.level)
            snapshot._requires_grad = logical._requires_grad
            snapshot._node, snapshot._output_nr = logical._node, logical._output_nr
            if logical._node is None and logical._requires_grad:
                snapshot._edge = logical._gradient_edge()
        inputs[index] = snapshot
    node.__dict__["values"], node.__dict__["versions"] = tuple(values), tuple(versions)
    node.__dict__["inputs"] = tuple(inputs)


def _wrap(value: Tensor, level: _Level) -> BatchedTensor:
    """A BatchedTensor over `value`, whose first dimension is `level`'s batch."""
    return _batched_tensor(StandIn(value, level))


def _batched_tensor(array: StandIn) -> BatchedTensor:
    return Tensor._from_array(array, array.value._backend, cls=BatchedTensor)


def all_true(tensor: Tensor) -> bool:
    """Whether every element of `tensor` is true, in every example when vmap batches it: what
    PyTorch's `_is_all_true` answers there (its batch rule reduces over the batch too), so a
    check such as a distribution's validation of its arguments runs inside vmap.

    Example:
        >>> import chainrule
        >>> from chainrule.func.vmap import all_true, vmap
        >>> vmap(lambda x: chainrule.tensor(all_true(x > 0)))(chainrule.tensor([[1.0], [2.0]]))
        tensor([True, True])
    """
    return bool(debug_unwrap(tensor).all())


def debug_unwrap(tensor: Tensor, *, recurse: bool = True) -> Tensor:
    """The tensor under vmap's batching: its examples stacked on the first dimension (under
    nested vmaps, every level's unless `recurse=False`, which takes off one); any other tensor
    as it is. For debugging, as torch.func.debug_unwrap.

    Args:
        tensor (Tensor): a tensor, batched or not.
        recurse (bool): unwrap every vmap level (default), or only the innermost.

    Returns:
        Tensor: the physical tensor.

    Example:
        >>> import chainrule
        >>> from chainrule.func import debug_unwrap, vmap
        >>> _ = vmap(lambda x: print(tuple(debug_unwrap(x).shape)) or x)(chainrule.ones(2, 3))
        (2, 3)
    """
    while isinstance(tensor, BatchedTensor):
        tensor = tensor._array.value  # the examples stacked on the first dimension
        if not recurse:
            break
    return tensor


# ---- vmap levels and the op interpreter ---------------------------------------------------------


class _Level(_observers.Observer):
    """One active vmap call: its batch size and randomness mode. While registered as an
    observer, it takes over every op call that involves a tensor batched at this level."""

    def __init__(self, size: int, randomness: str) -> None:
        self.number = next(_level_numbers)
        self.size = size
        self.randomness = randomness

    def intercept(self, op: type, inputs: Sequence[Any], params: tuple) -> Any:
        for tensor in inputs:
            array = tensor._array
            if type(array) is StandIn and array.level is self:
                return _call(self, op, inputs, params)
        for param in params:
            if _holds_batched(param, self):
                return _call(self, op, inputs, params)
        return NotImplemented

    def random_draw(self) -> None:
        if self.randomness == "error":
            raise RuntimeError(
                "vmap: called random operation while in randomness error mode. Please either "
                "use the 'same' or 'different' randomness flags on vmap or perform the "
                "randomness operation out of vmap"
            )

    def per_example_draws(self) -> int | None:
        return self.size if self.randomness == "different" else None

    def as_per_example(self, draws: Tensor) -> BatchedTensor:
        return _wrap(draws, self)

    def random_input(self, tensor: Tensor) -> Tensor:
        array = tensor._array
        batched = type(array) is StandIn and array.level is self
        if self.randomness == "same" and batched:
            raise RuntimeError(
                "vmap: Vmap does not currently support same randomness with a batched tensor "
                "input (as PyTorch's): a random function's parameters (bernoulli's "
                "probabilities, normal's mean and std, multinomial's weights) differ per "
                "example. Use randomness='different'"
            )
        if self.randomness == "different" and not batched:
            return _wrap(self.expand(tensor), self)
        return tensor

    def intercept_function(self, function: type, args: tuple, kwargs: dict) -> Any:
        """A custom autograd.Function called with an argument batched at this level, that
        defines its own `vmap` staticmethod (and not generate_vmap_rule): the rule runs on the
        physical arguments, as torch.func.vmap runs it (_function_rule_call)."""
        rule = getattr(function, "vmap", None)
        if rule is None or getattr(function, "generate_vmap_rule", False):
            return NotImplemented
        if not any(_is_batched_at(a, self) for a in (*args, *kwargs.values())):
            return NotImplemented
        return _function_rule_call(self, function, args, kwargs)

    def forward_end(
        self, op: type, inputs: Sequence[Any], outputs: tuple, node: Any, state: Any
    ) -> None:
        """A custom autograd.Function ran its forward on tensors batched at this level (the
        generated rule: its ops were batched one by one, under no_grad): where the physical
        inputs are differentiated (a backward from outside vmap), the physical outputs get a
        node whose vjp is the Function's own backward, batched (_FunctionBridge)."""
        if node is None or not (isinstance(op, type) and issubclass(op, Function)):
            return
        if not any(_is_batched_at(t, self) for t in inputs):
            return
        _bridge(self, inputs, outputs, node)

    def physical(self, tensor: Tensor) -> Tensor:
        """`tensor`'s batch at this level, batch dimension first (broadcast if unbatched)."""
        array = tensor._array
        if type(array) is StandIn and array.level is self:
            return array.value
        return self.expand(tensor)

    def expand(self, tensor: Tensor) -> Tensor:
        """An unbatched tensor broadcast along a new leading batch dimension (a view)."""
        return _shape.expand(_shape.unsqueeze(tensor, 0), (self.size, *tensor.shape))


def _holds_batched(param: Any, level: _Level) -> bool:
    """Whether an op parameter carries an array batched at `level` (an index read through
    `tensor._array`, possibly inside a key tuple)."""
    if type(param) is StandIn:
        return param.level is level
    if type(param) is tuple:
        for item in param:
            if type(item) is StandIn and item.level is level:
                return True
    return False


class BatchCall:
    """What a batch rule receives first, as forward receives ctx: `op`, the batch `size`, and
    `batched[i]`, whether tensor input i carries the batch (as its first dimension) or is the
    same for every example. A rule `batch(b, *inputs, *params)` returns the op's result(s) with
    the batch first; parameters such as `dim` are in per-example terms, as the public function
    normalized them."""

    __slots__ = ("op", "level", "size", "batched")

    def __init__(self, op: type, level: _Level, batched: tuple) -> None:
        self.op = op
        self.level = level
        self.size = level.size
        self.batched = batched

    def expand(self, x: Tensor) -> Tensor:
        """An unbatched input broadcast along the batch (a view: no copy)."""
        return self.level.expand(x)

    def batch_all(self, values: Sequence[Tensor]) -> list:
        """Every input with the batch dimension first (unbatched ones broadcast)."""
        return [v if b else self.expand(v) for v, b in zip(values, self.batched)]

    def align(self, values: Sequence[Tensor], ndim: int | None = None) -> list:
        """Batched inputs with size-1 dimensions after the batch dimension, so that every
        input's per-example part has `ndim` (default: the largest) dimensions and NumPy
        broadcasting lines the batch up with the batch and nothing else."""
        batched = self.batched
        if ndim is None:
            ndim = max(v.ndim - 1 if b else v.ndim for v, b in zip(values, batched))
        aligned = []
        for value, is_batched in zip(values, batched):
            missing = ndim - (value.ndim - 1)
            if is_batched and missing > 0:
                shape = tuple(value.shape)
                value = _shape.reshape(value, (shape[0],) + (1,) * missing + shape[1:])
            aligned.append(value)
        return aligned

    def param(self, array: Any) -> tuple[Tensor, bool]:
        """An array parameter (an index read through `._array`) as a Tensor, and whether it is
        batched at this level (then its first dimension is the batch). Pass `tensor._array` on
        to the op."""
        if type(array) is StandIn:
            if array.level is self.level:
                return array.value, True
            return _batched_tensor(array), False
        return Tensor._from_array(array), False

    def loop(self, *args: Any) -> Any:
        """The fallback: the op once per example, the results stacked. Correct for any op, but
        one op call per example; warns once per op."""
        op = self.op
        if op not in _warned_fallback:
            _warned_fallback.add(op)
            warnings.warn(
                f"vmap: there is a performance drop because there is no batching rule for "
                f"{op_label(op)} ({op.__name__}) yet; it runs once per example.",
                UserWarning,
                stacklevel=2,
            )
        if not self.size:
            raise ValueError(f"vmap: {op_label(op)} has no batching rule to run on an empty batch")
        count = len(self.batched)
        values, params = args[:count], args[count:]
        results = []
        for index in range(self.size):
            inputs = tuple(v[index] if b else v for v, b in zip(values, self.batched))
            sliced = tuple(self._param_at(p, index) for p in params)
            results.append(apply(op, inputs, *sliced))
        if type(results[0]) is tuple:
            return tuple(_shape.stack(list(column)) for column in zip(*results))
        return _shape.stack(results)

    def _param_at(self, param: Any, index: int) -> Any:
        if type(param) is StandIn and param.level is self.level:
            return param.value[index]._array
        if type(param) is tuple and _holds_batched(param, self.level):
            return tuple(self._param_at(item, index) for item in param)
        return param


class _Compute:
    """An op's batched computation on physical inputs (its rule, or the loop), kept by the
    logical graph to recompute it when differentiating per example."""

    __slots__ = ("op", "level", "params")

    def __init__(self, op: type, level: _Level, params: tuple) -> None:
        self.op = op
        self.level = level
        self.params = params

    def __call__(self, values: Sequence[Tensor], batched: tuple) -> Any:
        """The rule's result: a tensor, or a tuple of them, each with the batch first."""
        op = self.op
        call = BatchCall(op, self.level, batched)
        rule = op.batch
        if rule is None:
            result = call.loop(*values, *self.params)
        else:
            result = rule(call, *values, *self.params)
        size = self.level.size
        for output in result if type(result) is tuple else (result,):
            shape = getattr(output, "shape", None)
            if not shape or shape[0] != size:
                raise GradError(
                    f"{op.__name__}.batch returned {type(output).__name__} of shape {shape}; "
                    f"expected a tensor whose first dimension is the batch of {size}"
                )
        return result


def _call(level: _Level, op: type, inputs: Sequence[Any], params: tuple) -> Any:
    """One op call of which some input is batched at `level`: the rule on the physical inputs,
    the results wrapped, and a logical node when an input requires grad."""
    for tensor in inputs:  # as Op.apply: a view whose base was written since takes it in
        if tensor._base is not None and tensor._view_version != tensor._version_counter.value:
            tensor._refresh_view()
    values, flags = _physical_inputs(level, inputs)
    record = op.differentiable and _grad_enabled() and any(t._requires_grad for t in inputs)
    dual = _dual_level() is not None and _any_tangent(inputs)
    if dual:
        _attach_tangents(level, inputs, values, flags)
    flags = tuple(flags)
    versions = tuple(v._version_counter.value for v in values) if record else ()
    compute = _Compute(op, level, params)
    result = compute(values, flags)
    is_tuple = type(result) is tuple
    physical = result if is_tuple else (result,)
    outputs = tuple(_wrap(value, level) for value in physical)
    if op.is_view:
        outputs[0]._become_view_of(inputs[0])
    if dual:
        _transfer_tangents(level, physical, outputs)
    if record:
        node = _record(
            _logical_op(op), level, tuple(inputs), tuple(values), flags, versions, compute
        )
        _attach(node, outputs)
    return outputs if is_tuple else outputs[0]


def _physical_inputs(level: _Level, inputs: Sequence[Any]) -> tuple[list, list]:
    """Each input's tensor at this level (the batch of a batched one) and whether it is
    batched."""
    values = []
    flags = []
    for tensor in inputs:
        array = tensor._array
        if type(array) is StandIn and array.level is level:
            values.append(array.value)
            flags.append(True)
        else:
            values.append(tensor)
            flags.append(False)
    return values, flags


# ---- forward mode: tangents travel with the physical tensors ------------------------------------


def _any_tangent(tensors: Sequence[Any]) -> bool:
    return any(t._extra is not None and fwAD.has_tangent(t) for t in tensors)


def _attach_tangents(level: _Level, inputs: Sequence[Any], values: list, flags: list) -> None:
    """Give the physical inputs the (physical) tangents of the logical ones at every active
    dual level, so the batched computation carries them forward; a shared input with a batched
    tangent is broadcast."""
    for depth, level_id in enumerate(_dual_level()):
        for index, tensor in enumerate(inputs):
            tangent = fwAD.tangent_at(tensor, level_id)
            if tangent is None:
                continue
            array = tangent._array
            if not flags[index]:
                if not (type(array) is StandIn and array.level is level):
                    continue  # shared, with a shared tangent: it carries it itself
                values[index] = level.expand(values[index])
                flags[index] = True
            values[index] = fwAD.make_dual(
                values[index], _physical_dual(level, tangent), level=depth
            )


def _physical_dual(level: _Level, tensor: Tensor) -> Tensor:
    """`tensor`'s batch at this level, carrying physically the tangents it carries logically
    (a tangent made dual inside vmap carries the outer levels' tangents only logically)."""
    values = [level.physical(tensor)]
    if tensor._extra is not None and fwAD.has_tangent(tensor):
        _attach_tangents(level, (tensor,), values, [True])
    return values[0]


def _transfer_tangents(level: _Level, physical: Sequence[Tensor], outputs: Sequence[Any]) -> None:
    for value, output in zip(physical, outputs):
        _mirror_tangents(value, output, level)


def _mirror_tangents(value: Tensor, tensor: Tensor, level: _Level) -> Tensor:
    """`tensor` (logical, over the physical `value`) given the physical tangents of `value` at
    the active dual levels, wrapped, and theirs in turn (an inner level's tangent carries the
    outer levels' ones: nested forward mode)."""
    levels = _dual_level()
    if levels is not None and value._extra is not None:
        for level_id in levels:
            tangent = fwAD.tangent_at(value, level_id)
            if tangent is not None:
                logical = _mirror_tangents(tangent, _wrap(tangent, level), level)
                fwAD.set_tangent(tensor, logical, level_id)
    return tensor


# ---- the logical graph: per-example differentiation ---------------------------------------------


class _Batched(Op):
    """A node of the per-example (logical) graph inside vmap, for one batched op call or one
    such call's vjp. Its vjp recomputes the batched computation on inputs that require grad,
    the unbatched ones broadcast along the batch so each example gets its own gradient, and
    runs that small physical graph backward. Under create_graph the vjp is recorded the same
    way, so higher derivatives recurse."""

    @staticmethod
    def forward(ctx: Node, *args: Any) -> Any:  # never run: the interpreter computes outputs
        raise NotImplementedError

    @staticmethod
    def vjp(ctx: Node, *grads: Any) -> tuple:
        level = ctx.level
        values = ctx.values
        # a view's vjp reads only its input's shape (Op.vjp_reads_inputs), so a write into the
        # base since (through this view or another) leaves it right, as PyTorch's backward
        compute = ctx.compute
        reads = True  # a vjp's own node reads everything
        if type(compute) is _Compute:
            reads = False if compute.op.is_view else compute.op.vjp_reads_inputs
        for index, (value, version) in enumerate(zip(values, ctx.versions)):
            if value._version_counter.value != version and _reads(reads, index, ctx.next_edges):
                raise GradError(
                    "one of the variables needed for gradient computation has been modified by "
                    f"an inplace operation: {ctx.name()} input {index} was at version {version} "
                    f"and is now at version {value._version_counter.value}. Clone it before "
                    "modifying it in place."
                )
        needs = tuple(edge is not None for edge in ctx.next_edges)
        grad_values = []
        grad_flags = []
        for grad in grads:
            array = grad._array
            if type(array) is StandIn and array.level is level:
                grad_values.append(array.value)
                grad_flags.append(True)
            else:
                grad_values.append(grad)
                grad_flags.append(False)
        compute = _VjpCompute(ctx.compute, level, needs, len(grads))
        logical_inputs = (*grads, *ctx.inputs)
        dual = _dual_level() is not None and _any_tangent(grads)
        if dual:  # forward over reverse (hessian = jacfwd(jacrev(f))) inside vmap
            _attach_tangents(level, grads, grad_values, grad_flags)
        all_values = (*grad_values, *values)
        all_flags = (*grad_flags, *ctx.flags)
        physical = compute(all_values, all_flags)
        outputs = tuple(_wrap(value, level) for value in physical)
        if dual or _dual_level() is not None:
            _transfer_tangents(level, physical, outputs)
        if _grad_enabled() and any(t._requires_grad for t in logical_inputs):
            versions = tuple(v._version_counter.value for v in all_values)
            node_op = _logical_op(ctx.op, backward=True)
            node = _record(node_op, level, logical_inputs, all_values, all_flags, versions, compute)
            _attach(node, outputs)
        results = iter(outputs)
        return tuple(next(results) if need else None for need in needs)


def _reads(reads: Any, index: int, edges: tuple) -> bool:
    """Whether an op's vjp reads input `index`'s values (Op.vjp_reads_inputs: True, False, a
    tuple of the inputs read, "others": each input read only for another's gradient, or a
    function of the index and the node's edges)."""
    if reads is True or reads is False:
        return reads
    if callable(reads):
        return reads(index, edges)
    if reads == "others":
        return any(edge is not None for other, edge in enumerate(edges) if other != index)
    return index in reads


class _VjpCompute:
    """The physical computation of a logical node's vjp: (output grads, inputs) -> the grads of
    the inputs that need one, each with the batch first."""

    __slots__ = ("compute", "level", "needs", "count")

    def __init__(self, compute: Any, level: _Level, needs: tuple, count: int) -> None:
        self.compute = compute
        self.level = level
        self.needs = needs
        self.count = count

    def __call__(self, values: Sequence[Tensor], batched: tuple) -> tuple:
        level = self.level
        count = self.count
        grads = [v if b else level.expand(v) for v, b in zip(values[:count], batched[:count])]
        inputs = list(values[count:])
        flags = list(batched[count:])
        with grad_mode.enable_grad():
            for index, need in enumerate(self.needs):
                if not need:
                    continue
                if not flags[index]:  # unbatched: broadcast, so its gradient is per example
                    inputs[index] = level.expand(inputs[index])
                    flags[index] = True
                elif not inputs[index]._requires_grad:
                    inputs[index] = _grad_alias(inputs[index])
            result = self.compute(inputs, tuple(flags))
        outputs = result if type(result) is tuple else (result,)
        input_grads = _backward(outputs, grads, inputs)
        results = []
        for index, need in enumerate(self.needs):
            if need:
                grad = input_grads[index]
                results.append(zeros_like(inputs[index]) if grad is None else grad)
        return tuple(results)


def _grad_alias(value: Tensor) -> Tensor:
    """A leaf requiring grad with `value`'s values (and tangents, if it carries any)."""
    alias = value.detach().requires_grad_(True)
    for depth, level_id in enumerate(_dual_level() or ()):
        tangent = fwAD.tangent_at(value, level_id)
        if tangent is not None:
            alias = fwAD.make_dual(alias, tangent, level=depth)
    return alias


_logical_ops: dict[tuple[type, bool], type] = {}


def _logical_op(op: type, backward: bool = False) -> type:
    """The node class for `op`'s calls in the logical graph, named after it (grad_fn, errors)."""
    key = (op, backward)
    node_op = _logical_ops.get(key)
    if node_op is None:
        name = op.__name__ if issubclass(op, _Batched) else f"Batched{op.__name__}"
        node_op = type(name + ("Backward" if backward else ""), (_Batched,), {})
        _logical_ops[key] = node_op
    return node_op


def _record(
    node_op: type,
    level: _Level,
    inputs: tuple,
    values: tuple,
    flags: tuple,
    versions: tuple,
    compute: Any,
) -> Node:
    """A logical node over `inputs` (their physical `values`) whose vjp recomputes `compute`."""
    node = Node(node_op, inputs[0]._backend)
    node.next_edges = tuple(t._gradient_edge() if t._requires_grad else None for t in inputs)
    node.input_meta = tuple((t._array.shape, from_numpy_dtype(t._array.dtype)) for t in inputs)
    node.save(
        level=level, inputs=inputs, values=values, flags=flags, versions=versions, compute=compute
    )
    return node


def _attach(node: Node, outputs: tuple) -> None:
    """`node` becomes the grad_fn of the floating and complex outputs (as Op.apply's)."""
    node.output_meta = tuple((o._array.shape, from_numpy_dtype(o._array.dtype)) for o in outputs)
    for output_nr, output in enumerate(outputs):
        if output._array.dtype.kind in "fcV":
            output._requires_grad = True
            output._node = node
            output._output_nr = output_nr


def _backward(outputs: Sequence[Tensor], grads: Sequence[Tensor], boundary: list) -> list:
    """The gradients reaching the `boundary` tensors from `outputs` (seeded with `grads`)
    through the physical graph between them only: the walk stops at every boundary tensor that
    requires grad, so it costs that graph's size, not the size of everything behind it. A
    tensor appearing twice in `boundary` gets its gradient once, at its first position."""
    stops: dict[int, list] = {}
    for position, tensor in enumerate(boundary):
        if tensor._requires_grad:
            node, output_nr = tensor._gradient_edge()
            stops.setdefault(id(node), []).append((position, output_nr))
    buffers: dict[int, list] = {}
    roots = []
    for output, grad in zip(outputs, grads):
        if not output._requires_grad:
            continue
        node, output_nr = output._gradient_edge()
        pending = buffers.get(id(node))
        if pending is None:
            pending = buffers[id(node)] = [None] * max(len(node.output_meta), 1)
            roots.append(node)
        if grad.dtype is not output.dtype:
            grad = grad.to(output.dtype)
        current = pending[output_nr]
        pending[output_nr] = grad if current is None else current + grad
    results: list = [None] * len(boundary)
    for node in _order(roots, stops):
        grads_in = buffers.pop(id(node), None)
        if grads_in is None:
            continue
        stop = stops.get(id(node))
        if stop is not None:
            taken = set()
            for position, output_nr in stop:
                if output_nr not in taken:
                    taken.add(output_nr)
                    results[position] = grads_in[output_nr]
            continue
        if type(node) is not AccumulateGrad:
            apply_node(node, grads_in, buffers, True)
    return results


def _order(roots: list, stops: dict) -> list:
    """Nodes reachable from `roots` without going past a stop, each after all its consumers
    (an iterative depth-first search, as the engine's)."""
    order: list = []
    visited: set[int] = set()
    for root in roots:
        if id(root) in visited:
            continue
        visited.add(id(root))
        stack = [(root, iter(() if id(root) in stops else root.next_edges))]
        while stack:
            node, edges = stack[-1]
            for edge in edges:
                if edge is not None and id(edge[0]) not in visited:
                    child = edge[0]
                    visited.add(id(child))
                    stack.append((child, iter(() if id(child) in stops else child.next_edges)))
                    break
            else:
                stack.pop()
                order.append(node)
    order.reverse()
    return order


# ---- custom autograd.Functions ----------------------------------------------------------------


def _is_batched_at(value: Any, level: _Level) -> bool:
    if not isinstance(value, Tensor):
        return False
    array = value._array
    return type(array) is StandIn and array.level is level


class VmapInfo:
    """What a Function's `vmap` staticmethod receives first, as torch.func.vmap's `info`: the
    batch size and the randomness mode of the vmap level."""

    __slots__ = ("batch_size", "randomness")

    def __init__(self, batch_size: int, randomness: str) -> None:
        self.batch_size = batch_size
        self.randomness = randomness


class _FunctionRule:
    """A Function's own `vmap` staticmethod on physical arguments (batch first or shared),
    returning its outputs with the batch first: the computation a logical node recomputes to
    differentiate per example, as an op's _Compute."""

    __slots__ = ("function", "level", "args", "kwargs", "positions")

    def __init__(self, function: type, level: _Level, args: tuple, kwargs: dict) -> None:
        self.function = function
        self.level = level
        self.args = args
        self.kwargs = kwargs
        self.positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]

    def __call__(self, values: Sequence[Tensor], batched: tuple) -> Any:
        args = list(self.args)
        in_dims = [None] * len(args)
        for position, value, flag in zip(self.positions, values, batched):
            args[position] = value
            in_dims[position] = 0 if flag else None
        level = self.level
        info = VmapInfo(level.size, level.randomness)
        result = self.function.vmap(info, tuple(in_dims), *args, **self.kwargs)
        if not (isinstance(result, tuple) and len(result) == 2):
            raise ValueError(
                f"{self.function.__name__}.vmap must return (outputs, out_dims), got "
                f"{type(result).__name__}"
            )
        outputs, out_dims = result
        single = not isinstance(outputs, tuple)
        outputs = (outputs,) if single else outputs
        if isinstance(out_dims, int) or out_dims is None:
            out_dims = (out_dims,) * len(outputs)
        if len(out_dims) != len(outputs):
            raise ValueError(
                f"{self.function.__name__}.vmap returned {len(outputs)} outputs but "
                f"{len(out_dims)} out_dims"
            )
        first = []
        for output, dim in zip(outputs, out_dims):
            if dim is None:
                output = level.expand(output)
            elif dim % output.ndim:
                output = _shape.movedim(output, dim, 0)
            first.append(output)
        return first[0] if single else tuple(first)


def _function_rule_call(level: _Level, function: type, args: tuple, kwargs: dict) -> Any:
    """A Function call through its `vmap` staticmethod; under grad, a logical node whose vjp
    recomputes the rule, so per-example gradients flow through the Function's backward."""
    tensors = [a for a in args if isinstance(a, Tensor)]
    values, flags = _physical_inputs(level, tensors)
    compute = _FunctionRule(function, level, args, kwargs)
    record = _grad_enabled() and any(t._requires_grad for t in tensors)
    versions = tuple(v._version_counter.value for v in values) if record else ()
    result = compute(values, tuple(flags))
    is_tuple = type(result) is tuple
    outputs = tuple(_wrap(value, level) for value in (result if is_tuple else (result,)))
    if record:
        node_op = _logical_op(_function_as_op(function))
        inputs = tuple(tensors)
        node = _record(node_op, level, inputs, tuple(values), tuple(flags), versions, compute)
        _attach(node, outputs)
    return outputs if is_tuple else outputs[0]


_function_ops: dict[type, type] = {}


def _function_as_op(function: type) -> type:
    """An Op class named after the Function, for the logical node's name (grad_fn, errors)."""
    op = _function_ops.get(function)
    if op is None:
        op = _function_ops[function] = type(function.__name__, (Op,), {})
    return op


class _FunctionBridge(Op):
    """The physical outputs of a Function whose forward ran batched (generated rule), as one
    node over the physical inputs: its vjp runs the Function's backward on the cotangents seen
    per example (the vmap level active again), a shared input's gradient summed over the
    batch."""

    differentiable = True

    @classmethod
    def node_name(cls) -> str:
        return "BatchedFunctionBackward"

    @staticmethod
    def forward(ctx: Node, *arrays_and_params: Any) -> Any:
        *_, node, level, flags, results = arrays_and_params
        ctx.save(node=node, level=level, flags=flags)
        return results if len(results) > 1 else results[0]

    @staticmethod
    def vjp(ctx: Node, *grads: Any) -> tuple:
        node, level, flags = ctx.node, ctx.level, ctx.flags
        with _active(level):
            logical = [None if grad is None else _wrap(grad, level) for grad in grads]
            logical = node.op.materialize_grads(node, logical)
            results = node.op.vjp(node, *logical)
        physical = []
        for result, flag, edge in zip(results, flags, ctx.next_edges):
            if result is None or edge is None:
                physical.append(None)
                continue
            value = level.physical(result)
            physical.append(value if flag else _reduce_sum(value, 0))
        return tuple(physical)


class _active:  # noqa: N801 - a context manager used as a function
    """The vmap level registered again while a Function's backward runs after vmap returned
    (a backward from outside), so its ops on per-example tensors are batched."""

    def __init__(self, level: _Level) -> None:
        self.level = level
        self.added = False

    def __enter__(self) -> None:
        if self.level not in (_observers.observers.get() or ()):
            _observers.add_observer(self.level)
            self.added = True

    def __exit__(self, *exc: Any) -> None:
        if self.added:
            _observers.remove_observer(self.level)


def _bridge(level: _Level, inputs: Sequence[Any], outputs: tuple, node: Any) -> None:
    """Give the physical outputs of a batched Function call a _FunctionBridge node when a
    physical input requires grad."""
    values, flags = _physical_inputs(level, inputs)
    if not (_grad_enabled() and any(v._requires_grad for v in values)):
        return
    if any(type(v._array) is StandIn for v in values):
        return  # batched at an outer level too: not bridged (nested vmap, backward outside)
    batched = [o for o in outputs if _is_batched_at(o, level)]
    if len(batched) != len(outputs) or not batched:
        return  # an unbatched output: nothing per example to bridge
    results = tuple(o._array.value._array for o in outputs)
    token = _observers.observers.set(None)
    try:
        bridged = apply(_FunctionBridge, tuple(values), node, level, tuple(flags), results)
    finally:
        _observers.observers.reset(token)
    for output, value in zip(outputs, bridged if type(bridged) is tuple else (bridged,)):
        output._array.value = value


# ---- vmap ---------------------------------------------------------------------------------------

_RANDOMNESS = ("error", "different", "same")


def vmap(
    func: Callable,
    in_dims: Any = 0,
    out_dims: Any = 0,
    randomness: str = "error",
    *,
    chunk_size: int | None = None,
) -> Callable:
    """`func` of one example mapped over a batch dimension of its inputs, with torch.func.vmap's
    semantics. Nests with itself and with grad: `vmap(grad(f))` gives per-sample gradients.

    Args:
        func (Callable): written for one example; returns a Tensor or a pytree of Tensors.
        in_dims (int, None or pytree): each argument's batch dimension: an int, None for an
            argument shared by every example, or a nested tuple/list/dict matching the
            arguments.
        out_dims (int or tuple of ints): where the batch dimension goes in each output.
        randomness (str): what random draws inside `func` do, as torch.func.vmap's: 'error'
            (the default) refuses them; 'different' draws independently for each example;
            'same' draws once and shares the draw across the batch (refusing a random
            function whose parameters are batched, such as bernoulli of per-example
            probabilities, as PyTorch does). With `chunk_size`, 'same' replays the default
            generators' state for every chunk, so all chunks share the draws too.
        chunk_size (int, optional): evaluate the batch this many examples at a time, to
            bound memory.

    Returns:
        Callable: taking the batched arguments and returning the outputs stacked along
        `out_dims`.

    Example:
        >>> import chainrule
        >>> from chainrule.func import grad, vmap
        >>> w = chainrule.tensor([1.0, 2.0])
        >>> xs = chainrule.tensor([[1.0, 0.0], [0.0, 3.0]])
        >>> vmap(grad(lambda w, x: (w * x).sum() ** 2), in_dims=(None, 0))(w, xs)
        tensor([[ 2.,  0.],
                [ 0., 36.]])
    """
    if randomness not in _RANDOMNESS:
        raise RuntimeError(
            f"Only allowed values for randomness are 'error', 'different', or 'same'. Got "
            f"{randomness}"
        )
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size <= 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")

    @functools.wraps(func)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        return _vmap_call(func, in_dims, out_dims, randomness, chunk_size, args, kwargs)

    return wrapped


def _name(func: Callable) -> str:
    return getattr(func, "__name__", None) or repr(func)


def _vmap_call(
    func: Callable,
    in_dims: Any,
    out_dims: Any,
    randomness: str,
    chunk_size: int | None,
    args: tuple,
    kwargs: dict,
) -> Any:
    name = _name(func)
    if not args:
        raise ValueError(
            f"vmap({name})(<inputs>): got no inputs. Maybe you forgot to add inputs, or you are "
            "trying to vmap over a function with no inputs. The latter is unsupported."
        )
    _check_out_dims(name, out_dims)
    leaves, spec = tree_flatten(args)
    dims = _flat_in_dims(name, in_dims, args)
    size = _batch_size(name, in_dims, leaves, dims)
    if chunk_size is not None and chunk_size < size:
        pieces = []
        replay = _creation.get_rng_state() if randomness == "same" else None
        for start in range(0, size, chunk_size):
            if replay is not None:  # every chunk draws what the first drew (PyTorch's)
                _creation.set_rng_state(replay)
            length = min(chunk_size, size - start)
            sliced = [
                leaf if dim is None else _indexing.narrow(leaf, dim, start, length)
                for leaf, dim in zip(leaves, dims)
            ]
            mapped = vmap(func, tree_unflatten(dims, spec), out_dims, randomness)
            pieces.append(mapped(*tree_unflatten(sliced, spec), **kwargs))
        return _join(name, out_dims, pieces, _shape.cat)
    level = _Level(size, randomness)
    _observers.add_observer(level)
    try:
        batched = [
            leaf if dim is None else _wrap_input(leaf, dim, level)
            for leaf, dim in zip(leaves, dims)
        ]
        output = func(*tree_unflatten(batched, spec), **kwargs)
    finally:
        _observers.remove_observer(level)
    out_leaves, out_spec = tree_flatten(output)
    if _is_dim(out_dims) and out_dims is not None and holds_none(out_spec):
        raise ValueError(
            f"vmap({name}, ...): `{name}` must only return Tensors, got type <class 'NoneType'>. "
            "Did you mean to set out_dims= to None for output?"
        )
    flat_out_dims = _flat_out_dims(name, out_dims, output, out_leaves)
    results = [
        _unwrap_output(name, leaf, dim, level) for leaf, dim in zip(out_leaves, flat_out_dims)
    ]
    return tree_unflatten(results, out_spec)


def _wrap_input(leaf: Tensor, dim: int, level: _Level) -> BatchedTensor:
    value = leaf if dim % leaf.ndim == 0 else _shape.movedim(leaf, dim, 0)
    tensor = _mirror_tangents(value, _wrap(value, level), level)  # a dual made outside vmap
    tensor._requires_grad = value._requires_grad  # differentiable inside too (MAML-style)
    return tensor


def _unwrap_output(name: str, leaf: Any, dim: Any, level: _Level) -> Any:
    if not isinstance(leaf, Tensor):
        if dim is None:
            return leaf
        raise ValueError(
            f"vmap({name}, ...): `{name}` must only return Tensors, got type {type(leaf)}. Did "
            "you mean to set out_dims= to None for output?"
        )
    array = leaf._array
    is_batched = type(array) is StandIn and array.level is level
    if dim is None:
        if is_batched:
            raise ValueError(
                f"vmap({name}, ...): `{name}` can not return a BatchedTensor when out_dim is None"
            )
        return leaf
    ndim = leaf.ndim + 1
    if not -ndim <= dim < ndim:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-ndim}, {ndim - 1}], but got "
            f"{dim})"
        )
    value = array.value if is_batched else level.expand(leaf)
    return value if dim % ndim == 0 else _shape.movedim(value, 0, dim)


def _batch_size(name: str, in_dims: Any, leaves: list, dims: list) -> int:
    sizes = []
    for leaf, dim in zip(leaves, dims):
        if dim is None:
            continue
        if not isinstance(leaf, Tensor):
            raise ValueError(
                f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={dim} for an input "
                f"but the input is of type {type(leaf)}. We cannot vmap over non-Tensor "
                "arguments, please use None as the respective in_dim"
            )
        ndim = leaf.ndim
        if not -ndim <= dim < ndim:
            raise ValueError(
                f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={dim} for some "
                f"input, but that input is a Tensor of dimensionality {ndim} so expected in_dim "
                f"to satisfy -{ndim} <= in_dim < {ndim}."
            )
        sizes.append(leaf.shape[dim])
    if not sizes:
        raise ValueError("vmap: Expected at least one Tensor to vmap over")
    if any(size != sizes[0] for size in sizes):
        raise ValueError(
            "vmap: Expected all tensors to have the same size in the mapped dimension, got "
            f"sizes {sizes} for the mapped dimension"
        )
    return sizes[0]


def _is_dim(value: Any) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool))


def _flat_in_dims(name: str, in_dims: Any, args: tuple) -> list:
    """One in_dim per leaf of `args`: an int or None applies to a whole (sub)tree."""
    if _is_dim(in_dims):
        return [in_dims] * len(tree_flatten(args)[0])
    if not isinstance(in_dims, tuple):
        raise ValueError(
            f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): expected `in_dims` to be int or a "
            f"(potentially nested) tuple matching the structure of inputs, got: {type(in_dims)}."
        )
    flat = _broadcast_prefix(in_dims, args)
    if flat is None:
        raise ValueError(
            f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): in_dims is not compatible with the "
            f"structure of `inputs`. in_dims has structure {tree_flatten(in_dims)[1]} but inputs "
            f"has structure {tree_flatten(args)[1]}."
        )
    return flat


def _check_out_dims(name: str, out_dims: Any) -> None:
    leaves = [out_dims] if _is_dim(out_dims) else tree_flatten(out_dims)[0]
    if not isinstance(out_dims, (int, tuple, list, type(None))) or not all(map(_is_dim, leaves)):
        raise ValueError(
            f"vmap({name}, ..., out_dims={out_dims}): `out_dims` must be an int, None or a python "
            "collection of ints representing where in the outputs the vmapped dimension should "
            "appear."
        )


def _flat_out_dims(name: str, out_dims: Any, output: Any, leaves: list) -> list:
    if _is_dim(out_dims):
        return [out_dims] * len(leaves)
    flat = _broadcast_prefix(out_dims, output)
    if flat is None and isinstance(out_dims, (tuple, list)) and len(out_dims) == 1:
        flat = _broadcast_prefix(out_dims[0], output)  # out_dims=(0,) for a single output
    if flat is None:
        raise ValueError(
            f"vmap({name}, ..., out_dims={out_dims})(<inputs>): out_dims is not compatible with "
            f"the structure of `outputs`. out_dims has structure {tree_flatten(out_dims)[1]} but "
            f"outputs has structure {tree_flatten(output)[1]}."
        )
    return flat


def _broadcast_prefix(prefix: Any, tree: Any) -> list | None:
    """`prefix` (a tree of ints/None matching the top of `tree`) spread over `tree`'s leaves,
    or None when the structures do not match."""
    if _is_dim(prefix):
        return [prefix] * len(tree_flatten(tree)[0])
    if isinstance(prefix, dict):
        if not isinstance(tree, dict) or set(prefix) != set(tree):
            return None
        keys = list(tree)
        children = [(prefix[key], tree[key]) for key in keys]
    elif isinstance(prefix, (tuple, list)):
        if type(prefix) is not type(tree) and not (
            isinstance(tree, tuple) and type(prefix) is tuple
        ):
            return None
        if len(prefix) != len(tree):
            return None
        children = list(zip(prefix, tree))
    else:
        return None
    flat: list = []
    for child_prefix, child in children:
        part = _broadcast_prefix(child_prefix, child)
        if part is None:
            return None
        flat.extend(part)
    return flat


def _join(name: str, out_dims: Any, pieces: list, join: Callable) -> Any:
    """The outputs of several calls (chunks or examples) joined along their out_dims."""
    first_leaves, out_spec = tree_flatten(pieces[0])
    flat_out_dims = _flat_out_dims(name, out_dims, pieces[0], first_leaves)
    columns = zip(*(tree_flatten(piece)[0] for piece in pieces))
    results = []
    for column, dim in zip(columns, flat_out_dims):
        if dim is None:
            results.append(column[0])
        elif not all(isinstance(v, Tensor) for v in column):
            raise ValueError(
                f"vmap({name}, ...): `{name}` must only return Tensors, got type "
                f"{type(column[0])}. Did you mean to set out_dims= to None for output?"
            )
        else:
            results.append(join(list(column), dim))
    return tree_unflatten(results, out_spec)
