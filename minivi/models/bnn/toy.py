"""Small problems with known structure: the 1-D cubic with a gap, and an MLP whose weights are one flat vector.

``cubic_with_gap`` follows Hernández-Lobato & Adams (2015)'s toy problem y = x³ + ε, scaled to y = x³/27 + ε,
with the inputs of the middle stretch removed, so that a model has to say how little it knows there.

``FlatMLP`` evaluates a tanh/ReLU MLP from one parameter vector θ (the layout HMC needs):
θ = [W₁ (row-major), b₁, W₂, b₂, ...], and ``log_joint`` is log p(y | x, θ) + log p(θ) for Gaussian noise and a
N(0, s²) prior on every parameter — the unnormalised log-posterior HMC samples.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from ... import autodiff as mv
from ...autodiff import Tensor
from ...nn import get_activation


def cubic(x: np.ndarray) -> np.ndarray:
    """The noise-free function x³ / 27 (≈ ±2.4 at x = ±4)."""
    return np.asarray(x) ** 3 / 27.0


def cubic_with_gap(n: int, rng: np.random.Generator, *, noise_std: float = 0.2, span: float = 4.0,
                   gap: tuple[float, float] = (-1.5, 1.5)) -> tuple[np.ndarray, np.ndarray]:
    """n points (x, y): x uniform on [−span, span] outside the ``gap`` interval, y = x³/27 + N(0, noise_std²).
    Shapes (n, 1) and (n,)."""
    lo, hi = gap
    if not -span < lo < hi < span:
        raise ValueError(f"the gap {gap} must lie inside (−{span}, {span})")
    left = rng.random(n) < (lo + span) / ((lo + span) + (span - hi))         # share by the pieces' lengths
    x = np.where(left, rng.uniform(-span, lo, n), rng.uniform(hi, span, n))
    return x[:, None], cubic(x) + noise_std * rng.standard_normal(n)


class FlatMLP:
    """An MLP f(x; θ) with every weight and bias in one flat vector θ (length ``n_params``)."""

    def __init__(self, sizes: Sequence[int], activation="tanh"):
        self.sizes = [int(s) for s in sizes]
        self.activation = get_activation(activation)
        self.shapes = [s for a, b in zip(self.sizes[:-1], self.sizes[1:]) for s in ((a, b), (b,))]
        self.n_params = sum(math.prod(s) for s in self.shapes)

    def unflatten(self, theta: Tensor) -> list[Tensor]:
        """[W₁, b₁, W₂, b₂, ...] as views of θ."""
        out, i = [], 0
        for s in self.shapes:
            k = math.prod(s)
            out.append(theta[i:i + k].reshape(s))
            i += k
        return out

    def forward(self, theta: Tensor, x) -> Tensor:
        """f(x; θ), shape (n, sizes[-1])."""
        params = self.unflatten(theta)
        h = x if isinstance(x, Tensor) else Tensor(np.asarray(x), dtype=theta.dtype)
        for j in range(0, len(params), 2):
            h = h @ params[j] + params[j + 1]
            if j < len(params) - 2:
                h = self.activation(h)
        return h

    __call__ = forward

    def log_joint(self, x: np.ndarray, y: np.ndarray, noise_std: float, prior_std: float):
        """θ ↦ Σₙ log N(yₙ; f(xₙ; θ), noise_std²) + Σᵢ log N(θᵢ; 0, prior_std²), a scalar Tensor (constants dropped)."""
        x_t = Tensor(np.asarray(x, dtype=np.float64), dtype="float64")
        y_t = Tensor(np.asarray(y, dtype=np.float64).reshape(len(x), -1), dtype="float64")

        def log_prob(theta: Tensor) -> Tensor:
            r = (y_t - self.forward(theta, x_t)) / noise_std
            return -0.5 * (r * r).sum() - 0.5 * (theta * theta).sum() / prior_std**2

        return log_prob

    def init(self, rng: np.random.Generator) -> np.ndarray:
        """A starting θ: Glorot-scaled weights, zero biases."""
        parts = []
        for s in self.shapes:
            parts.append((rng.standard_normal(s) * math.sqrt(2.0 / sum(s))).ravel() if len(s) == 2 else np.zeros(s))
        return np.concatenate(parts)
