"""BatchNorm1d, BatchNorm2d and BatchNorm3d, with PyTorch's running-statistics buffers and rule.

In training mode each batch is normalised by its own mean and (biased) variance, and the
running estimates move towards them: running = (1 - momentum) * running + momentum * batch,
with the *unbiased* batch variance; momentum=None gives the cumulative average. In eval mode
the running estimates are used.
"""

from __future__ import annotations

import chainrule.distributed as _distributed
import chainrule.nn.functional as F
from chainrule._tensor import Tensor
from chainrule.autograd.grad_mode import no_grad
from chainrule.backend import device as Device
from chainrule.backend import dtypes
from chainrule.backend.dtypes import dtype as DType
from chainrule.errors import ShapeError
from chainrule.nn.modules.module import Module
from chainrule.nn.modules.normalization import _register_affine, _reset_affine
from chainrule.ops import creation


class _NormBase(Module):
    """Parameters weight/bias and buffers running_mean/running_var/num_batches_tracked."""

    _version = 2

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: Device | str | None = None,
        dtype: DType | None = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        factory = {"device": device, "dtype": dtype}
        _register_affine(self, num_features, affine, bias, device, dtype)
        if track_running_stats:
            self.register_buffer("running_mean", creation.zeros(num_features, **factory))
            self.register_buffer("running_var", creation.ones(num_features, **factory))
            self.register_buffer(
                "num_batches_tracked", creation.tensor(0, dtype=dtypes.int64, device=device)
            )
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        _reset_affine(self)

    def _check_input_dim(self, input: Tensor) -> None:  # noqa: A002
        raise NotImplementedError

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )

    def _load_from_state_dict(
        self,
        state_dict: dict,
        prefix: str,
        local_metadata: dict,
        strict: bool,
        missing_keys: list,
        unexpected_keys: list,
        error_msgs: list,
    ) -> None:
        # Checkpoints from before version 2 have no num_batches_tracked: keep the current one.
        version = local_metadata.get("version", None)
        if (version is None or version < 2) and self.track_running_stats:
            key = prefix + "num_batches_tracked"
            if key not in state_dict:
                state_dict[key] = (
                    self.num_batches_tracked
                    if self.num_batches_tracked is not None
                    else creation.tensor(0, dtype=dtypes.int64)
                )
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
        )


