"""Mini-batches and train/test splits of NumPy arrays.

Every random choice takes an explicit ``rng`` (a ``numpy.random.Generator``), so a run is reproducible from
its seed and never depends on NumPy's global state.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import numpy as np

__all__ = ["Minibatches", "minibatches", "train_test_split"]


def _check_rng(rng: object, why: str) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(
            f"{why} needs rng=np.random.default_rng(seed) (a numpy Generator); got {type(rng).__name__}."
        )
    return rng


def _as_aligned(arrays: tuple[np.ndarray, ...], caller: str) -> tuple[np.ndarray, ...]:
    """Convert to arrays and check they all have the same number of rows (first dimension)."""
    if not arrays:
        raise TypeError(f"{caller} needs at least one array, e.g. {caller}(x, y, ...)")
    converted = []
    for i, a in enumerate(arrays):
        if hasattr(a, "requires_grad") and hasattr(a, "numpy"):  # a minivi Tensor: this module is pure NumPy
            raise TypeError(f"{caller}: array {i} is a minivi Tensor; pass NumPy arrays (x.numpy()) and make "
                            "tensors from each batch inside the loop (mv.tensor(xb)).")
        try:
            a = np.asarray(a)
        except ValueError as err:
            raise ValueError(f"{caller}: array {i} is not rectangular (rows of different lengths?): {err}") from None
        if a.dtype == object:
            raise TypeError(f"{caller}: array {i} holds Python objects (dtype=object); pass numeric NumPy arrays.")
        converted.append(a)
    arrays = tuple(converted)
    if any(a.ndim == 0 for a in arrays):
        shapes = [a.shape for a in arrays]
        raise ValueError(f"{caller}: every array needs a first (row) dimension; got shapes {shapes}")
    if len({len(a) for a in arrays}) > 1:
        shapes = ", ".join(str(a.shape) for a in arrays)
        raise ValueError(
            f"{caller}: all arrays must have the same number of rows (first dimension); got shapes {shapes}"
        )
    return arrays


class Minibatches:
    """An iterable over aligned mini-batches; every ``for`` loop over it is one epoch.

    Build it with :func:`minibatches`. ``len()`` is the number of batches per epoch. Each epoch draws a new
    shuffle (and, with ``binarize="dynamic"``, new 0/1 pixels) from the same ``rng``, so the sequence of
    epochs is reproducible from the seed.
    """

    def __init__(
        self,
        *arrays: np.ndarray,
        batch_size: int,
        rng: np.random.Generator | None = None,
        shuffle: bool = True,
        drop_last: bool = False,
        binarize: Literal["dynamic"] | None = None,
    ) -> None:
        self.arrays = _as_aligned(arrays, "minibatches")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if binarize not in (None, False, "dynamic"):
            raise ValueError(
                f"binarize must be None or 'dynamic' (a fresh Bernoulli draw every epoch), got {binarize!r}. "
                "For a fixed binarisation, call minivi.data.binarize on the data once beforehand."
            )
        if shuffle:
            _check_rng(rng, "minibatches(shuffle=True)")
        if binarize == "dynamic":
            _check_rng(rng, "minibatches(binarize='dynamic')")
            first = self.arrays[0]
            if first.size and (first.min() < 0 or first.max() > 1):
                raise ValueError("binarize='dynamic' needs the first array to hold probabilities in [0, 1].")
        self.batch_size = int(batch_size)
        self.rng = rng
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.dynamic_binarize = binarize == "dynamic"

    @property
    def n(self) -> int:
        """Number of rows in the data."""
        return len(self.arrays[0])

    def __len__(self) -> int:
        full, rest = divmod(self.n, self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def __iter__(self) -> Iterator[tuple[np.ndarray, ...]]:
        order = self.rng.permutation(self.n) if self.shuffle else None
        for b in range(len(self)):
            rows = slice(b * self.batch_size, (b + 1) * self.batch_size)
            # Shuffled: gather rows by index (copies); in order: plain slices (views).
            batch = [a[order[rows]] if order is not None else a[rows] for a in self.arrays]
            if self.dynamic_binarize:
                probs = batch[0]
                batch[0] = (self.rng.random(probs.shape) < probs).astype(probs.dtype)
            yield tuple(batch)


def minibatches(
    *arrays: np.ndarray,
    batch_size: int,
    rng: np.random.Generator | None = None,
    shuffle: bool = True,
    drop_last: bool = False,
    binarize: Literal["dynamic"] | None = None,
) -> Minibatches:
    """Split aligned arrays into mini-batches, reshuffled every epoch.

    Parameters
    ----------
    *arrays : numpy.ndarray
        Arrays with the same number of rows, e.g. images and labels.
    batch_size : int
        Rows per batch; the last batch of an epoch may be smaller (see ``drop_last``).
    rng : numpy.random.Generator, optional
        Source of randomness; required when ``shuffle=True`` or ``binarize="dynamic"``.
    shuffle : bool
        Visit the rows in a new random order each epoch; otherwise in their stored order.
    drop_last : bool
        Skip the final, smaller batch so that every batch has exactly ``batch_size`` rows.
    binarize : {None, "dynamic"}
        ``"dynamic"``: replace the FIRST array's values (probabilities in [0, 1]) by a fresh Bernoulli draw
        in every batch of every epoch (dynamic binarisation). For a fixed binarisation call
        :func:`minivi.data.binarize` once instead.

    Returns
    -------
    Minibatches
        Iterable over tuples ``(a_batch, b_batch, ...)``, one tuple per batch, even for a single array;
        ``len()`` gives the number of batches. Iterate over it once per epoch.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x, y = np.zeros((10, 3)), np.arange(10)
    >>> batches = minibatches(x, y, batch_size=4, rng=rng)
    >>> len(batches), [len(yb) for xb, yb in batches]
    (3, [4, 4, 2])
    >>> [xb.shape for (xb,) in minibatches(x, batch_size=5, shuffle=False)]
    [(5, 3), (5, 3)]
    """
    return Minibatches(
        *arrays, batch_size=batch_size, rng=rng, shuffle=shuffle, drop_last=drop_last, binarize=binarize
    )


def train_test_split(
    *arrays: np.ndarray, test_fraction: float, rng: np.random.Generator
) -> list[np.ndarray]:
    """Randomly split aligned arrays into a training and a test part (same rows for every array).

    Parameters
    ----------
    *arrays : numpy.ndarray
        Arrays with the same number of rows.
    test_fraction : float
        Fraction of rows for the test part, strictly between 0 and 1 (rounded to a whole number of rows).
    rng : numpy.random.Generator
        Picks the test rows; the same seed gives the same split.

    Returns
    -------
    list of numpy.ndarray
        ``[a_train, a_test, b_train, b_test, ...]``, in the order the arrays were given.

    Examples
    --------
    >>> x, y = np.arange(20).reshape(10, 2), np.arange(10)
    >>> x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_fraction=0.3, rng=np.random.default_rng(0))
    >>> x_tr.shape, x_te.shape
    ((7, 2), (3, 2))
    """
    arrays = _as_aligned(arrays, "train_test_split")
    _check_rng(rng, "train_test_split")
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be strictly between 0 and 1, got {test_fraction}")
    n = len(arrays[0])
    n_test = round(test_fraction * n)
    if n_test == 0 or n_test == n:
        raise ValueError(
            f"test_fraction={test_fraction} of {n} rows leaves an empty training or test part; "
            "use more rows or a different fraction."
        )
    order = rng.permutation(n)
    test, train = order[:n_test], order[n_test:]
    return [part for a in arrays for part in (a[train], a[test])]
