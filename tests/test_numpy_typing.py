"""chainrule.numpy's signatures carry real types: every exported callable of `chainrule.numpy`
and `chainrule.numpy.linalg` is annotated on each parameter and its return, no annotation says
`Any` (unless waived below with its reason), and every annotation resolves against
chainrule.numpy._typing (`ArrayLike`, `DTypeLike`, `ndarray`), so a type checker and `help()`
read the same names."""

import ast
import inspect
import re
import sys
import types
import typing
from pathlib import Path

import pytest

import chainrule.numpy as cnp


def _run_stub(path: Path, name: str) -> types.ModuleType:
    """A stub is Python: run it as module `name`, for the objects its names stand for."""
    module = types.ModuleType(name)
    module.__file__ = str(path)
    exec(compile(path.read_text(), str(path), "exec"), module.__dict__)  # noqa: S102 - our stub
    return module


# chainrule.numpy._typing is a stub (.pyi) that Python never imports (its docstring says why).
cnp_typing = _run_stub(Path(cnp.__file__).with_name("_typing.pyi"), "chainrule.numpy._typing")

NAMESPACES = (cnp, cnp.linalg)

# (namespace, name) -> why its signature may keep `Any`. Empty is the goal.
ANY_WAIVED: dict[tuple[str, str], str] = {}


def _exported_callables():
    for module in NAMESPACES:
        for name in module.__all__:
            value = getattr(module, name)
            if inspect.ismodule(value) or inspect.isclass(value) or not callable(value):
                continue
            if name in ("r_", "c_"):  # index tricks: `r_[...]`, no call signature
                continue
            yield pytest.param(module.__name__, name, value, id=f"{module.__name__}.{name}")


CALLABLES = list(_exported_callables())
_ANY = re.compile(r"\bAny\b")


def _annotations(function):
    signature = inspect.signature(function)
    for parameter in signature.parameters.values():
        yield parameter.name, parameter.annotation
    yield "return", signature.return_annotation


@pytest.mark.parametrize(("namespace", "name", "function"), CALLABLES)
def test_every_parameter_and_return_is_annotated(namespace, name, function):
    missing = [
        part for part, annotation in _annotations(function) if annotation is inspect.Parameter.empty
    ]
    assert not missing, f"{namespace}.{name}: no annotation for {missing}"


@pytest.mark.parametrize(("namespace", "name", "function"), CALLABLES)
def test_no_signature_says_any(namespace, name, function):
    if (namespace, name) in ANY_WAIVED:
        pytest.skip(ANY_WAIVED[namespace, name])
    loose = [f"{part}: {annotation}" for part, annotation in _annotations(function)]
    loose = [entry for entry in loose if _ANY.search(entry)]
    assert not loose, f"{namespace}.{name} is typed Any: {loose}"


def _type_checking_names(module) -> dict:
    """What `module` imports under `if _TYPE_CHECKING:` (for type checkers only), imported (the
    stub as the module it stands for, only while the blocks run)."""
    names: dict = {}
    sys.modules[cnp_typing.__name__] = cnp_typing
    try:
        for node in ast.parse(inspect.getsource(module)).body:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                block = ast.Module(body=node.body, type_ignores=[])
                exec(compile(block, module.__name__, "exec"), names)  # noqa: S102 - its imports
    finally:
        del sys.modules[cnp_typing.__name__]
    return names


@pytest.mark.parametrize(("namespace", "name", "function"), CALLABLES)
def test_every_annotation_resolves(namespace, name, function):
    """The annotations are strings at run time (names a type checker sees, imported under
    TYPE_CHECKING): each must name something real."""
    module = sys.modules[inspect.unwrap(function).__module__]
    hints = typing.get_type_hints(function, localns=_type_checking_names(module))
    assert "return" in hints


def test_the_annotations_name_the_namespaces_types():
    hints = typing.get_type_hints(
        cnp.sum, localns=_type_checking_names(sys.modules["chainrule.numpy._reductions"])
    )
    assert hints["a"] == cnp_typing.ArrayLike and hints["return"] is cnp.ndarray


def test_the_walk_sees_the_whole_namespace():
    assert len(CALLABLES) > 240
    assert {"exp", "sum", "reshape", "linalg.svd"} <= {
        p.id.removeprefix("chainrule.numpy.") for p in CALLABLES
    }


def test_every_waiver_names_an_exported_callable_and_a_reason():
    for (namespace, name), reason in ANY_WAIVED.items():
        assert name in {p.values[1] for p in CALLABLES if p.values[0] == namespace}
        assert len(reason.split()) >= 5, f"{namespace}.{name}: say why it may stay Any"


def test_the_check_catches_any():
    def loose(a: "typing.Any", axis: "int | None" = None) -> "ndarray":  # noqa: F821
        return a

    assert [p for p, a in _annotations(loose) if _ANY.search(str(a))] == ["a"]
