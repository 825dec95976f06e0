"""Discrete Fourier transforms (torch.fft), through the backend's `xp.fft` (NumPy's or CuPy's).

Three ops, each linear, so each vjp is another transform of the cotangent:
  Fft   complex -> complex over some dims: vjp is the inverse transform with the conjugate
        normalisation ('backward' <-> 'forward', 'ortho' stays), because the DFT matrix F is
        symmetric and F^H = conj(F);
  Rfft  real -> half spectrum along one dim (the first n // 2 + 1 outputs of the full
        transform): vjp is the real part of the conjugate inverse of the cotangent padded with
        zeros back to n;
  Irfft half spectrum -> real along one dim (the Hermitian extension, imaginary parts of the
        zero and Nyquist terms ignored): vjp is rfft of the cotangent with the conjugate
        normalisation, times PyTorch's Hermitian weights (1 for the zero and Nyquist terms, 2
        for the others, each appearing twice in the full spectrum).
The n-dimensional transforms compose them (rfftn = fftn over the leading dims of rfft over the
last), `n=`/`s=` resize the input first (zero-padding or cropping, differentiably), and hfft
and ihfft are irfft and rfft of the conjugate. Output dtypes are PyTorch's: float32 and
complex64 give complex64 (NumPy's transforms may compute in double: the result is cast).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from chainrule._tensor import Tensor
from chainrule.autograd.node import Node
from chainrule.backend import Array, backend_for_device, dtypes
from chainrule.backend.dtypes import from_numpy_dtype
from chainrule.errors import DomainError, DTypeError, IndexRangeError, ShapeError
from chainrule.ops.arguments import normalize_dim
from chainrule.ops.autocast import FLOAT32, autocast_policy
from chainrule.ops.complex import conj, real
from chainrule.ops.conversion import cast
from chainrule.ops.indexing import pad
from chainrule.ops.op import Op, apply, named
from chainrule.ops.shape import roll

if TYPE_CHECKING:  # annotations only
    from chainrule._typing import Dims
    from chainrule.backend import device as Device
    from chainrule.backend.dtypes import dtype

__all__ = [
    "fft",
    "ifft",
    "rfft",
    "irfft",
    "fft2",
    "ifft2",
    "rfft2",
    "irfft2",
    "fftn",
    "ifftn",
    "rfftn",
    "irfftn",
    "hfft",
    "ihfft",
    "fftshift",
    "ifftshift",
    "fftfreq",
    "rfftfreq",
]

_NORMS = ("backward", "ortho", "forward")
_CONJUGATE_NORM = {"backward": "forward", "ortho": "ortho", "forward": "backward"}


def _norm(norm: str | None) -> str:
    if norm is None:
        return "backward"
    if norm not in _NORMS:
        raise DomainError(f'Invalid normalization mode: "{norm}"')
    return norm


def _complex_dtype_of(array: Array) -> Any:
    return dtypes.complex_of(from_numpy_dtype(array.dtype)).numpy


def _real_dtype_of(array: Array) -> Any:
    return dtypes.real_of(from_numpy_dtype(array.dtype)).numpy


# ---- the three transforms --------------------------------------------------------------------


class Fft(Op):
    """The complex DFT over `axes` (`inverse`: the inverse DFT), scaled by `norm`. Linear:
    the vjp is the opposite transform of g with the conjugate normalisation (F^H = conj(F)),
    the jvp the same transform of t."""

    label = "fft"

    @classmethod
    def node_name(cls) -> str:
        return "FftC2CBackward0"

    @staticmethod
    def forward(ctx: Node, x: Array, axes: tuple, norm: str, inverse: bool) -> Array:
        ctx.save(axes=axes, norm=norm, inverse=inverse)
        transform = ctx.xp.fft.ifftn if inverse else ctx.xp.fft.fftn
        out = transform(x, axes=axes, norm=norm)
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (apply(Fft, (g,), ctx.axes, _CONJUGATE_NORM[ctx.norm], not ctx.inverse),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return apply(Fft, (t,), ctx.axes, ctx.norm, ctx.inverse)

    @staticmethod
    def batch(b: Any, x: Any, axes: tuple, norm: str, inverse: bool) -> Any:
        """vmap: the same transform, each axis one further right (past the batch)."""
        return apply(Fft, (x,), tuple(axis + 1 for axis in axes), norm, inverse)


class Rfft(Op):
    """The first n // 2 + 1 terms of the DFT of a real x along `axis` (n = x's size there).
    Derivative: Re(conj(F) [g, 0]) scaled by the conjugate normalisation (g padded with zeros
    to n, then the inverse transform); the jvp is rfft of t."""

    label = "rfft"

    @classmethod
    def node_name(cls) -> str:
        return "FftR2CBackward0"

    @staticmethod
    def forward(ctx: Node, x: Array, axis: int, norm: str, n: int) -> Array:
        ctx.save(axis=axis, norm=norm, n=n)
        out = ctx.xp.fft.rfft(x, axis=axis, norm=norm)
        return out.astype(_complex_dtype_of(x), copy=False)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        full = _resize(g, ctx.axis, ctx.n)
        back = apply(Fft, (full,), (ctx.axis,), _CONJUGATE_NORM[ctx.norm], True)
        return (real(back),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return apply(Rfft, (t,), ctx.axis, ctx.norm, ctx.n)

    @staticmethod
    def batch(b: Any, x: Any, axis: int, norm: str, n: int) -> Any:
        return apply(Rfft, (x,), axis + 1, norm, n)


class Irfft(Op):
    """The real signal of length n whose DFT's first n // 2 + 1 terms are x along `axis` (x's
    size there must be n // 2 + 1; the imaginary parts of the zero and Nyquist terms are
    ignored). Derivative: rfft(g) with the conjugate normalisation, times the Hermitian
    weights w (1 at the zero and Nyquist terms, 2 elsewhere), as PyTorch's; the jvp is
    irfft of t."""

    label = "irfft"

    @classmethod
    def node_name(cls) -> str:
        return "FftC2RBackward0"

    @staticmethod
    def forward(ctx: Node, x: Array, axis: int, norm: str, n: int) -> Array:
        ctx.save(axis=axis, norm=norm, n=n)
        out = ctx.xp.fft.irfft(x, n=n, axis=axis, norm=norm)
        return out.astype(_real_dtype_of(x), copy=False)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        spectrum = apply(Rfft, (g,), ctx.axis, _CONJUGATE_NORM[ctx.norm], ctx.n)
        return (spectrum * _hermitian_weights(ctx, spectrum),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return apply(Irfft, (t,), ctx.axis, ctx.norm, ctx.n)

    @staticmethod
    def batch(b: Any, x: Any, axis: int, norm: str, n: int) -> Any:
        return apply(Irfft, (x,), axis + 1, norm, n)


def _hermitian_weights(ctx: Node, spectrum: Any) -> Any:
    """2 for the terms that stand for two of the full spectrum, 1 for the zero term and (for
    an even length) the Nyquist term, shaped to broadcast along `ctx.axis`."""
    xp = ctx.xp
    size = spectrum.shape[ctx.axis]
    weights = xp.full(size, 2.0, dtype=_real_dtype_of(spectrum._array))
    weights[0] = 1.0
    if ctx.n % 2 == 0:
        weights[-1] = 1.0
    shape = [1] * spectrum.ndim
    shape[ctx.axis] = size
    return Tensor._from_array(weights.reshape(shape), ctx.backend)


# ---- argument handling -----------------------------------------------------------------------


def _resize(x: Any, axis: int, size: int) -> Any:
    """x zero-padded or cropped at the end of `axis` to `size` (torch.fft's n=, s=)."""
    current = x.shape[axis]
    if current == size:
        return x
    widths = [0] * (2 * (x.ndim - axis))
    widths[-1] = size - current  # pad lists (before, after) from the last dimension
    return pad(x, tuple(widths), value=0.0)


def _length(name: str, n: int | None) -> tuple | None:
    """A 1-D transform's n= as its s=: checked here, since s= keeps a size given as -1."""
    return None if n is None else (_check_size(name, n),)


def _check_size(name: str, size: int) -> int:
    if size < 1:
        raise ShapeError(f"{name}: Invalid number of data points ({size}) specified")
    return int(size)


def _as_complex(name: str, x: Any) -> Any:
    """x as the complex dtype of its precision: integers and bool go through the default float
    dtype, float32 to complex64, float64 to complex128 (float16 refused, as PyTorch's CPU)."""
    x = _require_tensor(name, x)
    kind = x._array.dtype.kind
    if kind == "c":
        return x
    if kind not in "fV":
        x = cast(x, dtypes.get_default_dtype())
    _refuse_half(name, x)
    return cast(x, dtypes.complex_of(x.dtype))


def _as_real(name: str, x: Any) -> Any:
    x = _require_tensor(name, x)
    kind = x._array.dtype.kind
    if kind == "c":
        raise DTypeError(f"{name} expects a real input tensor, but got {x.dtype.name}")
    if kind not in "fV":
        x = cast(x, dtypes.get_default_dtype())
    _refuse_half(name, x)
    return x


def _require_tensor(name: str, x: Any) -> Any:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(x).__name__}")
    return x


