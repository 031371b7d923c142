"""All of the engine's operations in one namespace (kept for ``from minivi.autodiff.ops import ...``).

The operations now live by kind, each forward next to its VJP rule:
``primitive.py`` (the machinery: primitive, defvjp, unbroadcast), ``elementwise.py``,
``reductions.py``, ``shape.py`` and ``linalg.py``. Read those files; this one only gathers names.
"""
from __future__ import annotations

import math  # noqa: F401

import numpy as np  # noqa: F401

from . import backend  # noqa: F401
from .backend import get_array_module, special  # noqa: F401
from .elementwise import *  # noqa: F401,F403
from .elementwise import _LOG_SQRT_2PI, _sp, clip_p, mills_ratio, mills_ratio_grad, where_p  # noqa: F401
from .linalg import einsum, matmul, matmul_p, outer, tensordot, trace  # noqa: F401
from .primitive import (_ArgnumRules, _lift, _mixing_error, as_mask, broadcast_to, broadcast_to_p, data_of,  # noqa: F401
                        defvjp, defvjp_argnum, norm_axis, primitive, sum_to, sum_to_p, unbroadcast, xp_of)
from .reductions import *  # noqa: F401,F403
from .reductions import (_expand, _keepdims_shape, _reduced_shape, cumsum_p, log_softmax_p, logsumexp_p,  # noqa: F401
                         max_p, softmax_p, sum_p)
from .shape import *  # noqa: F401,F403
from .tensor import Node, Tensor, _GradMode  # noqa: F401
from .shape import (_index, _is_advanced, _scatter, astype_p, concatenate_p, copy, getitem, getitem_p,  # noqa: F401
                    matrix_transpose, reshape_p, scatter, to_device, transpose_p)

# The names these operations had before the split (semi-public: notebooks and checks use some).
_xp, _data, _mask, _mT = xp_of, data_of, as_mask, matrix_transpose
_sum_to_p, _broadcast_to_p, _sum_p, _max_p, _reshape_p, _transpose_p = sum_to_p, broadcast_to_p, sum_p, max_p, reshape_p, transpose_p
_concatenate_p, _clip_p, _where_p, _matmul_p = concatenate_p, clip_p, where_p, matmul_p
_logsumexp_p, _softmax_p, _log_softmax_p = logsumexp_p, softmax_p, log_softmax_p


def _norm_axis(axis, ndim: int) -> tuple:
    return norm_axis(axis, ndim)


def _shape(x) -> tuple:
    from .tensor import Tensor

    return x.shape if isinstance(x, Tensor) else ()


# Private forward functions of the old single file, for code that imported them.
from .elementwise import _clip, _mills_ratio, _polygamma, _sigmoid, _softplus, _where  # noqa: E402,F401
from .primitive import _sum_to  # noqa: E402,F401
from .reductions import _log_softmax, _logsumexp, _max_vjp, _softmax  # noqa: E402,F401
from .shape import _astype, _concatenate_vjp  # noqa: E402,F401


def _install_operators() -> None:
    """The operators are now installed in tensor.py, beside Tensor (kept as a no-op)."""
