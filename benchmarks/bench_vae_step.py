"""One training step of a VAE-shaped model: minivi vs a hand-derived NumPy step vs PyTorch.

Model (float32): encoder 784-512 (tanh) -> mean and log-variance (20 each); z = μ + σ ⊙ ε;
decoder 20-512 (tanh) -> 784 Bernoulli logits. Loss per batch (the negative free energy,
chapter 09):  L = (1/B) Σ [ -log p(y|z) + KL(q(z|y) ‖ N(0, I)) ].  One step = forward,
backward, and a plain SGD update of all ten parameter arrays. The hand-derived NumPy
step (every gradient written out by hand) is the floor for any NumPy-based engine.

    python benchmarks/bench_vae_step.py                 # CPU, batch 128
    python benchmarks/bench_vae_step.py --device cuda --batch 1024   # GPU (CuPy; torch CUDA if present)
"""
from __future__ import annotations

import argparse

import numpy as np

import minivi as mv
from _timing import alternate_processes, machine, serve, try_torch

D, H, Z = 784, 512, 20
LR = 1e-3


def init_params(rng: np.random.Generator) -> dict[str, np.ndarray]:
    def w(i, o):
        return (rng.standard_normal((i, o)) / np.sqrt(i)).astype(np.float32)

    z = lambda n: np.zeros(n, np.float32)  # noqa: E731
    return {"W1": w(D, H), "b1": z(H), "Wm": w(H, Z), "bm": z(Z), "Wv": w(H, Z), "bv": z(Z),
            "W2": w(Z, H), "b2": z(H), "W3": w(H, D), "b3": z(D)}


def numpy_step(p, x, eps, xp=np):
    """Forward, hand-derived backward and SGD update, in place."""
    B = x.shape[0]
    h = xp.tanh(x @ p["W1"] + p["b1"])
    mu = h @ p["Wm"] + p["bm"]
    lv = h @ p["Wv"] + p["bv"]
    std = xp.exp(0.5 * lv)
    z = mu + std * eps
    h2 = xp.tanh(z @ p["W2"] + p["b2"])
    logits = h2 @ p["W3"] + p["b3"]
    rec = (xp.maximum(logits, 0) + xp.log1p(xp.exp(-xp.abs(logits))) - x * logits).sum()  # stable softplus
    kl = 0.5 * (mu * mu + std * std - 1.0 - lv).sum()
    loss = (rec + kl) / B
    # backward
    dlogits = (1.0 / (1.0 + xp.exp(-logits)) - x) / B    # (σ(η) - y) / B
    g = {"W3": h2.T @ dlogits, "b3": dlogits.sum(0)}
    da2 = (dlogits @ p["W3"].T) * (1.0 - h2 * h2)
    g["W2"], g["b2"] = z.T @ da2, da2.sum(0)
    dz = da2 @ p["W2"].T
    dmu = dz + mu / B
    dlv = dz * eps * (0.5 * std) + 0.5 * (std * std - 1.0) / B
    g["Wm"], g["bm"], g["Wv"], g["bv"] = h.T @ dmu, dmu.sum(0), h.T @ dlv, dlv.sum(0)
    da1 = (dmu @ p["Wm"].T + dlv @ p["Wv"].T) * (1.0 - h * h)
    g["W1"], g["b1"] = x.T @ da1, da1.sum(0)
    for k in p:
        p[k] -= LR * g[k]
    return loss


def minivi_step(p, x, eps):
    B = x.shape[0]
    h = mv.tanh(x @ p["W1"] + p["b1"])
    mu = h @ p["Wm"] + p["bm"]
    lv = h @ p["Wv"] + p["bv"]
    std = mv.exp(0.5 * lv)
    z = mu + std * eps
    logits = mv.tanh(z @ p["W2"] + p["b2"]) @ p["W3"] + p["b3"]
    rec = (mv.softplus(logits) - x * logits).sum()      # -log Bernoulli(x | sigmoid(logits))
    kl = 0.5 * (mu * mu + std * std - 1.0 - lv).sum()
    loss = (rec + kl) * (1.0 / B)
    loss.backward()
    with mv.no_grad():
        for t in p.values():
            t.data -= LR * t.grad.data
            t.grad = None
    return loss


def torch_step(torch, p, x, eps):
    B = x.shape[0]
    h = torch.tanh(x @ p["W1"] + p["b1"])
    mu = h @ p["Wm"] + p["bm"]
    lv = h @ p["Wv"] + p["bv"]
    std = torch.exp(0.5 * lv)
    z = mu + std * eps
    logits = torch.tanh(z @ p["W2"] + p["b2"]) @ p["W3"] + p["b3"]
    rec = (torch.nn.functional.softplus(logits) - x * logits).sum()
    kl = 0.5 * (mu * mu + std * std - 1.0 - lv).sum()
    loss = (rec + kl) / B
    loss.backward()
    with torch.no_grad():
        for t in p.values():
            t -= LR * t.grad
            t.grad = None
    return loss


