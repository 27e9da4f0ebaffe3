"""The small machinery every checker shares.

An exercise names the file a learner edits, what it teaches, how long it takes, and a
``check`` function. ``check`` receives the learner's module (loaded from the answers folder;
for a file that is not Python, its path)
and either returns (right) or raises ``Wrong`` with one sentence in English and in Korean
saying what to fix. A starter that is still untouched raises ``NotImplementedError``; the
runner answers it with the exercise's ``first_step`` hint. Any other error in the learner's
code becomes one line (error, message, file and line), never a stack trace.
"""
from __future__ import annotations

import importlib.util
import re
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Callable, NamedTuple

EXERCISES_DIR = Path(__file__).resolve().parent


class Text(NamedTuple):
    """One message in both languages of the workshop."""
    en: str
    ko: str

    def __call__(self, lang: str) -> str:
        return self.ko if lang == "ko" else self.en


class Wrong(Exception):
    """Raised by a checker: the answer runs but is not right yet."""

    def __init__(self, en: str, ko: str):
        super().__init__(en)
        self.text = Text(en, ko)


@dataclass(frozen=True)
class Exercise:
    key: str                                  # "2.3": stage 2, exercise 3
    file: str                                 # the starter the learner edits, in exercises/stageN/
    title: Text
    skill: Text                               # what it teaches, one line
    minutes: int                              # our estimate for a learner who read the stage README
    first_step: Text                          # the hint for an untouched starter
    check: Callable[[ModuleType | Path], None] = field(repr=False)
    needs: tuple[str, ...] = ()               # engines: "elasticsearch", "redis", "kafka", "spark"

    @property
    def stage(self) -> str:
        return f"stage{self.key.split('.')[0]}"


@dataclass
class Result:
    exercise: Exercise
    ok: bool
    message: Text


def load_answer(path: Path) -> ModuleType:
    """Import one answer file under a name of its own (starters and solutions never mix)."""
    name = f"_answer_{path.parent.name}_{path.stem}_{abs(hash(str(path)))}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module          # dataclasses and pickling look the module up by name
    spec.loader.exec_module(module)
    return module


def where_in(exc: BaseException, path: Path) -> str:
    """'line 12' of the learner's file where the error happened, or '' if not in it."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename) == path]
    return f", line {frames[-1].lineno}" if frames else ""


def where_ko(where: str, sep: str = " ") -> str:
    """The Korean of where_in()'s ', line 12': ' 12번째 줄' (``sep`` before it), or ''."""
    match = re.fullmatch(r", line (\d+)", where)
    return f"{sep}{match[1]}번째 줄" if match else where


def run_one(exercise: Exercise, answers: Path) -> Result:
    path = answers / exercise.stage / exercise.file
    if not path.is_file():
        shown = path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path
        return Result(exercise, False, Text(f"{shown} is missing: copy it back with git checkout -- {shown}",
                                            f"{shown} 파일이 없습니다. git checkout -- {shown} 로 되살리세요"))
    try:
        # a Python answer is imported; any other (the dashboard's JavaScript) is passed as its path
        exercise.check(load_answer(path) if path.suffix == ".py" else path)
    except NotImplementedError:
        return Result(exercise, False, exercise.first_step)
    except Wrong as wrong:
        return Result(exercise, False, wrong.text)
    except SyntaxError as exc:
        return Result(exercise, False, Text(
            f"{path.name} does not load: {exc.msg}, line {exc.lineno}",
            f"{path.name} 파일을 읽지 못했습니다: {exc.msg}, {exc.lineno}번째 줄"))
    except Exception as exc:      # the learner's code failed: one line, not a stack trace
        where = where_in(exc, path)
        return Result(exercise, False, Text(
            f"your code raised {type(exc).__name__}: {exc} ({path.name}{where})",
            f"코드에서 {type(exc).__name__} 예외가 났습니다: {exc} ({path.name}{where_ko(where)})"))
    return Result(exercise, True, Text("right", "정답"))
