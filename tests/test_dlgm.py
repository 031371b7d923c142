"""DLGM (chapter 09) against answers no one here wrote: PPCA's closed-form likelihood, a known generator's
own likelihood, and PyTorch on the same weights and noise."""
from __future__ import annotations

import numpy as np
import pytest

import minivi as mv
from minivi.models import DLGM
from minivi.models.dlgm import fit_dlgm
from minivi.models.lvm import PPCA


# ----------------------------------------------------------------------------------------------
# A linear-Gaussian DLGM is PPCA


def _linear_dlgm(d: int, k: int, seed: int, sigma2: float, orthogonal: bool):
    """A DLGM with no hidden layers, y = W z + μ + σ ε, its parameters copied into a PPCA."""
    r = np.random.default_rng(seed)
    W = r.standard_normal((d, k))
    if orthogonal:                                  # orthogonal columns: the posterior covariance is diagonal
        U, _ = np.linalg.qr(W)
        W = U * np.linspace(2.0, 1.0, k)
    mu = r.standard_normal(d)
    m = DLGM(x_dim=d, hidden=(), z_dims=(k,), likelihood="gaussian", rng=mv.default_rng(seed))
    dec = m.dec[0][0]
    dec.W.data[...] = W.T                           # minivi's Linear stores (in, out)
    dec.b.data[...] = mu
    m.log_sigma_y.data[...] = 0.5 * np.log(sigma2)
    p = PPCA(d, k)
    p.W.data[...], p.mu.data[...], p.log_sigma2.data[...] = W, mu, np.log(sigma2)
    return m, p, W, mu


def _set_encoder(m, W, mu, sigma2, loc_shift=0.0, scale_factor=1.0):
    """Encoder = the exact PPCA posterior N(M⁻¹Wᵀ(y − μ), σ² diag(M⁻¹)), optionally shifted and widened."""
    k = W.shape[1]
    Minv = np.linalg.inv(W.T @ W + sigma2 * np.eye(k))
    A = W @ Minv                                    # rows y ↦ (y − μ) W M⁻¹
    enc_loc, enc_scale = m.enc_loc[0], m.enc_log_scale[0]
    enc_loc.W.data[...] = A
    enc_loc.b.data[...] = -mu @ A + loc_shift
    enc_scale.W.data[...] = 0.0
    enc_scale.b.data[...] = 0.5 * np.log(sigma2 * np.diag(Minv)) + np.log(scale_factor)


def test_linear_gaussian_is_log_likelihood_converges_to_ppca():
    with mv.default_dtype("float64"):
        d, k, sigma2 = 8, 3, 0.3
        m, p, W, mu = _linear_dlgm(d, k, seed=0, sigma2=sigma2, orthogonal=False)
        _set_encoder(m, W, mu, sigma2, loc_shift=0.3, scale_factor=1.4)   # a proposal, not the posterior
        y = p.sample(6, np.random.default_rng(1)).numpy()
        exact = p.log_marginal(y).numpy()
        errors = {}
        for K in (100, 20_000):
            est, se = m.log_likelihood(y, K, np.random.default_rng(2), return_se=True)
            assert est.shape == (6,) and se.shape == (6,)
            assert np.all(np.abs(est - exact) < 3 * se + 1e-9), (K, est - exact, se)
            errors[K] = se.mean()
        assert errors[20_000] < errors[100] / 5           # the error shrinks like 1/√K


