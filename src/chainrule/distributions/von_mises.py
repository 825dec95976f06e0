"""VonMises: the circular normal distribution on angles, as PyTorch's.

Its normaliser is the modified Bessel function I0(concentration), taken (with I1, for the
variance) from the same polynomial approximations PyTorch uses (Abramowitz and Stegun 9.8.1
to 9.8.4, relative error below 1e-7), so densities agree with PyTorch's to the last digit
rather than only to that error. Samples come from Best and Fisher's rejection method
(Applied Statistics 28, 1979), in float64, as PyTorch's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from chainrule._tensor import Tensor
from chainrule.autograd.grad_mode import no_grad
from chainrule.backend import dtypes
from chainrule.distributions import constraints
from chainrule.distributions.distribution import Distribution
from chainrule.distributions.utils import broadcast_all, lazy_property
from chainrule.ops.creation import rand, zeros
from chainrule.ops.elementwise import abs, acos, cos, exp, log, sqrt, where  # noqa: A004

__all__ = ["VonMises"]

_I0_COEF_SMALL = [1.0, 3.5156229, 3.0899424, 1.2067492, 0.2659732, 0.360768e-1, 0.45813e-2]
_I0_COEF_LARGE = [
    0.39894228,
    0.1328592e-1,
    0.225319e-2,
    -0.157565e-2,
    0.916281e-2,
    -0.2057706e-1,
    0.2635537e-1,
    -0.1647633e-1,
    0.392377e-2,
]
_I1_COEF_SMALL = [0.5, 0.87890594, 0.51498869, 0.15084934, 0.2658733e-1, 0.301532e-2, 0.32411e-3]
_I1_COEF_LARGE = [
    0.39894228,
    -0.3988024e-1,
    -0.362018e-2,
    0.163801e-2,
    -0.1031555e-1,
    0.2282967e-1,
    -0.2895312e-1,
    0.1787654e-1,
    -0.420059e-2,
]


def _eval_poly(y: Tensor, coefficients: list[float]) -> Tensor:
    """sum_k c_k y^k, by Horner's rule."""
    result = coefficients[-1]
    for coefficient in reversed(coefficients[:-1]):
        result = coefficient + y * result
    return result


def _log_modified_bessel_fn(x: Tensor, order: int = 0) -> Tensor:
    """log I_order(x) for x > 0 and order 0 or 1: a polynomial in (x / 3.75)^2 below 3.75, an
    asymptotic series in 3.75 / x above."""
    if order not in (0, 1):
        raise AssertionError(f"order must be 0 or 1, got {order}")
    small_coefficients = _I0_COEF_SMALL if order == 0 else _I1_COEF_SMALL
    large_coefficients = _I0_COEF_LARGE if order == 0 else _I1_COEF_LARGE
    small = _eval_poly((x / 3.75) ** 2, small_coefficients)
    if order == 1:
        small = abs(x) * small
    large = x - 0.5 * log(x) + log(_eval_poly(3.75 / x, large_coefficients))
    return where(x < 3.75, log(small), large)


def _rejection_sample(
    loc: Tensor, concentration: Tensor, proposal_r: Tensor, shape: Sequence[int]
) -> Tensor:
    """Best and Fisher's sampler: a wrapped Cauchy proposal, each angle drawn until one is
    accepted, then shifted by loc into [-pi, pi)."""
    x = zeros(shape, dtype=loc.dtype, device=loc.device)
    done = zeros(shape, dtype=dtypes.bool_, device=loc.device)
    while not bool(done.all()):
        u1, u2, u3 = rand((3,) + tuple(shape), dtype=loc.dtype, device=loc.device).unbind()
        z = cos(math.pi * u1)
        f = (1 + proposal_r * z) / (proposal_r + z)
        c = concentration * (proposal_r - f)
        accept = ((c * (2 - c) - u2) > 0) | (log(c / u2) + 1 - c >= 0)
        x = where(accept & ~done, (u3 - 0.5).sign() * acos(f), x)
        done = done | accept
    return (x + math.pi + loc) % (2 * math.pi) - math.pi


class VonMises(Distribution):
    """The von Mises distribution of angles about `loc`, concentrated by `concentration`:
    p(x) = exp(concentration cos(x - loc)) / (2 pi I0(concentration)).

    Args:
        loc (Tensor or float): the mean angle, in radians.
        concentration (Tensor or float): positive; large is concentrated (1 / variance).
        validate_args (bool, optional): check the parameters, and each value given to
            `log_prob`, against their constraints (ValueError on a violation); None follows
            `Distribution.set_default_validate_args` (on by default).

    Example:
        >>> import chainrule
        >>> d = chainrule.distributions.VonMises(chainrule.tensor(0.0), chainrule.tensor(2.0))
        >>> d.log_prob(chainrule.tensor(0.0)), d.variance
        (tensor(-0.6619), tensor(0.3022))
    """

    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real
    has_rsample = False
    _expand_names = ("loc", "concentration")

    def __init__(
        self,
        loc: Tensor | float,
        concentration: Tensor | float,
        validate_args: bool | None = None,
    ) -> None:
        self.loc, self.concentration = broadcast_all(loc, concentration)
        super().__init__(self.loc.shape, (), validate_args)

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        log_prob = self.concentration * cos(value - self.loc)
        normalizer = math.log(2 * math.pi) + _log_modified_bessel_fn(self.concentration, 0)
        return log_prob - normalizer

    @lazy_property
    def _proposal_r(self) -> Tensor:
        """Best and Fisher's r for the wrapped Cauchy proposal (float64; its Taylor form for
        tiny concentrations)."""
        kappa = self.concentration.to(dtype=dtypes.float64)
        tau = 1 + sqrt(1 + 4 * kappa**2)
        rho = (tau - sqrt(2 * tau)) / (2 * kappa)
        proposal_r = (1 + rho**2) / (2 * rho)
        return where(kappa < 1e-5, 1 / kappa + kappa, proposal_r)

    def sample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        with no_grad():
            loc = self.loc.detach().to(dtype=dtypes.float64)
            kappa = self.concentration.detach().to(dtype=dtypes.float64)
            draws = _rejection_sample(loc, kappa, self._proposal_r.detach(), shape)
            return draws.to(dtype=self.loc.dtype)

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @lazy_property
    def variance(self) -> Tensor:
        """The circular variance 1 - I1(concentration) / I0(concentration)."""
        log_ratio = _log_modified_bessel_fn(self.concentration, 1)
        log_ratio = log_ratio - _log_modified_bessel_fn(self.concentration, 0)
        return 1 - exp(log_ratio)
