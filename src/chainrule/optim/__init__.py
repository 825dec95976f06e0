"""Optimizers and learning-rate schedules with `torch.optim`'s names, options and state dicts."""

import importlib as _importlib

from chainrule.optim import lr_scheduler
from chainrule.optim.adadelta import Adadelta
from chainrule.optim.adafactor import Adafactor
from chainrule.optim.adagrad import Adagrad
from chainrule.optim.adam import Adam, AdamW
from chainrule.optim.adamax import Adamax
from chainrule.optim.asgd import ASGD
from chainrule.optim.lbfgs import LBFGS
from chainrule.optim.muon import Muon
from chainrule.optim.nadam import NAdam
from chainrule.optim.optimizer import Optimizer
from chainrule.optim.radam import RAdam
from chainrule.optim.rmsprop import RMSprop
from chainrule.optim.rprop import Rprop
from chainrule.optim.sgd import SGD
from chainrule.optim.sparse_adam import SparseAdam

__all__ = [
    "SGD",
    "SparseAdam",
    "LBFGS",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Optimizer",
    "RMSprop",
    "lr_scheduler",
    "ASGD",
    "Adamax",
    "NAdam",
    "RAdam",
    "Rprop",
    "Adafactor",
    "Muon",
    "swa_utils",
]


def __getattr__(name: str) -> object:
    """`chainrule.optim.swa_utils` loads on first use, as the package root loads nn and optim:
    it sits above nn (its averaged models are Modules), which this package never imports."""
    if name == "swa_utils":
        return _importlib.import_module("chainrule.optim.swa_utils")  # also binds it here
    raise AttributeError(f"module 'chainrule.optim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | {"swa_utils"})
