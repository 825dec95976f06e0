"""Learning-rate schedules, with `torch.optim.lr_scheduler`'s classes and formulas.

A scheduler rewrites `group['lr']` of its optimizer's param groups each time `step()` is called
(once per epoch or per batch, after `optimizer.step()`). Most schedules are *chainable*: they
compute the new rate from the group's current one (PyTorch's recursive forms, reproduced
exactly), so several schedulers can act on one optimizer; `step(epoch)` uses the closed form.

>>> import chainrule
>>> from chainrule.optim import SGD
>>> from chainrule.optim.lr_scheduler import StepLR
>>> opt = SGD([chainrule.zeros(1, requires_grad=True)], lr=1.0)
>>> sched = StepLR(opt, step_size=2, gamma=0.5)
>>> for _ in range(4):
...     opt.step()
...     sched.step()
>>> sched.get_last_lr()
[0.25]
"""

from __future__ import annotations

import math as _math
import types as _types
import warnings as _warnings
from bisect import bisect_right as _bisect_right
from collections import Counter as _Counter
from typing import TYPE_CHECKING as _TYPE_CHECKING

from chainrule._tensor import Tensor
from chainrule.optim.optimizer import Optimizer

if _TYPE_CHECKING:  # annotations only (they are strings at run time): not public names
    from collections.abc import Callable, Iterable, Sequence
    from typing import Any, SupportsFloat

__all__ = [
    "ChainedScheduler",
    "ConstantLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "MultiplicativeLR",
    "OneCycleLR",
    "PolynomialLR",
    "ReduceLROnPlateau",
    "SequentialLR",
    "StepLR",
]

_EPOCH_DEPRECATION_WARNING = (
    "The epoch parameter in `scheduler.step()` was not necessary and is being deprecated where "
    "possible. Please use `scheduler.step()` to step the scheduler. During the deprecation, if "
    "epoch is different from None, the closed form is used instead of the new chainable form, "
    "where available."
)


def _group_values(optimizer: Optimizer, key: str) -> list[Any]:
    """Each group's value of `key`; a tensor one (a tensor `lr`) cloned, so that the list
    keeps the value it read when the group's tensor is filled again (as PyTorch)."""
    return [
        group[key].clone() if isinstance(group[key], Tensor) else group[key]
        for group in optimizer.param_groups
    ]


def _set_group_value(group: dict[str, Any], key: str, value: Any) -> None:
    """group[key] = value, but a tensor already there (a tensor `lr`) is filled in place, as
    PyTorch's schedulers do: the tensor the optimizer was given keeps following the schedule."""
    current = group[key]
    if isinstance(current, Tensor):
        current.fill_(float(value))
    else:
        group[key] = value


def _per_group(name: str, optimizer: Optimizer, value: Any) -> list[Any]:
    """One value per param group: a list is checked for length, a scalar is repeated."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(
                f"{name} must have the same length as optimizer.param_groups. {name} has "
                f"{len(value)} values, param_groups has {len(optimizer.param_groups)}."
            )
        return list(value)
    return [value] * len(optimizer.param_groups)


def _warn_get_lr_called_outside_step(scheduler: LRScheduler) -> None:
    """PyTorch's warning when a script calls `get_lr()` itself instead of `get_last_lr()`."""
    if not scheduler._get_lr_called_within_step:
        _warnings.warn(
            "To get the last learning rate computed by the scheduler, please use `get_last_lr()`.",
            UserWarning,
            stacklevel=3,
        )


class _within_step:  # noqa: N801 - a context manager, named as PyTorch's _enable_get_lr_call
    """Marks `get_lr()` as called by the scheduler's own step (no warning, and the flag is in
    the scheduler's __dict__, so its state_dict holds the key PyTorch's holds)."""

    def __init__(self, scheduler: LRScheduler) -> None:
        self.scheduler = scheduler

    def __enter__(self) -> None:
        self.scheduler._get_lr_called_within_step = True

    def __exit__(self, *exc_info: object) -> None:
        self.scheduler._get_lr_called_within_step = False


