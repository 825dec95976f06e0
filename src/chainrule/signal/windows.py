# ruff: noqa: N803 - `M`, the window length, is PyTorch's (and SciPy's) argument name
"""`torch.signal.windows`: the window functions of SciPy's `signal.windows` with PyTorch's
signatures. Each is sampled on `linspace` positions and evaluated in chainrule ops, in the
requested dtype, as PyTorch's are; `sym=False` gives the periodic window (one sample longer,
its last sample dropped) that spectral analysis wants.

Example:
    >>> import chainrule
    >>> chainrule.signal.windows.hann(5)
    tensor([0.0000, 0.5000, 1.0000, 0.5000, 0.0000])
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

from chainrule import ops
from chainrule._tensor import Tensor
from chainrule.backend import device as Device
from chainrule.backend import dtypes, formats

__all__ = [
    "bartlett",
    "blackman",
    "cosine",
    "exponential",
    "gaussian",
    "general_cosine",
    "general_hamming",
    "hamming",
    "hann",
    "kaiser",
    "nuttall",
]


_COMMON_ARGS = """sym (bool): True for a symmetric window, False for a periodic one.
        dtype (dtype, optional): float32 or float64 (the default dtype if None).
        layout (layout): `strided` only.
        device (device, optional): where the window lives.
        requires_grad (bool): record operations on it."""


def _documented(window: Callable) -> Callable:
    """The window's docstring with the keyword arguments every window takes filled in."""
    window.__doc__ = window.__doc__.replace("{common}", _COMMON_ARGS)
    return window


def _checked_dtype(name: str, M: int, dtype: dtypes.dtype | None, layout: object) -> dtypes.dtype:
    """The window's dtype (the default one if None), after PyTorch's argument checks."""
    if M < 0:
        raise ValueError(f"{name} requires non-negative window length, got M={M}")
    if layout is not formats.strided:
        raise ValueError(f"{name} is implemented for strided tensors only, got: {layout}")
    dtype = dtypes.get_default_dtype() if dtype is None else dtypes.as_dtype(dtype)
    if dtype not in (dtypes.float32, dtypes.float64):
        raise ValueError(f"{name} expects float32 or float64 dtypes, got: {dtype}")
    return dtype


def _positions(
    start: float, step: float, M: int, dtype: dtypes.dtype, device: Device | str | None, grad: bool
) -> Tensor:
    """M positions start, start + step, ... (linspace, as PyTorch samples them)."""
    end = start + (M - 1) * step
    return ops.creation.linspace(start, end, M, dtype=dtype, device=device, requires_grad=grad)


def _trivial(M: int, dtype: dtypes.dtype, device: Device | str | None, grad: bool) -> Tensor | None:
    """The windows of 0 and 1 samples: empty, and [1]."""
    if M == 0:
        return ops.creation.empty(0, dtype=dtype, device=device, requires_grad=grad)
    if M == 1:
        return ops.creation.ones(1, dtype=dtype, device=device, requires_grad=grad)
    return None


def _span(M: int, sym: bool) -> int:
    """The number of intervals a window spans: M - 1, or M for a periodic one."""
    return M if not sym and M > 1 else M - 1


