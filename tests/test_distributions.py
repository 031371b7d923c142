"""minivi.distributions: log-densities against scipy, moments, reparameterised gradients, KL, validation."""
from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes
from scipy import special, stats

import minivi as mv
from minivi.distributions import (Bernoulli, Categorical, CensoredNormal, Distribution, Gamma, Laplace, Normal,
                                  OrderedLogistic, Poisson, kl_divergence, register_kl)


def t64(x, requires_grad=False):
    return mv.tensor(x, dtype="float64", requires_grad=requires_grad)


def ordinal_log_probs(eta, cut):
    """P(y = k) = σ(φ_k - η) - σ(φ_{k-1} - η), computed directly (φ_{-1} = -∞, φ_{K-1} = +∞)."""
    cdf = special.expit(np.concatenate([[-np.inf], cut, [np.inf]])[None, :] - eta[:, None])
    return np.log(np.diff(cdf, axis=1))


# ---------------------------------------------------------------------------------------
# log_prob against scipy (float64, random parameters)
# ---------------------------------------------------------------------------------------
def _cases(rng, n=40):
    """(name, distribution, observed values, scipy's log-density) for every family."""
    loc, scale = rng.normal(size=n), rng.uniform(0.2, 3.0, n)
    y = rng.normal(size=n) * 2
    logits = rng.normal(size=n) * 3
    yb = rng.integers(0, 2, n)
    k = 4
    cat_logits = rng.normal(size=(n, k)) * 2
    labels = rng.integers(0, k, n)
    rate = rng.uniform(0.1, 20, n)
    counts = rng.poisson(rate)
    a, b = rng.uniform(0.3, 5, n), rng.uniform(0.2, 4, n)
    ypos = rng.gamma(2.0, 1.0, n) + 1e-3
    eta, cut = rng.normal(size=n) * 2, np.sort(rng.normal(size=k - 1) * 2)
    ycens = np.maximum(0.0, loc + scale * rng.normal(size=n))
    return [
        ("normal", Normal(t64(loc), t64(scale)), y, stats.norm.logpdf(y, loc, scale)),
        ("laplace", Laplace(t64(loc), t64(scale)), y, stats.laplace.logpdf(y, loc, scale)),
        ("bernoulli-logits", Bernoulli(logits=t64(logits)), yb, stats.bernoulli.logpmf(yb, special.expit(logits))),
        ("bernoulli-probs", Bernoulli(probs=t64(special.expit(logits))), yb,
         stats.bernoulli.logpmf(yb, special.expit(logits))),
        ("categorical-logits", Categorical(logits=t64(cat_logits)), labels,
         stats.multinomial.logpmf(np.eye(k)[labels], 1, special.softmax(cat_logits, axis=1))),
        ("categorical-probs", Categorical(probs=t64(special.softmax(cat_logits, axis=1))), labels,
         stats.multinomial.logpmf(np.eye(k)[labels], 1, special.softmax(cat_logits, axis=1))),
        ("poisson-rate", Poisson(rate=t64(rate)), counts, stats.poisson.logpmf(counts, rate)),
        ("poisson-log_rate", Poisson(log_rate=t64(np.log(rate))), counts, stats.poisson.logpmf(counts, rate)),
        ("gamma", Gamma(t64(a), t64(b)), ypos, stats.gamma.logpdf(ypos, a, scale=1 / b)),
        ("ordinal", OrderedLogistic(t64(eta), t64(cut)), labels, ordinal_log_probs(eta, cut)[np.arange(n), labels]),
        ("censored", CensoredNormal(t64(loc), t64(scale)), ycens,
         np.where(ycens == 0, stats.norm.logcdf(0.0, loc, scale), stats.norm.logpdf(ycens, loc, scale))),
    ]


CASE_NAMES = [c[0] for c in _cases(np.random.default_rng(0))]


@pytest.mark.parametrize("name", CASE_NAMES)
@pytest.mark.parametrize("seed", [0, 1])
def test_log_prob_matches_scipy(name, seed):
    _, dist, y, expected = next(c for c in _cases(np.random.default_rng(seed)) if c[0] == name)
    got = dist.log_prob(y)
    assert got.dtype == np.float64 and got.shape == expected.shape
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-9, atol=1e-9)


