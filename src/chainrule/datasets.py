"""Small real datasets: scikit-learn's handwritten digits, and MNIST-style IDX files.

Both come back as `TensorDataset`s of float32 images shaped (N, 1, H, W) in [0, 1] and int64
labels, ready for a `DataLoader`.
"""

from __future__ import annotations

import array
import gzip
import math
import os
import struct
import sys
import zlib
from typing import Any

from chainrule._tensor import Tensor
from chainrule.backend import dtypes
from chainrule.data.dataset import TensorDataset
from chainrule.errors import ShapeError
from chainrule.ops.creation import Generator, as_tensor, randperm, tensor
from chainrule.serialization import FileFormatError

__all__ = ["load_digits", "load_idx_dataset", "read_idx"]


def load_digits(
    split: str | None = None, test_fraction: float = 0.2, seed: int = 0
) -> TensorDataset:
    """The 1,797 8x8 digit images bundled with scikit-learn, as (N, 1, 8, 8) float32 in [0, 1]
    with int64 labels 0-9.

    `split='train'` or `'test'` gives one side of a shuffled split holding `test_fraction` of
    the images out (rounded up); the same `seed` always gives the same split, and the two sides
    never overlap. `split=None` gives all images in scikit-learn's order.

    >>> from chainrule.datasets import load_digits
    >>> test = load_digits("test")
    >>> len(test), tuple(test[0][0].shape)
    (360, (1, 8, 8))
    """
    if split not in (None, "train", "test"):
        raise ValueError(f"load_digits: split must be None, 'train' or 'test' (got {split!r})")
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"load_digits: test_fraction must be in (0, 1) (got {test_fraction})")
    try:
        from sklearn.datasets import load_digits as sklearn_load_digits
    except ImportError as error:
        raise ImportError(
            "load_digits needs scikit-learn, which ships the digits: pip install scikit-learn"
        ) from error
    bunch = sklearn_load_digits()
    images = (as_tensor(bunch.images, dtype=dtypes.float32) / 16.0).reshape(-1, 1, 8, 8)
    labels = as_tensor(bunch.target, dtype=dtypes.int64)
    if split is None:
        return TensorDataset(images, labels)
    count = labels.shape[0]
    test_count = math.ceil(count * test_fraction)
    order = randperm(count, generator=Generator().manual_seed(seed)).tolist()
    chosen = order[:test_count] if split == "test" else order[test_count:]
    rows = tensor(sorted(chosen), dtype=dtypes.int64)
    return TensorDataset(images[rows], labels[rows])


# IDX type byte -> (array typecode, dtype, bytes per element); the data is big-endian.
_IDX_TYPES = {
    0x08: ("B", dtypes.uint8, 1),
    0x09: ("b", dtypes.int8, 1),
    0x0B: ("h", dtypes.int16, 2),
    0x0C: ("i", dtypes.int32, 4),
    0x0D: ("f", dtypes.float32, 4),
    0x0E: ("d", dtypes.float64, 8),
}


def _read_bytes(path: str | os.PathLike) -> bytes:
    """The file's bytes, decompressed when it is gzip (recognised by content, not name)."""
    with open(path, "rb") as handle:
        raw = handle.read()
    if raw[:2] != b"\x1f\x8b":
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as error:
        raise FileFormatError(f"{os.fspath(path)}: corrupted gzip data ({error})") from error


def read_idx(path: str | os.PathLike) -> Tensor:
    """The array stored in an IDX file (the MNIST format), gzip-compressed or not.

    The header is two zero bytes, a type byte (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
    0x0D float32, 0x0E float64), the number of dimensions, then each size as a big-endian
    uint32. A bad magic number or a size that disagrees with the file raises FileFormatError.
    """
    name = os.fspath(path)
    raw = _read_bytes(path)
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] not in _IDX_TYPES:
        raise FileFormatError(
            f"{name}: not an IDX file (magic number 0x{raw[:4].hex()}; expected 0x0000TTNN with "
            "type TT one of 08, 09, 0B, 0C, 0D, 0E)"
        )
    typecode, dtype, itemsize = _IDX_TYPES[raw[2]]
    ndim = raw[3]
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise FileFormatError(
            f"{name}: truncated IDX file: {len(raw)} bytes, shorter than its {header_size}-byte "
            "header"
        )
    shape = struct.unpack(f">{ndim}I", raw[4:header_size])
    expected = header_size + math.prod(shape) * itemsize
    if len(raw) != expected:
        problem = "truncated" if len(raw) < expected else "oversized"
        raise FileFormatError(
            f"{name}: {problem} IDX file: a {dtype.name} array of shape {shape} needs "
            f"{expected} bytes, the file has {len(raw)}"
        )
    payload = memoryview(raw)[header_size:]
    if itemsize == 1:
        values: Any = payload.cast(typecode)
    else:
        values = array.array(typecode)
        values.frombytes(payload)
        if sys.byteorder == "little":
            values.byteswap()
        values = memoryview(values)
    return tensor(values, dtype=dtype).reshape(shape)


def load_idx_dataset(
    images_path: str | os.PathLike, labels_path: str | os.PathLike
) -> TensorDataset:
    """MNIST-style image and label IDX files as a TensorDataset: uint8 images (N, H, W) become
    (N, 1, H, W) float32 in [0, 1], labels (N,) become int64."""
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.ndim != 3:
        raise ShapeError(
            f"{os.fspath(images_path)}: expected images of shape (N, H, W), got "
            f"{tuple(images.shape)}"
        )
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        raise ShapeError(
            f"{os.fspath(labels_path)}: expected {images.shape[0]} labels for the images in "
            f"{os.fspath(images_path)}, got shape {tuple(labels.shape)}"
        )
    scale = 255.0 if images.dtype is dtypes.uint8 else 1.0
    pixels = (images.to(dtypes.float32) / scale).unsqueeze(1)
    return TensorDataset(pixels, labels.to(dtypes.int64))
