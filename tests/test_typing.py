"""The public API is typed: no `Any` in an exported signature unless waived with a reason, and
mypy checks a user's program against chainrule (Tensor's math methods included, though they
are attached at import from ops/tensor_methods.py)."""

import ast
import builtins
import importlib.util
import inspect
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("api_docs", ROOT / "scripts" / "api_docs.py")
api_docs = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("api_docs", api_docs)
_spec.loader.exec_module(api_docs)

# The namespaces whose signatures are held to it: every public one (api_docs.TYPED_NAMESPACES).
TYPED = [m for m in api_docs.available_namespaces() if m.__name__ in api_docs.TYPED_NAMESPACES]
EXAMPLES = sorted((ROOT / "tests" / "typing_examples").glob("*.py"))


@pytest.mark.parametrize("module", TYPED, ids=lambda m: m.__name__)
def test_no_exported_signature_says_any(module):
    """`help()`, an editor and mypy show what each argument takes: `Tensor`, `int | None`,
    `Sequence[int]`; `Any` only where anything is right, waived in api_docs.ANY_ALLOWED."""
    found = api_docs.any_annotations(module)
    assert not found, f"{module.__name__}: Any in {', '.join(found)}"


def test_no_tensor_method_says_any():
    """Tensor's methods are what a user's code calls most: the same rule, waivers in
    api_docs.TENSOR_ANY_ALLOWED."""
    found = api_docs.tensor_method_any()
    assert not found, f"Any in {', '.join(found)}"
    stale = set(api_docs.TENSOR_ANY_ALLOWED) - set(api_docs.tensor_method_any(waived=False))
    assert not stale, f"waived but no Any is there: {sorted(stale)}"


def test_no_public_method_of_an_exported_class_says_any():
    """Module.to, Optimizer.step, Distribution.sample, the containers' and the schedulers'
    methods: the same rule for every exported class's public methods (and `__call__`), each
    checked once on the class that defines it, waivers in api_docs.METHOD_ANY_ALLOWED."""
    found = api_docs.method_any()
    assert not found, f"Any in {', '.join(found)}"
    present = api_docs.method_any(waived=False)
    stale = set(api_docs.METHOD_ANY_ALLOWED) - set(present)
    assert not stale, f"waived but no Any is there: {sorted(stale)}"
    for key, reason in api_docs.METHOD_ANY_ALLOWED.items():
        assert len(reason.split()) >= 4, f"{key}: say why Any is right"


def test_the_method_walk_sees_inherited_methods_once_on_their_own_class():
    """Linear's `to` is Module's: the walk visits each defining class once, bases that are not
    exported (the schedulers' mixins) included, and Tensor's methods are left to their walk."""
    from chainrule import distributions, nn, optim
    from chainrule._tensor import Tensor
    from chainrule.optim.lr_scheduler import LRScheduler

    classes = list(api_docs.method_classes())
    assert len(classes) == len(set(classes))
    assert {nn.Module, nn.Linear, optim.Optimizer, LRScheduler} <= set(classes)
    assert distributions.Distribution in classes and Tensor not in classes
    present = api_docs.method_any(waived=False)
    assert len(present) == len(set(present))
    assert "Module.forward:args" in present and not any(k.startswith("Linear.") for k in present)


def test_ndarray_methods_run_on_the_plain_tensor_show_tensors_signature():
    """chainrule.numpy.ndarray's `x.exp()`, `x.add_(...)` run Tensor's method on the plain
    Tensor: `help()` shows that method's signature, which test_no_tensor_method_says_any
    checks."""
    import chainrule.numpy as cnp
    from chainrule._tensor import Tensor

    for name in ("exp", "add_", "view", "exp_"):
        assert inspect.signature(getattr(cnp.ndarray, name)) == inspect.signature(
            getattr(Tensor, name)
        )


