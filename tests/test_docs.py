"""Every example in the docs runs: the README's and docs/*.md python blocks, and the
docstring examples (doctests) of every chainrule module."""

import doctest
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import chainrule

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)
OPTIONAL = {"chainrule.apps.demo", "chainrule.__main__"}


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.name)
def test_markdown_examples_run(document, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for number, block in enumerate(BLOCK.findall(document.read_text()), start=1):
        code = compile(block, f"{document.name} block {number}", "exec")
        exec(code, namespace)  # noqa: S102 - the documentation's own examples


def _modules() -> list[str]:
    names = ["chainrule"]
    for info in pkgutil.walk_packages(chainrule.__path__, prefix="chainrule."):
        if info.name not in OPTIONAL:
            names.append(info.name)
    return names


@pytest.mark.parametrize("name", _modules())
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    for test in finder.find(module, name, globs={"chainrule": chainrule}):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} doctest(s) failed in {name}"
