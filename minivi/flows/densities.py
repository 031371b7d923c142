"""The four unnormalised 2-D densities p(z) ∝ exp(−U(z)) of the paper's table 1 / figure 3 (z of shape (…, 2)):

    U1(z) = ½((‖z‖ − 2)/0.4)² − log(e^{−½((z₁−2)/0.6)²} + e^{−½((z₁+2)/0.6)²})
    U2(z) = ½((z₂ − w₁(z))/0.4)²
    U3(z) = −log(e^{−½((z₂−w₁)/0.35)²} + e^{−½((z₂−w₁+w₂)/0.35)²})
    U4(z) = −log(e^{−½((z₂−w₁)/0.4)²} + e^{−½((z₂−w₁+w₃)/0.35)²})

with w₁ = sin(2πz₁/4), w₂ = 3 exp(−½((z₁−1)/0.6)²), w₃ = 3 σ((z₁−1)/0.3). They work on minivi Tensors.

As printed, U2–U4 do not depend on z₁ far from the origin, so e^{−U} has infinite mass (log Z = ∞ and the free
energy can grow without bound by spreading q along z₁). The paper plots them on the square [−4, 4]²; we confine z₁
to it with a quadratic wall, W(z₁) = ½ (max(|z₁| − 4, 0)/0.2)², added to U2–U4 (zero inside the square).
"""
from __future__ import annotations

import math

from .. import autodiff as mv
from ..autodiff import Tensor


def _w1(z1):
    return mv.sin(2 * math.pi * z1 / 4)


def U1(z: Tensor) -> Tensor:  # noqa: N802 - the paper's name
    z1 = z[..., 0]
    ring = 0.5 * ((mv.sqrt((z * z).sum(axis=-1)) - 2.0) / 0.4) ** 2
    return ring - mv.logaddexp(-0.5 * ((z1 - 2.0) / 0.6) ** 2, -0.5 * ((z1 + 2.0) / 0.6) ** 2)


def wall(z1: Tensor) -> Tensor:
    """W(z₁) = ½ (max(|z₁| − 4, 0)/0.2)²: zero on [−4, 4], a steep quadratic outside (makes U2–U4 proper)."""
    return 0.5 * (mv.maximum(mv.abs(z1) - 4.0, 0.0) / 0.2) ** 2


def U2(z: Tensor) -> Tensor:  # noqa: N802
    return 0.5 * ((z[..., 1] - _w1(z[..., 0])) / 0.4) ** 2 + wall(z[..., 0])


def U3(z: Tensor) -> Tensor:  # noqa: N802
    z1, z2 = z[..., 0], z[..., 1]
    w2 = 3.0 * mv.exp(-0.5 * ((z1 - 1.0) / 0.6) ** 2)
    return -mv.logaddexp(-0.5 * ((z2 - _w1(z1)) / 0.35) ** 2, -0.5 * ((z2 - _w1(z1) + w2) / 0.35) ** 2) + wall(z1)


def U4(z: Tensor) -> Tensor:  # noqa: N802
    z1, z2 = z[..., 0], z[..., 1]
    w3 = 3.0 * mv.sigmoid((z1 - 1.0) / 0.3)
    return -mv.logaddexp(-0.5 * ((z2 - _w1(z1)) / 0.4) ** 2, -0.5 * ((z2 - _w1(z1) + w3) / 0.35) ** 2) + wall(z1)


ENERGIES = {"U1": U1, "U2": U2, "U3": U3, "U4": U4}
