"""Tensor: an n-dimensional array that remembers the op that made it.

A Tensor wraps a backend array (`_array`) and, when it requires grad and was computed, the
graph Node that produced it (`grad_fn`). This file holds what a tensor *is*: its data and
metadata, its autograd state (grad, hooks, `backward`), and conversions. It sits below the ops,
which import it to wrap their results.

Its math methods (`x + y`, `x.tanh()`, `x.sum()`, in-place `x.add_(y)`) are the functions of
`chainrule.ops`, attached from one table in `ops/tensor_methods.py`: `x.tanh()` and
`chainrule.tanh(x)` are the same code.
"""

from __future__ import annotations

import warnings
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, SupportsIndex, overload

from chainrule.autograd.api import backward as _backward
from chainrule.autograd.forward_ad import current_level as _dual_level
from chainrule.autograd.forward_ad import inplace_tangent
from chainrule.autograd.grad_mode import _grad_enabled as _grad_enabled_var
from chainrule.autograd.grad_mode import _inference_mode, counter_class, no_grad
from chainrule.autograd.node import (
    AccumulateGrad,
    InferenceVersionCounter,
    Node,
    RemovableHandle,
    named_node,
)
from chainrule.autograd.observers import observers, tell
from chainrule.backend import (
    Array,
    backend_for_device,
    backend_of_array,
    device,
    dtypes,
    is_array,
    numpy_backend,
    set_default_device,
)
from chainrule.backend.dtypes import as_dtype, display_namespace, from_numpy_dtype
from chainrule.backend.formats import is_contiguous_as
from chainrule.backend.printing import format_tensor
from chainrule.errors import DomainError, DTypeError, GradError, ShapeError, warn_once
from chainrule.ops.arguments import normalize_dim, normalize_size

_grad_enabled = _grad_enabled_var.get  # is_grad_enabled without its call layer (hot path)
_observers = observers.get  # compile's tracer watches reads and writes outside ops
_new_counter = counter_class.get  # VersionCounter, or InferenceVersionCounter in inference mode

# How a view was made (`Tensor._view_kind`), which decides what an in-place write into it may
# do (ops/views.py): a plain view takes the write into its base's history; one of several views
# returned together (split, unbind) or one made in no_grad mode of a tensor that requires grad
# refuses a recorded write, as in PyTorch.
VIEW_PLAIN = 0
VIEW_MULTI_OUTPUT = 1
VIEW_NO_GRAD = 2


# Static tools see the math methods ops/tensor_methods.py attaches at import as Tensor's base.
# That table sits above Tensor, so it is named through the stub _typing.pyi, which only static
# tools read: no import Python runs or the layering counts points up from here.
if TYPE_CHECKING:
    from chainrule._typing import TensorMethods as _TensorMethods
    from chainrule.backend import device as Device  # Tensor.device would hide the class
else:
    _TensorMethods = object


def _no_leaf() -> None:
    """A dead reference: the leaf of the accumulator of a view made without grad mode."""


_NON_LEAF_GRAD_WARNING = (
    "The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its .grad "
    "attribute won't be populated during autograd.backward(). If you indeed want the .grad "
    "field to be populated for a non-leaf Tensor, use .retain_grad() on the non-leaf Tensor. "
    "If you access the non-leaf Tensor by mistake, make sure you access the leaf Tensor "
    "instead. See github.com/pytorch/pytorch/pull/30531 for more information."
)


# The in-place ops PyTorch runs on memory whose elements overlap (an expanded tensor): the
# shape changes, which write nothing.
_OVERLAP_ALLOWED = frozenset(
    {"squeeze_", "unsqueeze_", "transpose_", "swapaxes_", "t_", "as_strided_"}
)


# The in-place ops PyTorch runs outside autograd even on a tensor that requires grad (no
# derivative, no leaf check): the values change, the history stays as it was.
_NOT_RECORDED = frozenset({"logical_not_", "logical_and_", "logical_or_", "logical_xor_"})

# The in-place writes PyTorch lets through an expanded tensor (elements sharing memory): fills
# of one value and the selecting fills, each selected element landing in the location it
# shares (fill_ of a Tensor value and every other op refuse).
# masked_fill_, index_fill_ and index_put_ (and an advanced-index `x[key] = value`) warn.
_EXPANDED_WRITES = frozenset(
    {"fill_", "zero_", "fill_diagonal_", "masked_fill_", "index_fill_", "index_put_", "__setitem__"}
)
_EXPANDED_WRITE_WARNINGS = {
    "masked_fill_": "tensor[mask] = scalar",
    "index_fill_": "tensor[mask] = scalar",
    "index_put_": "tensor[indices] = tensor",
    "__setitem__": "tensor[indices] = tensor",
}


