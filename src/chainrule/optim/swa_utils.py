"""Stochastic Weight Averaging and exponential moving averages of a model's weights, with
`torch.optim.swa_utils`' names and formulas: `AveragedModel` keeps the running average of a
model's parameters (and, with `use_buffers=True`, of its buffers), `SWALR` anneals the learning
rate to a constant, and `update_bn` recomputes BatchNorm statistics for the averaged weights.

This module sits above `chainrule.nn` (an averaged model is a Module; update_bn finds the
BatchNorm layers), where the rest of `chainrule.optim` never imports nn.

>>> import chainrule
>>> from chainrule.optim.swa_utils import AveragedModel
>>> model = chainrule.nn.Linear(1, 1, bias=False)
>>> swa = AveragedModel(model)
>>> for value in (1.0, 2.0, 6.0):
...     with chainrule.no_grad():
...         _ = model.weight.fill_(value)
...     swa.update_parameters(model)
>>> swa.module.weight.item(), swa.n_averaged.item()
(3.0, 3)
"""

from __future__ import annotations

import itertools as _itertools
import math as _math
from copy import deepcopy as _deepcopy
from typing import TYPE_CHECKING as _TYPE_CHECKING

from chainrule._tensor import Tensor
from chainrule.autograd.grad_mode import no_grad as _no_grad
from chainrule.backend import device as _device_type
from chainrule.backend.dtypes import int64 as _int64
from chainrule.nn.modules.batchnorm import _BatchNorm
from chainrule.nn.modules.module import Module
from chainrule.ops.creation import tensor as _tensor
from chainrule.optim.lr_scheduler import (
    LRScheduler,
    _per_group,
    _warn_get_lr_called_outside_step,
)
from chainrule.optim.optimizer import Optimizer

__all__ = [
    "SWALR",
    "AveragedModel",
    "get_ema_avg_fn",
    "get_ema_multi_avg_fn",
    "get_swa_avg_fn",
    "get_swa_multi_avg_fn",
    "update_bn",
]

if _TYPE_CHECKING:  # annotations only (they are strings at run time): not public names
    from collections.abc import Callable, Iterable, Sequence
    from typing import Literal, TypeAlias

    ParamList: TypeAlias = Sequence[Tensor]
    AvgFn: TypeAlias = Callable[[Tensor, Tensor, Tensor | int], Tensor]
    MultiAvgFn: TypeAlias = Callable[[ParamList, ParamList, Tensor | int], None]


def _is_inexact(tensor: Tensor) -> bool:
    return tensor.is_floating_point() or tensor.is_complex()


def get_ema_multi_avg_fn(decay: float = 0.999) -> MultiAvgFn:
    """The exponential moving average as an in-place update of lists of tensors:
    W_ema <- decay * W_ema + (1 - decay) * W_model (a lerp for floating tensors).

    Args:
        decay (float): how much of the average each update keeps, in [0, 1].

    Returns:
        Callable: `update(ema_params, model_params, num_averaged)`, for AveragedModel's
        `multi_avg_fn`.

    Example:
        >>> import chainrule
        >>> from chainrule.optim.swa_utils import get_ema_multi_avg_fn
        >>> ema, current = [chainrule.zeros(2)], [chainrule.ones(2)]
        >>> get_ema_multi_avg_fn(0.9)(ema, current, 1)
        >>> ema[0]
        tensor([0.1000, 0.1000])
    """
    _check_decay(decay)

    @_no_grad()
    def ema_update(ema_params: ParamList, current_params: ParamList, _: Tensor | int) -> None:
        if _is_inexact(ema_params[0]):
            for p_ema, p_model in zip(ema_params, current_params, strict=True):
                p_ema.lerp_(p_model, 1 - decay)
        else:
            for p_ema, p_model in zip(ema_params, current_params, strict=True):
                p_ema.copy_(p_ema * decay + p_model * (1 - decay))

    return ema_update


