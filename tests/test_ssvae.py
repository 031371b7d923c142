"""minivi.models.ssvae (chapter 10): M2's bounds against brute force written here in NumPy, the score-function
variant's gradient against enumeration, and M2 against a supervised baseline on simulated two-class data."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.special import logsumexp, softmax

import minivi as mv
from minivi.models.ssvae import M2, classifier_error, error_rate, fit_classifier, fit_ssvae, labelled_subset


def _sp(a):
    return np.logaddexp(0.0, a)


def _tiny(seed=0, x_dim=4, K=3, hidden=5):
    """A float64 M2 with z of one dimension (so integrals over z are quadratures) and random biases."""
    with mv.default_dtype("float64"):
        m = M2(x_dim, K, 1, (hidden,), rng=mv.default_rng(seed))
    r = np.random.default_rng(seed + 100)
    for _, p in m.named_parameters():
        p.data = p.data + 0.5 * r.standard_normal(p.shape)
    return m


def _numpy_parts(m, x):
    """Brute force from the weights: log q(y|x) (n, K), q(z|x,y) loc/scale (K, n), and log p(x | y, z) as a
    function of z (K, n, Q) -> (K, n, Q)."""
    P = {k: v.numpy().astype(np.float64) for k, v in m.named_parameters()}
    logits = _sp(x @ P["enc_y.layers.0.W"] + P["enc_y.layers.0.b"]) @ P["enc_y.layers.2.W"] + P["enc_y.layers.2.b"]
    log_q = logits - logsumexp(logits, axis=1, keepdims=True)
    K = log_q.shape[1]
    h = _sp((x @ P["enc_z_x.W"] + P["enc_z_x.b"])[None] + P["enc_z_y.W"][:, None, :])     # (K, n, H)
    loc = (h @ P["enc_loc.W"] + P["enc_loc.b"])[..., 0]
    scale = np.exp(h @ P["enc_log_scale.W"] + P["enc_log_scale.b"])[..., 0]

    def log_px(z):                                                                         # z (K, n, Q)
        hd = _sp(z[..., None] * P["dec_z.W"][0] + P["dec_z.b"] + P["dec_y.W"][:, None, None, :])   # (K, n, Q, H)
        eta = hd @ P["dec_out.W"] + P["dec_out.b"]                                         # (K, n, Q, d)
        return (x[None, :, None, :] * eta - _sp(eta)).sum(-1)
    return log_q, loc, scale, log_px, K


def _brute_force(m, x, n_quad=120):
    """−L(x, y) for every y (K, n), −U(x) (n,) and log p(x) (n,), by Gauss-Hermite quadrature over z."""
    log_q, loc, scale, log_px, K = _numpy_parts(m, x)
    t, w = np.polynomial.hermite_e.hermegauss(n_quad)          # ∫ N(e; 0, 1) g(e) de ≈ Σ w g(t) / √(2π)
    w = w / np.sqrt(2 * np.pi)
    rec = (log_px(loc[..., None] + scale[..., None] * t) * w).sum(-1)              # E_q(z|x,y)[log p(x|y,z)]
    kl = -np.log(scale) + 0.5 * (scale**2 + loc**2) - 0.5
    neg_L = rec - kl - np.log(K)                                                   # (K, n)
    q = np.exp(log_q)
    neg_U = (q * neg_L.T).sum(1) - (q * log_q).sum(1)
    # log p(x) = log Σ_y p(y) ∫ N(z; 0, 1) p(x | y, z) dz
    lp = log_px(np.broadcast_to(t, loc.shape + (n_quad,)))
    log_px_marg = logsumexp(lp + np.log(w), axis=-1) - np.log(K)                    # (K, n)
    return neg_L, neg_U, logsumexp(log_px_marg, axis=0)


def test_enumerated_unlabelled_bound_matches_brute_force():
    m = _tiny()
    x = (np.random.default_rng(1).random((5, 4)) < 0.5).astype(np.float64)
    neg_L, neg_U, _ = _brute_force(m, x)
    S = 20000
    with mv.no_grad():
        got_U = m.unlabelled_bound(x, np.random.default_rng(2), n_samples=S).numpy()
        got_L = np.stack([m.labelled_bound(x, np.full(5, y), np.random.default_rng(3), n_samples=S).numpy()
                          for y in range(3)])
    # Monte Carlo error of S draws: the spread of log p(x|y,z) under q is below 3 nats here, so 5 SE < 0.11
    np.testing.assert_allclose(got_L, neg_L, atol=0.11)
    np.testing.assert_allclose(got_U, neg_U, atol=0.11)
    # with one draw the estimate is unbiased: its average over repeated calls approaches the brute force
    with mv.no_grad():
        reps = np.mean([m.unlabelled_bound(x, np.random.default_rng(10 + i)).numpy() for i in range(400)], axis=0)
    np.testing.assert_allclose(reps, neg_U, atol=0.2)


def test_unlabelled_bound_below_importance_sampled_log_marginal():
    m = _tiny(seed=4)
    x = (np.random.default_rng(5).random((6, 4)) < 0.5).astype(np.float64)
    _, neg_U, log_px = _brute_force(m, x)
    # importance sampling over (y, z), written here in NumPy, with a defensive proposal built from q: y from
    # ½ q(y | x) + ½ uniform, then z ~ N(μ(x, y), 2²) (an untrained q can be far narrower than the posterior;
    # IS needs a proposal that covers it)
    log_q, loc, scale, log_px_fn, K = _numpy_parts(m, x)
    r = np.random.default_rng(6)
    n, S, sd = len(x), 20000, 2.0
    log_prop = np.log(0.5 * np.exp(log_q) + 0.5 / K)                                    # (n, K)
    y = np.array([r.choice(K, S, p=np.exp(log_prop[i])) for i in range(n)]).T           # (S, n)
    mu = loc[y, np.arange(n)]
    z = mu + sd * r.standard_normal((S, n))
    lp = log_px_fn(np.broadcast_to(z.T[None], (K, n, S)))                                # (K, n, S)
    log_lik = np.take_along_axis(lp, y.T[None], axis=0)[0].T                            # (S, n)
    log_w = (log_lik - np.log(K) - 0.5 * z**2 - log_prop[np.arange(n)[None], y]
             + 0.5 * ((z - mu) / sd) ** 2 + np.log(sd))
    is_est = logsumexp(log_w, axis=0) - np.log(S)
    ess = np.exp(2 * logsumexp(log_w, axis=0) - logsumexp(2 * log_w, axis=0))
    se = np.sqrt(1 / ess - 1 / S)                                   # delta-method standard error of log p̂
    assert np.all(np.abs(is_est - log_px) < 5 * se + 0.01), (is_est, log_px, se)   # IS agrees with quadrature
    with mv.no_grad():
        got_U = m.unlabelled_bound(x, np.random.default_rng(7), n_samples=20000).numpy()
    assert np.all(got_U <= is_est + 5 * se + 0.05), (got_U, is_est)
    assert np.all(neg_U < log_px)
    assert np.mean(log_px - neg_U) > 0.05                           # a real gap (KL to the posterior), not equality


def _classifier_grads(m, x, rng, **kw):
    for p in m.parameters():
        p.grad = None
    m.unlabelled_bound(x, rng, **kw).mean().backward()
    return np.concatenate([p.grad.numpy().ravel() for name, p in m.named_parameters() if name.startswith("enc_y")])


def test_score_function_gradient_is_unbiased_for_the_classifier():
    """The score-function surrogate's gradient w.r.t. q(y|x)'s weights averages to enumeration's."""
    m = _tiny(seed=8)
    x = np.repeat((np.random.default_rng(9).random((1, 4)) < 0.5).astype(np.float64), 40000, axis=0)
    g_enum = _classifier_grads(m, x, np.random.default_rng(10))
    g_score = _classifier_grads(m, x, np.random.default_rng(11), y_estimator="score")
    g_base = _classifier_grads(m, x, np.random.default_rng(12), y_estimator="score", baseline=-8.0)
    scale = np.linalg.norm(g_enum)
    assert np.linalg.norm(g_score - g_enum) < 0.1 * scale
    assert np.linalg.norm(g_base - g_enum) < 0.1 * scale


