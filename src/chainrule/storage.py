"""`chainrule.storage` (PyTorch's `torch.storage`): the classes `Tensor.untyped_storage()` and
`Tensor.storage()` return, describing the memory block a tensor's elements live in."""

from chainrule.ops.strided import TypedStorage, UntypedStorage

__all__ = ["TypedStorage", "UntypedStorage"]
