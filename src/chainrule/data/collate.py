"""Collation, as torch.utils.data._utils.collate: `collate(batch, collate_fn_map=...)` merges
samples by their structure (dicts, namedtuples, sequences) and hands each leaf type to the
function the map gives it; `default_collate` is `collate` with `default_collate_fn_map`, so a
program that adds an entry to that map (a type of its own, a different rule for tensors)
changes what every DataLoader's default collation does, as in PyTorch.
"""

from __future__ import annotations

import collections.abc
import copy
from collections.abc import Callable, Sequence
from typing import Any

from chainrule._tensor import Tensor
from chainrule.backend import dtypes, is_array, is_numpy_scalar, numpy_backend
from chainrule.ops.creation import as_tensor, tensor
from chainrule.ops.shape import stack

__all__ = [
    "collate",
    "collate_float_fn",
    "collate_int_fn",
    "collate_numpy_array_fn",
    "collate_numpy_scalar_fn",
    "collate_str_fn",
    "collate_tensor_fn",
    "default_collate",
    "default_collate_err_msg_format",
    "default_collate_fn_map",
    "default_convert",
]

CollateFnMap = dict[type | tuple[type, ...], Callable]

default_collate_err_msg_format = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)


def collate(batch: Sequence[Any], *, collate_fn_map: CollateFnMap | None = None) -> Any:
    """Merge a list of samples into a batch: a sample type found in `collate_fn_map` (by
    exact type, else the first key it is an instance of, in the map's order) is collated by
    that function, called as fn(batch, collate_fn_map=...); dicts, namedtuples and sequences
    are collated field by field (tuples come back as lists, as in PyTorch).

    Args:
        batch (sequence): the samples.
        collate_fn_map (dict, optional): type (or tuple of types) -> collate function.

    Returns:
        The batch, with the samples' structure.

    Example:
        >>> import chainrule
        >>> from chainrule.data.collate import collate, default_collate_fn_map
        >>> collate([{"x": 1.5}, {"x": 2.5}], collate_fn_map=default_collate_fn_map)
        {'x': tensor([1.5000, 2.5000], dtype=chainrule.float64)}
    """
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for collate_type in collate_fn_map:
            if isinstance(elem, collate_type):
                return collate_fn_map[collate_type](batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        collated = {
            key: collate([sample[key] for sample in batch], collate_fn_map=collate_fn_map)
            for key in elem
        }
        if isinstance(elem, collections.abc.MutableMapping):
            clone = copy.copy(elem)
            clone.update(collated)
            return clone
        try:
            return elem_type(collated)
        except TypeError:
            return collated
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return elem_type(*(collate(field, collate_fn_map=collate_fn_map) for field in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [collate(field, collate_fn_map=collate_fn_map) for field in zip(*batch)]
        if isinstance(elem, tuple):
            return fields
        try:
            return elem_type(fields)
        except TypeError:
            return fields
    raise TypeError(default_collate_err_msg_format.format(elem_type))


def collate_tensor_fn(
    batch: Sequence[Tensor], *, collate_fn_map: CollateFnMap | None = None
) -> Tensor:  # noqa: ARG001 - the map's calling convention
    """Tensors stacked along a new first dimension."""
    return stack(batch)


def collate_numpy_array_fn(
    batch: Sequence[Any], *, collate_fn_map: CollateFnMap | None = None
) -> Any:
    """NumPy arrays of numbers as tensors, then collated as tensors (strings and objects are
    refused)."""
    if batch[0].dtype.kind in "SaUO":
        raise TypeError(default_collate_err_msg_format.format(batch[0].dtype))
    return collate([as_tensor(item) for item in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(
    batch: Sequence[Any], *, collate_fn_map: CollateFnMap | None = None
) -> Tensor:  # noqa: ARG001
    """NumPy scalars as a tensor of their dtype (np.float64(0.5) stays float64)."""
    return stack([as_tensor(item) for item in batch])


def collate_float_fn(
    batch: Sequence[float], *, collate_fn_map: CollateFnMap | None = None
) -> Tensor:  # noqa: ARG001
    """Python floats as a float64 tensor."""
    return tensor(batch, dtype=dtypes.float64)


def collate_int_fn(batch: Sequence[int], *, collate_fn_map: CollateFnMap | None = None) -> Tensor:  # noqa: ARG001
    """Python ints (and bools) as an int64 (bool) tensor."""
    return tensor(batch)


def collate_str_fn(batch: Sequence[Any], *, collate_fn_map: CollateFnMap | None = None) -> Any:  # noqa: ARG001
    """Strings and bytes stay as they come."""
    return batch


_numpy = numpy_backend.xp
default_collate_fn_map: CollateFnMap = {
    Tensor: collate_tensor_fn,
    numpy_backend.array_type: collate_numpy_array_fn,
    (_numpy.bool_, _numpy.number, _numpy.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch: Sequence[Any]) -> Any:
    """Merge a list of samples into a batch, as PyTorch's `default_collate` does: `collate`
    with `default_collate_fn_map`.

    Tensors and NumPy arrays are stacked along a new first dimension; Python floats become a
    float64 tensor and ints an int64 tensor; strings stay as they come (a list, or a tuple
    when they are a field of tuple samples, as in PyTorch); dicts, namedtuples and sequences
    are collated field by field (tuples come back as lists, as in PyTorch).

    Args:
        batch (sequence): the samples, each a Tensor, array, number, string, or a dict,
            namedtuple or sequence of them.

    Returns:
        The batch, with the samples' structure.

    Example:
        >>> import chainrule
        >>> from chainrule.data import default_collate
        >>> default_collate([(chainrule.tensor([1.0, 2.0]), 0), (chainrule.tensor([3.0, 4.0]), 1)])
        [tensor([[1., 2.],
                [3., 4.]]), tensor([0, 1])]
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)


def default_convert(data: Any) -> Any:
    """What a DataLoader without batching yields: NumPy arrays become tensors, recursively.

    Args:
        data: one sample: an array, number, Tensor, or a dict, namedtuple or sequence of them.

    Returns:
        The sample with every array a Tensor.

    Example:
        >>> import numpy as np
        >>> from chainrule.data import default_convert
        >>> default_convert({"image": np.zeros(2, dtype=np.float32), "label": 3})
        {'image': tensor([0., 0.]), 'label': 3}
    """
    if isinstance(data, Tensor):
        return data
    if is_array(data) or is_numpy_scalar(data):
        return data if data.dtype.kind in "SaUO" else as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        return {key: default_convert(value) for key, value in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return [default_convert(d) for d in data]
    return data
