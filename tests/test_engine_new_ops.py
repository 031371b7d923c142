"""The operations chapters 07-12 need: values against NumPy/PyTorch, gradients by gradcheck
(broadcasting, keepdims, negative axes, 0-d inputs, second order), batched linear algebra,
and the functional derivatives (jacobian, hessian, value_and_grad, retain_grad)."""
from __future__ import annotations

import numpy as np
import pytest

import minivi as mv

rng = np.random.default_rng(7)


def _r(*shape):
    return rng.standard_normal(shape)


def _second_order(f, *xs):
    """gradcheck of x -> grad of Σ f(x)·v: checks the VJP of the VJP."""
    v = rng.standard_normal(np.shape(f(*[mv.tensor(x, dtype="float64") for x in xs]).data))
    vt = mv.tensor(v, dtype="float64")
    return mv.gradcheck(lambda *ts: mv.grad(lambda *us: (f(*us) * vt).sum(), argnums=0)(*ts), *xs)


# --- values against NumPy -------------------------------------------------------------------------
def _close(t, expected):
    np.testing.assert_allclose(t.numpy(), expected, rtol=1e-12, atol=1e-12)


def test_values_match_numpy():
    a, b = _r(3, 4), _r(4, 5)
    A = mv.tensor(a, dtype="float64")
    _close(mv.diagonal(A), np.diagonal(a))
    _close(mv.diagonal(A, offset=1), np.diagonal(a, 1))
    s = _r(2, 3, 3)
    _close(mv.diagonal(mv.tensor(s, dtype="float64"), axis1=-2, axis2=-1), np.diagonal(s, 0, -2, -1))
    v = _r(3)
    _close(mv.diag(mv.tensor(v, dtype="float64")), np.diag(v))
    _close(mv.diag(mv.tensor(v, dtype="float64"), k=-1), np.diag(v, -1))
    _close(mv.tril(A, k=1), np.tril(a, 1))
    _close(mv.triu(A, k=-1), np.triu(a, -1))
    _close(mv.trace(A), np.trace(a))
    _close(mv.cumsum(A, axis=-1), np.cumsum(a, -1))
    _close(mv.cumsum(A), np.cumsum(a))
    _close(mv.einsum("ij,jk->ik", A, mv.tensor(b, dtype="float64")), a @ b)
    _close(mv.einsum("ij->", A), a.sum())
    _close(mv.einsum("ij,ij", A, A), (a * a).sum())
    _close(mv.tensordot(A, mv.tensor(b, dtype="float64"), axes=1), np.tensordot(a, b, 1))
    _close(mv.outer(mv.tensor(v, dtype="float64"), mv.tensor(v, dtype="float64")), np.outer(v, v))
    _close(mv.var(A, axis=0, ddof=1), np.var(a, 0, ddof=1))
    _close(mv.std(A, axis=-1, keepdims=True), np.std(a, -1, keepdims=True))
    _close(mv.logaddexp(A, mv.tensor(a.T[:1].T, dtype="float64")), np.logaddexp(a, a[:, :1]))
    _close(mv.norm(A), np.linalg.norm(a))
    _close(mv.norm(A, axis=1), np.linalg.norm(a, axis=1))
    _close(mv.norm(A, ord=1, axis=0), np.linalg.norm(a, 1, axis=0))
    _close(mv.norm(A, ord=np.inf, axis=-1), np.linalg.norm(a, np.inf, axis=-1))


def test_weighted_logsumexp_matches_scipy():
    from scipy.special import logsumexp

    x, w = _r(3, 4), np.abs(_r(3, 4))
    w[0, 1] = 0.0
    for axis, keepdims in [(None, False), (1, False), (-2, True)]:
        got = mv.logsumexp(mv.tensor(x, dtype="float64"), axis=axis, keepdims=keepdims, b=mv.tensor(w, dtype="float64"))
        np.testing.assert_allclose(got.numpy(), logsumexp(x, axis=axis, keepdims=keepdims, b=w), rtol=1e-12)
    got = mv.logsumexp(mv.tensor([1e4, 0.0], dtype="float64"), b=np.array([0.5, 1.0]))
    np.testing.assert_allclose(got.item(), 1e4 + np.log(0.5))
    with pytest.raises(ValueError, match="weights b must be >= 0"):
        mv.logsumexp(mv.tensor([1.0]), b=np.array([-1.0]))


