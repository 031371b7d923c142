"""minivi.flows: every log-determinant against the engine's full Jacobian (and PyTorch's), the invertibility
constraints, fits with known answers (a Gaussian target, U1's quadrature log Z), and the flow posterior in minivi.vi."""
from __future__ import annotations

import numpy as np
import pytest

import minivi as mv
from minivi import flows, vi
from minivi.distributions import Normal
from minivi.optim import Adam


def _t(a):
    return mv.tensor(np.asarray(a, dtype=np.float64), dtype="float64")


def _jacobian_log_det(f, z: np.ndarray) -> np.ndarray:
    """log|det ∂f(z_n)/∂z_n| per row from the engine's full Jacobian (n, d, n, d) and NumPy's slogdet."""
    J = mv.jacobian(lambda x: f(x)[0])(_t(z)).numpy()
    return np.array([np.linalg.slogdet(J[i, :, i, :])[1] for i in range(len(z))])


def _set(p, value):
    p.data[...] = value


@pytest.mark.parametrize("d", [1, 2, 5])
@pytest.mark.parametrize("kind", [flows.Planar, flows.Radial])
def test_log_det_equals_full_jacobian(kind, d):
    r = np.random.default_rng(d)
    for seed in range(3):
        with mv.default_dtype("float64"):
            f = kind(d, rng=mv.default_rng(seed), init_scale=1.5)
        z = 2 * r.standard_normal((6, d))
        got = f(_t(z))[1].numpy()
        assert got.shape == (6,)
        np.testing.assert_allclose(got, _jacobian_log_det(f, z), rtol=0, atol=1e-8)


def test_log_det_near_the_invertibility_boundary():
    # planar: wᵀu = −12, so wᵀû = softplus(−12) − 1 ≈ −1 + 6e-6, and inputs on the hyperplane (h' = 1): det ≈ 6e-6
    with mv.default_dtype("float64"):
        f = flows.Planar(3, rng=mv.default_rng(0))
    w = np.array([1.0, -2.0, 0.5])
    _set(f.w, w), _set(f.u, -12.0 * w / (w @ w)), _set(f.b, 0.3)
    r = np.random.default_rng(1)
    z = r.standard_normal((5, 3))
    z -= ((z @ w + 0.3) / (w @ w))[:, None] * w + 1e-3 * r.standard_normal((5, 1)) * w   # wᵀz + b ≈ 0
    got = f(_t(z))[1].numpy()
    assert got.max() < np.log(1e-4)                                      # truly near the boundary
    np.testing.assert_allclose(got, _jacobian_log_det(f, z), rtol=0, atol=1e-8)
    # radial: β = −α + softplus(−12) (just above −α) and inputs close to z₀ (r small): det → 0
    with mv.default_dtype("float64"):
        g = flows.Radial(2, rng=mv.default_rng(0))
    _set(g.z0, [0.5, -1.0]), _set(g.alpha_raw, 0.2), _set(g.beta_raw, -12.0)
    z = np.array([0.5, -1.0]) + 1e-3 * r.standard_normal((5, 2))
    got = g(_t(z))[1].numpy()
    assert got.max() < np.log(1e-2)
    np.testing.assert_allclose(got, _jacobian_log_det(g, z), rtol=0, atol=1e-8)


def test_flow_composition_sums_log_dets_and_matches_the_jacobian():
    rng = mv.default_rng(3)
    with mv.default_dtype("float64"):
        flow = flows.Flow([flows.Planar(3, rng=rng, init_scale=1.0) if k % 2 else flows.Radial(3, rng=rng, init_scale=1.0)
                           for k in range(6)])
    z = np.random.default_rng(2).standard_normal((4, 3))
    zk, ld = flow(_t(z))
    np.testing.assert_allclose(ld.numpy(), _jacobian_log_det(flow, z), rtol=0, atol=1e-8)
    x, total = _t(z), 0.0
    for f in flow:
        x, l = f(x)
        total = total + l.numpy()
    np.testing.assert_allclose(zk.numpy(), x.numpy()), np.testing.assert_allclose(ld.numpy(), total)
    z_id, ld_id = flows.Flow([])(_t(z))                                   # K = 0: the identity
    np.testing.assert_array_equal(z_id.numpy(), z), np.testing.assert_array_equal(ld_id.numpy(), 0.0)