class Tensor(_TensorMethods):
    """A multi-dimensional array with autograd. Made by the factories (`chainrule.tensor`,
    `zeros`, `randn` ...) and by every op; calling the class itself is PyTorch's legacy
    constructor.

    Args:
        args: data to copy (`Tensor([1, 2])`, as float32) or sizes (`Tensor(2, 3)`, an
            uninitialised tensor).
        dtype (dtype, optional): the element type (the default dtype if None).
        device (device or str, optional): where the memory lives (the CPU if None).

    Example:
        >>> import chainrule
        >>> x = chainrule.tensor([1.0, 2.0], requires_grad=True)
        >>> (x * x).sum().backward()
        >>> x.grad
        tensor([2., 4.])
        >>> chainrule.Tensor(2, 3).shape
        chainrule.Size([2, 3])
    """

    __slots__ = (
        "_array",
        "_backend",
        "_requires_grad",
        "_grad",
        "_node",
        "_output_nr",
        "_version_counter",
        "_base",
        "_view_version",
        "_view_kind",
        "_edge",
        "_extra",
        "__weakref__",
    )
    # A plain class attribute, cheap to read where gradients are accumulated: a dense tensor.
    # ops/sparse.py's SparseTensor (an embedding's gradient with sparse=True) says True.
    is_sparse = False
    # Above ndarray's: NumPy's binary operators defer to ours (`np.ones(3) * t` is a Tensor with
    # history), while its ufuncs take the tensor through __array__ and __array_wrap__ (below).
    __array_priority__ = 1000

    # ---- construction ------------------------------------------------------------------
    def __new__(
        cls,
        *args: object,
        dtype: dtypes.dtype | str | None = None,
        device: Device | str | None = None,
    ) -> Tensor:
        """The legacy constructor: `Tensor([1, 2])` copies data as float32; `Tensor(2, 3)` is
        an uninitialised 2x3 float32 tensor, as in PyTorch."""
        backend = backend_for_device(device)
        target = as_dtype(dtype).numpy if dtype is not None else dtypes.get_default_dtype().numpy
        if len(args) == 1 and not isinstance(args[0], int):
            array = to_array(args[0], backend, target)
        else:
            shape = normalize_size(args) if args else (0,)
            array = backend.xp.empty(shape, dtype=target)
        return Tensor._from_array(array, backend, cls=cls)

    @staticmethod
    def _from_array(
        array: Array,
        backend: Any = None,
        node: Node | None = None,
        output_nr: int = 0,
        cls: type | None = None,
    ) -> Tensor:
        """The one way to make a tensor around an existing array (no copy), and the one place
        its fields are set up: a constant, or, given `node`, output `output_nr` of that node
        (it then requires grad). `backend` is looked up from the array unless given (the op
        hot path knows it); `cls` makes a subclass (Parameter, vmap's BatchedTensor)."""
        tensor = object.__new__(Tensor if cls is None else cls)
        tensor._array = array
        tensor._backend = backend_of_array(array) if backend is None else backend
        tensor._requires_grad = node is not None
        tensor._grad = None
        tensor._node = node
        tensor._output_nr = output_nr
        tensor._version_counter = _new_counter()()
        tensor._base = None
        tensor._edge = None
        tensor._extra = None
        return tensor

    # ---- metadata ----------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        """The sizes of the dimensions, as a `Size` (a tuple). Code inside chainrule reads
        `_array.shape` (a plain tuple) instead: ops read shapes on the per-op path."""
        return _size(self._array.shape)

    @overload
    def size(self, dim: None = None) -> Size: ...
    @overload
    def size(self, dim: int) -> int: ...
    def size(self, dim: int | None = None) -> Size | int:
        """The shape as a `Size`, or the size of dimension `dim` (negative counts from the end)."""
        if dim is None:
            return _size(self._array.shape)
        return self._array.shape[normalize_dim("size", dim, self._array.ndim)]

    @property
    def dtype(self) -> dtypes.dtype:
        return from_numpy_dtype(self._array.dtype)

    @property
    def ndim(self) -> int:
        return self._array.ndim

    def dim(self) -> int:
        """The number of dimensions (`ndimension` is the same)."""
        return self._array.ndim

    ndimension = dim

    def numel(self) -> int:
        """The number of elements: the product of the shape (`nelement` is the same)."""
        return int(self._array.size)

    nelement = numel

    def element_size(self) -> int:
        """The size of one element in bytes (4 for float32)."""
        return self._array.itemsize

    @property
    def device(self) -> device:
        return self._backend.device

    @property
    def is_cuda(self) -> bool:
        return self._backend.device.type == "cuda"

    @property
    def is_meta(self) -> bool:
        """Whether this is a shape-only tensor on the meta device (no data)."""
        return self._backend.device.type == "meta"

    def is_floating_point(self) -> bool:
        """Whether the dtype is a floating-point one (float16, float32, float64)."""
        return self._array.dtype.kind in "fV"

    def is_complex(self) -> bool:
        return self._array.dtype.kind == "c"

    def is_contiguous(self, memory_format: object = None) -> bool:
        """Whether the elements lie in memory in row-major order with no gaps (or, given
        `channels_last`, in that format's order)."""
        if memory_format is None:
            return bool(self._array.flags.c_contiguous)
        return is_contiguous_as(self._array, memory_format)

    @overload
    def stride(self, dim: None = None) -> tuple[int, ...]: ...
    @overload
    def stride(self, dim: int) -> int: ...
    def stride(self, dim: int | None = None) -> tuple[int, ...] | int:
        """The step in elements between neighbours along each dimension (or along `dim`)."""
        strides = tuple(s // self._array.itemsize for s in self._array.strides)
        return strides if dim is None else strides[dim]

    def data_ptr(self) -> int:
        """The address of the first element (for telling whether two tensors share memory)."""
        return self._backend.data_ptr(self._array)

    # ---- autograd state ----------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        if self._base is not None and self._view_version != self._version_counter.value:
            if self._view_kind == VIEW_MULTI_OUTPUT and self._base._requires_grad:
                return True  # stale for good (its grad_fn is refused), but still requires grad
            self._refresh_view()
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set whether autograd records operations on this leaf tensor; returns it."""
        if self._node is not None:
            if requires_grad:
                return self
            raise GradError(
                "you can only change requires_grad flags of leaf variables. If you want to use "
                "a computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach()."
            )
        if (
            requires_grad
            and type(self._version_counter) is InferenceVersionCounter
            and not _inference_mode.get()
        ):
            raise GradError(
                "Setting requires_grad=True on inference tensor outside InferenceMode is not "
                "allowed."
            )
        if requires_grad and self._array.dtype.kind not in "fcV":
            raise GradError(
                "only Tensors of floating point and complex dtype can require gradients (got "
                f"{self.dtype})"
            )
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def grad(self) -> Tensor | None:
        grad = self._grad
        if grad is None and self._node is not None and not self.retains_grad:
            # PyTorch's warning: backward never fills a non-leaf's .grad (a common mistake)
            warnings.warn(_NON_LEAF_GRAD_WARNING, UserWarning, stacklevel=2)
        return grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad must be a Tensor or None, not {type(value)}")
            if value.shape != self.shape:
                raise ShapeError(
                    f"assigned grad has data of a different size: {tuple(value.shape)} for a "
                    f"tensor of shape {tuple(self.shape)}"
                )
            if value.dtype != self.dtype:
                raise GradError(
                    f"attempting to assign a gradient with dtype {value.dtype} to a tensor "
                    f"with dtype {self.dtype}; the gradient must match the tensor's dtype"
                )
        if _observers() is not None:
            tell(_observers(), "grad_set", self, value)
        self._grad = value

    @property
    def grad_fn(self) -> Node | None:
        if self._base is not None and self._view_version != self._version_counter.value:
            self._refresh_view()
        node = self._node
        return None if node is None else named_node(node)

    @property
    def is_leaf(self) -> bool:
        if self._base is not None and self._view_version != self._version_counter.value:
            self._refresh_view()
        return self._node is None

    @property
    def retains_grad(self) -> bool:
        node = self._node
        if node is not None and node.retained is not None and self._output_nr in node.retained:
            return True
        # An in-place view op (unsqueeze_, t_) leaves retain_grad() on the node before it.
        return self._extra is not None and self._extra.get("retained_before_restride", False)

    @property
    def _version(self) -> int:
        counter = self._version_counter
        if type(counter) is InferenceVersionCounter:
            raise GradError("Inference tensors do not track version counter.")
        return counter.value

    @property
    def data(self) -> Tensor:
        """The same memory as a tensor outside the graph; writes through it are not tracked."""
        data = Tensor._from_array(self._array)
        if type(self._version_counter) is InferenceVersionCounter:
            data._version_counter = InferenceVersionCounter()  # still an inference tensor
        return data

    @data.setter
    def data(self, value: Tensor) -> None:
        self._array = value._array
        self._backend = value._backend

    def _gradient_edge(self) -> tuple[Node, int]:
        """Where gradient for this tensor enters the graph: its grad_fn, or its accumulator.
        A view made without grad mode of a tensor that requires grad requires grad too, as in
        PyTorch, but gradient that reaches it goes nowhere (neither its `.grad` nor its
        base's): its accumulator holds no leaf, as one whose leaf is gone."""
        node = self._node
        if node is not None:
            return (node, self._output_nr)
        edge = self._edge
        if edge is None:
            base = self._base
            leaf = _no_leaf if base is not None and base._requires_grad else weakref.ref(self)
            edge = self._edge = (AccumulateGrad(leaf), 0)
        return edge

    def _accumulate_grad(self, grad: Tensor, create_graph: bool, owned: bool = False) -> None:
        """Add one backward's gradient into `.grad` (called by the engine for leaves, after
        the hooks registered on them, which live on their AccumulateGrad node). `owned`: the
        engine holds the only reference to `grad` and its memory, so `.grad` may keep it
        without a copy, as PyTorch does (engine.py says how it knows)."""
        extra = self._extra
        current = self._grad
        if grad.is_sparse or (current is not None and current.is_sparse):
            # Sparse gradients (ops/sparse.py) add up sparse; with a dense one, dense.
            self._grad = grad if current is None else current + grad
        elif current is None:
            layouts_differ = not (grad._array.flags.c_contiguous and self._array.flags.c_contiguous)
            order = dense_order(self._array) if layouts_differ else ()
            if layouts_differ and not obeys_layout(grad._array, self._array, order):
                # PyTorch's gradient layout contract: `.grad` has the leaf's strides (a
                # contiguous leaf gets a contiguous gradient, so `p.grad.view(-1)` works)
                if create_graph:  # a copy recorded in the graph
                    grad = grad.permute(order).contiguous().permute(inverse_of(order))
                else:
                    array = grad._array.transpose(order).copy().transpose(inverse_of(order))
                    grad, owned = Tensor._from_array(array, grad._backend), True
            if create_graph or owned:
                self._grad = grad
            else:  # a copy in the leaf's layout ("K": a channels-last grad stays so)
                copy = grad._array.copy(order="K" if layouts_differ else "C")
                self._grad = Tensor._from_array(copy, grad._backend)
        elif create_graph:
            self._grad = current + grad
        else:  # in place, as PyTorch's outside create_graph: a `.grad` that requires grad
            current._array += grad._array  # (a create_graph backward's) stays that tensor
            current._version_counter.value += 1
        if extra is not None:
            for hook in extra.get("post_accumulate_hooks", ()):
                result = hook(self)  # it may only act on self.grad, in place
                if isinstance(result, Tensor):
                    raise GradError("Tensor post accumulate grad hooks should return None.")
                if result is not None:
                    raise TypeError(
                        f"expected Variable, but hook returned '{type(result).__name__}'"
                    )

    def _retain_grad_from(self, grad: Tensor, create_graph: bool) -> None:
        if not create_graph:
            grad = Tensor._from_array(grad._array.copy())
        self._grad = grad if self._grad is None else self._grad + grad

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """hook(grad) runs when this tensor's gradient is computed; it may return a new one."""
        if not self._requires_grad:
            raise GradError("cannot register a hook on a tensor that doesn't require gradient")
        node, output_nr = self._gradient_edge()  # a leaf's hooks run on its AccumulateGrad
        entry = node.add_pre_hook(output_nr, hook)
        return RemovableHandle(node.pre_hooks, entry)

    def register_post_accumulate_grad_hook(self, hook: Callable[[Tensor], None]) -> RemovableHandle:
        """hook(tensor) runs after this leaf's `.grad` has been updated by backward."""
        if self._node is not None:
            raise GradError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        if self._extra is None:
            self._extra = {}
        hooks = self._extra.setdefault("post_accumulate_hooks", [])
        hooks.append(hook)
        return RemovableHandle(hooks, hook)

    def _keep_retained_grad(self, old_node: Node | None, old_output_nr: int) -> None:
        """retain_grad() belongs to the tensor, not to its old place in the graph: once an
        in-place op gave it a new grad_fn, the new node fills `.grad` and the old one no
        longer does (PyTorch's; backward through an op that saw the old value leaves `.grad`
        None)."""
        retained = None if old_node is None else old_node.retained
        if not retained or old_node is self._node:
            return
        entry = retained.get(old_output_nr)
        if entry is None or entry() is not self:
            return
        del retained[old_output_nr]
        if self._node is not None:
            self.retain_grad()

    def retain_grad(self) -> None:
        """Keep `.grad` for this non-leaf tensor after backward (leaves always keep it)."""
        if not self._requires_grad:
            raise GradError("can't retain_grad on Tensor that has requires_grad=False")
        node = self._node
        if node is None:
            return
        if node.retained is None:
            node.retained = {}
        node.retained[self._output_nr] = weakref.ref(self)

    def backward(
        self,
        gradient: Tensor | None = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
        inputs: Tensor | Sequence[Tensor] | None = None,
    ) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's `.grad` (see autograd.backward)."""
        if self._base is not None and self._view_version != self._version_counter.value:
            self._refresh_view()
        _backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self) -> Tensor:
        """The same memory and version counter, cut out of the graph."""
        result = Tensor._from_array(self._array, self._backend)
        result._version_counter = self._version_counter
        return result

    def detach_(self) -> Tensor:
        """Detach this tensor from the graph in place: it becomes a leaf without grad. Refused
        for a view (whatever its base), as PyTorch: its base's history would still reach it."""
        if self._base is not None:
            raise GradError(
                "detach_: Can't detach views in-place. Use detach() instead. If you are using "
                "DistributedDataParallel (DDP) for training, and gradient_as_bucket_view is set "
                "as True, gradients are views of DDP buckets, and hence detach_() cannot be "
                "called on these gradients."
            )
        self._node = None
        self._output_nr = 0
        self._requires_grad = False
        return self

    # ---- conversion --------------------------------------------------------------------
    def item(self) -> Any:
        """The value of a one-element tensor as a Python number (copied to the host from a device).

        >>> import chainrule
        >>> chainrule.tensor([2.5]).item()
        2.5
        """
        if _observers() is not None:
            tell(_observers(), "host_read", self, "item")
        if self._array.size != 1:
            raise ShapeError(
                f"item: a Tensor with {self._array.size} elements cannot be converted to Scalar"
            )
        return self._array.reshape(()).item()

    def tolist(self) -> Any:
        """The values as nested Python lists (a Python number for a 0-d tensor).

        >>> import chainrule
        >>> chainrule.tensor([[1, 2], [3, 4]]).tolist()
        [[1, 2], [3, 4]]
        """
        if _observers() is not None:
            tell(_observers(), "host_read", self, "tolist")
        return self._backend.to_numpy(self._array).tolist()

    def numpy(self, *, force: bool = False) -> Any:
        """The NumPy array sharing this tensor's memory (on CPU), as PyTorch does: refused for
        a tensor that requires grad while grad mode is on (the array would escape autograd)."""
        if self._requires_grad and not force and _grad_enabled():
            raise GradError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead."
            )
        if self._backend is not numpy_backend and not force:
            raise TypeError(
                f"can't convert {self.device} device type tensor to numpy. Use Tensor.cpu() to "
                f"copy the tensor to host memory first."
            )
        if _observers() is not None:
            tell(_observers(), "host_read", self, "numpy")
        return self._backend.to_numpy(self._array)

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        array = self.numpy()
        if dtype is not None and array.dtype != dtype:
            return array.astype(dtype)
        return array.copy() if copy else array

    def __array_wrap__(
        self, array: Array, context: tuple | None = None, return_scalar: bool = False
    ) -> Tensor:
        """A NumPy ufunc's result on tensors, as a tensor sharing its memory: `np.exp(t)` is a
        tensor, as in PyTorch (a constant: NumPy's work is outside autograd, and a tensor that
        requires grad is refused by __array__). Boolean results come back as uint8, PyTorch's
        legacy (`np.isnan(t)` is a uint8 tensor there)."""
        if array.dtype == bool:
            array = array.astype("uint8")
        return Tensor._from_array(array, numpy_backend)

    def __dlpack__(self, **kwargs: Any) -> Any:
        if self._requires_grad:
            raise BufferError("Can't export tensors that require gradient, use tensor.detach()")
        return self._array.__dlpack__(**kwargs)

    def __dlpack_device__(self) -> tuple[int, int]:
        return self._array.__dlpack_device__()

    def __float__(self) -> float:
        self._check_one_element()
        self._warn_scalar_of_graph()
        return float(self._real_item("double"))

    def _check_one_element(self) -> None:
        """float(), int() and complex() of several (or no) elements: PyTorch's ValueError,
        not item()'s RuntimeError."""
        if self._array.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")

    def _warn_scalar_of_graph(self) -> None:
        """PyTorch's once-per-process warning when float() or complex() takes a tensor that
        requires grad while grad mode is on: the number leaves the graph silently."""
        if self._requires_grad and _grad_enabled():
            warn_once(
                "Converting a tensor with requires_grad=True to a scalar may lead to unexpected "
                "behavior.\nConsider using tensor.detach() first.",
                stacklevel=4,
            )

    def __int__(self) -> int:
        self._check_one_element()
        return int(self._real_item("int64_t"))

    def _real_item(self, target: str) -> Any:
        """The element as a real number: a complex one's real part when its imaginary part is
        0, else PyTorch's RuntimeError (it would not survive the conversion)."""
        value = self.item()
        if isinstance(value, complex):
            if value.imag != 0:
                raise RuntimeError(f"value cannot be converted to type {target} without overflow")
            return value.real
        return value

    def __complex__(self) -> complex:
        self._check_one_element()
        self._warn_scalar_of_graph()
        return complex(self.item())

    def __index__(self) -> int:
        if self._array.dtype.kind not in "iub" or self._array.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self) -> bool:
        if self._array.size != 1:
            count = "no values" if self._array.size == 0 else "more than one value"
            raise ShapeError(
                f"Boolean value of Tensor with {count} is ambiguous (shape {tuple(self.shape)})"
            )
        return bool(self.item())

    def __len__(self) -> int:
        if self._array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._array.shape[0]

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        if _observers() is not None:
            tell(_observers(), "host_read", self, "print")
        return format_tensor(self)

    def __format__(self, spec: str) -> str:
        """A 0-d tensor formats as its element (`f"{loss:.3f}"`); any other as `str(x)`, and
        only with an empty spec (PyTorch's TypeError otherwise, as `object.__format__`)."""
        if self._array.ndim == 0:
            return self.item().__format__(spec)
        if spec:
            raise TypeError("unsupported format string passed to Tensor.__format__")
        return str(self)

    # ---- views -----------------------------------------------------------------------------
    def _become_view_of(self, source: Tensor, kind: int = VIEW_PLAIN) -> None:
        """Share `source`'s memory bookkeeping: its base (the tensor that owns the memory, as
        PyTorch's `_base`) and version counter. Op.apply does the same inline for view ops."""
        base = source._base if source._base is not None else source
        self._base = base
        self._version_counter = base._version_counter
        self._view_version = base._version_counter.value
        if not _grad_enabled() and source._requires_grad and self._array.dtype.kind in "fcV":
            self._requires_grad = True  # as PyTorch: see _gradient_edge
        if kind == VIEW_PLAIN and not _grad_enabled():
            kind = VIEW_NO_GRAD
        elif kind == VIEW_PLAIN and source._base is not None:
            kind = source._view_kind  # a view of a view keeps how that one was made
        self._view_kind = kind

    # ---- in-place machinery --------------------------------------------------------------
    def _check_inplace(self, op_name: str, others: tuple = (), overlap: bool = True) -> bool:
        """Refuse in-place writes PyTorch refuses; True when the write must be recorded.
        `overlap=False` leaves the check of overlapping memory to the caller, after the op has
        refused its operands (PyTorch's dtype refusals come first)."""
        if type(self._version_counter) is InferenceVersionCounter and not _inference_mode.get():
            raise_inference_write()
        if self._base is not None and self._view_version != self._version_counter.value:
            self._refresh_view()
        recording = (
            _grad_enabled()
            and (
                self._requires_grad
                or any(isinstance(o, Tensor) and o._requires_grad for o in others)
                or (self._base is not None and self._base._requires_grad)  # a no_grad view
            )
            and op_name not in _NOT_RECORDED
        )
        if overlap:
            self._check_write_overlap(op_name, recording)
        if recording and self._base is not None:
            self._check_view_write(op_name)
        if recording and self._node is None and self._requires_grad:
            raise GradError(
                f"{op_name}: a leaf Variable that requires grad is being used in an in-place "
                "operation."
            )
        return recording

    def _check_write_overlap(self, op_name: str, recording: bool) -> None:
        """Refuse a write where elements share memory (an expanded tensor), as PyTorch."""
        if op_name in _OVERLAP_ALLOWED:
            return
        if self._base is not None:
            self._check_overlap(op_name, recording)
        elif type(self._array) is self._backend.array_type and 0 in self._array.strides:
            # (`.data` or `.detach()` of an expanded tensor: its stride-0 layout, not a view;
            # vmap's per-example arrays have no strides)
            self._check_overlap(op_name, recording)

    def _commit_inplace(
        self, op_name: str, result: Tensor, recording: bool, spread: str | None = None
    ) -> Tensor:
        """Write `result` into this tensor's memory and, if recorded, make it its history.
        `spread` ("set" or "add") writes only the changed elements of an expanded tensor, in
        turn (see Backend.write_changed)."""
        if result.shape != self.shape:
            raise ShapeError(
                f"{op_name}: output with shape {tuple(self.shape)} doesn't match the broadcast "
                f"shape {tuple(result.shape)}"
            )
        if result.dtype is not self.dtype:
            if result.dtype.category > self.dtype.category:
                raise DTypeError(
                    f"{op_name}: result type {result.dtype.name} can't be cast to the desired "
                    f"output type {self.dtype.name}"
                )
        node = result._node
        if recording and node is not None and node._saved is not None:
            # The op saved this tensor as an input: keep a copy of its old contents instead.
            for entry in node._saved.values():
                if getattr(entry, "value", None) is self:  # a SavedValue holding this tensor
                    entry.value = self._snapshot()
                    entry.counter = None
        if _dual_level() is not None:
            if self._base is not None:
                self._write_view_tangents(result)
            else:
                inplace_tangent(self, result)
        if _observers() is not None:
            tell(_observers(), "inplace_write", self, result)
        if self._array.size:  # (an empty expanded tensor is read-only memory with nothing in it)
            if spread is not None:
                self._backend.write_changed(self._array, result._array, spread == "add")
            else:
                try:
                    self._backend.xp.copyto(self._array, result._array, casting="unsafe")
                except ValueError:  # a read-only NumPy view of writable memory: a part of an
                    # expanded tensor that repeats nothing (x.expand(2, 3)[0])
                    target = self._backend.writable(self._array)
                    self._backend.xp.copyto(target, result._array, casting="unsafe")
        self._version_counter.value += 1
        if recording and node is not None and node._saved is not None:
            self._tie_saved_outputs(node, result._output_nr)
        if recording and self._base is not None:  # the base's history takes the write
            if result._requires_grad and result.dtype is not self.dtype:
                result = result.to(self.dtype)
            self._rebase_view(result)
        elif recording and result._requires_grad:
            if result.dtype is not self.dtype:
                result = result.to(self.dtype)
                node = result._node
            old_node, old_output_nr = self._node, self._output_nr
            self._node = node
            self._output_nr = result._output_nr
            self._requires_grad = True
            self._edge = None
            self._keep_retained_grad(old_node, old_output_nr)
        elif recording and self._node is not None:
            # The new contents depend on nothing that requires grad (fill_, zero_): cut the old
            # history, so no gradient reaches it through this tensor.
            self._node = None
            self._output_nr = 0
            self._requires_grad = False
        return self

    def _tie_saved_outputs(self, node: Node, output_nr: int) -> None:
        """An in-place op's output is this tensor, as in PyTorch: an output its node saved
        (exp_ saves exp's result) is now at this tensor's version, so a later write to it, or
        to its base or another view of the base, makes backward refuse it as PyTorch does,
        although the saved copy here still holds the old values."""
        counter = self._version_counter
        for entry in node._saved.values():
            if getattr(entry, "output_nr", None) == output_nr and hasattr(entry, "value"):
                entry.counter = counter
                entry.version = counter.value

    def _snapshot(self) -> Tensor:
        """This tensor's current value, graph position and forward-mode tangents, in memory of
        its own."""
        copy = Tensor._from_array(self._array.copy(), self._backend)
        copy._requires_grad = self._requires_grad
        copy._node = self._node
        copy._output_nr = self._output_nr
        tangents = None if self._extra is None else self._extra.get("tangent")
        if tangents is not None:
            copy._extra = {"tangent": tangents}  # replaced, never changed in place
        if self._node is None and self._requires_grad:
            copy._edge = self._gradient_edge()
        return copy

    def _inplace(self, op_name: str, function: Callable, *args: Any, **kwargs: Any) -> Tensor:
        recording = self._check_inplace(op_name, args, overlap=False)
        if recording:
            result = function(self, *args, **kwargs)
        else:
            with no_grad():
                result = function(self, *args, **kwargs)
        if op_name in _EXPANDED_WRITES and self._repeats_memory():
            if not (op_name == "fill_" and isinstance(args[0], Tensor)):
                accumulate = kwargs.get("accumulate", False)
                return self._write_expanded(op_name, result, recording, accumulate)
        self._check_write_overlap(op_name, recording)
        return self._commit_inplace(op_name, result, recording)

    def _repeats_memory(self) -> bool:
        """Whether elements of this tensor share memory locations (a stride-0 dimension of
        more than one element: an expanded tensor, or `.data` or `.detach()` of one)."""
        array = self._array
        if type(array) is not self._backend.array_type or 0 not in array.strides:
            return False
        return any(stride == 0 and size > 1 for size, stride in zip(array.shape, array.strides))

    def _write_expanded(
        self, op_name: str, result: Tensor, recording: bool, accumulate: bool
    ) -> Tensor:
        """PyTorch's fill-type write into an expanded tensor: each selected element lands in
        the memory location it shares (the base's), the last one winning. Recorded, the
        written values get gradients, and a backward into the base's old history is refused
        (ops/views.py, CopySlices)."""
        usage = _EXPANDED_WRITE_WARNINGS.get(op_name)
        if usage is not None:
            name = "index_put_" if op_name == "__setitem__" else op_name
            warnings.warn(
                f"Use of {name} on expanded tensors is deprecated. Please clone() the tensor "
                "before performing this operation. This also applies to advanced indexing e.g. "
                f"{usage}",
                UserWarning,
                stacklevel=4,
            )
        return self._commit_inplace(op_name, result, recording, "add" if accumulate else "set")


