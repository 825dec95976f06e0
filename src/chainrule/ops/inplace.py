"""PyTorch's top-level in-place functions: `torch.exp_(x)` is `x.exp_()`, the out-of-place op
written back into x by Tensor's in-place machinery (leaf and view checks, version counter,
history). Each function here only finds that method.

>>> import chainrule
>>> x = chainrule.tensor([0.0, 1.0])
>>> chainrule.exp_(x) is x, x
(True, tensor([1.0000, 2.7183]))
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from chainrule._tensor import Tensor
from chainrule.ops import tensor_methods as _tensor_methods  # noqa: F401 - Tensor's methods

# name -> (the example's tensor, the example's other arguments): the doctest of each function.
_FLOAT = "chainrule.tensor([0.5, 2.0])"
_INT = "chainrule.tensor([4, 6])"
_EXAMPLES: dict[str, tuple[str, str]] = {
    **{
        name: (_FLOAT, "")
        for name in (
            "abs acos acosh arccos arccosh arcsin arcsinh arctan arctanh asin asinh atan atanh "
            "ceil cos cosh deg2rad detach erf erfc exp exp2 expm1 fix floor frac i0 log log10 "
            "log1p log2 logit nan_to_num neg negative rad2deg reciprocal relu round rsqrt sigmoid "
            "sin sinc sinh sqrt square tan tanh trunc zero"
        ).split()
    },
    "clamp": (_FLOAT, ", 0.0, 1.0"),
    "clip": (_FLOAT, ", 0.0, 1.0"),
    "clamp_max": (_FLOAT, ", 1.0"),
    "clamp_min": (_FLOAT, ", 1.0"),
    "fill": (_FLOAT, ", 3.0"),
    "ldexp": (_FLOAT, ", chainrule.tensor([1, 2])"),
    "xlogy": (_FLOAT, ", 2.0"),
    "conj_physical": ("chainrule.tensor([1 + 2j])", ""),
    "gcd": (_INT, ", chainrule.tensor([6, 4])"),
    "index_put": (_FLOAT, ", (chainrule.tensor([1]),), chainrule.tensor(0.0)"),
    "lcm": (_INT, ", chainrule.tensor([6, 4])"),
}


def _signature(name: str) -> inspect.Signature:
    """What `chainrule.name_` takes: the in-place method's parameters, or (for the forms made
    in a loop, which take *args) the out-of-place op's; `self` named `input`, without `out`
    or `inplace`."""
    source = inspect.signature(getattr(Tensor, name + "_"))
    if "args" in source.parameters:
        source = inspect.signature(getattr(Tensor, name))
    parameters = list(source.parameters.values())
    first = parameters[0].replace(name="input", annotation="Tensor")
    rest = [p for p in parameters[1:] if p.name not in ("out", "inplace")]
    return source.replace(parameters=[first, *rest], return_annotation="Tensor")


def _inplace_function(name: str) -> Callable[..., Tensor]:
    """`name_(input, ...)`: `input.name_(...)`, with its signature and docstring."""
    method_name = name + "_"

    def function(input: Tensor, *args: Any, **kwargs: Any) -> Tensor:  # noqa: A002
        if not isinstance(input, Tensor):
            raise TypeError(
                f"{method_name}(): argument 'input' must be Tensor, not {type(input).__name__}"
            )
        return getattr(input, method_name)(*args, **kwargs)

    signature = _signature(name)
    others = "".join(
        f"    {p.name}: as `chainrule.{name}` takes it.\n"
        for p in list(signature.parameters.values())[1:]
    )
    data, arguments = _EXAMPLES[name]
    function.__name__ = function.__qualname__ = method_name
    function.__module__ = __name__
    function.__signature__ = signature  # type: ignore[attr-defined]
    function.__doc__ = f"""In-place `chainrule.{name}`: the result written into `input`, which
is returned (as `input.{method_name}(...)`; `input` keeps its dtype).

Args:
    input (Tensor): the tensor to overwrite.
{others}
Returns:
    Tensor: `input`.

Example:
    >>> import chainrule
    >>> x = {data}
    >>> chainrule.{method_name}(x{arguments}) is x
    True
"""
    return function


abs_ = _inplace_function("abs")
acos_ = _inplace_function("acos")
acosh_ = _inplace_function("acosh")
arccos_ = _inplace_function("arccos")
arccosh_ = _inplace_function("arccosh")
arcsin_ = _inplace_function("arcsin")
arcsinh_ = _inplace_function("arcsinh")
arctan_ = _inplace_function("arctan")
arctanh_ = _inplace_function("arctanh")
asin_ = _inplace_function("asin")
asinh_ = _inplace_function("asinh")
atan_ = _inplace_function("atan")
atanh_ = _inplace_function("atanh")
ceil_ = _inplace_function("ceil")
clamp_ = _inplace_function("clamp")
clamp_max_ = _inplace_function("clamp_max")
clamp_min_ = _inplace_function("clamp_min")
clip_ = _inplace_function("clip")
conj_physical_ = _inplace_function("conj_physical")
cos_ = _inplace_function("cos")
cosh_ = _inplace_function("cosh")
deg2rad_ = _inplace_function("deg2rad")
detach_ = _inplace_function("detach")
erf_ = _inplace_function("erf")
erfc_ = _inplace_function("erfc")
exp_ = _inplace_function("exp")
exp2_ = _inplace_function("exp2")
expm1_ = _inplace_function("expm1")
fill_ = _inplace_function("fill")
fix_ = _inplace_function("fix")
floor_ = _inplace_function("floor")
frac_ = _inplace_function("frac")
gcd_ = _inplace_function("gcd")
i0_ = _inplace_function("i0")
index_put_ = _inplace_function("index_put")
lcm_ = _inplace_function("lcm")
ldexp_ = _inplace_function("ldexp")
log_ = _inplace_function("log")
log10_ = _inplace_function("log10")
log1p_ = _inplace_function("log1p")
log2_ = _inplace_function("log2")
logit_ = _inplace_function("logit")
nan_to_num_ = _inplace_function("nan_to_num")
neg_ = _inplace_function("neg")
negative_ = _inplace_function("negative")
rad2deg_ = _inplace_function("rad2deg")
reciprocal_ = _inplace_function("reciprocal")
relu_ = _inplace_function("relu")
round_ = _inplace_function("round")
rsqrt_ = _inplace_function("rsqrt")
sigmoid_ = _inplace_function("sigmoid")
sin_ = _inplace_function("sin")
sinc_ = _inplace_function("sinc")
sinh_ = _inplace_function("sinh")
sqrt_ = _inplace_function("sqrt")
square_ = _inplace_function("square")
tan_ = _inplace_function("tan")
tanh_ = _inplace_function("tanh")
trunc_ = _inplace_function("trunc")
xlogy_ = _inplace_function("xlogy")
zero_ = _inplace_function("zero")

__all__ = [name + "_" for name in _EXAMPLES]
