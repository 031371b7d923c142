"""Data augmentation: shifts move pixels exactly, fill with zeros, draw through rng; jitter adds noise."""
from __future__ import annotations

import numpy as np
import pytest

from minivi.data.augment import jitter, random_shift, shift


def _dot_images(n: int, h: int = 7, w: int = 5) -> np.ndarray:
    """n images, each zero but for one bright pixel at (3, 2)."""
    images = np.zeros((n, h, w), dtype=np.float32)
    images[:, 3, 2] = 1.0
    return images


def test_shift_moves_each_image_by_its_own_offsets():
    images = _dot_images(3)
    out = shift(images, np.array([1, -2, 0]), np.array([0, 1, -2]))
    assert out.shape == images.shape and out.dtype == images.dtype
    for i, (r, c) in enumerate([(4, 2), (1, 3), (3, 0)]):
        assert out[i, r, c] == 1.0 and out[i].sum() == 1.0


def test_shift_matches_np_roll_inside_and_fills_zeros():
    rng = np.random.default_rng(0)
    images = rng.random((4, 28 * 28), dtype=np.float32)
    out = shift(images, 2, -1).reshape(4, 28, 28)
    rolled = np.roll(images.reshape(4, 28, 28), (2, -1), axis=(1, 2))
    np.testing.assert_array_equal(out[:, 2:, :-1], rolled[:, 2:, :-1])
    assert np.all(out[:, :2, :] == 0) and np.all(out[:, :, -1:] == 0)


def test_shift_zero_is_identity_and_leaves_input_alone():
    images = np.random.default_rng(1).random((5, 12), dtype=np.float32)
    before = images.copy()
    np.testing.assert_array_equal(shift(images, 0, 0, shape=(3, 4)), images)
    random_shift(images, 2, np.random.default_rng(0), shape=(3, 4))
    np.testing.assert_array_equal(images, before)


def test_random_shift_is_reproducible_and_bounded():
    images = _dot_images(200).reshape(200, -1)
    a = random_shift(images, 2, np.random.default_rng(3), shape=(7, 5))
    b = random_shift(images, 2, np.random.default_rng(3), shape=(7, 5))
    c = random_shift(images, 2, np.random.default_rng(4), shape=(7, 5))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    rows, cols = np.nonzero(a.reshape(200, 7, 5).sum(axis=0))
    assert set(rows) == {1, 2, 3, 4, 5} and set(cols) == {0, 1, 2, 3, 4}   # every offset in −2..2 occurs


def test_shift_errors_are_clear():
    with pytest.raises(ValueError, match="not square"):
        shift(np.zeros((2, 10)), 1, 1)
    with pytest.raises(TypeError, match="whole numbers"):
        shift(np.zeros((2, 4, 4)), 0.5, 0)
    with pytest.raises(TypeError, match="default_rng"):
        random_shift(np.zeros((2, 4, 4)), 1, rng=0)
    with pytest.raises(ValueError, match="max_shift"):
        random_shift(np.zeros((2, 4, 4)), -1, np.random.default_rng(0))


def test_jitter_adds_noise_of_the_right_size():
    images = np.full((100, 100), 0.5, dtype=np.float32)
    out = jitter(images, 0.2, np.random.default_rng(0))
    assert out.dtype == np.float32 and abs(out.std() - 0.2) < 0.01 and abs(out.mean() - 0.5) < 0.01
    clipped = jitter(images, 1.0, np.random.default_rng(0), clip=(0.0, 1.0))
    assert clipped.min() == 0.0 and clipped.max() == 1.0
    np.testing.assert_array_equal(out, jitter(images, 0.2, np.random.default_rng(0)))
    with pytest.raises(TypeError, match="float images"):
        jitter(np.zeros((2, 2), dtype=np.uint8), 0.1, np.random.default_rng(0))
