"""Special functions (PyTorch's torch.special): gamma and its logarithmic derivatives, Bessel
functions, inverse error functions, the normal CDF and its inverse, Hurwitz zeta, incomplete
gamma; and the Gamma sampler with its implicit reparameterisation gradient.

Forwards call SciPy's ufuncs (CuPy's on the GPU) through `backend/special.py`; SciPy is an
optional dependency that loads on first use. Every derivative is written in chainrule ops
(digamma' = polygamma(1, .), polygamma(n)' = polygamma(n + 1, .), i0' = i1, ...), so higher
derivatives come free. Where PyTorch has no derivative (zeta and gammainc with respect to their
first argument), the vjp raises NotImplementedError with PyTorch's message; PyTorch raises
only when that gradient is asked for, chainrule whenever the argument requires grad (the engine
does not tell an op which of its inputs a `grad()` call wants).

The functions already in chainrule (erf, erfc, expm1, log1p, logit, sigmoid, sinc, xlogy,
softmax, logsumexp, ...) are reused; `chainrule.special` gives them their torch.special names.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from chainrule._tensor import Tensor
from chainrule.autograd.node import Node
from chainrule.backend import Array
from chainrule.backend.special import special_function, standard_gamma_grad
from chainrule.errors import DomainError
from chainrule.ops.arguments import Number
from chainrule.ops.creation import Generator, _rng, random_input
from chainrule.ops.elementwise import (
    _float_operands,
    _partials_jvp,
    _partials_vjp,
    _require_floating,
    exp,
    floating_operand,
    log,
    log1p,
    sign,
    where,
    with_sections,
)
from chainrule.ops.op import Op, apply, elementwise_batch, named, unary_elementwise_jvp

_SQRT_2PI = math.sqrt(2.0 * math.pi)
_HALF_SQRT_PI = math.sqrt(math.pi) / 2.0


def _not_implemented(name: str) -> NotImplementedError:
    return NotImplementedError(f"the derivative for '{name}' is not implemented.")


# ---- the gamma function and its logarithmic derivatives ----------------------------------------


# Below this, lgamma(x) = -log|x| to double precision (Gamma(x) ~ 1/x); SciPy's gammaln
# overflows to inf on the subnormals, where PyTorch gives the finite -log|x|.
_LGAMMA_POLE_SCALE = 1e-300


class Lgamma(Op):
    """log|Gamma(x)|; +inf at -inf, as PyTorch (SciPy says -inf), and -log|x| on the
    subnormals (SciPy overflows). Derivative: g digamma(x)."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        xp = ctx.xp
        ctx.save(x=x)
        out = special_function(xp, "gammaln", x)
        out = xp.where(x == -math.inf, math.inf, out)
        magnitude = xp.abs(x)
        near_pole = (magnitude < _LGAMMA_POLE_SCALE) & (magnitude > 0)
        if near_pole.any():
            out = xp.where(near_pole, -xp.log(xp.where(near_pole, magnitude, 1.0)), out)
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (g * digamma(ctx.x),)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


class Digamma(Op):
    """psi(x) = Gamma'(x) / Gamma(x); -inf at +0 and +inf at -0 (the pole's side, PyTorch's
    copysign(inf, -x)), nan at the negative integers and -inf, as PyTorch. Derivative:
    g polygamma(1, x)."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        xp = ctx.xp
        ctx.save(x=x)
        out = special_function(xp, "psi", x)
        at_pole = xp.copysign(xp.asarray(math.inf, dtype=out.dtype), -x)
        return xp.where(x == 0, at_pole, out).astype(x.dtype, copy=False)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (g * polygamma(1, ctx.x),)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


class Polygamma(Op):
    """The n-th derivative of digamma (n >= 1; n = 0 is digamma). At the infinities PyTorch's
    values, where SciPy gives the limits: trigamma (n = 1) is nan at -inf, and n >= 2 is nan at
    +inf. Derivative: g polygamma(n + 1, x)."""

    @staticmethod
    def forward(ctx: Node, x: Array, n: int) -> Array:
        xp = ctx.xp
        ctx.save(x=x, n=n)
        out = special_function(xp, "polygamma", xp.asarray(n), x)
        undefined_at = -math.inf if n == 1 else math.inf
        return xp.where(x == undefined_at, math.nan, out).astype(out.dtype, copy=False)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (g * polygamma(ctx.n + 1, ctx.x),)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


# ---- error functions ---------------------------------------------------------------------------


class Erfinv(Op):
    """The inverse of erf on (-1, 1); +-inf at +-1, nan outside. Derivative:
    g sqrt(pi)/2 exp(out**2), from the saved output."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        out = special_function(ctx.xp, "erfinv", x)
        ctx.save(out=out)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        out = ctx.out
        return (g * _HALF_SQRT_PI * exp(out * out),)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


