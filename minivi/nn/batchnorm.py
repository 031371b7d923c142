"""Batch normalisation (Ioffe & Szegedy, 2015): standardise each feature over the mini-batch.

In training mode, for a batch x of shape (n, C) (or (n, ..., C): statistics over every
axis but the last),

    μ = mean_n(x),   σ² = var_n(x),   x̂ = (x − μ) / √(σ² + ε),   y = γ ⊙ x̂ + β,

with learnable scale γ and shift β. μ and σ² depend on the batch, and the gradient flows
through them. Running averages, updated without recording a graph,

    μ_run ← (1 − m) μ_run + m μ,     σ²_run ← (1 − m) σ²_run + m σ² · n / (n − 1),

replace μ and σ² in evaluation mode (``model.eval()``), so a prediction does not depend
on the other examples in its batch.
"""
from __future__ import annotations

from ..autodiff import ops
from ..autodiff.creation import ones, zeros
from ..autodiff.tensor import Tensor
from .module import Module, Parameter


class BatchNorm(Module):
    """Normalise the last axis (``num_features``) with batch statistics (train) or running ones (eval)."""

    def __init__(self, num_features: int, momentum: float = 0.1, eps: float = 1e-5, device: str | None = None):
        self.num_features = num_features
        self.momentum = momentum
        self.eps = eps
        self.gamma = Parameter(ones(num_features, device=device))     # scale γ
        self.beta = Parameter(zeros(num_features, device=device))     # shift β
        self.running_mean = zeros(num_features, device=device)        # buffers: saved, not learned
        self.running_var = ones(num_features, device=device)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim < 1 or x.shape[-1] != self.num_features:
            raise ValueError(f"BatchNorm({self.num_features}) got input of shape {x.shape}: "
                             f"its last axis must have {self.num_features} features")
        if not self.training:
            return self.gamma * (x - self.running_mean) / ops.sqrt(self.running_var + self.eps) + self.beta
        axes = tuple(range(x.ndim - 1))
        n = x.size // self.num_features
        if n < 2:
            raise ValueError(f"BatchNorm in training mode needs at least 2 examples per feature, got input of "
                             f"shape {x.shape}; use a larger batch, or model.eval() to use the running statistics")
        mu = ops.mean(x, axis=axes)
        var = ops.var(x, axis=axes)
        m = self.momentum
        self.running_mean.data *= 1.0 - m
        self.running_mean.data += m * mu.data
        self.running_var.data *= 1.0 - m
        self.running_var.data += (m * n / (n - 1)) * var.data   # unbiased estimate of the variance
        x_hat = (x - mu) / ops.sqrt(var + self.eps)
        return self.gamma * x_hat + self.beta

    def extra_repr(self) -> str:
        return f"{self.num_features}, momentum={self.momentum}, eps={self.eps}"
