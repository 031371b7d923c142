"""Latent variable models: PPCA, factor analysis and exponential-family PCA (minivi.models.lvm)."""
import numpy as np
import pytest
from scipy import stats
from scipy.stats import multivariate_normal

import minivi as mv
from minivi.models.lvm import BXPCA, PPCA, FactorAnalysis, choose_k

D, K, N = 6, 2, 400


@pytest.fixture
def f64():
    with mv.default_dtype("float64"):
        yield


def gaussian_data(seed=0, n=N, noise=None):
    """y = W z + μ + ε with diagonal noise (isotropic when noise is a number)."""
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((D, K))
    psi = rng.uniform(0.1, 1.0, D) if noise is None else np.full(D, noise)
    return rng.standard_normal((n, K)) @ W.T + np.sqrt(psi) * rng.standard_normal((n, D)) + rng.standard_normal(D)


def covariance(W, noise_var):
    return W @ W.T + np.diag(np.broadcast_to(noise_var, (W.shape[0],)))


# --- PPCA ---------------------------------------------------------------------------------
def test_ppca_log_marginal_equals_scipy(f64):
    m = PPCA(D, K, rng=np.random.default_rng(1), init_scale=1.0)
    m.mu.data[:] = np.arange(D) / D
    m.log_sigma2.data[...] = np.log(0.3)
    Y = gaussian_data()
    C = covariance(m.W.numpy(), 0.3)
    np.testing.assert_allclose(m.log_marginal(Y).numpy(), multivariate_normal(m.mu.numpy(), C).logpdf(Y), rtol=1e-10)


def test_ppca_closed_form_attains_known_maximum_and_is_stationary(f64):
    Y = gaussian_data(noise=0.25)
    m = PPCA(D, K).fit_closed_form(Y)
    lam = np.sort(np.linalg.eigvalsh(np.cov(Y.T, bias=True)))[::-1]
    sigma2 = lam[K:].mean()
    # Tipping & Bishop: max (1/n) log-lik = −½ [d log 2π + Σ_{j≤k} log λ_j + (d − k) log σ² + d]
    known = -0.5 * (D * np.log(2 * np.pi) + np.log(lam[:K]).sum() + (D - K) * np.log(sigma2) + D)
    value = m.log_marginal(Y).mean()
    assert value.item() == pytest.approx(known, rel=1e-12)
    assert m.sigma2.item() == pytest.approx(sigma2, rel=1e-12)
    value.backward()
    for p in m.parameters():
        assert np.abs(p.grad.numpy()).max() < 1e-10


def test_ppca_gradient_fit_reaches_the_closed_form_maximum(f64):
    Y = gaussian_data(noise=0.25)
    best = PPCA(D, K).fit_closed_form(Y).log_marginal(Y).mean().item()
    trace = PPCA(D, K, rng=np.random.default_rng(1)).fit_gradient(Y, steps=600, lr=0.2)
    assert trace[-1] <= best + 1e-12
    assert abs(trace[-1] - best) < 1e-6 * abs(best)


def test_ppca_posterior_equals_conditioning_the_joint(f64):
    m = PPCA(D, K, rng=np.random.default_rng(2), init_scale=1.0)
    m.mu.data[:] = 0.5
    m.log_sigma2.data[...] = np.log(0.2)
    Y = gaussian_data()[:5]
    W, mu = m.W.numpy(), m.mu.numpy()
    C = covariance(W, 0.2)                       # joint of (z, y): Cov z = I, Cov(z, y) = Wᵀ, Cov y = C
    mean, cov = m.posterior(Y)
    np.testing.assert_allclose(mean.numpy(), (W.T @ np.linalg.solve(C, (Y - mu).T)).T, atol=1e-12)
    np.testing.assert_allclose(cov.numpy(), np.eye(K) - W.T @ np.linalg.solve(C, W), atol=1e-12)


def test_ppca_conditional_equals_joint_gaussian_conditioning(f64):
    rng = np.random.default_rng(3)
    m = PPCA(D, K, rng=rng, init_scale=1.0)
    m.mu.data[:] = rng.standard_normal(D)
    m.log_sigma2.data[...] = np.log(0.3)
    W, mu, C = m.W.numpy(), m.mu.numpy(), covariance(m.W.numpy(), 0.3)
    Y = gaussian_data()[:4]
    observed = rng.random(Y.shape) < 0.5
    observed[0] = True                               # a fully observed row
    observed[1, :] = False                           # and a fully missing one
    mean, var = m.conditional(np.where(observed, Y, np.nan), observed)
    for y, o, mn, v in zip(Y, observed, mean.numpy(), var.numpy()):
        mis = ~o
        gain = C[np.ix_(mis, o)] @ np.linalg.inv(C[np.ix_(o, o)])
        np.testing.assert_allclose(mn[mis], mu[mis] + gain @ (y[o] - mu[o]), atol=1e-10)
        cov = C[np.ix_(mis, mis)] - gain @ C[np.ix_(o, mis)]
        np.testing.assert_allclose(v[mis], np.diag(cov), atol=1e-10)
        np.testing.assert_array_equal(mn[o], y[o])
        np.testing.assert_array_equal(v[o], 0.0)


