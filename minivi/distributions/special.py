"""log B(a, b) = log Γ(a) + log Γ(b) - log Γ(a + b), accurate even when a + b is huge.

Computed naively, log Γ(b) - log Γ(a + b) subtracts two numbers of size b log b: for
b = 10⁹ that loses about 7 digits, for b = 10¹⁷ all of them (a + b rounds to b). For the
larger argument y ≥ 100 we use Stirling's series, log Γ(x) = (x - ½) log x - x + ½ log 2π + c(x),
c(x) = 1/(12x) - 1/(360x³) + 1/(1260x⁵) (error below 10⁻¹⁸ there), and subtract the two
expansions by hand so that nothing large cancels:

    log Γ(y) - log Γ(a + y) = -(y - ½) log1p(a/y) - a log(a + y) + a + c(y) - c(a + y).
"""
from __future__ import annotations

from .. import autodiff as mv
from ..autodiff import Tensor

_LARGE = 100.0  # above this the series is exact to double precision


def _stirling_correction(x: Tensor) -> Tensor:
    """c(x) = log Γ(x) - [(x - ½) log x - x + ½ log 2π] ≈ 1/(12x) - 1/(360x³) + 1/(1260x⁵)."""
    r = 1.0 / x
    r2 = r * r
    return r * (1.0 / 12 - r2 * (1.0 / 360 - r2 / 1260))


def log_gamma_ratio(a: Tensor, y: Tensor) -> Tensor:
    """log Γ(y) - log Γ(a + y) for a, y > 0, without cancellation when y is large."""
    large = y.data >= _LARGE
    ys = mv.where(large, y, _LARGE)  # the series branch only ever sees y ≥ 100 (finite values and gradients)
    series = (-(ys - 0.5) * mv.log1p(a / ys) - a * mv.log(a + ys) + a
              + _stirling_correction(ys) - _stirling_correction(a + ys))
    return mv.where(large, series, mv.gammaln(y) - mv.gammaln(a + y))


def log_beta_fn(a: Tensor, b: Tensor) -> Tensor:
    """log B(a, b) = log Γ(small) + [log Γ(large) - log Γ(a + b)], the bracket by ``log_gamma_ratio``."""
    small = mv.where(a.data <= b.data, a, b)
    large = mv.where(a.data <= b.data, b, a)
    return mv.gammaln(small) + log_gamma_ratio(small, large)
