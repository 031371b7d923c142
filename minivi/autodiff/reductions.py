"""Reductions over axes: sum, mean, var, std, max, min, norm, cumsum, and the normalisers
logsumexp, softmax, log_softmax.

Arguments follow NumPy: ``axis`` is None (all axes), an int or a tuple (negative axes count
from the end; out of range is an error), ``keepdims`` keeps reduced axes with length 1.
A reduction's VJP first puts the dropped axes back (``_expand``), then broadcasts.
"""
from __future__ import annotations

import math

import numpy as np

from .backend import get_array_module
from .elementwise import abs as _abs
from .elementwise import exp, sqrt, where
from .primitive import broadcast_to_p, defvjp, norm_axis, primitive, unbroadcast
from .shape import flip, reshape
from .tensor import Tensor


def _keepdims_shape(shape: tuple, axis, op: str = "reduction") -> tuple:
    axes = norm_axis(axis, len(shape), op)
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _expand(g: Tensor, x: Tensor, axis, keepdims: bool) -> Tensor:
    """Undo a reduction's dropped axes so ``g`` broadcasts against ``x``."""
    if keepdims or axis is None and g.ndim == x.ndim:
        return g
    return reshape(g, _keepdims_shape(x.shape, axis))


def _count(x: Tensor, axis, op: str) -> int:
    n = x.size if axis is None else math.prod(x.shape[a] for a in norm_axis(axis, x.ndim, op))
    if n == 0:
        raise ValueError(f"{op}: the reduced axis is empty (shape {x.shape}, axis={axis}), so there is nothing "
                         "to average; check the data (an empty batch?) or reduce over another axis")
    return n


# --- sum and what is built from it ----------------------------------------------------------
sum_p = primitive(lambda x, axis=None, keepdims=False: x.sum(axis=axis, keepdims=keepdims), "sum")
defvjp(sum_p, lambda g, ans, x, axis=None, keepdims=False:                 # copy ȳ to every summand
       broadcast_to_p(_expand(g, x, axis, keepdims), shape=x.shape))