def test_censored_sample_has_atoms_at_the_censoring_point():
    y = CensoredNormal(t64([0.0]), t64([1.0])).sample(np.random.default_rng(0), 10_000).numpy()
    assert abs((y == 0).mean() - 0.5) < 0.02 and (y >= 0).all()


@settings(max_examples=40, deadline=None)
@given(shapes=mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=4), seed=st.integers(0, 2**16))
def test_normal_broadcasts_like_numpy(shapes, seed):
    rng = np.random.default_rng(seed)
    (s_loc, s_scale, s_y), out = shapes.input_shapes, shapes.result_shape
    loc, scale, y = rng.normal(size=s_loc), rng.uniform(0.5, 2, s_scale), rng.normal(size=s_y)
    d = Normal(t64(loc), t64(scale))
    assert d.batch_shape == np.broadcast_shapes(s_loc, s_scale)
    lp = d.log_prob(t64(y))
    assert lp.shape == out
    np.testing.assert_allclose(lp.numpy(), stats.norm.logpdf(y, loc, scale), rtol=1e-10, atol=1e-12)
    assert d.sample(rng, (2,)).shape == (2,) + d.batch_shape


@settings(max_examples=25, deadline=None)
@given(batch=st.lists(st.integers(1, 4), max_size=2).map(tuple), k=st.integers(2, 5), seed=st.integers(0, 2**16))
def test_categorical_batch_shapes(batch, k, seed):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=batch + (k,))
    labels = rng.integers(0, k, size=batch)
    d = Categorical(logits=t64(logits))
    assert d.batch_shape == batch and d.n_classes == k
    expected = np.take_along_axis(special.log_softmax(logits, axis=-1), labels[..., None], -1)[..., 0]
    np.testing.assert_allclose(d.log_prob(labels).numpy(), expected, rtol=1e-10, atol=1e-12)
    assert d.sample(rng, 3).shape == (3,) + batch


# ---------------------------------------------------------------------------------------
# moments, entropies
# ---------------------------------------------------------------------------------------
N_SAMPLES = 100_000


def _moment_dists():
    return {
        "normal": Normal(t64([-1.0, 2.0]), t64([0.5, 3.0])),
        "laplace": Laplace(t64([0.5, -2.0]), t64([0.3, 2.0])),
        "bernoulli": Bernoulli(logits=t64([-2.0, 0.0, 1.5])),
        "poisson": Poisson(rate=t64([0.3, 4.0, 30.0])),
        "gamma": Gamma(t64([1.0, 4.0]), t64([2.0, 0.5])),
        "censored": CensoredNormal(t64([-0.5, 1.0]), t64([1.0, 0.5])),
        "ordinal": OrderedLogistic(t64([-1.0, 0.5, 3.0]), t64([-1.0, 0.0, 2.0])),
    }


@pytest.mark.parametrize("name", list(_moment_dists()))
def test_sample_moments_match_analytic(name):
    d = _moment_dists()[name]
    y = d.sample(np.random.default_rng(42), N_SAMPLES)
    assert y.shape == (N_SAMPLES,) + d.batch_shape and not y.requires_grad
    y = y.numpy()
    mean, var = d.mean.numpy(), d.variance.numpy()
    se = np.sqrt(var / N_SAMPLES)
    assert np.all(np.abs(y.mean(0) - mean) < 5 * se), (y.mean(0), mean)
    np.testing.assert_allclose(y.var(0), var, rtol=0.04)


def test_categorical_sample_frequencies_match_probs():
    p = np.array([0.1, 0.6, 0.3])
    y = Categorical(probs=t64(p)).sample(np.random.default_rng(3), N_SAMPLES).numpy()
    freq = np.bincount(y.astype(int), minlength=3) / N_SAMPLES
    assert np.all(np.abs(freq - p) < 5 * np.sqrt(p * (1 - p) / N_SAMPLES))


