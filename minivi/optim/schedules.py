"""Learning-rate schedules: plain functions ``step -> lr`` (step = steps taken so far, from 0).

Pass one as ``lr``: ``Adam(model.parameters(), lr=cosine(1e-3, total_steps=5000))``.
"""
from __future__ import annotations

import math
import numbers
from typing import Callable


def _positive(name: str, value: float, what: str = "positive") -> None:
    """Schedules check their arguments when made, not at step 10,000."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or not (value > 0 if what == "positive" else value >= 0):
        raise ValueError(f"schedule: {name} must be a {what} number, got {value!r}")


def constant(lr: float) -> Callable[[int], float]:
    """η_t = η."""
    _positive("lr", lr)
    return lambda step: lr


def step_decay(lr: float, drop: float = 0.5, every: int = 1000) -> Callable[[int], float]:
    """η_t = η · drop^⌊t / every⌋: multiply by ``drop`` every ``every`` steps."""
    for name, value in (("lr", lr), ("drop", drop), ("every", every)):
        _positive(name, value)
    return lambda step: lr * drop ** (step // every)


def exponential_decay(lr: float, rate: float, every: int = 1) -> Callable[[int], float]:
    """η_t = η · rate^(t / every): smooth decay by a factor ``rate`` per ``every`` steps."""
    for name, value in (("lr", lr), ("rate", rate), ("every", every)):
        _positive(name, value)
    return lambda step: lr * rate ** (step / every)


def cosine(lr: float, total_steps: int, min_lr: float = 0.0) -> Callable[[int], float]:
    """η_t = η_min + (η − η_min)(1 + cos(π t / T)) / 2 for t ≤ T, then η_min (Loshchilov & Hutter, 2017)."""
    for name, value in (("lr", lr), ("total_steps", total_steps)):
        _positive(name, value)
    _positive("min_lr", min_lr, "non-negative")
    return lambda step: min_lr + (lr - min_lr) * 0.5 * (1.0 + math.cos(math.pi * min(step, total_steps) / total_steps))