def sum(x: Tensor, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001 - NumPy's name
    """Σ over ``axis``. VJP: the upstream gradient is copied (broadcast) to every summand."""
    if axis is not None:
        norm_axis(axis, x.ndim, "sum")
    return sum_p(x, axis=axis, keepdims=keepdims)


def mean(x: Tensor, axis=None, keepdims: bool = False) -> Tensor:
    """Average over ``axis``: sum / count (an empty axis is an error, not NaN)."""
    return sum_p(x, axis=axis, keepdims=keepdims) * (1.0 / _count(x, axis, "mean"))


def var(x: Tensor, axis=None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """Variance over ``axis``: Σ (x - x̄)² / (n - ddof) (biased with ddof=0, as NumPy)."""
    n = _count(x, axis, "var")
    if n - ddof <= 0:
        raise ValueError(f"var: {n} value(s) with ddof={ddof} leave no degrees of freedom; use ddof < {n}")
    d = x - sum_p(x, axis=axis, keepdims=True) * (1.0 / n)
    return sum_p(d * d, axis=axis, keepdims=keepdims) * (1.0 / (n - ddof))


def std(x: Tensor, axis=None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """Standard deviation √var over ``axis``."""
    return sqrt(var(x, axis=axis, keepdims=keepdims, ddof=ddof))


# --- max and min -----------------------------------------------------------------------------------
def _max_vjp(g, ans, x, axis=None, keepdims=False):
    """The gradient goes to the maximal entries (shared equally between ties)."""
    m = _expand(ans, x, axis, keepdims)._data
    mask = x._data == m
    mask = mask / mask.sum(axis=axis, keepdims=True)
    return _expand(g, x, axis, keepdims) * mask.astype(x.dtype, copy=False)


max_p = primitive(lambda x, axis=None, keepdims=False: x.max(axis=axis, keepdims=keepdims), "max")
defvjp(max_p, _max_vjp)


def _check_nonempty(x: Tensor, axis, op: str) -> None:
    if axis is not None:
        norm_axis(axis, x.ndim, op)
    if x.size == 0:
        raise ValueError(f"{op}: the tensor is empty (shape {x.shape}); the {op} of nothing is undefined")


def max(x: Tensor, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Largest entry over ``axis``; the gradient flows to the argmax."""
    _check_nonempty(x, axis, "max")
    return max_p(x, axis=axis, keepdims=keepdims)


def min(x: Tensor, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Smallest entry over ``axis``: -max(-x)."""
    _check_nonempty(x, axis, "min")
    return -max_p(-x, axis=axis, keepdims=keepdims)


# --- norms ------------------------------------------------------------------------------------------
norm2_p = primitive(lambda x, axis=None, keepdims=False: get_array_module(x).sqrt((x * x).sum(axis=axis, keepdims=keepdims)),
                    "norm")
defvjp(norm2_p, lambda g, ans, x, axis=None, keepdims=False:               # ∂‖x‖/∂x = x / ‖x‖ (0 at x = 0)
       _expand(g, x, axis, keepdims) * x / where(_expand(ans, x, axis, keepdims)._data == 0, 1.0,
                                                 _expand(ans, x, axis, keepdims)))


def norm(x: Tensor, ord=2, axis=None, keepdims: bool = False) -> Tensor:
    """Vector norm over ``axis`` (all entries by default): ord 2 = √Σx² (over two axes, the
    Frobenius norm; ord='fro' says so), ord 1 = Σ|x|, ord inf = max |x|."""
    if axis is not None:
        norm_axis(axis, x.ndim, "norm")
    if ord in (2, "fro", None):
        if ord == 2 and isinstance(axis, tuple) and len(axis) == 2:
            raise ValueError("norm: ord=2 over two axes is the spectral norm in NumPy, which minivi does not "
                             "compute; pass ord='fro' for the Frobenius norm √Σx²")
        return norm2_p(x, axis=axis, keepdims=keepdims)
    if ord == 1:
        return sum(_abs(x), axis=axis, keepdims=keepdims)
    if ord in (np.inf, float("inf")):
        return max(_abs(x), axis=axis, keepdims=keepdims)
    raise ValueError(f"norm: ord={ord!r} is not supported; use 1, 2, 'fro' or np.inf")


# --- cumulative sum ---------------------------------------------------------------------------------
cumsum_p = primitive(lambda x, axis: x.cumsum(axis=axis), "cumsum")
defvjp(cumsum_p, lambda g, ans, x, axis:                                   # x̄ᵢ = Σ_{j ≥ i} ȳⱼ: a reversed cumsum
       flip(cumsum_p(flip(g, axis=axis), axis=axis), axis=axis))


def cumsum(x: Tensor, axis: int | None = None) -> Tensor:
    """Running sums along ``axis`` (of the flattened tensor when ``axis`` is None, as NumPy)."""
    if axis is None:
        return cumsum_p(reshape(x, (-1,)), axis=0)
    (ax,) = norm_axis(axis, x.ndim, "cumsum")
    return cumsum_p(x, axis=ax)


# --- normalisers: logsumexp, softmax, log_softmax --------------------------------------------------
def _logsumexp(x, axis=None, keepdims=False):
    """log Σ exp(x) = m + log Σ exp(x - m), with m = max(x): never overflows."""
    xp = get_array_module(x)
    m = x.max(axis=axis, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)
    out = xp.log(xp.exp(x - m).sum(axis=axis, keepdims=True)) + m
    return out if keepdims else out.reshape(_reduced_shape(x.shape, axis))


def _reduced_shape(shape, axis):
    axes = norm_axis(axis, len(shape))
    return tuple(n for i, n in enumerate(shape) if i not in axes)


logsumexp_p = primitive(_logsumexp, "logsumexp")
defvjp(logsumexp_p, lambda g, ans, x, axis=None, keepdims=False:          # ∂ lse(x)/∂x = softmax(x)
       _expand(g, x, axis, keepdims) * softmax_p(x, axis=norm_axis(axis, x.ndim)))


def _weighted_logsumexp(x, b, axis=None, keepdims=False):
    """log Σ b exp(x) (b ≥ 0), shifted by the max of x where b > 0."""
    xp = get_array_module(x)
    x, b = xp.broadcast_arrays(x, b)
    m = xp.where(b > 0, x, -xp.inf).max(axis=axis, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)
    with np.errstate(divide="ignore"):
        out = xp.log((b * xp.exp(x - m)).sum(axis=axis, keepdims=True)) + m
    return out if keepdims else out.reshape(_reduced_shape(x.shape, axis))


weighted_logsumexp_p = primitive(_weighted_logsumexp, "logsumexp")


def _wlse_rule(which):
    def rule(g, ans, x, b, axis=None, keepdims=False):
        shape = np.broadcast_shapes(x.shape, b.shape if isinstance(b, Tensor) else ())
        e = exp(x - reshape(ans, _keepdims_shape(shape, axis)) if not keepdims else x - ans)   # exp(xᵢ - y)
        gx = reshape(g, _keepdims_shape(shape, axis)) if not keepdims else g
        return unbroadcast(gx * e * b, x) if which == 0 else unbroadcast(gx * e, b)   # x̄ = ȳ b e^{x-y}, b̄ = ȳ e^{x-y}
    return rule


defvjp(weighted_logsumexp_p, _wlse_rule(0), _wlse_rule(1))


def logsumexp(x: Tensor, axis=None, keepdims: bool = False, b=None) -> Tensor:
    """log Σᵢ exp(xᵢ) over ``axis``, computed stably. With weights ``b`` (≥ 0, broadcasting
    against x, as ``scipy.special.logsumexp``): log Σᵢ bᵢ exp(xᵢ); zero weights drop terms."""
    if axis is not None:
        norm_axis(axis, x.ndim, "logsumexp")
    if b is None:
        return logsumexp_p(x, axis=axis, keepdims=keepdims)
    bd = b._data if isinstance(b, Tensor) else np.asarray(b)
    if (bd < 0).any():
        raise ValueError("logsumexp: weights b must be >= 0 (the log of a negative sum is undefined here)")
    return weighted_logsumexp_p(x, b, axis=axis, keepdims=keepdims)


def _log_softmax(x, axis=-1):
    return x - _logsumexp(x, axis=axis, keepdims=True)


def _softmax(x, axis=-1):
    xp = get_array_module(x)
    e = xp.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


log_softmax_p = primitive(_log_softmax, "log_softmax")
defvjp(log_softmax_p, lambda g, ans, x, axis=-1:                           # x̄ = ȳ - softmax(x) Σ ȳ
       g - exp(ans) * sum_p(g, axis=axis, keepdims=True))

softmax_p = primitive(_softmax, "softmax")
defvjp(softmax_p, lambda g, ans, x, axis=-1:                               # x̄ = s ⊙ (ȳ - Σ ȳ ⊙ s)
       ans * (g - sum_p(g * ans, axis=axis, keepdims=True)))


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """log softmax(x) = x - logsumexp(x): stable log-probabilities of a categorical."""
    norm_axis(axis, x.ndim, "log_softmax")
    return log_softmax_p(x, axis=axis)


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """exp(xᵢ) / Σⱼ exp(xⱼ), shifted by the max so it never overflows."""
    norm_axis(axis, x.ndim, "softmax")
    return softmax_p(x, axis=axis)


__all__ = ["sum", "mean", "var", "std", "max", "min", "norm", "cumsum", "logsumexp", "softmax", "log_softmax"]
