"""A small training loop: minibatches → loss → backward → optimiser step, with a progress bar.

    def loss_fn(x, y):                                   # one minibatch -> a scalar Tensor
        return -mv.log_softmax(model(x))[np.arange(len(y)), y].mean()

    history = fit(model, loss_fn, (x_train, y_train), opt, epochs=pick(1, 20), batch_size=128, rng=rng,
                  evaluate={"test_acc": lambda: accuracy(model(x_test), y_test)})
    history.plot()

Everything the loop does is visible in ``fit``; write your own loop when you need more.
``MINIVI_FAST=1`` (smoke mode, used by tests and CI) silences the progress bar, and
``pick(fast, full)`` lets a chapter choose smaller sizes in that mode.
"""
from __future__ import annotations

import importlib.util
import math
import os
from typing import Any, Callable, Iterable

import numpy as np
# a notebook widget bar where ipywidgets is installed, a text bar otherwise (no "IProgress" warning)
if importlib.util.find_spec("ipywidgets") is not None:
    from tqdm.auto import tqdm
else:
    from tqdm import tqdm

from .autodiff.backend import to_device
from .autodiff.tensor import Tensor, no_grad


def fast_mode() -> bool:
    """True when the environment variable ``MINIVI_FAST`` is set to 1 (or true/yes): smoke-test sizes."""
    return os.environ.get("MINIVI_FAST", "").strip().lower() in ("1", "true", "yes", "on")


def pick(fast: Any, full: Any) -> Any:
    """``fast`` in smoke mode (``MINIVI_FAST=1``), otherwise ``full``: ``epochs = pick(1, 30)``."""
    return fast if fast_mode() else full


class History(dict):
    """Training metrics per epoch: ``history["loss"][e]`` is the mean minibatch loss of epoch e.

    A dict of lists, one list per metric ("loss", anything ``loss_fn`` reports, and the
    ``evaluate`` results). ``history.plot()`` draws the training curves.
    """

    def log(self, name: str, value: float | Tensor) -> None:
        """Append one epoch's ``value`` to the list of metric ``name``."""
        self.setdefault(name, []).append(value.item() if isinstance(value, Tensor) else float(value))

    @property
    def epochs(self) -> int:
        return max((len(v) for v in self.values()), default=0)

    def plot(self, keys: Iterable[str] | None = None, ax=None):
        """Training curves of ``keys`` (default: all) against the epoch; returns the Axes."""
        from .plot import training_curves

        return training_curves(self, keys, ax=ax)

    def __repr__(self) -> str:
        last = ", ".join(f"{k}={v[-1]:.4g}" for k, v in self.items() if v)
        return f"History(epochs={self.epochs}{', ' + last if last else ''})"


def accuracy(logits: Tensor | np.ndarray, labels: np.ndarray) -> float:
    """The fraction of rows whose largest logit (or probability) is at the true label."""
    scores = logits.numpy() if isinstance(logits, Tensor) else np.asarray(logits)
    return float(np.mean(scores.argmax(axis=-1) == np.asarray(to_device(labels, "cpu"))))


def _epoch_batches(data: Any, epoch: int, batch_size: int | None, rng) -> Iterable:
    """One epoch of minibatches from arrays, a re-iterable (e.g. ``minibatches(...)``) or a function."""
    if callable(data):
        return data(epoch)
    if isinstance(data, (np.ndarray, Tensor)):
        data = (data,)
    if isinstance(data, (tuple, list)):
        if batch_size is None:                           # full-batch gradient descent
            return [tuple(data)]
        from .data import minibatches

        return minibatches(*data, batch_size=batch_size, rng=rng, shuffle=rng is not None)
    if iter(data) is data:
        raise TypeError("fit got an iterator, which would be used up after one epoch: pass arrays, a re-iterable "
                        "such as minivi.data.minibatches(...), or a function epoch -> batches")
    return data


def _to_inputs(batch: Any, dtype, device: str) -> tuple:
    """Floating arrays become tensors of the parameters' dtype; integer arrays (labels) stay arrays.
    Both are put on the parameters' device (an explicit copy when that is the GPU)."""
    batch = batch if isinstance(batch, (tuple, list)) else (batch,)
    out = []
    for a in batch:
        if isinstance(a, Tensor) or not hasattr(a, "dtype"):
            out.append(a)
        elif a.dtype.kind == "f":
            out.append(Tensor(a, dtype=dtype, device=device))
        else:
            out.append(to_device(a, device))
    return tuple(out)


