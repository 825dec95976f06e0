"""The public API as the docs see it: which namespaces are public, which names each exports, and
which of them lack a docstring. Shared by the site build (scripts/mkdocs_hooks.py, which fails
the strict build on a gap) and tests/test_docstrings.py (which fails the suite on one).
"""

from __future__ import annotations

import importlib
import inspect
import re
import types
from collections.abc import Iterator

# The namespaces a user imports, in the order the reference lists them. An optional one that is
# not there (an extra not merged yet) is skipped, not an error.
NAMESPACES = (
    "chainrule",
    "chainrule.nn",
    "chainrule.nn.functional",
    "chainrule.nn.init",
    "chainrule.nn.utils",
    "chainrule.optim",
    "chainrule.optim.lr_scheduler",
    "chainrule.optim.swa_utils",
    "chainrule.func",
    "chainrule.autograd",
    "chainrule.autograd.functional",
    "chainrule.linalg",
    "chainrule.special",
    "chainrule.distributions",
    "chainrule.fft",
    "chainrule.data",
    "chainrule.utils",
    "chainrule.utils.tensorboard",
    "chainrule.testing",
    "chainrule.cuda",
    "chainrule.numpy",
    "chainrule.numpy.linalg",
)

# Public names still without a docstring, each with the reason it may wait. Empty is the goal.
KNOWN_GAPS: frozenset[tuple[str, str]] = frozenset()


def available_namespaces() -> Iterator[types.ModuleType]:
    """Import each public namespace that exists in this checkout."""
    for name in NAMESPACES:
        try:
            yield importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:
                raise


def exported(module: types.ModuleType) -> list[str]:
    """The names `module` exports: its `__all__`, less the subpackages (they get pages of their
    own)."""
    names = getattr(module, "__all__", None)
    if names is None:
        raise AssertionError(f"{module.__name__} defines no __all__")
    return [name for name in names if not isinstance(getattr(module, name), types.ModuleType)]


def needs_docstring(value: object) -> bool:
    """Functions, classes and other callables need one; constants (dtypes, `pi`) do not."""
    if inspect.isclass(value) or inspect.isroutine(value):
        return True
    return callable(value) and not isinstance(value, type)


def undocumented(module: types.ModuleType) -> list[str]:
    """The exported callables of `module` whose docstring is missing or empty."""
    missing = []
    for name in exported(module):
        value = getattr(module, name)
        if not needs_docstring(value):
            continue
        own = value.__doc__ if inspect.isclass(value) else inspect.getdoc(value)
        if not (own or "").strip() and (module.__name__, name) not in KNOWN_GAPS:
            missing.append(name)
    return missing


def undocumented_methods(module: types.ModuleType) -> list[str]:
    """`Class.method` for each public method an exported class defines without a docstring
    (an override inherits its base method's, as `help()` shows it)."""
    missing = []
    for name in exported(module):
        cls = getattr(module, name)
        if not inspect.isclass(cls) or not cls.__module__.startswith("chainrule"):
            continue
        for attribute, value in vars(cls).items():
            if attribute.startswith("_") or not callable(value):
                continue
            if not (inspect.getdoc(getattr(cls, attribute)) or "").strip():
                missing.append(f"{name}.{attribute}")
    return missing


# Where PyTorch's sections are required: every exported function of these namespaces, and every
# function these modules define wherever it is exported (`chainrule.sum` is ops.reduction's),
# must have an Args section naming each parameter and a runnable `>>>` example
# (tests/test_docstrings.py holds them to it). Every public namespace is, but those in
# NOT_YET_SECTIONED (their owner removes them when done).
NOT_YET_SECTIONED: tuple[str, ...] = ()
SECTIONED = tuple(name for name in NAMESPACES if name not in NOT_YET_SECTIONED)
SECTIONED_SOURCES = (
    "chainrule.nn.functional",
    "chainrule.autograd.grad_mode",
    "chainrule.ops.activation",
    "chainrule.ops.autocast",
    "chainrule.ops.complex",
    "chainrule.ops.conversion",
    "chainrule.ops.creation",
    "chainrule.ops.decompositions",
    "chainrule.ops.dropout",
    "chainrule.ops.elementwise",
    "chainrule.ops.embedding",
    "chainrule.ops.fft",
    "chainrule.ops.linalg",
    "chainrule.ops.linear",
    "chainrule.ops.losses",
    "chainrule.ops.normalization",
    "chainrule.ops.reduction",
    "chainrule.ops.shape",
    "chainrule.ops.special",
)

