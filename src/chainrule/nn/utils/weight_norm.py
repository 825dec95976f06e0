"""The hook-based weight_norm and spectral_norm of torch.nn.utils (deprecated there in favour of
torch.nn.utils.parametrizations, and still in wide use): the module keeps `weight_g` and
`weight_v` (or `weight_orig` with buffers `weight_u`, `weight_v`) under PyTorch's names, and a
forward pre-hook recomputes `module.weight` before each call.

>>> import warnings
>>> from chainrule import nn
>>> from chainrule.nn.utils import weight_norm
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore", FutureWarning)
...     layer = weight_norm(nn.Linear(4, 3))
>>> [name for name, _ in layer.named_parameters()]
['bias', 'weight_g', 'weight_v']
"""

from __future__ import annotations

import warnings
from typing import Any

import chainrule.nn.functional as F
from chainrule._tensor import Tensor
from chainrule.autograd.grad_mode import no_grad
from chainrule.nn.modules.conv import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from chainrule.nn.modules.module import Module
from chainrule.nn.parameter import Parameter
from chainrule.nn.utils.parametrizations import norm_except_dim
from chainrule.ops.complex import refuse_complex
from chainrule.ops.linalg import mv, vdot

__all__ = [
    "SpectralNorm",
    "WeightNorm",
    "remove_spectral_norm",
    "remove_weight_norm",
    "spectral_norm",
    "weight_norm",
]


