"""Primitive operations, each with its vector-jacobian product (VJP).

Every primitive is a forward function on arrays plus one VJP rule per input:

    defvjp(mul, lambda g, ans, a, b: unbroadcast(g * b, a),
                lambda g, ans, a, b: unbroadcast(g * a, b))

reads "if y = a * b then ā = ȳ·b and b̄ = ȳ·a". A rule receives the upstream gradient
``g`` (= ∂L/∂y), the output ``ans`` (= y) and the inputs, all as tensors, and is written
with these same operations: so the backward pass can itself be differentiated
(``create_graph=True``). Binary rules ``unbroadcast`` their result: an input of shape
(10, 1) that was broadcast to (10, 5) receives a (10, 5) gradient summed back to (10, 1).

Numerical stability is part of each definition: softplus, log_sigmoid, logsumexp,
log_softmax and log_ndtr stay finite and correct at inputs of ±1e4.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np

from . import backend
from .backend import get_array_module, special
from .tensor import Node, Tensor, _GradMode

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


# ---------------------------------------------------------------------------------------
# The machinery: primitive() wraps a forward function; defvjp() attaches its VJP rules.
# ---------------------------------------------------------------------------------------
def _mixing_error(name: str, args: Sequence[Any]) -> Exception:
    ts = [a for a in args if isinstance(a, Tensor)]
    devices = sorted({t.device for t in ts})
    if len(devices) > 1:
        return RuntimeError(
            f"{name}: inputs live on different devices ({' and '.join(devices)}). minivi never copies "
            "between host and GPU behind your back: move one with .to('cuda') or .to('cpu')."
        )
    dtypes = ", ".join(str(t.dtype) for t in ts)
    return TypeError(
        f"{name}: inputs have different dtypes ({dtypes}); mixing them would silently compute in the "
        "wider one. Convert explicitly, e.g. mv.tensor(x, dtype='float32') or x.astype('float64')."
    )


def _lift(a: Any, like: Tensor | None) -> Any:
    """Python numbers stay numbers; arrays become constant tensors (same dtype/device checks)."""
    if type(a) is float or type(a) is int or type(a) is bool:
        return a
    if isinstance(a, np.generic) and a.ndim == 0:
        return a.item()  # a NumPy scalar would upcast float32 arrays to float64
    if isinstance(a, Tensor):
        return a
    xp = get_array_module(a)
    if like is None:
        return Tensor(a)
    if backend.device_of(a) != like.device:
        raise RuntimeError(
            f"an array on {backend.device_of(a)} was combined with a tensor on {like.device}: "
            "move it explicitly (mv.tensor(array, device=...))."
        )
    a = xp.asarray(a)
    if a.dtype.kind == "f" and a.dtype != like.dtype:
        raise TypeError(
            f"a {a.dtype} array was combined with a {like.dtype} tensor; convert it explicitly "
            f"(e.g. array.astype('{like.dtype}') or mv.tensor(array, dtype='{like.dtype}'))."
        )
    return Tensor._wrap(a.astype(like.dtype, copy=False))


def primitive(forward: Callable, name: str | None = None) -> Callable:
    """Turn ``forward(*arrays, **kwargs) -> array`` into an operation on tensors.

    Positional arguments are the differentiable inputs (tensors, or Python numbers
    used as constants); keyword arguments are static (axes, shapes, indices).
    """
    opname = name or forward.__name__

    def apply(*args, **kwargs):
        ref = None
        needs_grad = False
        datas = []
        for a in args:
            if type(a) is Tensor:
                if ref is None:
                    ref = a
                elif a.data.dtype != ref.data.dtype or (
                    backend._cupy is not None and type(a.data) is not type(ref.data)
                    and backend.device_of(a.data) != backend.device_of(ref.data)
                ):
                    raise _mixing_error(opname, args)
                needs_grad = needs_grad or a.requires_grad
                datas.append(a.data)
            elif type(a) is float or type(a) is int or type(a) is bool:
                datas.append(a)
            else:  # rare path: NumPy scalars or raw arrays among the inputs
                like = ref if ref is not None else next((x for x in args if isinstance(x, Tensor)), None)
                return apply(*[_lift(x, like) for x in args], **kwargs)
        out = Tensor._wrap(forward(*datas, **kwargs))
        if needs_grad and _GradMode.enabled:
            out.requires_grad = True
            out._node = Node(args, apply.vjps, kwargs, opname)
        return out

    apply.__name__ = opname
    apply.__qualname__ = opname
    apply.__doc__ = forward.__doc__
    apply.vjps = ()
    return apply


def defvjp(op: Callable, *rules: Callable) -> None:
    """Attach one VJP rule per positional input: ``rule(g, ans, *inputs, **kwargs)``."""
    op.vjps = rules


class _ArgnumRules:
    """For operations with a variable number of inputs (concatenate, stack):
    one rule ``rule(i, g, ans, *inputs, **kwargs)`` serves every input i."""

    def __init__(self, rule: Callable):
        self.rule = rule

    def __getitem__(self, i: int) -> Callable:
        return lambda g, ans, *inputs, **kw: self.rule(i, g, ans, *inputs, **kw)


def defvjp_argnum(op: Callable, rule: Callable) -> None:
    op.vjps = _ArgnumRules(rule)


def _xp(*arrays):
    for a in arrays:
        if not isinstance(a, (int, float)):
            return get_array_module(a)
    return np


def _shape(x) -> tuple:
    return x.shape if isinstance(x, Tensor) else ()


# ---------------------------------------------------------------------------------------
# Shapes: broadcasting, reductions and their reverses
# ---------------------------------------------------------------------------------------
def _sum_to(x, shape):
    """Sum ``x`` down to ``shape``: the reverse of broadcasting."""
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape) if n == 1 and x.shape[i + lead] != 1)
    y = x.sum(axis=axes, keepdims=True) if axes else x
    return y.reshape(shape) if lead or y.shape != tuple(shape) else y


_sum_to_p = primitive(_sum_to, "sum_to")
_broadcast_to_p = primitive(lambda x, shape: _xp(x).broadcast_to(x, shape), "broadcast_to")
defvjp(_sum_to_p, lambda g, ans, x, shape: _broadcast_to_p(g, shape=x.shape))
defvjp(_broadcast_to_p, lambda g, ans, x, shape: _sum_to_p(g, shape=x.shape))


def broadcast_to(x: Tensor, shape) -> Tensor:
    """Repeat ``x`` along new or size-1 axes to ``shape``. VJP: sum back (``sum_to``)."""
    return _broadcast_to_p(x, shape=tuple(shape))


def sum_to(x: Tensor, shape) -> Tensor:
    """Sum ``x`` down to ``shape`` (the reverse of broadcasting). VJP: ``broadcast_to``."""
    return _sum_to_p(x, shape=tuple(shape))


def unbroadcast(g: Tensor, x: Any) -> Tensor:
    """Reduce gradient ``g`` to the shape of input ``x`` (no-op when shapes agree)."""
    shape = _shape(x)
    return g if g.shape == shape else _sum_to_p(g, shape=shape)


def _norm_axis(axis, ndim: int) -> tuple:
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return tuple(sorted(a % ndim for a in axes)) if ndim else ()


def _keepdims_shape(shape: tuple, axis) -> tuple:
    axes = _norm_axis(axis, len(shape))
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _expand(g: Tensor, x: Tensor, axis, keepdims: bool) -> Tensor:
    """Undo a reduction's dropped axes so ``g`` broadcasts against ``x``."""
    return g if keepdims or axis is None and g.ndim == x.ndim else reshape(g, shape=_keepdims_shape(x.shape, axis))