def _data(batch: int):
    rng = np.random.default_rng(0)
    p0 = init_params(rng)
    x0 = (rng.random((batch, D)) < 0.3).astype(np.float32)
    e0 = rng.standard_normal((batch, Z)).astype(np.float32)
    return p0, x0, e0


def worker_minivi(batch: int, dev: str) -> None:
    """numpy and minivi share OpenBLAS's threads: they alternate inside this process."""
    p0, x0, e0 = _data(batch)
    xp = np if dev == "cpu" else __import__("cupy")
    sync = (lambda: None) if dev == "cpu" else xp.cuda.Device().synchronize
    p_np = {k: xp.array(v) for k, v in p0.items()}  # copies: the steps update in place
    x_np, e_np = xp.asarray(x0), xp.asarray(e0)
    p_mv = {k: mv.tensor(v, requires_grad=True, device=dev) for k, v in p0.items()}
    x_mv, e_mv = mv.tensor(x0, device=dev), mv.tensor(e0, device=dev)
    # The steps compute the same loss from the same parameters.
    l_np = float(numpy_step({k: v.copy() for k, v in p_np.items()}, x_np, e_np, xp))
    l_mv = minivi_step({k: mv.tensor(v.numpy(), requires_grad=True, device=dev) for k, v in p_mv.items()}, x_mv, e_mv).item()
    assert abs(l_np - l_mv) < 1e-3 * abs(l_np), (l_np, l_mv)
    serve({"numpy": lambda: (numpy_step(p_np, x_np, e_np, xp), sync()),
           "minivi": lambda: (minivi_step(p_mv, x_mv, e_mv), sync())})


def worker_torch(batch: int, dev: str) -> None:
    """PyTorch in a process of its own (its thread pool fights OpenBLAS's in a shared one)."""
    import torch

    p0, x0, e0 = _data(batch)
    tdev = "cpu" if dev == "cpu" else "cuda"
    p_t = {k: torch.tensor(v, requires_grad=True, device=tdev) for k, v in p0.items()}
    x_t, e_t = torch.tensor(x0, device=tdev), torch.tensor(e0, device=tdev)
    tsync = (lambda: None) if tdev == "cpu" else torch.cuda.synchronize
    l_t = torch_step(torch, {k: v.detach().clone().requires_grad_() for k, v in p_t.items()}, x_t, e_t).item()
    l_np = float(numpy_step({k: v.copy() for k, v in p0.items()}, x0, e0))
    assert abs(l_t - l_np) < 1e-3 * abs(l_np), (l_t, l_np)
    serve({f"torch ({torch.get_num_threads()} threads)": lambda: (torch_step(torch, p_t, x_t, e_t), tsync())}, warmup=5)


def main() -> None:
    import sys

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--repeats", type=int, default=21, help="alternating rounds (median reported)")
    ap.add_argument("--worker", choices=["minivi", "torch"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker == "minivi":
        return worker_minivi(args.batch, args.device)
    if args.worker == "torch":
        return worker_torch(args.batch, args.device)
    me = [sys.executable, __file__, "--batch", str(args.batch), "--device", args.device, "--worker"]
    workers = {"minivi": me + ["minivi"]}
    torch = try_torch()
    use_torch = torch is not None and (args.device == "cpu" or torch.cuda.is_available())
    if use_torch:
        workers["torch"] = me + ["torch"]
    t = alternate_processes(workers, rounds=args.repeats)
    print(f"VAE step 784-{H}-{Z}, batch {args.batch}, float32, device {args.device} ({machine()}); "
          f"median of {args.repeats} alternating rounds, PyTorch in its own process")
    print(f"  hand-derived NumPy{'/CuPy' if args.device != 'cpu' else ''}: {t['numpy'] * 1e3:8.2f} ms")
    print(f"  minivi:                  {t['minivi'] * 1e3:8.2f} ms   minivi / hand-derived = {t['minivi'] / t['numpy']:.3f}")
    if use_torch:
        name = next(k for k in t if k.startswith("torch"))
        print(f"  PyTorch eager, {name}: {t[name] * 1e3:8.2f} ms   minivi / torch = {t['minivi'] / t[name]:.3f}")
    else:
        print("  PyTorch: not installed (pip install torch) -- comparison skipped")


if __name__ == "__main__":
    main()
