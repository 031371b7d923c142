"""The chapter-08 families (Logistic, Exponential, Gumbel, Kumaraswamy) against SciPy and PyTorch:
log-densities, moments, entropy, the inverse-CDF samplers (KS tests) and their reparameterised gradients."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

import minivi as mv
from minivi import estimators
from minivi.distributions import Exponential, Gumbel, Kumaraswamy, Logistic


def t64(x, requires_grad=False):
    return mv.tensor(x, dtype="float64", requires_grad=requires_grad)


class KumaraswamyScipy:
    """Kumaraswamy(a, b) through SciPy's Beta: Y^a ~ Beta(1, b), so p_Y(y) = Beta(1, b).pdf(y^a) · a y^(a-1)."""

    def __init__(self, a, b):
        self.a, self.b = a, b

    def logpdf(self, y):
        return stats.beta.logpdf(y**self.a, 1.0, self.b) + np.log(self.a) + (self.a - 1) * np.log(y)

    def cdf(self, y):
        return stats.beta.cdf(y**self.a, 1.0, self.b)

    def moment(self, n):
        return stats.beta(1.0, self.b).expect(lambda u: u ** (n / self.a))


def _families(rng, n=30):
    loc, scale = rng.normal(size=n), rng.uniform(0.3, 3.0, n)
    rate = rng.uniform(0.2, 5.0, n)
    a, b = rng.uniform(0.4, 4.0, n), rng.uniform(0.4, 4.0, n)
    return [
        ("logistic", Logistic(t64(loc), t64(scale)), stats.logistic(loc, scale), rng.normal(size=n) * 3),
        ("gumbel", Gumbel(t64(loc), t64(scale)), stats.gumbel_r(loc, scale), rng.normal(size=n) * 2),
        ("exponential", Exponential(t64(rate)), stats.expon(scale=1 / rate), rng.exponential(size=n)),
        ("kumaraswamy", Kumaraswamy(t64(a), t64(b)), KumaraswamyScipy(a, b), rng.uniform(0.01, 0.99, n)),
    ]


