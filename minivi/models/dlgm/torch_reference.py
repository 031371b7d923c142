"""The same VAE (one stochastic layer, Bernoulli likelihood) written in PyTorch: the outside reference.

Chapter 09 trains it beside ``DLGM`` (same architecture, initialisation scheme, optimiser, epochs and data
stream) and ``tests/test_dlgm.py`` checks that, given the same weights and the same noise ε, both compute
the same free energy and gradients. Nothing here is used by minivi itself; torch is imported on first use.

    vae = TorchVAE(784, (200, 200), 20, seed=0)           # Glorot-uniform weights, zero biases, tanh
    vae.copy_from(dlgm)                                   # or: the DLGM's own weights
    F = vae.elbo(x, eps)                                  # eps (S, n, 20): z = μ + σ ε
"""
from __future__ import annotations

import math

import numpy as np


def _torch():
    try:
        import torch
    except ImportError as err:  # pragma: no cover - the chapter says so and skips
        raise ImportError("the PyTorch reference needs torch (pip install torch)") from err
    return torch


def TorchVAE(x_dim: int, hidden=(200, 200), z_dim: int = 20, *, seed: int = 0, dtype: str = "float32"):  # noqa: N802
    """A ``torch.nn.Module`` VAE: encoder x → hidden (tanh) → (μ, log σ), decoder z → reversed hidden (tanh) → η."""
    torch = _torch()
    nn = torch.nn
    tdtype = getattr(torch, dtype)

    def mlp(sizes, last_tanh):
        layers = []
        for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(a, b, dtype=tdtype))
            if i < len(sizes) - 2 or last_tanh:
                layers.append(nn.Tanh())
        return nn.Sequential(*layers)

    class _VAE(nn.Module):
        def __init__(self):
            super().__init__()
            sizes = (x_dim,) + tuple(hidden)
            self.enc = mlp(sizes, last_tanh=True)
            self.enc_loc = nn.Linear(sizes[-1], z_dim, dtype=tdtype)
            self.enc_log_scale = nn.Linear(sizes[-1], z_dim, dtype=tdtype)
            self.dec = mlp((z_dim,) + tuple(hidden)[::-1] + (x_dim,), last_tanh=False)
            g = torch.Generator().manual_seed(seed)
            for m in self.modules():                       # minivi's scheme: Glorot uniform, zero biases
                if isinstance(m, nn.Linear):
                    nn.init.xavier_uniform_(m.weight, generator=g)
                    nn.init.zeros_(m.bias)

        def linears(self):
            return [m for m in self.modules() if isinstance(m, nn.Linear)]

        def copy_from(self, dlgm):
            """Take the weights of a one-layer ``DLGM`` (minivi stores W as (in, out), torch as (out, in))."""
            from minivi import nn as mnn

            theirs = [m for m in dlgm.modules() if isinstance(m, mnn.Linear)]
            ours = self.linears()
            if len(theirs) != len(ours):
                raise ValueError(f"architectures differ: {len(theirs)} linear layers vs {len(ours)}")
            with torch.no_grad():
                for t, m in zip(ours, theirs):
                    t.weight.copy_(torch.tensor(np.asarray(m.W.numpy()).T))
                    t.bias.copy_(torch.tensor(m.b.numpy()))
            return self

        def elbo(self, x, eps):
            """F(y, q) per data point: mean_s log p(y | z^s) − KL[q(z|y) ‖ N(0, I)],  z^s = μ + σ ε^s."""
            h = self.enc(x)
            loc, log_scale = self.enc_loc(h), self.enc_log_scale(h)
            scale = torch.exp(log_scale)
            z = loc + scale * eps                                               # (S, n, d)
            eta = self.dec(z)
            log_lik = (x * eta - nn.functional.softplus(eta)).sum(-1).mean(0)
            kl = (-log_scale + 0.5 * (scale * scale + loc * loc) - 0.5).sum(-1)
            return log_lik - kl

        @torch.no_grad()
        def log_likelihood(self, x, n_samples: int, rng: np.random.Generator, batch_size: int = 20):
            """Importance-sampled log p(y) with q(z|y) as proposal (draws from ``rng``), NumPy (n,)."""
            h = self.enc(x)
            loc, log_scale = self.enc_loc(h), self.enc_log_scale(h)
            scale = torch.exp(log_scale)
            chunks = []
            for start in range(0, n_samples, batch_size):
                s = min(batch_size, n_samples - start)
                eps = torch.tensor(rng.standard_normal((s,) + tuple(loc.shape)), dtype=loc.dtype)
                z = loc + scale * eps
                eta = self.dec(z)
                log_w = ((x * eta - nn.functional.softplus(eta)).sum(-1)
                         - 0.5 * (z * z).sum(-1) + 0.5 * (eps * eps).sum(-1) + log_scale.sum(-1))
                chunks.append(log_w)
            log_w = torch.cat(chunks).double()
            return (torch.logsumexp(log_w, 0) - math.log(n_samples)).numpy()

    return _VAE()


def train_torch_vae(vae, x_train: np.ndarray, epochs: int, rng: np.random.Generator, batch_size: int = 100,
                    lr: float = 1e-3) -> list[float]:
    """Adam on −F with dynamic binarisation (fresh 0/1 pixels every epoch), the same loop as the chapter's
    minivi run: minibatches from ``minivi.data.minibatches`` and noise ε from ``rng``. Returns the mean
    −F per epoch."""
    torch = _torch()
    from minivi.data import minibatches

    opt = torch.optim.Adam(vae.parameters(), lr=lr)
    dtype = next(vae.parameters()).dtype
    z_dim = vae.enc_loc.out_features
    losses = []
    for _ in range(epochs):
        total, n = 0.0, 0
        for (xb,) in minibatches(x_train, batch_size=batch_size, rng=rng, binarize="dynamic"):
            x = torch.tensor(xb, dtype=dtype)
            eps = torch.tensor(rng.standard_normal((1, len(xb), z_dim)), dtype=dtype)
            loss = -vae.elbo(x, eps).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total, n = total + loss.item(), n + 1
        losses.append(total / n)
    return losses