def test_linear_gaussian_elbo_with_exact_posterior_is_log_likelihood():
    with mv.default_dtype("float64"):
        d, k, sigma2 = 10, 3, 0.2
        m, p, W, mu = _linear_dlgm(d, k, seed=3, sigma2=sigma2, orthogonal=True)
        _set_encoder(m, W, mu, sigma2)
        y = p.sample(5, np.random.default_rng(4)).numpy()
        exact = p.log_marginal(y).numpy()
        # with q the exact posterior, log p(y, z) − log q(z) = log p(y) for every draw z
        mc = m.elbo(y, np.random.default_rng(5), n_samples=3, kl="mc").numpy()
        np.testing.assert_allclose(mc, exact, rtol=1e-10, atol=1e-9)
        # the analytic-KL estimator is only right on average: many single draws for one datapoint
        rep = np.repeat(y[:1], 4000, axis=0)
        vals = m.elbo(rep, np.random.default_rng(6), kl="analytic").numpy()
        assert abs(vals.mean() - exact[0]) < 4 * vals.std() / np.sqrt(len(vals))
        # and a worse q gives a strictly lower free energy: the gap is KL[q ‖ p(z|y)]
        _set_encoder(m, W, mu, sigma2, loc_shift=0.5)
        worse = m.elbo(y, np.random.default_rng(5), n_samples=3, kl="mc").numpy()
        assert np.all(worse < exact - 1e-3)


def test_two_stochastic_layers_linear_gaussian_is_and_free_energy():
    """z2 ~ N(0, I), z1 = W2 z2 + b2 + S1^½ ε1, y = W1 z1 + b1 + σ ε: y is Gaussian with covariance
    W1 (W2 W2ᵀ + S1) W1ᵀ + diag σ², so the two-layer machinery (hierarchical prior, per-layer KLs,
    joint proposal) is checked against a closed form."""
    with mv.default_dtype("float64"):
        d, k1, k2 = 7, 3, 2
        r = np.random.default_rng(20)
        W1, b1, W2, b2 = r.standard_normal((d, k1)), r.standard_normal(d), r.standard_normal((k1, k2)), r.standard_normal(k1)
        s1, sy = np.full(k1, 0.5), np.full(d, 0.4)                       # standard deviations
        m = DLGM(x_dim=d, hidden=(), z_dims=(k1, k2), likelihood="gaussian", rng=mv.default_rng(0))
        m.dec[0][0].W.data[...], m.dec[0][0].b.data[...] = W1.T, b1
        m.dec[1][0].W.data[...], m.dec[1][0].b.data[...] = W2.T, b2
        m.log_sigma_z[0].data[...], m.log_sigma_y.data[...] = np.log(s1), np.log(sy)
        V1 = W2 @ W2.T + np.diag(s1**2)
        C = W1 @ V1 @ W1.T + np.diag(sy**2)
        mu_y, mu_z = W1 @ b2 + b1, np.r_[b2, np.zeros(k2)]
        cov_zy = np.vstack([V1 @ W1.T, W2.T @ W1.T])                    # Cov([z1; z2], y), (k1 + k2, d)
        var_z = np.block([[V1, W2], [W2.T, np.eye(k2)]])
        B = cov_zy @ np.linalg.inv(C)
        post_sd = np.sqrt(np.diag(var_z - B @ cov_zy.T))
        for l, (a, b) in enumerate([(0, k1), (k1, k1 + k2)]):          # encoder: posterior means, widened sds
            m.enc_loc[l].W.data[...] = B[a:b].T
            m.enc_loc[l].b.data[...] = mu_z[a:b] - B[a:b] @ mu_y
            m.enc_log_scale[l].W.data[...] = 0.0
            m.enc_log_scale[l].b.data[...] = np.log(1.5 * post_sd[a:b])
        y = r.multivariate_normal(mu_y, C, size=5)
        L = np.linalg.cholesky(C)
        A = np.linalg.solve(L, (y - mu_y).T)
        exact = -0.5 * (d * np.log(2 * np.pi) + 2 * np.log(np.diag(L)).sum() + (A * A).sum(0))
        est, se = m.log_likelihood(y, 20_000, np.random.default_rng(21), return_se=True)
        assert np.all(np.abs(est - exact) < 3 * se + 1e-9), (est - exact, se)
        # the closed-form-KL free energy and the Monte Carlo one estimate the same F, below log p(y)
        rep = np.repeat(y[:1], 3000, axis=0)
        fa = m.elbo(rep, np.random.default_rng(22), kl="analytic").numpy()
        fm = m.elbo(rep, np.random.default_rng(23), kl="mc").numpy()
        assert abs(fa.mean() - fm.mean()) < 4 * np.hypot(fa.std(), fm.std()) / np.sqrt(len(rep))
        assert fa.mean() < exact[0]
        assert m.iwae(rep[:500], np.random.default_rng(24), 50).numpy().mean() > fa.mean()