class Erfcx(Op):
    """The scaled complementary error function exp(x**2) erfc(x), finite where erfc underflows.
    Derivative: g (2 x out - 2/sqrt(pi))."""

    @classmethod
    def node_name(cls) -> str:
        return "SpecialErfcxBackward0"  # PyTorch's name

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        out = special_function(ctx.xp, "erfcx", x)
        ctx.save(x=x, out=out)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (g * (2 * ctx.x * ctx.out - 1 / _HALF_SQRT_PI),)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


class Ndtr(Op):
    """The standard normal CDF Phi(x). Derivative: g exp(-x**2/2) / sqrt(2 pi)."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        ctx.save(x=x)
        return special_function(ctx.xp, "ndtr", x)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x = ctx.x
        return (g * exp(-0.5 * x * x) / _SQRT_2PI,)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


class Ndtri(Op):
    """The inverse of the standard normal CDF (the probit); +-inf at 0 and 1. Derivative:
    g sqrt(2 pi) exp(out**2 / 2), from the saved output."""

    @classmethod
    def node_name(cls) -> str:
        return "SpecialNdtriBackward0"  # PyTorch's name

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        out = special_function(ctx.xp, "ndtri", x)
        ctx.save(out=out)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        out = ctx.out
        return (g * _SQRT_2PI * exp(0.5 * out * out),)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


class LogNdtr(Op):
    """log Phi(x), accurate far into the lower tail (log_ndtr(-40) = -804.6, where Phi
    underflows). Derivative: g exp(-x**2/2 - out) / sqrt(2 pi), the exponent formed before
    exponentiating so neither the density nor Phi underflows (about -x for x << 0)."""

    @classmethod
    def node_name(cls) -> str:
        return "SpecialLogNdtrBackward0"  # PyTorch's name

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        out = special_function(ctx.xp, "log_ndtr", x)
        ctx.save(x=x, out=out)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x = ctx.x
        return (g * exp(-0.5 * x * x - ctx.out) / _SQRT_2PI,)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


# ---- modified Bessel functions -----------------------------------------------------------------


class I0(Op):
    """The modified Bessel function of the first kind, order 0. Derivative: g i1(x)."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        ctx.save(x=x)
        return special_function(ctx.xp, "i0", x)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (g * i1(ctx.x),)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


class I0e(Op):
    """exp(-|x|) i0(x), finite for large |x|. Derivative: g (i1e(x) - sign(x) out)."""

    @classmethod
    def node_name(cls) -> str:
        return "SpecialI0EBackward0"  # PyTorch's name

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        out = special_function(ctx.xp, "i0e", x)
        ctx.save(x=x, out=out)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x = ctx.x
        return (g * (i1e(x) - sign(x) * ctx.out),)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


def _away_from_zero(x: Any) -> tuple[Any, Any]:
    """(x at 0, x with 1 there): keeps a division by 0 out of a branch `where` drops. "At 0"
    takes in the subnormals, where i1(x) = x / 2 rounds and i1(x) / x is no longer its limit
    1/2 (PyTorch's answer there). Callers divide rather than multiply by the reciprocal,
    which overflows at a subnormal x (i1(x) * (1/x) is inf)."""
    smallest_normal = float(x._backend.xp.finfo(x._array.dtype).tiny)
    at_zero = abs(x) < smallest_normal
    return at_zero, where(at_zero, 1.0, x)