def raise_inference_write() -> None:
    """PyTorch's error for an in-place write into an inference tensor outside inference mode."""
    raise GradError(
        "Inplace update to inference tensor outside InferenceMode is not allowed.You can make "
        "a clone to get a normal tensor before doing inplace update.See "
        "https://github.com/pytorch/rfcs/pull/17 for more details."
    )


def raise_inference_saved() -> None:
    """PyTorch's error for an inference tensor saved for backward by a recorded op."""
    raise GradError(
        "Inference tensors cannot be saved for backward. Please do not use Tensors created in "
        "inference mode in computation tracked by autograd. To work around this, you can make "
        "a clone to get a normal tensor and use it in autograd, or use `torch.no_grad()` "
        "instead of `torch.inference_mode()`."
    )


# ---- from data: what `chainrule.tensor(...)` and `Tensor(...)` accept ---------------------


def dense_order(array: Array) -> tuple[int, ...]:
    """The dimensions of `array` from the outermost in memory to the innermost, when its
    elements fill their memory without gaps or overlaps (C-contiguous, or a permutation of it,
    like a transpose); else C order, (0, 1, ..., n - 1). Size-1 dimensions keep their place."""
    natural = tuple(range(array.ndim))
    if array.flags.c_contiguous:
        return natural
    order = tuple(sorted(natural, key=lambda d: (-abs(array.strides[d]), d)))
    expected = array.itemsize
    for d in reversed(order):
        if array.shape[d] != 1 and array.strides[d] != expected:
            return natural
        expected *= array.shape[d]
    return order


