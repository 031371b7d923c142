"""Bayes by backprop (Blundell et al. 2015): a Gaussian over every weight, fitted by maximising the free energy.

Each weight gets its own q(wᵢ) = N(μᵢ, σᵢ²) with σᵢ = softplus(ρᵢ) (positive for any free ρᵢ). The talk's
free energy, with the weights w in the place of the latent variables,

    F(q) = E_q[log p(D | w)] − KL[q(w) ‖ p(w)]  ≤  log p(D),

is estimated on a minibatch B of the N data points with weights drawn by the reparameterisation
w = μ + σ ⊙ ε, ε ~ N(0, I), so that its gradient flows to (μ, ρ) by backprop:

    F ≈ (N / |B|) Σ_{n ∈ B} log p(yₙ | xₙ, w) − π_b KL[q(w) ‖ p(w)],        Σ_b π_b = 1 over an epoch.

The *local reparameterisation trick* (Kingma, Salimans & Welling 2015) samples a layer's pre-activations
instead of its weights: for η = x W + b with independent Gaussian weights, ηⱼ is Gaussian,

    ηⱼ ~ N(x μ_W[:, j] + μ_bⱼ,  (x ⊙ x) σ_W²[:, j] + σ_bⱼ²),

drawn independently for every example: the same q, but the minibatch's examples no longer share one
weight sample, which lowers the variance of the gradient.
"""
from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np

from ... import autodiff as mv
from ...autodiff import Tensor
from ...autodiff.random import randn, rng_device
from ...nn import Module, Parameter, get_activation
from .priors import GaussianPrior


def _inverse_softplus(s: float) -> float:
    """ρ with softplus(ρ) = s: log(exp(s) − 1)."""
    return math.log(math.expm1(s))