def test_entropies_match_scipy():
    np.testing.assert_allclose(Normal(t64([0.0, 1.0]), t64([0.5, 2.0])).entropy().numpy(),
                               stats.norm.entropy(scale=[0.5, 2.0]))
    np.testing.assert_allclose(Laplace(t64([0.0]), t64([1.7])).entropy().numpy(), stats.laplace.entropy(scale=1.7))
    np.testing.assert_allclose(Gamma(t64([0.5, 3.0]), t64([2.0, 0.1])).entropy().numpy(),
                               stats.gamma.entropy([0.5, 3.0], scale=[0.5, 10.0]))
    np.testing.assert_allclose(Bernoulli(logits=t64([-3.0, 0.0, 2.0])).entropy().numpy(),
                               stats.bernoulli.entropy(special.expit([-3.0, 0.0, 2.0])))
    p = np.array([[0.2, 0.5, 0.3], [0.9, 0.05, 0.05]])
    np.testing.assert_allclose(Categorical(probs=t64(p)).entropy().numpy(), stats.entropy(p, axis=1))
    o = OrderedLogistic(t64([0.3]), t64([-1.0, 1.0]))
    np.testing.assert_allclose(o.entropy().numpy(), stats.entropy(np.exp(ordinal_log_probs(np.array([0.3]), np.array([-1.0, 1.0]))), axis=1))


# ---------------------------------------------------------------------------------------
# gradients: rsample and log_prob
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("family", [Normal, Laplace, CensoredNormal])
def test_rsample_gradients(family):
    loc, scale = t64([0.3, -0.4, 1.2]), t64([0.7, 1.5, 0.4])

    def draw(loc, scale):  # the same ε on every call: a fresh generator with a fixed seed
        return family(loc, scale).rsample(np.random.default_rng(7), (5,))

    assert draw(loc, scale).shape == (5, 3)
    assert mv.gradcheck(draw, loc, scale)


def test_rsample_is_differentiable_and_sample_is_not():
    loc = t64([1.0, 2.0], requires_grad=True)
    d = Normal(loc, 1.0)
    assert d.rsample(np.random.default_rng(0), 3).requires_grad
    assert not d.sample(np.random.default_rng(0), 3).requires_grad
    with pytest.raises(NotImplementedError, match="reparameterised"):
        Gamma(2.0, 1.0).rsample(np.random.default_rng(0))


def _log_prob_fns(rng):
    n, k = 6, 4
    y = rng.normal(size=n)
    yb = rng.integers(0, 2, n)
    labels = rng.integers(0, k, n)
    counts = rng.poisson(3.0, n)
    ypos = rng.gamma(2.0, 1.0, n)
    ycens = np.where(rng.random(n) < 0.4, 0.0, rng.uniform(0.1, 2, n))
    return {
        "normal": (lambda m, s: Normal(m, s).log_prob(y), [rng.normal(size=n), rng.uniform(0.5, 2, n)]),
        "laplace": (lambda m, s: Laplace(m, s).log_prob(y + 0.05), [rng.normal(size=n), rng.uniform(0.5, 2, n)]),
        "bernoulli-logits": (lambda e: Bernoulli(logits=e).log_prob(yb), [rng.normal(size=n) * 3]),
        "bernoulli-probs": (lambda p: Bernoulli(probs=p).log_prob(yb), [rng.uniform(0.1, 0.9, n)]),
        "categorical": (lambda e: Categorical(logits=e).log_prob(labels), [rng.normal(size=(n, k))]),
        "poisson-rate": (lambda r: Poisson(rate=r).log_prob(counts), [rng.uniform(0.5, 5, n)]),
        "poisson-log_rate": (lambda e: Poisson(log_rate=e).log_prob(counts), [rng.normal(size=n)]),
        "gamma": (lambda a, b: Gamma(a, b).log_prob(ypos), [rng.uniform(0.5, 4, n), rng.uniform(0.5, 3, n)]),
        "ordinal": (lambda e, c: OrderedLogistic(e, c).log_prob(labels), [rng.normal(size=n) * 2, np.array([-1.0, 0.2, 1.5])]),
        "censored": (lambda m, s: CensoredNormal(m, s).log_prob(ycens), [rng.normal(size=n), rng.uniform(0.5, 2, n)]),
    }


@pytest.mark.parametrize("name", list(_log_prob_fns(np.random.default_rng(0))))
def test_log_prob_gradients(name):
    fn, inputs = _log_prob_fns(np.random.default_rng(11))[name]
    assert mv.gradcheck(fn, *inputs)