def inverse_of(order: tuple[int, ...]) -> tuple[int, ...]:
    """The permutation that undoes `order`."""
    return tuple(sorted(range(len(order)), key=order.__getitem__))


def obeys_layout(grad: Array, leaf: Array, order: tuple[int, ...]) -> bool:
    """PyTorch's gradient layout contract (obeys_layout_contract): the gradient of a dense
    leaf has the leaf's strides (compared where a dimension has more than one element), that of
    any other leaf is C-contiguous. `order` is `dense_order(leaf)`."""
    if order == tuple(range(leaf.ndim)):
        return bool(grad.flags.c_contiguous)
    return grad.itemsize == leaf.itemsize and all(
        size == 1 or mine == theirs
        for size, mine, theirs in zip(leaf.shape, grad.strides, leaf.strides)
    )


def _default_dtype_for(array: Array, from_python: bool) -> Any:
    """Python floats become the default dtype (float32 unless set_default_dtype changed it),
    Python complex numbers the default complex dtype (complex64, or complex128 when the
    default is float64); NumPy data keeps its dtype."""
    kind = array.dtype.kind
    if from_python and kind in "fV":
        return dtypes.get_default_dtype().numpy
    if from_python and (kind == "u" or (kind == "O" and _holds_an_int(array))):
        # NumPy holds Python ints past int64's range as uint64 or objects; PyTorch refuses them
        raise ValueError("tensor: Overflow when unpacking long long (an int outside int64)")
    if from_python and kind == "c":
        return dtypes.default_for_category(dtypes.COMPLEX).numpy
    if kind == "u" and array.dtype.itemsize > 1:
        return dtypes.int64.numpy
    if kind not in "fiubcV":
        raise TypeError(f"tensor: can't convert data of dtype {array.dtype} to a tensor")
    return array.dtype


