"""Scoring notebooks: ``python -m minivi grade PATH... [--jobs N] [--csv FILE] [--json]``.

Scores come from the grader, never from the notebook's own ``mv.check`` calls (those are feedback for
the learner and count for nothing). For each submission:

1. The grader reads the notebook and picks the cells to run: the *answer cells* (those defining an
   exercise's object -- the name the chapter's own notebook passes to ``mv.check("NN.x", name)`` --
   or carrying the exercise's ``# BEGIN SOLUTION`` / stub marker) and the cells they need (cells with
   imports, cells defining names the answers use). Nothing else runs: no training, no plots.
2. It scans those cells for code that touches the grading machinery, ``sys._getframe``,
   ``sys.modules``, ``os.environ``, builtins, or assigns attributes of imported modules: each is a
   *flag* (cell, line, why) in the report; the score stands and the teacher decides.
3. A fresh Python process (:mod:`minivi.grading.runner`, started isolated from the learner's
   environment: ``python -I``, a clean temporary working directory, a short list of environment
   variables) runs those cells, then every exercise's check from the grader's own copy with
   ``hidden=True`` (cases the notebook never shows), with the functions the exercise forbids guarded.
4. A cell or check running past ``timeout`` seconds, or a process that dies, is killed; a new process
   re-runs the definition cells, skips the bad item and carries on, so one bad cell costs only its own
   exercise. The whole notebook has a time limit too (``notebook_timeout``).

Every exercise that scores nothing says why: not implemented, failed (the check's message), error,
timed out, or not run (syntax error in its answer cell, an exception or ``exit()`` there, its name not
defined, the process killed, the notebook's time limit used up).

Trust: the learner's code runs in the same process as the checks, so this stops the tampering a
notebook can do by accident or by a quick hack (see tests/test_grading.py) and flags the rest; for
marks that count, run the grader where the learner's code cannot reach the grader's files (a
container or a separate user; see the README).
"""

from __future__ import annotations

import ast
import builtins
import csv
import dataclasses
import difflib
import json
import math
import os
import re
import secrets
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Iterable

from .registry import Check, checks_for_chapter

__all__ = [
    "GradeResult", "GradedCheck", "GraderError", "grade_notebook", "grade_many", "format_table",
    "chapter_of_notebook", "write_csv", "gradescope_results", "collect_notebooks",
]

DEFAULT_TIMEOUT = 60          # seconds per cell and per check
DEFAULT_NOTEBOOK_TIMEOUT = 600  # seconds for a whole submission
DEFAULT_OUTPUT_CAP = 1 << 20  # bytes of printed output kept per submission
MAX_RESTARTS = 8
_PACKAGE_PARENT = Path(__file__).resolve().parents[2]  # the directory holding the minivi package
_REGISTRY_LOCK = threading.Lock()
_ENV_KEEP = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "HOME", "XDG_CACHE_HOME", "CUDA_VISIBLE_DEVICES",
             "CUDA_PATH", "MINIVI_DATA", "MINIVI_FAST", "MINIVI_DEVICE")


class GraderError(Exception):
    """The grader itself could not run (missing file, not a notebook, unknown chapter)."""


@dataclasses.dataclass
class GradedCheck:
    name: str
    status: str  # passed | partial | failed | error | not implemented | timed out | not run
    points: float
    max_points: int
    message: str = ""
    hint: str = ""


@dataclasses.dataclass
class GradeResult:
    notebook: str
    chapter: str
    checks: list[GradedCheck]
    notes: list[str]
    flags: list[dict] = dataclasses.field(default_factory=list)
    seconds: float = 0.0

    @property
    def total(self) -> float:
        total = sum(c.points for c in self.checks)
        return int(total) if total == int(total) else round(total, 2)

    @property
    def max_total(self) -> int:
        return sum(c.max_points for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "notebook": self.notebook,
            "chapter": self.chapter,
            "total": self.total,
            "max_total": self.max_total,
            "checks": [dataclasses.asdict(c) for c in self.checks],
            "flags": list(self.flags),
            "notes": list(self.notes),
            "seconds": round(self.seconds, 2),
        }


# ----------------------------------------------------------------------------------------------
# Reading notebooks


