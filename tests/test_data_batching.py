"""Mini-batches and train/test splits."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minivi.data import Minibatches, minibatches, train_test_split


def data(n: int = 10):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n)
    return x, y


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 60), batch_size=st.integers(1, 25), shuffle=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_one_epoch_is_a_partition_of_the_rows(n, batch_size, shuffle, seed):
    x, y = data(n)
    batches = minibatches(x, y, batch_size=batch_size, rng=np.random.default_rng(seed), shuffle=shuffle)
    seen = []
    for xb, yb in batches:
        assert 1 <= len(yb) <= batch_size and xb.shape == (len(yb), 3)
        np.testing.assert_array_equal(xb[:, 0], 3 * yb)  # rows stay aligned across arrays
        seen.extend(yb.tolist())
    assert sorted(seen) == list(range(n))
    assert len(batches) == -(-n // batch_size)
    if not shuffle:
        assert seen == list(range(n))


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 60), batch_size=st.integers(1, 25))
def test_drop_last_keeps_only_full_batches(n, batch_size):
    x, y = data(n)
    batches = minibatches(x, y, batch_size=batch_size, rng=np.random.default_rng(0), drop_last=True)
    sizes = [len(yb) for _, yb in batches]
    assert sizes == [batch_size] * (n // batch_size) and len(batches) == n // batch_size


def test_deterministic_given_seed_and_reshuffled_each_epoch():
    x, y = data(50)
    a = minibatches(x, y, batch_size=8, rng=np.random.default_rng(1))
    b = minibatches(x, y, batch_size=8, rng=np.random.default_rng(1))
    epochs_a = [np.concatenate([yb for _, yb in a]) for _ in range(2)]
    epochs_b = [np.concatenate([yb for _, yb in b]) for _ in range(2)]
    for ea, eb in zip(epochs_a, epochs_b):
        np.testing.assert_array_equal(ea, eb)
    assert not np.array_equal(epochs_a[0], epochs_a[1])  # a new order every epoch
    assert isinstance(a, Minibatches)


def test_single_array_yields_one_tuples():
    x, _ = data(6)
    shapes = [xb.shape for (xb,) in minibatches(x, batch_size=4, shuffle=False)]
    assert shapes == [(4, 3), (2, 3)]


def test_dynamic_binarisation():
    probs = np.full((64, 20), 0.5, dtype=np.float32)
    labels = np.arange(64)
    batches = minibatches(probs, labels, batch_size=64, rng=np.random.default_rng(0), binarize="dynamic")
    (e1, l1), = list(batches)
    (e2, l2), = list(batches)
    for e in (e1, e2):
        assert e.dtype == np.float32 and set(np.unique(e)) == {0.0, 1.0}
    order = np.argsort(l1), np.argsort(l2)
    assert not np.array_equal(e1[order[0]], e2[order[1]])  # a fresh draw each epoch
    assert abs(e1.mean() - 0.5) < 0.05
    assert (probs == 0.5).all()  # the data itself is untouched
    # also without shuffling; zeros and ones stay put
    p = np.tile(np.array([0.0, 1.0], np.float32), (5, 1))
    (b,), = list(minibatches(p, batch_size=5, shuffle=False, rng=np.random.default_rng(0), binarize="dynamic"))
    np.testing.assert_array_equal(b, p)


def test_errors_are_clear():
    x, y = data(10)
    with pytest.raises(ValueError, match=r"same number of rows.*\(10, 3\), \(9,\)"):
        minibatches(x, y[:9], batch_size=2, rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="default_rng"):
        minibatches(x, y, batch_size=2)
    with pytest.raises(TypeError, match="default_rng"):
        minibatches(x, y, batch_size=2, rng=np.random.RandomState(0))
    with pytest.raises(TypeError, match="binarize='dynamic'"):
        minibatches(x, batch_size=2, shuffle=False, binarize="dynamic")
    with pytest.raises(ValueError, match="batch_size"):
        minibatches(x, batch_size=0, shuffle=False)
    with pytest.raises(ValueError, match="fixed binarisation"):
        minibatches(x, batch_size=2, shuffle=False, binarize=True)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        minibatches(x, batch_size=2, rng=np.random.default_rng(0), binarize="dynamic")


def test_train_test_split():
    x, y = data(20)
    parts = train_test_split(x, y, test_fraction=0.25, rng=np.random.default_rng(3))
    again = train_test_split(x, y, test_fraction=0.25, rng=np.random.default_rng(3))
    x_tr, x_te, y_tr, y_te = parts
    assert x_tr.shape == (15, 3) and x_te.shape == (5, 3) and y_tr.shape == (15,) and y_te.shape == (5,)
    assert sorted(np.concatenate([y_tr, y_te]).tolist()) == list(range(20))
    np.testing.assert_array_equal(x_te[:, 0], 3 * y_te)
    for a, b in zip(parts, again):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="test_fraction"):
        train_test_split(x, test_fraction=1.5, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="empty"):
        train_test_split(x[:3], test_fraction=0.1, rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="default_rng"):
        train_test_split(x, test_fraction=0.5, rng=None)
    with pytest.raises(ValueError, match="same number of rows"):
        train_test_split(x, y[:5], test_fraction=0.5, rng=np.random.default_rng(0))
