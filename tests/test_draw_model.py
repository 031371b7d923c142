"""minivi.models.draw (DRAW): T = 1 without attention is a one-layer DLGM's free energy (written here in NumPy),
the Gaussian filterbank against explicit sums, read/write as adjoints, gradients, and the recorded canvases.
(tests/test_draw.py tests the engine's ``draw_graph``.)"""
from __future__ import annotations

import numpy as np
import pytest

import minivi as mv
from minivi.models.draw import DRAW, attention_params, filterbank, read_attention, write_attention


def _sig(a):
    return 1 / (1 + np.exp(-a))


def _softplus(a):
    return np.logaddexp(0, a)


def _lstm_from_zero(cell, inp):
    """One LSTM step from h = c = 0, in NumPy: c = σ(i) tanh(g), h = σ(o) tanh(c)."""
    H = cell.hidden_size
    gates = np.concatenate([inp, np.zeros((len(inp), H))], 1) @ cell.W.numpy() + cell.b.numpy()
    i, f, o, g = (gates[:, k * H:(k + 1) * H] for k in range(4))
    c = _sig(i) * np.tanh(g)
    return _sig(o) * np.tanh(c)


def _lin(layer, x):
    return x @ layer.W.numpy() + layer.b.numpy()


def test_draw_with_one_step_and_no_attention_is_a_one_layer_dlgm():
    with mv.default_dtype("float64"):
        m = DRAW((4, 5), T=1, z_dim=3, enc_size=6, dec_size=7, rng=mv.default_rng(0))
    for p in m.parameters():                                               # non-zero biases everywhere
        if p.ndim == 1:
            p.data[...] += 0.3 * np.random.default_rng(p.size).standard_normal(p.shape)
    x = (np.random.default_rng(1).random((8, 20)) > 0.5).astype(np.float64)
    got = m.elbo(x, mv.default_rng(5)).numpy()
    # the one-layer DLGM: encoder y -> (μ, σ), z = μ + σ ε, decoder z -> η, F = log Bern(y | σ(η)) − KL[q ‖ N(0, I)]
    h_enc = _lstm_from_zero(m.enc, np.concatenate([x, x - 0.5, np.zeros((8, 7))], 1))
    mu, log_sigma = _lin(m.q_loc, h_enc), _lin(m.q_log_scale, h_enc)
    z = mu + np.exp(log_sigma) * np.random.default_rng(5).standard_normal((8, 3))
    eta = _lin(m.write_w, _lstm_from_zero(m.dec, z))
    log_lik = (x * eta - _softplus(eta)).sum(1)
    kl = (-log_sigma + 0.5 * (np.exp(2 * log_sigma) + mu**2) - 0.5).sum(1)
    np.testing.assert_allclose(got, log_lik - kl, rtol=1e-10)
    lx, lz = m.loss_terms(x, mv.default_rng(5))                             # the paper's L^x and L^z
    np.testing.assert_allclose(lx, -log_lik, rtol=1e-10), np.testing.assert_allclose(lz, kl, rtol=1e-10)


def _filters_by_hand(gx, gy, s2, delta, N, A, B):
    FX, FY = np.zeros((N, A)), np.zeros((N, B))
    for i in range(1, N + 1):
        mx, my = gx + (i - N / 2 - 0.5) * delta, gy + (i - N / 2 - 0.5) * delta
        for a in range(1, A + 1):
            FX[i - 1, a - 1] = np.exp(-(a - mx) ** 2 / (2 * s2))
        for b in range(1, B + 1):
            FY[i - 1, b - 1] = np.exp(-(b - my) ** 2 / (2 * s2))
    return FX / (FX.sum(1, keepdims=True) + 1e-8), FY / (FY.sum(1, keepdims=True) + 1e-8)   # Z + ε as in the paper


