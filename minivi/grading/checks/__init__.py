"""Chapter check modules and a small toolkit for writing checks.

Teacher's note -- adding a chapter's checks:

1. Create ``minivi/grading/checks/chNN.py`` (``NN`` = the chapter's two digits). It is imported
   lazily the first time a ``"NN.*"`` name is looked up, so nothing else needs registering.
2. In it, decorate one function per exercise::

       from minivi.grading.checks import assert_close, call, numerical_grad, rng
       from minivi.grading.registry import CheckFailed, register

       @register("NN.my_exercise", points=2, hint=("a nudge, not the answer", "more detail, still not it"))
       def _check_my_exercise(fn, hidden=False):
           r = rng(0, hidden)                                # other seeds in the graded (hidden) run
           x = r.standard_normal((3, 4) if not hidden else (5, 2))
           got = call(fn, x, name="my_exercise")           # also catches in-place edits of x
           assert_close(got, <expected>, "my_exercise(x)", f"for x of shape {x.shape}")

   The function receives the learner's own object and raises :class:`CheckFailed` with a message
   naming the input, the index, expected vs got; it must not reveal the reference implementation.
   ``hidden=True`` is the grader's scoring run: use other cases there than in the public run.
   Define ``FORBIDDEN = {"NN.my_exercise": ["minivi.some.function", ...]}`` in the module: while the
   grader scores that exercise, the listed minivi functions raise when the learner's code calls them.
   The helpers of this package (``numerical_grad``, ...) always do, for learner code.
3. In ``solutions/NN_name.ipynb`` put the learner's part between ``# BEGIN SOLUTION NN.my_exercise``
   and ``# END SOLUTION`` and follow it with a cell ``mv.check("NN.my_exercise", my_exercise)``; run
   ``python -m minivi build-exercises`` to regenerate ``exercises/NN_name.ipynb``, and
   ``python -m minivi grade solutions/NN_name.ipynb`` should give full marks.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ..registry import CheckFailed, Partial

__all__ = [
    "CheckFailed",
    "Partial",
    "rng",
    "call",
    "as_array",
    "unpack",
    "assert_shape",
    "assert_close",
    "numerical_grad",
    "relative_error",
    "distinct_digits",
]


def rng(seed: int, hidden: bool = False) -> np.random.Generator:
    """A seeded generator, so a check sees the same inputs every time; ``hidden=True`` (the grader's
    scoring run) gives a different, equally fixed stream, so graded cases differ from public ones."""
    return np.random.default_rng([seed, 7919] if hidden else seed)


def _copy(value: Any) -> Any:
    return value.copy() if isinstance(value, np.ndarray) else value


def call(fn: Callable, *args: Any, name: str, arg_names: Sequence[str] | None = None, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` on copies of the array arguments; CheckFailed if ``fn`` is not callable
    or modifies one of its array arguments in place."""
    if not callable(fn):
        raise CheckFailed(f"expected your function {name}, got {type(fn).__name__} {fn!r}")
    copies = [_copy(a) for a in args]
    result = fn(*copies, **kwargs)
    names = list(arg_names) if arg_names else [f"argument {i + 1}" for i in range(len(args))]
    for arg_name, original, seen in zip(names, args, copies):
        if not isinstance(original, np.ndarray) or np.array_equal(original, seen, equal_nan=True):
            continue
        if not isinstance(seen, np.ndarray) or seen.shape != original.shape:
            raise CheckFailed(f"{name} changed its input {arg_name} in place (its shape or type changed)")
        diff = np.argwhere(~((original == seen) | (np.isnan(original) & np.isnan(seen))))
        index = tuple(int(i) for i in diff[0]) if diff.size else ()
        where = f"{arg_name}[{', '.join(map(str, index))}]" if index else arg_name
        raise CheckFailed(
            f"{name} changed its input {arg_name} in place ({where} was {float(original[index])!r}, "
            f"afterwards {float(seen[index])!r}); work on a copy, or restore the saved value exactly"
        )
    return result


