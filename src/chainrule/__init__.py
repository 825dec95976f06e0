"""chainrule: reverse-mode automatic differentiation on NumPy arrays, with PyTorch's API.

>>> import chainrule
>>> x = chainrule.tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> y = (x * x).sum()
>>> y.backward()
>>> x.grad
tensor([2., 4., 6.])
"""

import importlib as _importlib
from math import e, inf, nan, pi
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

from chainrule import autograd
from chainrule._tensor import (
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
    Size,
    Tensor,
    _assert,
    is_tensor,
    set_default_tensor_type,
    typename,
)
from chainrule.autograd import (
    enable_grad,
    inference_mode,
    is_anomaly_check_nan_enabled,
    is_anomaly_enabled,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from chainrule.autograd.anomaly import set_anomaly_enabled
from chainrule.backend import device, get_default_device, set_default_device
from chainrule.backend.dtypes import (
    bfloat16,
    can_cast,
    cdouble,
    cfloat,
    complex64,
    complex128,
    double,
    dtype,
    finfo,
    float,  # noqa: A004
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    iinfo,
    int,  # noqa: A004
    int8,
    int16,
    int32,
    int64,
    long,
    promote_types,
    set_default_dtype,
    short,
    uint8,
)
from chainrule.backend.dtypes import (
    bool_ as bool,  # noqa: A004 - PyTorch's name
)
from chainrule.backend.formats import (
    channels_last,
    channels_last_3d,
    contiguous_format,
    layout,
    legacy_contiguous_format,
    memory_format,
    preserve_format,
    strided,
)
from chainrule.backend.printing import set_printoptions
from chainrule.backend.runtime import (
    are_deterministic_algorithms_enabled,
    get_deterministic_debug_mode,
    get_float32_matmul_precision,
    get_num_interop_threads,
    get_num_threads,
    init_num_threads,
    is_deterministic_algorithms_warn_only_enabled,
    is_warn_always_enabled,
    set_deterministic_debug_mode,
    set_float32_matmul_precision,
    set_flush_denormal,
    set_num_interop_threads,
    set_num_threads,
    set_warn_always,
    use_deterministic_algorithms,
)
from chainrule.errors import (
    AcceleratorError,
    BackendError,
    ChainruleError,
    DTypeError,
    FileFormatError,
    GradError,
    LinAlgError,
    OutOfMemoryError,
    ShapeError,
    StateDictError,
)
from chainrule.ops.activation import *  # noqa: F403
from chainrule.ops.autocast import (
    autocast,
    autocast_decrement_nesting,
    autocast_increment_nesting,
    clear_autocast_cache,
    get_autocast_cpu_dtype,
    get_autocast_dtype,
    get_autocast_gpu_dtype,
    is_autocast_cache_enabled,
    is_autocast_cpu_enabled,
    is_autocast_enabled,
    set_autocast_cache_enabled,
    set_autocast_cpu_dtype,
    set_autocast_cpu_enabled,
    set_autocast_dtype,
    set_autocast_enabled,
    set_autocast_gpu_dtype,
)
from chainrule.ops.complex import *  # noqa: F403
from chainrule.ops.complex import complex  # noqa: A004 - PyTorch's name
from chainrule.ops.composites import (
    adjoint,
    as_strided_scatter,
    combinations,
    corrcoef,
    cov,
    cumulative_trapezoid,
    detach,
    diagonal_scatter,
    fill,
    gradient,
    index_copy,
    index_fill,
    masked_scatter,
    put,
    renorm,
    segment_reduce,
    select_scatter,
    slice_scatter,
    split_with_sizes,
    unravel_index,
    unsafe_chunk,
    unsafe_split,
    unsafe_split_with_sizes,
)
from chainrule.ops.creation import (
    Generator,
    arange,
    as_tensor,
    asarray,
    bartlett_window,
    bernoulli,
    binomial,
    blackman_window,
    default_generator,
    empty,
    empty_like,
    empty_permuted,
    eye,
    from_dlpack,
    from_numpy,
    frombuffer,
    full,
    full_like,
    get_rng_state,
    hamming_window,
    hann_window,
    initial_seed,
    kaiser_window,
    linspace,
    logspace,
    manual_seed,
    multinomial,
    normal,
    ones,
    ones_like,
    poisson,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    range,  # noqa: A004 - PyTorch's (deprecated) name
    scalar_tensor,
    seed,
    set_rng_state,
    tensor,
    tril_indices,
    triu_indices,
    zeros,
    zeros_like,
)
from chainrule.ops.decompositions import det
from chainrule.ops.elementwise import *  # noqa: F403
from chainrule.ops.elementwise import abs, pow, result_type, round  # noqa: A004
from chainrule.ops.foreach import *  # noqa: F403 - torch._foreach_add and the rest (private names)
from chainrule.ops.indexing import *  # noqa: F403
from chainrule.ops.inplace import *  # noqa: F403 - torch.exp_(x) and the other in-place forms
from chainrule.ops.linalg import *  # noqa: F403
from chainrule.ops.linalg_extra import *  # noqa: F403 - torch.cholesky, torch.lu, torch.svd, ...
from chainrule.ops.quantization import *  # noqa: F403 - torch.fake_quantize_per_*_affine
from chainrule.ops.reduction import *  # noqa: F403
from chainrule.ops.reduction import all, any, max, min, sum  # noqa: A004
from chainrule.ops.shape import *  # noqa: F403
from chainrule.ops.sparse import (
    sparse_coo,
    sparse_coo_tensor,
    sparse_csc,
    sparse_csc_tensor,
    sparse_csr,
    sparse_csr_tensor,
    spmm,
)
from chainrule.ops.special import digamma, erfinv, i0, lgamma, mvlgamma, polygamma
from chainrule.ops.special import gammainc as igamma
from chainrule.ops.special import gammaincc as igammac
from chainrule.ops.spectral import istft, stft
from chainrule.ops.strided import TypedStorage, UntypedStorage, as_strided, empty_strided
from chainrule.ops.tensor_methods import TensorMethods as _TensorMethods  # Tensor's methods
from chainrule.ops.view_copies import *  # noqa: F403 - torch.view_copy and the other *_copy

__version__ = "0.1.0"

# Last, over the names above: the functions whose definitions lack PyTorch's `out=`, with it.
from chainrule.ops.out_arguments import *  # noqa: E402, F403

# And over those, the ones with a sparse form: chainrule.mul(sparse, 2), chainrule.cat([s, t]).
from chainrule.ops.sparse_forms import *  # noqa: E402, F403

newaxis = None  # PyTorch's (and NumPy's) name for None in an index: x[:, chainrule.newaxis]

# The outer layers load on first use (PEP 562), so `import chainrule` costs little more than
# NumPy: `chainrule.nn`, `from chainrule import optim` and `import chainrule.data` all work.
_LAZY_MODULES = frozenset(
    (
        "data",
        "distributions",
        "fft",
        "func",
        "hub",
        "jit",
        "library",
        "linalg",
        "nn",
        "optim",
        "profiler",
        "return_types",
        "serialization",
        "sparse",
        "special",
        "utils",
        "viz",
    )
)
_LAZY_NAMES = {"load": "chainrule.serialization", "save": "chainrule.serialization"}
_LAZY_NAMES["compile"] = "chainrule.compiler"  # PyTorch's name: capture and replay
_LAZY_NAMES["vmap"] = "chainrule.func"  # torch.vmap is torch.func.vmap
_LAZY_NAMES["cond"] = _LAZY_NAMES["while_loop"] = "chainrule.func.control_flow"  # torch.cond
_LAZY_NAMES["GradScaler"] = "chainrule.amp"  # torch.GradScaler is torch.amp.GradScaler
# torch.lstm_cell and the other functional cells (ops/recurrent.py, which nn loads anyway).
_LAZY_NAMES.update(
    dict.fromkeys(
        ("gru_cell", "lstm_cell", "rnn_relu_cell", "rnn_tanh_cell"), "chainrule.ops.recurrent"
    )
)
# PyTorch's top-level aliases of torch.nn.functional functions (which live in a higher layer).
_LAZY_NAMES.update(
    dict.fromkeys(
        (
            "celu",
            "cosine_similarity",
            "hardshrink",
            "pairwise_distance",
            "selu",
            "threshold",
        ),
        "chainrule.nn.functional",
    )
)
# More of them, with F's own signature at PyTorch's top level (torch.conv2d is F.conv2d).
_LAZY_NAMES.update(
    dict.fromkeys(
        (
            "adaptive_avg_pool1d",
            "avg_pool1d",
            "bilinear",
            "celu_",
            "channel_shuffle",
            "conv1d",
            "conv2d",
            "conv3d",
            "conv_transpose1d",
            "conv_transpose2d",
            "conv_transpose3d",
            "max_pool1d",
            "max_pool1d_with_indices",
            "max_pool2d",
            "max_pool3d",
            "pdist",
            "pixel_shuffle",
            "pixel_unshuffle",
            "prelu",
            "rms_norm",
            "rrelu_",
            "selu_",
            "threshold_",
        ),
        "chainrule.nn.functional",
    )
)
# And those whose top-level signature differs from F's (chainrule/nn_forms.py reads it).
_LAZY_NAMES.update(
    dict.fromkeys(
        (
            "adaptive_max_pool1d",
            "alpha_dropout",
            "alpha_dropout_",
            "batch_norm",
            "binary_cross_entropy_with_logits",
            "constant_pad_nd",
            "convolution",
            "cosine_embedding_loss",
            "ctc_loss",
            "dropout",
            "dropout_",
            "embedding",
            "feature_alpha_dropout",
            "feature_alpha_dropout_",
            "feature_dropout",
            "feature_dropout_",
            "group_norm",
            "hinge_embedding_loss",
            "instance_norm",
            "kl_div",
            "layer_norm",
            "margin_ranking_loss",
            "poisson_nll_loss",
            "triplet_margin_loss",
        ),
        "chainrule.nn_forms",
    )
)
# Reachable as attributes too, but left out of `import *`: `numpy` would shadow NumPy itself.
_LAZY_EXTRA_MODULES = frozenset(
    ("amp", "apps", "backends", "cpu", "cuda", "datasets", "distributed", "numpy", "testing")
    + ("accelerator", "multiprocessing", "random", "version")  # the standard library's names
    + ("futures",)  # torch.futures
    + ("signal", "storage", "types", "xpu")  # torch.signal.windows, ..., torch.xpu (absent)
    + ("quasirandom",)  # torch.quasirandom.SobolEngine
    + ("_C",)  # torch._C._log_api_usage_once, which torchvision's model code calls
)

if _TYPE_CHECKING:  # what static tools see; at run time __getattr__ loads these
    from chainrule import (
        accelerator,
        amp,
        apps,
        backends,
        cpu,
        cuda,
        data,
        datasets,
        distributed,
        distributions,
        fft,
        func,
        futures,
        hub,
        jit,
        linalg,
        multiprocessing,
        nn,
        numpy,
        optim,
        profiler,
        quasirandom,
        random,
        return_types,
        serialization,
        special,
        testing,
        utils,
        version,
        viz,
    )
    from chainrule.amp import GradScaler
    from chainrule.compiler import compile  # noqa: A004 - PyTorch's name
    from chainrule.func import vmap
    from chainrule.nn.functional import (
        adaptive_avg_pool1d,
        avg_pool1d,
        bilinear,
        celu,
        celu_,
        channel_shuffle,
        conv1d,
        conv2d,
        conv3d,
        conv_transpose1d,
        conv_transpose2d,
        conv_transpose3d,
        cosine_similarity,
        hardshrink,
        max_pool1d,
        max_pool1d_with_indices,
        max_pool2d,
        max_pool3d,
        pairwise_distance,
        pdist,
        pixel_shuffle,
        pixel_unshuffle,
        prelu,
        rms_norm,
        rrelu_,
        selu,
        selu_,
        threshold,
        threshold_,
    )
    from chainrule.nn_forms import (
        adaptive_max_pool1d,
        alpha_dropout,
        alpha_dropout_,
        batch_norm,
        binary_cross_entropy_with_logits,
        constant_pad_nd,
        convolution,
        cosine_embedding_loss,
        ctc_loss,
        dropout,
        dropout_,
        embedding,
        feature_alpha_dropout,
        feature_alpha_dropout_,
        feature_dropout,
        feature_dropout_,
        group_norm,
        hinge_embedding_loss,
        instance_norm,
        kl_div,
        layer_norm,
        margin_ranking_loss,
        poisson_nll_loss,
        triplet_margin_loss,
    )
    from chainrule.serialization import load, save


def __getattr__(name: str) -> _Any:
    """Import a lazily loaded subpackage or name the first time it is asked for."""
    if name in _LAZY_MODULES or name in _LAZY_EXTRA_MODULES:
        return _importlib.import_module(f"chainrule.{name}")  # also binds it here
    if name in _LAZY_NAMES:
        value = getattr(_importlib.import_module(_LAZY_NAMES[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'chainrule' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _LAZY_MODULES | _LAZY_EXTRA_MODULES | set(_LAZY_NAMES))


# `from chainrule import *` gives what it gave when everything loaded eagerly.
__all__ = sorted(
    {name for name in globals() if not name.startswith("_")} | _LAZY_MODULES | set(_LAZY_NAMES)
)
