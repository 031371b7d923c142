"""Hamiltonian Monte Carlo with the engine's gradients: the reference posterior on small problems.

To sample θ ~ π(θ) ∝ exp(log π(θ)), add a momentum p ~ N(0, I) and simulate the dynamics of the energy

    H(θ, p) = U(θ) + K(p),       U(θ) = −log π(θ),       K(p) = ½ pᵀp,

with the *leapfrog* integrator (step size ε, L steps):

    p ← p + (ε/2) ∇log π(θ);   [θ ← θ + ε p;  p ← p + ε ∇log π(θ)] × L (the last momentum step halved).

Leapfrog is reversible (flip p and run again: back to the start) and volume-preserving, so the
Metropolis correction only needs the energy change: accept the end point (θ', p') with probability
min(1, exp(H(θ, p) − H(θ', p'))). Its energy error is O(ε²), so acceptance stays high with long
trajectories. During warm-up the step size is tuned by dual averaging (Hoffman & Gelman 2014, §3.2)
towards a target acceptance rate; the warm-up draws are discarded.

Gradients are the ones that train networks: ``log_prob(θ).backward()`` on a minivi Tensor.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Callable

import numpy as np

from ...autodiff import Tensor


def value_and_grad(log_prob: Callable[[Tensor], Tensor]) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    """θ (a float64 array) ↦ (log π(θ), ∇log π(θ)) by one forward and one backward pass of the engine."""

    def f(theta: np.ndarray) -> tuple[float, np.ndarray]:
        t = Tensor(np.array(theta, dtype=np.float64), requires_grad=True, dtype="float64")
        lp = log_prob(t)
        if not isinstance(lp, Tensor) or lp.size != 1:
            raise ValueError("hmc: log_prob(θ) must return a scalar Tensor (sum the log-density over the data)")
        lp.backward()
        grad = t.grad.numpy() if t.grad is not None else np.zeros_like(theta)
        return float(lp.item()), np.asarray(grad, dtype=np.float64)

    return f


def leapfrog(theta: np.ndarray, p: np.ndarray, grad_log_prob: Callable[[np.ndarray], np.ndarray],
             step_size: float, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """L leapfrog steps of size ε from (θ, p); returns the new (θ, p). ``grad_log_prob(θ)`` is ∇log π(θ)."""
    theta, p = np.array(theta, dtype=np.float64), np.array(p, dtype=np.float64)
    p = p + 0.5 * step_size * grad_log_prob(theta)           # half step in momentum
    for i in range(n_steps):
        theta = theta + step_size * p                         # full step in position
        g = grad_log_prob(theta)
        p = p + (step_size if i < n_steps - 1 else 0.5 * step_size) * g   # full steps, the last one halved
    return theta, p


def hamiltonian(log_prob_value: float, p: np.ndarray) -> float:
    """H(θ, p) = −log π(θ) + ½ pᵀp."""
    return -log_prob_value + 0.5 * float(np.dot(p.ravel(), p.ravel()))


def hmc_step(theta: np.ndarray, value_and_grad_fn: Callable, step_size: float, n_steps: int, rng: np.random.Generator,
             current: tuple[float, np.ndarray] | None = None):
    """One HMC transition: fresh momentum, L leapfrog steps, Metropolis accept/reject.

    Returns (θ_next, (log π, ∇log π) at θ_next, acceptance probability min(1, e^{−ΔH}), accepted?).
    """
    lp0, g0 = current if current is not None else value_and_grad_fn(theta)
    p0 = rng.standard_normal(theta.shape)
    cache = {}

    def grad(th: np.ndarray) -> np.ndarray:
        lp, g = value_and_grad_fn(th)
        cache["last"] = (lp, g)
        return g

    # leapfrog, reusing the gradient we already have at θ for the first half step
    p = p0 + 0.5 * step_size * g0
    th = np.array(theta, dtype=np.float64)
    for i in range(n_steps):
        th = th + step_size * p
        g = grad(th)
        p = p + (step_size if i < n_steps - 1 else 0.5 * step_size) * g
    lp1, g1 = cache["last"]
    delta_h = hamiltonian(lp1, p) - hamiltonian(lp0, p0)
    accept_prob = 1.0 if delta_h <= 0 else (math.exp(-delta_h) if math.isfinite(delta_h) else 0.0)
    if rng.random() < accept_prob:
        return th, (lp1, g1), accept_prob, True
    return np.array(theta, dtype=np.float64), (lp0, g0), accept_prob, False


@dataclasses.dataclass
class HMCResult:
    """samples: (n_samples, dim) after warm-up; accept_rate after warm-up; the tuned step size; log π per sample."""

    samples: np.ndarray
    accept_rate: float
    step_size: float
    log_probs: np.ndarray
    n_gradients: int


def hmc(log_prob: Callable[[Tensor], Tensor], init: np.ndarray, n_samples: int, rng: np.random.Generator, *,
        n_warmup: int = 500, step_size: float = 0.1, n_leapfrog: int = 20, target_accept: float = 0.8,
        adapt: bool = True) -> HMCResult:
    """Draw ``n_samples`` from π(θ) ∝ exp(log_prob(θ)) by HMC, after ``n_warmup`` tuning steps.

    Parameters
    ----------
    log_prob : θ (a float64 Tensor of shape (dim,)) -> scalar Tensor
        The unnormalised log-density, e.g. the log-joint log p(y | X, θ) + log p(θ) of a network.
    init : array (dim,)
    step_size : float
        The leapfrog ε to start from (tuned in warm-up when ``adapt``).
    n_leapfrog : int
        The most leapfrog steps per trajectory: each trajectory draws its L uniformly from 1..n_leapfrog
        (Neal 2011, §5.4.2.2). A fixed length can resonate with the posterior: for a Gaussian with std σ
        in some direction, ε L ≈ π σ maps θ to −θ there every time, and the chain never explores its spread.
    target_accept : float
        The acceptance rate dual averaging aims for during warm-up.
    """
    if n_samples < 1 or n_warmup < 0 or n_leapfrog < 1 or not step_size > 0:
        raise ValueError(f"hmc needs n_samples >= 1, n_warmup >= 0, n_leapfrog >= 1, step_size > 0; got "
                         f"{n_samples}, {n_warmup}, {n_leapfrog}, {step_size}")
    vg = value_and_grad(log_prob)
    theta = np.array(init, dtype=np.float64).ravel()
    current = vg(theta)
    if not np.isfinite(current[0]):
        raise ValueError(f"hmc: log_prob(init) = {current[0]}; start where the density is positive")
    # dual averaging of log ε (Hoffman & Gelman 2014): γ = 0.05, t0 = 10, κ = 0.75
    mu, log_eps_bar, h_bar = math.log(10 * step_size), 0.0, 0.0
    eps = step_size
    samples, log_probs, accepts, n_grads = [], [], 0, 0
    for t in range(1, n_warmup + n_samples + 1):
        n_steps = int(rng.integers(1, n_leapfrog + 1))
        n_grads += n_steps
        theta, current, a, accepted = hmc_step(theta, vg, eps, n_steps, rng, current)
        if t <= n_warmup and adapt:
            h_bar = (1 - 1 / (t + 10)) * h_bar + (target_accept - a) / (t + 10)
            log_eps = mu - math.sqrt(t) / 0.05 * h_bar
            w = t ** -0.75
            log_eps_bar = w * log_eps + (1 - w) * log_eps_bar
            eps = math.exp(log_eps)
            if t == n_warmup:
                eps = math.exp(log_eps_bar)               # the averaged step size for sampling
        elif t > n_warmup:
            samples.append(theta.copy())
            log_probs.append(current[0])
            accepts += accepted
    return HMCResult(np.array(samples), accepts / n_samples, eps, np.array(log_probs), n_grads)


def effective_sample_size(x: np.ndarray) -> np.ndarray:
    """ESS of each column of a chain x (n, dim): n / (1 + 2 Σ_k ρ_k), the autocorrelations ρ_k summed in
    pairs while the pair sums stay positive (Geyer's initial positive sequence)."""
    x = np.asarray(x, dtype=np.float64)
    x = x[:, None] if x.ndim == 1 else x
    n = len(x)
    xc = x - x.mean(axis=0)
    f = np.fft.rfft(xc, n=2 * n, axis=0)
    acov = np.fft.irfft(f * np.conj(f), axis=0)[:n] / n
    rho = acov / np.maximum(acov[:1], 1e-300)
    ess = np.empty(x.shape[1])
    for j in range(x.shape[1]):
        total, k = 0.0, 1
        while k + 1 < n:
            pair = rho[k, j] + rho[k + 1, j]
            if pair < 0:
                break
            total += pair
            k += 2
        ess[j] = n / (1 + 2 * total)
    return ess
