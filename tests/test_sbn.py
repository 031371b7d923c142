"""The sigmoid belief network and NVIL against exact answers: log p(x, z) and log p(x) by enumerating
every z of a tiny model, the encoder's score-function gradient against the exact gradient of the free energy,
and, on MNIST in smoke mode, the variance reduction of NVIL's input-dependent baseline."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import special

import minivi as mv
from minivi.estimators import MovingAverage, NVILBaseline
from minivi.models import SBN
from minivi.models.sbn import encoder_grad_samples
from minivi.optim import Adam


def _tiny(seed=0, x_dim=6, z_dim=3):
    rng = np.random.default_rng(seed)
    m = SBN(x_dim, z_dim, rng=rng)
    for p in m.parameters():                                   # weights of size ~1 so that q and p are far from uniform
        p.data[...] = rng.normal(size=p.shape).astype(p.dtype)
    return m


def _numpy_params(m):
    f = lambda t: t.numpy().astype(np.float64)                  # noqa: E731
    return f(m.prior_logits), f(m.decoder.W), f(m.decoder.b), f(m.encoder.W), f(m.encoder.b)


def _log_bern(y, logits):
    return np.sum(y * logits - np.logaddexp(0, logits), axis=-1)


def _exact(m, x, enc_W=None):
    """log p(x) and the free energy F(x) = Σ_z q(z|x) [log p(x,z) - log q(z|x)], by enumerating all z."""
    b, W, c, V, d = _numpy_params(m)
    V = V if enc_W is None else enc_W
    zs = np.array(list(itertools.product([0.0, 1.0], repeat=len(b))))
    log_pxz = _log_bern(zs, b)[:, None] + _log_bern(x[None], (zs @ W + c)[:, None, :])    # (Z, n)
    log_q = _log_bern(zs[:, None, :], (x @ V + d)[None])                             # (Z, n)
    return special.logsumexp(log_pxz, axis=0), np.sum(np.exp(log_q) * (log_pxz - log_q), axis=0)


def test_log_joint_matches_numpy():
    m = _tiny()
    rng = np.random.default_rng(1)
    x = rng.integers(0, 2, (5, 6)).astype(np.float32)
    z = rng.integers(0, 2, (5, 3)).astype(np.float32)
    b, W, c, _, _ = _numpy_params(m)
    expected = _log_bern(z, b) + _log_bern(x, z @ W + c)
    np.testing.assert_allclose(m.log_joint(x, mv.tensor(z)).numpy(), expected, rtol=1e-5)


def test_importance_sampled_log_likelihood_approaches_the_exact_one():
    m = _tiny()
    x = np.random.default_rng(2).integers(0, 2, (4, 6)).astype(np.float32)
    exact, elbo = _exact(m, x)
    assert np.all(elbo < exact)                                  # Jensen
    est = m.log_likelihood(x, 20_000, np.random.default_rng(3))
    np.testing.assert_allclose(est, exact, atol=0.02)
    one = np.mean([m.elbo(x, np.random.default_rng(s)) for s in range(2000)], axis=0)
    np.testing.assert_allclose(one, elbo, atol=0.15)             # a one-sample IS estimate is the ELBO on average


@pytest.mark.parametrize("control", ["none", "nvil"])
def test_encoder_score_gradient_is_unbiased(control):
    """The mean of many NVIL encoder-gradient estimates against central differences of the exact free energy."""
    m = _tiny()
    x = np.random.default_rng(4).integers(0, 2, (3, 6)).astype(np.float32)
    if control == "none":
        centre = lambda l, x: l                                  # noqa: E731
    else:
        base = NVILBaseline(6, 8, rng=np.random.default_rng(5))
        base.mean = -5.0                                         # any b(x) that does not look at z keeps it unbiased
        centre = lambda l, x: l - base.baseline(x)               # noqa: E731
    tiled = np.tile(x, (100, 1))                                 # each estimate averages 100 draws per datapoint
    g = encoder_grad_samples(m, tiled, np.random.default_rng(6), centre, repeats=300)
    V = _numpy_params(m)[3]
    exact = np.zeros_like(V)
    h = 1e-5
    for idx in np.ndindex(V.shape):
        up, down = V.copy(), V.copy()
        up[idx] += h
        down[idx] -= h
        exact[idx] = (np.mean(_exact(m, x, up)[1]) - np.mean(_exact(m, x, down)[1])) / (2 * h)
    est = g[:, : V.size].mean(axis=0)
    se = g[:, : V.size].std(axis=0) / np.sqrt(len(g))
    z = (est - exact.ravel()) / se
    assert np.all(np.abs(z) < 4.5), z


def test_nvil_baseline_lowers_the_encoder_gradient_variance_on_mnist():
    """Smoke-mode NVIL on 1,000 binarised digits: on the same minibatches, the input-dependent baseline's
    encoder gradient has at least 10x less variance than no baseline, and less than the moving average's."""
    try:
        x, _ = mv.data.load_mnist(split="train", download=False, verbose=False)
    except FileNotFoundError:
        pytest.skip("no MNIST files (set MINIVI_DATA)")
    x = mv.data.binarize(x[:1000], method="sample", rng=np.random.default_rng(0))
    rng = np.random.default_rng(1)
    m = SBN(784, 50, rng=np.random.default_rng(2), data_mean=x.mean(0))
    base = NVILBaseline(784, 50, rng=np.random.default_rng(3))
    ma = MovingAverage(0.9)
    opt = Adam(m.parameters() + base.parameters(), lr=3e-3)
    for epoch in range(3):
        for i in range(0, len(x), 50):
            loss, l = m.loss(x[i:i + 50], rng, base)
            ma.update(l)                                          # tracked alongside, for the comparison
            opt.zero_grad()
            loss.backward()
            opt.step()
    var = {}
    for name, centre in [("none", lambda l, xb: l), ("moving average", lambda l, xb: l - ma.value),
                         ("nvil", lambda l, xb: l - base.baseline(xb))]:
        total = 0.0
        for i in range(0, 200, 50):
            g = encoder_grad_samples(m, x[i:i + 50], np.random.default_rng(10 + i), centre, repeats=20)
            total += g.var(axis=0, ddof=1).sum()
        var[name] = total
    assert var["none"] / var["nvil"] > 10, var
    assert var["nvil"] < var["moving average"], var


