"""weight_norm, spectral_norm and orthogonal as parametrizations
(torch.nn.utils.parametrizations): the module keeps `parametrizations.weight.original0/1`
(weight norm's g and v), `parametrizations.weight.original` with power-iteration buffers `_u`,
`_v` (spectral norm) or with the trivialization's `base` (orthogonal), under PyTorch's
state_dict keys, and computes the weight on access.

>>> import chainrule
>>> from chainrule import nn
>>> from chainrule.nn.utils.parametrizations import weight_norm
>>> layer = weight_norm(nn.Linear(4, 3))
>>> sorted(layer.state_dict())
['bias', 'parametrizations.weight.original0', 'parametrizations.weight.original1']
>>> layer.parametrizations.weight.original0.shape  # g: one norm per output row
chainrule.Size([3, 1])
"""

from __future__ import annotations

import enum

import chainrule.nn.functional as F
from chainrule._tensor import Tensor
from chainrule.autograd.grad_mode import no_grad
from chainrule.backend.dtypes import finfo
from chainrule.nn.modules.conv import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from chainrule.nn.modules.module import Module
from chainrule.nn.utils import parametrize
from chainrule.ops.complex import refuse_complex
from chainrule.ops.creation import eye, randn, zeros_like
from chainrule.ops.decompositions import matrix_exp
from chainrule.ops.linalg import mv, solve, vdot
from chainrule.ops.linalg_extra import geqrf, householder_product
from chainrule.ops.reduction import norm
from chainrule.ops.shape import cat

__all__ = ["norm_except_dim", "orthogonal", "spectral_norm", "weight_norm"]


def norm_except_dim(v: Tensor, pow: float = 2, dim: int = 0) -> Tensor:  # noqa: A002
    """The `pow`-norm of v over every dimension but `dim`, kept as size-1 dimensions; over
    everything (a scalar) when dim is -1, as PyTorch's torch.norm_except_dim."""
    if dim == -1:
        return norm(v, pow)
    dims = tuple(d for d in range(v.ndim) if d != dim % v.ndim)
    return norm(v, pow, dims, keepdim=True)


