"""The course shipped with the package: chapter and exercise notebooks, and the HTML book.

In a checkout the notebooks live in ``chapters/`` and ``exercises/`` beside the package; an
installed wheel carries copies in ``minivi/course/`` (``setup.py`` puts them there).
``python -m minivi init DIR`` copies them into a learner's working copy.
"""
from __future__ import annotations

import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHECKOUT = HERE.parents[1]
FOLDERS = ("chapters", "exercises")

__all__ = ["course_root", "init_course"]


def course_root() -> Path:
    """The folder holding ``chapters/`` and ``exercises/``: the checkout, else the installed copy."""
    for root in (CHECKOUT, HERE):
        if any((root / "chapters").glob("[0-9][0-9]_*.ipynb")):
            return root
    raise FileNotFoundError(
        f"no course notebooks found (looked in {CHECKOUT / 'chapters'} and {HERE / 'chapters'}); "
        "reinstall minivi from a wheel or sdist, or work in a git checkout")


def init_course(dest: str | Path, force: bool = False) -> list[Path]:
    """Copy the chapters (with the long studies' records in ``chapters/results``) and exercises into ``dest``
    (a learner's working copy); returns the files written.

    Existing files are kept unless ``force``: re-running ``init`` never overwrites a learner's work.
    """
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise NotADirectoryError(f"init: {dest} is a file; pass a folder name, e.g. `python -m minivi init my-course`")
    root = course_root()
    written = []
    for folder in FOLDERS:
        for src in sorted((root / folder).glob("[0-9][0-9]_*.ipynb")) + sorted((root / folder).glob("results/*.json")):
            target = dest / src.relative_to(root)
            if target.exists() and not force:
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, target)
            written.append(target)
    return written
