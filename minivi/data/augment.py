"""Data augmentation and input noise: regularise by training on perturbed copies of the data.

A digit moved by a pixel or two, or with a little noise on its pixels, is still the same
digit. Training on such copies, drawn afresh every epoch, tells the model which changes
of the input should not change its answer, and gives it more distinct examples to fit:

    shift:    x'[r, c] = x[r − dy, c − dx]   (0 where that falls outside the image),
              dy, dx ~ Uniform{−m, …, m} independently per image
    jitter:   x' = x + s ε,                  ε ~ N(0, I)

Pure NumPy, like the rest of ``minivi.data``; every draw goes through an explicit ``rng``.
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["shift", "random_shift", "jitter"]


def _as_stack(images: np.ndarray, shape: tuple[int, int] | None, caller: str) -> tuple[np.ndarray, tuple]:
    """(n, h, w) images from (n, h·w) rows (square unless ``shape`` is given) or (n, h, w); also the input shape."""
    images = np.asarray(images)
    if images.ndim == 3:
        return images, images.shape
    if images.ndim != 2:
        raise ValueError(f"{caller}: images must have shape (n, h*w) or (n, h, w), got {images.shape}")
    if shape is None:
        side = math.isqrt(images.shape[1])
        if side * side != images.shape[1]:
            raise ValueError(f"{caller}: rows of {images.shape[1]} pixels are not square images; "
                             "pass shape=(height, width)")
        shape = (side, side)
    if shape[0] * shape[1] != images.shape[1]:
        raise ValueError(f"{caller}: shape={shape} has {shape[0] * shape[1]} pixels but the rows have "
                         f"{images.shape[1]}")
    return images.reshape(len(images), *shape), images.shape


def shift(images: np.ndarray, dy: np.ndarray | int, dx: np.ndarray | int,
          shape: tuple[int, int] | None = None) -> np.ndarray:
    """Move image i by ``dy[i]`` pixels down and ``dx[i]`` right, filling the uncovered pixels with 0.

        x'[i, r, c] = x[i, r − dy[i], c − dx[i]]   (0 outside the image)

    Parameters
    ----------
    images : numpy.ndarray
        (n, h·w) rows (square images unless ``shape`` is given) or (n, h, w).
    dy, dx : int or integer array of shape (n,)
        The moves (negative: up / left).
    shape : (height, width), optional
        The image shape of (n, h·w) rows that are not square.

    Returns
    -------
    numpy.ndarray
        A new array of the same shape and dtype as ``images``.
    """
    stack, in_shape = _as_stack(images, shape, "shift")
    n, h, w = stack.shape
    dy = np.broadcast_to(np.asarray(dy), (n,))
    dx = np.broadcast_to(np.asarray(dx), (n,))
    if dy.dtype.kind not in "iu" or dx.dtype.kind not in "iu":
        raise TypeError(f"shift: dy and dx must be whole numbers of pixels, got dtypes {dy.dtype} and {dx.dtype}")
    m = int(max(np.abs(dy).max(initial=0), np.abs(dx).max(initial=0)))
    padded = np.pad(stack, ((0, 0), (m, m), (m, m)))            # zeros around every image
    rows = (m - dy)[:, None, None] + np.arange(h)[None, :, None]  # x'[r] = padded[r − dy + m]
    cols = (m - dx)[:, None, None] + np.arange(w)[None, None, :]
    return padded[np.arange(n)[:, None, None], rows, cols].reshape(in_shape)


def random_shift(images: np.ndarray, max_shift: int, rng: np.random.Generator,
                 shape: tuple[int, int] | None = None) -> np.ndarray:
    """Shift every image by its own random (dy, dx), each uniform on {−max_shift, …, max_shift}.

    Call it once per epoch (e.g. inside ``fit``'s ``data`` function) so that every epoch sees
    new copies. Returns a new array of the same shape and dtype as ``images``.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"random_shift needs rng=np.random.default_rng(seed), got {type(rng).__name__}")
    if isinstance(max_shift, bool) or not isinstance(max_shift, (int, np.integer)) or max_shift < 0:
        raise ValueError(f"max_shift must be a whole number of pixels >= 0, got {max_shift!r}")
    n = len(np.asarray(images))
    dy = rng.integers(-max_shift, max_shift + 1, size=n)
    dx = rng.integers(-max_shift, max_shift + 1, size=n)
    return shift(images, dy, dx, shape)


def jitter(images: np.ndarray, std: float, rng: np.random.Generator, clip: tuple[float, float] | None = None) -> np.ndarray:
    """Input noise: x' = x + std · ε with ε ~ N(0, I), optionally clipped to ``clip = (lo, hi)``.

    Returns a new array of the same shape and (floating) dtype as ``images``.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"jitter needs rng=np.random.default_rng(seed), got {type(rng).__name__}")
    if not std >= 0:
        raise ValueError(f"jitter: std is a noise standard deviation >= 0, got {std}")
    images = np.asarray(images)
    if images.dtype.kind != "f":
        raise TypeError(f"jitter expects float images (e.g. load_mnist(normalize=True)), got dtype {images.dtype}")
    out = images + (std * rng.standard_normal(images.shape)).astype(images.dtype)
    return np.clip(out, *clip) if clip is not None else out
