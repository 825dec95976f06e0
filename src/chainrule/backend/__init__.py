"""The backend seam: the only package that names NumPy or CuPy.

Ops receive `ctx.xp`, an array namespace with NumPy's API, and call the few things NumPy and
CuPy spell differently (scatter-add, host copies, random numbers) as `Backend` methods
(backend/arrays.py, with `device`); dtypes are in backend/dtypes.py.
"""

from chainrule.backend.allocator import tune_allocator
from chainrule.backend.arrays import (
    Array,
    Backend,
    CupyBackend,
    FakeBackend,
    NumpyBackend,
    backend_for_device,
    backend_of_array,
    cupy_backend,
    device,
    fake_backend,
    get_default_device,
    is_array,
    is_numpy_scalar,
    meta_backend,
    numpy_backend,
    set_default_device,
)

tune_allocator()  # keep freed activation memory for reuse: see backend/allocator.py

__all__ = [
    "Array",
    "Backend",
    "CupyBackend",
    "FakeBackend",
    "NumpyBackend",
    "backend_for_device",
    "get_default_device",
    "set_default_device",
    "backend_of_array",
    "cupy_backend",
    "device",
    "fake_backend",
    "is_array",
    "is_numpy_scalar",
    "meta_backend",
    "numpy_backend",
]
