"""MkDocs hooks for the chainrule site (mkdocs.yml names this file).

- The home page is the README, its `docs/...` links made relative to the site.
- One API reference page per public namespace (scripts/api_docs.py), generated at build time
  and listed in the nav, so a new public name or namespace appears without editing a list.
- A public callable without a docstring fails the build, as a broken reference does in strict
  mode.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File

sys.path.insert(0, str(Path(__file__).resolve().parent))
import api_docs  # noqa: E402 - the shared list of namespaces, beside this file

ROOT = Path(__file__).resolve().parents[1]


def on_config(config):
    gaps = {
        module.__name__: missing
        for module in api_docs.available_namespaces()
        if (missing := api_docs.undocumented(module) + api_docs.undocumented_methods(module))
    }
    if gaps:
        lines = [f"  {name}: {', '.join(missing)}" for name, missing in gaps.items()]
        raise PluginError("public callables without a docstring:\n" + "\n".join(lines))
    pages = [
        {module.__name__: f"api/{module.__name__}.md"} for module in api_docs.available_namespaces()
    ]
    for entry in config["nav"]:
        if isinstance(entry, dict) and "API reference" in entry:
            entry["API reference"] = pages
    return config


def on_files(files, config):
    readme = (ROOT / "README.md").read_text().replace("](docs/", "](")
    files.append(File.generated(config, "index.md", content=readme))
    for module in api_docs.available_namespaces():
        path = f"api/{module.__name__}.md"
        files.append(File.generated(config, path, content=api_docs.page(module)))
    return files
