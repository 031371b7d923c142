"""The multivariate Normal N(μ, Σ) with Σ = L Lᵀ given by its Cholesky factor L (``scale_tril``).

The full-covariance variational family of chapter 07 (the mean-field family is ``Normal``):

    log p(z) = -½ ‖L⁻¹(z - μ)‖² - Σᵢ log Lᵢᵢ - (d/2) log 2π
    z = μ + L ε,  ε ~ N(0, I_d)                        (rsample: the reparameterisation)
    H = (d/2)(1 + log 2π) + Σᵢ log Lᵢᵢ

Unlike the elementwise distributions, a sample is a vector: ``event_shape = (d,)`` and
``log_prob`` already sums over it, returning one number per (sample, batch) entry.
"""
from __future__ import annotations

import math
from typing import Any

from .. import autodiff as mv
from ..autodiff import Tensor
from .base import Distribution, Shape
from .kl import register_kl
from .normal import Normal

LOG_2PI = math.log(2 * math.pi)


def _diagonal(L: Tensor) -> Tensor:
    """The diagonal (..., d) of a stack of matrices (..., d, d) (composed from ``*`` and ``sum``)."""
    eye = mv.eye(L.shape[-1], dtype=L.dtype, device=L.device)
    return (L * eye).sum(axis=-1)


def _tri_solve(L: Tensor, B: Tensor) -> Tensor:
    """L⁻¹ B for lower-triangular L (d, d) or a stack (..., d, d); B is (..., d, m)."""
    if L.ndim == 2 and B.ndim == 2:
        return mv.linalg.solve_triangular(L, B, lower=True)
    return mv.linalg.solve(L, B)                   # batched: an LU solve (exact enough for triangular L)


class MultivariateNormal(Distribution):
    """N(loc, scale_tril scale_trilᵀ): ``loc`` (*batch, d), ``scale_tril`` (*batch, d, d), lower
    triangular with a positive diagonal (or ``covariance_matrix`` (d, d), factorised here)."""

    params = ("loc", "scale_tril")

    def __init__(self, loc: Any, scale_tril: Any = None, covariance_matrix: Any = None,
                 validate_args: bool = True) -> None:
        super().__init__(validate_args)
        if (scale_tril is None) == (covariance_matrix is None):
            raise ValueError("MultivariateNormal: give exactly one of scale_tril= or covariance_matrix=")
        if covariance_matrix is not None:
            cov = covariance_matrix if isinstance(covariance_matrix, Tensor) else mv.tensor(covariance_matrix)
            if cov.ndim != 2:
                raise ValueError(f"MultivariateNormal: covariance_matrix must be one (d, d) matrix, got shape "
                                 f"{cov.shape}; for a stack, pass scale_tril= (its Cholesky factors)")
            scale_tril = mv.linalg.cholesky(cov)
        self._set_params(event_dims={"loc": 1, "scale_tril": 2}, loc=loc, scale_tril=scale_tril)
        d = self.loc.shape[-1]
        if self.scale_tril.shape[-2:] != (d, d):
            raise ValueError(f"MultivariateNormal: loc has event size d = {d} (last axis) so scale_tril must end "
                             f"in ({d}, {d}), got shape {self.scale_tril.shape}")
        self.event_shape: Shape = (d,)
        xp = self._xp()
        L = self.scale_tril.data
        self._check(xp.diagonal(L, axis1=-2, axis2=-1) > 0,
                    "scale_tril must have a positive diagonal (e.g. exp(·) of a free vector on the diagonal)")
        self._check(xp.triu(L, 1) == 0, "scale_tril must be lower triangular (zeros above the diagonal)")

    @property
    def d(self) -> int:
        return self.event_shape[0]

    def _value(self, value: Any) -> Tensor:
        if isinstance(value, Tensor):
            self._follow(value, "the value")
        else:
            value = mv.tensor(value, dtype=self.dtype, device=self.device)
        if value.ndim == 0 or value.shape[-1] != self.d:
            raise ValueError(f"MultivariateNormal: values must end in the event axis of size d = {self.d}, "
                             f"got shape {value.shape}")
        self._broadcast(value=value.shape[:-1], batch_shape=self.batch_shape)
        return value

    def log_prob(self, value: Any) -> Tensor:
        """log N(z; μ, L Lᵀ) summed over the event axis: shape (*sample, *batch)."""
        z = self._value(value)
        r = z - self.loc                                                 # (*sample, *batch, d)
        lead = r.shape[: r.ndim - 1 - len(self.batch_shape)]             # sample axes
        if self.scale_tril.ndim == 2:                                    # one L for all: (d, N) right-hand side
            u = _tri_solve(self.scale_tril, r.reshape(-1, self.d).T).T.reshape(r.shape)
        else:                                                            # move sample axes to the last axis
            rb = mv.broadcast_to(r, shape=lead + self.batch_shape + (self.d,))
            flat = rb.reshape((-1,) + self.batch_shape + (self.d,))     # (N, *batch, d)
            axes = tuple(range(1, flat.ndim)) + (0,)
            u = _tri_solve(mv.broadcast_to(self.scale_tril, shape=self.batch_shape + (self.d, self.d)),
                           mv.transpose(flat, axes=axes))               # (*batch, d, N)
            back = (u.ndim - 1,) + tuple(range(u.ndim - 1))
            u = mv.transpose(u, axes=back).reshape(rb.shape)
        half_logdet = mv.log(_diagonal(self.scale_tril)).sum(axis=-1)
        return -0.5 * (u * u).sum(axis=-1) - half_logdet - 0.5 * self.d * LOG_2PI

    def rsample(self, rng: Any, sample_shape: int | Shape = ()) -> Tensor:
        """z = μ + L ε, ε ~ N(0, I): shape (*sample_shape, *batch, d), differentiable in μ and L."""
        shape = self._shape(rng, sample_shape) + (self.d,)
        eps = self._wrap(rng.standard_normal(shape))
        return self.loc + (self.scale_tril @ mv.expand_dims(eps, -1)).reshape(shape)

    @property
    def mean(self) -> Tensor:
        return mv.broadcast_to(self.loc, shape=self.batch_shape + (self.d,))

    @property
    def covariance_matrix(self) -> Tensor:
        """Σ = L Lᵀ."""
        return self.scale_tril @ mv.swapaxes(self.scale_tril, -1, -2)

    @property
    def variance(self) -> Tensor:
        """diag Σ = row sums of L²."""
        return mv.broadcast_to((self.scale_tril * self.scale_tril).sum(axis=-1), shape=self.batch_shape + (self.d,))

    def entropy(self) -> Tensor:
        """H = (d/2)(1 + log 2π) + Σᵢ log Lᵢᵢ, shape (*batch,)."""
        h = 0.5 * self.d * (1.0 + LOG_2PI) + mv.log(_diagonal(self.scale_tril)).sum(axis=-1)
        return mv.broadcast_to(h, shape=self.batch_shape)


