"""The history of views under in-place writes: PyTorch's CopySlices and view rebasing.

A view (`x[0]`, `x.t()`, `x.view(3, 2)`) shares its base's memory, so an in-place write into
it changes the base too, and a write into the base changes every view of it. The graph must
follow the memory:

- After a recorded write into a view, the base's history is `CopySlices`: the old base with
  the view's elements replaced by the written values. The view's own history becomes a region
  of that new base (`AsStridedBackward0`), so `d[i] += w` makes `d` depend on `w` even when
  `d` was a plain tensor, as in PyTorch.
- Any other view of the same base is stale after the write (its version no longer matches
  the shared version counter). It is brought up to date lazily, when next used by an op or
  asked for its `grad_fn`: it becomes a region of the base's current history.
- Forward mode follows the same memory: a write into a view gives the base's tangent the
  written values' tangent at the view's elements, and a stale view re-reads its tangent from
  the base's.

Both ops address elements by their flat, row-major position in the base, computed from the
view's strides and offset in the base's memory; their derivatives are a gather and a scatter
of those positions, in differentiable ops, so higher derivatives come for free.
"""

from __future__ import annotations

import math
from typing import Any

from chainrule._tensor import VIEW_MULTI_OUTPUT, VIEW_NO_GRAD, Tensor
from chainrule.autograd import grad_mode
from chainrule.autograd.forward_ad import _current_level, set_tangent, tangent_at
from chainrule.autograd.node import Node
from chainrule.backend import Array
from chainrule.errors import GradError, ShapeError
from chainrule.ops.complex import real_pairs, view_as_complex, view_as_real
from chainrule.ops.indexing import IndexAdd, IndexSelect, masked_fill
from chainrule.ops.op import Op, apply, named
from chainrule.ops.shape import reshape

# is_grad_enabled without its call layer, as ops/op.py reads it (per-op path)
_grad_enabled = grad_mode._grad_enabled.get


def element_positions(view: Tensor, base: Tensor) -> Array:
    """The flat row-major index in `base` of each element of `view`, which lies in base's
    memory: from the view's offset and strides (in elements) within the base. For a part of a
    complex base (`.real`, `.imag`), the index in the base's real pairs, `view_as_real(base)`."""
    if is_complex_over_real(view, base):  # the positions of the view's real pairs
        return element_positions(_pairs_of(view), base)
    backend = base._backend
    if hasattr(type(view._array), "first_example"):  # vmap's stand-in: one example's positions
        view = Tensor._from_array(view._array.first_example(), backend)
        base = Tensor._from_array(base._array.first_example(), backend)
    xp = backend.xp
    base_array, view_array = base._array, view._array
    itemsize = view_array.dtype.itemsize
    parts = 2 if is_part_of_complex(view, base) else 1
    if base_array.dtype.itemsize != itemsize * parts:
        raise GradError(
            f"in-place write into a view of dtype {view.dtype} of a tensor of dtype "
            f"{base.dtype}: the elements do not line up"
        )
    offset = (backend.data_ptr(view_array) - backend.data_ptr(base_array)) // itemsize
    addresses = element_addresses(xp, view_array.shape, _in_elements(view_array), offset)
    if base_array.flags.c_contiguous:  # a position is then its address
        return addresses
    elements = addresses // parts if parts > 1 else addresses  # the complex number's address
    base_addresses = element_addresses(xp, base_array.shape, _in_elements(base_array), 0)
    flat = base_addresses.reshape(-1)
    order = xp.argsort(flat)
    positions = order[xp.searchsorted(flat[order], elements)]
    return positions * parts + addresses % parts if parts > 1 else positions


def is_part_of_complex(view: Tensor, base: Tensor) -> bool:
    """Whether `view` is the real or imaginary part of its complex base (or a view of one)."""
    return base._array.dtype.kind == "c" and view._array.dtype.kind != "c"


def is_complex_over_real(view: Tensor, base: Tensor) -> bool:
    """Whether `view` reads its real base's pairs as complex numbers (view_as_complex)."""
    return view._array.dtype.kind == "c" and base._array.dtype.kind != "c"


def _pairs_of(view: Tensor) -> Tensor:
    """A complex view's memory as real (..., 2) pairs, outside the graph (for positions)."""
    return Tensor._from_array(real_pairs(view._backend.xp, view._array), view._backend)


def _region(view: Tensor, base: Tensor, positions: Array) -> Tensor:
    """The view's values as a region of its base's current history (AsStridedBackward0)."""
    region = apply(ViewRegion, (_addressed(view, base),), positions)
    return view_as_complex(region) if is_complex_over_real(view, base) else region


def _addressed(view: Tensor, base: Tensor) -> Tensor:
    """What `element_positions` addresses: the base, or a complex base's real pairs."""
    return view_as_real(base) if is_part_of_complex(view, base) else base


