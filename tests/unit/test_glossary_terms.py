"""The Korean texts a learner reads use the glossary's Korean terms, not their rejected variants.

One place holds the term list: the table in ``docs/glossary.md``. Its "한국어" column is the term
every Korean text uses, its last column ("쓰지 않는 말") the variants no Korean text may use (for
example 스테이지 for 단계, 오퍼 for 제안, 윈도우 for window). A variant in parentheses right after
the term, as in ``watermark(워터마크)``, is a reading aid on first use and is allowed.

The Korean learner texts:
- every ``*.ko.md``, its prose outside fenced code and inline code spans;
- the glossary itself, its 한국어 and 설명 columns and its text outside the table;
- the Markdown cells of ``notebooks/*.ko.ipynb``, outside inline code;
- the string literals holding Hangul in the Python code a learner runs or reads (the checkers
  under ``exercises/``, the starters, any Korean message elsewhere outside ``tests/``), and the
  Hangul comment lines of the JavaScript starters.

The last tests check the checker: a text with a variant fails, the allowed reading aid passes.
"""
from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import nbformat
import pytest

from common.config import REPO_ROOT
from tests.unit.test_translations import split_fenced, without_code_spans

GLOSSARY = REPO_ROOT / "docs" / "glossary.md"
SKIP_DIRS = {".venv", "node_modules", ".runtime", ".git", "tests", "__pycache__"}
HANGUL = re.compile(r"[\uac00-\ud7a3]")
TABLE_ROW = re.compile(r"^\|(.+)\|\s*$")


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in TABLE_ROW.match(line)[1].split("|")]


def read_term_list(text: str) -> list[tuple[str, list[str]]]:
    """(Korean term, [rejected variants]) for every glossary row that rejects something."""
    lines = text.split("\n")
    header = next(i for i, line in enumerate(lines) if line.startswith("| English term"))
    columns = _cells(lines[header])
    ko, rejected = columns.index("한국어"), columns.index("쓰지 않는 말")
    terms = []
    for line in lines[header + 2:]:
        if not TABLE_ROW.match(line):
            break
        cells = _cells(line)
        variants = [v.strip() for v in cells[rejected].split(",") if v.strip()]
        if variants:
            terms.append((cells[ko], variants))
    return terms


def glossary_without_rejected_column(text: str) -> str:
    """The glossary's text with only the 한국어 and 설명 columns of its table (the English terms
    and the variants themselves left out)."""
    out = []
    for line in text.split("\n"):
        out.append(" | ".join(_cells(line)[1:-1]) if TABLE_ROW.match(line) else line)
    return "\n".join(out)


def reading_aid_heads(term: str) -> list[str]:
    """The spellings a variant may follow in parentheses: 'watermark(워터마크)' -> 'watermark';
    'driver / executor / task' -> each of the three."""
    head = term.split("(", 1)[0].strip()
    return [part.strip() for part in head.split("/") if part.strip()]


def find_variants(text: str, terms: list[tuple[str, list[str]]]) -> list[tuple[str, str, str]]:
    """(variant, term to use, the line it is in) for every rejected variant in ``text``."""
    found = []
    for term, variants in terms:
        heads = reading_aid_heads(term)
        for variant in variants:
            allowed = text
            for head in heads:                          # "watermark(워터마크" is a reading aid
                allowed = allowed.replace(f"{head}({variant}", f"{head}(")
            for match in re.finditer(re.escape(variant), allowed):
                start = allowed.rfind("\n", 0, match.start()) + 1
                end = allowed.find("\n", match.end())
                found.append((variant, term, allowed[start:end if end >= 0 else None].strip()))
    return found


KOREAN_BLOCK = "\n한국어\n------\n"          # a starter's docstring: English, then its Korean block


def korean_part(text: str) -> str:
    """The Korean of a string literal: a starter docstring's Korean block, else the whole string."""
    return text.split(KOREAN_BLOCK, 1)[1] if KOREAN_BLOCK in text else text


