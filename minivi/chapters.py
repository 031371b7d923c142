"""Run the chapter notebooks headless: the course's "main job".

``python -m minivi run-chapters`` executes every ``chapters/NN_name.ipynb`` in order and
writes a book a learner can open:

- ``build/chapters/NN_name.ipynb``: the executed notebooks;
- ``build/figures/NN_name/figK_what-it-shows.png``: every figure, named after its title;
- ``build/book/index.html`` and one ``build/book/NN_name.html`` per chapter (equations
  converted to MathML at build time, so the pages need no network; see ``minivi.course.book``).

It prints one line per chapter with its time and ends by printing where the book is.
With ``--fast`` (or ``MINIVI_FAST=1``) the chapters run in smoke mode: the same code with
fewer epochs and samples. Kernels talk to this process over local IPC sockets, not TCP.

A chapter marks its headline numbers (shown on the book's index) with :func:`headline`.
"""
from __future__ import annotations

import base64
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
HEADLINE_KEY = "minivi"  # output metadata {"minivi": {"headline": ...}} marks a chapter's headline numbers


def missing_extra(module: str, extra: str = "notebooks") -> ModuleNotFoundError:
    """The error to raise when an optional dependency is absent: it names the extra to install."""
    return ModuleNotFoundError(f"{module} is not installed; it comes with minivi's '{extra}' extra: "
                               f"pip install 'minivi[{extra}]' (or, in a checkout, pip install -e '.[{extra}]')")


def headline(text: str) -> None:
    """Show ``text`` (e.g. ``"test accuracy 96.9% (offline split)"``) and mark it as a headline number.

    In a notebook the output carries the metadata ``{"minivi": {"headline": text}}``, which the book's
    index reads; outside a notebook it is printed.
    """
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # plain Python
        print(text)
        return
    if get_ipython() is None:
        print(text)
        return
    display({"text/plain": text}, raw=True, metadata={HEADLINE_KEY: {"headline": text}})


def default_root() -> Path:
    """Where the chapters are: this checkout, or the copy shipped inside an installed package."""
    from minivi.course import course_root

    return course_root()


def find_chapters(root: Path | None = None, names: list[str] | None = None) -> list[Path]:
    """Chapter notebooks under ``root/chapters``, optionally filtered by number or name."""
    root = default_root() if root is None else Path(root)
    paths = sorted((root / "chapters").glob("[0-9][0-9]_*.ipynb"))
    if not paths:
        raise FileNotFoundError(f"no chapter notebooks found in {root / 'chapters'}: pass --root DIR (a folder "
                                f"with chapters/), or make a working copy with `python -m minivi init DIR`")
    if names:
        paths = [p for p in paths if any(p.stem == n or p.stem.startswith(n) for n in names)]
        if not paths:
            raise FileNotFoundError(f"no chapter matches {names}")
    return paths


def _ipc_kernel_manager(kernel_name: str, folder: str):
    """A kernel manager whose sockets are files in ``folder`` (IPC): nothing listens on TCP."""
    try:
        from jupyter_client.manager import KernelManager
    except ModuleNotFoundError:
        raise missing_extra("jupyter_client") from None
    return KernelManager(kernel_name=kernel_name, transport="ipc", ip=os.path.join(folder, "kernel"))


def execute_notebook(path: Path, fast: bool, timeout: int = 1200, env: dict | None = None):
    """Execute one notebook in its own folder; returns the executed ``NotebookNode``."""
    try:
        import nbclient
        import nbformat
    except ModuleNotFoundError as err:
        raise missing_extra(err.name or "nbclient") from None

    nb = nbformat.read(path, as_version=4)
    old = {k: os.environ.get(k) for k in ("MINIVI_FAST", "MPLBACKEND", "MINIVI_PROGRESS")}
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    os.environ["MINIVI_PROGRESS"] = "0"  # no progress bars in saved notebooks
    if fast:
        os.environ["MINIVI_FAST"] = "1"
    for k, v in (env or {}).items():
        os.environ[k] = v
    sockets = tempfile.mkdtemp(prefix="minivi-kernel-")
    try:
        km = _ipc_kernel_manager("python3", sockets)
        client = nbclient.NotebookClient(nb, km=km, timeout=timeout, kernel_name="python3",
                                         resources={"metadata": {"path": str(path.parent)}})
        try:
            client.execute(cleanup_kc=True)  # we made the kernel manager, so nbclient would leave the kernel running
        except Exception as err:
            err.notebook = nb  # the partly executed notebook, so a failure can be inspected
            raise
    finally:
        shutil.rmtree(sockets, ignore_errors=True)
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return nb