def _train_step(loss_fn: Callable[..., Any], batch: tuple, optimizer, where: str) -> dict[str, float]:
    """One minibatch: zero_grad, loss, backward, step. Returns the numbers to record ("loss", extras)."""
    optimizer.zero_grad()
    out = loss_fn(*batch)
    loss, extras = out if isinstance(out, tuple) else (out, {})
    if not isinstance(loss, Tensor) or loss.size != 1:
        what = f"a tensor of shape {loss.shape}" if isinstance(loss, Tensor) else type(loss).__name__
        raise TypeError(f"loss_fn must return a scalar Tensor (or (loss, dict)), got {what}: "
                        "reduce it with .mean() or .sum()")
    value = float(loss.data)
    if not math.isfinite(value):
        raise FloatingPointError(f"the loss is {value} at {where}: lower the learning rate, or look for "
                                 "log(0), division by zero or exp overflow in loss_fn")
    loss.backward()
    optimizer.step()
    return {"loss": value, **{k: float(v.data if isinstance(v, Tensor) else v) for k, v in extras.items()}}


def fit(model, loss_fn: Callable[..., Any], data: Any, optimizer, epochs: int = 1, *, batch_size: int | None = None,
        rng: np.random.Generator | None = None,
        evaluate: dict[str, Callable[[], float]] | Callable[[], dict[str, float]] | None = None,
        progress: bool | None = None, history: History | None = None) -> History:
    """Minimise ``loss_fn`` over minibatches of ``data`` for ``epochs`` passes; return the ``History``.

    Each step is ``optimizer.zero_grad(); loss_fn(*batch).backward(); optimizer.step()``.

    Parameters
    ----------
    model : Module or None
        Put in training mode for the steps and in eval mode (under ``no_grad``) for ``evaluate``.
    loss_fn : function of one minibatch
        ``loss_fn(*batch)`` returns a scalar Tensor, or ``(loss, {"name": value, ...})`` to also
        record other per-batch quantities (averaged per epoch). Floating arrays in a batch arrive as
        tensors (the parameters' dtype); integer arrays (labels) stay arrays. Both are copied to the
        parameters' device, so the same loop trains a model moved with ``model.to("cuda")``.
    data : arrays, re-iterable or function
        A tuple of aligned arrays, e.g. ``(x, y)``, cut into shuffled minibatches of ``batch_size``
        with ``rng`` (``batch_size=None``: the whole data set each step); or anything iterated once
        per epoch, e.g. ``minivi.data.minibatches(...)``; or a function ``epoch -> batches``.
    optimizer : minivi.optim.Optimizer
    evaluate : dict of name -> function of no arguments returning a number, or one function returning a dict
        Run after every epoch, e.g. ``{"test_acc": lambda: accuracy(model(x_test), y_test)}``, or
        ``lambda: {"test_acc": ..., "test_nll": ...}`` to share one forward pass between metrics.
    progress : bool, optional
        Show a tqdm bar; default: yes, unless ``MINIVI_FAST=1`` or ``MINIVI_PROGRESS=0`` (set by the
        headless chapter runs, where a bar would only fill the saved notebook).
    history : History, optional
        Continue (append to) an earlier run's history.
    """
    history = History() if history is None else history
    if progress is None:
        progress = not fast_mode() and os.environ.get("MINIVI_PROGRESS", "1") != "0"
    first = optimizer.params[0]
    dtype, device = first.dtype, first.device
    batches = _epoch_batches(data, 0, batch_size, rng)
    total = epochs * len(batches) if hasattr(batches, "__len__") else None
    bar = tqdm(total=total, unit="batch", disable=not progress)
    try:
        for epoch in range(epochs):
            if model is not None:
                model.train()
            if epoch > 0:
                batches = _epoch_batches(data, epoch, batch_size, rng)
            bar.set_description(f"epoch {epoch + 1}/{epochs}", refresh=False)
            sums: dict[str, float] = {}
            n_batches = 0
            for batch in batches:
                where = f"epoch {len(history.get('loss', [])) + 1}, batch {n_batches + 1}"
                for name, v in _train_step(loss_fn, _to_inputs(batch, dtype, device), optimizer, where).items():
                    sums[name] = sums.get(name, 0.0) + v
                n_batches += 1
                bar.update()
            if n_batches == 0:
                raise ValueError("fit: the data gave no minibatches in this epoch (empty data?)")
            for name, v in sums.items():
                history.log(name, v / n_batches)
            if evaluate:
                if model is not None:
                    model.eval()
                with no_grad():
                    metrics = evaluate() if callable(evaluate) else {name: fn() for name, fn in evaluate.items()}
                    for name, value in metrics.items():
                        history.log(name, float(value))
                if model is not None:
                    model.train()
            bar.set_postfix({k: f"{v[-1]:.4g}" for k, v in history.items()})
    finally:
        bar.close()
    return history
