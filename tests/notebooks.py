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


def run_notebook_and_korean(name: str, env: dict[str, str], results: Path, monkeypatch,
                            timeout: int = 180) -> dict:
    """Run ``notebooks/<name>`` and then its Korean version ``<name>.ko.ipynb`` (same code
    cells, translated text) on the same data; both must give the same answers. Returns them."""
    answers = run_notebook(name, env, results, monkeypatch, timeout)
    korean_results = results.with_name(results.stem + ".ko.json")
    korean_env = {k: (str(korean_results) if v == str(results) else v) for k, v in env.items()}
    assert korean_env != env, "the answers' path must be one of the environment variables"
    korean = run_notebook(name.replace(".ipynb", ".ko.ipynb"), korean_env, korean_results, monkeypatch, timeout)
    assert korean == answers, f"{name}: the Korean notebook gave other answers than the English one"
    return answers
