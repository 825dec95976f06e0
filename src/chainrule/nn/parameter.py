"""Parameter: a Tensor that a Module registers as one of its learnable weights.

Assigning a Parameter as a Module attribute adds it to `module.parameters()`; assigning a plain
Tensor does not (it may be a cache, such as an RNN's last hidden state). Ops on Parameters
return plain Tensors, since every op wraps its result as `Tensor`.

>>> import chainrule
>>> from chainrule.nn import Parameter
>>> w = Parameter(chainrule.ones(2))
>>> w.requires_grad, type(w * 2).__name__
(True, 'Tensor')
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chainrule._tensor import Tensor
from chainrule.ops import creation

if TYPE_CHECKING:  # annotations only
    from chainrule.backend import device as Device
    from chainrule.backend.dtypes import dtype as DType


def _data_of(kind: str, data: Tensor | None) -> Tensor:
    """The tensor whose memory a Parameter or Buffer shares (an empty one by default)."""
    if data is None:
        return creation.empty(0)
    if not isinstance(data, Tensor):
        raise TypeError(f"{kind}: expected a Tensor as data, got {type(data).__name__}")
    return data


class Parameter(Tensor):
    """A leaf Tensor sharing `data`'s memory, with requires_grad=True by default.

    Like PyTorch's, the grad mode does not matter: a Parameter made under `no_grad()` still
    requires grad.

    Args:
        data (Tensor, optional): the values, shared, not copied (an empty tensor if None).
        requires_grad (bool): whether the optimizer's gradients reach it.

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> weight = nn.Parameter(chainrule.ones(2))
        >>> weight.requires_grad, weight.is_leaf
        (True, True)
        >>> module = nn.Module()
        >>> module.weight = weight
        >>> [name for name, _ in module.named_parameters()]
        ['weight']
    """

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True) -> Parameter:
        data = _data_of("Parameter", data)
        self = Tensor._from_array(data._array, data._backend, cls=cls)
        self._version_counter = data._version_counter
        if requires_grad:
            self.requires_grad_(True)
        return self

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo: dict) -> Parameter:
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(Tensor._from_array(self._array.copy()), self._requires_grad)
        memo[id(self)] = result
        return result

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (_rebuild_parameter, (self.detach(), self._requires_grad))


def _rebuild_parameter(data: Tensor, requires_grad: bool) -> Parameter:
    """How a pickled Parameter comes back (see Parameter.__reduce_ex__)."""
    return Parameter(data, requires_grad)


class Buffer(Tensor):
    """A Tensor that a Module registers as a buffer (state that is not learnt, such as running
    statistics) when assigned as an attribute; `persistent=False` keeps it out of state_dict.

    Args:
        data (Tensor, optional): the values, shared, not copied (an empty tensor if None).
        persistent (bool): whether `state_dict()` includes it.

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> module = nn.Module()
        >>> module.steps = nn.Buffer(chainrule.zeros(()), persistent=False)
        >>> [name for name, _ in module.named_buffers()], list(module.state_dict())
        (['steps'], [])
    """

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True) -> Buffer:
        data = _data_of("Buffer", data)
        self = Tensor._from_array(data._array, data._backend, cls=cls)
        self._version_counter = data._version_counter
        self.persistent = persistent
        if data.requires_grad:
            self.requires_grad_(True)
        return self

    def __reduce_ex__(self, protocol: Any) -> Any:
        return (_rebuild_buffer, (self.detach(), self.persistent))


def _rebuild_buffer(data: Tensor, persistent: bool) -> Buffer:
    return Buffer(data, persistent=persistent)


class UninitializedParameter(Parameter):
    """A Parameter with no shape yet (0 elements); `materialize(shape)` gives it memory and
    makes it a plain Parameter, the same object. The lazy layers hold their weights so until
    the first input shows their size.

    Args:
        data (Tensor, optional): ignored, as PyTorch's (the parameter is empty).
        requires_grad (bool): whether the materialized parameter requires grad.

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> weight = nn.UninitializedParameter()
        >>> weight.materialize((2, 3))
        >>> type(weight).__name__, weight.shape
        ('Parameter', chainrule.Size([2, 3]))
    """

    def materialize(
        self, shape: tuple[int, ...], device: Device | str | None = None, dtype: DType | None = None
    ) -> None:
        """Allocate this parameter's memory of `shape` (uninitialized) in place, by default
        of the device and dtype it holds (as moved and cast by `Module.to` and `.double()`
        while it waited, as PyTorch's)."""
        device = self.device if device is None else device
        dtype = self.dtype if dtype is None else dtype
        fresh = creation.empty(shape, device=device, dtype=dtype)
        self._array = fresh._array
        self._backend = fresh._backend
        self.__class__ = Parameter

    def __repr__(self) -> str:
        return "<UninitializedParameter>"


class UninitializedBuffer(Tensor):
    """A buffer with no shape yet (0 elements); `materialize(shape)` gives it memory and makes
    it a plain Tensor, the same object. The lazy norm layers hold their running statistics so
    until the first input shows their size.

    Args:
        requires_grad (bool): whether the materialized buffer requires grad.
        device (str or device, optional): where it will live.
        dtype (dtype, optional): its dtype (default: the default dtype).

    Example:
        >>> import chainrule
        >>> from chainrule import nn
        >>> running_mean = nn.UninitializedBuffer()
        >>> running_mean.materialize((3,))
        >>> type(running_mean).__name__, running_mean.shape
        ('Tensor', chainrule.Size([3]))
    """

    __slots__ = ()

    def __new__(
        cls,
        requires_grad: bool = False,
        device: Device | str | None = None,
        dtype: DType | None = None,
    ) -> UninitializedBuffer:
        empty = creation.empty(0, device=device, dtype=dtype)
        buffer = Tensor._from_array(empty._array, empty._backend, cls=cls)
        buffer._requires_grad = requires_grad
        return buffer

    def materialize(
        self, shape: tuple[int, ...], device: Device | str | None = None, dtype: DType | None = None
    ) -> None:
        """Allocate this buffer's memory of `shape` (uninitialized) in place, by default of
        the device and dtype it holds (as moved and cast while it waited)."""
        device = self.device if device is None else device
        dtype = self.dtype if dtype is None else dtype
        fresh = creation.empty(shape, device=device, dtype=dtype)
        self._array = fresh._array
        self._backend = fresh._backend
        self.__class__ = Tensor

    def __repr__(self) -> str:
        return "<UninitializedBuffer>"
