"""Optimisers that update parameters in place from their gradients, and learning-rate schedules.

    opt = optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)   # weight decay = Gaussian prior (MAP)
    opt.zero_grad(); loss.backward(); opt.step()
"""
from .adam import Adam
from .optimizer import Optimizer
from .schedules import constant, cosine, exponential_decay, step_decay
from .sgd import SGD

__all__ = ["Adam", "Optimizer", "SGD", "constant", "cosine", "exponential_decay", "step_decay"]
