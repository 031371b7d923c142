"""Derivatives as functions: ``grad``, ``value_and_grad``, ``jacobian``, ``hessian``, and
``autograd_grad`` (gradients of chosen tensors, leaving ``.grad`` alone).

    mv.grad(f)(x)          ∇f(x) for scalar f, same shape as x (recorded, so it nests)
    mv.jacobian(f)(x)      ∂fᵢ/∂xⱼ, shape f(x).shape + x.shape (one backward per output entry)
    mv.hessian(f)(x)       ∂²f/∂xᵢ∂xⱼ = jacobian(grad(f)), shape x.shape + x.shape
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

from . import backend
from .tensor import Tensor, _as_grad, backprop, enable_grad, tensor


def _prepare(args: tuple, nums: tuple) -> list:
    args = list(args)
    for i in nums:
        if i >= len(args):
            raise TypeError(f"argnums={i} but the function was called with {len(args)} positional argument(s)")
        a = args[i]
        if not isinstance(a, Tensor):
            a = tensor(a)
        if not a.requires_grad:
            a = Tensor._wrap(a._data)
            a.requires_grad = True
        args[i] = a
    return args


def _zeros_like(t: Tensor) -> Tensor:
    return Tensor._wrap(backend.get_array_module(t._data).zeros_like(t._data))


def value_and_grad(f: Callable, argnums: int | Sequence[int] = 0) -> Callable:
    """``mv.value_and_grad(f)(x, ...)`` returns ``(f(x, ...), ∇f)`` from one forward pass.
    Keyword arguments are passed to ``f`` (and not differentiated)."""
    single = isinstance(argnums, int)
    nums = (argnums,) if single else tuple(argnums)

    def value_and_grad_f(*args, **kwargs):
        args = _prepare(args, nums)
        with enable_grad():
            out = f(*args, **kwargs)
        if not isinstance(out, Tensor) or out.size != 1:
            what = f"shape {out.shape}" if isinstance(out, Tensor) else type(out).__name__
            raise ValueError(f"mv.grad(f) needs f to return a scalar Tensor, got {what} (use mv.jacobian for "
                             "vector outputs, or reduce with .sum())")
        ones = Tensor._wrap(backend.get_array_module(out._data).ones_like(out._data))
        wrt = [args[i] for i in nums]
        gs = (backprop([out], [ones], retain_graph=True, create_graph=True, wrt=wrt) if out.requires_grad
              else [None] * len(wrt))
        gs = [g if g is not None else _zeros_like(w) for g, w in zip(gs, wrt)]
        return out, (gs[0] if single else tuple(gs))

    return value_and_grad_f


def grad(f: Callable, argnums: int | Sequence[int] = 0) -> Callable:
    """The functional gradient: ``mv.grad(f)(x)`` is df/dx for scalar-valued ``f``.

    The result is recorded (``create_graph``), so ``mv.grad(mv.grad(f))`` gives second
    derivatives. ``argnums`` selects which positional arguments to differentiate; with a
    tuple, a tuple of gradients is returned. Keyword arguments are passed through to ``f``.
    """
    vg = value_and_grad(f, argnums)

    def grad_f(*args, **kwargs):
        return vg(*args, **kwargs)[1]

    grad_f.__name__ = f"grad_{getattr(f, '__name__', 'f')}"
    return grad_f


def jacobian(f: Callable, argnum: int = 0) -> Callable:
    """``mv.jacobian(f)(x)``: J[i..., j...] = ∂f(x)[i...] / ∂x[j...], of shape f(x).shape + x.shape.
    Recorded, so it can be differentiated again (``hessian`` is ``jacobian(grad(f))``)."""

    def jacobian_f(*args, **kwargs):
        args = _prepare(args, (argnum,))
        x = args[argnum]
        with enable_grad():
            y = f(*args, **kwargs)
        if not isinstance(y, Tensor):
            raise TypeError(f"mv.jacobian(f) needs f to return a Tensor, got {type(y).__name__}")
        xp = backend.get_array_module(y._data)
        rows = []
        for k in range(y.size):
            if not y.requires_grad:
                rows.append(_zeros_like(x))
                continue
            e = xp.zeros(y.size, dtype=y.dtype)
            e[k] = 1
            (gk,) = backprop([y], [Tensor._wrap(e.reshape(y.shape))], retain_graph=True, create_graph=True, wrt=[x])
            rows.append(gk if gk is not None else _zeros_like(x))
        from .shape import reshape, stack

        if not rows:
            return Tensor._wrap(xp.zeros(y.shape + x.shape, dtype=x.dtype))
        return reshape(stack(rows, axis=0), y.shape + x.shape)

    return jacobian_f


def hessian(f: Callable, argnum: int = 0) -> Callable:
    """``mv.hessian(f)(x)``: the matrix of second derivatives of scalar ``f``, shape x.shape + x.shape."""
    return jacobian(grad(f, argnum), argnum)


def autograd_grad(outputs: Tensor, inputs: Tensor | Sequence[Tensor], grad_outputs: Any = None,
                  retain_graph: bool | None = None, create_graph: bool = False) -> list[Tensor | None]:
    """d(outputs)/d(inputs) without touching ``.grad`` (like ``torch.autograd.grad``).
    ``inputs`` is a tensor or a list of tensors; the result is always a list."""
    if isinstance(inputs, Tensor):
        inputs = [inputs]
    inputs = list(inputs)
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"autograd_grad: inputs[{i}] is a {type(t).__name__}, not a Tensor")
    if not isinstance(outputs, Tensor):
        raise TypeError(f"autograd_grad: outputs must be a Tensor, got {type(outputs).__name__}")
    if not outputs.requires_grad:
        raise RuntimeError("autograd_grad: outputs does not require grad (no input had requires_grad=True, "
                           "or it ran under mv.no_grad())")
    if grad_outputs is None:
        if outputs.size != 1:
            raise RuntimeError(f"autograd_grad: grad_outputs is needed for a non-scalar output (shape {outputs.shape})")
        grad_outputs = Tensor._wrap(backend.get_array_module(outputs._data).ones_like(outputs._data))
    else:
        grad_outputs = _as_grad(grad_outputs, outputs, "autograd_grad")
    if retain_graph is None:
        retain_graph = create_graph
    return backprop([outputs], [grad_outputs], retain_graph=retain_graph, create_graph=create_graph, wrt=inputs)


__all__ = ["grad", "value_and_grad", "jacobian", "hessian", "autograd_grad"]
