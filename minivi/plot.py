"""Plots the chapters share: image grids, training curves, fitted vs true, reconstructions, embeddings.

Every function takes an optional matplotlib ``ax`` (a new figure is made when it is None)
and returns the Axes (``ax.figure`` is its figure). Nothing calls ``plt.show()``, so all of
it runs headless with the Agg backend. Inputs may be NumPy arrays, CuPy arrays or tensors.
"""
from __future__ import annotations

import math
from typing import Any, Iterable, Sequence

import numpy as np

from .autodiff.backend import to_device
from .autodiff.tensor import Tensor


def _np(x: Any) -> np.ndarray:
    """A NumPy array on the host from a tensor, a CuPy array or anything array-like."""
    if isinstance(x, Tensor):
        return x.numpy()
    return np.asarray(to_device(x, "cpu"))


def _axes(ax, figsize=(5, 4), projection: str | None = None):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt  # imported on first use: `import minivi` stays light

    fig = plt.figure(figsize=figsize, layout="constrained")
    return fig.add_subplot(projection=projection)


def _as_images(images: Any, shape: tuple[int, int] | None) -> np.ndarray:
    """(n, h, w) images from (n, h·w) rows (square unless ``shape`` is given) or (n, h, w)."""
    arr = _np(images)
    if arr.ndim == 3:
        return arr
    if arr.ndim != 2:
        raise ValueError(f"images must have shape (n, h*w) or (n, h, w), got {arr.shape}")
    if shape is None:
        side = math.isqrt(arr.shape[1])
        if side * side != arr.shape[1]:
            raise ValueError(f"rows of {arr.shape[1]} pixels are not square images: pass shape=(height, width)")
        shape = (side, side)
    return arr.reshape(len(arr), *shape)


def _tile(images: np.ndarray, nrow: int, pad: int, fill: float) -> np.ndarray:
    """One big array with the images laid out in ``nrow`` rows, ``pad`` pixels apart."""
    n, h, w = images.shape
    ncol = math.ceil(n / nrow)
    grid = np.full((nrow * (h + pad) + pad, ncol * (w + pad) + pad), fill, dtype=np.float64)
    for k, img in enumerate(images):
        r, c = divmod(k, ncol)
        grid[pad + r * (h + pad): pad + r * (h + pad) + h, pad + c * (w + pad): pad + c * (w + pad) + w] = img
    return grid


def image_grid(images: Any, nrow: int | None = None, *, shape: tuple[int, int] | None = None, ax=None,
               cmap: str = "gray", title: str | None = None, pad: int = 1, vmin: float | None = None,
               vmax: float | None = None, colorbar: bool | str = False):
    """Show ``images`` ((n, h·w) or (n, h, w), e.g. MNIST digits) in a grid of ``nrow`` rows (default ≈ √n).

    ``colorbar``: draw a colour bar beside the grid (a string labels it, e.g. ``"weight"``); weight images need one.
    """
    imgs = _as_images(images, shape)
    nrow = nrow or max(1, math.floor(math.sqrt(len(imgs))))
    ax = _axes(ax, figsize=(6, 6 * nrow / max(1, math.ceil(len(imgs) / nrow))))
    # NaN padding is drawn in the background colour, whatever the colour map (diverging ones included)
    im = ax.imshow(_tile(imgs.astype(float), nrow, pad, fill=np.nan), cmap=cmap, vmin=vmin, vmax=vmax,
                   interpolation="nearest")
    ax.set_axis_off()
    if colorbar:
        bar = ax.figure.colorbar(im, ax=ax, shrink=0.8)
        if isinstance(colorbar, str):
            bar.set_label(colorbar)
    if title:
        ax.set_title(title)
    return ax


def samples_grid(samples: Any, nrow: int | None = None, *, shape: tuple[int, int] | None = None, ax=None,
                 title: str = "samples"):
    """Samples (or means) of a generative model with pixel values in [0, 1], clipped and shown on [0, 1]."""
    return image_grid(np.clip(_np(samples), 0.0, 1.0), nrow, shape=shape, ax=ax, title=title, vmin=0.0, vmax=1.0)