def _holds_a_negative_float(data: Any) -> bool:
    """Whether nested lists and tuples `data` hold a negative float (a NumPy float64 scalar
    is one), walked with a stack."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, float) and item < 0:
            return True
    return False


def _holds_an_int(array: Array) -> bool:
    return any(type(item) is int for item in array.flat)


def to_array(data: Any, backend: Any, dtype: Any = None, copy: bool = True) -> Array:
    """`data` (a Tensor, array, scalar or nested sequence) as a backend array of `dtype`."""
    xp = backend.xp
    if isinstance(data, Tensor):
        array = data._array
        if data._backend is not backend:
            array = backend.from_numpy(data._backend.to_numpy(array))
        from_python = False
    elif is_array(data):
        array = (
            data
            if backend_of_array(data) is backend
            else backend.from_numpy(backend_of_array(data).to_numpy(data))
        )
        from_python = False
    else:
        from_python = not hasattr(data, "dtype")
        typed = isinstance(data, (list, tuple)) and _contains_typed(data)
        if dtype is not None and (typed or not from_python) and dtype.kind in "iub":
            _check_index_conversion(data, dtype)
        if typed:
            if dtype is None:
                dtype = _nested_dtype(data).numpy
            data = _tensors_to_lists(data)
        array = xp.asarray(data)
        if dtype is not None and (from_python or typed or array.ndim == 0):
            # (a NumPy scalar, a number typed or not, is checked as a Python number)
            _check_python_values_fit(xp, array, dtype, data)
    target = _default_dtype_for(array, from_python) if dtype is None else dtype
    if copy or array.dtype != target:
        return array.astype(target, copy=True) if copy else array.astype(target)
    return array


def _check_python_values_fit(xp: Any, array: Array, target: Any, data: Any) -> None:
    """PyTorch's checks when Python numbers (`data`, read into `array`) become a tensor of
    `target` (c10's checked_convert), where NumPy's cast would wrap or make garbage: a complex
    number into a real dtype is a TypeError, and an integer dtype refuses a value beyond its
    range (a NaN included); a negative int wraps into an unsigned dtype (-1 is 255 in uint8),
    a negative float does not (-1.0 overflows)."""
    kind = array.dtype.kind
    if kind == "c" and target.kind in "iuf":
        raise DTypeError(
            f"tensor: must be real number, not complex (data for a {from_numpy_dtype(target)} "
            "tensor)"
        )
    if target.kind not in "iu" or kind not in "iuf" or array.size == 0:
        return
    info = dtypes.iinfo(from_numpy_dtype(target))
    # (PyTorch lets a negative int, not a float, wrap into an unsigned dtype; a list of both
    # is a float array here, so its negative numbers are told apart by their Python type)
    low = -info.max if info.min == 0 else info.min
    fits = (array >= low) & (array <= info.max)  # False for a NaN
    if kind == "f" and info.min == 0:
        fits &= (array >= 0) | (xp.trunc(array) == array)
        if bool(fits.all()) and bool((array < 0).any()) and _holds_a_negative_float(data):
            fits = array >= 0
    if not bool(fits.all()):
        raise DomainError(
            f"tensor: value cannot be converted to type {from_numpy_dtype(target).name} "
            "without overflow"
        )


def _check_index_conversion(data: Any, target: Any) -> None:
    """PyTorch's refusal, for data of an integer or bool dtype, of the typed numbers it reads
    through `__index__`: a NumPy float or complex scalar (np.float64, a Python float, aside),
    a NumPy bool for an integer dtype, a tensor that is not of an integer or bool dtype."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif isinstance(item, Tensor):
            if item._array.dtype.kind not in "iub":
                raise TypeError(
                    "only integer tensors of a single element can be converted to an index"
                )
        elif hasattr(item, "dtype") and not is_array(item) and not isinstance(item, float):
            kind = item.dtype.kind
            if kind in "fcV" or (kind == "b" and target.kind != "b"):
                raise TypeError(
                    f"'numpy.{item.dtype.name}' object cannot be interpreted as an integer"
                )


def _contains_typed(data: Sequence) -> bool:
    """Whether the nested sequence holds a tensor or NumPy data (an array or a scalar such as
    np.float64): items whose dtype enters PyTorch's inference."""
    stack = [data]
    while stack:
        item = stack.pop()
        for element in item:
            if isinstance(element, Tensor) or hasattr(element, "dtype"):
                return True
            if isinstance(element, (list, tuple)):
                stack.append(element)
    return False


def _nested_dtype(data: Sequence) -> Any:
    """PyTorch's inference for a sequence holding tensors or NumPy data: their dtypes promoted
    with the default dtype of each Python scalar's category (tensor([t64, 1.5]) and
    tensor([np.float64(1.0), 2.5]) are float64)."""
    result = None
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
            continue
        if isinstance(item, Tensor):
            kind = item.dtype
        elif hasattr(item, "dtype"):
            kind = dtypes.from_numpy_dtype(item.dtype)
        else:
            kind = dtypes.default_for_category(dtypes.category_of_scalar(item))
        result = kind if result is None else dtypes.promote_types(result, kind)
    return result if result is not None else dtypes.get_default_dtype()


def _tensors_to_lists(data: Any) -> Any:
    """Tensors inside a sequence are numbers to PyTorch: a one-element tensor of any shape
    gives its value (tensor([t([1.]), t([2.])]) has shape (2,)), a longer one is refused."""
    if isinstance(data, Tensor):
        if data._array.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return data.item()
    if isinstance(data, (list, tuple)):
        return [_tensors_to_lists(item) for item in data]
    return data


class _LegacyTensorType(type):
    """The type of chainrule.FloatTensor and friends: calling one makes a Tensor of its dtype
    (the legacy constructor, `LongTensor([1, 2])`, `FloatTensor(2, 3)`), and `isinstance`
    asks for that dtype, as in PyTorch."""

    def __call__(cls, *args: object, device: device | str | None = None) -> Tensor:
        return Tensor(*args, dtype=cls.dtype_name, device=device)

    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, Tensor) and instance.dtype.name == cls.dtype_name


