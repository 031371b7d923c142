"""Initial weights that let a deep network train.

Each layer computes η = x W + b from ``fan_in`` inputs. If the entries of x have
variance v, those of x W have variance fan_in · Var(W) · v: the signal keeps its scale
through many layers only when Var(W) ≈ 1 / fan_in (times a correction for the
activation). Too small and it vanishes layer after layer; too large and it explodes.

* Glorot (Xavier) uniform, for tanh / sigmoid / identity layers:
  W_ij ~ U(−a, a),  a = gain · √(6 / (fan_in + fan_out)),  so Var(W) = gain² · 2 / (fan_in + fan_out).
* He (Kaiming) normal, for ReLU layers (ReLU zeroes half its inputs, halving the variance):
  W_ij ~ N(0, 2 / fan_in).

Biases start at zero. Every function draws through an explicit ``rng``.
"""
from __future__ import annotations

import math
from typing import Callable

from ..autodiff.creation import zeros as _zeros
from ..autodiff.random import rand, randn
from ..autodiff.tensor import Tensor
from .module import Parameter


def glorot_uniform(fan_in: int, fan_out: int, *, rng, gain: float = 1.0) -> Tensor:
    """W ~ U(−a, a) with a = gain · √(6 / (fan_in + fan_out)); shape (fan_in, fan_out)."""
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    u = rand(fan_in, fan_out, rng=rng).data
    return Parameter((2.0 * u - 1.0) * a)


def he_normal(fan_in: int, fan_out: int, *, rng) -> Tensor:
    """W ~ N(0, 2 / fan_in); shape (fan_in, fan_out)."""
    return Parameter(randn(fan_in, fan_out, rng=rng).data * math.sqrt(2.0 / fan_in))


def zeros(*shape: int, device: str | None = None) -> Tensor:
    """A learnable tensor of zeros (the usual bias initialisation)."""
    return Parameter(_zeros(*shape, device=device))


INITIALIZERS: dict[str, Callable[..., Tensor]] = {"glorot": glorot_uniform, "he": he_normal}


def get_initializer(init: str | Callable[..., Tensor]) -> Callable[..., Tensor]:
    """``"glorot"``, ``"he"`` or your own ``init(fan_in, fan_out, *, rng) -> Tensor``."""
    if callable(init):
        return init
    if init not in INITIALIZERS:
        raise ValueError(f"unknown init {init!r}: use one of {sorted(INITIALIZERS)} or a function "
                         "init(fan_in, fan_out, *, rng) -> Tensor")
    return INITIALIZERS[init]