class I1(Op):
    """The modified Bessel function of the first kind, order 1. Derivative:
    g (i0(x) - i1(x)/x), with its limit 1/2 at x = 0 (PyTorch's)."""

    @classmethod
    def node_name(cls) -> str:
        return "SpecialI1Backward0"  # PyTorch's name

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        out = special_function(ctx.xp, "i1", x)
        ctx.save(x=x, out=out)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x = ctx.x
        at_zero, safe_x = _away_from_zero(x)
        slope = i0(x) - ctx.out / safe_x
        return (g * where(at_zero, 0.5, slope),)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


class I1e(Op):
    """exp(-|x|) i1(x). Derivative: g (i0e(x) - out (sign(x) + 1/x)), with its limit 1/2 at
    x = 0 (PyTorch's)."""

    @classmethod
    def node_name(cls) -> str:
        return "SpecialI1EBackward0"  # PyTorch's name

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        out = special_function(ctx.xp, "i1e", x)
        ctx.save(x=x, out=out)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        x = ctx.x
        at_zero, safe_x = _away_from_zero(x)
        slope = i0e(x) - ctx.out * sign(x) - ctx.out / safe_x
        return (g * where(at_zero, 0.5, slope),)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


# ---- entropy terms -----------------------------------------------------------------------------


class Entr(Op):
    """-x log(x) elementwise: 0 at 0, -inf for x < 0 (PyTorch's). Derivative: -g (1 + log x)
    (+inf at 0, nan below)."""

    @classmethod
    def node_name(cls) -> str:
        return "SpecialEntrBackward0"  # PyTorch's name

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        ctx.save(x=x)
        xp = ctx.xp
        product = -x * xp.log(x)  # apply runs forward with NumPy's warnings off
        out = xp.where(x == 0, 0, xp.where(x < 0, -math.inf, product))
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (-g * (1 + log(ctx.x)),)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch


class XLog1pY(Op):
    """x log1p(y), 0 where x == 0 (unless y is nan), as PyTorch's special.xlog1py.
    Derivatives, PyTorch's: g log1p(y) for x, 0 where x == 0 and y <= -1; g x / (1 + y) for y."""

    @classmethod
    def node_name(cls) -> str:
        return "SpecialXlog1PyBackward0"  # PyTorch's name

    label = "xlog1py"

    @staticmethod
    def forward(ctx: Node, x: Array, y: Array) -> Array:
        ctx.save(x=x, y=y)
        xp = ctx.xp
        product = x * xp.log1p(y)
        return xp.where((x == 0) & ~xp.isnan(y), 0, product).astype(x.dtype, copy=False)

    @staticmethod
    def partial(ctx: Node, index: int) -> Any:
        x, y = ctx.x, ctx.y
        if index == 0:
            return where((x == 0) & (y <= -1), 0.0, log1p(y))
        return x / (1 + y)

    vjp, jvp, batch = _partials_vjp, _partials_jvp, elementwise_batch


# ---- functions of two arguments: zeta, incomplete gamma ----------------------------------------


class Zeta(Op):
    """The Hurwitz zeta function sum_k (k + q)**-x. Derivative with respect to q:
    -g x zeta(x + 1, q); with respect to x PyTorch has none, and neither has this op."""

    @classmethod
    def node_name(cls) -> str:
        return "SpecialZetaBackward0"  # PyTorch's name

    @staticmethod
    def forward(ctx: Node, x: Array, q: Array) -> Array:
        ctx.save(x=x, q=q)
        return special_function(ctx.xp, "zeta", x, q)

    @staticmethod
    def partial(ctx: Node, index: int) -> Any:
        if index == 0:
            raise _not_implemented("zeta")
        x = ctx.x
        return -x * apply(Zeta, (x + 1, ctx.q))

    vjp, jvp, batch = _partials_vjp, _partials_jvp, elementwise_batch


def _gamma_density(a: Any, x: Any) -> Any:
    """x**(a - 1) exp(-x) / Gamma(a), formed in log space."""
    return exp((a - 1) * log(x) - x - lgamma(a))


