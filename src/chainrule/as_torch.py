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

import builtins
import importlib
import os
import sys
import types
from importlib.abc import MetaPathFinder
from typing import Any

from chainrule import version
from chainrule.backend.dtypes import set_display_namespace
from chainrule.version import TorchVersion

__all__ = ["ALIASES", "install", "main", "run_script"]

# PyTorch's module names and the chainrule modules that stand for them.
ALIASES = {
    "torch": "chainrule",
    "torch._C": "chainrule._C",
    "torch.accelerator": "chainrule.accelerator",
    "torch.amp": "chainrule.amp",
    "torch.autograd": "chainrule.autograd",
    "torch.autograd.anomaly_mode": "chainrule.autograd.anomaly",
    "torch.autograd.forward_ad": "chainrule.autograd.forward_ad",
    "torch.autograd.functional": "chainrule.autograd.functional",
    "torch.autograd.gradcheck": "chainrule.autograd.gradcheck",
    "torch.autograd.function": "chainrule.autograd.function",
    "torch.autograd.grad_mode": "chainrule.autograd.grad_mode",
    "torch.autograd.graph": "chainrule.autograd.graph",
    "torch.autograd.profiler": "chainrule.profiler.legacy",
    "torch.autograd.variable": "chainrule.autograd.variable",
    "torch.backends": "chainrule.backends",
    "torch.backends.cuda": "chainrule.backends.cuda",
    "torch.backends.cudnn": "chainrule.backends.cudnn",
    "torch.backends.mkldnn": "chainrule.backends.mkldnn",
    "torch.backends.mps": "chainrule.backends.mps",
    "torch.backends.openmp": "chainrule.backends.openmp",
    "torch.compiler": "chainrule.compiler",
    "torch.cpu": "chainrule.cpu",
    "torch.cpu.amp": "chainrule.amp.cpu",
    "torch.cuda": "chainrule.cuda",
    "torch.cuda.amp": "chainrule.amp.cuda",
    "torch.hub": "chainrule.hub",
    "torch.library": "chainrule.library",
    "torch.distributed": "chainrule.distributed",
    "torch.distributed.algorithms": "chainrule.distributed.algorithms",
    "torch.distributed.algorithms.ddp_comm_hooks": (
        "chainrule.distributed.algorithms.ddp_comm_hooks"
    ),
    "torch.distributed.algorithms.ddp_comm_hooks.debugging_hooks": (
        "chainrule.distributed.algorithms.ddp_comm_hooks.debugging_hooks"
    ),
    "torch.distributed.algorithms.ddp_comm_hooks.default_hooks": (
        "chainrule.distributed.algorithms.ddp_comm_hooks.default_hooks"
    ),
    "torch.distributed.algorithms.ddp_comm_hooks.powerSGD_hook": (
        "chainrule.distributed.algorithms.ddp_comm_hooks.powerSGD_hook"
    ),
    "torch.distributions": "chainrule.distributions",
    "torch.distributions.constraint_registry": "chainrule.distributions.constraint_registry",
    "torch.distributions.constraints": "chainrule.distributions.constraints",
    "torch.distributions.kl": "chainrule.distributions.kl",
    "torch.distributions.transforms": "chainrule.distributions.transforms",
    "torch.distributions.utils": "chainrule.distributions.utils",
    # PyTorch's one module per family; chainrule groups the families by kind.
    **{
        f"torch.distributions.{family}": f"chainrule.distributions.{ours}"
        for ours, families in {
            "continuous": (
                "cauchy exponential gumbel half_normal laplace log_normal normal uniform"
            ),
            "counts": "binomial geometric multinomial negative_binomial",
            "derived": "chi2 fishersnedecor pareto studentT weibull",
            "discrete": "bernoulli categorical one_hot_categorical poisson",
            "distribution": "distribution",
            "exp_family": "exp_family",
            "gamma": "beta dirichlet gamma",
            "independent": "independent",
            "inverse_cdf": "continuous_bernoulli generalized_pareto",
            "low_rank": "lowrank_multivariate_normal",
            "matrix": "lkj_cholesky wishart",
            "mixture": "mixture_same_family",
            "multivariate_normal": "multivariate_normal",
            "relaxed": "relaxed_bernoulli relaxed_categorical",
            "transformed": "transformed_distribution",
            "transformed_families": "half_cauchy inverse_gamma kumaraswamy logistic_normal",
            "von_mises": "von_mises",
        }.items()
        for family in families.split()
    },
    "torch.fft": "chainrule.fft",
    "torch.functional": "chainrule.functional",
    "torch.func": "chainrule.func",
    "torch.futures": "chainrule.futures",
    "torch.jit": "chainrule.jit",
    "torch.linalg": "chainrule.linalg",
    "torch.multiprocessing": "chainrule.multiprocessing",
    "torch.return_types": "chainrule.return_types",
    "torch.nn": "chainrule.nn",
    "torch.nn.attention": "chainrule.nn.attention",
    "torch.nn.attention.bias": "chainrule.nn.attention.bias",
    "torch.nn.common_types": "chainrule.nn.common_types",
    "torch.nn.functional": "chainrule.nn.functional",
    "torch.nn.grad": "chainrule.nn.grad",
    "torch.nn.init": "chainrule.nn.init",
    "torch.nn.modules": "chainrule.nn.modules",
    "torch.nn.modules.activation": "chainrule.nn.modules.activation",
    "torch.nn.modules.adaptive": "chainrule.nn.modules.adaptive",
    "torch.nn.modules.batchnorm": "chainrule.nn.modules.batchnorm",
    "torch.nn.modules.channelshuffle": "chainrule.nn.modules.pixelshuffle",
    "torch.nn.modules.container": "chainrule.nn.modules.containers",
    "torch.nn.modules.conv": "chainrule.nn.modules.conv",
    "torch.nn.modules.distance": "chainrule.nn.modules.distance",
    "torch.nn.modules.dropout": "chainrule.nn.modules.dropout",
    "torch.nn.modules.flatten": "chainrule.nn.modules.flatten",
    "torch.nn.modules.fold": "chainrule.nn.modules.fold",
    "torch.nn.modules.instancenorm": "chainrule.nn.modules.instancenorm",
    "torch.nn.modules.lazy": "chainrule.nn.modules.lazy",
    "torch.nn.modules.linear": "chainrule.nn.modules.linear",
    "torch.nn.modules.loss": "chainrule.nn.modules.loss",
    "torch.nn.modules.module": "chainrule.nn.modules.module",
    "torch.nn.modules.normalization": "chainrule.nn.modules.normalization",
    "torch.nn.modules.padding": "chainrule.nn.modules.padding",
    "torch.nn.modules.pixelshuffle": "chainrule.nn.modules.pixelshuffle",
    "torch.nn.modules.pooling": "chainrule.nn.modules.pooling",
    "torch.nn.modules.rnn": "chainrule.nn.modules.rnn",
    "torch.nn.modules.sparse": "chainrule.nn.modules.sparse",
    "torch.nn.modules.transformer": "chainrule.nn.modules.transformer",
    "torch.nn.modules.upsampling": "chainrule.nn.modules.upsampling",
    "torch.nn.modules.utils": "chainrule.nn.modules.utils",
    "torch.nn.parallel": "chainrule.nn.parallel",
    "torch.nn.parameter": "chainrule.nn.parameter",
    "torch.nn.utils": "chainrule.nn.utils",
    "torch.nn.utils.clip_grad": "chainrule.nn.utils.clip_grad",
    "torch.nn.utils.convert_parameters": "chainrule.nn.utils.convert_parameters",
    "torch.nn.utils.fusion": "chainrule.nn.utils.fusion",
    "torch.nn.utils.init": "chainrule.nn.utils.init",
    "torch.nn.utils.parametrizations": "chainrule.nn.utils.parametrizations",
    "torch.nn.utils.parametrize": "chainrule.nn.utils.parametrize",
    "torch.nn.utils.prune": "chainrule.nn.utils.prune",
    "torch.nn.utils.rnn": "chainrule.nn.utils.rnn",
    "torch.nn.utils.spectral_norm": "chainrule.nn.utils.weight_norm",
    "torch.nn.utils.stateless": "chainrule.nn.utils.stateless",
    "torch.nn.utils.weight_norm": "chainrule.nn.utils.weight_norm",
    "torch.optim": "chainrule.optim",
    "torch.optim.adadelta": "chainrule.optim.adadelta",
    "torch.optim.adagrad": "chainrule.optim.adagrad",
    "torch.optim.adam": "chainrule.optim.adam",
    "torch.optim.adamax": "chainrule.optim.adamax",
    "torch.optim.adamw": "chainrule.optim.adam",
    "torch.optim.asgd": "chainrule.optim.asgd",
    "torch.optim.lbfgs": "chainrule.optim.lbfgs",
    "torch.optim.lr_scheduler": "chainrule.optim.lr_scheduler",
    "torch.optim.swa_utils": "chainrule.optim.swa_utils",
    "torch.optim.nadam": "chainrule.optim.nadam",
    "torch.optim.optimizer": "chainrule.optim.optimizer",
    "torch.optim.radam": "chainrule.optim.radam",
    "torch.optim.rmsprop": "chainrule.optim.rmsprop",
    "torch.optim.rprop": "chainrule.optim.rprop",
    "torch.optim.sgd": "chainrule.optim.sgd",
    "torch.profiler": "chainrule.profiler",
    "torch.quasirandom": "chainrule.quasirandom",
    "torch.random": "chainrule.random",
    "torch.serialization": "chainrule.serialization",
    "torch.signal": "chainrule.signal",
    "torch.signal.windows": "chainrule.signal.windows",
    "torch.sparse": "chainrule.sparse",
    "torch.special": "chainrule.special",
    "torch.testing": "chainrule.testing",
    "torch.types": "chainrule.types",
    "torch.utils": "chainrule.utils",
    "torch.utils._pytree": "chainrule.utils._pytree",
    "torch.utils.benchmark": "chainrule.utils.benchmark",
    "torch.utils.checkpoint": "chainrule.utils.checkpoint",
    "torch.utils.data": "chainrule.data",
    "torch.utils.data._utils": "chainrule.data._utils",
    "torch.utils.data._utils.collate": "chainrule.data.collate",
    "torch.utils.data.dataloader": "chainrule.data.dataloader",
    "torch.utils.data.dataset": "chainrule.data.dataset",
    "torch.utils.data.distributed": "chainrule.data.distributed",
    "torch.utils.data.sampler": "chainrule.data.sampler",
    "torch.utils.dlpack": "chainrule.utils.dlpack",
    "torch.utils.hooks": "chainrule.utils.hooks",
    "torch.utils.model_zoo": "chainrule.utils.model_zoo",
    "torch.utils.tensorboard": "chainrule.utils.tensorboard",
    "torch.utils.tensorboard.summary": "chainrule.utils.tensorboard.summary",
    "torch.utils.tensorboard.writer": "chainrule.utils.tensorboard.writer",
    "torch.storage": "chainrule.storage",
    "torch.version": "chainrule.version",
    "torch.xpu": "chainrule.xpu",
}


