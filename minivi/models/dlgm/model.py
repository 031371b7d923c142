"""Deep latent Gaussian models (Rezende, Mohamed & Wierstra, 2014; Kingma & Welling, 2014).

The generative model (the talk's "Deep latent Gaussian models"), L stochastic layers, top last:

    z_L ~ N(0, I)
    z_l ~ N(f_l(z_{l+1}), Σ_l)          l = L-1, …, 1     (f_l: a deterministic MLP, Σ_l diagonal, learned)
    y   ~ p(y | g(z_1))                 (the observation model: a GLM on the last deterministic layer)

The inference network (Rezende et al. 2014's recognition model, "amortised inference"): one
deterministic stack d_1 = h_1(y), d_2 = h_2(d_1), … read bottom-up, and every stochastic layer
conditionally independent given y,

    q(z | y) = Π_l N(z_l; μ_l(d_l), diag σ_l(d_l)²).

Trained by maximising the free energy (chapter 07, ``minivi.vi``), estimated with the pathwise estimator
(chapter 08), z = μ + σ ⊙ ε:

    F(y, q) = E_q[log p(y | z_1)] − KL[q(z_L|y) ‖ N(0, I)] − Σ_{l<L} E_q[KL[q(z_l|y) ‖ p(z_l | z_{l+1})]]

(each KL in closed form given a draw of the layer above; for an untrained 2-layer model its spread was 2-4x
smaller than that of log p(y, z) − log q(z|y), which ``kl="mc"`` uses, though near the exact posterior the
Monte Carlo form wins). One stochastic layer is the VAE; with no deterministic layers and a Gaussian
likelihood it is factor analysis (PPCA when the noise is isotropic).
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

import minivi as mv
from minivi import Tensor, nn, vi
from minivi.autodiff.random import rng_device
from minivi.distributions import Bernoulli, Distribution, Laplace, Normal, Poisson


def _gaussian(model: "DLGM", eta: Tensor) -> Distribution:
    return Normal(eta, mv.exp(model.log_sigma_y))


def _laplace(model: "DLGM", eta: Tensor) -> Distribution:
    return Laplace(eta, mv.exp(model.log_sigma_y))


#: The observation models of the link table, decoder output η ↦ p(y | η). "gaussian" and "laplace" learn
#: one log-scale per data dimension (``model.log_sigma_y``).
LIKELIHOODS: dict[str, Callable[["DLGM", Tensor], Distribution]] = {
    "bernoulli": lambda model, eta: Bernoulli(logits=eta),
    "gaussian": _gaussian,
    "laplace": _laplace,
    "poisson": lambda model, eta: Poisson(log_rate=eta),
}


def _widths(hidden, n_layers: int) -> list[tuple[int, ...]]:
    """``hidden`` as one tuple of widths per stochastic layer: the same tuple for every layer, or one each."""
    hidden = tuple(hidden)
    if all(isinstance(h, (int, np.integer)) for h in hidden):
        return [tuple(int(h) for h in hidden)] * n_layers
    if len(hidden) != n_layers or not all(isinstance(h, (tuple, list)) for h in hidden):
        raise ValueError(f"hidden must be a tuple of widths, e.g. (200, 200), or one such tuple per stochastic layer "
                         f"({n_layers} here), got {hidden!r}")
    return [tuple(int(w) for w in h) for h in hidden]


def _net(sizes: Sequence[int], activation, rng, last_activation: bool) -> nn.Module:
    """An MLP through ``sizes``; ``last_activation`` also applies the activation after its last layer."""
    if len(sizes) < 2:
        return nn.Identity()
    return nn.MLP(sizes, activation, activation if last_activation else None, rng=rng)


def _flat(fn: Callable[[Tensor], Tensor], z: Tensor) -> Tensor:
    """Apply a row-wise network to z of shape (*lead, d): one matrix product over all leading axes."""
    out = fn(z.reshape(-1, z.shape[-1]))
    return out.reshape(*z.shape[:-1], out.shape[-1])


class DLGM(nn.Module):
    """A deep latent Gaussian model with its inference network.

    Parameters
    ----------
    x_dim : int
        Data dimensions (784 for MNIST).
    hidden : tuple of int, or one tuple per stochastic layer
        Deterministic layer widths, the same in the encoder (y → z_1, z_1's features → z_2, …) and the
        decoder (z_{l+1} → z_l, z_1 → y). ``()`` makes every map linear.
    z_dims : tuple of int
        Widths of the stochastic layers, bottom (nearest the data) first, top last.
    likelihood : "bernoulli", "gaussian", "laplace", "poisson" or a function ``(model, eta) -> Distribution``
        p(y | η) with η the decoder's last linear layer (any ``minivi.distributions`` likelihood).
    rng : Generator
        Draws the initial weights (Glorot uniform for tanh/identity layers, He for ReLU, zero biases).
    activation : str or function
        The deterministic layers' activation (tanh, as in the IWAE paper's models).
    """

    def __init__(self, x_dim: int, hidden: Sequence = (200, 200), z_dims: Sequence[int] = (20,),
                 likelihood: str | Callable = "bernoulli", *, rng, activation="tanh"):
        rng_device(rng)
        z_dims = tuple(int(d) for d in z_dims)
        if x_dim < 1 or not z_dims or min(z_dims) < 1:
            raise ValueError(f"DLGM needs x_dim >= 1 and at least one stochastic layer of width >= 1, "
                             f"got x_dim={x_dim}, z_dims={z_dims}")
        if isinstance(likelihood, str) and likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {sorted(LIKELIHOODS)} or a function (model, eta) -> "
                             f"Distribution, got {likelihood!r}")
        self.x_dim, self.z_dims, self.hidden = int(x_dim), z_dims, _widths(hidden, len(z_dims))
        self.likelihood_name = likelihood if isinstance(likelihood, str) else getattr(likelihood, "__name__", "custom")
        self._likelihood = LIKELIHOODS[likelihood] if isinstance(likelihood, str) else likelihood
        L, below = len(z_dims), (self.x_dim,) + z_dims[:-1]     # below[l]: what stochastic layer l explains
        # inference network: deterministic stack bottom-up, a Gaussian head per stochastic layer
        self.enc, self.enc_loc, self.enc_log_scale = [], [], []
        width_in = self.x_dim
        for l in range(L):
            sizes = (width_in,) + self.hidden[l]
            self.enc.append(_net(sizes, activation, rng, last_activation=True))
            self.enc_loc.append(nn.Linear(sizes[-1], z_dims[l], rng=rng))
            self.enc_log_scale.append(nn.Linear(sizes[-1], z_dims[l], rng=rng))
            width_in = sizes[-1]
        # generative model: f_l maps z_{l+1} to the mean of layer below (dec[0] maps z_1 to η of p(y|η))
        self.dec = [_net((z_dims[l],) + self.hidden[l][::-1] + (below[l],), activation, rng, last_activation=False)
                    for l in range(L)]
        dtype, device = self.enc_loc[0].W.dtype, self.enc_loc[0].W.device
        # log of the diagonal of Σ_l^½ for every layer below the top
        self.log_sigma_z = [nn.Parameter(np.zeros(d), dtype=dtype, device=device) for d in z_dims[:-1]]
        self.log_sigma_y = nn.Parameter(np.zeros(self.x_dim), dtype=dtype, device=device)
        if isinstance(likelihood, str) and likelihood in ("bernoulli", "poisson"):
            self.log_sigma_y.requires_grad = False     # unused: no gradient, not a parameter

    # --- the pieces ------------------------------------------------------------------------------
    def _as_x(self, x) -> Tensor:
        if not isinstance(x, Tensor):
            x = mv.tensor(np.asarray(x) if not hasattr(x, "__cuda_array_interface__") else x,
                          dtype=self.enc_loc[0].W.dtype, device=self.enc_loc[0].W.device)
        if x.ndim != 2 or x.shape[1] != self.x_dim:
            raise ValueError(f"DLGM(x_dim={self.x_dim}) got data of shape {x.shape}: pass a batch of shape "
                             f"(n, {self.x_dim}) (flatten images: x.reshape(len(x), -1); one digit: x[None])")
        return x

    def posterior(self, x) -> list[Normal]:
        """q(z_l | y) for every stochastic layer l (bottom first): Normals of batch shape (n, z_dims[l])."""
        h, qs = self._as_x(x), []
        for enc, loc, log_scale in zip(self.enc, self.enc_loc, self.enc_log_scale):
            h = enc(h)
            qs.append(Normal(loc(h), mv.exp(log_scale(h))))
        return qs

    def prior(self, l: int, z_above: Tensor | None) -> Normal:
        """p(z_l | z_{l+1}) = N(f_l(z_{l+1}), Σ_l); the top layer's prior is N(0, I)."""
        if l == len(self.z_dims) - 1:
            return Normal(0.0, 1.0)
        return Normal(_flat(self.dec[l + 1], z_above), mv.exp(self.log_sigma_z[l]))

    def observation(self, z1: Tensor) -> Distribution:
        """p(y | z_1) = p(y | η = g(z_1)), batch shape (*z1.shape[:-1], x_dim)."""
        return self._likelihood(self, _flat(self.dec[0], z1))

    def log_lik_pixels(self, x: Tensor, z1: Tensor) -> Tensor:
        """log p(y_j | z_1) for every data dimension j: shape (*z1.shape[:-1], x_dim).

        Bernoulli: y η − softplus(η), written out (no σ(η) built, and grey levels y ∈ [0, 1] allowed: then
        it is the cross-entropy, as in chapter 05's auto-encoder)."""
        eta = _flat(self.dec[0], z1)
        if self._likelihood is LIKELIHOODS["bernoulli"]:
            return x * eta - mv.softplus(eta)
        return self._likelihood(self, eta).log_prob(x)

    def log_lik(self, x: Tensor, z1: Tensor) -> Tensor:
        """log p(y | z_1) summed over the data dimensions: shape z1.shape[:-1] (e.g. (S, n))."""
        return self.log_lik_pixels(x, z1).sum(axis=-1)

    def log_joint(self, x: Tensor, z: Tensor) -> Tensor:
        """log p(y, z) = log p(y | z_1) + Σ_{l<L} log p(z_l | z_{l+1}) + log p(z_L) for z = [z_1, …, z_L]
        concatenated on the last axis, shape (S, n, Σ z_dims): returns (S, n)."""
        zs = self.split(z)
        out = self.log_lik(x, zs[0])
        for l, zl in enumerate(zs):
            out = out + self.prior(l, zs[l + 1] if l + 1 < len(zs) else None).log_prob(zl).sum(axis=-1)
        return out

    def split(self, z: Tensor) -> list[Tensor]:
        """[z_1, …, z_L] from their concatenation on the last axis."""
        if len(self.z_dims) == 1:
            return [z]
        edges = np.cumsum((0,) + self.z_dims)
        return [z[..., int(a):int(b)] for a, b in zip(edges[:-1], edges[1:])]

    def q(self, x) -> Normal:
        """q(z | y) of all stochastic layers as one diagonal Normal over z = [z_1, …, z_L] (they are
        conditionally independent given y): batch shape (n, Σ z_dims)."""
        return self._joint(self.posterior(x))

    @staticmethod
    def _joint(qs: list[Normal]) -> Normal:
        if len(qs) == 1:
            return qs[0]
        return Normal(mv.concatenate([q.loc for q in qs], axis=-1), mv.concatenate([q.scale for q in qs], axis=-1))

    # --- the free energy and bounds (chapter 07's vi on this model) ---------------------------------
    def elbo(self, x, rng, n_samples: int = 1, kl: str = "analytic") -> Tensor:
        """The free energy F(y, q) per data point, shape (n,): a differentiable lower bound on log p(y),
        with ``n_samples`` reparameterised draws z = μ + σ ⊙ ε (chapter 08's pathwise estimator).

        One stochastic layer (``vi.free_energy``): F = E_q[log p(y|z)] − KL[q(z|y) ‖ N(0, I)], the KL in
        closed form (``kl="analytic"``) or by Monte Carlo (``kl="mc"``). Several layers, ``"analytic"``
        (Rezende et al. 2014): each layer's KL in closed form given a draw of the layer above,

            F = E_q[log p(y | z_1)] − KL[q(z_L|y) ‖ N(0, I)] − Σ_{l<L} E_q[KL[q(z_l|y) ‖ p(z_l | z_{l+1})]];

        ``"mc"``: F = E_q[log p(y, z) − log q(z|y)] (``vi.free_energy`` on the log-joint).
        """
        x = self._as_x(x)
        qs = self.posterior(x)
        q = self._joint(qs)
        if len(self.z_dims) == 1:
            return vi.free_energy(lambda z: self.log_lik(x, z), q, Normal(0.0, 1.0), rng, n_samples, kl)
        if kl == "mc":
            return vi.free_energy(lambda z: self.log_joint(x, z), q, None, rng, n_samples, kl)
        if kl != "analytic":
            raise ValueError(f"kl must be 'analytic' or 'mc', got {kl!r}")
        zs = self.split(q.rsample(rng, (n_samples,)))                        # the same draws as kl="mc"
        f = self.log_lik(x, zs[0])                                            # (S, n)
        for l, ql in enumerate(qs):
            f = f - vi.kl_term(ql, self.prior(l, zs[l + 1] if l + 1 < len(zs) else None))   # (S, n) or (n,)
        return f.mean(axis=0)

    def iwae(self, x, rng, n_samples: int) -> Tensor:
        """The importance-weighted bound (Burda et al. 2016), shape (n,), differentiable (``vi.iwae_bound``):

            L_K = E[log (1/K) Σ_k p(y, z^k) / q(z^k | y)],   L_1 = F  ≤  L_K  ≤  log p(y).
        """
        x = self._as_x(x)
        return vi.iwae_bound(lambda z: self.log_joint(x, z), self.q(x), None, rng, n_samples)

    def log_likelihood(self, x, n_samples: int, rng, batch_size: int | None = None, return_se: bool = False):
        """Importance-sampled log p(y) with the inference network as proposal (``vi.log_marginal_is``),
        NumPy array (n,):

            log p(y) ≈ log (1/K) Σ_k w_k,    w_k = p(y, z^k) / q(z^k | y),   z^k ~ q(z | y).

        Consistent as K → ∞ (a stochastic lower bound in expectation). Draws are made ``batch_size`` at a
        time (default: about 2,000 rows of decoder work per chunk: bounded memory, cache-sized arrays).
        ``return_se=True`` also returns the delta-method standard error √(1/ESS − 1/K) per data point.
        """
        x = self._as_x(x)
        batch_size = batch_size or max(1, 2_000 // x.shape[0])
        with mv.no_grad():
            est, ess = vi.log_marginal_is(lambda z: self.log_joint(x, z), self.q(x), None, rng, n_samples,
                                          batch_size)
        return (est, vi.is_log_stderr(ess, n_samples)) if return_se else est

    # --- explain, simulate -------------------------------------------------------------------------
    def encode(self, x, layer: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Posterior mean and standard deviation of q(z_layer | y): two arrays (n, z_dims[layer])."""
        with mv.no_grad():
            q = self.posterior(x)[layer]
            return q.loc.numpy(), q.scale.numpy()

    def decode(self, z1) -> np.ndarray:
        """The mean of p(y | z_1) for z_1 of shape (n, z_dims[0]): array (n, x_dim)."""
        with mv.no_grad():
            z1 = z1 if isinstance(z1, Tensor) else mv.tensor(z1, dtype=self.enc_loc[0].W.dtype)
            return self.observation(z1).mean.numpy()

    def reconstruct(self, x, rng=None) -> np.ndarray:
        """The mean of p(y | z) at z = the posterior means (``rng=None``) or at a draw z ~ q(z | y)."""
        with mv.no_grad():
            qs = self.posterior(x)
            z1 = qs[0].loc if rng is None else qs[0].sample(rng)
            return self.observation(z1).mean.numpy()

    def sample_latents(self, n: int, rng) -> list[Tensor]:
        """Ancestral draws z_L ~ N(0, I), z_l ~ p(z_l | z_{l+1}): list of (n, z_dims[l]), bottom first."""
        dtype, device = self.enc_loc[0].W.dtype, self.enc_loc[0].W.device
        with mv.no_grad():
            zs = [mv.randn(n, self.z_dims[-1], rng=rng, dtype=dtype, device=device)]
            for l in range(len(self.z_dims) - 2, -1, -1):
                zs.insert(0, self.prior(l, zs[0]).sample(rng))
        return zs

    def sample(self, n: int, rng) -> np.ndarray:
        """n new data points: the means of p(y | z) for z drawn from the prior, array (n, x_dim)."""
        with mv.no_grad():
            return self.observation(self.sample_latents(n, rng)[0]).mean.numpy()

    def active_units(self, x, threshold: float = 1e-2, layer: int = 0) -> np.ndarray:
        """Burda et al.'s activity statistic A_u = Cov_y(E_q[z_u | y]) per latent unit, array (z_dims[layer],);
        a unit is *active* when A_u > ``threshold`` (else the posterior ignores y: posterior collapse)."""
        loc, _ = self.encode(x, layer)
        return np.asarray(loc, dtype=np.float64).var(axis=0)

    # --- predict: missing data -----------------------------------------------------------------------
    def impute(self, y, observed_mask, rng, method: str = "markov", n_steps: int = 50, n_samples: int = 500,
               resample: bool = False, init: float | np.ndarray = 0.5) -> np.ndarray:
        """Fill in the missing entries of ``y`` (n, x_dim); observed entries are returned unchanged.

        ``method="markov"``: Rezende et al. 2014 (appendix): start the missing entries at ``init``, then
        ``n_steps`` times draw z ~ q(z | y) and set the missing entries to the mean of p(y | z), keeping the
        observed ones clamped. ``method="importance"``: z^k ~ q(z | y_filled) (K = ``n_samples``), weights
        w_k ∝ p(y_obs | z^k) p(z^k) / q(z^k | y_filled); returns Σ_k w̃_k E[y_mis | z^k] (the posterior
        predictive mean), or with ``resample=True`` E[y_mis | z^k] for one k drawn with probability w̃_k
        (one imputation per call). See ``minivi.models.dlgm.impute``.
        """
        from .impute import importance_impute, markov_impute

        if method == "markov":
            return markov_impute(self, y, observed_mask, rng, n_steps=n_steps, init=init)
        if method == "importance":
            return importance_impute(self, y, observed_mask, rng, n_samples=n_samples, resample=resample, init=init)
        raise ValueError(f"method must be 'markov' or 'importance', got {method!r}")

    def extra_repr(self) -> str:
        return (f"x_dim={self.x_dim}, hidden={self.hidden}, z_dims={self.z_dims}, "
                f"likelihood={self.likelihood_name!r}")

