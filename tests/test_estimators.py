"""minivi.estimators against exact answers: Gauss–Hermite variances, closed-form gradients (z-tests),
the optimal baseline's formula, and per-sample gradients equal to a loop of single backward passes."""
from __future__ import annotations

import time

import numpy as np
import pytest
from numpy.polynomial.hermite_e import hermegauss
from scipy import special

import minivi as mv
from minivi import estimators
from minivi.distributions import (Bernoulli, Categorical, Exponential, Gumbel, Kumaraswamy, Laplace, Logistic, Normal,
                                  OrderedLogistic)


def t64(x, requires_grad=True):
    return mv.tensor(x, dtype="float64", requires_grad=requires_grad)


def expect(h, deg=80):
    """E[h(ε)], ε ~ N(0, 1), by Gauss–Hermite quadrature (probabilists' weights e^{-x²/2})."""
    x, w = hermegauss(deg)
    return float(np.sum(w * h(x)) / np.sqrt(2 * np.pi))


def exact_variances(f, mu=1.0, sigma=1.0):
    """Per-sample variances of the estimators of ∇_{μ,σ} E_{N(μ,σ²)}[f], by quadrature (f a polynomial here)."""
    z = lambda e: mu + sigma * e                                      # noqa: E731
    fp = lambda e: 2 * (z(e) - 1.0)                                   # f'(z) for f = (z - 1)²  # noqa: E731
    s_mu, s_sig = (lambda e: e / sigma), (lambda e: (e**2 - 1) / sigma)  # scores ∂ log q
    var = lambda g: expect(lambda e: g(e) ** 2) - expect(g) ** 2     # noqa: E731
    out = {"pathwise": (var(fp), var(lambda e: fp(e) * e))}
    out["score"] = (var(lambda e: f(z(e)) * s_mu(e)), var(lambda e: f(z(e)) * s_sig(e)))
    opt = []
    for s in (s_mu, s_sig):
        c = expect(lambda e: f(z(e)) * s(e) ** 2) / expect(lambda e: s(e) ** 2)   # c* = E[f s²]/E[s²]
        opt.append(var(lambda e: (f(z(e)) - c) * s(e)))
    out["optimal"] = tuple(opt)
    return out


def test_quadrature_reproduces_the_chapter_reference_numbers():
    v = exact_variances(lambda z: (z - 1.0) ** 2)
    assert v["pathwise"] == pytest.approx((4, 8), abs=1e-9)
    assert v["score"] == pytest.approx((15, 74), abs=1e-9)
    assert v["optimal"] == pytest.approx((6, 24), abs=1e-9)


@pytest.mark.parametrize("method, baseline, key", [("pathwise", None, "pathwise"), ("score", None, "score"),
                                                   ("score", "optimal", "optimal")])
def test_monte_carlo_variances_match_quadrature_at_200k(method, baseline, key):
    """Within 5%, or within 4 standard errors of the variance estimate where that is larger: the score
    function's σ-estimate has heavy tails (its own relative standard error at n = 200,000 is about 4%)."""
    f = lambda z: (z - 1.0) ** 2                                        # noqa: E731
    exact = exact_variances(f)[key]
    q = Normal(t64(1.0), t64(1.0))
    g = estimators.grad_samples(f, q, 200_000, np.random.default_rng(11), method=method, baseline=baseline)
    for name, v in zip(("loc", "scale"), exact):
        d = g[name] - g[name].mean()
        se = np.std(d**2) / np.sqrt(len(d))
        assert abs(d.var() - v) <= max(0.05 * v, 4 * se), (name, d.var(), v, se)


