# ruff: noqa: A002 - `input` is PyTorch's argument name throughout
"""Variable-length batches for the recurrent layers, with PyTorch's names and layout (public as
chainrule.nn.utils.rnn).

A `PackedSequence` holds a batch of sequences sorted by decreasing length and interleaved by
time step: `data` has the first step of every sequence, then the second step of every sequence
that has one, and so on, and `batch_sizes[t]` says how many sequences reach step t. nn.RNN,
nn.LSTM and nn.GRU take one and return one, stopping each sequence at its own length. Every
function here is made of differentiable indexing, so gradients flow through packing and
unpacking to any order.

>>> import chainrule
>>> from chainrule.nn.utils.rnn import pack_sequence, pad_packed_sequence
>>> packed = pack_sequence([chainrule.tensor([1.0, 2.0, 3.0]), chainrule.tensor([4.0])])
>>> packed.data, packed.batch_sizes
(tensor([1., 4., 2., 3.]), tensor([2, 1, 1]))
>>> padded, lengths = pad_packed_sequence(packed, batch_first=True)
>>> padded
tensor([[1., 2., 3.],
        [4., 0., 0.]])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from chainrule._tensor import Tensor
from chainrule.backend.dtypes import int64
from chainrule.errors import ShapeError
from chainrule.ops import creation
from chainrule.ops.reduction import sort
from chainrule.ops.shape import cat, stack

__all__ = [
    "PackedSequence",
    "invert_permutation",
    "pack_padded_sequence",
    "pack_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "unpack_sequence",
    "unpad_sequence",
]


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The permutation that undoes `permutation` (None stays None)."""
    if permutation is None:
        return None
    positions = creation.arange(permutation.numel(), device=permutation.device)
    return creation.empty_like(permutation).scatter_(0, permutation, positions)