class BayesLinear(Module):
    """η = x W + b with mean-field Gaussian weights W ~ N(μ_W, σ_W²), b ~ N(μ_b, σ_b²), σ = softplus(ρ).

    Parameters
    ----------
    in_features, out_features : int
    prior : GaussianPrior or ScaleMixturePrior
    rng : numpy.random.Generator
        Draws the initial means (Glorot-like scale); ``forward`` draws its noise from it unless given another.
    init_scale : float
        The initial σ of every weight (small, so training starts near a deterministic network).
    bias : bool
    dtype : "float32" or "float64"
    """

    def __init__(self, in_features: int, out_features: int, *, prior=None, rng, init_scale: float = 1e-3,
                 bias: bool = True, dtype=None):
        rng_device(rng)
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.prior = prior if prior is not None else GaussianPrior(1.0)
        self.rng = rng
        bound = math.sqrt(6.0 / (in_features + out_features))
        rho0 = _inverse_softplus(init_scale)
        self.W_mu = Parameter(rng.uniform(-bound, bound, (in_features, out_features)), dtype=dtype)
        self.W_rho = Parameter(np.full((in_features, out_features), rho0), dtype=dtype)
        self.b_mu = Parameter(np.zeros(out_features), dtype=dtype) if bias else None
        self.b_rho = Parameter(np.full(out_features, rho0), dtype=dtype) if bias else None
        # the weights drawn in the last forward pass, for a sampled KL (a dict: Module does not treat it as state)
        self._sampled: dict[str, Tensor] = {}

    # σ = softplus(ρ)
    @property
    def W_sigma(self) -> Tensor:
        return mv.softplus(self.W_rho)

    @property
    def b_sigma(self) -> Tensor | None:
        return mv.softplus(self.b_rho) if self.b_rho is not None else None

    def _noise(self, shape, rng, dtype) -> Tensor:
        return randn(shape, rng=rng if rng is not None else self.rng, dtype=dtype)

    def forward(self, x, rng=None, *, local_reparam: bool = False, sample: bool = True) -> Tensor:
        """One stochastic pass: weights w = μ + σ ε (or, with ``local_reparam``, pre-activations drawn
        per example); ``sample=False`` uses the means (the network at μ)."""
        if type(x) is not Tensor:
            x = Tensor(x, dtype=self.W_mu.dtype)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(f"BayesLinear({self.in_features} → {self.out_features}) got input of shape {x.shape}: "
                             f"its last axis must have {self.in_features} features")
        if not sample:
            self._sampled = {}
            return x @ self.W_mu + self.b_mu if self.b_mu is not None else x @ self.W_mu
        if local_reparam:                                            # η ~ N(x μ + μ_b, x² σ² + σ_b²) per example
            self._sampled = {}
            mean = x @ self.W_mu
            var = (x * x) @ (self.W_sigma ** 2)
            if self.b_mu is not None:
                mean, var = mean + self.b_mu, var + self.b_sigma ** 2
            return mean + mv.sqrt(var) * self._noise(mean.shape, rng, x.dtype)
        W = self.W_mu + self.W_sigma * self._noise(self.W_mu.shape, rng, x.dtype)   # w = μ + σ ε
        self._sampled = {"W": W}
        out = x @ W
        if self.b_mu is not None:
            b = self.b_mu + self.b_sigma * self._noise(self.b_mu.shape, rng, x.dtype)
            self._sampled["b"] = b
            out = out + b
        return out

    def _pairs(self):
        pairs = [(self.W_mu, self.W_sigma)]
        if self.b_mu is not None:
            pairs.append((self.b_mu, self.b_sigma))
        return pairs

    def kl(self, rng=None) -> Tensor:
        """KL[q(w) ‖ p(w)] of this layer: closed form for a Gaussian prior; otherwise the one-sample estimate
        log q(w) − log p(w) at the weights of the last forward pass (a fresh draw if there are none)."""
        if self.prior.analytic_kl:
            return sum(self.prior.kl(mu, sigma) for mu, sigma in self._pairs())
        total = 0.0
        samples = list(self._sampled.values()) or [mu + sigma * self._noise(mu.shape, rng, mu.dtype)
                                                   for mu, sigma in self._pairs()]
        for (mu, sigma), w in zip(self._pairs(), samples):
            z = (w - mu) / sigma
            log_q = -0.5 * z * z - mv.log(sigma) - 0.5 * math.log(2 * math.pi)
            total = total + (log_q - self.prior.log_prob(w)).sum()
        return total

    def extra_repr(self) -> str:
        return f"{self.in_features} → {self.out_features}, prior={self.prior}"


class BayesMLP(Module):
    """An MLP of ``BayesLinear`` layers: h_l = g(h_{l−1} W_l + b_l), every weight Gaussian under q.

    ``model(x, rng)`` is one draw of the network's output (logits or regression means);
    ``model.kl()`` is KL[q(w) ‖ p(w)] summed over the layers.
    """

    def __init__(self, sizes: Sequence[int], activation="relu", *, prior=None, rng, init_scale: float = 1e-3,
                 dtype=None):
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"BayesMLP sizes must list at least an input and an output width, got {sizes}")
        self.sizes = sizes
        self.activation = get_activation(activation)
        self.layers = [BayesLinear(a, b, prior=prior, rng=rng, init_scale=init_scale, dtype=dtype)
                       for a, b in zip(sizes[:-1], sizes[1:])]

    def forward(self, x, rng=None, *, local_reparam: bool = False, sample: bool = True) -> Tensor:
        for i, layer in enumerate(self.layers):
            x = layer(x, rng, local_reparam=local_reparam, sample=sample)
            if i < len(self.layers) - 1:
                x = self.activation(x)
        return x

    def kl(self, rng=None) -> Tensor:
        return sum(layer.kl(rng) for layer in self.layers)

    def extra_repr(self) -> str:
        return " → ".join(map(str, self.sizes))


# --- likelihoods: output of the network, targets -> log p(y | x, w) per example -------------------------

