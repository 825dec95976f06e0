"""functional_call: call a module with some of its parameters and buffers replaced, as
torch.func.functional_call (torch.nn.utils.stateless), so that a loss can be differentiated as
a function of them.

The module is only used through its methods (named_modules, get_submodule, the _parameters and
_buffers tables), so this layer does not import chainrule.nn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chainrule._tensor import Tensor
from chainrule.autograd.grad_mode import no_grad
from chainrule.errors import GradError, StateDictError
from chainrule.func._inputs import as_tensor
from chainrule.ops.shape import stack

if TYPE_CHECKING:  # annotations only
    from collections.abc import Mapping, Sequence

    from chainrule.nn.modules.module import Module

__all__ = ["functional_call", "stack_module_state"]

_ABSENT = object()  # an attribute functional_call adds for the call and removes after


def _with_tied_names(module: Any, dicts: dict) -> dict:
    """Tied weights (one tensor under several names): a value given for one of the names
    replaces the tensor under all of them, as torch.func.functional_call(tie_weights=True)."""
    owners: dict[int, list[str]] = {}
    for prefix, submodule in module.named_modules(remove_duplicate=False):
        for table in (submodule._parameters, submodule._buffers):
            for attribute, tensor in table.items():
                if tensor is not None:
                    name = f"{prefix}.{attribute}" if prefix else attribute
                    owners.setdefault(id(tensor), []).append(name)
    result = dict(dicts)
    for names in owners.values():
        given = [name for name in names if name in dicts]
        if given:
            for name in names:
                result.setdefault(name, dicts[given[0]])
    return result


def functional_call(
    module: Module,
    parameter_and_buffer_dicts: Mapping[str, Tensor] | Sequence[Mapping[str, Tensor]],
    args: Any = None,
    kwargs: dict | None = None,
    *,
    tie_weights: bool = True,
    strict: bool = False,
) -> Any:
    """Call `module` with its parameters and buffers replaced by the given tensors, so a loss
    can be differentiated as a function of them (torch.func.functional_call). The module's
    own tensors are put back afterwards, even when the call raises.

    Args:
        module (Module): the module to call.
        parameter_and_buffer_dicts (dict or sequence of dicts): tensors by qualified name
            (`"0.weight"`), as `named_parameters()` / `named_buffers()` name them; names left
            out keep the module's tensor. Any other name is set as a plain attribute for the
            call (a tensor attribute is replaced, a non-tensor one a TypeError), as PyTorch's.
            A name in two dicts is a ValueError.
        args (Any): the positional argument(s) of the call; a non-tuple is one argument.
        kwargs (dict, optional): its keyword arguments.
        tie_weights (bool): a tensor registered under several names (tied weights) is
            replaced under all of them when one is given.
        strict (bool): the dicts must name every parameter and buffer and nothing else
            (a KeyError otherwise).

    Returns:
        Any: what `module(*args, **kwargs)` returns.

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> from chainrule.func import functional_call
        >>> model = nn.Linear(2, 1)
        >>> params = {"weight": chainrule.ones(1, 2), "bias": chainrule.zeros(1)}
        >>> functional_call(model, params, (chainrule.tensor([[1.0, 2.0]]),))
        tensor([[3.]])
    """
    dicts = parameter_and_buffer_dicts
    if isinstance(dicts, (tuple, list)):
        merged: dict = {}
        for item in dicts:
            repeated = set(merged) & set(item)
            if repeated:
                raise ValueError(
                    f"functional_call: {sorted(repeated)} appeared in multiple dictionaries"
                )
            merged.update(item)
        dicts = merged
    if strict:
        expected = set(dict(module.named_parameters())) | set(dict(module.named_buffers()))
        missing, unexpected = expected - set(dicts), set(dicts) - expected
        if missing or unexpected:  # PyTorch's RuntimeError, worded as load_state_dict's
            lines = [f"Error(s) in reparametrizing for {type(module).__name__}:"]
            for label, names in (("Unexpected", unexpected), ("Missing", missing)):
                if names:
                    lines.append(f"\t{label} key(s): {', '.join(repr(n) for n in sorted(names))}.")
            raise StateDictError("\n".join(lines))
    if tie_weights:
        dicts = _with_tied_names(module, dicts)
    saved: list = []  # (table or None, owner, attribute, original), undone in reverse
    try:
        for name, value in dicts.items():
            owner_path, _, attribute = name.rpartition(".")
            owner = module.get_submodule(owner_path) if owner_path else module
            table = owner._parameters if attribute in owner._parameters else owner._buffers
            if attribute in table:
                saved.append((table, owner, attribute, table[attribute]))
                table[attribute] = as_tensor(value)
                continue
            # Any other name is a plain attribute for the call, as in PyTorch: a new one is
            # removed afterwards, a tensor attribute put back, and a non-tensor one refused.
            original = owner.__dict__.get(attribute, _ABSENT)
            if original is not _ABSENT and not isinstance(original, Tensor):
                raise TypeError(
                    f"attribute `{attribute}`: {original} is not an instance of torch.Tensor"
                )
            saved.append((None, owner, attribute, original))
            setattr(owner, attribute, as_tensor(value))
        positional = () if args is None else args if isinstance(args, tuple) else (args,)
        return module(*positional, **(kwargs or {}))
    finally:
        for table, owner, attribute, original in reversed(saved):
            if table is not None:
                table[attribute] = original
            elif original is _ABSENT:
                delattr(owner, attribute)
            else:
                setattr(owner, attribute, original)


def stack_module_state(models: Sequence[Module]) -> tuple[dict, dict]:
    """torch.func.stack_module_state: the parameters and buffers of `models` (same structure)
    stacked along a new first dimension, for `vmap` over an ensemble with `functional_call`.
    The stacked parameters are new leaves that require grad as the originals do (which must
    agree); the buffers never require grad.

    Args:
        models (sequence of Module): at least one, all with the same parameter and buffer
            names and shapes.

    Returns:
        tuple: `(params, buffers)`, two dicts from qualified name to the stacked Tensor.

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> from chainrule.func import stack_module_state
        >>> params, buffers = stack_module_state([nn.Linear(3, 2) for _ in range(4)])
        >>> tuple(params["weight"].shape), params["weight"].is_leaf
        ((4, 2, 3), True)
    """
    models = list(models)
    if not models:
        raise GradError("stack_module_state: Expected at least one model, got 0.")
    params = {}
    for name, first in models[0].named_parameters():
        tensors = [dict(model.named_parameters())[name] for model in models]
        if any(t.requires_grad != first.requires_grad for t in tensors):
            raise GradError(f"Expected {name} from each model to have the same .requires_grad")
        with no_grad():
            stacked = stack([t.detach() for t in tensors])
        params[name] = stacked.requires_grad_(first.requires_grad)
    buffers = {}
    for name, _ in models[0].named_buffers():
        with no_grad():
            buffers[name] = stack([dict(model.named_buffers())[name].detach() for model in models])
    return params, buffers


def replace_all_batch_norm_modules_(root: Module) -> Module:
    """torch.func.replace_all_batch_norm_modules_: every batch norm layer in `root` stops
    tracking running statistics (its running_mean, running_var and num_batches_tracked become
    None), in place, so that `vmap` over it needs no per-example buffers. Returns `root`.

    Batch norm layers say so by the class flag `tracks_batch_statistics` (nn's _BatchNorm sets
    it): this layer sits below nn and does not import it.

    Args:
        root (Module): the model.

    Returns:
        Module: `root`.

    Example:
        >>> from chainrule import nn
        >>> from chainrule.func import replace_all_batch_norm_modules_
        >>> model = replace_all_batch_norm_modules_(nn.Sequential(nn.BatchNorm1d(3)))
        >>> model[0].running_mean is None, model[0].track_running_stats
        (True, False)
    """
    for module in root.modules():
        if getattr(type(module), "tracks_batch_statistics", False) and module.track_running_stats:
            module.running_mean = None
            module.running_var = None
            module.num_batches_tracked = None
            module.track_running_stats = False
    return root
