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

from typing import Callable, Iterable

from ..autodiff.backend import get_array_module
from ..autodiff.tensor import Tensor, bump_version

Schedule = Callable[[int], float]


class Optimizer:
    """Holds the parameters and per-parameter state; subclasses define ``_update``.

    ``lr`` is a float or a schedule ``step -> lr`` (see ``minivi.optim.schedules``), called
    with the number of steps taken so far (0 at the first step). Parameters whose
    ``grad`` is None are skipped.
    """

    def __init__(self, params: Iterable[Tensor], lr: float | Schedule, weight_decay: float = 0.0):
        if isinstance(params, Tensor):
            raise TypeError("pass an iterable of tensors, e.g. model.parameters() or [w, b], not a single Tensor")
        unique: dict[int, Tensor] = {}
        for p in params:
            if not isinstance(p, Tensor) or not p.requires_grad or not p.is_leaf:
                raise TypeError(f"optimisers update leaf tensors with requires_grad=True; got {p!r:.80} "
                                "(make parameters with nn.Parameter(...) or mv.tensor(..., requires_grad=True))")
            unique.setdefault(id(p), p)
        if not unique:
            raise ValueError("the optimiser got no parameters (did the model define any?)")
        if not callable(lr) and not lr > 0:
            raise ValueError(f"the learning rate must be positive, got lr={lr}")
        if weight_decay < 0:
            raise ValueError(f"weight_decay is a prior precision λ >= 0, got {weight_decay}")
        self.params = list(unique.values())
        self.lr = lr
        self.weight_decay = weight_decay
        self.state: list[dict] = [{} for _ in self.params]
        self.steps = 0

    def current_lr(self) -> float:
        """The learning rate of the next step: ``lr`` or ``lr(steps)``."""
        return float(self.lr(self.steps)) if callable(self.lr) else self.lr

    def zero_grad(self) -> None:
        """Forget the gradients (``p.grad = None``); call before each ``backward``."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient, in place."""
        lr = self.current_lr()
        self.steps += 1
        for p, state in zip(self.params, self.state):
            if p.grad is None:
                continue
            g = p.grad.data
            if self.weight_decay:                              # g ← g + λ w  (the Gaussian prior's gradient)
                buf = self._array(state, "decayed_grad", p.data)
                get_array_module(buf).multiply(p.data, self.weight_decay, out=buf)
                buf += g
                g = buf
            self._update(p.data, g, state, lr)
            bump_version(p)                                    # graphs that saved the old p now refuse backward

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
