"""Every learner-facing ``X.md`` has a Korean ``X.ko.md`` beside it that keeps its shape.

English is the reference. For each pair this test checks what a translation must not change
(the rules in the header of every Korean file's brief):

1. every fenced code block is byte-identical and in the same order;
2. the headings: same number, same order, same levels (the text is translated);
3. the tables: same number, same number of rows in each;
4. every inline code span holding a ``make ...`` command is in the Korean file too, and so is
   every relative link target, where a link to a Markdown file that has a Korean version
   points at the ``.ko.md`` one instead;

and that the Korean file really is Korean: at least 30% of the letters of its prose (outside
code) are Hangul.

Pairs: the REQUIRED files below (a missing Korean file fails), plus any other ``X.md`` in the
repository that has an ``X.ko.md`` sibling. One test per pair, so a broken pair shows alone.

The Markdown reading is deliberately simple (no Markdown library): fenced code blocks are cut
out first, then headings, tables, inline code and links are read from what is left. It
understands the Markdown this repository writes: ATX headings (``#``), pipe tables, backtick
fences and spans, inline links ``[text](target)`` and reference definitions ``[x]: target``.
The last tests of this file check the checker itself on small crafted documents.
"""
from __future__ import annotations

import os
import posixpath
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from common.config import REPO_ROOT

# The English files that must have a Korean version (repository-relative, "/" separated).
REQUIRED = [
    "README.md",
    "data/README.md",
    "data/GROUND_TRUTH.md",
    "data/sample/GROUND_TRUTH.md",
    "bench/README.md",
    "00.stage1/README.md",
    "01.stage2/README.md",
    "02.stage3/README.md",
    "03.stage4/README.md",
    "docs/origins.md",
    "docs/instructor.md",
    "docs/faults.md",
    "docs/memory.md",
    "exercises/README.md",
    "exercises/stage1/README.md",
    "exercises/stage2/README.md",
    "exercises/stage3/README.md",
    "exercises/stage4/README.md",
]
# English files whose Korean version is a learner-facing summary, not a full translation: it need
# not keep the shape, but each of its code blocks is one of the English ones, it keeps the
# English's `make ...` spans, every number in its prose is a number of the English prose, and it
# is Korean (see compare_summary).
SUMMARIES = {"bench/README.md"}
# Folders never searched for further pairs (tools' and engines' files, not ours).
SKIP_DIRS = {".venv", "node_modules", ".runtime", ".git"}
MIN_HANGUL_SHARE = 0.30


def korean_name(path: str) -> str:
    """``a/X.md`` -> ``a/X.ko.md``."""
    return path[: -len(".md")] + ".ko.md"


def english_name(path: str) -> str:
    """``a/X.ko.md`` -> ``a/X.md``."""
    return path[: -len(".ko.md")] + ".md"


def find_pairs(root: Path) -> list[str]:
    """The English files to check: REQUIRED, then every other X.md with an X.ko.md sibling."""
    found = set()
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        for name in files:
            if name.endswith(".ko.md") and name != ".ko.md":
                english = Path(folder, english_name(name))
                if english.is_file():
                    found.add(english.relative_to(root).as_posix())
    return REQUIRED + sorted(found - set(REQUIRED))


# --------------------------------------------------------------------------------------------
# Reading Markdown
# --------------------------------------------------------------------------------------------

# A fence: 3+ backticks (or tildes) at the start of a line, after any indentation (a fence
# inside a list item is indented like the item's text). What follows is the info string.
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


@dataclass
class Document:
    """What the checks compare, read from one Markdown text."""

    code_blocks: list[str] = field(default_factory=list)   # each block with its fence lines, raw
    prose_lines: list[str] = field(default_factory=list)   # every line outside fenced blocks
    # (the prose lines keep a blank line where a block was, so paragraphs stay apart)

    @property
    def prose(self) -> str:
        return "\n".join(self.prose_lines)