# Namespaces whose exported classes must document their constructor the same way (an Args
# section naming each parameter of `__init__`, and a `>>>` example): the same ones.
SECTIONED_CLASSES = SECTIONED

# Functions (or classes) that may lack the sections for now, each with its reason.
SECTIONS_WAIVED: dict[tuple[str, str], str] = {}

_ARG_ENTRY = re.compile(r"^    \**(\w+)(?: \(.*\))?:")


def documented_arguments(doc: str) -> set[str] | None:
    """The parameter names a Google-style docstring's Args section lists (None: no section)."""
    lines = doc.splitlines()
    if "Args:" not in lines:
        return None
    names = set()
    for line in lines[lines.index("Args:") + 1 :]:
        if line and not line.startswith(" "):
            break
        if match := _ARG_ENTRY.match(line):
            names.add(match.group(1))
    return names


def missing_sections(function: object) -> list[str]:
    """What the docstring of `function` lacks: 'Args' (the section, when it has parameters),
    each parameter its Args section does not name, and 'Example' (a `>>>` line). Parameters
    with a leading underscore are private (PyTorch's `_stacklevel`)."""
    doc = inspect.getdoc(function) or ""
    try:
        signature = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):  # no signature to read (a builtin): nothing to name
        signature = []
    parameters = [p.name for p in signature if not p.name.startswith("_")]
    variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    if inspect.isclass(function) and all(p.kind in variadic for p in signature):
        # A constructor of *args/**kwargs only takes no argument of its own: nn.Sigmoid
        # inherits Module's, which refuses any (they are there for PyTorch's error message).
        parameters = []
    missing = []
    listed = documented_arguments(doc)
    if parameters and listed is None:
        missing.append("Args")
    elif listed is not None:
        missing.extend(name for name in parameters if name not in listed)
    if ">>>" not in doc:
        missing.append("Example")
    return missing


def unsectioned(module: types.ModuleType) -> list[str]:
    """`name (what is missing)` for each exported function of `module` that must have PyTorch's
    sections (the module is SECTIONED, or the function comes from a SECTIONED_SOURCES module)
    and lacks them, less SECTIONS_WAIVED. Classes are unsectioned_classes' to check."""
    gaps = []
    for name in exported(module):
        value = getattr(module, name)
        if inspect.isclass(value) or not callable(value) or isinstance(value, types.GenericAlias):
            continue  # classes are unsectioned_classes'; a type alias (testing.Domain) is no call
        required = module.__name__ in SECTIONED or (
            getattr(value, "__module__", None) in SECTIONED_SOURCES
        )
        if not required or (module.__name__, name) in SECTIONS_WAIVED:
            continue
        if missing := missing_sections(value):
            gaps.append(f"{name} ({', '.join(missing)})")
    return gaps


def unsectioned_classes(module: types.ModuleType) -> list[str]:
    """`Class (what is missing)` for each chainrule class `module` exports whose docstring lacks
    PyTorch's sections for its constructor, where the module is SECTIONED_CLASSES."""
    if module.__name__ not in SECTIONED_CLASSES:
        return []
    gaps = []
    for name in exported(module):
        value = getattr(module, name)
        if not inspect.isclass(value) or not value.__module__.startswith("chainrule"):
            continue
        if (module.__name__, name) in SECTIONS_WAIVED:
            continue
        if missing := missing_sections(value):
            gaps.append(f"{name} ({', '.join(missing)})")
    return gaps


