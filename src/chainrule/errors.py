"""The exceptions chainrule raises, and its warnings shown once per process.

PyTorch reports most shape and dtype mistakes as RuntimeError; Python code tends to catch
ValueError / TypeError. Our errors are both, so a ported `except` clause catches them either way.
"""

import warnings

_warned: set[str] = set()  # the messages `warn_once` has shown: process state, as PyTorch's


def warn_once(message: str, category: type[Warning] = UserWarning, stacklevel: int = 3) -> None:
    """Warn with `message` the first time only, whatever the warnings filters say: PyTorch's
    TORCH_WARN_ONCE (torch.cholesky, torch.lu, `x.T` on a 3-D tensor, ...) shows a deprecation
    once per process, not once per calling line. `stacklevel` 3 blames the caller of the
    function that calls this.

    Example:
        >>> import warnings
        >>> from chainrule.errors import warn_once
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     for _ in range(2):
        ...         warn_once("an example that is shown once")
        >>> len(caught)
        1
    """
    if message in _warned:
        return
    _warned.add(message)
    warnings.warn(message, category, stacklevel=stacklevel)


class ChainruleError(Exception):
    """Base class of every error chainrule raises on purpose.

    Example:
        >>> import chainrule
        >>> try:
        ...     chainrule.ones(2, 3) @ chainrule.ones(2, 3)
        ... except chainrule.ChainruleError as error:
        ...     print(type(error).__name__)
        ShapeError
    """


class ShapeError(ChainruleError, ValueError, RuntimeError):
    """Operands whose shapes do not fit the op.

    Example:
        >>> import chainrule
        >>> try:
        ...     chainrule.ones(2, 3) @ chainrule.ones(2, 3)
        ... except ValueError as error:  # a ShapeError is a ValueError too
        ...     print(error)
        matmul: shapes (2, 3) and (2, 3) cannot be multiplied (3 != 2)
    """


class DTypeError(ChainruleError, TypeError, NotImplementedError):
    """An operand of a dtype the op does not accept. PyTorch raises NotImplementedError
    ("... not implemented for 'Long'"), a RuntimeError, or RuntimeError itself: this is all
    of them, and a TypeError.

    Example:
        >>> import chainrule
        >>> try:
        ...     chainrule.ones(2).bitwise_and(chainrule.ones(2))
        ... except TypeError as error:  # a DTypeError is a TypeError too
        ...     print(error)
        bitwise_and: not implemented for float32 tensors
    """


class DTypeValueError(DTypeError, ValueError):
    """A DTypeError PyTorch reports as ValueError: forward AD's primal or tangent that is not
    floating point (`make_dual`, and so `jvp`, `jacfwd`, `hessian`, `linearize`).

    Example:
        >>> import chainrule
        >>> from chainrule.func import jvp
        >>> try:
        ...     jvp(lambda x: x * 2, (chainrule.tensor([1, 2]),), (chainrule.ones(2),))
        ... except ValueError as error:
        ...     print(str(error).split(",")[0])
        make_dual: expected the primal to be floating point or complex
    """


class TransformError(ChainruleError, TypeError, RuntimeError):
    """A function transform given what it cannot use: a function that returns a value that is
    not a Tensor (or not a floating one where it differentiates it), an `(output, aux)` pair
    missing under `has_aux=True`, an `argnums` that is not an int or a tuple. PyTorch raises
    RuntimeError; JAX and HIPS autograd raise TypeError; this is both.

    Example:
        >>> import chainrule
        >>> from chainrule.func import grad
        >>> try:
        ...     grad(lambda x: 1.0)(chainrule.ones(2))
        ... except RuntimeError as error:
        ...     print(str(error).split(" (")[0])
        grad: f must return a scalar Tensor
    """


class DomainError(ChainruleError, ValueError, RuntimeError):
    """An operand's values outside what the op accepts: a class index past `num_classes`, a
    probability outside [0, 1], an empty or inverted range. PyTorch raises RuntimeError; this
    is a ValueError too.

    Example:
        >>> import chainrule
        >>> try:
        ...     chainrule.arange(5, 0)
        ... except RuntimeError as error:
        ...     print(error)
        arange: upper bound and lower bound inconsistent with step sign (start 5, end 0, step 1)
    """


class IndexRangeError(ChainruleError, IndexError, RuntimeError):
    """An index past the end of the dimension it indexes, where PyTorch's op raises
    RuntimeError (gather, scatter, index_select, index_add), or an extreme (max, argmax)
    over an empty dimension, which PyTorch reports as one or the other; an IndexError too.

    Example:
        >>> import chainrule
        >>> try:
        ...     chainrule.zeros(2, 3).gather(1, chainrule.tensor([[5]]))
        ... except RuntimeError as error:
        ...     print(error)
        gather: index 5 is out of bounds for dimension 1 with size 3
    """


