"""Public checks for chapter 08 (Monte Carlo gradient estimators). 8 points in all.

Every reference here is computed by a different route from minivi.estimators: closed-form derivatives of
test functions and of log N(z | μ, σ²), Gauss–Hermite quadrature for exact moments, and SciPy's Exponential.
The estimators that take randomness as input are compared sample by sample; those whose randomness is
their own are z-tested for bias over many seeds. ``hidden=True`` runs other functions, seeds and shapes.
"""

from __future__ import annotations

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from scipy import stats

from ..registry import CheckFailed, register
from . import as_array, assert_close, assert_shape, call, rng, unpack

#: The minivi functions that compute each graded quantity: the grader makes them raise while grading.
FORBIDDEN = {
    "08.pathwise_normal": ["minivi.estimators.grad_samples", "minivi.estimators.pathwise_grads",
                           "minivi.estimators.loop_grad_samples", "minivi.estimators.per_sample_grads",
                           "minivi.estimators.expand_params"],
    "08.score_normal": ["minivi.estimators.grad_samples", "minivi.estimators.score_grads",
                        "minivi.estimators.loop_grad_samples", "minivi.estimators.per_sample_grads",
                        "minivi.estimators.expand_params"],
    "08.optimal_baseline": ["minivi.estimators.optimal_coefficient", "minivi.estimators.grad_samples",
                            "minivi.estimators.score_grads"],
    "08.exponential_rsample": ["minivi.distributions.Exponential.rsample", "minivi.distributions.Exponential.sample"],
}


def _expect(h, deg: int = 100) -> float:
    """E[h(ε)], ε ~ N(0, 1), by Gauss–Hermite quadrature."""
    x, w = hermegauss(deg)
    return float(np.sum(w * h(x)) / np.sqrt(2 * np.pi))


# Test functions as (f, f') pairs; f is written with operators only, so it accepts minivi Tensors and NumPy arrays.
def _functions(hidden: bool):
    if not hidden:
        return [("(z - 1.5)**2", lambda z: (z - 1.5) ** 2, lambda z: 2 * (z - 1.5)),
                ("z**3 - 2 z", lambda z: z * z * z - 2.0 * z, lambda z: 3 * z**2 - 2.0)]
    return [("(z + 0.7)**4", lambda z: (z + 0.7) ** 4, lambda z: 4 * (z + 0.7) ** 3),
            ("0.5 z**2 - 3 z", lambda z: 0.5 * z * z - 3.0 * z, lambda z: z - 3.0)]


def _to_numpy(value, what: str) -> np.ndarray:
    if hasattr(value, "numpy") and callable(value.numpy):
        value = value.numpy()
    return as_array(value, what)


# ----------------------------------------------------------------------------------------------
# 08.pathwise_normal


@register(
    "08.pathwise_normal",
    points=2,
    hint=("Reparameterise: z = mu + sigma * eps, so f(z) is a differentiable function of mu and sigma.",
          "Make mu and sigma minivi tensors with requires_grad=True, one copy per sample (shape like eps), so that "
          "one backward of f(z).sum() gives every sample's own gradient.",
          "By the chain rule the sigma-gradient of sample i is f'(z_i) * eps_i, the mu-gradient f'(z_i)."),
)
def _check_pathwise_normal(pathwise_normal, hidden: bool = False):
    r = rng(811 if hidden else 801)
    name, args = "pathwise_normal", ("f", "mu", "sigma", "eps")
    settings = [(1.0, 1.0, (6,)), (-0.5, 2.0, (4,)), (0.3, 0.4, (1,))] if not hidden else \
        [(2.0, 0.5, (5,)), (0.0, 3.0, (3,)), (-1.0, 1.0, (7,))]
    for fname, f, fprime in _functions(hidden):
        for mu, sigma, shape in settings:
            eps = r.standard_normal(shape)
            context = f"for f(z) = {fname}, mu={mu}, sigma={sigma}, eps of shape {shape}"
            got = unpack(call(pathwise_normal, f, mu, sigma, eps, name=name, arg_names=args),
                         ("g_mu", "g_sigma"), "pathwise_normal(f, mu, sigma, eps)")
            g_mu, g_sigma = (_to_numpy(g, f"pathwise_normal's {n}") for g, n in zip(got, ("g_mu", "g_sigma")))
            assert_shape(g_mu, shape, "g_mu (one gradient per sample)", context)
            assert_shape(g_sigma, shape, "g_sigma (one gradient per sample)", context)
            z = mu + sigma * eps
            if np.allclose(g_mu, np.full(shape, np.mean(fprime(z))), rtol=1e-6) and shape[0] > 1 \
                    and not np.allclose(fprime(z), np.mean(fprime(z))):
                raise CheckFailed(f"pathwise_normal {context}: every sample got the same g_mu (their average); "
                                  "return one gradient per sample (expand mu over the samples, or sum f(z) "
                                  "without averaging)")
            assert_close(g_mu, fprime(z), "g_mu", context, rtol=1e-6, atol=1e-8)
            if np.allclose(g_sigma, fprime(z), rtol=1e-6, atol=1e-8) and not np.allclose(eps, 1.0):
                raise CheckFailed(f"pathwise_normal {context}: g_sigma equals g_mu; dz/dsigma = eps, so the "
                                  "sigma-gradient needs the factor eps")
            assert_close(g_sigma, fprime(z) * eps, "g_sigma", context, rtol=1e-6, atol=1e-8)


