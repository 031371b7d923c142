"""A sigmoid belief network (SBN) with binary latent variables, trained by NVIL (Mnih & Gregor, 2014).

The generative model (one layer of K binary latents, D binary pixels):

    p(z) = Π_k Bernoulli(z_k | σ(b_k)),        p(x | z) = Π_d Bernoulli(x_d | σ(W z + c)_d)

and the inference network q(z | x) = Π_k Bernoulli(z_k | σ(V x + d)_k). The free energy

    F(x) = E_q[log p(x, z) - log q(z | x)] = E_q[l(x, z)]

is maximised by gradient steps. The decoder's gradient, E_q[∇_θ log p(x, z)], is a plain Monte Carlo
average. z is discrete, so there is no pathwise gradient for the encoder: it gets the score function,

    ∇_φ F = E_q[(l(x, z) - b(x)) ∇_φ log q(z | x)],

with b(x) = 0 (no baseline), a moving average, or NVIL's b(x) = c̄ + C_ψ(x) with variance normalisation
(``minivi.estimators.NVILBaseline``). (The term E_q[-∇_φ log q] is zero in expectation and left out.)
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .. import autodiff as mv
from ..autodiff import Tensor
from ..distributions import Bernoulli
from ..estimators import MovingAverage, NVILBaseline, score_surrogate
from ..nn import Linear, Module, Parameter

Control = None | MovingAverage | NVILBaseline


class SBN(Module):
    """A one-layer sigmoid belief network ``x_dim ← z_dim`` with a linear-sigmoid inference network."""

    def __init__(self, x_dim: int = 784, z_dim: int = 200, *, rng: Any, data_mean: np.ndarray | None = None) -> None:
        self.x_dim, self.z_dim = int(x_dim), int(z_dim)
        self.prior_logits = Parameter(np.zeros(self.z_dim))
        self.decoder = Linear(self.z_dim, self.x_dim, rng=rng)
        self.encoder = Linear(self.x_dim, self.z_dim, rng=rng)
        if data_mean is not None:                              # start the decoder's bias at the pixel log-odds
            m = np.clip(np.asarray(data_mean, dtype=np.float64), 1e-3, 1 - 1e-3)
            self.decoder.b.data[...] = np.log(m) - np.log1p(-m)

    def q(self, x: Any) -> Bernoulli:
        """q(z | x) = Π_k Bernoulli(σ(V x + d)_k)."""
        return Bernoulli(logits=self.encoder(x))

    def log_joint(self, x: Any, z: Tensor) -> Tensor:
        """log p(x, z) = Σ_k log p(z_k) + Σ_d log p(x_d | z), one value per row."""
        prior = Bernoulli(logits=self.prior_logits).log_prob(z).sum(axis=-1)
        return prior + Bernoulli(logits=self.decoder(z)).log_prob(x).sum(axis=-1)

    def signal(self, x: Any, rng: Any) -> tuple[Tensor, Tensor, np.ndarray]:
        """One z ~ q(z | x) per row: (log p(x, z), log q(z | x), the learning signal l = their difference)."""
        if len(x) == 0:
            raise ValueError("SBN: got an empty minibatch (0 rows); pass at least one data point")
        q = self.q(x)
        z = q.sample(rng)
        log_q = q.log_prob(z).sum(axis=-1)
        log_p = self.log_joint(x, z)
        return log_p, log_q, (log_p.numpy() - log_q.numpy()).astype(np.float64)

    def loss(self, x: Any, rng: Any, control: Control = None) -> tuple[Tensor, np.ndarray]:
        """The surrogate to minimise (its gradient is minus NVIL's estimate) and the per-row signal l."""
        log_p, log_q, l = self.signal(x, rng)
        extra = None
        if control is None:
            a = l
        elif isinstance(control, MovingAverage):
            a = l - control.value                             # c from earlier steps only
            control.update(l)
        elif isinstance(control, NVILBaseline):
            a, extra = control.learning_signal(l, x)
        else:
            raise TypeError(f"control must be None, a MovingAverage or an NVILBaseline, got {type(control).__name__}")
        surrogate = log_p.mean() + score_surrogate(a.astype(log_q.dtype), log_q).mean()
        loss = -surrogate
        return (loss + extra if extra is not None else loss), l

    def elbo(self, x: Any, rng: Any) -> np.ndarray:
        """A one-sample estimate of the free energy per row (nats)."""
        with mv.no_grad():
            return self.signal(x, rng)[2]

    def log_likelihood(self, x: Any, n_samples: int, rng: Any, chunk: int = 100) -> np.ndarray:
        """Importance-sampled log p(x) ≈ log (1/S) Σ_s p(x, z_s) / q(z_s | x), z_s ~ q(z | x), per row.

        A stochastic lower bound that tightens as S grows (it is the IWAE bound of S samples).
        """
        x = np.asarray(x.numpy() if isinstance(x, Tensor) else x)
        out = np.empty(len(x))
        with mv.no_grad():
            for i in range(0, len(x), chunk):
                xb = mv.tensor(x[i:i + chunk], dtype=self.encoder.W.dtype)
                q = self.q(xb)
                z = q.sample(rng, (int(n_samples),))           # (S, b, K)
                w = (self.log_joint(xb, z) - q.log_prob(z).sum(axis=-1)).numpy().astype(np.float64)
                m = w.max(axis=0)
                out[i:i + chunk] = m + np.log(np.mean(np.exp(w - m), axis=0))
        return out


def encoder_grad_samples(model: SBN, x: Any, rng: Any, centre: Callable[[np.ndarray, Any], np.ndarray],
                         repeats: int) -> np.ndarray:
    """``repeats`` independent estimates of the encoder's gradient on the minibatch ``x``, flattened.

    ``centre(l, x)`` returns the signal that multiplies ∇ log q (e.g. ``lambda l, x: l`` for no baseline);
    the model is not changed. Returns an array (repeats, number of encoder parameters).
    """
    params = [model.encoder.W, model.encoder.b]
    rows = []
    for _ in range(int(repeats)):
        _, log_q, l = model.signal(x, rng)
        a = np.asarray(centre(l, x), dtype=np.float64)
        g = mv.autograd_grad(score_surrogate(a.astype(log_q.dtype), log_q).mean(), params)
        rows.append(np.concatenate([gi.numpy().ravel() for gi in g]).astype(np.float64))
    return np.stack(rows)