def test_entropy_and_kl_gradients():
    assert mv.gradcheck(lambda e: Categorical(logits=e).entropy(), np.random.default_rng(0).normal(size=(2, 3)))
    assert mv.gradcheck(lambda a, b: Gamma(a, b).entropy(), np.array([0.7, 3.0]), np.array([1.5, 0.4]))
    assert mv.gradcheck(lambda m, s: kl_divergence(Normal(m, s), Normal(0.3, 1.2)), np.array([0.1, -1.0]), np.array([0.5, 2.0]))


# ---------------------------------------------------------------------------------------
# KL divergences: closed forms against Monte Carlo
# ---------------------------------------------------------------------------------------
KL_PAIRS = {
    "normal": (Normal(t64([0.0, 1.0]), t64([1.0, 0.5])), Normal(t64([0.5, -1.0]), t64([2.0, 1.0]))),
    "bernoulli": (Bernoulli(logits=t64([-1.0, 2.0])), Bernoulli(logits=t64([0.5, -0.5]))),
    "categorical": (Categorical(logits=t64([[0.0, 1.0, -1.0]])), Categorical(probs=t64([[0.2, 0.3, 0.5]]))),
    "laplace": (Laplace(t64([0.0, 2.0]), t64([1.0, 0.5])), Laplace(t64([1.0, 0.0]), t64([2.0, 1.5]))),
    "gamma": (Gamma(t64([2.0, 0.8]), t64([1.0, 3.0])), Gamma(t64([3.0, 1.0]), t64([0.5, 2.0]))),
    "poisson": (Poisson(rate=t64([1.0, 10.0])), Poisson(rate=t64([2.0, 7.0]))),
}


@pytest.mark.parametrize("name", list(KL_PAIRS))
def test_kl_closed_form_matches_monte_carlo(name):
    p, q = KL_PAIRS[name]
    y = p.sample(np.random.default_rng(5), N_SAMPLES)
    ratio = (p.log_prob(y) - q.log_prob(y)).numpy()
    mc, se = ratio.mean(0), ratio.std(0) / np.sqrt(N_SAMPLES)
    exact = kl_divergence(p, q).numpy()
    assert np.all(np.abs(mc - exact) < 5 * se + 1e-9), (mc, exact, se)
    assert np.all(kl_divergence(p, p).numpy() < 1e-12)


def test_kl_registry_error_and_registration():
    with pytest.raises(NotImplementedError, match=r"Normal‖Normal.*Monte Carlo"):
        kl_divergence(Normal(0.0, 1.0), Laplace(0.0, 1.0))

    class Wide(Normal):
        pass

    assert kl_divergence(Wide(0.0, 1.0), Normal(0.0, 1.0)).item() == 0.0  # found through the base class
    register_kl(Normal, Laplace)(lambda p, q: mv.zeros(()))
    try:
        assert kl_divergence(Normal(0.0, 1.0), Laplace(0.0, 1.0)).item() == 0.0
    finally:
        from minivi.distributions.kl import _KL_REGISTRY
        del _KL_REGISTRY[(Normal, Laplace)]


# ---------------------------------------------------------------------------------------
# stability at extreme parameters
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_extreme_logits_give_finite_log_probs_and_gradients(dtype):
    big = [-1e4, -50.0, 0.0, 50.0, 1e4]
    cases = [
        (lambda e: Bernoulli(logits=e).log_prob(np.array([1, 0, 1, 0, 1])).sum(), big),
        (lambda e: Bernoulli(logits=e).log_prob(np.array([0, 1, 0, 1, 0])).sum(), big),
        (lambda e: Categorical(logits=mv.stack([e, -e, e * 0.0], axis=-1)).log_prob(np.array([0, 1, 2, 0, 1])).sum(), big),
        (lambda e: OrderedLogistic(e, np.array([-1.0, 0.0, 1.0])).log_prob(np.array([0, 3, 1, 2, 0])).sum(), big),
        (lambda e: CensoredNormal(e, 1.0).log_prob(np.array([0.0, 0.0, 2.0, 0.0, 3.0])).sum(), big),
        (lambda e: Bernoulli(logits=e).entropy().sum(), big),
    ]
    for fn, values in cases:
        e = mv.tensor(values, dtype=dtype, requires_grad=True)
        out = fn(e)
        out.backward()
        assert np.isfinite(out.item()), fn
        assert np.all(np.isfinite(e.grad.numpy())), fn


