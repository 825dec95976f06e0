"""Neural-network building blocks with PyTorch's API: `Module`, `Parameter`, the layers,
`functional`, `init` and `utils`.

>>> import chainrule
>>> from chainrule import nn
>>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
>>> sum(p.numel() for p in model.parameters())
58
>>> model(chainrule.randn(3, 4)).shape
chainrule.Size([3, 2])
"""

from chainrule.nn import (
    attention,
    functional,  # before the layers: they call it
    grad,
    init,
    parallel,
    utils,
)
from chainrule.nn.modules import *  # noqa: F403
from chainrule.nn.modules import __all__ as _modules_all
from chainrule.nn.parallel import DataParallel
from chainrule.nn.parameter import Buffer, Parameter

__all__ = [
    "Buffer",
    "DataParallel",
    "Parameter",
    "attention",
    "functional",
    "grad",
    "init",
    "parallel",
    "utils",
    *_modules_all,
]
