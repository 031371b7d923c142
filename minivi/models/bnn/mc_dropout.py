"""MC dropout (Gal & Ghahramani 2015): keep dropout switched on at test time and average.

A dropout network trained with weight decay approximately maximises a free energy whose q(w) puts each
row of a weight matrix at its learned value or at zero. Each dropout mask is one draw w_s ~ q, so

    p(y* | x*, D) ≈ (1/S) Σ_s p(y* | x*, w_s),        E[f] ≈ (1/S) Σ_s f(x*; w_s),  Var[f] ≈ (1/S) Σ_s f² − E[f]².

(For regression, add the observation noise variance to Var[f] for the predictive variance of y.)
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ... import autodiff as mv
from ...autodiff import Tensor
from ...nn import Dropout, Module


def mc_dropout_predict(model: Module, x, n_samples: int, *, transform: Callable[[Tensor], Tensor] | None = None
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """S stochastic passes with dropout on (every other layer, e.g. batch norm, in eval mode).

    Returns (mean over passes, variance over passes, the passes (S, n, ...)); ``transform`` is applied
    to each pass's output first (``mv.softmax`` for class probabilities). The model's modes are restored.
    """
    if n_samples < 1:
        raise ValueError(f"mc_dropout_predict needs n_samples >= 1, got {n_samples}")
    modes = [(m, m.training) for m in model.modules()]
    drops = [m for m in model.modules() if isinstance(m, Dropout)]
    if not drops or all(m.p == 0 for m in drops):
        raise ValueError("mc_dropout_predict: the model has no dropout layer with p > 0, so every pass would be the "
                         "same; build it with dropout (e.g. nn.MLP(..., dropout=0.1))")
    model.eval()
    for m in drops:
        m.training = True                           # dropout stays stochastic: each pass is one w_s ~ q
    try:
        with mv.no_grad():
            passes = []
            for _ in range(n_samples):
                out = model(x)
                passes.append((transform(out) if transform is not None else out).numpy())
    finally:
        for m, mode in modes:
            m.training = mode
    passes = np.stack(passes)
    return passes.mean(axis=0), passes.var(axis=0), passes
