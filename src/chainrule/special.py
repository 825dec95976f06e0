"""chainrule.special: PyTorch's `torch.special` namespace.

The functions live with the ops (chainrule.ops.special for the gamma, Bessel, inverse-error and
zeta functions; elementwise and reduction ops for the rest); this module only gives them their
torch.special names. The SciPy-backed ones need SciPy (`pip install scipy`), loaded on first
use.

>>> import chainrule
>>> import chainrule.special
>>> chainrule.special.gammaln(chainrule.tensor([4.0]))  # log(3!)
tensor([1.7918])
"""

from chainrule.ops.elementwise import (
    erf,
    erfc,
    exp2,
    expm1,
    log1p,
    round,  # noqa: A004
    sinc,
)
from chainrule.ops.elementwise import sigmoid as expit

# the namespace's functions that take `out=`, as torch.special's: the same objects as
# chainrule.digamma and the others (torch.special.psi is torch.digamma)
from chainrule.ops.out_arguments import (
    digamma,
    erfinv,
    i0,
    logit,
    logsumexp,
    polygamma,
    xlogy,
)
from chainrule.ops.out_arguments import digamma as psi
from chainrule.ops.out_arguments import igamma as gammainc
from chainrule.ops.out_arguments import igammac as gammaincc
from chainrule.ops.out_arguments import lgamma as gammaln
from chainrule.ops.out_arguments import mvlgamma as multigammaln
from chainrule.ops.reduction import log_softmax, softmax
from chainrule.ops.special import (
    entr,
    erfcx,
    i0e,
    i1,
    i1e,
    log_ndtr,
    ndtr,
    ndtri,
    xlog1py,
    zeta,
)
from chainrule.ops.special_functions import (
    airy_ai,
    bessel_j0,
    bessel_j1,
    bessel_y0,
    bessel_y1,
    chebyshev_polynomial_t,
    chebyshev_polynomial_u,
    chebyshev_polynomial_v,
    chebyshev_polynomial_w,
    hermite_polynomial_h,
    hermite_polynomial_he,
    laguerre_polynomial_l,
    legendre_polynomial_p,
    modified_bessel_i0,
    modified_bessel_i1,
    modified_bessel_k0,
    modified_bessel_k1,
    scaled_modified_bessel_k0,
    scaled_modified_bessel_k1,
    shifted_chebyshev_polynomial_t,
    shifted_chebyshev_polynomial_u,
    shifted_chebyshev_polynomial_v,
    shifted_chebyshev_polynomial_w,
    spherical_bessel_j0,
)

__all__ = [
    "airy_ai",
    "bessel_j0",
    "bessel_j1",
    "bessel_y0",
    "bessel_y1",
    "chebyshev_polynomial_t",
    "chebyshev_polynomial_u",
    "chebyshev_polynomial_v",
    "chebyshev_polynomial_w",
    "hermite_polynomial_h",
    "hermite_polynomial_he",
    "laguerre_polynomial_l",
    "legendre_polynomial_p",
    "modified_bessel_i0",
    "modified_bessel_i1",
    "modified_bessel_k0",
    "modified_bessel_k1",
    "scaled_modified_bessel_k0",
    "scaled_modified_bessel_k1",
    "shifted_chebyshev_polynomial_t",
    "shifted_chebyshev_polynomial_u",
    "shifted_chebyshev_polynomial_v",
    "shifted_chebyshev_polynomial_w",
    "spherical_bessel_j0",
    "digamma",
    "entr",
    "erf",
    "erfc",
    "erfcx",
    "erfinv",
    "exp2",
    "expit",
    "expm1",
    "gammainc",
    "gammaincc",
    "gammaln",
    "i0",
    "i0e",
    "i1",
    "i1e",
    "log1p",
    "log_ndtr",
    "log_softmax",
    "logit",
    "logsumexp",
    "multigammaln",
    "ndtr",
    "ndtri",
    "polygamma",
    "psi",
    "round",
    "sinc",
    "softmax",
    "xlog1py",
    "xlogy",
    "zeta",
]