def test_planar_log_det_matches_pytorch():
    torch = pytest.importorskip("torch")
    with mv.default_dtype("float64"):
        f = flows.Planar(4, rng=mv.default_rng(5), init_scale=1.0)
    z = np.random.default_rng(5).standard_normal((3, 4))
    u, w, b = (torch.tensor(p.numpy()) for p in (f.u, f.w, f.b))
    wu = w @ u
    u_hat = u + (torch.nn.functional.softplus(wu) - 1 - wu) * w / (w @ w)
    fmap = lambda x: x + u_hat * torch.tanh(x @ w + b)[..., None]  # noqa: E731 - the paper's eq. 10, written in PyTorch
    ref = [torch.linalg.slogdet(torch.autograd.functional.jacobian(fmap, torch.tensor(row)))[1].item() for row in z]
    zo, ld = f(_t(z))
    np.testing.assert_allclose(ld.numpy(), ref, atol=1e-10)
    np.testing.assert_allclose(zo.numpy(), fmap(torch.tensor(z)).numpy(), atol=1e-12)


def test_planar_constraint_keeps_the_map_invertible():
    """With wᵀu ≪ −1 the raw map z + u tanh(wᵀz + b) folds (its Jacobian determinant changes sign); the constrained
    one is invertible: along w it is strictly increasing, and a solver recovers z from f(z)."""
    w, b = np.array([1.5, -0.5]), 0.2
    u = -4.0 * w / (w @ w)                                               # wᵀu = −4
    a = np.linspace(-6, 6, 2001)                                        # a = wᵀz + b along the normal
    raw = 1 + (1 - np.tanh(a) ** 2) * (w @ u)
    assert raw.min() < 0                                                 # the raw map is not invertible
    with mv.default_dtype("float64"):
        f = flows.Planar(2, rng=mv.default_rng(0))
    _set(f.u, u), _set(f.w, w), _set(f.b, b)
    wu_hat = float(w @ f.u_hat().numpy())
    assert wu_hat > -1
    z = (a - b)[:, None] * w / (w @ w)                                   # points along the line
    zo, ld = f(_t(z))
    proj = zo.numpy() @ w
    assert np.all(np.diff(proj) > 0) and np.all(np.isfinite(ld.numpy()))
    # invert numerically: wᵀf(z) + b = a + wᵀû tanh(a) is monotone in a; bisection then the parallel part
    r = np.random.default_rng(0)
    z = 3 * r.standard_normal((50, 2))
    y = f(_t(z))[0].numpy()
    u_hat = f.u_hat().numpy()
    lo, hi = np.full(50, -50.0), np.full(50, 50.0)
    target = y @ w + b
    for _ in range(200):
        mid = (lo + hi) / 2
        too_big = mid + wu_hat * np.tanh(mid) > target
        hi, lo = np.where(too_big, mid, hi), np.where(too_big, lo, mid)
    z_rec = y - u_hat * np.tanh(lo)[:, None]
    np.testing.assert_allclose(z_rec, z, atol=1e-8)


def test_radial_constraint_keeps_both_factors_positive():
    with mv.default_dtype("float64"):
        g = flows.Radial(3, rng=mv.default_rng(0))
    _set(g.beta_raw, -30.0)                                              # β → −α: the extreme contraction
    alpha, beta = flows.radial_alpha_beta(g.alpha_raw, g.beta_raw)
    assert float(beta.numpy()) >= -float(alpha.numpy())
    z = g.z0.numpy() + np.random.default_rng(0).standard_normal((100, 3)) * np.logspace(-3, 1, 100)[:, None]
    ld = g(_t(z))[1].numpy()
    assert np.all(np.isfinite(ld))


