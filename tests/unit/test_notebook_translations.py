"""Every notebook has a Korean twin ``X.ko.ipynb`` with the same cells: the code cells
byte-identical (so both compute the same answers; the notebook tests execute both and compare),
the Markdown cells translated (at least 30% of their letters Hangul), and each language links
to the other in its first cell."""
from __future__ import annotations

import re

import nbformat
import pytest

from common.config import REPO_ROOT

NOTEBOOKS = sorted(p.name for p in (REPO_ROOT / "notebooks").glob("*.ipynb") if not p.name.endswith(".ko.ipynb"))


def hangul_share(text: str) -> float:
    text = re.sub(r"`[^`]*`|\([^)]*\)|\*\*[\d,.%: ]+\*\*", " ", text)     # code, link targets, figures
    letters = re.findall(r"[A-Za-z가-힣]", text)
    return sum("가" <= c <= "힣" for c in letters) / max(len(letters), 1)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_the_korean_notebook_has_the_same_code_and_translated_text(name):
    assert len(NOTEBOOKS) == 3
    english = nbformat.read(REPO_ROOT / "notebooks" / name, 4)
    korean_name = name.replace(".ipynb", ".ko.ipynb")
    korean = nbformat.read(REPO_ROOT / "notebooks" / korean_name, 4)
    assert [c.cell_type for c in korean.cells] == [c.cell_type for c in english.cells]
    for i, (en, ko) in enumerate(zip(english.cells, korean.cells)):
        if en.cell_type == "code":
            assert ko.source == en.source, f"{korean_name} cell {i}: the code differs from {name}"
        else:
            assert hangul_share(ko.source) >= 0.30, f"{korean_name} cell {i} is not Korean: {ko.source[:80]}"
            assert ko.source.lstrip().startswith("#") is en.source.lstrip().startswith("#"), f"cell {i}"
    assert f"[English]({name})" in korean.cells[0].source
    assert f"[한국어]({korean_name})" in english.cells[0].source
