"""Per-operation overhead of the engine, forward + backward, against PyTorch eager (CPU).

A chain of N cheap operations (mul, add, tanh) on a 0-d array and on a 1000-vector is
built and differentiated; time / N is the cost of one recorded operation. On 0-d data
this is pure bookkeeping: the number every Python-level engine pays per op.

    python benchmarks/bench_overhead.py
"""
from __future__ import annotations

import numpy as np

import minivi as mv
from _timing import machine, timeit, try_torch

N = 300  # operations per chain (N/3 rounds of mul, add, tanh)


def chain_minivi(x0):
    x = mv.tensor(x0, requires_grad=True)

    def run():
        y = x
        for _ in range(N // 3):
            y = mv.tanh(y * 0.9 + 0.1)
        y.sum().backward()
        x.grad = None

    return run


def chain_torch(torch, x0):
    x = torch.tensor(x0, requires_grad=True)

    def run():
        y = x
        for _ in range(N // 3):
            y = torch.tanh(y * 0.9 + 0.1)
        y.sum().backward()
        x.grad = None

    return run


def main() -> None:
    torch = try_torch()
    if torch is not None:
        torch.set_num_threads(1)
    print(f"per-op overhead, forward + backward ({machine()})")
    print(f"{'data':>12} {'minivi us/op':>14} {'torch us/op':>13} {'minivi/torch':>13}")
    for name, x0 in [("0-d", np.float32(0.5)), ("1000-vector", np.full(1000, 0.5, np.float32))]:
        t_mv = timeit(chain_minivi(np.asarray(x0)), repeats=9, number=5) / N * 1e6
        if torch is not None:
            t_t = timeit(chain_torch(torch, np.asarray(x0)), repeats=9, number=5) / N * 1e6
            print(f"{name:>12} {t_mv:14.2f} {t_t:13.2f} {t_mv / t_t:13.2f}")
        else:
            print(f"{name:>12} {t_mv:14.2f} {'(no torch)':>13} {'-':>13}")


if __name__ == "__main__":
    main()
