"""Random numbers through an explicit generator, on either device.

minivi never seeds a global generator: every function that draws takes ``rng``, a
NumPy ``Generator`` (CPU) or a CuPy one (GPU), made with ``mv.default_rng(seed, device)``.
Draws land on the generator's device; asking for another device is an error, not a copy.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import backend
from .tensor import Tensor


def default_rng(seed: Any = None, device: str | None = None):
    """A NumPy Generator, or a CuPy one when ``device='cuda'``."""
    device = backend.check_device(device or backend.get_default_device())
    return np.random.default_rng(seed) if device == "cpu" else backend._import_cupy().random.default_rng(seed)


def rng_device(rng) -> str:
    if isinstance(rng, np.random.Generator):
        return "cpu"
    if backend._cupy is not None and isinstance(rng, backend._cupy.random.Generator):
        return "cuda"
    raise TypeError(
        f"rng must be a numpy.random.Generator (np.random.default_rng(seed)) or one from "
        f"mv.default_rng(seed, device='cuda'), not {type(rng).__name__}"
    )


def _check(rng, device: str | None) -> str:
    d = rng_device(rng)
    if device is not None and backend.check_device(device) != d:
        raise RuntimeError(
            f"rng draws on {d} but device={device!r} was asked for: make a generator for that device "
            f"with mv.default_rng(seed, device={device!r})"
        )
    return d


def randn(*shape: int, rng, dtype=None, device: str | None = None, requires_grad: bool = False) -> Tensor:
    """Standard normal draws ε ~ N(0, I) of ``shape`` as a tensor."""
    _check(rng, device)
    dtype = backend.check_dtype(dtype) if dtype is not None else backend.get_default_dtype()
    shape = shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape
    t = Tensor._wrap(rng.standard_normal(shape, dtype=dtype))
    t.requires_grad = requires_grad
    return t


def rand(*shape: int, rng, dtype=None, device: str | None = None) -> Tensor:
    """Uniform draws u ~ U[0, 1) of ``shape`` as a tensor."""
    _check(rng, device)
    dtype = backend.check_dtype(dtype) if dtype is not None else backend.get_default_dtype()
    shape = shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape
    return Tensor._wrap(rng.random(shape, dtype=dtype))
