"""weight_norm and spectral_norm as parametrizations (torch.nn.utils.parametrizations): the
module keeps `parametrizations.weight.original0/1` (weight norm's g and v) or
`parametrizations.weight.original` with power-iteration buffers `_u`, `_v` (spectral norm),
under PyTorch's state_dict keys, and computes the weight on access.

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

import chainrule.nn.functional as F
from chainrule._tensor import Tensor
from chainrule.autograd.grad_mode import no_grad
from chainrule.nn.modules.conv import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from chainrule.nn.modules.module import Module
from chainrule.nn.utils import parametrize
from chainrule.ops.complex import refuse_complex
from chainrule.ops.linalg import mv, vdot
from chainrule.ops.reduction import norm

__all__ = ["norm_except_dim", "spectral_norm", "weight_norm"]


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
