"""minivi: Bayesian reasoning and deep learning, built from scratch.

    import minivi as mv
    x = mv.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()          # x.grad == 2 x

The engine lives in ``minivi.autodiff``; each later layer of the talk
("Bayesian Reasoning and Deep Learning", Mohamed 2015) is a module on top of it.
"""
from .autodiff import *  # noqa: F401,F403 - the engine's public names are minivi's
from .autodiff import linalg  # noqa: F401
from . import data, distributions, glm, nn, optim, plot, train  # noqa: E402 - the layers built on the engine
from . import vi  # noqa: E402,F401 - chapter 07: variational inference
from . import estimators  # noqa: E402,F401 - chapter 08: Monte Carlo gradient estimators
from . import flows  # noqa: E402,F401 - chapter 12: normalising flows
from .train import History, fast_mode, fit, pick  # noqa: F401

__version__ = "0.1.0"


def check(name, obj):
    """Run the public checks of exercise ``name`` (e.g. "01.vjp_mul") on your ``obj``."""
    from .grading import check as _check

    return _check(name, obj)