def _refuse_half(name: str, x: Any) -> None:
    if x._array.dtype.itemsize == 2:
        raise DTypeError(
            f"{name}: Unsupported dtype {'BFloat16' if x.dtype is dtypes.bfloat16 else 'Half'}"
        )


def _dims_and_sizes(name: str, x: Any, s: Any, dim: Any) -> tuple[tuple, tuple | None]:
    """torch.fft's (s, dim) rules: dim None means the last len(s) dims (every dim when s is
    None too); s entries of -1 keep the input's size."""
    ndim = x.ndim
    if dim is None:
        dims = tuple(range(ndim)) if s is None else tuple(range(ndim - len(s), ndim))
    elif isinstance(dim, int):
        dims = (dim,)
    else:
        dims = tuple(dim)
    if ndim == 0 and dims:  # (normalize_dim takes -1 and 0 of a 0-d tensor; these do not)
        raise IndexRangeError(
            f"{name}: Dimension specified as {dims[0]} but tensor has no dimensions"
        )
    dims = tuple(normalize_dim(name, d, ndim) for d in dims)
    if len(set(dims)) != len(dims):
        raise ShapeError(f"{name}: dims must be unique, got {tuple(dim)}")
    if s is None:
        return dims, None
    s = (s,) if isinstance(s, int) else tuple(s)
    if len(s) != len(dims):
        raise ShapeError(
            f"{name}: When given, dim and shape arguments must have the same length, got "
            f"s={s} and dim={dims}"
        )
    return dims, s


