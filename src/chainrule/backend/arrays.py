"""The array backends: the `Backend` interface and its implementations, `NumpyBackend`,
`CupyBackend` and `FakeBackend` (CuPy's behaviour on the CPU, for tests); `device`, PyTorch's name
for where memory lives; and how an array or a device finds its backend. Ops reach the backend
as `ctx.backend` and `ctx.xp`.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

import numpy as np

from chainrule.backend import jit
from chainrule.backend.fake import (
    FakeArray,
    fake_data,
    fake_from_numpy,
    fake_numpy,
    fake_rng,
    fake_to_numpy,
    unwrap,
    wrap,
)
from chainrule.backend.meta import MetaArray, MetaRandom, meta_numpy
from chainrule.backend.parallel import parallel_blocks, parallel_for
from chainrule.backend.special import normal_cdf_float32
from chainrule.errors import BackendError, DeviceUnavailableError

Array = Any  # a numpy.ndarray or cupy.ndarray; typed loosely so CuPy stays legal


# 'fake' is CuPy's behaviour on the CPU, for testing the seam (backend/fake.py); 'meta' holds
# shapes and dtypes only (backend/meta.py).
DEVICE_TYPES = ("cpu", "cuda", "fake", "meta")


class device:  # noqa: N801 - PyTorch's spelling
    """Where a tensor's memory lives: `device('cpu')`, `device('cuda', 0)`.

    Args:
        type (str or device): 'cpu', 'cuda', 'cuda:1', ... or a device to copy.
        index (int, optional): which device of that type.

    Example:
        >>> import chainrule
        >>> chainrule.device("cuda:1").index
        1
        >>> chainrule.ones(2).device == chainrule.device("cpu")
        True
    """

    __slots__ = ("type", "index")

    def __init__(self, type: str | device, index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        kind = type
        if ":" in kind:
            kind, number = kind.split(":")
            index = int(number)
        if kind not in DEVICE_TYPES:
            raise BackendError(
                f"unknown device type {kind!r}: expected one of {', '.join(DEVICE_TYPES)}"
            )
        self.type = kind
        self.index = index

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            other = device(other)
        if not isinstance(other, device):
            return NotImplemented
        return self.type == other.type and (self.index or 0) == (other.index or 0)

    def __hash__(self) -> int:
        return hash((self.type, self.index or 0))

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"

    def __enter__(self) -> device:
        """`with device('meta'):` factories and layers inside create their tensors here, as
        after set_default_device, until the block ends (as PyTorch's device context)."""
        _enclosing_defaults.append(_default_backend)
        set_default_device(self)
        return self

    def __exit__(self, *exc_info: object) -> None:
        global _default_backend
        _default_backend = _enclosing_defaults.pop()


class Backend(ABC):
    """What an op needs from an array library beyond its NumPy-compatible namespace `xp`.

    Each backend implements every method here: nothing is inherited from another backend by
    accident (a NumPy call reaching a CuPy array would fail at run time, on a GPU only).
    """

    __slots__ = ("name", "xp", "device", "array_type")

    # Host memory: a data-dependent branch (`if mask.any():`) costs nothing here, so ops may
    # take a fast path when the data allows. On a device each one is a synchronisation that
    # stalls the queue, so ops there take the branch-free path instead.
    host_memory = False

    def __init__(self, name: str, xp: Any, dev: device, array_type: type) -> None:
        self.name = name
        self.xp = xp
        self.device = dev
        self.array_type = array_type

    @abstractmethod
    def scatter_add(self, target: Array, index: Any, values: Array) -> None:
        """target[index] += values, summing repeated indices (unlike plain `+=`)."""

    @abstractmethod
    def scatter_multiply(self, target: Array, key: tuple, values: Array) -> None:
        """target[key] *= values for an advanced-index `key` (a tuple of integer arrays that
        broadcast together), multiplying repeated positions in turn."""

    @abstractmethod
    def scatter_max(self, target: Array, key: tuple, values: Array) -> None:
        """target[key] = maximum(target[key], values) for an advanced-index `key`, repeated
        positions taking the largest of all their values (NaN wins, as PyTorch's amax)."""

    @abstractmethod
    def scatter_min(self, target: Array, key: tuple, values: Array) -> None:
        """target[key] = minimum(target[key], values), repeated positions taking the smallest."""

    @abstractmethod
    def to_numpy(self, array: Array) -> np.ndarray:
        """A host (NumPy) array with the data: the array itself on the CPU, a copy elsewhere."""

    @abstractmethod
    def from_numpy(self, array: np.ndarray) -> Array:
        """The host array's data on this backend's device (the array itself on the CPU)."""

    @abstractmethod
    def rng(self, seed: int | None) -> Any:
        """A random Generator drawing arrays on this device."""

    @abstractmethod
    def data_ptr(self, array: Array) -> int:
        """The address of the array's first element."""

    @abstractmethod
    def writable(self, array: Array) -> Array:
        """`array` itself, or a writable alias of its memory where it is a read-only view of
        writable memory (NumPy's broadcast views, and views of them): how a write through an
        expanded tensor reaches the memory it repeats, as PyTorch's does."""

    @abstractmethod
    def write_changed(self, target: Array, values: Array, accumulate: bool) -> None:
        """Write `values` into `target`, whose elements may share memory locations (an
        expanded tensor), only where they differ from target's current bits, one after the
        other in row-major order (the later write to one location wins); with `accumulate`,
        add each change (values - target) instead. PyTorch's fill-type writes (masked_fill_,
        index_put_) into expanded memory touch only the elements they select; the ones they
        leave alone would otherwise write stale values over the shared location."""

    @abstractmethod
    def erf(self, array: Array) -> Array:
        """The error function, elementwise."""

    @abstractmethod
    def erfc(self, array: Array) -> Array:
        """1 - erf(x), without the cancellation for large x (erfc(10) is 2e-45, not 0)."""

    @abstractmethod
    def normal_cdf(self, array: Array) -> Array:
        """Phi(x) = (1 + erf(x / sqrt 2)) / 2, the exact GELU's gate."""

    def fused_gelu(self, array: Array) -> tuple[Array, Array] | None:
        """(x Phi(x), Phi(x)) from one fused kernel, or None where this backend has none for
        the array: the exact GELU then composes it from `normal_cdf`."""
        return None

    def relu(self, x: Array) -> Array:
        """max(0, x) elementwise in x's dtype as PyTorch's relu: a NaN and -0.0 kept (NumPy's
        `maximum` returns its second operand on a tie of signed zeros)."""
        return self.xp.maximum(0, x).astype(x.dtype, copy=False)

    def where(self, condition: Array, x: Array, y: Array) -> Array:
        """x where condition, else y (NumPy's `where`, broadcasting)."""
        return self.xp.where(condition, x, y)

    def fused_gelu_backward(self, g: Array, x: Array, cdf: Array) -> Array | None:
        """g (Phi(x) + x phi(x)) from one fused kernel, Phi(x) the forward's `cdf`, or None
        where this backend has none for the arrays (the op then composes it)."""
        return None

    def fused_silu(self, array: Array) -> Array | None:
        """SiLU, x sigmoid(x), in one compiled pass, or None where this backend has no
        kernel for the operand."""
        return None

    def fused_silu_backward(self, g: Array, x: Array) -> Array | None:
        """SiLU's backward, g s (1 + x (1 - s)) with s = sigmoid(x), in one compiled pass, or
        None where this backend has no kernel for the operands."""
        return None

    def window_max(
        self,
        padded: Array,
        kernel: tuple,
        stride: tuple,
        dilation: tuple,
        padding: tuple,
        spatial: tuple,
        out: Array,
        flat: Array,
    ) -> bool:
        """Max pooling's windows in one compiled pass: each window's max of `padded` (padded
        with the lowest value) into `out`, its flat index in the unpadded `spatial` plane into
        `flat`, the first max winning ties and the first NaN winning over numbers. False,
        writing nothing, where this backend has no kernel for the operands."""
        return False

    def standardize_rows(self, x: Array, out: Array, rstd: Array, eps: float) -> bool:
        """Layer norm's core in one compiled pass over the rows of x (R, D): out = (x - mean)
        rstd, rstd = 1 / sqrt(var + eps) into `rstd` (R, 1). False, writing nothing, where
        this backend has no kernel for the operands."""
        return False

    def standardize_backward_rows(self, g: Array, out: Array, rstd: Array, result: Array) -> bool:
        """Its backward over rows in one compiled pass: result = rstd (g - mean(g) - out
        mean(g out)). False, writing nothing, where this backend has no kernel."""
        return False

    def standardize_channels(self, x: Array, out: Array, rstd: Array, eps: float) -> bool:
        """Batch norm's core in one compiled pass per channel of x (A, C, S): out = (x -
        mean) rstd over A and S, rstd (C,). False, writing nothing, where this backend has no
        kernel for the operands."""
        return False

    def standardize_backward_channels(
        self, g: Array, out: Array, rstd: Array, result: Array
    ) -> bool:
        """Its backward per channel: result = rstd (g - mean(g) - out mean(g out)). False,
        writing nothing, where this backend has no kernel."""
        return False

    def running_sums(self, x: Array, reverse: bool) -> Array | None:
        """cumsum along axis 1 of a float32 or float64 x (A, L, S) in one compiled pass,
        summed in float64 and rounded once into x's dtype, from the end when `reverse`; None
        where this backend has no kernel."""
        return None

    def channel_moments(self, x: Array, correction: int) -> tuple[Array, Array] | None:
        """The float64 mean and variance (dividing by A S - correction) of each channel C of
        x (A, C, S) in one compiled pass, or None where this backend has no kernel."""
        return None

    def layer_norm_rows(
        self, x: Array, weight: Array, bias: Array, y: Array, out: Array, rstd: Array, eps: float
    ) -> bool:
        """Layer norm and its affine part in one compiled pass over the rows of x (R, D): out
        = (x - mean) rstd, y = out weight + bias, rstd into `rstd` (R, 1), weight and bias
        (D,). False, writing nothing, where this backend has no kernel for the operands."""
        return False

    def layer_norm_backward_rows(
        self, g: Array, out: Array, rstd: Array, weight: Array, result: Array
    ) -> tuple[Array, Array] | None:
        """Its backward in one compiled pass over rows: result = rstd (g w - mean(g w) - out
        mean(g w out)), and returned, the weight's and bias's gradients (sums of g out and of
        g down the rows). None, writing nothing, where this backend has no kernel."""
        return None

    def softmax_rows(self, x: Array, out: Array) -> bool:
        """softmax along the rows of x (R, D) in one compiled pass into `out`. False, writing
        nothing, where this backend has no kernel for the operands."""
        return False

    def gather_along(self, x: Array, index: Array, dim: int) -> Array | None:
        """torch.gather of x at `index` along `dim` in one compiled pass, or None where this
        backend has no kernel for the operands (or an index is out of range)."""
        return None

    def scatter_add_along(self, target: Array, index: Array, values: Array, dim: int) -> bool:
        """target += values scattered at `index` along `dim` in place (np.add.at's order), in
        one compiled pass; False, writing nothing, where this backend has no kernel for the
        operands (or an index is out of range)."""
        return False

    def group_norm_rows(
        self, x: Array, weight: Array, bias: Array, y: Array, out: Array, rstd: Array, eps: float
    ) -> bool:
        """Group norm and its affine part in one compiled pass over the rows of x (R, K, S), R
        samples times G groups of K channels at S positions: out = (x - mean) rstd per row, y
        = out weight + bias per channel (weight and bias (G, K)), rstd into `rstd` (R,). False,
        writing nothing, where this backend has no kernel for the operands."""
        return False

    def group_norm_backward_rows(
        self, g: Array, out: Array, rstd: Array, weight: Array, result: Array
    ) -> tuple[Array, Array] | None:
        """Its backward in one compiled pass per row: result = rstd (g w - mean(g w) - out
        mean(g w out)) into `result`, and the weight's and bias's gradients (G, K) returned;
        None (nothing written) where this backend has no kernel for the operands."""
        return None

    def leading_rows(self, rows: Array, count: int, largest: bool) -> tuple[Array, Array] | None:
        """(positions, values) of the `count` leading elements of each row of rows (R, D) in
        the stable order (NaN the largest; larger first when `largest`; equal elements by
        position), in one compiled pass per row; None where this backend has no kernel."""
        return None

    def cross_entropy_rows(self, x: Array, target: Array) -> Array | None:
        """-log softmax(x)[target] along the rows of x (R, D), integer targets (R,) in range,
        in one compiled pass per row; None where this backend has no kernel."""
        return None

    def softmax_backward_rows(self, g: Array, out: Array, result: Array) -> bool:
        """Its backward along rows in one compiled pass: result = out (g - sum(g out)). False,
        writing nothing, where this backend has no kernel."""
        return False

    def scaled_causal_softmax_rows(self, x: Array, out: Array, scale: float, length: int) -> bool:
        """softmax(x * scale) over the first (r mod length) + 1 columns of each row r of x (R,
        S) into `out`, zeros after them (causal attention's rows), in one compiled pass.
        False, writing nothing, where this backend has no kernel for the operands."""
        return False

    def assign_at(self, target: Array, index: Array, values: Array) -> bool:
        """target[index] = values for distinct indices in one compiled loop; False where this
        backend has no kernel for the operands (or an index is out of range)."""
        return False

    def adam_step(
        self,
        arrays: tuple,
        beta1: float,
        beta2: float,
        correction2: float,
        eps: float,
        step_size: float,
    ) -> bool:
        """Adam's step (no weight decay, no AMSGrad) on (param, grad, exp_avg, exp_avg_sq) in
        one compiled pass, as PyTorch rounds it; False, writing nothing, where this backend
        has no kernel for the operands."""
        return False

    def transposed_convolution(
        self, g: Array, w: Array, geometry: tuple, in_size: tuple
    ) -> Array | None:
        """The transposed convolution of g with w (`geometry`: stride, padding as (lo, hi)
        pairs, dilation, groups) to (N, C, *in_size) by a compiled col2im; None where this
        backend has no kernel for the operands."""
        return None

    def depthwise_convolution(self, x: Array, w: Array, geometry: tuple) -> Array | None:
        """A depthwise convolution (groups = input channels, `geometry` as above) by a compiled
        direct kernel; None where this backend has none for the operands."""
        return None

    def depthwise_input_grad(
        self, g: Array, w: Array, geometry: tuple, in_size: tuple
    ) -> Array | None:
        """`depthwise_convolution`'s adjoint in x (a transposed convolution) to
        (N, C, *in_size); None where this backend has no kernel for the operands."""
        return None

    def depthwise_weight_grad(
        self, x: Array, g: Array, geometry: tuple, kernel: tuple
    ) -> Array | None:
        """`depthwise_convolution`'s adjoint in w: (C_out, 1, *kernel); None where this
        backend has no kernel for the operands."""
        return None

    @abstractmethod
    def parallel_for(
        self, size: int, body: Callable[[int, int], None], item_elements: int = 1
    ) -> None:
        """body(start, stop) over contiguous blocks covering range(size), each item (an
        element, a row) of `item_elements` elements: concurrently on the host's intra-op
        threads (backend/parallel.py), in one call on a device, whose own kernels are parallel
        already. An op splits only work whose result does not depend on the split."""

    @abstractmethod
    def splits(self, size: int, item_elements: int = 1) -> bool:
        """Whether parallel_for would split this much work: an op with a cheaper unsplit form
        for small arrays takes it otherwise."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.device})"


# NumPy's ufuncs run their vectorised loops only over arrays, not an array and a scalar:
# `_zero_block` keeps one read-only block of zeros per dtype, grown as needed, to stand in for
# a scalar 0 (NumpyBackend.relu).
_ZERO_BLOCK_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))
_ZERO_BLOCK_MIN = 1 << 12


class _MemoryAlias:
    """An `__array_interface__` holder: NumPy makes an array of the memory it describes, and
    keeps this (with the memory's owner) alive as that array's base."""

    __slots__ = ("__array_interface__", "owner")

    def __init__(self, interface: dict, owner: np.ndarray) -> None:
        self.__array_interface__ = interface
        self.owner = owner


_zero_blocks: dict[np.dtype, np.ndarray] = {}

# NumpyBackend.where's selection on the bits: the integer type of each dtype's width, and the
# fewest elements worth it (below, NumPy's where is as quick as the extra passes).
_SELECT_WORDS = {
    np.dtype(np.float32): np.int32,
    np.dtype(np.float64): np.int64,
    np.dtype(np.int32): np.int32,
    np.dtype(np.int64): np.int64,
}
_SELECT_MIN = 1 << 12


def _zero_block(dtype: np.dtype, size: int) -> np.ndarray:
    """A read-only run of `size` zeros of `dtype`: the front of the dtype's shared block."""
    block = _zero_blocks.get(dtype)
    if block is None or block.size < size:
        block = np.zeros(1 << (size - 1).bit_length(), dtype=dtype)
        block.flags.writeable = False
        _zero_blocks[dtype] = block
    return block[:size]


class NumpyBackend(Backend):
    """NumPy arrays in host memory: device 'cpu'."""

    __slots__ = ()
    host_memory = True

    def scatter_add(self, target: Array, index: Any, values: Array) -> None:
        if type(index) is tuple and len(index) == 1 and type(index[0]) is np.ndarray:
            index = index[0]  # x[(i,)] is x[i]: an index_add along the first dimension
        if (
            type(index) is np.ndarray
            and index.dtype.kind in "iu"
            and values.shape == index.shape + target.shape[1:]
        ):
            if index.size > 0 and values.size >= _ROW_SCATTER_MIN_WIDTH * index.size:
                if jit.add_rows(target, index, values) or _add_rows(target, index, values):
                    return
            if index.ndim > 1:  # np.add.at is ~8x slower with an n-d index than a flat one
                index = index.reshape(-1)
                values = values.reshape(index.shape + target.shape[1:])
        elif type(index) is tuple and target.flags.c_contiguous and target.size:
            linear = _linear_index(index, target.shape)
            if linear is not None:  # the same elements in the same order, one flat index
                flat_values = np.broadcast_to(values, linear.shape).reshape(-1)
                np.add.at(target.reshape(-1), linear.reshape(-1), flat_values)
                return
        np.add.at(target, index, values)

    def scatter_multiply(self, target: Array, key: tuple, values: Array) -> None:
        np.multiply.at(target, key, values)

    def where(self, condition: Array, x: Array, y: Array) -> Array:
        """NumPy's `where` runs about 40x slower per element than arithmetic here (3.8 ms for
        a million float32 with a random mask, against 0.1 ms for a multiply); for large
        same-shape operands of a 4- or 8-byte dtype (either may be 0-d) the selection is made
        on the bits instead, y ^ ((x ^ y) & mask) with mask all ones where condition holds:
        the same bits as `where`, NaN payloads and signed zeros included, 6-9x faster."""
        words = _SELECT_WORDS.get(getattr(x, "dtype", None))
        if (
            words is None
            or type(condition) is not np.ndarray
            or condition.dtype != np.bool_
            or condition.size < _SELECT_MIN
            or type(x) is not np.ndarray
            or type(y) is not np.ndarray
            or y.dtype != x.dtype
            or (x.ndim and x.shape != condition.shape)
            or (y.ndim and y.shape != condition.shape)
        ):
            return np.where(condition, x, y)
        mask = condition.view(np.uint8).astype(words)
        np.negative(mask, out=mask)
        x_bits, y_bits = x.view(words), y.view(words)
        out = np.bitwise_xor(x_bits, y_bits)
        np.bitwise_and(out, mask, out=mask)
        np.bitwise_xor(mask, y_bits, out=mask)
        return mask.view(x.dtype)

    def relu(self, x: Array) -> Array:
        """NumPy's `maximum` against a block of zeros rather than the scalar 0: the same
        numbers, but NumPy vectorises only the two-array loop (a (256, 1024) float32 relu
        takes 37 us against 128 here). Not split over threads: the hand-off costs more than
        the pass."""
        if x.dtype in _ZERO_BLOCK_DTYPES and x.size >= _ZERO_BLOCK_MIN and x.flags.c_contiguous:
            return np.maximum(_zero_block(x.dtype, x.size).reshape(x.shape), x)
        if x.dtype == np.float16:  # its scalar loop keeps the first operand on a tie: -0.0
            return np.maximum(x, 0).astype(x.dtype, copy=False)
        return np.maximum(0, x).astype(x.dtype, copy=False)

    def scatter_max(self, target: Array, key: tuple, values: Array) -> None:
        np.maximum.at(target, key, values)

    def scatter_min(self, target: Array, key: tuple, values: Array) -> None:
        np.minimum.at(target, key, values)

    def to_numpy(self, array: Array) -> np.ndarray:
        return array

    def from_numpy(self, array: np.ndarray) -> Array:
        return array

    def rng(self, seed: int | None) -> Any:
        return np.random.Generator(np.random.PCG64(seed))

    def data_ptr(self, array: Array) -> int:
        return array.__array_interface__["data"][0]

    def writable(self, array: Array) -> Array:
        if array.flags.writeable:
            return array
        owner = array.base
        while isinstance(owner, np.ndarray) and not owner.flags.writeable:
            owner = owner.base
        if not isinstance(owner, np.ndarray):
            raise ValueError("assignment destination is read-only")
        low, high = np.lib.array_utils.byte_bounds(array)
        owner_low, owner_high = np.lib.array_utils.byte_bounds(owner)
        if low < owner_low or high > owner_high:
            raise ValueError("assignment destination is read-only")
        interface = dict(array.__array_interface__)
        interface["data"] = (interface["data"][0], False)
        return np.asarray(_MemoryAlias(interface, owner))

    def write_changed(self, target: Array, values: Array, accumulate: bool) -> None:
        old = np.array(target, order="C")
        new = np.ascontiguousarray(values, dtype=target.dtype)
        shape = old.shape + (old.itemsize,)
        changed = (old.view(np.uint8).reshape(shape) != new.view(np.uint8).reshape(shape)).any(-1)
        positions = np.nonzero(changed)
        alias = self.writable(target)
        if accumulate and target.dtype != np.bool_:
            np.add.at(alias, positions, new[positions] - old[positions])
        else:  # NumPy's fancy assignment writes in index order: the last one wins
            alias[positions] = new[positions]

    def erf(self, array: Array) -> Array:
        return host_erf(array)

    def erfc(self, array: Array) -> Array:
        return host_erfc(array)

    def normal_cdf(self, array: Array) -> Array:
        """float32 takes a compiled kernel (backend/jit.py) or a vectorised NumPy path
        (backend/special.py); others go through erf."""
        if array.dtype == np.float32:
            compiled = jit.normal_cdf_float32(array)
            return normal_cdf_float32(array) if compiled is None else compiled
        return 0.5 * (1 + host_erf(array / math.sqrt(2.0)))

    def fused_gelu(self, array: Array) -> tuple[Array, Array] | None:
        return jit.gelu_float32(array)

    def fused_gelu_backward(self, g: Array, x: Array, cdf: Array) -> Array | None:
        return jit.gelu_backward_float32(g, x, cdf)

    def fused_silu(self, array: Array) -> Array | None:
        return jit.silu_float32(array)

    def fused_silu_backward(self, g: Array, x: Array) -> Array | None:
        return jit.silu_backward_float32(g, x)

    def window_max(
        self,
        padded: Array,
        kernel: tuple,
        stride: tuple,
        dilation: tuple,
        padding: tuple,
        spatial: tuple,
        out: Array,
        flat: Array,
    ) -> bool:
        if kernel != (2, 2) or stride != (2, 2) or dilation != (1, 1):
            return False  # the common window only: others take the NumPy passes
        return jit.window_max_2x2(padded, padding, spatial[1], out, flat)

    def standardize_rows(self, x: Array, out: Array, rstd: Array, eps: float) -> bool:
        return jit.standardize_rows(x, out, rstd, eps)

    def standardize_backward_rows(self, g: Array, out: Array, rstd: Array, result: Array) -> bool:
        return jit.standardize_backward_rows(g, out, rstd, result)

    def standardize_channels(self, x: Array, out: Array, rstd: Array, eps: float) -> bool:
        return jit.standardize_channels(x, out, rstd, eps)

    def standardize_backward_channels(
        self, g: Array, out: Array, rstd: Array, result: Array
    ) -> bool:
        return jit.standardize_backward_channels(g, out, rstd, result)

    def channel_moments(self, x: Array, correction: int) -> tuple[Array, Array] | None:
        return jit.channel_moments(x, correction)

    def running_sums(self, x: Array, reverse: bool) -> Array | None:
        return jit.running_sums(x, reverse)

    def layer_norm_rows(
        self, x: Array, weight: Array, bias: Array, y: Array, out: Array, rstd: Array, eps: float
    ) -> bool:
        return jit.layer_norm_rows(x, weight, bias, y, out, rstd, eps)

    def layer_norm_backward_rows(
        self, g: Array, out: Array, rstd: Array, weight: Array, result: Array
    ) -> tuple[Array, Array] | None:
        return jit.layer_norm_backward_rows(g, out, rstd, weight, result)

    def softmax_rows(self, x: Array, out: Array) -> bool:
        return jit.softmax_rows(x, out)

    def cross_entropy_rows(self, x: Array, target: Array) -> Array | None:
        return jit.cross_entropy_rows(x, target)

    def gather_along(self, x: Array, index: Array, dim: int) -> Array | None:
        return jit.gather_along(x, index, dim)

    def scatter_add_along(self, target: Array, index: Array, values: Array, dim: int) -> bool:
        return jit.scatter_add_along(target, index, values, dim)

    def group_norm_rows(
        self, x: Array, weight: Array, bias: Array, y: Array, out: Array, rstd: Array, eps: float
    ) -> bool:
        return jit.group_norm_rows(x, weight, bias, y, out, rstd, eps)

    def group_norm_backward_rows(
        self, g: Array, out: Array, rstd: Array, weight: Array, result: Array
    ) -> tuple[Array, Array] | None:
        return jit.group_norm_backward_rows(g, out, rstd, weight, result)

    def leading_rows(self, rows: Array, count: int, largest: bool) -> tuple[Array, Array] | None:
        return jit.leading_rows(rows, count, largest)

    def softmax_backward_rows(self, g: Array, out: Array, result: Array) -> bool:
        return jit.softmax_backward_rows(g, out, result)

    def scaled_causal_softmax_rows(self, x: Array, out: Array, scale: float, length: int) -> bool:
        return jit.scaled_causal_softmax_rows(x, out, scale, length)

    def assign_at(self, target: Array, index: Array, values: Array) -> bool:
        return jit.assign_at(target, index, values)

    def adam_step(
        self,
        arrays: tuple,
        beta1: float,
        beta2: float,
        correction2: float,
        eps: float,
        step_size: float,
    ) -> bool:
        return jit.adam_step(arrays, beta1, beta2, correction2, eps, step_size)

    def transposed_convolution(
        self, g: Array, w: Array, geometry: tuple, in_size: tuple
    ) -> Array | None:
        stride, padding, dilation, groups = geometry
        if groups != 1 or len(in_size) != 2:
            return None
        return jit.transposed_convolution_2d(g, w, stride, padding, dilation, in_size)

    def depthwise_convolution(self, x: Array, w: Array, geometry: tuple) -> Array | None:
        return jit.depthwise_convolution_2d(x, w, geometry)

    def depthwise_input_grad(
        self, g: Array, w: Array, geometry: tuple, in_size: tuple
    ) -> Array | None:
        return jit.depthwise_input_grad_2d(g, w, geometry, in_size)

    def depthwise_weight_grad(
        self, x: Array, g: Array, geometry: tuple, kernel: tuple
    ) -> Array | None:
        return jit.depthwise_weight_grad_2d(x, g, geometry, kernel)

    def parallel_for(
        self, size: int, body: Callable[[int, int], None], item_elements: int = 1
    ) -> None:
        parallel_for(size, body, item_elements)

    def splits(self, size: int, item_elements: int = 1) -> bool:
        return parallel_blocks(size, item_elements) > 1


class CupyBackend(Backend):
    """CuPy arrays in GPU memory: device 'cuda'. Imported on first use."""

    __slots__ = ()

    def scatter_add(self, target: Array, index: Any, values: Array) -> None:
        import cupyx

        cupyx.scatter_add(target, index, values)

    def scatter_multiply(self, target: Array, key: tuple, values: Array) -> None:
        multiply_in_rounds(self.xp, target, key, values)  # cupyx has no scatter_multiply

    def scatter_max(self, target: Array, key: tuple, values: Array) -> None:
        import cupyx

        cupyx.scatter_max(target, key, values)

    def scatter_min(self, target: Array, key: tuple, values: Array) -> None:
        import cupyx

        cupyx.scatter_min(target, key, values)

    def to_numpy(self, array: Array) -> np.ndarray:
        return self.xp.asnumpy(array)

    def from_numpy(self, array: np.ndarray) -> Array:
        return self.xp.asarray(array)

    def rng(self, seed: int | None) -> Any:
        return self.xp.random.Generator(self.xp.random.XORWOW(seed))

    def data_ptr(self, array: Array) -> int:
        return array.data.ptr

    def writable(self, array: Array) -> Array:
        return array  # CuPy's views are always writable

    def write_changed(self, target: Array, values: Array, accumulate: bool) -> None:
        xp = self.xp
        old = target.copy()
        new = values.astype(target.dtype, copy=False)
        shape = old.shape + (old.itemsize,)
        changed = (old.view(xp.uint8).reshape(shape) != new.view(xp.uint8).reshape(shape)).any(-1)
        positions = xp.nonzero(changed)
        if accumulate and target.dtype != xp.bool_:
            self.scatter_add(target, positions, new[positions] - old[positions])
        else:
            target[positions] = new[positions]

    def erf(self, array: Array) -> Array:
        from cupyx.scipy.special import erf

        return erf(array)

    def erfc(self, array: Array) -> Array:
        from cupyx.scipy.special import erfc

        return erfc(array)

    def normal_cdf(self, array: Array) -> Array:
        from cupyx.scipy.special import ndtr

        return ndtr(array)

    def parallel_for(
        self, size: int, body: Callable[[int, int], None], item_elements: int = 1
    ) -> None:
        body(0, size)

    def splits(self, size: int, item_elements: int = 1) -> bool:
        return False


class FakeBackend(Backend):
    """NumPy memory behind CuPy's refusals: device 'fake', for testing the seam on a CPU
    (backend/fake.py). Each method does what CupyBackend's does, on the wrapped data."""

    __slots__ = ()

    def scatter_add(self, target: Array, index: Any, values: Array) -> None:
        numpy_backend.scatter_add(
            fake_data(target), unwrap(index, "scatter_add"), fake_data(values)
        )

    def scatter_multiply(self, target: Array, key: tuple, values: Array) -> None:
        multiply_in_rounds(self.xp, target, key, values)  # CuPy's path, run here to test it

    def scatter_max(self, target: Array, key: tuple, values: Array) -> None:
        numpy_backend.scatter_max(fake_data(target), unwrap(key, "scatter_max"), fake_data(values))

    def scatter_min(self, target: Array, key: tuple, values: Array) -> None:
        numpy_backend.scatter_min(fake_data(target), unwrap(key, "scatter_min"), fake_data(values))

    def to_numpy(self, array: Array) -> np.ndarray:
        return fake_to_numpy(array)

    def from_numpy(self, array: np.ndarray) -> Array:
        return fake_from_numpy(array)

    def rng(self, seed: int | None) -> Any:
        return fake_rng(seed)

    def data_ptr(self, array: Array) -> int:
        return numpy_backend.data_ptr(fake_data(array))

    def writable(self, array: Array) -> Array:
        return wrap(numpy_backend.writable(fake_data(array)))

    def write_changed(self, target: Array, values: Array, accumulate: bool) -> None:
        numpy_backend.write_changed(fake_data(target), fake_data(values), accumulate)

    def erf(self, array: Array) -> Array:
        return wrap(host_erf(fake_data(array)))

    def erfc(self, array: Array) -> Array:
        return wrap(host_erfc(fake_data(array)))

    def normal_cdf(self, array: Array) -> Array:
        return wrap(numpy_backend.normal_cdf(fake_data(array)))

    def parallel_for(
        self, size: int, body: Callable[[int, int], None], item_elements: int = 1
    ) -> None:
        body(0, size)

    def splits(self, size: int, item_elements: int = 1) -> bool:
        return False


class MetaBackend(Backend):
    """Shapes and dtypes without data: device 'meta' (backend/meta.py). Scatters write
    nothing; reading values raises as PyTorch's meta tensors do."""

    __slots__ = ()

    def scatter_add(self, target: Array, index: Any, values: Array) -> None:
        pass

    def scatter_multiply(self, target: Array, key: tuple, values: Array) -> None:
        pass

    def scatter_max(self, target: Array, key: tuple, values: Array) -> None:
        pass

    def scatter_min(self, target: Array, key: tuple, values: Array) -> None:
        pass

    def to_numpy(self, array: Array) -> np.ndarray:
        return array.get()  # raises: no data

    def from_numpy(self, array: np.ndarray) -> Array:
        return MetaArray(array.shape, array.dtype)

    def rng(self, seed: int | None) -> Any:
        return MetaRandom()

    def data_ptr(self, array: Array) -> int:
        return 0  # as PyTorch's meta tensors

    def writable(self, array: Array) -> Array:
        return array

    def write_changed(self, target: Array, values: Array, accumulate: bool) -> None:
        pass  # no data to write

    def erf(self, array: Array) -> Array:
        return array.copy()

    def erfc(self, array: Array) -> Array:
        return array.copy()

    def normal_cdf(self, array: Array) -> Array:
        return array.copy()

    def parallel_for(
        self, size: int, body: Callable[[int, int], None], item_elements: int = 1
    ) -> None:
        body(0, size)

    def splits(self, size: int, item_elements: int = 1) -> bool:
        return False


def multiply_in_rounds(xp: Any, target: Array, key: tuple, values: Array) -> None:
    """target[key] *= values with repeated positions multiplied in turn, for array libraries
    without `multiply.at`: the positions sorted, each element ranked within its run of equal
    positions, then one fancy-indexed multiply per rank (as many rounds as the most repeated
    position has entries; the positions of one round are distinct)."""
    key = xp.broadcast_arrays(*key)
    flat = xp.ravel_multi_index(tuple(key), target.shape).reshape(-1)
    factors = xp.broadcast_to(values, key[0].shape).reshape(-1)
    order = xp.argsort(flat)
    flat, factors = flat[order], factors[order]
    rank = xp.arange(flat.size) - xp.searchsorted(flat, flat, side="left")
    cells = target.reshape(-1)  # a view: target is contiguous (a fresh copy)
    for round_number in range(int(rank.max()) + 1 if flat.size else 0):
        chosen = rank == round_number
        cells[flat[chosen]] *= factors[chosen]


def host_erf(array: np.ndarray) -> np.ndarray:
    """NumPy has no erf: SciPy's when installed, else math.erf per element (exact, slow)."""
    try:
        from scipy.special import erf
    except ImportError:
        erf = np.vectorize(math.erf, otypes=[np.float64])
    return np.asarray(erf(array)).astype(array.dtype, copy=False)


def host_erfc(array: np.ndarray) -> np.ndarray:
    """SciPy's erfc when installed, else math.erfc per element."""
    try:
        from scipy.special import erfc
    except ImportError:
        erfc = np.vectorize(math.erfc, otypes=[np.float64])
    return np.asarray(erfc(array)).astype(array.dtype, copy=False)


# Sorting pays off for rows of at least this many elements; for single elements NumPy's own
# 1-D np.add.at loop is ~50x faster than sorting 200,000 indices (max pooling's gradient).
_ROW_SCATTER_MIN_WIDTH = 32


def _linear_index(key: tuple, shape: tuple) -> np.ndarray | None:
    """The flat positions in a C-ordered array of `shape` that an index of one integer array
    per dimension (broadcast together, as a gather's or a scatter's) selects, in the order
    the index lists them; None where this does not apply (a slice, a missing dimension, an
    index out of range: np.add.at raises for that). np.add.at takes a tuple of n-d indices
    5x slower than one flat index: a gather's backward on (256, 4096) 12.2 -> 2.3 ms."""
    if len(key) != len(shape):
        return None
    linear: Any = None
    stride = 1
    for part, size in zip(reversed(key), reversed(shape)):
        if type(part) is not np.ndarray or part.dtype.kind not in "iu":
            return None
        if part.size:
            low, high = part.min(), part.max()
            if low < -size or high >= size:
                return None
            if low < 0:
                part = np.where(part < 0, part + size, part)
        term = part.astype(np.intp, copy=False) * stride
        linear = term if linear is None else linear + term
        stride *= size
    return linear


def _add_rows(target: np.ndarray, index: np.ndarray, values: np.ndarray) -> bool:
    """target[index] += values for an integer index into the first axis (an embedding's or a
    gather's gradient): the rows sorted by index and each run of equal indices summed by one
    reduceat, then added once per distinct row. np.add.at does the same one element at a
    time, about 7x slower on rows of 128 floats. False (nothing done) where this does not
    apply: a non-contiguous target, or an index out of range (np.add.at raises for it)."""
    rows_in = target.shape[0]
    flat_index = index.reshape(-1)
    low, high = flat_index.min(), flat_index.max()
    if not target.flags.c_contiguous or low < -rows_in or high >= rows_in:
        return False
    if low < 0:  # -1 and rows-1 are the same row: make them one key
        flat_index = np.where(flat_index < 0, flat_index + rows_in, flat_index)
    order = np.argsort(flat_index, kind="stable")
    sorted_index = flat_index[order]
    starts = np.flatnonzero(np.concatenate(([True], sorted_index[1:] != sorted_index[:-1])))
    sums = np.add.reduceat(values.reshape(flat_index.size, -1)[order], starts, axis=0)
    target.reshape(rows_in, -1)[sorted_index[starts]] += sums
    return True


numpy_backend = NumpyBackend("numpy", np, device("cpu"), np.ndarray)
fake_backend = FakeBackend("fake", fake_numpy, device("fake"), FakeArray)
meta_backend = MetaBackend("meta", meta_numpy, device("meta"), MetaArray)
_cupy_backend: CupyBackend | None = None


def cupy_backend() -> CupyBackend:
    """The CuPy backend, imported on first use."""
    global _cupy_backend
    if _cupy_backend is None:
        try:
            import cupy
        except ImportError as error:
            raise DeviceUnavailableError(
                "device 'cuda' needs CuPy: pip install cupy-cuda12x (or the wheel for your CUDA); "
                "PyTorch's words: Torch not compiled with CUDA enabled"
            ) from error
        _cupy_backend = CupyBackend("cupy", cupy, device("cuda", 0), cupy.ndarray)
    return _cupy_backend


# set_default_device's backend: where factories put tensors when no device is given.
_default_backend: Backend | None = None
# The defaults that `with device(...)` blocks replaced, innermost last, to restore on exit.
_enclosing_defaults: list[Backend | None] = []


def set_default_device(dev: str | device | None) -> None:
    """Make `dev` the device of tensors that factories (zeros, tensor, randn, a layer's
    parameters, ...) create without a `device` argument; None means the CPU again.

    Args:
        dev (device or str, optional): 'cpu', 'cuda', 'fake', or None.

    Example:
        >>> import chainrule
        >>> chainrule.set_default_device("fake")
        >>> chainrule.zeros(2).device
        device(type='fake')
        >>> chainrule.set_default_device(None)
    """
    global _default_backend
    backend = None if dev is None else backend_for_device(dev)
    _default_backend = None if backend is numpy_backend else backend


def get_default_device() -> device:
    """The device factories use when given none (the CPU unless set_default_device says).

    Example:
        >>> import chainrule
        >>> chainrule.get_default_device()
        device(type='cpu')
    """
    return (_default_backend or numpy_backend).device


def backend_for_device(dev: str | device | None) -> Backend:
    if dev is None:
        return _default_backend or numpy_backend
    dev = device(dev)
    if dev.type == "cpu":
        return numpy_backend
    if dev.type == "fake":
        return fake_backend
    if dev.type == "meta":
        return meta_backend
    return cupy_backend()


def backend_of_array(array: Array) -> Backend:
    """The backend owning `array` (NumPy for anything that is not a device array)."""
    kind = type(array)
    if kind is np.ndarray:
        return numpy_backend
    if kind is FakeArray:
        return fake_backend
    if kind is MetaArray:
        return meta_backend
    if _cupy_backend is not None and isinstance(array, _cupy_backend.array_type):
        return _cupy_backend
    return numpy_backend


def is_array(value: Any) -> bool:
    if isinstance(value, (np.ndarray, FakeArray, MetaArray)):
        return True
    return _cupy_backend is not None and isinstance(value, _cupy_backend.array_type)


def is_numpy_scalar(value: Any) -> bool:
    return isinstance(value, np.generic)
