"""The exceptions chainrule raises.

PyTorch reports most shape and dtype mistakes as RuntimeError; Python code tends to catch
ValueError / TypeError. Our errors are both, so a ported `except` clause catches them either way.
"""


class ChainruleError(Exception):
    """Base class of every error chainrule raises on purpose."""


class ShapeError(ChainruleError, ValueError, RuntimeError):
    """Operands whose shapes do not fit the op."""


class DTypeError(ChainruleError, TypeError, RuntimeError):
    """An operand of a dtype the op does not accept."""


class GradError(ChainruleError, RuntimeError):
    """Anything wrong while differentiating: a freed graph, a modified saved tensor, a vjp
    that returned the wrong shape."""


class CompileError(ChainruleError, RuntimeError):
    """`chainrule.compile` cannot capture a function as asked (a graph break under
    `fullgraph=True`), as torch._dynamo's Unsupported."""


class LinAlgError(ChainruleError, RuntimeError):
    """A matrix the factorization needs is singular or not positive-definite
    (PyTorch's `torch.linalg.LinAlgError`, also a RuntimeError)."""


class StateDictError(ChainruleError, RuntimeError):
    """A state dict that does not fit the module: missing or unexpected keys."""


class FileFormatError(ChainruleError, ValueError):
    """A file that is not what it claims to be: truncated, corrupted, or of another format."""


class BackendError(ChainruleError, RuntimeError):
    """Operands on different devices, or a backend that is not installed."""
