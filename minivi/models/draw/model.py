"""DRAW: the Deep Recurrent Attentive Writer (Gregor et al. 2015), the talk's "generative models with attention".

An image is drawn on a canvas c in T steps. With h^dec_0 = 0, c_0 = 0 and σ the logistic function, each step
(the paper's eqs. 3-8):

    x̂_t = x − σ(c_{t−1})                                   (the error image: what is still missing)
    r_t = read(x, x̂_t, h^dec_{t−1})                         ([x, x̂] whole, or two N × N glimpses with attention)
    h^enc_t = LSTM^enc(h^enc_{t−1}, [r_t, h^dec_{t−1}])
    z_t ~ Q(z_t | h^enc_t) = N(μ(h^enc_t), diag σ(h^enc_t)²)
    h^dec_t = LSTM^dec(h^dec_{t−1}, z_t)
    c_t = c_{t−1} + write(h^dec_t)                           (a linear map of h^dec, or an N × N patch with attention)

and p(x | z_{1:T}) = Bernoulli(σ(c_T)), p(z_t) = N(0, I). The free energy is a DLGM's with T latent layers:

    F(x) = E_Q[log p(x | c_T)] − Σ_t KL[Q(z_t | h^enc_t) ‖ N(0, I)]     (= −(L^x + L^z) in the paper).

With T = 1 and no attention it is one encoder step, one Gaussian layer and one decoder step: a one-layer DLGM.
"""
from __future__ import annotations

import numpy as np

from ... import autodiff as mv
from ...autodiff import Tensor
from ...autodiff.random import rng_device
from ...distributions import Normal
from ... import nn, vi
from .attention import attention_params, filterbank, read_attention, write_attention


