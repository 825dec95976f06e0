"""The `out=` argument for the namespace functions that PyTorch gives one and whose definitions
do not take it: each name here is the function of the same name wrapped, so that
`chainrule.mm(a, b, out=c)` computes as `mm(a, b)` and writes the result into `c` by
PyTorch's rule for that op's `out` dtype (see `conversion.write_out`), resized when its shape
differs. Tensor methods are untouched (they have no `out`). The rule of each op was read off
PyTorch 2.13 by trying outs of every dtype:

- "same": out must have the result's dtype (the matrix products, the selections and
  gathers, reductions to indices or booleans, the predicates, tril/triu, ...);
- "cast": the result casts into a dtype of its kind or higher (float32 into float16, float64
  or complex64; never an integer or bool), as elementwise arithmetic;
- "real": "cast" without complex (std, var, nanmean refuse a complex out);
- "any": any dtype (logical_not);
- "kind": "cast" into a dtype of the result's kind only, complex or real (torch.fft's
  transforms: chainrule.fft wraps them).

std, var, nanmean and logsumexp compute in a wider floating out's dtype, as PyTorch's;
the others compute in their own and cast. PyTorch writes the out of its composite functions
(inner, quantile, nanquantile) with a recorded copy, so there an input that requires grad
is taken and `out` joins the graph; the others refuse it, as `write_out` does.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from chainrule._tensor import Tensor
from chainrule.autograd.grad_mode import is_grad_enabled, no_grad
from chainrule.errors import DTypeError
from chainrule.ops import complex as _complex
from chainrule.ops import composites, elementwise, indexing, linalg, reduction, shape, special
from chainrule.ops.conversion import write_out
from chainrule.ops.op import Computed, apply
from chainrule.ops.views import _take_history

_COMPOSITE = frozenset({"inner", "quantile", "nanquantile"})
# PyTorch's out= forms with no derivative formula: an input that requires grad is taken, and
# `out` joins the graph under a node that refuses backward (grad_fn NotImplemented, named for
# the ATen op that wrote it: diag of a vector is diag_embed, of a matrix diagonal_copy).
_NO_DERIVATIVE_OUT = frozenset({"diag", "heaviside", "conj_physical"})
# The 1-D inverse transforms of a real input, PyTorch's conj of an r2c, whose out must have
# the result's exact dtype (a complex128 out of a float32 input is refused).
_SAME_FOR_REAL_INPUT = frozenset({"ifft", "ihfft"})
_IN_OUT_DTYPE = frozenset({"logsumexp", "std", "var", "nanmean"})


def _wider_float(out: Any, result: Tensor) -> bool:
    """Whether `out` is a real floating tensor of more bits than the floating `result`."""
    return (
        isinstance(out, Tensor)
        and out.dtype.is_floating_point
        and result.dtype.is_floating_point
        and out.dtype.itemsize > result.dtype.itemsize
    )


def _recorded_copy(name: str, result: Tensor, out: Tensor) -> Tensor:
    """PyTorch's out= of a composite function whose result requires grad: `out` (of the
    result's dtype) resized to the result's shape, then a recorded copy_ into it."""
    if out.dtype is not result.dtype:
        raise DTypeError(
            f"{name}: Found dtype {out.dtype.name} but expected {result.dtype.name} (out= must "
            "have the result's dtype)"
        )
    if out.shape != result.shape:
        with no_grad():
            out.resize_(result.shape)
    return out.copy_(result)


class OutWithoutDerivative(Computed):
    """An out= write PyTorch records without a derivative: backward through it raises."""


class DiagEmbedOut(OutWithoutDerivative):
    """`diag(vector, out=)`: PyTorch's out= variant has no derivative (aten::diag_embed)."""

    aten = "diag_embed"


class DiagonalCopyOut(OutWithoutDerivative):
    """`diag(matrix, out=)`: no derivative (aten::diagonal_copy)."""

    aten = "diagonal_copy"


class HeavisideOut(OutWithoutDerivative):
    """`heaviside(x, values, out=)`: no derivative (aten::heaviside)."""

    aten = "heaviside"


class ConjPhysicalOut(OutWithoutDerivative):
    """`conj_physical(x, out=)`: no derivative (aten::conj_physical)."""

    aten = "conj_physical"


_OUT_NODES = {op.aten: op for op in (DiagEmbedOut, DiagonalCopyOut, HeavisideOut, ConjPhysicalOut)}


