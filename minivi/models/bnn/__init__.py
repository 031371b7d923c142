"""Bayesian neural networks: uncertainty on the model's parameters (chapter 11).

The weights get a posterior p(w | D) ∝ p(D | w) p(w) instead of a point estimate, and predictions
average over it: p(y* | x*, D) = ∫ p(y* | x*, w) p(w | D) dw ≈ (1/S) Σ_s p(y* | x*, w_s).

* :mod:`.bayes_linear` -- the exact answer for a linear model (Gaussian posterior, mean-field optimum);
* :mod:`.priors` -- Gaussian and scale-mixture priors on every weight;
* :mod:`.bayes_by_backprop` -- mean-field Gaussian weights fitted by maximising the free energy
  F = E_q[log p(D | w)] − KL[q(w) ‖ p(w)] (Blundell et al. 2015), with the local reparameterisation trick;
* :mod:`.mc_dropout` -- a dropout network kept stochastic at test time (Gal & Ghahramani 2015);
* :mod:`.hamiltonian` -- Hamiltonian Monte Carlo driven by the engine's gradients (the reference on small problems);
* :mod:`.metrics` -- test log-likelihood, error, calibration (ECE, reliability diagram), predictive entropy.
"""
from .bayes_by_backprop import (BayesLinear, BayesMLP, categorical_log_likelihood, free_energy,
                                gaussian_log_likelihood, kl_weights, predict)
from .bayes_linear import blr_posterior, mean_field_optimum
from .hamiltonian import HMCResult, effective_sample_size, hamiltonian, hmc, hmc_step, leapfrog, value_and_grad
from .mc_dropout import mc_dropout_predict
from .metrics import (error_rate, expected_calibration_error, gaussian_predictive_log_likelihood,
                      log_predictive, mean_and_se, predictive_entropy, reliability_diagram)
from .priors import GaussianPrior, ScaleMixturePrior
from .toy import FlatMLP, cubic, cubic_with_gap

__all__ = [
    "BayesLinear", "BayesMLP", "FlatMLP", "GaussianPrior", "cubic", "cubic_with_gap", "HMCResult", "ScaleMixturePrior", "blr_posterior",
    "categorical_log_likelihood", "effective_sample_size", "error_rate", "expected_calibration_error",
    "free_energy", "gaussian_log_likelihood", "gaussian_predictive_log_likelihood", "hamiltonian", "hmc",
    "hmc_step", "kl_weights", "leapfrog", "log_predictive", "mc_dropout_predict", "mean_and_se",
    "mean_field_optimum", "predict", "predictive_entropy", "reliability_diagram", "value_and_grad",
]