class _PackedFields(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(_PackedFields):
    """A batch of sequences of different lengths, packed time step by time step.

    Build one with pack_padded_sequence or pack_sequence rather than by hand. A named tuple of
    four fields, as in PyTorch: `data` (sum of lengths, *) the packed steps; `batch_sizes` (an
    int64 CPU tensor) how many sequences reach each step; `sorted_indices`, the batch order by
    decreasing length (None when the batch came sorted), and `unsorted_indices`, its inverse.

    Args:
        data (Tensor): the packed steps.
        batch_sizes (Tensor): the number of sequences at each step, non-increasing.
        sorted_indices (Tensor, optional): the original index of each packed sequence.
        unsorted_indices (Tensor, optional): the inverse of sorted_indices (computed if None).

    Example:
        >>> import chainrule
        >>> from chainrule.nn.utils.rnn import pack_padded_sequence
        >>> padded = chainrule.tensor([[1.0, 0.0], [2.0, 3.0]])  # (batch, time)
        >>> pack_padded_sequence(padded, [1, 2], batch_first=True, enforce_sorted=False)
        PackedSequence(data=tensor([2., 1., 3.]), batch_sizes=tensor([2, 1]), sorted_indices=tensor([1, 0]), unsorted_indices=tensor([1, 0]))
    """  # noqa: E501

    def __new__(
        cls,
        data: Tensor,
        batch_sizes: Tensor | None = None,
        sorted_indices: Tensor | None = None,
        unsorted_indices: Tensor | None = None,
    ) -> PackedSequence:
        if batch_sizes is None:  # PyTorch's legacy form: PackedSequence((data, batch_sizes))
            data, batch_sizes = data
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """data moved or cast as Tensor.to does; the indices follow data's device, and
        batch_sizes stays an int64 CPU tensor."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        device = data.device
        sorted_indices = None
        if self.sorted_indices is not None:
            sorted_indices = self.sorted_indices.to(device)
        unsorted_indices = None
        if self.unsorted_indices is not None:
            unsorted_indices = self.unsorted_indices.to(device)
        return type(self)(data, self.batch_sizes, sorted_indices, unsorted_indices)

    def cuda(self, *args: Any, **kwargs: Any) -> PackedSequence:
        return self.to("cuda" if not args else args[0], **kwargs)

    def cpu(self) -> PackedSequence:
        return self.to("cpu")

    def double(self) -> PackedSequence:
        return self.to(dtype=self.data.double().dtype)

    def float(self) -> PackedSequence:
        return self.to(dtype=self.data.float().dtype)

    def half(self) -> PackedSequence:
        return self.to(dtype=self.data.half().dtype)

    def long(self) -> PackedSequence:
        return self.to(dtype=self.data.long().dtype)

    def int(self) -> PackedSequence:
        return self.to(dtype=self.data.int().dtype)

    def short(self) -> PackedSequence:
        return self.to(dtype=self.data.short().dtype)

    def char(self) -> PackedSequence:
        return self.to(dtype=self.data.char().dtype)

    def byte(self) -> PackedSequence:
        return self.to(dtype=self.data.byte().dtype)

    def pin_memory(self) -> PackedSequence:
        return self

    def is_pinned(self) -> bool:
        return False

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda


def _lengths_list(lengths: Any) -> list[int]:
    if isinstance(lengths, Tensor):
        if lengths.dim() != 1:
            raise ShapeError(
                "pack_padded_sequence: 'lengths' argument should be a 1D CPU int64 tensor, but "
                f"got {lengths.dim()}D"
            )
        return [int(length) for length in lengths.tolist()]
    return [int(length) for length in lengths]


def _packed_positions(lengths: Sequence[int], batch: int) -> tuple[list[int], list[int]]:
    """(batch_sizes, flat positions t * batch + b of the packed rows in a (T, batch) grid)."""
    steps = lengths[0]
    batch_sizes = [sum(1 for length in lengths if length > t) for t in range(steps)]
    positions = [t * batch + b for t in range(steps) for b in range(batch_sizes[t])]
    return batch_sizes, positions


def pack_padded_sequence(
    input: Tensor, lengths: Any, batch_first: bool = False, enforce_sorted: bool = True
) -> PackedSequence:
    """Pack a padded batch (T, B, *) ((B, T, *) with batch_first) of sequences of the given
    lengths, dropping the padding.

    With enforce_sorted=True the lengths must be in decreasing order; otherwise the batch is
    sorted here (ties keep their order) and the permutation is kept in the result.

    Example:
        >>> import chainrule
        >>> from chainrule.nn.utils.rnn import pack_padded_sequence
        >>> padded = chainrule.tensor([[1.0, 4.0], [2.0, 0.0], [3.0, 0.0]])  # (T, B)
        >>> pack_padded_sequence(padded, [3, 1]).data
        tensor([1., 4., 2., 3.])
    """
    sizes = _lengths_list(lengths)
    batch_dim = 0 if batch_first else 1
    if enforce_sorted and len(sizes) != input.shape[batch_dim]:
        raise ShapeError(
            f"Expected `len(lengths)` to be equal to batch_size, but got {len(sizes)} "
            f"(batch_size={input.shape[batch_dim]})"
        )
    if len(sizes) > input.shape[batch_dim]:  # (unsorted: PyTorch's index_select of the
        raise IndexError("index out of range in self")  # sorted order refuses; fewer pick rows)
    if any(length <= 0 for length in sizes):
        raise ShapeError(
            "Length of all samples has to be greater than 0, but found an element in 'lengths' "
            "that is <= 0"
        )
    sorted_indices = None
    if enforce_sorted:
        if any(a < b for a, b in zip(sizes, sizes[1:])):
            raise ShapeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                "pack_sequence to sidestep this requirement if you do not need ONNX exportability."
            )
    else:
        # PyTorch's (unstable) sort: its order among equal lengths past 16 sequences
        order = sort(creation.tensor(sizes), descending=True).indices
        sizes = [sizes[i] for i in order.tolist()]
        sorted_indices = order.to(input.device)
        input = input.index_select(batch_dim, sorted_indices)  # noqa: A001
    steps = input.shape[1 if batch_first else 0]
    if sizes[0] > steps:
        raise ShapeError(
            f"pack_padded_sequence: a length of {sizes[0]} is longer than the padded input's "
            f"{steps} steps (shape {tuple(input.shape)})"
        )
    if batch_first:
        input = input.transpose(0, 1)  # noqa: A001
    batch = len(sizes)
    batch_sizes, positions = _packed_positions(sizes, batch)
    grid = input.reshape(steps * batch, *input.shape[2:])
    index = creation.tensor(positions, dtype=int64, device=input.device)
    data = grid.index_select(0, index)
    return PackedSequence(data, creation.tensor(batch_sizes, dtype=int64), sorted_indices)


def pad_packed_sequence(
    sequence: PackedSequence,
    batch_first: bool = False,
    padding_value: float = 0.0,
    total_length: int | None = None,
) -> tuple[Tensor, Tensor]:
    """The inverse of pack_padded_sequence: (padded (T, B, *) or (B, T, *), lengths), in the
    batch's original order; T is the longest length, or total_length when given.

    Example:
        >>> import chainrule
        >>> from chainrule.nn.utils.rnn import pack_sequence, pad_packed_sequence
        >>> packed = pack_sequence([chainrule.tensor([1.0, 2.0]), chainrule.tensor([3.0])])
        >>> pad_packed_sequence(packed, padding_value=-1.0, total_length=3)
        (tensor([[ 1.,  3.],
                [ 2., -1.],
                [-1., -1.]]), tensor([2, 1]))
    """
    batch_sizes = [int(size) for size in sequence.batch_sizes.tolist()]
    steps = len(batch_sizes)
    if total_length is not None:
        if total_length < steps:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in "
                f"input, but got total_length={total_length} and max sequence length being "
                f"{steps}"
            )
        steps = total_length
    data = sequence.data
    batch = batch_sizes[0]
    filler = creation.full(
        (1, *data.shape[1:]), padding_value, dtype=data.dtype, device=data.device
    )
    rows = cat([data, filler], 0)
    pad_row = data.shape[0]
    starts = [0]
    for size in batch_sizes:
        starts.append(starts[-1] + size)
    positions = [
        starts[t] + b if t < len(batch_sizes) and b < batch_sizes[t] else pad_row
        for t in range(steps)
        for b in range(batch)
    ]
    index = creation.tensor(positions, dtype=int64, device=data.device)
    padded = rows.index_select(0, index).reshape(steps, batch, *data.shape[1:])
    lengths = [sum(1 for size in batch_sizes if size > b) for b in range(batch)]
    if batch_first:
        padded = padded.transpose(0, 1)
    lengths_tensor = creation.tensor(lengths, dtype=int64)
    if sequence.unsorted_indices is not None:
        padded = padded.index_select(0 if batch_first else 1, sequence.unsorted_indices)
        lengths_tensor = lengths_tensor[sequence.unsorted_indices.cpu()]
    return padded, lengths_tensor


def pad_sequence(
    sequences: Tensor | Sequence[Tensor],
    batch_first: bool = False,
    padding_value: float = 0.0,
    padding_side: str = "right",
) -> Tensor:
    """Stack sequences of shapes (L_i, *) into (T, B, *) ((B, T, *) with batch_first), T the
    longest L_i, each padded with padding_value on its right (or left) end.

    Example:
        >>> import chainrule
        >>> from chainrule.nn.utils.rnn import pad_sequence
        >>> pad_sequence([chainrule.tensor([1.0, 2.0]), chainrule.tensor([3.0])], batch_first=True)
        tensor([[1., 2.],
                [3., 0.]])
    """
    if padding_side not in ("left", "right"):
        raise ShapeError(
            f"Expected padding_side to be one of left or right, but got {padding_side}."
        )
    if isinstance(sequences, Tensor):
        sequences = sequences.unbind(0)
    sequences = list(sequences)
    if not sequences:
        raise ShapeError("received an empty list of sequences")
    longest = max(sequence.shape[0] for sequence in sequences)
    trailing = tuple(sequences[0].shape[1:])
    padded = []
    for sequence in sequences:
        if tuple(sequence.shape[1:]) != trailing:
            raise ShapeError(
                f"pad_sequence: every sequence must have the trailing shape {trailing}, got "
                f"{tuple(sequence.shape)}"
            )
        missing = longest - sequence.shape[0]
        if missing:
            filler = creation.full(
                (missing, *trailing), padding_value, dtype=sequence.dtype, device=sequence.device
            )
            parts = [sequence, filler] if padding_side == "right" else [filler, sequence]
            sequence = cat(parts, 0)
        padded.append(sequence)
    return stack(padded, 0 if batch_first else 1)


def unpad_sequence(
    padded_sequences: Tensor, lengths: Any, batch_first: bool = False
) -> list[Tensor]:
    """The sequences of a padded batch, each cut to its length (pad_sequence's inverse).

    PyTorch's version transposes a time-first `padded_sequences` in place as a side effect;
    this one leaves it as it is.

    Example:
        >>> import chainrule
        >>> from chainrule.nn.utils.rnn import unpad_sequence
        >>> padded = chainrule.tensor([[1.0, 2.0], [3.0, 0.0]])
        >>> unpad_sequence(padded, chainrule.tensor([2, 1]), batch_first=True)
        [tensor([1., 2.]), tensor([3.])]
    """
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    sizes = [int(length) for length in lengths.tolist()]
    return [sequence[:length] for sequence, length in zip(padded_sequences.unbind(0), sizes)]


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences (L_i, *), longest first unless enforce_sorted=False.

    Example:
        >>> import chainrule
        >>> from chainrule.nn.utils.rnn import pack_sequence
        >>> pack_sequence([chainrule.tensor([1.0]), chainrule.tensor([2.0, 3.0])],
        ...               enforce_sorted=False).batch_sizes
        tensor([2, 1])
    """
    lengths = [sequence.shape[0] for sequence in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The list of sequences a PackedSequence holds, in their original order.

    Example:
        >>> import chainrule
        >>> from chainrule.nn.utils.rnn import pack_sequence, unpack_sequence
        >>> packed = pack_sequence([chainrule.tensor([1.0]), chainrule.tensor([2.0, 3.0])],
        ...                        enforce_sorted=False)
        >>> unpack_sequence(packed)
        [tensor([1.]), tensor([2., 3.])]
    """
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
