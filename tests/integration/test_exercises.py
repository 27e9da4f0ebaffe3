"""Every exercise's checker, run on its worked solution (must pass) and on its untouched
starter (must fail with the exercise's own first-step hint), so the checkers cannot rot.

Checkers that need an engine use the real ones (the ``engines`` fixture starts them).
"""
from __future__ import annotations

import pytest

from exercises.check import STAGES, exercises_of
from exercises.checking import EXERCISES_DIR, run_one

pytestmark = pytest.mark.integration

ALL = [ex for stage in STAGES for ex in exercises_of(stage)]


@pytest.mark.parametrize("exercise", ALL, ids=[ex.key for ex in ALL])
def test_the_solution_passes(engines, exercise):
    result = run_one(exercise, EXERCISES_DIR / "solutions")
    assert result.ok, f"{exercise.key}: {result.message.en}"


@pytest.mark.parametrize("exercise", ALL, ids=[ex.key for ex in ALL])
def test_the_untouched_starter_fails_with_its_hint(engines, exercise):
    result = run_one(exercise, EXERCISES_DIR)
    assert not result.ok
    assert result.message == exercise.first_step, f"{exercise.key}: {result.message.en}"
