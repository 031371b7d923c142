"""minivi.vi and MultivariateNormal against exact answers: SciPy's Gaussian densities, PyTorch's KL,
PPCA's closed-form log-likelihood and posterior, a conjugate Gaussian model, and the closed-form ML PPCA."""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats
from scipy.linalg import subspace_angles

import minivi as mv
from minivi import vi
from minivi.distributions import MultivariateNormal, Normal, kl_divergence
from minivi.models.lvm import PPCA


@pytest.fixture(autouse=True)
def _float64():
    old = mv.get_default_dtype()
    mv.set_default_dtype("float64")
    yield
    mv.set_default_dtype(old)


def _tril(r, shape, d):
    L = np.tril(r.standard_normal(shape + (d, d)))
    idx = np.arange(d)
    L[..., idx, idx] = np.abs(L[..., idx, idx]) + 0.5
    return L


# --- MultivariateNormal ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("batch", [(), (4,), (2, 3)])
def test_mvn_log_prob_entropy_match_scipy(batch):
    r = np.random.default_rng(0)
    d = 3
    mu, L = r.standard_normal(batch + (d,)), _tril(r, batch, d)
    q = MultivariateNormal(mv.tensor(mu), scale_tril=mv.tensor(L))
    z = r.standard_normal((5,) + batch + (d,))
    got, H = q.log_prob(z).numpy(), q.entropy().numpy()
    assert got.shape == (5,) + batch and H.shape == batch
    for b in np.ndindex(*batch):
        ref = scipy.stats.multivariate_normal(mu[b], L[b] @ L[b].T)
        np.testing.assert_allclose(got[(slice(None),) + b], ref.logpdf(z[(slice(None),) + b]), rtol=1e-10)
        np.testing.assert_allclose(H[b], ref.entropy(), rtol=1e-10)


def test_mvn_shared_scale_and_covariance_argument():
    r = np.random.default_rng(1)
    L = _tril(r, (), 4)
    S = L @ L.T
    q = MultivariateNormal(mv.tensor(r.standard_normal((6, 4))), covariance_matrix=S)   # batch (6,), one Σ
    z = r.standard_normal((3, 6, 4))
    ref = np.stack([scipy.stats.multivariate_normal(q.loc.numpy()[b], S).logpdf(z[:, b]) for b in range(6)], 1)
    np.testing.assert_allclose(q.log_prob(z).numpy(), ref, rtol=1e-10)
    np.testing.assert_allclose(q.covariance_matrix.numpy(), S, rtol=1e-12)


def test_mvn_rsample_moments_and_gradients():
    r = np.random.default_rng(2)
    mu, L = r.standard_normal(3), _tril(r, (), 3)
    z = MultivariateNormal(mv.tensor(mu), scale_tril=mv.tensor(L)).rsample(mv.default_rng(0), (40000,)).numpy()
    assert z.shape == (40000, 3)
    np.testing.assert_allclose(z.mean(0), mu, atol=5 * np.sqrt(np.diag(L @ L.T) / 40000).max())
    np.testing.assert_allclose(np.cov(z.T), L @ L.T, atol=0.06)
    x = r.standard_normal((2, 3))
    tri = np.tril(np.ones((3, 3)))               # gradcheck perturbs every entry; keep L lower triangular
    assert mv.gradcheck(lambda m, s: MultivariateNormal(m, scale_tril=s * tri).log_prob(x), mu, L)
    assert mv.gradcheck(lambda m, s: MultivariateNormal(m, scale_tril=s * tri).rsample(mv.default_rng(3), (2,)), mu, L)
    assert mv.gradcheck(lambda m, s: MultivariateNormal(m, scale_tril=s * tri).entropy(), mu, L)


