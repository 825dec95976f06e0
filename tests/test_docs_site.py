"""`make docs` works: the site builds in strict mode (a broken reference, a docstring Markdown
misreads, or a public callable without a docstring fails it), with nothing fetched."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_site_builds_strict_with_every_namespace_page(tmp_path):
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(ROOT / "src")}
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)]
    result = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr[-4000:]
    home = (site / "index.html").read_text()
    assert "chainrule train" in home  # the README is the home page
    for host in ("fonts.googleapis.com", "googletagmanager.com"):  # nothing fetched when viewed
        assert host not in home
    linear = (site / "api" / "chainrule.nn.html").read_text()
    assert 'id="chainrule.nn.Linear"' in linear
    assert (site / "tutorial.html").exists()


def test_constructors_made_by_new_or_a_metaclass_get_their_signature():
    """scripts/griffe_constructors.py: Tensor (made by `__new__`) and FloatTensor (by its
    metaclass) show the parameters their Args sections name; a class with an `__init__`
    keeps Griffe's own reading of it."""
    import importlib.util

    import chainrule
    from chainrule import nn

    spec = importlib.util.spec_from_file_location(
        "griffe_constructors", ROOT / "scripts" / "griffe_constructors.py"
    )
    extension = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(extension)
    names = [p.name for p in extension.constructor_parameters(chainrule.Tensor)]
    assert names == ["args", "dtype", "device"]
    assert [p.name for p in extension.constructor_parameters(chainrule.FloatTensor)] == [
        "args",
        "device",
    ]
    assert extension.constructor_parameters(nn.Linear) is None
