"""Load a stage script as a module.

Stage folders start with digits (``01.stage2``), so ``import`` cannot reach the
scripts inside; other stages, the demo and the tests load them by path instead:

    from common.scripts import load_script
    run_stage2 = load_script("01.stage2/run_stage2.py")
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from common.config import REPO_ROOT


def load_script(path: str | Path, name: str | None = None) -> ModuleType:
    """The script at ``path`` (relative to the repository root) as a module, loaded once."""
    full = (REPO_ROOT / path).resolve()
    name = name or f"stage_{full.parent.name.replace('.', '_')}_{full.stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, full)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
