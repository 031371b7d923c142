"""The engine: tensors, primitive operations with VJPs, CPU/GPU backends, gradcheck."""
from . import linalg, memory  # noqa: F401 - memory: glibc keeps freed arrays for reuse
from .backend import (cupy_available, default_device, default_dtype, get_array_module, get_default_device,
                      get_default_dtype, set_default_dtype, set_device)
from .creation import arange, eye, full, ones, ones_like, zeros, zeros_like
from .draw import draw_graph
from .gradcheck import GradcheckError, gradcheck, numerical_gradient
from .ops import (abs, add, astype, broadcast_to, clip, concatenate, cos, defvjp, digamma, div, erf, exp,
                  expand_dims, expm1, gammaln, log, log1p, log_ndtr, log_sigmoid, log_softmax, logsumexp, matmul,
                  max, maximum, mean, min, minimum, mul, ndtr, neg, polygamma, power, primitive, relu, reshape,
                  sigmoid, sin, softmax, softplus, sqrt, square, squeeze, stack, stop_gradient, sub, sum, sum_to,
                  swapaxes, tanh, transpose, unbroadcast, var, where)
from .random import default_rng, rand, randn
from .tensor import (Tensor, autograd_grad, backprop, enable_grad, grad, is_grad_enabled, no_grad, tensor,
                     topological_order)

__all__ = [
    "linalg", "cupy_available", "default_device", "default_dtype", "get_array_module", "get_default_device",
    "get_default_dtype", "set_default_dtype", "set_device", "arange", "eye", "full", "ones", "ones_like", "zeros",
    "zeros_like", "draw_graph", "GradcheckError", "gradcheck", "numerical_gradient", "abs", "add", "astype",
    "broadcast_to", "clip", "concatenate", "cos", "defvjp", "digamma", "div", "erf", "exp", "expand_dims", "expm1",
    "gammaln", "log", "log1p", "log_ndtr", "log_sigmoid", "log_softmax", "logsumexp", "matmul", "max", "maximum",
    "mean", "min", "minimum", "mul", "ndtr", "neg", "polygamma", "power", "primitive", "relu", "reshape", "sigmoid",
    "sin", "softmax", "softplus", "sqrt", "square", "squeeze", "stack", "stop_gradient", "sub", "sum", "sum_to",
    "swapaxes", "tanh", "transpose", "unbroadcast", "var", "where", "default_rng", "rand", "randn", "Tensor",
    "autograd_grad", "backprop", "enable_grad", "grad", "is_grad_enabled", "no_grad", "tensor", "topological_order",
]
