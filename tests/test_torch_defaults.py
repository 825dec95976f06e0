"""Every public function and class that chainrule shares with torch takes torch's default for
each parameter both have (issue 17: mutants that changed a default survived, since tests pass
their arguments). Compared by reading both signatures, for torch, torch.nn.functional,
torch.nn, torch.nn.init, torch.nn.utils, torch.optim, torch.optim.lr_scheduler, torch.utils.data,
torch.autograd and torch.func."""

from __future__ import annotations

import inspect
import math

import pytest
import torch
import torch.autograd.forward_ad
import torch.autograd.functional
import torch.func
import torch.nn.utils.parametrize
import torch.utils.data.distributed

import chainrule
import chainrule.autograd.forward_ad
import chainrule.autograd.functional
import chainrule.nn.utils.parametrize

NAMESPACES = {
    "torch": (chainrule, torch),
    "torch.nn.functional": (chainrule.nn.functional, torch.nn.functional),
    "torch.nn": (chainrule.nn, torch.nn),
    "torch.nn.init": (chainrule.nn.init, torch.nn.init),
    "torch.nn.utils": (chainrule.nn.utils, torch.nn.utils),
    "torch.nn.utils.parametrize": (chainrule.nn.utils.parametrize, torch.nn.utils.parametrize),
    "torch.optim": (chainrule.optim, torch.optim),
    "torch.optim.lr_scheduler": (chainrule.optim.lr_scheduler, torch.optim.lr_scheduler),
    "torch.autograd": (chainrule.autograd, torch.autograd),
    "torch.autograd.forward_ad": (chainrule.autograd.forward_ad, torch.autograd.forward_ad),
    "torch.autograd.functional": (chainrule.autograd.functional, torch.autograd.functional),
    "torch.func": (chainrule.func, torch.func),
    "torch.utils.data": (chainrule.data, torch.utils.data),
    "torch.utils.data.distributed": (chainrule.data.distributed, torch.utils.data.distributed),
}

# Defaults that differ on purpose: (namespace, name, parameter) -> why.
DIFFERENT = {
    ("torch", "compile", "backend"): "chainrule has its own compiler, not torch's inductor",
    ("torch", "load", "weights_only"): (
        "chainrule's files hold no pickles: True says what load does (torch's None means its "
        "own default, True since 2.6)"
    ),
    ("torch.utils.data", "random_split", "generator"): "each library's own default generator",
}


def _defaults(function):
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):  # a builtin without a signature
        return {}
    return {
        name: parameter.default
        for name, parameter in signature.parameters.items()
        if parameter.default is not inspect.Parameter.empty
    }


def _same(ours, theirs):
    if callable(ours) and callable(theirs):  # activation=F.relu: the same function by name
        return ours.__name__ == theirs.__name__
    if isinstance(ours, float) and isinstance(theirs, float) and math.isnan(ours):
        return math.isnan(theirs)
    return type(ours) is type(theirs) and ours == theirs


def _shared():
    for namespace, (ours, theirs) in NAMESPACES.items():
        for name in sorted(dir(ours)):
            mine, torchs = getattr(ours, name), getattr(theirs, name, None)
            if name.startswith("_") or not callable(mine) or not callable(torchs):
                continue
            if inspect.isclass(mine) != inspect.isclass(torchs):
                continue
            if inspect.isclass(mine):
                mine, torchs = mine.__init__, torchs.__init__
            yield namespace, name, mine, torchs


SHARED = list(_shared())


@pytest.mark.parametrize(
    "namespace, name, ours, theirs", SHARED, ids=[f"{n}.{name}" for n, name, *_ in SHARED]
)
def test_defaults_are_torchs(namespace, name, ours, theirs):
    mine, torchs = _defaults(ours), _defaults(theirs)
    for parameter in sorted(mine.keys() & torchs.keys()):
        if (namespace, name, parameter) in DIFFERENT:
            continue
        assert _same(mine[parameter], torchs[parameter]), (
            f"{namespace}.{name}({parameter}=...): chainrule's default is "
            f"{mine[parameter]!r}, torch's {torchs[parameter]!r}"
        )


def test_enough_of_the_api_is_compared():
    assert len(SHARED) > 200


def test_load_takes_weights_only_by_default():
    """chainrule.load never unpickles code: weights_only=True by default says so."""
    assert inspect.signature(chainrule.load).parameters["weights_only"].default is True


def test_the_deliberate_differences_still_differ():
    for (namespace, name, parameter), _reason in DIFFERENT.items():
        ours, theirs = NAMESPACES[namespace]
        assert not _same(
            _defaults(getattr(ours, name))[parameter], _defaults(getattr(theirs, name))[parameter]
        )
