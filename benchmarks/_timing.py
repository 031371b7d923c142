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


def timeit_interleaved(fns: dict[str, Callable[[], object]], rounds: int = 15, number: int = 3,
                       warmup: int = 2) -> dict[str, float]:
    """Median seconds per call of each function, measured in alternating rounds, so that a
    change in the machine's load affects all of them alike (fairer ratios on shared machines).
    Each round starts with ``warmup`` untimed calls: libraries with thread pools of their own
    (OpenBLAS, PyTorch) need a moment to take the cores back from each other."""
    runs: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            for _ in range(warmup):
                fn()
            t0 = time.perf_counter()
            for _ in range(number):
                fn()
            runs[name].append((time.perf_counter() - t0) / number)
    return {name: statistics.median(r) for name, r in runs.items()}


def machine() -> str:
    import os

    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def try_torch():
    try:
        import torch
    except ImportError:
        return None
    return torch