_TITLE = re.compile(r"""(?:title|suptitle|set_title)\s*[(=]\s*(?:rf|fr|f|r)?(["'])(.+?)\1""")


def slug(text: str, limit: int = 60) -> str:
    """``"Finite differences: truncation vs rounding"`` -> ``"finite-differences-truncation-vs-rounding"``."""
    text = re.sub(r"\{[^}]*\}", "", text)          # f-string fields
    text = re.sub(r"\$[^$]*\$", "", text)           # inline TeX
    text = re.sub(r"^\s*\d+[.)]?\s+", "", text)     # section numbers
    words = re.findall(r"[a-z0-9]+", text.lower())
    out = "-".join(words)[:limit].strip("-")
    return out


def figure_names(nb) -> list[tuple[str, bytes]]:
    """``(file name, PNG bytes)`` for every figure: ``figK_<first title in the cell, or the section heading>``."""
    figures, heading, k = [], "", 0
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            found = re.findall(r"^#+\s*(.+)$", cell.source, flags=re.M)
            if found:
                heading = found[-1]
            continue
        pngs = [out["data"]["image/png"] for out in cell.get("outputs", []) if "image/png" in out.get("data", {})]
        source = cell.get("source", "")
        parts = source.split("plt.show()")  # one part per figure when each is shown by its own plt.show()
        parts = parts[:len(pngs)] if len(parts) - 1 == len(pngs) else [source] * len(pngs)
        for j, (png, part) in enumerate(zip(pngs, parts)):
            found = [(m.group(0).startswith("suptitle"), m.group(2)) for m in _TITLE.finditer(part)]
            titles = [t for _, t in sorted(found, key=lambda f: not f[0]) if slug(t)]  # a figure's suptitle first
            k += 1
            name = slug(titles[0] if titles else heading) or "figure"
            if len(pngs) > 1 and parts[0] is source:
                name += f"-{j + 1}"
            figures.append((f"fig{k}_{name}.png", base64.b64decode(png)))
    return figures


def save_figures(nb, folder: Path) -> int:
    """Write every PNG output of an executed notebook to ``folder``; returns how many."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("fig*.png"):  # figures of an earlier run would be mistaken for this one's
        old.unlink()
    figures = figure_names(nb)
    for name, data in figures:
        (folder / name).write_bytes(data)
    return len(figures)


def check_output_folder(out: Path) -> None:
    """Fail before running anything when ``out`` cannot hold the build (a file, or not writable)."""
    for parent in [out, *out.parents]:
        if parent.exists():
            if not parent.is_dir():
                raise NotADirectoryError(f"--out {out}: {parent} is a file, not a folder; pass a folder, e.g. --out build")
            if not os.access(parent, os.W_OK | os.X_OK):
                raise PermissionError(f"--out {out}: cannot write in {parent}; pass a folder you can write to")
            break
    for sub in ("chapters", "figures", "book"):
        if (out / sub).exists() and not (out / sub).is_dir():
            raise NotADirectoryError(f"--out {out}: {out / sub} is a file; remove it or pass another folder")


def run_chapters(names: list[str] | None = None, out: Path | str = "build", fast: bool | None = None,
                 root: Path | None = None, timeout: int = 1200, book: bool = True) -> int:
    """Execute the chapters, write the notebooks, figures and the HTML book; returns how many failed."""
    try:
        import nbformat
    except ModuleNotFoundError:
        raise missing_extra("nbformat") from None

    fast = os.environ.get("MINIVI_FAST") == "1" if fast is None else fast
    out = Path(out)
    check_output_folder(out)
    paths = find_chapters(root, names)
    if book:
        from minivi.course.book import check_book_dependencies
        check_book_dependencies()
    failed = 0
    print(f"running chapters in {'smoke (MINIVI_FAST=1)' if fast else 'full'} mode; output in {out}/", flush=True)
    for path in paths:
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
                  f" (the partly executed notebook is in {out / 'chapters' / path.name})", flush=True)
            continue
        seconds = time.perf_counter() - t0
        nb.metadata.setdefault("minivi", {})["run"] = {"seconds": round(seconds, 1), "fast": bool(fast)}
        (out / "chapters").mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, out / "chapters" / path.name)
        n = save_figures(nb, out / "figures" / path.stem)
        print(f"  ok     {path.name:<40} {seconds:6.1f} s, {n} figures", flush=True)
    if book:
        from minivi.course.book import build_book
        index = build_book(out / "chapters", out / "book")
        print(f"the book: {index.resolve()} (open it in a browser; {len(list((out / 'book').glob('[0-9]*.html')))} "
              f"chapter pages)", flush=True)
    return failed