def _written_without_derivative(name: str, operands: tuple, result: Tensor, out: Any) -> Any:
    """PyTorch's out= of an op without a derivative formula, an input requiring grad (among
    the call's `operands`, positional then keyword): the values written into `out` (refused,
    as any out=, where `out` itself requires grad), and `out` in the graph under a
    NotImplemented node that raises on backward."""
    if isinstance(out, Tensor) and out.requires_grad:
        return write_out(name, result, out, "same")  # PyTorch's refusal
    with no_grad():
        written = write_out(name, result, out, "same")
    inputs = tuple(a for a in operands if isinstance(a, Tensor))
    aten = name
    if name == "diag":
        aten = "diag_embed" if inputs[0].ndim == 1 else "diagonal_copy"
    _take_history(written, apply(_OUT_NODES[aten], inputs, written._array))
    return written


def _documented_out(doc: str) -> str:
    """`doc` with `out` added to the end of its Args section (at its indentation)."""
    lines = doc.split("\n")
    header = next((i for i, line in enumerate(lines) if line.strip() == "Args:"), None)
    if header is None:
        return doc
    indent = lines[header][: len(lines[header]) - len(lines[header].lstrip())] + "    "
    end = next((i for i in range(header + 1, len(lines)) if not lines[i].strip()), len(lines))
    entry = f"{indent}out (Tensor, optional): write the result here (PyTorch's out= dtype rule)."
    return "\n".join(lines[:end] + [entry] + lines[end:])


def with_out(name: str, function: Callable[..., Any], rule: str) -> Callable[..., Any]:
    """`function` taking PyTorch's keyword-only `out`, written by `rule`."""

    @functools.wraps(function)
    def taking_out(*args: Any, out: Tensor | None = None, **kwargs: Any) -> Any:
        if out is None:
            return function(*args, **kwargs)
        result = function(*args, **kwargs)
        if name in _IN_OUT_DTYPE and _wider_float(out, result) and args:
            # (PyTorch's reductions compute in a wider floating out's dtype)
            result = function(args[0].to(out.dtype), *args[1:], **kwargs)
        if rule == "real" and isinstance(out, Tensor) and out.dtype.is_complex:
            raise DTypeError(f"{name}: a complex out is not implemented for a real result")
        if rule == "kind" and isinstance(out, Tensor) and out.is_complex() != result.is_complex():
            kind = "complex" if result.is_complex() else "real floating point"
            raise DTypeError(f"{name} expects a {kind} output tensor, but got {out.dtype.name}")
        if name in _COMPOSITE and isinstance(out, Tensor) and result.requires_grad:
            return _recorded_copy(name, result, out)
        if name in _NO_DERIVATIVE_OUT and result.requires_grad and is_grad_enabled():
            return _written_without_derivative(name, (*args, *kwargs.values()), result, out)
        rule_of_write = "cast" if rule in ("real", "kind") else rule
        first = args[0] if args else kwargs.get("input")
        if name in _SAME_FOR_REAL_INPUT and isinstance(first, Tensor) and not first.is_complex():
            rule_of_write = "same"
        return write_out(name, result, out, rule_of_write)  # type: ignore[arg-type]

    taking_out.__doc__ = _documented_out(function.__doc__ or "")
    signature = inspect.signature(function)
    if "out" not in signature.parameters:
        out = inspect.Parameter("out", inspect.Parameter.KEYWORD_ONLY, default=None)
        parameters = list(signature.parameters.values())
        position = next(
            (i for i, p in enumerate(parameters) if p.kind is inspect.Parameter.VAR_KEYWORD),
            len(parameters),
        )
        parameters.insert(position, out)
        taking_out.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    return taking_out


