"""DRAW's selective attention (Gregor et al. 2015, section 3.2): an N × N grid of Gaussian filters.

From the decoder state, five numbers (g̃_X, g̃_Y, log σ², log δ̃, log γ) = W h^dec + b set the grid's centre, stride,
filter variance and intensity, for an image of width A and height B (pixels numbered 1..A, 1..B):

    g_X = (A + 1)/2 (g̃_X + 1),   g_Y = (B + 1)/2 (g̃_Y + 1),   δ = (max(A, B) − 1)/(N − 1) δ̃
    μ_X^i = g_X + (i − N/2 − 1/2) δ,   μ_Y^j = g_Y + (j − N/2 − 1/2) δ            (i, j = 1..N)
    F_X[i, a] = exp(−(a − μ_X^i)²/(2σ²)) / Z_X,   F_Y[j, b] = exp(−(b − μ_Y^j)²/(2σ²)) / Z_Y

(each filter normalised by Z + ε, ε = 1e-8, so a filter that falls off the image does not divide by zero). read(x) = γ F_Y x F_Xᵀ (an N × N glimpse) and
write(w) = (1/γ̂) F̂_Yᵀ w F̂_X (an N × N patch spread back over the B × A canvas).
"""
from __future__ import annotations

import numpy as np

from ... import autodiff as mv
from ...autodiff import Tensor


def attention_params(p: Tensor, A: int, B: int, N: int) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """(g_X, g_Y, σ², δ, γ), each (n,), from the decoder's five outputs p (n, 5)."""
    gx = (A + 1) / 2 * (p[:, 0] + 1)
    gy = (B + 1) / 2 * (p[:, 1] + 1)
    sigma2, delta, gamma = mv.exp(p[:, 2]), (max(A, B) - 1) / max(N - 1, 1) * mv.exp(p[:, 3]), mv.exp(p[:, 4])
    return gx, gy, sigma2, delta, gamma


def filterbank(gx: Tensor, gy: Tensor, sigma2: Tensor, delta: Tensor, N: int, A: int, B: int,
               eps: float = 1e-8) -> tuple[Tensor, Tensor]:
    """F_X (n, N, A) and F_Y (n, N, B): N Gaussian filters per axis, centres μ^i = g + (i − N/2 − 1/2) δ."""
    grid = mv.tensor(np.arange(1, N + 1) - N / 2 - 0.5, dtype=gx.dtype, device=gx.device)       # (N,)
    mu_x = mv.expand_dims(gx, -1) + grid * mv.expand_dims(delta, -1)                               # (n, N)
    mu_y = mv.expand_dims(gy, -1) + grid * mv.expand_dims(delta, -1)
    s2 = mv.expand_dims(mv.expand_dims(sigma2, -1), -1)                                            # (n, 1, 1)

    def bank(mu, size):
        pix = mv.tensor(np.arange(1, size + 1), dtype=gx.dtype, device=gx.device)                 # (size,)
        d = pix - mv.expand_dims(mu, -1)                                                           # (n, N, size)
        f = mv.exp(-d * d / (2 * s2))
        return f / (f.sum(axis=-1, keepdims=True) + eps)

    return bank(mu_x, A), bank(mu_y, B)


def read_attention(x: Tensor, fx: Tensor, fy: Tensor, gamma: Tensor) -> Tensor:
    """γ F_Y x F_Xᵀ for images x (n, B, A): glimpses (n, N, N)."""
    return mv.expand_dims(mv.expand_dims(gamma, -1), -1) * (fy @ x @ mv.swapaxes(fx, -1, -2))


def write_attention(w: Tensor, fx: Tensor, fy: Tensor, gamma: Tensor) -> Tensor:
    """(1/γ) F_Yᵀ w F_X for patches w (n, N, N): canvas updates (n, B, A)."""
    return (mv.swapaxes(fy, -1, -2) @ w @ fx) / mv.expand_dims(mv.expand_dims(gamma, -1), -1)