def get_swa_multi_avg_fn() -> MultiAvgFn:
    """The equally weighted average as an in-place update of lists of tensors:
    W_avg <- W_avg + (W_model - W_avg) / (num_averaged + 1).

    Returns:
        Callable: `update(averaged_params, model_params, num_averaged)`, for AveragedModel's
        `multi_avg_fn`.

    Example:
        >>> import chainrule
        >>> from chainrule.optim.swa_utils import get_swa_multi_avg_fn
        >>> averaged, current = [chainrule.ones(2)], [chainrule.full((2,), 4.0)]
        >>> get_swa_multi_avg_fn()(averaged, current, 2)
        >>> averaged[0]
        tensor([2., 2.])
    """

    @_no_grad()
    def swa_update(
        averaged_params: ParamList, current_params: ParamList, num_averaged: Tensor | int
    ) -> None:
        if _is_inexact(averaged_params[0]):
            weight = 1 / (num_averaged + 1)
            for p_averaged, p_model in zip(averaged_params, current_params, strict=True):
                p_averaged.lerp_(p_model, weight)
        else:
            for p_averaged, p_model in zip(averaged_params, current_params, strict=True):
                diff = p_model - p_averaged
                if isinstance(num_averaged, Tensor):
                    p_averaged.addcdiv_(diff, num_averaged + 1)
                else:
                    p_averaged.add_(diff, alpha=1.0 / (num_averaged + 1))

    return swa_update


def get_ema_avg_fn(decay: float = 0.999) -> AvgFn:
    """The exponential moving average of one tensor: decay * W_ema + (1 - decay) * W_model.

    Args:
        decay (float): how much of the average each update keeps, in [0, 1].

    Returns:
        Callable: `average(ema_param, current_param, num_averaged)`, for AveragedModel's
        `avg_fn`.

    Example:
        >>> import chainrule
        >>> from chainrule.optim.swa_utils import get_ema_avg_fn
        >>> get_ema_avg_fn(0.5)(chainrule.zeros(2), chainrule.ones(2), 3)
        tensor([0.5000, 0.5000])
    """
    _check_decay(decay)

    @_no_grad()
    def ema_update(ema_param: Tensor, current_param: Tensor, num_averaged: Tensor | int) -> Tensor:
        return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_avg_fn() -> AvgFn:
    """The equally weighted average of one tensor: W_avg + (W_model - W_avg) / (n + 1).

    Returns:
        Callable: `average(averaged_param, current_param, num_averaged)`, for AveragedModel's
        `avg_fn`.

    Example:
        >>> import chainrule
        >>> from chainrule.optim.swa_utils import get_swa_avg_fn
        >>> get_swa_avg_fn()(chainrule.ones(2), chainrule.full((2,), 4.0), 2)
        tensor([2., 2.])
    """

    @_no_grad()
    def swa_update(
        averaged_param: Tensor, current_param: Tensor, num_averaged: Tensor | int
    ) -> Tensor:
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


def _check_decay(decay: float) -> None:
    if decay < 0.0 or decay > 1.0:
        raise ValueError(
            f"Invalid decay value {decay} provided. Please provide a value in [0,1] range."
        )


def _grouped_by_device_and_dtype(
    averaged: list[Tensor], current: list[Tensor]
) -> dict[tuple[str, str], tuple[list[Tensor], list[Tensor]]]:
    """The pairs split by the averaged tensor's device and dtype, in their order (PyTorch hands
    each group to a multi_avg_fn separately)."""
    groups: dict[tuple[str, str], tuple[list[Tensor], list[Tensor]]] = {}
    for p_averaged, p_model in zip(averaged, current):
        key = (str(p_averaged.device), p_averaged.dtype.name)
        mine, theirs = groups.setdefault(key, ([], []))
        mine.append(p_averaged)
        theirs.append(p_model)
    return groups


