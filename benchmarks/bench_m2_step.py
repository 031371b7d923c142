"""One training step of chapter 10's M2 (y enumerated): minivi's library model vs the same model in PyTorch.

M2 (Kingma et al. 2014) on binary pixels, float32: q(y|x) 784-256-10, q(z|x,y) 784(+y)-256-16,
p(x|y,z) 16(+y)-256-784, softplus units. One step = J^α on a labelled batch of 100 and an unlabelled batch
of 100 (its bound enumerates all 10 labels: a (10, 100, 784) decoder output), backward, and an Adam step.
Both start from the same weights and use the same ε, and their losses are checked equal before timing.

    python benchmarks/bench_m2_step.py
"""
from __future__ import annotations

import argparse
import math
import sys

import numpy as np

import minivi as mv
from _timing import alternate_processes, machine, serve, try_torch

D, H, Z, K, B = 784, 256, 16, 10, 100
ALPHA, LR = 10.0, 3e-3


def _setup():
    from minivi.models.ssvae import M2

    rng = np.random.default_rng(0)
    model = M2(D, K, Z, (H,), rng=mv.default_rng(0))
    x_l = (rng.random((B, D)) < 0.3).astype(np.float32)
    x_u = (rng.random((B, D)) < 0.3).astype(np.float32)
    y_l = rng.integers(0, K, B)
    return model, x_l, y_l, x_u


def _weights(model) -> dict[str, np.ndarray]:
    return {n: p.numpy().copy() for n, p in model.named_parameters() if p.requires_grad}


def _first_noise():
    """The ε that M2.loss draws first from default_rng(1): (1, 100, 16) for the labelled bound, then
    (1, 10, 100, 16) for the enumerated unlabelled one."""
    r = np.random.default_rng(1)
    return [r.standard_normal((1, B, Z)).astype(np.float32), r.standard_normal((1, K, B, Z)).astype(np.float32)]


def minivi_worker() -> None:
    model, x_l, y_l, x_u = _setup()
    opt = mv.optim.Adam(model.parameters(), lr=LR)
    rng = np.random.default_rng(1)

    def step():
        loss, _ = model.loss(x_l, y_l, x_u, rng, ALPHA)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    serve({"minivi": step}, warmup=3)


def torch_loss(torch, W, x_l, y_l, x_u, e_l, e_u):
    """J^α per digit, written out in PyTorch (the same equations as M2.loss)."""
    F = torch.nn.functional
    sp = F.softplus

    def neg_L(x, y, eps):                       # y: (n,) or (K, n); eps: (1, *y.shape, Z)
        h = sp(x @ W["enc_z_x.W"] + W["enc_z_x.b"] + W["enc_z_y.W"][y])
        loc, scale = h @ W["enc_loc.W"] + W["enc_loc.b"], torch.exp(h @ W["enc_log_scale.W"] + W["enc_log_scale.b"])
        z = loc + scale * eps
        eta = sp(z @ W["dec_z.W"] + W["dec_z.b"] + W["dec_y.W"][y]) @ W["dec_out.W"] + W["dec_out.b"]
        rec = (x * eta - sp(eta)).sum(-1).mean(0)
        kl = (-torch.log(scale) + 0.5 * (scale ** 2 + loc ** 2) - 0.5).sum(-1)
        return rec - kl - math.log(K)

    def log_q_y(x):
        return F.log_softmax(sp(x @ W["enc_y.layers.0.W"] + W["enc_y.layers.0.b"]) @ W["enc_y.layers.2.W"]
                             + W["enc_y.layers.2.b"], -1)

    lab = neg_L(x_l, y_l, e_l)
    lq = log_q_y(x_u)
    q = lq.exp()
    ys = torch.arange(K)[:, None].expand(K, x_u.shape[0])
    unl = (q * neg_L(x_u, ys, e_u).T).sum(-1) - (q * lq).sum(-1)
    ce = -log_q_y(x_l)[torch.arange(len(y_l)), y_l]
    return -lab.mean() - unl.mean() + ALPHA * ce.mean()


def torch_worker() -> None:
    import torch

    model, x_l, y_l, x_u = _setup()
    with mv.no_grad():
        reference = float(model.loss(x_l, y_l, x_u, np.random.default_rng(1), ALPHA)[0].item())
    W = {n: torch.tensor(v, requires_grad=True) for n, v in _weights(model).items()}
    missing = {"enc_y.layers.0.W", "enc_z_x.W", "dec_out.W"} - set(W)
    assert not missing, f"M2's parameter names changed: {sorted(W)}"
    data = [torch.tensor(x_l), torch.tensor(y_l), torch.tensor(x_u)]
    value = torch_loss(torch, W, *data, *[torch.tensor(e) for e in _first_noise()]).item()
    assert abs(value - reference) < 1e-4 * abs(reference), (value, reference)
    opt = torch.optim.Adam(W.values(), lr=LR)

    def step():                                 # fresh ε every step, as minivi draws
        loss = torch_loss(torch, W, *data, torch.randn(1, B, Z), torch.randn(1, K, B, Z))
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    serve({f"torch ({torch.get_num_threads()} threads)": step}, warmup=3)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=11, help="alternating rounds (median reported)")
    ap.add_argument("--worker", choices=["minivi", "torch"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return minivi_worker() if args.worker == "minivi" else torch_worker()
    me = [sys.executable, __file__, "--worker"]
    workers = {"minivi": me + ["minivi"]}
    if try_torch() is not None:
        workers["torch"] = me + ["torch"]
    t = alternate_processes(workers, rounds=args.repeats)
    print(f"M2 step (y enumerated, K={K}), batches {B}+{B}, 784-{H}-{Z}, float32, Adam ({machine()}); "
          f"median of {args.repeats} alternating rounds, PyTorch in its own process")
    print(f"  minivi:  {t['minivi'] * 1e3:8.2f} ms")
    name = next((k for k in t if k.startswith("torch")), None)
    if name:
        print(f"  PyTorch eager, {name}: {t[name] * 1e3:8.2f} ms   minivi / torch = {t['minivi'] / t[name]:.3f}")
    else:
        print("  PyTorch: not installed (pip install torch) -- comparison skipped")


if __name__ == "__main__":
    main()