def _legacy_tensor_type(name: str, dtype_name: str) -> type:
    doc = (
        f"The legacy {dtype_name} tensor type: `{name}(data)` or `{name}(*size)` makes a "
        f"Tensor of dtype {dtype_name}, and `isinstance(x, {name})` asks whether x has that "
        "dtype.\n\n"
        "Args:\n"
        "    args: data to copy, or the sizes of an uninitialised tensor.\n"
        "    device (device or str, optional): where the memory lives (the CPU if None).\n\n"
        "Example:\n"
        "    >>> import chainrule\n"
        f"    >>> x = chainrule.{name}(2, 3)\n"
        f"    >>> x.dtype, tuple(x.shape), isinstance(x, chainrule.{name})\n"
        f"    (chainrule.{dtype_name}, (2, 3), True)\n"
    )
    namespace = {"dtype_name": dtype_name, "__module__": "chainrule", "__doc__": doc}
    return _LegacyTensorType(name, (), namespace)


FloatTensor = _legacy_tensor_type("FloatTensor", "float32")
DoubleTensor = _legacy_tensor_type("DoubleTensor", "float64")
HalfTensor = _legacy_tensor_type("HalfTensor", "float16")
ByteTensor = _legacy_tensor_type("ByteTensor", "uint8")
CharTensor = _legacy_tensor_type("CharTensor", "int8")
ShortTensor = _legacy_tensor_type("ShortTensor", "int16")
IntTensor = _legacy_tensor_type("IntTensor", "int32")
LongTensor = _legacy_tensor_type("LongTensor", "int64")
BoolTensor = _legacy_tensor_type("BoolTensor", "bool")
LEGACY_TYPE_BY_DTYPE = {
    kind.dtype_name: kind
    for kind in (
        FloatTensor,
        DoubleTensor,
        HalfTensor,
        ByteTensor,
        CharTensor,
        ShortTensor,
        IntTensor,
        LongTensor,
        BoolTensor,
    )
}