def test_mvn_kl_matches_torch():
    torch = pytest.importorskip("torch")
    r = np.random.default_rng(3)
    mp, Lp, mq, Lq = r.standard_normal((4, 3)), _tril(r, (4,), 3), r.standard_normal((4, 3)), _tril(r, (4,), 3)
    p = MultivariateNormal(mv.tensor(mp), scale_tril=mv.tensor(Lp))
    q = MultivariateNormal(mv.tensor(mq), scale_tril=mv.tensor(Lq))
    tp = torch.distributions.MultivariateNormal(torch.tensor(mp), scale_tril=torch.tensor(Lp))
    tq = torch.distributions.MultivariateNormal(torch.tensor(mq), scale_tril=torch.tensor(Lq))
    np.testing.assert_allclose(kl_divergence(p, q).numpy(), torch.distributions.kl_divergence(tp, tq).numpy(), rtol=1e-10)
    s = np.exp(r.standard_normal((4, 3)))           # a diagonal Normal, event = last axis
    td = torch.distributions.MultivariateNormal(torch.tensor(mq), scale_tril=torch.diag_embed(torch.tensor(s)))
    np.testing.assert_allclose(kl_divergence(p, Normal(mv.tensor(mq), mv.tensor(s))).numpy(),
                               torch.distributions.kl_divergence(tp, td).numpy(), rtol=1e-10)
    np.testing.assert_allclose(kl_divergence(Normal(mv.tensor(mq), mv.tensor(s)), p).numpy(),
                               torch.distributions.kl_divergence(td, tp).numpy(), rtol=1e-10)
    tri = np.tril(np.ones((3, 3)))
    assert mv.gradcheck(lambda m, L: kl_divergence(MultivariateNormal(m, scale_tril=L * tri), Normal(0.0, 1.0)),
                        mp[0], Lp[0])
    assert mv.gradcheck(lambda m, L: kl_divergence(MultivariateNormal(m, scale_tril=L * tri), q), mp, Lp)


def test_mvn_rejects_bad_parameters():
    with pytest.raises(ValueError, match="positive diagonal"):
        MultivariateNormal(np.zeros(2), scale_tril=np.array([[1.0, 0.0], [0.3, -1.0]]))
    with pytest.raises(ValueError, match="lower triangular"):
        MultivariateNormal(np.zeros(2), scale_tril=np.array([[1.0, 0.5], [0.0, 1.0]]))
    with pytest.raises(ValueError, match=r"end\s+in \(3, 3\)"):
        MultivariateNormal(np.zeros(3), scale_tril=np.eye(2))
    with pytest.raises(ValueError, match="event axis"):
        MultivariateNormal(np.zeros(3), scale_tril=np.eye(3)).log_prob(np.zeros((4, 2)))


# --- models with exact answers ---------------------------------------------------------------------------------------
def _ppca(seed=0, d=6, k=2, n=5):
    rng = mv.default_rng(seed)
    m = PPCA(d, k, rng=rng, init_scale=1.0)
    m.mu.data = rng.standard_normal(d)
    m.log_sigma2.data = np.log(np.array(0.3))
    Y = m.sample(n, rng).detach()
    log_lik = lambda z: Normal(z @ m.W.T + m.mu, mv.sqrt(m.sigma2)).log_prob(Y).sum(-1)  # noqa: E731
    return m, Y, log_lik


def _expected_log_lik_ppca(m, Y, q_mean, q_cov):
    """E_q[log N(y; W z + μ, σ² I)] in closed form: -½[d log 2πσ² + (‖y - W m - μ‖² + tr(W S Wᵀ))/σ²]."""
    W, mu, s2 = m.W.numpy(), m.mu.numpy(), m.sigma2.item()
    R = Y.numpy() - q_mean @ W.T - mu
    tr = np.einsum("ij,njk,ik->n", W, q_cov, W)
    return -0.5 * (W.shape[0] * np.log(2 * np.pi * s2) + ((R * R).sum(1) + tr) / s2)


def _posterior(m, Y):
    mean, cov = m.posterior(Y)
    n = Y.shape[0]
    return MultivariateNormal(mean.detach(), scale_tril=np.broadcast_to(np.linalg.cholesky(cov.numpy()), (n,) + cov.shape))


