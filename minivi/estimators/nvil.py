"""NVIL's control variates (Mnih & Gregor, 2014): an input-dependent baseline and variance normalisation.

For a latent-variable model trained by the score function, the learning signal of datapoint x is

    l(x, z) = log p(x, z) - log q(z | x),        z ~ q(z | x),

and the encoder's gradient estimate is (l(x, z) - b(x)) ∇_φ log q(z | x). NVIL's baseline has two parts:

    b(x) = c̄ + C_ψ(x)

a running average c̄ of the signal (what is common to all x) and a small network C_ψ(x) trained to predict
what is left, by least squares: min_ψ E[(l(x, z) - c̄ - C_ψ(x))²]. Since b depends on x but not on z, the
estimate stays unbiased (see ``baselines``). *Variance normalisation* then divides the centred signal by
max(1, √v), v a running variance of l - C_ψ(x): the gradient's scale is kept roughly constant through
training, an adaptive step size that does not change the gradient's expected direction.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import autodiff as mv
from ..autodiff import Tensor
from ..nn import MLP, Module


class NVILBaseline(Module):
    """b(x) = c̄ + C_ψ(x), with C_ψ an MLP ``x_dim → hidden → 1`` (tanh), and variance normalisation.

    Parameters
    ----------
    x_dim, hidden : int
        The input size and the network's hidden width (the paper: 100 tanh units).
    rng : numpy.random.Generator
    decay : float
        α of the running averages c̄ ← α c̄ + (1-α) mean(l - C(x)) and v ← α v + (1-α) var(l - C(x)) (paper: 0.8).
    input_dependent : bool
        False leaves C_ψ out: b = c̄, the moving-average baseline.
    normalise : bool
        Divide the centred signal by max(1, √v).

    Use ``learning_signal(l, x)`` once per step: it returns the centred (normalised) signal for the
    encoder's surrogate and the least-squares loss that trains C_ψ (add it to the loss you minimise).
    The running statistics used at step t come from steps before t (the first step initialises them from
    its own batch), so the baseline never depends on the z it multiplies.
    """

    def __init__(self, x_dim: int, hidden: int = 100, *, rng: Any, decay: float = 0.8,
                 input_dependent: bool = True, normalise: bool = True) -> None:
        if not 0.0 <= decay < 1.0:
            raise ValueError(f"decay must lie in [0, 1), got {decay}")
        self.net = MLP([x_dim, hidden, 1], activation="tanh", rng=rng) if input_dependent else None
        self.decay, self.normalise = float(decay), bool(normalise)
        self.mean, self.var, self.steps = 0.0, 1.0, 0

    def forward(self, x: Any) -> Tensor:
        """C_ψ(x), shape (batch,) (zeros without the network)."""
        if self.net is None:
            return mv.zeros(len(x))
        return self.net(x).reshape(-1)

    def baseline(self, x: Any) -> np.ndarray:
        """b(x) = c̄ + C_ψ(x) with the current state (changes nothing): shape (batch,)."""
        with mv.no_grad():
            return self.mean + self.forward(x).numpy().astype(np.float64)

    def learning_signal(self, signal: Any, x: Any) -> tuple[np.ndarray, Tensor | None]:
        """(A, loss): A = (l - c̄ - C_ψ(x)) / max(1, √v) as a NumPy array (batch,), and the baseline's loss."""
        l = np.asarray(signal.numpy() if isinstance(signal, Tensor) else signal, dtype=np.float64).reshape(-1)
        cx = self.forward(x)
        residual = l - cx.numpy().astype(np.float64)           # l - C(x): what c̄ and v track
        if self.steps == 0:                                    # initialise from the first batch
            self.mean, self.var = float(residual.mean()), float(residual.var())
        centred = residual - self.mean
        if self.normalise:
            centred = centred / max(1.0, math.sqrt(self.var))
        a = self.decay
        self.mean = a * self.mean + (1 - a) * float(residual.mean())   # updated after use: no dependence on z
        self.var = a * self.var + (1 - a) * float(residual.var())
        self.steps += 1
        loss = None
        if self.net is not None:
            target = mv.tensor(l - self.mean, dtype=cx.dtype)
            loss = ((target - cx) ** 2).mean()                 # least squares: C_ψ(x) ≈ l - c̄
        return centred, loss