# --- gradients ---------------------------------------------------------------------------------------
CASES = [
    ("diagonal", lambda x: mv.diagonal(x), [(3, 4)]),
    ("diagonal offset", lambda x: mv.diagonal(x, offset=-1), [(4, 3)]),
    ("diagonal stack", lambda x: mv.diagonal(x, axis1=-2, axis2=-1), [(2, 3, 3)]),
    ("diag vector", lambda x: mv.diag(x, k=1), [(3,)]),
    ("diag matrix", lambda x: mv.diag(x), [(3, 3)]),
    ("tril", lambda x: mv.tril(x), [(2, 3, 3)]),
    ("triu k", lambda x: mv.triu(x, k=1), [(3, 4)]),
    ("trace", lambda x: mv.trace(x), [(3, 3)]),
    ("trace stack", lambda x: mv.trace(x, axis1=-2, axis2=-1), [(2, 3, 3)]),
    ("cumsum", lambda x: mv.cumsum(x, axis=-1), [(2, 4)]),
    ("cumsum flat", lambda x: mv.cumsum(x), [(2, 3)]),
    ("cumsum 1-d", lambda x: mv.cumsum(x, axis=0), [(5,)]),
    ("einsum matmul", lambda a, b: mv.einsum("ij,jk->ik", a, b), [(2, 3), (3, 4)]),
    ("einsum batch dot", lambda a, b: mv.einsum("bi,bi->b", a, b), [(4, 3), (4, 3)]),
    ("einsum sum-only index", lambda a, b: mv.einsum("ij,k->ik", a, b), [(2, 3), (4,)]),
    ("einsum ellipsis broadcast", lambda a, b: mv.einsum("...ij,...jk->...ik", a, b), [(2, 2, 3), (1, 3, 2)]),
    ("einsum implicit", lambda a, b: mv.einsum("ij,jk", a, b), [(2, 3), (3, 2)]),
    ("tensordot", lambda a, b: mv.tensordot(a, b, axes=([1, 0], [0, 1])), [(3, 2), (2, 3, 4)]),
    ("outer", lambda a, b: mv.outer(a, b), [(3,), (2,)]),
    ("var", lambda x: mv.var(x, axis=-1, ddof=1), [(3, 4)]),
    ("var keepdims all", lambda x: mv.var(x, keepdims=True), [(3, 4)]),
    ("std", lambda x: mv.std(x, axis=(0, -1)), [(2, 3, 4)]),
    ("logaddexp broadcast", lambda a, b: mv.logaddexp(a, b), [(3, 1), (1, 4)]),
    ("logaddexp 0-d", lambda a, b: mv.logaddexp(a, b), [(), (3,)]),
    ("logsumexp weighted", lambda x, b: mv.logsumexp(x, axis=-1, b=b * b + 0.1), [(3, 4), (1, 4)]),
    ("logsumexp weighted keepdims", lambda x, b: mv.logsumexp(x, axis=0, keepdims=True, b=b * b + 0.1), [(3, 4), (3, 4)]),
    ("norm", lambda x: mv.norm(x), [(3, 4)]),
    ("norm axis", lambda x: mv.norm(x, axis=-1, keepdims=True), [(3, 4)]),
    ("norm 0-d", lambda x: mv.norm(x), [()]),
    ("norm ord 1", lambda x: mv.norm(x, ord=1, axis=0), [(3, 4)]),
    ("transpose negative", lambda x: mv.transpose(x, (-1, 0, -2)), [(2, 3, 4)]),
    ("flip", lambda x: mv.flip(x, axis=-1), [(2, 3)]),
]