def test_bernoulli_kl_finite_at_extreme_logits():
    kl = kl_divergence(Bernoulli(logits=t64([1e4, -1e4, 1e4])), Bernoulli(logits=t64([-1e4, -1e4, 0.0])))
    assert np.all(np.isfinite(kl.numpy()))
    np.testing.assert_allclose(kl.numpy(), [1e4, 0.0, np.log(2)], rtol=1e-6)  # first: log μ_p - log μ_q = 0 - (-1e4)


# ---------------------------------------------------------------------------------------
# validation, dtypes
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("make, match", [
    (lambda: Normal(0.0, 0.0), "scale must be positive"),
    (lambda: Normal([0.0, 1.0], [1.0, -1.0]), "scale must be positive"),
    (lambda: Laplace(0.0, -2.0), "scale must be positive"),
    (lambda: CensoredNormal(0.0, 0.0), "scale must be positive"),
    (lambda: Gamma(-1.0, 1.0), "concentration must be positive"),
    (lambda: Gamma(1.0, 0.0), "rate must be positive"),
    (lambda: Poisson(rate=[1.0, 0.0]), "rate must be positive"),
    (lambda: Bernoulli(probs=[0.5, 1.5]), r"probs must lie in \[0, 1\]"),
    (lambda: Categorical(probs=[0.5, 0.6]), "sum to 1"),
    (lambda: Categorical(logits=1.0), "needs a last axis"),
    (lambda: Bernoulli(logits=0.0, probs=0.5), "exactly one"),
    (lambda: Poisson(), "exactly one"),
    (lambda: Normal(np.zeros(3), np.ones(4)), r"do not broadcast \(loc \(3,\), scale \(4,\)\)"),
    (lambda: OrderedLogistic(0.0, [0.0, -1.0]), "strictly increasing"),
    (lambda: Normal([0.0, np.nan], 1.0), "loc contains NaN"),
    (lambda: Bernoulli(logits=mv.tensor([np.nan])), "logits contains NaN"),
    (lambda: Normal(np.zeros(3), 1.0).log_prob(np.zeros(4)), "do not broadcast"),
    (lambda: Bernoulli(logits=[0.0, 0.0]).log_prob([0.0, 2.0]), "must be 0 or 1"),
    (lambda: Categorical(logits=np.zeros((2, 3))).log_prob([0, 3]), r"labels must lie in 0..2"),
    (lambda: Categorical(logits=np.zeros((2, 3))).log_prob([0, -1]), r"labels must lie in 0..2"),
    (lambda: Categorical(logits=np.zeros((2, 3))).log_prob([0.0, 1.5]), "whole numbers"),
    (lambda: OrderedLogistic([0.0, 1.0], [0.0, 1.0]).log_prob([0, 3]), r"labels must lie in 0..2"),
    (lambda: Poisson(rate=[1.0, 1.0]).log_prob([1.0, -1.0]), "counts"),
    (lambda: Poisson(rate=[1.0, 1.0]).log_prob([1.0, 0.5]), "counts"),
    (lambda: Gamma(1.0, 1.0).log_prob([1.0, 0.0]), "positive"),
    (lambda: CensoredNormal(0.0, 1.0, lower=1.0).log_prob([0.5]), "≥ lower"),
])
def test_validation_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_validation_can_be_switched_off():
    d = Bernoulli(logits=[0.0], validate_args=False)
    assert np.isfinite(d.log_prob([2.0]).item())


def test_dtypes_follow_the_parameters():
    w64 = t64([0.5, -1.0], requires_grad=True)
    lp = Normal(0.0, 1.0).log_prob(w64)  # constant parameters adapt to the value's dtype
    assert lp.dtype == np.float64 and lp.requires_grad
    assert Laplace(0.0, 2.0).log_prob(mv.tensor([1.0])).dtype == np.float32
    with pytest.raises(TypeError, match="convert"):
        Normal(mv.tensor([0.0]), 1.0).log_prob(w64)
    with pytest.raises(TypeError, match="one dtype"):
        Normal(mv.tensor([0.0]), t64([1.0]))
    assert Normal(t64([0.0]), 1.0).sample(np.random.default_rng(0), 2).dtype == np.float64


def test_rng_must_be_a_generator():
    with pytest.raises(TypeError, match="default_rng"):
        Normal(0.0, 1.0).sample(np.random.RandomState(0))