def test_bad_inputs_are_named():
    m = _tiny()
    with pytest.raises(ValueError, match="labels must lie in"):
        m.labelled_bound(np.zeros((2, 4)), np.array([0, 3]), np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"shape \(n, 4\)"):
        m.unlabelled_bound(np.zeros((2, 5)), np.random.default_rng(0))
    with pytest.raises(ValueError, match="y_estimator"):
        m.unlabelled_bound(np.zeros((2, 4)), np.random.default_rng(0), y_estimator="gumbel")
    with pytest.raises(ValueError, match="likelihood"):
        M2(4, 3, 1, (5,), likelihood="poisson", rng=mv.default_rng(0))


def test_generate_and_analogies_shapes():
    m = _tiny()
    x = np.random.default_rng(0).random((3, 4))
    assert m.generate(np.array([0, 1]), np.zeros((2, 1))).shape == (2, 4)
    a = m.analogies(x, classes=[2, 0])
    assert a.shape == (3, 2, 4)
    np.testing.assert_allclose(a[:, 1], m.generate(np.zeros(3, int), m.encode(x)[0]), rtol=1e-6)


def _two_classes(rng, n, D=20):
    """Two well-separated classes (±1.5 on axis 0, noise 0.25) with a larger 2-d 'style' (sd 2 on axes 1, 2)."""
    y = rng.integers(0, 2, n)
    x = 0.25 * rng.standard_normal((n, D))
    x[:, 0] += np.where(y == 1, 1.5, -1.5)
    x[:, 1:3] += 2.0 * rng.standard_normal((n, 2))
    return x.astype(np.float32), y