# ---- public functions: complex transforms ----------------------------------------------------


def _is_real(x: Any) -> bool:
    return isinstance(x, Tensor) and x._array.dtype.kind != "c"


def _c2c(name: str, x: Any, s: Any, dim: Any, norm: Any, inverse: bool) -> Any:
    norm = _norm(norm)
    x = _as_complex(name, x)
    dims, sizes = _dims_and_sizes(name, x, s, dim)
    if sizes is not None:
        for axis, size in zip(dims, sizes):
            if size != -1:
                x = _resize(x, axis, _check_size(name, size))
    if not dims:
        return x
    return apply(Fft, (x,), dims, norm, inverse)


@autocast_policy(FLOAT32)
def fft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:  # noqa: A002
    """The 1-D discrete Fourier transform along `dim`, as torch.fft.fft.

    Args:
        input (Tensor): real or complex; real input gives the complex dtype of its
            precision (float16 is refused, as PyTorch's CPU).
        n (int, optional): the signal length: the input is zero-padded or cropped
            at the end of `dim` to it first; its own size by default.
        dim (int): the dimension to transform.
        norm (str, optional): 'backward' (None, the default: no scaling forward, 1/n inverse),
            'ortho' (1/sqrt(n) both ways) or 'forward' (1/n forward, none inverse).

    Returns:
        Tensor: complex, the shape of `input` with `n` along `dim`.

    Example:
        >>> import chainrule
        >>> chainrule.fft.fft(chainrule.tensor([1.0, 2.0, 3.0, 4.0]))
        tensor([10.+0.j, -2.+2.j, -2.+0.j, -2.-2.j])
    """
    out = _c2c("fft", input, _length("fft", n), (dim,), norm, False)
    return named(out, "FftR2CBackward0") if _is_real(input) else out  # PyTorch's r2c


@autocast_policy(FLOAT32)
def ifft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:  # noqa: A002
    """The inverse of `fft` along `dim` (scaled by 1/n with the default norm).

    Args:
        input (Tensor): real or complex.
        n (int, optional): the signal length: the input is zero-padded or cropped
            at the end of `dim` to it first; its own size by default.
        dim (int): the dimension to transform.
        norm (str, optional): 'backward' (None, the default: no scaling forward, 1/n inverse),
            'ortho' (1/sqrt(n) both ways) or 'forward' (1/n forward, none inverse).

    Returns:
        Tensor: complex, the shape of `input` with `n` along `dim`.

    Example:
        >>> import chainrule
        >>> chainrule.fft.ifft(chainrule.tensor([10.0, 0.0, 0.0, 0.0]))
        tensor([2.5000-0.j, 2.5000-0.j, 2.5000-0.j, 2.5000-0.j])
    """
    if _is_real(input):  # PyTorch's conj of an r2c: its zero imaginary parts are -0.0
        conjugate_norm = _CONJUGATE_NORM[_norm(norm)]
        return conj(_c2c("ifft", input, _length("ifft", n), (dim,), conjugate_norm, False))
    return _c2c("ifft", input, _length("ifft", n), (dim,), norm, True)