def test_no_annotation_in_tensor_methods_names_a_builtin_a_method_hides():
    """TensorMethods defines `int`, `float` and `bool` (conversions), so inside its class body a
    static tool reads `dim: int` as the method: annotations there use _int, _float, _bool."""
    tree = ast.parse((ROOT / "src/chainrule/ops/tensor_methods.py").read_text())
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "TensorMethods"]
    defined = {n.name for n in cls.body if isinstance(n, ast.FunctionDef)}
    wrong = []
    for function in (n for n in ast.walk(cls) if isinstance(n, ast.FunctionDef)):
        arguments = function.args
        every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
        every += [a for a in (arguments.vararg, arguments.kwarg) if a is not None]
        annotations = [a.annotation for a in every if a.annotation is not None]
        annotations += [function.returns] if function.returns is not None else []
        for annotation in annotations:
            for node in ast.walk(annotation):
                if isinstance(node, ast.Name) and node.id in defined and node.id in dir(builtins):
                    wrong.append(f"{function.name} (line {node.lineno}): {node.id}")
    assert not wrong, wrong


def test_any_check_reads_parameters_and_returns():
    def typed(x: int, y: list[int] | None = None) -> int:
        return x

    def loose(x: Any, *args: Any, **kwargs: int) -> tuple[Any, int]:
        return x, 1

    assert api_docs.any_in_signature(typed) == []
    assert api_docs.any_in_signature(loose) == ["x", "args", "return"]


def test_every_any_waiver_is_still_needed_and_says_why():
    """A waiver names an exported callable that still has Any there, and gives its reason."""
    present = set()
    for module in TYPED:
        present.update(api_docs.any_annotations(module, waived=False))
    for key, reason in api_docs.ANY_ALLOWED.items():
        assert key in present, f"{key}: waived but no Any is there (drop the waiver)"
        assert len(reason.split()) >= 4, f"{key}: say why Any is right"


def test_typing_excludes_only_the_namespaces_named():
    """The hook for the namespaces not yet typed: every other public namespace is checked."""
    assert set(api_docs.NAMESPACES) - set(api_docs.TYPED_NAMESPACES) == set(api_docs.NOT_YET_TYPED)


# ---- what static tools see of Tensor -------------------------------------------------------


def _class_body_names(path: Path, class_name: str) -> set[str]:
    """Names a class body defines as a static tool reads it, `if TYPE_CHECKING:` blocks
    included."""
    tree = ast.parse(path.read_text())
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == class_name]
    names = set()
    stack = list(cls.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If):
            stack.extend(node.body)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return names


# What Python itself puts in a class's namespace (not methods anyone wrote).
PYTHON_MADE = {"__dict__", "__weakref__", "__module__", "__doc__", "__slots__", "__hash__"}
PYTHON_MADE |= {"__annotations__", "__firstlineno__", "__static_attributes__", "__qualname__"}


def test_static_tools_see_every_method_tensor_has_at_run_time():
    """Tensor's methods are attached at import (ops/tensor_methods.py), which mypy does not
    run: _tensor.py makes TensorMethods Tensor's base under TYPE_CHECKING, and the in-place
    forms made in a loop are declared in its TYPE_CHECKING block. Nothing may drift."""
    from chainrule._tensor import Tensor

    static = _class_body_names(ROOT / "src/chainrule/_tensor.py", "Tensor")
    static |= _class_body_names(ROOT / "src/chainrule/ops/tensor_methods.py", "TensorMethods")
    runtime = {
        name
        for name in vars(Tensor)
        if not name.startswith("_") or (name.endswith("__") and name not in PYTHON_MADE)
    }
    missing = sorted(runtime - static)
    assert not missing, f"Tensor has at run time but no static tool sees: {missing}"


# ---- mypy on a user's program --------------------------------------------------------------


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("mypy_cache")


def _mypy(paths: list[Path], cache: Path) -> subprocess.CompletedProcess:
    """mypy as a user runs it on their program, against this checkout's chainrule (errors
    inside chainrule's own modules are not the user's, hence follow-imports=silent)."""
    env = {**os.environ, "MYPYPATH": str(ROOT / "src")}
    command = [
        sys.executable,
        "-m",
        "mypy",
        "--follow-imports=silent",
        "--disallow-untyped-defs",
        "--no-error-summary",
        "--cache-dir",
        str(cache),
        *map(str, paths),
    ]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)


