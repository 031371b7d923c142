"""Neural networks as recursive GLMs: modules, layers, activations, dropout and batch norm.

    from minivi import nn
    model = nn.MLP([784, 512, 10], activation="relu", rng=np.random.default_rng(0))
    logits = model(x)                     # x: (n, 784)
    model.parameters()                    # hand these to an optimiser
    model.save("mlp.npz"); model.load("mlp.npz")
"""
from . import init
from .activations import (ACTIVATIONS, Activation, Identity, LogSoftmax, ReLU, Sigmoid, Softmax, Softplus, Tanh,
                          exp, get_activation, identity, log_softmax, probit, relu, sigmoid, softmax, softplus, tanh)
from .batchnorm import BatchNorm
from .dropout import Dropout
from .layers import MLP, Linear, Sequential
from .lstm import LSTMCell  # chapter 12 (DRAW)
from .module import Module, Parameter

__all__ = [
    "ACTIVATIONS", "Activation", "BatchNorm", "LSTMCell", "Dropout", "Identity", "Linear", "LogSoftmax", "MLP", "Module",
    "Parameter", "ReLU", "Sequential", "Sigmoid", "Softmax", "Softplus", "Tanh", "exp", "get_activation",
    "identity", "init", "log_softmax", "probit", "relu", "sigmoid", "softmax", "softplus", "tanh",
]