# ----------------------------------------------------------------------------------------------
# 08.score_normal


def _exact_gradient(f, mu, sigma, jump):
    """∇_{μ,σ} E_{N(μ,σ²)}[f(z)] = (E[f(μ + σε) ε], E[f(μ + σε)(ε² - 1)]) / σ, by adaptive quadrature split at
    the step's jump (Gauss–Hermite is inaccurate across a discontinuity)."""
    from scipy import integrate

    def e(h):
        pdf = stats.norm.pdf
        g = lambda x: float(f(np.asarray(mu + sigma * x)) * h(x) * pdf(x))      # noqa: E731
        a = (jump - mu) / sigma
        return integrate.quad(g, -14, a, limit=200)[0] + integrate.quad(g, a, 14, limit=200)[0]
    return e(lambda x: x) / sigma, e(lambda x: x**2 - 1) / sigma


@register(
    "08.score_normal",
    points=2,
    hint=("The score-function estimate of sample i is f(z_i) times the gradient of log q(z_i) with respect to "
          "the parameter; f is never differentiated (it may be a step function).",
          "log N(z | mu, sigma^2) = -(z - mu)^2 / (2 sigma^2) - log sigma - log sqrt(2 pi): differentiate it with "
          "respect to mu and to sigma by hand (or with minivi's autodiff of Normal.log_prob).",
          "d/dmu = (z - mu) / sigma^2 and d/dsigma = (z - mu)^2 / sigma^3 - 1 / sigma."),
)
def _check_score_normal(score_normal, hidden: bool = False):
    r = rng(812 if hidden else 802)
    name, args = "score_normal", ("f", "mu", "sigma", "z")
    fs = [("(z - 1)**2", lambda z: (z - 1.0) ** 2, 0.0), ("step z > 0.5", lambda z: (z > 0.5) * 1.0, 0.5)] \
        if not hidden else [("z**3", lambda z: z * z * z, 0.0), ("step z < -0.2", lambda z: (z < -0.2) * 2.0, -0.2)]
    settings = [(1.0, 1.0), (0.5, 2.0)] if not hidden else [(-0.3, 0.7), (2.0, 1.5)]
    for fname, f, jump in fs:
        for mu, sigma in settings:
            context = f"for f(z) = {fname}, mu={mu}, sigma={sigma}"
            z = mu + sigma * r.standard_normal(5)
            got = unpack(call(score_normal, f, mu, sigma, z, name=name, arg_names=args), ("g_mu", "g_sigma"),
                         "score_normal(f, mu, sigma, z)")
            g_mu, g_sigma = (_to_numpy(g, f"score_normal's {n}") for g, n in zip(got, ("g_mu", "g_sigma")))
            fz = np.asarray(f(z), dtype=np.float64)
            assert_close(g_mu, fz * (z - mu) / sigma**2, "g_mu", context + f", z = {np.round(z, 3)}", rtol=1e-6)
            assert_close(g_sigma, fz * ((z - mu) ** 2 / sigma**3 - 1 / sigma), "g_sigma",
                         context + f", z = {np.round(z, 3)}", rtol=1e-6, atol=1e-9)
            # unbiased: the mean over many draws against the exact gradient (quadrature), a z-test
            n = 200_000
            zz = mu + sigma * rng((813 if hidden else 803) + int(10 * sigma)).standard_normal(n)
            got = unpack(call(score_normal, f, mu, sigma, zz, name=name, arg_names=args), ("g_mu", "g_sigma"),
                         "score_normal(f, mu, sigma, z)")
            for g, exact, which in zip(got, _exact_gradient(f, mu, sigma, jump), ("mu", "sigma")):
                g = _to_numpy(g, "score_normal's estimates")
                zscore = (g.mean() - exact) / (g.std() / np.sqrt(n))
                if abs(zscore) > 5:
                    raise CheckFailed(f"score_normal {context}: the mean of {n:,} estimates of d/d{which} is "
                                      f"{g.mean():.4f} but the exact gradient is {exact:.4f} (z-score {zscore:.1f}): "
                                      "the estimator is biased")


# ----------------------------------------------------------------------------------------------
# 08.optimal_baseline


