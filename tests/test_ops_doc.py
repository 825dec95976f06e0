"""docs/ops.md is what scripts/gen_ops_doc.py writes from the op classes' docstrings today."""

import importlib.util
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


def test_every_op_is_listed_with_its_docstring():
    generator = _generator()
    text = generator.render()
    classes = [cls for group in generator.op_classes().values() for cls in group]
    assert len(classes) > 100
    for cls in classes:
        assert f"### {cls.__name__}\n" in text
        assert cls.__doc__ and cls.__doc__.strip(), f"{cls.__name__} has no docstring"
