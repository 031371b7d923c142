"""Public checks for chapter 01 (automatic differentiation).

Each check receives the learner's plain-NumPy function and compares it with central finite
differences (or a known answer) on seeded float64 inputs of several shapes. 15 points in all.
"""

from __future__ import annotations

import sys

import numpy as np

from ..registry import CheckFailed, register
from . import as_array, assert_close, assert_shape, call, numerical_grad, relative_error, rng, unpack

#: Functions of minivi that compute what an exercise asks for: they raise while it is graded.
FORBIDDEN = {
    "01.unbroadcast": ["minivi.autodiff.ops.unbroadcast"],
    "01.topological_order": ["minivi.autodiff.topological_order", "minivi.autodiff.tensor.topological_order"],
    "01.numerical_gradient": ["minivi.autodiff.gradcheck.numerical_gradient", "minivi.autodiff.gradcheck.gradcheck"],
    "01.gradcheck": ["minivi.autodiff.gradcheck.numerical_gradient", "minivi.autodiff.gradcheck.gradcheck"],
}


# ----------------------------------------------------------------------------------------------
# VJPs


@register(
    "01.vjp_mul",
    points=1,
    hint=("Each output c[i] depends on a[i] and b[i] only: what is dc[i]/da[i]?",
          "For c = a * b (elementwise), dc/da = b: scale the upstream gradient g by the *other* input."),
)
def _check_vjp_mul(vjp_mul, hidden=False):
    r = rng(101, hidden)
    shapes = [(3,), (2, 3), (4, 1, 2), ()] if not hidden else [(5,), (3, 2, 2), (), (1, 7)]
    for shape in shapes:
        a, b, g = (np.asarray(r.standard_normal(shape)) for _ in range(3))
        context = f"for a, b, g of shape {shape}"
        out = call(vjp_mul, g, a, b, name="vjp_mul", arg_names=("g", "a", "b"))
        ga, gb = unpack(out, ("ga", "gb"), "vjp_mul(g, a, b)")
        expected_ga = numerical_grad(lambda a_: np.sum(g * (a_ * b)), a)
        expected_gb = numerical_grad(lambda b_: np.sum(g * (a * b_)), b)
        assert_close(ga, expected_ga, "ga (the gradient for a)", context)
        assert_close(gb, expected_gb, "gb (the gradient for b)", context)


@register(
    "01.vjp_matmul",
    points=2,
    hint=("Let the shapes guide you: g is (m, n), A is (m, k), B is (k, n); gA must be (m, k), gB (k, n).",
          "There is one way to build each gradient from g and the *other* matrix, transposed."),
)
def _check_vjp_matmul(vjp_matmul, hidden=False):
    r = rng(102, hidden)
    sizes = [(2, 3, 4), (1, 5, 1), (4, 1, 3), (3, 3, 3)] if not hidden else [(5, 2, 3), (1, 1, 6), (3, 4, 2)]
    for m, k, n in sizes:
        A, B, g = r.standard_normal((m, k)), r.standard_normal((k, n)), r.standard_normal((m, n))
        context = f"for A of shape {A.shape}, B of shape {B.shape}"
        out = call(vjp_matmul, g, A, B, name="vjp_matmul", arg_names=("g", "A", "B"))
        gA, gB = unpack(out, ("gA", "gB"), "vjp_matmul(g, A, B)")
        assert_close(gA, numerical_grad(lambda A_: np.sum(g * (A_ @ B)), A), "gA (the gradient for A)", context)
        assert_close(gB, numerical_grad(lambda B_: np.sum(g * (A @ B_)), B), "gB (the gradient for B)", context)


@register(
    "01.vjp_exp",
    points=1,
    hint=("d exp(x)/dx = exp(x): which argument already holds that number?",
          "The forward pass computed y = exp(x): multiply the upstream gradient by y; no np.exp again."),
)
def _check_vjp_exp(vjp_exp, hidden=False):
    r = rng(103, hidden)
    for shape in ([(4,), (2, 3), ()] if not hidden else [(6,), (), (2, 2, 2)]):
        x = np.asarray(r.uniform(-2.0, 2.0, shape))
        y, g = np.exp(x), np.asarray(r.standard_normal(shape))
        context = f"for x of shape {shape}"
        gx = call(vjp_exp, g, x, y, name="vjp_exp", arg_names=("g", "x", "y"))
        assert_close(gx, numerical_grad(lambda x_: np.sum(g * np.exp(x_)), x), "gx", context)
    # The point of passing y: the backward pass reuses the forward result instead of recomputing it.
    x = r.uniform(-2.0, 2.0, (3,))
    y, g = np.exp(x), r.standard_normal((3,))
    gx = as_array(call(vjp_exp, g, np.full_like(x, np.nan), y, name="vjp_exp", arg_names=("g", "x", "y")), "gx")
    if not np.all(np.isfinite(gx)):
        raise CheckFailed(
            "vjp_exp should compute gx from g and y = exp(x) only: called with a valid y but x filled "
            "with NaN, your gx contained NaN, so it recomputes exp(x) (the forward pass already did)"
        )