def leaked(module: types.ModuleType) -> list[str]:
    """Public-looking names of `module` outside `__all__` that are not chainrule's own: a
    standard-library module or a typing helper imported without an underscore."""
    names = set(getattr(module, "__all__", ()))
    leaks = []
    for name in dir(module):
        if name.startswith("_") or name in names or name == "annotations":
            continue
        value = getattr(module, name)
        if isinstance(value, types.ModuleType):
            owner = value.__name__
        else:
            owner = getattr(value, "__module__", None) or type(value).__module__
        if not owner.startswith("chainrule"):
            leaks.append(name)
    return leaks


def page(module: types.ModuleType) -> str:
    """The Markdown of one reference page: a mkdocstrings block listing `__all__`."""
    members = "\n".join(f"        - {name}" for name in sorted(exported(module), key=str.lower))
    return (
        f"# `{module.__name__}`\n\n"
        f"::: {module.__name__}\n"
        "    options:\n"
        "      show_submodules: false\n"
        "      members:\n"
        f"{members}\n"
    )


# ---- type hints ------------------------------------------------------------------------------

# Namespaces whose exported signatures are not yet held to real types (tests/test_typing.py
# checks every other one). chainrule.numpy's owner removes it from here when it is typed.
NOT_YET_TYPED: tuple[str, ...] = ()
TYPED_NAMESPACES = tuple(name for name in NAMESPACES if name not in NOT_YET_TYPED)

# `qualified name:parameter` (or `:return`) where `Any` is the right type, each with its reason.
ANY_ALLOWED: dict[str, str] = {
    **dict.fromkeys(
        ["chainrule.unique:return", "chainrule.unique_consecutive:return"],
        "a Tensor, or a tuple with inverse indices and counts as the return_* flags ask: one "
        "type per call form needs typing.overload, not yet written",
    ),
    **dict.fromkeys(
        [
            "chainrule.autograd.functional.jacobian:return",
            "chainrule.autograd.functional.hessian:return",
        ],
        "a Tensor, or tuples of tuples of Tensors nested as the function's inputs and outputs",
    ),
    "chainrule.compile:return": (
        "the model it is given, compiled (any callable or Module), or a decorator when called "
        "without one"
    ),
    "chainrule.load:return": "whatever object was saved: a state dict, a Tensor, a container",
    **dict.fromkeys(
        [
            "chainrule.nn.RNN:args",
            "chainrule.nn.RNN:kwargs",
            "chainrule.nn.GRU:args",
            "chainrule.nn.GRU:kwargs",
        ],
        "passed on unchanged to RNNBase.__init__, which types each argument",
    ),
    **dict.fromkeys(
        [
            f"chainrule.nn.functional.max_pool{n}d_with_indices:{part}"
            for n in (1, 2, 3)
            for part in ("args", "kwargs")
        ],
        "passed on unchanged to max_pool1d/2d/3d, which type each argument",
    ),
    **dict.fromkeys(
        ["chainrule.max_pool1d_with_indices:args", "chainrule.max_pool1d_with_indices:kwargs"],
        "F.max_pool1d_with_indices at PyTorch's top level: passed on unchanged to max_pool1d",
    ),
    "chainrule.optim.Optimizer:defaults": (
        "the hyper-parameters of a subclass, each of its own type (floats, tuples, flags)"
    ),
    **dict.fromkeys(
        [
            "chainrule.func.functional_call:args",
            "chainrule.func.functional_call:return",
        ],
        "whatever the module's forward takes and returns",
    ),
    **dict.fromkeys(
        [
            "chainrule.func.vjp:primals",
            "chainrule.func.linearize:primals",
            "chainrule.func.tree_flatten:tree",
            "chainrule.func.tree_map:tree",
            "chainrule.func.tree_map:function",
            "chainrule.func.tree_map:return",
            "chainrule.func.tree_unflatten:return",
            "chainrule.func.vmap:in_dims",
            "chainrule.func.vmap:out_dims",
            "chainrule.vmap:in_dims",
            "chainrule.vmap:out_dims",
        ],
        "a pytree: any nesting of tuples, lists and dicts around its leaves (Tensors, numbers, "
        "or for vmap's dims ints and None)",
    ),
    **dict.fromkeys(
        [
            "chainrule.data.default_collate:batch",
            "chainrule.data.default_collate:return",
            "chainrule.data.default_convert:data",
            "chainrule.data.default_convert:return",
            "chainrule.data.DataLoader:collate_fn",
        ],
        "a dataset's samples and batches: any nesting of tuples, lists and dicts around "
        "Tensors, arrays and numbers",
    ),
}