def split_fenced(text: str) -> Document:
    """Cut the fenced code blocks out of ``text``.

    A block runs from its opening fence to the first line that is a fence of the same
    character and at least as long, with nothing after it; an unclosed block runs to the end
    of the text (as in CommonMark). Lines inside blocks are never read as headings, tables or
    links.
    """
    doc = Document()
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if opening is None or (opening["fence"][0] == "`" and "`" in opening["info"]):
            doc.prose_lines.append(lines[i])
            i += 1
            continue
        char, length = opening["fence"][0], len(opening["fence"])
        closing = re.compile(r"^[ \t]*" + re.escape(char) + "{" + str(length) + r",}[ \t]*$")
        j = i + 1
        while j < len(lines) and not closing.match(lines[j]):
            j += 1
        doc.code_blocks.append("\n".join(lines[i : j + 1]))
        doc.prose_lines.append("")
        i = j + 1
    return doc


# "## Text", optionally closed by a run of "#" after a space ("## Text ##").
HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")


def headings(doc: Document) -> list[tuple[int, str]]:
    """(level, text) of every ATX heading outside code. (Setext headings, text underlined with
    === or ---, are not used in this repository and are not recognised.)"""
    out = []
    for line in doc.prose_lines:
        match = HEADING.match(line)
        if match:
            out.append((len(match[1]), (match[2] or "").strip()))
    return out


# The line under a table's header row: cells of dashes, optionally with colons, split by "|".
DELIMITER_ROW = re.compile(r"^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")


def tables(doc: Document) -> list[int]:
    """The number of body rows (header and delimiter rows not counted) of every pipe table.

    A table is a line with a "|" followed by a delimiter row; its body is the following
    non-blank lines that contain a "|".
    """
    out = []
    lines = doc.prose_lines
    i = 0
    while i < len(lines) - 1:
        if "|" in lines[i] and "|" in lines[i + 1] and DELIMITER_ROW.match(lines[i + 1]):
            j = i + 2
            while j < len(lines) and lines[j].strip() and "|" in lines[j]:
                j += 1
            out.append(j - (i + 2))
            i = j
        else:
            i += 1
    return out


# An inline code span: a run of backticks, then anything (even across a line break), then the
# same number of backticks not touching another backtick.
CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.DOTALL)
MAKE_COMMAND = re.compile(r"(?:^|[\s;(&|])make\s")


def code_spans(doc: Document) -> list[str]:
    """The inline code spans outside fenced blocks, whitespace runs collapsed to one space (a
    span may be wrapped over two lines, differently in each language)."""
    return [" ".join(m[2].split()) for m in CODE_SPAN.finditer(doc.prose)]


def make_spans(doc: Document) -> list[str]:
    """The inline code spans that hold a ``make ...`` command."""
    return [span for span in code_spans(doc) if MAKE_COMMAND.search(span)]


def without_code_spans(text: str) -> str:
    return CODE_SPAN.sub(" ", text)


# [text](target) or ![alt](target), with an optional "title"; <target> in angle brackets too.
INLINE_LINK = re.compile(r"!?\[(?P<text>[^\]]*)\]\(\s*(?P<target><[^>]*>|[^)\s]+)(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(?P<target><[^>]*>|\S+)", re.MULTILINE)
EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//)", re.IGNORECASE)   # http:, https:, mailto:, //


def links(doc: Document) -> list[str]:
    """Every link target outside code (inline links, images and reference definitions)."""
    prose = without_code_spans(doc.prose)
    found = [m["target"] for m in INLINE_LINK.finditer(prose)]
    found += [m["target"] for m in REFERENCE_DEFINITION.finditer(prose)]
    return [target.strip("<>") for target in found]


def relative_links(doc: Document, own_sibling: str) -> list[str]:
    """The relative link targets, without their #fragment, that the rules compare.

    Left out: external links (http:, https:, mailto: ...), links to a place in the same file
    (``#...``: the Korean headings, and so their anchors, are translated), and the language
    switch (the link to the file's own sibling in the other language, ``own_sibling``).
    """
    out = []
    for target in links(doc):
        if EXTERNAL.match(target) or target.startswith("#"):
            continue
        path = target.split("#", 1)[0].split("?", 1)[0]
        if path and path != own_sibling:
            out.append(path)
    return out


HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")
URL = re.compile(r"https?://\S+")


def hangul_share(doc: Document) -> float:
    """Hangul letters / all letters in the prose, outside code spans, link targets and URLs."""
    prose = without_code_spans(doc.prose)
    prose = INLINE_LINK.sub(lambda m: " " + m["text"] + " ", prose)   # keep the link text only
    prose = URL.sub(" ", prose)
    letters = [ch for ch in prose if ch.isalpha()]
    if not letters:
        return 0.0
    return sum(1 for ch in letters if HANGUL.match(ch)) / len(letters)


# --------------------------------------------------------------------------------------------
# Comparing a pair
# --------------------------------------------------------------------------------------------

def first_difference(english: str, korean: str) -> str:
    """The first line where two blocks differ, shown as 'English' / 'Korean'."""
    en_lines, ko_lines = english.split("\n"), korean.split("\n")
    for n, (a, b) in enumerate(zip(en_lines, ko_lines), start=1):
        if a != b:
            return f"line {n}: {a!r} in English, {b!r} in Korean"
    n = min(len(en_lines), len(ko_lines)) + 1
    if len(en_lines) > len(ko_lines):
        return f"line {n}: {en_lines[n - 1]!r} in English is missing in Korean"
    return f"line {n}: {ko_lines[n - 1]!r} in Korean is not in English"


def heading_difference(en_heads: list[tuple[int, str]], ko_heads: list[tuple[int, str]]) -> str:
    """Where two heading lists first part, in words (for a failure message)."""
    for n, ((en_level, en_text), (ko_level, ko_text)) in enumerate(zip(en_heads, ko_heads), 1):
        if en_level != ko_level:
            return (f"heading {n} is level {ko_level} in Korean ({ko_text!r}) but level "
                    f"{en_level} in English ({en_text!r})")
    n = min(len(en_heads), len(ko_heads))
    if len(en_heads) > n:
        return f"after the first {n} the English goes on with {en_heads[n][1]!r}"
    return f"after the first {n} the Korean goes on with {ko_heads[n][1]!r}"


def link_in_korean(target: str, english_path: str, translated: set[str]) -> str:
    """Where the Korean file should link for the English ``target``: the same target, but
    ``Y.md`` -> ``Y.ko.md`` when ``Y.md`` (resolved from the English file's folder) is one of
    the ``translated`` files (repository-relative paths)."""
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(english_path), target))
    if target.endswith(".md") and resolved in translated:
        return korean_name(target)
    return target