def set_default_tensor_type(t: type | str) -> None:
    """PyTorch's deprecated way to set the default dtype (and, for 'torch.cuda.*Tensor', the
    default device): a floating legacy type (`chainrule.DoubleTensor`) or its dotted name.
    Warns as PyTorch does; prefer `set_default_dtype` and `set_default_device`.

    Args:
        t (type or str): `FloatTensor`, `DoubleTensor`, `HalfTensor`, or a name such as
            'torch.DoubleTensor' or 'torch.cuda.FloatTensor'.

    Example:
        >>> import warnings
        >>> import chainrule
        >>> with warnings.catch_warnings():
        ...     warnings.simplefilter("ignore")
        ...     chainrule.set_default_tensor_type("torch.DoubleTensor")
        >>> chainrule.tensor([1.0]).dtype
        chainrule.float64
        >>> chainrule.set_default_dtype(chainrule.float32)
    """
    warnings.warn(
        "torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use "
        "torch.set_default_dtype() and torch.set_default_device() as alternatives.",
        UserWarning,
        stacklevel=2,
    )
    on_device = None
    if isinstance(t, str):
        *package, name = t.split(".")
        if package not in (["torch"], ["chainrule"], ["torch", "cuda"], ["chainrule", "cuda"]):
            raise AttributeError(f"module {'.'.join(package)!r} has no attribute {name!r}")
        on_device = "cuda" if package[-1] == "cuda" else "cpu"
        t = globals().get(name)
        if not isinstance(t, _LegacyTensorType):
            raise AttributeError(f"module {'.'.join(package)!r} has no attribute {name!r}")
    if not isinstance(t, _LegacyTensorType):
        raise TypeError("invalid type object: only floating-point types are supported")
    kind = dtypes.as_dtype(t.dtype_name)
    if not kind.is_floating_point:
        raise TypeError("only floating-point types are supported as the default type")
    if on_device is not None:
        set_default_device(on_device)
    dtypes.set_default_dtype(kind)


