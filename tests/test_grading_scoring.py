"""The grader's scores (issue 8): from checks the grader runs on the learner's own definitions.

Every row of the issue's reproduction table is a test here: tampering gives 0 points, using minivi's
own code for an exercise gives 0 with the reason, reading the checker's frames is flagged. Then the
"not run" reasons, restart-and-resume, time limits, output cap, environment, partial credit, a
teacher's private checks, Gradescope's format, and a class of 12 graded with --jobs 2 into a CSV.
Each test starts scoring processes (about a second each).
"""

from __future__ import annotations

import csv
import json
import os
import time
from pathlib import Path

import nbformat
import pytest

from minivi import cli
from minivi.grading.grader import GraderError, grade_notebook, gradescope_results

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
CH99 = FIXTURES / "grading_ch99.py"

pytestmark = pytest.mark.notebooks


def _load(name: str):
    return nbformat.read(str(REPO / name), as_version=4)


def _code_index(nb, needle: str) -> int:
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and needle in cell.source:
            return i
    raise AssertionError(needle)


def _after_imports(nb, source: str):
    """A copy of ``nb`` with a code cell added right after its first (import) cell."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    first = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    nb.cells.insert(first + 1, nbformat.v4.new_code_cell(source))
    return nb


def _replace(nb, needle: str, source: str):
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    nb.cells[_code_index(nb, needle)].source = source
    return nb


def _write(nb, path: Path) -> Path:
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i}"
    nbformat.write(nb, str(path))
    return path


def _grade(nb, tmp_path: Path, name: str = "01_sub.ipynb", **kwargs):
    return grade_notebook(_write(nb, tmp_path / name), **kwargs)


def _by_name(result):
    return {c.name: c for c in result.checks}


def _whys(result) -> str:
    return " | ".join(f"{f['why']} {f['code']}" for f in result.flags)


# ----------------------------------------------------------------------------------------------
# The table, row by row (all on the untouched exercises notebook unless said otherwise)


def test_writing_the_old_report_file_scores_zero(tmp_path, monkeypatch):
    report = tmp_path / "report.jsonl"
    monkeypatch.setenv("MINIVI_GRADE_REPORT", str(report))
    lines = "".join(json.dumps({"name": n, "status": "passed", "points": p}) + "\n"
                    for n, p in [("01.vjp_mul", 1), ("01.vjp_matmul", 2), ("01.gradcheck", 2)])
    cell = (f"import os\npath = os.environ.get('MINIVI_GRADE_REPORT', {str(report)!r})\n"
            f"with open(path, 'a') as fh:\n    fh.write({lines!r})")
    result = _grade(_after_imports(_load("exercises/01_autodiff.ipynb"), cell), tmp_path)
    assert result.total == 0
    assert "touches os.environ" in _whys(result)


def test_replacing_the_registry_entries_scores_zero(tmp_path):
    cell = ("import minivi.grading.registry as registry\n"
            "for name, chk in list(registry._REGISTRY.items()):\n"
            "    registry._REGISTRY[name] = registry.Check(name, lambda fn, hidden=False: None, chk.points)")
    result = _grade(_after_imports(_load("exercises/01_autodiff.ipynb"), cell), tmp_path)
    assert result.total == 0
    assert {c.status for c in result.checks} == {"not implemented"}
    assert "touches the grading machinery" in _whys(result)


def test_monkeypatching_run_check_scores_zero_and_is_restored(tmp_path):
    cell = ("import minivi.grading.registry as registry\n"
            "registry.run_check = lambda name, obj, **kw: registry.CheckResult(name, 'passed', 3, 3, '')\n"
            "import numpy\nnumpy.allclose = lambda *a, **k: True")
    result = _grade(_after_imports(_load("exercises/01_autodiff.ipynb"), cell), tmp_path)
    assert result.total == 0
    whys = _whys(result)
    assert "assigns an attribute of the imported module `registry`" in whys
    assert "minivi.grading.registry.run_check" in whys and "numpy.allclose" in whys  # changed, then restored


def test_ch02_answers_calling_minivi_score_zero_with_the_reason(tmp_path):
    nb = _load("solutions/02_glm.ipynb")
    nb = _replace(nb, "def nll_logit", "def nll_logit(eta, y):\n    return mv.glm.get_link('logit').nll(eta, y)")
    nb = _replace(nb, "def hessian", "def hessian(f, theta):\n    import minivi\n    return minivi.glm.hessian(f, theta)")
    nb = _replace(nb, "def irls_step",
                  "from minivi.grading.checks.ch02 import _weighted_least_squares\n"
                  "def irls_step(A, y, beta):\n    return _weighted_least_squares(A, y, beta)")
    result = _grade(nb, tmp_path, "02_sub.ipynb")
    got = _by_name(result)
    for name, fn in [("02.nll_logit", "nll"), ("02.engine_hessian", "hessian"),
                     ("02.irls_step", "_weighted_least_squares")]:
        assert got[name].points == 0, got[name]
        assert f"asks you to write this yourself; your answer called minivi's own `{fn}`" in got[name].message
    assert got["02.nll_probit"].status == "passed"  # untouched answers still score
    assert result.total == 2 + 1  # nll_probit, nll_poisson_log; irls_fit calls the forbidden irls_step too
    assert "touches the grading machinery" in _whys(result)


def test_ch02_engine_hessian_by_the_engines_own_mv_hessian_scores_zero(tmp_path):
    # The engine grew a functional mv.hessian (issue 7): it computes exactly what 02.engine_hessian asks for.
    nb = _replace(_load("solutions/02_glm.ipynb"), "def hessian",
                  "def hessian(f, theta):\n    return mv.hessian(f)(mv.tensor(theta)).numpy()")
    got = _by_name(_grade(nb, tmp_path, "02_sub.ipynb"))
    assert got["02.engine_hessian"].points == 0, got["02.engine_hessian"]
    assert "your answer called minivi's own `hessian`" in got["02.engine_hessian"].message


def test_ch06_answer_calling_ppca_log_marginal_scores_zero(tmp_path):
    nb = _replace(_load("solutions/06_latent_variable_models.ipynb"), "def ppca_loglik",
                  "def ppca_loglik(Y, W, mu, sigma2):\n    from minivi.models.lvm import PPCA\n"
                  "    m = PPCA(Y.shape[1], W.shape[1])\n    m.W.data[...] = W\n    m.mu.data[...] = mu\n"
                  "    m.log_sigma2.data[...] = np.log(sigma2)\n    return m.log_marginal(Y).numpy()")
    got = _by_name(_grade(nb, tmp_path, "06_sub.ipynb"))
    assert got["06.ppca_loglik"].points == 0, got["06.ppca_loglik"]
    assert "your answer called minivi's own `log_marginal`" in got["06.ppca_loglik"].message


def test_ch01_answers_calling_minivi_or_the_checker_score_zero(tmp_path):
    nb = _load("solutions/01_autodiff.ipynb")
    nb = _replace(nb, "def unbroadcast",
                  "def unbroadcast(g, shape):\n    from minivi.autodiff import ops\n"
                  "    return ops.unbroadcast(mv.tensor(g), np.zeros(shape)).numpy()")
    nb = _replace(nb, "def numerical_gradient",
                  "def numerical_gradient(f, x, eps=1e-6):\n    from minivi.grading.checks import numerical_grad\n"
                  "    return numerical_grad(f, x, eps)")
    result = _grade(nb, tmp_path)
    got = _by_name(result)
    assert got["01.unbroadcast"].points == 0 and "minivi's own `unbroadcast`" in got["01.unbroadcast"].message
    assert got["01.numerical_gradient"].points == 0
    assert "minivi's own `numerical_grad`" in got["01.numerical_gradient"].message
    assert got["01.vjp_mul"].points == 1


def test_reading_the_checks_frames_is_flagged_and_fails(tmp_path):
    cell = ("def gradcheck(f, grad_f, x, tol=1e-5):\n"
            "    import sys\n"
            "    return sys._getframe(2).f_locals['expected']")
    nb = _replace(_load("solutions/01_autodiff.ipynb"), "def gradcheck", cell)
    result = _grade(nb, tmp_path)
    assert _by_name(result)["01.gradcheck"].points == 0
    whys = _whys(result)
    assert "sys._getframe" in whys and "f_locals" in whys
    flag = next(f for f in result.flags if "_getframe" in f["why"])
    assert flag["line"] == 3 and "sys._getframe(2)" in flag["code"]


def test_check_cells_passing_minivis_functions_count_for_nothing(tmp_path):
    nb = _load("exercises/01_autodiff.ipynb")
    nb = _replace(nb, 'mv.check("01.unbroadcast"',
                  "from minivi.autodiff.ops import unbroadcast as ub\nmv.check('01.unbroadcast', ub)")
    nb = _replace(nb, 'mv.check("01.vjp_mul"', "mv.check('01.vjp_mul', lambda g, a, b: (g * b, g * a))")
    result = _grade(nb, tmp_path)
    assert result.total == 0


def test_a_later_check_call_changes_nothing(tmp_path):
    nb = _load("exercises/01_autodiff.ipynb")
    nb.cells.append(nbformat.v4.new_code_cell("mv.check('01.vjp_mul', lambda g, a, b: (g * b, g * a))"))
    assert _grade(nb, tmp_path).total == 0
    nb = _load("solutions/01_autodiff.ipynb")
    nb.cells.append(nbformat.v4.new_code_cell("mv.check('01.vjp_mul', lambda g, a, b: (0, 0))"))
    assert _grade(nb, tmp_path).total == 17


# ----------------------------------------------------------------------------------------------
# Every "not run" says why; one bad cell costs only its own exercise


def test_not_run_reasons(tmp_path):
    nb = _load("solutions/01_autodiff.ipynb")
    nb = _replace(nb, "def vjp_mul", "def vjp_mul(g, a, b)\n    return g * b, g * a")           # syntax error
    nb = _replace(nb, "def vjp_matmul", "def vjp_matmull(g, A, B):\n    return g @ B.T, A.T @ g")  # misspelt
    nb = _replace(nb, "def vjp_exp", "import sys\nsys.exit(3)\ndef vjp_exp(g, x, y):\n    return g * y")
    nb = _replace(nb, "def vjp_sum", "raise ValueError('oops')\ndef vjp_sum(g, x, axis, keepdims):\n    pass")
    got = _by_name(_grade(nb, tmp_path))
    assert got["01.vjp_mul"].status == "not run" and "syntax error" in got["01.vjp_mul"].message
    assert "line 1" in got["01.vjp_mul"].message
    assert "did you rename it `vjp_matmull`" in got["01.vjp_matmul"].message
    assert "SystemExit(3)" in got["01.vjp_exp"].message and "line 2" in got["01.vjp_exp"].message
    assert "raised ValueError: oops" in got["01.vjp_sum"].message
    assert got["01.unbroadcast"].status == "passed"


def test_restart_and_resume_after_crashes_and_loops(tmp_path):
    nb = _load("solutions/01_autodiff.ipynb")
    # a definition cell that kills the process, a function that kills it when called, one that loops
    nb = _replace(nb, "def vjp_matmul", "import os\nos._exit(7)\ndef vjp_matmul(g, A, B):\n    pass")
    nb = _replace(nb, "def vjp_exp", "def vjp_exp(g, x, y):\n    import os\n    os._exit(1)")
    nb = _replace(nb, "def vjp_sum", "def vjp_sum(g, x, axis, keepdims):\n    while True:\n        pass")
    nb = _replace(nb, "def best_eps", "def best_eps(f, df, x, g):\n    return g[4]\nwhile True:\n    pass")  # never ends
    start = time.monotonic()
    result = _grade(nb, tmp_path, timeout=3)
    assert time.monotonic() - start < 40
    got = _by_name(result)
    assert got["01.vjp_matmul"].status == "not run" and "exited with code 7" in got["01.vjp_matmul"].message
    assert got["01.vjp_exp"].status == "error" and "exited with code 1" in got["01.vjp_exp"].message
    assert got["01.vjp_sum"].status == "timed out" and "longer than 3 s" in got["01.vjp_sum"].message
    assert got["01.best_eps"].status == "timed out" and "code cell" in got["01.best_eps"].message
    # everything after the crashes still gets its points
    assert [got[n].points for n in ("01.vjp_mul", "01.unbroadcast", "01.topological_order",
                                    "01.numerical_gradient", "01.gradcheck")] == [1, 2, 3, 2, 2]
    assert result.total == 10
    assert any("restarted" in n for n in result.notes)


def test_uninterruptible_cell_is_killed_and_the_rest_graded(tmp_path):
    nb = _load("solutions/01_autodiff.ipynb")
    nb = _after_imports(nb, "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                            "signal.signal(signal.SIGTERM, signal.SIG_IGN)\nimport time\ntime.sleep(30)")
    result = _grade(nb, tmp_path, timeout=2)
    assert result.total == 17 and result.seconds < 20
    assert any("code cell 2 ran longer than 2 s" in n and "restarted" in n for n in result.notes)


def test_notebook_time_limit(tmp_path):
    nb = _after_imports(_load("solutions/01_autodiff.ipynb"), "import time\ntime.sleep(30)")
    result = _grade(nb, tmp_path, timeout=20, notebook_timeout=4)
    assert result.seconds < 15
    assert {c.status for c in result.checks} == {"not run"}
    assert all("time limit (4 s) was used up" in c.message for c in result.checks)


def test_printed_output_is_capped(tmp_path):
    nb = _after_imports(_load("solutions/01_autodiff.ipynb"), "import os\nprint('x' * 50_000_000)\n"
                        "os.write(1, b'y' * 50_000_000)")
    result = _grade(nb, tmp_path, output_cap=10_000)
    assert result.total == 17
    assert any("printed output beyond 10,000 bytes was dropped" in n for n in result.notes)


# ----------------------------------------------------------------------------------------------
# The fake chapter 99: environment, partial credit, hidden cases, old checks, private checks


def _ch99(path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook(metadata={"minivi": {"chapter": "99"}})
    nb.cells = [nbformat.v4.new_code_cell("import minivi as mv")] + [nbformat.v4.new_code_cell(s) for s in sources]
    return _write(nb, path)


def test_environment_partial_credit_hidden_and_old_checks(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADER_SECRET_TOKEN", "hunter2")
    monkeypatch.delenv("MINIVI_FAST", raising=False)
    path = _ch99(
        tmp_path / "99_a.ipynb",
        "def double(x):\n    return {1.0: 2.0, -3.5: -7.0, 10.0: 20.0}[x]",  # only the public cases
        "def parts(x):\n    return 4.0",
        "def stub(x):\n    return x",
        "import os\ndef env():\n    return dict(os.environ)",
        "def square(x):\n    return x * x",
        "def boom(x):\n    return 1 / 0",
    )
    result = grade_notebook(path, checks=[CH99])
    got = _by_name(result)
    assert any(n.startswith("99.stub: old-style check(s) without hidden cases") for n in result.notes)
    assert got["99.double"].status == "error" and "KeyError" in got["99.double"].message
    assert (got["99.parts"].status, got["99.parts"].points, got["99.parts"].max_points) == ("partial", 2, 3)
    assert "no hidden cases" in got["99.stub"].message and got["99.stub"].points == 1
    assert got["99.env"].status == "passed", got["99.env"].message
    assert got["99.square"].points == 2
    assert "ZeroDivisionError" in got["99.boom"].message and "line 2" in got["99.boom"].message


def test_private_checks_replace_public_ones(tmp_path):
    private = tmp_path / "private"
    private.mkdir()
    (private / "ch01_private.py").write_text(
        "from minivi.grading.registry import CheckFailed, register\n"
        "@register('01.vjp_mul', points=5, hint='private')\n"
        "def _check(fn, hidden=False):\n"
        "    import numpy as np\n"
        "    ga, gb = fn(np.array([2.0]), np.array([3.0]), np.array([5.0]))\n"
        "    if ga[0] != 10.0:\n"
        "        raise CheckFailed('private case failed')\n"
    )
    result = grade_notebook(REPO / "solutions" / "01_autodiff.ipynb", checks=[private])
    assert _by_name(result)["01.vjp_mul"].points == 5 and result.max_total == 21
    with pytest.raises(GraderError, match="no such file"):
        grade_notebook(REPO / "solutions" / "01_autodiff.ipynb", checks=[tmp_path / "nope"])


def test_gradescope_format_and_chapter_option(tmp_path, capsys):
    path = _write(_load("solutions/03_deep_networks.ipynb"), tmp_path / "submission.ipynb")
    path.write_text(path.read_text().replace('"chapter": "03"', '"chapter_": "03"'))
    assert cli.main(["grade", str(path)]) == 2
    assert "--chapter" in capsys.readouterr().err
    assert cli.main(["grade", str(path), "--chapter", "03", "--format", "gradescope"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["score"] == 8 and len(data["tests"]) == 5
    assert {t["max_score"] for t in data["tests"]} == {1, 2}
    assert all(set(t) >= {"name", "score", "max_score", "output"} for t in data["tests"])


def test_gradescope_results_carry_flags_and_hints(tmp_path):
    cell = "import sys\nframe = sys._getframe(0)"
    result = _grade(_after_imports(_load("exercises/01_autodiff.ipynb"), cell), tmp_path)
    data = gradescope_results(result)
    assert data["score"] == 0 and "Flag: code cell 2, line 2" in data["output"]


# ----------------------------------------------------------------------------------------------
# A class at once


def test_a_class_of_12_graded_in_parallel_into_a_csv(tmp_path):
    sols = {p.name[:2]: p for p in (REPO / "solutions").glob("0[1-6]_*.ipynb")}
    exs = {p.name[:2]: p for p in (REPO / "exercises").glob("0[1-6]_*.ipynb")}
    folder = tmp_path / "class"
    folder.mkdir()
    s01, e01 = nbformat.read(str(sols["01"]), as_version=4), nbformat.read(str(exs["01"]), as_version=4)
    expected = {}

    def add(name, nb, total):
        _write(nb, folder / name)
        expected[name] = total

    add("alice_01.ipynb", s01, 17)                                           # full
    add("bob_01.ipynb", e01, 0)                                              # untouched
    add("carol_01.ipynb", _replace(e01, "def vjp_mul", _code(s01, "def vjp_mul")), 1)           # partial
    add("dan_01.ipynb", _after_imports(e01, "import minivi.grading.registry as r\n"
                                            "r.run_check = lambda *a, **k: None"), 0)      # tampered
    add("erin_01.ipynb", _replace(s01, "def vjp_exp", "import os\nos._exit(1)"), 16)      # crashing
    add("frank_01.ipynb", _replace(s01, "def vjp_sum", "def vjp_sum(g, x, axis, keepdims):\n"
                                                       "    while True:\n        pass"), 15)  # looping
    for chapter, total in [("02", 12), ("03", 8), ("04", 11), ("05", 10), ("06", 12)]:
        add(f"grace_{chapter}.ipynb", nbformat.read(str(sols[chapter]), as_version=4), total)
    (folder / "broken_01.ipynb").write_text("{ not json")
    out = tmp_path / "grades.csv"
    assert cli.main(["grade", str(folder), "--jobs", "2", "--csv", str(out), "--timeout", "5"]) == 0
    rows = {Path(r["submission"]).name: r for r in csv.DictReader(out.open())}
    assert set(rows) == set(expected) | {"broken_01.ipynb"}
    for name, total in expected.items():
        assert float(rows[name]["total"]) == total, (name, rows[name])
    assert rows["carol_01.ipynb"]["01.vjp_mul"] == "1" and rows["carol_01.ipynb"]["01.vjp_matmul"] == "0"
    assert "grading machinery" in rows["dan_01.ipynb"]["flags"]
    assert "timed out" in rows["frank_01.ipynb"]["problems"]
    assert "not graded" in rows["broken_01.ipynb"]["problems"]
    assert rows["grace_02.ipynb"]["01.vjp_mul"] == "" and rows["grace_02.ipynb"]["02.irls_step"] == "3"
    assert all(float(r["seconds"]) > 0 for n, r in rows.items() if n != "broken_01.ipynb")


def _code(nb, needle: str) -> str:
    return nb.cells[_code_index(nb, needle)].source


def test_grading_one_chapters_solutions_is_fast():
    start = time.monotonic()
    result = grade_notebook(REPO / "solutions" / "01_autodiff.ipynb")
    assert result.total == result.max_total
    assert time.monotonic() - start < 10


def test_environment_is_not_passed_wholesale(monkeypatch):
    from minivi.grading.grader import _child_env

    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    monkeypatch.setenv("MINIVI_DATA", "/data")
    env = _child_env(Path("/tmp"))
    assert "AWS_SECRET_ACCESS_KEY" not in env and env["MINIVI_DATA"] == "/data"
    assert "MINIVI_GRADE_REPORT" not in env and env["MINIVI_FAST"] in ("1", os.environ.get("MINIVI_FAST"))


def test_a_deleted_check_call_is_noted_but_graded(tmp_path):
    nb = _replace(_load("solutions/01_autodiff.ipynb"), 'mv.check("01.vjp_mul"', "print('no check here')")
    got = _by_name(_grade(nb, tmp_path))
    assert got["01.vjp_mul"].points == 1 and "no mv.check call for it; graded anyway" in got["01.vjp_mul"].message


def test_check_calls_on_attributes_are_followed(tmp_path):
    path = tmp_path / "99_attr.ipynb"
    nb = nbformat.v4.new_notebook(metadata={"minivi": {"chapter": "99"}})
    nb.cells = [nbformat.v4.new_code_cell(s) for s in (
        "import minivi as mv",
        "class Ops:\n    @staticmethod\n    def double(x):\n        return 2 * x\nops = Ops()",
        "mv.check('99.double', ops.double)",
    )]
    _write(nb, path)
    private = tmp_path / "attr_checks.py"
    private.write_text(CH99.read_text().replace('obj="double"', 'obj="ops.double"'))
    got = _by_name(grade_notebook(path, checks=[private]))
    assert got["99.double"].status == "passed", got["99.double"]


def test_grader_refuses_missing_or_invalid_files(tmp_path, capsys):
    assert cli.main(["grade", str(tmp_path / "missing.ipynb")]) == 2
    assert "no such notebook" in capsys.readouterr().err
    bad = tmp_path / "01_bad.ipynb"
    bad.write_text("not json")
    assert cli.main(["grade", str(bad)]) == 2
    assert "not a readable Jupyter notebook" in capsys.readouterr().err
    nameless = tmp_path / "notes.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), str(nameless))
    with pytest.raises(GraderError, match="which chapter"):
        grade_notebook(nameless)
    assert cli.main(["grade", str(tmp_path / "empty_folder_that_is_missing")]) == 2
