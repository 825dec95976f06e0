"""How tensors print: PyTorch's layout (torch/_tensor_str.py), on a host (NumPy) copy of the data.

One formatter per tensor picks the notation (integer-valued floats as `1.`, 4 decimals, or
scientific when magnitudes span more than 1e3, exceed 1e8 or go below 1e-4) from the non-zero
finite values, and pads every element to a common width, as PyTorch does.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from chainrule.backend.dtypes import display_namespace, get_default_dtype

# The print options, set by set_printoptions (process-wide, as PyTorch's PRINT_OPTS).
PRECISION = 4
THRESHOLD: float = 1000
EDGEITEMS = 3
LINEWIDTH = 80
SCI_MODE: bool | None = None  # None: chosen per tensor from its values

_PROFILES = {
    "default": (4, 1000, 3, 80),
    "short": (2, 1000, 2, 80),
    "full": (4, math.inf, 3, 80),
}


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """PyTorch's print options: digits after the point, the element count above which a tensor
    prints summarized, the edge items a summary keeps per dimension, the line width, a
    profile ('default', 'short', 'full') setting the first four, and sci_mode (True or False
    forces scientific notation on or off; None, the default, chooses per tensor).

    Args:
        precision (int, optional): digits after the decimal point (4).
        threshold (float, optional): above this many elements a tensor prints summarized (1000).
        edgeitems (int, optional): elements kept at each end of a summarized dimension (3).
        linewidth (int, optional): characters per line (80).
        profile (str, optional): 'default', 'short' or 'full', setting the four above.
        sci_mode (bool, optional): force scientific notation on (True) or off (False).

    Example:
        >>> chainrule.set_printoptions(precision=2)
        >>> chainrule.tensor([1.12345])
        tensor([1.12])
        >>> chainrule.set_printoptions(profile="default")
    """
    global PRECISION, THRESHOLD, EDGEITEMS, LINEWIDTH, SCI_MODE
    if profile is not None:
        if profile not in _PROFILES:
            raise ValueError(
                f"set_printoptions: unknown profile {profile!r} (expected one of "
                f"{', '.join(map(repr, _PROFILES))})"
            )
        PRECISION, THRESHOLD, EDGEITEMS, LINEWIDTH = _PROFILES[profile]
    if precision is not None:
        PRECISION = precision
    if threshold is not None:
        THRESHOLD = threshold
    if edgeitems is not None:
        EDGEITEMS = edgeitems
    if linewidth is not None:
        LINEWIDTH = linewidth
    SCI_MODE = sci_mode  # as PyTorch: a call without sci_mode goes back to choosing per tensor


class _Formatter:
    """Chooses one notation and width for all the (possibly summarized) values of a tensor."""

    def __init__(self, values: np.ndarray) -> None:
        self.floating = values.dtype.kind in "fV"
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
        if SCI_MODE is None:
            self.sci_mode = bool(
                largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4
            )
        else:
            self.sci_mode = bool(SCI_MODE)
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


class _ComplexFormatter:
    """PyTorch's complex layout: the real parts share one formatter and the imaginary parts
    another; each element is its real part, padded, then the imaginary part with its sign
    and a `j` (`1.0000+2.0000j`)."""

    def __init__(self, values: np.ndarray) -> None:
        self.real = _Formatter(values.real)
        self.imag = _Formatter(values.imag)
        self.max_width = self.real.max_width + self.imag.max_width + 1

    def format(self, value: Any) -> str:
        real = self.real.format(value.real)
        imag = (self.imag.format(value.imag) + "j").lstrip()
        return real + imag if imag[0] in "+-" else real + "+" + imag


def _formatter(values: np.ndarray) -> Any:
    return _ComplexFormatter(values) if values.dtype.kind == "c" else _Formatter(values)


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


def _add_suffixes(text: str, suffixes: list, indent: int, force_newline: bool = False) -> str:
    """`, suffix` after `text`, wrapped at LINEWIDTH; `force_newline` puts the first on a line
    of its own (a sparse tensor's size), counted from there as PyTorch counts it."""
    parts = [text]
    last_line_length = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if force_newline or last_line_length + len(suffix) + 2 > LINEWIDTH:
            parts.append(",\n" + " " * indent + suffix)
            last_line_length = indent + len(suffix)
            force_newline = False
        else:
            parts.append(", " + suffix)
            last_line_length += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def format_tensor(t: Any, *, with_dtype: bool = True) -> str:
    """repr(tensor) in PyTorch's format: tensor([...], dtype=..., requires_grad=True);
    `with_dtype=False` leaves the dtype out (a sparse tensor's values: it names it once)."""
    name = t.dtype.name if with_dtype else get_default_dtype().name
    default_float = get_default_dtype().name
    default_complex = "complex128" if default_float == "float64" else "complex64"
    prefix = "tensor("
    indent = len(prefix)
    suffixes = []
    if t.device.type != "cpu":
        suffixes.append(f"device='{t.device}'")
    if t.device.type == "meta":  # no values: PyTorch's tensor(..., device='meta', size=(2,))
        suffixes.append(f"size={tuple(t._array.shape)}")
        if name != default_float:
            suffixes.append(f"dtype={display_namespace()}.{name}")
        return _add_suffixes(prefix + "...", suffixes + _autograd_suffixes(t), indent)
    array = t._backend.to_numpy(t._array)
    if array.size == 0:
        body = "[]"
        if array.ndim != 1:
            suffixes.append(f"size={tuple(array.shape)}")
        if name != default_float:
            suffixes.append(f"dtype={display_namespace()}.{name}")
    else:
        if name not in (default_float, default_complex, "int64", "bool"):
            suffixes.append(f"dtype={display_namespace()}.{name}")
        summarize = array.size > THRESHOLD
        formatter = _formatter(_summarized(array) if summarize else array)
        body = _body(array, indent, summarize, formatter)
    return _add_suffixes(prefix + body, suffixes + _autograd_suffixes(t), indent)


def _sparse_part(part: Any, prefix: str) -> str:
    """`prefix` and one of a sparse tensor's component tensors, its dtype left out, its lines
    wrapped and indented after the prefix (PyTorch's `_tensor_str(part, indent + len(prefix))`);
    an empty one names its size (`tensor([], size=(0,))`)."""
    array = part._backend.to_numpy(part.detach()._array)
    indent = len("tensor(") + len(prefix)
    if array.size == 0:
        return f"{prefix}[], size={tuple(array.shape)})"
    summarize = array.size > THRESHOLD
    formatter = _formatter(_summarized(array) if summarize else array)
    return f"{prefix}{_body(array, indent, summarize, formatter)})"


def format_sparse_coo(t: Any) -> str:
    """repr of a sparse COO tensor (ops/sparse.py) in PyTorch's format: its indices and values
    tensors, then size, nnz, dtype (when not the default), layout and autograd state."""
    indices = _sparse_part(t._sparse_indices, "indices=tensor(")
    values = t._sparse_values
    shown = _sparse_part(values, "values=tensor(")
    text = f"tensor({indices},\n       {shown}"
    suffixes = [f"size={tuple(t.shape)}", f"nnz={t._nnz()}"]
    if values.dtype.name not in (get_default_dtype().name, "int64", "bool"):
        suffixes.append(f"dtype={display_namespace()}.{values.dtype.name}")
    suffixes.append(f"layout={display_namespace()}.sparse_coo")
    if t.device.type != "cpu":
        suffixes.insert(0, f"device='{t.device}'")
    return _add_suffixes(text, suffixes + _autograd_suffixes(values), 7, force_newline=True)


def format_sparse_compressed(t: Any, compressed: tuple, plain: tuple, layout: str) -> str:
    """repr of a sparse CSR or CSC tensor: its (name, tensor) compressed and plain indices and
    values, then size, nnz, dtype (when not the default), layout, autograd."""
    pad = " " * 7
    crow = _sparse_part(compressed[1], f"{compressed[0]}=tensor(")  # int32 prints as int64
    col = _sparse_part(plain[1], f"{plain[0]}=tensor(")
    values = t._sparse_values
    shown = _sparse_part(values, "values=tensor(")
    text = f"tensor({crow},\n{pad}{col},\n{pad}{shown}"
    suffixes = [f"size={tuple(t.shape)}", f"nnz={t._nnz()}"]
    if values.dtype.name not in (get_default_dtype().name, "int64", "bool"):
        suffixes.append(f"dtype={display_namespace()}.{values.dtype.name}")
    suffixes.append(f"layout={display_namespace()}.{layout}")
    if t.device.type != "cpu":
        suffixes.insert(0, f"device='{t.device}'")
    return _add_suffixes(text, suffixes + _autograd_suffixes(values), 7)


def _autograd_suffixes(t: Any) -> list[str]:
    if t._node is not None:
        return [f"grad_fn=<{t._node.name()}>"]
    if t._requires_grad:
        return ["requires_grad=True"]
    return []