def compare(english_text: str, korean_text: str, english_path: str,
            translated: set[str]) -> list[str]:
    """Every way the Korean text breaks the rules, one sentence each, naming the Korean file.

    ``english_path`` is the English file's repository-relative path; ``translated`` the
    repository-relative paths of the English files that have (or must have) a Korean version.
    """
    ko_path = korean_name(english_path)
    en, ko = split_fenced(english_text), split_fenced(korean_text)
    problems = []

    # 1. code blocks: identical, in order (one message: after a missing block, all are shifted)
    differing = next((n for n, (a, b) in enumerate(zip(en.code_blocks, ko.code_blocks), 1)
                      if a != b), None)
    if len(en.code_blocks) != len(ko.code_blocks):
        problems.append(f"{ko_path}: has {len(ko.code_blocks)} code blocks, the English "
                        f"{english_path} has {len(en.code_blocks)}"
                        + (f" (the first that differs is block {differing})" if differing else "")
                        + ".")
    elif differing:
        where = first_difference(en.code_blocks[differing - 1], ko.code_blocks[differing - 1])
        problems.append(f"{ko_path}: code block {differing} differs from the English one "
                        f"(first difference at {where}).")

    # 2. headings: same levels in the same order
    en_heads, ko_heads = headings(en), headings(ko)
    en_levels, ko_levels = [level for level, _ in en_heads], [level for level, _ in ko_heads]
    if en_levels != ko_levels:
        problems.append(f"{ko_path}: has {len(ko_levels)} headings, the English has "
                        f"{len(en_levels)}, and {heading_difference(en_heads, ko_heads)}.")

    # 3. tables: same number, same rows in each
    en_tables, ko_tables = tables(en), tables(ko)
    if len(en_tables) != len(ko_tables):
        problems.append(f"{ko_path}: has {len(ko_tables)} tables, the English has "
                        f"{len(en_tables)}.")
    for n, (a, b) in enumerate(zip(en_tables, ko_tables), start=1):
        if a != b:
            problems.append(f"{ko_path}: table {n} has {b} rows, the English one has {a}.")

    # 4a. every `make ...` span of the English is in the Korean
    ko_spans = set(code_spans(ko))
    for span in dict.fromkeys(make_spans(en)):
        if span not in ko_spans:
            problems.append(f"{ko_path}: the inline code `{span}` of the English is missing.")

    # 4b. every relative link of the English, mapped to the Korean versions, is in the Korean
    ko_links = set(relative_links(ko, own_sibling=posixpath.basename(english_path)))
    en_links = relative_links(en, own_sibling=posixpath.basename(ko_path))
    for target in dict.fromkeys(en_links):
        wanted = link_in_korean(target, english_path, translated)
        if wanted not in ko_links:
            hint = (f" (it links to {target}, the English version)"
                    if wanted != target and target in ko_links else "")
            problems.append(f"{ko_path}: has no link to {wanted}, which the English links to "
                            f"as {target}{hint}.")

    # 5. it is Korean
    share = hangul_share(ko)
    if share < MIN_HANGUL_SHARE:
        problems.append(f"{ko_path}: only {share:.0%} of its prose letters are Hangul "
                        f"(at least {MIN_HANGUL_SHARE:.0%} expected): is it translated?")
    return problems


NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def numbers(doc: Document) -> list[str]:
    """The numbers in the prose (code spans included, fenced blocks not), e.g. '17,427', '0.5'."""
    return NUMBER.findall(doc.prose)


def compare_summary(english_text: str, korean_text: str, english_path: str) -> list[str]:
    """The rules for a Korean summary of ``english_path`` (one of SUMMARIES)."""
    ko_path = korean_name(english_path)
    en, ko = split_fenced(english_text), split_fenced(korean_text)
    problems = [f"{ko_path}: code block {n} is not one of the English code blocks."
                for n, block in enumerate(ko.code_blocks, 1) if block not in en.code_blocks]
    ko_spans = set(code_spans(ko))
    problems += [f"{ko_path}: the inline code `{span}` of the English is missing."
                 for span in dict.fromkeys(make_spans(en)) if span not in ko_spans]
    en_numbers = set(numbers(en))
    problems += [f"{ko_path}: the number {number} is not in the English {english_path}."
                 for number in dict.fromkeys(numbers(ko)) if number not in en_numbers]
    share = hangul_share(ko)
    if share < MIN_HANGUL_SHARE:
        problems.append(f"{ko_path}: only {share:.0%} of its prose letters are Hangul "
                        f"(at least {MIN_HANGUL_SHARE:.0%} expected): is it translated?")
    return problems


def check_pair(root: Path, english_path: str, translated: set[str]) -> list[str]:
    """``compare`` (``compare_summary`` for SUMMARIES) for the files under ``root``; a missing
    file is one problem."""
    ko_path = korean_name(english_path)
    if not (root / english_path).is_file():
        return [f"{english_path}: the English file is missing."]
    if not (root / ko_path).is_file():
        return [f"{ko_path}: the Korean version of {english_path} is missing."]
    english, korean = ((root / name).read_text(encoding="utf-8") for name in (english_path, ko_path))
    if english_path in SUMMARIES:
        return compare_summary(english, korean, english_path)
    return compare(english, korean, english_path, translated)


