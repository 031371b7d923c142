"""Layers: ``Linear`` (the GLM's linear predictor), ``Sequential`` and ``MLP`` (recursive GLMs)."""
from __future__ import annotations

from typing import Callable, Sequence

from ..autodiff.random import rng_device
from ..autodiff.tensor import Tensor
from .activations import get_activation, relu
from .batchnorm import BatchNorm
from .dropout import Dropout
from .init import get_initializer, zeros
from .module import Module


class Linear(Module):
    """The linear predictor of a GLM for a batch of row vectors:

        η = x W + b,        x: (n, in_features),  W: (in_features, out_features),  b: (out_features,)

    (one row of η is the talk's η = wᵀx + b, one column of W per output). Note that W is
    stored (in, out), the transpose of PyTorch's ``weight``.

    Parameters
    ----------
    in_features, out_features : int
    bias : bool
        Learn b (otherwise η = x W).
    rng : numpy.random.Generator
        Draws the initial W; W and b live on its device.
    init : "glorot", "he" or a function ``init(fan_in, fan_out, *, rng) -> Tensor``
        Glorot suits tanh/sigmoid/identity layers, He suits ReLU layers (see ``minivi.nn.init``).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *, rng,
                 init: str | Callable = "glorot"):
        rng_device(rng)  # a clear TypeError when rng is missing or not a Generator
        self.in_features = in_features
        self.out_features = out_features
        self.W = get_initializer(init)(in_features, out_features, rng=rng)
        self.b = zeros(out_features, device=self.W.device) if bias else None

    def forward(self, x: Tensor) -> Tensor:
        if type(x) is not Tensor:  # data as a NumPy array: use the layer's dtype
            x = Tensor(x, dtype=self.W.dtype)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"Linear({self.in_features} → {self.out_features}) got input of shape {x.shape}: its last axis "
                f"must have {self.in_features} features (flatten images first: x.reshape(len(x), -1))"
            )
        eta = x @ self.W
        return eta + self.b if self.b is not None else eta

    def extra_repr(self) -> str:
        return f"{self.in_features} → {self.out_features}" + ("" if self.b is not None else ", bias=False")


class Sequential(Module):
    """Apply layers in order: ``Sequential(f, g, h)(x) = h(g(f(x)))``. Index it like a list."""

    def __init__(self, *layers: Module | Callable):
        self.layers = list(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x

    def __getitem__(self, i: int):
        return self.layers[i]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)


class MLP(Sequential):
    """A multi-layer perceptron: a *recursive generalised linear model*.

    Each layer is a GLM whose input is the previous layer's mean,

        h_l(x) = g_l(x W_l + b_l),         E[y] = h_L ∘ … ∘ h_1 ∘ h_0(x),

    with the activation g_l (an inverse link) on every hidden layer and
    ``output_activation`` on the last, chosen for the likelihood of y (None: identity, for
    logits or real-valued means). ``layers`` is the flat list
    Linear → [BatchNorm] → activation → [Dropout] → … → Linear → [output activation].

    Parameters
    ----------
    sizes : sequence of int
        Widths from input to output, e.g. ``[784, 512, 512, 10]``.
    activation : name, function or Module
        Hidden-layer activation ("relu", "tanh", "sigmoid", "softplus", ...).
    output_activation : name, function, Module or None
    rng : numpy.random.Generator
        Draws the initial weights and, when ``dropout > 0``, the dropout noise.
    dropout : float
        Drop rate p after every hidden activation (0 = none).
    dropout_kind : "binary" or "gaussian"
    batchnorm : bool
        BatchNorm after every hidden Linear (before its activation); those Linears get no bias.
    init : "glorot", "he", a function, or None
        None picks He for ReLU hidden layers and Glorot otherwise.
    """

    def __init__(self, sizes: Sequence[int], activation: str | Callable | Module = "relu",
                 output_activation: str | Callable | Module | None = None, *, rng, dropout: float = 0.0,
                 dropout_kind: str = "binary", batchnorm: bool = False, init: str | Callable | None = None):
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"MLP sizes must list at least an input and an output width (all >= 1), got {sizes}")
        if init is None:
            init = "he" if getattr(get_activation(activation), "fn", None) is relu else "glorot"
        layers: list[Module] = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            last = i == len(sizes) - 2
            layers.append(Linear(n_in, n_out, bias=last or not batchnorm, rng=rng, init="glorot" if last else init))
            if last:
                break
            if batchnorm:
                layers.append(BatchNorm(n_out, device=layers[-1].W.device))
            layers.append(get_activation(activation))
            if dropout > 0:
                layers.append(Dropout(dropout, dropout_kind, rng=rng))
        if output_activation is not None:
            layers.append(get_activation(output_activation))
        super().__init__(*layers)
        self.sizes = sizes

    def extra_repr(self) -> str:
        return " → ".join(map(str, self.sizes))