@pytest.mark.parametrize("name,f,shapes", CASES, ids=[c[0] for c in CASES])
def test_gradcheck_first_and_second_order(name, f, shapes):
    xs = [_r(*s) for s in shapes]
    assert mv.gradcheck(f, *xs)
    assert _second_order(f, *xs)


def test_norm_gradient_at_zero_is_zero_like_torch():
    x = mv.tensor([0.0, 0.0], requires_grad=True)
    mv.norm(x).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


def test_new_ops_match_torch_gradients():
    torch = pytest.importorskip("torch")
    a0, b0 = _r(3, 3), _r(3, 3)
    a = mv.tensor(a0, dtype="float64", requires_grad=True)
    b = mv.tensor(b0, dtype="float64", requires_grad=True)
    y = (mv.tril(a) @ mv.diag(mv.diagonal(b)) + mv.cumsum(a, axis=0) * mv.std(b, axis=1, keepdims=True, ddof=1)).sum() \
        + mv.trace(mv.einsum("ij,kj->ik", a, b)) + mv.norm(a) + mv.logaddexp(a, b).sum()
    y.backward()
    at, bt = torch.tensor(a0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    yt = (torch.tril(at) @ torch.diag(torch.diagonal(bt)) + torch.cumsum(at, 0) * torch.std(bt, 1, keepdim=True)).sum() \
        + torch.trace(torch.einsum("ij,kj->ik", at, bt)) + torch.linalg.norm(at) + torch.logaddexp(at, bt).sum()
    yt.backward()
    np.testing.assert_allclose(y.item(), yt.item(), rtol=1e-12)
    np.testing.assert_allclose(a.grad.numpy(), at.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(b.grad.numpy(), bt.grad.numpy(), rtol=1e-10)


# --- batched linear algebra ----------------------------------------------------------------------------
def _spd(*batch, n=3):
    m = rng.standard_normal(batch + (n, n))
    return m @ np.swapaxes(m, -1, -2) + n * np.eye(n)


def test_batched_linalg_values_match_numpy_and_torch():
    torch = pytest.importorskip("torch")
    A = _spd(2, 4)
    L = mv.linalg.cholesky(mv.tensor(A, dtype="float64"))
    np.testing.assert_allclose(L.numpy(), np.linalg.cholesky(A), rtol=1e-12)
    b = rng.standard_normal((2, 4, 3, 2))
    x = mv.linalg.solve_triangular(L, mv.tensor(b, dtype="float64"), lower=True)
    xt = torch.linalg.solve_triangular(torch.tensor(np.linalg.cholesky(A)), torch.tensor(b), upper=False)
    np.testing.assert_allclose(x.numpy(), xt.numpy(), rtol=1e-10)
    xT = mv.linalg.solve_triangular(L, mv.tensor(b, dtype="float64"), lower=True, trans=True)
    np.testing.assert_allclose(xT.numpy(), np.linalg.solve(np.swapaxes(np.linalg.cholesky(A), -1, -2), b), rtol=1e-10)
    sign, logdet = mv.linalg.slogdet(mv.tensor(A, dtype="float64"))
    np.testing.assert_allclose(logdet.numpy(), np.linalg.slogdet(A)[1], rtol=1e-12)
    assert logdet.shape == (2, 4)
    vec = rng.standard_normal((2, 4, 3))   # a stack of vectors
    xv = mv.linalg.solve_triangular(L, mv.tensor(vec, dtype="float64"))
    np.testing.assert_allclose(xv.numpy(), np.linalg.solve(np.linalg.cholesky(A), vec[..., None])[..., 0], rtol=1e-10)
    shared = mv.linalg.solve_triangular(L[0, 0], mv.tensor(b, dtype="float64"))  # one matrix, many right-hand sides
    np.testing.assert_allclose(shared.numpy(), np.linalg.solve(np.linalg.cholesky(A[0, 0]), b), rtol=1e-10)


@pytest.mark.parametrize("lower,trans", [(True, False), (True, True), (False, False), (False, True)])
def test_batched_solve_triangular_gradcheck(lower, trans):
    T = _spd(2) + 0.0
    T = np.linalg.cholesky(T) if lower else np.swapaxes(np.linalg.cholesky(T), -1, -2)
    assert mv.gradcheck(lambda a, b: mv.linalg.solve_triangular(a, b, lower=lower, trans=trans), T, _r(2, 3, 2))
    assert mv.gradcheck(lambda a, b: mv.linalg.solve_triangular(a, b, lower=lower, trans=trans), T, _r(2, 3))
    assert mv.gradcheck(lambda a, b: mv.linalg.solve_triangular(a, b, lower=lower, trans=trans), T[0], _r(4, 3, 2))
    assert mv.gradcheck(lambda a, b: mv.linalg.solve_triangular(a, b, lower=lower, trans=trans), T, _r(3, 2))


def test_batched_cholesky_and_slogdet_gradcheck_first_and_second_order():
    A = _spd(2)
    sym = lambda a: (a + mv.swapaxes(a, -1, -2)) * 0.5  # noqa: E731 - a symmetric input
    assert mv.gradcheck(lambda a: mv.linalg.cholesky(sym(a)), A)
    assert mv.gradcheck(lambda a: mv.linalg.slogdet(a)[1], A)
    assert _second_order(lambda a: mv.linalg.cholesky(sym(a)), A)
    # log-det as 2 Σ log diag L, the chapters' idiom
    assert mv.gradcheck(lambda a: 2.0 * mv.sum(mv.log(mv.diagonal(mv.linalg.cholesky(sym(a)), axis1=-2, axis2=-1)), axis=-1), A)
    ld = 2.0 * mv.sum(mv.log(mv.diagonal(mv.linalg.cholesky(mv.tensor(A, dtype="float64")), axis1=-2, axis2=-1)), axis=-1)
    np.testing.assert_allclose(ld.numpy(), np.linalg.slogdet(A)[1], rtol=1e-12)


def test_batched_cholesky_gradient_matches_torch():
    torch = pytest.importorskip("torch")
    A, W = _spd(3), _r(3, 3, 3)
    a = mv.tensor(A, dtype="float64", requires_grad=True)
    (mv.linalg.cholesky(a) * mv.tensor(W, dtype="float64")).sum().backward()
    at = torch.tensor(A, requires_grad=True)
    (torch.linalg.cholesky(at) * torch.tensor(W)).sum().backward()
    g, gt = a.grad.numpy(), at.grad.numpy()
    # both give a symmetric gradient
    np.testing.assert_allclose(g, gt, rtol=1e-9, atol=1e-12)


# --- functional derivatives ----------------------------------------------------------------------------
def test_jacobian_hessian_value_and_grad():
    W = _r(3, 2)
    f = lambda x: mv.tanh(mv.tensor(W, dtype="float64") @ x)  # noqa: E731
    x0 = _r(2)
    J = mv.jacobian(f)(mv.tensor(x0, dtype="float64"))
    expected = (1 - np.tanh(W @ x0) ** 2)[:, None] * W
    np.testing.assert_allclose(J.numpy(), expected, rtol=1e-12)
    g = lambda x: (x**3).sum() + (x[0] * x[1])  # noqa: E731
    H = mv.hessian(g)(mv.tensor(x0, dtype="float64"))
    np.testing.assert_allclose(H.numpy(), np.diag(6 * x0) + np.array([[0, 1], [1, 0]]), rtol=1e-12)
    value, grad = mv.value_and_grad(g)(mv.tensor(x0, dtype="float64"))
    np.testing.assert_allclose(value.item(), (x0**3).sum() + x0[0] * x0[1])
    np.testing.assert_allclose(grad.numpy(), 3 * x0**2 + x0[::-1])
    Jm = mv.jacobian(lambda m: m * 2.0)(mv.tensor(np.ones((2, 2)), dtype="float64"))
    assert Jm.shape == (2, 2, 2, 2)
    assert mv.gradcheck(lambda x: mv.hessian(lambda u: (u**3).sum())(x), x0)


def test_jacobian_log_det_of_a_flow_like_map():
    """A planar-flow map's log|det J| from its full Jacobian agrees with the closed form."""
    u, w, b = _r(2), _r(2), 0.3
    ut, wt = mv.tensor(u, dtype="float64"), mv.tensor(w, dtype="float64")
    f = lambda z: z + ut * mv.tanh((wt * z).sum() + b)  # noqa: E731
    z0 = _r(2)
    J = mv.jacobian(f)(mv.tensor(z0, dtype="float64"))
    closed = np.log(abs(1 + (1 - np.tanh(w @ z0 + b) ** 2) * (u @ w)))
    np.testing.assert_allclose(mv.linalg.slogdet(J)[1].item(), closed, rtol=1e-12)


def test_retain_grad_keeps_a_non_leaf_gradient():
    x = mv.tensor([1.0, 2.0], requires_grad=True)
    h = (x * 3.0).retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), [6.0, 12.0])
    np.testing.assert_allclose(x.grad.numpy(), [18.0, 36.0])