@register(
    "01.vjp_sum",
    points=2,
    hint=("Each x[i] enters the sum once: gx[i] is the entry of g that x[i] was summed into.",
          "With keepdims=False the summed axis is gone from g: put it back (size 1), then broadcast "
          "to x.shape; for axis=None g is a single number.",
          "np.expand_dims and np.broadcast_to do those two steps; mind negative axes."),
)
def _check_vjp_sum(vjp_sum, hidden=False):
    r = rng(104, hidden)
    cases = [
        ((3, 4), None, False), ((3, 4), None, True), ((3, 4), 0, False), ((3, 4), 1, True),
        ((2, 3, 4), 1, False), ((2, 3, 4), -1, False), ((2, 3, 4), -2, True), ((5,), 0, False),
    ] if not hidden else [
        ((4, 2), None, False), ((2, 5), 0, True), ((3, 2, 2), 2, False), ((3, 2, 2), -3, False),
        ((2, 2, 3), 0, True), ((7,), -1, True), ((1, 3), 1, False),
    ]
    for shape, axis, keepdims in cases:
        x = r.standard_normal(shape)
        g = np.asarray(r.standard_normal(np.shape(x.sum(axis=axis, keepdims=keepdims))))
        context = f"for x of shape {shape}, axis={axis}, keepdims={keepdims}"
        gx = as_array(call(vjp_sum, g, x, axis, keepdims, name="vjp_sum", arg_names=("g", "x")), "gx")
        assert_shape(gx, x.shape, "gx", context)
        expected = numerical_grad(lambda x_: np.sum(g * x_.sum(axis=axis, keepdims=keepdims)), x)
        assert_close(gx, expected, "gx", context)


@register(
    "01.unbroadcast",
    points=2,
    hint=("Broadcasting copies a value to many places, so its gradient adds up over the copies.",
          "Two kinds of copies: leading axes broadcasting added, and axes where `shape` has size 1.",
          "Sum g over the first g.ndim - len(shape) axes, then (keepdims=True) over every axis where "
          "shape has size 1 but g does not."),
)
def _check_unbroadcast(unbroadcast, hidden=False):
    r = rng(105, hidden)
    cases = [
        ((10, 3), (10, 1)), ((4, 3), (3,)), ((2, 3), ()), ((5, 4), (1, 4)), ((2, 3, 4), (3, 1)),
        ((3,), (3,)), ((6, 2, 5), (2, 1)), ((3, 4), (1, 1)), ((2, 1, 3), (2, 1, 3)),
    ] if not hidden else [
        ((3, 5), (3, 1)), ((2, 6), (6,)), ((4,), ()), ((2, 2, 3), (1, 3)), ((5, 1, 4), (1, 1, 4)),
        ((3, 2, 4), (2, 1)), ((2, 3), (2, 3)), ((2, 3, 1, 2), (3, 1, 1)),
    ]
    for g_shape, shape in cases:
        g = r.standard_normal(g_shape)
        context = f"for g of shape {g_shape} and shape={shape}"
        out = as_array(call(unbroadcast, g, shape, name="unbroadcast", arg_names=("g",)), "unbroadcast(g, shape)")
        assert_shape(out, shape, "unbroadcast(g, shape)", context)
        x0 = np.asarray(r.standard_normal(shape))
        expected = numerical_grad(lambda x_: np.sum(g * np.broadcast_to(x_, g_shape)), x0)
        assert_close(out, expected, "unbroadcast(g, shape)", context)


# ----------------------------------------------------------------------------------------------
# Topological order


class _Node:
    """The minimal node the check builds graphs from: only ``.parents`` (and a name for messages)."""

    __slots__ = ("name", "parents")

    def __init__(self, name, parents=()):
        self.name = name
        self.parents = tuple(parents)

    def __repr__(self):
        return f"Node({self.name!r})"


