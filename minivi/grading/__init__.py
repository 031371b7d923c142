"""Grading for minivi's exercise notebooks.

* :func:`check` (exported as ``mv.check``): learners call ``mv.check("01.vjp_mul", vjp_mul)`` in a
  notebook; it runs the public checks registered under that name on *their* object and prints
  ``✔``/``✘``/``…`` with a hint.
* :func:`grade_notebook` / ``python -m minivi grade NOTEBOOK.ipynb``: runs a notebook headless and
  prints a score table (see :mod:`minivi.grading.grader`).
* :func:`build_exercises` / ``python -m minivi build-exercises``: makes ``exercises/`` from
  ``solutions/`` (see :mod:`minivi.grading.notebooks`).

Teacher's note -- adding a chapter: write ``minivi/grading/checks/chNN.py`` with
``@register("NN.name", points=..., hint=...)`` check functions (see :mod:`minivi.grading.checks`),
mark the learner's code in ``solutions/NN_name.ipynb`` with ``# BEGIN SOLUTION NN.name`` /
``# END SOLUTION``, run ``python -m minivi build-exercises`` and grade both notebooks.
"""

from .registry import CheckFailed, Partial, UnknownCheck, check, checks_for_chapter, get_check, register, run_check
from .grader import GradeResult, GraderError, format_table, grade_many, grade_notebook
from .notebooks import build_exercises

__all__ = [
    "check",
    "register",
    "CheckFailed",
    "UnknownCheck",
    "get_check",
    "checks_for_chapter",
    "run_check",
    "grade_notebook",
    "format_table",
    "GradeResult",
    "GraderError",
    "build_exercises",
]
