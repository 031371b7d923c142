"""Stochastic gradient descent, with optional (heavy-ball) momentum.

    v ← μ v + g,        w ← w − η v         (μ = 0: plain SGD, w ← w − η g)

g is the minibatch gradient (plus λ w with weight decay), η the learning rate.
"""
from __future__ import annotations

from typing import Iterable

from ..autodiff.backend import get_array_module
from ..autodiff.tensor import Tensor
from .optimizer import Optimizer, Schedule


class SGD(Optimizer):
    """SGD(params, lr, momentum=0.0, weight_decay=0.0, check_finite=True); same update as ``torch.optim.SGD``."""

    def __init__(self, params: Iterable[Tensor], lr: float | Schedule, momentum: float = 0.0,
                 weight_decay: float = 0.0, check_finite: bool = True):
        super().__init__(params, lr, weight_decay, check_finite)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        self.momentum = momentum

    def _update(self, w, g, state, lr):
        if self.momentum:
            v = self._array(state, "velocity", w)
            v *= self.momentum                                 # v ← μ v + g
            v += g
            g = v
        step = self._array(state, "step", w)
        get_array_module(w).multiply(g, lr, out=step)          # w ← w − η g  (no temporary arrays)
        w -= step