class WeightNorm:
    """The forward pre-hook of weight_norm: module.<name> = g * v / |v|."""

    def __init__(self, name: str, dim: int) -> None:
        self.name = name
        self.dim = -1 if dim is None else dim

    def compute_weight(self, module: Module) -> Tensor:
        g = getattr(module, self.name + "_g")
        v = getattr(module, self.name + "_v")
        refuse_complex("weight_norm", v)  # PyTorch's _weight_norm has no complex kernel
        return v * (g / norm_except_dim(v, 2, self.dim))

    @staticmethod
    def apply(module: Module, name: str, dim: int | None) -> WeightNorm:
        warnings.warn(
            "`torch.nn.utils.weight_norm` is deprecated in favor of "
            "`torch.nn.utils.parametrizations.weight_norm`.",
            FutureWarning,
            stacklevel=3,
        )
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, WeightNorm) and hook.name == name:
                raise RuntimeError(
                    f"Cannot register two weight_norm hooks on the same parameter {name}"
                )
        fn = WeightNorm(name, -1 if dim is None else dim)
        weight = getattr(module, name)
        del module._parameters[name]
        with no_grad():
            g = norm_except_dim(weight, 2, fn.dim)
        module.register_parameter(name + "_g", Parameter(g.detach()))
        module.register_parameter(name + "_v", Parameter(weight.detach()))
        setattr(module, name, fn.compute_weight(module))
        module.register_forward_pre_hook(fn)
        return fn

    def remove(self, module: Module) -> None:
        with no_grad():
            weight = self.compute_weight(module)
        delattr(module, self.name)
        del module._parameters[self.name + "_g"]
        del module._parameters[self.name + "_v"]
        setattr(module, self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs: Any) -> None:
        setattr(module, self.name, self.compute_weight(module))


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Split module.<name> into a magnitude `<name>_g` and a direction `<name>_v`, recombined
    as g * v / |v| before every forward (deprecated in PyTorch, with its FutureWarning; prefer
    nn.utils.parametrizations.weight_norm).

    Args:
        module (Module): the module.
        name (str): the weight's name (default: 'weight').
        dim (int, optional): the dimension whose slices each get a magnitude (default: 0;
            None for one magnitude for the whole tensor).

    Returns:
        Module: `module`, with the hook.

    Example:
        >>> import warnings
        >>> from chainrule import nn
        >>> from chainrule.nn.utils import weight_norm
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore", FutureWarning)
        ...     layer = weight_norm(nn.Linear(3, 2))
        >>> sorted(name for name, _ in layer.named_parameters()), tuple(layer.weight_g.shape)
        (['bias', 'weight_g', 'weight_v'], (2, 1))
    """
    WeightNorm.apply(module, name, dim)
    return module


def remove_weight_norm(module: Module, name: str = "weight") -> Module:
    """Undo weight_norm: module.<name> becomes a plain parameter holding g * v / |v|.

    Args:
        module (Module): a module weight_norm was applied to.
        name (str): the weight's name.

    Returns:
        Module: `module`, without the hook.

    Example:
        >>> import warnings
        >>> from chainrule import nn
        >>> from chainrule.nn.utils import remove_weight_norm, weight_norm
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore", FutureWarning)
        ...     layer = remove_weight_norm(weight_norm(nn.Linear(3, 2)))
        >>> sorted(name for name, _ in layer.named_parameters())
        ['bias', 'weight']
    """
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, WeightNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"weight_norm of '{name}' not found in {module}")


class SpectralNorm:
    """The forward pre-hook of spectral_norm: module.<name> = <name>_orig / sigma, sigma from
    power iteration on the buffers <name>_u and <name>_v, updated in training mode."""

    def __init__(
        self, name: str = "weight", n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12
    ) -> None:
        if n_power_iterations <= 0:
            raise ValueError(
                "Expected n_power_iterations to be positive, but got "
                f"n_power_iterations={n_power_iterations}"
            )
        self.name = name
        self.dim = dim
        self.n_power_iterations = n_power_iterations
        self.eps = eps

    def reshape_weight_to_matrix(self, weight: Tensor) -> Tensor:
        if self.dim != 0:
            order = (self.dim, *(d for d in range(weight.ndim) if d != self.dim))
            weight = weight.permute(*order)
        return weight.reshape(weight.shape[0], -1)

    def compute_weight(self, module: Module, do_power_iteration: bool) -> Tensor:
        weight = getattr(module, self.name + "_orig")
        u = getattr(module, self.name + "_u")
        v = getattr(module, self.name + "_v")
        matrix = self.reshape_weight_to_matrix(weight)
        if do_power_iteration:
            with no_grad():
                for _ in range(self.n_power_iterations):
                    v.copy_(F.normalize(mv(matrix.transpose(0, 1), u), dim=0, eps=self.eps))
                    u.copy_(F.normalize(mv(matrix, v), dim=0, eps=self.eps))
            u = u.clone()
            v = v.clone()
        sigma = vdot(u, mv(matrix, v))
        return weight / sigma

    def remove(self, module: Module) -> None:
        with no_grad():
            weight = self.compute_weight(module, do_power_iteration=False)
        delattr(module, self.name)
        delattr(module, self.name + "_u")
        delattr(module, self.name + "_v")
        delattr(module, self.name + "_orig")
        module.register_parameter(self.name, Parameter(weight.detach()))

    def __call__(self, module: Module, inputs: Any) -> None:
        setattr(module, self.name, self.compute_weight(module, module.training))

    @staticmethod
    def apply(
        module: Module, name: str, n_power_iterations: int, dim: int, eps: float
    ) -> SpectralNorm:
        for hook in module._forward_pre_hooks.values():
            if isinstance(hook, SpectralNorm) and hook.name == name:
                raise RuntimeError(
                    f"Cannot register two spectral_norm hooks on the same parameter {name}"
                )
        fn = SpectralNorm(name, n_power_iterations, dim, eps)
        weight = module._parameters[name]
        with no_grad():
            matrix = fn.reshape_weight_to_matrix(weight)
            rows, columns = matrix.shape
            u = F.normalize(weight.new_empty(rows).normal_(0, 1), dim=0, eps=fn.eps)
            v = F.normalize(weight.new_empty(columns).normal_(0, 1), dim=0, eps=fn.eps)
        delattr(module, fn.name)
        module.register_parameter(fn.name + "_orig", weight)
        setattr(module, fn.name, weight.detach())
        module.register_buffer(fn.name + "_u", u)
        module.register_buffer(fn.name + "_v", v)
        module.register_forward_pre_hook(fn)
        return fn


def spectral_norm(
    module: Module,
    name: str = "weight",
    n_power_iterations: int = 1,
    eps: float = 1e-12,
    dim: int | None = None,
) -> Module:
    """Divide module.<name> by its spectral norm before every forward, estimated by power
    iteration (updated in training mode); the weight is kept as `<name>_orig` (prefer
    nn.utils.parametrizations.spectral_norm).

    Args:
        module (Module): the module.
        name (str): the weight's name (default: 'weight').
        n_power_iterations (int): power iterations per forward in training (default: 1).
        eps (float): keeps the normalizations finite (default: 1e-12).
        dim (int, optional): the dimension of output features (default: 1 for transposed
            convolutions, else 0).

    Returns:
        Module: `module`, with the hook.

    Example:
        >>> from chainrule import nn
        >>> from chainrule.nn.utils import spectral_norm
        >>> layer = spectral_norm(nn.Linear(3, 2))
        >>> sorted(name for name, _ in layer.named_parameters())
        ['bias', 'weight_orig']
    """
    if dim is None:
        transposed = (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)
        dim = 1 if isinstance(module, transposed) else 0
    SpectralNorm.apply(module, name, n_power_iterations, dim, eps)
    return module


def remove_spectral_norm(module: Module, name: str = "weight") -> Module:
    """Undo spectral_norm: module.<name> becomes a plain parameter holding the normalized
    weight.

    Args:
        module (Module): a module spectral_norm was applied to.
        name (str): the weight's name.

    Returns:
        Module: `module`, without the hook.

    Example:
        >>> from chainrule import nn
        >>> from chainrule.nn.utils import remove_spectral_norm, spectral_norm
        >>> layer = remove_spectral_norm(spectral_norm(nn.Linear(3, 2)))
        >>> sorted(name for name, _ in layer.named_parameters())
        ['bias', 'weight']
    """
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, SpectralNorm) and hook.name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"spectral_norm of '{name}' not found in {module}")