# The script main() runs, for the spawned children that must run it again.
_SCRIPT = "CHAINRULE_AS_TORCH_SCRIPT"


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
    for torch_name in ALIASES:  # `torch.autograd.profiler` as an attribute, as after import
        parent, _, child = torch_name.rpartition(".")
        if parent and not hasattr(sys.modules[parent], child):
            setattr(sys.modules[parent], child, sys.modules[torch_name])
    set_display_namespace("torch")  # x.dtype prints torch.float32, x.shape torch.Size([...])
    # A program that checks the version takes the branch for the PyTorch chainrule follows.
    mirrored = TorchVersion(f"{version.MIRRORED_TORCH}+chainrule.{version.__version__}")
    sys.modules["torch"].__version__ = sys.modules["torch.version"].__version__ = mirrored
    if not any(isinstance(finder, _NoOtherTorch) for finder in sys.meta_path):
        sys.meta_path.insert(0, _NoOtherTorch())


def run_script(path: str, run_name: str = "__main__") -> dict[str, Any]:
    """Run the Python file at `path` as module `run_name`, as `python path` would (its folder
    first on sys.path); returns its globals.

    The module's `__spec__` names chainrule.as_torch, as for `python -m chainrule.as_torch`
    itself, so a child process started by spawn or forkserver (a DataLoader worker on macOS,
    Windows or Python 3.14's Linux) re-enters through this module, which installs the aliases
    before it runs the script again as `__mp_main__`: the child's `import torch` is chainrule
    too, and the script's classes unpickle there."""
    path = os.path.abspath(path)
    with open(path, "rb") as source:
        code = compile(source.read(), path, "exec")
    sys.path[0] = os.path.dirname(path)
    module = types.ModuleType(run_name)
    module.__file__ = path
    module.__spec__ = __spec__  # chainrule.as_torch's, however this module was run
    module.__loader__ = None
    module.__builtins__ = builtins
    previous = sys.modules.get(run_name)
    sys.modules[run_name] = module
    try:
        exec(code, module.__dict__)
    finally:
        if previous is not None and run_name == "__main__":
            sys.modules[run_name] = previous
    return module.__dict__


def main(argv: list[str] | None = None) -> int:
    """`python -m chainrule.as_torch script.py [args]`: run the script as `__main__`, with
    `torch` resolving to chainrule and sys.argv as the script would see it."""
    args = sys.argv[1:] if argv is None else list(argv)
    if not args or args[0] in ("-h", "--help"):
        print("usage: python -m chainrule.as_torch script.py [args ...]", file=sys.stderr)
        return 0 if args else 2
    install()
    sys.argv = args
    os.environ[_SCRIPT] = os.path.abspath(args[0])  # for spawned children: see run_script
    run_script(args[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
elif __name__ == "__mp_main__":
    # A spawn or forkserver child of a program run by main(): multiprocessing runs this module
    # as the child's main module (see run_script). sys.argv[0] is this file meanwhile, so the
    # script's path comes from the environment main() set.
    install()
    globals().update(run_script(os.environ[_SCRIPT], "__mp_main__"))