@pytest.mark.parametrize("family", ["full", "mean-field"])
def test_identity_log_marginal_is_free_energy_plus_kl_on_ppca(family):
    """log p(y) = F(y, q) + KL[q ‖ p(z | y)]: every term exact (closed forms), to 1e-8."""
    m, Y, _ = _ppca()
    r = np.random.default_rng(5)
    n, k = Y.shape[0], m.k
    q_mean = r.standard_normal((n, k))
    if family == "full":
        L = _tril(r, (n,), k)
        q = MultivariateNormal(mv.tensor(q_mean), scale_tril=mv.tensor(L))
        q_cov = L @ np.swapaxes(L, -1, -2)
    else:
        s = np.exp(r.standard_normal((n, k)))
        q = Normal(mv.tensor(q_mean), mv.tensor(s))
        q_cov = np.stack([np.diag(v) for v in s * s])
    F = _expected_log_lik_ppca(m, Y, q_mean, q_cov) - vi.kl_term(q, Normal(0.0, 1.0))
    gap = kl_divergence(q, _posterior(m, Y)).numpy() if family == "full" else \
        kl_divergence(MultivariateNormal(mv.tensor(q_mean), scale_tril=np.sqrt(q_cov)), _posterior(m, Y)).numpy()
    np.testing.assert_allclose(F.numpy() + gap, m.log_marginal(Y).numpy(), rtol=0, atol=1e-8)
    assert (gap > 0).all()


@pytest.mark.parametrize("family", ["full", "mean-field"])
def test_identity_holds_draw_by_draw_for_the_monte_carlo_free_energy(family):
    """With kl='mc', F̂ = mean(log p(y,z) - log q(z)) and KL̂ = mean(log q(z) - log p(z|y)) on the same draws
    sum to log p(y) exactly: each draw's log p(y, z) - log p(z | y) is log p(y)."""
    m, Y, log_lik = _ppca(1)
    n, k = Y.shape[0], m.k
    r = np.random.default_rng(6)
    q = (MultivariateNormal(mv.tensor(r.standard_normal((n, k))), scale_tril=mv.tensor(_tril(r, (n,), k)))
         if family == "full" else Normal(mv.tensor(r.standard_normal((n, k))), mv.tensor(np.exp(r.standard_normal((n, k))))))
    F = vi.free_energy(log_lik, q, Normal(0.0, 1.0), mv.default_rng(7), n_samples=50, kl="mc").numpy()
    z = q.rsample(mv.default_rng(7), (50,))
    kl_hat = (vi.log_density(q, z) - _posterior(m, Y).log_prob(z)).mean(0).numpy()
    np.testing.assert_allclose(F + kl_hat, m.log_marginal(Y).numpy(), rtol=0, atol=1e-8)
    post = vi.free_energy(log_lik, _posterior(m, Y), Normal(0.0, 1.0), mv.default_rng(8), n_samples=3, kl="mc")
    np.testing.assert_allclose(post.numpy(), m.log_marginal(Y).numpy(), rtol=0, atol=1e-8)   # zero gap, zero variance


def test_identity_on_conjugate_gaussian_model():
    """z ~ N(0, 1), y | z ~ N(a z, s²) per coordinate: p(y) = N(0, a² + s²), p(z | y) = N(a y/(a²+s²), s²/(a²+s²))."""
    a, s = 1.7, 0.6
    y = np.array([[0.3, -2.0, 1.1]])
    q = Normal(mv.tensor(np.array([[0.1, -0.5, 0.9]])), mv.tensor(np.array([[0.4, 1.3, 0.2]])))
    log_py = scipy.stats.norm(0, math.sqrt(a * a + s * s)).logpdf(y).sum(-1)
    post = Normal(a * y / (a * a + s * s), math.sqrt(s * s / (a * a + s * s)))
    m, v = q.loc.numpy(), q.scale.numpy() ** 2
    expected = (-0.5 * np.log(2 * np.pi * s * s) - ((y - a * m) ** 2 + a * a * v) / (2 * s * s)).sum(-1)
    F = expected - vi.kl_term(q, Normal(0.0, 1.0)).numpy()
    np.testing.assert_allclose(F + kl_divergence(q, post).numpy().sum(-1), log_py, rtol=0, atol=1e-8)
    log_lik = lambda z: Normal(a * z, s).log_prob(y).sum(-1)  # noqa: E731
    F_mc = vi.free_energy(log_lik, q, Normal(0.0, 1.0), mv.default_rng(0), n_samples=20000).numpy()
    F_mc_kl = vi.free_energy(log_lik, q, Normal(0.0, 1.0), mv.default_rng(0), n_samples=20000, kl="mc").numpy()
    draws = log_lik(q.sample(mv.default_rng(0), (20000,))).numpy()
    se = draws.std() / math.sqrt(20000)
    assert abs(F_mc - F)[0] < 4 * se and abs(F_mc_kl - F)[0] < 8 * se


