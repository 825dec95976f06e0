"""docs/ops.md is what scripts/gen_ops_doc.py writes from the op classes' docstrings today."""

import importlib
import importlib.util
import pkgutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _generator():
    spec = importlib.util.spec_from_file_location(
        "gen_ops_doc", ROOT / "scripts" / "gen_ops_doc.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ops_doc_is_up_to_date():
    expected = _generator().render()
    actual = (ROOT / "docs" / "ops.md").read_text()
    assert actual == expected, "docs/ops.md is stale: run python scripts/gen_ops_doc.py"


def _all_op_classes() -> set[type]:
    """Every public Op subclass chainrule defines, found from the class hierarchy after importing
    every module (independently of the generator, which walks the modules of chainrule.ops).
    Private ones and what derives from them (vmap's per-call `_Batched` nodes) are internal."""
    import chainrule
    from chainrule.ops.op import Op

    for info in pkgutil.walk_packages(chainrule.__path__, "chainrule."):
        if not info.name.startswith(("chainrule.apps", "chainrule.__main__")):
            importlib.import_module(info.name)
    found, stack = set(), [Op]
    while stack:
        for subclass in stack.pop().__subclasses__():
            private = subclass.__name__.startswith("_")
            if (
                subclass not in found
                and subclass.__module__.startswith("chainrule.")
                and not private
            ):
                found.add(subclass)
                stack.append(subclass)
    return found


def test_every_op_lives_in_chainrule_ops_and_is_documented_there():
    documented = (ROOT / "docs" / "ops.md").read_text()
    public = _all_op_classes()
    assert len(public) > 100
    outside = sorted(f"{c.__module__}.{c.__name__}" for c in public if ".ops." not in c.__module__)
    assert not outside, f"ops defined outside chainrule/ops/ (where a new op goes): {outside}"
    for cls in public:
        assert cls.__doc__ and cls.__doc__.strip(), f"{cls.__name__} has no docstring"
        first_line = cls.__doc__.strip().splitlines()[0]
        section = documented.split(f"\n## {cls.__module__}\n", 1)
        assert len(section) == 2, f"docs/ops.md has no section for {cls.__module__}"
        assert f"### {cls.__name__}\n" in section[1].split("\n## ", 1)[0], cls.__name__
        assert first_line in documented, f"{cls.__name__}: docstring missing from docs/ops.md"
