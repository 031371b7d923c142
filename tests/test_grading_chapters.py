"""Every chapter's graded notebooks: the solutions score full marks, the untouched exercises zero."""
from __future__ import annotations

from pathlib import Path

import pytest

from minivi.grading.grader import grade_notebook
from minivi.grading.registry import checks_for_chapter

REPO = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((REPO / "solutions").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.notebooks
@pytest.mark.parametrize("solution", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_solutions_score_full_marks_and_exercises_score_zero(solution):
    chapter = solution.name[:2]
    names = {c.name for c in checks_for_chapter(chapter)}
    assert names, f"chapter {chapter} registers no checks"
    solved = grade_notebook(solution)
    assert {c.name: c.status for c in solved.checks} == {n: "passed" for n in names}
    assert solved.total == solved.max_total > 0

    exercise = REPO / "exercises" / solution.name
    assert exercise.exists(), f"{exercise.name} missing: run `python -m minivi build-exercises`"
    untouched = grade_notebook(exercise)
    assert {c.name: c.status for c in untouched.checks} == {n: "not implemented" for n in names}
    assert untouched.total == 0
