"""Grading for minivi's exercise notebooks.

* :func:`check` (exported as ``mv.check``): learners call ``mv.check("01.vjp_mul", vjp_mul)`` in a
  notebook; it runs the public checks registered under that name on *their* object and prints
  ``✔``/``✘``/``◑``/``…`` with a hint (one more tier after each further failure). Feedback only.
* :func:`grade_notebook` / :func:`grade_many` / ``python -m minivi grade PATH... [--jobs N] [--csv FILE]``:
  scores notebooks in separate processes that run only the answer cells and then the grader's own
  checks on hidden cases (see :mod:`minivi.grading.grader` and :mod:`minivi.grading.runner`).
* :func:`build_exercises` / ``python -m minivi build-exercises``: makes ``exercises/`` from
  ``solutions/`` (see :mod:`minivi.grading.notebooks`).

Teacher's note -- adding a chapter: write ``minivi/grading/checks/chNN.py`` with
``@register("NN.name", points=..., hint=(nudge, more detail))`` check functions
``def _check_name(fn, hidden=False)`` and a ``FORBIDDEN`` dict (see :mod:`minivi.grading.checks`),
mark the learner's code in ``solutions/NN_name.ipynb`` with ``# BEGIN SOLUTION NN.name`` /
``# END SOLUTION`` followed by a cell ``mv.check("NN.name", name)`` (the grader reads which name an
exercise defines from that call), run ``python -m minivi build-exercises`` and grade both notebooks.
"""

from .registry import (CheckFailed, Partial, UnknownCheck, check, checks_for_chapter, get_check, register,
                       run_check)
from .grader import GradeResult, GraderError, format_table, grade_many, grade_notebook
from .notebooks import build_exercises

__all__ = [
    "check",
    "register",
    "CheckFailed",
    "Partial",
    "UnknownCheck",
    "get_check",
    "checks_for_chapter",
    "run_check",
    "grade_notebook",
    "grade_many",
    "format_table",
    "GradeResult",
    "GraderError",
    "build_exercises",
]
