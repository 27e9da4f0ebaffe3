"""Running a stage notebook the way a learner does, for the notebook tests."""
from __future__ import annotations

import json
from pathlib import Path

from common.config import REPO_ROOT


def run_notebook(name: str, env: dict[str, str], results: Path, monkeypatch, timeout: int = 180) -> dict:
    """Execute ``notebooks/<name>`` top to bottom with ``env`` set (the kernel
    inherits the environment) and return the answers it wrote to ``results``."""
    import nbformat
    from nbclient import NotebookClient

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    nb = nbformat.read(REPO_ROOT / "notebooks" / name, as_version=4)
    NotebookClient(nb, kernel_name="python3", timeout=timeout,
                   resources={"metadata": {"path": str(REPO_ROOT / "notebooks")}}).execute()
    return json.loads(results.read_text())
