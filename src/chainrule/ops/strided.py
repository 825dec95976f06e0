# ruff: noqa: A002 - `input` is PyTorch's argument name throughout
"""as_strided and empty_strided: views of a tensor's memory block with any sizes, strides (in
elements) and offset, as PyTorch's. The memory block is the array the tensor's views were taken
from (`storage_offset()` counts from its start). Derivatives hold for results whose elements
do not overlap, as PyTorch documents: the cotangent is scattered into a zero copy of the block
at the result's positions and read back at the input's; the tangent goes the other way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chainrule.autograd.node import Node
from chainrule.backend import Array, Backend, dtypes
from chainrule.backend.dtypes import display_namespace
from chainrule.ops.arguments import normalize_size
from chainrule.ops.creation import empty, zeros
from chainrule.ops.indexing import index_add, take
from chainrule.ops.op import Op, apply
from chainrule.ops.shape import reshape
from chainrule.ops.views import element_addresses

if TYPE_CHECKING:  # annotations only
    from collections.abc import Sequence

    from chainrule._tensor import Tensor
    from chainrule.backend import device as Device
    from chainrule.backend.dtypes import dtype


def memory_block(backend: Any, x: Array) -> tuple[Array, int]:
    """The contiguous array x's views started from, and x's offset in it (elements): what
    PyTorch calls x's storage and storage_offset()."""
    root = x
    while True:
        parent = getattr(root, "base", None)
        if parent is not None and not isinstance(parent, type(x)):
            # NumPy's as_strided result holds its source behind an object that only carries
            # the array interface: walk through it, or an as_strided view's offset reads 0
            parent = getattr(parent, "base", None)
        if not isinstance(parent, type(x)):
            break
        root = parent
    if not (root.flags.c_contiguous or root.flags.f_contiguous):
        root = x  # a block we cannot address by element: x itself (it is contiguous below)
    distance = backend.data_ptr(x) - backend.data_ptr(root) if root is not x else 0
    return root, distance // x.itemsize


class UntypedStorage:
    """The memory block a tensor's elements live in, as bytes (torch.UntypedStorage, from
    `Tensor.untyped_storage()`): tensors that share memory share its `data_ptr()`. It
    describes the block of the backend's array; it does not own memory of its own.

    Args:
        block (Array): the backend array that owns the memory.
        backend (Backend): its backend.

    Example:
        >>> import chainrule
        >>> x = chainrule.zeros(2, 3)
        >>> x[1].untyped_storage().data_ptr() == x.data_ptr(), x.untyped_storage().nbytes()
        (True, 24)
    """

    def __init__(self, block: Array, backend: Backend) -> None:
        self._block = block
        self._backend = backend

    @property
    def device(self) -> Device:
        return self._backend.device

    @property
    def dtype(self) -> dtype:
        return dtypes.uint8

    def data_ptr(self) -> int:
        """The address of the block's first byte."""
        return self._backend.data_ptr(self._block)

    def nbytes(self) -> int:
        """The block's size in bytes."""
        return int(self._block.nbytes)

    def size(self) -> int:
        """The block's size in elements (bytes for an untyped storage)."""
        return self.nbytes() // self.element_size()

    def __len__(self) -> int:
        return self.size()

    def element_size(self) -> int:
        """The bytes per element (1 for an untyped storage)."""
        return self.dtype.itemsize

    def is_shared(self) -> bool:
        """False: chainrule does not move storages to shared memory."""
        return False

    def tolist(self) -> list:
        """The block's elements as Python numbers."""
        return self._values().tolist()

    def __getitem__(self, index: int) -> Any:
        return self._values()[index].item()

    def _values(self) -> Any:
        host = self._backend.to_numpy(self._block)
        return host.reshape(-1).view(self.dtype.numpy) if host.size else host.reshape(-1)

    def _describe(self) -> str:
        return f"{display_namespace()}.storage.UntypedStorage(device={self.device})"

    def __repr__(self) -> str:
        values = self.tolist()
        body = " " + "\n ".join(str(value) for value in values)
        return f"{body}\n[{self._describe()} of size {len(values)}]"


class TypedStorage(UntypedStorage):
    """The memory block as elements of one dtype (torch.TypedStorage, from the deprecated
    `Tensor.storage()`).

    Args:
        block (Array): the backend array that owns the memory.
        backend (Backend): its backend.
        element_type (dtype): the elements' dtype.

    Example:
        >>> import chainrule, warnings
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     storage = chainrule.arange(4.0)[2:].storage()
        >>> storage.size(), storage.tolist()
        (4, [0.0, 1.0, 2.0, 3.0])
    """

    def __init__(self, block: Array, backend: Backend, element_type: dtype) -> None:
        super().__init__(block, backend)
        self._dtype = element_type

    @property
    def dtype(self) -> dtype:
        return self._dtype

    def _describe(self) -> str:
        return (
            f"{display_namespace()}.storage.TypedStorage(dtype={self.dtype}, device={self.device})"
        )


