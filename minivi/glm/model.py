"""A generalised linear model, fitted by maximum likelihood or MAP: any row of the talk's table."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import autodiff as mv
from ..autodiff import Tensor
from ..autodiff.backend import to_device
from ..optim import SGD, Adam
from .links import Link, get_link
from .newton import minimize_newton


class GLM:
    """η = Xw + b,   y ~ p(y | g(η); θ): one row of the table, with weights to fit.

    Parameters
    ----------
    n_features : int
        d, the number of columns of X.
    link : str or Link
        A row of ``LINKS``: "identity", "logit", "probit", "cloglog", "tanh", "softmax", "log",
        "sqrt", "reciprocal", "tobit", "cumulative_logit" (or an alias: "poisson", "relu", ...).
    n_classes : int, optional
        K, needed by "softmax" (w is (d, K) and b is (K,)) and "cumulative_logit" (K-1 cutpoints).
    prior : optional
        An object with ``log_prob(w)`` for MAP estimation of w (not of b or θ):
        ``Normal(0, s)`` is L2 regularisation (weight decay), ``Laplace(0, s)`` is L1.
    fixed : dict, optional
        Values of the likelihood's other parameters θ to hold fixed rather than learn,
        e.g. ``{"scale": 1.0}`` for a Gaussian with known noise.

    The fitted objective is the mean over the n data points of

        L(w) = -(1/n) Σᵢ log p(yᵢ | g(wᵀxᵢ + b); θ) - (1/n) log p(w)

    (maximum likelihood without a prior; MAP with one: the 1/n keeps its minimiser).
    """

    def __init__(self, n_features: int, link: str | Link = "logit", n_classes: int | None = None, prior: Any = None,
                 fixed: dict[str, Any] | None = None, dtype: Any = None, device: str | None = None) -> None:
        self.link = get_link(link)
        self.n_features = int(n_features)
        needs_k = self.link.per_class or "cutpoints" in self.link.extras
        if needs_k and (n_classes is None or n_classes < 2):
            raise ValueError(f"GLM(link={self.link.name!r}) needs n_classes=K ≥ 2 (the number of categories)")
        self.n_classes = n_classes if needs_k else None
        self.prior = prior
        self.fixed = dict(fixed or {})
        unknown = set(self.fixed) - set(self.link.extras)
        if unknown:
            raise ValueError(f"fixed: the {self.link.name!r} row has no parameter(s) {sorted(unknown)}; "
                             f"it has {sorted(self.link.extras) or 'none'}")
        k = self.n_classes
        kw = dict(dtype=dtype, device=device, requires_grad=True)
        self.w = mv.zeros((self.n_features, k) if self.link.per_class else (self.n_features,), **kw)
        self.b = (mv.zeros((k,) if self.link.per_class else (), **kw)) if self.link.intercept else None
        self.raw: dict[str, Tensor] = {}  # the extras θ on their unconstrained scale
        for name, extra in self.link.extras.items():
            value = np.asarray(self.fixed.get(name, extra.default(k)), dtype=np.float64)
            self.raw[name] = mv.tensor(extra.unconstrain(value), dtype=self.w.dtype, device=self.w.device,
                                       requires_grad=name not in self.fixed)
        self.history: list[float] = []

    # --- the model ----------------------------------------------------------------------
    @property
    def dtype(self):
        return self.w.dtype

    @property
    def device(self) -> str:
        return self.w.device

    def parameters(self) -> list[Tensor]:
        """w, b (if any) and the learned extras, in a fixed order."""
        bias = [self.b] if self.b is not None else []
        return [self.w, *bias, *(r for n, r in self.raw.items() if n not in self.fixed)]

    def _unpack(self, params: list[Tensor]) -> tuple[Tensor, Tensor | None, dict[str, Tensor]]:
        it = iter(params)
        w = next(it)
        b = next(it) if self.b is not None else None
        raw = {n: (r if n in self.fixed else next(it)) for n, r in self.raw.items()}
        return w, b, raw

    @property
    def extras(self) -> dict[str, Tensor]:
        """The likelihood's other parameters θ at their current (constrained) values."""
        return {n: self.link.extras[n].constrain(r) for n, r in self.raw.items()}

    def eta(self, X: Any) -> Tensor:
        """The linear predictor η = Xw + b: shape (n,), or (n, K) for softmax."""
        X = self._X(X)
        return X @ self.w + self.b if self.b is not None else X @ self.w

    def predict_mean(self, X: Any) -> Tensor:
        """E[y | x] under the fitted model (class probabilities for softmax, the mean level for ordinal)."""
        with mv.no_grad():
            return self.link.distribution(self.eta(X), **self.extras).mean

    def nll(self, X: Any, y: Any) -> Tensor:
        """The mean negative log-likelihood -(1/n) Σᵢ log p(yᵢ | xᵢ)."""
        X, y = self._data(X, y)
        return self._loss(self.parameters(), X, y, prior=None)

    def objective(self, X: Any, y: Any, prior: Any = None) -> Tensor:
        """The fitted objective: the mean NLL, minus log p(w)/n when there is a prior."""
        X, y = self._data(X, y)
        return self._loss(self.parameters(), X, y, prior if prior is not None else self.prior)

    def _loss(self, params: list[Tensor], X: Tensor, y: Any, prior: Any, n_total: int | None = None) -> Tensor:
        w, b, raw = self._unpack(params)
        eta = X @ w + b if b is not None else X @ w
        extras = {n: self.link.extras[n].constrain(r) for n, r in raw.items()}
        loss = self.link.nll(eta, y, **extras).mean()
        if prior is not None:
            loss = loss - prior.log_prob(w).sum() / (n_total or X.shape[0])
        return loss

    # --- data ---------------------------------------------------------------------------
    def _X(self, X: Any) -> Tensor:
        if not isinstance(X, Tensor):
            X = mv.tensor(X, dtype=self.dtype, device=self.device)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"X must have shape (n, {self.n_features}) (one row per data point), got {X.shape}")
        if X.dtype != self.dtype:
            raise TypeError(f"X is {X.dtype} but the model is {self.dtype}: convert with X.astype('{self.dtype}')")
        return X

    def _data(self, X: Any, y: Any) -> tuple[Tensor, Any]:
        X = self._X(X)
        if isinstance(y, (list, tuple)):
            y = np.asarray(y)
        if len(y) != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but y has {len(y)} entries; they must match")
        return X, y

    # --- fitting ------------------------------------------------------------------------
    def reset(self, y: Any) -> None:
        """Start values from the data: w = 0, b = g⁻¹(mean y) (the link applied to the mean),
        and data-based starts for the learned extras (e.g. cutpoints from class frequencies)."""
        y = np.asarray(to_device(y.data if isinstance(y, Tensor) else y, "cpu"))  # start values: on the host
        xp = mv.get_array_module(self.w.data)
        self.w.data[...] = 0
        if self.b is not None:
            self.b.data[...] = xp.asarray(self._start_bias(y))
        for name, extra in self.link.extras.items():
            if name not in self.fixed and extra.start is not None:
                raw = extra.unconstrain(np.asarray(extra.start(y, self.n_classes), dtype=np.float64))
                self.raw[name].data[...] = xp.asarray(raw)

    def _start_bias(self, y: np.ndarray) -> Any:
        if self.link.per_class:  # log class frequencies, centred
            b = np.log((np.bincount(y.astype(int), minlength=self.n_classes) + 0.5) / (len(y) + 0.5 * self.n_classes))
            return b - b.mean()
        if self.link.g_inv is None:
            return 0.0
        with np.errstate(all="ignore"):
            b = float(self.link.g_inv(np.mean(y)))
        return b if np.isfinite(b) else 0.0

    def fit(self, X: Any, y: Any, method: str = "adam", steps: int | None = None, lr: float | None = None,
            prior: Any = None, rng: np.random.Generator | None = None, batch_size: int | None = None,
            tol: float = 1e-8, warm_start: bool = False) -> "GLM":
        """Maximum likelihood (or MAP, with a prior) estimates of w, b and the learned extras.

        ``method``: "adam" (default 500 steps, lr 0.05), "sgd" (500 steps, lr 0.1), both
        full-batch unless ``batch_size`` is given (then minibatches are drawn with ``rng``);
        or "newton" (damped Newton with a line search, at most 50 steps, stopping when the
        largest gradient entry is below ``tol``). Starts from ``reset(y)`` unless
        ``warm_start``. The objective at every step is appended to ``self.history``.
        """
        X, y = self._data(X, y)
        prior = prior if prior is not None else self.prior
        if not warm_start:
            self.reset(y)
            self.history = []
        params = self.parameters()
        if method == "newton":
            self._fit_newton(params, X, y, prior, steps or 50, tol)
            return self
        if method not in ("adam", "sgd"):
            raise ValueError(f"method must be 'adam', 'sgd' or 'newton', got {method!r}")
        if batch_size is not None and rng is None:
            raise ValueError("minibatches need rng=np.random.default_rng(seed) to draw them")
        opt = Adam(params, lr=lr or 0.05) if method == "adam" else SGD(params, lr=lr or 0.1)
        n = X.shape[0]
        for _ in range(steps or 500):
            if batch_size is None:
                Xb, yb = X, y
            else:
                idx = rng.choice(n, size=min(batch_size, n), replace=False)
                Xb, yb = X[mv.get_array_module(X.data).asarray(idx)], y[idx]
            opt.zero_grad()
            loss = self._loss(params, Xb, yb, prior, n_total=n)
            loss.backward()
            opt.step()
            self.history.append(loss.item())
        return self

    def _fit_newton(self, params: list[Tensor], X: Tensor, y: Any, prior: Any, steps: int, tol: float) -> None:
        """Newton's method on all parameters flattened into one vector θ."""
        ends = np.cumsum([p.size for p in params]).tolist()
        starts = [0, *ends[:-1]]

        def split(theta: Tensor) -> list[Tensor]:
            return [theta[a:e].reshape(p.shape) for a, e, p in zip(starts, ends, params)]

        xp = mv.get_array_module(self.w.data)
        theta0 = xp.concatenate([p.data.reshape(-1) for p in params])
        theta, history = minimize_newton(lambda t: self._loss(split(t), X, y, prior), theta0, steps=steps, tol=tol)
        for p, part in zip(params, split(theta)):
            p.data[...] = part.data
        self.history.extend(history)

    def __repr__(self) -> str:
        k = f", n_classes={self.n_classes}" if self.n_classes else ""
        return f"GLM(n_features={self.n_features}, link={self.link.name!r}{k})"
