"""Activation functions: the inverse link functions of generalised linear models.

In a GLM the mean of y is g(η) with η = x W + b; the talk calls g the *activation*. Each
row of the link table is an activation here:

=============  ========================  =====================  ======================
name           g(η)                      inverse link of        for targets that are
=============  ========================  =====================  ======================
identity       η                         identity link          real
sigmoid        1 / (1 + e^{−η})          logit link             binary
probit         Φ(η)                      probit link            binary
tanh           tanh(η) = 2σ(2η) − 1      (rescaled logit)       binary (±1)
softmax        e^{η_i} / Σ_j e^{η_j}     multinomial logit      categorical
exp            e^η                       log link               counts (Poisson)
softplus       log(1 + e^η)              (smooth ReLU)          positive values
relu           max(0, η)                 Tobit                  sparse, non-negative
=============  ========================  =====================  ======================

Each is available as a function (``relu(x)``) and as a module (``ReLU()``) for
building layer lists; ``get_activation("relu")`` turns a name or function into a module.
"""
from __future__ import annotations

from typing import Callable

from .. import autodiff as mv  # the engine (minivi re-exports these names as mv.*)
from ..autodiff.tensor import Tensor
from .module import Module


def identity(x: Tensor) -> Tensor:
    """g(η) = η."""
    return x


def softmax(x: Tensor) -> Tensor:
    """g(η)_i = e^{η_i} / Σ_j e^{η_j} over the last axis."""
    return mv.softmax(x, axis=-1)


def log_softmax(x: Tensor) -> Tensor:
    """log softmax(η) over the last axis: the log-probabilities of a categorical."""
    return mv.log_softmax(x, axis=-1)


relu, tanh, sigmoid, softplus, exp = mv.relu, mv.tanh, mv.sigmoid, mv.softplus, mv.exp
probit = mv.ndtr  # Φ(η), the standard normal CDF

ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "identity": identity, "linear": identity, "relu": relu, "tanh": tanh, "sigmoid": sigmoid,
    "softplus": softplus, "exp": exp, "probit": probit, "softmax": softmax, "log_softmax": log_softmax,
}


class Activation(Module):
    """An elementwise (or last-axis) function as a layer: ``forward(η) = fn(η)``; no parameters."""

    def __init__(self, fn: Callable[[Tensor], Tensor], name: str | None = None):
        self.fn = fn
        self.name = name or getattr(fn, "__name__", "activation")

    def forward(self, x: Tensor) -> Tensor:
        return self.fn(x)

    def extra_repr(self) -> str:
        return self.name if type(self) is Activation else ""


class Identity(Activation):
    def __init__(self):
        super().__init__(identity, "identity")


class ReLU(Activation):
    def __init__(self):
        super().__init__(relu, "relu")


class Tanh(Activation):
    def __init__(self):
        super().__init__(tanh, "tanh")


class Sigmoid(Activation):
    def __init__(self):
        super().__init__(sigmoid, "sigmoid")


class Softplus(Activation):
    def __init__(self):
        super().__init__(softplus, "softplus")


class Softmax(Activation):
    def __init__(self):
        super().__init__(softmax, "softmax")


class LogSoftmax(Activation):
    def __init__(self):
        super().__init__(log_softmax, "log_softmax")


_MODULES = {"identity": Identity, "linear": Identity, "relu": ReLU, "tanh": Tanh, "sigmoid": Sigmoid,
            "softplus": Softplus, "softmax": Softmax, "log_softmax": LogSoftmax}


def get_activation(spec: str | Callable | Module | None) -> Module:
    """A module for ``spec``: a name from ``ACTIVATIONS``, a function of a tensor, a Module, or None (identity)."""
    if spec is None:
        return Identity()
    if isinstance(spec, Module):
        return spec
    if isinstance(spec, str):
        if spec not in ACTIVATIONS:
            raise ValueError(f"unknown activation {spec!r}: use one of {sorted(ACTIVATIONS)} or pass a function")
        return _MODULES[spec]() if spec in _MODULES else Activation(ACTIVATIONS[spec], spec)
    if callable(spec):
        return Activation(spec)
    raise TypeError(f"activation must be a name, a function or a Module, not {type(spec).__name__}")
