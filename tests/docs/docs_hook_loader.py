"""Load the MkDocs hook module (docs/hooks/memplan_docs.py) so tests can call its generators."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def load_hook() -> ModuleType:
    """The hook module, imported once."""
    name = "memplan_docs_hook"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "docs" / "hooks" / "memplan_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def resolver_available() -> bool:
    """True once ``memplan.resolve`` is the resolver function."""
    import memplan

    return callable(getattr(memplan, "resolve", None))