def _read_notebook(path: Path):
    import nbformat

    if not path.is_file():
        raise GraderError(f"no such notebook: {path}")
    try:
        return nbformat.read(str(path), as_version=4)
    except Exception as exc:  # noqa: BLE001 - json errors, nbformat errors, encoding errors
        raise GraderError(f"{path} is not a readable Jupyter notebook ({type(exc).__name__}: {exc})") from None


def chapter_of_notebook(nb, path: Path) -> str:
    """``metadata.minivi.chapter``, else the digits before the first ``_`` of the file name."""
    chapter = (nb.get("metadata", {}).get("minivi", {}) or {}).get("chapter")
    if chapter:
        return str(chapter)
    match = re.match(r"(\d+)_", path.name)
    if match:
        return match.group(1)
    raise GraderError(
        f"cannot tell which chapter {path.name} belongs to: set metadata.minivi.chapter, "
        f"name it NN_*.ipynb or pass --chapter NN"
    )


def _code_cells(nb) -> list[tuple[int, str]]:
    """(code cell number counted from 1, source) for every code cell."""
    cells, number = [], 0
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            number += 1
            src = cell.get("source", "")
            cells.append((number, "".join(src) if isinstance(src, list) else str(src)))
    return cells


_CHECK_CALL = re.compile(r"""\bcheck\(\s*["'](?P<name>\d+\.[\w.]+)["']\s*,\s*(?P<obj>[A-Za-z_][\w.]*)\s*\)""")


def _check_calls(nb) -> dict[str, str]:
    """``{"01.vjp_mul": "vjp_mul"}`` from the notebook's ``mv.check("01.vjp_mul", vjp_mul)`` calls."""
    found: dict[str, str] = {}
    for _, source in _code_cells(nb):
        for m in _CHECK_CALL.finditer(source):
            found.setdefault(m.group("name"), m.group("obj"))
    return found


_REFERENCE_CACHE: dict[str, dict[str, str]] = {}


def _reference_objects(chapter: str) -> dict[str, str]:
    """What each exercise's answer defines, read from the grader's own copy of the chapter's
    solutions (else exercises) notebook, never from the submission."""
    if chapter in _REFERENCE_CACHE:
        return _REFERENCE_CACHE[chapter]
    import nbformat

    found: dict[str, str] = {}
    paths = [p for folder in ("solutions", "exercises")
             for p in sorted((_PACKAGE_PARENT / folder).glob(f"{chapter}_*.ipynb"))]
    # a course shipped as package data (minivi/.../exercises/NN_*.ipynb) where there is no repository
    paths += sorted(p for p in (_PACKAGE_PARENT / "minivi").rglob(f"{chapter}_*.ipynb")
                    if p.parent.name in ("solutions", "exercises"))
    for path in paths:
        try:
            nb = nbformat.read(str(path), as_version=4)
        except Exception:  # noqa: BLE001 - a broken reference copy just gives no names
            continue
        for name, obj in _check_calls(nb).items():
            found.setdefault(name, obj)
    _REFERENCE_CACHE[chapter] = found
    return found


# ----------------------------------------------------------------------------------------------
# Which cells run, and what in them deserves a flag


@dataclasses.dataclass
class _Cell:
    number: int
    source: str
    tree: ast.Module | None
    defines: set[str]
    uses: set[str]
    imports: bool
    markers: set[str]  # exercise names in BEGIN SOLUTION / stub markers


_MARKER = re.compile(r"""(?:BEGIN SOLUTION\s+|NotImplementedError\(\s*["']exercise\s+)(?P<name>\d+\.[\w.]+)""")
_DEF_RE = re.compile(r"^(?:def|class)\s+(?P<name>[A-Za-z_]\w*)|^(?P<assign>[A-Za-z_]\w*)\s*=", re.M)


#: ``grade_many`` grades in threads, and CPython 3.11's parser is not safe to enter from two threads at once
#: (it raises "SystemError: AST constructor recursion depth mismatch"): one parse at a time.
_PARSE_LOCK = threading.Lock()


