"""Learning-rate schedules: plain functions ``step -> lr`` (step = steps taken so far, from 0).

Pass one as ``lr``: ``Adam(model.parameters(), lr=cosine(1e-3, total_steps=5000))``.
"""
from __future__ import annotations

import math
from typing import Callable


def constant(lr: float) -> Callable[[int], float]:
    """η_t = η."""
    return lambda step: lr


def step_decay(lr: float, drop: float = 0.5, every: int = 1000) -> Callable[[int], float]:
    """η_t = η · drop^⌊t / every⌋: multiply by ``drop`` every ``every`` steps."""
    return lambda step: lr * drop ** (step // every)


def exponential_decay(lr: float, rate: float, every: int = 1) -> Callable[[int], float]:
    """η_t = η · rate^(t / every): smooth decay by a factor ``rate`` per ``every`` steps."""
    return lambda step: lr * rate ** (step / every)


def cosine(lr: float, total_steps: int, min_lr: float = 0.0) -> Callable[[int], float]:
    """η_t = η_min + (η − η_min)(1 + cos(π t / T)) / 2 for t ≤ T, then η_min (Loshchilov & Hutter, 2017)."""
    return lambda step: min_lr + (lr - min_lr) * 0.5 * (1.0 + math.cos(math.pi * min(step, total_steps) / total_steps))
