"""``mv.config()``: what the engine is running on, in one place (backend, defaults, memory tuning)."""
from __future__ import annotations

import os

import numpy as np

from . import backend, memory


class Config(dict):
    """A dict of settings whose repr is one readable line per setting."""

    def __repr__(self) -> str:
        return "\n".join(f"{k:>16}: {v}" for k, v in self.items())


def config() -> Config:
    """The engine's settings: array backend and versions, default dtype and device, whether CuPy
    (a GPU) is available, and whether glibc's allocator was tuned at import (``memory.py``:
    freed arrays are kept for reuse; set ``MINIVI_MALLOC_TUNING=0`` before importing minivi to
    leave the allocator alone)."""
    tuned = memory.MALLOC_TUNED
    env = os.environ.get("MINIVI_MALLOC_TUNING")
    if tuned:
        malloc = ("on (glibc keeps up to 256 MB of freed memory for reuse; turn off with "
                  "MINIVI_MALLOC_TUNING=0 before importing minivi)")
    elif env == "0":
        malloc = "off (MINIVI_MALLOC_TUNING=0)"
    else:
        malloc = "off (not Linux/glibc)"
    return Config(
        backend=f"numpy {np.__version__}" + (f", cupy {backend._cupy.__version__}" if backend._cupy is not None else ""),
        default_dtype=str(backend.get_default_dtype()),
        default_device=backend.get_default_device(),
        cuda="available" if backend._cupy is not None and backend.cupy_available() else "not loaded (cupy is imported on first use of 'cuda')",
        malloc_tuning=malloc,
        grad_mode="enabled" if _grad_enabled() else "disabled (inside mv.no_grad())",
    )


def _grad_enabled() -> bool:
    from .tensor import is_grad_enabled

    return is_grad_enabled()
