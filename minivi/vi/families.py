"""Variational families with free parameters: one Gaussian q_n(z) per datapoint.

A family holds unconstrained tensors (what an optimiser updates) and, when called, returns the
distribution they define:

    MeanFieldGaussian       q(z) = Πᵢ N(zᵢ; mᵢ, sᵢ²),  s = exp(log s)          → ``Normal``
    FullCovarianceGaussian  q(z) = N(z; m, L Lᵀ),  L = strict lower part + diag(exp(log diag))
                                                                                → ``MultivariateNormal``

Both sample with ``rsample``. ``batch_shape`` is usually (n,): one q_n per datapoint.
"""
from __future__ import annotations

import math

import numpy as np

from .. import autodiff as mv
from ..autodiff import Tensor
from ..distributions import MultivariateNormal, Normal


class MeanFieldGaussian:
    """Fully factorised Gaussian: ``loc`` and ``log_scale`` of shape (*batch_shape, d)."""

    def __init__(self, batch_shape: tuple[int, ...], d: int, init_scale: float = 1.0, dtype=None, device=None):
        shape = tuple(batch_shape) + (d,)
        self.d = d
        self.loc = mv.zeros(*shape, dtype=dtype, device=device, requires_grad=True)
        self.log_scale = mv.full(shape, math.log(init_scale), dtype=dtype, device=device, requires_grad=True)

    def parameters(self) -> list[Tensor]:
        return [self.loc, self.log_scale]

    def __call__(self) -> Normal:
        return Normal(self.loc, mv.exp(self.log_scale))


class FullCovarianceGaussian:
    """Gaussian with a Cholesky factor: ``loc`` (*batch_shape, d), ``tril`` (*batch_shape, d, d) of which
    only the strict lower triangle is used, and ``log_diag`` (*batch_shape, d)."""

    def __init__(self, batch_shape: tuple[int, ...], d: int, init_scale: float = 1.0, dtype=None, device=None):
        shape = tuple(batch_shape) + (d,)
        self.d = d
        self.loc = mv.zeros(*shape, dtype=dtype, device=device, requires_grad=True)
        self.tril = mv.zeros(*(shape + (d,)), dtype=dtype, device=device, requires_grad=True)
        self.log_diag = mv.full(shape, math.log(init_scale), dtype=dtype, device=device, requires_grad=True)
        self._strict = mv.tensor(np.tril(np.ones((d, d)), -1), dtype=self.loc.dtype, device=self.loc.device)
        self._eye = mv.eye(d, dtype=self.loc.dtype, device=self.loc.device)

    def parameters(self) -> list[Tensor]:
        return [self.loc, self.tril, self.log_diag]

    def scale_tril(self) -> Tensor:
        """L = tril(free, -1) + diag(exp(log_diag)): lower triangular with a positive diagonal."""
        return self.tril * self._strict + mv.expand_dims(mv.exp(self.log_diag), -1) * self._eye

    def __call__(self) -> MultivariateNormal:
        return MultivariateNormal(self.loc, scale_tril=self.scale_tril())