def test_base_class_and_repr():
    assert isinstance(Normal(0.0, 1.0), Distribution)
    assert "loc" in repr(Normal(np.zeros(2), 1.0))
    with pytest.raises(NotImplementedError):
        Poisson(rate=1.0).entropy()


# ---------------------------------------------------------------------------------------
# GPU (skipped without CuPy and a CUDA device)
# ---------------------------------------------------------------------------------------
@pytest.mark.gpu
@pytest.mark.parametrize("name", CASE_NAMES)
def test_log_prob_and_sample_on_gpu(name):
    _, dist, y, expected = next(c for c in _cases(np.random.default_rng(0)) if c[0] == name)
    gpu = copy.copy(dist)
    for p in dist.params:
        setattr(gpu, p, getattr(dist, p).to("cuda"))
    lp = gpu.log_prob(y)  # NumPy observations are moved to the parameters' device
    assert lp.device == "cuda"
    np.testing.assert_allclose(lp.numpy(), expected, rtol=1e-9, atol=1e-9)
    draw = gpu.sample(mv.default_rng(0, device="cuda"), 3)
    assert draw.device == "cuda" and draw.shape == (3,) + dist.batch_shape
    with pytest.raises(RuntimeError, match="device"):
        gpu.sample(np.random.default_rng(0))


@pytest.mark.gpu
def test_rsample_and_kl_on_gpu():
    loc = mv.tensor([0.5, -1.0], dtype="float64", device="cuda", requires_grad=True)
    q = Normal(loc, 2.0)
    q.rsample(mv.default_rng(0, device="cuda"), 4).sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), [4.0, 4.0])
    kl = kl_divergence(q, Normal(0.0, 1.0))  # the constant prior follows q to the GPU
    assert kl.device == "cuda"


# ---------------------------------------------------------------------------------------
# regressions from issue 7
# ---------------------------------------------------------------------------------------
def test_categorical_with_minus_inf_logits_matches_torch():
    """Item 9: entropy and KL to a uniform were NaN (0 · -inf); PyTorch gives 0 and log 2."""
    torch = pytest.importorskip("torch")
    logits = [[0.0, -np.inf], [1.0, -np.inf], [0.5, 0.2]]
    e = t64(logits, requires_grad=True)
    p, u = Categorical(logits=e), Categorical(logits=t64(np.zeros((3, 2))))
    tp = torch.distributions.Categorical(logits=torch.tensor(logits, dtype=torch.float64))
    tu = torch.distributions.Categorical(logits=torch.zeros(3, 2, dtype=torch.float64))
    np.testing.assert_allclose(p.entropy().numpy(), tp.entropy().numpy(), rtol=1e-14, atol=1e-300)
    kl = kl_divergence(p, u)
    np.testing.assert_allclose(kl.numpy(), torch.distributions.kl_divergence(tp, tu).numpy(), rtol=1e-14)
    assert kl.numpy()[0] == pytest.approx(np.log(2), rel=1e-15)
    (kl.sum() + p.entropy().sum()).backward()
    assert np.isfinite(e.grad.numpy()).all()  # no NaN leaks into the gradient either
    np.testing.assert_allclose(kl_divergence(u, p).numpy(), torch.distributions.kl_divergence(tu, tp).numpy())  # inf, inf, finite
    assert p.log_prob([0, 0, 1]).numpy()[0] == 0.0 and p.log_prob([1, 0, 0]).numpy()[0] == -np.inf
    with pytest.raises(ValueError, match=r"\+inf"):
        Categorical(logits=[0.0, np.inf])
    with pytest.raises(ValueError, match="every row of logits is -inf"):
        Categorical(logits=[-np.inf, -np.inf])


