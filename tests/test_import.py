"""`import chainrule` loads the core (tensors, ops, autograd) and NumPy, nothing more: the outer
layers and optional dependencies load on first use, so the import stays cheap. Each check runs in
a fresh interpreter, since this one has long since imported everything."""

import subprocess
import sys

import chainrule

# Loaded on first use, never by `import chainrule` itself.
OUTER_LAYERS = [
    "chainrule.apps",
    "chainrule.autograd.functional",
    "chainrule.data",
    "chainrule.datasets",
    "chainrule.func",
    "chainrule.linalg",
    "chainrule.nn",
    "chainrule.numpy",
    "chainrule.ops.convolution",
    "chainrule.ops.dropout",
    "chainrule.ops.embedding",
    "chainrule.ops.interpolation",
    "chainrule.ops.linear",
    "chainrule.ops.losses",
    "chainrule.ops.normalization",
    "chainrule.ops.pooling",
    "chainrule.optim",
    "chainrule.profiler",
    "chainrule.serialization",
    "chainrule.testing",
    "chainrule.utils",
    "chainrule.viz",
]
HEAVY = [
    "graphviz",
    "matplotlib",
    "numba",  # the compiled kernels (backend/jit.py), on first use
    "numpy.random",  # made on the first random draw, not at import
    "safetensors",
    "scipy",
    "sklearn",
    "torch",
    "tqdm",
]
LAZY_NAMES = ["data", "func", "linalg", "load", "nn", "optim", "profiler", "save", "utils", "viz"]


def run_fresh(code: str) -> str:
    """Run `code` in a new interpreter and return what it printed."""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return result.stdout


def test_import_loads_only_the_core():
    loaded = run_fresh("import sys, chainrule\nprint('\\n'.join(sys.modules))").split()
    assert sorted(set(OUTER_LAYERS + HEAVY) & set(loaded)) == []
    assert "chainrule._tensor" in loaded


def test_outer_layers_load_on_first_use():
    code = """
import chainrule
import chainrule.optim
from chainrule import data, nn
from chainrule.func import grad
from chainrule.utils.data import DataLoader

layer = chainrule.nn.Linear(2, 3)
optimizer = chainrule.optim.SGD(layer.parameters(), lr=0.1)
assert nn is chainrule.nn and data is chainrule.data and DataLoader is data.DataLoader
assert grad is chainrule.func.grad
assert chainrule.linalg.det(2 * chainrule.eye(2)).item() == 4.0
assert chainrule.autograd.functional.jacobian is not None
assert chainrule.save is chainrule.serialization.save
assert chainrule.numpy.sum is not None and chainrule.testing.check_op is not None
print("ok")
"""
    assert run_fresh(code).strip() == "ok"


def test_default_generator_draws_from_the_default_seed():
    code = """
import chainrule
state = chainrule.get_rng_state()
first = chainrule.rand(4)
chainrule.set_rng_state(state)
again = chainrule.rand(4)
chainrule.manual_seed(chainrule.initial_seed())
reseeded = chainrule.rand(4)
print(first.tolist() == again.tolist() == reseeded.tolist())
"""
    assert run_fresh(code).strip() == "True"


def test_lazy_names_are_listed():
    assert set(LAZY_NAMES) <= set(dir(chainrule))
    assert set(LAZY_NAMES) <= set(chainrule.__all__)
    assert "numpy" in dir(chainrule)
    assert "numpy" not in chainrule.__all__  # `from chainrule import *` must not shadow NumPy


def test_unknown_attribute_raises_attribute_error():
    assert not hasattr(chainrule, "no_such_name")
    assert not hasattr(chainrule.autograd, "no_such_name")
