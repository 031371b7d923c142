"""The LSTM cell (Hochreiter & Schmidhuber 1997; the form used by DRAW, Gregor et al. 2015):

    [i, f, o, g] = [x, h_{t−1}] W + b                 (four gates, each of width H)
    c_t = σ(f) ⊙ c_{t−1} + σ(i) ⊙ tanh(g)              (the cell: a running sum, so gradients survive many steps)
    h_t = σ(o) ⊙ tanh(c_t)                             (the output)
"""
from __future__ import annotations

from ..autodiff import Tensor, concatenate, sigmoid, tanh, zeros
from ..autodiff.random import rng_device
from .init import get_initializer, zeros as zero_param
from .module import Module


class LSTMCell(Module):
    """One step of an LSTM: ``h, c = cell(x, (h_prev, c_prev))`` with x (n, input_size), h and c (n, hidden_size).

    ``state=None`` starts from h = c = 0. W is (input_size + hidden_size, 4 hidden_size), Glorot-initialised,
    gates ordered [input, forget, output, candidate]; the forget gate's bias starts at ``forget_bias`` (1: remember).
    """

    def __init__(self, input_size: int, hidden_size: int, *, rng, forget_bias: float = 1.0):
        rng_device(rng)
        if input_size < 1 or hidden_size < 1:
            raise ValueError(f"LSTMCell needs input_size, hidden_size >= 1, got {input_size}, {hidden_size}")
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        self.W = get_initializer("glorot")(self.input_size + self.hidden_size, 4 * self.hidden_size, rng=rng)
        self.b = zero_param(4 * self.hidden_size, device=self.W.device)
        self.b.data[self.hidden_size:2 * self.hidden_size] = forget_bias

    def initial_state(self, n: int) -> tuple[Tensor, Tensor]:
        """(h_0, c_0) = zeros of shape (n, hidden_size)."""
        z = zeros(n, self.hidden_size, dtype=self.W.dtype, device=self.W.device)
        return z, z

    def forward(self, x: Tensor, state: tuple[Tensor, Tensor] | None = None) -> tuple[Tensor, Tensor]:
        if not isinstance(x, Tensor) or x.ndim != 2 or x.shape[1] != self.input_size:
            got = x.shape if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"LSTMCell({self.input_size} → {self.hidden_size}) needs x of shape (n, {self.input_size}),"
                             f" got {got}")
        h, c = self.initial_state(x.shape[0]) if state is None else state
        if h.shape != (x.shape[0], self.hidden_size) or c.shape != h.shape:
            raise ValueError(f"LSTMCell: state (h, c) must both have shape {(x.shape[0], self.hidden_size)}, "
                             f"got {h.shape} and {c.shape}")
        W, b = self.W, self.b
        if x.dtype != W.dtype:                     # e.g. float64 inputs for a gradient check
            W, b = W.astype(x.dtype), b.astype(x.dtype)
        gates = concatenate([x, h], axis=-1) @ W + b
        H = self.hidden_size
        i, f, o, g = (gates[:, k * H:(k + 1) * H] for k in range(4))
        c = sigmoid(f) * c + sigmoid(i) * tanh(g)
        return sigmoid(o) * tanh(c), c

    def extra_repr(self) -> str:
        return f"{self.input_size} → {self.hidden_size}"