def test_m2_with_4_labels_beats_the_supervised_baseline():
    """Margin: M2's mean test error below 5% and at least 10 points below the supervised MLP's (same 4 labels)."""
    errs_m2, errs_base = [], []
    for seed in range(3):
        r = np.random.default_rng(seed)
        xu, yu = _two_classes(r, 1000)
        xt, yt = _two_classes(r, 1000)
        idx = labelled_subset(yu, 2, r)
        net = fit_classifier(xu[idx], yu[idx], 200, r, hidden=(32,), n_classes=2)
        errs_base.append(classifier_error(net, xt, yt))
        m = M2(20, 2, 2, (32,), likelihood="gaussian", rng=mv.default_rng(seed))
        fit_ssvae(m, xu[idx], yu[idx], xu, 60, r, alpha=10.0, lr=3e-3, binarize=None, progress=False)
        errs_m2.append(error_rate(m.classify(xt), yt))
    assert np.mean(errs_m2) < 0.05, (errs_m2, errs_base)
    assert np.mean(errs_base) - np.mean(errs_m2) > 0.10, (errs_m2, errs_base)


def test_labelled_subset_is_balanced_and_reproducible():
    y = np.random.default_rng(0).integers(0, 10, 500)
    idx = labelled_subset(y, 3, np.random.default_rng(5))
    assert np.array_equal(np.bincount(y[idx], minlength=10), np.full(10, 3))
    assert np.array_equal(idx, labelled_subset(y, 3, np.random.default_rng(5)))
    with pytest.raises(ValueError, match="fewer than per_class"):
        labelled_subset(np.array([0, 0, 1]), 2, np.random.default_rng(0))


def test_fit_ssvae_rejects_mismatched_labels():
    m = _tiny()
    with pytest.raises(ValueError, match="as many labels"):
        fit_ssvae(m, np.zeros((3, 4)), np.array([0, 1]), np.zeros((5, 4)), 1, np.random.default_rng(0), alpha=1.0)



