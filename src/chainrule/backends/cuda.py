"""`torch.backends.cuda`'s flags (`matmul.allow_tf32`), kept and unused: CuPy's matmul follows
CuPy's own settings."""

import importlib.util


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