class AveragedModel(Module):
    """A copy of `model` whose parameters are a running average of `model`'s (Stochastic
    Weight Averaging by default, or any `avg_fn` / `multi_avg_fn`, such as an exponential
    moving average). The first `update_parameters` copies the weights; each later one averages
    them in. Calling it runs the averaged copy.

    Buffers (BatchNorm's running statistics) are copied from `model` at each update, or
    averaged too with `use_buffers=True`; `update_bn` recomputes them otherwise.

    Args:
        model (Module): the model to average (deep-copied).
        device (device, str or int, optional): where the averaged copy lives.
        avg_fn (callable, optional): `avg_fn(averaged, current, num_averaged)` returns one
            tensor's new average (default: the equal-weight average).
        multi_avg_fn (callable, optional): updates lists of averaged tensors in place, given
            the current ones and num_averaged; only one of it and `avg_fn` may be given.
        use_buffers (bool): average the buffers as well as the parameters.

    Shape:
        - Input: whatever `model` takes.
        - Output: what `model` returns, computed with the averaged weights.

    Example:
        >>> import chainrule
        >>> from chainrule.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
        >>> model = chainrule.nn.Linear(2, 1)
        >>> ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.9), use_buffers=True)
        >>> ema.update_parameters(model)
        >>> bool(chainrule.equal(ema.module.weight, model.weight))
        True
        >>> ema(chainrule.ones(3, 2)).shape
        chainrule.Size([3, 1])
    """

    def __init__(
        self,
        model: Module,
        device: _device_type | str | int | None = None,
        avg_fn: AvgFn | None = None,
        multi_avg_fn: MultiAvgFn | None = None,
        use_buffers: bool = False,
    ) -> None:
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise AssertionError("Only one of avg_fn and multi_avg_fn should be provided")
        self.module = _deepcopy(model)
        if device is not None:
            self.module = self.module.to(device)
        self.register_buffer("n_averaged", _tensor(0, dtype=_int64, device=device))
        self.avg_fn = avg_fn
        self.multi_avg_fn = multi_avg_fn
        self.use_buffers = use_buffers

    def forward(self, *args: object, **kwargs: object) -> object:
        """Run the averaged copy of the model."""
        return self.module(*args, **kwargs)

    def update_parameters(self, model: Module) -> None:
        """Average `model`'s current parameters (and buffers, with use_buffers) into this
        copy: copied at the first call, averaged in with avg_fn / multi_avg_fn after."""
        if self.use_buffers:
            own = _itertools.chain(self.module.parameters(), self.module.buffers())
            theirs = _itertools.chain(model.parameters(), model.buffers())
        else:
            own, theirs = self.parameters(), model.parameters()
        averaged: list[Tensor] = []
        current: list[Tensor] = []
        first = bool(self.n_averaged == 0)
        for p_averaged, p_model in zip(own, theirs):
            p_model_ = p_model.detach().to(p_averaged.device)
            averaged.append(p_averaged.detach())
            current.append(p_model_)
            if first:
                p_averaged.detach().copy_(p_model_)
        if self.n_averaged > 0:
            self._average(averaged, current)
        if not self.use_buffers:  # keep the buffers in step with the model's
            for b_swa, b_model in zip(self.module.buffers(), model.buffers(), strict=True):
                b_swa.detach().copy_(b_model.detach().to(b_swa.device))
        self.n_averaged += 1

    def _average(self, averaged: list[Tensor], current: list[Tensor]) -> None:
        if self.avg_fn is not None:
            for p_averaged, p_model in zip(averaged, current, strict=True):
                n_averaged = self.n_averaged.to(p_averaged.device)
                p_averaged.detach().copy_(self.avg_fn(p_averaged.detach(), p_model, n_averaged))
            return
        for (device, _), (mine, theirs) in _grouped_by_device_and_dtype(averaged, current).items():
            n_averaged = self.n_averaged.to(device)
            if self.multi_avg_fn is not None:
                self.multi_avg_fn(mine, theirs, n_averaged)
            else:  # PyTorch's CPU path: the single-tensor average, written back
                average = get_swa_avg_fn()
                for p_averaged, p_model in zip(mine, theirs, strict=True):
                    p_averaged.copy_(average(p_averaged, p_model, n_averaged))


