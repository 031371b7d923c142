"""The stable functions stay finite and correct at extreme inputs (±1e4), in float32."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.special as sp

import minivi as mv

X = np.array([-1e4, -50.0, -1.0, 0.0, 1.0, 50.0, 1e4])


def value_and_grad(fn, x):
    t = mv.tensor(x, requires_grad=True)
    y = fn(t)
    y.sum().backward()
    return y.numpy(), t.grad.numpy()


@pytest.mark.parametrize("name, ref_value, ref_grad", [
    ("softplus", lambda x: np.logaddexp(0, x), sp.expit),
    ("log_sigmoid", lambda x: -np.logaddexp(0, -x), lambda x: sp.expit(-x)),
    ("sigmoid", sp.expit, lambda x: sp.expit(x) * sp.expit(-x)),
    ("log_ndtr", sp.log_ndtr, None),
])
def test_elementwise_extremes(name, ref_value, ref_grad):
    y, g = value_and_grad(getattr(mv, name), X)
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(g)), (name, y, g)
    np.testing.assert_allclose(y, ref_value(X).astype(np.float32), rtol=1e-6, atol=1e-30)
    if ref_grad is not None:
        np.testing.assert_allclose(g, ref_grad(X), rtol=1e-5, atol=1e-30)


def test_log_ndtr_gradient_in_the_far_left_tail():
    """d/dx log Φ(x) = φ(x)/Φ(x) ≈ -x for x → -∞; a naive exp(log φ - log Φ) in float32 is off by 10x."""
    _, g = value_and_grad(mv.log_ndtr, X)
    assert g[0] == pytest.approx(1e4, rel=1e-6)
    assert g[1] == pytest.approx(50.0199, rel=1e-4)
    assert g[-1] == 0.0


def test_logsumexp_and_log_softmax_extremes():
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]], dtype=np.float32)
    y, g = value_and_grad(lambda t: mv.logsumexp(t, axis=1), x)
    np.testing.assert_allclose(y, [1e4, -1e4 + np.log(3)], rtol=1e-7)
    np.testing.assert_allclose(g, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]], atol=1e-7)
    y, g = value_and_grad(lambda t: mv.log_softmax(t, axis=1), x)
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(g))
    np.testing.assert_allclose(y[0], [0.0, -2e4, -1e4])
    s = mv.softmax(mv.tensor(x), axis=1).numpy()
    np.testing.assert_allclose(s.sum(axis=1), 1.0, rtol=1e-6)


def test_bernoulli_nll_from_logits_is_finite_where_log_sigmoid_is_not():
    logits = mv.tensor([1e4, -1e4], requires_grad=True)
    nll = -(mv.log_sigmoid(logits) * mv.tensor([0.0, 1.0]) + mv.log_sigmoid(-logits) * mv.tensor([1.0, 0.0])).sum()
    nll.backward()
    assert nll.item() == pytest.approx(2e4)
    np.testing.assert_allclose(logits.grad.numpy(), [1.0, -1.0])
    with np.errstate(divide="ignore"):
        naive = mv.log(mv.sigmoid(mv.tensor([-1e4]))).item()
    assert not np.isfinite(naive)  # the reason the stable forms exist


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softplus_fast_path_is_within_a_few_ulp_everywhere(dtype):
    # NumPy's softplus avoids log1p (a scalar loop) with log(u)·e/(u − 1); compare with long-double logaddexp
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(size=20000) * 10, rng.normal(size=20000) * 1e-3,
                        [-700.0, -80.0, -30.0, -1e-30, 0.0, 1e-30, 17.0, 40.0, 700.0]]).astype(dtype)
    exact = np.logaddexp(0, x.astype(np.longdouble))
    got = mv.softplus(mv.tensor(x, dtype=dtype)).numpy()
    assert got.dtype == dtype
    tiny = np.finfo(dtype).tiny
    ulps = np.abs(got - exact) / np.maximum(np.abs(exact), tiny) / np.finfo(dtype).eps
    ulps = ulps[np.abs(exact) > tiny]                      # below the smallest normal both are 0
    assert ulps.max() < 4, f"softplus is {ulps.max():.1f} ulp off at x = {x[np.argmax(ulps)]}"
    assert float(mv.softplus(mv.tensor(np.asarray(3.0, dtype=dtype))).numpy()) == pytest.approx(np.logaddexp(0, 3.0))
