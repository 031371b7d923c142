"""The planar flow (Rezende & Mohamed 2015, section 4.1), the talk's "better inference":

    f(z) = z + û h(wᵀz + b),        h = tanh,

a contraction or expansion of the density along the hyperplane wᵀz + b = 0. Its Jacobian is the identity plus a
rank-one matrix, ∂f/∂z = I + û ψ(z)ᵀ with ψ(z) = h'(wᵀz + b) w, so the matrix determinant lemma
det(I + u vᵀ) = 1 + vᵀu gives the log-determinant in O(d):

    log |det ∂f/∂z| = log |1 + ûᵀψ(z)| = log(1 + h'(wᵀz + b) wᵀû).

Invertibility (the paper's appendix A): f is invertible when wᵀû ≥ −1. Any free u is mapped to

    û = u + (m(wᵀu) − wᵀu) w / ‖w‖²,      m(x) = −1 + softplus(x),

so wᵀû = m(wᵀu) > −1 and, as 0 < h' ≤ 1, 1 + h' wᵀû > 0: no absolute value is needed.
"""
from __future__ import annotations

from .. import autodiff as mv
from ..autodiff import Tensor
from ..nn.module import Module, Parameter


def planar_u_hat(u: Tensor, w: Tensor) -> Tensor:
    """û = u + (m(wᵀu) − wᵀu) w/‖w‖², m(x) = softplus(x) − 1: the constrained u, with wᵀû > −1 (last axis)."""
    wu = (w * u).sum(axis=-1, keepdims=True)
    return u + (mv.softplus(wu) - 1.0 - wu) * w / (w * w).sum(axis=-1, keepdims=True)


def planar(z: Tensor, u: Tensor, w: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """One planar step f(z) = z + û tanh(wᵀz + b) and log|det ∂f/∂z| per row.

    z : (*lead, d);  u, w : (d,) or broadcasting against z, e.g. (n, d) per data point for z (S, n, d);
    b : () or (*lead',) broadcasting against z.shape[:-1].  Returns (z_out (*lead, d), log_det (*lead,)).
    """
    u_hat = planar_u_hat(u, w)
    if b.ndim > 0:
        b = mv.expand_dims(b, -1)
    h = mv.tanh((z * w).sum(axis=-1, keepdims=True) + b)            # (*lead, 1)
    z_out = z + u_hat * h
    wu_hat = (w * u_hat).sum(axis=-1, keepdims=True)                 # wᵀû > −1
    log_det = mv.log1p((1.0 - h * h) * wu_hat)                       # log(1 + h'(a) wᵀû), h' = 1 − tanh²
    return z_out, log_det[..., 0]


def _matching(p: Tensor, z: Tensor) -> Tensor:
    """A parameter in z's dtype (a float32 flow applied to float64 inputs stays differentiable)."""
    return p if p.dtype == z.dtype else p.astype(z.dtype)


def _check_z(z, dim: int, who: str) -> Tensor:
    if not isinstance(z, Tensor):
        raise TypeError(f"{who}: z must be a minivi Tensor of shape (batch, {dim}), got {type(z).__name__} "
                        "(wrap arrays with mv.tensor(z))")
    if z.ndim < 1 or z.shape[-1] != dim:
        raise ValueError(f"{who}(dim={dim}) got z of shape {z.shape}: its last axis must have {dim} entries")
    return z


class Planar(Module):
    """A planar flow with its own parameters u, w (dim,) and b (): ``z_out, log_det = Planar(2, rng=rng)(z)``.

    Parameters start small (N(0, init_scale²)), so a fresh flow is close to the identity.
    """

    def __init__(self, dim: int, rng, init_scale: float = 0.1, dtype=None):
        if int(dim) < 1:
            raise ValueError(f"Planar: dim must be >= 1, got {dim}")
        self.dim = int(dim)
        draw = lambda *s: Parameter(mv.randn(*s, rng=rng, dtype="float64").data * init_scale, dtype=dtype)  # noqa: E731
        self.u, self.w, self.b = draw(self.dim), draw(self.dim), draw()

    def forward(self, z: Tensor) -> tuple[Tensor, Tensor]:
        z = _check_z(z, self.dim, "Planar")
        return planar(z, _matching(self.u, z), _matching(self.w, z), _matching(self.b, z))

    def u_hat(self) -> Tensor:
        """The constrained û actually used (wᵀû > −1)."""
        return planar_u_hat(self.u, self.w)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
