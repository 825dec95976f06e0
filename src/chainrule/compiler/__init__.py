"""chainrule.compile: capture a function's array work once (forward, backward, optimizer
steps) and replay it without per-op Python. See docs/how-it-works.md, "Capture and replay"."""

from chainrule.compiler.api import CompiledFunction, CompiledModule, compile  # noqa: A004
from chainrule.compiler.controls import (
    allow_in_graph,
    assume_constant_result,
    disable,
    is_compiling,
    is_dynamo_compiling,
    is_exporting,
    list_backends,
    reset,
)
from chainrule.compiler.program import Program

__all__ = [
    "CompiledFunction",
    "CompiledModule",
    "Program",
    "allow_in_graph",
    "assume_constant_result",
    "compile",
    "disable",
    "is_compiling",
    "is_dynamo_compiling",
    "is_exporting",
    "list_backends",
    "reset",
]
