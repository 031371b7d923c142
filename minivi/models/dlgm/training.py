"""Training a DLGM: encoder and decoder optimised jointly, as one computational graph.

Each step draws a minibatch (with *dynamic binarisation*: fresh 0/1 pixels from the grey levels every
epoch, so the model never sees the same binary digit twice), estimates the free energy with the pathwise
estimator and takes one Adam step on all parameters at once, θ and φ together (no alternating E and M
steps, unlike chapter 07's per-datapoint variational EM):

    (θ, φ) ← (θ, φ) + Adam( ∇_{θ,φ} (1/B) Σ_n F(y_n; θ, φ) )
"""
from __future__ import annotations

import numpy as np

from minivi.data import minibatches
from minivi.optim import Adam
from minivi.train import History, fit


def fit_dlgm(model, x_train: np.ndarray, epochs: int, rng, batch_size: int = 100, lr: float = 1e-3,
             objective: str = "elbo", n_samples: int = 1, binarize: str | None = "dynamic", evaluate=None,
             optimizer=None, progress: bool | None = None) -> History:
    """Maximise the mean free energy (``objective="elbo"``) or IWAE bound (``"iwae"``, K = ``n_samples``)
    over minibatches of ``x_train`` for ``epochs`` passes with Adam(lr). ``rng`` (a NumPy Generator) draws
    the shuffles, the binarisation and the noise ε. Returns the ``History`` ("loss" = −bound per epoch)."""
    if objective not in ("elbo", "iwae"):
        raise ValueError(f"objective must be 'elbo' or 'iwae', got {objective!r}")
    if binarize == "dynamic" and (x_train.min() < 0 or x_train.max() > 1):
        raise ValueError("dynamic binarisation needs grey levels in [0, 1]; pass binarize=None for other data")
    optimizer = optimizer or Adam(model.parameters(), lr=lr)

    def loss(x):
        bound = model.elbo(x, rng, n_samples) if objective == "elbo" else model.iwae(x, rng, n_samples)
        return -bound.mean()

    data = minibatches(x_train, batch_size=batch_size, rng=rng, binarize=binarize)
    return fit(model, loss, data, optimizer, epochs, evaluate=evaluate, progress=progress)
