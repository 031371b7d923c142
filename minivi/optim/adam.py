"""Adam (Kingma & Ba, 2015): steps scaled per coordinate by running gradient moments.

    m ← β₁ m + (1 − β₁) g                 (first moment: a running mean of gradients)
    v ← β₂ v + (1 − β₂) g²                (second moment: a running mean of squares)
    m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)  (bias correction: m and v start at 0)
    w ← w − η m̂ / (√v̂ + ε)

Weight decay adds λ w to g (L2 / Gaussian prior, as ``torch.optim.Adam``; not AdamW).
"""
from __future__ import annotations

import math
from typing import Iterable

from ..autodiff.backend import get_array_module
from ..autodiff.tensor import Tensor
from .optimizer import Optimizer, Schedule


class Adam(Optimizer):
    """Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, check_finite=True)."""

    def __init__(self, params: Iterable[Tensor], lr: float | Schedule = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, check_finite: bool = True):
        super().__init__(params, lr, weight_decay, check_finite)
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2
                and 0.0 <= betas[0] < 1.0 and 0.0 <= betas[1] < 1.0):
            raise ValueError(f"Adam needs betas=(β₁, β₂) with both in [0, 1), e.g. (0.9, 0.999); got {betas!r}")
        if not eps > 0:
            raise ValueError(f"Adam needs eps > 0 (it keeps the step finite where √v̂ = 0), got {eps}")
        self.betas = betas
        self.eps = eps

    def _update(self, w, g, state, lr):
        xp = get_array_module(w)
        b1, b2 = self.betas
        m, v, tmp = (self._array(state, name, w) for name in ("m", "v", "tmp"))
        t = state["t"] = state.get("t", 0) + 1                 # per parameter: skipped steps do not count
        m *= b1                                                # m ← β₁ m + (1 − β₁) g
        xp.multiply(g, 1.0 - b1, out=tmp)
        m += tmp
        v *= b2                                                # v ← β₂ v + (1 − β₂) g²
        xp.multiply(g, g, out=tmp)
        tmp *= 1.0 - b2
        v += tmp
        xp.sqrt(v, out=tmp)                                    # √v̂ + ε  =  √v / √(1 − β₂ᵗ) + ε
        tmp *= 1.0 / math.sqrt(1.0 - b2**t)
        tmp += self.eps
        xp.divide(m, tmp, out=tmp)                             # w ← w − η m̂ / (√v̂ + ε),  m̂ = m / (1 − β₁ᵗ)
        tmp *= lr / (1.0 - b1**t)
        w -= tmp