def _reachable(root):
    seen, stack, out = set(), [root], []
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        out.append(node)
        stack.extend(node.parents)
    return out


def _validate_order(order, root, description, show=True):
    if order is None:
        raise CheckFailed(f"topological_order returned None {description}: did you forget to `return`?")
    try:
        order = list(order)
    except TypeError:
        raise CheckFailed(f"topological_order should return a list, got {type(order).__name__} {description}")
    shown = f" (your order: {order})" if show and len(order) <= 12 else ""
    nodes = _reachable(root)
    ids = {id(n) for n in nodes}
    position = {}
    for i, node in enumerate(order):
        if id(node) not in ids:
            raise CheckFailed(f"{description}: your list contains {node!r}, which is not a node of the graph{shown}")
        if id(node) in position:
            count = sum(1 for n in order if n is node)
            raise CheckFailed(f"{description}: {node!r} appears {count} times; each node must appear once{shown}")
        position[id(node)] = i
    missing = [n for n in nodes if id(n) not in position]
    if missing:
        raise CheckFailed(f"{description}: {missing[0]!r} is missing ({len(missing)} node(s) missing){shown}")
    for node in nodes:
        for parent in node.parents:
            if position[id(parent)] > position[id(node)]:
                raise CheckFailed(
                    f"{description}: {node!r} comes before its parent {parent!r}; every node must come "
                    f"after all its parents{shown}"
                )


def _frame_depth() -> int:
    depth, frame = 0, sys._getframe()
    while frame is not None:
        depth, frame = depth + 1, frame.f_back
    return depth


@register(
    "01.topological_order",
    points=3,
    hint=("A node may be reached along many paths, and graphs can be 10,000 nodes deep.",
          "Keep a set of visited nodes (each handled once) and an explicit stack (a list) instead of "
          "recursion.",
          "Append a node to the order only after all its parents have been appended."),
)
def _check_topological_order(topological_order, hidden=False):
    if not callable(topological_order):
        raise CheckFailed(f"expected your function topological_order, got {type(topological_order).__name__}")
    N = _Node
    single = N("x")
    _validate_order(topological_order(single), single, "for a single node x")

    a = N("a"); b = N("b", [a]); c = N("c", [b])  # noqa: E702
    _validate_order(topological_order(c), c, "for the chain a -> b -> c")

    a = N("a"); sq = N("a*a", [a, a])  # noqa: E702
    _validate_order(topological_order(sq), sq, "for a node that uses the same parent twice (a*a)")

    a = N("a"); b = N("b", [a]); c = N("c", [a]); d = N("d", [b, c])  # noqa: E702
    _validate_order(topological_order(d), d, "for the diamond a -> b, a -> c, (b, c) -> d")

    # A ladder of diamonds: naive recursion visits 2**levels paths and repeats nodes.
    node = N("x0")
    for i in range(1, 13):
        left, right = N(f"l{i}", [node]), N(f"r{i}", [node])
        node = N(f"x{i}", [left, right])
    _validate_order(topological_order(node), node, "for a ladder of 12 diamonds", show=False)

    # A random DAG with reuse.
    r = rng(106, hidden)
    nodes = [N("n0"), N("n1")]
    for i in range(2, 200 if not hidden else 260):
        k = int(r.integers(1, 4))
        nodes.append(N(f"n{i}", [nodes[int(j)] for j in r.integers(0, i, size=k)]))
    has_child = {id(p) for n in nodes for p in n.parents}
    root = N("root", [n for n in nodes if id(n) not in has_child])
    _validate_order(topological_order(root), root, "for a random 200-node graph with reused nodes", show=False)

    # A 10,000-node chain, with the recursion limit just above the current depth so that
    # recursive solutions fail here even where a learner raised sys.getrecursionlimit().
    chain = [N("c0")]
    for i in range(1, 10_000):
        chain.append(N(f"c{i}", [chain[-1]]))
    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(_frame_depth() + 250)
    try:
        order = topological_order(chain[-1])
    except RecursionError:
        raise CheckFailed(
            "for a chain of 10,000 nodes your function hit RecursionError: Python limits recursion "
            "depth, so use an explicit stack (a list) instead of recursion"
        ) from None
    finally:
        sys.setrecursionlimit(old_limit)
    _validate_order(order, chain[-1], "for a chain of 10,000 nodes", show=False)


