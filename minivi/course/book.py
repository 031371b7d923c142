"""The executed chapters as an HTML book: one page per chapter and an ``index.html``.

Pages are made by nbconvert's HTML exporter (the ``lab`` template). Its pages load MathJax
from a CDN, so offline every formula would show as raw ``$$...$$``. Instead, each formula in
the markdown is converted to MathML at build time with ``latex2mathml`` (browsers render
MathML natively) and the MathJax script is left out: the book needs no network.

The index lists every executed chapter with its headline numbers: the outputs a chapter
marked with :func:`minivi.chapters.headline` (or, failing that, the text printed by a cell
tagged ``headline``).
"""
from __future__ import annotations

import html
import json
import re
from pathlib import Path

__all__ = ["build_book", "chapter_page", "check_book_dependencies", "headlines", "latex_to_mathml",
           "markdown_math_to_mathml"]

_CODE = re.compile(r"(```.*?```|~~~.*?~~~|`[^`\n]*`)", re.S)
_DISPLAY = re.compile(r"\$\$(.+?)\$\$", re.S)
_INLINE = re.compile(r"(?<![\\$])\$(?![\s$])([^$\n]+?)(?<![\s\\])\$(?!\d)")
_PLACEHOLDER = "MINIVIMATH{:05d}X"


def check_book_dependencies() -> None:
    """Raise a clear error, before any chapter runs, when nbconvert or latex2mathml is missing."""
    from minivi.chapters import missing_extra

    for module in ("nbconvert", "latex2mathml"):
        try:
            __import__(module)
        except ModuleNotFoundError:
            raise missing_extra(module) from None


def latex_to_mathml(tex: str, display: bool = False) -> str:
    """One formula as MathML; a formula latex2mathml cannot parse is kept as visible TeX in ``<code>``."""
    from latex2mathml.converter import convert

    tex = tex.strip()
    try:
        out = convert(tex, display="block" if display else "inline")
    except Exception:  # noqa: BLE001 - any parse failure: show the source rather than nothing
        out = f'<code class="tex">{html.escape(tex)}</code>'
        return f'<div class="math-display">{out}</div>' if display else out
    return out


def markdown_math_to_mathml(source: str, formulas: list[str]) -> str:
    """Replace ``$$...$$`` and ``$...$`` outside code with placeholders; their MathML is appended to ``formulas``.

    Placeholders (plain letters and digits) pass through the markdown renderer untouched and are
    swapped for the MathML afterwards, so no markdown rule can touch the formulas.
    """
    def put(mathml: str) -> str:
        formulas.append(mathml)
        return _PLACEHOLDER.format(len(formulas) - 1)

    parts = _CODE.split(source)
    for i in range(0, len(parts), 2):  # even parts are outside code
        text = _DISPLAY.sub(lambda m: "\n\n" + put(latex_to_mathml(m.group(1), display=True)) + "\n\n", parts[i])
        parts[i] = _INLINE.sub(lambda m: put(latex_to_mathml(m.group(1))), text)
    return "".join(parts)


def headlines(nb) -> list[str]:
    """The chapter's headline numbers, read from its executed outputs (see :func:`minivi.chapters.headline`)."""
    found = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            mark = out.get("metadata", {}).get("minivi", {})
            if isinstance(mark, dict) and "headline" in mark:
                found.append(str(mark["headline"]))
    if not found:  # a cell tagged "headline": the text it printed
        for cell in nb.cells:
            if "headline" in cell.get("metadata", {}).get("tags", []):
                found += [line for out in cell.get("outputs", []) if out.get("output_type") == "stream"
                          for line in out.get("text", "").splitlines() if line.strip()]
    return found


