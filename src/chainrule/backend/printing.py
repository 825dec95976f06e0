"""How tensors print: PyTorch's layout (torch/_tensor_str.py), on a host (NumPy) copy of the data.

One formatter per tensor picks the notation (integer-valued floats as `1.`, 4 decimals, or
scientific when magnitudes span more than 1e3, exceed 1e8 or go below 1e-4) from the non-zero
finite values, and pads every element to a common width, as PyTorch does.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

PRECISION = 4
THRESHOLD = 1000
EDGEITEMS = 3
LINEWIDTH = 80

_DEFAULT_DTYPES = ("float32", "int64", "bool")


class _Formatter:
    """Chooses one notation and width for all the (possibly summarized) values of a tensor."""

    def __init__(self, values: np.ndarray) -> None:
        self.floating = values.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = values.reshape(-1)
        if not self.floating:
            for value in flat.tolist():
                self.max_width = max(self.max_width, len(f"{value}"))
            return
        finite = flat[np.isfinite(flat) & (flat != 0)].astype(np.float64)
        if finite.size == 0:
            return
        magnitudes = np.abs(finite)
        smallest, largest = magnitudes.min(), magnitudes.max()
        self.int_mode = bool((finite == np.ceil(finite)).all())
        self.sci_mode = bool(largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4)
        for value in finite.tolist():
            if self.sci_mode:
                width = len(f"{value:.{PRECISION}e}")
            elif self.int_mode:
                width = len(f"{value:.0f}") + 1
            else:
                width = len(f"{value:.{PRECISION}f}")
            self.max_width = max(self.max_width, width)

    def format(self, value: Any) -> str:
        if not self.floating:
            text = f"{value}"
        elif self.sci_mode:
            text = f"{value:{self.max_width}.{PRECISION}e}"
        elif self.int_mode:
            text = f"{value:.0f}"
            if not (math.isinf(value) or math.isnan(value)):
                text += "."
        else:
            text = f"{value:.{PRECISION}f}"
        return (self.max_width - len(text)) * " " + text


def _summarized(array: np.ndarray) -> np.ndarray:
    """Only the edge items along every dimension: the values a summarized print shows."""
    for axis in range(array.ndim):
        if array.shape[axis] > 2 * EDGEITEMS:
            keep = list(range(EDGEITEMS)) + list(
                range(array.shape[axis] - EDGEITEMS, array.shape[axis])
            )
            array = np.take(array, keep, axis=axis)
    return array


def _vector(array: np.ndarray, indent: int, summarize: bool, formatter: _Formatter) -> str:
    per_line = max(1, math.floor((LINEWIDTH - indent) / (formatter.max_width + 2)))
    if summarize and array.shape[0] > 2 * EDGEITEMS:
        head = [formatter.format(v) for v in array[:EDGEITEMS].tolist()]
        tail = [formatter.format(v) for v in array[-EDGEITEMS:].tolist()]
        data = head + [" ..."] + tail
    else:
        data = [formatter.format(v) for v in array.tolist()]
    lines = [", ".join(data[i : i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _body(array: np.ndarray, indent: int, summarize: bool, formatter: _Formatter) -> str:
    """The nested brackets; recursion is over dimensions (a handful), never over a graph."""
    if array.ndim == 0:
        return formatter.format(array.item())
    if array.ndim == 1:
        return _vector(array, indent, summarize, formatter)
    rows = range(array.shape[0])
    if summarize and array.shape[0] > 2 * EDGEITEMS:
        rows = [*range(EDGEITEMS), None, *range(array.shape[0] - EDGEITEMS, array.shape[0])]
    slices = [
        "..." if i is None else _body(array[i], indent + 1, summarize, formatter) for i in rows
    ]
    return "[" + ("," + "\n" * (array.ndim - 1) + " " * (indent + 1)).join(slices) + "]"


def _add_suffixes(text: str, suffixes: list, indent: int) -> str:
    parts = [text]
    last_line_length = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_length + len(suffix) + 2 > LINEWIDTH:
            parts.append(",\n" + " " * indent + suffix)
            last_line_length = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_length += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def format_tensor(t: Any) -> str:
    """repr(tensor) in PyTorch's format: tensor([...], dtype=..., requires_grad=True)."""
    array = t._backend.to_numpy(t._array)
    name = t.dtype.name
    prefix = "tensor("
    indent = len(prefix)
    suffixes = []
    if t.device.type != "cpu":
        suffixes.append(f"device='{t.device}'")
    if array.size == 0:
        body = "[]"
        if array.ndim != 1:
            suffixes.append(f"size={tuple(array.shape)}")
        if name != "float32":
            suffixes.append(f"dtype=chainrule.{name}")
    else:
        if name not in _DEFAULT_DTYPES:
            suffixes.append(f"dtype=chainrule.{name}")
        summarize = array.size > THRESHOLD
        formatter = _Formatter(_summarized(array) if summarize else array)
        body = _body(array, indent, summarize, formatter)
    if t._node is not None:
        suffixes.append(f"grad_fn=<{t._node.name()}>")
    elif t._requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent)
