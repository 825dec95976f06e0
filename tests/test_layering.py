"""Imports point one way (STYLE.md): errors -> backend -> autograd core -> tensor/ops/Function
-> func, numpy, linalg -> nn, optim -> data, serialization, viz, profiler -> distributed -> apps.
"""

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "chainrule"

AUTOGRAD_CORE = {"grad_mode", "node", "engine", "api", "gradcheck", "anomaly", "graph"}
LAYERS = [
    ({"errors"}, 0),
    ({"backend", "backends", "cuda"}, 1),
    ({"autograd." + name for name in AUTOGRAD_CORE}, 2),
    ({"_tensor", "ops", "autograd.function", "autograd.forward_ad", "autograd"}, 3),
    ({"func", "numpy", "linalg", "autograd.functional", "testing"}, 4),
    ({"nn", "optim"}, 5),
    ({"data", "datasets", "serialization", "viz", "profiler", "utils"}, 6),
    ({"distributed"}, 7),
    ({"apps", "__main__"}, 8),
]


def layer_of(module: str) -> int | None:
    """The layer of a dotted module path below chainrule, by its longest known prefix."""
    parts = module.split(".")
    for length in range(len(parts), 0, -1):
        prefix = ".".join(parts[:length])
        for names, layer in LAYERS:
            if prefix in names:
                return layer
    return None


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE).with_suffix("")
    parts = [p for p in relative.parts if p != "__init__"]
    return ".".join(parts)


def is_module(dotted: str) -> bool:
    if not dotted.startswith("chainrule."):
        return False
    relative = Path(*dotted.split(".")[1:])
    return (PACKAGE / relative).with_suffix(".py").exists() or (PACKAGE / relative).is_dir()


def imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.append(candidate if is_module(candidate) else node.module)
    return [name[len("chainrule.") :] for name in found if name.startswith("chainrule.")]


def test_imports_point_one_way():
    violations = []
    for path in PACKAGE.rglob("*.py"):
        name = module_name(path)
        if name == "":  # chainrule/__init__.py re-exports the public names
            continue
        own = layer_of(name)
        assert own is not None, f"{name} has no layer in tests/test_layering.py"
        for target in imported_modules(path):
            target_layer = layer_of(target)
            if target_layer is not None and target_layer > own:
                violations.append(f"{name} (layer {own}) imports {target} (layer {target_layer})")
            if name.startswith("optim") and target.startswith("nn"):
                violations.append(f"{name} imports {target}: optim never imports nn")
    assert not violations, "\n".join(violations)


def test_import_chainrule_needs_only_numpy():
    code = (
        "import sys, chainrule\n"
        "heavy = {'torch', 'scipy', 'safetensors', 'matplotlib', 'tqdm', 'sklearn', 'cupy',"
        " 'mpi4py'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
