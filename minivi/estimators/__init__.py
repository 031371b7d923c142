"""Monte Carlo gradient estimators: ∇_ξ E_{q_ξ(z)}[f(z)] by stochastic backpropagation or the score function.

The talk names two ways ("Stochastic backpropagation"; "Monte Carlo control variate estimators"):

* ``pathwise``   z = g(ξ, ε):  E_{p(ε)}[∇_ξ f(g(ξ, ε))]             (reparameterisation; low variance, needs
                                                                       a differentiable f and an rsample)
* ``score``      E_q[(f(z) - c) ∇_ξ log q_ξ(z)]                      (any log_prob, discrete z; high variance,
                                                                       tamed by the control variate c)
* ``baselines``  which c keep the estimator unbiased: constant, moving average, leave-one-out, optimal c*
* ``nvil``       NVIL's input-dependent baseline and variance normalisation
* ``per_sample`` n per-sample gradients in one backward pass (parameters expanded over a sample axis)

    from minivi import estimators
    g = estimators.grad_samples(f, q, n, rng, method="score", baseline="optimal")   # {name: (n, *shape)}
    g["loc"].mean(0), g["loc"].var(0)            # the estimate, and the single-sample estimator's variance
"""
from .baselines import MovingAverage, batch_mean, optimal_coefficient
from .estimate import grad_samples
from .nvil import NVILBaseline
from .pathwise import pathwise_grads
from .per_sample import expand_params, loop_grad_samples, parameters_of, per_sample_grads
from .score import score_grads, score_surrogate

__all__ = ["grad_samples", "pathwise_grads", "score_grads", "score_surrogate", "MovingAverage", "batch_mean",
           "optimal_coefficient", "NVILBaseline", "expand_params", "parameters_of", "per_sample_grads",
           "loop_grad_samples"]
