"""The Kumaraswamy distribution on (0, 1): a Beta look-alike with a closed-form inverse CDF."""
from __future__ import annotations

from typing import Any

from .. import autodiff as mv
from ..autodiff import Tensor
from .base import Distribution, Shape
from .gumbel import EULER_GAMMA
from .logistic import _open_uniform


class Kumaraswamy(Distribution):
    """Kumaraswamy(a, b) on (0, 1): CDF F(y) = 1 - (1 - y^a)^b.

        log p(y) = log a + log b + (a - 1) log y + (b - 1) log(1 - y^a)

    ``rsample`` inverts the CDF: y = (1 - (1 - u)^{1/b})^{1/a}, computed as
    exp(log(-expm1(log1p(-u) / b)) / a) so that it stays accurate near 0 and 1. It is why the
    Kumaraswamy stands in for the Beta (whose CDF has no closed-form inverse) in reparameterised VI.
    """

    params = ("a", "b")

    def __init__(self, a: Any, b: Any, validate_args: bool = True) -> None:
        super().__init__(validate_args)
        self._set_params(a=a, b=b)
        self._check(self.a.data > 0, "a must be positive; parameterise it as exp(·) of a free tensor")
        self._check(self.b.data > 0, "b must be positive; parameterise it as exp(·) of a free tensor")

    def log_prob(self, value: Any) -> Tensor:
        y = self._value(value)
        self._check((y.data > 0) & (y.data < 1), "values must lie strictly inside (0, 1)")
        a, b = self.a, self.b
        log_y = mv.log(y)
        log1m_ya = mv.log(-mv.expm1(a * log_y))              # log(1 - y^a), accurate for y^a near 0
        return mv.log(a) + mv.log(b) + (a - 1.0) * log_y + (b - 1.0) * log1m_ya

    def rsample(self, rng: Any, sample_shape: int | Shape = ()) -> Tensor:
        u = self._wrap(_open_uniform(self, rng, sample_shape))
        w = mv.log1p(-u) / self.b                              # log (1 - u)^{1/b}
        return mv.exp(mv.log(-mv.expm1(w)) / self.a)           # F⁻¹(u)

    def cdf(self, value: Any) -> Tensor:
        y = self._value(value)
        return -mv.expm1(self.b * mv.log(-mv.expm1(self.a * mv.log(y))))

    def _moment(self, n: float) -> Tensor:
        """E[y^n] = b B(1 + n/a, b) = b Γ(1 + n/a) Γ(b) / Γ(1 + n/a + b)."""
        a, b = self.a, self.b
        return b * mv.exp(mv.gammaln(1.0 + n / a) + mv.gammaln(b) - mv.gammaln(1.0 + n / a + b))

    @property
    def mean(self) -> Tensor:
        return mv.broadcast_to(self._moment(1.0), shape=self.batch_shape)

    @property
    def variance(self) -> Tensor:
        m1 = self._moment(1.0)
        return mv.broadcast_to(self._moment(2.0) - m1 * m1, shape=self.batch_shape)

    def entropy(self) -> Tensor:
        """H = (1 - 1/b) + (1 - 1/a) H_b - log(ab), with the harmonic number H_b = ψ(b + 1) + γ."""
        a, b = self.a, self.b
        harmonic = mv.digamma(b + 1.0) + EULER_GAMMA
        h = (1.0 - 1.0 / b) + (1.0 - 1.0 / a) * harmonic - mv.log(a) - mv.log(b)
        return mv.broadcast_to(h, shape=self.batch_shape)