PAIRS = find_pairs(REPO_ROOT)


@pytest.mark.parametrize("english_path", PAIRS)
def test_korean_version_keeps_the_shape(english_path):
    problems = check_pair(REPO_ROOT, english_path, set(PAIRS))
    assert not problems, (f"{english_path} -> {korean_name(english_path)}:\n  "
                          + "\n  ".join(problems))


# --------------------------------------------------------------------------------------------
# The checker itself, on small crafted documents
# --------------------------------------------------------------------------------------------

EN = """# Title

[한국어](X.ko.md)

Run `make stage1 MAX_EVENTS=10` first, see [stage 2](01.stage2/README.md#run-it),
[data](data/README.md), [above](#title) and [the web](https://example.com/a.md).

## Run

```bash
make stage1   # a comment
```

| a | b |
| --- | --- |
| `x` | y |
| z | w |

### Deep

~~~
# not a heading
| not | a |
| --- | --- |
~~~
"""

KO = """# 제목

[English](X.md)

먼저 `make stage1 MAX_EVENTS=10`을 실행하고, [2단계](01.stage2/README.ko.md#실행)와
[데이터](data/README.md), [위](#제목), [웹](https://example.com/a.md)을 보세요.

## 실행

```bash
make stage1   # a comment
```

| 가 | 나 |
| --- | --- |
| `x` | 와이 |
| 제트 | 더블유 |

### 깊이

~~~
# not a heading
| not | a |
| --- | --- |
~~~
"""

TRANSLATED = {"X.md", "01.stage2/README.md"}


def test_checker_reads_the_parts():
    doc = split_fenced(EN)
    assert doc.code_blocks == ["```bash\nmake stage1   # a comment\n```",
                               "~~~\n# not a heading\n| not | a |\n| --- | --- |\n~~~"]
    assert headings(doc) == [(1, "Title"), (2, "Run"), (3, "Deep")]
    assert tables(doc) == [2]
    assert make_spans(doc) == ["make stage1 MAX_EVENTS=10"]
    assert relative_links(doc, own_sibling="X.ko.md") == ["01.stage2/README.md", "data/README.md"]
    assert hangul_share(doc) < 0.1           # only the language switch's 한국어 (link text)
    assert hangul_share(split_fenced(KO)) > 0.5


def test_checker_accepts_a_faithful_translation():
    assert compare(EN, KO, "X.md", TRANSLATED) == []


def test_checker_reads_spans_over_a_line_break_and_longer_fences():
    doc = split_fenced("a `make stage1;\n  make stage2` b ``x ` y`` c\n````\n```\n````\n# h\n")
    assert code_spans(doc) == ["make stage1; make stage2", "x ` y"]
    assert doc.code_blocks == ["````\n```\n````"]
    assert headings(doc) == [(1, "h")]


@pytest.mark.parametrize("broken, expected", [
    (KO.replace("# a comment", "# 주석"),
     "X.ko.md: code block 1 differs from the English one (first difference at line 2: "
     "'make stage1   # a comment' in English, 'make stage1   # 주석' in Korean)."),
    (KO.replace("```bash\nmake stage1   # a comment\n```\n", ""),
     "X.ko.md: has 1 code blocks, the English X.md has 2 (the first that differs is block 1)."),
    (KO.replace("### 깊이", "## 깊이"),
     "has 3 headings, the English has 3, and heading 3 is level 2 in Korean ('깊이') but level 3 in English ('Deep')"),
    (KO.replace("### 깊이", "깊이"),
     "has 2 headings, the English has 3, and after the first 2 the English goes on with 'Deep'"),
    (KO.replace("| 제트 | 더블유 |\n", ""), "X.ko.md: table 1 has 1 rows, the English one has 2."),
    (KO.replace("| 가 | 나 |\n| --- | --- |\n", ""), "X.ko.md: has 0 tables, the English has 1."),
    (KO.replace("`make stage1 MAX_EVENTS=10`", "`make stage1`"),
     "X.ko.md: the inline code `make stage1 MAX_EVENTS=10` of the English is missing."),
    (KO.replace("01.stage2/README.ko.md", "01.stage2/README.md"),
     "X.ko.md: has no link to 01.stage2/README.ko.md, which the English links to as "
     "01.stage2/README.md (it links to 01.stage2/README.md, the English version)."),
    (KO.replace("[데이터](data/README.md)", "데이터"),
     "X.ko.md: has no link to data/README.md, which the English links to as data/README.md."),
    (KO.replace("먼저 ", "This sentence was left in English by mistake, and a long one, so "
                "that the letters of the file are now mostly Latin and hardly Hangul. "),
     "X.ko.md: only 2"),
], ids=["code-changed", "code-missing", "heading-level", "heading-missing", "table-row",
        "table-missing", "make-span", "link-not-korean", "link-missing", "not-hangul"])