# Each name PyTorch's: the function of its module, with `out=` by that op's rule.
stack = with_out("stack", shape.stack, "cast")
hstack = with_out("hstack", shape.hstack, "cast")
vstack = with_out("vstack", shape.vstack, "cast")
dstack = with_out("dstack", shape.dstack, "cast")
column_stack = with_out("column_stack", shape.column_stack, "cast")
row_stack = with_out("row_stack", shape.row_stack, "cast")
mm = with_out("mm", linalg.mm, "same")
bmm = with_out("bmm", linalg.bmm, "same")
mv = with_out("mv", linalg.mv, "same")
dot = with_out("dot", linalg.dot, "same")
vdot = with_out("vdot", linalg.vdot, "same")
inner = with_out("inner", linalg.inner, "same")
outer = with_out("outer", linalg.outer, "cast")
ger = with_out("ger", linalg.ger, "cast")
addmm = with_out("addmm", linalg.addmm, "same")
addmv = with_out("addmv", linalg.addmv, "same")
addr = with_out("addr", linalg.addr, "cast")
baddbmm = with_out("baddbmm", linalg.baddbmm, "same")
addbmm = with_out("addbmm", linalg.addbmm, "same")
kron = with_out("kron", linalg.kron, "cast")
tril = with_out("tril", linalg.tril, "same")
triu = with_out("triu", linalg.triu, "same")
diag = with_out("diag", linalg.diag, "same")
addcmul = with_out("addcmul", linalg.addcmul, "cast")
addcdiv = with_out("addcdiv", linalg.addcdiv, "cast")
argmax = with_out("argmax", reduction.argmax, "same")
argmin = with_out("argmin", reduction.argmin, "same")
amax = with_out("amax", reduction.amax, "same")
amin = with_out("amin", reduction.amin, "same")
all = with_out("all", reduction.all, "same")  # noqa: A001 - PyTorch's name
any = with_out("any", reduction.any, "same")  # noqa: A001 - PyTorch's name
logcumsumexp = with_out("logcumsumexp", reduction.logcumsumexp, "same")
logsumexp = with_out("logsumexp", reduction.logsumexp, "cast")
std = with_out("std", reduction.std, "real")
var = with_out("var", reduction.var, "real")
nanmean = with_out("nanmean", reduction.nanmean, "real")
msort = with_out("msort", reduction.msort, "same")
quantile = with_out("quantile", reduction.quantile, "same")
nanquantile = with_out("nanquantile", reduction.nanquantile, "same")
gather = with_out("gather", indexing.gather, "same")
index_select = with_out("index_select", indexing.index_select, "same")
masked_select = with_out("masked_select", indexing.masked_select, "same")
take_along_dim = with_out("take_along_dim", indexing.take_along_dim, "same")
histc = with_out("histc", indexing.histc, "same")
renorm = with_out("renorm", composites.renorm, "same")
index_copy = with_out("index_copy", composites.index_copy, "same")
lerp = with_out("lerp", elementwise.lerp, "cast")
nan_to_num = with_out("nan_to_num", elementwise.nan_to_num, "same")
logical_not = with_out("logical_not", elementwise.logical_not, "any")
xlogy = with_out("xlogy", elementwise.xlogy, "cast")
heaviside = with_out("heaviside", elementwise.heaviside, "same")
float_power = with_out("float_power", elementwise.float_power, "same")
deg2rad = with_out("deg2rad", elementwise.deg2rad, "cast")
rad2deg = with_out("rad2deg", elementwise.rad2deg, "cast")
angle = with_out("angle", elementwise.angle, "cast")
sgn = with_out("sgn", elementwise.sgn, "same")
signbit = with_out("signbit", elementwise.signbit, "same")
isposinf = with_out("isposinf", elementwise.isposinf, "same")
isneginf = with_out("isneginf", elementwise.isneginf, "same")
logit = with_out("logit", elementwise.logit, "cast")
nextafter = with_out("nextafter", elementwise.nextafter, "cast")
ldexp = with_out("ldexp", elementwise.ldexp, "same")
polar = with_out("polar", elementwise.polar, "same")
nonzero = with_out("nonzero", elementwise.nonzero, "same")
bitwise_not = with_out("bitwise_not", elementwise.bitwise_not, "same")
complex = with_out("complex", _complex.complex, "same")  # noqa: A001 - PyTorch's name
conj_physical = with_out("conj_physical", _complex.conj_physical, "same")
i0 = with_out("i0", special.i0, "cast")
lgamma = with_out("lgamma", special.lgamma, "cast")
digamma = with_out("digamma", special.digamma, "cast")
erfinv = with_out("erfinv", special.erfinv, "cast")
polygamma = with_out("polygamma", special.polygamma, "cast")
mvlgamma = with_out("mvlgamma", special.mvlgamma, "cast")
igamma = with_out("igamma", special.gammainc, "cast")
igammac = with_out("igammac", special.gammaincc, "cast")

__all__ = [
    "addbmm",
    "addcdiv",
    "addcmul",
    "addmm",
    "addmv",
    "addr",
    "all",
    "amax",
    "amin",
    "angle",
    "any",
    "argmax",
    "argmin",
    "baddbmm",
    "bitwise_not",
    "bmm",
    "column_stack",
    "complex",
    "conj_physical",
    "deg2rad",
    "diag",
    "digamma",
    "dot",
    "dstack",
    "erfinv",
    "float_power",
    "gather",
    "ger",
    "heaviside",
    "histc",
    "hstack",
    "i0",
    "igamma",
    "igammac",
    "index_copy",
    "index_select",
    "inner",
    "isneginf",
    "isposinf",
    "kron",
    "ldexp",
    "lerp",
    "lgamma",
    "logcumsumexp",
    "logical_not",
    "logit",
    "logsumexp",
    "masked_select",
    "mm",
    "msort",
    "mv",
    "mvlgamma",
    "nan_to_num",
    "nanmean",
    "nanquantile",
    "nextafter",
    "nonzero",
    "outer",
    "polar",
    "polygamma",
    "quantile",
    "rad2deg",
    "renorm",
    "row_stack",
    "sgn",
    "signbit",
    "stack",
    "std",
    "take_along_dim",
    "tril",
    "triu",
    "var",
    "vdot",
    "vstack",
    "xlogy",
]
