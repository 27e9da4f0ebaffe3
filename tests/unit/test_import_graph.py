"""The shape of the code, read from the imports of every module (``ast``, nothing runs):

* ``common/`` is the shared library: it imports no stage and no tooling;
* stage N builds on ``common/`` and earlier stages only, never on a later one;
* the learner's library (common and the stages) does not import the tooling
  (``services``, ``tools``) or the exercises' checkers (``exercises``), which may import anything;
* no import cycles; nobody edits ``sys.path`` or loads a script by file path.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

from common.config import REPO_ROOT

PACKAGES = {"common": "common", "stage1": "00.stage1", "stage2": "01.stage2", "stage3": "02.stage3",
            "stage4": "03.stage4", "services": "services", "tools": "tools", "exercises": "exercises"}
RANK = {"common": 0, "stage1": 1, "stage2": 2, "stage3": 3, "stage4": 4}
TOOLING = {"services", "tools", "exercises"}
# the one module allowed to load files by path: the exercise runner imports a learner's answer file
LOADS_BY_PATH = {"exercises/checking.py"}


def modules() -> dict[str, Path]:
    out = {}
    for package, folder in PACKAGES.items():
        for path in sorted((REPO_ROOT / folder).glob("*.py")):
            name = package if path.stem == "__init__" else f"{package}.{path.stem}"
            out[name] = path
    return out


def imports_of(path: Path, name: str, known: set[str] = frozenset()) -> set[str]:
    """Project modules imported by the module at ``path`` (absolute or relative imports);
    ``from package import module`` counts as importing the module, not the package."""
    found = set()
    package = name if path.stem == "__init__" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            submodules = {f"{base}.{alias.name}" for alias in node.names} & set(known)
            found.update(submodules if len(submodules) == len(node.names) else {base} | submodules)
    return {m for m in found if m.split(".")[0] in PACKAGES}


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {name: {m for m in imports_of(path, name, set(mods)) if m in mods and m != name}
            for name, path in mods.items()}


def test_every_package_has_modules():
    names = modules()
    for package in PACKAGES:
        assert package in names, f"{PACKAGES[package]}/__init__.py is missing"


def test_common_imports_no_stage_and_no_tooling():
    bad = [(m, i) for m, deps in graph().items() if m.split(".")[0] == "common"
           for i in deps if i.split(".")[0] != "common"]
    assert not bad, f"common/ must not import a stage or the tooling: {bad}"


def test_stages_import_only_common_and_earlier_stages():
    bad = []
    for module, deps in graph().items():
        top = module.split(".")[0]
        if top not in RANK:
            continue
        for dep in deps:
            other = dep.split(".")[0]
            if other in TOOLING or (other in RANK and RANK[other] > RANK[top]):
                bad.append((module, dep))
    assert not bad, f"a stage imports a later stage or the tooling: {bad}"


def find_cycle(g: dict[str, set[str]]) -> list[str]:
    """One import cycle of ``g`` as a path [a, b, ..., a], or [] when there is none."""
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> list[str]:
        state[node] = "open"
        for dep in sorted(g.get(node, ())):
            if state.get(dep) == "open":
                return path[path.index(dep):] + [node, dep] if dep in path else [node, dep]
            if dep not in state and (found := visit(dep, path + [node])):
                return found
        state[node] = "done"
        return []

    for node in sorted(g):
        if node not in state and (found := visit(node, [])):
            return found
    return []


def test_the_cycle_finder_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []


def test_no_import_cycles():
    cycle = find_cycle(graph())
    assert not cycle, f"import cycle: {' -> '.join(cycle)}"


def test_nobody_edits_sys_path_or_loads_scripts_by_path():
    offenders = []
    folders = [*PACKAGES.values(), "tests", "bench", "notebooks"]
    for folder in folders:
        for path in (REPO_ROOT / folder).rglob("*"):
            if path.suffix not in (".py", ".ipynb") or "node_modules" in path.parts:
                continue
            text = path.read_text()
            if re.search(r"sys\.path\.(insert|append)|spec_from_file_location|load_script", text) \
                    and path.name != "test_import_graph.py" \
                    and path.relative_to(REPO_ROOT).as_posix() not in LOADS_BY_PATH:
                offenders.append(str(path.relative_to(REPO_ROOT)))
    assert not offenders, f"edit sys.path or load scripts by path: {offenders}"


def test_no_references_to_documents_outside_the_repository():
    pattern = re.compile(r"DESIGN\s*§|DESIGN\.md|\bissue \d+")
    offenders = [str(p.relative_to(REPO_ROOT)) for folder in [*PACKAGES.values(), "bench"]
                 for p in (REPO_ROOT / folder).glob("*.py") if pattern.search(p.read_text())]
    assert not offenders, offenders
