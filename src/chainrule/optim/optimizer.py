"""Optimizer: the base class every optimizer shares, with PyTorch's `torch.optim.Optimizer` API.

Parameters live in `param_groups` (each a dict of options plus its `params`); per-parameter
state lives in `state[param]`. Updates run on the raw arrays of parameters, gradients and state
(the hot path), writing parameters in place so views and references stay valid; every write
bumps the parameter's version counter, exactly as an in-place op would.
"""

from __future__ import annotations

import copy
import functools
import itertools
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, overload

from chainrule._tensor import Tensor
from chainrule.autograd.grad_mode import enable_grad, no_grad
from chainrule.autograd.node import RemovableHandle
from chainrule.autograd.observers import observed_effect, observers
from chainrule.backend import Array, dtypes
from chainrule.backend.float_errors import quiet_float_errors
from chainrule.errors import DTypeError
from chainrule.ops.creation import as_tensor, tensor

if TYPE_CHECKING:  # annotations only
    from chainrule._typing import ClosureResult

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]] | Iterable[tuple[str, Tensor]]


class _RequiredParameter:
    """Marks an option every param group must give (e.g. a `lr` without a default)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


# Hooks every optimizer's step runs (torch.optim.optimizer.register_optimizer_step_*_hook):
# the global pre-hooks before each optimizer's own, the global post-hooks after.
_global_step_pre_hooks: list[Callable] = []
_global_step_post_hooks: list[Callable] = []


def register_optimizer_step_pre_hook(hook: Callable) -> RemovableHandle:
    """Run `hook(optimizer, args, kwargs)` before every optimizer's step (before the
    optimizer's own pre-hooks); it may return (new_args, new_kwargs) for the step.

    Args:
        hook (Callable): the hook.

    Example:
        >>> import chainrule
        >>> from chainrule.optim.optimizer import register_optimizer_step_pre_hook
        >>> handle = register_optimizer_step_pre_hook(lambda opt, args, kwargs: None)
        >>> handle.remove()
    """
    _global_step_pre_hooks.append(hook)
    return RemovableHandle(_global_step_pre_hooks, hook)


def register_optimizer_step_post_hook(hook: Callable) -> RemovableHandle:
    """Run `hook(optimizer, args, kwargs)` after every optimizer's step (after the
    optimizer's own post-hooks).

    Args:
        hook (Callable): the hook.

    Example:
        >>> import chainrule
        >>> from chainrule.optim.optimizer import register_optimizer_step_post_hook
        >>> handle = register_optimizer_step_post_hook(lambda opt, args, kwargs: None)
        >>> handle.remove()
    """
    _global_step_post_hooks.append(hook)
    return RemovableHandle(_global_step_post_hooks, hook)


def _add_hook(hooks: list, hook: Callable, prepend: bool) -> RemovableHandle:
    if prepend:
        hooks.insert(0, hook)
    else:
        hooks.append(hook)
    return RemovableHandle(hooks, hook)


def _with_step_hooks(step: Callable) -> Callable:
    """`step` running the global and the optimizer's step hooks around it, as PyTorch wraps
    the step of each optimizer class (the most derived one's, so a subclass's call of
    super().step() does not run them twice)."""

    @functools.wraps(step)
    def hooked(*args: Any, **kwargs: Any) -> Any:
        optimizer = args[0]
        if optimizer.__dict__.get("_step_watched"):  # a scheduler checks the call order
            optimizer._opt_called = True
        for hook in (*_global_step_pre_hooks, *optimizer._optimizer_step_pre_hooks):
            result = hook(optimizer, args, kwargs)
            if result is not None:
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise RuntimeError(
                        f"{step} must return None or a tuple of (new_args, new_kwargs), but "
                        f"got {result}."
                    )
                args, kwargs = result
        out = step(*args, **kwargs)
        for hook in (*optimizer._optimizer_step_post_hooks, *_global_step_post_hooks):
            hook(optimizer, args, kwargs)
        return out

    hooked.hooked = True  # type: ignore[attr-defined]
    return hooked


class Optimizer:
    """Base class: holds param groups and state; subclasses implement `_update_group`.

    Args:
        params (iterable): tensors, or dicts each holding a group's "params" and any options
            that differ from `defaults`.
        defaults (dict): each option's value for the groups that do not set it.

    Example:
        >>> import chainrule
        >>> from chainrule.optim import SGD
        >>> w = chainrule.tensor([1.0, 2.0], requires_grad=True)
        >>> opt = SGD([w], lr=0.1)
        >>> (w * w).sum().backward()
        >>> opt.step()
        >>> w
        tensor([0.8000, 1.6000], requires_grad=True)
    """

    # Whether the optimizer takes complex parameters: SGD's update is linear in the gradient
    # and runs on them as they are; the adaptive ones run on PyTorch's real view of each
    # complex number (`_real_arrays`, `as_real`). A user's subclass takes them, as PyTorch's
    # base class does; one that cannot step them sets False and refuses them clearly.
    complex_params = True
    # Whether `step` takes sparse gradients (an Embedding's with sparse=True): SGD, Adagrad,
    # SparseAdam and LBFGS do, as PyTorch's; the others refuse them with PyTorch's message.
    sparse_gradients = False
    # Whether load_state_dict makes a plain-number `step` (an old checkpoint's) a float32
    # tensor, as the __setstate__ of PyTorch's optimizers with tensor step counters does;
    # SparseAdam counts in a Python int and keeps it.
    tensor_steps = True

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                f"dicts, but got {type(params).__name__}"
            )
        self.defaults = defaults
        self._optimizer_step_pre_hooks: list[Callable] = []
        self._optimizer_step_post_hooks: list[Callable] = []
        self._optimizer_state_dict_pre_hooks: list[Callable] = []
        self._optimizer_state_dict_post_hooks: list[Callable] = []
        self._optimizer_load_state_dict_pre_hooks: list[Callable] = []
        self._optimizer_load_state_dict_post_hooks: list[Callable] = []
        cls = type(self)
        if not getattr(cls.step, "hooked", False):
            cls.step = _with_step_hooks(cls.step)  # type: ignore[method-assign]
        self.state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for param_group in param_groups:
            self.add_param_group(param_group)

    # ---- parameters ----------------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (missing ones take the defaults)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list instead."
            )
        else:
            params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        if names and len(names) != len(params):
            raise ValueError(
                "all optimizer params should be with/without names. Some param names are missing"
            )
        param_group["params"] = params
        if names:
            param_group["param_names"] = names
        for param in params:
            if not isinstance(param, Tensor):
                raise TypeError(
                    "optimizer can only optimize Tensors, but one of the params is "
                    f"{type(param).__name__}"
                )
            if not (param.is_leaf or param.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
            if param.is_complex() and not self.complex_params:
                raise DTypeError(
                    f"{type(self).__name__}: complex parameters are not supported by this "
                    "optimizer (it does not set complex_params = True); optimize "
                    "view_as_real(p) as a real parameter instead"
                )
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    "parameter group didn't specify a value of required optimization parameter "
                    f"{name}"
                )
            param_group.setdefault(name, default)
        ids = [id(p) for p in params]
        if len(ids) != len(set(ids)):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; in future, "
                "this will cause an error",
                stacklevel=3,
            )
        existing = {id(p) for group in self.param_groups for p in group["params"]}
        for group in self.param_groups:
            if ("param_names" in param_group) != ("param_names" in group):
                which = "with names" if "param_names" in param_group else "without names"
                raise ValueError(
                    "all optimizer param groups should be with/without names. cannot add param "
                    f"group {which} to the optimizer"
                )
        if not existing.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient (None by default, or zeros)."""
        active = observers.get()
        if active is not None:  # chainrule.compile records the call
            observed_effect(active, self, "zero_grad", set_to_none)
            return
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                    continue
                if p.grad.grad_fn is not None:
                    p.grad.detach_()
                else:
                    p.grad.requires_grad_(False)
                p.grad.zero_()

    # ---- stepping ------------------------------------------------------------------------
    @overload
    def step(self, closure: None = None) -> None: ...
    @overload
    def step(self, closure: Callable[[], ClosureResult]) -> ClosureResult: ...
    def step(self, closure: Callable[[], ClosureResult] | None = None) -> ClosureResult | None:
        """Update every parameter that has a gradient; `closure` re-evaluates the loss first."""
        active = observers.get()
        if active is not None and closure is None:  # chainrule.compile records the call
            return observed_effect(active, self, "step")
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad(), quiet_float_errors():  # a diverging update gives inf, silently
            for group in self.param_groups:
                params = [p for p in group["params"] if p.grad is not None]
                if not self.sparse_gradients and any(p.grad.is_sparse for p in params):
                    raise RuntimeError(self._sparse_refusal())
                if params:
                    self._update_group(with_number_options(group), params)
        return loss

    def _update_group(self, group: dict[str, Any], params: list[Tensor]) -> None:
        raise NotImplementedError

    # ---- checkpoints ---------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """{'state': {index: {...}}, 'param_groups': [{..., 'params': [indices]}]}, as torch.

        Indices number the parameters in group order. The tensors are the live state (not
        copies), as in PyTorch; save or clone them before stepping again if that matters.
        """
        for pre_hook in self._optimizer_state_dict_pre_hooks:
            pre_hook(self)
        index_of: dict[int, int] = {}
        packed_groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index_of.setdefault(id(p), len(index_of))
            packed["params"] = [index_of[id(p)] for p in group["params"]]
            packed_groups.append(packed)
        packed_state = {
            (index_of[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()
        }
        state_dict = {"state": packed_state, "param_groups": packed_groups}
        for post_hook in self._optimizer_state_dict_post_hooks:
            result = post_hook(self, state_dict)
            if result is not None:
                state_dict = result
        return state_dict

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore options and state saved by `state_dict` into this optimizer's parameters.

        State tensors are copied (PyTorch may alias them) and cast to their parameter's dtype
        and device, except the `step` counters.
        """
        state_dict = dict(state_dict)  # a hook may edit it; the caller's stays as it was
        for pre_hook in self._optimizer_load_state_dict_pre_hooks:
            result = pre_hook(self, state_dict)
            if result is not None:
                state_dict = result
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        groups = self.param_groups
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        for group, saved in zip(groups, saved_groups):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size of "
                    f"optimizer's group ({len(saved['params'])} saved, {len(group['params'])} here)"
                )
        param_of = dict(
            zip(
                itertools.chain.from_iterable(g["params"] for g in saved_groups),
                itertools.chain.from_iterable(g["params"] for g in groups),
            )
        )
        state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        for key, value in state_dict["state"].items():
            param = param_of.get(_as_index(key))
            if param is None:
                state[key] = value
            else:
                state[param] = _cast_state(param, value, tensor_steps=self.tensor_steps)
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
        self.state = state
        self.param_groups = saved_groups
        # PyTorch's load_state_dict ends in Optimizer.__setstate__, which gives the defaults a
        # `differentiable` (False) where they had none: a param group added later carries it
        self.defaults.setdefault("differentiable", False)
        for post_hook in self._optimizer_load_state_dict_post_hooks:
            post_hook(self)

    # ---- hooks ---------------------------------------------------------------------------
    def register_step_pre_hook(self, hook: Callable) -> RemovableHandle:
        """Run `hook(optimizer, args, kwargs)` before each step; it may return (new_args,
        new_kwargs) for the step."""
        return _add_hook(self._optimizer_step_pre_hooks, hook, False)

    def register_step_post_hook(self, hook: Callable) -> RemovableHandle:
        """Run `hook(optimizer, args, kwargs)` after each step."""
        return _add_hook(self._optimizer_step_post_hooks, hook, False)

    def register_state_dict_pre_hook(
        self, hook: Callable, prepend: bool = False
    ) -> RemovableHandle:
        """Run `hook(optimizer)` before `state_dict` packs the state."""
        return _add_hook(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(
        self, hook: Callable, prepend: bool = False
    ) -> RemovableHandle:
        """Run `hook(optimizer, state_dict)` on what `state_dict` returns; a dict it returns
        replaces it."""
        return _add_hook(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(
        self, hook: Callable, prepend: bool = False
    ) -> RemovableHandle:
        """Run `hook(optimizer, state_dict)` before `load_state_dict` reads the state dict (a
        shallow copy of the caller's); a dict it returns is loaded instead."""
        return _add_hook(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(
        self, hook: Callable, prepend: bool = False
    ) -> RemovableHandle:
        """Run `hook(optimizer)` after `load_state_dict` has loaded."""
        return _add_hook(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            if i:
                lines.append("")  # PyTorch leaves a blank line between groups
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {k}: {group[k]}" for k in sorted(group) if k != "params")
        lines.append(")")
        return "\n".join(lines)

    def _sparse_refusal(self) -> str:
        """PyTorch's words for an optimizer given a sparse gradient it cannot step."""
        return f"{type(self).__name__} does not support sparse gradients"

    # ---- helpers for subclasses ------------------------------------------------------------
    @staticmethod
    def _arrays(p: Tensor, maximize: bool = False) -> tuple[Array, Array]:
        """The parameter's array and its gradient's array (negated when maximizing). A sparse
        gradient is read as the dense one it stands for: SGD's and Adagrad's steps move the
        rows it leaves out by zero, so the numbers are those of PyTorch's sparse kernels."""
        grad = p.grad
        grad = (grad.to_dense() if grad.is_sparse else grad)._array
        return p._array, (-grad if maximize else grad)

    @staticmethod
    def _refuse_sparse_with(value: float, params: list[Tensor], message: str) -> None:
        """Raise PyTorch's error where an option cannot take sparse gradients."""
        if value != 0 and any(p.grad.is_sparse for p in params):
            raise RuntimeError(message)

    @staticmethod
    def _real_arrays(p: Tensor, maximize: bool = False) -> tuple[Array, Array]:
        """`_arrays` as real views: a complex parameter and its gradient as pairs of real
        numbers (torch.view_as_real), which PyTorch's adaptive optimizers step."""
        param, grad = Optimizer._arrays(p, maximize)
        return as_real(param), as_real(grad)

    @staticmethod
    def _written(p: Tensor) -> None:
        """Record an in-place write to p's memory, as an in-place op would."""
        p._version_counter.value += 1

    @staticmethod
    def _state_tensor(array: Array, p: Tensor) -> Tensor:
        """A state tensor around `array` (no copy), on p's device."""
        return as_tensor(array, device=p.device)

    @staticmethod
    def _increment_step(state: dict[str, Any]) -> float:
        """Advance the float32 `step` counter tensor and return its new value."""
        step = state["step"]
        step._array += 1
        return float(step._array)


_OPTION_LABELS = {
    "lr": "learning rate",
    "eps": "epsilon value",
    "momentum": "momentum value",
    "weight_decay": "weight_decay value",
    "alpha": "alpha value",
    "lr_decay": "lr_decay value",
    "initial_accumulator_value": "initial_accumulator_value value",
}


def with_number_options(group: dict[str, Any]) -> dict[str, Any]:
    """The group as the update rules read it: its tensor options (a tensor `lr`, tensor
    `betas`, a tensor `weight_decay`, which stay tensors in the group, for schedulers to fill
    in place) as their Python numbers, as PyTorch's steps read them when not capturable; a
    tensor lr's dtype as `lr_dtype` (ASGD's step sizes keep it)."""
    plain = None
    for key, value in group.items():
        if key == "params":
            continue
        if isinstance(value, Tensor):
            number: Any = value.item()
        elif isinstance(value, tuple) and any(isinstance(v, Tensor) for v in value):
            number = tuple(v.item() if isinstance(v, Tensor) else v for v in value)
        else:
            continue
        if plain is None:
            plain = dict(group)
        plain[key] = number
        if key == "lr":
            plain["lr_dtype"] = value.dtype
    return group if plain is None else plain


def check_nonnegative(**options: float | Tensor) -> None:
    """Raise PyTorch's `Invalid <option>: <value>` ValueError for a negative option; a tensor
    learning rate must have one element."""
    for name, value in options.items():
        if isinstance(value, Tensor):
            if value.numel() != 1:
                raise ValueError(f"Tensor {name} must be 1-element")
            value = value.item()
        if not 0.0 <= value:
            raise ValueError(f"Invalid {_OPTION_LABELS[name]}: {value}")


def _as_index(key: Any) -> Any:
    """State keys are ints; a checkpoint format with string keys ('0') still finds its param."""
    if isinstance(key, str) and key.isdigit():
        return int(key)
    return key


def _cast_state(param: Tensor, value: Any, key: Any = None, tensor_steps: bool = True) -> Any:
    """A deep copy of a state value with tensors on param's device and (if float) its dtype;
    a plain-number `step` becomes a float32 tensor where `tensor_steps`."""
    if isinstance(value, Tensor):
        if key == "step":
            return value.clone()
        target = param.dtype if param.is_floating_point() and value.is_floating_point() else None
        return value.to(device=param.device, dtype=target, copy=True).detach()
    if key == "step" and tensor_steps and isinstance(value, (int, float)):
        return tensor(float(value), dtype=dtypes.float32)
    if isinstance(value, dict):
        return {k: _cast_state(param, v, k, tensor_steps) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_state(param, v) for v in value)
    return value


def as_real(array: Array) -> Array:
    """A complex array as a view of its real and imaginary parts, shape (..., 2), as
    torch.view_as_real (writes go through to the complex array); a real array as it is. The
    adaptive optimizers update complex parameters and their state through it, so each part
    gets its own second moment, as in PyTorch."""
    if array.dtype.kind != "c":
        return array
    return array[..., None].view(array.real.dtype)


# An update's temporaries stay in the core's cache when it runs on this many bytes of each array
# at a time: Adam's step on 1.9M float32 takes 5.0 ms in 256 KiB blocks against 7.9 ms whole
# (each temporary of a whole-array expression goes out to memory and back).
_CACHE_BLOCK_BYTES = 256 * 1024


def update_in_blocks(p: Tensor, update: Callable[..., None], *arrays: Array) -> None:
    """update(*arrays) on p's arrays (the parameter, its gradient, its state), in blocks where
    every array is contiguous in host memory, so each block's slices are views: split over the
    intra-op threads (backend/parallel.py), and each thread's share in cache-sized pieces. An
    optimizer's update is elementwise, so the split changes no number; elsewhere it runs in
    one call."""
    backend = p._backend
    first = arrays[0]
    piece = max(1, _CACHE_BLOCK_BYTES // first.itemsize) if backend.host_memory else first.size
    small = first.size <= piece and not backend.splits(first.size)
    if small or not all(array.flags.c_contiguous for array in arrays):
        update(*arrays)
        return
    flat = [array.reshape(-1) for array in arrays]

    def block(start: int, stop: int) -> None:
        for low in range(start, stop, piece):
            high = min(low + piece, stop)
            update(*(array[low:high] for array in flat))

    backend.parallel_for(first.size, block)


def lerp_(start: Array, end: Array, weight: float) -> None:
    """start <- lerp(start, end, weight) in place, with PyTorch's two-sided formula.

    Small weights step from `start`, large ones from `end`, so weight 1 lands exactly on `end`;
    the weight is rounded to the arrays' dtype first, as PyTorch's kernel does.
    """
    w = start.dtype.type(weight)
    if abs(w) < 0.5:
        start += w * (end - start)
    else:
        start[...] = end - (end - start) * (1 - w)


def implementation_options(
    names: tuple[str, ...],
    foreach: bool | None = None,
    fused: bool | None = None,
    capturable: bool = False,
    differentiable: bool = False,
) -> dict[str, Any]:
    """PyTorch's implementation switches, as param-group options under their own names, for
    the switches `names` lists (those the PyTorch optimizer has), with PyTorch's defaults.

    chainrule has one implementation per optimizer, so `foreach` (one kernel over a list of
    tensors), `fused` (one fused kernel) and `capturable` (CUDA-graph capture) change nothing
    numerically: they are accepted, stored (so state dicts match PyTorch's) and otherwise
    ignored. `differentiable=True` (autograd through the step itself) is not implemented, and
    says so rather than silently stepping without a graph.
    """
    if foreach and fused:
        raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
    if differentiable:
        raise NotImplementedError(
            "differentiable=True (autograd through the optimizer step) is not supported by "
            "chainrule's optimizers"
        )
    given = {
        "foreach": foreach,
        "fused": fused,
        "capturable": capturable,
        "differentiable": differentiable,
    }
    return {name: given[name] for name in names}
