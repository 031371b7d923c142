"""The grading machinery: check(), chapter 01's checks, exercise generation. The grader's scoring
(issue 8: tampering, hidden cases, a class at once) is tested in tests/test_grading_scoring.py."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

from minivi import cli
from minivi.grading import check, registry
from minivi.grading.notebooks import build_exercises, render_exercise, strip_solutions

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SOLUTION = REPO / "solutions" / "01_autodiff.ipynb"
EXERCISE = REPO / "exercises" / "01_autodiff.ipynb"

sys.path.insert(0, str(FIXTURES))
import grading_ch99  # noqa: E402  (registers the fake chapter 99)

CH01 = [c.name for c in registry.checks_for_chapter("01")]


# ----------------------------------------------------------------------------------------------
# check(): statuses, output, tiered hints


def _double(x):
    return 2 * x


def _stub(x):
    raise NotImplementedError("exercise 99.double: fill in this function")


def _broken(x):
    return {}["missing"]


@pytest.mark.parametrize(
    "fn, status, marker",
    [
        (_double, "passed", "\u2714 99.double: public checks passed (1/1 points)"),
        (lambda x: 3 * x, "failed", "\u2718 99.double: double(1.0) is wrong (got 3.0)"),
        (_stub, "not implemented", "99.double: not implemented yet"),
        (_broken, "error", "your code raised KeyError: 'missing' (in _broken, line"),
    ],
)
def test_check_statuses_and_output(fn, status, marker, capsys):
    registry._FAILURES.clear()
    assert check("99.double", fn) is (status == "passed")
    out = capsys.readouterr().out
    assert marker in out
    assert "Traceback" not in out
    assert ("Hint 1/2: what is 2x?" in out) == (status in ("failed", "error"))
    assert "multiply by two" not in out  # the second tier only after a second failure


def test_hints_are_tiered(capsys):
    registry._FAILURES.clear()
    for _ in range(3):
        check("99.double", lambda x: 3 * x)
    outs = capsys.readouterr().out.split("\u2718")[1:]
    assert "Hint 1/2" in outs[0] and "Hint 2/2" not in outs[0] and "more detailed hint" in outs[0]
    assert "Hint 2/2: multiply by two" in outs[1] and "Hint 2/2" in outs[2]


def test_check_writes_no_report_file(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIVI_GRADE_REPORT", str(tmp_path / "report.jsonl"))
    monkeypatch.chdir(tmp_path)
    assert check("99.double", _double)
    assert list(tmp_path.iterdir()) == []


def test_partial_credit_and_hidden_runs():
    result = registry.run_check("99.parts", lambda x: 2.5)
    assert (result.status, result.points, result.max_points) == ("partial", 2, 3)
    assert "2/3 parts" in result.message
    assert registry.run_check("99.parts", lambda x: 5.0).status == "passed"
    assert registry.run_check("99.parts", lambda x: -1.0).points == 1
    # hidden=True uses other cases: an answer hard-coded for the public ones fails there
    cheat = lambda x: {1.0: 2.0, -3.5: -7.0, 10.0: 20.0}.get(x, 0.0)  # noqa: E731
    assert registry.run_check("99.double", cheat).passed
    assert registry.run_check("99.double", cheat, hidden=True).status == "failed"


def test_every_chapter_check_takes_hidden_and_has_tiered_hints():
    for chapter in ("01", "02", "03", "04", "05", "06"):
        for chk in registry.checks_for_chapter(chapter):
            assert chk.has_hidden, f"{chk.name} has no hidden cases"
            assert len(chk.hints) >= 2, f"{chk.name}: hints should go from a nudge to more detail"


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


def test_close_numbers_show_enough_digits_and_the_tolerance():
    from minivi.grading.checks import CheckFailed, assert_close

    with pytest.raises(CheckFailed) as info:
        assert_close(np.array([-1.1510300]), np.array([-1.1510307]), "x", rtol=1e-7, atol=0.0)
    message = str(info.value)
    assert "expected -1.151031, got -1.151030" in message
    assert "allowed |got - expected| <= 1.2e-07" in message and "off by 7.0e-07" in message


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


def _numgrad_central(f, x, eps=1e-6):
    x = np.array(x, dtype=float)
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        fp = f(x)
        x[i] = old - eps
        grad[i] = (fp - f(x)) / (2 * eps)
        x[i] = old
    return grad


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
    ("01.gradcheck", lambda f, g, x, tol=1e-5: True, "returned True for a wrong gradient"),
    ("01.gradcheck", lambda f, g, x, tol=1e-5: "yes", "should return True or False"),
    ("01.gradcheck", lambda f, g, x, tol=1e-5: bool(np.max(np.abs(g(x) - _numgrad_central(f, x))
                                                         / np.maximum(np.abs(g(x)), 1e-12)) < 1e-5),
     "tol=1e-2"),
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


def test_ch01_points_total_17():
    assert sum(c.points for c in registry.checks_for_chapter("01")) == 17
    assert all(1 <= c.points <= 3 and c.hint for c in registry.checks_for_chapter("01"))



def test_ch01_hidden_run_uses_other_cases():
    """An answer that only knows the public run's shapes fails the graded run."""
    public_shapes = {(3,), (2, 3), (4, 1, 2), ()}

    def memorised(g, a, b):
        if a.shape not in public_shapes:
            return np.zeros_like(a), np.zeros_like(b)
        return g * b, g * a

    assert registry.run_check("01.vjp_mul", memorised).passed
    assert registry.run_check("01.vjp_mul", memorised, hidden=True).status == "failed"


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
# Command-line messages (issue 7)


def test_run_chapters_timeout_zero_names_its_own_command(capsys):
    assert cli.main(["run-chapters", "--timeout", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("minivi run-chapters: --timeout must be positive") and "minivi grade" not in err


def test_build_exercises_names_the_file_with_invalid_json(tmp_path, capsys):
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / "42_broken.ipynb").write_text('{"cells": [', encoding="utf-8")
    assert cli.main(["build-exercises", "--root", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "42_broken.ipynb is not valid notebook JSON (line 1, column" in err
