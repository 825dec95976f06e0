"""A Griffe extension for the chainrule site: the constructor signature of a class made by
`__new__` (Tensor, Size, nn.Parameter) or by its metaclass (the legacy `FloatTensor` types).

Griffe reads a class's parameters from its `__init__`; these classes have none of their own,
so their docstrings' Args sections would name parameters "not in the signature" and fail the
strict build. This adds the `__init__` that `inspect.signature` reports for them (what `help()`
shows), and only for them.
"""

from __future__ import annotations

import inspect
from typing import Any

import griffe

_KINDS = {
    inspect.Parameter.POSITIONAL_ONLY: griffe.ParameterKind.positional_only,
    inspect.Parameter.POSITIONAL_OR_KEYWORD: griffe.ParameterKind.positional_or_keyword,
    inspect.Parameter.VAR_POSITIONAL: griffe.ParameterKind.var_positional,
    inspect.Parameter.KEYWORD_ONLY: griffe.ParameterKind.keyword_only,
    inspect.Parameter.VAR_KEYWORD: griffe.ParameterKind.var_keyword,
}


def _annotation(value: Any) -> str | None:
    if value is inspect.Parameter.empty:
        return None
    return value if isinstance(value, str) else inspect.formatannotation(value)


def constructor_parameters(cls: type) -> griffe.Parameters | None:
    """The parameters a call of `cls` takes, when no `__init__` of its own MRO says so (None
    otherwise, or when Python cannot tell)."""
    if cls.__init__ is not object.__init__:
        return None
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):
        return None
    return griffe.Parameters(
        *(
            griffe.Parameter(
                p.name,
                annotation=_annotation(p.annotation),
                kind=_KINDS[p.kind],
                default=None if p.default is inspect.Parameter.empty else repr(p.default),
            )
            for p in signature.parameters.values()
        )
    )


class Constructors(griffe.Extension):
    def on_class_instance(self, *, node: Any, cls: griffe.Class, **kwargs: Any) -> None:
        runtime = getattr(node, "obj", None)
        if not isinstance(runtime, type) or "__init__" in cls.members:
            return
        parameters = constructor_parameters(runtime)
        if parameters is None or not len(parameters):
            return
        init = griffe.Function("__init__", parameters=parameters, returns="None")
        cls.set_member("__init__", init)