class _WeightNorm(Module):
    """weight = g * v / |v|, the norm taken over every dimension but `dim`."""

    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        refuse_complex("weight_norm", weight_v)  # PyTorch's _weight_norm has no complex kernel
        return weight_v * (weight_g / norm_except_dim(weight_v, 2, self.dim))

    def right_inverse(self, weight: Tensor) -> tuple[Tensor, Tensor]:
        return norm_except_dim(weight, 2, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Reparametrize module.<name> as g * v / |v| (Salimans and Kingma, 2016): its direction v
    (`original1`) and its magnitude g (`original0`, one per slice along `dim`; a single one
    when dim is None) are learned separately.

    Args:
        module (Module): the module.
        name (str): the weight's name (default: 'weight').
        dim (int, optional): the dimension whose slices each get a magnitude (default: 0;
            None for one magnitude for the whole tensor).

    Returns:
        Module: `module`, parametrized.
    """
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)
    return module


class _SpectralNorm(Module):
    """weight / sigma, sigma the largest singular value of the weight (as a matrix with `dim`
    first), estimated by power iteration on the buffers _u and _v, one more iteration per
    forward in training mode."""

    def __init__(
        self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12
    ) -> None:
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(
                "Dimension out of range (expected to be in range of "
                f"[-{ndim}, {ndim - 1}] but got {dim})"
            )
        if n_power_iterations <= 0:
            raise ValueError(
                "Expected n_power_iterations to be positive, but got "
                f"n_power_iterations={n_power_iterations}"
            )
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            matrix = self._reshape_weight_to_matrix(weight)
            rows, columns = matrix.shape
            u = matrix.new_empty(rows).normal_(0, 1)
            v = matrix.new_empty(columns).normal_(0, 1)
            self.register_buffer("_u", F.normalize(u, dim=0, eps=self.eps))
            self.register_buffer("_v", F.normalize(v, dim=0, eps=self.eps))
            self._power_method(matrix, 15)

    def _reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        if self.dim != 0:
            order = (self.dim, *(d for d in range(weight.ndim) if d != self.dim))
            weight = weight.permute(*order)
        return weight.flatten(1)

    def _power_method(self, matrix: Tensor, iterations: int) -> None:
        with no_grad():
            for _ in range(iterations):
                self._u = F.normalize(mv(matrix, self._v), dim=0, eps=self.eps)
                self._v = F.normalize(mv(matrix.mH, self._u), dim=0, eps=self.eps)

    def forward(self, weight: Tensor) -> Tensor:
        if weight.ndim == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        matrix = self._reshape_weight_to_matrix(weight)
        if self.training:
            self._power_method(matrix, self.n_power_iterations)
        u = self._u.clone()
        v = self._v.clone()
        sigma = vdot(u, mv(matrix, v))
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def spectral_norm(
    module: Module,
    name: str = "weight",
    n_power_iterations: int = 1,
    eps: float = 1e-12,
    dim: int | None = None,
) -> Module:
    """Reparametrize module.<name> as weight / sigma (Miyato et al., 2018), sigma its spectral
    norm estimated by power iteration (one step per forward in training), as GANs use to
    keep a discriminator Lipschitz.

    Args:
        module (Module): the module.
        name (str): the weight's name (default: 'weight').
        n_power_iterations (int): power iterations per forward in training (default: 1).
        eps (float): keeps the normalizations finite (default: 1e-12).
        dim (int, optional): the dimension of output features (default: 1 for transposed
            convolutions, else 0).

    Returns:
        Module: `module`, parametrized.
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        transposed = (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)
        dim = 1 if isinstance(module, transposed) else 0
    parametrization = _SpectralNorm(weight, n_power_iterations, dim, eps)
    parametrize.register_parametrization(module, name, parametrization)
    return module


# ---- orthogonal ---------------------------------------------------------------------------


class _OrthMaps(enum.Enum):
    matrix_exp = enum.auto()
    cayley = enum.auto()
    householder = enum.auto()


def _orthonormalized(a: Tensor) -> Tensor:
    """The Q of A = QR (A tall) with R's diagonal made non-negative: Q's columns turned so."""
    reflectors, tau = geqrf(a)
    q = householder_product(reflectors, tau)
    return q * reflectors.diagonal(dim1=-2, dim2=-1).sgn().unsqueeze(-2)


def _is_orthonormal(q: Tensor) -> bool:
    n, k = q.shape[-2], q.shape[-1]
    tolerance = 10.0 * n * finfo(q.dtype).eps
    identity = eye(k, dtype=q.dtype, device=q.device)
    return bool((q.mH @ q).allclose(identity, atol=tolerance))


class _Orthogonal(Module):
    """An orthogonal matrix from an unconstrained one of the weight's shape: the exponential
    or the Cayley transform of the skew-symmetric matrix made from its lower triangle, or the
    product of the Householder reflectors in its strict lower triangle. With the
    trivialization (PyTorch's default) the result is `base @` that, `base` a buffer holding
    the orthogonal matrix the optimisation started from, so the unconstrained matrix starts
    where the map is well conditioned."""

    def __init__(
        self, weight: Tensor, orthogonal_map: _OrthMaps, *, use_trivialization: bool = True
    ) -> None:
        super().__init__()
        if weight.is_complex() and orthogonal_map == _OrthMaps.householder:
            raise ValueError("The householder parametrization does not support complex tensors.")
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, x: Tensor) -> Tensor:
        n, k = x.shape[-2], x.shape[-1]
        transposed = n < k
        if transposed:  # wide: orthonormal rows, computed as the transpose's columns
            x = x.mT
            n, k = k, n
        if self.orthogonal_map in (_OrthMaps.matrix_exp, _OrthMaps.cayley):
            x = x.tril()
            if n != k:  # a square n x n skew matrix; the result's first k columns
                x = cat([x, x.new_zeros(n, n - k).expand(*x.shape[:-2], -1, -1)], dim=-1)
            a = x - x.mH
            if self.orthogonal_map == _OrthMaps.matrix_exp:
                q = matrix_exp(a)
            else:
                identity = eye(n, dtype=a.dtype, device=a.device)
                q = solve(identity - 0.5 * a, identity + 0.5 * a)  # the Cayley transform
            if n != k:
                q = q[..., :k]
        else:
            a = x.tril(diagonal=-1)
            tau = 2.0 / (1.0 + (a * a).sum(dim=-2))
            q = householder_product(a, tau) * x.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)
        if hasattr(self, "base"):
            q = self.base @ q
        return q.mT if transposed else q

    def right_inverse(self, q: Tensor) -> Tensor:
        """`module.weight = q`: with the trivialization, `base` takes q (made orthonormal if
        it is not) and the unconstrained matrix becomes the one that maps to the identity."""
        with no_grad():
            if q.shape != self.shape:
                raise ValueError(
                    f"Expected a matrix or batch of matrices of shape {self.shape}. "
                    f"Got a tensor of shape {q.shape}."
                )
            given = q
            n, k = q.shape[-2], q.shape[-1]
            transposed = n < k
            if transposed:
                q = q.mT
                n, k = k, n
            if not hasattr(self, "base"):
                if self.orthogonal_map != _OrthMaps.householder:
                    raise NotImplementedError(
                        "It is not possible to assign to the matrix exponential or the Cayley "
                        "parametrizations when use_trivialization=False."
                    )
                reflectors, tau = geqrf(q)
                diagonal = reflectors.diagonal(dim1=-2, dim2=-1)
                diagonal.sign_()
                diagonal[tau == 0.0] *= -1
                return reflectors.mT if transposed else reflectors
            if n == k:
                q = q.clone() if _is_orthonormal(q) else _orthonormalized(q)
            else:  # completed to a square orthogonal matrix with random columns, as PyTorch
                completion = randn(*q.shape[:-2], n, n - k, dtype=q.dtype, device=q.device)
                q = _orthonormalized(cat([q, completion], dim=-1))
            self.base = q
            start = zeros_like(given)  # -1 on the diagonal: maps to the identity
            start.diagonal(dim1=-2, dim2=-1).fill_(-1.0)
            return start


