"""The checks added to chapter 01 by issue 9: best_eps (the eps trade-off) and gradcheck's tol."""
from __future__ import annotations

import numpy as np
import pytest

from minivi.grading import registry


def best_eps(f, df, x, eps_grid):
    errors = [abs((f(x + eps) - f(x - eps)) / (2 * eps) - df(x)) for eps in eps_grid]
    return eps_grid[int(np.argmin(errors))]


def _numgrad(f, x, eps=1e-6):
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


def gradcheck(f, grad_f, x, tol=1e-5):
    a, n = grad_f(x), _numgrad(f, x)
    return bool(np.max(np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), 1e-12)) < tol)


@pytest.mark.parametrize("hidden", [False, True])
def test_right_answers_pass(hidden):
    assert registry.run_check("01.best_eps", best_eps, hidden=hidden).passed
    assert registry.run_check("01.gradcheck", gradcheck, hidden=hidden).passed


@pytest.mark.parametrize("fn, fragment", [
    (lambda f, df, x, grid: grid[0], "off by"),
    (lambda f, df, x, grid: grid[-1], "off by"),
    (lambda f, df, x, grid: 1e-5 * 1.5, "not an element of eps_grid"),
    (lambda f, df, x, grid: grid[int(np.argmin([abs((f(x + e) - f(x)) / e - df(x)) for e in grid]))], "off by"),
])
def test_best_eps_wrong_answers(fn, fragment):
    result = registry.run_check("01.best_eps", fn)
    assert result.status == "failed" and fragment in result.message, result.message


@pytest.mark.parametrize("hidden", [False, True])
def test_gradcheck_that_ignores_tol_fails(hidden):
    fixed = lambda f, g, x, tol=1e-5: gradcheck(f, g, x)  # noqa: E731
    result = registry.run_check("01.gradcheck", fixed, hidden=hidden)
    assert result.status == "failed" and "tol=" in result.message
