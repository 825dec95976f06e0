"""Saved-tensor hooks (PyTorch's `torch.autograd.graph`): what an op saves for backward can be
packed when it is saved and unpacked when backward needs it. The hooks are an observer
(autograd/observers.py), re-exported here with PyTorch's names.

    >>> import chainrule
    >>> from chainrule.autograd.graph import saved_tensors_hooks
    >>> seen = []
    >>> def pack(t):
    ...     seen.append(tuple(t.shape))
    ...     return t.detach().numpy().copy()        # e.g. offload to host memory
    >>> def unpack(array):
    ...     return chainrule.from_numpy(array)
    >>> x = chainrule.ones(2, 3, requires_grad=True)
    >>> with saved_tensors_hooks(pack, unpack):
    ...     y = (x * x).sum()
    >>> seen
    [(2, 3), (2, 3)]
    >>> y.backward()
    >>> x.grad
    tensor([[2., 2., 2.],
            [2., 2., 2.]])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextvars import ContextVar
from typing import Any

from chainrule.autograd import grad_mode
from chainrule.autograd.node import Node
from chainrule.autograd.observers import Observer, add_observer, observers, remove_observer
from chainrule.autograd.saved import HookedValue, SavedValue
from chainrule.errors import GradError

__all__ = [
    "Observer",
    "add_observer",
    "observers",
    "remove_observer",
    "disable_saved_tensors_hooks",
    "increment_version",
    "save_on_cpu",
    "saved_tensors_hooks",
]

# The message to raise when saved_tensors_hooks is entered inside disable_saved_tensors_hooks.
_hooks_disabled: ContextVar[str | None] = ContextVar("chainrule_saved_hooks_off", default=None)


class saved_tensors_hooks(Observer):  # noqa: N801 - PyTorch's name
    """Inside, every tensor an op saves for backward goes through `pack_hook(tensor)` when it is
    saved, and what that returned through `unpack_hook(packed)` when backward needs it, which
    must give a Tensor of the same shape and values. Use it to offload saved activations to
    another device or to disk, to compress them, or to inspect what a model keeps alive. When
    nested, only the innermost pair applies, as in PyTorch.

    Pack runs with grad mode off and must not modify its input in place. What a custom
    `autograd.Function` saves with `ctx.save_for_backward` is packed too.

    Args:
        pack_hook (Callable): `pack_hook(tensor) -> packed`, anything.
        unpack_hook (Callable): `unpack_hook(packed) -> Tensor`.

    Example:
        >>> import chainrule
        >>> from chainrule.autograd.graph import saved_tensors_hooks
        >>> shapes = []
        >>> x = chainrule.ones(3, requires_grad=True)
        >>> with saved_tensors_hooks(lambda t: shapes.append(tuple(t.shape)) or t, lambda t: t):
        ...     y = (x * x).sum()
        >>> y.backward()
        >>> shapes, x.grad
        ([(3,), (3,)], tensor([2., 2., 2.]))
    """

    def __init__(self, pack_hook: Callable[[Any], Any], unpack_hook: Callable[[Any], Any]) -> None:
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self) -> saved_tensors_hooks:
        message = _hooks_disabled.get()
        if message is not None:
            raise GradError(message)
        add_observer(self)
        return self

    def __exit__(self, *exc: object) -> None:
        remove_observer(self)

    def forward_end(
        self, op: type, inputs: Sequence[Any], outputs: tuple, node: Node | None, state: Any
    ) -> None:
        if node is None or node._saved is None:
            return
        saved = node._saved
        keys = saved.keys() if isinstance(saved, dict) else range(len(saved))
        for key in list(keys):
            entry = saved[key]
            if type(entry) is SavedValue:  # not already packed by an inner pair of hooks
                saved[key] = self._pack(entry, outputs)

    def _pack(self, entry: SavedValue, outputs: tuple) -> HookedValue:
        if entry.output_nr is not None:
            tensor = outputs[entry.output_nr]
            edge = None  # rebuilt with the saving node as grad_fn (HookedValue.unpack)
        else:
            tensor = entry.value
            edge = tensor._gradient_edge() if tensor._requires_grad else None
        version = tensor._version_counter.value
        with grad_mode.no_grad():
            packed = self.pack_hook(tensor)
        if tensor._version_counter.value != version:
            raise GradError(
                "A saved tensor pack hook is modifying its input in place. Tensors provided as "
                "input to pack hook cannot be modified by in-place operations."
            )
        hooked = HookedValue(
            packed,
            self.unpack_hook,
            tensor.shape,
            entry.output_nr,
            edge,
            entry.counter,
            entry.version,
        )
        hooked.tangent = getattr(entry, "tangent", None)
        return hooked


class save_on_cpu(saved_tensors_hooks):  # noqa: N801 - PyTorch's name
    """Inside, tensors saved for backward are kept in host memory and moved back to their
    device when backward needs them: GPU memory for activations traded for copies. A tensor
    already on the CPU is kept as it is (not copied), as in PyTorch. `pin_memory` and
    `device_type` are accepted; chainrule has no pinned memory.

    Example:
        >>> import chainrule
        >>> x = chainrule.ones(3, requires_grad=True)
        >>> with chainrule.autograd.graph.save_on_cpu():
        ...     y = (x * x).sum()
        >>> y.backward()
        >>> x.grad
        tensor([2., 2., 2.])
    """

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        def pack(tensor: Any) -> tuple:
            return tensor.device, tensor.cpu()

        def unpack(packed: tuple) -> Any:
            device, tensor = packed
            return tensor.to(device)

        super().__init__(pack, unpack)


def increment_version(tensor: Any) -> None:
    """Bump the version counter of `tensor` (or of each tensor of an iterable), as an in-place
    write would: for code that changes a tensor's memory behind autograd's back (through its
    NumPy array, say) and wants backward to notice that a saved value went stale.

    Example:
        >>> import chainrule
        >>> x = chainrule.ones(2)
        >>> chainrule.autograd.graph.increment_version(x)
        >>> x._version
        1
    """
    for each in [tensor] if hasattr(tensor, "_version_counter") else tensor:
        each._version_counter.value += 1


class disable_saved_tensors_hooks:  # noqa: N801 - PyTorch's name
    """Inside, entering `saved_tensors_hooks` raises GradError(error_message): for code whose
    saved values must stay where they are. Like PyTorch, it cannot be entered while hooks are
    active.

    Args:
        error_message (str): the message of the GradError.

    Example:
        >>> from chainrule.autograd.graph import disable_saved_tensors_hooks, saved_tensors_hooks
        >>> with disable_saved_tensors_hooks("no hooks here"):
        ...     with saved_tensors_hooks(lambda t: t, lambda t: t):
        ...         pass
        Traceback (most recent call last):
        ...
        chainrule.errors.GradError: no hooks here
    """

    def __init__(self, error_message: str) -> None:
        self.error_message = error_message

    def __enter__(self) -> None:
        active = observers.get() or ()
        if any(isinstance(observer, saved_tensors_hooks) for observer in active):
            raise GradError(self.error_message)
        self._token = _hooks_disabled.set(self.error_message)

    def __exit__(self, *exc: object) -> None:
        _hooks_disabled.reset(self._token)