def reconstructions(originals: Any, recon: Any, n: int = 10, *, inputs: Any = None,
                    shape: tuple[int, int] | None = None, ax=None, title: str | None = None):
    """The first ``n`` originals above their reconstructions (and the model's ``inputs``, e.g. with
    missing pixels, in between when given): one column per example."""
    rows = [("original", originals)] + ([("input", inputs)] if inputs is not None else []) + [("reconstruction", recon)]
    imgs = np.concatenate([_as_images(_np(x)[:n], shape) for _, x in rows])
    ax = image_grid(imgs, nrow=len(rows), ax=ax, vmin=0.0, vmax=1.0, title=title)
    h = imgs.shape[1]
    ax.set_axis_on()
    ax.set_xticks([])
    ax.set_yticks([1 + (h + 1) * i + h / 2 for i in range(len(rows))], [name for name, _ in rows])
    for side in ax.spines.values():
        side.set_visible(False)
    return ax


def training_curves(history: dict[str, Sequence[float]], keys: Iterable[str] | None = None, *, ax=None,
                    logy: bool = False, title: str | None = None):
    """One line per metric in ``history`` (a dict of per-epoch lists, e.g. ``fit``'s History) against the epoch."""
    ax = _axes(ax)
    for key in (list(history) if keys is None else list(keys)):
        if key not in history:
            raise KeyError(f"{key!r} is not in the history; it has {sorted(history)}")
        values = _np(history[key]).astype(float)
        ax.plot(np.arange(1, len(values) + 1), values, marker="o" if len(values) < 30 else None, label=key)
    ax.set_xlabel("epoch")
    if logy:
        ax.set_yscale("log")
    ax.legend()
    if title:
        ax.set_title(title)
    return ax


def fitted_vs_true(true: Any, fitted: Any, *, ax=None, label: str | None = None, title: str | None = None,
                   xlabel: str = "true", ylabel: str = "fitted"):
    """Scatter fitted against true values with the diagonal y = x: a perfect fit lies on the line."""
    t, f = _np(true).ravel(), _np(fitted).ravel()
    if t.shape != f.shape:
        raise ValueError(f"true and fitted must have the same number of values, got {t.size} and {f.size}")
    ax = _axes(ax, figsize=(4.5, 4.5))
    ax.scatter(t, f, s=12, alpha=0.7, label=label)
    lo, hi = float(min(t.min(), f.min())), float(max(t.max(), f.max()))
    ax.plot([lo, hi], [lo, hi], color="black", lw=1, ls="--", label="y = x")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_aspect("equal", adjustable="datalim")
    if label:
        ax.legend()
    if title:
        ax.set_title(title)
    return ax


def embedding_scatter(z: Any, labels: Any = None, *, ax=None, s: float = 4, cmap: str = "tab10",
                      title: str | None = None):
    """Points of a 2-D (or 3-D) latent space, coloured by ``labels`` (a legend for up to 20 classes,
    a colour bar for anything else)."""
    z = _np(z)
    if z.ndim != 2 or z.shape[1] not in (2, 3):
        raise ValueError(f"z must have shape (n, 2) or (n, 3), got {z.shape}: project it first, e.g. z[:, :2]")
    ax = _axes(ax, figsize=(5.5, 5), projection="3d" if z.shape[1] == 3 else None)
    coords = [z[:, i] for i in range(z.shape[1])]
    if labels is None:
        ax.scatter(*coords, s=s)
    else:
        labels = _np(labels).ravel()
        classes = np.unique(labels)
        if len(classes) <= 20 and np.all(classes == np.round(classes)):
            import matplotlib

            colours = matplotlib.colormaps[cmap]
            for k, c in enumerate(classes):
                sel = labels == c
                ax.scatter(*[x[sel] for x in coords], s=s, color=colours(k % colours.N), label=str(int(c)))
            ax.legend(markerscale=3, fontsize="small", loc="best")
        else:
            points = ax.scatter(*coords, c=labels, s=s, cmap="viridis")
            ax.figure.colorbar(points, ax=ax)
    if title:
        ax.set_title(title)
    return ax