class Gammainc(Op):
    """The regularised lower incomplete gamma function P(a, x). Derivative with respect to x:
    g x**(a-1) exp(-x) / Gamma(a); with respect to a PyTorch has none, and neither has this op."""

    @classmethod
    def node_name(cls) -> str:
        return "IgammaBackward0"  # PyTorch's name

    @staticmethod
    def forward(ctx: Node, a: Array, x: Array) -> Array:
        ctx.save(a=a, x=x)
        return special_function(ctx.xp, "gammainc", a, x)

    @staticmethod
    def partial(ctx: Node, index: int) -> Any:
        if index == 0:
            raise _not_implemented("igamma: input")
        return _gamma_density(ctx.a, ctx.x)

    vjp, jvp, batch = _partials_vjp, _partials_jvp, elementwise_batch


class Gammaincc(Op):
    """The regularised upper incomplete gamma function Q(a, x) = 1 - P(a, x). Derivative with
    respect to x: -g x**(a-1) exp(-x) / Gamma(a); none with respect to a (as PyTorch)."""

    @classmethod
    def node_name(cls) -> str:
        return "IgammacBackward0"  # PyTorch's name

    @staticmethod
    def forward(ctx: Node, a: Array, x: Array) -> Array:
        ctx.save(a=a, x=x)
        return special_function(ctx.xp, "gammaincc", a, x)

    @staticmethod
    def partial(ctx: Node, index: int) -> Any:
        if index == 0:
            raise _not_implemented("igammac: input")
        return -_gamma_density(ctx.a, ctx.x)

    vjp, jvp, batch = _partials_vjp, _partials_jvp, elementwise_batch


# ---- the Gamma sampler -------------------------------------------------------------------------


class StandardGamma(Op):
    """Samples of Gamma(alpha, 1), one per element of alpha, drawn with the generator's
    `standard_gamma` (PyTorch's torch._standard_gamma). Derivative, the implicit
    reparameterisation gradient: g dx/dalpha with dx/dalpha = -(dP/dalpha) / p(x) holding the
    CDF P(alpha, x) fixed (standard_gamma_grad below), as PyTorch's _standard_gamma_grad."""

    label = "_standard_gamma"

    @staticmethod
    def forward(ctx: Node, alpha: Array, rng: Any) -> Array:
        work = alpha if alpha.dtype.itemsize >= 4 else alpha.astype("float32")
        # asarray: for a 0-d alpha the generator returns a Python float, not an array
        out = ctx.xp.asarray(rng.standard_gamma(work, dtype=work.dtype))
        out = out.astype(alpha.dtype, copy=False)
        ctx.save(alpha=alpha, out=out)
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (g * apply(StandardGammaGrad, (ctx.alpha, ctx.out)),)

    jvp = unary_elementwise_jvp
    batch = elementwise_batch  # one draw per element of the batch: per example


class StandardGammaGrad(Op):
    """d x / d alpha for Gamma(alpha, 1) samples x (implicit reparameterisation), computed in
    float64 from SciPy's incomplete gamma (backend/special.py: relative error about 1e-9).
    PyTorch gives this function no derivative; neither does chainrule (second derivatives of
    a Gamma sample raise NotImplementedError)."""

    label = "_standard_gamma_grad"

    @staticmethod
    def forward(ctx: Node, alpha: Array, x: Array) -> Array:
        return standard_gamma_grad(ctx.xp, alpha, x)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        raise _not_implemented("_standard_gamma_grad")

    @staticmethod
    def jvp(ctx: Node, t_alpha: Any, t_x: Any) -> Any:
        raise _not_implemented("_standard_gamma_grad")

    batch = elementwise_batch


# ---- public functions --------------------------------------------------------------------------


def _special_unary(op: type, name: str, call: str, result: str) -> Callable[[Tensor], Tensor]:
    """The public function of a unary special function (integers promote to float32); its
    docstring is the op's with PyTorch's sections, the example `chainrule.<call>` printing
    `result`."""

    def function(input: Tensor) -> Tensor:  # noqa: A002
        return apply(op, (floating_operand(input, name),))

    function.__name__ = name
    args = "    input (Tensor): any shape; integer and bool input gives the default float dtype."
    returns = "Tensor: the shape of `input`."
    function.__doc__ = with_sections(op.__doc__, args, returns, call, result)
    return function


