"""One VAE training epoch on MNIST's training split: minivi against PyTorch eager, each in its own process.

The model is chapter 09's one-layer DLGM (784-200-200-20, tanh, Bernoulli likelihood, float32), trained as the
chapter trains it: minibatches of 100 with dynamic binarisation, one reparameterised draw per digit, the free
energy with its KL in closed form, Adam(1e-3). An epoch is a full pass over the training split (8,000 digits
offline; 60,000 with the official files), data pipeline included (the same NumPy minibatches for both).

PyTorch's thread pool and OpenBLAS's fight when they share a process, so every timed epoch runs in a fresh
worker process (after a warm-up of 20 steps), and the two libraries alternate round by round; the median epoch
time of each and their ratio are printed.

    python benchmarks/bench_vae_epoch.py                    # CPU, 5 alternating rounds
    python benchmarks/bench_vae_epoch.py --device cuda      # GPU: minivi on CuPy (and PyTorch CUDA if present)
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
WARMUP_STEPS = 20


def _timed_epoch(step, x, rng, sync) -> float:
    """Seconds for one epoch of ``step`` over dynamically binarised minibatches of 100, after a few warm-up steps
    (the same loop for both libraries; ``sync`` waits for a GPU to finish)."""
    from minivi.data import minibatches

    for i, (xb,) in enumerate(minibatches(x, batch_size=100, rng=rng, binarize="dynamic")):
        if i == WARMUP_STEPS:
            break
        step(xb)
    sync()
    t0 = time.perf_counter()
    for (xb,) in minibatches(x, batch_size=100, rng=rng, binarize="dynamic"):
        loss = step(xb)
    loss.item()
    sync()
    return time.perf_counter() - t0


def _minivi_epoch(device: str) -> dict:
    import minivi as mv
    from minivi.models import DLGM
    from minivi.optim import Adam

    x, _ = mv.data.load_mnist(split="train", verbose=False)
    model = DLGM(x_dim=784, hidden=(200, 200), z_dims=(20,), rng=mv.default_rng(0, device=device))
    opt = Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(1)                      # data order and binarisation (host)
    noise = mv.default_rng(2, device=device)            # ε on the model's device

    def step(xb):
        xt = mv.tensor(xb, device=device)
        opt.zero_grad()
        loss = -model.elbo(xt, noise).mean()
        loss.backward()
        opt.step()
        return loss

    sync = (lambda: None) if device == "cpu" else __import__("cupy").cuda.Device().synchronize
    return {"seconds": _timed_epoch(step, x, rng, sync), "n": len(x), "threads": os.environ.get("OPENBLAS_NUM_THREADS", "default")}


def _torch_epoch(device: str) -> dict:
    import torch

    import minivi as mv
    from minivi.models.dlgm.torch_reference import TorchVAE

    x, _ = mv.data.load_mnist(split="train", verbose=False)
    tdev = "cpu" if device == "cpu" else "cuda"
    vae = TorchVAE(784, (200, 200), 20, seed=0).to(tdev)
    opt = torch.optim.Adam(vae.parameters(), lr=1e-3)
    rng = np.random.default_rng(1)
    gen = torch.Generator(device=tdev).manual_seed(2)

    def step(xb):
        xt = torch.as_tensor(xb, device=tdev)
        eps = torch.randn((1, len(xb), 20), generator=gen, device=tdev)
        loss = -vae.elbo(xt, eps).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    sync = (lambda: None) if tdev == "cpu" else torch.cuda.synchronize
    return {"seconds": _timed_epoch(step, x, rng, sync), "n": len(x), "threads": torch.get_num_threads(),
            "version": torch.__version__}


def _run_worker(which: str, device: str) -> dict | None:
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    out = subprocess.run([sys.executable, __file__, "--worker", which, "--device", device], capture_output=True,
                         text=True, env=env)
    if out.returncode != 0:
        print(f"  {which} worker failed:\n{out.stderr.strip()[-2000:]}", file=sys.stderr)
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--rounds", type=int, default=5, help="alternating rounds, each a fresh process per library")
    ap.add_argument("--worker", choices=("minivi", "torch"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps((_minivi_epoch if args.worker == "minivi" else _torch_epoch)(args.device)))
        return

    try:
        import torch
        have_torch = args.device == "cpu" or torch.cuda.is_available()
    except ImportError:
        have_torch = False
    times: dict[str, list[float]] = {"minivi": [], "torch": []}
    info = {}
    for r in range(args.rounds):
        for which in ("minivi", "torch") if r % 2 == 0 else ("torch", "minivi"):
            if which == "torch" and not have_torch:
                continue
            res = _run_worker(which, args.device)
            if res is not None:
                times[which].append(res["seconds"])
                info[which] = res
    from _timing import machine

    n = info.get("minivi", info.get("torch", {})).get("n", "?")
    print(f"VAE epoch, 784-200-200-20 tanh, batch 100, float32, dynamic binarisation, {n} training digits, "
          f"device {args.device} ({machine()}); median of {args.rounds} rounds, one fresh process per epoch")
    if times["minivi"]:
        m = statistics.median(times["minivi"])
        print(f"  minivi:         {m:7.2f} s per epoch   (runs: {', '.join(f'{t:.2f}' for t in times['minivi'])})")
    if times["torch"]:
        t = statistics.median(times["torch"])
        print(f"  PyTorch {info['torch']['version']} eager ({info['torch']['threads']} threads): {t:7.2f} s per epoch   "
              f"(runs: {', '.join(f'{x:.2f}' for x in times['torch'])})")
        if times["minivi"]:
            print(f"  minivi / PyTorch = {m / t:.2f}")
    elif not have_torch:
        print("  PyTorch: not installed (or no CUDA build for this device) -- comparison skipped")


if __name__ == "__main__":
    sys.path.insert(0, HERE)
    main()
