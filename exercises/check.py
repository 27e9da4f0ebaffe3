"""Check a learner's answers for one stage: ``python -m exercises.check stage2``.

    make check-stage2                                  your answers, in exercises/stage2/
    make check-stage2 ANSWERS=exercises/solutions      the worked solutions
    make check-stage2 EX=2.3                           one exercise only
    make check-stage2 LANG=ko_KR.UTF-8 (or --lang ko)  the messages in Korean

Exit code 0 when every checked exercise is right, 1 otherwise.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

from exercises.checking import EXERCISES_DIR, Exercise, Result, run_one

STAGES = ("stage1", "stage2", "stage3", "stage4")


def exercises_of(stage: str) -> list[Exercise]:
    return list(importlib.import_module(f"exercises.checks.{stage}").EXERCISES)


def default_lang() -> str:
    wanted = os.environ.get("WORKSHOP_LANG") or os.environ.get("LANG", "")
    return "ko" if wanted.lower().startswith("ko") else "en"


def check_stage(stage: str, answers: Path, only: str | None = None) -> list[Result]:
    return [run_one(ex, answers) for ex in exercises_of(stage) if only in (None, ex.key)]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("stage", choices=STAGES)
    ap.add_argument("--answers", type=Path, default=EXERCISES_DIR,
                    help="the folder holding stage1/ ... stage4/ (default: exercises/, your answers)")
    ap.add_argument("--only", help="one exercise, for example 2.3")
    ap.add_argument("--lang", choices=("en", "ko"), default=default_lang())
    args = ap.parse_args(argv)

    lang = args.lang
    results = check_stage(args.stage, args.answers.resolve(), args.only)
    if not results:
        print(f"no exercise {args.only} in {args.stage}")
        return 1
    for res in results:
        ex = res.exercise
        mark = "\u2714" if res.ok else "\u2718"
        print(f"{mark} {ex.key} {ex.title(lang)} ({ex.minutes} min)" if lang == "en"
              else f"{mark} {ex.key} {ex.title(lang)} ({ex.minutes}분)")
        if not res.ok:
            print(f"    {res.message(lang)}")
    right = sum(r.ok for r in results)
    print(f"{right} of {len(results)} right" if lang == "en" else f"{len(results)}개 중 {right}개 정답")
    return 0 if right == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
