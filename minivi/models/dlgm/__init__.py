"""Deep latent Gaussian models (chapter 09): ``DLGM`` (VAE with one stochastic layer, Rezende et al. 2014's
model with several), its importance-sampled likelihood, IWAE bound and missing-data imputation.

    from minivi.models import DLGM
    m = DLGM(x_dim=784, hidden=(200, 200), z_dims=(20,), likelihood="bernoulli", rng=mv.default_rng(0))
    loss = -m.elbo(x, rng).mean()                 # train with minivi.optim like any network
    m.log_likelihood(x, 5000, rng)                # importance-sampled log p(x), NumPy (n,)
"""
from .impute import importance_impute, markov_impute
from .model import DLGM, LIKELIHOODS
from .training import fit_dlgm

__all__ = ["DLGM", "LIKELIHOODS", "fit_dlgm", "importance_impute", "markov_impute"]