# ----------------------------------------------------------------------------------------------
# Learning a known DLGM


def _true_log_lik(gen: DLGM, y: np.ndarray) -> np.ndarray:
    """log p(y) = log ∫ p(y | z) N(z; 0, I) dz of a generator with a 2-D latent space, by the trapezoid rule
    on an 81 x 81 grid over [-5, 5]² (no encoder, no sampling involved)."""
    g = np.linspace(-5.0, 5.0, 81)
    z = np.stack(np.meshgrid(g, g, indexing="ij"), axis=-1).reshape(-1, 1, 2)
    w = np.outer(*[np.r_[0.5, np.ones(79), 0.5] * 0.125] * 2).reshape(-1)       # trapezoid weights
    log_prior = -0.5 * (z[:, 0] ** 2).sum(-1) - np.log(2 * np.pi)             # (G,)
    with mv.no_grad():
        ll = gen.log_lik(mv.tensor(y), mv.tensor(z)).numpy()                  # (G, n)
    a = ll + (log_prior + np.log(w))[:, None]
    m = a.max(axis=0)
    return m + np.log(np.exp(a - m).sum(axis=0))


def test_trained_on_a_known_dlgm_approaches_its_log_likelihood():
    with mv.default_dtype("float64"):
        d = 16
        gen = DLGM(x_dim=d, hidden=(12,), z_dims=(2,), likelihood="bernoulli", rng=mv.default_rng(10))
        for lin in gen.dec[0]:
            if hasattr(lin, "W"):
                lin.W.data *= 3.0                                  # sharper pixels: structure worth learning
        r = np.random.default_rng(11)
        with mv.no_grad():
            means = gen.sample(2300, r)
        y = (r.random(means.shape) < means).astype(np.float64)
        train, test = y[:2000], y[2000:]
        truth = _true_log_lik(gen, test).mean()
        pixels = train.mean(axis=0).clip(1e-3, 1 - 1e-3)             # baseline: independent pixels
        independent = (test * np.log(pixels) + (1 - test) * np.log(1 - pixels)).sum(axis=1).mean()
        m = DLGM(x_dim=d, hidden=(12,), z_dims=(2,), likelihood="bernoulli", rng=mv.default_rng(13))
        fit_dlgm(m, train, epochs=30, rng=np.random.default_rng(14), batch_size=100, lr=1e-2, binarize=None,
                 progress=False)
        learned = m.log_likelihood(test, 500, np.random.default_rng(15)).mean()
        print(f"test log p(y): generator {truth:.3f}, learned {learned:.3f}, independent pixels {independent:.3f}")
        assert truth - independent > 1.0, (truth, independent)      # the test means something
        # stated margin: within 0.5 nats per datapoint of the generator's own log-likelihood (16 pixels)
        assert learned > truth - 0.5, (learned, truth, independent)
        assert learned < truth + 0.3, (learned, truth)               # and not better than the truth


# ----------------------------------------------------------------------------------------------
# Imputation


@pytest.mark.parametrize("layers", [(4,), (4, 2)])
@pytest.mark.parametrize("method", ["markov", "importance"])
def test_imputation_keeps_observed_pixels(method, layers):
    m = DLGM(x_dim=20, hidden=(8,), z_dims=layers, rng=mv.default_rng(0))
    r = np.random.default_rng(1)
    y = (r.random((5, 20)) < 0.5).astype(np.float32)
    mask = r.random((5, 20)) < 0.3
    y_in = np.where(mask, y, np.nan)                               # missing entries may be anything
    out = m.impute(y_in, mask, np.random.default_rng(2), method=method, n_steps=5, n_samples=50)
    assert out.shape == y.shape and np.isfinite(out).all()
    assert np.array_equal(out[mask], y[mask])
    assert ((out >= 0) & (out <= 1)).all()
    full = np.ones_like(mask)
    np.testing.assert_array_equal(m.impute(y, full, np.random.default_rng(3), method=method, n_steps=3,
                                           n_samples=10), y)
    resampled = m.impute(y_in, mask, np.random.default_rng(4), method="importance", n_samples=30, resample=True)
    assert np.array_equal(resampled[mask], y[mask])


