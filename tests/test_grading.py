"""The grading machinery: check(), the headless grader, exercise generation, chapter 01's checks."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from minivi import cli
from minivi.grading import check, grade_notebook, registry
from minivi.grading.grader import GraderError
from minivi.grading.notebooks import build_exercises, render_exercise, strip_solutions

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SOLUTION = REPO / "solutions" / "01_autodiff.ipynb"
EXERCISE = REPO / "exercises" / "01_autodiff.ipynb"

sys.path.insert(0, str(FIXTURES))
import grading_ch99  # noqa: E402  (registers the fake chapter 99)

CH01 = [c.name for c in registry.checks_for_chapter("01")]


# ----------------------------------------------------------------------------------------------
# check(): statuses, output, report file


def _double(x):
    return 2 * x


def _stub(x):
    raise NotImplementedError("exercise 99.double: fill in this function")


def _broken(x):
    return {}["missing"]


@pytest.mark.parametrize(
    "fn, status, points, marker",
    [
        (_double, "passed", 1, "\u2714 99.double: public checks passed (1/1 points)"),
        (lambda x: 3 * x, "failed", 0, "\u2718 99.double: double(1.0) is wrong (got 3.0)"),
        (_stub, "not implemented", 0, "99.double: not implemented yet"),
        (_broken, "error", 0, "your code raised KeyError: 'missing' (in _broken, line"),
    ],
)
def test_check_statuses_output_and_report(fn, status, points, marker, tmp_path, monkeypatch, capsys):
    report = tmp_path / "report.jsonl"
    monkeypatch.setenv(registry.REPORT_ENV, str(report))
    assert check("99.double", fn) is (status == "passed")
    out = capsys.readouterr().out
    assert marker in out
    assert "Traceback" not in out
    assert ("Hint: multiply by two" in out) == (status in ("failed", "error"))
    check("99.double", fn)  # a second call appends a second line
    lines = report.read_text().splitlines()
    assert len(lines) == 2
    record = json.loads(lines[-1])
    assert record == {"name": "99.double", "status": status, "points": points, "max_points": 1,
                      "message": record["message"]}
    assert isinstance(record["message"], str) and record["message"]


def test_check_without_report_env_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(registry.REPORT_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert check("99.double", _double)
    assert list(tmp_path.iterdir()) == []


def test_unknown_check_lists_known_names():
    with pytest.raises(registry.UnknownCheck) as info:
        check("01.vjp_mull", _double)
    message = str(info.value)
    assert "'01.vjp_mul'" in message and all(name in message for name in CH01)
    with pytest.raises(registry.UnknownCheck, match="has no checks"):
        check("98.anything", _double)
    with pytest.raises(registry.UnknownCheck, match="NN.exercise"):
        check("vjp_mul", _double)


def test_failure_message_does_not_reveal_reference(capsys):
    assert not check("99.square", lambda x: x * x + 1)
    out = capsys.readouterr().out
    assert "got 50.0" in out and "49" not in out


# ----------------------------------------------------------------------------------------------
# Chapter 01's checks, in process, on correct and on typical wrong implementations


def _topo_recursive(root):
    out, seen = [], set()

    def visit(node):
        if node in seen:
            return
        seen.add(node)
        for parent in node.parents:
            visit(parent)
        out.append(node)

    visit(root)
    return out


def _topo_no_visited(root):
    order, stack = [], [root]
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(node.parents)
    return order[::-1]


def _numgrad_forward(f, x, eps=1e-6):
    x = np.array(x, dtype=float)
    grad, f0 = np.zeros_like(x), f(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        grad[i] = (f(x) - f0) / eps
        x[i] = old
    return grad


WRONG = [
    ("01.vjp_mul", lambda g, a, b: (g * a, g * b), "ga (the gradient for a) is wrong"),
    ("01.vjp_matmul", lambda g, A, B: (g @ B.T, g.T @ A), "gB (the gradient for B) has shape"),
    ("01.vjp_exp", lambda g, x, y: g * np.exp(x), "x filled with NaN"),
    ("01.vjp_sum", lambda g, x, axis, keepdims: np.ones_like(x), "gx is wrong"),
    ("01.unbroadcast", lambda g, shape: g.sum(axis=0), "should have shape (10, 1)"),
    ("01.topological_order", _topo_no_visited, "appears 2 times"),
    ("01.topological_order", _topo_recursive, "RecursionError"),
    ("01.numerical_gradient", _numgrad_forward, "eps=0.1"),
    ("01.gradcheck", lambda f, g, x: True, "returned True for a wrong gradient"),
    ("01.gradcheck", lambda f, g, x: "yes", "should return True or False"),
]


@pytest.mark.parametrize("name, fn, fragment", WRONG, ids=[f"{w[0]}-{i}" for i, w in enumerate(WRONG)])
def test_ch01_wrong_implementations_fail_with_a_precise_message(name, fn, fragment):
    result = registry.run_check(name, fn)
    assert result.status == "failed", result
    assert fragment in result.message
    for reference in ("g * b", "g @ B.T", "A.T @ g", "g * y", "expand_dims(g"):
        assert reference not in result.message


def test_ch01_vjp_message_names_input_index_values_and_relative_error():
    message = registry.run_check("01.vjp_mul", lambda g, a, b: (g * a, g * b)).message
    assert "for a, b, g of shape (3,)" in message
    assert "at index" in message and "expected" in message and ", got" in message
    assert "relative error" in message


def test_ch01_recursion_limit_is_restored():
    limit = sys.getrecursionlimit()
    registry.run_check("01.topological_order", _topo_recursive)
    assert sys.getrecursionlimit() == limit


def test_ch01_in_place_modification_is_reported():
    def numgrad_in_place(f, x, eps=1e-6):
        grad = np.zeros_like(x)
        for i in np.ndindex(x.shape):
            x[i] += eps
            f_plus = f(x)
            x[i] -= 2 * eps
            f_minus = f(x)
            x[i] += eps
            grad[i] = (f_plus - f_minus) / (2 * eps)
        return grad

    result = registry.run_check("01.numerical_gradient", numgrad_in_place)
    assert result.status == "failed" and "changed its input x in place" in result.message


def test_ch01_points_total_15():
    assert sum(c.points for c in registry.checks_for_chapter("01")) == 15
    assert all(1 <= c.points <= 3 and c.hint for c in registry.checks_for_chapter("01"))


# ----------------------------------------------------------------------------------------------
# Exercise generation


def test_exercises_are_generated_from_solutions_without_drift():
    assert EXERCISE.read_bytes() == render_exercise(SOLUTION, REPO).encode("utf-8"), (
        "exercises/01_autodiff.ipynb is out of date: run `python -m minivi build-exercises`"
    )
    assert build_exercises(REPO, check=True) == []
    assert cli.main(["build-exercises", "--check", "--root", str(REPO)]) == 0


def test_exercise_notebook_contents():
    text = EXERCISE.read_text(encoding="utf-8")
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
    nb = nbformat.reads(text, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.minivi["chapter"] == "01"
    assert nb.metadata.minivi["generated_from"] == "solutions/01_autodiff.ipynb"
    assert nb.metadata.kernelspec["name"] == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    sources = "\n".join(c.source for c in code)
    for name in CH01:
        assert f'raise NotImplementedError("exercise {name}: fill in this function")' in sources
        assert f'mv.check("{name}",' in sources


def test_strip_solutions_rules():
    source = (
        "def f(x):\n"
        "    y = 1\n"
        "    # BEGIN SOLUTION 42.f\n"
        "    return x + y\n"
        "    # END SOLUTION\n"
        "\n"
        "# BEGIN SOLUTION\n"
        "z = 3\n"
        "# END SOLUTION\n"
        "print('done')"
    )
    assert strip_solutions(source) == (
        "def f(x):\n"
        "    y = 1\n"
        '    raise NotImplementedError("exercise 42.f: fill in this function")\n'
        "\n"
        'raise NotImplementedError("exercise: fill in this part")\n'
        "print('done')"
    )
    for bad in ("# BEGIN SOLUTION\nx = 1", "x = 1\n# END SOLUTION", "# BEGIN SOLUTION\n# BEGIN SOLUTION\n"):
        with pytest.raises(ValueError):
            strip_solutions(bad)


def test_build_drops_solution_only_cells_and_is_deterministic(tmp_path):
    (tmp_path / "solutions").mkdir()
    nb = nbformat.v4.new_notebook(metadata={"minivi": {"chapter": "42"}})
    nb.cells = [
        nbformat.v4.new_markdown_cell("intro", id="intro"),
        nbformat.v4.new_code_cell("secret = 1", id="secret", metadata={"tags": ["solution-only"]}),
        nbformat.v4.new_code_cell("def f():\n    # BEGIN SOLUTION 42.f\n    return 1\n    # END SOLUTION",
                                  id="f", execution_count=3,
                                  outputs=[nbformat.v4.new_output("stream", text="hi\n")]),
    ]
    nbformat.write(nb, str(tmp_path / "solutions" / "42_demo.ipynb"))
    assert build_exercises(tmp_path, ["42"]) == [tmp_path / "exercises" / "42_demo.ipynb"]
    first = (tmp_path / "exercises" / "42_demo.ipynb").read_bytes()
    assert first.endswith(b"}\n") and b"secret" not in first and b"hi\\n" not in first
    assert build_exercises(tmp_path) == []  # nothing changes the second time
    assert render_exercise(tmp_path / "solutions" / "42_demo.ipynb", tmp_path).encode() == first
    out = nbformat.reads(first.decode(), as_version=4)
    assert [c.id for c in out.cells] == ["intro", "f"]
    assert out.cells[1].execution_count is None and out.cells[1].outputs == []
    (tmp_path / "exercises" / "42_demo.ipynb").write_text("edited by hand")
    assert cli.main(["build-exercises", "--check", "--root", str(tmp_path)]) == 1
    assert cli.main(["build-exercises", "--root", str(tmp_path), "nope"]) == 2


# ----------------------------------------------------------------------------------------------
# The grader: errors it reports itself (no kernel needed)


def test_grader_refuses_missing_or_invalid_files(tmp_path, capsys):
    assert cli.main(["grade", str(tmp_path / "missing.ipynb")]) == 2
    bad = tmp_path / "01_bad.ipynb"
    bad.write_text("not json")
    assert cli.main(["grade", str(bad)]) == 2
    assert "not a readable Jupyter notebook" in capsys.readouterr().err
    nameless = tmp_path / "notes.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), str(nameless))
    with pytest.raises(GraderError, match="which chapter"):
        grade_notebook(nameless)


# ----------------------------------------------------------------------------------------------
# The grader on real notebooks (each starts a kernel)


def _notebook(path: Path, *sources: str) -> Path:
    setup = f"import sys\nsys.path.insert(0, {str(FIXTURES)!r})\nimport grading_ch99\nimport minivi as mv"
    nb = nbformat.v4.new_notebook(metadata={"minivi": {"chapter": "99"}})
    nb.cells = [nbformat.v4.new_code_cell(s) for s in (setup,) + sources]
    nbformat.write(nb, str(path))
    return path


def _statuses(result):
    return {c.name: c.status for c in result.checks}


@pytest.mark.notebooks
def test_solutions_notebook_gets_full_marks():
    result = grade_notebook(SOLUTION)
    assert _statuses(result) == {name: "passed" for name in CH01}
    assert result.total == result.max_total == 15
    assert result.notes == []


@pytest.mark.notebooks
def test_exercises_notebook_scores_zero_all_not_implemented():
    result = grade_notebook(EXERCISE)
    assert _statuses(result) == {name: "not implemented" for name in CH01}
    assert result.total == 0 and result.max_total == 15


@pytest.mark.notebooks
def test_timeout_errors_and_not_run(tmp_path, monkeypatch):
    monkeypatch.delenv("MINIVI_FAST", raising=False)  # the grader sets it for the kernel
    path = _notebook(
        tmp_path / "loop.ipynb",
        "import os\nassert os.environ['MINIVI_FAST'] == '1'\nassert os.getcwd() == "
        f"{os.path.realpath(tmp_path)!r}\ndef double(x):\n    return 2 * x\nmv.check('99.double', double)",
        "while True:\n    pass",
        "mv.check('99.square', lambda x: x * x + 1)",
        "mv.check('99.boom', lambda x: 1 / 0)",
        "raise RuntimeError('a crashing cell does not stop the next ones')",
        "def stub(x):\n    raise NotImplementedError('exercise 99.stub: fill in this function')\n"
        "mv.check('99.stub', stub)",
    )
    result = grade_notebook(path, timeout=3)
    assert _statuses(result) == {"99.double": "passed", "99.square": "failed", "99.boom": "error",
                                 "99.stub": "not implemented", "99.never": "not run"}
    messages = {c.name: c.message for c in result.checks}
    assert "49" not in messages["99.square"]
    assert messages["99.boom"].startswith("your code raised ZeroDivisionError")
    assert (result.total, result.max_total) == (1, 8)
    assert result.notes == ["code cell 3 ran longer than 3 s and was interrupted"]


@pytest.mark.notebooks
def test_uninterruptible_loop_is_stopped(tmp_path):
    path = _notebook(
        tmp_path / "stuck.ipynb",
        "mv.check('99.double', lambda x: 2 * x)",
        "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass",
        "mv.check('99.square', lambda x: x * x)",
    )
    result = grade_notebook(path, timeout=2)
    assert _statuses(result)["99.double"] == "passed"
    assert _statuses(result)["99.square"] == "not run"
    assert any("did not respond" in note for note in result.notes)


@pytest.mark.notebooks
def test_dead_kernel_and_json_output(tmp_path, capsys):
    path = _notebook(
        tmp_path / "99_dead.ipynb",
        "mv.check('99.double', lambda x: 2 * x)",
        "import os\nos._exit(1)",
        "mv.check('99.square', lambda x: x * x)",
    )
    assert cli.main(["grade", str(path), "--json", "--timeout", "20"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["chapter"] == "99" and data["total"] == 1 and data["max_total"] == 8
    statuses = {c["name"]: c["status"] for c in data["checks"]}
    assert statuses["99.double"] == "passed" and statuses["99.square"] == "not run"
    assert any("kernel died while running code cell 3" in note for note in data["notes"])
    assert set(data["checks"][0]) == {"name", "status", "points", "max_points", "message"}
