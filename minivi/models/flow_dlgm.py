"""A DLGM whose posterior is a normalising flow (Rezende & Mohamed 2015, section 6.2): "better inference".

The encoder of chapter 09's one-layer DLGM gives q_0(z|y) = N(μ(y), diag σ(y)²); one more linear head on the same
last hidden layer outputs the parameters (u_k, w_k, b_k), k = 1..K, of K planar flows, so the posterior

    z_0 = μ(y) + σ(y) ⊙ ε,    z_K = f_K ∘ … ∘ f_1(z_0),    log q_K(z_K|y) = log q_0(z_0|y) − Σ_k log|det ∂f_k/∂z_{k−1}|

is amortised too. The free energy (eq. 15) F = E_{q_0}[log p(y, z_K) − log q_0(z_0|y) + Σ_k log|det|] is
``vi.free_energy`` on the log-joint with a ``FlowPosterior``; K = 0 is chapter 09's model with a Monte Carlo KL.
Only how q(z|y) is sampled and scored changes (``q`` and ``elbo``): the decoder, the prior, ``iwae`` and
``log_likelihood`` (which call ``self.q``) and training (``fit_dlgm``) are DLGM's.
"""
from __future__ import annotations

from .. import autodiff as mv
from ..autodiff import Tensor
from .. import nn, vi
from ..distributions import Normal
from ..flows import FlowPosterior, planar
from .dlgm import DLGM


class FlowDLGM(DLGM):
    """``DLGM`` (one stochastic layer) with a K-step amortised planar-flow posterior: ``FlowDLGM(784, (200,), (20,),
    n_flows=8, rng=rng)``. Every other argument is DLGM's."""

    def __init__(self, x_dim: int, hidden=(200, 200), z_dims=(20,), likelihood="bernoulli", *, n_flows: int, rng,
                 activation="tanh"):
        super().__init__(x_dim, hidden, z_dims, likelihood, rng=rng, activation=activation)
        if len(self.z_dims) != 1:
            raise ValueError(f"FlowDLGM has one stochastic layer, got z_dims={self.z_dims}")
        if n_flows < 0:
            raise ValueError(f"n_flows must be >= 0, got {n_flows}")
        self.n_flows, d = int(n_flows), self.z_dims[0]
        width = self.enc_loc[0].in_features
        self.enc_flow = nn.Linear(width, self.n_flows * (2 * d + 1), rng=rng) if self.n_flows else None
        if self.enc_flow is not None:
            self.enc_flow.W.data *= 0.1                  # start near the identity map

    def q(self, x) -> FlowPosterior:
        """q_K(z | y): the encoder's Gaussian pushed through K planar flows with parameters from the encoder."""
        h = self.enc[0](self._as_x(x))                   # the last deterministic layer of the encoder (n, width)
        base = Normal(self.enc_loc[0](h), mv.exp(self.enc_log_scale[0](h)))
        if not self.n_flows:
            return FlowPosterior(base, lambda z: (z, mv.zeros(*z.shape[:-1], dtype=z.dtype, device=z.device)))
        d = self.z_dims[0]
        p = self.enc_flow(h).reshape(h.shape[0], self.n_flows, 2 * d + 1)   # per data point: (u_k, w_k, b_k)

        def flow(z):
            log_det = 0.0
            for k in range(self.n_flows):
                z, ld = planar(z, p[:, k, :d], p[:, k, d:2 * d], p[:, k, 2 * d])
                log_det = log_det + ld
            return z, log_det

        return FlowPosterior(base, flow)

    def elbo(self, x, rng, n_samples: int = 1, kl: str = "mc") -> Tensor:
        """F(y) per data point (n,): E_{q_0}[log p(y, z_K) − log q_K(z_K | y)] (eq. 15), a Monte Carlo KL."""
        if kl != "mc":
            raise ValueError(f"FlowDLGM.elbo: a flow posterior has no closed-form KL, use kl='mc' (got {kl!r}); "
                             "for chapter 09's closed-form estimator at K = 0 call DLGM.elbo(model, x, rng)")
        x = self._as_x(x)
        return vi.free_energy(lambda z: self.log_joint(x, z), self.q(x), None, rng, n_samples, "mc")

    def extra_repr(self) -> str:
        return super().extra_repr() + f", n_flows={self.n_flows}"


__all__ = ["FlowDLGM"]