def as_array(value: Any, what: str) -> np.ndarray:
    """``value`` as a float64 array; CheckFailed for None or non-numeric values."""
    if value is None:
        raise CheckFailed(f"{what} is None: did you forget to `return` it?")
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise CheckFailed(f"{what} should be a NumPy array of numbers, got {type(value).__name__} ({exc})")
    return arr


def unpack(value: Any, names: Sequence[str], what: str) -> tuple:
    """Split a returned tuple ``(ga, gb, ...)``; CheckFailed if it is not a tuple of that length."""
    if not isinstance(value, (tuple, list)) or len(value) != len(names):
        got = f"a {type(value).__name__} of length {len(value)}" if isinstance(value, (tuple, list)) \
            else type(value).__name__
        raise CheckFailed(f"{what} should return a tuple ({', '.join(names)}), got {got}")
    return tuple(value)


def assert_shape(arr: np.ndarray, shape: tuple, what: str, context: str = "") -> None:
    if tuple(arr.shape) != tuple(shape):
        ctx = f" {context}" if context else ""
        raise CheckFailed(f"{what} has shape {tuple(arr.shape)} but should have shape {tuple(shape)}{ctx}")


def relative_error(got: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Elementwise |got - expected| / max(|got|, |expected|, 1e-12)."""
    scale = np.maximum(np.maximum(np.abs(got), np.abs(expected)), 1e-12)
    return np.abs(got - expected) / scale


def _fmt_index(index: tuple) -> str:
    return "the (only) value" if index == () else f"index {index if len(index) > 1 else index[0]}"


def assert_close(got: Any, expected: np.ndarray, what: str, context: str = "",
                 rtol: float = 1e-5, atol: float = 1e-8) -> None:
    """CheckFailed naming the worst index, expected vs got and the relative error, unless
    ``|got - expected| <= atol + rtol * |expected|`` everywhere (shapes must match)."""
    got = as_array(got, what)
    expected = np.asarray(expected, dtype=np.float64)
    assert_shape(got, expected.shape, what, context)
    ctx = f" {context}" if context else ""
    bad_nan = ~np.isfinite(got) & np.isfinite(expected)
    if bad_nan.any():
        index = tuple(int(i) for i in np.argwhere(bad_nan)[0])
        raise CheckFailed(f"{what}{ctx}: {_fmt_index(index)} is {got[index]!r} (not a finite number)")
    excess = np.abs(got - expected) - (atol + rtol * np.abs(expected))
    if (excess > 0).any():
        index = np.unravel_index(int(np.argmax(excess)), excess.shape) if excess.ndim else ()
        index = tuple(int(i) for i in index)
        e, g = float(expected[index]), float(got[index])
        rel = float(relative_error(g, e))
        e_text, g_text = distinct_digits(e, g)
        tol = atol + rtol * abs(e)
        raise CheckFailed(
            f"{what} is wrong{ctx}: at {_fmt_index(index)} expected {e_text}, got {g_text} "
            f"(relative error {rel:.1e}; allowed |got - expected| <= {tol:.1e}, off by {abs(g - e):.1e})"
        )


def distinct_digits(expected: float, got: float, least: int = 6) -> tuple[str, str]:
    """Both numbers with the fewest significant digits (at least ``least``) that tell them apart."""
    for digits in range(least, 18):
        a, b = f"{expected:.{digits}g}", f"{got:.{digits}g}"
        if a != b:
            if digits > least:  # equal lengths, so the digits line up
                a, b = f"{expected:#.{digits}g}", f"{got:#.{digits}g}"
            return a, b
    return repr(expected), repr(got)


def numerical_grad(f: Callable[[np.ndarray], float], x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of the scalar function ``f`` at ``x`` (float64), for use inside checks."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + eps
        f_plus = float(f(x))
        x[index] = old - eps
        f_minus = float(f(x))
        x[index] = old
        grad[index] = (f_plus - f_minus) / (2 * eps)
    return grad
