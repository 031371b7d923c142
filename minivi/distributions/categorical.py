"""The Categorical distribution over K classes (the last axis of its parameters)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import autodiff as mv
from ..autodiff import Tensor
from .base import Distribution, Shape, integer_labels, take_class


class Categorical(Distribution):
    """y ∈ {0, …, K-1} with P(y = k) = π_k = softmax(η)_k; give ``logits=η`` or ``probs=π``.

        log p(y) = η_y - logsumexp(η) = log_softmax(η)_y

    The last axis of the parameters indexes the classes; the others form the batch.
    Labels are integer class indices (a NumPy integer array, or whole numbers). A logit
    of -inf is allowed: that class has probability 0 (entropy and KL treat 0 log 0 as 0).
    """

    params = ("logits", "probs")
    neg_inf_ok = ("logits",)  # a logit of -inf is a class of probability 0

    def __init__(self, *args: Any, logits: Any = None, probs: Any = None, validate_args: bool = True) -> None:
        super().__init__(validate_args)
        if args:  # PyTorch reads Categorical(0.3) as probs, minivi used to read it as logits: make it explicit
            raise TypeError(f"Categorical: name the parameter, Categorical(logits=...) or Categorical(probs=...); a positional "
                            f"value is ambiguous (got {args[0]!r:.40})")
        if (logits is None) == (probs is None):
            raise ValueError("Categorical: give exactly one of logits= or probs=")
        if logits is not None:
            self._set_params(event_dims={"logits": 1}, logits=logits)
        else:
            self._set_params(event_dims={"probs": 1}, probs=probs)
            p = self.probs.data
            self._check((p >= 0) & (p <= 1), "probs must lie in [0, 1]")
            self._check(self._xp().abs(p.sum(axis=-1) - 1) < 1e-4, "probs must sum to 1 along the last (class) axis")
        self._derive()
        self.n_classes = self.logits.shape[-1]

    def _derive(self) -> None:
        if "logits" in self._names:
            self._check(self._xp().isfinite(self.logits.data).any(axis=-1),
                        "every row of logits is -inf: at least one class needs a finite logit")
            self.logits = mv.log_softmax(self.logits, axis=-1)  # normalised: log π (-inf stays -inf: π = 0)
            self.probs = mv.exp(self.logits)
        else:
            tiny = float(np.finfo(self.dtype).tiny)  # log 0 would be -inf: clip first
            self.logits = mv.log_softmax(mv.log(mv.clip(self.probs, tiny)), axis=-1)

    def log_prob(self, value: Any) -> Tensor:
        return take_class(self.logits, integer_labels(self, value, self.n_classes))

    def sample(self, rng: Any, sample_shape: int | Shape = ()) -> Tensor:
        """The Gumbel-max trick: argmaxₖ (log πₖ + gₖ) with gₖ = -log(-log uₖ) is a draw from π."""
        shape = self._shape(rng, sample_shape) + (self.n_classes,)
        xp = self._xp()
        gumbel = -xp.log(-xp.log(rng.random(shape)))
        return self._wrap((self.logits.data + gumbel).argmax(axis=-1))

    @property
    def mean(self) -> Tensor:
        """The mean of the one-hot encoding of y: the vector π (shape batch + (K,))."""
        return self.probs

    @property
    def variance(self) -> Tensor:
        """The variances of the one-hot encoding of y: π (1 - π) (shape batch + (K,))."""
        return self.probs * (1.0 - self.probs)

    def entropy(self) -> Tensor:
        """H = -Σₖ πₖ log πₖ, with 0 log 0 = 0.

        A class with logit -inf has πₖ = 0 and log πₖ = -inf; 0 · (-inf) would be NaN, so
        log π is clipped to the most negative finite number first (as PyTorch does).
        """
        return -(self.probs * self.finite_logits).sum(axis=-1)

    @property
    def finite_logits(self) -> Tensor:
        """log π with -inf replaced by the dtype's most negative number (so 0 · log 0 gives 0)."""
        return mv.clip(self.logits, float(np.finfo(self.dtype).min))