def typename(obj: object) -> str:
    """A name for `obj`'s type: a tensor's legacy type name ('torch.FloatTensor' under
    as_torch), else the class's module and name ('int' for builtins), as torch.typename.

    Args:
        obj (object): anything.

    Example:
        >>> import chainrule
        >>> chainrule.typename(chainrule.ones(2, dtype=chainrule.int64))
        'chainrule.LongTensor'
    """
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if name is None:  # an instance: its class's names
        module, name = type(obj).__module__ or "", type(obj).__qualname__
    return name if module in ("", "builtins") else f"{module}.{name}"


def is_tensor(obj: object) -> bool:
    """Whether `obj` is a chainrule Tensor (Parameters included), as torch.is_tensor.

    Args:
        obj (object): anything.

    Example:
        >>> import chainrule
        >>> chainrule.is_tensor(chainrule.ones(2)), chainrule.is_tensor([1.0, 2.0])
        (True, False)
    """
    return isinstance(obj, Tensor)


def _assert(condition: object, message: str) -> None:
    """torch._assert: Python's `assert` as a function, which model code (torchvision's ViT,
    fx-traceable layers) calls to check shapes; unlike the statement it runs under `python
    -O` too. A Tensor condition is tested by its truth value (one element).

    Args:
        condition (object): a bool or a one-element Tensor.
        message (str): the AssertionError's message when `condition` is false.

    Example:
        >>> import chainrule
        >>> chainrule._assert(chainrule.tensor(3) == 3, "three")
    """
    if not condition:
        raise AssertionError(message)


class Size(tuple):
    """torch.Size: the tuple of dimension sizes that `Tensor.shape` and `size()` return. It is
    a tuple (equal to, and hashing as, the plain tuple of the same sizes); slicing it, adding
    a tuple to it or repeating it gives a Size, as in PyTorch. One difference: an f-string
    shows it as the tuple `(2, 3)`, as chainrule's error messages name shapes.

    Args:
        sizes (iterable of ints): the dimension sizes.

    Example:
        >>> import chainrule
        >>> s = chainrule.zeros(2, 3, 4).shape
        >>> s, s[1:], s.numel(), s == (2, 3, 4)
        (chainrule.Size([2, 3, 4]), chainrule.Size([3, 4]), 24, True)
        >>> chainrule.Size([5, 6])
        chainrule.Size([5, 6])
    """

    __slots__ = ()

    def __new__(cls, sizes: Iterable[SupportsIndex] = ()) -> Size:
        sizes = tuple(sizes)
        for position, size in enumerate(sizes):
            if not hasattr(size, "__index__") or isinstance(size, bool):
                raise TypeError(
                    f"Size() takes an iterable of 'int' (item {position} is "
                    f"'{type(size).__name__}')"
                )
        return tuple.__new__(
            cls, (size if type(size) is int else size.__index__() for size in sizes)
        )

    def numel(self) -> int:
        """The number of elements of a tensor of this shape: the product of the sizes."""
        count = 1
        for size in self:
            count *= size
        return count

    def __getitem__(self, key: Any) -> Any:
        item = tuple.__getitem__(self, key)
        return _size(item) if type(key) is slice else item

    def __add__(self, other: Any) -> Size:
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(self, other))

    def __radd__(self, other: Any) -> Size:
        if not isinstance(other, tuple):
            return NotImplemented
        return Size(tuple.__add__(other, self))

    def __mul__(self, count: Any) -> Size:
        return _size(tuple.__mul__(self, count))

    __rmul__ = __mul__

    def __repr__(self) -> str:
        return f"{display_namespace()}.Size({list(self)})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        """In an f-string, the plain tuple `(2, 3)`: how chainrule's error messages name shapes
        (`str` and `repr` are PyTorch's `chainrule.Size([2, 3])`)."""
        return format(tuple(self), spec)

    def __reduce__(self) -> tuple:
        return (Size, (tuple(self),))


def _size(shape: tuple) -> Size:
    """A Size of an array's shape (plain ints already): no checks, for `shape` and `size()`."""
    return _new_tuple(Size, shape)


_new_tuple = tuple.__new__