# --- autograd's habits: negative axes, keepdims, 0-d inputs, broadcasting, second order -----------------
SWEEP = [
    ("sum neg axis keepdims", lambda x: mv.sum(x, axis=-1, keepdims=True), [(2, 3)]),
    ("sum tuple axes", lambda x: mv.sum(x, axis=(0, -1)), [(2, 3, 4)]),
    ("mean neg axis", lambda x: mv.mean(x, axis=-2), [(2, 3, 4)]),
    ("max neg axis", lambda x: mv.max(x, axis=-1), [(3, 4)]),
    ("min keepdims", lambda x: mv.min(x, axis=0, keepdims=True), [(3, 4)]),
    ("0-d exp", lambda x: mv.exp(x), [()]),
    ("0-d sum", lambda x: mv.sum(x * x), [()]),
    ("0-d logsumexp", lambda x: mv.logsumexp(x), [()]),
    ("logsumexp tuple neg", lambda x: mv.logsumexp(x, axis=(-1, 0), keepdims=True), [(2, 3, 4)]),
    ("softmax axis 0", lambda x: mv.softmax(x, axis=0), [(3, 4)]),
    ("log_softmax neg", lambda x: mv.log_softmax(x, axis=-2), [(3, 4)]),
    ("index newaxis ellipsis", lambda x: x[None, ..., 1], [(2, 3)]),
    ("index repeated", lambda x: x[[0, 0, 1]], [(3, 2)]),
    ("concatenate neg axis", lambda a, b: mv.concatenate([a, b], axis=-1), [(2, 3), (2, 1)]),
    ("stack neg axis", lambda a, b: mv.stack([a, b], axis=-1), [(2, 3), (2, 3)]),
    ("where broadcast", lambda a, b: mv.where(np.array([True, False, True]), a, b), [(2, 3), (1,)]),
    ("pow tensor exponent", lambda a, b: (a * a + 0.5) ** b, [(2, 3), (3,)]),
    ("number ** tensor", lambda b: 2.0 ** b, [(3,)]),
    ("div broadcast", lambda a, b: a / (b * b + 1.0), [(3, 1), (4,)]),
    ("matmul batch broadcast", lambda a, b: a @ b, [(2, 1, 3, 4), (3, 4, 2)]),
    ("matmul vec-mat", lambda a, b: a @ b, [(3,), (2, 3, 4)]),
    ("squeeze expand", lambda x: mv.expand_dims(mv.squeeze(x, axis=-2), 0), [(3, 1, 2)]),
    ("swapaxes neg", lambda x: mv.swapaxes(x, -1, 0), [(2, 3, 4)]),
    ("maximum broadcast", lambda a, b: mv.maximum(a, b), [(3, 4), (4,)]),
    ("log_ndtr", lambda x: mv.log_ndtr(x * 5.0), [(6,)]),
]


@pytest.mark.parametrize("name,f,shapes", SWEEP, ids=[c[0] for c in SWEEP])
def test_sweep_first_and_second_order(name, f, shapes):
    xs = [_r(*s) for s in shapes]
    assert mv.gradcheck(f, *xs)
    assert _second_order(f, *xs)