lgamma = _special_unary(
    Lgamma, "lgamma", "lgamma(chainrule.tensor([1.0, 3.0]))", "tensor([0.0000, 0.6931])"
)
digamma = _special_unary(
    Digamma, "digamma", "digamma(chainrule.tensor([1.0, 2.0]))", "tensor([-0.5772,  0.4228])"
)
erfinv = _special_unary(
    Erfinv, "erfinv", "erfinv(chainrule.tensor([0.0, 0.5]))", "tensor([0.0000, 0.4769])"
)
erfcx = _special_unary(
    Erfcx, "erfcx", "special.erfcx(chainrule.tensor([0.0, 1.0]))", "tensor([1.0000, 0.4276])"
)
ndtr = _special_unary(
    Ndtr, "ndtr", "special.ndtr(chainrule.tensor([0.0, 1.0]))", "tensor([0.5000, 0.8413])"
)
ndtri = _special_unary(
    Ndtri, "ndtri", "special.ndtri(chainrule.tensor([0.5, 0.975]))", "tensor([0.0000, 1.9600])"
)
log_ndtr = _special_unary(
    LogNdtr,
    "log_ndtr",
    "special.log_ndtr(chainrule.tensor([0.0, -5.0]))",
    "tensor([ -0.6931, -15.0650])",
)
i0 = _special_unary(I0, "i0", "i0(chainrule.tensor([0.0, 1.0]))", "tensor([1.0000, 1.2661])")
i0e = _special_unary(
    I0e, "i0e", "special.i0e(chainrule.tensor([0.0, 1.0]))", "tensor([1.0000, 0.4658])"
)
i1 = _special_unary(
    I1, "i1", "special.i1(chainrule.tensor([0.0, 1.0]))", "tensor([0.0000, 0.5652])"
)
i1e = _special_unary(
    I1e, "i1e", "special.i1e(chainrule.tensor([0.0, 1.0]))", "tensor([0.0000, 0.2079])"
)
entr = _special_unary(
    Entr, "entr", "special.entr(chainrule.tensor([0.0, 0.5]))", "tensor([0.0000, 0.3466])"
)


def polygamma(n: int, input: Tensor) -> Tensor:  # noqa: A002
    """The n-th derivative of digamma: polygamma(0, x) is digamma(x).

    Args:
        n (int): the order, not negative.
        input (Tensor): any shape.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.polygamma(1, chainrule.tensor([1.0]))  # pi**2 / 6
        tensor([1.6449])
    """
    if not isinstance(n, int) or isinstance(n, bool):  # PyTorch's argument parser
        raise TypeError(f"polygamma(): argument 'n' must be int, not {type(n).__name__}")
    if n < 0:
        raise DomainError(f"polygamma(n, x) does not support negative n, got {n}")
    x = floating_operand(input, "polygamma")
    if n == 0:
        return named(apply(Digamma, (x,)), "PolygammaBackward0")
    return apply(Polygamma, (x,), n)


def mvlgamma(input: Tensor, p: int) -> Tensor:  # noqa: A002
    """The multivariate log-gamma function of dimension p: p(p-1)/4 log(pi) +
    sum_{j<p} lgamma(x - j/2). Its gradient is the sum of the digammas.

    Args:
        input (Tensor): every element above (p - 1) / 2.
        p (int): the dimension, at least 1.

    Returns:
        Tensor: the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.mvlgamma(chainrule.tensor([2.5]), 3)
        tensor([1.8810])
    """
    if not isinstance(p, int) or p < 1:
        raise DomainError(f"mvlgamma: p has to be greater than or equal to 1, got {p!r}")
    x = floating_operand(input, "mvlgamma")
    out = lgamma(x + 0.0)  # (+ 0.0 makes -0 a +0, the pole's side PyTorch's x + offset takes)
    for j in range(1, p):
        out = out + lgamma(x - j / 2)
    return named(out + p * (p - 1) / 4 * math.log(math.pi), "MvlgammaBackward0")


