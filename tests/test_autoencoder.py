"""Auto-encoders and denoising auto-encoders (minivi.models.autoencoder)."""
import numpy as np
import pytest

import minivi as mv
from minivi import nn, optim
from minivi.models.autoencoder import AutoEncoder, DenoisingAutoEncoder, gaussian_noise, mask_noise

N, D, R = 256, 20, 3


def low_rank(seed=0):
    """Rank-3 data in 20 dimensions plus a little noise (float32)."""
    rng = np.random.default_rng(seed)
    Y = rng.standard_normal((N, R)) @ rng.standard_normal((R, D)) + 0.05 * rng.standard_normal((N, D))
    return Y.astype(np.float32)


def make(cls, init_rng, loss="squared", **kw):
    encoder = nn.MLP([D, 32, R], activation="tanh", rng=init_rng)
    decoder = nn.MLP([R, 32, D], activation="tanh", rng=init_rng)
    return cls(encoder, decoder, loss=loss, **kw)


def train(model, Y, steps=300, lr=0.01):
    opt = optim.Adam(model.parameters(), lr=lr)
    Y = mv.tensor(Y)
    for _ in range(steps):
        opt.zero_grad()
        model.loss(Y).backward()
        opt.step()


def squared_error(model, Y):
    """(1/n) Σ_n ‖y_n − ŷ_n‖² on clean data."""
    with mv.no_grad():
        return float(((model.reconstruct(Y).numpy() - Y) ** 2).sum(axis=1).mean())


def test_autoencoder_learns_low_rank_data():
    Y = low_rank()
    total = float((Y**2).sum(axis=1).mean())             # the error of reconstructing everything as 0
    model = make(AutoEncoder, np.random.default_rng(1))
    assert model.encode(Y).shape == (N, R) and model.reconstruct(Y).shape == (N, D)
    assert model.loss(Y).item() == pytest.approx(squared_error(model, Y), rel=1e-5)
    train(model, Y)
    assert squared_error(model, Y) < 0.02 * total


@pytest.mark.parametrize("corruption, level, bound", [("gaussian", 0.1, 0.02), ("mask", 0.2, 0.05)])
def test_denoising_autoencoder_learns_low_rank_data(corruption, level, bound):
    Y = low_rank()
    total = float((Y**2).sum(axis=1).mean())
    model = make(DenoisingAutoEncoder, np.random.default_rng(1), corruption=corruption, level=level, rng=2)
    train(model, Y)
    assert squared_error(model, Y) < bound * total
    assert model.loss(Y, corrupt=False).item() == pytest.approx(squared_error(model, Y), rel=1e-4)


def test_bernoulli_autoencoder_beats_independent_pixels():
    rng = np.random.default_rng(3)
    eta = rng.standard_normal((N, 2)) @ (3.0 * rng.standard_normal((2, D)))
    Y = (rng.random((N, D)) < 1 / (1 + np.exp(-eta))).astype(np.float32)
    p = Y.mean(axis=0).clip(1e-3, 1 - 1e-3)
    baseline = -(Y * np.log(p) + (1 - Y) * np.log1p(-p)).sum(axis=1).mean()   # −log p(y), independent pixels
    model = make(AutoEncoder, np.random.default_rng(4), loss="bernoulli")
    train(model, Y)
    assert model.loss(Y).item() < baseline - 6.0
    with mv.no_grad():
        recon = model.reconstruct(Y).numpy()
    assert recon.min() >= 0 and recon.max() <= 1 and ((recon > 0.5) == Y).mean() > 0.8


def test_bernoulli_loss_is_the_negative_log_likelihood():
    with mv.default_dtype("float64"):
        model = make(AutoEncoder, np.random.default_rng(5), loss="bernoulli")
        Y = (np.random.default_rng(6).random((4, D)) < 0.5).astype(float)
        q = model.reconstruct(Y).numpy()
        expected = -(Y * np.log(q) + (1 - Y) * np.log1p(-q)).sum(axis=1).mean()
        assert model.loss(Y).item() == pytest.approx(expected, rel=1e-10)


def test_mask_noise_drops_the_stated_fraction():
    y = mv.ones(400, 500)
    out = mask_noise(y, 0.3, rng=np.random.default_rng(7)).numpy()
    assert set(np.unique(out)) <= {0.0, 1.0}
    assert abs((out == 0).mean() - 0.3) < 0.005           # 200,000 draws: standard error 0.001
    assert np.array_equal(mask_noise(y, 0.0, rng=np.random.default_rng(7)).numpy(), y.numpy())


def test_gaussian_noise_has_the_stated_std():
    y = mv.full((400, 500), 2.0)
    noise = gaussian_noise(y, 0.5, rng=np.random.default_rng(8)).numpy() - 2.0
    assert abs(noise.mean()) < 0.005 and abs(noise.std() - 0.5) < 0.005


def test_corruption_is_reproducible_and_changes_between_calls():
    Y = low_rank()
    a = make(DenoisingAutoEncoder, np.random.default_rng(1), corruption="mask", level=0.5, rng=9)
    b = make(DenoisingAutoEncoder, np.random.default_rng(1), corruption="mask", level=0.5, rng=9)
    first = a.corrupt(Y).numpy()
    np.testing.assert_array_equal(first, b.corrupt(Y).numpy())
    assert not np.array_equal(first, a.corrupt(Y).numpy())
    assert abs((first == 0).mean() - 0.5) < 0.02


def test_errors_name_the_problem():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="loss must be"):
        make(AutoEncoder, rng, loss="l1")
    with pytest.raises(ValueError, match="corruption must be"):
        make(DenoisingAutoEncoder, rng, corruption="salt", rng=0)
    with pytest.raises(TypeError):
        make(DenoisingAutoEncoder, rng, rng="seed")
    with pytest.raises(ValueError, match="0 <= p < 1"):
        mask_noise(mv.ones(3), 1.0, rng=rng)
    bad = AutoEncoder(nn.MLP([D, R], rng=rng), nn.MLP([R, D + 1], rng=rng))
    with pytest.raises(ValueError, match="decoder returned shape"):
        bad.loss(low_rank())
