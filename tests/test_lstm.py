"""nn.LSTMCell: gradient-checked in every input and parameter, and equal to PyTorch's LSTMCell with the same weights."""
from __future__ import annotations

import numpy as np
import pytest

import minivi as mv
from minivi import nn


def _cell(n_in=3, H=4, seed=0):
    with mv.default_dtype("float64"):
        return nn.LSTMCell(n_in, H, rng=mv.default_rng(seed))


def test_lstm_cell_gradcheck_inputs_state_and_parameters():
    cell = _cell()
    cell.b.data[...] = np.random.default_rng(1).standard_normal(cell.b.shape)
    r = np.random.default_rng(0)
    x, h, c = (mv.tensor(r.standard_normal(s), dtype="float64", requires_grad=True) for s in ((2, 3), (2, 4), (2, 4)))
    weights = mv.tensor(r.standard_normal((2, 4)), dtype="float64")

    def loss(x, h, c, W, b):
        cell.W, cell.b = W, b
        h1, c1 = cell(x, (h, c))
        h2, c2 = cell(x * 0.5, (h1, c1))                                   # two steps: gradients through time
        return (weights * h2).sum() + (c2 * c2).sum()

    assert mv.gradcheck(loss, x, h, c, cell.W, cell.b)


def test_lstm_cell_matches_pytorch():
    torch = pytest.importorskip("torch")
    n_in, H = 5, 3
    cell = _cell(n_in, H, seed=2)
    cell.b.data[...] = np.random.default_rng(2).standard_normal(cell.b.shape)
    ref = torch.nn.LSTMCell(n_in, H).double()
    W, b = cell.W.numpy(), cell.b.numpy()
    i, f, o, g = (slice(k * H, (k + 1) * H) for k in range(4))
    order = np.r_[np.arange(4 * H)[i], np.arange(4 * H)[f], np.arange(4 * H)[g], np.arange(4 * H)[o]]  # torch: i f g o
    with torch.no_grad():
        ref.weight_ih.copy_(torch.tensor(W[:n_in, order].T))
        ref.weight_hh.copy_(torch.tensor(W[n_in:, order].T))
        ref.bias_ih.copy_(torch.tensor(b[order]))
        ref.bias_hh.zero_()
    r = np.random.default_rng(3)
    x, h, c = r.standard_normal((4, n_in)), r.standard_normal((4, H)), r.standard_normal((4, H))
    h_ref, c_ref = ref(torch.tensor(x), (torch.tensor(h), torch.tensor(c)))
    h_got, c_got = cell(mv.tensor(x, dtype="float64"), (mv.tensor(h, dtype="float64"), mv.tensor(c, dtype="float64")))
    np.testing.assert_allclose(h_got.numpy(), h_ref.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(c_got.numpy(), c_ref.detach().numpy(), atol=1e-12)


def test_lstm_cell_zero_state_and_bad_inputs():
    cell = _cell()
    x = mv.tensor(np.ones((2, 3)), dtype="float64")
    h0, c0 = cell(x)
    h1, c1 = cell(x, cell.initial_state(2))
    np.testing.assert_array_equal(h0.numpy(), h1.numpy())
    assert cell.b.numpy()[4:8].tolist() == [1.0] * 4                      # forget gate opens by default
    with pytest.raises(ValueError, match=r"x of shape \(n, 3\)"):
        cell(mv.zeros(2, 4))
    with pytest.raises(ValueError, match="state"):
        cell(x, (mv.zeros(2, 5), mv.zeros(2, 5)))