def test_free_energy_gradients_and_log_joint_form():
    m, Y, log_lik = _ppca(2)
    n, k = Y.shape[0], m.k
    prior = Normal(0.0, 1.0)
    log_joint = lambda z: log_lik(z) + prior.log_prob(z).sum(-1)  # noqa: E731
    fam = vi.FullCovarianceGaussian((n,), k)
    a = vi.free_energy(log_lik, fam(), prior, mv.default_rng(0), 4, kl="mc").numpy()
    b = vi.free_energy(log_joint, fam(), None, mv.default_rng(0), 4, kl="mc").numpy()
    np.testing.assert_allclose(a, b, atol=1e-10)            # the same draws: the same estimate of F
    assert mv.gradcheck(lambda mu, ls: vi.free_energy(log_lik, Normal(mu, mv.exp(ls)), prior, mv.default_rng(1), 3),
                        np.zeros((n, k)), np.zeros((n, k)))
    assert mv.gradcheck(lambda mu, ls: vi.iwae_bound(log_lik, Normal(mu, mv.exp(ls)), prior, mv.default_rng(1), 3),
                        np.zeros((n, k)), np.zeros((n, k)))


def test_iwae_bound_rises_with_k_towards_log_marginal():
    m, Y, log_lik = _ppca(3, n=3)
    mean, cov = m.posterior(Y)
    q = Normal(mean.detach() + 0.3, mv.tensor(np.sqrt(np.diag(cov.numpy())) * 1.5))   # a poor but covering q
    exact = m.log_marginal(Y).numpy()
    rng, R = mv.default_rng(4), 100
    means, ses = [], []
    for K in [1, 4, 16, 64, 512]:
        draws = np.stack([vi.iwae_bound(log_lik, q, Normal(0.0, 1.0), rng, K).numpy() for _ in range(R)])
        means.append(draws.mean(0))
        ses.append(vi.mc_stderr(draws))
    means, ses = np.array(means), np.array(ses)
    for j in range(len(means) - 1):
        assert (means[j + 1] >= means[j] - 3 * np.hypot(ses[j], ses[j + 1])).all()
    assert (means[-1] > means[0] + 3 * ses[0]).all()                 # it does rise
    assert (np.abs(means[-1] - exact) < 3 * ses[-1] + 0.01).all()    # and reaches log p(y)


def test_log_marginal_is_exact_with_posterior_proposal_and_unbiased_with_prior():
    m, Y, log_lik = _ppca(4)
    exact = m.log_marginal(Y).numpy()
    est, ess = vi.log_marginal_is(log_lik, _posterior(m, Y), Normal(0.0, 1.0), mv.default_rng(0), 300, batch_size=64)
    np.testing.assert_allclose(est, exact, atol=1e-10)
    np.testing.assert_allclose(ess, 300, rtol=1e-10)
    prior = Normal(mv.zeros(*Y.shape[:1], m.k), 1.0)
    est, ess = vi.log_marginal_is(log_lik, prior, Normal(0.0, 1.0), mv.default_rng(1), 20000, batch_size=5000)
    se = vi.is_log_stderr(ess, 20000)
    assert (np.abs(est - exact) < 4 * se + 0.01).all() and (ess < 20000).all()
    # batching does not change the estimate (the same draws, summed in pieces)
    a = vi.log_marginal_is(log_lik, prior, Normal(0.0, 1.0), mv.default_rng(2), 1000, batch_size=128)
    b = vi.log_marginal_is(log_lik, prior, Normal(0.0, 1.0), mv.default_rng(2), 1000, batch_size=1000)
    np.testing.assert_allclose(a.log_marginal, b.log_marginal, atol=1e-12)


