"""Timing helper shared by the benchmark scripts: the median of several repeats."""
from __future__ import annotations

import platform
import statistics
import time
from typing import Callable


def timeit(fn: Callable[[], object], repeats: int = 7, number: int = 1, warmup: int = 2) -> float:
    """Median seconds per call of ``fn`` over ``repeats`` runs of ``number`` calls each."""
    _per_call(fn, 1, warmup)
    return statistics.median(_per_call(fn, number, 0) for _ in range(repeats))


def _per_call(fn: Callable[[], object], number: int, warmup: int) -> float:
    """Seconds per call of ``number`` calls of ``fn``, after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - t0) / max(number, 1)


def timeit_interleaved(fns: dict[str, Callable[[], object]], rounds: int = 15, number: int = 3,
                       warmup: int = 2) -> dict[str, float]:
    """Median seconds per call of each function, measured in alternating rounds, so that a
    change in the machine's load affects all of them alike (fairer ratios on shared machines).
    Each round starts with ``warmup`` untimed calls: libraries with thread pools of their own
    (OpenBLAS, PyTorch) need a moment to take the cores back from each other."""
    runs: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            runs[name].append(_per_call(fn, number, warmup))
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


# --- timing libraries in separate processes, alternating ----------------------------------------
# PyTorch's thread pool and OpenBLAS's fight for the cores when both live in one process, so each
# library runs in a worker process of its own; the driver asks one worker at a time for a block of
# timings (the other waits idle on its stdin), round after round, so load changes hit both alike.
def serve(fns: dict[str, Callable[[], object]], number: int = 5, warmup: int = 3) -> None:
    """Worker side: on each line "run" from stdin, time every function (interleaved) and print
    one JSON line {name: seconds per call}; exit on "quit" or end of input."""
    import json
    import sys

    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if line.strip() != "run":
            break
        print(json.dumps({name: _per_call(fn, number, warmup) for name, fn in fns.items()}), flush=True)


def alternate_processes(workers: dict[str, list[str]], rounds: int = 11) -> dict[str, float]:
    """Driver side: start each worker command (which calls ``serve``), then ask them for a block
    of timings in turn, ``rounds`` times. Returns the median seconds per call of every name."""
    import json
    import subprocess

    procs = {w: subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
             for w, cmd in workers.items()}
    try:
        for w, p in procs.items():
            line = p.stdout.readline()
            if not line:
                raise RuntimeError(f"benchmark worker {w!r} failed to start: {' '.join(workers[w])}")
        runs: dict[str, list[float]] = {}
        for _ in range(rounds):
            for p in procs.values():
                time.sleep(0.3)  # let the other worker's threads stop spinning (OpenMP/OpenBLAS busy-wait)
                p.stdin.write("run\n")
                p.stdin.flush()
                for name, t in json.loads(p.stdout.readline()).items():
                    runs.setdefault(name, []).append(t)
    finally:
        for p in procs.values():
            try:
                p.stdin.write("quit\n")
                p.stdin.close()
            except OSError:
                pass
            p.wait(timeout=60)
    return {name: statistics.median(r) for name, r in runs.items()}