class IntegerDivisionError(ChainruleError, ZeroDivisionError, RuntimeError):
    """An integer `//`, `%`, fmod or rounded div by zero: PyTorch raises RuntimeError
    ("ZeroDivisionError"); this is both, so either `except` clause catches it.

    Example:
        >>> import chainrule
        >>> try:
        ...     chainrule.tensor([1, 2]) // 0
        ... except RuntimeError as error:
        ...     print(error)
        floor_divide: integer division by zero
    """


class ArgumentAssertionError(ChainruleError, AssertionError, ValueError):
    """An argument PyTorch's Python code checks with an `assert` (an out-of-range
    `padding_idx`): an AssertionError as there, and a ValueError for code written for us.

    Example:
        >>> import chainrule
        >>> try:
        ...     chainrule.nn.Embedding(3, 2, padding_idx=3)
        ... except AssertionError as error:
        ...     print(error)
        Padding_idx must be within num_embeddings
    """


class GradError(ChainruleError, RuntimeError):
    """Anything wrong while differentiating: a freed graph, a modified saved tensor, a vjp
    that returned the wrong shape.

    Example:
        >>> import chainrule
        >>> y = chainrule.ones(2, requires_grad=True).exp().sum()
        >>> y.backward()
        >>> try:
        ...     y.backward()  # the graph was freed by the first backward
        ... except chainrule.GradError as error:
        ...     print(str(error).split(":")[0])
        ExpBackward0
    """


class GradcheckError(GradError):
    """gradcheck's or gradgradcheck's report of a Jacobian that differs from its finite
    differences: PyTorch's torch.autograd.gradcheck.GradcheckError (a RuntimeError).

    Example:
        >>> import chainrule
        >>> x = chainrule.tensor([0.5], dtype=chainrule.float64, requires_grad=True)
        >>> try:
        ...     chainrule.autograd.gradcheck(lambda a: a * a.detach(), (x,))
        ... except chainrule.errors.GradcheckError as error:
        ...     print(str(error).splitlines()[0])
        Jacobian mismatch for output 0 with respect to input 0,
    """


class CompileError(ChainruleError, RuntimeError):
    """`chainrule.compile` cannot capture a function as asked (a graph break under
    `fullgraph=True`), as torch._dynamo's Unsupported."""


class LinAlgError(ChainruleError, RuntimeError):
    """A matrix the factorization needs is singular or not positive-definite
    (PyTorch's `torch.linalg.LinAlgError`, also a RuntimeError).

    Example:
        >>> import chainrule
        >>> try:
        ...     chainrule.linalg.cholesky(-chainrule.eye(2))
        ... except chainrule.LinAlgError as error:
        ...     print(str(error).split(" (")[1])
        the leading minor of order 1 is not positive-definite).
    """


class StateDictError(ChainruleError, RuntimeError):
    """A state dict that does not fit the module: missing or unexpected keys.

    Example:
        >>> import chainrule
        >>> try:
        ...     chainrule.nn.Linear(2, 2).load_state_dict({})
        ... except chainrule.StateDictError as error:
        ...     print(str(error).splitlines()[1].strip())
        Missing key(s) in state_dict: "weight", "bias".
    """


class OutOfMemoryError(ChainruleError, RuntimeError):
    """A device out of memory: PyTorch's torch.OutOfMemoryError (also torch.cuda's), which
    training loops catch to shrink the batch and retry.

    Example:
        >>> import chainrule
        >>> try:
        ...     raise chainrule.cuda.OutOfMemoryError("CUDA out of memory")
        ... except chainrule.OutOfMemoryError as error:
        ...     print(type(error).__name__, isinstance(error, RuntimeError))
        OutOfMemoryError True
    """


class AcceleratorError(ChainruleError, RuntimeError):
    """An accelerator's runtime failure (PyTorch's torch.AcceleratorError): a name for
    `except` clauses written for PyTorch.

    Example:
        >>> import chainrule
        >>> issubclass(chainrule.AcceleratorError, RuntimeError)
        True
    """


class FileFormatError(ChainruleError, ValueError):
    """A file that is not what it claims to be: truncated, corrupted, or of another format.

    Example:
        >>> import io
        >>> import chainrule
        >>> try:
        ...     chainrule.load(io.BytesIO(b"not a checkpoint"))
        ... except chainrule.FileFormatError:
        ...     print("not a checkpoint")
        not a checkpoint
    """


class BackendError(ChainruleError, RuntimeError):
    """Operands on different devices, or a backend that is not installed.

    Example:
        >>> import chainrule
        >>> try:
        ...     chainrule.device("tpu")
        ... except chainrule.BackendError as error:
        ...     print(error)
        unknown device type 'tpu': expected one of cpu, cuda, fake, meta
    """


class DeviceUnavailableError(BackendError, AssertionError):
    """A tensor sent to 'cuda' without CuPy: PyTorch's CPU build raises AssertionError ("Torch
    not compiled with CUDA enabled") there, so code that catches it catches this too; it is a
    BackendError (a RuntimeError) for code written for chainrule.

    Example:
        >>> import chainrule
        >>> issubclass(chainrule.errors.DeviceUnavailableError, AssertionError)
        True
    """
