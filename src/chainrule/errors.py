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


class BackendError(ChainruleError, RuntimeError):
    """Operands on different devices, or a backend that is not installed."""