@autocast_policy(FLOAT32)
def fft2(
    input: Tensor,  # noqa: A002
    s: Sequence[int] | None = None,
    dim: Sequence[int] = (-2, -1),
    norm: str | None = None,
) -> Tensor:
    """`fftn` over two dims, the last two by default.

    Args:
        input (Tensor): real or complex, at least 2-D.
        s (sequence of ints, optional): the signal size in each transformed dim; the input
            is zero-padded or cropped to it first.
        dim (sequence of ints, optional): the two dimensions to transform.
        norm (str, optional): 'backward' (None, the default: no scaling forward, 1/n inverse),
            'ortho' (1/sqrt(n) both ways) or 'forward' (1/n forward, none inverse).

    Returns:
        Tensor: complex.

    Example:
        >>> import chainrule
        >>> chainrule.fft.fft2(chainrule.ones(2, 2))
        tensor([[4.+0.j, 0.+0.j],
                [0.+0.j, 0.+0.j]])
    """
    return _c2c("fft2", input, s, dim, norm, False)


@autocast_policy(FLOAT32)
def ifft2(
    input: Tensor,  # noqa: A002
    s: Sequence[int] | None = None,
    dim: Sequence[int] = (-2, -1),
    norm: str | None = None,
) -> Tensor:
    """`ifftn` over two dims, the last two by default.

    Args:
        input (Tensor): real or complex, at least 2-D.
        s (sequence of ints, optional): the signal size in each transformed dim; the input
            is zero-padded or cropped to it first.
        dim (sequence of ints, optional): the two dimensions to transform.
        norm (str, optional): 'backward' (None, the default: no scaling forward, 1/n inverse),
            'ortho' (1/sqrt(n) both ways) or 'forward' (1/n forward, none inverse).

    Returns:
        Tensor: complex.

    Example:
        >>> import chainrule
        >>> chainrule.fft.ifft2(chainrule.fft.fft2(chainrule.eye(2))).real
        tensor([[1., 0.],
                [0., 1.]])
    """
    return _c2c("ifft2", input, s, dim, norm, True)


@autocast_policy(FLOAT32)
def fftn(
    input: Tensor,  # noqa: A002
    s: Sequence[int] | None = None,
    dim: Dims | None = None,
    norm: str | None = None,
) -> Tensor:
    """The n-dimensional discrete Fourier transform over `dim`.

    Args:
        input (Tensor): real or complex.
        s (sequence of ints, optional): the signal size in each transformed dim; the input
            is zero-padded or cropped to it first.
        dim (sequence of ints, optional): the dimensions to transform: every one by default, or
            the last len(s) when only `s` is given.
        norm (str, optional): 'backward' (None, the default: no scaling forward, 1/n inverse),
            'ortho' (1/sqrt(n) both ways) or 'forward' (1/n forward, none inverse).

    Returns:
        Tensor: complex.

    Example:
        >>> import chainrule
        >>> chainrule.fft.fftn(chainrule.ones(2, 2, 2)).abs().sum()
        tensor(8.)
    """
    return _c2c("fftn", input, s, dim, norm, False)


@autocast_policy(FLOAT32)
def ifftn(
    input: Tensor,  # noqa: A002
    s: Sequence[int] | None = None,
    dim: Dims | None = None,
    norm: str | None = None,
) -> Tensor:
    """The inverse of `fftn`.

    Args:
        input (Tensor): real or complex.
        s (sequence of ints, optional): the signal size in each transformed dim; the input
            is zero-padded or cropped to it first.
        dim (sequence of ints, optional): the dimensions to transform: every one by default, or
            the last len(s) when only `s` is given.
        norm (str, optional): 'backward' (None, the default: no scaling forward, 1/n inverse),
            'ortho' (1/sqrt(n) both ways) or 'forward' (1/n forward, none inverse).

    Returns:
        Tensor: complex.

    Example:
        >>> import chainrule
        >>> x = chainrule.randn(2, 3, 4)
        >>> chainrule.allclose(chainrule.fft.ifftn(chainrule.fft.fftn(x)).real, x, atol=1e-6)
        True
    """
    return _c2c("ifftn", input, s, dim, norm, True)


# ---- public functions: real transforms -------------------------------------------------------


def _r2c(name: str, x: Any, s: Any, dim: Any, norm: Any) -> Any:
    norm = _norm(norm)
    x = _as_real(name, x)
    dims, sizes = _dims_and_sizes(name, x, s, dim)
    if not dims:
        raise ShapeError(f"{name}: must transform at least one axis")
    if sizes is not None:
        for axis, size in zip(dims, sizes):
            if size != -1:
                x = _resize(x, axis, _check_size(name, size))
    last = dims[-1]
    out = apply(Rfft, (x,), last, norm, x.shape[last])
    if len(dims) > 1:  # one r2c node in PyTorch
        out = named(apply(Fft, (out,), dims[:-1], norm, False), "FftR2CBackward0")
    return out


