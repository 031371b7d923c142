"""Headless grading of a chapter notebook: ``python -m minivi grade NOTEBOOK.ipynb``.

The notebook runs top to bottom in a fresh kernel (nbclient), in the notebook's own directory, with
``MINIVI_FAST=1`` (unless already set) and ``MINIVI_GRADE_REPORT`` pointing at a temporary file. Each
``mv.check(...)`` call in the notebook appends its result there; the grader reads the file afterwards,
so whatever was collected survives a crashing cell, an interrupted infinite loop or a dead kernel.

* A cell that raises does not stop later cells (``allow_errors``).
* A cell running longer than ``timeout`` seconds is interrupted; if the kernel does not respond to the
  interrupt, it is shut down and the remaining cells are not run.
* A kernel that dies (``os._exit``, a segfault) ends execution; what was collected is reported.
* Every registered check of the chapter appears in the result; checks never reached are "not run".

The chapter comes from ``metadata.minivi.chapter`` or else from the file name (``01_autodiff.ipynb``).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from .registry import REPORT_ENV, checks_for_chapter

__all__ = ["GradeResult", "GradedCheck", "GraderError", "grade_notebook", "format_table", "chapter_of_notebook"]

DEFAULT_TIMEOUT = 60
_PROBE_TIMEOUT = 10  # at most this many seconds for a kernel to answer after an interrupt
_PACKAGE_PARENT = Path(__file__).resolve().parents[2]  # the directory holding the minivi package


class GraderError(Exception):
    """The grader itself could not run (missing file, not a notebook, no kernel, unknown chapter)."""


@dataclasses.dataclass
class GradedCheck:
    name: str
    status: str  # passed | failed | not implemented | error | not run
    points: int
    max_points: int
    message: str = ""


@dataclasses.dataclass
class GradeResult:
    notebook: str
    chapter: str
    checks: list[GradedCheck]
    notes: list[str]

    @property
    def total(self) -> int:
        return sum(c.points for c in self.checks)

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
            "notes": list(self.notes),
        }


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
        f"cannot tell which chapter {path.name} belongs to: set metadata.minivi.chapter or name it NN_*.ipynb"
    )


def _kernel_env(report: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("MINIVI_FAST", "1")
    env[REPORT_ENV] = str(report)
    # Let the kernel import the same minivi as the grader, wherever the notebook lives.
    paths = [str(_PACKAGE_PARENT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return env


def _kernel_log_tail(log: Path, lines: int = 3) -> str:
    """The last lines the kernel process wrote to stderr (a crash message), without noise."""
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    kept = [ln.strip() for ln in text.splitlines()
            if ln.strip() and "running over TCP without encryption" not in ln]
    return " | ".join(kept[-lines:])


def _execute(nb, path: Path, timeout: int, env: dict[str, str], notes: list[str], log: Path) -> None:
    """Run every code cell, recording timeouts / a dead kernel in ``notes``."""
    with open(log, "wb") as log_file:
        _run_cells(nb, path, timeout, env, notes, log_file)
    for i, note in enumerate(notes):
        if "kernel died" in note:
            tail = _kernel_log_tail(log)
            if tail:
                notes[i] = f"{note} (kernel output: {tail})"


def _reconnect(client, timeout: float) -> bool:
    """Fresh channels to the (interrupted) kernel; False if it does not answer within ``timeout``.

    The channels of a timed-out cell still have a pending read; reusing them would make every later
    cell wait for output that never comes, so the grader talks to the kernel over new ones."""
    from jupyter_core.utils import run_sync

    try:
        client.kc.stop_channels()
        client.kc = client.km.client()
        client.kc.start_channels()
        client.kc.allow_stdin = False
        run_sync(client.kc.wait_for_ready)(timeout=timeout)
    except RuntimeError:
        return False
    return True


def _run_cells(nb, path: Path, timeout: int, env: dict[str, str], notes: list[str], log_file) -> None:
    from jupyter_core.utils import run_sync
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    quiet = logging.getLogger("minivi.grading.nbclient")
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False
    probe_timeout = max(2, min(_PROBE_TIMEOUT, timeout))
    kernel_name = (nb.metadata.get("kernelspec") or {}).get("name") or "python3"
    client = NotebookClient(
        nb,
        timeout=timeout,
        allow_errors=True,
        interrupt_on_timeout=False,
        kernel_name=kernel_name,
        resources={"metadata": {"path": str(path.parent)}},
        log=quiet,
    )
    started = False
    try:
        with client.setup_kernel(env=env, stdout=log_file, stderr=log_file):
            started = True
            number = 0
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                number += 1
                try:
                    client.execute_cell(cell, index)
                except CellTimeoutError:
                    notes.append(f"code cell {number} ran longer than {timeout} s and was interrupted")
                    run_sync(client.km.interrupt_kernel)()
                    if not _reconnect(client, probe_timeout):
                        if run_sync(client.km.is_alive)():
                            notes.append("the kernel did not respond to the interrupt; later cells were not run")
                            run_sync(client.km.shutdown_kernel)(now=True)
                        else:
                            notes.append("the kernel died after the interrupt; later cells were not run")
                        return
                except DeadKernelError:
                    notes.append(f"the kernel died while running code cell {number}; later cells were not run")
                    return
    except DeadKernelError:
        notes.append("the kernel died; later cells were not run")
    except Exception as exc:  # noqa: BLE001
        if not started:  # the kernel never started: the grader could not run
            raise GraderError(f"could not start kernel {kernel_name!r}: {type(exc).__name__}: {exc}") from exc
        notes.append(f"execution stopped early ({type(exc).__name__}: {exc})")


def _read_report(report: Path) -> dict[str, dict]:
    """Last record per check name (a re-run check replaces its earlier result)."""
    records: dict[str, dict] = {}
    if not report.exists():
        return records
    for line in report.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and isinstance(record.get("name"), str):
            records[record["name"]] = record
    return records


def grade_notebook(path: str | os.PathLike, timeout: float = DEFAULT_TIMEOUT) -> GradeResult:
    """Execute the notebook at ``path`` headless and collect its checks' results."""
    path = Path(path)
    nb = _read_notebook(path)
    chapter = chapter_of_notebook(nb, path)
    checks = checks_for_chapter(chapter)
    if not checks:
        raise GraderError(f"chapter {chapter} has no registered checks")
    timeout = max(1, math.ceil(timeout))
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="minivi-grade-") as tmp:
        report = Path(tmp) / "report.jsonl"
        report.touch()
        _execute(nb, path.resolve(), timeout, _kernel_env(report), notes, Path(tmp) / "kernel.log")
        records = _read_report(report)
    graded = []
    for chk in checks:
        rec = records.get(chk.name)
        if rec is None:
            graded.append(GradedCheck(chk.name, "not run", 0, chk.points, "never checked"))
            continue
        status = str(rec.get("status", "error"))
        points = int(rec.get("points", 0)) if status == "passed" else 0
        graded.append(GradedCheck(chk.name, status, min(points, chk.points), chk.points, str(rec.get("message", ""))))
    return GradeResult(str(path), chapter, graded, notes)


_SYMBOL = {"passed": "\u2714", "failed": "\u2718", "error": "\u2718", "not implemented": "\u2026", "not run": "-"}


def format_table(result: GradeResult) -> str:
    """The human-readable score table."""
    width = max([len("exercise")] + [len(c.name) for c in result.checks])
    lines = [f"Grading {result.notebook} (chapter {result.chapter})", ""]
    lines.append(f"  {'exercise':<{width}}  {'status':<17} {'points':>7}")
    lines.append(f"  {'-' * width}  {'-' * 17} {'-' * 7}")
    for c in result.checks:
        status = f"{_SYMBOL.get(c.status, '?')} {c.status}"
        lines.append(f"  {c.name:<{width}}  {status:<17} {f'{c.points}/{c.max_points}':>7}")
    lines.append(f"  {'-' * width}  {'-' * 17} {'-' * 7}")
    lines.append(f"  {'total':<{width}}  {'':<17} {f'{result.total}/{result.max_total}':>7}")
    details = [f"  {c.name}: {c.message}" for c in result.checks if c.status in ("failed", "error")]
    if details:
        lines += ["", "Problems:"] + details
    if result.notes:
        lines += ["", "Notes:"] + [f"  {n}" for n in result.notes]
    return "\n".join(lines)
