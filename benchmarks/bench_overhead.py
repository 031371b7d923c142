"""Per-operation overhead of the engine, forward + backward, against PyTorch eager (CPU).

A chain of N cheap operations (mul, add, tanh) on a 0-d array and on a 1000-vector is
built and differentiated; time / N is the cost of one recorded operation. On 0-d data
this is pure bookkeeping: the number every Python-level engine pays per op.

    python benchmarks/bench_overhead.py            # minivi and PyTorch in two processes, alternating
"""
from __future__ import annotations

import numpy as np

import minivi as mv
from _timing import alternate_processes, machine, serve, try_torch

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


DATA = [("0-d", np.float32(0.5)), ("1000-vector", np.full(1000, 0.5, np.float32))]


def main() -> None:
    import argparse
    import sys

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=11, help="alternating rounds (median reported)")
    ap.add_argument("--worker", choices=["minivi", "torch"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker == "minivi":
        return serve({name: chain_minivi(np.asarray(x0)) for name, x0 in DATA}, number=5, warmup=2)
    if args.worker == "torch":
        import torch

        torch.set_num_threads(1)
        return serve({"torch " + name: chain_torch(torch, np.asarray(x0)) for name, x0 in DATA}, number=5, warmup=2)
    workers = {"minivi": [sys.executable, __file__, "--worker", "minivi"]}
    if try_torch() is not None:
        workers["torch"] = [sys.executable, __file__, "--worker", "torch"]
    t = alternate_processes(workers, rounds=args.repeats)
    print(f"per-op overhead, forward + backward ({machine()}); median of {args.repeats} alternating rounds, "
          "PyTorch (1 thread) in its own process")
    print(f"{'data':>12} {'minivi us/op':>14} {'torch us/op':>13} {'minivi/torch':>13}")
    for name, _ in DATA:
        t_mv = t[name] / N * 1e6
        if "torch " + name in t:
            t_t = t["torch " + name] / N * 1e6
            print(f"{name:>12} {t_mv:14.2f} {t_t:13.2f} {t_mv / t_t:13.2f}")
        else:
            print(f"{name:>12} {t_mv:14.2f} {'(no torch)':>13} {'-':>13}")


if __name__ == "__main__":
    main()