def _in_elements(array: Array) -> tuple:
    return tuple(stride // array.dtype.itemsize for stride in array.strides)


def element_addresses(xp: Any, shape: tuple, strides: tuple, offset: int) -> Array:
    """offset + sum_k i_k * strides[k] for every index (i_0, i_1, ...) of `shape`: where each
    element of a (shape, strides, offset) view lies, all counted in elements."""
    addresses = xp.full(shape, offset, dtype=xp.int64)
    for dim, (size, stride) in enumerate(zip(shape, strides)):
        steps = xp.arange(size, dtype=xp.int64) * stride
        addresses += steps.reshape((size,) + (1,) * (len(shape) - dim - 1))
    return addresses


class CopySlices(Op):
    """The base after an in-place write into one of its views: `base` with the elements at
    `positions` replaced by `values`. The write has already happened in memory; forward only
    names its result. Derivatives: g with those elements zeroed for the base, g's elements at
    the positions for the values. A view whose elements repeat memory (an expanded tensor
    filled in place) gives its values their gradients, each element its location's; the
    base's old history cannot take one, and backward refuses it, as PyTorch's."""

    vjp_reads_inputs = False

    @staticmethod
    def forward(
        ctx: Node, base: Array, values: Array, positions: Array, repeats: bool = False
    ) -> Array:
        ctx.save(
            positions=positions.reshape(-1),
            written=_written_mask(ctx.xp, base.shape, positions),
            repeats=repeats,
        )
        return base

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        if ctx.repeats and ctx.next_edges[0] is not None:
            raise ShapeError(
                "unsupported operation: more than one element of the written-to tensor refers "
                "to a single memory location. Please clone() the tensor before performing the "
                "operation."
            )
        grad_values = None
        if ctx.next_edges[1] is not None:
            grad_values = _gather(g, ctx.positions, ctx.input_meta[1][0])
        return masked_fill(g, ctx.written, 0), grad_values

    @staticmethod
    def jvp(ctx: Node, t_base: Any, t_values: Any) -> Any:
        shape, dtype = ctx.input_meta[0]
        if t_base is None:
            t_base = Tensor._from_array(ctx.xp.zeros(shape, dtype.numpy), ctx.backend)
        if t_values is None:
            return masked_fill(t_base, ctx.written, 0)
        return _replace_region(t_base, t_values, ctx.positions, ctx.written)

    @classmethod
    def node_name(cls) -> str:
        return "CopySlices"

    @staticmethod
    def batch(b: Any, base: Any, values: Any, positions: Array, repeats: bool = False) -> Any:
        """vmap: every example's base takes the write at the same positions."""
        base, values = (t if bat else b.expand(t) for t, bat in zip((base, values), b.batched))
        in_batch = _positions_in_batch(b.size, base, positions)
        return apply(CopySlices, (base, values), in_batch, repeats)


class ViewRegion(Op):
    """A view's values as the elements at `positions` of its base: the view's history after
    its base was written in place. Derivatives: a scatter of g into zeros of the base's shape
    (repeated positions add up), and a gather of the base's tangent."""

    vjp_reads_inputs = False

    @staticmethod
    def forward(ctx: Node, base: Array, positions: Array) -> Array:
        ctx.save(positions=positions.reshape(-1), shape=positions.shape)
        return ctx.xp.take(base, positions)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (_scatter(g, ctx.positions, ctx.input_meta[0][0]),)

    @staticmethod
    def jvp(ctx: Node, t_base: Any) -> Any:
        return _gather(t_base, ctx.positions, ctx.shape)

    @classmethod
    def node_name(cls) -> str:
        return "AsStridedBackward0"

    @staticmethod
    def batch(b: Any, base: Any, positions: Array) -> Any:
        """vmap: the same positions in every example's base."""
        return apply(ViewRegion, (base,), _positions_in_batch(b.size, base, positions))


def _positions_in_batch(size: int, base: Any, positions: Array) -> Array:
    """Flat positions in one example of `base` (batch first, `size` examples) as positions
    in the whole batched base, (size, *positions.shape)."""
    xp = base._backend.xp
    per_example = math.prod(base.shape[1:])
    starts = xp.arange(size, dtype=positions.dtype) * per_example
    return starts.reshape((size,) + (1,) * positions.ndim) + positions


def _written_mask(xp: Any, shape: tuple, positions: Array) -> Array:
    """True at the elements of a base of `shape` that a view at `positions` covers."""
    written = xp.zeros(shape, dtype=bool)
    written.reshape(-1)[positions.reshape(-1)] = True
    return written


def _replace_region(base: Any, values: Any, positions: Tensor, written: Tensor) -> Any:
    """`base` with `values` at the flat `positions` (`written` marks them), differentiably."""
    return masked_fill(base, written, 0) + _scatter(values, positions, tuple(base.shape))


def _gather(source: Any, positions: Tensor, shape: tuple) -> Any:
    """source's elements at the flat `positions` (a saved constant), shaped `shape`."""
    return reshape(apply(IndexSelect, (reshape(source, (-1,)), positions), 0), shape)


def _scatter(values: Any, positions: Tensor, shape: tuple) -> Any:
    """Zeros of `shape` with `values` added at the flat `positions` (a saved constant)."""
    size = 1
    for extent in shape:
        size *= extent
    xp = values._backend.xp
    zeros = Tensor._from_array(xp.zeros(size, dtype=values._array.dtype), values._backend)
    return reshape(apply(IndexAdd, (zeros, positions, reshape(values, (-1,))), 0), shape)


def _take_history(target: Tensor, source: Tensor) -> None:
    old_node, old_output_nr = target._node, target._output_nr
    target._node = source._node
    target._output_nr = source._output_nr
    target._requires_grad = source._requires_grad
    target._edge = None
    target._keep_retained_grad(old_node, old_output_nr)


def _as_before(base: Tensor) -> Tensor:
    """A tensor for the base's memory with its current place in the graph (an input for the
    node that replaces that place)."""
    before = Tensor._from_array(base._array, base._backend)
    _take_history(before, base)
    return before


def rebase_view(view: Tensor, values: Tensor, positions: Array | None = None) -> None:
    """After `values` were written into `view` in place while recording: the base's history
    becomes CopySlices of the write, and the view's a region of the new base. `positions`:
    element_positions(view, base), for callers that find them otherwise (vmap's batched
    views, from one example)."""
    base = view._base
    if positions is None:
        positions = element_positions(view, base)
    before = _as_before(base)
    if is_part_of_complex(view, base):  # the write replaces a part: the pairs' elements
        pairs = apply(CopySlices, (view_as_real(before), values), positions)
        written = named(view_as_complex(pairs), "CopySlices")
    elif is_complex_over_real(view, base):  # complex numbers written into real pairs
        written = apply(CopySlices, (before, view_as_real(values)), positions)
    else:
        written = apply(CopySlices, (before, values), positions, view._repeats_memory())
    if written._requires_grad:
        _take_history(base, written)
        _take_history(view, _region(view, base, positions))
    view._view_version = view._version_counter.value


def write_view_tangents(view: Tensor, values: Tensor) -> None:
    """Forward mode, before `values` are written into `view`: at each active level, the
    base's tangent takes values' tangent (zeros where it has none) at the view's elements,
    and the view's tangent becomes that region."""
    base = view._base
    part = is_part_of_complex(view, base)
    positions = written = None
    for level in _current_level.get() or ():
        t_values = tangent_at(values, level)
        t_base = tangent_at(base, level)
        if t_values is None and t_base is None:
            continue
        if positions is None:
            found = element_positions(view, base)
            shape = base._array.shape + ((2,) if part else ())
            mask = _written_mask(base._backend.xp, shape, found)
            written = Tensor._from_array(mask, base._backend)
            positions = Tensor._from_array(found.reshape(-1), base._backend)
        if t_base is None:
            t_base = base.new_zeros(base.shape)
        t_values = view.new_zeros(view.shape) if t_values is None else t_values.to(view.dtype)
        if part:  # the part's elements replaced in the tangent's real pairs
            pairs = _replace_region(view_as_real(t_base), t_values, positions, written)
            set_tangent(base, view_as_complex(pairs), level)
        elif is_complex_over_real(view, base):
            replaced = _replace_region(t_base, view_as_real(t_values), positions, written)
            set_tangent(base, replaced, level)
        else:
            set_tangent(base, _replace_region(t_base, t_values, positions, written), level)
        set_tangent(view, t_values, level)


def _refresh_tangents(view: Tensor, levels: tuple) -> None:
    base = view._base
    positions = None
    for level in levels:
        t_base = tangent_at(base, level)
        if t_base is None:
            continue
        if positions is None:
            positions = element_positions(view, base)
        flat = Tensor._from_array(positions.reshape(-1), base._backend)
        source = view_as_real(t_base) if is_part_of_complex(view, base) else t_base
        if is_complex_over_real(view, base):
            pairs = _gather(source, flat, tuple(view.shape) + (2,))
            set_tangent(view, view_as_complex(pairs), level)
        else:
            set_tangent(view, _gather(source, flat, view.shape), level)


def refresh_view(view: Tensor) -> None:
    """Bring a stale view's history up to date (its base, or a view of it, was written in
    place since the view last took its history): it becomes a region of the base's current
    history, and under forward mode it re-reads its tangents from the base's. Without grad
    mode there is no history to record, and the view stays stale."""
    base = view._base
    levels = _current_level.get()
    if levels:
        _refresh_tangents(view, levels)
    if not _grad_enabled():
        return
    if view._view_kind == VIEW_NO_GRAD and base._requires_grad:
        raise GradError(
            "A view was created in no_grad mode and its base or another view of its base has "
            "been modified inplace with grad mode enabled. Given that this use case is "
            "ambiguous and error-prone, it is forbidden. You can clarify your code by moving "
            "both the view and the inplace either both inside the no_grad block (if you don't "
            "want the inplace to be tracked) or both outside (if you want the inplace to be "
            "tracked)."
        )
    if view._view_kind == VIEW_MULTI_OUTPUT and base._requires_grad:
        name = view._node.name() if view._node is not None else "a multi-output view op"
        raise GradError(
            f"Output {view._output_nr} of {name} is a view and its base or another view of "
            "its base has been modified inplace. This view is the output of a function that "
            "returns multiple views. Such functions do not allow the output views to be "
            "modified inplace. You should replace the inplace operation by an out-of-place one."
        )
    if base._requires_grad:
        positions = element_positions(view, base)
        _take_history(view, _region(view, base, positions))
    view._view_version = view._version_counter.value


def check_view_write(view: Tensor, op_name: str) -> None:
    """Refuse, as PyTorch does, a recorded in-place write into a view that cannot be rebased:
    a view of a leaf that requires grad, one of several views returned together, one made in
    no_grad mode of a tensor that requires grad (check_overlap refuses overlapping ones)."""
    base = view._base
    kind = view._view_kind
    if kind == VIEW_MULTI_OUTPUT:
        name = view._node.name() if view._node is not None else "a multi-output view op"
        raise GradError(
            f"{op_name}: Output {view._output_nr} of {name} is a view and is being modified "
            "inplace. This view is the output of a function that returns multiple views. "
            "Such functions do not allow the output views to be modified inplace. You should "
            "replace the inplace operation by an out-of-place one."
        )
    if kind == VIEW_NO_GRAD and base._requires_grad:
        raise GradError(
            f"{op_name}: A view was created in no_grad mode and is being modified inplace with "
            "grad mode enabled. Given that this use case is ambiguous and error-prone, it is "
            "forbidden. You can clarify your code by moving both the view and the inplace "
            "either both inside the no_grad block (if you don't want the inplace to be "
            "tracked) or both outside (if you want the inplace to be tracked)."
        )
    if base._node is None and base._requires_grad:
        raise GradError(
            f"{op_name}: a view of a leaf Variable that requires grad is being used in an "
            "in-place operation."
        )


def _shares_memory(xp: Any, dims: list) -> bool:
    """Whether two elements of a layout of (stride, size) dimensions share a byte address,
    counted exactly (strides that interleave, as `as_strided((3, 3), (3, 2))`, need not); a
    layout of more than a million elements is taken to."""
    if math.prod(size for _, size in dims) > 1 << 20:
        return True
    addresses = xp.zeros(1, dtype=xp.int64)
    for stride, size in dims:
        addresses = (addresses[:, None] + xp.arange(size, dtype=xp.int64) * stride).reshape(-1)
    return int(xp.unique(addresses).size) < int(addresses.size)


def check_overlap(view: Tensor, op_name: str, recording: bool) -> None:
    """An in-place write where two elements share one memory location is ambiguous. An
    expanded view is refused, as PyTorch does. Overlapping windows (`unfold` with a step
    smaller than its size) take a write as a copy in memory order, the later window winning,
    as PyTorch's; a recorded one is refused: PyTorch runs it element by element in memory
    order, while chainrule computes it out of place, so the values (and the gradient) would
    differ."""
    array = view._array
    if type(array) is not view._backend.array_type:  # vmap's per-example view: no strides
        return
    if array.size == 0:  # no element to share a location (NumPy may give it 0 strides)
        return
    dims = sorted(
        (abs(stride), size) for size, stride in zip(array.shape, array.strides) if size > 1
    )
    if any(stride == 0 for stride, _ in dims):
        raise ShapeError(
            f"{op_name}: unsupported operation: more than one element of the written-to "
            "tensor refers to a single memory location. Please clone() the tensor before "
            "performing the operation."
        )
    if not recording:
        return
    reach = 0  # the farthest byte the smaller dimensions reach: each stride must pass it
    for stride, size in dims:
        if stride <= reach and _shares_memory(view._backend.xp, dims):
            raise ShapeError(
                f"{op_name}: unsupported operation: the written-to tensor's elements overlap "
                f"in memory (strides {array.strides} for shape {tuple(array.shape)}, as "
                "`unfold` with a step smaller than its size makes). Please clone() the tensor "
                "before performing the operation."
            )
        reach += stride * (size - 1)
