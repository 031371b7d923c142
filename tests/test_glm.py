"""minivi.glm: every row of the link table recovers its weights; NLLs against scipy; Newton, IRLS,
MAP, natural gradients, bootstrap helpers."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, special, stats

import minivi as mv
from minivi.distributions import Laplace, Normal
from minivi.glm import (GLM, LINKS, bootstrap, get_link, hessian, irls_logistic, link_table, minimize_newton,
                        natural_gradient_step, newton_step, percentile_interval, simulate_glm)
from minivi.glm.links import log_cloglog_mean


def t64(x, requires_grad=False):
    return mv.tensor(x, dtype="float64", requires_grad=requires_grad)


def n_classes_of(name):
    return {"softmax": 3, "cumulative_logit": 4}.get(name)


# ---------------------------------------------------------------------------------------
# every row recovers its true weights (n = 4000, Newton, float64: well under 1 s each)
# ---------------------------------------------------------------------------------------
TOL = 0.15  # max |fitted - true| over w and b; the standard errors at n = 4000 are ≈ 0.01-0.04


@pytest.mark.parametrize("name", list(LINKS))
def test_every_row_recovers_its_true_weights(name):
    rng = np.random.default_rng(sorted(LINKS).index(name))
    X, y, w, b = simulate_glm(name, 4000, 3, rng)
    with mv.default_dtype("float64"):
        model = GLM(3, link=name, n_classes=n_classes_of(name)).fit(X, y, method="newton")
    w_fit = model.w.numpy()
    if name == "softmax":  # only differences between classes are identified: compare centred columns
        w_fit = w_fit - w_fit.mean(axis=1, keepdims=True)
    assert np.abs(w_fit - w).max() < TOL, (w_fit, w)
    if b is not None:
        b_fit = model.b.numpy() - (model.b.numpy().mean() if name == "softmax" else 0.0)
        assert np.abs(b_fit - b).max() < TOL, (b_fit, b)
    truth = {"scale": 1.0, "concentration": 1.0, "cutpoints": np.array([-1.0, 0.0, 1.0])}
    for extra, value in model.extras.items():
        np.testing.assert_allclose(value.numpy(), truth[extra], atol=TOL)
    assert len(model.history) < 30 and np.isfinite(model.history[-1])


def test_simulated_data_types():
    rng = np.random.default_rng(0)
    for name in LINKS:
        X, y, w, b = simulate_glm(name, 50, 2, rng)
        assert X.shape == (50, 2) and y.shape == (50,)
        if name in ("softmax", "cumulative_logit"):
            assert y.dtype == np.int64
        if name in ("logit", "probit", "cloglog", "tanh"):
            assert set(np.unique(y)) <= {0.0, 1.0}
    X, y, w, b = simulate_glm("identity", 10, 2, rng, w=[1.0, 2.0], b=0.5, scale=1e-9)
    np.testing.assert_allclose(y, X @ [1.0, 2.0] + 0.5, atol=1e-6)


# ---------------------------------------------------------------------------------------
# logistic regression: engine vs IRLS vs scipy
# ---------------------------------------------------------------------------------------
def _logistic_data(seed=0, n=500):
    return simulate_glm("logit", n, 4, np.random.default_rng(seed))[:2]


def test_logistic_newton_equals_irls_and_scipy():
    X, y = _logistic_data()
    with mv.default_dtype("float64"):
        model = GLM(4, "logit").fit(X, y, method="newton", tol=1e-12)
    ours = np.append(model.w.numpy(), model.b.item())
    w_irls, b_irls = irls_logistic(X, y)

    A = np.column_stack([X, np.ones(len(X))])

    def nll(beta):  # mean -log p(y | σ(Aβ)) and its gradient, in plain NumPy
        eta = A @ beta
        return np.mean(np.logaddexp(0, eta) - y * eta), A.T @ (special.expit(eta) - y) / len(y)

    ref = optimize.minimize(nll, np.zeros(5), jac=True, method="BFGS", options={"gtol": 1e-12, "maxiter": 1000}).x
    np.testing.assert_allclose(ours, np.append(w_irls, b_irls), atol=1e-6)
    np.testing.assert_allclose(ours, ref, atol=1e-6)


def test_logistic_adam_and_sgd_approach_the_same_answer():
    X, y = _logistic_data()
    w_irls, b_irls = irls_logistic(X, y)
    adam = GLM(4, "logit").fit(X, y, method="adam", steps=400, lr=0.05)
    assert np.abs(adam.w.numpy() - w_irls).max() < 0.02
    assert adam.history[-1] < adam.history[0]
    sgd = GLM(4, "logit").fit(X, y, method="sgd", steps=30, lr=0.5, batch_size=100, rng=np.random.default_rng(0))
    assert sgd.nll(X, y).item() < GLM(4, "logit").nll(X, y).item()


# ---------------------------------------------------------------------------------------
# NLLs against scipy, stability, gradients
# ---------------------------------------------------------------------------------------
def _random_rows(rng, n=30):
    """(name, η, y, extras, -log p from scipy) for every row."""
    eta = rng.normal(size=n)
    yb = rng.integers(0, 2, n).astype(float)
    eta_pos = rng.uniform(0.3, 3.0, n)
    counts = rng.poisson(2.0, n).astype(float)
    eta_k = rng.normal(size=(n, 3))
    labels = rng.integers(0, 3, n)
    cut = np.array([-0.5, 0.4, 1.5])
    levels = rng.integers(0, 4, n)
    ypos = rng.gamma(2.0, 1.0, n)
    ycens = np.maximum(0.0, eta + 0.8 * rng.normal(size=n))
    bern = lambda mu: -stats.bernoulli.logpmf(yb, mu)  # noqa: E731
    cdf = special.expit(np.concatenate([[-np.inf], cut, [np.inf]])[None, :] - eta[:, None])
    return [
        ("identity", eta, yb * 3 - 1, {"scale": 0.7}, -stats.norm.logpdf(yb * 3 - 1, eta, 0.7)),
        ("logit", eta, yb, {}, bern(special.expit(eta))),
        ("probit", eta, yb, {}, bern(stats.norm.cdf(eta))),
        ("cloglog", eta / 2, yb, {}, bern(-np.expm1(-np.exp(eta / 2)))),  # η/2: scipy's log(1 - μ) loses digits as μ → 1
        ("tanh", eta, yb, {}, bern((np.tanh(eta) + 1) / 2)),
        ("softmax", eta_k, labels, {}, -stats.multinomial.logpmf(np.eye(3)[labels], 1, special.softmax(eta_k, axis=1))),
        ("log", eta, counts, {}, -stats.poisson.logpmf(counts, np.exp(eta))),
        ("sqrt", eta, counts, {}, -stats.poisson.logpmf(counts, eta**2)),
        ("reciprocal", eta_pos, ypos, {"concentration": 2.5}, -stats.gamma.logpdf(ypos, 2.5, scale=1 / (eta_pos * 2.5))),
        ("tobit", eta, ycens, {"scale": 0.8},
         -np.where(ycens == 0, stats.norm.logcdf(0, eta, 0.8), stats.norm.logpdf(ycens, eta, 0.8))),
        ("cumulative_logit", eta, levels, {"cutpoints": cut}, -np.log(np.diff(cdf, axis=1))[np.arange(n), levels]),
    ]


@pytest.mark.parametrize("name", list(LINKS))
def test_nll_matches_scipy(name):
    _, eta, y, extras, expected = next(r for r in _random_rows(np.random.default_rng(3)) if r[0] == name)
    got = LINKS[name].nll(t64(eta), y, **{k: t64(v) for k, v in extras.items()})
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("name", list(LINKS))
def test_nll_gradients(name):
    _, eta, y, extras, _ = next(r for r in _random_rows(np.random.default_rng(4), n=6) if r[0] == name)
    names = list(extras)
    link = LINKS[name]
    fn = lambda e, *xs: link.nll(e, y, **dict(zip(names, xs)))  # noqa: E731
    assert mv.gradcheck(fn, eta, *[extras[k] for k in names])


def test_cloglog_log_mean_is_accurate_in_both_tails():
    eta = np.array([-800.0, -30.0, -20.0, -19.9, -1.0, 0.0, 3.0, 1e4])
    with np.errstate(over="ignore", divide="ignore"):
        exact = np.where(eta < -20, eta - np.exp(eta) / 2, np.log(-np.expm1(-np.exp(eta))))
    np.testing.assert_allclose(log_cloglog_mean(t64(eta)).numpy(), exact, rtol=1e-13)
    assert mv.gradcheck(log_cloglog_mean, np.array([-25.0, -20.5, -19.5, -2.0, 1.0]))


# |η| = 1e4: the rows and outcomes for which log p(y | η) is finite in exact arithmetic
# (at η = 1e4 a Poisson-log mean e^η, or a cloglog P(y = 0) = exp(-e^η), is not representable).
EXTREME = [
    ("identity", 0.0, {"scale": 1.0}), ("logit", 0.0, {}), ("logit", 1.0, {}), ("probit", 0.0, {}), ("probit", 1.0, {}),
    ("tanh", 0.0, {}), ("tanh", 1.0, {}), ("sqrt", 3.0, {}), ("tobit", 0.0, {"scale": 1.0}), ("tobit", 2.0, {"scale": 1.0}),
    ("cumulative_logit", 0, {"cutpoints": np.array([-1.0, 1.0])}), ("cumulative_logit", 2, {"cutpoints": np.array([-1.0, 1.0])}),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name, y, extras", EXTREME)
def test_nll_finite_at_extreme_eta(name, y, extras, dtype):
    eta = mv.tensor([-1e4, 1e4], dtype=dtype, requires_grad=True)
    out = LINKS[name].nll(eta, np.array([y, y]), **extras)
    out.sum().backward()
    assert np.all(np.isfinite(out.numpy())) and np.all(np.isfinite(eta.grad.numpy()))


def test_nll_finite_at_extreme_eta_where_the_tail_allows():
    eta = t64([-1e4, 1e4, -1e4], requires_grad=True)
    out = LINKS["cloglog"].nll(eta, np.array([0.0, 1.0, 1.0]))  # y=1 at -1e4: log μ ≈ η
    out.sum().backward()
    np.testing.assert_allclose(out.numpy(), [0.0, 0.0, 1e4])
    assert np.all(np.isfinite(eta.grad.numpy()))
    eta = t64([[-1e4, 1e4, 0.0]], requires_grad=True)
    assert np.isfinite(LINKS["softmax"].nll(eta, np.array([0])).item())
    assert np.isfinite(LINKS["log"].nll(t64([-1e4]), np.array([0.0])).item())
    assert np.isfinite(LINKS["reciprocal"].nll(t64([1e4]), np.array([1e-4]), concentration=2.0).item())


def test_fisher_info_of_canonical_links_is_the_variance():
    eta = t64(np.linspace(-3, 3, 6))  # not 0: the sqrt row's mean η² would be 0 there
    mu = special.expit(eta.numpy())
    np.testing.assert_allclose(LINKS["logit"].fisher_info(eta).numpy(), mu * (1 - mu))
    np.testing.assert_allclose(LINKS["log"].fisher_info(eta).numpy(), np.exp(eta.numpy()))
    np.testing.assert_allclose(LINKS["tanh"].fisher_info(eta).numpy(), 1 - np.tanh(eta.numpy()) ** 2)
    np.testing.assert_allclose(LINKS["sqrt"].fisher_info(eta).numpy(), 4.0)
    with pytest.raises(NotImplementedError, match="exponential family"):
        LINKS["tobit"].fisher_info(eta, scale=1.0)


# ---------------------------------------------------------------------------------------
# MAP, Newton, natural gradient
# ---------------------------------------------------------------------------------------
def test_map_with_gaussian_prior_is_ridge_regression():
    rng = np.random.default_rng(0)
    X, y, _, _ = simulate_glm("identity", 60, 5, rng)
    sigma, tau = 0.8, 0.3  # noise and prior standard deviations: ridge penalty λ = σ²/τ²
    with mv.default_dtype("float64"):
        model = GLM(5, "identity", prior=Normal(0.0, tau), fixed={"scale": sigma}).fit(X, y, method="newton", tol=1e-12)
    Xc, yc = X - X.mean(0), y - y.mean()  # the bias is not penalised: centre it out
    w_ridge = np.linalg.solve(Xc.T @ Xc + sigma**2 / tau**2 * np.eye(5), Xc.T @ yc)
    b_ridge = y.mean() - X.mean(0) @ w_ridge
    np.testing.assert_allclose(model.w.numpy(), w_ridge, atol=1e-8)
    np.testing.assert_allclose(model.b.item(), b_ridge, atol=1e-8)
    assert model.extras["scale"].item() == pytest.approx(sigma)  # fixed, not learned
    w_mle = GLM(5, "identity", fixed={"scale": sigma}, dtype="float64").fit(X, y, method="newton").w.numpy()
    assert np.linalg.norm(w_ridge) < np.linalg.norm(w_mle)  # the prior shrinks


def test_laplace_prior_shrinks_weights_to_zero():
    rng = np.random.default_rng(1)
    X, y, _, _ = simulate_glm("logit", 300, 3, rng, w=[2.0, 0.0, 0.0], b=0.0)
    strong = GLM(3, "logit", prior=Laplace(0.0, 0.05)).fit(X, y, method="adam", steps=300, lr=0.02)
    assert np.abs(strong.w.numpy()[1:]).max() < 0.02 and strong.w.numpy()[0] > 0.5


def test_hessian_and_newton_step_on_a_quadratic():
    A = np.array([[3.0, 1.0], [1.0, 2.0]])
    c = np.array([1.0, -2.0])
    A_t, c_t = t64(A), t64(c)
    f = lambda w: 0.5 * (w * (A_t @ w)).sum() - (c_t * w).sum()  # noqa: E731
    np.testing.assert_allclose(hessian(f, t64([0.3, 0.7])).numpy(), A)
    np.testing.assert_allclose(newton_step(f, t64([5.0, -4.0])).numpy(), np.linalg.solve(A, c))
    theta, history = minimize_newton(f, t64([5.0, -4.0]))
    np.testing.assert_allclose(theta.numpy(), np.linalg.solve(A, c))
    assert len(history) <= 3


def test_newton_step_matches_irls_iteration():
    X, y = _logistic_data(1, 200)
    A = t64(np.column_stack([X, np.ones(len(X))]))
    nll = lambda beta: LINKS["logit"].nll(A @ beta, y).mean()  # noqa: E731
    beta = t64(np.zeros(5))
    for _ in range(12):
        beta = newton_step(nll, beta)
    np.testing.assert_allclose(beta.numpy(), np.append(*irls_logistic(X, y)), atol=1e-8)


def test_natural_gradient_is_invariant_to_reparameterisation():
    X, y = _logistic_data(2, 300)
    Xt = t64(X)
    link = LINKS["logit"]
    theta0 = np.array([0.3, -0.2, 0.1, 0.4, -0.1])  # (w, b)
    scale = np.array([2.0, 2.0, 2.0, 2.0, 1.0])     # second parameterisation: w = 2 w'
    eta_a = lambda th: Xt @ th[:4] + th[4]               # noqa: E731
    eta_b = lambda th: Xt @ (th[:4] * 2.0) + th[4]       # noqa: E731
    loss = lambda eta_fn: (lambda th: link.nll(eta_fn(th), y).mean())  # noqa: E731

    step_a = natural_gradient_step(loss(eta_a), eta_a, t64(theta0), link.fisher_info, lr=0.5).numpy()
    step_b = natural_gradient_step(loss(eta_b), eta_b, t64(theta0 / scale), link.fisher_info, lr=0.5).numpy()
    np.testing.assert_allclose(step_b * scale, step_a, atol=1e-10)  # the same model after one step

    plain_a = theta0 - 0.5 * mv.grad(loss(eta_a))(t64(theta0)).numpy()
    plain_b = theta0 / scale - 0.5 * mv.grad(loss(eta_b))(t64(theta0 / scale)).numpy()
    assert np.abs(plain_b * scale - plain_a).max() > 1e-3  # plain gradient descent is not invariant

    # canonical link: Fisher = Hessian, so a full natural step is a Newton step
    np.testing.assert_allclose(natural_gradient_step(loss(eta_a), eta_a, t64(theta0), link.fisher_info).numpy(),
                               newton_step(loss(eta_a), t64(theta0)).numpy(), atol=1e-10)


# ---------------------------------------------------------------------------------------
# bootstrap helpers (coverage itself is too slow to test here)
# ---------------------------------------------------------------------------------------
def test_bootstrap_shapes_and_percentiles():
    rng = np.random.default_rng(0)
    X, y, _, _ = simulate_glm("identity", 100, 2, rng)
    fit = lambda Xb, yb: np.linalg.lstsq(np.column_stack([Xb, np.ones(len(Xb))]), yb, rcond=None)[0]  # noqa: E731
    samples = bootstrap(fit, X, y, n_boot=20, rng=rng)
    assert samples.shape == (20, 3) and np.isfinite(samples).all()
    assert samples.std(0).min() > 0  # resampling moved the estimate
    glm_fit = lambda Xb, yb: (lambda m: (m.w, m.b))(GLM(2, "identity").fit(Xb, yb, method="newton"))  # noqa: E731
    assert bootstrap(glm_fit, X, y, n_boot=2, rng=rng).shape == (2, 3)

    lo, hi = percentile_interval(np.arange(1001.0)[:, None] * [1.0, -1.0], level=0.9)
    np.testing.assert_allclose(lo, [50.0, -950.0])
    np.testing.assert_allclose(hi, [950.0, -50.0])
    with pytest.raises(ValueError, match="level"):
        percentile_interval(samples, level=95)
    with pytest.raises(ValueError, match="rows"):
        bootstrap(fit, X, y[:-1], 2, rng)


# ---------------------------------------------------------------------------------------
# the table, and errors
# ---------------------------------------------------------------------------------------
def test_link_table_is_rebuilt_from_the_rows():
    table = link_table()
    lines = table.splitlines()
    assert lines[0].startswith("| Target | Regression | Link | Inv link | Activation")
    assert len(lines) == 2 + len(LINKS)
    for name, row in LINKS.items():
        assert f"| {row.target} | {row.regression} |" in table and name in table
    assert "ReLU" in table and "σ(φ_k - η)" in table and "Φ(η)" in table
    assert len(link_table(markdown=False).splitlines()) == 1 + len(LINKS)
    assert "- tanh: (tanh(η)+1)/2 = σ(2η)" in link_table(notes=True)
    assert get_link("poisson") is LINKS["log"] and get_link("relu") is LINKS["tobit"]


def test_predict_mean():
    X, y, w, b = simulate_glm("log", 2000, 2, np.random.default_rng(0))
    model = GLM(2, "poisson", dtype="float64").fit(X, y, method="newton")
    np.testing.assert_allclose(model.predict_mean(X).numpy(), np.exp(X @ model.w.numpy() + model.b.item()))
    Xs, ys, _, _ = simulate_glm("softmax", 500, 2, np.random.default_rng(0))
    probs = GLM(2, "softmax", n_classes=3).fit(Xs, ys, method="newton").predict_mean(Xs).numpy()
    assert probs.shape == (500, 3) and np.allclose(probs.sum(1), 1, atol=1e-5)


def test_errors_say_what_was_wrong():
    with pytest.raises(ValueError, match="unknown link 'logistc'.*logit"):
        GLM(2, "logistc")
    with pytest.raises(ValueError, match="n_classes"):
        GLM(2, "softmax")
    with pytest.raises(ValueError, match="has no parameter"):
        GLM(2, "logit", fixed={"scale": 1.0})
    model = GLM(3, "logit")
    with pytest.raises(ValueError, match=r"shape \(n, 3\)"):
        model.nll(np.zeros((5, 2)), np.zeros(5))
    with pytest.raises(ValueError, match="5 rows but y has 4"):
        model.nll(np.zeros((5, 3)), np.zeros(4))
    with pytest.raises(TypeError, match="float64"):
        model.nll(t64(np.zeros((5, 3))), np.zeros(5))
    with pytest.raises(ValueError, match="'adam', 'sgd' or 'newton'"):
        model.fit(np.zeros((5, 3)), np.zeros(5), method="lbfgs")
    with pytest.raises(ValueError, match="0 or 1"):
        LINKS["probit"].nll(t64([0.0]), np.array([2.0]))
    with pytest.raises(ValueError, match="η = wᵀx \\+ b > 0"):
        LINKS["reciprocal"].nll(t64([0.5, -0.1]), np.array([1.0, 1.0]), concentration=1.0)
    with pytest.raises(ValueError, match="rate must be positive"):
        LINKS["sqrt"].nll(t64([0.0]), np.array([1.0]))


# ---------------------------------------------------------------------------------------
# GPU (skipped without CuPy and a CUDA device)
# ---------------------------------------------------------------------------------------
@pytest.mark.gpu
@pytest.mark.parametrize("name", ["logit", "cloglog", "softmax", "reciprocal", "tobit", "cumulative_logit"])
def test_newton_fit_on_gpu_matches_cpu(name):
    X, y, _, _ = simulate_glm(name, 500, 2, np.random.default_rng(0))
    k = n_classes_of(name)
    cpu = GLM(2, name, n_classes=k, dtype="float64").fit(X, y, method="newton")
    gpu = GLM(2, name, n_classes=k, dtype="float64", device="cuda").fit(X, y, method="newton")
    assert gpu.w.device == "cuda" and gpu.predict_mean(X).device == "cuda"
    np.testing.assert_allclose(gpu.w.numpy(), cpu.w.numpy(), atol=1e-7)
    gpu.fit(X, y, method="adam", steps=3, batch_size=64, rng=np.random.default_rng(0))