def orthogonal(
    module: Module,
    name: str = "weight",
    orthogonal_map: str | None = None,
    *,
    use_trivialization: bool = True,
) -> Module:
    """Make module.<name> (a matrix or batch of matrices) orthogonal, unitary if complex:
    orthonormal columns if it is tall, rows if wide, through a parametrization of an
    unconstrained tensor (PyTorch's torch.nn.utils.parametrizations.orthogonal).

    Args:
        module (Module): the module.
        name (str): the tensor's name (default: 'weight').
        orthogonal_map (str, optional): "matrix_exp", "cayley" or "householder" (default:
            "matrix_exp" for a square or complex matrix, else "householder").
        use_trivialization (bool): keep the starting orthogonal matrix as the buffer
            `parametrizations.<name>[0].base` and parametrize around it (default: True).

    Returns:
        Module: `module`, parametrized. The weight starts as the original one if that is
        orthogonal, else as the Q of its QR decomposition.

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> from chainrule.nn.utils.parametrizations import orthogonal
        >>> layer = orthogonal(nn.Linear(4, 4))
        >>> Q = layer.weight
        >>> bool((Q.T @ Q).allclose(chainrule.eye(4), atol=1e-5))
        True
    """
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(
            f"Expected a matrix or batch of matrices. Got a tensor of {weight.ndim} dimensions."
        )
    if orthogonal_map is None:
        square = weight.shape[-2] == weight.shape[-1]
        orthogonal_map = "matrix_exp" if square or weight.is_complex() else "householder"
    chosen = getattr(_OrthMaps, orthogonal_map, None)
    if chosen is None:
        raise ValueError(
            'orthogonal_map has to be one of "matrix_exp", "cayley", "householder". '
            f"Got: {orthogonal_map}"
        )
    parametrization = _Orthogonal(weight, chosen, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, parametrization, unsafe=True)
    return module
