"""Timing helper shared by the benchmark scripts: the median of several repeats."""
from __future__ import annotations

import platform
import statistics
import time
from typing import Callable


def timeit(fn: Callable[[], object], repeats: int = 7, number: int = 1, warmup: int = 2) -> float:
    """Median seconds per call of ``fn`` over ``repeats`` runs of ``number`` calls each."""
    for _ in range(warmup):
        fn()
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        runs.append((time.perf_counter() - t0) / number)
    return statistics.median(runs)


def machine() -> str:
    import os

    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def try_torch():
    try:
        import torch
    except ImportError:
        return None
    return torch