def _as_mvn(p: Normal, d: int) -> MultivariateNormal:
    """A diagonal Normal over the last axis as a MultivariateNormal (diagonal scale_tril)."""
    scale = mv.broadcast_to(p.scale, shape=p.batch_shape[:-1] + (d,)) if p.batch_shape else \
        mv.broadcast_to(p.scale, shape=(d,))
    loc = mv.broadcast_to(p.loc, shape=scale.shape)
    return MultivariateNormal(loc, scale_tril=mv.expand_dims(scale, -1) * mv.eye(d, dtype=p.dtype, device=p.device))


@register_kl(MultivariateNormal, MultivariateNormal)
def _kl_mvn_mvn(p: MultivariateNormal, q: MultivariateNormal) -> Tensor:
    """KL = ½ [‖L_q⁻¹ L_p‖²_F + ‖L_q⁻¹(μ_q - μ_p)‖² - d] + Σ log diag L_q - Σ log diag L_p."""
    if p.d != q.d:
        raise ValueError(f"KL between MultivariateNormals of sizes {p.d} and {q.d} is undefined")
    shape = tuple(p._broadcast(p=p.batch_shape, q=q.batch_shape))
    Lq = mv.broadcast_to(q.scale_tril, shape=shape + (p.d, p.d)) if shape else q.scale_tril
    Lp = mv.broadcast_to(p.scale_tril, shape=shape + (p.d, p.d)) if shape else p.scale_tril
    M = _tri_solve(Lq, Lp)
    dm = mv.broadcast_to(q.loc - p.loc, shape=shape + (p.d,))
    u = _tri_solve(Lq, mv.expand_dims(dm, -1)).reshape(shape + (p.d,))
    trace = (M * M).sum(axis=(-2, -1)) if M.ndim > 2 else (M * M).sum()
    return (0.5 * (trace + (u * u).sum(axis=-1) - p.d)
            + mv.log(_diagonal(Lq)).sum(axis=-1) - mv.log(_diagonal(Lp)).sum(axis=-1))


@register_kl(MultivariateNormal, Normal)
def _kl_mvn_normal(p: MultivariateNormal, q: Normal) -> Tensor:
    """KL[N(μ, LLᵀ) ‖ Πᵢ N(mᵢ, sᵢ²)] = ½ Σᵢ [Σᵢᵢ/sᵢ² + ((μᵢ - mᵢ)/sᵢ)² - 1] + Σᵢ log sᵢ - Σᵢ log Lᵢᵢ
    (the Normal's last axis is the event axis; a standard Normal prior is ``Normal(0.0, 1.0)``)."""
    var = (p.scale_tril * p.scale_tril).sum(axis=-1)                 # diag Σ, (*batch, d)
    s2 = q.scale * q.scale
    dm = p.loc - q.loc
    per_dim = 0.5 * (var / s2 + dm * dm / s2 - 1.0) + mv.log(q.scale)
    per_dim = mv.broadcast_to(per_dim, shape=tuple(p._broadcast(a=per_dim.shape, b=p.batch_shape + (p.d,))))
    return per_dim.sum(axis=-1) - mv.log(_diagonal(p.scale_tril)).sum(axis=-1)


@register_kl(Normal, MultivariateNormal)
def _kl_normal_mvn(p: Normal, q: MultivariateNormal) -> Tensor:
    """A diagonal Normal (last axis = event) as a MultivariateNormal, then the MVN-MVN formula."""
    return _kl_mvn_mvn(_as_mvn(p, q.d), q)
