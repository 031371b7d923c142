"""Keep freed array memory for reuse (Linux/glibc), so big temporaries do not page-fault.

Every NumPy operation returns a fresh array, and the backward pass makes many: a VAE step
on a batch of 128 allocates dozens of arrays of 0.1–1.6 MB. glibc serves blocks above its
``mmap`` threshold straight from the operating system and gives them back on ``free``,
so each new array is fresh memory whose every page faults on first touch. On small
machines this doubled the time of a training step. We ask glibc to serve blocks of up to
32 MB from its heap and keep up to 256 MB of freed memory for reuse, the same idea as
PyTorch's caching allocator, in two lines. It changes how the process *reuses* memory,
not what any computation returns.

Set ``MINIVI_MALLOC_TUNING=0`` before importing minivi to leave the allocator alone;
``mv.config()`` reports whether the tuning is on.
"""
from __future__ import annotations

import ctypes
import os
import sys

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3


def tune_malloc(mmap_threshold: int = 32 << 20, trim_threshold: int = 256 << 20) -> bool:
    """Raise glibc's mmap and trim thresholds; True when applied (Linux with glibc only)."""
    if os.environ.get("MINIVI_MALLOC_TUNING", "1") == "0" or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(_M_MMAP_THRESHOLD, mmap_threshold)) and bool(libc.mallopt(_M_TRIM_THRESHOLD, trim_threshold))
    except (OSError, AttributeError):  # not glibc (musl, macOS, Windows): nothing to do
        return False


MALLOC_TUNED = tune_malloc()
