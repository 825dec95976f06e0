"""How tensors print: PyTorch's layout, computed on a host (NumPy) copy of the data."""

from __future__ import annotations

from typing import Any

import numpy as np

_DEFAULT_DTYPES = ("float32", "int64", "bool")


def _format_floats(values: Any) -> Any:
    """A formatter that prints like PyTorch: '1.' for whole numbers, 4 decimals otherwise, and
    scientific notation when magnitudes span too much."""
    finite = values[(values == values) & (abs(values) != float("inf"))] if values.size else values
    if finite.size == 0:
        return lambda v: str(v).replace("inf", "inf")
    magnitudes = abs(finite)
    nonzero = magnitudes[magnitudes > 0]
    if (finite == finite.round()).all() and (magnitudes.max() < 1e8 if magnitudes.size else True):
        return lambda v: f"{v:.0f}." if v == v and abs(v) != float("inf") else str(v)
    if nonzero.size and (nonzero.max() / nonzero.min() > 1e3 or nonzero.max() > 1e8 or nonzero.min() < 1e-4):
        return lambda v: f"{v:.4e}"
    return lambda v: f"{v:.4f}"


def format_tensor(t: Any) -> str:
    """repr(tensor) in PyTorch's format: tensor([...], dtype=..., requires_grad=True)."""
    array = t._backend.to_numpy(t._array)
    name = t.dtype.name
    if array.size == 0:
        body = "[]" if array.ndim == 1 else f"size={tuple(array.shape)}"
        text = f"tensor({body}"
    else:
        if array.dtype.kind == "f":
            formatter = _format_floats(array.astype("float64"))
            options = {"float_kind": formatter}
        elif array.dtype.kind == "b":
            options = {"bool": lambda v: "True" if v else "False"}
        else:
            options = {"int": str}
        body = np.array2string(
            array, separator=", ", prefix="tensor(", formatter=options, threshold=1000, edgeitems=3
        )
        text = f"tensor({body}"
    suffix = []
    if t.device.type != "cpu":
        suffix.append(f"device='{t.device}'")
    if name not in _DEFAULT_DTYPES:
        suffix.append(f"dtype=chainrule.{name}")
    if t._node is not None:
        suffix.append(f"grad_fn=<{t._node.name()}>")
    elif t._requires_grad:
        suffix.append("requires_grad=True")
    return text + "".join(", " + part for part in suffix) + ")"