def _c2r(name: str, x: Any, s: Any, dim: Any, norm: Any) -> Any:
    norm = _norm(norm)
    x = _as_complex(name, x)
    dims, sizes = _dims_and_sizes(name, x, s, dim)
    if not dims:
        raise ShapeError(f"{name}: must transform at least one axis")
    last = dims[-1]
    if sizes is None or sizes[-1] == -1:
        n = 2 * (x.shape[last] - 1)
    else:
        n = sizes[-1]
    n = _check_size(name, n)
    if sizes is not None:
        for axis, size in zip(dims[:-1], sizes[:-1]):
            if size != -1:
                x = _resize(x, axis, _check_size(name, size))
    if len(dims) > 1:
        x = apply(Fft, (x,), dims[:-1], norm, True)
    x = _resize(x, last, n // 2 + 1)
    return apply(Irfft, (x,), last, norm, n)


@autocast_policy(FLOAT32)
def rfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:  # noqa: A002
    """The DFT of a real signal along `dim`: its n // 2 + 1 non-redundant terms (the
    others are their conjugates).

    Args:
        input (Tensor): real (complex is refused).
        n (int, optional): the signal length: the input is zero-padded or cropped
            at the end of `dim` to it first; its own size by default.
        dim (int): the dimension to transform.
        norm (str, optional): 'backward' (None, the default: no scaling forward, 1/n inverse),
            'ortho' (1/sqrt(n) both ways) or 'forward' (1/n forward, none inverse).

    Returns:
        Tensor: complex, with n // 2 + 1 terms along `dim`.

    Example:
        >>> import chainrule
        >>> chainrule.fft.rfft(chainrule.tensor([1.0, 2.0, 3.0, 4.0]))
        tensor([10.+0.j, -2.+2.j, -2.+0.j])
    """
    return _r2c("rfft", input, _length("rfft", n), (dim,), norm)


@autocast_policy(FLOAT32)
def irfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:  # noqa: A002
    """The real signal of length n whose `rfft` is `input`: the inverse of `rfft`.

    Args:
        input (Tensor): the n // 2 + 1 terms of a Hermitian spectrum along `dim`.
        n (int, optional): the output length, 2 * (size - 1) by default (pass it for
            an odd-length signal).
        dim (int): the dimension to transform.
        norm (str, optional): 'backward' (None, the default: no scaling forward, 1/n inverse),
            'ortho' (1/sqrt(n) both ways) or 'forward' (1/n forward, none inverse).

    Returns:
        Tensor: real, with `n` along `dim`.

    Example:
        >>> import chainrule
        >>> chainrule.fft.irfft(chainrule.fft.rfft(chainrule.tensor([1.0, 2.0, 3.0])), n=3)
        tensor([1., 2., 3.])
    """
    return _c2r("irfft", input, _length("irfft", n), (dim,), norm)


@autocast_policy(FLOAT32)
def rfft2(
    input: Tensor,  # noqa: A002
    s: Sequence[int] | None = None,
    dim: Sequence[int] = (-2, -1),
    norm: str | None = None,
) -> Tensor:
    """`rfftn` over two dims, the last two by default.

    Args:
        input (Tensor): real, at least 2-D.
        s (sequence of ints, optional): the signal size in each transformed dim; the input
            is zero-padded or cropped to it first.
        dim (sequence of ints, optional): the two dimensions to transform.
        norm (str, optional): 'backward' (None, the default: no scaling forward, 1/n inverse),
            'ortho' (1/sqrt(n) both ways) or 'forward' (1/n forward, none inverse).

    Returns:
        Tensor: complex, the last transformed dim holding s[-1] // 2 + 1 terms.

    Example:
        >>> import chainrule
        >>> tuple(chainrule.fft.rfft2(chainrule.ones(2, 4)).shape)
        (2, 3)
    """
    return _r2c("rfft2", input, s, dim, norm)


@autocast_policy(FLOAT32)
def irfft2(
    input: Tensor,  # noqa: A002
    s: Sequence[int] | None = None,
    dim: Sequence[int] = (-2, -1),
    norm: str | None = None,
) -> Tensor:
    """`irfftn` over two dims, the last two by default.

    Args:
        input (Tensor): complex, at least 2-D.
        s (sequence of ints, optional): the output size in each transformed dim; the last defaults
            to 2 * (size - 1).
        dim (sequence of ints, optional): the two dimensions to transform.
        norm (str, optional): 'backward' (None, the default: no scaling forward, 1/n inverse),
            'ortho' (1/sqrt(n) both ways) or 'forward' (1/n forward, none inverse).

    Returns:
        Tensor: real.

    Example:
        >>> import chainrule
        >>> x = chainrule.randn(2, 4)
        >>> chainrule.allclose(chainrule.fft.irfft2(chainrule.fft.rfft2(x)), x, atol=1e-6)
        True
    """
    return _c2r("irfft2", input, s, dim, norm)


@autocast_policy(FLOAT32)
def rfftn(
    input: Tensor,  # noqa: A002
    s: Sequence[int] | None = None,
    dim: Dims | None = None,
    norm: str | None = None,
) -> Tensor:
    """The n-dimensional DFT of a real signal: `rfft` over the last of `dim`, then `fftn`
    over the others.

    Args:
        input (Tensor): real.
        s (sequence of ints, optional): the signal size in each transformed dim; the input
            is zero-padded or cropped to it first.
        dim (sequence of ints, optional): the dimensions to transform: every one by default, or
            the last len(s) when only `s` is given.
        norm (str, optional): 'backward' (None, the default: no scaling forward, 1/n inverse),
            'ortho' (1/sqrt(n) both ways) or 'forward' (1/n forward, none inverse).

    Returns:
        Tensor: complex, the last transformed dim holding s[-1] // 2 + 1 terms.

    Example:
        >>> import chainrule
        >>> tuple(chainrule.fft.rfftn(chainrule.ones(2, 2, 4)).shape)
        (2, 2, 3)
    """
    return _r2c("rfftn", input, s, dim, norm)


@autocast_policy(FLOAT32)
def irfftn(
    input: Tensor,  # noqa: A002
    s: Sequence[int] | None = None,
    dim: Dims | None = None,
    norm: str | None = None,
) -> Tensor:
    """The inverse of `rfftn`: `ifftn` over the leading dims of `dim`, then `irfft` over
    the last.

    Args:
        input (Tensor): complex.
        s (sequence of ints, optional): the output size in each transformed dim; the last
            defaults to 2 * (size - 1).
        dim (sequence of ints, optional): the dimensions to transform: every one by default, or
            the last len(s) when only `s` is given.
        norm (str, optional): 'backward' (None, the default: no scaling forward, 1/n inverse),
            'ortho' (1/sqrt(n) both ways) or 'forward' (1/n forward, none inverse).

    Returns:
        Tensor: real.

    Example:
        >>> import chainrule
        >>> x = chainrule.randn(3, 4)
        >>> chainrule.allclose(chainrule.fft.irfftn(chainrule.fft.rfftn(x)), x, atol=1e-6)
        True
    """
    return _c2r("irfftn", input, s, dim, norm)


@autocast_policy(FLOAT32)
def hfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:  # noqa: A002
    """The real DFT of a Hermitian-symmetric signal given by its first half:
    `irfft(conj(input))` with the conjugate normalisation, as torch.fft.hfft.

    Args:
        input (Tensor): the first n // 2 + 1 terms of the signal along `dim`.
        n (int, optional): the output length, 2 * (size - 1) by default.
        dim (int): the dimension to transform.
        norm (str, optional): 'backward' (None, the default: no scaling forward, 1/n inverse),
            'ortho' (1/sqrt(n) both ways) or 'forward' (1/n forward, none inverse).

    Returns:
        Tensor: real, with `n` along `dim`.

    Example:
        >>> import chainrule
        >>> chainrule.fft.hfft(chainrule.tensor([1.0, 0.0, 0.0]))
        tensor([1., 1., 1., 1.])
    """
    norm = _CONJUGATE_NORM[_norm(norm)]
    x = _as_complex("hfft", input)
    return _c2r("hfft", conj(x), _length("hfft", n), (dim,), norm)


@autocast_policy(FLOAT32)
def ihfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:  # noqa: A002
    """The inverse of `hfft`: `conj(rfft(input))` with the conjugate normalisation.

    Args:
        input (Tensor): real.
        n (int, optional): the signal length: the input is zero-padded or cropped
            at the end of `dim` to it first; its own size by default.
        dim (int): the dimension to transform.
        norm (str, optional): 'backward' (None, the default: no scaling forward, 1/n inverse),
            'ortho' (1/sqrt(n) both ways) or 'forward' (1/n forward, none inverse).

    Returns:
        Tensor: complex, with n // 2 + 1 terms along `dim`.

    Example:
        >>> import chainrule
        >>> chainrule.fft.ihfft(chainrule.tensor([1.0, 2.0, 3.0, 4.0]))
        tensor([ 2.5000-0.0000j, -0.5000-0.5000j, -0.5000-0.0000j])
    """
    norm = _CONJUGATE_NORM[_norm(norm)]
    x = _as_real("ihfft", input)
    return conj(_r2c("ihfft", x, _length("ihfft", n), (dim,), norm))


def hfftn(
    input: Tensor,  # noqa: A002
    s: Sequence[int] | None = None,
    dim: Dims | None = None,
    norm: str | None = None,
) -> Tensor:
    """The n-dimensional real DFT of a Hermitian-symmetric signal given by its half along the
    last of `dim`: `irfftn(conj(input))` with the conjugate normalisation, as
    torch.fft.hfftn.

    Args:
        input (Tensor): the signal's half: s[-1] // 2 + 1 terms along the last of `dim`.
        s (sequence of ints, optional): the output size in each transformed dim; the last
            defaults to 2 * (size - 1).
        dim (sequence of ints, optional): the dimensions to transform: every one by default, or
            the last len(s) when only `s` is given.
        norm (str, optional): 'backward' (None, the default: no scaling forward, 1/n inverse),
            'ortho' (1/sqrt(n) both ways) or 'forward' (1/n forward, none inverse).

    Returns:
        Tensor: real.

    Example:
        >>> import chainrule
        >>> chainrule.fft.hfftn(chainrule.tensor([[1.0, 0.0], [0.0, 0.0]]))
        tensor([[1., 1.],
                [1., 1.]])
    """
    norm = _CONJUGATE_NORM[_norm(norm)]
    return _c2r("hfftn", conj(_as_complex("hfftn", input)), s, dim, norm)


def hfft2(
    input: Tensor,  # noqa: A002
    s: Sequence[int] | None = None,
    dim: Sequence[int] = (-2, -1),
    norm: str | None = None,
) -> Tensor:
    """`hfftn` over two dims, the last two by default.

    Args:
        input (Tensor): at least 2-D: the signal's half along the last of `dim`.
        s (sequence of ints, optional): the output size in each transformed dim; the last
            defaults to 2 * (size - 1).
        dim (sequence of ints, optional): the two dimensions to transform.
        norm (str, optional): 'backward' (None, the default: no scaling forward, 1/n inverse),
            'ortho' (1/sqrt(n) both ways) or 'forward' (1/n forward, none inverse).

    Returns:
        Tensor: real.

    Example:
        >>> import chainrule
        >>> tuple(chainrule.fft.hfft2(chainrule.ones(2, 3)).shape)
        (2, 4)
    """
    norm = _CONJUGATE_NORM[_norm(norm)]
    return _c2r("hfft2", conj(_as_complex("hfft2", input)), s, dim, norm)


def ihfftn(
    input: Tensor,  # noqa: A002
    s: Sequence[int] | None = None,
    dim: Dims | None = None,
    norm: str | None = None,
) -> Tensor:
    """The inverse of `hfftn`: `conj(rfftn(input))` with the conjugate normalisation.

    Args:
        input (Tensor): real.
        s (sequence of ints, optional): the signal size in each transformed dim; the input
            is zero-padded or cropped to it first.
        dim (sequence of ints, optional): the dimensions to transform: every one by default, or
            the last len(s) when only `s` is given.
        norm (str, optional): 'backward' (None, the default: no scaling forward, 1/n inverse),
            'ortho' (1/sqrt(n) both ways) or 'forward' (1/n forward, none inverse).

    Returns:
        Tensor: complex, the last transformed dim holding s[-1] // 2 + 1 terms.

    Example:
        >>> import chainrule
        >>> tuple(chainrule.fft.ihfftn(chainrule.ones(2, 2, 4)).shape)
        (2, 2, 3)
    """
    norm = _CONJUGATE_NORM[_norm(norm)]
    out = conj(_r2c("ihfftn", _as_real("ihfftn", input), s, dim, norm))
    return named(out, "FftC2CBackward0")  # PyTorch's: an r2c, then a c2c of the rest


def ihfft2(
    input: Tensor,  # noqa: A002
    s: Sequence[int] | None = None,
    dim: Sequence[int] = (-2, -1),
    norm: str | None = None,
) -> Tensor:
    """`ihfftn` over two dims, the last two by default.

    Args:
        input (Tensor): real, at least 2-D.
        s (sequence of ints, optional): the signal size in each transformed dim; the input
            is zero-padded or cropped to it first.
        dim (sequence of ints, optional): the two dimensions to transform.
        norm (str, optional): 'backward' (None, the default: no scaling forward, 1/n inverse),
            'ortho' (1/sqrt(n) both ways) or 'forward' (1/n forward, none inverse).

    Returns:
        Tensor: complex, the last transformed dim holding s[-1] // 2 + 1 terms.

    Example:
        >>> import chainrule
        >>> tuple(chainrule.fft.ihfft2(chainrule.ones(2, 4)).shape)
        (2, 3)
    """
    norm = _CONJUGATE_NORM[_norm(norm)]
    out = conj(_r2c("ihfft2", _as_real("ihfft2", input), s, dim, norm))
    return named(out, "FftC2CBackward0")  # PyTorch's: an r2c, then a c2c of the rest


# ---- shifts and frequencies ------------------------------------------------------------------


def _shift(name: str, x: Any, dim: Any, inverse: bool) -> Any:
    x = _require_tensor(name, x)
    dims = tuple(range(x.ndim)) if dim is None else ((dim,) if isinstance(dim, int) else dim)
    dims = tuple(normalize_dim(name, d, x.ndim) for d in dims)
    if not dims:  # PyTorch's: a roll over no dims
        raise ShapeError(f"{name}: `shifts` required (no dimensions to shift)")
    shifts = tuple(-(x.shape[d] // 2) if inverse else x.shape[d] // 2 for d in dims)
    return roll(x, shifts, dims)


def fftshift(input: Tensor, dim: Dims | None = None) -> Tensor:  # noqa: A002
    """The zero-frequency term moved to the centre of `dim` (every dim by default): a roll
    by size // 2.

    Args:
        input (Tensor): any shape, e.g. the output of `fft` or `fftfreq`.
        dim (int or sequence of ints, optional): the dimensions to shift.

    Returns:
        Tensor: the shape and dtype of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.fft.fftshift(chainrule.fft.fftfreq(4))
        tensor([-0.5000, -0.2500,  0.0000,  0.2500])
    """
    return _shift("fftshift", input, dim, False)


def ifftshift(input: Tensor, dim: Dims | None = None) -> Tensor:  # noqa: A002
    """The inverse of `fftshift`: the centre moved back to index 0 (a roll by -(size // 2)).

    Args:
        input (Tensor): any shape.
        dim (int or sequence of ints, optional): the dimensions to shift (every one by default).

    Returns:
        Tensor: the shape and dtype of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.fft.ifftshift(chainrule.fft.fftshift(chainrule.fft.fftfreq(5)))
        tensor([ 0.0000,  0.2000,  0.4000, -0.4000, -0.2000])
    """
    return _shift("ifftshift", input, dim, True)


def _frequencies(
    name: str,
    values: Sequence[float],
    divisor: float,
    dtype: Any,
    device: Any,
    requires_grad: bool,
) -> Any:
    backend = backend_for_device(device)
    kind = dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)
    if not (kind.is_floating_point or kind.is_complex):
        raise ShapeError(f"{name} requires a floating point or complex dtype")
    if kind.is_complex:
        raise DTypeError(f"{name}: \"arange_cpu\" not implemented for '{kind.name}'")
    xp = backend.xp
    with xp.errstate(divide="ignore", invalid="ignore"):  # d = 0: inf and nan, as PyTorch's
        array = xp.asarray(values, dtype="float64") * (xp.float64(1.0) / xp.float64(divisor))
    out = Tensor._from_array(array.astype(kind.numpy), backend)
    return out.requires_grad_(requires_grad) if requires_grad else out


def fftfreq(
    n: int,
    d: float = 1.0,
    *,
    dtype: dtype | None = None,
    device: Device | str | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """The sample frequencies of `fft` for a signal of n samples spaced d apart:
    [0, 1, ..., (n - 1) // 2, -(n // 2), ..., -1] / (d n).

    Args:
        n (int): the signal length.
        d (float): the sample spacing (the inverse of the sampling rate).
        dtype (dtype, optional): the default float dtype if None.
        device (device, optional): where to create it.
        requires_grad (bool): make it a leaf that requires grad.

    Returns:
        Tensor: 1-D, of length n.

    Example:
        >>> import chainrule
        >>> chainrule.fft.fftfreq(5)
        tensor([ 0.0000,  0.2000,  0.4000, -0.4000, -0.2000])
    """
    if n < 0:
        raise ShapeError(f"fftfreq: Trying to create tensor with negative dimension {n}: [{n}]")
    values = [k if k <= (n - 1) // 2 else k - n for k in range(n)]
    return _frequencies("fftfreq", values, d * n, dtype, device, requires_grad)


def rfftfreq(
    n: int,
    d: float = 1.0,
    *,
    dtype: dtype | None = None,
    device: Device | str | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """The sample frequencies of `rfft`: [0, 1, ..., n // 2] / (d n).

    Args:
        n (int): the signal length.
        d (float): the sample spacing.
        dtype (dtype, optional): the default float dtype if None.
        device (device, optional): where to create it.
        requires_grad (bool): make it a leaf that requires grad.

    Returns:
        Tensor: 1-D, of length n // 2 + 1.

    Example:
        >>> import chainrule
        >>> chainrule.fft.rfftfreq(6, d=0.5)
        tensor([0.0000, 0.3333, 0.6667, 1.0000])
    """
    count = int(n / 2) + 1  # (C++'s division, toward zero: n = -1 gives one frequency)
    if count < 0:
        raise ShapeError(
            f"rfftfreq: Trying to create tensor with negative dimension {count}: [{count}]"
        )
    return _frequencies("rfftfreq", list(range(count)), d * n, dtype, device, requires_grad)