def _title(nb, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = re.search(r"^#\s+(.+)$", cell.source, flags=re.M)
            if m:
                return m.group(1).strip()
    return fallback


_STYLE = """<style>
nav.minivi-book { font: 15px/1.4 system-ui, sans-serif; padding: 8px 16px; border-bottom: 1px solid #ddd; }
nav.minivi-book a { margin-right: 1.2em; }
math[display="block"] { margin: 0.8em 0; font-size: 1.1em; }
</style>"""


def chapter_page(nb, nav: str = "", title: str = "minivi") -> str:
    """One executed notebook as a self-contained HTML page (figures embedded, formulas as MathML)."""
    import copy

    from nbconvert import HTMLExporter

    nb = copy.deepcopy(nb)
    formulas: list[str] = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = markdown_math_to_mathml(cell.source, formulas)
    exporter = HTMLExporter(template_name="lab")
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title}})
    # no MathJax from a CDN: every formula is MathML already
    body = re.sub(r"<script[^>]*>\s*</script>\s*<!-- MathJax configuration -->.*?</script>", "", body, flags=re.S)
    body = re.sub(r"<script[^>]*src=\"https?://[^\"]*mathjax[^\"]*\"[^>]*>\s*</script>", "", body, flags=re.S | re.I)
    body = re.sub(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", "", body, flags=re.S)
    # nor require.js (only widgets need it)
    body = re.sub(r"<script[^>]*src=\"https?://[^\"]*require[^\"]*\"[^>]*>\s*</script>", "", body, flags=re.I)

    def restore(m: re.Match) -> str:
        return formulas[int(m.group(1))]

    body = re.sub(r"<p>\s*MINIVIMATH(\d{5})X\s*</p>", restore, body)  # display formulas: no <p> around <math>
    body = re.sub(r"MINIVIMATH(\d{5})X", restore, body)
    body = body.replace("</head>", _STYLE + "\n</head>", 1)
    if nav:
        body = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + nav, body, count=1)
    return body


def build_book(chapters: str | Path, out: str | Path) -> Path:
    """Write ``out/NN_name.html`` for every executed notebook in ``chapters`` and ``out/index.html``."""
    import nbformat

    chapters, out = Path(chapters), Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = sorted(chapters.glob("[0-9][0-9]_*.ipynb"))
    entries = []
    for i, path in enumerate(paths):
        nb = nbformat.read(path, as_version=4)
        links = ['<a href="index.html">contents</a>']
        if i > 0:
            links.append(f'<a href="{paths[i - 1].stem}.html">&larr; {paths[i - 1].stem}</a>')
        if i + 1 < len(paths):
            links.append(f'<a href="{paths[i + 1].stem}.html">{paths[i + 1].stem} &rarr;</a>')
        nav = '<nav class="minivi-book">' + " ".join(links) + "</nav>"
        (out / f"{path.stem}.html").write_text(chapter_page(nb, nav, _title(nb, path.stem)), encoding="utf-8")
        errors = sum(o.get("output_type") == "error" for c in nb.cells for o in c.get("outputs", []))
        entries.append({"page": f"{path.stem}.html", "title": _title(nb, path.stem), "headlines": headlines(nb),
                        "run": nb.metadata.get("minivi", {}).get("run", {}), "errors": errors})
    (out / "index.html").write_text(_index(entries), encoding="utf-8")
    (out / "index.json").write_text(json.dumps(entries, indent=1), encoding="utf-8")
    return out / "index.html"


def _index(entries: list[dict]) -> str:
    rows = []
    for e in entries:
        numbers = "<br>".join(html.escape(h) for h in e["headlines"]) or "&mdash;"
        run = e["run"]
        when = (f'{run["seconds"]:.0f} s, {"smoke" if run.get("fast") else "full"} mode' if "seconds" in run else "")
        if e["errors"]:
            when += f' &mdash; <b style="color:#b00">stopped at an error</b>'
        rows.append(f'<tr><td><a href="{e["page"]}">{html.escape(e["title"])}</a></td>'
                    f"<td>{numbers}</td><td>{when}</td></tr>")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>minivi: the course</title>
<style>
body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 64em; margin: 2em auto; padding: 0 1em; }}
table {{ border-collapse: collapse; width: 100%; }}
td, th {{ border-bottom: 1px solid #ddd; padding: 0.5em; text-align: left; vertical-align: top; }}
td:nth-child(2) {{ font-family: ui-monospace, monospace; font-size: 0.9em; }}
</style></head>
<body>
<h1>minivi: Bayesian reasoning and deep learning, built from scratch</h1>
<p>The chapters as executed by <code>python -m minivi run-chapters</code>, with each chapter's headline numbers.
They follow S. Mohamed's talk <i>Bayesian Reasoning and Deep Learning</i> (2015).</p>
<table><thead><tr><th>chapter</th><th>headline numbers</th><th>run</th></tr></thead><tbody>
{chr(10).join(rows)}
</tbody></table>
</body></html>
"""