def test_checker_finds_each_kind_of_difference(broken, expected):
    problems = compare(EN, broken, "X.md", TRANSLATED)
    assert len(problems) == 1 and expected in problems[0], problems


def test_checker_on_broken_copies_of_the_real_readme(tmp_path):
    """The real README pair passes; a copy with a changed code block, a dropped table row (the
    one linking to stage 4) and a link to an English file fails with a message for each; a
    missing Korean file is named."""
    for name in ("README.md", "README.ko.md"):
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    assert check_pair(tmp_path, "README.md", set(REQUIRED)) == []

    korean = (tmp_path / "README.ko.md").read_text(encoding="utf-8")
    row = next(line for line in korean.split("\n") if line.startswith("| 4 |"))
    broken = (korean.replace("make demo      # provisions", "make demo      # 준비", 1)
              .replace(row + "\n", "", 1)
              .replace("(docs/origins.ko.md)", "(docs/origins.md)"))
    (tmp_path / "README.ko.md").write_text(broken, encoding="utf-8")
    problems = check_pair(tmp_path, "README.md", set(REQUIRED))
    assert len(problems) == 4, problems   # the dropped row held the only link to stage 4
    assert any("code block 2 differs" in p for p in problems), problems
    assert any("table 1 has 3 rows, the English one has 4" in p for p in problems), problems
    assert any("no link to docs/origins.ko.md" in p and "the English version" in p
               for p in problems), problems
    assert any("no link to 03.stage4/README.ko.md" in p for p in problems), problems

    (tmp_path / "README.ko.md").unlink()
    assert check_pair(tmp_path, "README.md", set(REQUIRED)) == [
        "README.ko.md: the Korean version of README.md is missing."]


def test_pairs_are_found_beside_any_markdown_file(tmp_path):
    for name in ("a/Y.md", "a/Y.ko.md", "b/Z.md", ".venv/V.md", ".venv/V.ko.md"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("# t\n", encoding="utf-8")
    assert find_pairs(tmp_path) == REQUIRED + ["a/Y.md"]


def test_summary_checker_finds_a_changed_number_and_a_foreign_block():
    english = "# Bench\n\nRun `make bench`: 17,427 events/s, p95 1.27 s.\n\n```\nmake bench\n```\n"
    korean = "# 벤치마크\n\n`make bench`를 실행하면 초당 17,427건, p95 1.27 s입니다.\n\n```\nmake bench\n```\n"
    assert compare_summary(english, korean, "b/README.md") == []
    problems = compare_summary(english, korean.replace("17,427", "17,472").replace("make bench\n```", "make demo\n```"),
                               "b/README.md")
    assert problems == ["b/README.ko.md: code block 1 is not one of the English code blocks.",
                        "b/README.ko.md: the number 17,472 is not in the English b/README.md."], problems


def test_checker_reads_headings_like_markdown():
    doc = split_fenced("# C#\n## Text ##\n###\n#not a heading\n    # indented code, not a heading\n")
    assert headings(doc) == [(1, "C#"), (2, "Text"), (3, "")]