def test_mypy_accepts_typed_user_programs(mypy_cache):
    """Building a model, a training step, autograd.grad and func.grad
    (tests/typing_examples/) type-check as written."""
    assert len(EXAMPLES) >= 4
    result = _mypy(EXAMPLES, mypy_cache)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_catches_a_wrong_use_of_tensor(mypy_cache, tmp_path):
    """Tensor is a real type to mypy, not Any: a misspelt method, a wrong argument type, a
    Tensor where an int is wanted and max's (values, indices) where a Tensor is wanted are
    reported."""
    program = tmp_path / "wrong.py"
    program.write_text(
        "import chainrule\n"
        "x = chainrule.ones(3)\n"
        "x.tanhh()\n"
        "x.exp_().sum(dim='rows')\n"
        "n: int = x.sum()\n"
        "m: chainrule.Tensor = x.max(0)\n"
    )
    result = _mypy([program], mypy_cache)
    assert result.returncode == 1
    assert '"Tensor" has no attribute "tanhh"' in result.stdout
    assert 'incompatible type "str"' in result.stdout
    assert 'expression has type "Tensor", variable has type "int"' in result.stdout
    assert 'expression has type "ValuesIndices", variable has type "Tensor"' in result.stdout


def test_the_examples_run(tmp_path, monkeypatch):
    """The typed programs are real programs: each runs."""
    monkeypatch.chdir(tmp_path)
    for example in EXAMPLES:
        code = compile(example.read_text(), str(example), "exec")
        exec(code, {"__name__": "typing_example"})  # noqa: S102 - our own example programs


def test_the_type_checker_is_a_test_dependency():
    assert "mypy==" in (ROOT / "pyproject.toml").read_text()
    assert inspect.ismodule(importlib.import_module("mypy"))


def test_mypy_catches_a_wrong_use_of_module_and_optimizer_methods(mypy_cache, tmp_path):
    """`to`, `train` and friends return the module's own class, not Any; ModuleDict's views,
    Optimizer.step's result, a distribution's sample shape and the hooks' signatures (a
    forward hook for another class of module, a backward hook returning an int) are typed."""
    program = tmp_path / "wrong_methods.py"
    program.write_text(
        "import chainrule\n"
        "from chainrule import nn, optim\n"
        "layer = nn.Linear(2, 3)\n"
        "n: int = layer.to('cpu').train()\n"
        "m: nn.Conv2d = layer.eval()\n"
        "keys: list[int] = list(nn.ModuleDict({'a': layer}).keys())\n"
        "loss: int = optim.SGD(layer.parameters(), lr=0.1).step(lambda: chainrule.ones(()))\n"
        "chainrule.distributions.Normal(0.0, 1.0).sample('three')\n"
        "def on_conv(module: nn.Conv2d, args: tuple[object, ...], output: object) -> None: ...\n"
        "layer.register_forward_hook(on_conv)\n"
        "layer.register_full_backward_hook(lambda module, grad_input, grad_output: 3)\n"
    )
    result = _mypy([program], mypy_cache)
    assert result.returncode == 1
    assert 'expression has type "Linear", variable has type "int"' in result.stdout
    assert 'expression has type "Linear", variable has type "Conv2d"' in result.stdout
    assert 'incompatible type "KeysView[str]"; expected "Iterable[int]"' in result.stdout
    assert 'expression has type "Tensor", variable has type "int"' in result.stdout
    assert 'incompatible type "str"; expected "Sequence[int]"' in result.stdout
    assert '"register_forward_hook" of "Module" has incompatible type' in result.stdout
    assert 'got "int", expected "tuple[Tensor, ...] | Tensor | None"' in result.stdout


def test_mypy_reads_the_classes_the_stubs_name(mypy_cache, tmp_path):
    """The names that annotations take from the stubs, because their classes sit above the
    module (_typing.pyi: Tensor in the autograd core, TensorMethods as Tensor's base;
    numpy/_typing.pyi: ndarray), are the real classes to mypy, not Any."""
    program = tmp_path / "wrong_stub_names.py"
    program.write_text(
        "import chainrule\n"
        "import chainrule.numpy as cnp\n"
        "x = chainrule.ones(3, requires_grad=True)\n"
        "chainrule.autograd.backward(3)\n"
        "n: int = x.exp().sum(0)\n"
        "m: int = cnp.sum(cnp.zeros(3), axis=0)\n"
        "cnp.zeros(3).shape.rank\n"
    )
    result = _mypy([program], mypy_cache)
    assert result.returncode == 1
    assert 'type "int"; expected "Tensor | Sequence[Tensor]"' in result.stdout
    assert 'expression has type "Tensor", variable has type "int"' in result.stdout
    assert 'expression has type "ndarray", variable has type "int"' in result.stdout
    assert '"tuple[int, ...]" has no attribute "rank"' in result.stdout
