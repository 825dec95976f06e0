"""Complex numbers: conj, real, imag, complex, view_as_real, view_as_complex, and the one rule
that makes a real op's derivative formula serve complex inputs (`holomorphic`).

PyTorch's convention: for a real loss L of a complex z = a + ib, `z.grad` is
dL/da + i dL/db (the conjugate Wirtinger derivative, times 2). A vjp is then the adjoint of the
op's real-linear Jacobian under the real inner product Re<u, v> = Re sum(u * conj(v)): for a
holomorphic f, vjp(g) = g * conj(f'(z)) while the jvp pushes the tangent forward, f'(z) * t.
A real op's vjp formula `g * f'(z)` becomes the complex one by conjugating the cotangent in and
the result out: conj(conj(g) * f'(z)) = g * conj(f'(z)), exactly, to every order, because conj
is itself an op with rules. `holomorphic(Op)` builds that variant once per op class; the public
functions pick it for complex operands, so real dtypes run the very same code as before.
"""

from __future__ import annotations

from typing import Any

from chainrule._tensor import Tensor
from chainrule.autograd.node import Node
from chainrule.backend import Array, dtypes, is_array
from chainrule.backend.dtypes import from_numpy_dtype
from chainrule.errors import DTypeError, ShapeError
from chainrule.ops.autocast import FLOAT32, autocast_policy
from chainrule.ops.conversion import Clone, cast
from chainrule.ops.op import Op, apply, elementwise_batch, named, op_label, unary_elementwise_jvp

__all__ = [
    "conj",
    "conj_physical",
    "resolve_conj",
    "resolve_neg",
    "is_conj",
    "is_neg",
    "real",
    "imag",
    "complex",
    "view_as_real",
    "view_as_complex",
]

# ---- holomorphic variants of real ops ------------------------------------------------------

_VARIANTS: dict[type, type] = {}


def holomorphic(op: type) -> type:
    """Register `op` (a class decorator) as holomorphic in each input: its vjp formula, read
    with complex numbers, is g * f'(z) and its jvp f'(z) * t. `complex_variant(op)` is then the
    class for complex operands: vjp(g) = conj(vjp_formula(conj(g))), the jvp unchanged (for a
    diagonal op, the vjp formula applied to the tangent), no fast path (fused backward kernels
    are real-only)."""
    base_jvp = op.jvp
    diagonal = base_jvp is unary_elementwise_jvp

    def vjp(ctx: Node, *grads: Any) -> tuple:
        grads = tuple(conj(g) for g in grads)
        return tuple(None if r is None else conj(r) for r in op.vjp(ctx, *grads))

    def jvp(ctx: Node, *tangents: Any) -> Any:
        if diagonal:
            return op.vjp(ctx, *tangents)[0]
        return base_jvp(ctx, *tangents)

    # Private (a leading underscore) and generated here: the op stays `op` in the docs and in
    # each family's op lists; its label and backward node's name are op's.
    variant = type(
        f"_Complex{op.__name__}",
        (op,),
        {
            "__doc__": op.__doc__,
            "__module__": __name__,
            "label": op_label(op),
            "node_name": classmethod(lambda cls: op.node_name()),
            "vjp": staticmethod(vjp),
            "jvp": staticmethod(jvp) if base_jvp is not None else None,
            "fast_vjp": None,
        },
    )
    _VARIANTS[op] = variant
    return op


def complex_variant(op: type) -> type:
    """The class that runs `op` on complex operands (see `holomorphic`); a DTypeError naming
    the op where it has none, as PyTorch refuses ops without a complex kernel."""
    variant = _VARIANTS.get(op)
    if variant is None:
        raise DTypeError(f"{op_label(op)}: not implemented for complex tensors")
    return variant


def apply_holomorphic(op: type, operands: tuple, *params: Any) -> Any:
    """apply(op, operands, *params), running the complex variant of a `holomorphic` op when
    an operand is complex: what the rules of a family of holomorphic ops (the linear layer,
    convolutions) call, so that their derivatives stay complex-correct to every order."""
    if any(x is not None and x._array.dtype.kind == "c" for x in operands):
        op = complex_variant(op)
    return apply(op, operands, *params)


