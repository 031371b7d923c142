"""KL[p ‖ q] = E_p[log p(y) - log q(y)] in closed form, looked up in a registry by the pair of types.

    @register_kl(Normal, Normal)
    def _kl_normal_normal(p, q): ...

``kl_divergence(p, q)`` finds the closed form for ``(type(p), type(q))`` (or for their
base classes) and raises a ``NotImplementedError`` that lists the known pairs otherwise:
then estimate it by Monte Carlo, mean(p.log_prob(y) - q.log_prob(y)) with y ~ p.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .. import autodiff as mv
from ..autodiff import Tensor
from .base import Distribution
from .bernoulli import Bernoulli
from .beta import Beta
from .categorical import Categorical
from .dirichlet import Dirichlet
from .gamma import Gamma
from .laplace import Laplace
from .normal import Normal
from .poisson import Poisson
from .special import log_beta_fn

_KL_REGISTRY: dict[tuple[type, type], Callable[[Distribution, Distribution], Tensor]] = {}


def register_kl(p_type: type, q_type: type) -> Callable:
    """Decorator: register ``fn(p, q)`` as the closed-form KL[p ‖ q] for these two types."""

    def decorate(fn: Callable) -> Callable:
        _KL_REGISTRY[(p_type, q_type)] = fn
        return fn

    return decorate


def kl_divergence(p: Distribution, q: Distribution) -> Tensor:
    """KL[p ‖ q], elementwise over the batch (differentiable with respect to both)."""
    for name, d in (("p", p), ("q", q)):
        if not isinstance(d, Distribution):
            raise TypeError(f"kl_divergence(p, q): {name} must be a Distribution (e.g. Normal(0.0, 1.0)), "
                            f"got {type(d).__name__} {d!r:.40}")
    p_shape = p.batch_shape + tuple(getattr(p, "event_shape", ()))  # a vector-valued family's event axis counts
    q_shape = q.batch_shape + tuple(getattr(q, "event_shape", ()))
    try:
        np.broadcast_shapes(p_shape, q_shape)
    except ValueError:
        raise ValueError(f"kl_divergence(p, q): shapes do not broadcast ({type(p).__name__} p {p_shape}, "
                         f"{type(q).__name__} q {q_shape}); give parameters whose shapes agree from the right"
                         ) from None
    if p._constant and not q._constant:  # a constant side follows the other's dtype/device
        p._follow(q._like, f"{type(q).__name__} q")
    else:
        q._follow(p._like, f"{type(p).__name__} p")
    for (pt, qt), fn in _KL_REGISTRY.items():
        if type(p) is pt and type(q) is qt:
            return fn(p, q)
    for (pt, qt), fn in _KL_REGISTRY.items():
        if isinstance(p, pt) and isinstance(q, qt):
            return fn(p, q)
    known = ", ".join(f"{a.__name__}‖{b.__name__}" for a, b in _KL_REGISTRY)
    raise NotImplementedError(
        f"no closed-form KL[{type(p).__name__} ‖ {type(q).__name__}] is registered (known: {known}). "
        "Register one with @register_kl, or estimate it by Monte Carlo: y = p.sample(rng, n); "
        "(p.log_prob(y) - q.log_prob(y)).mean(axis=0)."
    )


@register_kl(Normal, Normal)
def _kl_normal_normal(p: Normal, q: Normal) -> Tensor:
    """log(σ_q/σ_p) + (σ_p² + (μ_p - μ_q)²) / (2 σ_q²) - ½."""
    ratio = p.scale / q.scale
    d = (p.loc - q.loc) / q.scale
    return -mv.log(ratio) + 0.5 * (ratio * ratio + d * d) - 0.5


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p: Bernoulli, q: Bernoulli) -> Tensor:
    """μ_p (log μ_p - log μ_q) + (1 - μ_p)(log(1 - μ_p) - log(1 - μ_q)), logs from logits."""
    lp1, lq1 = mv.log_sigmoid(p.logits), mv.log_sigmoid(q.logits)
    lp0, lq0 = mv.log_sigmoid(-p.logits), mv.log_sigmoid(-q.logits)
    return p.probs * (lp1 - lq1) + (1.0 - p.probs) * (lp0 - lq0)


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p: Categorical, q: Categorical) -> Tensor:
    """Σₖ π_k (log π_k - log ρ_k), with 0 log 0 = 0 and π_k log(π_k / 0) = +inf.

    Logits of -inf (probability 0) are clipped to the most negative finite number, so no
    0 · inf appears (in the value or its gradient); a class possible under p but impossible
    under q makes the KL +inf, as it should.
    """
    if p.n_classes != q.n_classes:
        raise ValueError(f"KL between Categoricals with {p.n_classes} and {q.n_classes} classes is undefined")
    terms = p.probs * (p.finite_logits - q.finite_logits)
    impossible = (q.probs.data == 0) & (p.probs.data > 0)
    if bool(impossible.any()):
        terms = mv.where(impossible, float("inf"), terms)
    return terms.sum(axis=-1)


@register_kl(Laplace, Laplace)
def _kl_laplace_laplace(p: Laplace, q: Laplace) -> Tensor:
    """log(b_q/b_p) + |μ_p - μ_q|/b_q + (b_p/b_q) exp(-|μ_p - μ_q|/b_p) - 1."""
    d = mv.abs(p.loc - q.loc)
    ratio = p.scale / q.scale
    return -mv.log(ratio) + d / q.scale + ratio * mv.exp(-d / p.scale) - 1.0


@register_kl(Gamma, Gamma)
def _kl_gamma_gamma(p: Gamma, q: Gamma) -> Tensor:
    """(α_p - α_q) ψ(α_p) - log Γ(α_p) + log Γ(α_q) + α_q (log β_p - log β_q) + α_p (β_q - β_p)/β_p."""
    ap, bp, aq, bq = p.concentration, p.rate, q.concentration, q.rate
    return ((ap - aq) * mv.digamma(ap) - mv.gammaln(ap) + mv.gammaln(aq)
            + aq * (mv.log(bp) - mv.log(bq)) + ap * (bq - bp) / bp)


@register_kl(Poisson, Poisson)
def _kl_poisson_poisson(p: Poisson, q: Poisson) -> Tensor:
    """λ_p (log λ_p - log λ_q) - λ_p + λ_q."""
    return p.rate * (p.log_rate - q.log_rate) - p.rate + q.rate


@register_kl(Beta, Beta)
def _kl_beta_beta(p: Beta, q: Beta) -> Tensor:
    """log B(α_q, β_q) - log B(α_p, β_p) + (α_p - α_q) ψ(α_p) + (β_p - β_q) ψ(β_p)
    + (α_q - α_p + β_q - β_p) ψ(α_p + β_p)."""
    ap, bp, aq, bq = p.concentration1, p.concentration0, q.concentration1, q.concentration0
    return (log_beta_fn(aq, bq) - log_beta_fn(ap, bp) + (ap - aq) * mv.digamma(ap) + (bp - bq) * mv.digamma(bp)
            + (aq - ap + bq - bp) * mv.digamma(ap + bp))


@register_kl(Dirichlet, Dirichlet)
def _kl_dirichlet_dirichlet(p: Dirichlet, q: Dirichlet) -> Tensor:
    """log Γ(α₀) - Σₖ log Γ(αₖ) - log Γ(β₀) + Σₖ log Γ(βₖ) + Σₖ (αₖ - βₖ)(ψ(αₖ) - ψ(α₀)), p = Dir(α), q = Dir(β)."""
    if p.n_components != q.n_components:
        raise ValueError(f"KL between Dirichlets with {p.n_components} and {q.n_components} components is undefined")
    a, b = p.concentration, q.concentration
    a0 = a.sum(axis=-1)
    return (mv.gammaln(a0) - mv.gammaln(a).sum(axis=-1) - mv.gammaln(b.sum(axis=-1)) + mv.gammaln(b).sum(axis=-1)
            + ((a - b) * (mv.digamma(a) - mv.expand_dims(mv.digamma(a0), -1))).sum(axis=-1))