def test_log_sum_exp_is_stable_for_tiny_likelihoods():
    """z ~ N(0, 1), y_i | z ~ N(z, 0.05²) for 2000 equal y_i = 3: log w ≈ +4000, where exp overflows.
    Exact: log p(y) = log p(y | m) + log p(m) - log p(m | y) at the posterior mean m."""
    s, y = 0.05, np.full((1, 2000), 3.0)
    lam = 1.0 + y.size / s**2
    m = y.sum() / s**2 / lam
    exact = (scipy.stats.norm(m, s).logpdf(y).sum() + scipy.stats.norm(0, 1).logpdf(m)
             - scipy.stats.norm(m, 1 / math.sqrt(lam)).logpdf(m))
    log_lik = lambda z: Normal(z, s).log_prob(y).sum(-1)  # noqa: E731 - z (S, 1, 1) -> (S, 1)
    q = Normal(mv.tensor(np.array([[m + 0.01]])), 2.0 / math.sqrt(lam))          # a wide, off-centre proposal
    est, ess = vi.log_marginal_is(log_lik, q, Normal(0.0, 1.0), mv.default_rng(0), 4000)
    assert exact > 1e3 and np.isfinite(est).all() and np.isfinite(ess).all()
    assert abs(est[0] - exact) < 4 * vi.is_log_stderr(ess, 4000)[0] + 1e-3
    lk = vi.iwae_bound(log_lik, q, Normal(0.0, 1.0), mv.default_rng(1), 64).numpy()
    assert np.isfinite(lk).all() and lk[0] <= exact + 0.05


def test_errors_say_what_was_wrong():
    m, Y, log_lik = _ppca(5)
    q = Normal(mv.zeros(Y.shape[0], m.k), 1.0)
    with pytest.raises(ValueError, match="kl must be one of"):
        vi.free_energy(log_lik, q, Normal(0.0, 1.0), mv.default_rng(0), kl="exact")
    with pytest.raises(ValueError, match=r"shape \(S, \*batch\)"):
        vi.free_energy(lambda z: log_lik(z).sum(), q, Normal(0.0, 1.0), mv.default_rng(0))
    with pytest.raises(ValueError, match="n_samples"):
        vi.iwae_bound(log_lik, q, Normal(0.0, 1.0), mv.default_rng(0), 0)
    from minivi.distributions import Laplace
    with pytest.raises(NotImplementedError, match="kl='mc'"):
        vi.free_energy(log_lik, q, Laplace(0.0, 1.0), mv.default_rng(0))
    F = vi.free_energy(log_lik, q, Laplace(0.0, 1.0), mv.default_rng(0), kl="auto")
    assert F.shape == (Y.shape[0],)


# --- per-datapoint variational EM ----------------------------------------------------------------------------------
def test_per_datapoint_vi_recovers_ppca_subspace_and_likelihood():
    """Variational EM with a full-covariance q_n per datapoint on simulated PPCA (d=8, k=2, n=400):
    principal angles to the generating W below 3°, held-out exact log-likelihood within 0.05 nats per point
    of the closed-form maximum-likelihood fit."""
    rng = mv.default_rng(0)
    d, k, n = 8, 2, 400
    true = PPCA(d, k, rng=rng, init_scale=1.0)
    true.log_sigma2.data = np.log(np.array(0.1))
    Y, Y_test = true.sample(n, rng).detach(), true.sample(1000, rng).detach()
    m = PPCA(d, k, rng=rng)
    log_lik = lambda z: Normal(z @ m.W.T + m.mu, mv.sqrt(m.sigma2)).log_prob(Y).sum(-1)  # noqa: E731
    fam = vi.FullCovarianceGaussian((n,), k)
    hist = vi.variational_em(log_lik, Normal(0.0, 1.0), fam, m.parameters(), rng, n_iter=300, e_steps=3, n_samples=4,
                             lr_e=0.05, lr_m=0.02)
    assert hist[-1] > hist[0]
    angles = np.degrees(subspace_angles(m.W.numpy(), true.W.numpy()))
    assert angles.max() < 3.0, angles
    with mv.no_grad():
        ml = PPCA(d, k).fit_closed_form(Y).log_marginal(Y_test).mean().item()
        got = m.log_marginal(Y_test).mean().item()
    assert abs(got - ml) < 0.05, (got, ml)
