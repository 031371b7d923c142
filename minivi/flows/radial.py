"""The radial flow (Rezende & Mohamed 2015, section 4.1): contracts or expands the density around a point z₀,

    f(z) = z + β h(α, r)(z − z₀),     r = ‖z − z₀‖,   h(α, r) = 1/(α + r).

Its Jacobian is (1 + βh) I + βh'(r) (z − z₀)(z − z₀)ᵀ/r, a scaled identity plus a rank-one term, so

    log |det ∂f/∂z| = (d − 1) log(1 + βh) + log(1 + βh + βh'(r) r) = (d − 1) log(1 + βh) + log(1 + βα h²).

Invertibility (appendix A): α > 0 and β ≥ −α. We learn free α', β' and set α = softplus(α'), β = −α + softplus(β'),
so both factors stay positive (1 + βh ≥ r/(α + r) and 1 + βαh² ≥ 1 − α²/(α + r)² > 0 for r > 0).
"""
from __future__ import annotations

from .. import autodiff as mv
from ..autodiff import Tensor
from ..nn.module import Module, Parameter
from .planar import _check_z, _matching


def radial_alpha_beta(alpha_raw: Tensor, beta_raw: Tensor) -> tuple[Tensor, Tensor]:
    """α = softplus(α') > 0 and β = −α + softplus(β') ≥ −α: the constrained parameters."""
    alpha = mv.softplus(alpha_raw)
    return alpha, mv.softplus(beta_raw) - alpha


def radial(z: Tensor, z0: Tensor, alpha_raw: Tensor, beta_raw: Tensor) -> tuple[Tensor, Tensor]:
    """One radial step and log|det ∂f/∂z| per row. z (*lead, d), z0 broadcasting against z, α', β' against
    z.shape[:-1]. Returns (z_out (*lead, d), log_det (*lead,))."""
    alpha, beta = radial_alpha_beta(alpha_raw, beta_raw)
    if alpha.ndim > 0:
        alpha, beta = mv.expand_dims(alpha, -1), mv.expand_dims(beta, -1)
    diff = z - z0
    r = mv.sqrt((diff * diff).sum(axis=-1, keepdims=True))             # (*lead, 1)
    h = 1.0 / (alpha + r)
    z_out = z + beta * h * diff
    d = z.shape[-1]
    log_det = (d - 1) * mv.log1p(beta * h) + mv.log1p(beta * alpha * h * h)
    return z_out, log_det[..., 0]


class Radial(Module):
    """A radial flow with its own z₀ (dim,), α', β' (): ``z_out, log_det = Radial(2, rng=rng)(z)``."""

    def __init__(self, dim: int, rng, init_scale: float = 0.1, dtype=None):
        if int(dim) < 1:
            raise ValueError(f"Radial: dim must be >= 1, got {dim}")
        self.dim = int(dim)
        draw = lambda *s: Parameter(mv.randn(*s, rng=rng, dtype="float64").data * init_scale, dtype=dtype)  # noqa: E731
        self.z0, self.alpha_raw, self.beta_raw = draw(self.dim), draw(), draw()

    def forward(self, z: Tensor) -> tuple[Tensor, Tensor]:
        z = _check_z(z, self.dim, "Radial")
        return radial(z, _matching(self.z0, z), _matching(self.alpha_raw, z), _matching(self.beta_raw, z))

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