# ----------------------------------------------------------------------------------------------
# Numerical gradients and gradcheck


def _f_sin(x):
    return float(np.sum(np.sin(x) * x**2))


def _grad_sin(x):
    return np.cos(x) * x**2 + 2 * x * np.sin(x)


@register(
    "01.numerical_gradient",
    points=2,
    hint=("Nudge one entry of x at a time, both ways, and watch f change.",
          "For each index i (np.ndindex(x.shape)): (f(x + eps e_i) - f(x - eps e_i)) / (2 eps), with the "
          "eps you are given.",
          "Work on a float copy of x, and put each entry back exactly after nudging it."),
)
def _check_numerical_gradient(numerical_gradient, hidden=False):
    r = rng(107, hidden)
    for shape in ([(4,), (2, 3), ()] if not hidden else [(3,), (2, 2, 2), ()]):
        x = np.asarray(r.uniform(-2.0, 2.0, shape))
        context = f"for f(x) = sum(sin(x) * x**2) at x of shape {shape}"
        got = as_array(call(numerical_gradient, _f_sin, x, name="numerical_gradient",
                            arg_names=("f", "x")), "numerical_gradient(f, x)")
        assert_shape(got, x.shape, "numerical_gradient(f, x)", context)
        assert_close(got, _grad_sin(x), "numerical_gradient(f, x)", context, rtol=1e-5, atol=1e-7)
    # With a large eps the central difference of sum(x**3) is exactly 3 x**2 + eps**2, which tells
    # whether eps is used and whether the difference is central (a one-sided one is off by O(eps)).
    eps = 0.1
    x = r.uniform(0.5, 1.5, (5,))
    got = as_array(call(numerical_gradient, lambda v: float(np.sum(v**3)), x, eps=eps,
                        name="numerical_gradient", arg_names=("f", "x")), "numerical_gradient(f, x, eps=0.1)")
    assert_shape(got, x.shape, "numerical_gradient(f, x, eps=0.1)")
    central = 3 * x**2 + eps**2
    if not np.allclose(got, central, rtol=1e-9, atol=1e-12):
        i = int(np.argmax(np.abs(got - central)))
        if np.allclose(got, 3 * x**2, rtol=1e-6):
            why = "your result is the exact derivative 3x^2, so the eps argument seems to be ignored"
        else:
            why = "a central difference with eps=0.1 gives exactly 3x^2 + eps^2 here"
        raise CheckFailed(
            f"numerical_gradient(f, x, eps=0.1) for f(x) = sum(x**3): at index {i} expected "
            f"{central[i]:.6g}, got {got[i]:.6g} (relative error "
            f"{float(relative_error(got[i], central[i])):.1e}); {why}"
        )


def _f_lse(x):
    m = np.max(x)
    return float(m + np.log(np.sum(np.exp(x - m))))


def _grad_lse(x):
    e = np.exp(x - np.max(x))
    return e / e.sum()


def _f_sparse(x):
    return float(x[0] ** 2 + np.sin(x[1]))


def _grad_sparse(x):
    g = np.zeros_like(x)
    g[0], g[1] = 2 * x[0], np.cos(x[1])
    return g


