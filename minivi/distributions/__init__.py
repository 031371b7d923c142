"""Probability distributions with PyTorch's names: ``log_prob``, ``sample``, ``rsample``, ``mean``,
``variance``, ``entropy`` and ``kl_divergence``.

    import minivi as mv
    from minivi.distributions import Normal, kl_divergence
    q = Normal(mv.zeros(3, requires_grad=True), 1.0)
    z = q.rsample(mv.default_rng(0), (100,))        # (100, 3), differentiable in q's parameters
    kl = kl_divergence(q, Normal(0.0, 1.0))          # (3,), closed form

Every ``log_prob`` is written in a stable form (from logits, log-rates and log Φ), so it stays
finite where naive formulas give log 0; every sampler takes an explicit ``rng``. Priors and
posteriors for the later chapters: ``Beta``, ``Dirichlet`` (conjugate to Bernoulli and
Categorical) and the heavy-tailed ``StudentT``. With ``validate_args=True`` (the default)
NaN or infinite parameters and values are refused with an error that says what to fix.
"""
from .base import Distribution
from .bernoulli import Bernoulli
from .beta import Beta
from .categorical import Categorical
from .dirichlet import Dirichlet
from .gamma import Gamma
from .kl import kl_divergence, register_kl
from .laplace import Laplace
from .normal import CensoredNormal, Normal
from .ordinal import OrderedLogistic
from .poisson import Poisson
from .studentt import StudentT

__all__ = ["Distribution", "Normal", "Bernoulli", "Categorical", "Poisson", "Gamma", "Laplace",
           "OrderedLogistic", "CensoredNormal", "kl_divergence", "register_kl"]
__all__ += ["Beta", "Dirichlet", "StudentT"]
from .multivariate_normal import MultivariateNormal  # noqa: E402,F401 - full-covariance Gaussian (chapter 07)
from .exponential import Exponential  # noqa: E402 - chapter 08: reparameterised by location-scale / inverse CDF
from .gumbel import Gumbel  # noqa: E402
from .kumaraswamy import Kumaraswamy  # noqa: E402
from .logistic import Logistic  # noqa: E402

__all__ += ["Logistic", "Exponential", "Gumbel", "Kumaraswamy"]