@_documented
def exponential(
    M: int,
    *,
    center: float | None = None,
    tau: float = 1.0,
    sym: bool = True,
    dtype: dtypes.dtype | None = None,
    layout: formats.layout = formats.strided,
    device: Device | str | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """exp(-|n - center| / tau): a Poisson window.

    Args:
        M (int): the window's length.
        center (float, optional): where it peaks (the middle by default; only for sym=False).
        tau (float): the decay length, positive.
        {common}

    Example:
        >>> import chainrule
        >>> chainrule.signal.windows.exponential(3)
        tensor([0.3679, 1.0000, 0.3679])
    """
    dtype = _checked_dtype("exponential", M, dtype, layout)
    if tau <= 0:
        raise ValueError(f"Tau must be positive, got: {tau} instead.")
    if sym and center is not None:
        raise ValueError("Center must be None for symmetric windows")
    if M == 0:
        return ops.creation.empty(0, dtype=dtype, device=device, requires_grad=requires_grad)
    if center is None:
        center = _span(M, sym) / 2.0
    k = _positions(-center / tau, 1 / tau, M, dtype, device, requires_grad)
    return ops.elementwise.exp(-ops.elementwise.abs(k))


@_documented
def cosine(
    M: int,
    *,
    sym: bool = True,
    dtype: dtypes.dtype | None = None,
    layout: formats.layout = formats.strided,
    device: Device | str | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """sin(pi (n + 1/2) / M): a sine window, non-zero at both ends.

    Args:
        M (int): the window's length.
        {common}

    Example:
        >>> import chainrule
        >>> chainrule.signal.windows.cosine(3)
        tensor([0.5000, 1.0000, 0.5000])
    """
    dtype = _checked_dtype("cosine", M, dtype, layout)
    if M == 0:
        return ops.creation.empty(0, dtype=dtype, device=device, requires_grad=requires_grad)
    step = math.pi / (M + 1 if not sym and M > 1 else M)
    return ops.elementwise.sin(_positions(0.5 * step, step, M, dtype, device, requires_grad))


@_documented
def gaussian(
    M: int,
    *,
    std: float = 1.0,
    sym: bool = True,
    dtype: dtypes.dtype | None = None,
    layout: formats.layout = formats.strided,
    device: Device | str | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """exp(-(n - c)^2 / (2 std^2)) about the middle c.

    Args:
        M (int): the window's length.
        std (float): the standard deviation in samples, positive.
        {common}

    Example:
        >>> import chainrule
        >>> chainrule.signal.windows.gaussian(3)
        tensor([0.6065, 1.0000, 0.6065])
    """
    dtype = _checked_dtype("gaussian", M, dtype, layout)
    if std <= 0:
        raise ValueError(f"Standard deviation must be positive, got: {std} instead.")
    if M == 0:
        return ops.creation.empty(0, dtype=dtype, device=device, requires_grad=requires_grad)
    scale = 1 / (std * math.sqrt(2))
    k = _positions(-_span(M, sym) / 2.0 * scale, scale, M, dtype, device, requires_grad)
    return ops.elementwise.exp(-(k**2))


@_documented
def kaiser(
    M: int,
    *,
    beta: float = 12.0,
    sym: bool = True,
    dtype: dtypes.dtype | None = None,
    layout: formats.layout = formats.strided,
    device: Device | str | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """I0(beta sqrt(1 - (2n / N - 1)^2)) / I0(beta), N = M - 1 (M if periodic).

    Args:
        M (int): the window's length.
        beta (float): the shape, non-negative (0 is rectangular).
        {common}

    Example:
        >>> import chainrule
        >>> chainrule.signal.windows.kaiser(3, beta=0.0)
        tensor([1., 1., 1.])
    """
    dtype = _checked_dtype("kaiser", M, dtype, layout)
    if beta < 0:
        raise ValueError(f"beta must be non-negative, got: {beta} instead.")
    trivial = _trivial(M, dtype, device, requires_grad)
    if trivial is not None:
        return trivial
    b = ops.creation.tensor(beta, dtype=dtype, device=device)
    step = 2.0 * b / (M if not sym else M - 1)
    end = ops.elementwise.minimum(b, -b + (M - 1) * step)  # never past beta by rounding
    k = ops.creation.linspace(-b, end, M, dtype=dtype, device=device, requires_grad=requires_grad)
    inner = ops.elementwise.sqrt(b * b - k**2)
    return ops.special.i0(inner) / ops.special.i0(b)


@_documented
def general_cosine(
    M: int,
    *,
    a: Iterable[float],
    sym: bool = True,
    dtype: dtypes.dtype | None = None,
    layout: formats.layout = formats.strided,
    device: Device | str | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """sum_i (-1)^i a_i cos(2 pi i n / N): the family of Hann, Hamming, Blackman, Nuttall.

    Args:
        M (int): the window's length.
        a (sequence of float): the coefficients a_0, a_1, ...
        {common}

    Example:
        >>> import chainrule
        >>> chainrule.signal.windows.general_cosine(3, a=[0.5, 0.5])
        tensor([0., 1., 0.])
    """
    dtype = _checked_dtype("general_cosine", M, dtype, layout)
    trivial = _trivial(M, dtype, device, requires_grad)
    if trivial is not None:
        return trivial
    if not isinstance(a, Iterable):
        raise TypeError("Coefficients must be a list/tuple")
    coefficients = list(a)
    if not coefficients:
        raise ValueError("Coefficients cannot be empty")
    step = 2 * math.pi / (M if not sym else M - 1)
    k = _positions(0.0, step, M, dtype, device, requires_grad)
    signed = ops.creation.tensor(
        [(-1) ** i * w for i, w in enumerate(coefficients)],
        dtype=dtype,
        device=device,
        requires_grad=requires_grad,
    )
    order = ops.creation.arange(len(coefficients), dtype=dtype, device=device)
    terms = signed.unsqueeze(-1) * ops.elementwise.cos(order.unsqueeze(-1) * k)
    return terms.sum(0)


@_documented
def general_hamming(
    M: int,
    *,
    alpha: float = 0.54,
    sym: bool = True,
    dtype: dtypes.dtype | None = None,
    layout: formats.layout = formats.strided,
    device: Device | str | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """alpha - (1 - alpha) cos(2 pi n / N): Hamming's family (alpha = 0.5 is Hann).

    Args:
        M (int): the window's length.
        alpha (float): the constant term.
        {common}

    Example:
        >>> import chainrule
        >>> chainrule.signal.windows.general_hamming(3, alpha=0.5)
        tensor([0., 1., 0.])
    """
    return general_cosine(
        M,
        a=[alpha, 1.0 - alpha],
        sym=sym,
        dtype=dtype,
        layout=layout,
        device=device,
        requires_grad=requires_grad,
    )


def _named_cosine(name: str, coefficients: list[float], summary: str, example: str) -> object:
    def window(
        M: int,
        *,
        sym: bool = True,
        dtype: dtypes.dtype | None = None,
        layout: formats.layout = formats.strided,
        device: Device | str | None = None,
        requires_grad: bool = False,
    ) -> Tensor:
        _checked_dtype(name, M, dtype, layout)
        return general_cosine(
            M,
            a=coefficients,
            sym=sym,
            dtype=dtype,
            layout=layout,
            device=device,
            requires_grad=requires_grad,
        )

    window.__name__ = window.__qualname__ = name
    window.__doc__ = f"""{summary}

    Args:
        M (int): the window's length.
        {{common}}

    Example:
        >>> import chainrule
        >>> chainrule.signal.windows.{name}(3)
        {example}
    """
    return _documented(window)


hamming = _named_cosine(
    "hamming", [0.54, 0.46], "0.54 - 0.46 cos(2 pi n / N).", "tensor([0.0800, 1.0000, 0.0800])"
)
hann = _named_cosine(
    "hann", [0.5, 0.5], "0.5 - 0.5 cos(2 pi n / N), zero at both ends.", "tensor([0., 1., 0.])"
)
blackman = _named_cosine(
    "blackman",
    [0.42, 0.5, 0.08],
    "0.42 - 0.5 cos(2 pi n / N) + 0.08 cos(4 pi n / N).",
    "tensor([-1.4901e-08,  1.0000e+00, -1.4901e-08])",
)
nuttall = _named_cosine(
    "nuttall",
    [0.3635819, 0.4891775, 0.1365995, 0.0106411],
    "Nuttall's minimum 4-term Blackman-Harris window.",
    "tensor([3.6280e-04, 1.0000e+00, 3.6280e-04])",
)


@_documented
def bartlett(
    M: int,
    *,
    sym: bool = True,
    dtype: dtypes.dtype | None = None,
    layout: formats.layout = formats.strided,
    device: Device | str | None = None,
    requires_grad: bool = False,
) -> Tensor:
    """1 - |2n / N - 1|: a triangle, zero at both ends.

    Args:
        M (int): the window's length.
        {common}

    Example:
        >>> import chainrule
        >>> chainrule.signal.windows.bartlett(5)
        tensor([0.0000, 0.5000, 1.0000, 0.5000, 0.0000])
    """
    dtype = _checked_dtype("bartlett", M, dtype, layout)
    trivial = _trivial(M, dtype, device, requires_grad)
    if trivial is not None:
        return trivial
    k = _positions(-1.0, 2 / (M if not sym else M - 1), M, dtype, device, requires_grad)
    return 1 - ops.elementwise.abs(k)
