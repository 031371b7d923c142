"""Every primitive, gradient-checked in float64 on drawn shapes (broadcasting included)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minivi as mv

SETTINGS = settings(max_examples=20, deadline=None)
FIXED_BROADCAST_CASES = [((), (3, 4)), ((3, 4), ()), ((5, 1), (1, 4)), ((2, 3, 4), (3, 1)), ((10, 1), (10, 5)), ((4,), (3, 4))]


def positive(rng, shape):
    return np.exp(0.5 * rng.standard_normal(shape)) + 0.1


BINARY = {
    "add": (lambda a, b: a + b, False),
    "sub": (lambda a, b: a - b, False),
    "mul": (lambda a, b: a * b, False),
    "div": (lambda a, b: a / b, True),
    "pow": (lambda a, b: a**b, True),
    "maximum": (mv.maximum, False),
    "minimum": (mv.minimum, False),
    "where": (lambda a, b: mv.where(a.data > 0.3, a, b), False),
}


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("shapes", FIXED_BROADCAST_CASES)
def test_binary_ops_broadcast_fixed_cases(name, shapes, rng):
    fn, needs_positive = BINARY[name]
    make = positive if needs_positive else (lambda r, s: r.standard_normal(s))
    a, b = make(rng, shapes[0]), make(rng, shapes[1])
    assert mv.gradcheck(fn, a, b)


@SETTINGS
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4),
       name=st.sampled_from(sorted(BINARY)), seed=st.integers(0, 2**16))
def test_binary_ops_broadcast_drawn(shapes, name, seed):
    fn, needs_positive = BINARY[name]
    r = np.random.default_rng(seed)
    make = positive if needs_positive else (lambda rr, s: rr.standard_normal(s))
    a, b = make(r, shapes.input_shapes[0]), make(r, shapes.input_shapes[1])
    assert mv.gradcheck(fn, a, b)


def test_binary_gradient_has_input_shape():
    """The classic bug: a (10, 1) input broadcast against (10, 5) must get a (10, 1) gradient."""
    a = mv.tensor(np.ones((10, 1)), requires_grad=True)
    b = mv.tensor(np.ones((10, 5)), requires_grad=True)
    c = mv.tensor(2.0, requires_grad=True)
    ((a * b + c) ** 2).sum().backward()
    assert a.grad.shape == (10, 1) and b.grad.shape == (10, 5) and c.grad.shape == ()
    np.testing.assert_allclose(a.grad.numpy(), np.full((10, 1), 5 * 2 * 3.0))
    np.testing.assert_allclose(c.grad.numpy(), 50 * 2 * 3.0)


UNARY = {
    "neg": (lambda x: -x, False), "exp": (mv.exp, False), "log": (mv.log, True), "log1p": (mv.log1p, True),
    "expm1": (mv.expm1, False), "sqrt": (mv.sqrt, True), "abs": (mv.abs, False), "tanh": (mv.tanh, False),
    "sigmoid": (mv.sigmoid, False), "softplus": (mv.softplus, False), "relu": (mv.relu, False),
    "log_sigmoid": (mv.log_sigmoid, False), "erf": (mv.erf, False), "ndtr": (mv.ndtr, False),
    "log_ndtr": (mv.log_ndtr, False), "gammaln": (mv.gammaln, True), "digamma": (mv.digamma, True),
    "polygamma": (lambda x: mv.polygamma(x, n=1), True), "square": (mv.square, False),
    "sin": (mv.sin, False), "cos": (mv.cos, False), "clip": (lambda x: mv.clip(x, -0.5, 0.7), False),
    "pow_scalar": (lambda x: x**3, False), "rpow": (lambda x: 2.0**x, False), "rdiv": (lambda x: 1.0 / x, True),
}


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=0, max_dims=3, max_side=4), name=st.sampled_from(sorted(UNARY)),
       seed=st.integers(0, 2**16))
def test_unary_ops(shape, name, seed):
    fn, needs_positive = UNARY[name]
    r = np.random.default_rng(seed)
    x = positive(r, shape) if needs_positive else r.standard_normal(shape)
    assert mv.gradcheck(fn, x)


AXES = [None, 0, -1, (0, 2), 1]


@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("name", ["sum", "mean", "var", "max", "min", "logsumexp"])
def test_reductions(name, axis, keepdims, rng):
    x = rng.standard_normal((3, 4, 5))
    fn = getattr(mv, name)
    assert mv.gradcheck(lambda t: fn(t, axis=axis, keepdims=keepdims), x)


@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_normalisers(name, axis, rng):
    assert mv.gradcheck(lambda t: getattr(mv, name)(t, axis=axis), rng.standard_normal((3, 4, 2)))


def test_max_ties_share_the_gradient():
    x = mv.tensor([1.0, 3.0, 3.0], requires_grad=True)
    x.max().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 0.5, 0.5])


@pytest.mark.parametrize("shapes", [((3, 4), (4, 5)), ((4,), (4, 5)), ((3, 4), (4,)), ((4,), (4,)),
                                    ((2, 3, 4), (4, 5)), ((2, 3, 4), (2, 4, 5)), ((1, 3, 4), (2, 4, 2))])
def test_matmul(shapes, rng):
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    np.testing.assert_allclose((mv.tensor(a, dtype="float64") @ mv.tensor(b, dtype="float64")).numpy(), a @ b)
    assert mv.gradcheck(lambda x, y: x @ y, a, b)


@pytest.mark.parametrize("index", [
    (1,), (slice(1, 3),), (slice(None), 2), (Ellipsis, 0), (np.array([0, 2, 2, 1]),),
    (np.array([0, 1, 2, 2]), np.array([3, 0, 1, 1])), (np.array([[True, False, True, False]] * 3),),
])
def test_indexing(index, rng):
    x = rng.standard_normal((3, 4))
    assert mv.gradcheck(lambda t: t[index if len(index) > 1 else index[0]], x)


def test_repeated_integer_indices_accumulate():
    x = mv.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[np.array([0, 0, 2])].sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 0.0, 1.0])


@pytest.mark.parametrize("table, rows", [((10, 8), (3, 50)), ((6,), (40,)), ((5, 2, 3), (7,)), ((4, 3), (2, 3, 4))])
def test_row_lookup_gradient_matches_add_at(table, rows, rng):
    # W[y] (an embedding, M2's label weights) scatters its gradient by sorting the rows, not np.add.at:
    # the same sums, repeated and negative rows included
    W = rng.standard_normal(table)
    y = rng.integers(-table[0], table[0], size=rows)
    g = rng.standard_normal(rows + table[1:])
    t = mv.tensor(W, dtype=np.float64, requires_grad=True)
    (t[y] * mv.tensor(g, dtype=np.float64)).sum().backward()
    expected = np.zeros(table)
    np.add.at(expected, y, g)
    np.testing.assert_allclose(t.grad.numpy(), expected, rtol=1e-12, atol=1e-12)
    assert mv.gradcheck(lambda w: w[y[:3]] * 2.0, W)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate_and_stack(axis, rng):
    a, b, c = rng.standard_normal((2, 3)), rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    assert mv.gradcheck(lambda x, y, z: mv.concatenate([x, y, z], axis=axis), a, b, c)
    assert mv.gradcheck(lambda x, y, z: mv.stack([x, y, z], axis=axis), a, b, c)


@pytest.mark.parametrize("case", ["reshape", "transpose", "T", "swapaxes", "expand_squeeze", "broadcast_to", "sum_to"])
def test_shape_ops(case, rng):
    x = rng.standard_normal((2, 3, 4))
    fn = {
        "reshape": lambda t: t.reshape(4, 6) * 1.5,
        "transpose": lambda t: t.transpose(2, 0, 1),
        "T": lambda t: t.T,
        "swapaxes": lambda t: mv.swapaxes(t, 0, 2),
        "expand_squeeze": lambda t: mv.squeeze(mv.expand_dims(t, 1), 1) * 2.0,
        "broadcast_to": lambda t: mv.broadcast_to(t, shape=(5, 2, 3, 4)),
        "sum_to": lambda t: mv.sum_to(t, shape=(3, 1)),
    }[case]
    assert mv.gradcheck(fn, x)


def test_linalg(rng):
    a = rng.standard_normal((4, 4))
    spd = a @ a.T + 4 * np.eye(4)
    b, v = rng.standard_normal((4, 3)), rng.standard_normal(4)
    low = np.linalg.cholesky(spd)
    sym = lambda m: (m + m.T) * 0.5  # noqa: E731 - cholesky reads one triangle; check on symmetric input
    assert mv.gradcheck(lambda m: mv.linalg.cholesky(sym(m)), spd)
    assert mv.gradcheck(mv.linalg.solve, spd, b)
    assert mv.gradcheck(mv.linalg.solve, spd, v)
    assert mv.gradcheck(lambda m, r: mv.linalg.solve_triangular(m, r, lower=True), low, b)
    assert mv.gradcheck(lambda m, r: mv.linalg.solve_triangular(m, r, lower=True, trans=True), low, b)
    assert mv.gradcheck(lambda m, r: mv.linalg.solve_triangular(m, r, lower=False), low.T, v)
    assert mv.gradcheck(mv.linalg.inv, spd)
    assert mv.gradcheck(lambda m: mv.linalg.slogdet(m)[1], spd)
    assert mv.gradcheck(lambda m: mv.linalg.slogdet(m)[1], rng.standard_normal((2, 3, 3)))
    assert mv.gradcheck(mv.linalg.solve, spd[None].repeat(2, 0) + np.eye(4), rng.standard_normal((2, 4, 2)))


def test_linalg_values_match_numpy(rng):
    a = rng.standard_normal((4, 4))
    spd = a @ a.T + np.eye(4)
    t = mv.tensor(spd, dtype="float64")
    np.testing.assert_allclose(mv.linalg.cholesky(t).numpy(), np.linalg.cholesky(spd))
    np.testing.assert_allclose(mv.linalg.inv(t).numpy(), np.linalg.inv(spd))
    np.testing.assert_allclose(mv.linalg.slogdet(t)[1].numpy(), np.linalg.slogdet(spd)[1])


def test_cholesky_of_non_spd_matrix_says_why():
    with pytest.raises(ValueError, match="positive definite"):
        mv.linalg.cholesky(mv.tensor([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match="square"):
        mv.linalg.inv(mv.tensor(np.ones((2, 3))))


def test_special_functions_match_scipy(rng):
    import scipy.special as sp

    x = np.abs(rng.standard_normal(7)) + 0.2
    t = mv.tensor(x, dtype="float64")
    for name, ref in [("erf", sp.erf), ("ndtr", sp.ndtr), ("log_ndtr", sp.log_ndtr), ("gammaln", sp.gammaln),
                      ("digamma", sp.digamma), ("sigmoid", sp.expit)]:
        np.testing.assert_allclose(getattr(mv, name)(t).numpy(), ref(x), rtol=1e-12, err_msg=name)
    np.testing.assert_allclose(mv.polygamma(t, n=2).numpy(), sp.polygamma(2, x), rtol=1e-12)