class _BatchNorm(_NormBase):
    # What func.replace_all_batch_norm_modules_ looks for (it sits below nn, so cannot import it).
    tracks_batch_statistics = True

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        self._check_input_dim(input)
        average_factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            with no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:
                average_factor = 1.0 / float(self.num_batches_tracked)
        if self.training:
            use_batch_stats = True
        else:
            use_batch_stats = self.running_mean is None and self.running_var is None
        pass_buffers = not self.training or self.track_running_stats
        return F.batch_norm(
            input,
            self.running_mean if pass_buffers else None,
            self.running_var if pass_buffers else None,
            self.weight,
            self.bias,
            use_batch_stats,
            average_factor,
            self.eps,
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation (Ioffe and Szegedy, 2015) of (N, C) or (N, C, L) input: each channel is
    normalised to mean 0 and variance 1 over the batch (and L), then scaled and shifted. In
    training mode it uses the batch's statistics (the biased variance) and updates running
    averages (the unbiased variance); in eval mode it uses the running averages.

    Args:
        num_features (int): C, the number of channels.
        eps (float): added to the variance before the square root.
        momentum (float | None): the weight of the new batch in the running averages
            (running = (1 - momentum) * running + momentum * batch); None averages all
            batches equally.
        affine (bool): learn a per-channel scale (weight, starting at 1) and shift (bias,
            starting at 0).
        track_running_stats (bool): keep running_mean and running_var for eval mode; without
            them eval mode normalises with the batch's statistics too.
        device (str or device, optional): where the parameters live ('cpu', 'cuda', 'fake').
        dtype (dtype, optional): the parameters' dtype (default: the default dtype).
        bias (bool): with `affine`, learn the shift too (False: the scale only).

    Shape:
        - Input: (N, C) or (N, C, L)
        - Output: the input's shape

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> bn = nn.BatchNorm1d(2)
        >>> bn(chainrule.tensor([[1.0, 10.0], [3.0, 20.0]]))
        tensor([[-1.0000, -1.0000],
                [ 1.0000,  1.0000]], grad_fn=<...>)
        >>> bn.running_mean
        tensor([0.2000, 1.5000])
    """

    def _check_input_dim(self, input: Tensor) -> None:  # noqa: A002
        if input.dim() != 2 and input.dim() != 3:
            raise ShapeError(f"expected 2D or 3D input (got {input.dim()}D input)")


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) input: each channel normalised over the batch and the
    image, then scaled and shifted (see BatchNorm1d for training and eval modes). The usual
    companion of Conv2d.

    Args:
        num_features (int): C, the number of channels.
        eps (float): added to the variance before the square root.
        momentum (float | None): the weight of the new batch in the running averages
            (running = (1 - momentum) * running + momentum * batch); None averages all
            batches equally.
        affine (bool): learn a per-channel scale (weight, starting at 1) and shift (bias,
            starting at 0).
        track_running_stats (bool): keep running_mean and running_var for eval mode; without
            them eval mode normalises with the batch's statistics too.
        device (str or device, optional): where the parameters live ('cpu', 'cuda', 'fake').
        dtype (dtype, optional): the parameters' dtype (default: the default dtype).
        bias (bool): with `affine`, learn the shift too (False: the scale only).

    Shape:
        - Input: (N, C, H, W)
        - Output: the input's shape

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.BatchNorm2d(3)(chainrule.randn(4, 3, 5, 5)).shape
        chainrule.Size([4, 3, 5, 5])
    """

    def _check_input_dim(self, input: Tensor) -> None:  # noqa: A002
        if input.dim() != 4:
            raise ShapeError(f"expected 4D input (got {input.dim()}D input)")


class BatchNorm3d(_BatchNorm):
    """Batch normalisation of (N, C, D, H, W) input: each channel normalised over the batch and
    the volume, then scaled and shifted (see BatchNorm1d).

    Args:
        num_features (int): C, the number of channels.
        eps (float): added to the variance before the square root.
        momentum (float | None): the weight of the new batch in the running averages
            (running = (1 - momentum) * running + momentum * batch); None averages all
            batches equally.
        affine (bool): learn a per-channel scale (weight, starting at 1) and shift (bias,
            starting at 0).
        track_running_stats (bool): keep running_mean and running_var for eval mode; without
            them eval mode normalises with the batch's statistics too.
        device (str or device, optional): where the parameters live ('cpu', 'cuda', 'fake').
        dtype (dtype, optional): the parameters' dtype (default: the default dtype).
        bias (bool): with `affine`, learn the shift too (False: the scale only).

    Shape:
        - Input: (N, C, D, H, W)
        - Output: the input's shape

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> nn.BatchNorm3d(3)(chainrule.randn(2, 3, 4, 4, 4)).shape
        chainrule.Size([2, 3, 4, 4, 4])
    """

    def _check_input_dim(self, input: Tensor) -> None:  # noqa: A002
        if input.dim() != 5:
            raise ShapeError(f"expected 5D input (got {input.dim()}D input)")


class SyncBatchNorm(_BatchNorm):
    """BatchNorm over any (N, C, *) input whose batch statistics PyTorch pools across the
    processes of a distributed job. In one process (no process group, or a world of one) it is
    BatchNorm, as PyTorch's. Across processes PyTorch syncs only GPU tensors and refuses CPU
    ones with a ValueError; chainrule's collectives are CPU (MPI) ones, so a distributed
    training step raises that same ValueError rather than normalise each process's batch
    alone. `convert_sync_batchnorm` swaps every BatchNorm of a model for one of these.

    Args:
        num_features (int): C, the number of channels.
        eps (float): added to the variance for numerical stability.
        momentum (float, optional): the running statistics' update weight (None: a
            cumulative average).
        affine (bool): learn a per-channel scale and shift.
        track_running_stats (bool): keep running mean and variance for evaluation.
        process_group (object, optional): the group whose processes share statistics.
        device (str or device, optional): where the parameters and buffers live.
        dtype (dtype, optional): their dtype (default: the default dtype).
        bias (bool): with affine, learn the shift too.

    Shape:
        - Input: (N, C, *)
        - Output: the input's shape

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> model = nn.Sequential(nn.Conv2d(3, 4, 1), nn.BatchNorm2d(4))
        >>> model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        >>> type(model[1]).__name__, model(chainrule.randn(2, 3, 5, 5)).shape
        ('SyncBatchNorm', chainrule.Size([2, 4, 5, 5]))
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        process_group: object | None = None,
        device: Device | str | None = None,
        dtype: DType | None = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__(
            num_features, eps, momentum, affine, track_running_stats, device, dtype, bias=bias
        )
        self.process_group = process_group

    def _check_input_dim(self, input: Tensor) -> None:  # noqa: A002
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {input.dim()}D input)")

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        self._check_input_dim(input)
        if input.size(1) == 0:
            raise ValueError("SyncBatchNorm number of input channels should be non-zero")
        uses_batch_stats = self.training or (self.running_mean is None)
        if self.training and uses_batch_stats and _distributed.is_initialized():
            if _distributed.get_world_size(self.process_group) > 1:
                raise ValueError(
                    "SyncBatchNorm expected input tensor to be on GPU or XPU or privateuseone "
                    "(chainrule does not pool batch statistics across processes)"
                )
        return super().forward(input)

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group: object | None = None) -> Module:
        """`module` with every BatchNorm layer in it replaced by a SyncBatchNorm sharing its
        parameters and buffers (the module itself, if it is one, is returned replaced)."""
        converted = module
        if isinstance(module, _BatchNorm):
            converted = cls(
                module.num_features,
                module.eps,
                module.momentum,
                module.affine,
                module.track_running_stats,
                process_group,
                bias=module.bias is not None,
            )
            if module.affine:
                with no_grad():
                    converted.weight = module.weight
                    converted.bias = module.bias
            converted.running_mean = module.running_mean
            converted.running_var = module.running_var
            converted.num_batches_tracked = module.num_batches_tracked
            converted.training = module.training
        for name, child in module.named_children():
            converted.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return converted
