"""The talk's table of generalised linear models, as code: one ``Link`` per row.

    η = wᵀx + b,        y ~ p(y | g(η); θ)

In the talk's words g is the *inverse link*, the deep-learning *activation*; the *link*
g⁻¹ maps a mean μ back to η. Each row below holds both as formulas (text), g as a
differentiable function of η, the likelihood p(y | g(η)) as a distribution, a stable
negative log-likelihood, and a simulator. ``link_table()`` rebuilds the table from them.

Every callable of a row takes ``(eta, **extras)``: the extras are the likelihood's other
parameters θ (a noise scale, a Gamma shape, ordinal cutpoints), passed by name.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .. import autodiff as mv
from ..autodiff import Tensor
from ..autodiff.backend import special  # scipy.special, imported on first use
from ..distributions import (Bernoulli, Categorical, CensoredNormal, Distribution, Gamma, Normal,
                             OrderedLogistic, Poisson)


# ---------------------------------------------------------------------------------------
# Extras: parameters of p(y | μ) besides the mean, fitted on an unconstrained scale
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Extra:
    """A likelihood parameter other than the mean, learned as ``value = constrain(raw)``, raw ∈ ℝᵖ."""

    doc: str
    default: Callable[[int | None], np.ndarray]        # n_classes → a valid value
    constrain: Callable[[Tensor], Tensor]              # raw → valid value (differentiable)
    unconstrain: Callable[[np.ndarray], np.ndarray]    # valid value → raw (NumPy)
    start: Callable[[np.ndarray, int | None], np.ndarray] | None = None  # a value from the data y


def positive(doc: str, default: float, start: Callable | None = None) -> Extra:
    """A positive scalar, value = exp(raw)."""
    return Extra(doc, lambda k: np.asarray(default), mv.exp, np.log, start)


def _ordered(raw: Tensor) -> Tensor:
    """φ₀ = r₀ and φ_k = φ_{k-1} + exp(r_k): increasing for any raw r (a cumulative sum as L @ steps)."""
    steps = mv.concatenate([raw[:1], mv.exp(raw[1:])])
    m = raw.shape[0]
    lower_ones = mv.tensor(np.tril(np.ones((m, m))), dtype=raw.dtype, device=raw.device)
    return lower_ones @ steps


def _unordered(phi: np.ndarray) -> np.ndarray:
    return np.concatenate([phi[:1], np.log(np.diff(phi))])


def _cutpoints_from_frequencies(y: np.ndarray, k: int) -> np.ndarray:
    """φ_k = logit P̂(y ≤ k): the cutpoints that fit the class frequencies when η = 0."""
    freq = (np.bincount(np.asarray(y, dtype=int), minlength=k) + 0.5) / (len(y) + 0.5 * k)
    cum = np.cumsum(freq)[:-1]
    return np.log(cum) - np.log1p(-cum)


CUTPOINTS = Extra("ordinal cutpoints φ₀ < … < φ_{K-2}", lambda k: np.arange(k - 1) - (k - 2) / 2,
                  _ordered, _unordered, _cutpoints_from_frequencies)


def _tensor(eta: Any) -> Tensor:
    return eta if isinstance(eta, Tensor) else mv.tensor(eta)


# ---------------------------------------------------------------------------------------
# Stable pieces of the binary rows
# ---------------------------------------------------------------------------------------
def _binary_values(y: Any, like: Tensor) -> Tensor:
    y = y if isinstance(y, Tensor) else mv.tensor(y, dtype=like.dtype, device=like.device)
    if not bool(mv.get_array_module(y.data).all((y.data == 0) | (y.data == 1))):
        raise ValueError("binary targets must be 0 or 1")
    return y


def _probit_log_lik(eta: Tensor, y: Any) -> Tensor:
    """y log Φ(η) + (1 - y) log Φ(-η): log_ndtr is finite in both tails."""
    y = _binary_values(y, eta)
    return y * mv.log_ndtr(eta) + (1.0 - y) * mv.log_ndtr(-eta)


_TAIL = -20.0  # below it e^η < 3e-9, and log(1 - exp(-e^η)) = η - e^η/2 to double precision
_TOP = 40.0     # above it exp(-e^η) underflows: log μ = 0 exactly (and e^η must not overflow)


def log_cloglog_mean(eta: Tensor) -> Tensor:
    """log μ for μ = 1 - exp(-e^η): log(-expm1(-e^η)), or η - e^η/2 in the left tail where e^η underflows.

    Each branch only ever sees the η it is used for (the clips), so neither can send a
    NaN back through the other's gradient (0 · ∞ from an overflowed e^η).
    """
    near = mv.log(-mv.expm1(-mv.exp(mv.clip(eta, lo=_TAIL, hi=_TOP))))
    far = mv.clip(eta, hi=_TAIL)
    return mv.where(eta.data < _TAIL, far - 0.5 * mv.exp(far), near)


def _cloglog_log_lik(eta: Tensor, y: Any) -> Tensor:
    """log μ where y = 1, log(1 - μ) = -e^η where y = 0; each branch evaluated only at its own η."""
    y = _binary_values(y, eta)
    one = y.data == 1
    return mv.where(one, log_cloglog_mean(mv.where(one, eta, 0.0)), -mv.exp(mv.where(one, 0.0, eta)))


def _gamma_reciprocal(eta: Tensor, concentration: Any) -> Gamma:
    """Gamma with mean μ = 1/η: concentration α and rate α η."""
    bad = int((eta.data <= 0).sum())
    if bad:
        raise ValueError(
            f"the reciprocal link needs η = wᵀx + b > 0 (μ = 1/η is a positive mean), but {bad} of {eta.size} "
            "values are ≤ 0. Start from w = 0, b = 1/mean(y) (GLM.fit does), use method='newton' (which "
            "halves any step that leaves η > 0), or a smaller learning rate."
        )
    return Gamma(concentration, concentration * eta)


# ---------------------------------------------------------------------------------------
# The rows
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Link:
    """One row of the table: a target type, its likelihood, and the link between μ and η.

    Attributes (text, for the table): ``target``, ``regression``, ``link`` (g⁻¹: μ → η),
    ``inverse_link`` (g: η → μ), ``activation``, ``likelihood``, ``note``.
    Code: ``g`` (the activation, differentiable), ``dist`` (builds p(y | g(η); θ)),
    ``g_inv`` (the link in NumPy, for start values), ``log_lik`` (a stabler log p(y | η)
    where the distribution's own would lose precision), ``extras`` (θ).
    """

    name: str
    target: str
    regression: str
    link: str
    inverse_link: str
    activation: str
    likelihood: str
    g: Callable[..., Tensor]
    dist: Callable[..., Distribution]
    g_inv: Callable[[np.ndarray], np.ndarray] | None = None
    log_lik: Callable[..., Tensor] | None = None
    extras: dict[str, Extra] = field(default_factory=dict)
    per_class: bool = False       # η has one column per class (softmax)
    intercept: bool = True        # False when the extras absorb b (ordinal cutpoints)
    exp_family: bool = True       # y | η is a one-parameter exponential family in μ (extras fixed)
    note: str = ""

    def activate(self, eta: Tensor, **extras: Any) -> Tensor:
        """g(η), the table's activation."""
        return self.g(_tensor(eta), **extras)

    def distribution(self, eta: Tensor, **extras: Any) -> Distribution:
        """p(y | g(η); θ) as a distribution: its ``mean`` is E[y | η], ``sample`` simulates."""
        return self.dist(_tensor(eta), **extras)

    def nll(self, eta: Tensor, y: Any, **extras: Any) -> Tensor:
        """-log p(y | g(η); θ) for every observation (not summed)."""
        if self.log_lik is not None:
            return -self.log_lik(_tensor(eta), y, **extras)
        return -self.distribution(eta, **extras).log_prob(y)

    def simulate(self, eta: Tensor, rng: Any, **extras: Any) -> np.ndarray:
        """Draw y ~ p(y | g(η); θ) as a NumPy array (integer labels for class targets)."""
        y = self.distribution(eta, **extras).sample(rng).numpy()
        return y.astype(np.int64) if self.per_class or "cutpoints" in self.extras else y

    def fisher_info(self, eta: Tensor, **extras: Any) -> Tensor:
        """I(η) = g'(η)² / Var[y | η], the Fisher information of η from one observation.

        It holds for rows whose likelihood is an exponential family in its mean μ = g(η)
        (extras held fixed); g' comes from the engine. For a canonical link it is
        Var[y | η] itself (μ(1 - μ) for the logit, μ for the Poisson-log).
        """
        if not self.exp_family:
            raise NotImplementedError(
                f"fisher_info: the {self.name!r} row is not a one-parameter exponential family in a scalar "
                "mean; rows with one are " + ", ".join(n for n, l in LINKS.items() if l.exp_family)
            )
        eta = _tensor(eta).detach()
        slope = mv.grad(lambda e: self.g(e, **extras).sum())(eta)
        var = self.dist(eta, **extras).variance
        # where the mean saturates, Var[y | η] underflows to 0 while g'(η)² vanishes faster: I(η) -> 0
        return mv.where(var.data > 0, slope * slope / mv.maximum(var, float(np.finfo(var.dtype).tiny)), 0.0).detach()


_ROWS = [
    Link(name="identity", target="Real", regression="Linear", link="identity  μ", inverse_link="identity  η",
         activation="—", likelihood="N(μ, σ²)",
         g=lambda eta, **_: eta, dist=lambda eta, scale: Normal(eta, scale), g_inv=lambda mu: mu,
         extras={"scale": positive("noise standard deviation σ", 1.0, lambda y, k: np.std(y))}),
    Link(name="logit", target="Binary", regression="Logistic", link="logit  log μ/(1-μ)",
         inverse_link="sigmoid  1/(1+exp(-η))", activation="sigmoid", likelihood="Bernoulli(μ)",
         g=lambda eta, **_: mv.sigmoid(eta), dist=lambda eta: Bernoulli(logits=eta),
         g_inv=lambda mu: special(np).logit(mu)),
    Link(name="probit", target="Binary", regression="Probit", link="inv. Gauss CDF  Φ⁻¹(μ)",
         inverse_link="Gauss CDF  Φ(η)", activation="probit", likelihood="Bernoulli(μ)",
         g=lambda eta, **_: mv.ndtr(eta), dist=lambda eta: Bernoulli(probs=mv.ndtr(eta)),
         g_inv=lambda mu: special(np).ndtri(mu), log_lik=_probit_log_lik,
         note="NLL from log Φ(η) and log Φ(-η) (log_ndtr), finite in both tails"),
    Link(name="cloglog", target="Binary", regression="Gumbel", link="compl. log-log  log(-log(1-μ))",
         inverse_link="Gumbel  1-exp(-exp(η))", activation="—", likelihood="Bernoulli(μ)",
         g=lambda eta, **_: -mv.expm1(-mv.exp(eta)), dist=lambda eta: Bernoulli(probs=-mv.expm1(-mv.exp(eta))),
         g_inv=lambda mu: np.log(-np.log1p(-mu)), log_lik=_cloglog_log_lik,
         note="the talk's e^{-e^{-η}} is the Gumbel CDF; 1 - e^{-e^{η}} is its mirror image, the usual "
              "cloglog model. Stable: log μ = log(-expm1(-e^η)), log(1-μ) = -e^η"),
    Link(name="tanh", target="Binary", regression="Logistic", link="½ logit  ½ log μ/(1-μ)",
         inverse_link="(tanh(η)+1)/2", activation="tanh", likelihood="Bernoulli(μ)",
         g=lambda eta, **_: (mv.tanh(eta) + 1.0) * 0.5, dist=lambda eta: Bernoulli(logits=2.0 * eta),
         g_inv=lambda mu: 0.5 * special(np).logit(mu),
         note="(tanh(η)+1)/2 = σ(2η): logistic regression with η doubled"),
    Link(name="softmax", target="Categorical", regression="Multinomial", link="log  log μ_k (+ const)",
         inverse_link="softmax  exp(η_k)/Σ_j exp(η_j)", activation="softmax", likelihood="Categorical(μ)",
         g=lambda eta, **_: mv.softmax(eta, axis=-1), dist=lambda eta: Categorical(logits=eta),
         per_class=True, exp_family=False,
         note="one η per class; only differences between classes are identified. The talk's "
              "η_i/Σ_j η_j needs exponentials to be a softmax"),
    Link(name="log", target="Counts", regression="Poisson", link="log  log μ", inverse_link="exp  exp(η)",
         activation="—", likelihood="Poisson(μ)",
         g=lambda eta, **_: mv.exp(eta), dist=lambda eta: Poisson(log_rate=eta), g_inv=np.log),
    Link(name="sqrt", target="Counts", regression="Poisson", link="sqrt  √μ", inverse_link="square  η²",
         activation="—", likelihood="Poisson(μ)",
         g=lambda eta, **_: eta * eta, dist=lambda eta: Poisson(rate=eta * eta), g_inv=np.sqrt,
         note="η and -η give the same μ: the fit starts at b = √mean(y) > 0 to pick η > 0"),
    Link(name="reciprocal", target="Non-neg.", regression="Gamma", link="reciprocal  1/μ",
         inverse_link="reciprocal  1/η", activation="—", likelihood="Gamma(α, rate α/μ)",
         g=lambda eta, **_: 1.0 / eta, dist=_gamma_reciprocal, g_inv=lambda mu: 1.0 / mu,
         extras={"concentration": positive("Gamma shape α", 1.0, lambda y, k: np.mean(y) ** 2 / np.var(y))},
         note="needs η > 0, which a linear η does not guarantee: enforced (a clear error), not "
              "reparameterised, so the fitted weights are those of the table's model"),
    Link(name="tobit", target="Sparse", regression="Tobit", link="—", inverse_link="max(0, η)",
         activation="ReLU", likelihood="max(0, y*), y* ~ N(η, σ²)",
         g=lambda eta, **_: mv.relu(eta), dist=lambda eta, scale: CensoredNormal(eta, scale, lower=0.0),
         extras={"scale": positive("latent noise standard deviation σ", 1.0, lambda y, k: np.std(y))},
         exp_family=False, note="max(0, η) is the censored value of the latent mean; E[y] is larger"),
    Link(name="cumulative_logit", target="Ordered", regression="Ordinal", link="cum. logit  log P(y≤k)/P(y>k)",
         inverse_link="cum. σ(φ_k - η)", activation="sigmoid", likelihood="P(y ≤ k) = σ(φ_k - η)",
         g=lambda eta, cutpoints: mv.sigmoid(cutpoints - mv.expand_dims(eta, -1)),
         dist=lambda eta, cutpoints: OrderedLogistic(eta, cutpoints),
         extras={"cutpoints": CUTPOINTS}, intercept=False, exp_family=False,
         note="no bias b: the cutpoints absorb it"),
]
LINKS: dict[str, Link] = {r.name: r for r in _ROWS}
ALIASES = {"linear": "identity", "gaussian": "identity", "logistic": "logit", "sigmoid": "logit",
           "gumbel": "cloglog", "multinomial": "softmax", "categorical": "softmax", "poisson": "log",
           "gamma": "reciprocal", "relu": "tobit", "ordinal": "cumulative_logit", "ordered": "cumulative_logit"}


def get_link(link: str | Link) -> Link:
    """The row called ``link`` (a name from ``LINKS`` or an alias such as 'poisson', 'relu')."""
    if isinstance(link, Link):
        return link
    name = ALIASES.get(str(link).lower(), str(link).lower())
    if name not in LINKS:
        raise ValueError(f"unknown link {link!r}: choose one of {', '.join(LINKS)} (or an alias: {', '.join(ALIASES)})")
    return LINKS[name]


def link_table(markdown: bool = True, notes: bool = False) -> str:
    """The talk's table rebuilt from the ``Link`` objects (markdown, or aligned plain text),
    optionally followed by each row's note."""
    head = ["Target", "Regression", "Link", "Inv link", "Activation", "p(y | μ)", "minivi name"]
    rows = [[r.target, r.regression, r.link, r.inverse_link, r.activation, r.likelihood, r.name] for r in _ROWS]
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + ["| " + " | ".join(r) + " |" for r in rows]
    else:
        widths = [max(len(x) for x in col) for col in zip(head, *rows)]
        lines = ["  ".join(x.ljust(w) for x, w in zip(row, widths)).rstrip() for row in [head, *rows]]
    if notes:
        lines += [""] + [f"- {r.name}: {r.note}" for r in _ROWS if r.note]
    return "\n".join(lines)
