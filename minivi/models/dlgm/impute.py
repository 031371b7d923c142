"""Missing data with a DLGM: the talk's "Missing data imputation".

Pixels y_m are missing, y_o observed (a boolean mask, True = observed, any pattern). What we want is
p(y_m | y_o) = ∫ p(y_m | z) p(z | y_o) dz. Two ways to get at it with a trained model:

* **The Markov chain** of Rezende et al. 2014 (appendix F). Fill y_m with anything, then repeat
      z ~ q(z | y_o, y_m),    y_m ← E[y_m | z]   (y_o stays clamped).
  If q were the exact posterior this would be a Gibbs-like chain whose stationary distribution is
  p(y_m | y_o) (with y_m ← a draw from p(y_m | z)); with the mean it settles on a sharp reconstruction.

* **Importance sampling**: the encoder needs a full input, so give it y_m filled with ``init``; its
  q(z | y_filled) is a proposal and the weights w_k ∝ p(y_o | z^k) p(z^k) / q(z^k | y_filled) correct it
  towards p(z | y_o). Then E[y_m | y_o] ≈ Σ_k w̃_k E[y_m | z^k]; resampling one k ∝ w̃_k gives one
  imputation drawn (approximately) from the posterior predictive.

Observed entries are never changed, and missing entries of ``y`` may hold anything (NaN included).
"""
from __future__ import annotations

import numpy as np

import minivi as mv


def _prepare(model, y, observed_mask, init):
    y = np.asarray(y.numpy() if isinstance(y, mv.Tensor) else y)
    if y.ndim != 2 or y.shape[1] != model.x_dim:
        raise ValueError(f"impute: y has shape {y.shape}, expected (n, {model.x_dim}) (one digit: y[None])")
    mask = np.asarray(observed_mask.numpy() if isinstance(observed_mask, mv.Tensor) else observed_mask)
    if mask.dtype != bool:
        if not np.isin(mask, (0, 1)).all():
            raise ValueError("impute: observed_mask must be boolean (True = observed) or 0/1")
        mask = mask.astype(bool)
    try:
        mask = np.broadcast_to(mask, y.shape)
    except ValueError:
        raise ValueError(f"impute: observed_mask of shape {mask.shape} does not match y's shape {y.shape} "
                         f"(give (n, {model.x_dim}) or one mask (x_dim,) for all rows)") from None
    filled = np.where(mask, y, init).astype(np.float64)
    if not np.isfinite(filled).all():
        raise ValueError("impute: the observed entries of y contain NaN or inf")
    return y, mask, filled


def markov_impute(model, y, observed_mask, rng, n_steps: int = 50, init=0.5, return_chain: bool = False):
    """The Markov chain of Rezende et al. 2014: ``n_steps`` rounds of z ~ q(z|y), y_m ← E[y_m | z].
    Returns the imputed data (n, x_dim), or with ``return_chain`` every state (n_steps + 1, n, x_dim)."""
    y, mask, state = _prepare(model, y, observed_mask, init)
    chain = [state.copy()]
    with mv.no_grad():
        for _ in range(n_steps):
            z1 = model.posterior(state)[0].sample(rng)
            state = np.where(mask, y, model.observation(z1).mean.numpy())
            chain.append(state)
    return np.stack(chain) if return_chain else state


def importance_impute(model, y, observed_mask, rng, n_samples: int = 500, resample: bool = False, init=0.5,
                      max_elements: int = 4_000_000):
    """Σ_k w̃_k E[y_m | z^k] with z^k ~ q(z | y_filled) and w_k ∝ p(y_o | z^k) p(z^k) / q(z^k | y_filled);
    with ``resample=True``, E[y_m | z^k] of one k drawn with probability w̃_k per row (an imputation).
    Rows are processed a few at a time so that the K x rows x x_dim means stay under ``max_elements``."""
    y, mask, filled = _prepare(model, y, observed_mask, init)
    rows = max(1, max_elements // (n_samples * model.x_dim))
    guess = np.empty_like(filled)
    for a in range(0, len(y), rows):
        guess[a:a + rows] = _importance_rows(model, filled[a:a + rows], mask[a:a + rows], rng, n_samples, resample)
    return np.where(mask, y, guess)


def _importance_rows(model, filled, mask, rng, n_samples, resample):
    with mv.no_grad():
        x = model._as_x(filled)
        q = model.q(x)
        z = q.sample(rng, (n_samples,))                                     # (K, n, Σ z_dims)
        zs = model.split(z)
        O = mv.tensor(mask, dtype=x.dtype, device=x.device)
        y_o = mv.tensor(np.where(mask, filled, 0.0), dtype=x.dtype, device=x.device)   # missing: any valid value
        log_w = (model.log_lik_pixels(y_o, zs[0]) * O).sum(axis=-1)         # log p(y_o | z), (K, n)
        for l, zl in enumerate(zs):
            log_w = log_w + model.prior(l, zs[l + 1] if l + 1 < len(zs) else None).log_prob(zl).sum(axis=-1)
        log_w = (log_w - q.log_prob(z).sum(axis=-1)).numpy().astype(np.float64)
        w = np.exp(log_w - log_w.max(axis=0))
        w /= w.sum(axis=0)                                                  # normalised weights (K, n)
        means = model.observation(zs[0]).mean.numpy()                      # (K, n, x_dim)
    if resample:
        u = rng.random(w.shape[1])
        u = u.get() if hasattr(u, "get") else u                             # a CuPy draw comes to the host
        k = np.minimum((np.cumsum(w, axis=0) < u).sum(axis=0), n_samples - 1)
        return means[k, np.arange(w.shape[1])]
    return np.einsum("kn,knd->nd", w, means)