def _cases():
    """(label, q, f, method, baseline, exact gradient {name: value}) with closed-form gradients."""
    lam = 1.7
    p = special.expit(np.array([0.4, -1.2]))
    logits = np.array([0.2, -0.5, 1.0])
    pi = special.softmax(logits)
    vals = np.array([1.0, -2.0, 3.0])
    return [
        # E (z - k)² = σ² + (μ - k)²   ->  ∂μ = 2(μ - k), ∂σ = 2σ
        *[("normal", lambda: Normal(t64(1.0), t64(1.0)), lambda z: (z - 3.0) ** 2, m, b,
           {"loc": -4.0, "scale": 2.0}) for m, b in [("pathwise", None), ("score", None), ("score", 0.5),
                                                       ("score", "mean"), ("score", "optimal")]],
        # Laplace: E z² = 2b² + μ²
        ("laplace", lambda: Laplace(t64(0.5), t64(2.0)), lambda z: z * z, "pathwise", None, {"loc": 1.0, "scale": 8.0}),
        # Exponential: E z² = 2/λ²  ->  -4/λ³
        *[("exponential", lambda: Exponential(t64(lam)), lambda z: z * z, m, None, {"rate": -4 / lam**3})
          for m in ("pathwise", "score")],
        # Logistic: E z² = μ² + s²π²/3; Gumbel: E z = μ + γβ
        ("logistic", lambda: Logistic(t64(0.3), t64(0.8)), lambda z: z * z, "score", "optimal",
         {"loc": 0.6, "scale": 2 * 0.8 * np.pi**2 / 3}),
        ("gumbel", lambda: Gumbel(t64(0.3), t64(0.8)), lambda z: z * 1.0, "pathwise", None,
         {"loc": 1.0, "scale": np.euler_gamma}),
        # Bernoulli(logits η): ∂η E f(z) = (f(1) - f(0)) p (1 - p)
        *[("bernoulli", lambda: Bernoulli(logits=t64([0.4, -1.2])), lambda z: 2.0 * z - 1.0, "score", b,
           {"logits": 2.0 * p * (1 - p)}) for b in (None, "mean", "optimal")],
        # Categorical: ∂η_k E v_z = π_k (v_k - Σ_j π_j v_j)
        ("categorical", lambda: Categorical(logits=t64(logits)), lambda z: mv.tensor(vals[z.numpy().astype(int)]),
         "score", "mean", {"logits": pi * (vals - pi @ vals)}),
    ]


@pytest.mark.parametrize("case", _cases(), ids=lambda c: f"{c[0]}-{c[3]}-{c[4]}")
def test_every_estimator_is_unbiased(case):
    """z-test over R = 100 independent runs of n = 1,000 samples (runs, not samples: with a leave-one-out
    baseline the n estimates of one run share their baselines, so only whole runs are independent)."""
    label, make_q, f, method, baseline, exact = case
    rng = np.random.default_rng(5)
    runs = [estimators.grad_samples(f, make_q(), 1000, rng, method=method, baseline=baseline) for _ in range(100)]
    assert set(runs[0]) == set(exact)
    for name, value in exact.items():
        means = np.stack([r[name].mean(axis=0) for r in runs])
        est, se = means.mean(axis=0), means.std(axis=0, ddof=1) / np.sqrt(len(means))
        assert np.all(np.abs(est - np.asarray(value)) <= 4 * se + 1e-12), (name, est, value, se)


def test_batch_mean_baseline_is_biased_by_one_minus_one_over_k_and_leave_one_out_is_not():
    """With K = 4 samples, the same-sample mean shrinks the gradient to 3/4 of it; leave-one-out does not.
    20,000 independent experiments at once: a batch of 20,000 Normals, K = 4 samples of each."""
    f = lambda z: (z - 3.0) ** 2                                        # noqa: E731  ∂μ E f = -4 at μ = 1
    m = 20_000
    for loo, target in [(False, -4.0 * 3 / 4), (True, -4.0)]:
        q = Normal(t64(np.ones(m)), t64(np.ones(m)))
        g = estimators.grad_samples(f, q, 4, np.random.default_rng(6), "score", "mean", leave_one_out=loo)["loc"]
        per_experiment = g.mean(axis=0)                                 # (m,) independent K-sample estimates
        se = per_experiment.std() / np.sqrt(m)
        assert abs(per_experiment.mean() - target) < 4 * se, (loo, per_experiment.mean(), target)
    assert abs(-4.0 * 3 / 4 - -4.0) > 10 * se                          # the test can tell the two apart