def test_importance_imputation_matches_ppca_conditioning():
    """On a linear-Gaussian DLGM, the importance-weighted E[y_m | y_o] tends to PPCA's exact conditional mean."""
    with mv.default_dtype("float64"):
        d, k, sigma2 = 8, 2, 0.1
        m, p, W, mu = _linear_dlgm(d, k, seed=7, sigma2=sigma2, orthogonal=False)
        _set_encoder(m, W, mu, sigma2, scale_factor=2.0)
        y = p.sample(4, np.random.default_rng(8)).numpy()
        mask = np.zeros((4, d), dtype=bool)
        mask[:, :5] = True
        exact = p.conditional(y, mask)[0].numpy()
        got = m.impute(y, mask, np.random.default_rng(9), method="importance", n_samples=40_000, init=0.0)
        np.testing.assert_allclose(got[:, 5:], exact[:, 5:], atol=0.05)
        assert np.abs(got[:, 5:] - mu[5:]).max() > 0.2              # not just the prior mean


# ----------------------------------------------------------------------------------------------
# Contract, shapes, errors


def test_contract_shapes_and_multilayer():
    m = DLGM(x_dim=30, hidden=(16, 8), z_dims=(6, 3), likelihood="bernoulli", rng=mv.default_rng(0))
    x = (np.random.default_rng(1).random((7, 30)) < 0.4).astype(np.float32)
    rng = np.random.default_rng(2)
    f = m.elbo(x, rng)
    assert isinstance(f, mv.Tensor) and f.shape == (7,)
    (-f.mean()).backward()
    assert all(p.grad is not None for p in m.parameters())
    assert m.iwae(x, rng, 5).shape == (7,)
    ll = m.log_likelihood(x, 200, rng)
    assert isinstance(ll, np.ndarray) and ll.shape == (7,)
    # F ≤ L_K ≤ log p(y), on average
    assert m.elbo(x, rng, 500).numpy().mean() < m.log_likelihood(x, 2000, rng).mean()
    assert m.sample(4, rng).shape == (4, 30)
    loc, scale = m.encode(x)
    assert loc.shape == (7, 6) and (scale > 0).all()
    assert m.encode(x, layer=1)[0].shape == (7, 3)
    assert m.reconstruct(x).shape == (7, 30)
    assert m.active_units(x).shape == (6,)


@pytest.mark.parametrize("likelihood", ["gaussian", "laplace", "poisson"])
def test_other_likelihoods_train(likelihood):
    r = np.random.default_rng(0)
    x = r.poisson(3.0, (64, 10)).astype(np.float32) if likelihood == "poisson" else r.standard_normal((64, 10))
    m = DLGM(x_dim=10, hidden=(8,), z_dims=(2,), likelihood=likelihood, rng=mv.default_rng(0))
    before = m.elbo(x, np.random.default_rng(1), 50).numpy().mean()
    fit_dlgm(m, x.astype(np.float32), epochs=30, rng=r, batch_size=32, lr=1e-2, binarize=None, progress=False)
    assert m.elbo(x, np.random.default_rng(1), 50).numpy().mean() > before + 1.0


def test_custom_likelihood_plugs_in():
    from minivi.distributions import Normal

    m = DLGM(x_dim=5, hidden=(), z_dims=(2,), likelihood=lambda model, eta: Normal(eta, 0.5), rng=mv.default_rng(0))
    assert m.elbo(np.zeros((3, 5)), np.random.default_rng(0)).shape == (3,)


