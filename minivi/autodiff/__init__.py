"""The engine: tensors, primitive operations with VJPs, CPU/GPU backends, gradcheck.

Where things are (one idea per file):
    tensor.py       Tensor, the operator table (a + b -> add), backward and the reverse sweep
    grad_mode.py    no_grad, enable_grad (thread-local, re-entrant)
    primitive.py    the machinery: primitive(), defvjp(), unbroadcast()
    elementwise.py  + - * / ** exp log tanh sigmoid ... : each forward next to its VJP rule
    reductions.py   sum mean var std max min norm cumsum logsumexp softmax log_softmax
    shape.py        reshape transpose indexing concatenate stack diagonal tril triu astype
    linalg.py       matmul einsum tensordot outer trace, and mv.linalg (cholesky, solve, ...)
    functional.py   grad value_and_grad jacobian hessian autograd_grad
    config.py       mv.config(): backend, defaults, memory tuning
"""
from . import tensor as _tensor  # noqa: F401 - first: the operation files need Tensor
from . import backend, creation, elementwise, functional, gradcheck, linalg, memory, primitive as _primitive_module  # noqa: F401
from . import random, reductions, shape
from .backend import *  # noqa: F401,F403
from .config import config
from .creation import *  # noqa: F401,F403
from .draw import draw_graph
from .elementwise import *  # noqa: F401,F403
from .functional import *  # noqa: F401,F403
from .gradcheck import GradcheckError, gradcheck, numerical_gradient
from .linalg import einsum, matmul, outer, tensordot, trace
from .primitive import broadcast_to, defvjp, defvjp_argnum, primitive, sum_to, unbroadcast
from .random import default_rng, rand, randn
from .reductions import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from .tensor import Tensor, backprop, bump_version, enable_grad, is_grad_enabled, no_grad, tensor, topological_order

__all__ = (
    ["linalg", "config", "draw_graph", "GradcheckError", "gradcheck", "numerical_gradient", "default_rng", "rand",
     "randn", "Tensor", "backprop", "bump_version", "enable_grad", "is_grad_enabled", "no_grad", "tensor",
     "topological_order", "primitive", "defvjp", "defvjp_argnum", "unbroadcast", "einsum", "matmul", "outer",
     "tensordot", "trace"]
    + backend.__all__ + creation.__all__ + elementwise.__all__ + reductions.__all__ + shape.__all__
    + functional.__all__
)