def test_optimal_constant_matches_its_formula_and_minimises_the_variance():
    """c* = E[f s²] / E[s²]: 3 (μ) and 5 (σ) for f = (z-1)², q = N(1, 1) (quadrature: E ε⁴ / 1 and 10 / 2)."""
    f = lambda z: (z - 1.0) ** 2                                        # noqa: E731
    rng = np.random.default_rng(7)
    q = Normal(t64(1.0), t64(1.0))
    fs = estimators.grad_samples(f, q, 400_000, rng, method="score")
    q = Normal(t64(1.0), t64(1.0))
    s = estimators.grad_samples(lambda z: z * 0 + 1.0, q, 400_000, np.random.default_rng(7), method="score")
    c_exact = {"loc": expect(lambda e: e**2 * e**2), "scale": expect(lambda e: e**2 * (e**2 - 1) ** 2) / 2.0}
    assert c_exact == pytest.approx({"loc": 3.0, "scale": 5.0})
    for name in ("loc", "scale"):
        c = estimators.optimal_coefficient(fs[name], s[name], leave_one_out=False)[0]
        assert c == pytest.approx(c_exact[name], rel=0.03)
        # Var[(f - c) s] is a parabola in c with its minimum at c*
        v = [np.var(fs[name] - cc * s[name]) for cc in (c - 1.0, c, c + 1.0)]
        assert v[1] < v[0] and v[1] < v[2]


def test_baselines_reduce_the_variance_where_theory_says():
    """Var[(f - c)s] = Var[fs] - 2c E[f s²] + c² E[s²]: for c = 0.5, 12.25 (μ) and 64.5 (σ); c* gives 6 and 24."""
    f = lambda z: (z - 1.0) ** 2                                        # noqa: E731
    out = {}
    for b in (None, 0.5, "optimal"):
        g = estimators.grad_samples(f, Normal(t64(1.0), t64(1.0)), 200_000, np.random.default_rng(8), "score", b)
        out[b] = {k: v.var() for k, v in g.items()}
    assert out[0.5]["loc"] == pytest.approx(15 - 2 * 0.5 * 3 + 0.25, rel=0.05)
    assert out[0.5]["scale"] == pytest.approx(74 - 2 * 0.5 * 10 + 0.25 * 2, rel=0.08)
    for k in ("loc", "scale"):
        assert out["optimal"][k] < out[0.5][k] < out[None][k]


def test_moving_average_uses_only_earlier_steps():
    ma = estimators.MovingAverage(decay=0.5)
    assert ma.value == 0.0
    ma.update([2.0, 4.0])
    assert ma.value == 3.0
    ma.update(5.0)
    assert ma.value == pytest.approx(4.0)
    with pytest.raises(ValueError, match="decay"):
        estimators.MovingAverage(1.0)


FAMILIES = [
    lambda: Normal(t64([1.0, 0.5, -1.0]), t64([1.0, 2.0, 0.3])),
    lambda: Normal(t64(0.2), t64([1.0, 2.0])),                           # a shared loc over a batch of 2
    lambda: Logistic(t64([0.2]), t64([1.5])),
    lambda: Gumbel(t64(0.2), t64(1.5)),
    lambda: Exponential(t64([2.0, 0.5])),
    lambda: Kumaraswamy(t64(2.0), t64(3.0)),
]


@pytest.mark.parametrize("make_q", FAMILIES, ids=["normal", "normal-shared", "logistic", "gumbel", "exponential",
                                                  "kumaraswamy"])
@pytest.mark.parametrize("method", ["pathwise", "score"])
def test_vectorised_per_sample_gradients_equal_a_loop_of_backward_passes(make_q, method):
    f = lambda z: mv.sin(3.0 * z) + z * z                                # noqa: E731
    a = estimators.grad_samples(f, make_q(), 64, np.random.default_rng(9), method=method)
    b = estimators.loop_grad_samples(f, make_q(), 64, np.random.default_rng(9), method=method)
    assert set(a) == set(b)
    for k in a:
        assert a[k].shape == b[k].shape
        np.testing.assert_allclose(a[k], b[k], rtol=0, atol=1e-10)


def test_discrete_per_sample_gradients_equal_a_loop():
    f = lambda z: 2.0 * z + 1.0                                          # noqa: E731
    a = estimators.grad_samples(f, Bernoulli(logits=t64([0.3, 2.0])), 64, np.random.default_rng(9), "score")
    b = estimators.loop_grad_samples(f, Bernoulli(logits=t64([0.3, 2.0])), 64, np.random.default_rng(9), "score")
    np.testing.assert_allclose(a["logits"], b["logits"], rtol=0, atol=1e-10)


