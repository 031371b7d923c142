"""Missing-data masks for imputation studies.

A mask is a boolean array with the shape of the data: ``True`` = observed, ``False`` = missing. Image masks
come flattened, ``(n, 784)``, by default, to match ``load_mnist(flatten=True)``; pass ``flatten=False`` for
``(n, 28, 28)``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

__all__ = ["apply_mask", "block_mask", "half_mask", "mcar_mask"]


def _check_images(caller: str, n: int, image_shape: tuple[int, int]) -> tuple[int, int]:
    """``n`` must be a count and ``image_shape`` a (height, width) pair of positive ints."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"{caller}: n is the number of images, a whole number ≥ 0; got {n!r}")
    if (not isinstance(image_shape, (tuple, list)) or len(image_shape) != 2
            or not all(isinstance(d, (int, np.integer)) and d > 0 for d in image_shape)):
        raise ValueError(f"{caller}: image_shape must be (height, width), e.g. (28, 28); got {image_shape!r}")
    return int(image_shape[0]), int(image_shape[1])


def _finish(mask: np.ndarray, flatten: bool) -> np.ndarray:
    """(n, H, W) -> (n, H*W) when asked for flat images."""
    return mask.reshape(len(mask), -1) if flatten else mask


def mcar_mask(
    shape: int | tuple[int, ...], observed_fraction: float, rng: np.random.Generator
) -> np.ndarray:
    """Missing completely at random: each entry is observed independently with probability ``observed_fraction``.

    Parameters
    ----------
    shape : int or tuple of int
        Shape of the mask, usually the data's, e.g. ``x.shape``.
    observed_fraction : float
        Probability that an entry is observed, in [0, 1]; e.g. 0.1 keeps about 10% of the pixels.
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray
        Boolean mask, True = observed.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"mcar_mask needs rng=np.random.default_rng(seed); got {type(rng).__name__}.")
    if not 0 <= observed_fraction <= 1:
        raise ValueError(f"observed_fraction must be in [0, 1], got {observed_fraction}")
    return rng.random(shape) < observed_fraction


def half_mask(
    n: int,
    image_shape: tuple[int, int] = (28, 28),
    which: Literal["bottom", "top", "left", "right"] = "bottom",
    *,
    flatten: bool = True,
) -> np.ndarray:
    """Structured missingness: one half of every image is missing.

    Parameters
    ----------
    n : int
        Number of images.
    image_shape : (int, int)
        Height and width of an image.
    which : {"bottom", "top", "left", "right"}
        The half that is MISSING (for an odd size, the missing half is the smaller one).
    flatten : bool
        Return ``(n, H*W)``; otherwise ``(n, H, W)``.

    Returns
    -------
    numpy.ndarray
        Boolean mask, True = observed.
    """
    height, width = _check_images("half_mask", n, image_shape)
    mask = np.ones((n, height, width), dtype=bool)
    if which == "bottom":
        mask[:, height - height // 2 :, :] = False
    elif which == "top":
        mask[:, : height // 2, :] = False
    elif which == "right":
        mask[:, :, width - width // 2 :] = False
    elif which == "left":
        mask[:, :, : width // 2] = False
    else:
        raise ValueError(f"which must be 'bottom', 'top', 'left' or 'right' (the missing half), got {which!r}")
    return _finish(mask, flatten)


def block_mask(
    n: int,
    image_shape: tuple[int, int] = (28, 28),
    block: tuple[int, int] = (14, 14),
    rng: np.random.Generator | None = None,
    position: tuple[int, int] | None = None,
    *,
    flatten: bool = True,
) -> np.ndarray:
    """Structured missingness: a rectangular block of every image is missing.

    Give exactly one of ``position`` (the same block for every image) or ``rng`` (an independent, uniformly
    random position per image, always fully inside the image).

    Parameters
    ----------
    n : int
        Number of images.
    image_shape : (int, int)
        Height and width of an image.
    block : (int, int)
        Height and width of the missing block.
    rng : numpy.random.Generator, optional
        Draws a random position per image.
    position : (int, int), optional
        (row, column) of the block's top-left pixel, fixed for all images.
    flatten : bool
        Return ``(n, H*W)``; otherwise ``(n, H, W)``.

    Returns
    -------
    numpy.ndarray
        Boolean mask, True = observed.
    """
    height, width = _check_images("block_mask", n, image_shape)
    bh, bw = block
    if not (0 < bh <= height and 0 < bw <= width):
        raise ValueError(f"block {block} must be non-empty and fit inside the image {image_shape}")
    if (rng is None) == (position is None):
        raise ValueError(
            "block_mask needs exactly one of position=(row, col) (a fixed block) or rng=np.random.default_rng(seed) "
            "(a random block per image)."
        )
    if position is not None:
        row, col = position
        if not (0 <= row <= height - bh and 0 <= col <= width - bw):
            raise ValueError(
                f"position {position} puts the {bh}x{bw} block outside the {height}x{width} image; "
                f"row must be in 0..{height - bh} and col in 0..{width - bw}"
            )
        rows, cols = np.full(n, row), np.full(n, col)
    else:
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"block_mask needs rng=np.random.default_rng(seed); got {type(rng).__name__}.")
        rows = rng.integers(0, height - bh + 1, size=n)
        cols = rng.integers(0, width - bw + 1, size=n)
    # A pixel (i, j) is missing if it lies inside its image's block; built by broadcasting, no Python loop.
    i = np.arange(height)[None, :, None]
    j = np.arange(width)[None, None, :]
    inside = (
        (rows[:, None, None] <= i) & (i < rows[:, None, None] + bh)
        & (cols[:, None, None] <= j) & (j < cols[:, None, None] + bw)
    )
    return _finish(~inside, flatten)


def apply_mask(x: np.ndarray, mask: np.ndarray, fill: float | np.ndarray = 0.0) -> np.ndarray:
    """Keep the observed entries of ``x`` and replace the missing ones by ``fill``.

    Parameters
    ----------
    x : numpy.ndarray
        Data, e.g. images ``(n, 784)``.
    mask : numpy.ndarray of bool
        True = observed; same shape as ``x`` (or broadcastable to it).
    fill : float or numpy.ndarray
        Value for the missing entries, e.g. 0.0, ``np.nan``, or a mean image ``x.mean(0)``.

    Returns
    -------
    numpy.ndarray
        A new array with the shape of ``x``.
    """
    x, mask = np.asarray(x), np.asarray(mask)
    if mask.dtype != bool:
        raise TypeError(f"mask must be a boolean array (True = observed), got dtype {mask.dtype}")
    try:
        shape = np.broadcast_shapes(x.shape, mask.shape)
    except ValueError:
        shape = None
    if shape != x.shape:
        raise ValueError(f"mask of shape {mask.shape} does not match data of shape {x.shape}")
    return np.where(mask, x, fill)