@_no_grad()
def update_bn(
    loader: Iterable[object], model: Module, device: _device_type | str | int | None = None
) -> None:
    """Recompute the running mean and variance of every BatchNorm layer of `model` with one
    pass over `loader` (a cumulative average, momentum None, in train mode); the layers'
    momentum and the model's mode are restored after.

    Args:
        loader (iterable): batches: tensors, or lists / tuples whose first element is the
            model's input.
        model (Module): the model whose BatchNorm statistics are recomputed.
        device (device, str or int, optional): move each batch there first.

    Example:
        >>> import chainrule
        >>> from chainrule.optim.swa_utils import update_bn
        >>> model = chainrule.nn.Sequential(chainrule.nn.Linear(2, 2), chainrule.nn.BatchNorm1d(2))
        >>> update_bn([chainrule.ones(4, 2), (chainrule.zeros(4, 2), None)], model)
        >>> int(model[1].num_batches_tracked)
        2
    """
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None
    for batch in loader:
        if isinstance(batch, (list, tuple)):
            batch = batch[0]
        if device is not None:
            batch = batch.to(device)
        model(batch)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneals each param group's learning rate to `swa_lr` over `anneal_epochs` steps
    (cosine or linear), then holds it there: the schedule of Stochastic Weight Averaging.

    Args:
        optimizer (Optimizer): the optimizer whose param groups' `lr` it sets.
        swa_lr (float or list of floats): the final rate, for all groups or one per group.
        anneal_epochs (int): the steps the annealing takes (0: at once).
        anneal_strategy (str): 'cos' or 'linear'.
        last_epoch (int): the index of the last finished epoch when resuming (-1: start
            fresh).

    Example:
        >>> import chainrule
        >>> from chainrule.optim import SGD
        >>> from chainrule.optim.swa_utils import SWALR
        >>> opt = SGD([chainrule.zeros(1, requires_grad=True)], lr=1.0)
        >>> scheduler = SWALR(opt, swa_lr=0.1, anneal_epochs=2, anneal_strategy="linear")
        >>> lrs = []
        >>> for _ in range(3):
        ...     opt.step()
        ...     scheduler.step()
        ...     lrs.append(round(scheduler.get_last_lr()[0], 4))
        >>> lrs
        [0.55, 0.1, 0.1]
    """

    def __init__(
        self,
        optimizer: Optimizer,
        swa_lr: float | Sequence[float],
        anneal_epochs: int = 10,
        anneal_strategy: Literal["cos", "linear"] = "cos",
        last_epoch: int = -1,
    ) -> None:
        swa_lrs = _per_group("swa_lr", optimizer, swa_lr)
        for value, group in zip(swa_lrs, optimizer.param_groups, strict=True):
            group["swa_lr"] = value
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}"
            )
        self._set_anneal_func(anneal_strategy)
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"anneal_epochs must be equal or greater than 0, got {anneal_epochs}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    @staticmethod
    def _linear_anneal(t: float) -> float:
        return t

    @staticmethod
    def _cosine_anneal(t: float) -> float:
        return (1 - _math.cos(_math.pi * t)) / 2

    @staticmethod
    def _get_initial_lr(lr: float, swa_lr: float, alpha: float) -> float:
        if alpha == 1:
            return swa_lr
        return (lr - alpha * swa_lr) / (1 - alpha)

    def _set_anneal_func(self, anneal_strategy: str) -> None:
        self._anneal_strategy = anneal_strategy
        if anneal_strategy == "cos":
            self.anneal_func = self._cosine_anneal
        else:
            self.anneal_func = self._linear_anneal

    def get_lr(self) -> list[float]:
        """The rates for this step: each group's lr moved towards its swa_lr as far as the
        annealing has come (PyTorch's chainable form, from the group's current lr)."""
        _warn_get_lr_called_outside_step(self)
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_t = max(0, min(1, (step - 1) / max(1, self.anneal_epochs)))
        prev_alpha = self.anneal_func(prev_t)
        prev_lrs = [
            self._get_initial_lr(group["lr"], group["swa_lr"], prev_alpha)
            for group in self.optimizer.param_groups
        ]
        t = max(0, min(1, step / max(1, self.anneal_epochs)))
        alpha = self.anneal_func(t)
        return [
            group["swa_lr"] * alpha + lr * (1 - alpha)
            for group, lr in zip(self.optimizer.param_groups, prev_lrs, strict=True)
        ]

    def state_dict(self) -> dict[str, object]:
        """Every attribute except the optimizer and the annealing function."""
        return {
            key: value
            for key, value in self.__dict__.items()
            if key not in ("optimizer", "anneal_func")
        }

    def load_state_dict(self, state_dict: dict[str, object]) -> None:
        """Restore this scheduler from what `state_dict()` returned."""
        self.__dict__.update(state_dict)
        self._set_anneal_func(self._anneal_strategy)
