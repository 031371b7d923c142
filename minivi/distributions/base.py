"""The interface every distribution shares (PyTorch's names), and the checks they all use.

A distribution is a *batch* of independent random variables: its parameters are tensors
that broadcast to ``batch_shape``, and

    log_prob(y)                  log p(y | θ), elementwise, differentiable in θ
    sample(rng, sample_shape)    y ~ p(y | θ), a constant tensor of shape sample_shape + batch_shape
    rsample(rng, sample_shape)   y = f(θ, ε) with ε ~ p(ε): differentiable in θ (reparameterisation)
    mean, variance, entropy()    closed forms where they exist

Randomness only ever comes from the ``rng`` you pass (``mv.default_rng(seed)``).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import autodiff as mv
from ..autodiff import Tensor
from ..autodiff.backend import get_array_module
from ..autodiff.random import rng_device

Shape = tuple[int, ...]
LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


class Distribution:
    """A batch of independent random variables with a density (or mass) function.

    Subclasses set ``params`` (the names of their parameter tensors), call
    ``self._set_params(...)`` in ``__init__``, and write ``log_prob`` with stable ops.
    ``validate_args=True`` checks parameters and observed values (a cheap test on
    ``.data``) and raises a ``ValueError`` that says what was wrong.
    """

    params: tuple[str, ...] = ()
    neg_inf_ok: tuple[str, ...] = ()   # parameters allowed to hold -inf (a log-probability of 0)

    def __init__(self, validate_args: bool = True) -> None:
        self.validate_args = validate_args

    # --- parameters -----------------------------------------------------------------------
    def _set_params(self, event_dims: dict[str, int] | None = None, **values: Any) -> None:
        """Store parameters as tensors of one dtype and device; set ``batch_shape``.

        Numbers and arrays take the dtype/device of the first Tensor parameter (or the
        default dtype when there is none). Parameters given only as numbers or arrays
        are *constant*: such a distribution adapts to the dtype of the values it scores,
        so ``Normal(0.0, 1.0).log_prob(w)`` works for float32 and float64 ``w`` alike.
        ``event_dims`` names parameters whose last axes are not batch axes (class logits).
        """
        event_dims = event_dims or {}
        like = next((v for v in values.values() if isinstance(v, Tensor)), None)
        self._constant = like is None
        # constant parameters keep their given values, so a later float64 copy is exact (0.3, not float32's 0.3000000119)
        self._given = dict(values) if self._constant else {}
        shapes = {}
        for name, v in values.items():
            if isinstance(v, Tensor):
                if (v.dtype, v.device) != (like.dtype, like.device):
                    raise TypeError(
                        f"{type(self).__name__}: parameter {name!r} is {v.dtype} on {v.device} but "
                        f"another is {like.dtype} on {like.device}; convert them to one dtype/device first."
                    )
            else:
                v = _as_tensor(v, f"{type(self).__name__}: parameter {name}", like)
            k = event_dims.get(name, 0)
            if v.ndim < k:
                raise ValueError(f"{type(self).__name__}: {name} needs a last axis (e.g. of classes), "
                                 f"got shape {v.shape}")
            if self.validate_args:
                self._check_finite(name, v)
            setattr(self, name, v)
            shapes[name] = v.shape[: v.ndim - k]
        self._names = tuple(values)
        self.batch_shape = self._broadcast(**shapes)

    def _check_finite(self, name: str, v: Tensor) -> None:
        """A parameter may not be NaN, nor ±inf (except -inf where ``neg_inf_ok`` names it: a logit of log 0)."""
        xp = get_array_module(v.data)
        if bool(xp.isnan(v.data).any()):
            raise ValueError(f"{type(self).__name__}: {name} contains NaN (check what computed it)")
        bad = xp.isposinf(v.data) if name in self.neg_inf_ok else xp.isinf(v.data)
        if bool(bad.any()):
            raise ValueError(
                f"{type(self).__name__}: {name} contains {'+inf' if name in self.neg_inf_ok else 'inf'}; "
                "parameters must be finite (check what computed it, e.g. exp(·) overflowing: use log-space "
                "parameters or clip)."
            )

    def _derive(self) -> None:
        """Compute the parameters that were not given from those that were (e.g. logits from probs).

        Called by ``__init__`` and again when constant parameters follow a value's dtype,
        so a derived parameter is never a float32 rounding of a float64 value.
        """

    def _broadcast(self, **shapes: Shape) -> Shape:
        try:
            return tuple(np.broadcast_shapes(*shapes.values()))
        except ValueError:
            described = ", ".join(f"{k} {s}" for k, s in shapes.items())
            raise ValueError(
                f"{type(self).__name__}: shapes do not broadcast ({described}). Give arrays whose shapes "
                "agree from the right, or add axes of size 1 (e.g. x[:, None])."
            ) from None

    @property
    def _like(self) -> Tensor:
        return next(getattr(self, n) for n in self.params if hasattr(self, n))

    @property
    def dtype(self):
        return self._like.dtype

    @property
    def device(self) -> str:
        return self._like.device

    def _xp(self):
        return get_array_module(self._like.data)

    def _check(self, ok: Any, message: str) -> None:
        """Raise ``ValueError(message)`` unless every entry of ``ok`` holds (when validating)."""
        if self.validate_args and not bool(self._xp().all(ok)):
            raise ValueError(f"{type(self).__name__}: {message}")

    def _value(self, value: Any) -> Tensor:
        """An observed value as a tensor of the parameters' dtype and device (shape- and NaN/inf-checked)."""
        if isinstance(value, Tensor):
            self._follow(value, "the value")
        else:
            value = _as_tensor(value, f"{type(self).__name__}.log_prob(value)", self._like)
        self._broadcast(value=value.shape, batch_shape=self.batch_shape)
        self._check(self._xp().isfinite(value.data), "log_prob(value): the value contains NaN or inf; "
                    "every support here is finite (check what computed it, or mask those entries out)")
        return value

    def _follow(self, like: Tensor, what: str) -> None:
        """Match ``like``'s dtype and device: constant parameters are converted, others must agree."""
        if (like.dtype, like.device) == (self.dtype, self.device):
            return
        if not self._constant:
            raise TypeError(
                f"{type(self).__name__}: {what} is {like.dtype} on {like.device} but the parameters are "
                f"{self.dtype} on {self.device}; convert one of them (.astype('{self.dtype}') or .to('{self.device}'))."
            )
        for name in self._names:  # the given values, converted once from the originals (exact in float64)
            setattr(self, name, mv.tensor(self._given[name], dtype=like.dtype, device=like.device))
        self._derive()  # derived parameters are recomputed in the new dtype, not converted

    # --- sampling -----------------------------------------------------------------------
    def _shape(self, rng: Any, sample_shape: int | Shape) -> Shape:
        """``sample_shape + batch_shape``, after checking ``rng`` (call it before any use of ``rng``)."""
        name = type(self).__name__
        try:
            device = rng_device(rng)
        except TypeError as err:
            raise TypeError(f"{name}.sample/rsample(rng, sample_shape): {err}. Pass the generator first, "
                            "e.g. dist.sample(mv.default_rng(0), (100,)).") from None
        if device != self.device:
            raise RuntimeError(
                f"{name}: rng draws on {device} but the parameters live on "
                f"{self.device}; use mv.default_rng(seed, device='{self.device}')."
            )
        shape = (sample_shape,) if isinstance(sample_shape, (int, np.integer)) else sample_shape
        if not isinstance(shape, (tuple, list)) or not all(
                isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 0 for n in shape):
            raise TypeError(f"{name}.sample: sample_shape must be an int or a tuple of non-negative ints, "
                            f"e.g. 100 or (100,), got {sample_shape!r}")
        return tuple(int(n) for n in shape) + self.batch_shape

    def _wrap(self, array: Any) -> Tensor:
        """A constant tensor in our dtype from a freshly drawn array."""
        return Tensor._wrap(self._xp().asarray(array).astype(self.dtype, copy=False))

    def sample(self, rng: Any, sample_shape: int | Shape = ()) -> Tensor:
        """Draw y ~ p(y | θ): a constant tensor of shape ``sample_shape + batch_shape``."""
        with mv.no_grad():
            return self.rsample(rng, sample_shape).detach()

    def rsample(self, rng: Any, sample_shape: int | Shape = ()) -> Tensor:
        """A reparameterised draw y = f(θ, ε), differentiable with respect to θ."""
        raise NotImplementedError(
            f"{type(self).__name__} has no reparameterised sampler: use sample() (no gradient) "
            "or a score-function estimator."
        )

    # --- summaries ----------------------------------------------------------------------
    def log_prob(self, value: Any) -> Tensor:
        raise NotImplementedError

    @property
    def mean(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no closed-form mean here")

    @property
    def variance(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no closed-form variance here")

    @property
    def stddev(self) -> Tensor:
        return mv.sqrt(self.variance)

    def entropy(self) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no closed-form entropy here")

    def __repr__(self) -> str:
        shapes = ", ".join(f"{n}: {getattr(self, n).shape}" for n in self.params)
        return f"{type(self).__name__}({shapes})"


def _as_tensor(v: Any, what: str, like: Tensor | None) -> Tensor:
    """A number, list or array as a tensor (of ``like``'s dtype and device), with a clear error otherwise."""
    if v is None or isinstance(v, (str, bytes)):
        raise TypeError(f"{what} must be a number, array or Tensor, got {v!r}")
    try:
        return mv.tensor(v, dtype=like.dtype, device=like.device) if like is not None else mv.tensor(v)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{what} must be a number, array or Tensor of numbers; converting "
                        f"{type(v).__name__} {v!r:.60} failed ({err})") from None


def integer_labels(dist: Distribution, value: Any, n_classes: int) -> Any:
    """Class labels as an integer array on the distribution's device, checked to lie in 0..K-1."""
    xp = dist._xp()
    y = xp.asarray(value.data if isinstance(value, Tensor) else value)
    if y.dtype.kind == "b":
        y = y.astype(np.int64)
    if y.dtype.kind == "f":
        dist._check(xp.isfinite(y), "labels contain NaN or inf; labels are class indices 0..K-1")
        dist._check(y == xp.floor(y), "labels must be whole numbers (class indices 0..K-1)")
        y = y.astype(np.int64)
    elif y.dtype.kind not in "iu":
        raise TypeError(f"{type(dist).__name__}: labels must be integers, got dtype {y.dtype}")
    dist._check((y >= 0) & (y < n_classes), f"labels must lie in 0..{n_classes - 1} (K = {n_classes} classes)")
    if y.ndim > len(dist.batch_shape) and y.shape[-1] == n_classes and y.ndim > 1:
        try:
            np.broadcast_shapes(y.shape, dist.batch_shape)
        except ValueError:
            raise ValueError(f"{type(dist).__name__}: labels of shape {y.shape} look one-hot; log_prob takes class "
                             f"indices of shape {dist.batch_shape}: pass y.argmax(axis=-1)") from None
    dist._broadcast(labels=y.shape, batch_shape=dist.batch_shape)
    return y


def take_class(log_probs: Tensor, labels: Any) -> Tensor:
    """``log_probs[..., y]``: pick each label's entry along the last (class) axis.

    ``log_probs`` has shape batch + (K,) and ``labels`` broadcasts against batch.
    """
    xp = get_array_module(log_probs.data)
    k = log_probs.shape[-1]
    shape = tuple(np.broadcast_shapes(labels.shape, log_probs.shape[:-1]))
    table = mv.broadcast_to(log_probs, shape=shape + (k,)).reshape(-1, k)
    flat = xp.broadcast_to(labels, shape).reshape(-1)
    return table[xp.arange(flat.size), flat].reshape(shape)
