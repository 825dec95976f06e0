"""chainrule: reverse-mode automatic differentiation on NumPy arrays, with PyTorch's API.

>>> import chainrule
>>> x = chainrule.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> y = (x * x).sum()
>>> y.backward()
>>> x.grad
tensor([2., 4., 6.])
"""

from chainrule import autograd, data, func, linalg, nn, optim, profiler, utils, viz
from chainrule._tensor import Tensor
from chainrule.autograd import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from chainrule.autograd import functional as _autograd_functional  # torch.autograd.functional
from chainrule.backend import device
from chainrule.backend.dtypes import (
    bool_ as bool,  # noqa: A004 - PyTorch's name
)
from chainrule.backend.dtypes import (
    double,
    dtype,
    float,  # noqa: A004
    float16,
    float32,
    float64,
    half,
    int,  # noqa: A004
    int8,
    int16,
    int32,
    int64,
    long,
    promote_types,
    short,
    uint8,
)
from chainrule.errors import (
    BackendError,
    ChainruleError,
    DTypeError,
    FileFormatError,
    GradError,
    LinAlgError,
    ShapeError,
    StateDictError,
)
from chainrule.ops.creation import (
    Generator,
    arange,
    as_tensor,
    asarray,
    bernoulli,
    default_generator,
    empty,
    empty_like,
    eye,
    from_dlpack,
    from_numpy,
    full,
    full_like,
    get_rng_state,
    initial_seed,
    linspace,
    logspace,
    manual_seed,
    multinomial,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    seed,
    set_rng_state,
    tensor,
    zeros,
    zeros_like,
)
from chainrule.ops.elementwise import *  # noqa: F403
from chainrule.ops.elementwise import abs, pow, result_type, round  # noqa: A004
from chainrule.ops.indexing import *  # noqa: F403
from chainrule.ops.linalg import *  # noqa: F403
from chainrule.ops.reduction import *  # noqa: F403
from chainrule.ops.reduction import all, any, max, min, sum  # noqa: A004
from chainrule.ops.shape import *  # noqa: F403
from chainrule.serialization import load, save

__version__ = "0.1.0"