_ANY = re.compile(r"\bAny\b")


def any_in_signature(function: object) -> list[str]:
    """The parameters (and 'return') of `function` whose annotation mentions `Any`."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):  # a builtin without a signature: nothing annotated
        return []
    annotated = [(name, p.annotation) for name, p in signature.parameters.items()]
    annotated.append(("return", signature.return_annotation))
    found = []
    for name, annotation in annotated:
        if annotation is inspect.Parameter.empty:
            continue
        text = annotation if isinstance(annotation, str) else repr(annotation)
        if _ANY.search(text):
            found.append(name)
    return found


def any_annotations(module: types.ModuleType, waived: bool = True) -> list[str]:
    """`namespace.name:parameter` for each `Any` in the signature of an exported function, or
    of an exported chainrule class's `__init__`, less ANY_ALLOWED (unless `waived` is False)."""
    found = []
    for name in exported(module):
        value = getattr(module, name)
        if inspect.isclass(value):
            if not value.__module__.startswith("chainrule") or "__init__" not in vars(value):
                continue
            target = vars(value)["__init__"]
        elif callable(value):
            target = value
        else:
            continue
        for parameter in any_in_signature(target):
            key = f"{module.__name__}.{name}:{parameter}"
            if not waived or key not in ANY_ALLOWED:
                found.append(key)
    return found


# `Tensor.method:parameter` where Any is right on Tensor's own methods (the in-place forms that
# ops/tensor_methods.py generates are declared for static tools with their op's signature).
TENSOR_ANY_ALLOWED: dict[str, str] = {
    **dict.fromkeys(
        ["Tensor.item:return", "Tensor.tolist:return"],
        "Python numbers of the tensor's dtype (int, float, bool or complex); Any keeps "
        "`loss.item()` usable as a float, as PyTorch's Number does",
    ),
    **dict.fromkeys(
        [
            "Tensor.numpy:return",
            "Tensor.__array__:dtype",
            "Tensor.__array__:copy",
            "Tensor.__array__:return",
            "Tensor.__dlpack__:kwargs",
            "Tensor.__dlpack__:return",
        ],
        "a NumPy or CuPy array or its protocol's arguments: the house's Array, typed loosely "
        "so CuPy stays legal",
    ),
    **dict.fromkeys(
        ["Tensor.apply_:callable", "Tensor.map_:callable"],
        "a Python function of elements of any dtype (int, float, bool or complex)",
    ),
    **dict.fromkeys(
        [
            "Tensor.stft:args",
            "Tensor.stft:kwargs",
            "Tensor.istft:args",
            "Tensor.istft:kwargs",
        ],
        "passed on unchanged to chainrule.stft and istft, which type each argument",
    ),
    **dict.fromkeys(
        ["Tensor.to:args", "Tensor.to:kwargs"],
        "the implementation behind typing.overload declarations of PyTorch's three call "
        "forms, to(dtype), to(device, dtype) and to(other), which is what mypy reads",
    ),
    **dict.fromkeys(
        ["Tensor.type:dtype", "Tensor.type:kwargs", "Tensor.type:return"],
        "a dtype, a legacy type or its name in, and a str (without one) or a Tensor out; the "
        "method's own name hides the builtin `type` an overload would need",
    ),
    **dict.fromkeys(
        ["Tensor.unique:return", "Tensor.unique_consecutive:return"],
        "a Tensor, or a tuple with inverse indices and counts as the return_* flags ask",
    ),
}


