"""The public API is documented: every namespace a user imports says what it exports
(`__all__`), leaks no helper it merely imports, and gives every exported callable a docstring.
The docstrings' `>>>` examples run as doctests in tests/test_docs.py; the browsable site built
from them is checked in tests/test_docs_site.py."""

import importlib.util
import inspect
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("api_docs", ROOT / "scripts" / "api_docs.py")
api_docs = importlib.util.module_from_spec(_spec)
sys.modules["api_docs"] = api_docs
_spec.loader.exec_module(api_docs)

NAMESPACES = list(api_docs.available_namespaces())


def test_the_core_namespaces_are_all_there():
    present = {module.__name__ for module in NAMESPACES}
    required = set(api_docs.NAMESPACES) - {"chainrule.fft"}  # fft is optional at this commit
    assert required <= present


@pytest.mark.parametrize("module", NAMESPACES, ids=lambda m: m.__name__)
def test_namespace_exports_exist(module):
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert not missing, f"{module.__name__}.__all__ names what it lacks: {missing}"


@pytest.mark.parametrize("module", NAMESPACES, ids=lambda m: m.__name__)
def test_every_exported_callable_has_a_docstring(module):
    missing = api_docs.undocumented(module)
    assert not missing, f"{module.__name__}: no docstring for {', '.join(missing)}"


@pytest.mark.parametrize("module", NAMESPACES, ids=lambda m: m.__name__)
def test_every_public_method_of_an_exported_class_has_a_docstring(module):
    missing = api_docs.undocumented_methods(module)
    assert not missing, f"{module.__name__}: no docstring for {', '.join(missing)}"


@pytest.mark.parametrize("module", NAMESPACES, ids=lambda m: m.__name__)
def test_namespace_leaks_no_imported_helper(module):
    """What `dir()` and completion show is the API: no `Any`, `math` or `importlib` beside it
    (chainrule's own submodules and names may be reachable; they are documented)."""
    assert api_docs.leaked(module) == []


def test_leak_check_catches_a_stdlib_import():
    module = types.ModuleType("chainrule.example")
    module.__all__ = ["f"]
    module.f = lambda: None
    module.math = importlib.import_module("math")
    assert api_docs.leaked(module) == ["math"]


def test_coverage_check_catches_a_missing_docstring():
    module = types.ModuleType("chainrule.example")
    module.__all__ = ["documented", "bare", "constant"]

    def documented():
        """Has one."""

    def bare():
        pass

    module.documented, module.bare, module.constant = documented, bare, 3.0
    assert api_docs.undocumented(module) == ["bare"]


def test_nothing_is_waived():
    assert api_docs.KNOWN_GAPS == frozenset()


@pytest.mark.parametrize(
    "name",
    ["chainrule.add", "chainrule.zeros", "chainrule.nn.Linear", "chainrule.nn.ReflectionPad2d"],
)
def test_key_entries_follow_pytorchs_sections(name):
    """The entries a newcomer reads first carry an argument list and a runnable example."""
    owner, _, attribute = name.rpartition(".")
    doc = inspect.getdoc(getattr(importlib.import_module(owner), attribute))
    assert "Args:" in doc and "Example:" in doc and ">>>" in doc


def test_help_shows_the_arguments_of_a_layer():
    import chainrule.nn as nn

    assert "in_features" in inspect.getdoc(nn.Linear)
    assert "Shape:" in inspect.getdoc(nn.Conv2d)


def test_the_package_ships_py_typed():
    import chainrule

    assert (Path(chainrule.__file__).parent / "py.typed").exists()
    assert 'chainrule = ["py.typed"]' in (ROOT / "pyproject.toml").read_text()


@pytest.mark.parametrize("module", NAMESPACES, ids=lambda m: m.__name__)
def test_every_finished_function_documents_its_arguments_and_an_example(module):
    """What `help(F.cross_entropy)` or `help(chainrule.sum)` shows a PyTorch user: each argument
    with its meaning, and an example that runs (tests/test_docs.py executes it). Required of
    nn.functional and of every function the finished modules (api_docs.SECTIONED_SOURCES)
    define, wherever it is exported."""
    gaps = api_docs.unsectioned(module)
    assert not gaps, f"{module.__name__}: docstrings without PyTorch's sections: {'; '.join(gaps)}"


