"""Every chapter and every solutions notebook runs headless in smoke mode (MINIVI_FAST=1)."""
from __future__ import annotations

from pathlib import Path

import pytest

from minivi.chapters import execute_notebook, find_chapters

REPO = Path(__file__).resolve().parents[1]
CHAPTERS = find_chapters(REPO)
SOLUTIONS = sorted((REPO / "solutions").glob("[0-9][0-9]_*.ipynb"))


def _errors(nb) -> list[str]:
    return [f"{o.get('ename')}: {o.get('evalue')}" for c in nb.cells for o in c.get("outputs", [])
            if o.get("output_type") == "error"]


@pytest.mark.notebooks
@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_runs_in_smoke_mode(path):
    nb = execute_notebook(path, fast=True, timeout=300)
    assert not _errors(nb)
    assert any("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", [])), "a chapter draws figures"


@pytest.mark.notebooks
@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_solutions_notebook_runs(path):
    nb = execute_notebook(path, fast=True, timeout=300)
    assert not _errors(nb)
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert "✘" not in text and "not implemented" not in text, "a solution fails its own public checks"