@pytest.mark.parametrize("i", range(4), ids=["logistic", "gumbel", "exponential", "kumaraswamy"])
def test_log_prob_and_cdf_match_scipy(i):
    name, dist, ref, y = _families(np.random.default_rng(0))[i]
    np.testing.assert_allclose(dist.log_prob(t64(y)).numpy(), ref.logpdf(y), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dist.cdf(t64(y)).numpy(), ref.cdf(y), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("i", range(3), ids=["logistic", "gumbel", "exponential"])
def test_moments_and_entropy_match_scipy(i):
    name, dist, ref, _ = _families(np.random.default_rng(1))[i]
    np.testing.assert_allclose(dist.mean.numpy(), ref.mean(), rtol=1e-10)
    np.testing.assert_allclose(dist.variance.numpy(), ref.var(), rtol=1e-10)
    np.testing.assert_allclose(dist.entropy().numpy(), ref.entropy(), rtol=1e-10, atol=1e-12)


def test_kumaraswamy_moments_and_entropy_by_quadrature():
    for a, b in [(0.5, 0.7), (2.0, 3.0), (5.0, 1.2)]:
        k, ref = Kumaraswamy(t64(a), t64(b)), KumaraswamyScipy(a, b)
        m1, m2 = ref.moment(1), ref.moment(2)
        assert k.mean.item() == pytest.approx(m1, rel=1e-7)
        assert k.variance.item() == pytest.approx(m2 - m1**2, rel=1e-6)
        h = integrate.quad(lambda y: -np.exp(ref.logpdf(y)) * ref.logpdf(y), 0, 1, limit=200)[0]
        assert k.entropy().item() == pytest.approx(h, rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("i", range(4), ids=["logistic", "gumbel", "exponential", "kumaraswamy"])
def test_inverse_cdf_samplers_pass_a_ks_test(i):
    rng = np.random.default_rng(2)
    dists = {
        0: (Logistic(t64(0.5), t64(2.0)), stats.logistic(0.5, 2.0).cdf),
        1: (Gumbel(t64(-1.0), t64(0.7)), stats.gumbel_r(-1.0, 0.7).cdf),
        2: (Exponential(t64(3.0)), stats.expon(scale=1 / 3.0).cdf),
        3: (Kumaraswamy(t64(0.6), t64(2.5)), KumaraswamyScipy(0.6, 2.5).cdf),
    }
    dist, cdf = dists[i]
    z = dist.rsample(rng, 20_000).numpy()
    assert stats.kstest(z, cdf).pvalue > 0.01
    assert np.all(np.isfinite(z))




@pytest.mark.parametrize("case", ["logistic", "gumbel", "exponential", "kumaraswamy"])
def test_pathwise_gradient_of_the_mean_is_unbiased(case):
    """E[∂z/∂θ] = ∂E[z]/∂θ: the reparameterised gradient of f(z) = z against finite differences of SciPy's mean."""
    params = {"logistic": (0.3, 1.7), "gumbel": (0.3, 1.7), "exponential": (2.5,), "kumaraswamy": (1.5, 2.5)}[case]

    def scipy_mean(p):
        if case == "logistic":
            return stats.logistic(*p).mean()
        if case == "gumbel":
            return stats.gumbel_r(*p).mean()
        if case == "exponential":
            return stats.expon(scale=1 / p[0]).mean()
        return KumaraswamyScipy(*p).moment(1)

    cls = {"logistic": Logistic, "gumbel": Gumbel, "exponential": Exponential, "kumaraswamy": Kumaraswamy}[case]
    q = cls(*[t64(p, requires_grad=True) for p in params])
    g = estimators.grad_samples(lambda z: z * 1.0, q, 100_000, np.random.default_rng(3), method="pathwise")
    for j, name in enumerate(estimators.parameters_of(q)):
        h = 1e-5
        up, down = list(params), list(params)
        up[j] += h
        down[j] -= h
        exact = (scipy_mean(up) - scipy_mean(down)) / (2 * h)
        est, se = g[name].mean(), g[name].std() / np.sqrt(len(g[name]))
        assert abs(est - exact) < 4 * se + 1e-6, (name, est, exact, se)


def test_validation_errors_say_what_is_wrong():
    with pytest.raises(ValueError, match="scale must be positive"):
        Logistic(0.0, -1.0)
    with pytest.raises(ValueError, match="rate must be positive"):
        Exponential(0.0)
    with pytest.raises(ValueError, match="≥ 0"):
        Exponential(1.0).log_prob(-0.5)
    with pytest.raises(ValueError, match=r"inside \(0, 1\)"):
        Kumaraswamy(1.0, 2.0).log_prob(1.0)
    with pytest.raises(ValueError, match="b must be positive"):
        Kumaraswamy(1.0, 0.0)


def test_log_prob_and_gradients_match_torch():
    torch = pytest.importorskip("torch")
    td = torch.distributions
    rng = np.random.default_rng(4)
    y01, yr, yp = rng.uniform(0.05, 0.95, 7), rng.normal(size=7), rng.exponential(size=7)
    cases = [
        (Gumbel, td.Gumbel, (0.4, 1.3), yr),
        (Exponential, td.Exponential, (1.7,), yp),
        (Kumaraswamy, td.Kumaraswamy, (0.8, 2.2), y01),
    ]
    for ours, theirs, params, y in cases:
        mp = [t64(p, requires_grad=True) for p in params]
        tp = [torch.tensor(p, dtype=torch.float64, requires_grad=True) for p in params]
        lp = ours(*mp).log_prob(t64(y))
        tl = theirs(*tp).log_prob(torch.tensor(y))
        np.testing.assert_allclose(lp.numpy(), tl.detach().numpy(), rtol=1e-10)
        lp.sum().backward()
        tl.sum().backward()
        for a, b in zip(mp, tp):
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9)