def test_ppca_sample_has_the_model_covariance(f64):
    m = PPCA(D, K, rng=np.random.default_rng(4), init_scale=1.0)
    Y, Z = m.sample(20000, rng=np.random.default_rng(5), return_latents=True)
    assert Y.shape == (20000, D) and Z.shape == (20000, K)
    np.testing.assert_allclose(np.cov(Y.numpy().T), covariance(m.W.numpy(), 1.0), atol=0.1)


def test_choose_k_prefers_the_true_dimension(f64):
    Y = gaussian_data(n=600, noise=0.05)
    scores = choose_k(Y[:400], Y[400:], [1, 2, 3])
    assert max(scores, key=scores.get) in (2, 3) and scores[2] > scores[1] + 0.5


def test_ppca_gradcheck(f64):
    m = PPCA(4, 2, rng=np.random.default_rng(6), init_scale=1.0)
    Y = np.random.default_rng(7).standard_normal((5, 4))

    def f(W, mu, log_sigma2):
        m.W, m.mu, m.log_sigma2 = W, mu, log_sigma2
        return m.log_marginal(Y)

    assert mv.gradcheck(f, m.W, m.mu + 0.3, m.log_sigma2 - 0.5)


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="0 < k < d"):
        PPCA(3, 3)
    with pytest.raises(ValueError, match=r"shape \(n, 6\)"):
        PPCA(6, 2).log_marginal(np.zeros((4, 5)))
    with pytest.raises(ValueError, match="subspace"):
        PPCA(4, 2).fit_closed_form(np.random.default_rng(0).standard_normal((10, 2)) @ np.ones((2, 4)))
    with pytest.raises(ValueError, match="likelihood must be"):
        BXPCA(4, 2, likelihood="gaussian")


# --- factor analysis -------------------------------------------------------------------------
def test_fa_log_marginal_equals_scipy(f64):
    rng = np.random.default_rng(8)
    m = FactorAnalysis(D, K, rng=rng, init_scale=1.0)
    m.log_psi.data[:] = np.log(rng.uniform(0.1, 1.0, D))
    m.mu.data[:] = rng.standard_normal(D)
    Y = gaussian_data()
    C = covariance(m.W.numpy(), m.psi.numpy())
    np.testing.assert_allclose(m.log_marginal(Y).numpy(), multivariate_normal(m.mu.numpy(), C).logpdf(Y), rtol=1e-10)


def test_fa_em_increases_the_likelihood_and_agrees_with_gradient_ascent(f64):
    Y = gaussian_data()
    em = FactorAnalysis(D, K, rng=np.random.default_rng(9))
    trace = np.array(em.fit_em(Y, steps=200))
    assert len(trace) == 201
    assert np.all(np.diff(trace) >= -1e-12), "EM decreased the log-likelihood"
    assert trace[-1] > trace[0] + 1.0
    gd = FactorAnalysis(D, K, rng=np.random.default_rng(9)).fit_gradient(Y, steps=1000, lr=0.2)
    assert abs(gd[-1] - trace[-1]) < 1e-4 * abs(trace[-1])


def test_fa_estep_moments(f64):
    m = FactorAnalysis(D, K, rng=np.random.default_rng(10), init_scale=1.0)
    Y = gaussian_data()[:6]
    Ez, G = m.em_step(Y)                          # the moments are computed with μ = ȳ before W, Ψ change
    assert Ez.shape == (6, K) and G.shape == (K, K)
    np.testing.assert_allclose(G.numpy(), G.numpy().T, atol=1e-12)
    assert np.all(np.linalg.eigvalsh(G.numpy()) > 0)


def test_fa_gradcheck(f64):
    m = FactorAnalysis(4, 2, rng=np.random.default_rng(11), init_scale=1.0)
    Y = np.random.default_rng(12).standard_normal((5, 4))

    def f(W, mu, log_psi):
        m.W, m.mu, m.log_psi = W, mu, log_psi
        return m.log_marginal(Y)

    assert mv.gradcheck(f, m.W, m.mu - 0.2, mv.tensor(np.linspace(-1, 0.5, 4)))


# --- exponential-family PCA ----------------------------------------------------------------------
def planted(likelihood, seed=0, n=200, d=30, k=2):
    """Data with a rank-2 structure in the natural parameters: η = Z Wᵀ + b."""
    rng = np.random.default_rng(seed)
    scale, offset = (2.5, 0.0) if likelihood == "bernoulli" else (0.6, 0.5)
    eta = rng.standard_normal((n, k)) @ (scale * rng.standard_normal((d, k))).T + offset
    Y = (rng.random((n, d)) < 1 / (1 + np.exp(-eta))) if likelihood == "bernoulli" else rng.poisson(np.exp(eta))
    return Y.astype(float), rng.random((n, d)) > 0.2       # data, and 80% of entries observed


