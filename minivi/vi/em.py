"""Per-datapoint variational EM, the talk's "Variational EM" (no amortisation):

    E-step   for every datapoint n:  q_n ← argmax_q F(y_n, q)      (model fixed)
    M-step   θ ← argmax_θ Σₙ F(y_n, q_n; θ)                          (q_n fixed)

Both steps climb the same objective Σₙ F(y_n, q_n; θ) ≤ Σₙ log p(y_n | θ). Here each is a few
gradient steps (Adam) on a Monte Carlo F. Every datapoint owns its q_n, so the cost of an
epoch grows with N, and a new datapoint needs an optimisation of its own: chapter 09's
inference network (amortisation) replaces the q_n by one learned map y ↦ q(z | y).
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

from ..autodiff import Tensor
from ..distributions import Distribution
from ..optim import Adam
from .free_energy import free_energy


def variational_em(log_lik: Callable[[Tensor], Tensor], prior: Distribution | None, family: Any,
                   model_params: Sequence[Tensor], rng: Any, n_iter: int = 100, e_steps: int = 5,
                   m_steps: int = 1, n_samples: int = 1, lr_e: float | Callable[[int], float] = 0.05,
                   lr_m: float | Callable[[int], float] = 0.01,
                   kl: str = "analytic", callback: Callable[[int, float], None] | None = None) -> list[float]:
    """Alternate E-steps (``e_steps`` Adam steps on the q_n of ``family``) and M-steps (``m_steps`` Adam steps
    on ``model_params``), each maximising Σₙ F(y_n, q_n). ``log_lik(z)`` reads the current model parameters.
    ``lr_e``/``lr_m`` may be schedules (``mv.optim.cosine(...)``): a decaying E-step rate lets the q_n settle
    once the posteriors are narrow. Returns the mean F per datapoint after every iteration (a noisy Monte
    Carlo estimate)."""
    e_opt, m_opt = Adam(family.parameters(), lr=lr_e), Adam(list(model_params), lr=lr_m)
    history = []
    for it in range(n_iter):
        for opt, steps in ((e_opt, e_steps), (m_opt, m_steps)):        # E-step, then M-step
            for _ in range(steps):
                e_opt.zero_grad()
                m_opt.zero_grad()
                F = free_energy(log_lik, family(), prior, rng, n_samples, kl)   # (n,): one F per datapoint
                (-F.sum()).backward()                                   # ascend Σₙ F(y_n, q_n)
                opt.step()
        history.append(F.mean().item())
        if callback is not None:
            callback(it, history[-1])
    return history
