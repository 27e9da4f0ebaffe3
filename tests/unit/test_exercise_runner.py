"""The exercise runner and the exercise lists (no engines): what a learner reads when an
answer is wrong, does not load or raises, and that every stage's exercises are complete."""
from __future__ import annotations

import re

import pytest

from exercises.check import STAGES, exercises_of, main
from exercises.checking import EXERCISES_DIR, Exercise, Text, Wrong, run_one


def must_be_two(module):
    if module.answer() != 2:
        raise Wrong("answer() should give 2", "answer()는 2를 돌려줘야 합니다")


EX = Exercise(key="9.1", file="two.py", title=Text("Two", "둘"), skill=Text("s", "s"), minutes=1,
              first_step=Text("write answer()", "answer()를 쓰세요"), check=must_be_two)


@pytest.mark.parametrize("body, expected", [
    ("def answer():\n    return 2\n", "right"),
    ("def answer():\n    raise NotImplementedError\n", "write answer()"),
    ("def answer():\n    return 3\n", "answer() should give 2"),
    ("def answer(:\n", "two.py does not load: invalid syntax, line 1"),
    ("def answer():\n    return {}['x']\n", "your code raised KeyError: 'x' (two.py, line 2)"),
])
def test_every_outcome_is_one_sentence(tmp_path, body, expected):
    (tmp_path / "stage9").mkdir()
    (tmp_path / "stage9" / "two.py").write_text(body)
    result = run_one(EX, tmp_path)
    assert result.ok is (expected == "right")
    assert result.message.en == expected
    assert result.message.ko and re.search("[가-힣]", result.message.ko)


def test_a_missing_file_says_how_to_get_it_back(tmp_path):
    result = run_one(EX, tmp_path)
    assert not result.ok and "git checkout --" in result.message.en


@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_has_four_to_six_exercises_with_files_and_texts(stage):
    exercises = exercises_of(stage)
    assert 4 <= len(exercises) <= 6
    assert [ex.key for ex in exercises] == [f"{stage[-1]}.{i}" for i in range(1, len(exercises) + 1)]
    readme = (EXERCISES_DIR / stage / "README.md").read_text()
    readme_ko = (EXERCISES_DIR / stage / "README.ko.md").read_text()
    for ex in exercises:
        assert (EXERCISES_DIR / stage / ex.file).is_file(), ex.file
        assert (EXERCISES_DIR / "solutions" / stage / ex.file).is_file(), ex.file
        for text in (ex.title, ex.skill, ex.first_step):
            assert text.en and re.search("[가-힣]", text.ko), (ex.key, text)
        assert f"{ex.key}" in readme and f"{ex.key}" in readme_ko, ex.key
        assert ex.file in readme and ex.file in readme_ko, ex.file


def test_the_command_line_prints_one_line_per_exercise_and_fails(tmp_path, capsys, monkeypatch):
    import exercises.check as check

    monkeypatch.setattr(check, "exercises_of", lambda stage: [EX])
    (tmp_path / "stage9").mkdir()
    (tmp_path / "stage9" / "two.py").write_text("def answer():\n    return 3\n")
    assert main(["stage1", "--answers", str(tmp_path), "--lang", "ko"]) == 1
    out = capsys.readouterr().out
    assert "✘ 9.1 둘 (1분)" in out and "answer()는 2를 돌려줘야 합니다" in out and "1개 중 0개 정답" in out
