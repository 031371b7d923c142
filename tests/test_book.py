"""The main job as a learner meets it: quiet kernels, an HTML book that renders offline, clear errors."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")

from minivi.chapters import check_output_folder, figure_names, run_chapters, slug  # noqa: E402

REPO = Path(__file__).resolve().parents[1]

MARKDOWN = r"""# Chapter 99 — A test

Inline $\eta = \mathbf{w}^\top\mathbf{x}$ and a price of \$5, `code with $dollars$`, then

$$\mathcal{L} = -\sum_n \log p(y_n \mid \eta_n).$$
"""

CODE = """import matplotlib.pyplot as plt
from minivi.chapters import headline
headline("test accuracy 12.5% (toy)")
fig, ax = plt.subplots(figsize=(2, 2))
ax.plot([0, 1], [1, 0]); ax.set(title="Loss against step {k}")
plt.show()
"""


@pytest.fixture
def course(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(MARKDOWN), nbformat.v4.new_code_cell(CODE)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    (tmp_path / "course" / "chapters").mkdir(parents=True)
    nbformat.write(nb, tmp_path / "course" / "chapters" / "99_test.ipynb")
    return tmp_path


@pytest.mark.notebooks
def test_run_chapters_builds_an_offline_book(course, capfd):
    pytest.importorskip("nbconvert")
    pytest.importorskip("latex2mathml")
    out = course / "build"
    assert run_chapters(out=out, fast=True, root=course / "course") == 0
    captured = capfd.readouterr()
    assert "without encryption" not in captured.out + captured.err  # kernels talk over IPC, not TCP
    assert "WARNING" not in captured.out + captured.err  # nor does a kernel outlive its run
    assert f"the book: {(out / 'book' / 'index.html').resolve()}" in captured.out
    page = (out / "book" / "99_test.html").read_text()
    assert page.count("<math") == 2 and 'display="block"' in page
    assert "$$" not in page and "mathjax" not in page.lower()  # nothing left for a CDN script to render
    assert "$dollars$" in page  # code spans keep their dollars
    assert "src=\"http" not in page  # no script or image from the network
    assert "data:image/png;base64" in page
    index = (out / "book" / "index.html").read_text()
    assert 'href="99_test.html"' in index and "test accuracy 12.5% (toy)" in index and "A test" in index
    assert [p.name for p in (out / "figures" / "99_test").iterdir()] == ["fig1_loss-against-step.png"]


def test_out_must_be_a_folder(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(NotADirectoryError, match="is a file, not a folder"):
        check_output_folder(tmp_path / "file")
    with pytest.raises(NotADirectoryError, match="is a file"):
        check_output_folder(tmp_path / "file" / "below")
    check_output_folder(tmp_path / "new" / "folder")  # a folder that does not exist yet is fine


def test_cli_rejects_a_file_as_out_before_running(tmp_path):
    (tmp_path / "file").write_text("")
    res = subprocess.run([sys.executable, "-m", "minivi", "run-chapters", "--out", str(tmp_path / "file")],
                         capture_output=True, text=True, timeout=60, cwd=REPO)
    assert res.returncode == 2 and "is a file, not a folder" in res.stderr and "running chapters" not in res.stdout


def test_figures_are_named_after_their_titles():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("## 3. Decision boundaries"),
        nbformat.v4.new_code_cell("plt.show()", outputs=[
            nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo="}),
            nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo="})]),
        nbformat.v4.new_code_cell('ax.set_title(f"Test NLL, λ={lam:.2f}")', outputs=[
            nbformat.v4.new_output("display_data", data={"image/png": "iVBORw0KGgo="})]),
    ])
    assert [n for n, _ in figure_names(nb)] == ["fig1_decision-boundaries-1.png", "fig2_decision-boundaries-2.png",
                                                 "fig3_test-nll.png"]
    assert slug("2. The computational graph") == "the-computational-graph"


def test_formulas_outside_code_become_mathml():
    pytest.importorskip("latex2mathml")
    from minivi.course.book import markdown_math_to_mathml

    formulas: list[str] = []
    text = markdown_math_to_mathml("cost $O(h^2)$ and `x = $y$` and $$\\frac{a}{b}$$", formulas)
    assert len(formulas) == 2 and "<mfrac>" in formulas[1] and "`x = $y$`" in text and "$" not in text.replace("`x = $y$`", "")


def _chromium() -> str | None:
    return next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)


@pytest.mark.notebooks
def test_the_page_renders_formulas_in_a_browser(course):
    """Headless Chromium lays out the MathML: a fraction is taller than one line of text (skipped without a browser)."""
    pytest.importorskip("nbconvert")
    pytest.importorskip("latex2mathml")
    browser = _chromium()
    if browser is None:
        pytest.skip("no Chromium installed (Debian: apt-get install chromium)")
    from minivi.course.book import build_book

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        "# Chapter 98\n\n$$\\frac{\\partial L}{\\partial w} = \\sum_n (\\mu_n - y_n) x_n$$")])
    (course / "ex").mkdir()
    nbformat.write(nb, course / "ex" / "98_x.ipynb")
    build_book(course / "ex", course / "book")
    page = course / "book" / "98_x.html"
    script = ("<script>window.addEventListener('load', () => { const m = document.querySelector('math');"
              " const r = m.getBoundingClientRect(); document.title = 'MATH ' + m.constructor.name + ' ' +"
              " Math.round(r.height) + ' ' + Math.round(r.width); });</script></body>")
    page.write_text(page.read_text().replace("</body>", script, 1))
    res = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120)
    title = next(line for line in res.stdout.splitlines() if "<title>" in line)
    _, kind, height, width = title.split("<title>")[1].split("</title>")[0].split()
    assert kind == "MathMLElement"  # the browser parsed it as MathML, not unknown tags
    assert int(height) > 25 and int(width) > 100  # a fraction laid out in two rows
