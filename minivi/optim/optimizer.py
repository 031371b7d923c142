"""The optimiser base class: parameters, a learning rate (or schedule) and weight decay as a prior.

An optimiser changes ``p.data`` in place, outside the graph, using the gradients that
``loss.backward()`` left in ``p.grad``::

    opt = Adam(model.parameters(), lr=1e-3)
    for x, y in batches:
        opt.zero_grad()
        loss_fn(x, y).backward()
        opt.step()

Weight decay λ is MAP estimation with a Gaussian prior w ~ N(0, 1/λ) on every parameter:

    −log p(w) = (λ/2) ‖w‖² + const,      ∇_w[−log p(w)] = λ w,

so ``weight_decay=λ`` adds λ w to the gradient, exactly as if (λ/2) ‖w‖² were added to the
loss. If your loss is the *mean* negative log-likelihood over N data points, the prior
N(0, 1/λ) corresponds to ``weight_decay = λ / N``.
"""
from __future__ import annotations

import math
from typing import Callable, Iterable

import numpy as np

from ..autodiff.backend import get_array_module
from ..autodiff.tensor import Tensor, bump_version

Schedule = Callable[[int], float]


class Optimizer:
    """Holds the parameters and per-parameter state; subclasses define ``_update``.

    ``params`` is an iterable of tensors (``model.parameters()``) or of ``(name, tensor)``
    pairs (``model.named_parameters()``: error messages then use the names). ``lr`` is a
    float or a schedule ``step -> lr`` (see ``minivi.optim.schedules``), called with the
    number of steps taken so far (0 at the first step). Parameters whose ``grad`` is None
    are skipped. ``step`` refuses NaN or inf gradients (they would silently ruin the
    weights) unless ``check_finite=False``.
    """

    def __init__(self, params: Iterable[Tensor], lr: float | Schedule, weight_decay: float = 0.0,
                 check_finite: bool = True):
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(f"{name}: pass an iterable of tensors, e.g. model.parameters() or [w, b], "
                            "not a single Tensor (wrap it: [w])")
        if hasattr(params, "parameters") and callable(params.parameters):
            raise TypeError(f"{name}: got the model {type(params).__name__} itself; pass its parameters: "
                            f"{name}(model.parameters(), lr=...)")
        try:
            items = list(params)
        except TypeError:
            raise TypeError(f"{name}: params must be an iterable of tensors such as model.parameters(), "
                            f"got {type(params).__name__}") from None
        unique: dict[int, Tensor] = {}
        names: dict[int, str] = {}
        for i, p in enumerate(items):
            label = f"parameter {i}"
            if isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str):  # named_parameters()
                label, p = p
            if not isinstance(p, Tensor) or not p.requires_grad or not p.is_leaf:
                raise TypeError(f"{name}: optimisers update leaf tensors with requires_grad=True; {label} is "
                                f"{p!r:.80} (make parameters with nn.Parameter(...) or mv.tensor(..., "
                                "requires_grad=True))")
            unique.setdefault(id(p), p)
            names.setdefault(id(p), label)
        if not unique:
            raise ValueError(f"{name}: the optimiser got no parameters (did the model define any?)")
        if not callable(lr):
            _check_lr(lr, name)
            if lr == 0:
                raise ValueError(f"{name}: the learning rate must be positive, got lr={lr}")
        if isinstance(weight_decay, (str, bytes)) or not isinstance(weight_decay, (int, float, np.number)):
            raise TypeError(f"{name}: weight_decay must be a number λ >= 0 (a prior precision), got {weight_decay!r}")
        if not weight_decay >= 0:
            raise ValueError(f"{name}: weight_decay is a prior precision λ >= 0, got {weight_decay}")
        self.params = list(unique.values())
        self.names = [names[id(p)] for p in self.params]
        self.lr = lr if callable(lr) else float(lr)
        self.weight_decay = weight_decay
        self.check_finite = check_finite
        self.state: list[dict] = [{} for _ in self.params]
        self.steps = 0

    def current_lr(self) -> float:
        """The learning rate of the next step: ``lr`` or ``lr(steps)`` (a schedule must give a number ≥ 0)."""
        if not callable(self.lr):
            return self.lr
        return _check_lr(self.lr(self.steps), f"{type(self).__name__}: the lr schedule at step {self.steps}")

    def zero_grad(self) -> None:
        """Forget the gradients (``p.grad = None``); call before each ``backward``."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient, in place."""
        todo = [(p, s, n) for p, s, n in zip(self.params, self.state, self.names) if p.grad is not None]
        if not todo:
            raise RuntimeError(
                f"{type(self).__name__}.step(): no parameter has a gradient (every .grad is None), so there "
                "is nothing to do. Did you call loss.backward() before step() (and after zero_grad())? Is the "
                "loss computed from these parameters, outside mv.no_grad()?"
            )
        for p, _, label in todo:
            if p.grad.shape != p.shape:
                raise ValueError(f"{type(self).__name__}.step(): the gradient of {label} has shape {p.grad.shape} "
                                 f"but the parameter has shape {p.shape}; a gradient set by hand must match it.")
        if self.check_finite:
            self._check_finite(todo)
        lr = self.current_lr()
        self.steps += 1
        for p, state, _ in todo:
            g = p.grad.data
            if self.weight_decay:                              # g ← g + λ w  (the Gaussian prior's gradient)
                buf = self._array(state, "decayed_grad", p.data)
                get_array_module(buf).multiply(p.data, self.weight_decay, out=buf)
                buf += g
                g = buf
            self._update(p.data, g, state, lr)
            bump_version(p)                                    # graphs that saved the old p now refuse backward

    def _check_finite(self, todo: list) -> None:
        """Raise before any update if a gradient holds NaN or inf (one fast dot product per gradient)."""
        with np.errstate(over="ignore", invalid="ignore"):  # an overflowing ‖g‖² is re-checked entry by entry
            norms = [get_array_module(p.grad.data).vdot(p.grad.data, p.grad.data) for p, _, _ in todo]
            if math.isfinite(float(sum(norms))):                # ‖g‖² is NaN or inf if any entry is
                return
        for p, _, label in todo:
            g = p.grad.data
            xp = get_array_module(g)
            bad = ~xp.isfinite(g)
            if bool(bad.any()):
                raise FloatingPointError(
                    f"{type(self).__name__}.step(): the gradient of {label} (shape {p.shape}, {p.dtype}) has "
                    f"{int(bad.sum())} NaN/inf entries of {g.size}; updating would put them into the weights. "
                    "Usual causes: a learning rate too large (the loss diverged), log or division of 0, exp "
                    "overflow; use stable ops (log_softmax, softplus, logsumexp), a smaller lr or gradient "
                    f"clipping. To update anyway pass check_finite=False to {type(self).__name__}(...)."
                )

    def _update(self, w, g, state: dict, lr: float) -> None:
        """Change the array ``w`` in place given its gradient array ``g``."""
        raise NotImplementedError

    @staticmethod
    def _array(state: dict, name: str, like):
        """A state array (zeros at first use) of ``like``'s shape, dtype and device."""
        if name not in state:
            state[name] = get_array_module(like).zeros_like(like)
        return state[name]

    def __repr__(self) -> str:
        n = sum(p.size for p in self.params)
        return f"{type(self).__name__}({len(self.params)} tensors, {n} numbers, lr={self.lr})"


def _check_lr(lr, where: str) -> float:
    """A learning rate must be a finite number ≥ 0 (a negative one would climb the loss)."""
    try:
        if isinstance(lr, (str, bytes)):
            raise TypeError
        value = float(lr)
    except (TypeError, ValueError):
        raise TypeError(f"{where}: a learning rate must be a number (or a schedule step -> number), "
                        f"got {type(lr).__name__} {lr!r:.40}") from None
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{where}: lr={value}, but a learning rate must be a finite number ≥ 0 "
                         "(a negative one ascends the loss). Check the schedule's formula and arguments.")
    return value