@pytest.mark.parametrize("module", NAMESPACES, ids=lambda m: m.__name__)
def test_every_finished_class_documents_its_constructor_and_an_example(module):
    """What `help(lr_scheduler.OneCycleLR)` shows: each constructor argument and a
    runnable example, for the namespaces in api_docs.SECTIONED_CLASSES."""
    gaps = api_docs.unsectioned_classes(module)
    assert not gaps, f"{module.__name__}: classes without PyTorch's sections: {'; '.join(gaps)}"


def test_class_section_check_reads_the_constructor():
    class Documented:
        """Holds.

        Args:
            size (int): how many.

        Example:
            >>> 1
            1
        """

        def __init__(self, size, scale=1.0):
            pass

    assert api_docs.missing_sections(Documented) == ["scale"]


def test_the_sectioned_modules_exist():
    for name in api_docs.SECTIONED + api_docs.SECTIONED_SOURCES + api_docs.SECTIONED_CLASSES:
        importlib.import_module(name)


def test_every_waiver_names_a_real_function_and_a_reason():
    for (namespace, name), reason in api_docs.SECTIONS_WAIVED.items():
        assert name in importlib.import_module(namespace).__all__
        assert len(reason.split()) >= 5, f"{namespace}.{name}: say why it may wait"


def test_section_check_catches_a_missing_args_section_and_an_unnamed_argument():
    def bare(input, dim=0):
        """Sums.

        >>> 1
        1
        """

    def partial(input, dim=0, _stacklevel=3):
        """Sums.

        Args:
            input (Tensor): any shape.

        Returns:
            Tensor: the sum.
        """

    def complete(input, *size, dim=0):
        """Sums.

        Args:
            input (Tensor): any shape.
            size (int...): the shape.
            dim (int): where.

        Example:
            >>> 1
            1
        """

    assert api_docs.missing_sections(bare) == ["Args"]
    assert api_docs.missing_sections(partial) == ["dim", "Example"]
    assert api_docs.missing_sections(complete) == []


@pytest.mark.parametrize("module", NAMESPACES, ids=lambda m: m.__name__)
def test_no_namespace_exports_a_name_twice(module):
    """A name listed twice in `__all__` would be listed twice on its reference page."""
    seen = set()
    repeated = [name for name in module.__all__ if name in seen or seen.add(name)]
    assert not repeated, f"{module.__name__}.__all__ repeats {repeated}"


# Modules that transform no tensor of their own: containers and the bases of a family.
SHAPELESS = {"Module", "ModuleDict", "ModuleList", "ParameterDict", "ParameterList"}
SHAPELESS |= {"RNNBase", "RNNCellBase"}


def test_every_layer_documents_its_shapes():
    """What `help(nn.Conv2d)` shows under Shape: the input and output shapes, as PyTorch's
    docs give them."""
    import chainrule.nn as nn

    missing = [
        name
        for name in api_docs.exported(nn)
        if inspect.isclass(getattr(nn, name))
        and issubclass(getattr(nn, name), nn.Module)
        and name not in SHAPELESS
        and "Shape:" not in inspect.getdoc(getattr(nn, name))
    ]
    assert not missing, f"layers without a Shape section: {missing}"


def test_a_constructor_of_only_variadic_arguments_needs_no_args_section():
    """nn.Sigmoid inherits Module's `__init__(*args, **kwargs)`, which refuses any argument:
    there is nothing to document."""

    class Activation:
        """Squashes.

        Example:
            >>> 1
            1
        """

        def __init__(self, *args, **kwargs):
            pass

    def function(*args, **kwargs):
        """Forwards.

        >>> 1
        1
        """

    assert api_docs.missing_sections(Activation) == []
    assert api_docs.missing_sections(function) == ["Args"]


def test_a_type_alias_needs_no_sections():
    module = types.ModuleType("chainrule.example")
    module.__all__ = ["Domain"]
    module.Domain = tuple[float, float]
    assert api_docs.unsectioned(module) == []
