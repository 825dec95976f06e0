"""Run an unmodified PyTorch program on chainrule: `python -m chainrule.as_torch script.py [args]`.

`install()` makes `import torch` and PyTorch's submodules (`torch.nn`, `torch.nn.functional`,
`torch.optim`, `torch.utils.data`, `torch.func`, `torch.autograd`, ...) resolve to chainrule's,
also in a notebook. A `torch.*` module chainrule does not have raises ModuleNotFoundError naming
it, even where real PyTorch is installed too, so a program never mixes the two libraries.

    >>> import chainrule.as_torch
    >>> chainrule.as_torch.ALIASES["torch.nn.functional"]
    'chainrule.nn.functional'
"""

from __future__ import annotations

import importlib
import runpy
import sys
from importlib.abc import MetaPathFinder
from typing import Any

__all__ = ["ALIASES", "install", "main"]

# PyTorch's module names and the chainrule modules that stand for them.
ALIASES = {
    "torch": "chainrule",
    "torch.amp": "chainrule.amp",
    "torch.autograd": "chainrule.autograd",
    "torch.autograd.forward_ad": "chainrule.autograd.forward_ad",
    "torch.autograd.functional": "chainrule.autograd.functional",
    "torch.autograd.graph": "chainrule.autograd.graph",
    "torch.backends": "chainrule.backends",
    "torch.cpu": "chainrule.cpu",
    "torch.cpu.amp": "chainrule.amp.cpu",
    "torch.cuda": "chainrule.cuda",
    "torch.cuda.amp": "chainrule.amp.cuda",
    "torch.distributed": "chainrule.distributed",
    "torch.distributions": "chainrule.distributions",
    "torch.distributions.constraints": "chainrule.distributions.constraints",
    "torch.distributions.kl": "chainrule.distributions.kl",
    "torch.func": "chainrule.func",
    "torch.linalg": "chainrule.linalg",
    "torch.nn": "chainrule.nn",
    "torch.nn.functional": "chainrule.nn.functional",
    "torch.nn.init": "chainrule.nn.init",
    "torch.nn.parallel": "chainrule.nn.parallel",
    "torch.nn.parameter": "chainrule.nn.parameter",
    "torch.nn.utils": "chainrule.nn.utils",
    "torch.optim": "chainrule.optim",
    "torch.optim.lr_scheduler": "chainrule.optim.lr_scheduler",
    "torch.profiler": "chainrule.profiler",
    "torch.special": "chainrule.special",
    "torch.testing": "chainrule.testing",
    "torch.utils": "chainrule.utils",
    "torch.utils.checkpoint": "chainrule.utils.checkpoint",
    "torch.utils.data": "chainrule.data",
    "torch.utils.data.distributed": "chainrule.data.distributed",
}


class _NoOtherTorch(MetaPathFinder):
    """Refuses every `torch.*` module that is not one of the aliases (those are found in
    sys.modules before any finder is asked)."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError(
                f"chainrule.as_torch: {name} has no chainrule counterpart; the PyTorch "
                f"modules chainrule provides are {', '.join(sorted(ALIASES))}",
                name=name,
            )
        return None


def install() -> None:
    """Make `torch` and its submodules in ALIASES resolve to chainrule's, from now on."""
    loaded = sys.modules.get("torch")
    if loaded is not None and loaded.__name__ != "chainrule":
        raise ImportError(
            "chainrule.as_torch.install(): PyTorch itself is already imported in this process; "
            "install() must run before the first `import torch`"
        )
    for torch_name, ours in ALIASES.items():
        sys.modules[torch_name] = importlib.import_module(ours)
    if not any(isinstance(finder, _NoOtherTorch) for finder in sys.meta_path):
        sys.meta_path.insert(0, _NoOtherTorch())


def main(argv: list[str] | None = None) -> int:
    """`python -m chainrule.as_torch script.py [args]`: run the script as `__main__`, with
    `torch` resolving to chainrule and sys.argv as the script would see it."""
    args = sys.argv[1:] if argv is None else list(argv)
    if not args or args[0] in ("-h", "--help"):
        print("usage: python -m chainrule.as_torch script.py [args ...]", file=sys.stderr)
        return 0 if args else 2
    install()
    sys.argv = args
    runpy.run_path(args[0], run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
