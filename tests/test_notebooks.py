"""Every chapter runs headless in smoke mode (MINIVI_FAST=1) and draws its figures.

The solutions notebooks are executed by tests/test_grading_chapters.py (full marks).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from minivi.chapters import execute_notebook, find_chapters
from minivi.course.book import headlines

REPO = Path(__file__).resolve().parents[1]
CHAPTERS = find_chapters(REPO)


def _errors(nb) -> list[str]:
    return [f"{o.get('ename')}: {o.get('evalue')}" for c in nb.cells for o in c.get("outputs", [])
            if o.get("output_type") == "error"]


@pytest.mark.notebooks
@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_runs_in_smoke_mode(path):
    nb = execute_notebook(path, fast=True, timeout=300)
    assert not _errors(nb)
    assert any("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", [])), "a chapter draws figures"
    # the book's index shows each chapter's headline numbers (minivi.chapters.headline)
    assert headlines(nb), "the chapter marks its headline numbers with minivi.chapters.headline(...)"