def test_bxpca_bernoulli_predicts_held_out_entries():
    Y, observed = planted("bernoulli")
    m = BXPCA(30, 2, rng=np.random.default_rng(1))
    trace = m.fit(np.where(observed, Y, np.nan), steps=300, lr=0.05, observed=observed)
    assert trace[-1] > trace[0]
    with mv.no_grad():
        p = m.mean(m.Z).numpy()
    hidden = ~observed
    base_p = np.nanmean(np.where(observed, Y, np.nan), axis=0) * np.ones_like(Y)   # marginal-mean baseline
    accuracy = ((p > 0.5) == Y)[hidden].mean()
    baseline = ((base_p > 0.5) == Y)[hidden].mean()
    assert accuracy >= baseline + 0.15, (accuracy, baseline)

    def loglik(q):
        return (Y * np.log(q) + (1 - Y) * np.log1p(-q))[hidden].mean()

    assert loglik(p) > loglik(base_p) + 0.15


def test_bxpca_infer_latents_for_new_data():
    Y, observed = planted("bernoulli", n=300)
    m = BXPCA(30, 2, rng=np.random.default_rng(1))
    m.fit(Y[:200], steps=300, lr=0.05)
    W_before = m.W.numpy().copy()
    Y_new, seen = Y[200:], observed[200:]
    Z = m.infer_latents(np.where(seen, Y_new, np.nan), steps=200, observed=seen)
    np.testing.assert_array_equal(m.W.numpy(), W_before)             # W stays fixed
    with mv.no_grad():
        p = m.mean(Z).numpy()
    base = Y[:200].mean(axis=0) > 0.5
    assert ((p > 0.5) == Y_new)[~seen].mean() >= ((base == Y_new)[~seen]).mean() + 0.15


def test_bxpca_poisson_beats_the_marginal_rate():
    Y, observed = planted("poisson", seed=1)
    m = BXPCA(30, 2, likelihood="poisson", rng=np.random.default_rng(2))
    m.fit(np.where(observed, Y, np.nan), steps=300, lr=0.05, observed=observed)
    with mv.no_grad():
        rate = m.mean(m.Z).numpy()
    base = np.nanmean(np.where(observed, Y, np.nan), axis=0) * np.ones_like(Y)
    hidden = ~observed

    def loglik(lam):   # log y! is the same for both: dropped
        return (Y * np.log(lam) - lam)[hidden].mean()

    assert loglik(rate) > loglik(base) + 0.3, (loglik(rate), loglik(base))


@pytest.mark.parametrize("likelihood", ["bernoulli", "poisson"])
def test_bxpca_log_likelihood_gradcheck_and_values(f64, likelihood):
    rng = np.random.default_rng(13)
    m = BXPCA(5, 2, likelihood=likelihood, rng=rng, init_scale=1.0)
    Z = mv.tensor(rng.standard_normal((4, 2)))
    eta = Z.numpy() @ m.W.numpy().T
    if likelihood == "bernoulli":
        Y = (rng.random((4, 5)) < 0.5).astype(float)
        expected = stats.bernoulli(1 / (1 + np.exp(-eta))).logpmf(Y)
    else:
        Y = rng.poisson(2.0, (4, 5)).astype(float)
        expected = stats.poisson(np.exp(eta)).logpmf(Y)
    np.testing.assert_allclose(m.log_likelihood(Y, Z).numpy(), expected, rtol=1e-10)

    def f(Z, W, b):
        m.W, m.b = W, b
        return m.log_joint(Y, Z, observed=np.ones(Y.shape, bool))     # all observed, through the mask path

    assert mv.gradcheck(f, Z, m.W, m.b + 0.1)


def test_bxpca_is_stable_at_extreme_natural_parameters():
    m = BXPCA(3, 1, rng=np.random.default_rng(0))
    m.W.data[:] = 1.0
    Z = mv.tensor([[-1e4], [1e4]])
    ll = m.log_likelihood(np.array([[1.0, 0, 1], [0, 1, 1]]), Z)
    assert np.all(np.isfinite(ll.numpy()))


def test_ppca_conditional_with_one_shared_mask_equals_joint_conditioning(f64):
    """The shared-mask path (one k x k system for all rows, e.g. the same missing half)."""
    rng = np.random.default_rng(7)
    m = PPCA(D, K, rng=rng, init_scale=1.0)
    m.mu.data[:] = rng.standard_normal(D)
    m.log_sigma2.data[...] = np.log(0.3)
    mu, C = m.mu.numpy(), covariance(m.W.numpy(), 0.3)
    Y = gaussian_data()[:5]
    o = np.arange(D) < D // 2
    observed = np.tile(o, (len(Y), 1))
    mean, var = m.conditional(np.where(observed, Y, np.nan), observed)
    gain = C[np.ix_(~o, o)] @ np.linalg.inv(C[np.ix_(o, o)])
    np.testing.assert_allclose(mean.numpy()[:, ~o], mu[~o] + (Y[:, o] - mu[o]) @ gain.T, atol=1e-10)
    np.testing.assert_allclose(var.numpy()[:, ~o], np.tile(np.diag(C[np.ix_(~o, ~o)] - gain @ C[np.ix_(o, ~o)]), (5, 1)), atol=1e-10)
    np.testing.assert_array_equal(mean.numpy()[:, o], Y[:, o])
