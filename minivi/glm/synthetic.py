"""Simulated data for every row of the table, at scales where a fit recovers the true weights.

    x ~ U(-√3, √3)ᵈ (mean 0, variance 1, bounded),   η = wᵀx + b,   y ~ p(y | g(η); θ)
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import autodiff as mv
from .links import Link, get_link

_HALF_WIDTH = math.sqrt(3.0)

# Per row: the standard deviation of the true weights and the true bias. None: the bias is
# chosen so that η ≥ margin > 0 on every possible x (rows whose mean needs η > 0).
_DEFAULTS: dict[str, tuple[float, float | None]] = {
    "identity": (1.0, 0.5), "logit": (1.0, -0.3), "probit": (0.7, 0.2), "cloglog": (0.6, -0.4),
    "tanh": (0.5, 0.1), "softmax": (1.0, 0.0), "log": (0.3, 1.0), "sqrt": (0.2, None),
    "reciprocal": (0.2, None), "tobit": (1.0, 0.3), "cumulative_logit": (1.0, 0.0),
}
_MARGIN = {"sqrt": 1.0, "reciprocal": 0.5}


def default_classes(link: Link) -> int | None:
    """K for class targets when none is given: 3 categories, 4 ordered levels."""
    return 3 if link.per_class else 4 if "cutpoints" in link.extras else None


def simulate_glm(link: str | Link, n: int, n_features: int, rng: np.random.Generator, w: Any = None,
                 b: Any = None, n_classes: int | None = None,
                 **extras: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, Any]:
    """Draw (X, y, w_true, b_true) from the GLM row ``link``.

    Weights default to N(0, s²) draws with a per-row scale s, so that most η fall where the
    likelihood is informative. The extras (noise scale, Gamma shape, cutpoints) default to
    ``link.extras[name].default`` unless given by name. Class rows give integer labels; the
    ordinal row has no bias (b_true is None: its cutpoints absorb it).
    """
    link = get_link(link)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"simulate_glm needs rng=np.random.default_rng(seed), got {type(rng).__name__}")
    unknown = set(extras) - set(link.extras)
    if unknown:
        raise ValueError(f"simulate_glm: the {link.name!r} row has no parameter(s) {sorted(unknown)}; "
                         f"it has {sorted(link.extras) or 'none'}")
    k = n_classes or default_classes(link)
    scale, bias = _DEFAULTS[link.name]
    X = rng.uniform(-_HALF_WIDTH, _HALF_WIDTH, size=(n, n_features))
    if w is None:
        w = rng.normal(0.0, scale, size=(n_features, k) if link.per_class else n_features)
        if link.per_class:
            w -= w.mean(axis=1, keepdims=True)  # only differences between classes are identified
    w = np.asarray(w, dtype=np.float64)
    if not link.intercept:
        b = None
    elif b is None:
        if link.per_class:
            b = rng.normal(0.0, 0.5, size=k)
            b -= b.mean()
        else:
            b = bias if bias is not None else _MARGIN[link.name] + _HALF_WIDTH * np.abs(w).sum()
    eta = X @ w + (0.0 if b is None else b)
    values = {name: np.asarray(extras.get(name, extra.default(k)), dtype=np.float64)
              for name, extra in link.extras.items()}
    y = link.simulate(mv.tensor(eta, dtype="float64"), rng, **values)
    return X, y, w, b