def gaussian_log_likelihood(noise_std: float) -> Callable[[Tensor, np.ndarray], Tensor]:
    """y ~ N(f(x; w), noise_std²): returns ``log_lik(output, y)`` of shape (batch,)."""
    log_norm = math.log(noise_std) + 0.5 * math.log(2 * math.pi)

    def log_lik(output: Tensor, y) -> Tensor:
        out = output.reshape(output.shape[0], -1)
        y = y.reshape(out.shape[0], -1) if isinstance(y, Tensor) else Tensor(np.reshape(y, (out.shape[0], -1)), dtype=out.dtype)
        return (-0.5 * ((y - out) / noise_std) ** 2 - log_norm).sum(axis=-1)

    return log_lik


def categorical_log_likelihood(logits: Tensor, y: np.ndarray) -> Tensor:
    """y ~ Categorical(softmax(logits)): log softmax(η)[y] per example, shape (batch,)."""
    return mv.log_softmax(logits, axis=-1)[np.arange(len(y)), y]


def free_energy(model: BayesMLP | BayesLinear, x, y, log_likelihood: Callable, n_data: int, rng, *,
                kl_weight: float = 1.0, n_samples: int = 1, local_reparam: bool = False) -> Tensor:
    """The minibatch free energy per data point, F / N, with

        F ≈ (N / |B|) Σ_{n ∈ B} (1/S) Σ_s log p(yₙ | xₙ, w_s) − kl_weight · KL[q(w) ‖ p(w)],   w_s ~ q.

    Maximise it (minimise ``-free_energy(...)``). ``kl_weight`` is π_b: 1 when every minibatch carries the
    whole KL scaled by |B|/N (the usual choice), or a weight from :func:`kl_weights` summing to 1 over the
    epoch's minibatches multiplied by the number of minibatches (see there).
    """
    if n_data < len(x):
        raise ValueError(f"free_energy: n_data={n_data} is the size of the whole training set, but the minibatch "
                         f"has {len(x)} points; pass n_data=len(x_train)")
    expected = 0.0
    kl = 0.0
    for _ in range(n_samples):
        out = model(x, rng, local_reparam=local_reparam)
        expected = expected + log_likelihood(out, y).sum() * (n_data / len(x))
        kl = kl + model.kl(rng)                 # closed form, or the estimate at this sample's weights
    return (expected - kl_weight * kl) * (1.0 / (n_samples * n_data))


def kl_weights(n_batches: int, scheme: str = "uniform") -> np.ndarray:
    """Weights π_b (b = 1..M) of the KL term in the M minibatches of an epoch, scaled so they average 1
    (``free_energy``'s ``kl_weight``): "uniform" gives 1 each; "blundell" gives π_b = 2^{M−b} / (2^M − 1)
    times M, most of the KL in the first minibatches (Blundell et al. 2015, eq. 9)."""
    if scheme == "uniform":
        return np.ones(n_batches)
    if scheme == "blundell":
        b = np.arange(1, n_batches + 1)
        w = np.exp2(-b.astype(float)) / -np.expm1(-n_batches * math.log(2.0))    # 2^{M−b}/(2^M − 1) = 2^{−b}/(1 − 2^{−M})
        return w * n_batches
    raise ValueError(f"kl_weights scheme must be 'uniform' or 'blundell', got {scheme!r}")


def predict(model, x, n_samples: int, rng, *, transform: Callable[[Tensor], Tensor] | None = None,
            local_reparam: bool = False) -> np.ndarray:
    """S draws of the network's output under q: an array (S, n, ...) (e.g. ``transform=mv.softmax`` for class
    probabilities; average over axis 0 for the Monte Carlo predictive p(y | x, D) ≈ (1/S) Σ_s p(y | x, w_s))."""
    outs = []
    with mv.no_grad():
        for _ in range(n_samples):
            out = model(x, rng, local_reparam=local_reparam)
            outs.append((transform(out) if transform is not None else out).numpy())
    return np.stack(outs)
