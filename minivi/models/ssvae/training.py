"""Training M2 (or M2 on M1's features) and the supervised baseline, and drawing the labelled set.

Each step takes one labelled and one unlabelled minibatch (the few labelled digits are recycled, a fresh
shuffle whenever they run out) and one Adam step on J^α (``M2.loss``); an epoch is one pass over the
unlabelled digits.
"""
from __future__ import annotations

import numpy as np

import minivi as mv
from minivi import nn
from minivi.estimators import MovingAverage, NVILBaseline
from minivi.optim import Adam
from minivi.train import History, fit

from .m2 import M2


def labelled_subset(labels: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``per_class`` digits of every class, drawn without replacement (a balanced labelled set)."""
    labels = np.asarray(labels)
    out = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        if len(idx) < per_class:
            raise ValueError(f"class {c} has only {len(idx)} examples, fewer than per_class={per_class}")
        out.append(rng.choice(idx, per_class, replace=False))
    return np.sort(np.concatenate(out))


def make_baseline(kind, x_dim: int, rng):
    """None, "moving_average" (c̄ of earlier steps) or "nvil" (c̄ + an MLP C_ψ(x), no variance normalisation)."""
    if kind is None or kind == "none":
        return None
    if kind == "moving_average":
        return MovingAverage(0.9)
    if kind == "nvil":
        return NVILBaseline(x_dim, 100, rng=rng, decay=0.8, normalise=False)
    raise ValueError(f"baseline must be None, 'moving_average' or 'nvil', got {kind!r}")


def fit_ssvae(model: M2, x_l: np.ndarray, y_l: np.ndarray, x_u: np.ndarray, epochs: int, rng,
              alpha: float, batch_size: int = 100, batch_size_l: int | None = None, lr: float = 3e-4,
              y_estimator: str = "enumerate", baseline=None, binarize: str | None = "dynamic",
              evaluate=None, progress: bool | None = None, max_steps: int | None = None,
              scale_l: np.ndarray | None = None, scale_u: np.ndarray | None = None) -> History:
    """Maximise J^α (``M2.loss``): ``epochs`` passes over ``x_u`` in batches of ``batch_size``, each paired
    with ``batch_size_l`` (default min(batch_size, len(x_l))) labelled digits. ``binarize="dynamic"`` draws
    fresh binary pixels from grey levels for both; ``None`` uses the data as given (M1 features).
    ``scale_l``/``scale_u`` (M1+M2, the paper's sampled z₁): standard deviations of the same shapes as ``x_l``/``x_u``;
    each batch then draws its data from N(x, scale²), M1's posterior q(z₁ | x), afresh.
    ``baseline`` (for ``y_estimator="score"``): None, "moving_average" or "nvil". Returns the History."""
    y_l = np.asarray(y_l, dtype=np.int64)
    if len(x_l) != len(y_l) or len(x_l) == 0:
        raise ValueError(f"fit_ssvae needs as many labels as labelled digits (at least one), got {len(x_l)} "
                         f"digits and {len(y_l)} labels")
    for name, scale, data in (("scale_l", scale_l, x_l), ("scale_u", scale_u, x_u)):
        if scale is not None and np.shape(scale) != np.shape(data):
            raise ValueError(f"fit_ssvae: {name} must give one standard deviation per entry of the data, shape "
                             f"{np.shape(data)}, got {np.shape(scale)}")
    bl = make_baseline(baseline, model.x_dim, rng) if isinstance(baseline, (str, type(None))) else baseline
    params = model.parameters() + (bl.parameters() if isinstance(bl, NVILBaseline) else [])
    optimizer = Adam(params, lr=lr)
    bs_l = min(batch_size_l or batch_size, len(x_l))
    dynamic = binarize == "dynamic"
    state = {"order": rng.permutation(len(x_l)), "pos": 0}

    def labelled_batch():
        if state["pos"] + bs_l > len(x_l):
            state["order"], state["pos"] = rng.permutation(len(x_l)), 0
        idx = state["order"][state["pos"]:state["pos"] + bs_l]
        state["pos"] += bs_l
        xl = x_l[idx] if scale_l is None else x_l[idx] + scale_l[idx] * rng.standard_normal(scale_l[idx].shape)
        return xl, y_l[idx]

    def batches(epoch):
        order = rng.permutation(len(x_u))
        n_batches = max(1, len(x_u) // batch_size)
        if max_steps is not None:
            n_batches = min(n_batches, max_steps)
        for b in range(n_batches):
            ib = order[b * batch_size:(b + 1) * batch_size]
            xu = x_u[ib] if scale_u is None else x_u[ib] + scale_u[ib] * rng.standard_normal(scale_u[ib].shape)
            xl, yl = labelled_batch()
            if dynamic:
                xu = (rng.random(xu.shape) < xu).astype(np.float32)
                xl = (rng.random(xl.shape) < xl).astype(np.float32)
            yield xl.astype(np.float32), yl, xu.astype(np.float32)

    def loss(xl, yl, xu):
        return model.loss(xl, yl, xu, rng, alpha, y_estimator=y_estimator, baseline=bl)

    return fit(model, loss, batches, optimizer, epochs, evaluate=evaluate, progress=progress)


def fit_classifier(x: np.ndarray, y: np.ndarray, epochs: int, rng, hidden=(500,), n_classes: int = 10,
                   lr: float = 1e-3, weight_decay: float = 1e-4, batch_size: int = 100,
                   activation: str = "softplus") -> nn.MLP:
    """The supervised baseline: an MLP x → hidden → K trained by cross-entropy (plus an L2 penalty, a Gaussian
    prior on the weights, chapter 04) on the labelled digits alone. Returns the network (logits)."""
    net = nn.MLP((x.shape[1],) + tuple(hidden) + (n_classes,), activation, rng=rng)
    opt = Adam(net.parameters(), lr=lr)
    weights = [p for name, p in net.named_parameters() if name.endswith("W")]

    def loss(xb, yb):
        ce = -mv.log_softmax(net(xb), axis=-1)[np.arange(len(yb)), yb].mean()
        return ce + weight_decay * sum((w * w).sum() for w in weights)

    fit(net, loss, (x.astype(np.float32), np.asarray(y, dtype=np.int64)), opt, epochs,
        batch_size=min(batch_size, len(x)), rng=rng, progress=False)
    return net


def error_rate(predicted: np.ndarray, labels: np.ndarray) -> float:
    """Fraction of wrong labels."""
    return float(np.mean(np.asarray(predicted) != np.asarray(labels)))


def classifier_error(net, x: np.ndarray, y: np.ndarray) -> float:
    with mv.no_grad():
        return error_rate(net(x.astype(np.float32)).numpy().argmax(1), y)
