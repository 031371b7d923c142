"""Missing-data masks (True = observed)."""

from __future__ import annotations

import numpy as np
import pytest

from minivi.data import apply_mask, block_mask, half_mask, mcar_mask


def test_mcar_fraction_and_determinism():
    m = mcar_mask((200, 784), 0.1, np.random.default_rng(0))
    assert m.dtype == bool and m.shape == (200, 784)
    assert abs(m.mean() - 0.1) < 0.005
    np.testing.assert_array_equal(m, mcar_mask((200, 784), 0.1, np.random.default_rng(0)))
    assert mcar_mask(5, 1.0, np.random.default_rng(0)).all() and not mcar_mask(5, 0.0, np.random.default_rng(0)).any()
    with pytest.raises(ValueError, match="observed_fraction"):
        mcar_mask(5, 1.2, np.random.default_rng(0))
    with pytest.raises(TypeError, match="default_rng"):
        mcar_mask(5, 0.5, None)


@pytest.mark.parametrize("which", ["bottom", "top", "left", "right"])
def test_half_mask_is_exactly_half(which):
    m = half_mask(3, which=which, flatten=False)
    assert m.shape == (3, 28, 28) and m.dtype == bool and m.sum() == 3 * 392
    missing = {"bottom": m[:, 14:, :], "top": m[:, :14, :], "left": m[:, :, :14], "right": m[:, :, 14:]}[which]
    assert not missing.any()
    flat = half_mask(3, which=which)
    assert flat.shape == (3, 784)
    np.testing.assert_array_equal(flat, m.reshape(3, 784))


def test_half_mask_bad_side():
    with pytest.raises(ValueError, match="missing half"):
        half_mask(1, which="middle")


def test_block_mask_fixed_position():
    m = block_mask(2, block=(4, 6), position=(3, 5), flatten=False)
    assert m.shape == (2, 28, 28) and (~m).sum() == 2 * 24
    assert not m[:, 3:7, 5:11].any()
    assert block_mask(2, block=(4, 6), position=(3, 5)).shape == (2, 784)


def test_block_mask_random_positions():
    m = block_mask(500, block=(14, 14), rng=np.random.default_rng(0), flatten=False)
    assert ((~m).sum(axis=(1, 2)) == 196).all()  # always a full block, inside the image
    missing = ~m
    rows = np.argmax(missing.any(axis=2), axis=1)  # top row of each block
    cols = np.argmax(missing.any(axis=1), axis=1)  # left column of each block
    for k in range(0, 500, 50):  # each block is exactly the square at its corner
        assert not m[k, rows[k] : rows[k] + 14, cols[k] : cols[k] + 14].any()
    assert len(set(zip(rows.tolist(), cols.tolist()))) > 50  # positions vary
    assert rows.min() == 0 and rows.max() == 14 and cols.min() == 0 and cols.max() == 14  # full valid range
    np.testing.assert_array_equal(m, block_mask(500, block=(14, 14), rng=np.random.default_rng(0), flatten=False))


def test_block_mask_errors():
    with pytest.raises(ValueError, match="exactly one"):
        block_mask(1)
    with pytest.raises(ValueError, match="exactly one"):
        block_mask(1, rng=np.random.default_rng(0), position=(0, 0))
    with pytest.raises(ValueError, match="outside"):
        block_mask(1, position=(20, 0))
    with pytest.raises(ValueError, match="fit inside"):
        block_mask(1, block=(30, 2), position=(0, 0))


def test_apply_mask():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    mask = np.array([[True, False, True], [False, True, True]])
    np.testing.assert_array_equal(apply_mask(x, mask), [[0, 0, 2], [0, 4, 5]])
    filled = apply_mask(x, mask, fill=np.nan)
    assert filled.dtype == np.float32 and np.isnan(filled).sum() == 2
    np.testing.assert_array_equal(apply_mask(x, mask, fill=x.mean(0)), [[0, 2.5, 2], [1.5, 4, 5]])
    with pytest.raises(TypeError, match="boolean"):
        apply_mask(x, mask.astype(int))
    with pytest.raises(ValueError, match="does not match"):
        apply_mask(x, mask[:, :2])