def _sum(x, axis=None, keepdims=False):
    return x.sum(axis=axis, keepdims=keepdims)


_sum_p = primitive(_sum, "sum")
defvjp(_sum_p, lambda g, ans, x, axis=None, keepdims=False: _broadcast_to_p(_expand(g, x, axis, keepdims), shape=x.shape))


def sum(x: Tensor, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001 - NumPy's name
    """Σ over ``axis``. VJP: the upstream gradient is copied (broadcast) to every summand."""
    return _sum_p(x, axis=axis, keepdims=keepdims)


def mean(x: Tensor, axis=None, keepdims: bool = False) -> Tensor:
    """Average over ``axis``: sum / count."""
    n = x.size if axis is None else math.prod(x.shape[a] for a in _norm_axis(axis, x.ndim))
    return _sum_p(x, axis=axis, keepdims=keepdims) * (1.0 / n)


def var(x: Tensor, axis=None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """Variance over ``axis`` (biased with ddof=0)."""
    n = x.size if axis is None else math.prod(x.shape[a] for a in _norm_axis(axis, x.ndim))
    d = x - mean(x, axis=axis, keepdims=True)
    return _sum_p(d * d, axis=axis, keepdims=keepdims) * (1.0 / (n - ddof))


def _max(x, axis=None, keepdims=False):
    return x.max(axis=axis, keepdims=keepdims)


def _max_vjp(g, ans, x, axis=None, keepdims=False):
    """The gradient goes to the maximal entries (shared equally between ties)."""
    m = _expand(ans, x, axis, keepdims).data
    mask = x.data == m
    mask = mask / mask.sum(axis=axis, keepdims=True)
    return _expand(g, x, axis, keepdims) * mask.astype(x.dtype, copy=False)


_max_p = primitive(_max, "max")
defvjp(_max_p, _max_vjp)


def max(x: Tensor, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Largest entry over ``axis``; the gradient flows to the argmax."""
    return _max_p(x, axis=axis, keepdims=keepdims)


def min(x: Tensor, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Smallest entry over ``axis``: -max(-x)."""
    return -_max_p(-x, axis=axis, keepdims=keepdims)


def _reshape(x, shape):
    return x.reshape(shape)


_reshape_p = primitive(_reshape, "reshape")
defvjp(_reshape_p, lambda g, ans, x, shape: _reshape_p(g, shape=x.shape))


def reshape(x: Tensor, shape) -> Tensor:
    """Same entries, new shape. VJP: reshape back."""
    return _reshape_p(x, shape=tuple(shape) if not isinstance(shape, int) else (shape,))


def _transpose(x, axes=None):
    return x.transpose(axes)


_transpose_p = primitive(_transpose, "transpose")
defvjp(_transpose_p, lambda g, ans, x, axes=None: _transpose_p(g, axes=None if axes is None else tuple(np.argsort(axes))))


def transpose(x: Tensor, axes=None) -> Tensor:
    """Permute axes (reverse them by default). VJP: the inverse permutation."""
    return _transpose_p(x, axes=None if axes is None else tuple(axes))


def swapaxes(x: Tensor, a: int, b: int) -> Tensor:
    axes = list(range(x.ndim))
    axes[a], axes[b] = axes[b], axes[a]
    return _transpose_p(x, axes=tuple(axes))


def expand_dims(x: Tensor, axis: int) -> Tensor:
    shape = list(x.shape)
    shape.insert(axis % (x.ndim + 1), 1)
    return reshape(x, shape)


def squeeze(x: Tensor, axis=None) -> Tensor:
    axes = [i for i, n in enumerate(x.shape) if n == 1] if axis is None else list(_norm_axis(axis, x.ndim))
    return reshape(x, [n for i, n in enumerate(x.shape) if i not in axes])


# --- indexing -----------------------------------------------------------------------------
def _is_advanced(idx) -> bool:
    idx = idx if isinstance(idx, tuple) else (idx,)
    return any(not isinstance(i, (int, slice, type(None), type(Ellipsis))) for i in idx)


def _getitem(x, idx):
    return x[idx]


def _scatter(g, idx, shape):
    """Zeros of ``shape`` with ``g`` added at ``idx`` (repeated indices add up)."""
    xp = get_array_module(g)
    out = xp.zeros(shape, dtype=g.dtype)
    if _is_advanced(idx):
        if xp is np:
            np.add.at(out, idx, g)
        else:
            import cupyx

            cupyx.scatter_add(out, idx, g)
    else:
        out[idx] = g
    return out


getitem = primitive(_getitem, "getitem")
scatter = primitive(_scatter, "scatter")
defvjp(getitem, lambda g, ans, x, idx: scatter(g, idx=idx, shape=x.shape))
defvjp(scatter, lambda g, ans, x, idx, shape: getitem(g, idx=idx))


def _index(idx):
    """Tensors used as indices are read as their (integer or boolean) arrays."""
    if isinstance(idx, tuple):
        return tuple(_index(i) for i in idx)
    if isinstance(idx, Tensor):
        return idx.data
    if isinstance(idx, list):
        return np.asarray(idx)
    return idx


def _concatenate(*xs, axis=0):
    return _xp(*xs).concatenate(xs, axis=axis)


def _concatenate_vjp(i, g, ans, *xs, axis=0):
    start = int(np.sum([x.shape[axis] for x in xs[:i]])) if i else 0
    sl = [slice(None)] * g.ndim
    sl[axis] = slice(start, start + xs[i].shape[axis])
    return getitem(g, idx=tuple(sl))


_concatenate_p = primitive(_concatenate, "concatenate")
defvjp_argnum(_concatenate_p, _concatenate_vjp)


def concatenate(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis. VJP: slice the gradient back apart."""
    return _concatenate_p(*tensors, axis=axis % tensors[0].ndim)


def stack(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors along a new axis."""
    ax = axis % (tensors[0].ndim + 1)
    return concatenate([expand_dims(t, ax) for t in tensors], axis=ax)


# ---------------------------------------------------------------------------------------
# Arithmetic (broadcasting, with unbroadcast in every binary rule)
# ---------------------------------------------------------------------------------------
add = primitive(lambda a, b: a + b, "add")
sub = primitive(lambda a, b: a - b, "sub")
mul = primitive(lambda a, b: a * b, "mul")
div = primitive(lambda a, b: a / b, "div")
neg = primitive(lambda x: -x, "neg")
power = primitive(lambda a, b: a**b, "pow")

defvjp(add, lambda g, ans, a, b: unbroadcast(g, a), lambda g, ans, a, b: unbroadcast(g, b))
defvjp(sub, lambda g, ans, a, b: unbroadcast(g, a), lambda g, ans, a, b: unbroadcast(-g, b))
defvjp(mul, lambda g, ans, a, b: unbroadcast(g * b, a), lambda g, ans, a, b: unbroadcast(g * a, b))
defvjp(div, lambda g, ans, a, b: unbroadcast(g / b, a), lambda g, ans, a, b: unbroadcast(-g * ans / b, b))
defvjp(neg, lambda g, ans, x: -g)
defvjp(power,
       lambda g, ans, a, b: unbroadcast(g * b * a ** (b - 1), a),          # d(a^b)/da = b a^(b-1)
       lambda g, ans, a, b: unbroadcast(g * ans * log(a), b))              # d(a^b)/db = a^b log a


def _matmul2(a, b):
    return a @ b


_matmul_p = primitive(_matmul2, "matmul")
defvjp(_matmul_p,
       lambda g, ans, a, b: unbroadcast(_matmul_p(g, _mT(b)), a),          # Ā = Ḡ Bᵀ
       lambda g, ans, a, b: unbroadcast(_matmul_p(_mT(a), g), b))          # B̄ = Aᵀ Ḡ


def _mT(x: Tensor) -> Tensor:
    return _transpose_p(x, axes=None) if x.ndim == 2 else swapaxes(x, -1, -2)


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """Matrix product ``a @ b`` with NumPy's rules (1-D operands, batched leading axes)."""
    a, b = _lift(a, b if isinstance(b, Tensor) else None), _lift(b, a if isinstance(a, Tensor) else None)
    if a.ndim >= 2 and b.ndim >= 2:
        return _matmul_p(a, b)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("matmul: scalar operands are not allowed, use * instead")
    a2 = reshape(a, (1, -1)) if a.ndim == 1 else a
    b2 = reshape(b, (-1, 1)) if b.ndim == 1 else b
    out = _matmul_p(a2, b2)
    if b.ndim == 1:
        out = reshape(out, out.shape[:-1])
    if a.ndim == 1:
        out = reshape(out, out.shape[:-2] + out.shape[-1:])
    return out


# ---------------------------------------------------------------------------------------
# Elementwise functions
# ---------------------------------------------------------------------------------------
def _sp(name):
    """A scipy.special function for the array's backend, keeping its float dtype."""
    def f(x, **kw):
        y = getattr(special(get_array_module(x)), name)(x, **kw)
        return y.astype(x.dtype, copy=False) if hasattr(x, "dtype") else y
    f.__name__ = name
    return f


exp = primitive(lambda x: _xp(x).exp(x), "exp")
log = primitive(lambda x: _xp(x).log(x), "log")
log1p = primitive(lambda x: _xp(x).log1p(x), "log1p")
expm1 = primitive(lambda x: _xp(x).expm1(x), "expm1")
sqrt = primitive(lambda x: _xp(x).sqrt(x), "sqrt")
abs = primitive(lambda x: _xp(x).abs(x), "abs")  # noqa: A001
tanh = primitive(lambda x: _xp(x).tanh(x), "tanh")
def _sigmoid(x):
    """σ(x) = 1 / (1 + e^{-x}). Accurate in both tails: for x ≪ 0, e^{-x} is large and
    1/(1 + e^{-x}) keeps full relative precision; it reaches inf (σ = 0) only below the
    smallest float. Twice as fast as scipy's expit."""
    xp = _xp(x)
    if xp is np:
        with np.errstate(over="ignore"):
            return 1.0 / (1.0 + np.exp(-x))
    return 1.0 / (1.0 + xp.exp(-x))


def _softplus(x):
    """log(1 + e^x) = max(x, 0) + log1p(e^{-|x|}): never overflows (and faster than logaddexp)."""
    xp = _xp(x)
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


sigmoid = primitive(_sigmoid, "sigmoid")
softplus = primitive(_softplus, "softplus")
relu = primitive(lambda x: _xp(x).maximum(x, 0), "relu")
sin = primitive(lambda x: _xp(x).sin(x), "sin")
cos = primitive(lambda x: _xp(x).cos(x), "cos")
erf = primitive(_sp("erf"), "erf")
ndtr = primitive(_sp("ndtr"), "ndtr")                         # Φ(x), the standard normal CDF
log_ndtr = primitive(_sp("log_ndtr"), "log_ndtr")             # log Φ(x), stable in both tails
gammaln = primitive(_sp("gammaln"), "gammaln")                # log Γ(x)
digamma = primitive(_sp("digamma"), "digamma")                # ψ(x) = d log Γ(x) / dx


def _polygamma(x, n=1):
    sp = special(get_array_module(x))
    return sp.polygamma(n, x).astype(x.dtype, copy=False)


polygamma = primitive(_polygamma, "polygamma")                # ψ⁽ⁿ⁾(x)


def _mills_ratio(x):
    """r(x) = φ(x)/Φ(x), the derivative of log Φ, without cancellation in either tail.

    Computed in float64; for x < -20 the asymptotic series r ≈ -x / (1 - x⁻² + 3x⁻⁴ - 15x⁻⁶)
    avoids subtracting two huge log-densities.
    """
    xp = get_array_module(x)
    x64 = xp.asarray(x, dtype=xp.float64)
    far = x64 < -20
    safe = xp.where(far, 0.0, x64)
    direct = xp.exp(-0.5 * safe * safe - _LOG_SQRT_2PI - special(xp).log_ndtr(safe))
    xf = xp.where(far, x64, -1.0)
    z = 1.0 / (xf * xf)
    asym = -xf / (1.0 - z + 3.0 * z * z - 15.0 * z * z * z)
    return xp.where(far, asym, direct).astype(x.dtype, copy=False)


mills_ratio = primitive(_mills_ratio, "mills_ratio")
defvjp(mills_ratio, lambda g, r, x: g * (-x * r - r * r))                  # r' = -x r - r²


def _mask(cond, like: Tensor):
    return cond.astype(like.dtype, copy=False)


defvjp(exp, lambda g, ans, x: g * ans)                                    # (eˣ)' = eˣ
defvjp(log, lambda g, ans, x: g / x)                                      # (log x)' = 1/x
defvjp(log1p, lambda g, ans, x: g / (x + 1.0))
defvjp(expm1, lambda g, ans, x: g * (ans + 1.0))
defvjp(sqrt, lambda g, ans, x: g / (ans * 2.0))                           # (√x)' = 1/(2√x)
defvjp(abs, lambda g, ans, x: g * _mask(_xp(x.data).sign(x.data), x))
defvjp(tanh, lambda g, ans, x: g * (1.0 - ans * ans))                     # tanh' = 1 - tanh²
defvjp(sigmoid, lambda g, ans, x: g * ans * sigmoid(-x))                 # σ' = σ(x)σ(-x) = σ(1-σ), accurate in both tails
defvjp(softplus, lambda g, ans, x: g * sigmoid(x))                        # softplus' = σ
defvjp(relu, lambda g, ans, x: g * _mask(x.data > 0, x))
defvjp(sin, lambda g, ans, x: g * cos(x))
defvjp(cos, lambda g, ans, x: -g * sin(x))
defvjp(erf, lambda g, ans, x: g * (2.0 / math.sqrt(math.pi)) * exp(-x * x))
defvjp(ndtr, lambda g, ans, x: g * exp(-0.5 * x * x - _LOG_SQRT_2PI))   # Φ' = φ
defvjp(log_ndtr, lambda g, ans, x: g * mills_ratio(x))                  # (log Φ)' = φ/Φ
defvjp(gammaln, lambda g, ans, x: g * digamma(x))
defvjp(digamma, lambda g, ans, x: g * polygamma(x, n=1))
defvjp(polygamma, lambda g, ans, x, n=1: g * polygamma(x, n=n + 1))


def log_sigmoid(x: Tensor) -> Tensor:
    """log σ(x) = -softplus(-x): stable for any x (never log(sigmoid(x)))."""
    return -softplus(-x)


def square(x: Tensor) -> Tensor:
    return x * x


def _maximum(a, b):
    return _xp(a, b).maximum(a, b)


def _minimum(a, b):
    return _xp(a, b).minimum(a, b)


maximum = primitive(_maximum, "maximum")
minimum = primitive(_minimum, "minimum")
# Ties send the gradient to the first argument.
defvjp(maximum,
       lambda g, ans, a, b: unbroadcast(g * _mask(_data(a) >= _data(b), g), a),
       lambda g, ans, a, b: unbroadcast(g * _mask(_data(a) < _data(b), g), b))
defvjp(minimum,
       lambda g, ans, a, b: unbroadcast(g * _mask(_data(a) <= _data(b), g), a),
       lambda g, ans, a, b: unbroadcast(g * _mask(_data(a) > _data(b), g), b))


def _data(x):
    return x.data if isinstance(x, Tensor) else x


def _clip(x, lo=None, hi=None):
    return _xp(x).clip(x, lo, hi)


_clip_p = primitive(_clip, "clip")
defvjp(_clip_p, lambda g, ans, x, lo=None, hi=None: g * _mask(
    ((x.data >= lo) if lo is not None else True) & ((x.data <= hi) if hi is not None else True), x))


def clip(x: Tensor, lo: float | None = None, hi: float | None = None) -> Tensor:
    """Limit values to [lo, hi]; the gradient is zero where clipping happened."""
    return _clip_p(x, lo=lo, hi=hi)


def _where(a, b, cond):
    return _xp(a, b).where(cond, a, b)


_where_p = primitive(_where, "where")
defvjp(_where_p,
       lambda g, ans, a, b, cond: unbroadcast(g * _mask(cond, g), a),
       lambda g, ans, a, b, cond: unbroadcast(g * _mask(~cond, g), b))


def where(cond: Any, a: Any, b: Any) -> Tensor:
    """``a`` where ``cond`` else ``b`` (``cond`` is a boolean array; not differentiated)."""
    cond = cond.data if isinstance(cond, Tensor) else cond
    return _where_p(a, b, cond=cond.astype(bool, copy=False) if hasattr(cond, "astype") else cond)


# ---------------------------------------------------------------------------------------
# Normalisers: logsumexp, softmax, log_softmax
# ---------------------------------------------------------------------------------------
def _logsumexp(x, axis=None, keepdims=False):
    """log Σ exp(x) = m + log Σ exp(x - m), with m = max(x): never overflows."""
    xp = get_array_module(x)
    m = x.max(axis=axis, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)
    out = xp.log(xp.exp(x - m).sum(axis=axis, keepdims=True)) + m
    return out if keepdims else out.reshape(_reduced_shape(x.shape, axis))


def _reduced_shape(shape, axis):
    axes = _norm_axis(axis, len(shape))
    return tuple(n for i, n in enumerate(shape) if i not in axes)


_logsumexp_p = primitive(_logsumexp, "logsumexp")
# ∂ logsumexp(x) / ∂x = softmax(x) (computed from x - max(x), as accurate as the forward pass)
defvjp(_logsumexp_p, lambda g, ans, x, axis=None, keepdims=False:
       _expand(g, x, axis, keepdims) * _softmax_p(x, axis=_norm_axis(axis, x.ndim)))


def logsumexp(x: Tensor, axis=None, keepdims: bool = False) -> Tensor:
    """log Σᵢ exp(xᵢ) over ``axis``, computed stably."""
    return _logsumexp_p(x, axis=axis, keepdims=keepdims)


def _log_softmax(x, axis=-1):
    return x - _logsumexp(x, axis=axis, keepdims=True)


def _softmax(x, axis=-1):
    xp = get_array_module(x)
    e = xp.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


_log_softmax_p = primitive(_log_softmax, "log_softmax")
_softmax_p = primitive(_softmax, "softmax")
# y = x - lse(x):  x̄ = ȳ - softmax(x) Σ ȳ
defvjp(_log_softmax_p, lambda g, ans, x, axis=-1: g - exp(ans) * sum(g, axis=axis, keepdims=True))
# s = softmax(x):  x̄ = s ⊙ (ȳ - Σ ȳ ⊙ s)
defvjp(_softmax_p, lambda g, ans, x, axis=-1: ans * (g - sum(g * ans, axis=axis, keepdims=True)))


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    """log softmax(x) = x - logsumexp(x): stable log-probabilities of a categorical."""
    return _log_softmax_p(x, axis=axis)


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    """exp(xᵢ) / Σⱼ exp(xⱼ), shifted by the max so it never overflows."""
    return _softmax_p(x, axis=axis)


# ---------------------------------------------------------------------------------------
# Casts and devices
# ---------------------------------------------------------------------------------------
def _astype(x, dtype):
    return x.astype(dtype)


astype_p = primitive(_astype, "astype")
defvjp(astype_p, lambda g, ans, x, dtype: astype_p(g, dtype=x.dtype))


def astype(x: Tensor, dtype) -> Tensor:
    """An explicit (differentiable) cast between float32 and float64."""
    return astype_p(x, dtype=backend.check_dtype(dtype))


def _to_device(x, device):
    return backend.to_device(x, device)


to_device = primitive(_to_device, "to_device")
defvjp(to_device, lambda g, ans, x, device: to_device(g, device=x.device))


def stop_gradient(x: Tensor) -> Tensor:
    """The same values with no gradient flowing back (``x.detach()``)."""
    return x.detach()


# ---------------------------------------------------------------------------------------
# Operators on Tensor
# ---------------------------------------------------------------------------------------
def _install_operators() -> None:
    T = Tensor
    T.__add__ = lambda a, b: add(a, b)
    T.__radd__ = lambda a, b: add(b, a)
    T.__sub__ = lambda a, b: sub(a, b)
    T.__rsub__ = lambda a, b: sub(b, a)
    T.__mul__ = lambda a, b: mul(a, b)
    T.__rmul__ = lambda a, b: mul(b, a)
    T.__truediv__ = lambda a, b: div(a, b)
    T.__rtruediv__ = lambda a, b: div(b, a)
    T.__pow__ = lambda a, b: power(a, b)
    T.__rpow__ = lambda a, b: power(b, a)
    T.__neg__ = lambda a: neg(a)
    T.__pos__ = lambda a: a
    T.__matmul__ = lambda a, b: matmul(a, b)
    T.__rmatmul__ = lambda a, b: matmul(b, a)
    T.__getitem__ = lambda a, idx: getitem(a, idx=_index(idx))
    # Comparisons give boolean arrays (not differentiable); __hash__ stays identity.
    T.__lt__ = lambda a, b: a.data < _data(b)
    T.__le__ = lambda a, b: a.data <= _data(b)
    T.__gt__ = lambda a, b: a.data > _data(b)
    T.__ge__ = lambda a, b: a.data >= _data(b)
    T.__eq__ = lambda a, b: a.data == _data(b)
    T.__ne__ = lambda a, b: a.data != _data(b)
    T.__hash__ = object.__hash__
    T.T = property(lambda a: transpose(a))
    for name, fn in {
        "sum": sum, "mean": mean, "var": var, "max": max, "min": min, "reshape": None,
        "transpose": None, "exp": exp, "log": log, "log1p": log1p, "sqrt": sqrt, "abs": abs,
        "tanh": tanh, "sigmoid": sigmoid, "softplus": softplus, "relu": relu,
        "logsumexp": logsumexp, "softmax": softmax, "log_softmax": log_softmax, "clip": clip,
        "astype": astype, "swapaxes": swapaxes, "squeeze": squeeze, "expand_dims": expand_dims,
    }.items():
        if fn is not None:
            setattr(T, name, fn)
    T.reshape = lambda a, *shape: reshape(a, shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape)
    T.transpose = lambda a, *axes: transpose(a, axes[0] if len(axes) == 1 and not isinstance(axes[0], int) else (axes or None))
    T.flatten = lambda a: reshape(a, (-1,))


_install_operators()
