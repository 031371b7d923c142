"""One source for exercises and solutions: ``solutions/NN_name.ipynb`` -> ``exercises/NN_name.ipynb``.

Rules applied to the solutions notebook:

* In code cells, the lines from ``# BEGIN SOLUTION NN.exercise`` to ``# END SOLUTION`` (any
  indentation) become ``raise NotImplementedError("exercise NN.exercise: fill in this function")`` at
  the indentation of the BEGIN line (a BEGIN line without a name gives a generic message).
* Cells tagged ``solution-only`` are dropped.
* Outputs, execution counts and execution metadata are cleared.
* ``metadata.minivi`` records that the file is generated and from which source.

The output is deterministic (nbformat v4, ``indent=1``, sorted keys, trailing newline), so
``python -m minivi build-exercises --check`` (and the test suite) can detect drift byte-for-byte.

Teacher's note: edit ``solutions/NN_name.ipynb`` only, then run ``python -m minivi build-exercises``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Iterable

__all__ = [
    "SOLUTION_ONLY_TAG",
    "default_root",
    "strip_solutions",
    "make_exercise",
    "render_exercise",
    "build_exercises",
]

SOLUTION_ONLY_TAG = "solution-only"
_BEGIN = re.compile(r"^(?P<indent>[ \t]*)#[ \t]*BEGIN SOLUTION\b[ \t]*(?P<name>[^\s#]*)")
_END = re.compile(r"^[ \t]*#[ \t]*END SOLUTION\b")


def default_root() -> Path:
    """The repository root: the directory holding the ``minivi`` package."""
    return Path(__file__).resolve().parents[2]


def _stub(indent: str, name: str) -> str:
    if name:
        return f'{indent}raise NotImplementedError("exercise {name}: fill in this function")'
    return f'{indent}raise NotImplementedError("exercise: fill in this part")'


def strip_solutions(source: str, where: str = "cell") -> str:
    """Replace every ``# BEGIN SOLUTION`` ... ``# END SOLUTION`` block of ``source`` by a stub."""
    out: list[str] = []
    begin: tuple[str, str, int] | None = None  # indent, name, line number
    lines = source.split("\n")
    for lineno, line in enumerate(lines, 1):
        m_begin, m_end = _BEGIN.match(line), _END.match(line)
        if m_begin:
            if begin is not None:
                raise ValueError(f"{where}, line {lineno}: BEGIN SOLUTION inside the block opened on line {begin[2]}")
            begin = (m_begin.group("indent"), m_begin.group("name"), lineno)
        elif m_end:
            if begin is None:
                raise ValueError(f"{where}, line {lineno}: END SOLUTION without a BEGIN SOLUTION")
            out.append(_stub(begin[0], begin[1]))
            begin = None
        elif begin is None:
            out.append(line)
    if begin is not None:
        raise ValueError(f"{where}, line {begin[2]}: BEGIN SOLUTION is never closed by END SOLUTION")
    return "\n".join(out)


def _source_text(source) -> str:
    return "".join(source) if isinstance(source, list) else str(source)


def make_exercise(solution: dict, source_name: str) -> dict:
    """The exercise notebook (a plain dict, nbformat v4) made from a solutions notebook dict."""
    cells = []
    for index, cell in enumerate(solution.get("cells", [])):
        metadata = dict(cell.get("metadata", {}))
        if SOLUTION_ONLY_TAG in metadata.get("tags", []):
            continue
        metadata.pop("execution", None)
        source = _source_text(cell.get("source", ""))
        new = {
            "cell_type": cell["cell_type"],
            "id": cell.get("id") or f"cell-{index}",
            "metadata": metadata,
            "source": source,
        }
        if cell["cell_type"] == "code":
            new["source"] = strip_solutions(source, where=f"{source_name}, cell {index}")
            new["execution_count"] = None
            new["outputs"] = []
        elif "attachments" in cell:
            new["attachments"] = cell["attachments"]
        cells.append(new)
    metadata = json.loads(json.dumps(solution.get("metadata", {})))
    minivi_meta = dict(metadata.get("minivi", {}))
    minivi_meta["generated_from"] = source_name
    minivi_meta["generated_note"] = (
        f"Generated from {source_name} by `python -m minivi build-exercises`: "
        f"teachers edit that file, not this one."
    )
    metadata["minivi"] = minivi_meta
    return {"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}


def render_exercise(solution_path: Path, root: Path | None = None) -> str:
    """The exact text of the exercise notebook generated from ``solution_path``."""
    import nbformat

    root = Path(root) if root is not None else default_root()
    solution_path = Path(solution_path)
    try:
        source_name = solution_path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        source_name = f"solutions/{solution_path.name}"
    try:
        solution = json.loads(solution_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{solution_path} is not valid notebook JSON (line {exc.lineno}, column {exc.colno}: "
                         f"{exc.msg}); fix or restore that file") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"{solution_path} is not UTF-8 text ({exc.reason})") from None
    if not isinstance(solution, dict) or not isinstance(solution.get("cells"), list):
        raise ValueError(f"{solution_path} is JSON but not a notebook (no list of cells)")
    exercise = nbformat.from_dict(make_exercise(solution, source_name))
    text = nbformat.writes(exercise, version=4)
    return text if text.endswith("\n") else text + "\n"


def _select(solutions: list[Path], names: Iterable[str]) -> list[Path]:
    names = list(names)
    if not names:
        return solutions
    chosen = []
    for name in names:
        stem = Path(name).name.removesuffix(".ipynb")
        hits = [p for p in solutions if p.stem == stem or p.stem.split("_", 1)[0] == stem]
        if not hits:
            known = ", ".join(p.stem for p in solutions) or "none"
            raise ValueError(f"no solutions notebook matches {name!r} (known: {known})")
        chosen += [p for p in hits if p not in chosen]
    return chosen


def build_exercises(root: Path | None = None, names: Iterable[str] = (), check: bool = False) -> list[Path]:
    """Write ``exercises/*.ipynb`` from ``solutions/*.ipynb`` under ``root``.

    Returns the exercise files that changed (with ``check=True``: that *would* change, nothing is
    written). ``names`` selects notebooks by stem (``01_autodiff``) or chapter (``01``)."""
    root = Path(root) if root is not None else default_root()
    solutions = sorted((root / "solutions").glob("*.ipynb"))
    changed = []
    for solution_path in _select(solutions, names):
        target = root / "exercises" / solution_path.name
        text = render_exercise(solution_path, root)
        current = target.read_bytes() if target.exists() else None
        if current == text.encode("utf-8"):
            continue
        changed.append(target)
        if not check:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(text.encode("utf-8"))
    return changed