class LRScheduler:
    """Base class: `last_epoch` counts steps (-1 before the first); subclasses give `get_lr`.

    Construction performs the initial step, which sets every group's lr to the schedule's value
    at epoch 0 (and records `initial_lr` in each group). Call `step()` after `optimizer.step()`.

    Args:
        optimizer (Optimizer): the optimizer whose param groups' `lr` it sets.
        last_epoch (int): the index of the last finished epoch when resuming (-1: start
            fresh; otherwise every group needs an 'initial_lr', which loading the optimizer's
            state restores).

    Example:
        >>> import chainrule
        >>> from chainrule.optim import SGD
        >>> from chainrule.optim.lr_scheduler import StepLR
        >>> opt = SGD([chainrule.zeros(1, requires_grad=True)], lr=1.0)
        >>> scheduler = StepLR(opt, step_size=2, gamma=0.5)   # a subclass
        >>> lrs = []
        >>> for epoch in range(5):
        ...     lrs.append(round(scheduler.get_last_lr()[0], 4))
        ...     opt.step()
        ...     scheduler.step()
        >>> lrs
        [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    _is_initial: bool = False
    _get_lr_called_within_step: bool = False  # set while step computes, as in PyTorch

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                initial_lr = group["lr"]
                if isinstance(initial_lr, Tensor):
                    initial_lr = initial_lr.clone()
                group.setdefault("initial_lr", initial_lr)
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param 'initial_lr' is not specified in param_groups[{i}] when resuming "
                        "scheduler with last_epoch >= 0 (load the optimizer's state first)"
                    )
        self.base_lrs: list[float] = _group_values(optimizer, "initial_lr")
        self.last_epoch = last_epoch
        # From now on the optimizer's step records that it ran (`_opt_called`), so the first
        # step() can warn when it comes before optimizer.step(), as PyTorch's does.
        optimizer._step_watched = True
        self._initial_step()

    def _initial_step(self) -> None:
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        """The rates for the current `last_epoch` (called by `step`)."""
        raise NotImplementedError

    def get_last_lr(self) -> list[float]:
        """The rates the last `step` set, one per param group."""
        return self._last_lr

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch (or jump to `epoch`, deprecated) and write the new rates."""
        if self._step_count == 1:  # the first call after the constructor's
            _warn_if_called_before_the_optimizer(self.optimizer)
        self._step_count += 1
        if epoch is not None:
            _warnings.warn(_EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        with _within_step(self):
            if epoch is None:
                self.last_epoch += 1
                values = self.get_lr()
            else:
                self.last_epoch = epoch
                closed_form = getattr(self, "_get_closed_form_lr", None)
                values = closed_form() if closed_form is not None else self.get_lr()
        # (strict, as PyTorch's: a param group added since has no rate here, a ValueError)
        for group, lr in zip(self.optimizer.param_groups, values, strict=True):
            _set_group_value(group, "lr", lr)
        self._last_lr = _group_values(self.optimizer, "lr")

    def state_dict(self) -> dict[str, Any]:
        """Every attribute except the optimizer (PyTorch's format)."""
        return {key: value for key, value in self.__dict__.items() if key != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore this scheduler from what `state_dict()` returned (not its optimizer)."""
        self.__dict__.update(state_dict)


def _warn_if_called_before_the_optimizer(optimizer: Optimizer) -> None:
    """PyTorch's warnings for a first scheduler step that no optimizer step preceded (the
    schedule's first value would be skipped), or whose optimizer's step was replaced."""
    if not getattr(optimizer.step, "hooked", False):
        _warnings.warn(
            "Seems like `optimizer.step()` has been overridden after learning rate scheduler "
            "initialization. Please, make sure to call `optimizer.step()` before "
            "`lr_scheduler.step()`. See more details at "
            "https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate",
            UserWarning,
            stacklevel=3,
        )
    elif not getattr(optimizer, "_opt_called", False):
        _warnings.warn(
            "Detected call of `lr_scheduler.step()` before `optimizer.step()`. In PyTorch 1.1.0 "
            "and later, you should call them in the opposite order: `optimizer.step()` before "
            "`lr_scheduler.step()`.  Failure to do this will result in PyTorch skipping the "
            "first value of the learning rate schedule. See more details at "
            "https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate",
            UserWarning,
            stacklevel=3,
        )


class _LRScheduler(LRScheduler):
    """PyTorch's older name for LRScheduler, still the base class of many schedulers written
    before 2.0 (`class Warmup(_LRScheduler)`); the same class in all but name."""


class _LambdaScheduler(LRScheduler):
    """Base for schedules given as functions of the epoch, one per param group (or one for all).

    state_dict drops plain functions and keeps callable objects' `__dict__` (PyTorch's rule).
    """

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Callable[[int], float] | list[Callable[[int], float]],
        last_epoch: int = -1,
    ) -> None:
        self.optimizer = optimizer
        if not isinstance(lr_lambda, (list, tuple)):
            lr_lambda = [lr_lambda] * len(optimizer.param_groups)
        elif len(lr_lambda) != len(optimizer.param_groups):
            raise ValueError(
                f"Expected {len(optimizer.param_groups)} lr_lambdas, but got {len(lr_lambda)}"
            )
        for fn in lr_lambda:
            if not callable(fn):
                raise TypeError(f"lr_lambda should be a function, but got {type(fn).__name__}")
        self.lr_lambdas = list(lr_lambda)
        super().__init__(optimizer, last_epoch)

    def state_dict(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [
            None if isinstance(fn, _types.FunctionType) else fn.__dict__.copy()
            for fn in self.lr_lambdas
        ]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore this scheduler from what `state_dict()` returned (not its optimizer)."""
        state_dict = dict(state_dict)
        lr_lambdas = state_dict.pop("lr_lambdas")
        self.__dict__.update(state_dict)
        for fn, saved in zip(self.lr_lambdas, lr_lambdas):
            if saved is not None:
                fn.__dict__.update(saved)


class LambdaLR(_LambdaScheduler):
    """lr = initial_lr * lr_lambda(epoch).

    Args:
        optimizer (Optimizer): the optimizer whose param groups' `lr` it sets.
        lr_lambda (Callable or list of Callables): a function of the epoch (an int), or one
            per param group.
        last_epoch (int): the index of the last finished epoch when resuming (-1: start
            fresh; otherwise every group needs an 'initial_lr', which loading the optimizer's
            state restores).

    Example:
        >>> import chainrule
        >>> from chainrule.optim import SGD
        >>> from chainrule.optim.lr_scheduler import LambdaLR
        >>> opt = SGD([chainrule.zeros(1, requires_grad=True)], lr=1.0)
        >>> scheduler = LambdaLR(opt, lambda epoch: 0.9 ** epoch)
        >>> lrs = []
        >>> for epoch in range(4):
        ...     lrs.append(round(scheduler.get_last_lr()[0], 4))
        ...     opt.step()
        ...     scheduler.step()
        >>> lrs
        [1.0, 0.9, 0.81, 0.729]
    """

    def get_lr(self) -> list[float]:
        _warn_get_lr_called_outside_step(self)
        return [
            base_lr * fn(self.last_epoch) for fn, base_lr in zip(self.lr_lambdas, self.base_lrs)
        ]


class MultiplicativeLR(_LambdaScheduler):
    """lr <- lr * lr_lambda(epoch) at every step after the first.

    Args:
        optimizer (Optimizer): the optimizer whose param groups' `lr` it sets.
        lr_lambda (Callable or list of Callables): a function of the epoch (an int), or one
            per param group.
        last_epoch (int): the index of the last finished epoch when resuming (-1: start
            fresh; otherwise every group needs an 'initial_lr', which loading the optimizer's
            state restores).

    Example:
        >>> import chainrule
        >>> from chainrule.optim import SGD
        >>> from chainrule.optim.lr_scheduler import MultiplicativeLR
        >>> opt = SGD([chainrule.zeros(1, requires_grad=True)], lr=1.0)
        >>> scheduler = MultiplicativeLR(opt, lambda epoch: 0.5)
        >>> lrs = []
        >>> for epoch in range(4):
        ...     lrs.append(round(scheduler.get_last_lr()[0], 4))
        ...     opt.step()
        ...     scheduler.step()
        >>> lrs
        [1.0, 0.5, 0.25, 0.125]
    """

    def get_lr(self) -> list[float]:
        _warn_get_lr_called_outside_step(self)
        if self._is_initial:
            return _group_values(self.optimizer, "lr")
        return [
            group["lr"] * fn(self.last_epoch)
            for fn, group in zip(self.lr_lambdas, self.optimizer.param_groups)
        ]


class StepLR(LRScheduler):
    """lr <- lr * gamma every `step_size` epochs.

    Args:
        optimizer (Optimizer): the optimizer whose param groups' `lr` it sets.
        step_size (int): the epochs between decays.
        gamma (float): the decay factor (default 0.1).
        last_epoch (int): the index of the last finished epoch when resuming (-1: start
            fresh; otherwise every group needs an 'initial_lr', which loading the optimizer's
            state restores).

    Example:
        >>> import chainrule
        >>> from chainrule.optim import SGD
        >>> from chainrule.optim.lr_scheduler import StepLR
        >>> opt = SGD([chainrule.zeros(1, requires_grad=True)], lr=1.0)
        >>> scheduler = StepLR(opt, step_size=2, gamma=0.5)
        >>> lrs = []
        >>> for epoch in range(5):
        ...     lrs.append(round(scheduler.get_last_lr()[0], 4))
        ...     opt.step()
        ...     scheduler.step()
        >>> lrs
        [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        _warn_get_lr_called_outside_step(self)
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return _group_values(self.optimizer, "lr")
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [
            base_lr * self.gamma ** (self.last_epoch // self.step_size) for base_lr in self.base_lrs
        ]


class MultiStepLR(LRScheduler):
    """lr <- lr * gamma at each milestone epoch (a milestone listed twice decays twice).

    Args:
        optimizer (Optimizer): the optimizer whose param groups' `lr` it sets.
        milestones (iterable of ints): the epochs at which to decay.
        gamma (float): the decay factor (default 0.1).
        last_epoch (int): the index of the last finished epoch when resuming (-1: start
            fresh; otherwise every group needs an 'initial_lr', which loading the optimizer's
            state restores).

    Example:
        >>> import chainrule
        >>> from chainrule.optim import SGD
        >>> from chainrule.optim.lr_scheduler import MultiStepLR
        >>> opt = SGD([chainrule.zeros(1, requires_grad=True)], lr=1.0)
        >>> scheduler = MultiStepLR(opt, milestones=[1, 3], gamma=0.1)
        >>> lrs = []
        >>> for epoch in range(5):
        ...     lrs.append(round(scheduler.get_last_lr()[0], 4))
        ...     opt.step()
        ...     scheduler.step()
        >>> lrs
        [1.0, 0.1, 0.1, 0.01, 0.01]
    """

    def __init__(
        self,
        optimizer: Optimizer,
        milestones: Iterable[int],
        gamma: float = 0.1,
        last_epoch: int = -1,
    ) -> None:
        self.milestones = _Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        _warn_get_lr_called_outside_step(self)
        if self.last_epoch not in self.milestones:
            return _group_values(self.optimizer, "lr")
        factor = self.gamma ** self.milestones[self.last_epoch]
        return [group["lr"] * factor for group in self.optimizer.param_groups]

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore this scheduler from what `state_dict()` returned (not its optimizer)."""
        super().load_state_dict(state_dict)
        self.milestones = _Counter(self.milestones)  # a checkpoint may hold a plain dict

    def _get_closed_form_lr(self) -> list[float]:
        milestones = sorted(self.milestones.elements())
        exponent = _bisect_right(milestones, self.last_epoch)
        return [base_lr * self.gamma**exponent for base_lr in self.base_lrs]


class ConstantLR(LRScheduler):
    """lr = initial_lr * factor for the first `total_iters` epochs, then initial_lr.

    Args:
        optimizer (Optimizer): the optimizer whose param groups' `lr` it sets.
        factor (float): the multiplier while it lasts, in [0, 1] (default 1/3).
        total_iters (int): how many epochs it lasts (default 5).
        last_epoch (int): the index of the last finished epoch when resuming (-1: start
            fresh; otherwise every group needs an 'initial_lr', which loading the optimizer's
            state restores).

    Example:
        >>> import chainrule
        >>> from chainrule.optim import SGD
        >>> from chainrule.optim.lr_scheduler import ConstantLR
        >>> opt = SGD([chainrule.zeros(1, requires_grad=True)], lr=1.0)
        >>> scheduler = ConstantLR(opt, factor=0.5, total_iters=2)
        >>> lrs = []
        >>> for epoch in range(4):
        ...     lrs.append(round(scheduler.get_last_lr()[0], 4))
        ...     opt.step()
        ...     scheduler.step()
        >>> lrs
        [0.5, 0.5, 1.0, 1.0]
    """

    def __init__(
        self,
        optimizer: Optimizer,
        factor: float = 1.0 / 3,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        if factor > 1.0 or factor < 0:
            raise ValueError("Constant multiplicative factor expected to be between 0 and 1.")
        self.factor = factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        _warn_get_lr_called_outside_step(self)
        if self.last_epoch == 0:
            return [group["lr"] * self.factor for group in self.optimizer.param_groups]
        if self.last_epoch != self.total_iters:
            return _group_values(self.optimizer, "lr")
        return [group["lr"] * (1.0 / self.factor) for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        done = self.last_epoch >= self.total_iters
        return [base_lr * (self.factor + done * (1 - self.factor)) for base_lr in self.base_lrs]


class LinearLR(LRScheduler):
    """The factor on initial_lr moves linearly from start_factor to end_factor over
    `total_iters` epochs, then stays (a linear warm-up by default).

    Args:
        optimizer (Optimizer): the optimizer whose param groups' `lr` it sets.
        start_factor (float): the factor at epoch 0, in (0, 1] (default 1/3).
        end_factor (float): the factor from epoch `total_iters` on, in [0, 1] (default 1).
        total_iters (int): the epochs the change takes (default 5).
        last_epoch (int): the index of the last finished epoch when resuming (-1: start
            fresh; otherwise every group needs an 'initial_lr', which loading the optimizer's
            state restores).

    Example:
        >>> import chainrule
        >>> from chainrule.optim import SGD
        >>> from chainrule.optim.lr_scheduler import LinearLR
        >>> opt = SGD([chainrule.zeros(1, requires_grad=True)], lr=1.0)
        >>> scheduler = LinearLR(opt, start_factor=0.25, total_iters=3)
        >>> lrs = []
        >>> for epoch in range(5):
        ...     lrs.append(round(scheduler.get_last_lr()[0], 4))
        ...     opt.step()
        ...     scheduler.step()
        >>> lrs
        [0.25, 0.5, 0.75, 1.0, 1.0]
    """

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        if start_factor > 1.0 or start_factor <= 0:
            raise ValueError(
                "Starting multiplicative factor expected to be greater than 0 and less or equal "
                "to 1."
            )
        if end_factor > 1.0 or end_factor < 0:
            raise ValueError("Ending multiplicative factor expected to be between 0 and 1.")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        _warn_get_lr_called_outside_step(self)
        if self.last_epoch == 0:
            return [group["lr"] * self.start_factor for group in self.optimizer.param_groups]
        if self._is_initial or self.last_epoch > self.total_iters:
            return _group_values(self.optimizer, "lr")
        change = self.end_factor - self.start_factor
        ratio = 1.0 + change / (
            self.total_iters * self.start_factor + (self.last_epoch - 1) * change
        )
        return [group["lr"] * ratio for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        change = self.end_factor - self.start_factor
        progress = min(self.total_iters, self.last_epoch)
        return [
            base_lr * (self.start_factor + change * progress / self.total_iters)
            for base_lr in self.base_lrs
        ]


class ExponentialLR(LRScheduler):
    """lr <- lr * gamma every epoch.

    Args:
        optimizer (Optimizer): the optimizer whose param groups' `lr` it sets.
        gamma (float): the decay factor.
        last_epoch (int): the index of the last finished epoch when resuming (-1: start
            fresh; otherwise every group needs an 'initial_lr', which loading the optimizer's
            state restores).

    Example:
        >>> import chainrule
        >>> from chainrule.optim import SGD
        >>> from chainrule.optim.lr_scheduler import ExponentialLR
        >>> opt = SGD([chainrule.zeros(1, requires_grad=True)], lr=1.0)
        >>> scheduler = ExponentialLR(opt, gamma=0.5)
        >>> lrs = []
        >>> for epoch in range(4):
        ...     lrs.append(round(scheduler.get_last_lr()[0], 4))
        ...     opt.step()
        ...     scheduler.step()
        >>> lrs
        [1.0, 0.5, 0.25, 0.125]
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        _warn_get_lr_called_outside_step(self)
        if self._is_initial:
            return _group_values(self.optimizer, "lr")
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        return [base_lr * self.gamma**self.last_epoch for base_lr in self.base_lrs]


class PolynomialLR(LRScheduler):
    """lr = initial_lr * (1 - epoch / total_iters) ** power, then 0 after total_iters.

    Args:
        optimizer (Optimizer): the optimizer whose param groups' `lr` it sets.
        total_iters (int): the epochs until the rate reaches 0 (default 5).
        power (float): the polynomial's power (default 1: linear decay).
        last_epoch (int): the index of the last finished epoch when resuming (-1: start
            fresh; otherwise every group needs an 'initial_lr', which loading the optimizer's
            state restores).

    Example:
        >>> import chainrule
        >>> from chainrule.optim import SGD
        >>> from chainrule.optim.lr_scheduler import PolynomialLR
        >>> opt = SGD([chainrule.zeros(1, requires_grad=True)], lr=1.0)
        >>> scheduler = PolynomialLR(opt, total_iters=4, power=2.0)
        >>> lrs = []
        >>> for epoch in range(6):
        ...     lrs.append(round(scheduler.get_last_lr()[0], 4))
        ...     opt.step()
        ...     scheduler.step()
        >>> lrs
        [1.0, 0.5625, 0.25, 0.0625, 0.0, 0.0]
    """

    def __init__(
        self,
        optimizer: Optimizer,
        total_iters: int = 5,
        power: float = 1.0,
        last_epoch: int = -1,
    ) -> None:
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        _warn_get_lr_called_outside_step(self)
        if self._is_initial or self.last_epoch > self.total_iters:
            return _group_values(self.optimizer, "lr")
        decay = (
            (1.0 - self.last_epoch / self.total_iters)
            / (1.0 - (self.last_epoch - 1) / self.total_iters)
        ) ** self.power
        return [group["lr"] * decay for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        progress = min(self.total_iters, self.last_epoch)
        return [
            base_lr * (1.0 - progress / self.total_iters) ** self.power for base_lr in self.base_lrs
        ]


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from initial_lr to eta_min over T_max epochs (then back up), with
    PyTorch's recursive update, so it composes with other schedulers as PyTorch's does.

    Args:
        optimizer (Optimizer): the optimizer whose param groups' `lr` it sets.
        T_max (int): the epochs of one descent (half a cosine period).
        eta_min (float): the lowest rate (default 0).
        last_epoch (int): the index of the last finished epoch when resuming (-1: start
            fresh; otherwise every group needs an 'initial_lr', which loading the optimizer's
            state restores).

    Example:
        >>> import chainrule
        >>> from chainrule.optim import SGD
        >>> from chainrule.optim.lr_scheduler import CosineAnnealingLR
        >>> opt = SGD([chainrule.zeros(1, requires_grad=True)], lr=1.0)
        >>> scheduler = CosineAnnealingLR(opt, T_max=4)
        >>> lrs = []
        >>> for epoch in range(6):
        ...     lrs.append(round(scheduler.get_last_lr()[0], 4))
        ...     opt.step()
        ...     scheduler.step()
        >>> lrs
        [1.0, 0.8536, 0.5, 0.1464, 0.0, 0.1464]
    """

    def __init__(
        self,
        optimizer: Optimizer,
        T_max: int,  # noqa: N803 - PyTorch's name
        eta_min: float = 0.0,
        last_epoch: int = -1,
    ) -> None:
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        _warn_get_lr_called_outside_step(self)
        eta_min, t_max, epoch = self.eta_min, self.T_max, self.last_epoch
        if self._is_initial:
            return _group_values(self.optimizer, "lr")
        if self._step_count == 1 and epoch > 0:  # resumed: use the closed form once
            return [
                eta_min + (base_lr - eta_min) * (1 + _math.cos(epoch * _math.pi / t_max)) / 2
                for base_lr in self.base_lrs
            ]
        if (epoch - 1 - t_max) % (2 * t_max) == 0:  # at the bottom: start climbing
            return [
                group["lr"] + (base_lr - eta_min) * (1 - _math.cos(_math.pi / t_max)) / 2
                for base_lr, group in zip(self.base_lrs, self.optimizer.param_groups)
            ]
        ratio = (1 + _math.cos(_math.pi * epoch / t_max)) / (
            1 + _math.cos(_math.pi * (epoch - 1) / t_max)
        )
        return [ratio * (group["lr"] - eta_min) + eta_min for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list[float]:
        cosine = 1 + _math.cos(_math.pi * self.last_epoch / self.T_max)
        return [self.eta_min + (base_lr - self.eta_min) * cosine / 2 for base_lr in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine annealing restarted every T_i epochs, with T_i growing by T_mult at each restart
    (SGDR, Loshchilov and Hutter, 2017). `step(epoch)` may pass a fractional epoch, to anneal
    per batch.

    Args:
        optimizer (Optimizer): the optimizer whose param groups' `lr` it sets.
        T_0 (int): the epochs until the first restart.
        T_mult (int): the factor by which each period grows (default 1: equal periods).
        eta_min (float): the lowest rate (default 0).
        last_epoch (int): the index of the last finished epoch when resuming (-1: start
            fresh; otherwise every group needs an 'initial_lr', which loading the optimizer's
            state restores).

    Example:
        >>> import chainrule
        >>> from chainrule.optim import SGD
        >>> from chainrule.optim.lr_scheduler import CosineAnnealingWarmRestarts
        >>> opt = SGD([chainrule.zeros(1, requires_grad=True)], lr=1.0)
        >>> scheduler = CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=2)
        >>> lrs = []
        >>> for epoch in range(7):
        ...     lrs.append(round(scheduler.get_last_lr()[0], 4))
        ...     opt.step()
        ...     scheduler.step()
        >>> lrs
        [1.0, 0.5, 1.0, 0.8536, 0.5, 0.1464, 1.0]
    """

    def __init__(
        self,
        optimizer: Optimizer,
        T_0: int,  # noqa: N803 - PyTorch's name
        T_mult: int = 1,  # noqa: N803
        eta_min: float = 0.0,
        last_epoch: int = -1,
    ) -> None:
        if T_0 <= 0 or not isinstance(T_0, int):
            raise ValueError(f"Expected positive integer T_0, but got {T_0}")
        if T_mult < 1 or not isinstance(T_mult, int):
            raise ValueError(f"Expected integer T_mult >= 1, but got {T_mult}")
        self.T_0 = T_0
        self.T_i = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        _warn_get_lr_called_outside_step(self)
        cosine = 1 + _math.cos(_math.pi * self.T_cur / self.T_i)
        return [self.eta_min + (base_lr - self.eta_min) * cosine / 2 for base_lr in self.base_lrs]

    def step(self, epoch: float | None = None) -> None:
        """Advance one epoch, or jump to a (possibly fractional) `epoch`."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        elif epoch < 0:
            raise ValueError(f"Expected non-negative epoch, but got {epoch}")
        elif epoch >= self.T_0:
            if self.T_mult == 1:
                self.T_cur = epoch % self.T_0
            else:
                n = int(_math.log((epoch / self.T_0 * (self.T_mult - 1) + 1), self.T_mult))
                self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
                self.T_i = self.T_0 * self.T_mult**n
        else:
            self.T_i = self.T_0
            self.T_cur = epoch
        self.last_epoch = _math.floor(epoch)
        with _within_step(self):
            values = self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            _set_group_value(group, "lr", lr)
        self._last_lr = _group_values(self.optimizer, "lr")


class _MomentumCycling:
    """What OneCycleLR and CyclicLR share: the momentum (SGD's `momentum`, or Adam's beta1)
    moved against the rate, between per-group bounds kept in the param groups."""

    def _start_momentum_cycling(
        self,
        optimizer: Optimizer,
        cycle_momentum: bool,
        base_momentum: float | list[float],
        max_momentum: float | list[float],
        last_epoch: int,
    ) -> tuple[list[float], list[float]]:
        """Check the optimizer has a momentum, set each group's to its maximum (on a fresh
        start) and keep the bounds in the groups; returns the (base, max) momentums per group."""
        self.cycle_momentum = cycle_momentum
        if not cycle_momentum:
            return [], []
        if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
            raise ValueError(
                "optimizer must support momentum or beta1 with `cycle_momentum` option enabled"
            )
        self.use_beta1 = "betas" in optimizer.defaults
        base_momentums = _per_group("base_momentum", optimizer, base_momentum)
        max_momentums = _per_group("max_momentum", optimizer, max_momentum)
        if last_epoch == -1:
            for group, high, low in zip(optimizer.param_groups, max_momentums, base_momentums):
                self._set_momentum(group, high)
                group["max_momentum"] = high
                group["base_momentum"] = low
        return base_momentums, max_momentums

    def _set_momentum(self, group: dict[str, Any], momentum: float) -> None:
        if self.use_beta1:
            group["betas"] = (momentum, *group["betas"][1:])
        else:
            group["momentum"] = momentum


class OneCycleLR(_MomentumCycling, LRScheduler):
    """The 1cycle policy (Smith and Topin, 2018): lr rises from max_lr / div_factor to max_lr over
    `pct_start` of `total_steps`, then falls to initial_lr / final_div_factor (cosine or linear);
    momentum (SGD's `momentum` or Adam's beta1) moves the opposite way when `cycle_momentum`.
    `three_phase` adds a symmetric descent back to initial_lr before the final annealing. Step
    it once per batch; stepping past `total_steps` is an error.

    Args:
        optimizer (Optimizer): the optimizer whose param groups' `lr` it sets.
        max_lr (float or list of floats): the peak rate (per group).
        total_steps (int, optional): the steps of the cycle; or give `epochs` and
            `steps_per_epoch`.
        epochs (int, optional): with `steps_per_epoch`, total_steps = epochs * steps_per_epoch.
        steps_per_epoch (int, optional): see `epochs`.
        pct_start (float): the fraction of the cycle spent rising (default 0.3).
        anneal_strategy (str): 'cos' (the default) or 'linear'.
        cycle_momentum (bool): cycle the momentum inversely to the rate (the optimizer needs
            a `momentum` or `betas` option).
        base_momentum (float or list of floats): the momentum at the peak rate (default 0.85).
        max_momentum (float or list of floats): the momentum at the start and end (default 0.95).
        div_factor (float): initial_lr = max_lr / div_factor (default 25).
        final_div_factor (float): the final rate is initial_lr / final_div_factor (default 1e4).
        three_phase (bool): rise, fall back to initial_lr, then anneal (fast.ai's schedule).
        last_epoch (int): the index of the last finished epoch when resuming (-1: start
            fresh; otherwise every group needs an 'initial_lr', which loading the optimizer's
            state restores).

    Example:
        >>> import chainrule
        >>> from chainrule.optim import SGD
        >>> from chainrule.optim.lr_scheduler import OneCycleLR
        >>> opt = SGD([chainrule.zeros(1, requires_grad=True)], lr=1.0, momentum=0.9)
        >>> scheduler = OneCycleLR(opt, max_lr=1.0, total_steps=6)
        >>> lrs = []
        >>> for epoch in range(6):
        ...     lrs.append(round(scheduler.get_last_lr()[0], 4))
        ...     opt.step()
        ...     scheduler.step()
        >>> lrs
        [0.04, 0.9944, 0.8117, 0.4626, 0.1335, 0.0]
    """

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float | list[float],
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float | list[float] = 0.85,
        max_momentum: float | list[float] = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if total_steps is not None:
            if not isinstance(total_steps, int) or total_steps <= 0:
                raise ValueError(f"Expected positive integer total_steps, but got {total_steps}")
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            if not isinstance(epochs, int) or epochs <= 0:
                raise ValueError(f"Expected positive integer epochs, but got {epochs}")
            if not isinstance(steps_per_epoch, int) or steps_per_epoch <= 0:
                raise ValueError(
                    f"Expected positive integer steps_per_epoch, but got {steps_per_epoch}"
                )
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("You must define either total_steps OR (epochs AND steps_per_epoch)")
        if not isinstance(pct_start, float) or pct_start < 0 or pct_start > 1:
            raise ValueError(f"Expected float between 0 and 1 pct_start, but got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"anneal_strategy must be one of 'cos' or 'linear', instead got {anneal_strategy}"
            )

        warmup_end = float(pct_start * self.total_steps) - 1
        if three_phase:
            self._schedule_phases = [
                _phase(warmup_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                _phase(
                    float(2 * pct_start * self.total_steps) - 2,
                    "max_lr",
                    "initial_lr",
                    "base_momentum",
                    "max_momentum",
                ),
                _phase(
                    self.total_steps - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum"
                ),
            ]
        else:
            self._schedule_phases = [
                _phase(warmup_end, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                _phase(self.total_steps - 1, "max_lr", "min_lr", "base_momentum", "max_momentum"),
            ]
        self._anneal_func_type = anneal_strategy  # after the phases: PyTorch's state_dict order

        max_lrs = _per_group("max_lr", optimizer, max_lr)
        if last_epoch == -1:
            for group, group_max_lr in zip(optimizer.param_groups, max_lrs):
                group["initial_lr"] = group_max_lr / div_factor
                group["max_lr"] = group_max_lr
                group["min_lr"] = group["initial_lr"] / final_div_factor

        self._start_momentum_cycling(
            optimizer, cycle_momentum, base_momentum, max_momentum, last_epoch
        )
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self._anneal_func_type == "cos":
            cos_out = _math.cos(_math.pi * pct) + 1
            return end + (start - end) / 2.0 * cos_out
        return (end - start) * pct + start

    def get_lr(self) -> list[float]:
        _warn_get_lr_called_outside_step(self)
        step_num = self.last_epoch
        if step_num > self.total_steps:
            raise ValueError(
                f"Tried to step {step_num} times. The specified number of total steps is "
                f"{self.total_steps}"
            )
        lrs = []
        last_phase = len(self._schedule_phases) - 1
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, phase in enumerate(self._schedule_phases):
                end_step = phase["end_step"]
                if step_num <= end_step or i == last_phase:
                    pct = (step_num - start_step) / (end_step - start_step)
                    lrs.append(self._anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct))
                    if self.cycle_momentum:
                        momentum = self._anneal(
                            group[phase["start_momentum"]], group[phase["end_momentum"]], pct
                        )
                        self._set_momentum(group, momentum)
                    break
                start_step = phase["end_step"]
        return lrs


def _phase(end_step: float, start_lr: str, end_lr: str, start_m: str, end_m: str) -> dict:
    return {
        "end_step": end_step,
        "start_lr": start_lr,
        "end_lr": end_lr,
        "start_momentum": start_m,
        "end_momentum": end_m,
    }


class CyclicLR(_MomentumCycling, LRScheduler):
    """The cyclical learning rate policy (Smith, 2017): lr moves between `base_lr` and `max_lr`
    in triangles of `step_size_up` rising and `step_size_down` falling steps, the height scaled
    per cycle ('triangular': 1; 'triangular2': halved each cycle) or per step ('exp_range':
    gamma ** step), or by `scale_fn`; momentum moves the opposite way when `cycle_momentum`.
    Step it once per batch.

    Args:
        optimizer (Optimizer): the optimizer whose param groups' `lr` it sets.
        base_lr (float or list of floats): the lower bound of the cycle (per group); it
            replaces each group's lr.
        max_lr (float or list of floats): the upper bound (reached only when the scale is 1).
        step_size_up (int): steps rising in each cycle (default 2000).
        step_size_down (int, optional): steps falling (default: `step_size_up`).
        mode (str): 'triangular', 'triangular2' or 'exp_range' (ignored given `scale_fn`).
        gamma (float): the base of 'exp_range''s scale.
        scale_fn (callable, optional): a custom scale of the cycle number or the step.
        scale_mode (str): what `scale_fn` takes: 'cycle' or 'iterations'.
        cycle_momentum (bool): cycle the momentum (the optimizer needs `momentum` or `betas`).
        base_momentum (float or list of floats): the momentum at the peak rate (default 0.8).
        max_momentum (float or list of floats): the momentum at base_lr (default 0.9).
        last_epoch (int): the index of the last finished batch when resuming (-1: start fresh).

    Example:
        >>> import chainrule
        >>> from chainrule.optim import SGD
        >>> from chainrule.optim.lr_scheduler import CyclicLR
        >>> opt = SGD([chainrule.zeros(1, requires_grad=True)], lr=1.0, momentum=0.9)
        >>> scheduler = CyclicLR(opt, base_lr=0.1, max_lr=0.5, step_size_up=2)
        >>> lrs = []
        >>> for batch in range(6):
        ...     lrs.append(round(scheduler.get_last_lr()[0], 4))
        ...     opt.step()
        ...     scheduler.step()
        >>> lrs
        [0.1, 0.3, 0.5, 0.3, 0.1, 0.3]
    """

    def __init__(
        self,
        optimizer: Optimizer,
        base_lr: float | list[float],
        max_lr: float | list[float],
        step_size_up: int = 2000,
        step_size_down: int | None = None,
        mode: str = "triangular",
        gamma: float = 1.0,
        scale_fn: Callable[[float], float] | None = None,
        scale_mode: str = "cycle",
        cycle_momentum: bool = True,
        base_momentum: float | list[float] = 0.8,
        max_momentum: float | list[float] = 0.9,
        last_epoch: int = -1,
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        base_lrs = _per_group("base_lr", optimizer, base_lr)
        if last_epoch == -1:
            for group, lr in zip(optimizer.param_groups, base_lrs):
                _set_group_value(group, "lr", lr)
        self.max_lrs = _per_group("max_lr", optimizer, max_lr)
        up = float(step_size_up)
        down = float(step_size_down) if step_size_down is not None else up
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ValueError("mode is invalid and scale_fn is None")
        self.mode = mode
        self.gamma = gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode
        self._init_scale_fn()
        momentums = self._start_momentum_cycling(
            optimizer, cycle_momentum, base_momentum, max_momentum, last_epoch
        )
        if cycle_momentum:  # kept on the scheduler, as PyTorch's CyclicLR does
            self.base_momentums, self.max_momentums = momentums
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _init_scale_fn(self) -> None:
        """The built-in modes fix what the scale takes: the cycle, or the step for exp_range."""
        if self._scale_fn_custom is None:
            self.scale_mode = "iterations" if self.mode == "exp_range" else "cycle"

    def scale_fn(self, x: float) -> float:
        """The height's scale at cycle (or step) `x`."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        if self.mode == "exp_range":
            return self.gamma**x
        return 1.0

    def get_lr(self) -> list[float]:
        _warn_get_lr_called_outside_step(self)
        cycle = _math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        if x <= self.step_ratio:
            scale_factor = x / self.step_ratio
        else:
            scale_factor = (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        lrs = [
            base_lr + (max_lr - base_lr) * scale_factor * scale
            for base_lr, max_lr in zip(self.base_lrs, self.max_lrs)
        ]
        if self.cycle_momentum:
            for group, low, high in zip(
                self.optimizer.param_groups, self.base_momentums, self.max_momentums
            ):
                self._set_momentum(group, high - (high - low) * scale_factor * scale)
        return lrs

    def state_dict(self) -> dict[str, Any]:
        """PyTorch's format: a custom `scale_fn` is saved only as a callable object's
        attributes (a function or lambda is dropped)."""
        state = super().state_dict()
        fn = state.pop("_scale_fn_custom")
        keep = fn is not None and not isinstance(fn, _types.FunctionType)
        state["_scale_fn_custom"] = fn.__dict__.copy() if keep else None
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore this scheduler from what `state_dict()` returned (not its optimizer)."""
        state_dict = dict(state_dict)
        fn = state_dict.pop("_scale_fn_custom")
        super().load_state_dict(state_dict)
        if fn is not None:
            self._scale_fn_custom.__dict__.update(fn)
        self._init_scale_fn()


class _SchedulerListStateMixin:
    """state_dict for schedulers made of schedulers: each inner one saves its own state."""

    _schedulers: list[LRScheduler]

    def state_dict(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore this scheduler from what `state_dict()` returned (not its optimizer)."""
        state_dict = dict(state_dict)
        schedulers = state_dict.pop("_schedulers")
        self.__dict__.update(state_dict)
        for scheduler, saved in zip(self._schedulers, schedulers):
            scheduler.load_state_dict(saved)


class SequentialLR(_SchedulerListStateMixin, LRScheduler):
    """Run `schedulers` one after another, switching at the given milestone epochs; each phase
    starts from its scheduler's epoch 0 (a warm-up, then a decay).

    Args:
        optimizer (Optimizer): the optimizer every scheduler acts on.
        schedulers (list of LRScheduler): the phases, built on `optimizer`.
        milestones (list of ints): the epochs at which each next phase starts (one fewer than
            the schedulers).
        last_epoch (int): as in `LRScheduler`.

    Example:
        >>> import chainrule
        >>> from chainrule.optim import SGD
        >>> from chainrule.optim.lr_scheduler import ExponentialLR, LinearLR, SequentialLR
        >>> opt = SGD([chainrule.zeros(1, requires_grad=True)], lr=1.0)
        >>> warmup = LinearLR(opt, start_factor=0.5, total_iters=2)
        >>> decay = ExponentialLR(opt, gamma=0.5)
        >>> scheduler = SequentialLR(opt, [warmup, decay], milestones=[2])
        >>> lrs = []
        >>> for epoch in range(5):
        ...     lrs.append(round(scheduler.get_last_lr()[0], 4))
        ...     opt.step()
        ...     scheduler.step()
        >>> lrs
        [0.5, 0.75, 1.0, 0.5, 0.25]
    """

    def __init__(
        self,
        optimizer: Optimizer,
        schedulers: list[LRScheduler],
        milestones: list[int],
        last_epoch: int = -1,
    ) -> None:
        name = type(self).__name__
        if len(schedulers) < 1:
            raise ValueError(f"{name} expects at least one scheduler, but got no scheduler.")
        for i, scheduler in enumerate(schedulers):
            _check_chainable(name, optimizer, scheduler, i)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(
                "Sequential Schedulers expects number of schedulers provided to be one more than "
                f"the number of milestone points, but got number of schedulers {len(schedulers)} "
                f"and the number of milestones to be equal to {len(milestones)}"
            )
        self._schedulers = schedulers
        self._milestones = milestones
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        # Undo the initial steps the schedulers took when they were built, then take the
        # first scheduler's initial step again.
        for group in optimizer.param_groups:
            _set_group_value(group, "lr", group["initial_lr"])
        self._undo_initial_steps(self)
        first = self._schedulers[_bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def _undo_initial_steps(self, scheduler: Any) -> None:
        stack = [scheduler]
        while stack:
            current = stack.pop()
            if hasattr(current, "_schedulers"):
                stack.extend(current._schedulers)
            elif hasattr(current, "last_epoch"):
                current.last_epoch -= 1

    def step(self) -> None:  # type: ignore[override]
        self.last_epoch += 1
        index = _bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[index]
        if index > 0 and self._milestones[index - 1] == self.last_epoch:
            scheduler._update_lr(0)  # a new phase starts from its scheduler's epoch 0
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


class ChainedScheduler(_SchedulerListStateMixin, LRScheduler):
    """Step every scheduler in `schedulers` at each step (their effects multiply).

    Args:
        schedulers (sequence of LRScheduler): chainable schedulers, all on one optimizer.
        optimizer (Optimizer, optional): that optimizer (the first scheduler's by default).

    Example:
        >>> import chainrule
        >>> from chainrule.optim import SGD
        >>> from chainrule.optim.lr_scheduler import ChainedScheduler, ConstantLR, ExponentialLR
        >>> opt = SGD([chainrule.zeros(1, requires_grad=True)], lr=1.0)
        >>> scheduler = ChainedScheduler(
        ...     [ConstantLR(opt, factor=0.5, total_iters=2), ExponentialLR(opt, gamma=0.9)]
        ... )
        >>> lrs = []
        >>> for epoch in range(4):
        ...     lrs.append(round(scheduler.get_last_lr()[0], 4))
        ...     opt.step()
        ...     scheduler.step()
        >>> lrs
        [0.5, 0.45, 0.81, 0.729]
    """

    def __init__(
        self, schedulers: Sequence[LRScheduler], optimizer: Optimizer | None = None
    ) -> None:
        name = type(self).__name__
        if len(schedulers) < 1:
            raise ValueError(
                f"{name} expects at least one scheduler to be chained, but got no scheduler."
            )
        optimizer = optimizer or schedulers[0].optimizer
        for i, scheduler in enumerate(schedulers):
            _check_chainable(name, optimizer, scheduler, i)
        self._schedulers = list(schedulers)
        self.optimizer = optimizer
        self._last_lr = _group_values(self._schedulers[-1].optimizer, "lr")

    def step(self) -> None:  # type: ignore[override]
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = _group_values(self._schedulers[-1].optimizer, "lr")


def _check_chainable(name: str, optimizer: Optimizer, scheduler: Any, index: int) -> None:
    if not hasattr(scheduler, "optimizer"):
        raise TypeError(f"{name} at index {index} should have `optimizer` as its attribute.")
    if isinstance(scheduler, ReduceLROnPlateau):
        raise ValueError(
            f"{name} does not support `ReduceLROnPlateau` scheduler as it requires additional "
            "kwargs to be specified when calling `step`, but got one at index "
            f"{index} in the given schedulers sequence."
        )
    if scheduler.optimizer is not optimizer:
        raise ValueError(
            f"{name} expects all schedulers to belong to the same optimizer, but got scheduler "
            f"{type(scheduler).__name__} at index {index} with a different optimizer."
        )


class ReduceLROnPlateau(LRScheduler):
    """Multiply lr by `factor` once the metric passed to `step(metric)` has not improved for
    more than `patience` epochs; then wait `cooldown` epochs before counting again.

    'Improved' means below best * (1 - threshold) ('min', 'rel'), below best - threshold
    ('min', 'abs'), or the mirror images for mode 'max'. A reduction smaller than `eps` is
    skipped, and lr never goes below `min_lr`.

    Args:
        optimizer (Optimizer): the optimizer whose param groups' `lr` it sets.
        mode (str): 'min' (a loss, the default) or 'max' (an accuracy).
        factor (float): the multiplier of each reduction, below 1 (default 0.1).
        patience (int): the epochs without improvement tolerated (default 10).
        threshold (float): the least change that counts as improvement (default 1e-4).
        threshold_mode (str): 'rel' (the default) or 'abs', as above.
        cooldown (int): the epochs after a reduction before counting resumes (default 0).
        min_lr (float or list of floats): the lowest rate (per group) (default 0).
        eps (float): the smallest reduction applied (default 1e-8).

    Example:
        >>> import chainrule
        >>> from chainrule.optim import SGD
        >>> from chainrule.optim.lr_scheduler import ReduceLROnPlateau
        >>> opt = SGD([chainrule.zeros(1, requires_grad=True)], lr=1.0)
        >>> scheduler = ReduceLROnPlateau(opt, factor=0.5, patience=1)
        >>> lrs = []
        >>> for loss in [1.0, 0.9, 0.9, 0.9, 0.9, 0.9]:
        ...     opt.step()
        ...     scheduler.step(loss)
        ...     lrs.append(opt.param_groups[0]["lr"])
        >>> lrs
        [1.0, 1.0, 1.0, 0.5, 0.5, 0.25]
    """

    def __init__(
        self,
        optimizer: Optimizer,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: list[float] | float = 0,
        eps: float = 1e-8,
    ) -> None:
        if factor >= 1.0:
            raise ValueError("Factor should be < 1.0.")
        self.factor = factor
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(optimizer).__name__} is not an Optimizer")
        self.optimizer = optimizer
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != len(optimizer.param_groups):
                raise ValueError(
                    f"expected {len(optimizer.param_groups)} min_lrs, got {len(min_lr)}"
                )
            self.default_min_lr = None
            self.min_lrs = list(min_lr)
        else:
            self.default_min_lr = min_lr
            self.min_lrs = [min_lr] * len(optimizer.param_groups)
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.last_epoch = 0
        self._last_lr = _group_values(optimizer, "lr")
        self._init_is_better(mode, threshold, threshold_mode)
        self._reset()

    def _reset(self) -> None:
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def step(self, metrics: SupportsFloat, epoch: int | None = None) -> None:  # type: ignore[override]
        """Record this epoch's metric and reduce the rates if it has stopped improving."""
        current = float(metrics)
        if epoch is None:
            epoch = self.last_epoch + 1
        else:
            _warnings.warn(_EPOCH_DEPRECATION_WARNING, UserWarning, stacklevel=2)
        self.last_epoch = epoch
        if self._is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs during cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = _group_values(self.optimizer, "lr")

    def _reduce_lr(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(
                    f"The number of param groups in the `optimizer` ({len(groups)}) differs from "
                    f"when `ReduceLROnPlateau` was initialized ({len(self.min_lrs)}), usually due "
                    "to a new param group being added to the optimizer. Please modify the "
                    "`min_lrs` field to match the length of the `optimizer` param groups."
                )
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, min_lr in zip(groups, self.min_lrs):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, min_lr)
            if old_lr - new_lr > self.eps:
                _set_group_value(group, "lr", new_lr)

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def _is_better(self, a: float, best: float) -> bool:
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min" and self.threshold_mode == "abs":
            return a < best - self.threshold
        if self.mode == "max" and self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def _init_is_better(self, mode: str, threshold: float, threshold_mode: str) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"mode {mode} is unknown!")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold mode {threshold_mode} is unknown!")
        self.mode_worse = _math.inf if mode == "min" else -_math.inf
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore this scheduler from what `state_dict()` returned (not its optimizer)."""
        self.__dict__.update(state_dict)
        self._init_is_better(self.mode, self.threshold, self.threshold_mode)
