"""Tensors made from scratch (on the default device and dtype unless told otherwise)."""
from __future__ import annotations

from . import backend
from .tensor import Tensor


def _make(fn_name: str, shape, dtype, device, requires_grad, **kw) -> Tensor:
    xp = backend.xp_for(device or backend.get_default_device())
    dtype = backend.check_dtype(dtype) if dtype is not None else backend.get_default_dtype()
    t = Tensor._wrap(getattr(xp, fn_name)(shape, dtype=dtype, **kw))
    t.requires_grad = requires_grad
    return t


def zeros(*shape, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    shape = shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape
    return _make("zeros", shape, dtype, device, requires_grad)


def ones(*shape, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    shape = shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape
    return _make("ones", shape, dtype, device, requires_grad)


def full(shape, value: float, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _make("full", shape, dtype, device, requires_grad, fill_value=value)


def zeros_like(x: Tensor, requires_grad: bool = False) -> Tensor:
    return zeros(x.shape, dtype=x.dtype, device=x.device, requires_grad=requires_grad)


def ones_like(x: Tensor, requires_grad: bool = False) -> Tensor:
    return ones(x.shape, dtype=x.dtype, device=x.device, requires_grad=requires_grad)


def eye(n: int, dtype=None, device=None) -> Tensor:
    xp = backend.xp_for(device or backend.get_default_device())
    dtype = backend.check_dtype(dtype) if dtype is not None else backend.get_default_dtype()
    return Tensor._wrap(xp.eye(n, dtype=dtype))


def arange(*args, dtype=None, device=None) -> Tensor:
    xp = backend.xp_for(device or backend.get_default_device())
    dtype = backend.check_dtype(dtype) if dtype is not None else backend.get_default_dtype()
    return Tensor._wrap(xp.arange(*args).astype(dtype))


__all__ = ["arange", "eye", "full", "ones", "ones_like", "zeros", "zeros_like"]
