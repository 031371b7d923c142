"""The free energy (evidence lower bound), the talk's "What is a variational method?":

    F(y, q) = E_q(z)[log p(y | z)] - KL[q(z) ‖ p(z)]  ≤  log p(y)

and log p(y) = F(y, q) + KL[q(z) ‖ p(z | y)], so maximising F over q is the same as making q
close to the posterior. The expectation is a Monte Carlo average over reparameterised draws
z = g(ε; q) (``q.rsample``), so F is differentiable in q's parameters and in the model's.
"""
from __future__ import annotations

from typing import Any

from ..autodiff import Tensor
from ..distributions import Distribution, kl_divergence
from ._util import LogLik, check_log_lik, log_density, reduce_event

KL_CHOICES = ("analytic", "mc", "auto")


def kl_term(q: Distribution, prior: Distribution, z: Tensor | None = None, kl: str = "analytic") -> Tensor:
    """KL[q ‖ p] per datapoint (*batch,): closed form (``"analytic"``), or the Monte Carlo average of
    log q(z) - log p(z) over the draws ``z`` (``"mc"``); ``"auto"`` uses the closed form when registered."""
    if kl not in KL_CHOICES:
        raise ValueError(f"kl must be one of {KL_CHOICES}, got {kl!r}")
    if kl in ("analytic", "auto"):
        try:
            return reduce_event(kl_divergence(q, prior), q)
        except NotImplementedError:
            if kl == "analytic":
                raise NotImplementedError(
                    f"free_energy: no closed-form KL[{type(q).__name__} ‖ {type(prior).__name__}] is registered; "
                    "pass kl='mc' (Monte Carlo) or kl='auto' (closed form where known)") from None
    if z is None:
        raise ValueError("kl_term: the Monte Carlo KL needs the draws z ~ q")
    return (log_density(q, z) - log_density(prior, z)).mean(axis=0)


def free_energy(log_lik: LogLik, q: Distribution, prior: Distribution | None, rng: Any, n_samples: int = 1,
                kl: str = "analytic") -> Tensor:
    """F(y, q) for every datapoint: a differentiable tensor of shape (*batch,).

    log_lik   z (S, *batch, d) -> (S, *batch): log p(y | z) for each draw (the log-joint log p(y, z)
              when ``prior`` is None; then F = E_q[log p(y, z)] + H[q], with the entropy in closed form
              for kl="analytic" and as -E_q[log q(z)] for kl="mc").
    q         the variational distribution, batch (*batch, d) (``Normal``) or (*batch,) with event d
              (``MultivariateNormal``); it must have ``rsample``.
    prior     p(z), broadcasting against q (e.g. ``Normal(0.0, 1.0)``), or None.
    kl        "analytic" (closed-form KL or entropy), "mc" (Monte Carlo on the same draws) or "auto".
    """
    if n_samples < 1:
        raise ValueError(f"free_energy: n_samples must be at least 1, got {n_samples}")
    z = q.rsample(rng, (n_samples,))                                       # (S, *batch, d)
    expected = check_log_lik(log_lik(z), z, "free_energy").mean(axis=0)    # E_q[log p(y | z)], (*batch,)
    if prior is not None:
        return expected - kl_term(q, prior, z, kl)
    if kl not in KL_CHOICES:
        raise ValueError(f"kl must be one of {KL_CHOICES}, got {kl!r}")
    if kl == "mc":
        return expected - log_density(q, z).mean(axis=0)
    return expected + reduce_event(q.entropy(), q)