def _parse(source: str) -> ast.Module | None:
    lines = [("pass  # " + ln.lstrip()) if ln.lstrip().startswith(("%", "!")) else ln for ln in source.split("\n")]
    try:
        with _PARSE_LOCK:
            return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def _free_names(source: str) -> set[str]:
    """Global names the cell reads: at top level, or inside its functions and classes (not their locals)."""
    import symtable

    lines = [("pass  # " + ln.lstrip()) if ln.lstrip().startswith(("%", "!")) else ln for ln in source.split("\n")]
    try:
        top = symtable.symtable("\n".join(lines), "<cell>", "exec")
    except SyntaxError:
        return set()
    names = {sym.get_name() for sym in top.get_symbols()
             if sym.is_referenced() and not sym.is_assigned() and not sym.is_imported()}
    stack = list(top.get_children())
    while stack:
        table = stack.pop()
        stack.extend(table.get_children())
        if table.get_type() == "function":
            names |= {n for n in table.get_globals()}
        else:  # class bodies read globals too
            names |= {sym.get_name() for sym in table.get_symbols() if sym.is_referenced() and sym.is_global()}
    return names


def _analyse(number: int, source: str) -> _Cell:
    tree = _parse(source)
    defines: set[str] = set()
    uses: set[str] = set()
    imports = False
    if tree is None:
        for m in _DEF_RE.finditer(source):
            defines.add(m.group("name") or m.group("assign"))
    else:
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                defines.add(node.name)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                imports = True
                defines |= {(a.asname or a.name).split(".")[0] for a in node.names}
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    defines |= {n.id for n in ast.walk(t) if isinstance(n, ast.Name)}
            elif isinstance(node, (ast.With, ast.If, ast.Try, ast.For)):
                defines |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
                defines |= {n.name for n in ast.walk(node) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
                imports |= any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.walk(node))
        uses = _free_names(source)
    return _Cell(number, source, tree, defines, uses - set(dir(builtins)), imports,
                 {m.group("name") for m in _MARKER.finditer(source)})


def _select_cells(cells: list[_Cell], objects: dict[str, str]) -> tuple[list[_Cell], dict[str, list[int]]]:
    """The cells the scoring process runs, and each exercise's answer cells."""
    answers: dict[str, list[int]] = {name: [] for name in objects}
    answer_cells: set[int] = set()
    for cell in cells:
        for name, obj in objects.items():
            if obj.split(".")[0] in cell.defines or name in cell.markers:
                answers[name].append(cell.number)
                answer_cells.add(cell.number)
    if not answer_cells:
        return [c for c in cells if c.imports], answers
    last = max(answer_cells)
    needed: set[str] = set()
    for cell in cells:
        if cell.number in answer_cells:
            needed |= cell.uses - cell.defines
    chosen = set(answer_cells)
    for _ in range(3):  # names used by the chosen cells, defined in earlier cells (a few levels)
        for cell in cells:
            if cell.number in chosen or cell.number > last:
                continue
            if cell.imports or (cell.defines & needed):
                chosen.add(cell.number)
                needed |= cell.uses - cell.defines
    return [c for c in cells if c.number in chosen], answers


_GRADING_WORDS = ("minivi.grading", "_REGISTRY", "run_check", "MINIVI_GRADE_REPORT", "grading.registry",
                  "grading.checks", "__minivi_guard__")
_RISKY_ATTRS = {
    "_getframe": "reads the interpreter's stack frames (sys._getframe)",
    "f_locals": "reads another function's local variables (frame.f_locals)",
    "f_back": "walks the interpreter's stack frames",
    "tb_frame": "reads stack frames through a traceback",
    "modules": "touches sys.modules",
    "environ": "touches os.environ",
    "currentframe": "reads stack frames (inspect)",
    "stack": "reads stack frames (inspect)",
    "get_referrers": "searches the interpreter's objects (gc)",
    "get_objects": "searches the interpreter's objects (gc)",
    "setprofile": "installs an interpreter hook",
    "settrace": "installs an interpreter hook",
    "__code__": "rewrites a function's code",
    "__closure__": "reads a function's closure",
    "__globals__": "reads a function's globals",
    "getppid": "looks for the grader's process",
    "kill": "sends signals to processes",
    "killpg": "sends signals to processes",
    "system": "runs shell commands",
}
_RISKY_NAMES = {"__builtins__": "touches builtins"}  # modules (builtins, gc, ...) are flagged where imported


