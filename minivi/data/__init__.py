"""Data: MNIST from the official IDX files, mini-batches, missing-data masks and augmentation (pure NumPy).

The mirror list and checksum table live in :mod:`minivi.data.mnist` (``MIRRORS``, ``CHECKSUMS``); change them
there, e.g. ``minivi.data.mnist.MIRRORS.insert(0, "https://my.mirror/mnist/")``.
"""

from . import augment
from .batching import Minibatches, minibatches, train_test_split
from .masks import apply_mask, block_mask, half_mask, mcar_mask
from .mnist import (
    ChecksumError,
    MNISTInfo,
    binarize,
    load_mnist,
    mnist_info,
    read_idx,
)

__all__ = [
    "augment",
    "ChecksumError",
    "MNISTInfo",
    "Minibatches",
    "apply_mask",
    "binarize",
    "block_mask",
    "half_mask",
    "load_mnist",
    "mcar_mask",
    "minibatches",
    "mnist_info",
    "read_idx",
    "train_test_split",
]