def test_fit_ssvae_sampled_features_draw_from_the_given_scale():
    # scale_u: each batch draws x ~ N(x_u, scale²) (M1's posterior, the paper's sampled z1); a wrong shape is named
    m = _tiny()
    rng = np.random.default_rng(0)
    x_u, y_l = np.zeros((5, 4)), np.array([0, 1])
    with pytest.raises(ValueError, match="scale_u must give one standard deviation"):
        fit_ssvae(m, x_u[:2], y_l, x_u, 1, rng, alpha=1.0, binarize=None, scale_u=np.ones((5, 1)))
    seen = []
    m.loss = lambda xl, yl, xu, *a, **k: seen.append(xu) or (m.dec_out.b.sum() * 0.0, {})
    fit_ssvae(m, x_u[:2], y_l, x_u, 40, rng, alpha=1.0, binarize=None, batch_size=5, scale_u=np.full((5, 4), 2.0))
    drawn = np.concatenate([np.asarray(s.numpy() if hasattr(s, "numpy") else s) for s in seen])
    assert abs(drawn.std() - 2.0) < 0.2 and abs(drawn.mean()) < 0.2   # 800 draws: sd of the sd about 0.05


def test_m1m2_decodes_through_m1():
    from minivi.models import DLGM
    from minivi.models.ssvae import M1M2

    m1 = DLGM(6, (5,), (3,), rng=mv.default_rng(0))
    m2 = M2(3, 4, 2, (5,), likelihood="gaussian", rng=mv.default_rng(1))
    stacked = M1M2(m1, m2)
    x = np.random.default_rng(2).random((7, 6)).astype(np.float32)
    assert stacked.classify(x).shape == (7,)
    assert stacked.analogies(x, classes=[0, 3]).shape == (7, 2, 6)
    z = np.zeros((2, 2))
    np.testing.assert_allclose(stacked.generate([1, 2], z), m1.decode(m2.generate([1, 2], z).astype(np.float32)))
    with pytest.raises(ValueError, match="M1's features"):
        M1M2(m1, M2(4, 4, 2, (5,), likelihood="gaussian", rng=mv.default_rng(1)))


def test_long_study_runs_end_to_end_in_worker_processes(tmp_path):
    # the chapter's long study (python -m minivi.models.ssvae.study) on a tiny synthetic set, in 2 spawned processes:
    # every model, label count, draw and size gets a number in [0, 1], and the record says how it was made
    from dataclasses import replace

    from minivi.models.ssvae import study

    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(10), 30)
    protos = rng.random((10, 12))
    x = np.clip(protos[y] + 0.1 * rng.standard_normal((300, 12)), 0, 1).astype(np.float32)
    cfg = replace(study.SMOKE, m1_hidden=(8,), m1_z=3, m2_hidden=(8,), top_hidden=(8,), top_z=2, max_steps=2,
                  baseline_epochs=2, labels=(20, 40), seeds=(0, 1), sizes=(0, None), m2_zs=(2, 3), alphas=(1.0, 3.0))
    res = study.run_study(x, y, x[:50], y[:50], cfg, jobs=2, log=lambda s: None)
    assert set(res["curve"]) == {20, 40}
    for row in res["curve"].values():
        assert set(row) == {"baseline", "M1 + MLP", "M2", "M1+M2"}
        assert all(len(v) == 2 and all(0 <= e <= 1 for e in v) for v in row.values())
    pool = len(np.setdiff1d(np.arange(300), np.concatenate(study.draws(y, 10, cfg.seeds))))
    assert set(res["by_size"]) == {0, pool} and all(len(v) == 2 for v in res["by_size"].values())
    assert res["validation"]["chosen_alpha"] in cfg.alphas and res["validation"]["chosen_z"] in cfg.m2_zs
    study.save_record(tmp_path / "r.json", res, cfg, "cmd")
    rec = study.load_record(tmp_path / "r.json")
    assert rec["command"] == "cmd" and rec["results"]["curve"]["20"]["M2"] == res["curve"][20]["M2"]
    assert study.load_record(tmp_path / "missing.json") is None
