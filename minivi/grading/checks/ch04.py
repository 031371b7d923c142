"""Public checks for chapter 04 (regularisation and MAP). 9 points in all.

Each check runs the learner's own function on seeded inputs and compares it with
something computed independently: scipy's densities, the engine's gradient against
the closed form −w/σ², binomial tolerances for random masks, and the textbook
standard error σ/√n of a sample mean for the bootstrap.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from ..registry import CheckFailed, register
from . import as_array, assert_close, assert_shape, call, rng

#: The minivi code that computes what an exercise asks for; the grader makes it raise while that exercise is scored.
FORBIDDEN = {
    "04.dropout": ["minivi.nn.dropout.Dropout.forward"],
    "04.bootstrap": ["minivi.glm.bootstrap.bootstrap", "minivi.glm.bootstrap.percentile_interval"],
}

# ----------------------------------------------------------------------------------------------
# 04.l2_log_prior


def _norm_logpdf(x: np.ndarray, sigma: float) -> np.ndarray:
    """log N(x; 0, σ²), elementwise (scipy.stats' formula, without importing scipy.stats)."""
    return -0.5 * (x / sigma) ** 2 - np.log(sigma) - 0.5 * np.log(2 * np.pi)


def _logistic_logpdf(x: np.ndarray) -> np.ndarray:
    """The standard logistic density's log: log σ(x) + log σ(-x)."""
    return special.log_expit(x) + special.log_expit(-x)


def _beta_logpdf(t: np.ndarray, a: float, b: float) -> np.ndarray:
    """log Beta(t; a, b) on (0, 1)."""
    return special.xlogy(a - 1, t) + special.xlog1py(b - 1, -t) - special.betaln(a, b)


def _engine():
    import minivi as mv  # imported here: the registry loads check modules lazily

    return mv


@register(
    "04.l2_log_prior",
    points=2,
    hint=(
        'A Gaussian log-density has a quadratic term and a normalising constant: count the constants.',
        "log N(w; 0, σ²I) = Σ_i [−w_i²/(2σ²) − ½ log(2πσ²)]: the second term is the normalising constant, "
        "one per entry of w (w.size of them). Build it from tensor operations ((w * w).sum()) so that the "
        "gradient flows; use math.log / np.log only for the constant.",
    ),
)
def _check_l2_log_prior(gaussian_log_prior, hidden=False):
    mv = _engine()
    r = rng(401, hidden)
    for shape, sigma in [((5,), 1.0), ((3, 4), 0.3), ((2, 3, 2), 2.5), ((1,), 0.05)]:
        w_np = r.standard_normal(shape) * sigma * 1.5
        w = mv.tensor(w_np, dtype="float64", requires_grad=True)
        context = f"for w of shape {shape} and sigma={sigma}"
        out = gaussian_log_prior(w, sigma)
        if not isinstance(out, mv.Tensor):
            raise CheckFailed(
                f"gaussian_log_prior(w, sigma) should return a minivi Tensor (so the gradient can flow), got "
                f"{type(out).__name__} {context}: use tensor operations such as (w * w).sum(), not np.sum(w.data ...)"
            )
        if out.size != 1:
            raise CheckFailed(f"gaussian_log_prior(w, sigma) should be one number (the log-density of the whole "
                              f"vector, summed over entries), got shape {out.shape} {context}")
        expected = float(_norm_logpdf(w_np, sigma).sum())
        got = float(out.item())
        if not np.isclose(got, expected, rtol=1e-6, atol=1e-9):
            # Same error for a second w of the same shape: a missing or wrong constant term.
            w2 = r.standard_normal(shape) * sigma
            got2 = float(gaussian_log_prior(mv.tensor(w2, dtype="float64"), sigma).item())
            offset, offset2 = got - expected, got2 - float(_norm_logpdf(w2, sigma).sum())
            if np.isclose(offset, offset2, rtol=1e-7, atol=1e-9):
                raise CheckFailed(
                    f"gaussian_log_prior(w, sigma) {context} is off by the same amount ({offset:+.6g}) for two "
                    f"different w: the quadratic term is right but the normalising constant is not "
                    f"(expected {expected:.6g}, got {got:.6g})"
                )
            raise CheckFailed(f"gaussian_log_prior(w, sigma) is wrong {context}: expected {expected:.6g} "
                              f"(the sum of log N(w_i; 0, sigma²)), got {got:.6g}")
        if not out.requires_grad:
            raise CheckFailed(f"gaussian_log_prior(w, sigma) {context} does not depend on w in the engine's graph "
                              "(requires_grad is False): compute it from w with tensor operations, not from w.data")
        out.backward()
        assert_close(w.grad.numpy() if w.grad is not None else None, -w_np / sigma**2,
                     "the gradient of gaussian_log_prior with respect to w", context + " (expected −w/σ²)", rtol=1e-6)


# ----------------------------------------------------------------------------------------------
# 04.dropout


def _dropout_call(dropout, x, p, seed_or_rng, training=True):
    generator = rng(seed_or_rng) if isinstance(seed_or_rng, int) else seed_or_rng
    out = call(dropout, x, name="dropout", arg_names=("x",), p=p, rng=generator, training=training)
    return as_array(out, f"dropout(x, p={p}, rng, training={training})")


@register(
    "04.dropout",
    points=2,
    hint=(
        'Each entry is kept independently with probability 1 - p; the kept ones are scaled so the mean stays.',
        'Inverted dropout: scale by 1/(1 - p) while training, do nothing at evaluation; reject bad p.',
        "Draw one uniform number per entry with rng.random(x.shape); keep the entry where it is >= p and "
        "multiply the kept ones by 1/(1 - p) so the mean is unchanged. With training=False (or p = 0) return x. "
        "Reject p outside [0, 1) with a ValueError.",
    ),
)
def _check_dropout(dropout, hidden=False):
    r = rng(402, hidden)
    x = r.standard_normal((3, 4, 5))
    for p in (0.3, 0.8):
        out = _dropout_call(dropout, x, p, 0, training=False)
        assert_close(out, x, f"dropout(x, p={p}, rng, training=False)", "(evaluation mode should return x unchanged)",
                     rtol=0, atol=0)
    assert_close(_dropout_call(dropout, x, 0.0, 0), x, "dropout(x, p=0.0, rng, training=True)",
                 "(nothing is dropped, nothing rescaled)", rtol=0, atol=0)

    # Kept entries are rescaled by 1 / (1 - p), dropped ones are exactly 0.
    p = 0.25
    out = _dropout_call(dropout, x, p, 1)
    assert_shape(out, x.shape, "dropout(x, p, rng)", f"for x of shape {x.shape}")
    kept = out != 0
    if kept.any():
        assert_close(out[kept], x[kept] / (1 - p), "the kept entries of dropout(x, p=0.25, rng)",
                     "(inverted dropout scales them by 1/(1 - p) so that E[output] = x)", rtol=1e-6)

    # Fraction zeroed ≈ p and mean preserved, within 5 binomial standard errors.
    big = np.ones((400, 500))
    n = big.size
    for p in (0.1, 0.5):
        out = _dropout_call(dropout, big, p, 2)
        frac = float(np.mean(out == 0))
        tol = 5 * np.sqrt(p * (1 - p) / n)
        if abs(frac - p) > tol:
            raise CheckFailed(f"dropout(x, p={p}) zeroed a fraction {frac:.4f} of {n} entries; expected {p} ± {tol:.4f} "
                              "(each entry should be dropped independently with probability p)")
        mean, tol_mean = float(out.mean()), 5 * np.sqrt(p / (1 - p) / n)
        if abs(mean - 1.0) > tol_mean:
            raise CheckFailed(f"dropout(x = ones, p={p}) has mean {mean:.4f}, expected 1 ± {tol_mean:.4f}: "
                              "the kept units must be scaled so that the mean of the output equals x")

    # Reproducible from the rng, fresh noise on every call.
    a, b = _dropout_call(dropout, big, 0.5, 3), _dropout_call(dropout, big, 0.5, 3)
    if not np.array_equal(a, b):
        raise CheckFailed("dropout with two generators made from the same seed gave different masks: draw the "
                          "noise from the rng argument only (rng.random), not from np.random or a new generator")
    shared = rng(4)
    first, second = _dropout_call(dropout, big, 0.5, shared), _dropout_call(dropout, big, 0.5, shared)
    if np.array_equal(first, second):
        raise CheckFailed("two calls with the same rng object gave the same mask: draw new noise from rng at every "
                          "call (do not re-seed it)")

    for bad in (1.0, -0.1, 1.5):
        try:
            call(dropout, x, name="dropout", arg_names=("x",), p=bad, rng=rng(5), training=True)
        except ValueError:
            continue
        raise CheckFailed(f"dropout(x, p={bad}) should raise a ValueError (p is a probability of dropping, "
                          "0 <= p < 1; p = 1 would divide by zero)")


# ----------------------------------------------------------------------------------------------
# 04.logit_density


def _logistic_beta_logpdf(phi: np.ndarray, a: float, b: float) -> np.ndarray:
    """log density of φ = logit θ for θ ~ Beta(a, b): a log σ(φ) + b log σ(−φ) − log B(a, b)."""
    return a * special.log_expit(phi) + b * special.log_expit(-phi) - special.betaln(a, b)


@register(
    "04.logit_density",
    points=2,
    hint=(
        'Change of variables: p_φ(φ) = p_θ(θ(φ)) |dθ/dφ|, with θ = σ(φ).',
        "θ = σ(φ) and dθ/dφ = σ(φ)(1 − σ(φ)), so log p_φ(φ) = log p_θ(σ(φ)) + log σ(φ) + log(1 − σ(φ)). "
        "For large |φ| compute the two logs stably: log σ(φ) = scipy.special.log_expit(φ) and "
        "log(1 − σ(φ)) = log_expit(−φ).",
    ),
)
def _check_logit_density(logit_log_density, hidden=False):
    phi = np.linspace(-8.0, 8.0, 33) if not hidden else np.linspace(-11.0, 9.5, 27)
    shapes = [(4, 2), (0.5, 3)] if not hidden else [(2.5, 7), (3, 0.7)]
    cases = [("θ ~ Uniform(0, 1)", lambda t: np.zeros_like(t), _logistic_logpdf(phi))]
    cases += [(f"θ ~ Beta({a:g}, {b:g})", lambda t, a=a, b=b: _beta_logpdf(t, a, b), _logistic_beta_logpdf(phi, a, b))
              for a, b in shapes]
    for name, log_p_theta, expected in cases:
        got = call(logit_log_density, log_p_theta, phi, name="logit_log_density", arg_names=("log_p_theta", "phi"))
        assert_close(got, expected, "logit_log_density(log_p_theta, phi)",
                     f"for {name}, at phi = {phi[0]:g} … {phi[-1]:g} (the index of phi)", rtol=1e-7, atol=1e-10)

    # A density in φ integrates to one.
    grid = np.linspace(-40.0, 40.0, 16001)
    dens = np.exp(as_array(call(logit_log_density, lambda t: _beta_logpdf(t, 4, 2), grid,
                                name="logit_log_density"), "logit_log_density(...)"))
    mass = float(np.sum(dens) * (grid[1] - grid[0]))
    if not abs(mass - 1.0) < 1e-4:
        raise CheckFailed(f"exp(logit_log_density) for θ ~ Beta(4, 2) integrates to {mass:.5f} over φ, not 1")

    # Stable in the tails: for a uniform θ, log p(φ) ≈ −|φ| far out, not −inf or nan.
    tails = np.array([-50.0, 50.0])
    got = as_array(call(logit_log_density, lambda t: np.zeros_like(t), tails, name="logit_log_density"),
                   "logit_log_density(...)")
    assert_close(got, _logistic_logpdf(tails), "logit_log_density(uniform, phi)",
                 "at phi = [-50, 50] (far tails: 1 − σ(50) rounds to 0 in float64)", rtol=1e-9)


# ----------------------------------------------------------------------------------------------
# 04.bootstrap


class _SpyFit:
    """A fit function that records what it was given and returns (mean of column 0, mean of y)."""

    def __init__(self):
        self.calls: list[tuple[np.ndarray, np.ndarray]] = []

    def __call__(self, X, y):
        X, y = np.array(X, copy=True), np.array(y, copy=True)
        self.calls.append((X, y))
        return np.array([X[:, 0].mean(), y.mean()])


@register(
    "04.bootstrap",
    points=3,
    hint=(
        'A bootstrap replicate refits on a resample of the rows, drawn with replacement.',
        'Draw the n row indices from the rng you are given and use the same rows of X and y; one fitted parameter vector per replicate, stacked into an (n_boot, P) array.',
        "The check watches which rows each refit sees and replays your rng: draw each replicate's indices "
        "from rng (integers in [0, n)), not from np.random or a new generator.",
    ),
)
def _check_bootstrap(bootstrap, hidden=False):
    n, n_boot = 40, 25
    X = np.column_stack([np.arange(n, dtype=float), rng(403, hidden).standard_normal(n)])   # column 0 = the row's id
    y = 10.0 * np.arange(n)                                                           # y = 10 × the row's id
    spy = _SpyFit()
    out = as_array(call(bootstrap, spy, X, y, n_boot, rng(0), name="bootstrap",
                        arg_names=("fit_fn", "X", "y", "n_boot", "rng")), "bootstrap(fit_fn, X, y, n_boot, rng)")
    if len(spy.calls) != n_boot:
        raise CheckFailed(f"bootstrap(fit_fn, X, y, n_boot={n_boot}, rng) called fit_fn {len(spy.calls)} times; "
                          f"expected once per replicate ({n_boot})")
    assert_shape(out, (n_boot, 2), "bootstrap(fit_fn, X, y, n_boot, rng)",
                 f"for n_boot={n_boot} and a fit_fn returning 2 parameters (one row per replicate)")
    has_duplicates = False
    for b, (Xb, yb) in enumerate(spy.calls):
        if Xb.shape != X.shape or yb.shape != y.shape:
            raise CheckFailed(f"replicate {b}: fit_fn got X of shape {Xb.shape} and y of shape {yb.shape}; a "
                              f"bootstrap sample has as many rows as the data: {X.shape} and {y.shape}")
        ids = Xb[:, 0]
        if not np.array_equal(yb, 10.0 * ids):
            raise CheckFailed(f"replicate {b}: the rows of y do not belong to the rows of X (resample X and y with "
                              "the same indices)")
        if not np.array_equal(Xb[:, 1], X[ids.astype(int), 1]):
            raise CheckFailed(f"replicate {b}: the columns of a resampled row of X come from different rows "
                              "(resample whole rows: X[idx])")
        has_duplicates |= len(np.unique(ids)) < n
        assert_close(out[b], [ids.mean(), yb.mean()], f"row {b} of the result",
                     "(it should hold what fit_fn returned for replicate b)")
    if not has_duplicates:
        raise CheckFailed(f"none of the {n_boot} resamples repeated a row: a bootstrap sample draws n rows *with* "
                          "replacement (a permutation of the data would give the same fit every time)")
    if len({tuple(Xb[:, 0]) for Xb, _ in spy.calls}) < n_boot:
        raise CheckFailed("some replicates used identical resamples: draw new indices for every replicate")

    again = as_array(call(bootstrap, _SpyFit(), X, y, n_boot, rng(0), name="bootstrap"), "bootstrap(...)")
    if not np.array_equal(again, out):
        raise CheckFailed("bootstrap with two generators made from the same seed gave different results: draw the "
                          "indices from the rng argument only (rng.integers), not from np.random")
    other = as_array(call(bootstrap, _SpyFit(), X, y, n_boot, rng(1), name="bootstrap"), "bootstrap(...)")
    if np.array_equal(other, out):
        raise CheckFailed("bootstrap gave the same result for two different seeds: use the rng you are given")

    # The standard error of a sample mean: the bootstrap's spread should match s / √n.
    n2, sigma = 100, 2.0
    data = rng(404, hidden).normal(3.0, sigma, size=n2)
    reps = as_array(call(bootstrap, lambda Xs, ys: np.array([ys.mean()]), data[:, None], data, 2000, rng(5),
                         name="bootstrap"), "bootstrap(mean, ...)")
    assert_shape(reps, (2000, 1), "bootstrap(mean of y, X, y, n_boot=2000, rng)")
    se_boot = float(reps[:, 0].std())
    se_plugin = float(data.std() / np.sqrt(n2))     # the bootstrap's target: s/√n with the 1/n variance
    if abs(se_boot / se_plugin - 1) > 0.08:
        raise CheckFailed(
            f"for the mean of n={n2} normal draws (σ = {sigma}, so σ/√n = {sigma / np.sqrt(n2):.3f}; this sample's "
            f"s/√n = {se_plugin:.3f}), the standard deviation of your 2000 bootstrap means is {se_boot:.3f}, "
            "more than 8% away: resample n rows with replacement for every replicate"
        )


# ----------------------------------------------------------------------------------------------
# 04.choose_lambda: hyper-parameters are chosen on a validation split carved from the training data


class _SplitSpy:
    """fit(X, y, lam) and loss(params, X, y) that record which rows (column 0 of X) each call saw."""

    def __init__(self, losses: dict):
        self.losses, self.fits, self.evals = losses, [], []

    def fit(self, X, y, lam):
        rows = np.asarray(X)[:, 0].astype(int)
        self.fits.append((float(lam), tuple(sorted(rows))))
        return {"lam": float(lam), "rows": set(rows.tolist())}

    def loss(self, params, X, y):
        rows = np.asarray(X)[:, 0].astype(int)
        self.evals.append((params["lam"], tuple(sorted(rows)), params["rows"]))
        return self.losses[params["lam"]]


@register(
    "04.choose_lambda",
    points=2,
    hint=("The test set is never used to choose: hold out part of the TRAINING data and compare λs there.",
          "Permute the row indices with rng, keep the first round(valid_fraction n) as the validation rows, "
          "fit each λ on the other rows and score it on the held-out ones; return the λ with the lowest loss."),
)
def _check_choose_lambda(choose_lambda, hidden=False):
    r = rng(405, hidden)
    cases = [(50, 0.2, [0.01, 0.1, 1.0, 10.0]), (31, 0.3, [1.0, 2.0, 3.0])] if not hidden else \
        [(40, 0.25, [0.5, 5.0, 50.0, 500.0, 5000.0]), (17, 0.2, [1e-3, 1e-2])]
    for n, fraction, lambdas in cases:
        X = np.column_stack([np.arange(n, dtype=float), r.standard_normal(n)])
        y = r.standard_normal(n)
        losses = dict(zip(map(float, lambdas), r.permutation(len(lambdas)).astype(float) + 1.0))
        spy = _SplitSpy(losses)
        context = f"for n = {n} rows, valid_fraction = {fraction}, lambdas = {lambdas}"
        got = call(choose_lambda, spy.fit, spy.loss, X, y, list(lambdas), np.random.default_rng(7),
                   valid_fraction=fraction, name="choose_lambda", arg_names=("fit", "loss", "X", "y"))
        if sorted(lam for lam, _ in spy.fits) != sorted(map(float, lambdas)):
            raise CheckFailed(f"choose_lambda called fit with λ = {[lam for lam, _ in spy.fits]} {context}; fit "
                              "each λ once")
        if len({rows for _, rows in spy.fits}) != 1 or len({rows for _, rows, _ in spy.evals}) != 1:
            raise CheckFailed(f"choose_lambda used different training or validation rows for different λ {context}: "
                              "compare every λ on the same split")
        if not spy.evals:
            raise CheckFailed(f"choose_lambda never called loss {context}")
        train, valid = set(spy.fits[0][1]), set(spy.evals[0][1])
        if train & valid:
            raise CheckFailed(f"choose_lambda scored λ on {len(train & valid)} rows it was also fitted on {context}: "
                              "the validation rows must be held out of the fit")
        if train | valid != set(range(n)):
            raise CheckFailed(f"choose_lambda left {n - len(train | valid)} rows out of both the fit and the "
                              f"validation {context}")
        if abs(len(valid) - fraction * n) > 1:
            raise CheckFailed(f"choose_lambda held out {len(valid)} of {n} rows {context}; valid_fraction asks for "
                              f"about {fraction * n:.0f}")
        if any(params_rows != set(rows) for _, _, params_rows in spy.evals for rows in [spy.fits[0][1]]):
            raise CheckFailed(f"choose_lambda scored parameters that were not fitted on its training rows {context}")
        best = min(losses, key=losses.get)
        if not isinstance(got, (int, float, np.floating, np.integer)) or float(got) != best:
            raise CheckFailed(f"choose_lambda returned {got!r} {context}; the validation losses were "
                              f"{ {lam: losses[lam] for lam in map(float, lambdas)} }, so the answer is λ = {best:g}")
        # The split comes from rng: the same seed gives the same split, another seed another one.
        again, other = _SplitSpy(losses), _SplitSpy(losses)
        call(choose_lambda, again.fit, again.loss, X, y, list(lambdas), np.random.default_rng(7),
             valid_fraction=fraction, name="choose_lambda")
        call(choose_lambda, other.fit, other.loss, X, y, list(lambdas), np.random.default_rng(8),
             valid_fraction=fraction, name="choose_lambda")
        if again.evals[0][1] != spy.evals[0][1]:
            raise CheckFailed(f"two calls with rng = default_rng(7) held out different rows {context}: split with "
                              "the rng you are given")
        if other.evals[0][1] == spy.evals[0][1]:
            raise CheckFailed(f"rng = default_rng(7) and default_rng(8) held out the same rows {context}: draw the "
                              "split at random with rng (not the first or last rows)")