def xlog1py(input: Tensor | Number, other: Tensor | Number) -> Tensor:  # noqa: A002
    """input * log1p(other), 0 where input == 0 (unless other is nan); either may be a number.

    Args:
        input (Tensor or number): the first argument.
        other (Tensor or number): the second; the two broadcast together.

    Returns:
        Tensor: of the broadcast shape.

    Example:
        >>> import chainrule
        >>> chainrule.special.xlog1py(chainrule.tensor([0.0, 2.0]), chainrule.tensor([-1.0, 0.0]))
        tensor([0., 0.])
    """
    x, y = _float_operands("xlog1py", input, other)
    out = apply(XLog1pY, (x, y))
    if not isinstance(input, Tensor):
        return named(out, "SpecialXlog1PyBackward1")  # PyTorch's xlog1py(Scalar, Tensor)
    return out if isinstance(other, Tensor) else named(out, "SpecialXlog1PyBackward2")


def zeta(input: Tensor | Number, other: Tensor | Number) -> Tensor:  # noqa: A002
    """The Hurwitz zeta function sum_k (k + other)**-input; zeta(x, 1) is Riemann's.

    Args:
        input (Tensor or number): the exponent x > 1.
        other (Tensor or number): the shift q > 0; broadcasts with `input`.

    Returns:
        Tensor: of the broadcast shape.

    Example:
        >>> import chainrule
        >>> chainrule.special.zeta(chainrule.tensor([2.0]), 1.0)  # pi**2 / 6
        tensor([1.6449])
    """
    x, q = _float_operands("zeta", input, other)
    out = apply(Zeta, (x, q))
    if not isinstance(input, Tensor):
        return named(out, "SpecialZetaBackward1")  # PyTorch's zeta(Scalar, Tensor)
    return out if isinstance(other, Tensor) else named(out, "SpecialZetaBackward2")


def gammainc(input: Tensor | Number, other: Tensor | Number) -> Tensor:  # noqa: A002
    """The regularised lower incomplete gamma function P(input, other).

    Args:
        input (Tensor or number): the shape a > 0.
        other (Tensor or number): the upper limit x >= 0; broadcasts with `input`.

    Returns:
        Tensor: of the broadcast shape, in [0, 1].

    Example:
        >>> import chainrule
        >>> chainrule.special.gammainc(chainrule.tensor([1.0]), chainrule.tensor([1.0]))  # 1 - 1/e
        tensor([0.6321])
    """
    a, x = _float_operands("gammainc", input, other)
    return apply(Gammainc, (a, x))


def gammaincc(input: Tensor | Number, other: Tensor | Number) -> Tensor:  # noqa: A002
    """The regularised upper incomplete gamma function Q(input, other) = 1 - P(input, other).

    Args:
        input (Tensor or number): the shape a > 0.
        other (Tensor or number): the lower limit x >= 0; broadcasts with `input`.

    Returns:
        Tensor: of the broadcast shape, in [0, 1].

    Example:
        >>> import chainrule
        >>> chainrule.special.gammaincc(chainrule.tensor([1.0]), chainrule.tensor([1.0]))  # 1/e
        tensor([0.3679])
    """
    a, x = _float_operands("gammaincc", input, other)
    return apply(Gammaincc, (a, x))


def standard_gamma(alpha: Any, generator: Generator | None = None) -> Any:
    """Gamma(alpha, 1) samples shaped as alpha, differentiable in alpha (torch._standard_gamma).

    >>> _ = chainrule.manual_seed(0)
    >>> chainrule.ops.special.standard_gamma(chainrule.full((3,), 2.0)).shape
    chainrule.Size([3])
    """
    alpha = random_input(_require_floating("_standard_gamma", alpha))  # vmap: per example
    return apply(StandardGamma, (alpha,), _rng(generator))


__all__ = [
    "digamma",
    "erfcx",
    "erfinv",
    "entr",
    "gammainc",
    "gammaincc",
    "i0",
    "i0e",
    "i1",
    "i1e",
    "lgamma",
    "log_ndtr",
    "mvlgamma",
    "ndtr",
    "ndtri",
    "polygamma",
    "xlog1py",
    "zeta",
]