class AsStrided(Op):
    """A view of x's memory block with the given sizes, strides and offset. Derivative (for a
    result without overlapping elements): g scattered into zeros of the block's size at the
    result's positions, read at x's; tangent: t placed at x's positions, read at the
    result's."""

    is_view = True

    @staticmethod
    def forward(ctx: Node, x: Array, size: tuple, stride: tuple, offset: Any) -> Array:
        xp = ctx.xp
        root, start = memory_block(ctx.backend, x)
        if not (x.flags.c_contiguous or x.flags.f_contiguous) and root is x:
            raise NotImplementedError("as_strided: the input's memory is not one contiguous block")
        offset = start if offset is None else int(offset)
        needed = offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1 if all(size) else 0
        if needed > root.size or offset < 0:
            raise RuntimeError(
                f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset "
                f"{offset}, requiring a storage size of {needed * x.itemsize} are out of "
                f"bounds for storage of size {root.size * x.itemsize}"
            )
        x_strides = tuple(s // x.itemsize for s in x.strides)
        ctx.save(
            inside=element_addresses(xp, x.shape, x_strides, start),
            outside=element_addresses(xp, size, stride, offset),
            block=int(root.size),
        )
        flat = root.ravel(order="K")  # the block in memory order (a view, C or F order)
        byte_strides = tuple(s * x.itemsize for s in stride)
        return xp.lib.stride_tricks.as_strided(flat[offset:], shape=size, strides=byte_strides)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        block = zeros(ctx.block, dtype=g.dtype, device=g.device)
        filled = index_add(block, 0, reshape(ctx.outside, (-1,)), reshape(g, (-1,)))
        return (take(filled, ctx.inside),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        block = zeros(ctx.block, dtype=t.dtype, device=t.device)
        filled = index_add(block, 0, reshape(ctx.inside, (-1,)), reshape(t, (-1,)))
        return take(filled, ctx.outside)

    @staticmethod
    def batch(b: Any, x: Any, size: tuple, stride: tuple, offset: Any) -> Any:
        """vmap, as torch.vmap: each example views its own memory, one batch stride after the
        one before; the offset is the first example's (storage_offset() inside vmap is the
        batched tensor's). A view reaching outside the example's elements is refused, as
        torch does: another example's memory would differ per example."""
        x = x if b.batched[0] else b.expand(x)
        array = x._array
        steps = tuple(s // array.itemsize for s in array.strides)
        start = memory_block(x._backend, array)[1]
        offset = start if offset is None else int(offset)
        if all(size) and array.size:
            # [first, last + 1), as torch words it
            reach = (offset, offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1)
            own = (start, start + sum((n - 1) * s for n, s in zip(array.shape[1:], steps[1:])) + 1)
            if reach[0] < own[0] or reach[1] > own[1]:
                raise RuntimeError(
                    f"result = tensor.as_strided({list(size)}, {list(stride)}, {offset}) can "
                    f"access memory outside of `tensor`. `result` can access some memory in "
                    f"range [{reach[0]}, {reach[1]}], but `tensor` can only access some memory "
                    f"in range [{own[0]}, {own[1]}]. This is not supported inside of vmap, "
                    "please try to rewrite the `as_strided` call as a sequence of view operations"
                )
        return apply(AsStrided, (x,), (b.size, *size), (steps[0], *stride), offset)


def as_strided(
    input: Tensor, size: Sequence[int], stride: Sequence[int], storage_offset: int | None = None
) -> Tensor:
    """A view of input's memory with the given size, stride (elements) and storage offset
    (default: input's own), as torch.as_strided. Writing through it writes input's memory.

    Args:
        input (Tensor): the tensor whose memory is viewed.
        size (sequence of ints): the view's shape.
        stride (sequence of ints): the step in elements along each dimension.
        storage_offset (int, optional): where the view starts in the memory, in elements.

    Example:
        >>> import chainrule
        >>> chainrule.arange(6.0).as_strided((2, 2), (1, 2))
        tensor([[0., 2.],
                [1., 3.]])
    """
    size = tuple(int(n) for n in normalize_size((size,)))
    stride = tuple(int(s) for s in normalize_size((stride,)))
    if len(size) != len(stride):
        raise RuntimeError(
            f"mismatch in length of strides and shape: {len(stride)} strides for {len(size)} sizes"
        )
    if any(s < 0 for s in stride):
        raise RuntimeError(
            f"as_strided: Negative strides are not supported at the moment, got strides: "
            f"{list(stride)}"
        )
    return apply(AsStrided, (input,), size, stride, storage_offset)


def empty_strided(
    size: Sequence[int],
    stride: Sequence[int],
    *,
    dtype: dtype | None = None,
    layout: object = None,
    device: Device | str | None = None,
    requires_grad: bool = False,
    pin_memory: bool = False,
) -> Tensor:
    """An uninitialized tensor of `size` laid out with `stride` (elements) in a block just big
    enough, as torch.empty_strided.

    Args:
        size (sequence of ints): the shape.
        stride (sequence of ints): the step in elements along each dimension.
        dtype (dtype, optional): the element type (the default dtype if None).
        layout (optional): accepted for PyTorch's signature (always strided).
        device (device or str, optional): where the memory lives.
        requires_grad (bool): whether autograd records operations on it.
        pin_memory (bool): accepted for PyTorch's signature.

    Example:
        >>> import chainrule
        >>> chainrule.empty_strided((2, 3), (1, 2)).stride()
        (1, 2)
    """
    size = tuple(int(n) for n in normalize_size((size,)))
    stride = tuple(int(s) for s in normalize_size((stride,)))
    needed = sum((n - 1) * s for n, s in zip(size, stride)) + 1 if all(size) else 0
    block = empty(needed, dtype=dtype, device=device)
    result = as_strided(block, size, stride, 0)
    return result.requires_grad_(True) if requires_grad else result