def test_constant_parameters_keep_float64_precision_in_derived_parameters():
    """Item 17: Bernoulli(probs=0.3) derived its logit in float32, so log_prob(float64 1) - log 0.3 was 9.2e-9."""
    one = t64(1.0)
    assert abs(Bernoulli(probs=0.3).log_prob(one).item() - np.log(0.3)) < 1e-15
    assert abs(Bernoulli(probs=[0.3]).log_prob(t64([0.0])).item() - np.log(0.7)) < 1e-15
    assert abs(Bernoulli(logits=0.3).log_prob(one).item() - np.log(special.expit(0.3))) < 1e-15
    assert abs(Categorical(probs=[0.3, 0.7]).log_prob(0).item() - np.log(0.3)) < 1e-6  # labels: float32 stays
    assert abs(Poisson(rate=0.3).log_prob(one).item() - stats.poisson.logpmf(1, 0.3)) < 1e-15
    assert abs(Poisson(log_rate=0.3).log_prob(one).item() - stats.poisson.logpmf(1, np.exp(0.3))) < 1e-15
    assert abs(kl_divergence(Bernoulli(probs=0.3), Bernoulli(logits=t64(0.0))).item()
               - stats.entropy([0.3, 0.7], [0.5, 0.5])) < 1e-15
    d = Bernoulli(probs=0.3)  # float32 values still work after a float64 call, and vice versa
    assert d.log_prob(mv.tensor(1.0)).dtype == np.float32 and d.log_prob(one).dtype == np.float64


@pytest.mark.parametrize("make, match", [
    (lambda: Normal(0.0, 1.0).log_prob(np.nan), "NaN or inf"),
    (lambda: Normal(0.0, 1.0).log_prob([0.0, np.inf]), "NaN or inf"),
    (lambda: Poisson(2.0).log_prob(np.inf), "NaN or inf"),
    (lambda: Laplace(0.0, 1.0).log_prob(-np.inf), "NaN or inf"),
    (lambda: Gamma(2.0, 1.0).log_prob(np.inf), "NaN or inf"),
    (lambda: Bernoulli(logits=0.0).log_prob(np.nan), "NaN or inf"),
    (lambda: CensoredNormal(0.0, 1.0).log_prob(np.inf), "NaN or inf"),
    (lambda: Categorical(logits=[0.0, 1.0]).log_prob(np.nan), "NaN or inf"),
    (lambda: OrderedLogistic(0.0, [0.0, 1.0]).log_prob(np.inf), "NaN or inf"),
    (lambda: Normal(0.0, np.inf), "scale contains inf"),
    (lambda: Normal(np.inf, 1.0), "loc contains inf"),
    (lambda: Laplace(0.0, np.inf), "scale contains inf"),
    (lambda: Gamma(np.inf, 1.0), "concentration contains inf"),
    (lambda: Poisson(rate=np.inf), "rate contains inf"),
    (lambda: Poisson(log_rate=np.nan), "log_rate contains NaN"),
    (lambda: Bernoulli(logits=-np.inf), "logits contains inf"),
    (lambda: OrderedLogistic(0.0, [0.0, np.inf]), "cutpoints contains inf"),
    (lambda: CensoredNormal(0.0, np.inf), "scale contains inf"),
])
def test_nan_and_inf_parameters_and_values_are_rejected(make, match):
    """Survey: Normal(0,1).log_prob(nan), Poisson(2).log_prob(inf) and Normal(0, inf) passed unchecked."""
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("family", ["Normal", "Laplace", "CensoredNormal", "Bernoulli", "Categorical", "Poisson",
                                    "Gamma", "OrderedLogistic"])
@pytest.mark.parametrize("method", ["sample", "rsample"])
def test_samplers_check_rng_before_using_it(family, method):
    """Normal(0,1).sample(None) raised AttributeError ('NoneType' has no attribute ...) before the rng check."""
    make = {"Normal": lambda: Normal(0.0, 1.0), "Laplace": lambda: Laplace(0.0, 1.0),
            "CensoredNormal": lambda: CensoredNormal(0.0, 1.0), "Bernoulli": lambda: Bernoulli(logits=0.0),
            "Categorical": lambda: Categorical(logits=[0.0, 1.0]), "Poisson": lambda: Poisson(1.0),
            "Gamma": lambda: Gamma(1.0, 1.0), "OrderedLogistic": lambda: OrderedLogistic(0.0, [0.0])}[family]
    d = make()
    if method == "rsample" and family not in ("Normal", "Laplace", "CensoredNormal"):
        with pytest.raises(NotImplementedError, match="reparameterised"):
            d.rsample(np.random.default_rng(0))
        return
    for bad in (None, 0, np.random.RandomState(0)):
        with pytest.raises(TypeError, match=rf"{family}\.sample/rsample.*rng must be a numpy.random.Generator"):
            getattr(d, method)(bad)
    with pytest.raises(TypeError, match="sample_shape must be an int or a tuple"):
        getattr(d, method)(np.random.default_rng(0), 2.5)