def _fit(log_target, K, steps, seed=0, S=100, lr=0.01, kind=flows.Planar):
    rng = mv.default_rng(seed)
    with mv.default_dtype("float64"):
        q = flows.FlowGaussian(2, flows.Flow([kind(2, rng=rng) for _ in range(K)]))
    opt = Adam(q.parameters(), lr=lr)
    for _ in range(steps):
        F = vi.free_energy(log_target, q(), None, rng, S, kl="mc")
        opt.zero_grad()
        (-F).backward()
        opt.step()
    with mv.no_grad():
        qq = q()
        z = qq.rsample(mv.default_rng(99), (20_000,))
        lw = (log_target(z) - qq.log_prob(z)).numpy()
    return lw.mean(), lw.std() / np.sqrt(len(lw))


def test_a_flow_recovers_a_correlated_gaussian_target():
    rho, m = 0.8, np.array([1.0, -0.5])
    C = np.array([[1.0, rho], [rho, 1.0]])
    P, logdet = np.linalg.inv(C), np.linalg.slogdet(C)[1]

    def log_target(z):                                                   # normalised: F = −KL[q ‖ p]
        d = z - _t(m)
        return -0.5 * ((d @ _t(P)) * d).sum(axis=-1) - np.log(2 * np.pi) - 0.5 * logdet

    F0, se0 = _fit(log_target, 0, 400)
    np.testing.assert_allclose(-F0, -0.5 * np.log(1 - rho**2), atol=0.02)   # mean-field optimum's KL, closed form
    F4, se4 = _fit(log_target, 4, 500)
    assert -F4 < 0.03 and -F4 < -F0 / 10, (F0, F4)


def _log_z_u1() -> float:
    g = np.linspace(-4, 4, 801)
    Z1, Z2 = np.meshgrid(g, g)
    with mv.no_grad():
        u = flows.U1(_t(np.stack([Z1, Z2], -1))).numpy()
    return float(np.log(np.exp(-u).sum() * (g[1] - g[0]) ** 2))


def test_free_energy_on_u1_increases_with_k_and_stays_below_log_z():
    log_z = _log_z_u1()
    F = {K: _fit(lambda z: -flows.U1(z), K, 500) for K in (1, 16)}
    for K, (f, se) in F.items():
        assert f < log_z + 4 * se, (K, f, log_z)
    assert F[16][0] > F[1][0] + 5 * np.hypot(F[1][1], F[16][1]), F


def test_flow_posterior_in_vi_estimates_a_known_normaliser():
    """log ∫ N(z; m, C) dz = 0: the IS estimate with a flow proposal, the IWAE bound and F all respect it."""
    m = np.array([0.3, -0.2])
    rng = mv.default_rng(0)
    with mv.default_dtype("float64"):
        q = flows.FlowGaussian(2, flows.Flow([flows.Planar(2, rng=rng, init_scale=0.5) for _ in range(3)]))
    log_target = lambda z: Normal(_t(m), 0.7).log_prob(z).sum(axis=-1)  # noqa: E731
    est, ess = vi.log_marginal_is(log_target, q(), None, mv.default_rng(1), 20_000, 5_000)
    np.testing.assert_allclose(est, 0.0, atol=4 * vi.is_log_stderr(ess, 20_000) + 1e-3)
    F = vi.free_energy(log_target, q(), None, mv.default_rng(2), 2_000, kl="mc").numpy()
    L = vi.iwae_bound(log_target, q(), None, mv.default_rng(2), 2_000).numpy()
    assert F < L <= 0.05


def test_flow_posterior_with_no_flow_is_the_gaussian():
    with mv.default_dtype("float64"):
        q = flows.FlowGaussian(3, batch_shape=(4,))
    q.loc.data[...] = np.random.default_rng(0).standard_normal((4, 3))
    z = q().rsample(mv.default_rng(0), (5,))
    ref = Normal(q.loc, mv.exp(q.log_scale)).rsample(mv.default_rng(0), (5,))
    np.testing.assert_allclose(z.numpy(), ref.numpy())
    qq = q()
    z = qq.rsample(mv.default_rng(0), (5,))
    np.testing.assert_allclose(qq.log_prob(z).numpy(), -0.5 * (z.numpy() - q.loc.numpy()) ** 2 @ np.ones(3)
                               - 1.5 * np.log(2 * np.pi))


