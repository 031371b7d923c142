"""Variational inference: intractable integrals become optimisation (the talk's hinge).

    from minivi import vi
    from minivi.distributions import Normal
    # model: log p(y | z) for draws z of shape (S, *batch, d) -> (S, *batch); prior p(z)
    log_lik = lambda z: Normal(z @ W.T + mu, sigma).log_prob(Y).sum(-1)
    q = vi.MeanFieldGaussian((n,), k)                         # one q_n per datapoint
    F = vi.free_energy(log_lik, q(), Normal(0.0, 1.0), rng)   # (n,), ≤ log p(y_n)
    L = vi.iwae_bound(log_lik, q(), Normal(0.0, 1.0), rng, n_samples=50)      # F ≤ L_K ≤ log p(y)
    est, ess = vi.log_marginal_is(log_lik, q(), Normal(0.0, 1.0), rng, 10_000)  # NumPy, per datapoint

Convention: Monte Carlo samples on a leading axis, z has shape (S, *batch, d), the last axis is the
event axis; every estimate is per datapoint (*batch,). A model is a callable ``log_lik`` (plus a
prior, or ``prior=None`` when ``log_lik`` is the whole log-joint); a variational family is a
distribution; ``vi`` combines them.
"""
from ._util import log_density, log_weights
from .em import variational_em
from .estimators import effective_sample_size, is_log_stderr, log_mean_exp, mc_stderr
from .families import FullCovarianceGaussian, MeanFieldGaussian
from .free_energy import free_energy, kl_term
from .importance import ISEstimate, log_marginal_is
from .iwae import iwae_bound

__all__ = ["free_energy", "kl_term", "log_marginal_is", "ISEstimate", "iwae_bound", "variational_em",
           "MeanFieldGaussian", "FullCovarianceGaussian", "effective_sample_size", "is_log_stderr",
           "log_mean_exp", "mc_stderr", "log_density", "log_weights"]
