"""NumPy's constants and dtypes, NumPy's own objects, so that `dtype=cnp.float32` means NumPy's
float32 (and `cnp.newaxis` is None, as `np.newaxis`)."""

from numpy import (
    bool_,
    dtype,
    e,
    euler_gamma,
    finfo,
    float16,
    float32,
    float64,
    iinfo,
    inf,
    int8,
    int16,
    int32,
    int64,
    nan,
    newaxis,
    pi,
    uint8,
)

__all__ = [
    "bool_",
    "dtype",
    "e",
    "euler_gamma",
    "finfo",
    "float16",
    "float32",
    "float64",
    "iinfo",
    "inf",
    "int16",
    "int32",
    "int64",
    "int8",
    "nan",
    "newaxis",
    "pi",
    "uint8",
]