def _scan_flags(cell: _Cell) -> list[dict]:
    """Lines of a cell that touch grading machinery or the interpreter; each a flag for the teacher."""
    flags: list[dict] = []
    lines = cell.source.split("\n")

    def add(lineno: int, why: str) -> None:
        text = lines[lineno - 1].strip() if 0 < lineno <= len(lines) else ""
        if not any(f["line"] == lineno and f["why"] == why for f in flags):
            flags.append({"cell": cell.number, "line": lineno, "code": text[:160], "why": why})

    for i, line in enumerate(lines, 1):
        if any(word in line for word in _GRADING_WORDS):
            add(i, "touches the grading machinery")
    if cell.tree is None:
        return flags
    modules = {(a.asname or a.name).split(".")[0] for n in ast.walk(cell.tree)
               if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
    modules |= {"np", "mv", "numpy", "minivi", "sys", "os", "math", "scipy", "special", "stats", "nn", "optim", "glm"}
    for node in ast.walk(cell.tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            for name in names + [a.name for a in node.names]:
                if name and name.split(".")[0] in ("builtins", "importlib", "ctypes", "gc", "inspect", "subprocess",
                                                   "signal", "multiprocessing"):
                    add(line, f"imports {name.split('.')[0]}")
                if name and "grading" in name:
                    add(line, "touches the grading machinery")
        elif isinstance(node, ast.Attribute):
            why = _RISKY_ATTRS.get(node.attr)
            if why and not (node.attr == "stack" and not (isinstance(node.value, ast.Name)
                                                          and node.value.id == "inspect")):
                if node.attr == "modules" and not (isinstance(node.value, ast.Name) and node.value.id == "sys"):
                    continue
                add(line, why)
            if isinstance(node.ctx, (ast.Store, ast.Del)):
                root = node.value
                while isinstance(root, ast.Attribute):
                    root = root.value
                if isinstance(root, ast.Name) and root.id in modules:
                    add(line, f"assigns an attribute of the imported module `{root.id}`")
        elif isinstance(node, ast.Name) and node.id in _RISKY_NAMES and _RISKY_NAMES[node.id]:
            add(line, _RISKY_NAMES[node.id])
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("setattr", "delattr"):
            if node.args and isinstance(node.args[0], ast.Name) and node.args[0].id in modules:
                add(line, f"sets an attribute of the imported module `{node.args[0].id}`")
    return flags


# ----------------------------------------------------------------------------------------------
# The scoring process


def _child_env(tmp: Path) -> dict[str, str]:
    """A short environment for the learner's code: not the grader's own, wholesale."""
    env = {k: os.environ[k] for k in _ENV_KEEP if k in os.environ}
    env.setdefault("PATH", "/usr/bin:/bin")
    env.setdefault("MINIVI_FAST", "1")
    env.update({"TMPDIR": str(tmp), "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"})
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = os.environ.get(var, "1")
    return env


@dataclasses.dataclass
class _Run:
    events: list[dict]
    ended: str            # "done" | "died" | "timeout" | "notebook timeout"
    current: tuple[str, Any] | None  # ("cell", n) or ("check", name) running when it ended
    returncode: int | None
    output: str
    foreign: int          # lines on the channel that were not the runner's


def _run_process(job: dict, timeout: float, deadline: float, tmp: Path, output_cap: int) -> _Run:
    token = secrets.token_hex(16)
    job = dict(job, token=token)
    read_fd, write_fd = os.pipe()
    out_path = tmp / f"output-{secrets.token_hex(4)}.txt"
    boot = (f"import sys; sys.path.insert(0, {str(_PACKAGE_PARENT)!r}); "
            "from minivi.grading.runner import main; main()")
    workdir = tmp / "work"
    workdir.mkdir(exist_ok=True)
    with open(out_path, "wb") as out_file:
        proc = subprocess.Popen(
            [sys.executable, "-I", "-c", boot, str(write_fd)],
            stdin=subprocess.PIPE, stdout=out_file, stderr=subprocess.STDOUT, pass_fds=(write_fd,),
            cwd=str(workdir), env=_child_env(tmp), start_new_session=True,
        )
    os.close(write_fd)
    events: list[dict] = []
    current: tuple[str, Any] | None = None
    started = time.monotonic()
    item_deadline = started + timeout + 15  # starting Python and importing minivi
    ended, buffer, foreign = "died", b"", 0
    try:
        proc.stdin.write(json.dumps(job).encode())
        proc.stdin.close()
    except (BrokenPipeError, OSError):
        pass
    try:
        while True:
            now = time.monotonic()
            limit = min(item_deadline, deadline)
            if now >= limit:
                ended = "notebook timeout" if deadline <= item_deadline else "timeout"
                break
            ready, _, _ = select.select([read_fd], [], [], min(1.0, limit - now))
            if not ready:
                continue
            chunk = os.read(read_fd, 1 << 16)
            if not chunk:
                ended = "died" if not any(e.get("ev") == "done" for e in events) else "done"
                break
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                try:
                    event = json.loads(line)
                except ValueError:
                    foreign += 1
                    continue
                if not isinstance(event, dict) or event.pop("token", None) != token:
                    foreign += 1
                    continue
                events.append(event)
                kind = event.get("ev")
                if kind == "cell_start":
                    current, item_deadline = ("cell", event["cell"]), time.monotonic() + timeout
                elif kind == "check_start":
                    current, item_deadline = ("check", event["name"]), time.monotonic() + timeout
                elif kind in ("cell_end", "result"):
                    current, item_deadline = None, time.monotonic() + timeout + 15
                elif kind == "done":
                    current = None
            if events and events[-1].get("ev") == "done":
                ended = "done"
                break
    finally:
        os.close(read_fd)
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                proc.kill()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
    try:
        with open(out_path, "rb") as fh:
            output = fh.read(output_cap).decode("utf-8", "replace")
    except OSError:
        output = ""
    return _Run(events, ended, current, proc.returncode, output, foreign)


def _died_text(returncode: int | None) -> str:
    if returncode is None:
        return "the process stopped"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        return f"the process was killed by {name}"
    return f"the process exited with code {returncode} (os._exit or a crash)"


# ----------------------------------------------------------------------------------------------
# Grading one notebook


def _load_check_files(paths: Iterable[str | os.PathLike]) -> list[str]:
    """Import a teacher's private check files (``--checks DIR``) into this process's registry."""
    import importlib.util

    files: list[str] = []
    for entry in paths:
        entry = Path(entry)
        if entry.is_dir():
            files += [str(p.resolve()) for p in sorted(entry.glob("*.py")) if not p.name.startswith("_")]
        elif entry.is_file():
            files.append(str(entry.resolve()))
        else:
            raise GraderError(f"--checks {entry}: no such file or folder")
    for path in files:
        name = "minivi_teacher_checks_" + re.sub(r"\W", "_", path)
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as exc:  # noqa: BLE001
            raise GraderError(f"could not load the checks in {path}: {type(exc).__name__}: {exc}") from exc
    return files


def grade_notebook(path: str | os.PathLike, timeout: float = DEFAULT_TIMEOUT, *,
                   notebook_timeout: float = DEFAULT_NOTEBOOK_TIMEOUT, chapter: str | None = None,
                   checks: Iterable[str | os.PathLike] = (), output_cap: int = DEFAULT_OUTPUT_CAP) -> GradeResult:
    """Score the notebook at ``path`` (see the module docstring for how)."""
    started = time.monotonic()
    path = Path(path)
    nb = _read_notebook(path)
    chapter = str(chapter) if chapter else chapter_of_notebook(nb, path)
    from . import registry

    with _REGISTRY_LOCK:  # grade_many grades in threads
        checks_for_chapter(chapter)  # the package's own checks, loaded once
        saved = dict(registry._REGISTRY)
        try:  # a teacher's checks count for this notebook only
            check_files = _load_check_files(checks)
            registered: list[Check] = checks_for_chapter(chapter)
        finally:
            registry._REGISTRY.clear()
            registry._REGISTRY.update(saved)
    if not registered:
        raise GraderError(f"chapter {chapter} has no registered checks")
    timeout = max(1.0, float(timeout))
    notes: list[str] = []

    reference = _reference_objects(chapter)
    own_calls = _check_calls(nb)
    objects: dict[str, str] = {}
    unknown: set[str] = set()
    for chk in registered:
        obj = chk.obj or reference.get(chk.name)
        if obj is None and chk.name in own_calls:
            obj = own_calls[chk.name]
            notes.append(f"{chk.name}: the grader has no reference notebook naming its answer; it used the "
                         f"name `{obj}` from this notebook's own check call")
        if obj is None:
            unknown.add(chk.name)
        else:
            objects[chk.name] = obj

    cells = [_analyse(n, s) for n, s in _code_cells(nb)]
    to_run, answers = _select_cells(cells, objects)
    flags = [f for c in to_run for f in _scan_flags(c)]

    results: dict[str, dict] = {}
    cell_status: dict[int, dict] = {}
    skip: set[int] = set()
    remaining = [name for name in objects]
    deadline = started + max(1.0, float(notebook_timeout))
    foreign = 0
    output = ""
    dropped = 0
    with tempfile.TemporaryDirectory(prefix="minivi-grade-") as tmp:
        for attempt in range(MAX_RESTARTS + 1):
            job = {
                "chapter": chapter,
                "cells": [{"number": c.number, "source": c.source} for c in to_run if c.number not in skip],
                "exercises": [{"name": n, "object": objects[n]} for n in remaining],
                "check_files": check_files,
                "output_cap": output_cap,
            }
            run = _run_process(job, timeout, deadline, Path(tmp), output_cap)
            foreign += run.foreign
            output = output or run.output
            for event in run.events:
                kind = event.get("ev")
                if kind == "cell_end":
                    cell_status[event["cell"]] = event
                elif kind == "result":
                    if event["name"] in results:
                        flags.append({"cell": None, "line": None, "code": "",
                                      "why": f"a second result for {event['name']} reached the grader (forged?)"})
                        results[event["name"]] = {"status": "error", "points": 0,
                                                  "message": "two results for one exercise: tampering"}
                    else:
                        results[event["name"]] = event
                elif kind == "tamper":
                    for what in event.get("changed", []):
                        flags.append({"cell": None, "line": None, "code": "",
                                      "why": f"the answer cells changed `{what}` (restored before the checks)"})
                elif kind == "note":
                    notes.append(event["text"])
                elif kind == "done":
                    dropped = event.get("output_dropped", 0)
            if run.ended == "done":
                break
            what = {"timeout": f"ran longer than {timeout:g} s and was stopped",
                    "died": _died_text(run.returncode),
                    "notebook timeout": f"was running when the notebook's time limit "
                                        f"({notebook_timeout:g} s) was used up"}[run.ended]
            if run.current and run.current[0] == "cell":
                number = run.current[1]
                skip.add(number)
                status = "timed out" if run.ended == "timeout" else "died"
                cell_status[number] = {"status": status, "message": f"code cell {number} {what}"}
                notes.append(f"code cell {number} {what}; the grader restarted and carried on without it")
            elif run.current and run.current[0] == "check":
                name = run.current[1]
                status = "timed out" if run.ended != "died" else "error"
                results[name] = {"status": status, "points": 0,
                                 "message": f"the check of your {objects[name]} {what}"}
            else:
                notes.append(f"the scoring process stopped outside any cell or check ({what}); "
                             f"output: {run.output[-300:]!r}")
            remaining = [n for n in remaining if n not in results]
            if run.ended == "notebook timeout":
                for name in remaining:
                    results[name] = {"status": "not run", "points": 0,
                                     "message": f"the notebook's time limit ({notebook_timeout:g} s) was used up"}
                break
            if not remaining:
                break
        else:
            for name in remaining:
                results.setdefault(name, {"status": "not run", "points": 0,
                                          "message": f"the grader gave up after {MAX_RESTARTS} restarts"})
    answer_numbers = {n for numbers in answers.values() for n in numbers}
    for number, st in sorted(cell_status.items()):
        if number not in answer_numbers and st.get("status") not in ("ok", None):
            notes.append(f"code cell {number} (run because the answers need what it defines): "
                         f"{st.get('status')}: {st.get('message', '')}")
    if foreign:
        flags.append({"cell": None, "line": None, "code": "",
                      "why": f"{foreign} line(s) on the grader's result channel did not come from the grader"})
    if dropped:
        notes.append(f"printed output beyond {output_cap:,} bytes was dropped ({dropped:,} bytes)")

    graded = []
    for chk in registered:
        hint = chk.hints[0] if chk.hints else ""
        if chk.name in unknown:
            graded.append(GradedCheck(chk.name, "not run", 0, chk.points,
                                      "the grader does not know which name this exercise's answer defines "
                                      "(register the check with obj=...)", hint))
            continue
        rec = results.get(chk.name)
        if rec is None:
            rec = {"status": "not run", "points": 0, "message": "the scoring process never reached it"}
        status = str(rec.get("status", "error"))
        message = str(rec.get("message", ""))
        if status == "not run" and message == "missing":
            status, message = _why_missing(chk.name, objects[chk.name], answers.get(chk.name, []), cell_status,
                                           cells)
        points = float(rec.get("points", 0) or 0) if status in ("passed", "partial") else 0
        points = max(0.0, min(points, chk.points))
        points = int(points) if points == int(points) else round(points, 2)
        if status in ("passed", "partial", "failed", "error"):
            bad = [cell_status[n] for n in answers.get(chk.name, []) if cell_status.get(n, {}).get("status") != "ok"
                   and n in cell_status]
            for st in bad:
                message += f" [its answer cell: {st.get('message', st.get('status'))}]"
        if status in ("passed", "partial") and rec.get("hidden") is False:
            message += " (this check has no hidden cases: scored on the public ones)"
        if not own_calls.get(chk.name) and status != "not implemented":
            message += " (note: the notebook has no mv.check call for it; graded anyway)"
        graded.append(GradedCheck(chk.name, status, points, chk.points, message,
                                  hint if status not in ("passed",) else ""))
    public_only = [c.name for c in graded if "no hidden cases" in c.message]
    if public_only:
        notes.append(f"{', '.join(public_only)}: old-style check(s) without hidden cases, scored on the cases the "
                     "notebook shows (give the check a `hidden` argument)")
    return GradeResult(str(path), chapter, graded, notes, flags, time.monotonic() - started)


def _why_missing(name: str, obj: str, answer_cells: list[int], cell_status: dict,
                 cells: list[_Cell]) -> tuple[str, str]:
    """(status, why) for an exercise whose object was not there to check."""
    for number in answer_cells:
        st = cell_status.get(number)
        if st is None:
            continue
        status, message = st.get("status"), st.get("message", "")
        if status == "not implemented":
            return "not implemented", f"not implemented (code cell {number}: {message})"
        if status == "syntax error":
            return "not run", f"its answer cell (code cell {number}) has a syntax error: {message}"
        if status == "exit":
            return "not run", f"its answer cell (code cell {number}) {message}"
        if status == "timed out":
            return "timed out", message
        if status == "died":
            return "not run", message
        if status == "error":
            return "not run", f"its answer cell (code cell {number}) raised {message}"
    defined = sorted({d for c in cells for d in c.defines})
    close = difflib.get_close_matches(obj.split(".")[0], defined, n=1)
    if close:
        return "not run", f"the notebook defines no `{obj}` (did you rename it `{close[0]}`?)"
    return "not run", f"the notebook defines no `{obj}` (the exercise's answer cell was deleted or never run)"


# ----------------------------------------------------------------------------------------------
# A class at once


def collect_notebooks(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """Notebooks named directly or found (recursively) in folders, skipping checkpoints."""
    found: list[Path] = []
    for entry in paths:
        entry = Path(entry)
        if entry.is_dir():
            found += sorted(p for p in entry.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
        else:
            found.append(entry)
    return list(dict.fromkeys(found))


def grade_many(paths: Iterable[str | os.PathLike], jobs: int = 1, progress: bool = False,
               **kwargs: Any) -> list[GradeResult | GraderError]:
    """Grade many submissions, ``jobs`` at a time (each in its own scoring processes)."""
    from concurrent.futures import ThreadPoolExecutor

    notebooks = collect_notebooks(paths)

    def one(path: Path):
        try:
            return grade_notebook(path, **kwargs)
        except GraderError as exc:
            exc.notebook = str(path)
            return exc

    bar = None
    if progress and len(notebooks) > 1:
        try:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(notebooks), desc="grading", unit="notebook", file=sys.stderr)
        except ImportError:
            bar = None
    results: list = [None] * len(notebooks)
    with ThreadPoolExecutor(max_workers=max(1, int(jobs))) as pool:
        futures = {pool.submit(one, p): i for i, p in enumerate(notebooks)}
        from concurrent.futures import as_completed

        for future in as_completed(futures):
            results[futures[future]] = future.result()
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    return results


def _flag_text(flag: dict) -> str:
    where = f"code cell {flag['cell']}, line {flag['line']}: " if flag.get("cell") else ""
    code = f" `{flag['code']}`" if flag.get("code") else ""
    return f"{where}{flag['why']}{code}"


def write_csv(results: list, file) -> None:
    """The gradebook: one row per submission, a column per exercise."""
    names: list[str] = []
    for r in results:
        if isinstance(r, GradeResult):
            names += [c.name for c in r.checks if c.name not in names]
    writer = csv.writer(file)
    writer.writerow(["submission", "chapter", *names, "total", "max_total", "flags", "seconds", "problems"])
    for r in results:
        if isinstance(r, GradeResult):
            points = {c.name: c.points for c in r.checks}
            problems = [f"{c.name}: {c.status}: {c.message}" for c in r.checks if c.status != "passed"]
            writer.writerow([r.notebook, r.chapter, *[points.get(n, "") for n in names], r.total, r.max_total,
                             " | ".join(_flag_text(f) for f in r.flags), f"{r.seconds:.1f}",
                             " | ".join(problems + r.notes)])
        else:
            writer.writerow([getattr(r, "notebook", ""), "", *["" for _ in names], 0, "", "", "",
                             f"not graded: {r}"])


def gradescope_results(result: GradeResult) -> dict:
    """Gradescope's autograder ``results.json`` (also what otter-grader writes)."""
    tests = []
    for c in result.checks:
        output = c.status if not c.message else f"{c.status}: {c.message}"
        if c.hint and c.status != "passed":
            output += f"\nHint: {c.hint}"
        tests.append({"name": c.name, "score": c.points, "max_score": c.max_points, "output": output,
                      "status": "passed" if c.status == "passed" else "failed"})
    lines = [f"Flag: {_flag_text(f)}" for f in result.flags] + result.notes
    return {"score": result.total, "execution_time": round(result.seconds, 2), "tests": tests,
            "output": "\n".join(lines), "visibility": "visible"}


# ----------------------------------------------------------------------------------------------
# The table


_SYMBOL = {"passed": "\u2714", "partial": "\u25d1", "failed": "\u2718", "error": "\u2718",
           "not implemented": "\u2026", "not run": "-", "timed out": "\u231b"}


def format_table(result: GradeResult) -> str:
    """The human-readable score table."""
    width = max([len("exercise")] + [len(c.name) for c in result.checks])
    lines = [f"Grading {result.notebook} (chapter {result.chapter}, {result.seconds:.1f} s)", ""]
    lines.append(f"  {'exercise':<{width}}  {'status':<17} {'points':>7}")
    lines.append(f"  {'-' * width}  {'-' * 17} {'-' * 7}")
    for c in result.checks:
        status = f"{_SYMBOL.get(c.status, '?')} {c.status}"
        lines.append(f"  {c.name:<{width}}  {status:<17} {f'{c.points}/{c.max_points}':>7}")
    lines.append(f"  {'-' * width}  {'-' * 17} {'-' * 7}")
    lines.append(f"  {'total':<{width}}  {'':<17} {f'{result.total}/{result.max_total}':>7}")
    details = [f"  {c.name}: {c.message}" + (f"\n    Hint: {c.hint}" if c.hint else "")
               for c in result.checks if c.status not in ("passed", "not implemented")]
    if details:
        lines += ["", "Why points were lost:"] + details
    if result.flags:
        lines += ["", "Flags for the teacher (the score stands):"] + [f"  {_flag_text(f)}" for f in result.flags]
    if result.notes:
        lines += ["", "Notes:"] + [f"  {n}" for n in result.notes]
    return "\n".join(lines)
