"""M2: the semi-supervised deep generative model of Kingma, Mohamed, Rezende & Welling (2014).

The talk's "Semi-supervised learning": the class label is one more latent variable, observed for a few
digits and inferred for the rest. The generative model and its inference networks:

    p(y) = Cat(1/K),   p(z) = N(0, I),   p(x | y, z) = p(x | η = f_θ(y, z))     (Bernoulli or Gaussian)
    q(y | x) = Cat(π_φ(x))                   (a classifier)
    q(z | x, y) = N(μ_φ(x, y), diag σ_φ(x, y)²)

Two bounds. A labelled pair (x, y) bounds log p(x, y):

    log p(x, y) ≥ −L(x, y) = E_q(z|x,y)[log p(x | y, z)] + log p(y) − KL[q(z | x, y) ‖ N(0, I)]

An unlabelled x treats y as latent; summing it out by *enumerating* the K classes,

    log p(x) ≥ −U(x) = Σ_y q(y | x) (−L(x, y)) + H[q(y | x)]

q(y|x) appears in U only: it would learn from the unlabelled digits alone, so the paper adds the
classification loss of the labelled ones, weighted by α (Kingma et al.: α = 0.1·N),

    J^α = Σ_labelled L(x, y) + Σ_unlabelled U(x) + α · E_labelled[−log q(y | x)].

The alternative to enumeration: draw y ~ q(y | x) and train q(y|x) by the score function (chapter 08),
with a baseline; ``unlabelled_bound(..., y_estimator="score")`` builds that surrogate.
"""
from __future__ import annotations

import math
from typing import Sequence

import numpy as np

import minivi as mv
from minivi import Tensor, nn
from minivi.autodiff.random import rng_device
from minivi.distributions import Normal
from minivi.estimators import batch_mean

LIKELIHOODS = ("bernoulli", "gaussian")


def _stack(sizes: Sequence[int], activation, rng) -> nn.Module:
    """Hidden layers only (activation after each); the identity when there are none."""
    if len(sizes) < 2:
        return nn.Identity()
    return nn.MLP(sizes, activation, activation, rng=rng)


