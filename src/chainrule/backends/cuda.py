"""`torch.backends.cuda`'s flags (`matmul.allow_tf32`), kept and unused: CuPy's matmul follows
CuPy's own settings."""

import contextlib
import importlib.util
import warnings
from collections.abc import Iterator


class _MatmulFlags:
    """`torch.backends.cuda.matmul`: settable flags."""

    allow_tf32 = False
    allow_fp16_reduced_precision_reduction = True
    allow_bf16_reduced_precision_reduction = True


matmul = _MatmulFlags()


def is_built() -> bool:
    """Whether a CUDA backend can be used: CuPy importable (chainrule.cuda.is_available says
    whether a device is there)."""
    return importlib.util.find_spec("cupy") is not None


# ---- scaled_dot_product_attention's kernel switches --------------------------------------
# PyTorch picks among flash, memory-efficient, cuDNN and plain-math kernels for F.scaled_dot_
# product_attention; chainrule has one implementation, so these are switches a program may set
# and read back. They change no value: the flash switch only decides whether a result that
# PyTorch's CPU flash kernel would make is named ScaledDotProductFlashAttentionForCpuBackward0.
_sdp_enabled = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True}
_fp16_bf16_reduction_math = False


def enable_flash_sdp(enabled: bool) -> None:
    """Record the flash-attention switch (no effect here)."""
    _sdp_enabled["flash"] = bool(enabled)


def flash_sdp_enabled() -> bool:
    """The flash-attention switch as last set."""
    return _sdp_enabled["flash"]


def enable_mem_efficient_sdp(enabled: bool) -> None:
    """Record the memory-efficient attention switch (no effect here)."""
    _sdp_enabled["mem_efficient"] = bool(enabled)


def mem_efficient_sdp_enabled() -> bool:
    """The memory-efficient attention switch as last set."""
    return _sdp_enabled["mem_efficient"]


def enable_math_sdp(enabled: bool) -> None:
    """Record the plain-math attention switch (no effect here)."""
    _sdp_enabled["math"] = bool(enabled)


def math_sdp_enabled() -> bool:
    """The plain-math attention switch as last set."""
    return _sdp_enabled["math"]


def enable_cudnn_sdp(enabled: bool) -> None:
    """Record the cuDNN attention switch (no effect here)."""
    _sdp_enabled["cudnn"] = bool(enabled)


def cudnn_sdp_enabled() -> bool:
    """The cuDNN attention switch as last set."""
    return _sdp_enabled["cudnn"]


def allow_fp16_bf16_reduction_math_sdp(enabled: bool) -> None:
    """Record whether the math kernel may reduce in 16 bits (no effect here)."""
    global _fp16_bf16_reduction_math
    _fp16_bf16_reduction_math = bool(enabled)


def fp16_bf16_reduction_math_sdp_allowed() -> bool:
    """That switch as last set."""
    return _fp16_bf16_reduction_math


@contextlib.contextmanager
def sdp_kernel(
    enable_flash: bool = True,
    enable_math: bool = True,
    enable_mem_efficient: bool = True,
    enable_cudnn: bool = True,
) -> Iterator[None]:
    """Set the four switches inside the block, as PyTorch's deprecated context manager (which
    warns the same way), and restore them after."""
    warnings.warn(
        "`torch.backends.cuda.sdp_kernel()` is deprecated. In the future, this context manager "
        "will be removed. Please see `torch.nn.attention.sdpa_kernel()` for the new context "
        "manager, with updated signature.",
        FutureWarning,
        stacklevel=3,
    )
    before = dict(_sdp_enabled)
    _sdp_enabled.update(
        flash=enable_flash, math=enable_math, mem_efficient=enable_mem_efficient, cudnn=enable_cudnn
    )
    try:
        yield
    finally:
        _sdp_enabled.update(before)
