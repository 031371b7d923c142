"""Run the chapter notebooks headless: the course's "main job".

``python -m minivi run-chapters`` executes every ``chapters/NN_name.ipynb`` in order,
writes the executed notebooks to ``build/chapters/`` and every figure they draw to
``build/figures/NN_name/figK.png``, and prints one line per chapter with its time.
With ``--fast`` (or ``MINIVI_FAST=1``) the chapters run in smoke mode: the same code
with fewer epochs and samples.
"""
from __future__ import annotations

import base64
import os
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def find_chapters(root: Path = REPO_ROOT, names: list[str] | None = None) -> list[Path]:
    """Chapter notebooks under ``root/chapters``, optionally filtered by number or name."""
    paths = sorted((root / "chapters").glob("[0-9][0-9]_*.ipynb"))
    if not paths:
        raise FileNotFoundError(f"no chapter notebooks found in {root / 'chapters'}: run this from a minivi checkout or pass --root")
    if names:
        paths = [p for p in paths if any(p.stem == n or p.stem.startswith(n) for n in names)]
        if not paths:
            raise FileNotFoundError(f"no chapter matches {names}")
    return paths


def execute_notebook(path: Path, fast: bool, timeout: int = 1200, env: dict | None = None):
    """Execute one notebook in its own folder; returns the executed ``NotebookNode``."""
    import nbclient
    import nbformat

    nb = nbformat.read(path, as_version=4)
    old = {k: os.environ.get(k) for k in ("MINIVI_FAST", "MPLBACKEND", "MINIVI_PROGRESS")}
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    os.environ["MINIVI_PROGRESS"] = "0"  # no progress bars in saved notebooks
    if fast:
        os.environ["MINIVI_FAST"] = "1"
    for k, v in (env or {}).items():
        os.environ[k] = v
    try:
        client = nbclient.NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                         resources={"metadata": {"path": str(path.parent)}})
        try:
            client.execute()
        except Exception as err:
            err.notebook = nb  # the partly executed notebook, so a failure can be inspected
            raise
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return nb


def save_figures(nb, folder: Path) -> int:
    """Write every PNG output of an executed notebook to ``folder``; returns how many."""
    folder.mkdir(parents=True, exist_ok=True)
    k = 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if "image/png" in data:
                k += 1
                (folder / f"fig{k}.png").write_bytes(base64.b64decode(data["image/png"]))
    return k


def run_chapters(names: list[str] | None = None, out: Path | str = "build", fast: bool | None = None,
                 root: Path = REPO_ROOT, timeout: int = 1200) -> int:
    """Execute the chapters; returns the number that failed (0 when all ran)."""
    import nbformat

    fast = os.environ.get("MINIVI_FAST") == "1" if fast is None else fast
    out = Path(out)
    failed = 0
    print(f"running chapters in {'smoke (MINIVI_FAST=1)' if fast else 'full'} mode; output in {out}/")
    for path in find_chapters(root, names):
        t0 = time.perf_counter()
        try:
            nb = execute_notebook(path, fast=fast, timeout=timeout)
        except Exception as err:  # a failing chapter is reported, the others still run
            failed += 1
            if getattr(err, "notebook", None) is not None:
                (out / "chapters").mkdir(parents=True, exist_ok=True)
                nbformat.write(err.notebook, out / "chapters" / path.name)
            last = str(err).strip().splitlines()[-1] if str(err).strip() else ""
            print(f"  FAILED {path.name} after {time.perf_counter() - t0:6.1f} s: {type(err).__name__}: {last}"
                  f" (the partly executed notebook is in {out / 'chapters' / path.name})")
            continue
        (out / "chapters").mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, out / "chapters" / path.name)
        n = save_figures(nb, out / "figures" / path.stem)
        print(f"  ok     {path.name:<40} {time.perf_counter() - t0:6.1f} s, {n} figures")
    return failed