def korean_texts(root: Path) -> dict[str, str]:
    """Repository-relative name -> the Korean learner text to scan in it."""
    texts = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for name in sorted(files):
            path = Path(folder, name)
            rel = path.relative_to(root).as_posix()
            if name.endswith(".ko.md"):
                texts[rel] = without_code_spans(split_fenced(path.read_text(encoding="utf-8")).prose)
            elif name.endswith(".ko.ipynb"):
                notebook = nbformat.read(path, 4)
                texts[rel] = "\n".join(without_code_spans(cell.source) for cell in notebook.cells
                                       if cell.cell_type == "markdown")
            elif name.endswith(".py"):
                source = path.read_text(encoding="utf-8")
                if HANGUL.search(source):
                    texts[rel] = "\n".join(korean_part(node.value) for node in ast.walk(ast.parse(source))
                                           if isinstance(node, ast.Constant) and isinstance(node.value, str)
                                           and HANGUL.search(node.value))
            elif name.endswith(".js") and rel.startswith("exercises/stage"):
                source = path.read_text(encoding="utf-8")          # its header's Korean block
                texts[rel] = source.split(" * 한국어\n", 1)[1].split("*/", 1)[0] if " * 한국어\n" in source else ""
    glossary = root / "docs" / "glossary.md"
    if glossary.is_file():
        texts["docs/glossary.md"] = without_code_spans(
            glossary_without_rejected_column(glossary.read_text(encoding="utf-8")))
    return texts


TERMS = read_term_list(GLOSSARY.read_text(encoding="utf-8"))
TEXTS = korean_texts(REPO_ROOT)


def test_the_glossary_lists_the_rejected_variants():
    rejected = {variant for _, variants in TERMS for variant in variants}
    assert {"스테이지", "오퍼", "트랙", "특징", "라벨", "타게팅", "윈도", "타깃"} <= rejected, rejected


def test_every_starter_has_a_korean_block():
    starters = sorted(p for p in (REPO_ROOT / "exercises").glob("stage*/*") if p.suffix in (".py", ".js"))
    assert len(starters) == 21
    missing = [p.relative_to(REPO_ROOT).as_posix() for p in starters
               if "한국어\n" not in p.read_text(encoding="utf-8")]
    assert not missing, f"starters without a Korean block in their docstring: {missing}"


def test_every_kind_of_korean_text_is_scanned():
    names = set(TEXTS)
    assert {"README.ko.md", "docs/glossary.md", "notebooks/03_stage3.ko.ipynb", "exercises/checking.py",
            "exercises/checks/stage2.py", "exercises/stage1/parse_line.py",
            "exercises/stage4/sse_frame.js"} <= names, sorted(names)


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_korean_text_uses_the_glossary_terms(name):
    found = find_variants(TEXTS[name], TERMS)
    assert not found, f"{name} uses variants docs/glossary.md rejects:\n  " + "\n  ".join(
        f"{variant!r} (write {term!r}) in: {line}" for variant, term, line in found)


# --------------------------------------------------------------------------------------------
# The checker itself
# --------------------------------------------------------------------------------------------

def test_checker_finds_a_rejected_variant():
    text = "스테이지 2의 윈도우 집계를 보세요.\n오퍼는 하루 한 번입니다."
    assert sorted((v, t) for v, t, _ in find_variants(text, TERMS)) == [
        ("스테이지", "단계"), ("오퍼", "제안"), ("윈도", "window(텀블링 / 슬라이딩)"),
        ("윈도우", "window(텀블링 / 슬라이딩)")]


def test_checker_allows_the_reading_aid_but_not_a_bare_variant():
    assert find_variants("watermark(워터마크)는 기준 시각입니다.", TERMS) == []
    assert [v for v, _, _ in find_variants("워터마크는 기준 시각입니다.", TERMS)] == ["워터마크"]


def test_checker_fails_on_a_broken_copy_of_a_real_text(tmp_path):
    """A copy of a real Korean README passes, the same copy with one variant fails naming it."""
    real = (REPO_ROOT / "exercises" / "stage2" / "README.ko.md").read_text(encoding="utf-8")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "glossary.md").write_text(GLOSSARY.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "README.ko.md").write_text(real, encoding="utf-8")
    assert [find_variants(text, TERMS) for text in korean_texts(tmp_path).values()] == [[], []]
    (tmp_path / "README.ko.md").write_text(real.replace("2단계", "스테이지 2", 1), encoding="utf-8")
    found = find_variants(korean_texts(tmp_path)["README.ko.md"], TERMS)
    assert [(variant, term) for variant, term, _ in found] == [("스테이지", "단계")], found


def test_term_list_is_read_from_the_table():
    table = ("intro\n\n| English term | 한국어 | 설명 | 쓰지 않는 말 |\n| --- | --- | --- | --- |\n"
             "| stage | 단계 | 설명 | 스테이지 |\n| upsert | upsert | 설명 |  |\n"
             "| window | window(창) | 설명 | 윈도우, 윈도 |\n\nafter\n")
    assert read_term_list(table) == [("단계", ["스테이지"]), ("window(창)", ["윈도우", "윈도"])]
    assert "스테이지" not in glossary_without_rejected_column(table)