class DRAW(nn.Module):
    """DRAW for binary images of ``image_shape`` = (B, A) (height, width), flattened to rows of B·A pixels.

    Parameters
    ----------
    T : int                   number of drawing steps
    z_dim : int               width of each z_t
    enc_size, dec_size : int  LSTM widths
    attention : bool          read an N × N glimpse (``read_n``) and write an N × N patch (``write_n``)
    rng : Generator           draws the initial weights
    """

    def __init__(self, image_shape=(28, 28), T: int = 10, z_dim: int = 10, enc_size: int = 128, dec_size: int = 128,
                 attention: bool = False, read_n: int = 2, write_n: int = 5, *, rng):
        rng_device(rng)
        if T < 1 or z_dim < 1:
            raise ValueError(f"DRAW needs T >= 1 and z_dim >= 1, got T={T}, z_dim={z_dim}")
        self.B, self.A = (int(s) for s in image_shape)
        self.T, self.z_dim, self.attention = int(T), int(z_dim), bool(attention)
        self.read_n, self.write_n = int(read_n), int(write_n)
        read_size = 2 * self.read_n ** 2 if attention else 2 * self.A * self.B
        self.enc = nn.LSTMCell(read_size + dec_size, enc_size, rng=rng)
        self.dec = nn.LSTMCell(self.z_dim, dec_size, rng=rng)
        self.q_loc = nn.Linear(enc_size, self.z_dim, rng=rng)
        self.q_log_scale = nn.Linear(enc_size, self.z_dim, rng=rng)
        self.write_w = nn.Linear(dec_size, self.write_n ** 2 if attention else self.A * self.B, rng=rng)
        if attention:
            self.read_att = nn.Linear(dec_size, 5, rng=rng)
            self.write_att = nn.Linear(dec_size, 5, rng=rng)

    @property
    def x_dim(self) -> int:
        return self.A * self.B

    def _as_x(self, x) -> Tensor:
        if not isinstance(x, Tensor):
            x = mv.tensor(np.asarray(x), dtype=self.q_loc.W.dtype)
        if x.ndim != 2 or x.shape[1] != self.x_dim:
            raise ValueError(f"DRAW(image_shape=({self.B}, {self.A})) got data of shape {x.shape}: pass rows of "
                             f"{self.x_dim} pixels (x.reshape(len(x), -1))")
        return x

    # --- read and write ----------------------------------------------------------------------------
    def _window(self, layer, h_dec: Tensor, N: int):
        return attention_params(layer(h_dec), self.A, self.B, N)

    def read(self, x: Tensor, x_hat: Tensor, h_dec: Tensor):
        """r_t: [x, x̂] (n, 2AB) without attention; two γ F_Y · F_Xᵀ glimpses (n, 2N²) with. Also the window."""
        if not self.attention:
            return mv.concatenate([x, x_hat], axis=-1), None
        gx, gy, s2, delta, gamma = win = self._window(self.read_att, h_dec, self.read_n)
        fx, fy = filterbank(gx, gy, s2, delta, self.read_n, self.A, self.B)
        n = x.shape[0]
        g = [read_attention(v.reshape(n, self.B, self.A), fx, fy, gamma).reshape(n, -1) for v in (x, x_hat)]
        return mv.concatenate(g, axis=-1), win

    def write(self, h_dec: Tensor):
        """The canvas update (n, AB): W h^dec without attention; (1/γ) F_Yᵀ w F_X with. Also the window."""
        w = self.write_w(h_dec)
        if not self.attention:
            return w, None
        gx, gy, s2, delta, gamma = win = self._window(self.write_att, h_dec, self.write_n)
        fx, fy = filterbank(gx, gy, s2, delta, self.write_n, self.A, self.B)
        n = h_dec.shape[0]
        return write_attention(w.reshape(n, self.write_n, self.write_n), fx, fy, gamma).reshape(n, -1), win

    # --- the free energy ---------------------------------------------------------------------------
    def _run(self, x: Tensor, rng, record: bool = False):
        n = x.shape[0]
        h_enc = c_enc = None
        h_dec, c_dec = self.dec.initial_state(n)
        c = mv.zeros(n, self.x_dim, dtype=x.dtype, device=x.device)
        kl = 0.0
        canvases, reads, writes = [], [], []
        for _ in range(self.T):
            x_hat = x - mv.sigmoid(c)
            r, rwin = self.read(x, x_hat, h_dec)
            h_enc, c_enc = self.enc(mv.concatenate([r, h_dec], axis=-1), None if h_enc is None else (h_enc, c_enc))
            q = Normal(self.q_loc(h_enc), mv.exp(self.q_log_scale(h_enc)))
            z = q.rsample(rng)
            kl = kl + vi.kl_term(q, Normal(0.0, 1.0))                       # closed form, (n,)
            h_dec, c_dec = self.dec(z, (h_dec, c_dec))
            dc, wwin = self.write(h_dec)
            c = c + dc
            if record:
                canvases.append(mv.sigmoid(c).numpy().reshape(n, self.B, self.A))
                reads.append(_window_array(rwin))
                writes.append(_window_array(wwin))
        log_lik = (x * c - mv.softplus(c)).sum(axis=-1)                      # log Bernoulli(x | σ(c_T))
        return log_lik, kl, (canvases, reads, writes)

    def elbo(self, x, rng, n_samples: int = 1) -> Tensor:
        """F(x) per image, shape (n,): E_Q[log p(x | c_T)] − Σ_t KL[Q(z_t|h^enc_t) ‖ N(0, I)], averaged over
        ``n_samples`` draws of z_{1:T}."""
        x = self._as_x(x)
        n = x.shape[0]
        xs = mv.concatenate([x] * n_samples, axis=0) if n_samples > 1 else x
        log_lik, kl, _ = self._run(xs, rng)
        return (log_lik - kl).reshape(n_samples, n).mean(axis=0)

    def loss_terms(self, x, rng) -> tuple[np.ndarray, np.ndarray]:
        """L^x = −log p(x | c_T) and L^z = Σ_t KL per image (NumPy, one draw): the paper's two losses."""
        with mv.no_grad():
            log_lik, kl, _ = self._run(self._as_x(x), rng)
        return -log_lik.numpy(), kl.numpy()

    # --- watch it draw -----------------------------------------------------------------------------
    def reconstruct_steps(self, x, rng) -> dict[str, np.ndarray]:
        """Run the encoder on ``x`` and record every step: ``canvas`` σ(c_t) (T, n, B, A) and, with attention,
        ``read``/``write`` windows (T, n, 3) = (g_X, g_Y, δ) in pixel units (1-based)."""
        with mv.no_grad():
            _, _, (canvases, reads, writes) = self._run(self._as_x(x), rng, record=True)
        return _steps(canvases, reads, writes)

    def sample(self, n: int, rng, record: bool = True) -> dict[str, np.ndarray] | np.ndarray:
        """Generate: z_t ~ N(0, I), h^dec_t = LSTM^dec(h^dec_{t−1}, z_t), c_t = c_{t−1} + write(h^dec_t).
        Returns the canvases σ(c_t) at every step, (T, n, B, A), and the write windows (``record=True``), or the
        final images (n, B, A)."""
        dtype = self.q_loc.W.dtype
        with mv.no_grad():
            h, cs = self.dec.initial_state(n)
            c = mv.zeros(n, self.x_dim, dtype=dtype)
            canvases, writes = [], []
            for _ in range(self.T):
                h, cs = self.dec(mv.randn(n, self.z_dim, rng=rng, dtype=dtype), (h, cs))
                dc, wwin = self.write(h)
                c = c + dc
                canvases.append(mv.sigmoid(c).numpy().reshape(n, self.B, self.A))
                writes.append(_window_array(wwin))
        steps = _steps(canvases, [None] * self.T, writes)
        return steps if record else steps["canvas"][-1]

    def extra_repr(self) -> str:
        return (f"image=({self.B}, {self.A}), T={self.T}, z_dim={self.z_dim}, attention={self.attention}"
                + (f", read {self.read_n}x{self.read_n}, write {self.write_n}x{self.write_n}" if self.attention else ""))


def _window_array(win) -> np.ndarray | None:
    if win is None:
        return None
    gx, gy, _, delta, _ = win
    return np.stack([gx.numpy(), gy.numpy(), delta.numpy()], axis=-1)


def _steps(canvases, reads, writes) -> dict[str, np.ndarray]:
    out = {"canvas": np.stack(canvases)}
    if reads[0] is not None:
        out["read"] = np.stack(reads)
    if writes[0] is not None:
        out["write"] = np.stack(writes)
    return out
