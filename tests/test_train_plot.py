"""minivi.train (fit, History, fast mode) and minivi.plot (every function returns Axes under Agg)."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import minivi as mv  # noqa: E402
from minivi import nn, optim, plot  # noqa: E402
from minivi.data import minibatches  # noqa: E402
from minivi.train import History, accuracy, fast_mode, fit, pick  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def blobs(rng, n=200):
    """Two Gaussian blobs in 2-D, labels 0 and 1."""
    y = rng.integers(0, 2, size=n)
    x = (rng.standard_normal((n, 2)) + 2.0 * (2 * y[:, None] - 1)).astype(np.float32)
    return x, y


def classifier(rng):
    model = nn.MLP([2, 8, 2], rng=rng)

    def loss_fn(x, y):
        return -mv.log_softmax(model(x))[np.arange(len(y)), y].mean()

    return model, loss_fn


def test_fast_mode_and_pick(monkeypatch):
    monkeypatch.setenv("MINIVI_FAST", "1")
    assert fast_mode() and pick(1, 30) == 1
    monkeypatch.setenv("MINIVI_FAST", "0")
    assert not fast_mode() and pick(1, 30) == 30
    monkeypatch.delenv("MINIVI_FAST")
    assert not fast_mode()


def test_fit_is_quiet_in_fast_mode_and_returns_a_history(monkeypatch, capfd, rng):
    monkeypatch.setenv("MINIVI_FAST", "1")
    x, y = blobs(rng)
    model, loss_fn = classifier(rng)
    modes = []

    def test_acc():
        modes.append(model.training)
        return accuracy(model(x), y)

    hist = fit(model, loss_fn, (x, y), optim.Adam(model.parameters(), lr=0.05), epochs=3, batch_size=32, rng=rng,
               evaluate={"test_acc": test_acc})
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert isinstance(hist, History) and list(hist) == ["loss", "test_acc"] and hist.epochs == 3
    assert hist["loss"][-1] < hist["loss"][0] and hist["test_acc"][-1] > 0.9
    assert modes == [False] * 3 and model.training      # evaluated in eval mode, back to training after
    assert "History(epochs=3, loss=" in repr(hist)


def test_fit_shows_a_progress_bar_when_asked(capfd, rng):
    x, y = blobs(rng, 50)
    model, loss_fn = classifier(rng)
    fit(model, loss_fn, (x, y), optim.SGD(model.parameters(), lr=0.1), epochs=2, batch_size=25, rng=rng,
        progress=True)
    assert "epoch 2/2" in capfd.readouterr().err


def test_fit_accepts_minibatches_functions_and_full_batches(rng):
    x, y = blobs(rng, 64)
    model, loss_fn = classifier(rng)
    opt = optim.SGD(model.parameters(), lr=0.1)
    h = fit(model, loss_fn, minibatches(x, y, batch_size=16, rng=rng), opt, epochs=2)
    h = fit(model, loss_fn, lambda epoch: [(x[:32], y[:32]), (x[32:], y[32:])], opt, epochs=1, history=h)
    h = fit(model, loss_fn, (x, y), opt, epochs=1, history=h)           # batch_size=None: full batch
    assert len(h["loss"]) == 4 and opt.steps == 2 * 4 + 2 + 1


def test_fit_without_a_model_and_with_extra_metrics():
    """A bare parameter (chapter 02 style): loss_fn may report more numbers, averaged per epoch."""
    w = mv.tensor([0.0], requires_grad=True)
    x = np.linspace(-1, 1, 20).astype(np.float32)

    def loss_fn(x):
        err = ((x * w - 2.0 * x) ** 2).mean()
        return err, {"w": w[0].detach()}

    h = fit(None, loss_fn, x, optim.SGD([w], lr=1.0), epochs=30)
    assert abs(h["w"][-1] - 2.0) < 1e-3


def test_fit_errors_are_clear(rng):
    x, y = blobs(rng, 20)
    model, loss_fn = classifier(rng)
    opt = optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match="used up after one epoch"):
        fit(model, loss_fn, iter([(x, y)]), opt, epochs=2)
    with pytest.raises(TypeError, match="scalar Tensor"):
        fit(model, lambda x, y: model(x), (x, y), opt)
    with pytest.raises(FloatingPointError, match="epoch 1, batch 1"), np.errstate(all="ignore"):
        fit(model, lambda x, y: mv.log(model(x) * 0.0).sum() * 0.0, (x, y), opt)


# --- plots ----------------------------------------------------------------------------------
def test_image_grid_and_samples_grid(rng):
    digits = rng.random((10, 784))
    ax = plot.image_grid(digits, nrow=2, title="digits")
    assert isinstance(ax, plt.Axes) and ax.get_images()[0].get_array().shape == (2 * 29 + 1, 5 * 29 + 1)
    assert isinstance(plot.samples_grid(mv.tensor(digits * 3 - 1)), plt.Axes)
    assert isinstance(plot.image_grid(rng.random((4, 6, 3)), shape=None), plt.Axes)
    with pytest.raises(ValueError, match="shape=\\(height, width\\)"):
        plot.image_grid(rng.random((4, 30)))
    assert plot.image_grid(rng.random((4, 30)), shape=(5, 6)) is not None


def test_image_grid_colour_bar_is_labelled(rng):
    fig, ax = plt.subplots()
    plot.image_grid(rng.standard_normal((6, 784)), ax=ax, cmap="RdBu_r", vmin=-2, vmax=2, colorbar="weight")
    bars = [a for a in fig.axes if a is not ax]
    assert len(bars) == 1 and bars[0].get_ylabel() == "weight" and bars[0].get_ylim() == (-2, 2)


def test_reconstructions_use_one_row_per_kind(rng):
    x = rng.random((12, 16))
    ax = plot.reconstructions(x, mv.tensor(x * 0.9), n=5, inputs=x * (x > 0.5))
    assert [t.get_text() for t in ax.get_yticklabels()] == ["original", "input", "reconstruction"]


def test_curves_fitted_and_embeddings_draw_into_a_given_axes(rng):
    fig, axes = plt.subplots(1, 4)
    h = History(loss=[3.0, 2.0, 1.5], test_acc=[0.5, 0.7, 0.8])
    assert h.plot(ax=axes[0]) is axes[0] and len(axes[0].get_lines()) == 2
    assert plot.training_curves(h, ["loss"], ax=axes[1], logy=True) is axes[1]
    with pytest.raises(KeyError, match="not in the history"):
        plot.training_curves(h, ["acc"], ax=axes[1])
    true = rng.standard_normal(20)
    assert plot.fitted_vs_true(true, true + 0.1, ax=axes[2], label="glm") is axes[2]
    assert plot.embedding_scatter(rng.standard_normal((50, 2)), rng.integers(0, 10, 50), ax=axes[3]) is axes[3]
    assert axes[3].get_legend() is not None


def test_embedding_scatter_variants(rng):
    ax = plot.embedding_scatter(rng.standard_normal((30, 3)), rng.standard_normal(30))  # 3-D, continuous colours
    assert ax.name == "3d"
    assert isinstance(plot.embedding_scatter(mv.tensor(rng.standard_normal((30, 2)))), plt.Axes)
    with pytest.raises(ValueError, match="z\\[:, :2\\]"):
        plot.embedding_scatter(rng.standard_normal((30, 5)))


@pytest.mark.gpu
def test_fit_trains_a_model_moved_to_the_gpu(rng):
    x, y = blobs(rng, 64)
    model = nn.MLP([2, 8, 2], rng=rng, dropout=0.1, batchnorm=True).to("cuda")
    assert all(p.device == "cuda" for p in model.parameters())

    def loss_fn(x, y):
        return -mv.log_softmax(model(x))[mv.arange(len(y), device="cuda").data.astype(int), y].mean()

    h = fit(model, loss_fn, (x, y), optim.Adam(model.parameters(), lr=0.05), epochs=2, batch_size=16, rng=rng)
    assert len(h["loss"]) == 2 and model.state_dict()["layers.0.W"].shape == (2, 8)
    assert model.to("cpu")(x).device == "cpu"