def test_nvil_baseline_centres_with_earlier_statistics_and_normalises():
    """Step 1 initialises c̄ and v from its own batch; later steps use the values from before the step, divide by
    max(1, √v), and update afterwards with decay α; the network's loss is the squared error to l - c̄."""
    base = NVILBaseline(4, 3, rng=np.random.default_rng(0), decay=0.5, input_dependent=False)
    l1 = np.array([-100.0, -110.0, -90.0])
    a1, loss = base.learning_signal(l1, np.zeros((3, 4)))
    assert loss is None
    np.testing.assert_allclose(a1, (l1 - l1.mean()) / np.sqrt(l1.var()))
    mean1, var1 = base.mean, base.var
    l2 = np.array([-50.0, -52.0, -48.0])
    a2, _ = base.learning_signal(l2, np.zeros((3, 4)))
    np.testing.assert_allclose(a2, (l2 - mean1) / max(1.0, np.sqrt(var1)))
    assert base.mean == pytest.approx(0.5 * mean1 + 0.5 * l2.mean())
    assert base.var == pytest.approx(0.5 * var1 + 0.5 * l2.var())
    net = NVILBaseline(4, 3, rng=np.random.default_rng(0))
    x = np.random.default_rng(1).normal(size=(3, 4)).astype(np.float32)
    _, loss = net.learning_signal(l1, x)
    cx = net(x).numpy()
    assert loss.item() == pytest.approx(np.mean((l1 - net.mean - cx) ** 2), rel=1e-4)