def tensor_method_any(waived: bool = True) -> list[str]:
    """`Tensor.name:parameter` for each Any in a public or operator method of Tensor, less
    TENSOR_ANY_ALLOWED (unless `waived` is False) and the generated in-place forms."""
    from chainrule._tensor import Tensor
    from chainrule.ops.tensor_methods import _ELEMENTWISE_INPLACE

    generated = {name + "_" for name in _ELEMENTWISE_INPLACE}
    found = []
    for name, value in sorted(vars(Tensor).items()):
        private = name.startswith("_") and not (name.startswith("__") and name.endswith("__"))
        if private or name in generated or not callable(value):
            continue
        for parameter in any_in_signature(getattr(Tensor, name)):
            key = f"Tensor.{name}:{parameter}"
            if not waived or key not in TENSOR_ANY_ALLOWED:
                found.append(key)
    return found


# `Class.method:parameter` where Any is right on a public method of an exported class other
# than Tensor (Class is the class that defines the method: Module.to, not Linear.to).
METHOD_ANY_ALLOWED: dict[str, str] = {
    **dict.fromkeys(
        [
            "Module.forward:args",
            "Module.forward:kwargs",
            "Module.forward:return",
            "Module.__call__:args",
            "Module.__call__:kwargs",
            "Module.__call__:return",
            "DataParallel.forward:inputs",
            "DataParallel.forward:kwargs",
            "DataParallel.forward:return",
        ],
        "whatever the subclass's (or the wrapped module's) forward takes and returns; PyTorch "
        "types Module.forward and __call__ as Callable[..., Any] too",
    ),
    **dict.fromkeys(
        ["Module.register_forward_pre_hook:hook", "Module.register_forward_hook:hook"],
        "PyTorch's hook signatures: the module's arguments, keyword arguments and output are "
        "whatever its forward takes and returns",
    ),
    **dict.fromkeys(
        ["Sequential.forward:input", "Sequential.forward:return"],
        "passed through each module in turn: what the first one takes and the last returns",
    ),
    **dict.fromkeys(
        ["Module.get_extra_state:return", "Module.set_extra_state:state"],
        "any picklable object a subclass chooses to keep in its state dict",
    ),
    **dict.fromkeys(
        ["Module.to:args", "Module.to:kwargs"],
        "the implementation behind typing.overload declarations of PyTorch's three call "
        "forms, to(device, dtype), to(dtype) and to(tensor), which is what mypy reads",
    ),
    **dict.fromkeys(
        ["Module.compile:args", "Module.compile:kwargs"],
        "passed on unchanged to chainrule.compile, which types each argument",
    ),
    **dict.fromkeys(
        ["GradScaler.step:args", "GradScaler.step:kwargs", "GradScaler.step:return"],
        "passed on unchanged to optimizer.step, which types its own arguments, and its result "
        "returned (a closure's loss, or None when the step is skipped)",
    ),
    "Module.state_dict:args": (
        "PyTorch's deprecated positional form (destination, prefix, keep_vars), three "
        "arguments of different types"
    ),
    **dict.fromkeys(
        [
            "Module.state_dict:destination",
            "Module.state_dict:return",
            "Module.load_state_dict:state_dict",
            "Optimizer.state_dict:return",
            "Optimizer.load_state_dict:state_dict",
            "AdamW.load_state_dict:state_dict",
            "LRScheduler.state_dict:return",
            "LRScheduler.load_state_dict:state_dict",
            "MultiStepLR.load_state_dict:state_dict",
            "ReduceLROnPlateau.load_state_dict:state_dict",
            "_LambdaScheduler.state_dict:return",
            "_LambdaScheduler.load_state_dict:state_dict",
            "CyclicLR.state_dict:return",
            "CyclicLR.load_state_dict:state_dict",
            "_SchedulerListStateMixin.state_dict:return",
            "_SchedulerListStateMixin.load_state_dict:state_dict",
            "GradScaler.state_dict:return",
            "GradScaler.load_state_dict:state_dict",
        ],
        "a state dict's values: Tensors, numbers, lists, nested dicts and a module's extra "
        "state, as PyTorch's Dict[str, Any]",
    ),
    "Optimizer.add_param_group:param_group": (
        "the parameters and the hyper-parameters of a subclass, each of its own type (floats, "
        "tuples, flags)"
    ),
    **dict.fromkeys(
        [
            "ParameterList.append:value",
            "ParameterList.extend:values",
            "ParameterDict.setdefault:default",
            "ParameterDict.setdefault:return",
            "ParameterDict.pop:return",
            "ParameterDict.popitem:return",
            "ParameterDict.get:default",
            "ParameterDict.get:return",
            "ParameterDict.fromkeys:default",
            "ParameterDict.items:return",
            "ParameterDict.values:return",
            "ParameterDict.update:parameters",
        ],
        "the containers hold any value, as PyTorch's: a plain Tensor becomes a Parameter, "
        "other objects are stored as they are",
    ),
    **dict.fromkeys(
        [
            "custom_jvp.__call__:args",
            "custom_jvp.__call__:kwargs",
            "custom_jvp.__call__:return",
            "custom_vjp.__call__:args",
            "custom_vjp.__call__:kwargs",
            "custom_vjp.__call__:return",
        ],
        "whatever the decorated function takes and returns (its arguments are pytrees)",
    ),
    **dict.fromkeys(
        [
            "Function.forward:args",
            "Function.forward:return",
            "Function.setup_context:output",
            "Function.backward:grad_outputs",
            "Function.backward:return",
            "Function.apply:args",
            "Function.apply:kwargs",
            "Function.apply:return",
        ],
        "whatever the subclass's forward takes and returns (Tensors, numbers, any object), "
        "and its backward one gradient or None per input; PyTorch types them Any",
    ),
    "Node.save:values": (
        "what an op keeps for its vjp: arrays, and plain values such as dims, shapes and flags"
    ),
}


