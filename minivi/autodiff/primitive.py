"""The machinery every operation is made with: ``primitive``, ``defvjp``, ``unbroadcast``.

An operation is a forward function on arrays plus one VJP rule per input:

    mul = primitive(lambda a, b: a * b, "mul")
    defvjp(mul, lambda g, ans, a, b: unbroadcast(g * b, a),     # ā = ȳ · b
                lambda g, ans, a, b: unbroadcast(g * a, b))     # b̄ = ȳ · a

reads "if y = a * b then ā = ȳ·b and b̄ = ȳ·a". A rule receives the upstream gradient
``g`` (= ∂L/∂y), the output ``ans`` (= y) and the inputs, all as tensors, and is written
with the same operations: so the backward pass can itself be differentiated
(``create_graph=True``). A rule must return a tensor of its input's shape and dtype (the
sweep checks): an input of shape (10, 1) that was broadcast to (10, 5) receives a (10, 5)
gradient, which ``unbroadcast`` sums back to (10, 1).

To add an operation, copy any pair of lines in ``elementwise.py``: forward, then rules.
Naming: a primitive used as it is has the operation's name (``exp``, ``mul``, ``cholesky``);
when a public function first checks or normalises its arguments, the primitive it calls is
``<name>_p`` (``sum`` calls ``sum_p``) and the rules use ``<name>_p`` directly.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from . import backend
from .backend import get_array_module
from .tensor import _CLOCK, Node, Tensor, _GradMode


class Number(Tensor):
    """A 0-d result computed from Python numbers alone (``mv.log(2.0)``): weakly typed, so when
    it meets a tensor it acts like the Python number it is and takes the tensor's dtype."""

    __slots__ = ()


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
                d = a._data
                if ref is None:
                    ref = d
                elif d.dtype != ref.dtype or (backend._cupy is not None and type(d) is not type(ref)
                                              and backend.device_of(d) != backend.device_of(ref)):
                    raise _mixing_error(opname, args)
                needs_grad = needs_grad or a.requires_grad
                datas.append(d)
            elif type(a) is float or type(a) is int or type(a) is bool:
                datas.append(a)
            else:  # rare path: subclasses, NumPy scalars, raw arrays, weak numbers
                return _apply_lifted(apply, args, kwargs)
        if ref is None:  # numbers only: a weakly typed result
            return _from_numbers(forward(*datas, **kwargs))
        out = Tensor._wrap(forward(*datas, **kwargs))
        if needs_grad and _GradMode.enabled:
            out.requires_grad = True
            out._node = Node(args, apply.vjps, kwargs, opname, _CLOCK[0])
        return out

    apply.__name__ = opname
    apply.__qualname__ = opname
    apply.__doc__ = forward.__doc__
    apply.vjps = ()
    apply.forward = forward
    return apply


def defvjp(op: Callable, *rules: Callable | None) -> None:
    """Attach one VJP rule per positional input: ``rule(g, ans, *inputs, **kwargs)``.
    ``None`` marks an input that is not differentiable."""
    op.vjps = rules


class _ArgnumRules:
    """For operations with a variable number of inputs (concatenate, stack):
    one rule ``rule(i, g, ans, *inputs, **kwargs)`` serves every input i."""

    def __init__(self, rule: Callable):
        self.rule = rule

    def __getitem__(self, i: int) -> Callable:
        return lambda g, ans, *inputs, **kw: self.rule(i, g, ans, *inputs, **kw)


def defvjp_argnum(op: Callable, rule: Callable) -> None:
    """One rule ``rule(i, g, ans, *inputs, **kwargs)`` for every input i."""
    op.vjps = _ArgnumRules(rule)


# --- the rare path: anything that is not a plain Tensor or Python number --------------------
def _apply_lifted(op: Callable, args: Sequence[Any], kwargs: dict) -> Tensor:
    like = next((a for a in args if isinstance(a, Tensor) and (type(a) is not Number or a.requires_grad)), None)
    lifted = [_lift(a, like) for a in args]
    if any(type(a) is not Tensor and isinstance(a, Tensor) for a in lifted):  # Tensor subclasses
        lifted = [_as_plain(a) for a in lifted]
        out = op(*lifted, **kwargs)
        if out._node is not None:  # keep the caller's objects as inputs, so their .grad is filled
            out._node.inputs = tuple(a if isinstance(a, Tensor) and (type(a) is not Number or a.requires_grad) else b
                                     for a, b in zip(args, lifted))
        return out
    return op(*lifted, **kwargs)


def _as_plain(a: Any) -> Any:
    if type(a) is Tensor or not isinstance(a, Tensor):
        return a
    t = Tensor._wrap(a._data)
    t.requires_grad = a.requires_grad
    t._node = a._node
    t._version = a._version
    return t