def test_filterbank_read_and_write_against_explicit_sums():
    r = np.random.default_rng(0)
    A, B, N, n = 7, 5, 3, 4
    p = mv.tensor(0.5 * r.standard_normal((n, 5)), dtype="float64")
    gx, gy, s2, delta, gamma = attention_params(p, A, B, N)
    fx, fy = filterbank(gx, gy, s2, delta, N, A, B)
    x = r.random((n, B, A))
    w = r.standard_normal((n, N, N))
    glimpse = read_attention(mv.tensor(x, dtype="float64"), fx, fy, gamma).numpy()
    patch = write_attention(mv.tensor(w, dtype="float64"), fx, fy, gamma).numpy()
    P = p.numpy()
    for k in range(n):
        # the paper's parameterisation, written out
        gxk, gyk = (A + 1) / 2 * (P[k, 0] + 1), (B + 1) / 2 * (P[k, 1] + 1)
        dk, s2k, gk = (max(A, B) - 1) / (N - 1) * np.exp(P[k, 3]), np.exp(P[k, 2]), np.exp(P[k, 4])
        FX, FY = _filters_by_hand(gxk, gyk, s2k, dk, N, A, B)
        np.testing.assert_allclose(fx.numpy()[k], FX, atol=1e-7), np.testing.assert_allclose(fy.numpy()[k], FY, atol=1e-7)
        for j in range(N):
            for i in range(N):
                ref = gk * sum(FY[j, b] * x[k, b, a] * FX[i, a] for a in range(A) for b in range(B))
                np.testing.assert_allclose(glimpse[k, j, i], ref, rtol=1e-6)
        for b in range(B):
            for a in range(A):
                ref = sum(FY[j, b] * w[k, j, i] * FX[i, a] for i in range(N) for j in range(N)) / gk
                np.testing.assert_allclose(patch[k, b, a], ref, rtol=1e-6, atol=1e-12)
        # read and write are adjoint: <read(x), w> = γ² <x, write(w)>
        np.testing.assert_allclose((glimpse[k] * w[k]).sum(), gk**2 * (x[k] * patch[k]).sum(), rtol=1e-6)


def test_draw_with_attention_gradcheck():
    with mv.default_dtype("float64"):
        m = DRAW((5, 6), T=2, z_dim=2, enc_size=3, dec_size=4, attention=True, read_n=2, write_n=3,
                 rng=mv.default_rng(0))
    x = (np.random.default_rng(1).random((3, 30)) > 0.5).astype(np.float64)

    def loss(Wr, Ww, Wq):
        m.read_att.W, m.write_att.W, m.q_loc.W = Wr, Ww, Wq
        return m.elbo(x, mv.default_rng(3)).sum()

    assert mv.gradcheck(loss, m.read_att.W, m.write_att.W, m.q_loc.W)


@pytest.mark.parametrize("attention", [False, True])
def test_recorded_canvases_match_the_free_energy(attention):
    with mv.default_dtype("float64"):
        m = DRAW((6, 6), T=3, z_dim=2, enc_size=5, dec_size=5, attention=attention, read_n=2, write_n=3,
                 rng=mv.default_rng(0))
    x = (np.random.default_rng(1).random((4, 36)) > 0.5).astype(np.float64)
    steps = m.reconstruct_steps(x, mv.default_rng(7))
    assert steps["canvas"].shape == (3, 4, 6, 6)
    p = steps["canvas"][-1].reshape(4, -1)
    lx, _ = m.loss_terms(x, mv.default_rng(7))
    np.testing.assert_allclose(lx, -(x * np.log(p) + (1 - x) * np.log1p(-p)).sum(1), rtol=1e-8)
    s = m.sample(5, mv.default_rng(0))
    assert s["canvas"].shape == (3, 5, 6, 6) and np.all((s["canvas"] > 0) & (s["canvas"] < 1))
    assert m.sample(5, mv.default_rng(0), record=False).shape == (5, 6, 6)
    if attention:
        assert steps["read"].shape == (3, 4, 3) and s["write"].shape == (3, 5, 3)
        m.read_att.W.data[...] = 0
        m.read_att.b.data[...] = 0
        first = m.reconstruct_steps(x, mv.default_rng(7))["read"][0]       # g̃ = 0: the window is centred
        np.testing.assert_allclose(first[:, :2], 3.5)
    else:
        assert "read" not in steps


def test_draw_learns_and_bad_inputs():
    from minivi.optim import Adam

    m = DRAW((4, 4), T=3, z_dim=2, enc_size=8, dec_size=8, attention=True, read_n=2, write_n=2, rng=mv.default_rng(0))
    x = np.tile(np.eye(4).reshape(1, 16), (20, 1)).astype(np.float32)
    opt, rng = Adam(m.parameters(), lr=0.02), mv.default_rng(1)
    before = float(m.elbo(x, mv.default_rng(9), 20).mean().numpy())
    for _ in range(100):
        opt.zero_grad()
        (-m.elbo(x, rng).mean()).backward()
        opt.step()
    after = float(m.elbo(x, mv.default_rng(9), 20).mean().numpy())
    assert after > before + 3, (before, after)
    with pytest.raises(ValueError, match="rows of 16 pixels"):
        m.elbo(np.zeros((2, 15)), rng)
    with pytest.raises(ValueError, match="T >= 1"):
        DRAW((4, 4), T=0, rng=mv.default_rng(0))