@register(
    "01.gradcheck",
    points=2,
    hint=("Compare the analytic gradient with central differences, entry by entry.",
          "Use a relative error |a - n| / max(|a|, |n|, tiny) so that zero gradients are fine, and "
          "compare its largest value with tol.",
          "Use the tol argument you are given (the check calls gradcheck with several)."),
)
def _check_gradcheck(gradcheck, hidden=False):
    r = rng(108, hidden)
    x_sin = r.uniform(-2.0, 2.0, (5,))
    x_lse = r.standard_normal((3, 4))
    x_sparse = r.uniform(0.5, 1.5, (4,))

    def off_by_one_percent(x):
        g = _grad_lse(x)
        g[1, 2] *= 1.01
        return g

    cases = [
        ("f(x) = sum(sin(x) * x**2) with its correct gradient", _f_sin, _grad_sin, x_sin, True),
        ("f(x) = logsumexp(x) (x of shape (3, 4)) with its correct gradient softmax(x)",
         _f_lse, _grad_lse, x_lse, True),
        ("f(x) = x[0]**2 + sin(x[1]) with its correct gradient (exactly zero in x[2:])",
         _f_sparse, _grad_sparse, x_sparse, True),
        ("f(x) = sum(sin(x) * x**2) with the gradient's sign flipped",
         _f_sin, lambda x: -_grad_sin(x), x_sin, False),
        ("f(x) = sum(sin(x) * x**2) with a term of the gradient missing",
         _f_sin, lambda x: np.cos(x) * x**2, x_sin, False),
        ("f(x) = logsumexp(x) with one entry of the gradient 1% too large",
         _f_lse, off_by_one_percent, x_lse, False),
    ]
    def off_by(factor):
        return lambda x: _grad_sin(x) * factor

    cases = [(d, f, g, x, e, None) for d, f, g, x, e in cases]
    # The tolerance is the caller's: a gradient 0.1% off passes at tol=1e-2 and fails at tol=1e-4,
    # and a correct one passes even at tol=1e-7 (central differences are that accurate here).
    cases += [
        ("f(x) = sum(sin(x) * x**2) with its gradient 0.1% too large, tol=1e-2", _f_sin, off_by(1.001), x_sin,
         True, 1e-2),
        ("f(x) = sum(sin(x) * x**2) with its gradient 0.1% too large, tol=1e-4", _f_sin, off_by(1.001), x_sin,
         False, 1e-4),
        ("f(x) = sum(sin(x) * x**2) with its correct gradient, tol=1e-7", _f_sin, _grad_sin, x_sin, True, 1e-7),
    ]
    if hidden:
        cases = cases[::-1]
    for description, f, grad_f, x, expected, tol in cases:
        kwargs = {} if tol is None else {"tol": tol}
        got = call(gradcheck, f, grad_f, x, name="gradcheck", arg_names=("f", "grad_f", "x"), **kwargs)
        if not isinstance(got, (bool, np.bool_)):
            raise CheckFailed(f"gradcheck should return True or False, got {type(got).__name__} {got!r} "
                              f"for {description}")
        if bool(got) != expected:
            verdict = "a correct" if expected else "a wrong"
            raise CheckFailed(f"gradcheck returned {bool(got)} for {verdict} gradient: {description}")


# ----------------------------------------------------------------------------------------------
# Choosing eps: the chapter's trade-off between truncation and rounding, measured by the learner


@register(
    "01.best_eps",
    points=2,
    hint=("Try every eps of the grid and measure how far each central difference is from df(x).",
          "The error of a central difference is |(f(x + eps) - f(x - eps)) / (2 eps) - df(x)|; return the "
          "eps (an element of eps_grid) where it is smallest."),
)
def _check_best_eps(best_eps, hidden=False):
    grid = [10.0 ** -e for e in range(1, 13)] if not hidden else [10.0 ** -e for e in np.arange(1.0, 14.0, 0.5)]
    cases = [("sin", np.sin, np.cos, 1.0), ("exp", np.exp, np.exp, 0.5)] if not hidden else \
        [("cos", np.cos, lambda x: -np.sin(x), 2.0), ("x**5", lambda x: x ** 5, lambda x: 5 * x ** 4, 1.3),
         ("tanh", np.tanh, lambda x: 1 - np.tanh(x) ** 2, -0.4)]
    for what, f, df, x in cases:
        got = call(best_eps, f, df, x, list(grid), name="best_eps", arg_names=("f", "df", "x", "eps_grid"))
        context = f"for f = {what} at x = {x}"
        try:
            got = float(got)
        except (TypeError, ValueError):
            raise CheckFailed(f"best_eps should return one eps from eps_grid, got {type(got).__name__} {got!r} "
                              f"{context}") from None
        if not np.any(np.isclose(grid, got, rtol=1e-12, atol=0.0)):
            raise CheckFailed(f"best_eps returned {got!r} {context}, which is not an element of eps_grid")
        errors = np.array([abs((f(x + e) - f(x - e)) / (2 * e) - df(x)) for e in grid])
        mine = errors[int(np.argmin(np.abs(np.array(grid) - got)))]
        if mine > errors.min() * (1 + 1e-9) + 1e-300:
            raise CheckFailed(f"best_eps returned eps = {got:g} {context}; its central difference is off by "
                              f"{mine:.2e}, but eps = {grid[int(np.argmin(errors))]:g} is off by only "
                              f"{errors.min():.2e}")
        # The chapter's claim: neither a large eps (truncation) nor a tiny one (rounding) wins.
        if not 1e-8 <= got <= 1e-3:
            raise CheckFailed(f"best_eps returned eps = {got:g} {context}: the best eps for a central difference "
                              "in float64 lies between 1e-8 and 1e-3")