def method_classes() -> Iterator[type]:
    """Each chainrule class that defines a public method of a class exported by a typed
    namespace (its own or inherited), once, in the order first met; Tensor's are
    tensor_method_any's."""
    from chainrule._tensor import Tensor

    seen: set[type] = set()
    for module in available_namespaces():
        if module.__name__ not in TYPED_NAMESPACES:
            continue
        for name in exported(module):
            value = getattr(module, name)
            if not inspect.isclass(value) or not value.__module__.startswith("chainrule"):
                continue
            for owner in value.__mro__:
                if owner in seen or owner is Tensor or not owner.__module__.startswith("chainrule"):
                    continue
                seen.add(owner)
                yield owner


def _public_method(name: str, value: object) -> bool:
    """A method a user calls: no leading underscore (or `__call__`), and a function, not a
    property or a nested class."""
    if name.startswith("_") and name != "__call__":
        return False
    if isinstance(value, (staticmethod, classmethod)):
        value = value.__func__
    return inspect.isfunction(value)


def method_any(waived: bool = True) -> list[str]:
    """`Class.method:parameter` for each Any in a public method (or `__call__`) that a chainrule
    class defines, for every exported class of every typed namespace and each chainrule class
    it inherits from, less METHOD_ANY_ALLOWED (unless `waived` is False)."""
    from chainrule._tensor import Tensor

    found = []
    for owner in method_classes():
        for name, value in vars(owner).items():
            if not _public_method(name, value):
                continue
            wrapped = getattr(value, "__wrapped__", None)
            if wrapped is not None and wrapped is getattr(Tensor, name, None):
                continue  # Tensor's own method, run on a plain Tensor: tensor_method_any's
            for parameter in any_in_signature(getattr(owner, name)):
                key = f"{owner.__qualname__}.{name}:{parameter}"
                if not waived or key not in METHOD_ANY_ALLOWED:
                    found.append(key)
    return found
