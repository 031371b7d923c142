"""Beta, Dirichlet and Student-t (priors and posteriors for chapters 07-12) against scipy.stats."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import minivi as mv
from minivi.distributions import Beta, Dirichlet, Normal, StudentT, kl_divergence

N = 200_000


def t64(x, requires_grad=False):
    return mv.tensor(x, dtype="float64", requires_grad=requires_grad)


# ---------------------------------------------------------------------------------------
# Beta
# ---------------------------------------------------------------------------------------
A, B = np.array([0.3, 1.0, 2.5, 40.0]), np.array([0.7, 1.0, 6.0, 3.0])


def test_beta_log_prob_entropy_moments_match_scipy():
    rng = np.random.default_rng(0)
    d = Beta(t64(A), t64(B))
    y = np.concatenate([rng.uniform(1e-6, 1 - 1e-6, (50, 4)), [[1e-12, 1 - 1e-12, 0.5, 0.999]]])
    np.testing.assert_allclose(d.log_prob(y).numpy(), stats.beta.logpdf(y, A, B), rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(d.entropy().numpy(), stats.beta.entropy(A, B), rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(d.mean.numpy(), stats.beta.mean(A, B), rtol=1e-14)
    np.testing.assert_allclose(d.variance.numpy(), stats.beta.var(A, B), rtol=1e-13)


def test_beta_log_prob_is_stable_near_the_edges():
    """(β - 1) log(1 - y) by log1p: y = 1e-17 is exact, where log(1 - y) = log 1 = 0 would lose it."""
    d = Beta(t64([2.0]), t64([1e17]))
    np.testing.assert_allclose(d.log_prob(t64([1e-17])).numpy(), stats.beta.logpdf(1e-17, 2.0, 1e17), rtol=1e-9)


def test_beta_samples_have_the_right_moments_and_stay_inside():
    d = Beta(t64(A), t64(B))
    y = d.sample(np.random.default_rng(1), N).numpy()
    assert y.shape == (N, 4) and (y > 0).all() and (y < 1).all()
    se = np.sqrt(stats.beta.var(A, B) / N)
    assert np.all(np.abs(y.mean(0) - stats.beta.mean(A, B)) < 5 * se)
    y32 = Beta(0.05, 0.05).sample(np.random.default_rng(2), 10_000)  # float32 draws pile up at 0 and 1
    assert y32.dtype == np.float32 and np.isfinite(Beta(0.05, 0.05).log_prob(y32).numpy()).all()


def test_beta_gradients():
    rng = np.random.default_rng(3)
    y = rng.uniform(0.05, 0.95, 5)
    assert mv.gradcheck(lambda a, b: Beta(a, b).log_prob(y), rng.uniform(0.5, 4, 5), rng.uniform(0.5, 4, 5))
    assert mv.gradcheck(lambda a, b: Beta(a, b).entropy(), np.array([0.7, 3.0]), np.array([1.5, 0.4]))
    assert mv.gradcheck(lambda a, b: kl_divergence(Beta(a, b), Beta(2.0, 3.0)), np.array([0.7, 3.0]), np.array([1.5, 0.4]))


# ---------------------------------------------------------------------------------------
# Dirichlet
# ---------------------------------------------------------------------------------------
ALPHA = np.array([[0.5, 2.0, 3.0], [0.1, 0.2, 5.0], [10.0, 10.0, 10.0]])


def test_dirichlet_log_prob_entropy_moments_match_scipy():
    rng = np.random.default_rng(4)
    d = Dirichlet(t64(ALPHA))
    assert d.batch_shape == (3,) and d.n_components == 3
    y = rng.dirichlet([1.0, 1.0, 1.0], size=(7, 3))  # (7, 3 batch, 3 components)
    got = d.log_prob(y).numpy()
    assert got.shape == (7, 3)
    expected = np.array([[stats.dirichlet.logpdf(y[i, j], ALPHA[j]) for j in range(3)] for i in range(7)])
    np.testing.assert_allclose(got, expected, rtol=1e-11)
    np.testing.assert_allclose(d.entropy().numpy(), [stats.dirichlet.entropy(a) for a in ALPHA], rtol=1e-11)
    np.testing.assert_allclose(d.mean.numpy(), [stats.dirichlet.mean(a) for a in ALPHA], rtol=1e-14)
    np.testing.assert_allclose(d.variance.numpy(), [stats.dirichlet.var(a) for a in ALPHA], rtol=1e-13)


def test_dirichlet_samples_lie_on_the_simplex_with_the_right_moments():
    d = Dirichlet(t64(ALPHA))
    y = d.sample(np.random.default_rng(5), N).numpy()
    assert y.shape == (N, 3, 3) and (y > 0).all()
    np.testing.assert_allclose(y.sum(-1), 1.0, atol=1e-12)
    se = np.sqrt(d.variance.numpy() / N)
    assert np.all(np.abs(y.mean(0) - d.mean.numpy()) < 5 * se)
    tiny = Dirichlet(t64([1e-3, 1e-3, 1e-3]))  # Gamma(0.001) draws underflow; the log-space sampler does not
    draws = tiny.sample(np.random.default_rng(6), 1000)
    assert np.isfinite(tiny.log_prob(draws).numpy()).all()
    np.testing.assert_allclose(draws.numpy().max(-1).mean(), 1.0, atol=0.01)  # almost all mass on one corner


def test_dirichlet_gradients_and_checks():
    rng = np.random.default_rng(7)
    y = rng.dirichlet([2.0, 1.0, 3.0], size=4)
    assert mv.gradcheck(lambda a: Dirichlet(a).log_prob(y), rng.uniform(0.5, 3, (4, 3)))
    assert mv.gradcheck(lambda a: Dirichlet(a).entropy(), rng.uniform(0.5, 3, (2, 3)))
    assert mv.gradcheck(lambda a: kl_divergence(Dirichlet(a), Dirichlet([1.0, 2.0, 3.0])), rng.uniform(0.5, 3, (2, 3)))
    with pytest.raises(ValueError, match="sum to 1"):
        Dirichlet([1.0, 1.0]).log_prob([0.5, 0.6])
    with pytest.raises(ValueError, match="last axis of K = 3"):
        Dirichlet([1.0, 1.0, 1.0]).log_prob([0.5, 0.5])
    with pytest.raises(ValueError, match="K ≥ 2"):
        Dirichlet([1.0])
    with pytest.raises(ValueError, match="concentration must be positive"):
        Dirichlet([1.0, 0.0])


# ---------------------------------------------------------------------------------------
# Student-t
# ---------------------------------------------------------------------------------------
NU, LOC, SCALE = np.array([0.8, 1.5, 3.0, 30.0]), np.array([0.0, 1.0, -2.0, 0.5]), np.array([1.0, 2.0, 0.5, 3.0])


def test_studentt_log_prob_entropy_moments_match_scipy():
    rng = np.random.default_rng(8)
    d = StudentT(t64(NU), t64(LOC), t64(SCALE))
    y = np.concatenate([rng.standard_cauchy((50, 4)) * 3, [[1e8, -1e8, 1e-9, 0.0]]])
    np.testing.assert_allclose(d.log_prob(y).numpy(), stats.t.logpdf(y, NU, LOC, SCALE), rtol=1e-11)
    np.testing.assert_allclose(d.entropy().numpy(), stats.t.entropy(NU, LOC, SCALE), rtol=1e-11)
    mean = d.mean.numpy()
    assert np.isnan(mean[0]) and np.allclose(mean[1:], stats.t.mean(NU, LOC, SCALE)[1:], rtol=1e-14)
    np.testing.assert_allclose(d.variance.numpy()[1:], stats.t.var(NU, LOC, SCALE)[1:], rtol=1e-13)  # inf, then finite
    assert np.isnan(d.variance.numpy()[0])


def test_studentt_samples_and_rsample():
    d = StudentT(t64([5.0, 10.0]), t64([1.0, -1.0]), t64([2.0, 0.5]))
    y = d.sample(np.random.default_rng(9), N).numpy()
    se = np.sqrt(d.variance.numpy() / N)
    assert np.all(np.abs(y.mean(0) - d.mean.numpy()) < 5 * se)
    qs = np.quantile(y, [0.1, 0.5, 0.9], axis=0)
    np.testing.assert_allclose(qs, stats.t.ppf([[0.1], [0.5], [0.9]], [5.0, 10.0], [1.0, -1.0], [2.0, 0.5]), atol=0.03)

    def draw(loc, scale):
        return StudentT(4.0, loc, scale).rsample(np.random.default_rng(10), (6,))

    assert mv.gradcheck(draw, np.array([0.3, -0.4]), np.array([0.7, 1.5]))
    with pytest.raises(NotImplementedError, match="df requires a gradient"):
        StudentT(t64([3.0], requires_grad=True), 0.0, 1.0).rsample(np.random.default_rng(0))


def test_studentt_gradients_and_normal_limit():
    rng = np.random.default_rng(11)
    y = rng.normal(size=5) * 3
    assert mv.gradcheck(lambda nu, m, s: StudentT(nu, m, s).log_prob(y),
                        rng.uniform(0.5, 10, 5), rng.normal(size=5), rng.uniform(0.5, 2, 5))
    assert mv.gradcheck(lambda nu, s: StudentT(nu, 0.0, s).entropy(), np.array([0.7, 3.0]), np.array([1.5, 0.4]))
    lp = StudentT(t64(1e9), t64(0.3), t64(1.7)).log_prob(y).numpy()  # ν → ∞: the Normal
    np.testing.assert_allclose(lp, Normal(t64(0.3), t64(1.7)).log_prob(y).numpy(), rtol=1e-7)


# ---------------------------------------------------------------------------------------
# KL: closed forms against Monte Carlo and (Beta) numerical integration
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("p, q", [
    (Beta(t64([0.5, 3.0]), t64([2.0, 4.0])), Beta(t64([1.0, 2.0]), t64([1.0, 8.0]))),
    (Dirichlet(t64([[0.5, 2.0, 3.0], [4.0, 1.0, 1.0]])), Dirichlet(t64([[1.0, 1.0, 1.0], [2.0, 2.0, 0.5]]))),
], ids=["beta", "dirichlet"])
def test_kl_closed_form_matches_monte_carlo(p, q):
    y = p.sample(np.random.default_rng(12), N)
    ratio = (p.log_prob(y) - q.log_prob(y)).numpy()
    mc, se = ratio.mean(0), ratio.std(0) / np.sqrt(N)
    exact = kl_divergence(p, q).numpy()
    assert np.all(np.abs(mc - exact) < 5 * se), (mc, exact, se)
    np.testing.assert_allclose(kl_divergence(p, p).numpy(), 0.0, atol=1e-12)


def test_beta_kl_matches_quadrature():
    from scipy import integrate
    ap, bp, aq, bq = 0.7, 2.0, 3.0, 1.2
    f = lambda y: stats.beta.pdf(y, ap, bp) * (stats.beta.logpdf(y, ap, bp) - stats.beta.logpdf(y, aq, bq))  # noqa: E731
    exact = integrate.quad(f, 0, 1, limit=200, epsabs=1e-13)[0]
    np.testing.assert_allclose(kl_divergence(Beta(t64(ap), t64(bp)), Beta(t64(aq), t64(bq))).item(), exact, rtol=1e-8)


@pytest.mark.parametrize("make", [lambda: Beta(1.0, 1.0), lambda: Dirichlet([1.0, 2.0]), lambda: StudentT(3.0)])
def test_samplers_check_rng_first(make):
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator"):
        make().sample(None)


# ---------------------------------------------------------------------------------------
# log B(a, b) without cancellation (used by Beta, StudentT and the Beta KL)
# ---------------------------------------------------------------------------------------
def test_log_beta_is_accurate_for_huge_arguments():
    mpmath = pytest.importorskip("mpmath")
    from minivi.distributions.special import log_beta_fn
    mpmath.mp.dps = 40
    for a, b in [(2.0, 1e17), (0.5, 1e9), (0.5, 150.0), (0.5, 99.0), (3.0, 1e5), (1e5, 3.0), (1e6, 1e6), (0.01, 0.02)]:
        exact = float(mpmath.log(mpmath.beta(a, b)))
        got = log_beta_fn(t64(a), t64(b)).item()
        assert abs(got - exact) <= 1e-13 * abs(exact), (a, b, got, exact)  # naive gammaln: 100% off at b = 1e17


def test_log_beta_gradients_on_both_branches():
    from minivi.distributions.special import log_beta_fn
    assert mv.gradcheck(log_beta_fn, np.array([0.5, 3.0, 2.0, 250.0]), np.array([99.0, 101.0, 5e3, 0.7]), rtol=1e-6)


def test_float32_parameters_give_float32_everywhere():
    rng = np.random.default_rng(13)
    for d in (StudentT(mv.tensor([0.5, 1.5, 3.0]), 0.0, 1.0), Beta(mv.tensor([0.5, 2.0]), 1.0),
              Dirichlet(mv.tensor([[0.5, 2.0, 1.0]]))):
        y = d.sample(rng, 3)
        assert y.dtype == np.float32
        for out in (d.log_prob(y), d.entropy(), d.mean, d.variance):
            assert out.dtype == np.float32
    np.testing.assert_array_equal(StudentT(mv.tensor([0.5, 1.5, 3.0])).variance.numpy(), [np.nan, np.inf, 3.0])