@register(
    "08.optimal_baseline",
    points=2,
    hint=("Var[(f - c) s] = Var[f s] - 2 c E[f s^2] + c^2 E[s^2] (using E[s] = 0) is a parabola in c: find its "
          "minimum.",
          "c* = E[f s^2] / E[s^2], one value per parameter (per column of scores): estimate both expectations by "
          "averages over the n samples (axis 0)."),
)
def _check_optimal_baseline(optimal_baseline, hidden: bool = False):
    r = rng(814 if hidden else 804)
    name, args = "optimal_baseline", ("f_values", "scores")
    shapes = [(50, 2), (7, 3), (200, 1)] if not hidden else [(30, 4), (5, 2), (1000, 3)]
    for n, p in shapes:
        f_values = r.normal(size=n) * 3 + 1
        scores = r.normal(size=(n, p))
        got = as_array(call(optimal_baseline, f_values, scores, name=name, arg_names=args),
                       "optimal_baseline(f_values, scores)")
        context = f"for f_values of shape {(n,)} and scores of shape {(n, p)}"
        assert_shape(got, (p,), "optimal_baseline(f_values, scores) (one c per parameter)", context)
        expected = np.array([np.sum(f_values * scores[:, j] ** 2) / np.sum(scores[:, j] ** 2) for j in range(p)])
        if np.allclose(got, np.full(p, f_values.mean())):
            raise CheckFailed(f"optimal_baseline {context} returns the mean of f; the variance-optimal constant "
                              "weights each f by its squared score")
        assert_close(got, expected, "optimal_baseline(f_values, scores)", context, rtol=1e-8)
    # On q = N(mu, sigma), f = (z - k)^2: c* against quadrature, and the variance it leaves
    mu, sigma, k = (1.0, 1.0, 1.0) if not hidden else (0.5, 1.5, 2.0)
    eps = rng(815 if hidden else 805).standard_normal(400_000)
    z = mu + sigma * eps
    f = (z - k) ** 2
    s = np.stack([eps / sigma, (eps**2 - 1) / sigma], axis=1)
    got = as_array(call(optimal_baseline, f, s, name=name, arg_names=args), "optimal_baseline(f_values, scores)")
    fq = lambda e: (mu + sigma * e - k) ** 2                                     # noqa: E731
    exact = np.array([_expect(lambda e: fq(e) * e**2) / _expect(lambda e: e**2),
                      _expect(lambda e: fq(e) * (e**2 - 1) ** 2) / _expect(lambda e: (e**2 - 1) ** 2)])
    assert_close(got, exact, "optimal_baseline on q = N(mu, sigma^2), f = (z - k)^2",
                 f"(mu={mu}, sigma={sigma}, k={k}; exact c* by quadrature, 400,000 samples)", rtol=0.05)


# ----------------------------------------------------------------------------------------------
# 08.exponential_rsample


@register(
    "08.exponential_rsample",
    points=2,
    hint=("Inverse-CDF sampling: if u ~ U(0, 1) then F^-1(u) has CDF F. Solve u = 1 - exp(-rate z) for z.",
          "z = -log(1 - u) / rate; write it with minivi operations (mv.log1p(-u) / rate) so the gradient flows "
          "to rate when rate is a Tensor with requires_grad=True."),
)
def _check_exponential_rsample(exponential_rsample, hidden: bool = False):
    import minivi as mv

    r = rng(816 if hidden else 806)
    name, args = "exponential_rsample", ("rate", "u")
    rates = [0.5, 2.0, 7.0] if not hidden else [1.0, 0.1, 3.5]
    for lam in rates:
        u = r.random(6 if not hidden else 9)
        context = f"for rate={lam}, u = {np.round(u, 3)}"
        rate = mv.tensor(lam, dtype="float64", requires_grad=True)
        z = call(exponential_rsample, rate, u, name=name, arg_names=args)
        if not isinstance(z, mv.Tensor):
            raise CheckFailed(f"exponential_rsample {context} returned a {type(z).__name__}; return a minivi Tensor "
                              "computed from rate, so that its gradient reaches rate")
        zv = z.numpy().astype(np.float64)
        expected = -np.log1p(-u) / lam
        if np.allclose(zv, -np.log(u) / lam, rtol=1e-6) and not np.allclose(u, 0.5):
            raise CheckFailed(f"exponential_rsample {context}: -log(u)/rate has the right distribution too, but "
                              "this exercise asks for F^-1(u) = -log(1 - u)/rate exactly")
        assert_close(zv, expected, "exponential_rsample(rate, u)", context, rtol=1e-6)
        if not z.requires_grad:
            raise CheckFailed(f"exponential_rsample {context}: the result does not depend on rate in the graph "
                              "(did you use rate.item() or NumPy functions?); use minivi operations")
        z.sum().backward()
        assert_close(rate.grad.numpy(), np.sum(-expected / lam), "d sum(z) / d rate", context, rtol=1e-6)
    # The sampler's distribution: a Kolmogorov-Smirnov test against SciPy's Exponential
    lam = 1.3 if not hidden else 0.4
    u = rng(817 if hidden else 807).random(20_000)
    z = call(exponential_rsample, mv.tensor(lam, dtype="float64"), u, name=name, arg_names=args)
    p = stats.kstest(_to_numpy(z, "exponential_rsample(rate, u)"), stats.expon(scale=1 / lam).cdf).pvalue
    if p < 1e-3:
        raise CheckFailed(f"20,000 draws of exponential_rsample(rate={lam}, u) fail a KS test against "
                          f"Exponential({lam}) (p = {p:.1e})")