def _lift(a: Any, like: Tensor | None) -> Any:
    """Python numbers stay numbers; arrays become constant tensors (same dtype/device checks)."""
    if type(a) is float or type(a) is int or type(a) is bool:
        return a
    if type(a) is Number and not a.requires_grad:
        return a._data.item()  # weakly typed: a Python number again
    if isinstance(a, np.generic) and a.ndim == 0:
        if a.dtype.kind == "c":
            raise TypeError("complex numbers are not supported in minivi operations (tensors are real)")
        return a.item()  # a NumPy scalar would upcast float32 arrays to float64
    if isinstance(a, Tensor):
        return a
    if isinstance(a, complex):
        raise TypeError("complex numbers are not supported in minivi operations (tensors are real)")
    if a is None or isinstance(a, str):
        raise TypeError(f"an operation got {a!r} where a tensor or a number was expected")
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
    if a.dtype.kind == "c":
        raise TypeError("a complex array was combined with a tensor; minivi tensors are real (pass a.real)")
    return Tensor._wrap(a.astype(like.dtype, copy=False))


def _from_numbers(y: Any) -> Tensor:
    """The result of an operation on numbers alone: 0-d -> a weak ``Number``; an array (e.g.
    ``where(mask, 1.0, 0.0)``) -> a tensor of the default dtype."""
    if getattr(y, "ndim", 0) == 0:
        t = Number.__new__(Number)
        t._data, t.grad, t.requires_grad, t._node, t._version = np.asarray(y, dtype=np.float64), None, False, None, 0
        return t
    return Tensor._wrap(get_array_module(y).asarray(y, dtype=backend.get_default_dtype()))


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


# --- broadcasting in reverse: the one helper every binary rule uses --------------------------
def _sum_to(x, shape):
    """Sum ``x`` down to ``shape``: the reverse of broadcasting."""
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape) if n == 1 and x.shape[i + lead] != 1)
    y = x.sum(axis=axes, keepdims=True) if axes else x
    return y.reshape(shape) if lead or y.shape != tuple(shape) else y


def _broadcast_to(x, shape):
    return get_array_module(x).broadcast_to(x, shape)


sum_to_p = primitive(_sum_to, "sum_to")
broadcast_to_p = primitive(_broadcast_to, "broadcast_to")
defvjp(sum_to_p, lambda g, ans, x, shape: broadcast_to_p(g, shape=x.shape))
defvjp(broadcast_to_p, lambda g, ans, x, shape: sum_to_p(g, shape=x.shape))


def unbroadcast(g: Tensor, x: Any) -> Tensor:
    """Reduce gradient ``g`` to the shape of input ``x`` (no-op when shapes agree)."""
    shape = x._data.shape if isinstance(x, Tensor) else ()
    return g if g._data.shape == shape else sum_to_p(g, shape=shape)


def broadcast_to(x: Tensor, shape) -> Tensor:
    """Repeat ``x`` along new or size-1 axes to ``shape``. VJP: sum back (``sum_to``)."""
    return broadcast_to_p(x, shape=tuple(shape))


def sum_to(x: Tensor, shape) -> Tensor:
    """Sum ``x`` down to ``shape`` (the reverse of broadcasting). VJP: ``broadcast_to``."""
    return sum_to_p(x, shape=tuple(shape))


# --- small helpers shared by the operation files ------------------------------------------------
def xp_of(*arrays):
    """The array module of the first array among ``arrays`` (NumPy for numbers)."""
    for a in arrays:
        if not isinstance(a, (int, float)):
            return get_array_module(a)
    return np


def data_of(x):
    """The array of a tensor, or the number itself."""
    return x._data if isinstance(x, Tensor) else x


def as_mask(cond, like: Tensor):
    """A boolean array as 0/1 in ``like``'s dtype (for rules that route gradients)."""
    return cond.astype(like.dtype, copy=False)


def norm_axis(axis, ndim: int, op: str = "operation") -> tuple:
    """``axis`` (None, int or tuple; negatives count from the end) as a sorted tuple.
    Out-of-range axes are an error, never wrapped around."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not isinstance(a, (int, np.integer)) or not -ndim <= a < ndim:
            raise ValueError(f"{op}: axis {a} is out of range for a tensor with {ndim} dimension(s)"
                             + (f" (valid: {-ndim} to {ndim - 1})" if ndim else " (use axis=None)"))
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{op}: axis {axis} repeats an axis")
    return tuple(sorted(out))


def check_axis(axis: int, ndim: int, op: str) -> int:
    """One axis in [-ndim, ndim), returned non-negative; anything else is an error (no wrapping)."""
    if not isinstance(axis, (int, np.integer)) or not -ndim <= axis < ndim:
        raise ValueError(f"{op}: axis {axis} is out of range for {ndim} dimension(s) (valid: {-ndim} to {ndim - 1})")
    return int(axis) % ndim
