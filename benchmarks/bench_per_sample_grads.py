"""Per-sample gradients: parameters expanded over a sample axis and ONE backward, against a
loop of n backwards (one per sample). Chapters 08 (estimator variance) and 11 need them.

The trick: give every sample its own copy of the parameters, θ_rep of shape (n, *θ.shape),
compute all n losses with batched operations and backpropagate their sum once. Sample i's
loss depends only on θ_rep[i], so θ_rep.grad[i] = ∇_θ loss_i.

Two models:
  gauss : pathwise gradient of f(z) = Σ log σ(a ⊙ z), z = μ + exp(log s) ⊙ ε (d = 50)
  mlp   : a one-hidden-layer network 20-64-1 with its weights expanded, loss (y - ŷ)²

    python benchmarks/bench_per_sample_grads.py
"""
from __future__ import annotations

import numpy as np

import minivi as mv
from _timing import machine, timeit


def gauss_setup(n: int, d: int = 50, seed: int = 0):
    rng = np.random.default_rng(seed)
    mu0, ls0 = rng.standard_normal(d), rng.standard_normal(d) * 0.1
    eps, a = rng.standard_normal((n, d)), rng.standard_normal(d)
    A = mv.tensor(a)

    def f(mu, ls, e):                       # works on one sample (d,) or on all (n, d)
        z = mu + mv.exp(ls) * e
        return mv.log_sigmoid(A * z).sum(axis=-1)

    def batched():
        mu = mv.tensor(np.broadcast_to(mu0, (n, d)), requires_grad=True)
        ls = mv.tensor(np.broadcast_to(ls0, (n, d)), requires_grad=True)
        f(mu, ls, mv.tensor(eps)).sum().backward()
        return mu.grad.numpy(), ls.grad.numpy()

    def loop():
        mu, ls = mv.tensor(mu0, requires_grad=True), mv.tensor(ls0, requires_grad=True)
        gm, gl = np.empty((n, d), np.float32), np.empty((n, d), np.float32)
        for i in range(n):
            f(mu, ls, mv.tensor(eps[i])).backward()
            gm[i], gl[i] = mu.grad.numpy(), ls.grad.numpy()
            mu.grad = ls.grad = None
        return gm, gl

    return batched, loop


def mlp_setup(n: int, d: int = 20, h: int = 64, seed: int = 0):
    rng = np.random.default_rng(seed)
    W0, b0, v0 = rng.standard_normal((d, h)) / np.sqrt(d), np.zeros(h), rng.standard_normal(h) / np.sqrt(h)
    X, y = rng.standard_normal((n, d)), rng.standard_normal(n)

    def batched():
        W = mv.tensor(np.broadcast_to(W0, (n, d, h)), requires_grad=True)
        b = mv.tensor(np.broadcast_to(b0, (n, h)), requires_grad=True)
        v = mv.tensor(np.broadcast_to(v0, (n, h)), requires_grad=True)
        hid = mv.tanh(mv.einsum("nd,ndh->nh", mv.tensor(X), W) + b)
        pred = (hid * v).sum(axis=-1)
        ((pred - mv.tensor(y)) ** 2).sum().backward()
        return W.grad.numpy(), b.grad.numpy(), v.grad.numpy()

    def loop():
        W, b, v = (mv.tensor(t, requires_grad=True) for t in (W0, b0, v0))
        gW, gb, gv = np.empty((n, d, h), np.float32), np.empty((n, h), np.float32), np.empty((n, h), np.float32)
        for i in range(n):
            pred = (mv.tanh(mv.tensor(X[i]) @ W + b) * v).sum()
            ((pred - float(y[i])) ** 2).backward()
            gW[i], gb[i], gv[i] = W.grad.numpy(), b.grad.numpy(), v.grad.numpy()
            W.grad = b.grad = v.grad = None
        return gW, gb, gv

    return batched, loop


def main() -> None:
    print(f"per-sample gradients: one backward over expanded parameters vs a loop of n backwards ({machine()})")
    print(f"{'model':>6} {'n':>6} {'one backward ms':>16} {'loop ms':>10} {'speed-up':>9}")
    for name, setup in [("gauss", gauss_setup), ("mlp", mlp_setup)]:
        for n in (16, 128, 1024):
            batched, loop = setup(n)
            for a, b in zip(batched(), loop()):   # the same gradients, sample by sample
                np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-5)
            t_b = timeit(batched, repeats=5, number=1, warmup=1)
            t_l = timeit(loop, repeats=3, number=1, warmup=1)
            print(f"{name:>6} {n:6d} {t_b * 1e3:16.2f} {t_l * 1e3:10.1f} {t_l / t_b:8.0f}x")


if __name__ == "__main__":
    main()
