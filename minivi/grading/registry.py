"""The check registry and ``check(name, obj)``, the function learners call as ``mv.check``.

A *check* is a function that receives the learner's own object (a function or class written in the
notebook), exercises it on known inputs, and raises :class:`CheckFailed` with a precise message when
something is wrong. Checks are registered under names ``"NN.exercise"`` where ``NN`` is the chapter;
the chapter's module ``minivi.grading.checks.chNN`` is imported lazily the first time a name of that
chapter is looked up.

Teacher's note -- adding a check::

    # minivi/grading/checks/ch02.py
    from minivi.grading.registry import CheckFailed, register

    @register("02.sigmoid", points=2,
              hint=("σ squashes the real line into (0, 1)", "σ(x) = 1 / (1 + exp(-x)); mind large |x|"))
    def _check_sigmoid(sigmoid, hidden=False):     # receives the learner's function
        xs = [0.0, 3.0] if not hidden else [0.0, -1.5, 40.0]   # the score uses other cases
        for x in xs:
            got = sigmoid(x)
            if abs(got - 1 / (1 + math.exp(-x))) > 1e-12:
                raise CheckFailed(f"sigmoid({x}) is wrong, got {got!r}")

A check passes when it returns without raising. Say what was wrong (input, index, expected vs got),
never print the reference implementation. ``hidden=True`` is the grader's scoring run: use other seeds,
shapes or edge cases than the public run the notebook shows. A check with parts raises
:class:`Partial` (``raise Partial(1, "shapes right, values wrong")``) to award some of its points.
A hint is a string or a tuple of strings from a conceptual nudge to more detail: a learner's first
failure shows the first, each further failure one more (never the solution).
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import sys
import traceback
from pathlib import Path
from typing import Any, Callable

__all__ = [
    "Check",
    "CheckFailed",
    "Partial",
    "UnknownCheck",
    "register",
    "get_check",
    "checks_for_chapter",
    "chapter_of",
    "check",
    "run_check",
    "CheckResult",
    "takes_hidden",
]

_PACKAGE_DIR = Path(__file__).resolve().parent.parent  # .../minivi


class CheckFailed(AssertionError):
    """Raised by a check when the learner's object gives a wrong answer. The message is shown to the
    learner: say what was wrong (which input, index, expected vs got), never the reference solution."""


class Partial(CheckFailed):
    """Raised by a check with parts when only some of them pass: ``Partial(1, "shape right, values
    wrong")`` awards 1 of the check's points (clipped to ``[0, points]``) and shows the message."""

    def __init__(self, points: float, message: str = "") -> None:
        super().__init__(message)
        self.points = points


class UnknownCheck(LookupError):
    """Raised for a check name that no chapter registers."""

    def __str__(self) -> str:  # LookupError would quote the message like a dict key
        return str(self.args[0]) if self.args else ""


@dataclasses.dataclass(frozen=True)
class Check:
    name: str
    func: Callable[..., Any]
    points: int = 1
    hint: str | tuple[str, ...] = ""
    obj: str | None = None        # the name the exercise's answer defines (else read from the notebooks)
    parts: tuple[str, ...] = ()   # what the check's partial credit is made of, for the report

    @property
    def chapter(self) -> str:
        return chapter_of(self.name)

    @property
    def hints(self) -> tuple[str, ...]:
        """The hint tiers, nudge first."""
        if not self.hint:
            return ()
        return (self.hint,) if isinstance(self.hint, str) else tuple(self.hint)

    @property
    def has_hidden(self) -> bool:
        """Whether the check takes ``hidden=`` (and so has graded cases the notebook never shows)."""
        return takes_hidden(self.func)


def takes_hidden(func: Callable) -> bool:
    import inspect

    try:
        params = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False
    return "hidden" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


_REGISTRY: dict[str, Check] = {}
_LOADED_CHAPTERS: set[str] = set()


def chapter_of(name: str) -> str:
    """``"01.vjp_mul"`` -> ``"01"``."""
    if not isinstance(name, str) or "." not in name or not name.split(".", 1)[0]:
        raise UnknownCheck(f"check names look like 'NN.exercise' (e.g. '01.vjp_mul'), got {name!r}")
    return name.split(".", 1)[0]


def register(name: str, points: int = 1, hint: str | tuple[str, ...] = "", obj: str | None = None,
             parts: tuple[str, ...] = ()) -> Callable[[Callable], Callable]:
    """Decorator registering a check function under ``name`` (``"NN.exercise"``).

    ``hint``: a string or a tuple of tiers. ``obj``: the name of what the learner defines (by default
    the grader reads it from the ``mv.check("NN.exercise", obj)`` call of the chapter's notebook).
    ``parts``: names of the check's parts when it can raise :class:`Partial`.
    Registering a name again replaces the earlier check (so a module can be reloaded, and a teacher's
    ``--checks DIR`` can replace a public check by a private one)."""
    chapter_of(name)
    if int(points) < 0:
        raise ValueError("points must be >= 0")
    if not isinstance(hint, (str, tuple, list)):
        raise TypeError(f"hint must be a string or a tuple of strings, got {type(hint).__name__}")

    def decorator(func: Callable) -> Callable:
        tiers = hint if isinstance(hint, str) else tuple(hint)
        _REGISTRY[name] = Check(name=name, func=func, points=int(points), hint=tiers, obj=obj,
                                parts=tuple(parts))
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
    status: str  # "passed" | "partial" | "failed" | "not implemented" | "error"
    points: float
    max_points: int
    message: str
    hint: str | tuple[str, ...] = ""

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def hints(self) -> tuple[str, ...]:
        if not self.hint:
            return ()
        return (self.hint,) if isinstance(self.hint, str) else tuple(self.hint)


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


def run_check(name: str, obj: Any, hidden: bool = False, check: Check | None = None) -> CheckResult:
    """Run check ``name`` on ``obj`` and return a :class:`CheckResult` (prints nothing).

    ``hidden=True`` runs the graded cases (the grader's scoring run); a one-argument check has none
    and runs its public cases. ``check`` bypasses the registry look-up (the grader passes its own copy)."""
    chk = check if check is not None else get_check(name)
    try:
        if takes_hidden(chk.func):
            chk.func(obj, hidden=hidden)
        else:
            chk.func(obj)
    except Partial as exc:
        points = max(0.0, min(float(exc.points), float(chk.points)))
        points = int(points) if points == int(points) else round(points, 2)
        status = "passed" if points >= chk.points else "partial" if points > 0 else "failed"
        message = str(exc) or "some parts of the check failed"
        return CheckResult(name, status, points, chk.points, message, chk.hint)
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
    which = "graded checks passed" if hidden else "public checks passed"
    return CheckResult(name, "passed", chk.points, chk.points, which, chk.hint)


def _print(text: str) -> None:
    try:
        print(text, flush=True)
    except UnicodeEncodeError:  # a terminal that cannot show the symbols
        encoding = getattr(sys.stdout, "encoding", None) or "ascii"
        print(text.encode(encoding, errors="replace").decode(encoding), flush=True)


#: How often each exercise failed in this process: the n-th failure shows n hint tiers.
_FAILURES: dict[str, int] = {}


def format_result(result: CheckResult, tiers: int = 1) -> str:
    """The line(s) ``check`` prints for a result, with the first ``tiers`` hint tiers on failure."""
    score = f"({result.points}/{result.max_points} points)"
    if result.status == "passed":
        return f"\u2714 {result.name}: public checks passed {score}"
    if result.status == "not implemented":
        return f"\u2026 {result.name}: not implemented yet {score}"
    mark = "\u25d1" if result.status == "partial" else "\u2718"
    lines = [f"{mark} {result.name}: {result.message} {score}"]
    hints = result.hints
    shown = hints[: max(1, tiers)]
    for i, text in enumerate(shown):
        lines.append(f"  Hint{f' {i + 1}/{len(hints)}' if len(hints) > 1 else ''}: {text}")
    if len(shown) < len(hints):
        lines.append("  (check again after another try for a more detailed hint)")
    return "\n".join(lines)


def check(name: str, obj: Any) -> bool:
    """Check the learner's ``obj`` against the public checks registered as ``name``.

    Prints one line (``✔``/``✘``/``◑``/``…``, and a hint on failure: one more tier after each
    further failure) and returns True when the checks pass. This is feedback only: the grader scores
    each exercise itself, in a separate process, on other (hidden) cases."""
    result = run_check(name, obj)
    if result.status in ("failed", "error", "partial"):
        _FAILURES[name] = _FAILURES.get(name, 0) + 1
    _print(format_result(result, tiers=_FAILURES.get(name, 1)))
    return result.passed
