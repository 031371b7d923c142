"""The check registry and ``check(name, obj)``, the function learners call as ``mv.check``.

A *check* is a function that receives the learner's own object (a function or class written in the
notebook), exercises it on known inputs, and raises :class:`CheckFailed` with a precise message when
something is wrong. Checks are registered under names ``"NN.exercise"`` where ``NN`` is the chapter;
the chapter's module ``minivi.grading.checks.chNN`` is imported lazily the first time a name of that
chapter is looked up.

Teacher's note -- adding a check::

    # minivi/grading/checks/ch02.py
    from minivi.grading.registry import CheckFailed, register

    @register("02.sigmoid", points=1, hint="sigmoid(x) = 1 / (1 + exp(-x))")
    def _check_sigmoid(sigmoid):            # receives the learner's function
        got = sigmoid(0.0)
        if abs(got - 0.5) > 1e-12:
            raise CheckFailed(f"sigmoid(0.0) should be 0.5, got {got!r}")

A check passes when it returns without raising. Say what was wrong (input, index, expected vs got),
never print the reference implementation. Points are all-or-nothing per check.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import json
import os
import sys
import traceback
from pathlib import Path
from typing import Any, Callable

__all__ = [
    "Check",
    "CheckFailed",
    "UnknownCheck",
    "register",
    "get_check",
    "checks_for_chapter",
    "chapter_of",
    "check",
    "run_check",
    "REPORT_ENV",
]

#: Environment variable naming a file to which ``check`` appends one JSON line per call.
REPORT_ENV = "MINIVI_GRADE_REPORT"

_PACKAGE_DIR = Path(__file__).resolve().parent.parent  # .../minivi


class CheckFailed(AssertionError):
    """Raised by a check when the learner's object gives a wrong answer. The message is shown to the
    learner: say what was wrong (which input, index, expected vs got), never the reference solution."""


class UnknownCheck(LookupError):
    """Raised for a check name that no chapter registers."""

    def __str__(self) -> str:  # LookupError would quote the message like a dict key
        return str(self.args[0]) if self.args else ""


@dataclasses.dataclass(frozen=True)
class Check:
    name: str
    func: Callable[[Any], Any]
    points: int = 1
    hint: str = ""

    @property
    def chapter(self) -> str:
        return chapter_of(self.name)


_REGISTRY: dict[str, Check] = {}
_LOADED_CHAPTERS: set[str] = set()


def chapter_of(name: str) -> str:
    """``"01.vjp_mul"`` -> ``"01"``."""
    if not isinstance(name, str) or "." not in name or not name.split(".", 1)[0]:
        raise UnknownCheck(f"check names look like 'NN.exercise' (e.g. '01.vjp_mul'), got {name!r}")
    return name.split(".", 1)[0]


def register(name: str, points: int = 1, hint: str = "") -> Callable[[Callable], Callable]:
    """Decorator registering a check function under ``name`` (``"NN.exercise"``).

    Registering a name again replaces the earlier check (so a module can be reloaded)."""
    chapter_of(name)
    if int(points) < 0:
        raise ValueError("points must be >= 0")

    def decorator(func: Callable) -> Callable:
        _REGISTRY[name] = Check(name=name, func=func, points=int(points), hint=hint)
        return func

    return decorator


def _load_chapter(chapter: str) -> None:
    if chapter in _LOADED_CHAPTERS:
        return
    module = f"minivi.grading.checks.ch{chapter}"
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:  # the chapter module exists but one of its imports is missing
            raise
    _LOADED_CHAPTERS.add(chapter)


def checks_for_chapter(chapter: str) -> list[Check]:
    """All checks of ``chapter`` (e.g. ``"01"``), in registration order."""
    chapter = str(chapter)
    _load_chapter(chapter)
    return [c for c in _REGISTRY.values() if c.chapter == chapter]


def get_check(name: str) -> Check:
    """The registered check ``name``; :class:`UnknownCheck` (listing the chapter's names) otherwise."""
    chapter = chapter_of(name)
    _load_chapter(chapter)
    if name in _REGISTRY:
        return _REGISTRY[name]
    known = [c.name for c in checks_for_chapter(chapter)]
    if not known:
        raise UnknownCheck(f"unknown check {name!r}: chapter {chapter!r} has no checks")
    close = difflib.get_close_matches(name, known, n=1)
    suggestion = f" Did you mean {close[0]!r}?" if close else ""
    raise UnknownCheck(
        f"unknown check {name!r}.{suggestion} Chapter {chapter} has: {', '.join(known)}"
    )


# ----------------------------------------------------------------------------------------------
# Running a check


@dataclasses.dataclass
class CheckResult:
    name: str
    status: str  # "passed" | "failed" | "not implemented" | "error"
    points: int
    max_points: int
    message: str
    hint: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def report_record(self) -> dict:
        return {
            "name": self.name,
            "status": self.status,
            "points": self.points,
            "max_points": self.max_points,
            "message": self.message,
        }


def _is_library_file(filename: str) -> bool:
    """True for frames that are not the learner's code (minivi itself, stdlib, site-packages)."""
    try:
        path = Path(filename).resolve()
    except (OSError, ValueError):
        return False
    if _PACKAGE_DIR in path.parents:
        return True
    prefixes = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    prefixes = {p for p in prefixes if len(p.parts) > 2}  # never treat "/" or "/usr" as library
    return any(p in path.parents for p in prefixes) or "site-packages" in path.parts


def _learner_location(exc: BaseException) -> str:
    """' (in vjp_mul, line 3)' for the innermost frame of the learner's code, or ''."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not _is_library_file(f.filename)]
    if not frames:
        return ""
    frame = frames[-1]
    return f" (in {frame.name}, line {frame.lineno})"


def run_check(name: str, obj: Any) -> CheckResult:
    """Run check ``name`` on ``obj`` and return a :class:`CheckResult` (prints nothing)."""
    chk = get_check(name)
    try:
        chk.func(obj)
    except CheckFailed as exc:
        message = str(exc) or "the check failed"
        return CheckResult(name, "failed", 0, chk.points, message, chk.hint)
    except NotImplementedError:
        return CheckResult(name, "not implemented", 0, chk.points, "not implemented yet", chk.hint)
    except Exception as exc:  # noqa: BLE001 - anything the learner's code raises is reported
        text = str(exc)
        message = f"your code raised {type(exc).__name__}" + (f": {text}" if text else "")
        message += _learner_location(exc)
        return CheckResult(name, "error", 0, chk.points, message, chk.hint)
    return CheckResult(name, "passed", chk.points, chk.points, "public checks passed", chk.hint)


def _print(text: str) -> None:
    try:
        print(text, flush=True)
    except UnicodeEncodeError:  # a terminal that cannot show the symbols
        encoding = getattr(sys.stdout, "encoding", None) or "ascii"
        print(text.encode(encoding, errors="replace").decode(encoding), flush=True)


def format_result(result: CheckResult) -> str:
    """The line(s) ``check`` prints for a result."""
    score = f"({result.points}/{result.max_points} points)"
    if result.status == "passed":
        return f"\u2714 {result.name}: public checks passed {score}"
    if result.status == "not implemented":
        return f"\u2026 {result.name}: not implemented yet {score}"
    lines = [f"\u2718 {result.name}: {result.message} {score}"]
    if result.hint:
        lines.append(f"  Hint: {result.hint}")
    return "\n".join(lines)


def _append_report(result: CheckResult) -> None:
    path = os.environ.get(REPORT_ENV)
    if not path:
        return
    line = json.dumps(result.report_record(), ensure_ascii=True)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")


def check(name: str, obj: Any) -> bool:
    """Check the learner's ``obj`` against the public checks registered as ``name``.

    Prints one line (``✔``/``✘``/``…``, and a hint on failure) and returns True when the checks pass.
    When ``$MINIVI_GRADE_REPORT`` is set, appends a JSON record of the result to that file."""
    result = run_check(name, obj)
    _print(format_result(result))
    _append_report(result)
    return result.passed
