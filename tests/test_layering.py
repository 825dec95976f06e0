"""Imports point one way (docs/how-it-works.md, "Map of the house").

The module graph is read from the source (every `import`, at any depth), so a cycle or an upward
import fails here before it can fail at import time. Edges are what Python runs:
- `import chainrule.a.b` and `from chainrule.a import b` (b a module) reach module `a.b`, and
  the `__init__` of every package above it (`a`) except the root and the importer's own;
- `import chainrule` and `from chainrule import x` reach the root package, which loads every
  layer: library code never does that;
- `from chainrule.a import x` (x a name) reaches `a`.

What static tools read is held to one way too: the module-level imports under
`if TYPE_CHECKING:` count as well (each reaching the module it names), and still form no cycle.
A class that annotations below its layer must name (Tensor in the autograd core) comes from a
stub with no module beside it, `_typing.pyi` or `numpy/_typing.pyi`: static tools read it,
Python never imports it, and it is no edge (docs/how-it-works.md, "Map of the house").
"""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "chainrule"

# Lowest first. A module may import its own rank or lower; within a rank the graph must still
# be acyclic. The op families each have a rank of their own: that order is the file layout's.
LAYERS: list[tuple[str, set[str]]] = [
    ("errors", {"errors"}),
    # torch.futures: plain Python (a value to come, callbacks), so any layer may return one;
    # distributed's Work.get_future and DDP's communication hooks do.
    ("futures", {"futures"}),
    (
        "backend",
        {"backend", "backends"}
        | {f"backends.{name}" for name in ("cuda", "cudnn", "mkldnn", "mps", "openmp")},
    ),
    (
        "autograd core (knows no Tensor)",
        {
            "autograd",
            "autograd.grad_mode",
            "autograd.forward_ad",
            "autograd.node",
            "autograd.observers",
            "autograd.engine",
            "autograd.api",
            "autograd.anomaly",
            "autograd.gradcheck",
        },
    ),
    ("sizes and dims; the ops package's docstring", {"ops.arguments", "ops"}),
    ("Tensor", {"_tensor"}),
    ("saved values and their hooks", {"autograd.saved", "autograd.graph"}),
    ("ops: the Op base and apply", {"ops.op"}),
    ("ops: dtype promotion, Cast, Clone", {"ops.conversion"}),
    # autocast's state and the casts the listed ops (matmul, linear, conv, losses) ask of it.
    ("ops: autocast", {"ops.autocast"}),
    # conj, real, imag and the holomorphic variants every family's complex operands run.
    ("ops: complex numbers", {"ops.complex"}),
    ("ops: shape and broadcasting", {"ops.shape"}),
    ("ops: creation", {"ops.creation", "ops.ranges"}),
    ("ops: elementwise", {"ops.elementwise"}),
    # PyTorch's CPU selection and sorting steps (quickselect, nth_element, std::sort) on Python
    # lists: which of equal elements kthvalue, topk, sort, mode and unique return. Plain Python,
    # so below every op family that needs it (unique, in indexing, too).
    ("ops: the tie order of selections", {"ops.tie_order"}),
    ("ops: indexing", {"ops.indexing"}),
    ("ops: in-place writes through views (CopySlices)", {"ops.views"}),
    ("ops: activations", {"ops.activation"}),
    ("ops: reduction", {"ops.reduction"}),
    # Built on elementwise ops (its kernels are SciPy's, through backend/special.py); above the
    # reductions so a special function may use them, below everything that may want lgamma.
    ("ops: special functions", {"ops.special"}),
    # torch.special's Bessel and Airy functions and orthogonal polynomials (no derivatives).
    ("ops: more special functions", {"ops.special_functions"}),
    ("ops: linear algebra", {"ops.linalg"}),
    (
        "ops: decompositions (svd, eigh, qr, LU, matrix_exp) and what builds on them",
        {"ops.decompositions"},
    ),
    # torch.linalg's vander, householder_product, tensorsolve, ... and PyTorch's top-level
    # torch.cholesky, torch.lu, torch.svd ...: compositions of the decompositions.
    ("ops: linear algebra composed of the decompositions", {"ops.linalg_extra"}),
    ("ops: discrete Fourier transforms", {"ops.fft"}),
    ("ops: nn kernels' shared checks", {"ops.nn_common"}),
    # Sparse COO tensors: a Tensor subclass whose ops are the dense ones above on its values;
    # below embedding, whose gradient with sparse=True is one.
    ("ops: sparse COO tensors", {"ops.sparse"}),
    ("ops: gather and scatter of rows, embedding", {"ops.embedding"}),
    ("ops: linear layer", {"ops.linear"}),
    # LSTM and GRU over a whole sequence as one op, from the elementwise ops above.
    ("ops: recurrent layers' sequence loops", {"ops.recurrent"}),
    ("ops: convolution", {"ops.convolution"}),
    ("ops: pooling", {"ops.pooling"}),
    ("ops: fractional max pooling, composed of gather and max", {"ops.fractional_pooling"}),
    ("ops: interpolation", {"ops.interpolation"}),
    ("ops: normalization", {"ops.normalization"}),
    ("ops: dropout", {"ops.dropout"}),
    # torch.fake_quantize_*: rounding to an affine grid with a straight-through gradient.
    ("ops: fake quantisation", {"ops.quantization"}),
    ("ops: losses", {"ops.losses"}),
    ("ops: the other losses, composed of the ops above", {"ops.losses_extra"}),
    ("ops: index_fill, masked_scatter, put, cov and others, composed", {"ops.composites"}),
    ("ops: stft and istft, composed of the transforms", {"ops.spectral"}),
    ("ops: as_strided and empty_strided", {"ops.strided"}),
    ("ops: the views' *_copy forms, composed", {"ops.view_copies"}),
    # renorm, fill_diagonal_, the random fills, the in-place shape changes, legacy svd/qr/lu.
    ("ops: the longer Tensor methods, composed", {"ops.method_extras"}),
    (
        "Tensor's methods; custom Functions (and hand-written rules' nodes, on Function)",
        {"ops.tensor_methods", "autograd.function", "autograd.custom_rule", "autograd.variable"},
    ),
    # torch.exp_(x) and the other top-level in-place forms: Tensor's in-place methods, by name.
    ("ops: the top-level in-place functions", {"ops.inplace"}),
    # torch._foreach_add and the rest: Tensor's methods over a list of tensors.
    ("ops: the multi-tensor (_foreach_*) functions", {"ops.foreach"}),
    # torch.mm(..., out=) and the other namespace functions whose definitions lack out=.
    ("ops: out= for the functions that lack it", {"ops.out_arguments"}),
    # chainrule.add, mul, cat, index_select, ...: the dense ones above, or their sparse forms.
    ("ops: the namespace functions' sparse forms", {"ops.sparse_forms"}),
    (
        "transforms and namespaces",
        {"func", "numpy", "linalg", "fft", "special", "testing", "autograd.functional", "cuda"}
        | {"amp", "cpu"}  # amp: autocast (ops.autocast) and GradScaler; cpu, cuda: amp's aliases
        | {"accelerator", "random", "version"}  # torch.accelerator (cuda's), torch.random
        | {"types"}  # torch.types: the aliases PyTorch's signatures use
        | {"return_types"}  # torch.return_types: the named tuples the ops modules define
        | {"library"}  # torch.library.custom_op: operators made of autograd.Function
        | {"storage"}  # torch.storage: the storage classes of ops.strided
        | {"sparse"}  # torch.sparse: ops.sparse's products, sums and softmax
        | {"signal", "signal.windows", "xpu"}  # torch.signal.windows; torch.xpu (no XPU)
        | {"quasirandom"}  # torch.quasirandom.SobolEngine
        | {"_C"},  # torch._C: the usage-logging no-op torchvision's models call
    ),
    # Probability distributions: Tensor math, ops.special and ops.linalg; never nn or optim.
    ("distributions", {"distributions"}),
    # Capture and replay: the tracer watches ops, the engine and optimizers through observers,
    # and knows modules by their methods, so nn and optim may offer compile (Module.compile).
    ("compile", {"compiler"}),
    # The collectives need only Tensor and the backend's host copies, and what is built on
    # them sits higher: nn.parallel's DistributedDataParallel, data's DistributedSampler.
    ("distributed", {"distributed"}),
    ("nn, optim", {"nn", "optim"}),
    # torch.layer_norm, torch.embedding, ...: F's functions under PyTorch's top-level signatures.
    ("nn.functional's top-level forms", {"nn_forms"}),
    # Averaged models are Modules and update_bn finds BatchNorm layers: optim's one module
    # above nn (torch.optim.swa_utils imports torch.nn too).
    ("optim.swa_utils", {"optim.swa_utils"}),
    (
        "data and tools",
        {"data", "datasets", "serialization", "torch_format", "viz", "profiler", "utils", "jit"}
        | {"multiprocessing"}  # torch.multiprocessing: Python's, with spawn
        | {"hub"},  # torch.hub: the checkpoint cache, read by serialization's load
    ),
    ("the package root, which loads the outer layers on first use", {""}),
    # torch.functional: the root's einsum, norm, split, ... under PyTorch's module name.
    ("apps", {"apps", "__main__", "as_torch", "functional"}),
]

