"""Gradient checking: compare the engine's gradients with central differences.

For a function f of tensors, pick a fixed random direction v and the scalar
s = Σ f(x) ⊙ v. Its gradient from ``backward`` is compared entry by entry with

    ∂s/∂xᵢ ≈ (s(x + ε eᵢ) - s(x - ε eᵢ)) / 2ε          (error O(ε²))

in float64, where rounding error stays far below the tolerance.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from . import backend
from .tensor import Tensor, autograd_grad, no_grad


class GradcheckError(AssertionError):
    """Raised by ``gradcheck`` with the input, the index and both values."""


def _as_float64(x: Any) -> Tensor:
    if isinstance(x, Tensor):
        data = x.data
    else:
        data = np.asarray(x, dtype=np.float64)
    t = Tensor._wrap(backend.get_array_module(data).array(data, dtype=np.float64, order="C"))  # reshape(-1) must be a view
    t.requires_grad = True
    return t


def numerical_gradient(f: Callable[..., Tensor], inputs: list[Tensor], v: Any, i: int, eps: float) -> np.ndarray:
    """Central differences of s = Σ f(inputs) ⊙ v with respect to input ``i``."""
    x = inputs[i]
    flat = x.data.reshape(-1)  # a view: we nudge entries in place and put them back
    out = np.zeros(flat.shape, dtype=np.float64)
    with no_grad():
        for k in range(flat.size):
            old = flat[k].item()
            flat[k] = old + eps
            up = float((f(*inputs).data * v).sum())
            flat[k] = old - eps
            down = float((f(*inputs).data * v).sum())
            flat[k] = old
            out[k] = (up - down) / (2 * eps)
    return out.reshape(x.shape)


def gradcheck(
    f: Callable[..., Tensor],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-4,
    seed: int = 0,
    raise_exception: bool = True,
) -> bool:
    """Check the gradients of ``f`` at ``inputs`` against central differences (float64).

    Returns True when every entry agrees within ``atol + rtol * |numerical|``.
    Otherwise raises ``GradcheckError`` (or returns False) with a message that says
    which input, which index, the two values and their relative error.
    """
    xs = [_as_float64(x) for x in inputs]
    out = f(*xs)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: f must return a Tensor, got {type(out).__name__}")
    if out.dtype != np.float64:
        raise TypeError(f"gradcheck: f returned {out.dtype}; it must keep float64 inputs in float64 (no hard-coded float32)")
    xp = backend.get_array_module(out.data)
    v = xp.asarray(np.random.default_rng(seed).standard_normal(out.shape))
    s = (out * Tensor._wrap(v)).sum()  # s = Σ f(x) ⊙ v, a scalar whatever the shape of f(x)
    analytic = autograd_grad(s, xs) if s.requires_grad else [None] * len(xs)
    for i, (x, ga) in enumerate(zip(xs, analytic)):
        a = np.zeros(x.shape) if ga is None else np.asarray(ga.numpy(), dtype=np.float64)
        if a.shape != x.shape:
            return _fail(f"gradcheck: the gradient of input {i} has shape {a.shape}, but the input has shape {x.shape}", raise_exception)
        n = np.asarray(backend.to_device(numerical_gradient(f, xs, v, i, eps), "cpu"))
        bad = ~(np.abs(a - n) <= atol + rtol * np.abs(n))
        if bad.any():
            idx = tuple(int(j) for j in np.argwhere(bad)[0])
            av, nv = a[idx], n[idx]
            rel = abs(av - nv) / max(abs(nv), abs(av), 1e-12)
            msg = (
                f"gradcheck failed for input {i} (shape {x.shape}) at index {idx}: "
                f"analytic {av:.6g}, numerical {nv:.6g}, relative error {rel:.2e} "
                f"({int(bad.sum())} of {bad.size} entries disagree)"
            )
            return _fail(msg, raise_exception)
    return True


def _fail(msg: str, raise_exception: bool) -> bool:
    if raise_exception:
        raise GradcheckError(msg)
    return False