def test_bad_inputs_say_what_to_do():
    f = flows.Planar(2, rng=mv.default_rng(0))
    with pytest.raises(ValueError, match="last axis must have 2"):
        f(mv.zeros(4, 3))
    with pytest.raises(TypeError, match="mv.tensor"):
        f(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="dim must be"):
        flows.Radial(0, rng=mv.default_rng(0))
    with pytest.raises(TypeError, match="not a flow"):
        flows.Flow([f, 3])
    q = flows.FlowGaussian(2, flows.Flow([f]))()
    with pytest.raises(ValueError, match="only at its own draws"):
        q.log_prob(mv.zeros(1, 2))


def test_flow_dlgm_likelihood_does_not_depend_on_the_proposal():
    """The same decoder scored with a K = 0 and a K = 4 posterior: two IS estimates of one log p(y)."""
    from minivi.models import FlowDLGM

    x = (np.random.default_rng(0).random((6, 12)) > 0.5).astype(np.float64)
    with mv.default_dtype("float64"):
        m4 = FlowDLGM(12, (8,), (2,), n_flows=4, rng=mv.default_rng(0))
        m0 = FlowDLGM(12, (8,), (2,), n_flows=0, rng=mv.default_rng(0))
    m4.enc_flow.W.data[...] = 0.3 * np.random.default_rng(1).standard_normal(m4.enc_flow.W.shape)  # a real flow
    for a, b in zip(m0.dec, m4.dec):
        b.load_state_dict(a.state_dict())
    e0, s0 = m0.log_likelihood(x, 4000, mv.default_rng(1), return_se=True)
    e4, s4 = m4.log_likelihood(x, 4000, mv.default_rng(2), return_se=True)
    assert np.all(np.abs(e0 - e4) < 4 * np.hypot(s0, s4) + 0.02), (e0, e4, s0, s4)
    F = m4.elbo(x, mv.default_rng(3), n_samples=2000).numpy()
    assert np.all(F < e4 + 4 * s4 + 0.02)
    with pytest.raises(ValueError, match="no closed-form KL"):
        m4.elbo(x, mv.default_rng(3), kl="analytic")
    with pytest.raises(ValueError, match="one stochastic layer"):
        FlowDLGM(12, (8,), (2, 2), n_flows=2, rng=mv.default_rng(0))


def test_energies_match_the_papers_formulas_inside_the_square_and_are_proper():
    r = np.random.default_rng(0)
    z = r.uniform(-4, 4, size=(50, 2))
    z1, z2 = z[:, 0], z[:, 1]
    w1, w2, w3 = np.sin(np.pi * z1 / 2), 3 * np.exp(-0.5 * ((z1 - 1) / 0.6) ** 2), 3 / (1 + np.exp(-(z1 - 1) / 0.3))
    ref = {
        "U1": 0.5 * ((np.hypot(z1, z2) - 2) / 0.4) ** 2
        - np.log(np.exp(-0.5 * ((z1 - 2) / 0.6) ** 2) + np.exp(-0.5 * ((z1 + 2) / 0.6) ** 2)),
        "U2": 0.5 * ((z2 - w1) / 0.4) ** 2,
        "U3": -np.log(np.exp(-0.5 * ((z2 - w1) / 0.35) ** 2) + np.exp(-0.5 * ((z2 - w1 + w2) / 0.35) ** 2)),
        "U4": -np.log(np.exp(-0.5 * ((z2 - w1) / 0.4) ** 2) + np.exp(-0.5 * ((z2 - w1 + w3) / 0.35) ** 2)),
    }
    for name, U in flows.ENERGIES.items():
        np.testing.assert_allclose(U(_t(z)).numpy(), ref[name], rtol=1e-10, err_msg=name)
        far = U(_t([[9.0, 0.0], [-9.0, 0.0]])).numpy()                  # outside the square: the wall (or the ring)
        assert np.all(far > 100), (name, far)