def test_bad_input_errors():
    m = DLGM(x_dim=10, hidden=(4,), z_dims=(2,), rng=mv.default_rng(0))
    with pytest.raises(ValueError, match=r"\(n, 10\)"):
        m.elbo(np.zeros((3, 9)), np.random.default_rng(0))
    with pytest.raises(ValueError, match="likelihood must be one of"):
        DLGM(x_dim=10, likelihood="binomial", rng=mv.default_rng(0))
    with pytest.raises(ValueError, match="mask"):
        m.impute(np.zeros((3, 10)), np.ones((3, 4), bool), np.random.default_rng(0))
    with pytest.raises(TypeError):
        DLGM(x_dim=10, rng=0)


# ----------------------------------------------------------------------------------------------
# PyTorch parity: same weights, same noise -> same loss and gradients


def test_pytorch_parity_a_few_adam_steps():
    torch = pytest.importorskip("torch")
    from minivi.models.dlgm.torch_reference import TorchVAE
    from minivi.optim import Adam

    with mv.default_dtype("float64"):
        m = DLGM(x_dim=40, hidden=(16, 12), z_dims=(5,), rng=mv.default_rng(0))
        t = TorchVAE(40, (16, 12), 5, dtype="float64").copy_from(m)
        x = (np.random.default_rng(1).random((8, 40)) < 0.4).astype(np.float64)
        opt_m, opt_t = Adam(m.parameters(), lr=1e-2), torch.optim.Adam(t.parameters(), lr=1e-2)
        # the same order of named layers: minivi's Linear W is torch's weight transposed
        pairs = [(mm.W, tt.weight) for mm, tt in zip([q for q in m.modules() if isinstance(q, mv.nn.Linear)],
                                                       t.linears())]
        for step in range(4):
            rng = np.random.default_rng(100 + step)
            eps = np.random.default_rng(100 + step).standard_normal((1, 8, 5))   # what m.elbo will draw
            opt_m.zero_grad()
            loss_m = -m.elbo(x, rng).mean()
            loss_m.backward()
            opt_t.zero_grad()
            loss_t = -t.elbo(torch.tensor(x), torch.tensor(eps)).mean()
            loss_t.backward()
            assert abs(loss_m.item() - loss_t.item()) < 1e-5 * abs(loss_t.item())
            for W, w in pairs:
                np.testing.assert_allclose(W.grad.numpy(), w.grad.numpy().T, rtol=1e-5, atol=1e-8)
            opt_m.step()
            opt_t.step()


# ----------------------------------------------------------------------------------------------
# The same code on the GPU


@pytest.mark.gpu
def test_same_free_energy_and_imputation_on_the_gpu():
    m = DLGM(x_dim=30, hidden=(16,), z_dims=(4, 2), rng=mv.default_rng(0))
    x = (np.random.default_rng(1).random((6, 30)) < 0.4).astype(np.float32)
    state = m.state_dict()
    m.to("cuda")
    f_gpu = m.elbo(x, mv.default_rng(2, device="cuda"), kl="mc")
    assert f_gpu.device == "cuda" and f_gpu.shape == (6,)
    assert np.isfinite(f_gpu.numpy()).all()
    (-f_gpu.mean()).backward()
    assert all(p.grad.device == "cuda" for p in m.parameters())
    mask = np.random.default_rng(3).random((6, 30)) < 0.5
    for method in ("markov", "importance"):
        out = m.impute(x, mask, mv.default_rng(4, device="cuda"), method=method, n_steps=3, n_samples=20)
        assert np.array_equal(out[mask], x[mask])
    assert m.log_likelihood(x, 50, mv.default_rng(5, device="cuda")).shape == (6,)
    # the deterministic parts agree with the CPU: reconstructions at the posterior mean
    m_cpu = DLGM(x_dim=30, hidden=(16,), z_dims=(4, 2), rng=mv.default_rng(9)).load_state_dict(state)
    np.testing.assert_allclose(m.reconstruct(x), m_cpu.reconstruct(x), rtol=1e-4, atol=1e-5)
