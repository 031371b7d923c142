"""A flow-based variational family that plugs into ``minivi.vi``:

    z_0 ~ q_0(z) = N(μ, diag σ²),   z_K = f_K ∘ … ∘ f_1(z_0),   log q_K(z_K) = log q_0(z_0) − Σ_k log|det ∂f_k/∂z_{k−1}|

so the free energy (the paper's eq. 15) is

    F(y) = E_{q_0}[log p(y, z_K)] − E_{q_0}[log q_0(z_0)] + E_{q_0}[Σ_k log|det ∂f_k/∂z_{k−1}|].

A planar flow has no closed-form inverse, so q_K's density is known only at its own draws: ``FlowPosterior``
remembers log q_K of the draws it last made (as Pyro's TransformedDistribution caches them) and ``log_prob`` returns
it for exactly those tensors. That is all ``vi.free_energy(..., kl="mc")``, ``vi.iwae_bound`` and
``vi.log_marginal_is`` need: each draws z from q and then scores the same z.
"""
from __future__ import annotations

import math
from typing import Any, Callable

from .. import autodiff as mv
from ..autodiff import Tensor
from ..distributions import Normal
from .flow import Flow


class FlowPosterior:
    """q_K: a base ``Normal`` (batch (*batch, d)) pushed through ``flow`` (z (…, d) -> (z', log_det (…,)))."""

    def __init__(self, base: Normal, flow: Callable[[Tensor], tuple[Tensor, Tensor]]):
        if not isinstance(base, Normal):
            raise TypeError(f"FlowPosterior: base must be a minivi Normal (the encoder's Gaussian), got "
                            f"{type(base).__name__}")
        self.base, self.flow = base, flow
        self.batch_shape = tuple(base.batch_shape[:-1])
        self.event_shape = tuple(base.batch_shape[-1:])     # log_prob is summed over the event axis
        self._z = self._log_q = None

    @property
    def dtype(self):
        return self.base.dtype

    @property
    def device(self) -> str:
        return self.base.device

    def rsample_with_log_prob(self, rng: Any, sample_shape=()) -> tuple[Tensor, Tensor, Tensor]:
        """(z_K, log q_K(z_K), Σ log_det) for reparameterised draws z_0 = μ + σ ε, shapes (*s, *batch, d) and (*s, *batch)."""
        z0 = self.base.rsample(rng, sample_shape)
        zk, log_det = self.flow(z0)
        log_q0 = self.base.log_prob(z0).sum(axis=-1)
        return zk, log_q0 - log_det, log_det

    def rsample(self, rng: Any, sample_shape=()) -> Tensor:
        zk, log_q, _ = self.rsample_with_log_prob(rng, sample_shape)
        self._z, self._log_q = zk, log_q
        return zk

    def sample(self, rng: Any, sample_shape=()) -> Tensor:
        with mv.no_grad():
            return self.rsample(rng, sample_shape)

    def log_prob(self, z: Tensor) -> Tensor:
        """log q_K(z) for the tensor this posterior last drew (a planar flow cannot be inverted in closed form)."""
        if z is not self._z:
            raise ValueError("FlowPosterior.log_prob: q_K's density is known only at its own draws (the flow has no "
                             "closed-form inverse); pass the tensor returned by the last rsample/sample call")
        return self._log_q

    def entropy(self):
        raise NotImplementedError("FlowPosterior has no closed-form entropy: use vi.free_energy(..., kl='mc')")


class FlowGaussian:
    """A free (not amortised) flow family: q_0 = N(loc, exp(log_scale)²) of shape (*batch_shape, d) and a ``Flow``.

    ``parameters()`` lists loc, log_scale and the flow's parameters; calling it returns a ``FlowPosterior``.
    """

    def __init__(self, d: int, flow: Flow | None = None, batch_shape: tuple[int, ...] = (), init_scale: float = 1.0,
                 dtype=None, device=None):
        shape = tuple(batch_shape) + (int(d),)
        self.d, self.flow = int(d), flow if flow is not None else Flow([])
        self.loc = mv.zeros(*shape, dtype=dtype, device=device, requires_grad=True)
        self.log_scale = mv.full(shape, math.log(init_scale), dtype=dtype, device=device, requires_grad=True)

    def parameters(self) -> list[Tensor]:
        return [self.loc, self.log_scale] + self.flow.parameters()

    def __call__(self) -> FlowPosterior:
        return FlowPosterior(Normal(self.loc, mv.exp(self.log_scale)), self.flow)
