"""Write docs/ops.md, the reference of every op, from the op classes' docstrings.

    python scripts/gen_ops_doc.py            # rewrite docs/ops.md
    python scripts/gen_ops_doc.py --check    # exit 1 if docs/ops.md is out of date

Every subclass of `chainrule.ops.op.Op` defined in a `chainrule.ops.*` module is listed, by
module, with its label (the name errors use), its backward node's name, whether it has a
forward-mode rule, is a view or is not differentiable, and its docstring: the derivative and
the convention at kinks and ties. tests/test_ops_doc.py fails when the file is stale.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import pkgutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "docs" / "ops.md"

HEADER = """# Ops reference

Generated from the op classes' docstrings by `python scripts/gen_ops_doc.py`; do not edit by
hand. Each op is one class in `chainrule.ops` whose forward, vjp and jvp stand side by side (see
[how it works](how-it-works.md)); its docstring gives the derivative and the convention at
kinks and ties, matched to PyTorch. The label is the name the op's error messages use; the node
is what `tensor.grad_fn` shows.
"""


def op_classes() -> dict[str, list[type]]:
    """{module name: its Op subclasses, sorted by name}, modules sorted by name."""
    import chainrule.ops
    from chainrule.ops.op import Computed, NoDerivative, Op

    bases = (Op, NoDerivative, Computed)  # what ops derive from, not ops themselves

    found: dict[str, list[type]] = {}
    for info in sorted(pkgutil.iter_modules(chainrule.ops.__path__), key=lambda i: i.name):
        name = f"chainrule.ops.{info.name}"
        module = importlib.import_module(name)
        classes = [
            value
            for value in vars(module).values()
            if inspect.isclass(value)
            and issubclass(value, Op)
            and value not in bases
            and value.__module__ == name
        ]
        if classes:
            found[name] = sorted(classes, key=lambda cls: cls.__name__)
    return found


def _facts(cls: type) -> str:
    from chainrule.ops.op import op_label

    facts = [f"label `{op_label(cls)}`"]
    if cls.differentiable:
        facts.append(f"node `{cls.node_name()}`")
        facts.append("forward mode: " + ("yes" if cls.jvp is not None else "no"))
    else:
        facts.append("not differentiable")
    if cls.is_view:
        facts.append("a view of its input")
    if cls.fast_vjp is not None or cls.fused_jvp is not None:
        hooks = [name for name in ("fast_vjp", "fused_jvp") if getattr(cls, name) is not None]
        facts.append("fast path: " + ", ".join(f"`{name}`" for name in hooks))
    return " · ".join(facts)


def render() -> str:
    """The text of docs/ops.md."""
    modules = op_classes()
    total = sum(len(classes) for classes in modules.values())
    lines = [HEADER, f"{total} ops in {len(modules)} modules.", ""]
    lines += ["| module | ops |", "|---|---|"]
    for name, classes in modules.items():
        anchor = name.replace(".", "")
        lines.append(f"| [{name}](#{anchor}) | {len(classes)} |")
    for name, classes in modules.items():
        lines += ["", f"## {name}"]
        for cls in classes:
            doc = inspect.cleandoc(cls.__doc__ or "(no docstring)").replace("```", "'''")
            lines += ["", f"### {cls.__name__}", "", _facts(cls), "", "```text", doc, "```"]
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if docs/ops.md is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not TARGET.exists() or TARGET.read_text() != text:
            print(f"{TARGET} is out of date: run python scripts/gen_ops_doc.py", file=sys.stderr)
            return 1
        return 0
    TARGET.parent.mkdir(exist_ok=True)
    TARGET.write_text(text)
    print(f"wrote {TARGET} ({text.count(chr(10))} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