# Imported inside functions on purpose. Optional third-party packages load where they are
# needed, with an error saying how to install them; two standard modules are deferred because
# only a rare path needs them and `import chainrule` pays for every import (benchmarks: import).
LAZY_IMPORTS = {
    "cupy": "optional: the GPU backend",
    "cupyx": "optional: the GPU backend",
    "mpi4py": "optional: distributed training",
    "graphviz": "optional: graph pictures",
    "matplotlib": "optional: training curves",
    "PIL": "optional: TensorBoard images (Pillow, which matplotlib brings)",
    "tqdm": "optional: progress bars",
    "sklearn": "optional: the bundled digits data",
    "scipy": "optional: float64 erf/erfc, chainrule.special's kernels (backend/special.py)",
    "threadpoolctl": "set_num_threads only",
    "numba": "optional: compiled replay (compiler/fusion.py) and kernels (backend/jit.py)",
    "torch": "testing only: the oracle",
    "traceback": "anomaly mode only",
    "secrets": "seeding from entropy only",
    "ctypes": "the allocator tuning only",
    "multiprocessing": "shared-memory tensors only (backend/shared.py): ~40 ms of import time",
}

# Where NumPy may be named: the backend seam, and three places that are about NumPy itself.
NUMPY_ALLOWED = {
    "backend": "the seam: the one place that names NumPy (or CuPy)",
    "numpy": "chainrule.numpy is NumPy's API; it takes NumPy arrays and dtypes as arguments",
    "testing": "compares ops with NumPy float64 finite differences on the host",
    "autograd.gradcheck": "finite differences in float64 on the host, as torch.autograd's",
}


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    line: int


