"""A normalising flow of length K: z_K = f_K ∘ … ∘ f_1(z_0), and the density it carries (eq. 7 of the paper),

    log q_K(z_K) = log q_0(z_0) − Σ_k log |det ∂f_k/∂z_{k−1}|.
"""
from __future__ import annotations

from typing import Callable, Sequence

from .. import autodiff as mv
from ..autodiff import Tensor
from ..nn.module import Module


class Flow(Module):
    """Compose flows: ``z_K, log_det = Flow([f_1, …, f_K])(z_0)`` with log_det = Σ_k log|det ∂f_k/∂z_{k−1}|
    per row. Each f_k maps z (*lead, d) to (z', log_det (*lead,)); an empty list is the identity."""

    def __init__(self, flows: Sequence[Callable[[Tensor], tuple[Tensor, Tensor]]]):
        self.flows = list(flows)
        for i, f in enumerate(self.flows):
            if not callable(f):
                raise TypeError(f"Flow: element {i} is a {type(f).__name__}, not a flow (e.g. flows.Planar(d, rng=rng))")

    def forward(self, z: Tensor) -> tuple[Tensor, Tensor]:
        log_det = mv.zeros(*z.shape[:-1], dtype=z.dtype, device=z.device)
        for f in self.flows:
            z, ld = f(z)
            log_det = log_det + ld
        return z, log_det

    def __len__(self) -> int:
        return len(self.flows)

    def __getitem__(self, i: int):
        return self.flows[i]

    def extra_repr(self) -> str:
        return f"K={len(self.flows)}"