def test_one_vectorised_pass_is_faster_than_a_loop():
    f = lambda z: mv.sin(3.0 * z) + z * z                                # noqa: E731
    q = Normal(t64(np.zeros(10)), t64(np.ones(10)))
    n = 300
    t0 = time.perf_counter()
    estimators.grad_samples(f, q, n, np.random.default_rng(0))
    t1 = time.perf_counter()
    estimators.loop_grad_samples(f, q, n, np.random.default_rng(0))
    t2 = time.perf_counter()
    assert (t2 - t1) > 5 * (t1 - t0), f"vectorised {t1 - t0:.4f}s vs loop {t2 - t1:.4f}s"


def test_parameters_computed_from_others_are_still_parameters():
    """Normal(2 s, s): loc and scale are both parameters (gradients w.r.t. each, as the distribution sees them);
    Bernoulli(probs=p) differentiates probs, not the logits it derives from it."""
    s = t64(1.5)
    q = Normal(2.0 * s, s)
    assert set(estimators.parameters_of(q)) == {"loc", "scale"}
    g = estimators.grad_samples(lambda z: z * 1.0, q, 10, np.random.default_rng(0))
    np.testing.assert_allclose(g["loc"], 1.0)
    p = t64([0.3, 0.6])
    g = estimators.grad_samples(lambda z: 2.0 * z, Bernoulli(probs=p), 50_000, np.random.default_rng(1), "score")
    np.testing.assert_allclose(g["probs"].mean(0), [2.0, 2.0], atol=0.06)          # d/dp E[2z] = 2


def test_bad_input_gets_a_clear_error():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="method='score'"):
        estimators.grad_samples(lambda z: z, Bernoulli(logits=t64([0.1])), 10, rng, method="pathwise")
    with pytest.raises(ValueError, match="one value per sample"):
        estimators.grad_samples(lambda z: z.mean(axis=0), Normal(t64([0.0]), t64([1.0])), 10, rng)
    with pytest.raises(TypeError, match="minivi operations"):
        estimators.grad_samples(lambda z: np.sin(z.numpy()), Normal(t64(0.0), t64(1.0)), 10, rng)
    with pytest.raises(ValueError, match="'mean' or 'optimal'"):
        estimators.grad_samples(lambda z: z, Normal(t64(0.0), t64(1.0)), 10, rng, "score", baseline="median")
    with pytest.raises(ValueError, match="requires a gradient"):
        estimators.grad_samples(lambda z: z, Normal(0.0, 1.0), 10, rng)
    with pytest.raises(ValueError, match="method must be"):
        estimators.grad_samples(lambda z: z, Normal(t64(0.0), t64(1.0)), 10, rng, method="reinforce")
    with pytest.raises(ValueError, match="loop_grad_samples"):             # cut points have an event axis
        estimators.grad_samples(lambda z: z * 1.0, OrderedLogistic(t64([0.1, 0.2, 0.3]), t64([-1.0, 1.0])), 5, rng, "score")
    with pytest.raises(ValueError, match="at least 2"):
        estimators.grad_samples(lambda z: z, Normal(t64(0.0), t64(1.0)), 1, rng, "score", "mean")


def test_pathwise_matches_torch_rsample_gradients():
    """The same noise through torch's Normal.rsample: identical per-sample gradients."""
    torch = pytest.importorskip("torch")
    n = 50
    eps = np.random.default_rng(10).standard_normal((n, 3))
    loc, scale = np.array([0.5, -1.0, 2.0]), np.array([1.0, 0.5, 2.0])
    g = estimators.grad_samples(lambda z: mv.sin(z) * z, Normal(t64(loc), t64(scale)), n,
                                np.random.default_rng(10))
    for i in range(n):
        tl = torch.tensor(loc, requires_grad=True)
        ts = torch.tensor(scale, requires_grad=True)
        z = tl + ts * torch.tensor(eps[i])
        (torch.sin(z) * z).sum().backward()
        np.testing.assert_allclose(g["loc"][i], tl.grad.numpy(), rtol=1e-12)
        np.testing.assert_allclose(g["scale"][i], ts.grad.numpy(), rtol=1e-12)