def refuse_complex(name: str, *values: Any) -> None:
    """PyTorch's refusal of ops that have no complex kernel (ordering, rounding, relu...)."""
    for value in values:
        if isinstance(value, Tensor) and value._array.dtype.kind == "c":
            raise DTypeError(f"{name}: not implemented for complex tensors ({value.dtype.name})")


def _zeros_like(x: Any) -> Any:
    return Tensor._from_array(x._backend.xp.zeros_like(x._array), x._backend)


# ---- conj, real, imag, complex -------------------------------------------------------------


class Conj(Op):
    """conj(z) = a - ib. Derivatives: conj(g) backward, conj(t) forward (PyTorch's)."""

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        return ctx.xp.conj(x)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (conj(g),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return conj(t)

    batch = elementwise_batch


def conj(input: Tensor) -> Tensor:  # noqa: A002
    """The complex conjugate; a real tensor is its own (returned as is, as PyTorch's).

    Args:
        input (Tensor): any shape.

    Returns:
        Tensor: the shape and dtype of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.conj(chainrule.tensor([1 + 2j]))
        tensor([1.-2.j])
    """
    if input._array.dtype.kind != "c":
        return input
    return apply(Conj, (input,))


def conj_physical(input: Tensor) -> Tensor:  # noqa: A002
    """conj, materialised (chainrule has no lazy conjugate bit: the same as conj).

    Args:
        input (Tensor): any shape.

    Returns:
        Tensor: the shape and dtype of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.conj_physical(chainrule.tensor([1 - 1j]))
        tensor([1.+1.j])
    """
    if input._array.dtype.kind != "c":
        return conj(input)
    return named(conj(input), "ConjPhysicalBackward0")


def resolve_conj(input: Tensor) -> Tensor:  # noqa: A002
    """input itself: chainrule's conj is never lazy, so there is no bit to resolve.
    `resolve_neg` is the same function.

    Args:
        input (Tensor): any shape.

    Returns:
        Tensor: `input`.

    Example:
        >>> import chainrule
        >>> x = chainrule.tensor([1j])
        >>> chainrule.resolve_conj(x) is x
        True
    """
    return input


resolve_neg = resolve_conj


def is_conj(input: Tensor) -> bool:  # noqa: A002
    """False: chainrule's conj is never lazy (PyTorch's is_conj of a materialised tensor).

    Args:
        input (Tensor): any shape.

    Returns:
        bool: False.

    Example:
        >>> import chainrule
        >>> chainrule.is_conj(chainrule.conj(chainrule.tensor([1j])))
        False
    """
    return False


def is_neg(input: Tensor) -> bool:  # noqa: A002
    """False: chainrule's negation is never lazy (PyTorch's is_neg of a materialised tensor).

    Args:
        input (Tensor): any shape.

    Returns:
        bool: False.

    Example:
        >>> import chainrule
        >>> chainrule.is_neg(-chainrule.tensor([1.0]))
        False
    """
    return False


class Real(Op):
    """The real part a of z = a + ib, a view of z's memory (writes through it change z, as
    PyTorch's). Derivative: g + 0i backward, real(t) forward."""

    is_view = True

    @classmethod
    def node_name(cls) -> str:
        return "SelectBackward0"  # PyTorch selects from the (..., 2) real view

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        return x.real

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (cast(g, ctx.input_meta[0][1]),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return real(t)

    batch = elementwise_batch


class Imag(Op):
    """The imaginary part b of z = a + ib, a view of z's memory (writes through it change z,
    as PyTorch's). Derivative: i g backward, imag(t) forward."""

    is_view = True

    @classmethod
    def node_name(cls) -> str:
        return "SelectBackward0"  # PyTorch selects from the (..., 2) real view

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        return x.imag

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (apply(Complex, (_zeros_like(g), g)),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return imag(t)

    batch = elementwise_batch


def real(input: Tensor) -> Tensor:  # noqa: A002
    """The real part of a complex tensor (a real dtype); a real tensor is returned as is.

    Args:
        input (Tensor): any shape.

    Returns:
        Tensor: real, the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.real(chainrule.tensor([1 + 2j]))
        tensor([1.])
    """
    if input._array.dtype.kind != "c":
        return input
    return apply(Real, (input,))


def imag(input: Tensor) -> Tensor:  # noqa: A002
    """The imaginary part of a complex tensor; refused for real tensors, as PyTorch.

    Args:
        input (Tensor): complex, any shape.

    Returns:
        Tensor: real, the shape of `input`.

    Example:
        >>> import chainrule
        >>> chainrule.imag(chainrule.tensor([1 + 2j]))
        tensor([2.])
    """
    if input._array.dtype.kind != "c":
        raise DTypeError("imag: imag is not implemented for tensors with non-complex dtypes.")
    return apply(Imag, (input,))


class Complex(Op):
    """real + i imag from two real tensors of one dtype (broadcast). Derivatives: real(g) and
    imag(g), summed over broadcast dimensions; the tangent real(t) + i imag(t)."""

    label = "complex"

    @staticmethod
    def forward(ctx: Node, re: Array, im: Array) -> Array:
        re, im = ctx.xp.broadcast_arrays(re, im)
        out = ctx.xp.empty(re.shape, dtype=dtypes.complex_of(from_numpy_dtype(re.dtype)).numpy)
        out.real[...] = re
        out.imag[...] = im
        return out

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        from_meta = ctx.input_meta
        grad_re = grad_im = None
        if ctx.next_edges[0] is not None:
            grad_re = _sum_to(real(g), from_meta[0][0])
        if ctx.next_edges[1] is not None:
            grad_im = _sum_to(imag(g), from_meta[1][0])
        return (grad_re, grad_im)

    @staticmethod
    def jvp(ctx: Node, t_re: Any, t_im: Any) -> Any:
        (re_shape, re_dtype), (im_shape, _) = ctx.input_meta
        if t_re is None:
            t_re = Tensor._from_array(ctx.xp.zeros(re_shape, re_dtype.numpy), ctx.backend)
        if t_im is None:
            t_im = Tensor._from_array(ctx.xp.zeros(im_shape, re_dtype.numpy), ctx.backend)
        return apply(Complex, (t_re, t_im))

    batch = elementwise_batch


def _sum_to(x: Any, shape: tuple) -> Any:
    """x summed over the broadcast dimensions that `shape` lacks (sum_to_size, in Tensor
    methods, so this module stays below the shape ops)."""
    return x if tuple(x.shape) == tuple(shape) else x.sum_to_size(shape)


def complex(real: Tensor, imag: Tensor) -> Tensor:  # noqa: A001
    """real + i imag from two real tensors of the same floating dtype (float32 gives
    complex64), broadcast together, as torch.complex.

    Args:
        real (Tensor): float32 or float64.
        imag (Tensor): of the dtype of `real`; broadcasts with it.

    Returns:
        Tensor: complex, of the broadcast shape.

    Example:
        >>> import chainrule
        >>> chainrule.complex(chainrule.tensor([1.0]), chainrule.tensor([2.0]))
        tensor([1.+2.j])
    """
    for name, value in (("real", real), ("imag", imag)):
        if not isinstance(value, Tensor):
            raise TypeError(f"complex(): argument '{name}' must be Tensor, not {type(value)}")
    kinds = (real._array.dtype, imag._array.dtype)
    if kinds[0] != kinds[1] or kinds[0].kind not in "fV" or kinds[0].itemsize < 4:
        raise DTypeError(
            f"complex: expected both inputs to be float or double tensors of one dtype, got "
            f"{real.dtype.name} and {imag.dtype.name}"
        )
    return apply(Complex, (real, imag))


# ---- view_as_real, view_as_complex ---------------------------------------------------------


def real_pairs(xp: Any, z: Array) -> Array:
    """A complex array's memory as its (..., 2) real and imaginary parts: the real parts'
    view (z's strides, half its item size) with the parts one item apart."""
    parts = z.real
    return xp.lib.stride_tricks.as_strided(
        parts, shape=z.shape + (2,), strides=parts.strides + (parts.itemsize,)
    )


class ViewAsReal(Op):
    """z of shape (...) as its parts, shape (..., 2): a view of z's memory (writes through it
    change z, as PyTorch's). Derivative: view_as_complex(g) backward, view_as_real(t) forward."""

    label = "view_as_real"
    is_view = True

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        return real_pairs(ctx.xp, x)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (_pairs_as_complex(g),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return apply(ViewAsReal, (t,))

    @staticmethod
    def batch(b: Any, x: Any) -> Any:
        """vmap: the parts dimension is last, whatever leads."""
        return apply(ViewAsReal, (x,))


class ViewAsComplex(Op):
    """x of shape (..., 2) as complex numbers x[..., 0] + i x[..., 1]: a view of x's memory, as
    PyTorch's (view_as_complex checks x's strides allow it). Derivative: view_as_real(g)
    backward, view_as_complex(t) forward."""

    label = "view_as_complex"
    is_view = True

    @staticmethod
    def forward(ctx: Node, x: Array) -> Array:
        kind = dtypes.complex_of(from_numpy_dtype(x.dtype)).numpy
        return x.view(kind)[..., 0]  # each adjacent pair reinterpreted (view_as_complex checks)

    @staticmethod
    def vjp(ctx: Node, g: Any) -> tuple:
        return (apply(ViewAsReal, (g,)),)

    @staticmethod
    def jvp(ctx: Node, t: Any) -> Any:
        return _pairs_as_complex(t)

    @staticmethod
    def batch(b: Any, x: Any) -> Any:
        return _pairs_as_complex(x)  # the batch dimension may lie anywhere in memory


def _pairs_as_complex(pairs: Any) -> Any:
    """view_as_complex of a gradient or tangent, which may be laid out any way (a broadcast
    zero, a transposed product): made contiguous first where its pairs are not adjacent."""
    array = pairs._array
    if array.strides[-1] != array.itemsize or any(
        stride % (2 * array.itemsize) for stride in array.strides[:-1]
    ):
        pairs = apply(Clone, (pairs,), "contiguous")
    return apply(ViewAsComplex, (pairs,))


def view_as_real(input: Tensor) -> Tensor:  # noqa: A002
    """A complex tensor's real and imaginary parts in a last dimension of size 2.

    Args:
        input (Tensor): complex, any shape.

    Returns:
        Tensor: real, (*input.shape, 2).

    Example:
        >>> import chainrule
        >>> chainrule.view_as_real(chainrule.tensor([1 + 2j]))
        tensor([[1., 2.]])
    """
    if input._array.dtype.kind != "c":
        raise DTypeError("view_as_real is only supported for complex tensors")
    return apply(ViewAsReal, (input,))


@autocast_policy(FLOAT32)
def view_as_complex(input: Tensor) -> Tensor:  # noqa: A002
    """A float or double tensor whose last dimension has size 2 as complex numbers.

    Args:
        input (Tensor): float32 or float64 (*, 2).

    Returns:
        Tensor: complex, input.shape[:-1].

    Example:
        >>> import chainrule
        >>> chainrule.view_as_complex(chainrule.tensor([[1.0, 2.0]]))
        tensor([1.+2.j])
    """
    if input._array.dtype.kind not in "fV" or input._array.itemsize < 4:
        raise DTypeError(
            f"view_as_complex is only supported for float and double tensors, but got a tensor "
            f"of scalar type: {input.dtype.name}"
        )
    if input.ndim == 0 or input.shape[-1] != 2:
        raise ShapeError(
            f"view_as_complex: Tensor must have a last dimension of size 2, got shape "
            f"{tuple(input.shape)}"
        )
    array = input._array
    if not is_array(array):  # a batched tensor under vmap: its batch rule lays the pairs out
        return apply(ViewAsComplex, (input,))
    if array.strides[-1] != array.itemsize:
        raise ShapeError("view_as_complex: Tensor must have a last dimension with stride 1")
    if any(stride % (2 * array.itemsize) for stride in array.strides[:-1]):
        raise ShapeError(
            "view_as_complex: Tensor must have a stride divisible by 2 for all but last dimension"
        )
    if input._backend.data_ptr(array) % (2 * array.itemsize):
        raise ShapeError("view_as_complex: Tensor must have a storage_offset divisible by 2")
    return apply(ViewAsComplex, (input,))