def module_name(path: Path, root: Path) -> str:
    relative = path.relative_to(root).with_suffix("")
    return ".".join(p for p in relative.parts if p != "__init__")


def _is_package(name: str, root: Path) -> bool:
    return (root / Path(*name.split("."))).is_dir() if name else True


def _exists(name: str, root: Path) -> bool:
    path = root / Path(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _targets(dotted: str, importer: str, root: Path) -> list[str]:
    """The modules an import of `dotted` (below the package) runs: it and its packages' inits,
    except the root's and the importer's own packages' (already running)."""
    parts = dotted.split(".") if dotted else []
    own = {".".join(importer.split(".")[:i]) for i in range(len(importer.split(".")) + 1)}
    found = [dotted]
    for length in range(1, len(parts)):
        parent = ".".join(parts[:length])
        if parent not in own and (root / Path(*parts[:length]) / "__init__.py").exists():
            found.append(parent)
    return found


def import_edges(
    root: Path, package: str = "chainrule", static: bool = False
) -> tuple[list[Edge], dict[str, list]]:
    """Every edge between modules of the package, and each module's function-level imports.

    `static`: the graph of what static tools read instead of what Python runs: the imports
    under `if TYPE_CHECKING:` count too, and an import reaches only the module it names (a
    package's `__init__` may name its lazily loaded submodules for static tools), and only a
    module: a stub with no module beside it is no edge. The before-stop hook counts the same.
    """
    edges: list[Edge] = []
    nested: dict[str, list] = {}
    prefix = package + "."
    for path in sorted(root.rglob("*.py")):
        source = module_name(path, root)
        tree = ast.parse(path.read_text())
        top_level = {id(node) for node in tree.body}
        static_only = set() if static else _type_checking_imports(tree)
        for node in ast.walk(tree):
            if id(node) in static_only:
                continue
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                base = node.module
                names = []
                for alias in node.names:
                    candidate = f"{base}.{alias.name}"
                    inside = candidate[len(prefix) :] if candidate.startswith(prefix) else None
                    is_module = inside is not None and _exists(inside, root)
                    names.append(candidate if is_module else base)
            else:
                continue
            is_nested = not _at_module_level(node, tree, top_level)
            for name in names:
                if is_nested:
                    nested.setdefault(source, []).append((name, node.lineno))
                if name == package:
                    edges.append(Edge(source, "", node.lineno))
                elif name.startswith(prefix):
                    inside = name[len(prefix) :]
                    if not static:
                        targets = _targets(inside, source, root)
                    else:  # a stub with no module beside it (_typing.pyi) is read, never run
                        targets = [inside] if _exists(inside, root) else []
                    for target in targets:
                        if target != source:
                            edges.append(Edge(source, target, node.lineno))
    return edges, nested


def _type_checking_imports(tree: ast.Module) -> set[int]:
    """Imports under `if TYPE_CHECKING:`, which only static tools run."""
    found = set()
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            found.update(id(child) for child in ast.walk(node))
    return found


def _at_module_level(node: ast.AST, tree: ast.Module, top_level: set[int]) -> bool:
    """Top-level statements, and those inside top-level `if`/`try` blocks (TYPE_CHECKING)."""
    stack = [n for n in tree.body if isinstance(n, (ast.If, ast.Try))]
    inside = set(top_level)
    while stack:
        block = stack.pop()
        for child in ast.iter_child_nodes(block):
            if isinstance(child, ast.stmt):
                inside.add(id(child))
                if isinstance(child, (ast.If, ast.Try)):
                    stack.append(child)
    return id(node) in inside


def find_cycle(edges: list[Edge]) -> list[str] | None:
    """One import cycle among `edges` (as module names, first repeated last), or None."""
    graph: dict[str, set[str]] = {}
    for edge in edges:
        graph.setdefault(edge.source, set()).add(edge.target)
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in sorted(graph):
        if state.get(start):
            continue
        path = [start]
        iterators = [iter(sorted(graph.get(start, ())))]
        state[start] = 1
        while iterators:
            for child in iterators[-1]:
                if state.get(child) == 1:
                    return path[path.index(child) :] + [child]
                if not state.get(child):
                    state[child] = 1
                    path.append(child)
                    iterators.append(iter(sorted(graph.get(child, ()))))
                    break
            else:
                state[path.pop()] = 2
                iterators.pop()
    return None


def rank_of(module: str) -> int | None:
    """The rank of a module below chainrule: that of its longest listed prefix."""
    parts = module.split(".") if module else [""]
    for length in range(len(parts), 0, -1):
        prefix = ".".join(parts[:length])
        if prefix == "ops" and module != "ops":
            break  # every op family is listed by name: a new one must be given its rank
        for rank, (_, names) in enumerate(LAYERS):
            if prefix in names:
                return rank
    return None


def _edges() -> tuple[list[Edge], dict[str, list]]:
    return import_edges(PACKAGE)


def test_no_import_cycles():
    edges, _ = _edges()
    cycle = find_cycle(edges)
    assert cycle is None, "import cycle: " + " -> ".join(name or "chainrule" for name in cycle)


def test_no_import_cycles_counting_type_checking_imports():
    """Annotations are part of a module's meaning: what a type checker reads of the package is
    acyclic too, not only what Python runs."""
    edges, _ = import_edges(PACKAGE, static=True)
    assert any(e.source == "autograd.api" for e in edges)  # TYPE_CHECKING imports are read
    cycle = find_cycle(edges)
    assert cycle is None, "import cycle for static tools: " + " -> ".join(
        name or "chainrule" for name in cycle
    )


def test_imports_point_down_the_layers():
    edges, _ = _edges()
    violations = []
    for edge in edges:
        own, target = rank_of(edge.source), rank_of(edge.target)
        assert own is not None, f"{edge.source} has no layer in tests/test_layering.py"
        assert target is not None, f"{edge.target} has no layer in tests/test_layering.py"
        if target > own:
            violations.append(
                f"{edge.source}:{edge.line} ({LAYERS[own][0]}) imports "
                f"{edge.target or 'chainrule'} ({LAYERS[target][0]})"
            )
        above_nn = edge.source == "optim.swa_utils"  # its own layer, above nn
        if edge.source.startswith("optim") and edge.target.startswith("nn") and not above_nn:
            violations.append(
                f"{edge.source}:{edge.line} imports {edge.target}: optim never imports nn"
            )
    assert not violations, "\n".join(violations)


# chainrule modules imported inside a function: each imports an optional package at its top.
LAZY_MODULES = {
    "chainrule.backend.jit_kernels": "numba's kernels (backend/jit.py loads them on first use)",
}


def test_no_imports_inside_functions_but_optional_packages():
    _, nested = _edges()
    violations = []
    for module, imports in nested.items():
        for name, line in imports:
            top = name.split(".")[0]
            if top not in LAZY_IMPORTS and name not in LAZY_MODULES:
                violations.append(f"{module}:{line} imports {name} inside a function")
    assert not violations, "\n".join(violations)


def test_numpy_is_named_only_where_allowed():
    violations = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = module_name(path, PACKAGE)
        allowed = any(module == name or module.startswith(name + ".") for name in NUMPY_ALLOWED)
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                named = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                named = [node.module]
            else:
                continue
            if any(n == "numpy" or n.startswith("numpy.") for n in named) and not allowed:
                violations.append(f"{module}:{node.lineno} imports NumPy outside the backend")
    assert not violations, "\n".join(violations)


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_the_checker_finds_a_planted_cycle_through_a_package_init(tmp_path):
    """The checks above can fail: a.py -> sub/b.py, whose package init imports a.py again."""
    root = tmp_path / "chainrule"
    _write(
        root,
        {
            "__init__.py": "",
            "a.py": "from chainrule.sub.b import f\n",
            "sub/__init__.py": "from chainrule import a\n",
            "sub/b.py": "def f():\n    import chainrule.a\n",
        },
    )
    edges, nested = import_edges(root)
    assert find_cycle(edges) == ["a", "sub", "a"]
    assert nested == {"sub.b": [("chainrule.a", 2)]}
    assert Edge("sub", "", 1) not in edges  # `from chainrule import a` reaches a, a module
    assert Edge("sub", "a", 1) in edges


def test_the_static_graph_counts_type_checking_imports_and_not_stubs(tmp_path):
    """A cycle closed by an import under TYPE_CHECKING is one for static tools; a name taken
    from a stub (.pyi, no module beside it) is no edge, and a package init's lazy names reach
    only the modules they name."""
    root = tmp_path / "chainrule"
    guarded = "import typing\nif typing.TYPE_CHECKING:\n    from chainrule.{} import X\n"
    _write(
        root,
        {
            "__init__.py": "",
            "low.py": guarded.format("high"),
            "high.py": "from chainrule.low import Y\n",
            "_types.pyi": "from chainrule.high import X as X\n",
            "other.py": guarded.format("_types") + "from chainrule.sub.leaf import Z\n",
            "sub/__init__.py": guarded.format("top"),
            "sub/leaf.py": "",
            "top.py": "from chainrule.other import W\n",
        },
    )
    runtime, _ = import_edges(root)
    assert find_cycle(runtime) is None
    static, _ = import_edges(root, static=True)
    assert find_cycle(static) == ["high", "low", "high"]
    assert {(e.source, e.target) for e in static} == {
        ("low", "high"),
        ("high", "low"),
        ("other", "sub.leaf"),
        ("sub", "top"),
        ("top", "other"),
    }


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