class M2(nn.Module):
    """Kingma et al.'s M2: p(x | y, z) p(y) p(z) with the inference networks q(y | x) and q(z | x, y).

    Parameters
    ----------
    x_dim : int
        Data dimensions (784 for MNIST pixels, or M1's latent width when stacked).
    n_classes : int
        K, the number of labels (10 for digits).
    z_dim : int
        Width of the style variable z (the paper: 50).
    hidden : tuple of int
        Deterministic widths of each of the three networks (the paper: one layer of 500 softplus units).
    likelihood : "bernoulli" (binary pixels, grey levels allowed) or "gaussian" (real features, per-dimension
        learned variance; M1+M2's top model)
    rng : Generator
        Draws the initial weights.
    activation : str
        The hidden layers' activation (the paper: softplus).

    The label enters the z-encoder and the decoder through its own weight matrix, h = x W_x + W_y[y] + b:
    identical to a Linear on the concatenation [x, one_hot(y)], but x W_x is computed once for all K
    classes when y is enumerated.
    """

    def __init__(self, x_dim: int, n_classes: int = 10, z_dim: int = 50, hidden: Sequence[int] = (500,),
                 likelihood: str = "bernoulli", *, rng, activation: str = "softplus"):
        rng_device(rng)
        hidden = tuple(int(h) for h in hidden)
        if x_dim < 1 or n_classes < 2 or z_dim < 1 or not hidden or min(hidden) < 1:
            raise ValueError(f"M2 needs x_dim >= 1, n_classes >= 2, z_dim >= 1 and at least one hidden width, got "
                             f"x_dim={x_dim}, n_classes={n_classes}, z_dim={z_dim}, hidden={hidden}")
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {likelihood!r}")
        self.x_dim, self.n_classes, self.z_dim, self.hidden = int(x_dim), int(n_classes), int(z_dim), hidden
        self.likelihood = likelihood
        h0 = hidden[0]
        # q(y | x): a classifier
        self.enc_y = nn.MLP((x_dim,) + hidden + (n_classes,), activation, rng=rng)
        # q(z | x, y): first layer split into its x and y parts
        self.enc_z_x = nn.Linear(x_dim, h0, rng=rng)
        self.enc_z_y = nn.Linear(n_classes, h0, bias=False, rng=rng)
        self.enc_z = _stack(hidden, activation, rng)
        self.enc_loc = nn.Linear(hidden[-1], z_dim, rng=rng)
        self.enc_log_scale = nn.Linear(hidden[-1], z_dim, rng=rng)
        # p(x | y, z)
        self.dec_z = nn.Linear(z_dim, h0, rng=rng)
        self.dec_y = nn.Linear(n_classes, h0, bias=False, rng=rng)
        self.dec = _stack(hidden, activation, rng)
        self.dec_out = nn.Linear(hidden[-1], x_dim, rng=rng)
        self.act = nn.get_activation(activation)
        dtype, device = self.dec_out.W.dtype, self.dec_out.W.device
        self.log_sigma_x = nn.Parameter(np.zeros(x_dim), dtype=dtype, device=device)
        if likelihood == "bernoulli":
            self.log_sigma_x.requires_grad = False             # unused: not a parameter

    # --- inputs ----------------------------------------------------------------------------------
    def _as_x(self, x) -> Tensor:
        if not isinstance(x, Tensor):
            x = mv.tensor(np.asarray(x), dtype=self.dec_out.W.dtype, device=self.dec_out.W.device)
        if x.ndim != 2 or x.shape[1] != self.x_dim:
            raise ValueError(f"M2(x_dim={self.x_dim}) got data of shape {x.shape}: pass a batch of shape "
                             f"(n, {self.x_dim}) (flatten images: x.reshape(len(x), -1))")
        return x

    def _as_y(self, y, n: int | None = None) -> np.ndarray:
        y = np.asarray(y.numpy() if isinstance(y, Tensor) else y)
        if y.dtype.kind not in "iu" and not (y.size and np.all(y == np.round(y))):
            raise ValueError(f"labels must be integers 0..{self.n_classes - 1}, got dtype {y.dtype}")
        y = y.astype(np.int64)
        if y.size and (y.min() < 0 or y.max() >= self.n_classes):
            raise ValueError(f"labels must lie in 0..{self.n_classes - 1}, got values from {y.min()} to {y.max()}")
        if n is not None and y.shape != (n,):
            raise ValueError(f"expected one label per data point, shape ({n},), got {y.shape}")
        return y

    # --- the networks ----------------------------------------------------------------------------
    def logits_y(self, x) -> Tensor:
        """The classifier's logits, (n, K): q(y | x) = softmax(logits)."""
        return self.enc_y(self._as_x(x))

    def log_q_y(self, x) -> Tensor:
        """log q(y | x) for every class, (n, K): log_softmax, i.e. logits − logsumexp(logits) (stable)."""
        return mv.log_softmax(self.logits_y(x), axis=-1)

    def q_z(self, hx: Tensor, y: np.ndarray) -> Normal:
        """q(z | x, y) from the x part of the first layer ``hx = x W_x + b`` (n, H) and labels y of shape (n,)
        or (K, n): a Normal of batch shape (*y.shape, z_dim)."""
        h = self.enc_z(self.act(hx + self.enc_z_y.W[y]))
        return Normal(self.enc_loc(h), mv.exp(self.enc_log_scale(h)))

    def eta(self, y: np.ndarray, z: Tensor) -> Tensor:
        """The decoder's output η = f_θ(y, z) for labels y (*lead) and z (..., *lead, z_dim), broadcasting."""
        h = self.dec_z(z) + self.dec_y.W[y]
        return self.dec_out(self.dec(self.act(h)))

    def log_px(self, x: Tensor, eta: Tensor) -> Tensor:
        """log p(x | y, z) summed over the data dimensions: η's shape without the last axis."""
        if self.likelihood == "bernoulli":
            return (x * eta - mv.softplus(eta)).sum(axis=-1)   # grey levels allowed: the cross-entropy
        return Normal(eta, mv.exp(self.log_sigma_x)).log_prob(x).sum(axis=-1)

    # --- the two bounds ----------------------------------------------------------------------------
    def _neg_L(self, x: Tensor, hx: Tensor, y: np.ndarray, rng, n_samples: int) -> Tensor:
        """−L(x, y) = E_q[log p(x|y,z)] + log p(y) − KL[q(z|x,y) ‖ N(0,I)], shape y.shape ((n,) or (K, n))."""
        q = self.q_z(hx, y)
        z = q.rsample(rng, (n_samples,))                       # (S, *y.shape, z_dim)
        rec = self.log_px(x, self.eta(y, z)).mean(axis=0)      # broadcasts x (n, d) against (S, K, n, d)
        kl = (-mv.log(q.scale) + 0.5 * (q.scale ** 2 + q.loc ** 2) - 0.5).sum(axis=-1)
        return rec - kl - math.log(self.n_classes)

    def labelled_bound(self, x, y, rng, n_samples: int = 1) -> Tensor:
        """−L(x, y) per labelled pair, shape (n,): a lower bound on log p(x, y) (reparameterised z)."""
        x = self._as_x(x)
        return self._neg_L(x, self.enc_z_x(x), self._as_y(y, x.shape[0]), rng, n_samples)

    def unlabelled_bound(self, x, rng, n_samples: int = 1, y_estimator: str = "enumerate", baseline=None,
                         return_parts: bool = False):
        """−U(x) per digit, shape (n,): a lower bound on log p(x).

        ``y_estimator="enumerate"`` (the paper): all K labels at once, as a (K, n) batch,

            −U(x) = Σ_y q(y|x) (−L(x, y)) + H[q(y|x)],   H = −Σ_y q log q  with log q from log_softmax.

        ``y_estimator="score"``: one y ~ q(y | x) per digit; the value returned is the *surrogate*

            −L(x, y) + stop_grad(−L(x, y) − b(x)) · log q(y | x) + H[q(y|x)]

        whose value is an unbiased estimate of −U(x) only in its first and last terms (the middle one is there
        for its gradient: the score-function estimate of ∂/∂φ E_q(y|x)[−L]). ``baseline`` b: None, a number,
        a ``MovingAverage`` or an ``NVILBaseline`` (chapter 08; its least-squares loss is returned in the parts).
        ``return_parts=True`` also returns a dict with "bound" (the estimate of −U without the surrogate term)
        and "baseline_loss".
        """
        x = self._as_x(x)
        n, K = x.shape[0], self.n_classes
        hx = self.enc_z_x(x)
        log_q = self.log_q_y(x)                                # (n, K)
        q = mv.exp(log_q)
        entropy = -(q * log_q).sum(axis=-1)                    # (n,)
        parts = {"baseline_loss": None}
        if y_estimator == "enumerate":
            ys = np.repeat(np.arange(K)[:, None], n, axis=1)   # (K, n): every label for every digit
            neg_L = self._neg_L(x, hx, ys, rng, n_samples)     # (K, n)
            bound = (q * neg_L.T).sum(axis=-1) + entropy
            parts["bound"] = bound
            return (bound, parts) if return_parts else bound
        if y_estimator != "score":
            raise ValueError(f"y_estimator must be 'enumerate' or 'score', got {y_estimator!r}")
        probs = q.numpy().astype(np.float64)
        u = rng.random((n, 1))
        y = np.minimum((probs.cumsum(axis=1) < u).sum(axis=1), K - 1)  # y ~ q(y|x), inverse CDF
        neg_L = self._neg_L(x, hx, y, rng, n_samples)           # (n,)
        signal = neg_L.numpy().astype(np.float64)
        if baseline is None:
            centred = signal
        elif hasattr(baseline, "learning_signal"):              # NVILBaseline: b(x) = c̄ + C_ψ(x)
            centred, parts["baseline_loss"] = baseline.learning_signal(signal, x)
        elif hasattr(baseline, "update"):                       # MovingAverage: c from earlier steps only
            first = n > 1 and baseline.steps == 0                # first step: the leave-one-out batch mean
            centred = signal - (batch_mean(signal) if first else baseline.value)
            baseline.update(signal)
        else:
            centred = signal - float(baseline)
        log_q_y = log_q[np.arange(n), y]
        surrogate = neg_L + mv.tensor(centred, dtype=neg_L.dtype) * log_q_y + entropy
        parts["bound"] = (neg_L + entropy).detach()
        parts["y"] = y
        return (surrogate, parts) if return_parts else surrogate

    def classification_loss(self, x, y) -> Tensor:
        """−log q(y | x) per labelled digit, shape (n,) (the cross-entropy the α term weights)."""
        x = self._as_x(x)
        y = self._as_y(y, x.shape[0])
        return -self.log_q_y(x)[np.arange(len(y)), y]

    def loss(self, x_l, y_l, x_u, rng, alpha: float, n_samples: int = 1, y_estimator: str = "enumerate",
             baseline=None) -> tuple[Tensor, dict]:
        """One minibatch of J^α per digit: mean_l L(x, y) + mean_u U(x) + α_b · mean_l[−log q(y | x)].

        ``alpha`` is α_b, the weight on the *mean* cross-entropy of the labelled batch (see ``paper_alpha``
        for the paper's α = 0.1·N in these units). Returns (loss, extras to record)."""
        neg_L = self.labelled_bound(x_l, y_l, rng, n_samples)
        neg_U, parts = self.unlabelled_bound(x_u, rng, n_samples, y_estimator, baseline, return_parts=True)
        ce = self.classification_loss(x_l, y_l)
        loss = -neg_L.mean() - neg_U.mean() + alpha * ce.mean()
        if parts["baseline_loss"] is not None:
            loss = loss + parts["baseline_loss"]
        return loss, {"labelled_bound": neg_L.mean(), "unlabelled_bound": parts["bound"].mean(),
                      "cross_entropy": ce.mean()}

    # --- use it ------------------------------------------------------------------------------------
    def predict_proba(self, x, batch_size: int = 1000) -> np.ndarray:
        """q(y | x), array (n, K)."""
        out = []
        with mv.no_grad():
            for i in range(0, len(x), batch_size):
                out.append(mv.exp(self.log_q_y(x[i:i + batch_size])).numpy())
        return np.concatenate(out) if out else np.zeros((0, self.n_classes))

    def classify(self, x, batch_size: int = 1000) -> np.ndarray:
        """argmax_y q(y | x): the predicted labels, int array (n,)."""
        return self.predict_proba(x, batch_size).argmax(axis=1)

    def encode(self, x, y=None) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation of q(z | x, y), (n, z_dim) each; y=None uses the classifier's label."""
        with mv.no_grad():
            x = self._as_x(x)
            y = self.classify(x.numpy()) if y is None else self._as_y(y, x.shape[0])
            q = self.q_z(self.enc_z_x(x), y)
            return q.loc.numpy(), q.scale.numpy()

    def generate(self, y, z) -> np.ndarray:
        """The mean of p(x | y, z) for labels y (n,) and styles z (n, z_dim): array (n, x_dim)."""
        with mv.no_grad():
            z = mv.tensor(np.asarray(z), dtype=self.dec_out.W.dtype)
            if z.ndim != 2 or z.shape[1] != self.z_dim:
                raise ValueError(f"generate: z must have shape (n, {self.z_dim}), got {z.shape}")
            y = self._as_y(np.broadcast_to(np.asarray(y), (z.shape[0],)), z.shape[0])
            eta = self.eta(y, z)
            return (mv.sigmoid(eta) if self.likelihood == "bernoulli" else eta).numpy()

    def analogies(self, x, classes=None, y=None) -> np.ndarray:
        """The talk's analogical reasoning: infer the style z (posterior mean of q(z | x, y), y the given or the
        predicted label) of each digit, and decode it with every class in ``classes`` (default all):
        array (n, len(classes), x_dim)."""
        classes = np.arange(self.n_classes) if classes is None else self._as_y(classes)
        z, _ = self.encode(x, y)
        n, C = len(z), len(classes)
        out = self.generate(np.tile(classes, n), np.repeat(z, C, axis=0))
        return out.reshape(n, C, -1)

    def extra_repr(self) -> str:
        return (f"x_dim={self.x_dim}, n_classes={self.n_classes}, z_dim={self.z_dim}, hidden={self.hidden}, "
                f"likelihood={self.likelihood!r}")


def paper_alpha(n_total: int, n_labelled: int, n_unlabelled: int) -> float:
    """Kingma et al.'s α = 0.1·N as a weight on the labelled batch's *mean* cross-entropy (``M2.loss``).

    Their J^α sums L over the N_l labelled and U over the N_u unlabelled digits and adds α Σ_l[−log q(y|x)].
    Drawing one labelled and one unlabelled batch per step (the labelled ones recycled), each step estimates
    J^α / N_u up to the weight of the labelled bound; dividing α Σ_l by N_u gives 0.1 · N · N_l / N_u times the
    mean cross-entropy (about 10 for 100 labels among 8,000 digits)."""
    return 0.1 * n_total * n_labelled / n_unlabelled
