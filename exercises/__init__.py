"""Exercises with checkers, one folder per stage (see exercises/README.md).

    exercises/stage1/*.py           the starters: the files a learner edits
    exercises/solutions/stage1/*.py worked solutions, kept apart (teachers; peek last)
    exercises/checks/stage1.py      the checkers: what is right, what is wrong, in a sentence

    make check-stage1                         checks your answers
    make check-stage1 ANSWERS=exercises/solutions   checks the worked solutions
"""
